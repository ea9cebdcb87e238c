"""Reading a form out of a page as a browser would submit it, for the simulated users.

Only the standard library: the locustfile parses a form on every buy-back and publishing
journey, on the same two cores as the server, so this stays small and quick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
# The links from a school's buy-back choice to its categories' pages.
CATEGORY_LINK = re.compile(r'href="(/buy-back/\d+/categories/\d+)"')
# The links from the catalogue to its services, and from the queue to its requests.
SERVICE_LINK = re.compile(r'href="/services/(\d+)[?"]')
REQUEST_LINK = re.compile(r'href="/support/(\d+)"')
# A task of a school's buy-back task list: its category's page and its status.
TASK = re.compile(
    r'id="category-(\d+)" href="(/buy-back/\d+/categories/\d+)".*?'
    r'id="category-\1-status">(.*?)</div>',
    re.DOTALL,
)
# The statuses of a category whose every service is answered.
ANSWERED = ("Completed", "Changed, not yet sent")
# Each service's prices on a category's page ("price to be agreed": it cannot be bought yet).
PRICE_HINT = re.compile(r'id="price-(\d+)">(.*?)</div>', re.DOTALL)
TAG = re.compile(r"<[^>]+>|\s+")


def csrf_token(page: str) -> str | None:
    """The first form token on ``page``, as the hidden field carries it."""
    found = CSRF_TOKEN.search(page)
    return found.group(1) if found else None


@dataclass
class Form:
    """A form's successful controls in page order, as (name, value) pairs; ``disabled`` names
    the controls a browser would not send (the page is read-only for this person)."""

    action: str | None
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    disabled: set[str] = field(default_factory=set)
    # Each radio group's and select's values, chosen or not, so that a journey can change an
    # answer.
    choices: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    def set(self, name: str, value: str) -> None:
        """Give the single-valued control ``name`` this value (e.g. pick a radio button)."""
        self.fields = [(key, v) for key, v in self.fields if key != name]
        self.fields.append((name, value))

    def body(self, **extra: str) -> str:
        """The urlencoded body a browser sends, with ``extra`` (the button pressed) added."""
        return urlencode(self.fields + list(extra.items()))


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.form: Form | None = None
        self.inside = False
        self.done = False
        self.select: str | None = None
        self.select_disabled = False
        self.select_first: str | None = None
        self.select_chosen = False
        self.option_value: str | None = None
        self.option_text = ""
        self.option_selected = False
        self.textarea: str | None = None
        self.textarea_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and not self.inside and not self.done:
            if self.form_id is None or a.get("id") == self.form_id:
                self.inside = True
                self.form = Form(a.get("action") or None, (a.get("method") or "get").lower())
            return
        if not self.inside or self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("radio", "checkbox"):
                self.form.choices.setdefault(name, []).append(a.get("value", "on"))
            if "disabled" in a:
                self.form.disabled.add(name)
            elif kind not in ("radio", "checkbox") or "checked" in a:
                default = "on" if kind in ("radio", "checkbox") else ""
                self.form.fields.append((name, a.get("value", default)))
        elif tag == "select" and name:
            self.select = name
            self.select_disabled = "disabled" in a
            self.select_first = None
            self.select_chosen = False
        elif tag == "option" and self.select is not None:
            self.option_value = a.get("value")
            self.option_text = ""
            self.option_selected = "selected" in a
        elif tag == "textarea" and name:
            self.textarea = name
            self.textarea_text = ""

    def handle_data(self, data: str) -> None:
        if self.option_value is None and self.select is not None:
            self.option_text += data
        if self.textarea is not None:
            self.textarea_text += data

    def _end_option(self) -> None:
        if self.select is None or self.form is None:
            return
        value = self.option_value if self.option_value is not None else self.option_text.strip()
        self.form.choices.setdefault(self.select, []).append(value)
        if self.select_first is None:
            self.select_first = value
        if self.option_selected and not self.select_chosen and not self.select_disabled:
            self.form.fields.append((self.select, value))
            self.select_chosen = True
        self.option_value = None
        self.option_text = ""
        self.option_selected = False

    def handle_endtag(self, tag: str) -> None:
        if not self.inside or self.form is None:
            return
        if tag == "option":
            self._end_option()
        elif tag == "select" and self.select is not None:
            if self.select_disabled:
                self.form.disabled.add(self.select)
            elif not self.select_chosen and self.select_first is not None:
                # Nothing marked selected: a browser sends the first option.
                self.form.fields.append((self.select, self.select_first))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # A newline straight after <textarea> is not part of its value.
            self.form.fields.append((self.textarea, self.textarea_text.removeprefix("\n")))
            self.textarea = None
        elif tag == "form":
            self.inside = False
            self.done = True


def read_form(page: str, form_id: str | None = None) -> Form | None:
    """The form with id ``form_id`` on ``page`` (else its first form), or None."""
    reader = _FormReader(form_id)
    reader.feed(page)
    reader.close()
    return reader.form


def form_with_field(page: str, field_name: str) -> Form | None:
    """The first form on ``page`` that sends a control called ``field_name``.

    Every portal page starts with the header's sign-out form: this finds the page's own.
    """
    rest = page
    while True:
        form = read_form(rest)
        if form is None or form.get(field_name) is not None:
            return form
        end = rest.find("</form>")
        if end < 0:
            return None
        rest = rest[end + len("</form>") :]


def text_of(html: str) -> str:
    """The words of a piece of a page, as a person reads them."""
    return TAG.sub(" ", html).strip()


def tasks(task_list: str) -> list[tuple[str, str]]:
    """Each category of a buy-back task list: its page, and its status as a person reads it."""
    return [(path, text_of(status)) for _, path, status in TASK.findall(task_list)]


def ready_to_submit(task_list: str) -> bool:
    """Whether a person would submit from this task list: every category answered, the form
    there, and something the council does not have yet (never submitted, or changed since)."""
    statuses = [status for _, status in tasks(task_list)]
    unsent = 'id="submitted"' not in task_list or 'id="unsent"' in task_list
    return (
        bool(statuses)
        and all(status in ANSWERED for status in statuses)
        and 'id="submit"' in task_list
        and unsent
    )


def answer_the_rest(form: Form) -> None:
    """Answer each service of a category's form not yet answered as not buying, as a person
    finishing the category would."""
    for name in form.choices:
        if name.startswith("answer-") and form.get(name) is None:
            form.set(name, "no")


def simple_answers(page: str, form: Form) -> list[str]:
    """The answers of a category's form that can be changed either way with nothing else to
    give: a service with one option, a price for the year (no number to type) and a price
    known, so that "Buying" and "Not buying" are both accepted as they are."""
    priced = {sid for sid, hint in PRICE_HINT.findall(page) if "price to be agreed" not in hint}
    sent = {name for name, _ in form.fields}
    return [
        name
        for name in form.choices
        if name.startswith("answer-")
        and (sid := name.removeprefix("answer-")) in priced
        and f"option-{sid}" not in sent
        and f"quantity-{sid}" not in sent
    ]
