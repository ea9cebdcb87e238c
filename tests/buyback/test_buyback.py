"""Buy-back: a head teacher chooses next year's services by the deadline."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from portal import clock as server_clock
from portal.buyback import answers as buyback_answers
from portal.buyback import offer as buyback_offer
from portal.buyback import reminders
from portal.buyback import standing as buyback_standing
from portal.buyback.answers import (
    QUANTITY_HINT,
    Answer,
    Answers,
    Task,
    current_answers,
    read_seen,
    seen_text,
)
from portal.buyback.choices import get_choice
from portal.buyback.confirmation import invoice_schedule
from portal.buyback.offer import CATEGORY, SERVICE
from portal.buyback.offered import (
    _ALSO_SLOTS,
    Offered,
    ServiceName,
    _also,
    _offered_query,
    _Wanted,
    _year_and_school,
    offered_to,
)
from portal.buyback.pages import choice_as_it_stands
from portal.buyback.school_windows import current_window, windows_statement
from portal.buyback.standing import _SENT, answers_query, sent_answers, unsent_changes
from portal.db import db
from portal.models import (
    AuditEvent,
    BuybackChoice,
    BuybackReminder,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    OutboxMessage,
    PriceOption,
    PricingBasis,
    School,
    ServiceOffer,
    User,
)
from portal.pricing import format_pence
from portal.services import publishing
from portal.services.catalogue import CategoryName
from portal.services.offers import OptionTerms
from tests.conftest import csrf_token, same_markup
from tests.helpers.html import soup

# The demo's maintained schools' window for 2027-28 is open from 2 November 2026 to
# 2 March 2027 at 5pm (London, which is then UTC).
DURING = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
JUST_BEFORE = datetime(2027, 3, 2, 16, 59, 59, tzinfo=UTC)
AFTER = datetime(2027, 3, 2, 17, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Set the server's clock for buy-back."""

    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(server_clock, "now", lambda: moment)

    set_to(DURING)
    return set_to


def oakfield(session) -> School:
    return session.scalars(select(School).where(School.urn == 125601)).one()


def this_years_submissions(session, school: School) -> list[BuybackSubmission]:
    return session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).all()


def choice_page(client, school_id: int) -> BeautifulSoup:
    """The school's choice: its task list of categories, the total and the submit form."""
    response = client.get(f"/buy-back/{school_id}")
    assert response.status_code == 200
    return soup(response)


def category_paths(page: BeautifulSoup) -> list[str]:
    """Each category's page, from the choice page's task list."""
    return [a["href"] for a in page.select("a.govuk-task-list__link")]


def category_page(client, path: str) -> BeautifulSoup:
    response = client.get(path)
    assert response.status_code == 200
    return soup(response)


def form_data(page: BeautifulSoup) -> dict[str, object]:
    """Everything a form would send as it stands, as a browser would."""
    data: dict[str, object] = {}
    form = page.select_one("form#choices, form#submit")
    for field in form.select("input, select"):
        name, kind = field.get("name"), field.get("type")
        if not name or kind == "submit" or field.has_attr("disabled"):
            continue
        if kind in ("radio", "checkbox"):
            if field.has_attr("checked"):
                data[name] = field["value"]
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[name] = chosen["value"] if chosen else ""
        else:
            data[name] = field.get("value", "")
    return data


def answer_everything(page: BeautifulSoup, data: dict[str, object]) -> dict[str, object]:
    """Answer every unanswered service 'not buying', and pick the first option where needed."""
    for radio in page.select('input[type="radio"][value="no"]'):
        data.setdefault(radio["name"], "no")
    for select_box in page.select("form#choices select"):
        if data.get(select_box["name"]) in (None, ""):
            data[select_box["name"]] = select_box.select("option")[1]["value"]
    return data


def save_every_category(client, school_id: int) -> None:
    """Open each category, answer what is unanswered, and save it."""
    for path in category_paths(choice_page(client, school_id)):
        page = category_page(client, path)
        data = {**answer_everything(page, form_data(page)), "action": "save"}
        response = client.post(path, data=data)
        assert response.status_code == 303, soup(response).select_one(".govuk-error-summary")
        assert response.headers["Location"] == f"/buy-back/{school_id}"


def test_window_states_follow_the_clock(session) -> None:
    window = session.scalars(
        select(BuybackWindow).where(
            BuybackWindow.year == 2027, BuybackWindow.cohort == Cohort.MAINTAINED
        )
    ).one()
    assert window.state(datetime(2026, 11, 2, 8, 59, tzinfo=UTC)) == "upcoming"
    assert window.state(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) == "open"
    assert window.state(JUST_BEFORE) == "open"
    assert window.state(AFTER) == "closed"


def test_last_years_choices_are_filled_in_with_price_changes(client_for, session, clock) -> None:
    head = client_for("head_teacher")
    summary = choice_page(head, oakfield(session).id)
    assert "Last year's choices have been filled in to start from" in summary.get_text()
    statuses = [s.get_text(strip=True) for s in summary.select(".govuk-task-list__status")]
    assert "Completed" in statuses, "last year's answers should complete some categories"
    pages = [category_page(head, path) for path in category_paths(summary)]
    assert any(page.select('input[type="radio"][checked]') for page in pages)
    assert any("on last year" in page.get_text() for page in pages)


def test_the_choice_is_a_task_list_of_categories_with_their_totals(
    app, client_for, session, clock
) -> None:
    from portal.buyback.answers import current_answers, tasks
    from portal.buyback.offered import offered_to
    from portal.buyback.school_windows import current_window

    school = oakfield(session)
    summary = choice_page(client_for("head_teacher"), school.id)
    with app.app_context():
        here = session.merge(school)
        window = current_window(here)
        offered = offered_to(here, window.year)
        expected = tasks(offered, current_answers(here, window, offered, None))
    links = summary.select("a.govuk-task-list__link")
    assert [a.get_text(strip=True) for a in links] == [t.category.name for t in expected]
    assert sorted(t.category.name for t in expected) == [t.category.name for t in expected]
    assert sum(len(t.items) for t in expected) == len(offered)
    for task, link in zip(expected, links, strict=True):
        hint = summary.select_one(f"#category-{task.category.id}-hint").get_text(strip=True)
        assert hint.startswith(f"{len(task.items)} service")
        if task.net_pence:
            assert format_pence(task.net_pence + task.vat_pence) in hint
        status = summary.select_one(f"#category-{task.category.id}-status").get_text(strip=True)
        assert status == task.status
        assert link["href"] == f"/buy-back/{school.id}/categories/{task.category.id}"
    total = sum(t.net_pence + t.vat_pence for t in expected)
    heading = summary.select_one("#choice-total h2").get_text(strip=True)
    assert heading == f"Total for 2027-28: {format_pence(total)}"
    # Each category's page asks about its services, and only those.
    page = category_page(client_for("head_teacher"), links[0]["href"])
    assert page.select_one("h1").get_text(strip=True) == expected[0].category.name
    legends = [legend.get_text(strip=True) for legend in page.select("legend")]
    assert legends == [item.service.name for item in expected[0].items]


def test_an_unknown_category_or_one_not_offered_to_the_school_is_not_found(
    client_for, session, clock
) -> None:
    from portal.models import ServiceCategory

    school = oakfield(session)
    head = client_for("head_teacher")
    offered = {int(p.rsplit("/", 1)[1]) for p in category_paths(choice_page(head, school.id))}
    others = [c.id for c in session.scalars(select(ServiceCategory)) if c.id not in offered]
    assert others, "the demo should have a category with no traded service for Oakfield"
    assert head.get(f"/buy-back/{school.id}/categories/{others[0]}").status_code == 404
    assert head.get(f"/buy-back/{school.id}/categories/999999").status_code == 404


def test_staff_prepare_a_draft_and_only_the_head_submits(client_for, session, clock) -> None:
    school = oakfield(session)
    staff = client_for("school_staff")
    summary = choice_page(staff, school.id)
    assert summary.select_one("form#submit") is None
    assert "Your head teacher submits the choices" in summary.get_text()
    path = category_paths(summary)[0]
    page = category_page(staff, path)
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    saved = staff.post(path, data=data)
    assert saved.status_code == 303 and saved.headers["Location"] == f"/buy-back/{school.id}"
    banner = soup(staff.get(saved.headers["Location"])).select_one(".govuk-notification-banner")
    category = page.select_one("h1").get_text(strip=True)
    assert f"Your choices for {category} have been saved as a draft." in banner.get_text()
    choice = session.scalars(
        select(BuybackChoice).where(BuybackChoice.school_id == school.id)
    ).all()
    assert [c.status for c in choice if c.window.year == 2027] == [ChoiceStatus.DRAFT]
    refused = staff.post(
        f"/buy-back/{school.id}", data={"csrf_token": data["csrf_token"], "declaration": "yes"}
    )
    assert refused.status_code == 403


def test_the_first_save_keeps_last_years_answers_for_the_other_categories(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    before = choice_page(head, school.id)
    path = category_paths(before)[-1]
    page = category_page(head, path)
    assert head.post(path, data={**form_data(page), "action": "save"}).status_code == 303
    after = choice_page(head, school.id)
    assert "Last year's choices have been filled in" not in after.get_text()
    assert (
        after.select_one("#choice-total").get_text()
        == before.select_one("#choice-total").get_text()
    )
    assert [s.get_text(strip=True) for s in after.select(".govuk-task-list__status")] == [
        s.get_text(strip=True) for s in before.select(".govuk-task-list__status")
    ]


def test_every_category_page_gives_the_years_total_the_choice_gives(
    client_for, session, clock
) -> None:
    """A category's page reads its own services and, of the others, those the school buys:
    its total for the year is the task list's, from last year's answers and from a draft."""
    school = oakfield(session)
    head = client_for("head_teacher")

    def totals() -> tuple[str, set[str]]:
        summary = choice_page(head, school.id)
        whole = summary.select_one("#choice-total h2").get_text(strip=True).rsplit(": ", 1)[1]
        each = {
            re.search(r"every category: (£[\d,]+\.\d\d)", page.get_text(" ", strip=True))[1]
            for page in (category_page(head, path) for path in category_paths(summary))
        }
        return whole, each

    whole, each = totals()
    assert "Last year's choices have been filled in" in choice_page(head, school.id).get_text()
    assert whole != "£0.00" and each == {whole}
    # A draft that buys something more, in the last category.
    path = category_paths(choice_page(head, school.id))[-1]
    page = category_page(head, path)
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    sid = next(name for name, value in data.items() if name.startswith("answer-") and value == "no")
    data[sid] = "buy"
    assert head.post(path, data=data).status_code == 303
    again, each = totals()
    assert again != whole and each == {again}


def submit_as_head(client, school_id: int, **changes: object):
    save_every_category(client, school_id)
    data = {**form_data(choice_page(client, school_id)), "declaration": "yes"}
    data.update(changes)
    return client.post(f"/buy-back/{school_id}", data=data), data


def test_the_confirmation_reads_the_submission_in_one_query(
    client_for, session, clock, count_queries
) -> None:
    """The confirmation shows the submission as it was sent, its window and who sent it, read
    in one query after the person's: not the choice's own lines (a hundred and fifty rows at
    scale), which it does not show."""
    school = oakfield(session)
    head = client_for("head_teacher")
    response, _ = submit_as_head(head, school.id)
    with count_queries() as sent:
        page = soup(head.get(response.headers["Location"]))
    text = page.get_text(" ", strip=True)
    assert "Choices submitted" in text and "2027-28" in text
    reads = [s for s in sent.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 2, [s[:150] for s in reads]
    assert not [s for s in reads if "FROM buyback_line" in s]


def test_submitting_freezes_prices_keeps_versions_and_confirms(client_for, session, clock) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    response, _ = submit_as_head(head, school.id, purchase_order="PO-1234")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/buy-back/{school.id}/submissions/1"
    confirmation = soup(head.get(response.headers["Location"]))
    text = confirmation.get_text(" ", strip=True)
    assert "Choices submitted" in text and "PO-1234" in text
    submission = session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .where(BuybackChoice.school_id == school.id, BuybackSubmission.number == 1)
        .order_by(BuybackSubmission.id.desc())
    ).first()
    total = submission.net_pence + submission.vat_pence
    assert f"Total for 2027-28: {format_pence(total)}" in choice_page(head, school.id).get_text()
    # The invoice schedule: 7/12 in April (rounded down), the rest in September, each month
    # of the financial year with its year.
    april = total * 7 // 12
    assert f"April 2027: £{april / 100:,.2f}" in text
    assert f"September 2027: £{(total - april) / 100:,.2f}" in text
    mail = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.subject.contains("Buy-back confirmation: Oakfield")
        )
    ).all()
    assert [m.recipient for m in mail] == ["head@oakfield.example"]
    # Prices are frozen: the offer re-priced later (withdrawn, changed, published again) does
    # not touch the submission.
    frozen = [line["net_pence"] for line in submission.lines]
    for line in submission.choice.lines:
        if line.option is not None:
            line.option.amount_pence += 10_000
            line.option.offer.published_at = datetime.now(UTC)
    session.commit()
    session.expire_all()
    again = session.get(BuybackSubmission, submission.id)
    assert [line["net_pence"] for line in again.lines] == frozen
    # Until the deadline, it can be changed and submitted again: a second version, at the
    # prices of the day, not those the draft was saved at.
    second, _ = submit_as_head(head, school.id)
    assert second.headers["Location"] == f"/buy-back/{school.id}/submissions/2"
    latest = session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .where(BuybackChoice.school_id == school.id, BuybackSubmission.number == 2)
    ).one()
    fixed = [
        (line["net_pence"], old)
        for line, old in zip(latest.lines, frozen, strict=True)
        if line["buying"]
        and session.get(PriceOption, line["option_id"]).basis is PricingBasis.PER_SCHOOL
    ]
    assert fixed, "Oakfield should buy a service at a fixed price"
    assert all(new == old + 10_000 for new, old in fixed)
    assert "buyback.submitted" in session.scalars(select(AuditEvent.action)).all()


def test_submit_needs_an_answer_for_every_service_and_the_declaration(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    summary = choice_page(head, school.id)
    unfinished = [
        a
        for a in summary.select("a.govuk-task-list__link")
        if summary.select_one(f"#{a['id']}-status").get_text(strip=True) != "Completed"
    ]
    assert unfinished, "the demo's new service should leave a category unanswered"
    data = {**form_data(summary), "purchase_order": "PO-KEPT"}
    response = head.post(f"/buy-back/{school.id}", data=data)
    page = soup(response)
    links = {a.get_text(strip=True): a["href"] for a in page.select(".govuk-error-summary a")}
    for category in unfinished:
        name = category.get_text(strip=True)
        message = next(m for m in links if m.startswith(f"{name}: answer every service"))
        assert links[message] == f"#{category['id']}"
        assert page.select_one(links[message]) is not None
    assert links["Confirm that you are authorised to commit the school to these purchases"] == (
        "#declaration"
    )
    assert page.select_one("#purchase_order")["value"] == "PO-KEPT"
    assert page.select_one("title").get_text().startswith("Error: ")
    assert not this_years_submissions(session, school)


def test_pressing_submit_twice_submits_once(client_for, session, clock) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    first, data = submit_as_head(head, school.id)
    second = head.post(f"/buy-back/{school.id}", data=data)
    assert second.headers["Location"] == first.headers["Location"]
    count = session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .where(BuybackChoice.school_id == school.id, BuybackChoice.status == ChoiceStatus.SUBMITTED)
    ).all()
    assert len([s for s in count if s.choice.window.year == 2027]) == 1


def saved_buying(session, school: School, answer: str) -> bool | None:
    """Whether the school's saved 2027 choice buys the service of the form field ``answer``
    (answer-<service id>), as the database holds it now."""
    session.expire_all()
    sid = int(answer.removeprefix("answer-"))
    choice = session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).one()
    return next(line.buying for line in choice.lines if line.service_id == sid)


def _flip_first(data: dict[str, object]) -> tuple[str, bool]:
    """Change the form's first answer, buying to not buying or back; its name and whether it
    is now buying."""
    flipped = next(name for name in data if name.startswith("answer-"))
    data[flipped] = "no" if data[flipped] == "buy" else "buy"
    # Bought by the unit, it needs to say how many, as a person must (empty is asked about).
    how_many = flipped.replace("answer-", "quantity-")
    if data[flipped] == "buy" and data.get(how_many) == "":
        data[how_many] = "2"
    return flipped, data[flipped] == "buy"


def _unit_priced_category(client, school_id: int) -> tuple[str, BeautifulSoup, str]:
    """A category of the school's with a service sold by the unit: its path, page and the
    service's id."""
    for path in category_paths(choice_page(client, school_id)):
        page = category_page(client, path)
        box = page.select_one('input[name^="quantity-"]')
        if box is not None:
            return path, page, box["name"].removeprefix("quantity-")
    raise AssertionError("the demo should offer Oakfield a service sold by the unit")


def test_a_category_saved_with_a_mistake_says_where_and_saves_nothing(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    path, page, sid = _unit_priced_category(head, school.id)
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    data[f"answer-{sid}"], data[f"quantity-{sid}"] = "buy", "two"
    response = head.post(path, data=data)
    assert response.status_code == 200
    shown = soup(response)
    link = shown.select_one(f'.govuk-error-summary a[href="#quantity-{sid}"]')
    assert link is not None and "whole number from 1 to 9,999" in link.get_text()
    assert "whole number" in shown.select_one(f"#quantity-{sid}-error").get_text()
    assert shown.select_one(f"#quantity-{sid}")["value"] == "two"
    assert shown.select_one(f'input[name="answer-{sid}"][value="buy"]').has_attr("checked")
    assert not session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).all()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Any text a browser can send (UTF-8: no lone surrogates) but NUL, which every form refuses
# whole with the bad-request page (security.py); and numbers of every kind: huge, negative,
# with decimals, in other scripts' digits.
@given(
    quantity=st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
    | st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)
    | st.sampled_from(["", " ", "9999", "10000", "\u0661\u0662", "\uff11\uff12", "\u00b2", "1e3"])
)
def test_any_quantity_is_saved_or_explained_never_an_error(
    client_for, session, clock, quantity: str
) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    path, page, sid = _unit_priced_category(head, school.id)
    assert "A whole number from 1 to 9,999" in page.select_one(f"#quantity-{sid}-hint").text
    data = {**answer_everything(page, form_data(page)), "action": "total"}
    data[f"answer-{sid}"], data[f"quantity-{sid}"] = "buy", quantity
    response = head.post(path, data=data)
    assert response.status_code == 200
    shown = soup(response)
    error = shown.select_one(f"#quantity-{sid}-error")
    number = quantity.strip()
    if number.isascii() and number.isdigit() and 1 <= int(number) <= 9999:
        assert error is None
        cost = shown.select_one(f"#cost-{sid}").get_text(strip=True)
        assert cost.startswith("Cost: £")
    else:
        expected = (
            "Enter how many sessions of Behaviour support outreach you are buying"
            if not number
            else "whole number from 1 to 9,999"
        )
        assert error is not None and expected in error.get_text()
        # Nothing is priced at a number nobody typed.
        assert not shown.select_one(f"#cost-{sid}").get_text(strip=True)
    # What was typed stays in the box, as typed.
    assert shown.select_one(f"#quantity-{sid}")["value"] == quantity


def test_two_people_on_one_category_the_second_is_told_and_loses_nothing(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    staff, head = client_for("school_staff"), client_for("head_teacher")
    path = category_paths(choice_page(staff, school.id))[0]
    staff_page, head_page = category_page(staff, path), category_page(head, path)
    # The head saves a change; then staff save on top of the answers they saw.
    head_data = answer_everything(head_page, {**form_data(head_page), "action": "save"})
    flipped, now_buying = _flip_first(head_data)
    assert head.post(path, data=head_data).status_code == 303
    staff_data = answer_everything(staff_page, {**form_data(staff_page), "action": "save"})
    stale = staff.post(path, data=staff_data)
    page = soup(stale)
    assert stale.status_code == 200
    summary = page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "Someone else has just saved this school's choices" in summary
    service = page.select_one(f"#{flipped}").find_parent("fieldset").legend.get_text(strip=True)
    assert f"changed for: {service}." in summary
    # Their own answers are still in the form; the head's change is what is saved.
    mine = "no" if now_buying else "buy"
    assert page.select_one(f'input[name="{flipped}"][value="{mine}"]').has_attr("checked")
    assert saved_buying(session, school, flipped) is now_buying
    # Having seen the warning, saving again goes through: their choice stands.
    again = staff.post(path, data={**form_data(page), "action": "save"})
    assert again.status_code == 303
    assert saved_buying(session, school, flipped) is not now_buying


def _without_seen(data: dict[str, object]) -> None:
    del data["seen"]


def _seen_of_another_service_only(data: dict[str, object]) -> None:
    # What the form says it saw, cut down to a service it does not write.
    data["seen"] = "999999:n::1"


def _seen_garbled(data: dict[str, object]) -> None:
    data["seen"] = "not what a page sends"


@pytest.mark.parametrize(
    "forge", [_without_seen, _seen_of_another_service_only, _seen_garbled], ids=lambda f: f.__name__
)
def test_a_save_that_cannot_show_what_it_saw_is_refused_and_loses_nothing(
    client_for, session, clock, forge
) -> None:
    """Issue #16, 7: a save that left out `seen` skipped the check and overwrote others."""
    school = oakfield(session)
    staff, head = client_for("school_staff"), client_for("head_teacher")
    path = category_paths(choice_page(staff, school.id))[0]
    staff_page, head_page = category_page(staff, path), category_page(head, path)
    head_data = answer_everything(head_page, {**form_data(head_page), "action": "save"})
    flipped, head_buying = _flip_first(head_data)
    assert head.post(path, data=head_data).status_code == 303
    staff_data = answer_everything(staff_page, {**form_data(staff_page), "action": "save"})
    forge(staff_data)

    refused = staff.post(path, data=staff_data)

    assert refused.status_code == 200
    page = soup(refused)
    summary = page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "Your choices have not been saved" in summary
    assert page.title.get_text().startswith("Error: ")
    # What staff chose is still in the form; what the head saved is what is saved.
    mine = "no" if head_buying else "buy"
    assert page.select_one(f'input[name="{flipped}"][value="{mine}"]').has_attr("checked")
    assert saved_buying(session, school, flipped) is head_buying
    # The page they were shown says what they saw, so saving it goes through.
    again = staff.post(path, data={**form_data(page), "action": "save"})
    assert again.status_code == 303
    assert saved_buying(session, school, flipped) is not head_buying


@pytest.mark.parametrize("version", [None, "", "seven"])
def test_submitting_without_the_version_it_saw_is_refused(
    client_for, session, clock, version
) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    save_every_category(head, school.id)
    data = {**form_data(choice_page(head, school.id)), "declaration": "yes"}
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    refused = head.post(f"/buy-back/{school.id}", data=data)
    assert refused.status_code == 200
    text = soup(refused).select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "Your choices have not been submitted" in text
    assert not this_years_submissions(session, school)
    # The page shown now carries the version it shows: submitting it goes through.
    retried = head.post(
        f"/buy-back/{school.id}", data={**form_data(soup(refused)), "declaration": "yes"}
    )
    assert retried.status_code == 303


def test_two_people_on_different_categories_both_keep_their_answers(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    staff, head = client_for("school_staff"), client_for("head_teacher")
    first, second = category_paths(choice_page(staff, school.id))[:2]
    staff_page, head_page = category_page(staff, first), category_page(head, second)
    staff_data = answer_everything(staff_page, {**form_data(staff_page), "action": "save"})
    head_data = answer_everything(head_page, {**form_data(head_page), "action": "save"})
    staff_flipped = _flip_first(staff_data)
    head_flipped = _flip_first(head_data)
    assert staff.post(first, data=staff_data).status_code == 303
    assert head.post(second, data=head_data).status_code == 303
    for path, (flipped, buying) in ((first, staff_flipped), (second, head_flipped)):
        page = category_page(head, path)
        value = "buy" if buying else "no"
        assert page.select_one(f'input[name="{flipped}"][value="{value}"]').has_attr("checked")


def test_submitting_what_someone_has_since_changed_is_refused(client_for, session, clock) -> None:
    school = oakfield(session)
    staff, head = client_for("school_staff"), client_for("head_teacher")
    save_every_category(head, school.id)
    summary = choice_page(head, school.id)
    path = category_paths(summary)[0]
    page = category_page(staff, path)
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    _flip_first(data)
    assert staff.post(path, data=data).status_code == 303
    refused = head.post(
        f"/buy-back/{school.id}",
        data={**form_data(summary), "declaration": "yes", "purchase_order": "PO-77"},
    )
    assert refused.status_code == 200
    text = soup(refused).select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "Someone else has just saved this school's choices" in text
    assert soup(refused).select_one("#purchase_order")["value"] == "PO-77"
    assert not this_years_submissions(session, school)
    # The page now shows the choice as saved, so submitting it again goes through.
    retried = head.post(
        f"/buy-back/{school.id}", data={**form_data(soup(refused)), "declaration": "yes"}
    )
    assert retried.status_code == 303


def test_the_deadline_is_the_servers(client_for, session, clock) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    clock(JUST_BEFORE)
    path = category_paths(choice_page(head, school.id))[0]
    page = category_page(head, path)
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    clock(AFTER)
    refused = head.post(path, data=data)
    assert "The deadline has passed" in soup(refused).get_text()
    assert not session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).all()
    closed = choice_page(head, school.id)
    assert closed.select_one("form#submit") is None
    assert "can no longer be changed" in closed.get_text()
    closed_category = category_page(head, path)
    assert closed_category.select('input[type="radio"]')
    assert all(r.has_attr("disabled") for r in closed_category.select('input[type="radio"]'))
    assert not closed_category.select("form#choices button")
    # A submit sent anyway is refused, and says why.
    late = head.post(
        f"/buy-back/{school.id}", data={"csrf_token": data["csrf_token"], "declaration": "yes"}
    )
    assert "The deadline has passed" in soup(late).get_text()


def test_the_total_updates_without_saving(client_for, session, clock) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    path = category_paths(choice_page(head, school.id))[0]
    page = category_page(head, path)
    data = {**form_data(page), "action": "total"}
    fragment = head.post(path, data=data, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html
    assert re.search(r"Total for 2027-28, every category: <strong>£[\d,]+\.\d\d</strong>", html)
    assert not session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).all()


def test_a_trust_lead_sees_each_academys_total(client_for) -> None:
    page = soup(client_for("trust_lead").get("/buy-back/"))
    rows = [tr.select_one("th").get_text(strip=True) for tr in page.select("tbody tr")]
    assert "Riverside Academy" in rows
    assert "Trust total" in page.get_text()


def test_an_administrator_sets_up_a_window(client_for, session) -> None:
    admin = client_for("la_admin")
    data = {
        "csrf_token": csrf_token(admin, "/buy-back/windows/new"),
        "year": "2028",
        "cohort": "all",
        "opens_on": ["6", "1", "2028"],
        "opens_time": "09:00",
        "closes_on": ["2", "3", "2028"],
        "closes_time": "17:00",
    }
    assert admin.post("/buy-back/windows/new", data=data).status_code == 303
    window = session.scalars(select(BuybackWindow).where(BuybackWindow.year == 2028)).one()
    assert window.opens_at == datetime(2028, 1, 6, 9, tzinfo=UTC)
    bad = admin.post("/buy-back/windows/new", data={**data, "closes_on": ["1", "1", "2028"]})
    assert "The window must close after it opens" in soup(bad).get_text()


def test_the_htmx_total_brings_every_costs_line_with_it(client_for, session, clock) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    paths = category_paths(choice_page(head, school.id))
    path, page = next(
        (path, page)
        for path, page in ((path, category_page(head, path)) for path in paths)
        if page.select('input[type="radio"][value="buy"][checked]')
    )
    data = {**form_data(page), "action": "total"}
    buying = next(
        name for name, value in data.items() if name.startswith("answer-") and value == "buy"
    )
    data[buying] = "no"
    fragment = soup(head.post(path, data=data, headers={"HX-Request": "true"}))
    sid = buying.removeprefix("answer-")
    line = fragment.select_one(f"#cost-{sid}")
    assert line["hx-swap-oob"] == "true"
    # No longer bought: no cost shown for it.
    assert line.get_text(strip=True) == ""
    assert len(fragment.select("[hx-swap-oob]")) == len(page.select('p[id^="cost-"]'))


def test_a_price_published_again_is_the_new_price(app, client_for, session, clock) -> None:
    """A re-pricing is withdraw, change, publish again: the page shows the new price, and
    nowhere the old one."""
    head = client_for("head_teacher")
    school = oakfield(session)
    offer = next(
        o
        for o in session.scalars(
            select(ServiceOffer)
            .where(ServiceOffer.year == 2027, ServiceOffer.status == "published")
            .order_by(ServiceOffer.id)
        )
        if len(o.options) == 1
        and o.options[0].basis is PricingBasis.PER_SCHOOL
        and o.service.is_available_to(school)
    )
    old_pence = offer.options[0].amount_pence
    new_pence = old_pence + 12_345

    def price_text() -> str:
        page = category_page(head, f"/buy-back/{school.id}/categories/{offer.service.category_id}")
        return page.select_one(f"#price-{offer.service_id}").get_text(" ", strip=True)

    assert format_pence(old_pence) in price_text()
    reprice(app, offer.id, new_pence)
    text = price_text()
    assert format_pence(new_pence) in text
    assert format_pence(old_pence) not in text


def reprice(app: Flask, offer_id: int, new_pence: int) -> None:
    """Re-price a published offer's one option as a publisher does: withdraw it, change the
    option's amount, publish it again."""
    with app.app_context():
        live = db.session.get(ServiceOffer, offer_id)
        publisher = db.session.scalars(
            select(User).where(User.email == "publisher@council.example")
        ).one()
        option = live.options[0]
        publishing.withdraw(live, publisher)
        details = publishing.OptionDetails(
            name=option.name,
            basis=option.basis,
            audience=option.audience,
            amount_pence=new_pence,
            per_pupil_pence=option.per_pupil_pence,
            unit=option.unit,
            minimum_pence=option.minimum_pence,
            rates=option.rates,
        )
        publishing.save_option(live, option, details, publisher)
        publishing.publish(live, publisher)


# What a category page's form says its person saw comes back from the browser: whatever it
# holds, reading it never fails, and what the page wrote reads back as it was.
seen_answers = st.dictionaries(
    st.integers(min_value=1, max_value=10**6),
    st.tuples(
        st.sampled_from([True, False, None]),
        st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)),
        st.integers(min_value=1, max_value=9999),
    ),
    min_size=1,
    max_size=25,
)


@given(seen_answers)
def test_what_a_page_saw_reads_back_as_written(seen: dict) -> None:
    items = [
        Offered(ServiceName(sid, f"Service {sid}"), CategoryName(1, "A"), None, []) for sid in seen
    ]
    answers = Answers(
        {
            sid: Answer(buying, option_id, quantity)
            for sid, (buying, option_id, quantity) in seen.items()
        }
    )
    expected = {
        sid: (buying, option_id if buying else None, quantity)
        for sid, (buying, option_id, quantity) in seen.items()
    }
    assert read_seen(seen_text(answers, items)) == expected


@given(st.text())
def test_any_seen_field_reads_without_error(text: str) -> None:
    seen = read_seen(text)
    assert seen is None or all(isinstance(sid, int) for sid in seen)


# --- a change after submission (issue #17, 1) -----------------------------------------------


def window_of(session, year: int = 2027, cohort: Cohort = Cohort.MAINTAINED) -> BuybackWindow:
    return session.scalars(
        select(BuybackWindow).where(BuybackWindow.year == year, BuybackWindow.cohort == cohort)
    ).one()


def mail_about(session, subject: str) -> list[OutboxMessage]:
    session.expire_all()
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.subject.contains(subject))
        .order_by(OutboxMessage.id)
    ).all()


def change_first_answer(client, school_id: int, which: int = 0) -> tuple[str, str, bool]:
    """Change the first answer of a category of the school's (buying to not buying, or
    back) and save it: the category, the service's name, and whether it is now bought."""
    path = category_paths(choice_page(client, school_id))[which]
    page = category_page(client, path)
    data = answer_everything(page, {**form_data(page), "action": "save"})
    flipped, buying = _flip_first(data)
    response = client.post(path, data=data)
    assert response.status_code == 303, soup(response).select_one(".govuk-error-summary")
    service = page.select_one(f"#{flipped}").find_parent("fieldset").legend.get_text(strip=True)
    return page.select_one("h1").get_text(strip=True), service, buying


def submitted_text(page: BeautifulSoup) -> str:
    return page.select_one("#submitted").get_text(" ", strip=True)


def test_the_task_list_compares_with_what_was_sent_without_reading_its_lines(
    client_for, session, clock, count_queries
) -> None:
    """A submitted school's task list reads what was sent of each service, and who changed
    each answer since, with its services, in one statement: not the submission's lines
    (24 KB of JSON for a school answering everything), and no query of its own for the
    people named. A change listed costs no statement more than none."""
    school = oakfield(session)
    head, staff = client_for("head_teacher"), client_for("school_staff")
    assert submit_as_head(head, school.id)[0].status_code == 303

    def task_list_reads() -> tuple[BeautifulSoup, list[str]]:
        with count_queries() as sent:
            page = choice_page(head, school.id)
        return page, [s for s in sent.statements if s.lstrip().upper().startswith("SELECT")]

    page, before = task_list_reads()
    assert page.select_one("#unsent") is None
    _, service, _ = change_first_answer(staff, school.id)
    page, after = task_list_reads()
    changed = [row.th.get_text(strip=True) for row in page.select("#unsent tbody tr")]
    assert changed == [service]
    assert "Sol Demo-Staff, 15 January 2027" in page.select_one("#unsent tbody td:last-child").text
    assert len(after) == len(before)
    assert [s for s in after if "buyback_submission_answer" in s and "buyback_line" in s]
    assert not [s for s in after if "buyback_submission.lines" in s]
    assert not [s for s in after if s.lstrip().startswith("SELECT user_account.id")]


def test_the_years_offer_is_read_once_for_each_version_of_the_catalogue(
    app: Flask, client_for, session, clock
) -> None:
    """Which services a school may buy is the same for every school of its kind: the task
    list reads it once per version of the catalogue (portal/buyback/offer.py), and again
    once any service changes, whoever changes it."""
    from sqlalchemy import event, text

    school = oakfield(session)
    head = client_for("head_teacher")
    engines = app.extensions["portal.db"].engines

    def offer_reads() -> int:
        sent: list[str] = []

        def count(_conn, _cursor, statement, *_) -> None:
            sent.append(statement)

        for engine in engines:
            event.listen(engine, "before_cursor_execute", count)
        try:
            choice_page(head, school.id)
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", count)
        # The year's offer; not an offer's price options, read once per publication
        # (portal/services/offers.py).
        return sum(
            "service_offer.published_at" in s and "school_roll" not in s and "the_offer" not in s
            for s in sent
        )

    buyback_offer.forget_year_offers()
    assert offer_reads() == 1
    assert offer_reads() == 0
    session.execute(text("UPDATE service SET name = name || ' (renamed)' WHERE id = 1"))
    session.commit()
    assert offer_reads() == 1
    assert offer_reads() == 0


def test_an_answer_as_sent_whose_option_is_gone_is_listed_with_who_chose_it(
    app: Flask, client_for, session, clock
) -> None:
    """The statement compares the option saved with the option sent by id; an answer as
    sent whose option the school can no longer buy is a change all the same (it cannot be
    sent again as it was), listed with who chose it and when, as the long way lists it."""
    school = oakfield(session)
    head = client_for("head_teacher")
    assert submit_as_head(head, school.id)[0].status_code == 303
    submission = this_years_submissions(session, school)[-1]
    line = next(line for line in submission.choice.lines if line.buying)
    # Another service's option: one this service's offer does not have.
    elsewhere = session.scalar(
        select(PriceOption.id)
        .where(PriceOption.offer_id != session.get(PriceOption, line.option_id).offer_id)
        .limit(1)
    )
    line.option_id = elsewhere
    submission.lines = [
        {**sent, "option_id": elsewhere} if sent["service_id"] == line.service_id else sent
        for sent in submission.lines
    ]
    session.execute(
        update(BuybackSubmissionAnswer)
        .where(
            BuybackSubmissionAnswer.submission_id == submission.id,
            BuybackSubmissionAnswer.service_id == line.service_id,
        )
        .values(option_id=elsewhere)
    )
    session.commit()
    shown, _, _ = _stands_the_long_way(app, school)
    assert [change.service_id for change in shown.standing.changes] == [line.service_id]
    assert shown.standing.changes[0].by == "Hannah Demo-Head"
    assert shown.standing.changes[0].at is not None


def test_a_change_after_submission_says_it_is_not_yet_sent_beside_the_submitted_total(
    client_for, session, clock
) -> None:
    """Issue #17, 1: "Submitted 14 times; last by ..." sat beside the draft's total, and a
    change after submission said nothing."""
    school = oakfield(session)
    head, staff = client_for("head_teacher"), client_for("school_staff")
    response, _ = submit_as_head(head, school.id)
    assert response.status_code == 303
    submission = this_years_submissions(session, school)[-1]
    sent = format_pence(submission.net_pence + submission.vat_pence)
    before = choice_page(head, school.id)
    assert "Changes not yet sent" not in before.get_text()
    assert sent in submitted_text(before)
    assert "; last by Hannah Demo-Head on " in submitted_text(before)
    assert before.select_one("#choice-total h2").get_text(strip=True) == (
        f"Total for 2027-28: {sent}"
    )

    category, service, buying = change_first_answer(staff, school.id)

    page = choice_page(head, school.id)
    unsent = page.select_one("#unsent")
    assert unsent is not None, "the change is not shown"
    assert unsent.select_one("h2").get_text(strip=True) == "Changes not yet sent to the council"
    rows = [
        [cell.get_text(" ", strip=True) for cell in row.select("th, td")]
        for row in unsent.select("tbody tr")
    ]
    assert len(rows) == 1
    name, was, now_saved, by = rows[0]
    assert name == service
    assert (was.startswith("Buying"), now_saved.startswith("Buying")) == (not buying, buying)
    assert by.startswith("Sol Demo-Staff, 15 January 2027")
    warning = unsent.select_one(".govuk-warning-text").get_text(" ", strip=True)
    assert "Since 15 January 2027 at 12:00pm, 1 service has been changed" in warning
    assert f"still has the choices as submitted ({sent})" in warning
    # "Submitted ..." stands beside what was submitted; the draft's total is named apart.
    assert sent in submitted_text(page)
    assert page.select_one("#submitted-total").get_text(strip=True) == sent
    draft = page.select_one("#draft-total").get_text(strip=True)
    assert not draft.startswith(sent)
    assert draft.split(":")[0] not in submitted_text(page)
    link = page.find("a", string=category)
    status = page.select_one(f"#{link['id']}-status").get_text(strip=True)
    assert status == "Changed, not yet sent"
    assert "1 change not yet sent to the council" in page.select_one(f"#{link['id']}-hint").text

    # Submitted again: the council has it, and the page says so.
    again = head.post(f"/buy-back/{school.id}", data={**form_data(page), "declaration": "yes"})
    assert again.status_code == 303
    after = choice_page(head, school.id)
    assert after.select_one("#unsent") is None
    assert "Submitted 2 times" in submitted_text(after)
    assert draft.split(":")[0] in submitted_text(after)


def _stands_the_long_way(app: Flask, school: School) -> tuple:
    """The task list's tasks, answers and standing as choice_as_it_stands works them out,
    and as they are worked out from a service object for every service offered (as a
    submission does): they must be the same."""
    with app.test_request_context():
        shown = choice_as_it_stands(school)
    with app.test_request_context():
        window = current_window(school)
        offered = offered_to(school, window.year, last_year=False)
        choice = get_choice(school, window)
        answers = current_answers(school, window, offered, choice)
        standing = buyback_standing.standing(choice, offered)
        tasks = buyback_answers.tasks(offered, answers)

    def counted(tasks: list) -> list:
        return [
            (t.category, t.answered, t.net_pence, t.vat_pence, t.services, t.status) for t in tasks
        ]

    assert shown is not None
    assert counted(shown.tasks) == counted(tasks)
    assert all(t.services == len(t.items) for t in tasks)
    assert shown.answers == answers
    assert shown.standing.changes == standing.changes
    assert (shown.standing.times, shown.standing.since) == (standing.times, standing.since)
    assert shown.standing.submitted_pence == standing.submitted_pence
    return shown, answers, standing


def test_the_task_list_counted_from_rows_is_what_every_service_object_gives(
    app: Flask, client_for, session, clock
) -> None:
    """The task list counts each category from the rows read, making a service object only
    for the services it prices or may list as changed: starting from last year's, saved,
    submitted, and changed since."""
    school = oakfield(session)
    head, staff = client_for("head_teacher"), client_for("school_staff")
    shown, _, _ = _stands_the_long_way(app, school)
    assert shown.choice is None and shown.answers.by_service  # last year's, to start from
    save_every_category(head, school.id)
    _stands_the_long_way(app, school)
    submit_as_head(head, school.id)
    shown, _, standing = _stands_the_long_way(app, school)
    assert standing.latest is not None and standing.changes == []
    change_first_answer(staff, school.id)
    change_first_answer(staff, school.id, which=2)
    shown, answers, standing = _stands_the_long_way(app, school)
    assert len(standing.changes) == 2
    assert any(answer.buying for answer in answers.by_service.values())


def test_staff_changing_a_submitted_choice_email_the_head_once_a_run_of_changes(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    head, staff = client_for("head_teacher"), client_for("school_staff")
    submit_as_head(head, school.id)
    subject = "Buy-back changes not yet sent: Oakfield Primary School"
    assert mail_about(session, subject) == []

    _, service, _ = change_first_answer(staff, school.id)
    change_first_answer(staff, school.id, which=1)  # the same run: nobody told again
    mail = mail_about(session, subject)
    assert [m.recipient for m in mail] == ["head@oakfield.example"]
    assert "Sol Demo-Staff has changed Oakfield Primary School's choice" in mail[0].body
    assert f"- {service}: was " in mail[0].body

    # Submitted again, a new run of changes by staff tells the head again; the head's own
    # changes tell nobody.
    page = choice_page(head, school.id)
    assert (
        head.post(
            f"/buy-back/{school.id}", data={**form_data(page), "declaration": "yes"}
        ).status_code
        == 303
    )
    change_first_answer(head, school.id)
    assert len(mail_about(session, subject)) == 1
    change_first_answer(staff, school.id, which=1)
    assert len(mail_about(session, subject)) == 2


def test_changing_back_to_what_was_submitted_leaves_nothing_unsent(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    head, staff = client_for("head_teacher"), client_for("school_staff")
    submit_as_head(head, school.id)
    change_first_answer(staff, school.id)
    change_first_answer(staff, school.id)  # and back
    page = choice_page(head, school.id)
    assert page.select_one("#unsent") is None
    session.expire_all()
    choice = this_years_submissions(session, school)[-1].choice
    assert choice.unsent_since is None and choice.unsent_told_at is None
    # A change after that is a new run: the head is told again.
    change_first_answer(staff, school.id)
    assert len(mail_about(session, "Buy-back changes not yet sent: Oakfield")) == 2


def school_person(app, session, urn: int, email: str, role: str) -> None:
    """An account with the demo password and one role at the school."""
    from portal.models import Membership, Role, User
    from portal.passwords import hash_password
    from portal_seed.demo import DEMO_PASSWORD

    school = session.scalars(select(School).where(School.urn == urn)).one()
    with app.app_context():
        password = hash_password(DEMO_PASSWORD)
    user = User(email=email, display_name="Rae Demo-Person", password_hash=password)
    user.memberships.append(Membership(role=Role(role), school=school))
    session.add(user)
    session.commit()


def test_staff_changing_an_academys_choice_email_its_head_and_the_trust_lead(
    app, client_for, session, clock
) -> None:
    riverside = session.scalars(select(School).where(School.urn == 140201)).one()
    school_person(app, session, 140201, "staff@riverside.example", "school_staff")
    head = client_for("academy_head")
    response, _ = submit_as_head(head, riverside.id)
    assert response.status_code == 303
    change_first_answer(client_for("staff@riverside.example"), riverside.id)
    mail = mail_about(session, "Buy-back changes not yet sent: Riverside Academy")
    assert sorted(m.recipient for m in mail) == [
        "head@riverside.example",
        "trust@meadowtrust.example",
    ]
    trust_page = soup(client_for("trust_lead").get("/buy-back/"))
    row = next(tr for tr in trust_page.select("tbody tr") if "Riverside Academy" in tr.get_text())
    assert "Changes not yet sent" in row.get_text()


submitted_answers = st.dictionaries(
    st.integers(min_value=1, max_value=6),
    st.tuples(st.sampled_from([True, False, None]), st.sampled_from([1, 2]), st.integers(1, 3)),
    max_size=6,
)


@given(sent=submitted_answers, saved=submitted_answers)
def test_the_changes_not_yet_sent_are_exactly_the_answers_that_differ(
    sent: dict,
    saved: dict,
) -> None:
    """Whatever was submitted and whatever is saved, a service is listed as changed exactly
    when buying or not, the option bought, or how many of a unit bought differs."""
    from types import SimpleNamespace

    from portal.models import Audience

    def option(oid: int) -> OptionTerms:
        basis = PricingBasis.PER_UNIT if oid == 2 else PricingBasis.PER_SCHOOL
        unit = "pack" if oid == 2 else None
        return OptionTerms(oid, 1, f"Option {oid}", basis, Audience.ALL, 100, 0, unit, None, {})

    offered = [
        Offered(
            ServiceName(sid, f"Service {sid}"),
            CategoryName(1, "A"),
            None,
            [option(1), option(2)],
        )
        for sid in range(1, 7)
    ]
    lines = [
        SimpleNamespace(service_id=sid, buying=b, option_id=o if b else None, quantity=q)
        for sid, (b, o, q) in saved.items()
    ]
    submission = BuybackSubmission(
        lines=[
            {
                "service_id": sid,
                "buying": bool(b),
                "option_id": o if b else None,
                "option": f"Option {o}" if b else None,
                "unit": "pack" if o == 2 else None,
                "quantity": q,
            }
            for sid, (b, o, q) in sent.items()
            if b is not None  # an unanswered service is not in a submission
        ]
    )

    def answer(answers: dict, sid: int) -> tuple:
        buying, option_id, quantity = answers.get(sid, (None, 1, 1))
        if not buying:
            return (buying, None, 1)
        return (True, option_id, quantity if option_id == 2 else 1)

    expected = [sid for sid in range(1, 7) if answer(saved, sid) != answer(sent, sid)]
    found = unsent_changes(lines, sent_answers(submission), offered)
    assert [change.service_id for change in found] == expected
    for change in found:
        assert change.was != change.now


# --- reminders (issue #17, 2) -------------------------------------------------------------------

# The maintained schools' 14-day reminder is due from 16 February 2027 at 5pm, the 3-day one
# from 27 February; the academies' window closes on 31 March 2027.
FOURTEEN_DAYS_BEFORE = datetime(2027, 2, 20, 9, tzinfo=UTC)
THREE_DAYS_BEFORE = datetime(2027, 2, 28, 9, tzinfo=UTC)
# Heads with accounts at maintained schools that have not submitted in the demo (Bulkington
# Village and Weddington Park have).
MAINTAINED_HEADS = {
    "head@oakfield.example": "Oakfield Primary School",
    "head@dunchurch.example": "Dunchurch Hall Primary School",
    "head@woodloes.example": "Woodloes Primary School",
}


def reminders_to(session) -> list[str]:
    return sorted(m.recipient for m in mail_about(session, "Reminder: buy-back choices"))


def test_a_school_is_marked_reminded_only_when_someone_was_written_to(app, session, clock) -> None:
    """Issue #17, 2: "Reminded 41 schools", no e-mail sent, and all 41 marked reminded."""

    clock(FOURTEEN_DAYS_BEFORE)
    with app.app_context():
        report = reminders.send_reminders()
    assert [(r.window.cohort, r.days_before) for r in report.runs] == [(Cohort.MAINTAINED, 14)]
    run = report.runs[0]
    assert sorted(s.name for s in run.schools) == sorted(MAINTAINED_HEADS.values())
    assert report.reminded == len(MAINTAINED_HEADS)
    assert reminders_to(session) == sorted(MAINTAINED_HEADS)
    for message in mail_about(session, "Reminder: buy-back choices"):
        assert f"{MAINTAINED_HEADS[message.recipient]} has not yet submitted" in message.body
        assert "The deadline is 2 March 2027 at 5:00pm" in message.body
    unreachable = {school.name for school in run.unreachable}
    assert "St Editha's Church of England Primary School" in unreachable
    assert unreachable.isdisjoint(MAINTAINED_HEADS.values())
    assert {"Bulkington Village Primary School", "Weddington Park Primary School"}.isdisjoint(
        unreachable
    ), "schools that have submitted are not waited for"
    session.expire_all()
    marked = {r.school_id for r in session.scalars(select(BuybackReminder))}
    assert marked == {school.id for school in run.schools}


def test_each_reminder_goes_once_to_each_school(app, session, clock) -> None:

    with app.app_context():
        clock(DURING)
        assert reminders.send_reminders().reminded == 0  # none due yet
        clock(FOURTEEN_DAYS_BEFORE)
        assert reminders.send_reminders().reminded == len(MAINTAINED_HEADS)
        assert reminders.send_reminders().reminded == 0
        clock(THREE_DAYS_BEFORE)
        third = reminders.send_reminders()
        assert [r.days_before for r in third.runs] == [3]
        assert third.reminded == len(MAINTAINED_HEADS)
        assert reminders.send_reminders().reminded == 0
    assert reminders_to(session) == sorted([*MAINTAINED_HEADS] * 2)


def test_a_missed_run_sends_only_the_nearest_reminder(app, session, clock) -> None:

    clock(THREE_DAYS_BEFORE)  # the 14-day reminder was never sent
    with app.app_context():
        report = reminders.send_reminders()
    assert [r.days_before for r in report.runs] == [3]
    assert reminders_to(session) == sorted(MAINTAINED_HEADS)


def test_trust_leads_are_reminded_for_their_academies_in_one_message(app, session, clock) -> None:
    from portal_seed.demo import SCHOOLS

    clock(datetime(2027, 3, 20, 9, tzinfo=UTC))  # 11 days before the academies' deadline
    with app.app_context():
        report = reminders.send_reminders()
    assert [(r.window.cohort, r.days_before) for r in report.runs] == [(Cohort.ACADEMIES, 14)]
    to_lead = [
        m for m in mail_about(session, "Reminder") if m.recipient == "trust@meadowtrust.example"
    ]
    assert len(to_lead) == 1
    meadow = sorted(name for name, *_, trust in SCHOOLS if trust == "TR01001")
    assert "These schools have not yet submitted" in to_lead[0].body
    assert [line[2:] for line in to_lead[0].body.splitlines() if line.startswith("- ")] == meadow
    reached = {school.name for school in report.runs[0].schools}
    assert set(meadow) | {"Nuneaton Free School"} == reached
    # The other trust's academies have no lead or head with an account.
    assert "Rugby Vale Academy" in {school.name for school in report.runs[0].unreachable}


def test_a_window_may_have_reminders_of_its_own(app, session, clock) -> None:

    window_of(session).reminder_days = [10]
    session.commit()
    clock(datetime(2027, 2, 21, 9, tzinfo=UTC))  # 9 days before: the 10-day one is due
    with app.app_context():
        report = reminders.send_reminders()
    assert [r.days_before for r in report.runs] == [10]
    assert report.reminded == len(MAINTAINED_HEADS)


def test_the_remind_command_says_how_many_and_whom_to_telephone(app, session, clock) -> None:
    clock(FOURTEEN_DAYS_BEFORE)
    result = app.test_cli_runner().invoke(args=["buyback", "remind"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Reminded {len(MAINTAINED_HEADS)} schools."
    assert any(line.startswith("Could not remind ") and "Telephone them:" in line for line in lines)
    assert "  St Editha's Church of England Primary School (URN 125603), maintained schools" in (
        lines
    )
    assert not any("Oakfield" in line for line in lines)
    again = app.test_cli_runner().invoke(args=["buyback", "remind"])
    assert again.output.splitlines()[0] == "Reminded 0 schools."
    refused = app.test_cli_runner().invoke(args=["buyback", "remind", "--days", "soon"])
    assert refused.exit_code != 0 and "whole numbers" in refused.output


def test_the_window_page_says_how_many_were_reminded_and_whom_to_telephone(
    app, client_for, session, clock
) -> None:

    window = window_of(session)
    clock(FOURTEEN_DAYS_BEFORE)
    with app.app_context():
        reminders.send_reminders()
    page = soup(client_for("la_admin").get(f"/buy-back/windows/{window.id}"))
    rows = {
        row.select_one("th").get_text(strip=True): [
            cell.get_text(strip=True) for cell in row.select("td")
        ]
        for row in page.select("#reminders ~ table tbody tr")
        if "before" in row.select_one("th").get_text()
    }
    assert rows["14 days before"] == ["16 February 2027 at 5:00pm", str(len(MAINTAINED_HEADS))]
    assert rows["3 days before"] == ["27 February 2027 at 5:00pm", "Not yet due"]
    listed = [a.get_text(strip=True) for a in page.select("#unreachable ~ table tbody th a")]
    assert "St Editha's Church of England Primary School" in listed
    assert not set(listed) & {*MAINTAINED_HEADS.values(), "Bulkington Village Primary School"}
    assert "2 of " in page.get_text()  # Bulkington Village and Weddington Park have submitted


@settings(max_examples=200)
@given(st.text(max_size=20))
def test_any_reminder_days_are_read_or_refused_with_a_reason(text: str) -> None:
    from portal.buyback.windows import parse_days

    try:
        days = parse_days(text)
    except ValueError as error:
        assert str(error)
        return
    assert list(days) == sorted(set(days), reverse=True)
    assert all(1 <= day <= 365 for day in days) and len(days) <= 6
    assert days == parse_days(", ".join(str(day) for day in days))


def test_the_council_sets_a_windows_reminders(client_for, session, clock) -> None:
    admin = client_for("la_admin")
    window = window_of(session)
    path = f"/buy-back/windows/{window.id}"
    token = csrf_token(admin, path)
    bad = admin.post(f"{path}/reminders", data={"csrf_token": token, "reminder_days": "14, x"})
    assert bad.status_code == 200
    page = soup(bad)
    assert page.select_one("#reminder_days-error") is not None
    assert page.select_one("#reminder_days")["value"] == "14, x"
    assert page.select_one(".govuk-error-summary a[href='#reminder_days']") is not None
    saved = admin.post(f"{path}/reminders", data={"csrf_token": token, "reminder_days": "3,21"})
    assert saved.status_code == 303
    session.expire_all()
    assert window_of(session).reminder_days == [21, 3]
    assert "buyback.window_reminders_changed" in session.scalars(select(AuditEvent.action)).all()


# --- managing windows (issue #17, 10 and 5) -----------------------------------------------------


def window_form(admin, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf_token(admin, "/buy-back/windows/new"),
        "year": "2028",
        "cohort": "maintained",
        "opens_on": ["1", "11", "2027"],
        "opens_time": "09:00",
        "closes_on": ["1", "3", "2028"],
        "closes_time": "17:00",
    }
    data.update(changes)
    return data


def test_a_window_that_cannot_be_meant_is_refused_beside_the_field_keeping_what_was_typed(
    client_for, session, clock
) -> None:
    """Issue #17, 5: a window entirely in the past, or a second one for the same year and
    schools, was set up without a word."""
    admin = client_for("la_admin")
    cases = [
        ({"opens_on": ["6", "1", "2020"], "closes_on": ["2", "3", "2020"]}, "closes_on-day"),
        ({"year": "2027"}, "cohort"),
        ({"year": "2027", "cohort": "all"}, "cohort"),
        ({"year": "2026", "cohort": "academies"}, "cohort"),
    ]
    for changes, field in cases:
        data = window_form(admin, **changes)
        response = admin.post("/buy-back/windows/new", data=data)
        assert response.status_code == 200, changes
        page = soup(response)
        link = page.select_one(f'.govuk-error-summary a[href="#{field}"]')
        assert link is not None, (changes, page.select_one(".govuk-error-summary"))
        if field == "cohort":
            assert link.get_text().startswith("There is already a buy-back window for")
            assert page.select_one("#cohort-error") is not None
        else:
            assert "must close in the future" in link.get_text()
            assert page.select_one("#closes_on-error") is not None
        assert page.select_one("#year")["value"] == data["year"]
        assert page.select_one("#closes_on-year")["value"] == data["closes_on"][2]
        assert page.select_one(f'input[name="cohort"][value="{data["cohort"]}"]').has_attr(
            "checked"
        )
    assert len(session.scalars(select(BuybackWindow)).all()) == 4


def test_a_window_is_changed_before_it_opens_and_not_after(client_for, session, clock) -> None:
    admin = client_for("la_admin")
    created = admin.post("/buy-back/windows/new", data=window_form(admin))
    assert created.status_code == 303
    window = session.scalars(select(BuybackWindow).where(BuybackWindow.year == 2028)).one()
    assert created.headers["Location"] == f"/buy-back/windows/{window.id}"
    path = f"/buy-back/windows/{window.id}/edit"
    form = soup(admin.get(path))
    assert int(form.select_one("#closes_on-month")["value"]) == 3
    data = {**form_data_of(form), "closes_on": ["8", "3", "2028"], "reminder_days": "7"}
    assert admin.post(path, data=data).status_code == 303
    session.expire_all()
    changed = session.get(BuybackWindow, window.id)
    assert changed.closes_at == datetime(2028, 3, 8, 17, tzinfo=UTC)
    assert changed.reminder_days == [7]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "buyback.window_changed")
    ).one()
    assert event.subject_id == window.id
    assert event.detail["before"]["closes_at"].startswith("2028-03-01")
    assert event.detail["closes_at"].startswith("2028-03-08")
    # An open window is not changed so: it is extended, or closed.
    open_window = window_of(session)
    refused = admin.get(f"/buy-back/windows/{open_window.id}/edit")
    assert refused.status_code == 303
    shown = soup(admin.get(refused.headers["Location"]))
    assert "can be changed only before it opens" in shown.get_text()


def form_data_of(page: BeautifulSoup) -> dict[str, object]:
    """The window form as it stands, the dates as their three boxes."""
    data: dict[str, object] = {}
    for field in page.select("form input"):
        name, kind = field.get("name"), field.get("type")
        if not name or kind == "submit":
            continue
        if kind == "radio":
            if field.has_attr("checked"):
                data[name] = field["value"]
        elif field.get("id", "").endswith(("-day", "-month", "-year")):
            data.setdefault(name, []).append(field.get("value", ""))
        else:
            data[name] = field.get("value", "")
    return data


def test_extending_the_deadline_tells_everyone_not_yet_submitted(
    app, client_for, session, clock
) -> None:

    window = window_of(session)
    admin = client_for("la_admin")
    clock(THREE_DAYS_BEFORE)
    with app.app_context():
        reminders.send_reminders()  # the 3-day reminder, before the deadline moves
    path = f"/buy-back/windows/{window.id}/deadline"
    token = csrf_token(admin, path)
    earlier = admin.post(
        path, data={"csrf_token": token, "closes_on": ["1", "3", "2027"], "closes_time": "17:00"}
    )
    page = soup(earlier)
    assert "The new deadline must be after the current one, 2 March 2027 at 5:00pm" in (
        page.select_one("#closes_on-error").get_text()
    )
    assert page.select_one("#closes_on-day")["value"] == "1"
    extended = admin.post(
        path,
        data={"csrf_token": token, "closes_on": ["16", "3", "2027"], "closes_time": "17:00"},
    )
    assert extended.status_code == 303
    banner = soup(admin.get(extended.headers["Location"])).select_one(".govuk-notification-banner")
    assert "extended to 16 March 2027 at 5:00pm" in banner.get_text()
    assert f"The {len(MAINTAINED_HEADS)} schools not yet submitted" in banner.get_text()
    assert "could not be told" in banner.get_text()
    session.expire_all()
    assert window_of(session).closes_at == datetime(2027, 3, 16, 17, tzinfo=UTC)
    told = mail_about(session, "Buy-back deadline for 2027-28 extended to 16 March 2027")
    assert sorted(m.recipient for m in told) == sorted(MAINTAINED_HEADS)
    assert all("from 2 March 2027 at 5:00pm to 16 March 2027 at 5:00pm" in m.body for m in told)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "buyback.deadline_extended")
    ).one()
    assert event.detail["told"] == len(MAINTAINED_HEADS)
    # The 3-day reminder counts from the new deadline: sent again when due.
    with app.app_context():
        assert reminders.send_reminders().reminded == 0
        clock(datetime(2027, 3, 14, 9, tzinfo=UTC))
        assert reminders.send_reminders().reminded == len(MAINTAINED_HEADS)


def test_closing_a_window_early_stops_every_change_and_is_audited(
    client_for, session, clock
) -> None:
    school = oakfield(session)
    window = window_of(session)
    head, admin = client_for("head_teacher"), client_for("la_admin")
    path = category_paths(choice_page(head, school.id))[0]
    page = category_page(head, path)
    confirm = soup(admin.get(f"/buy-back/windows/{window.id}/close"))
    assert "Close the window now?" in confirm.select_one("h1").get_text()
    assert "have not submitted, and will not be able to" in confirm.get_text()
    closed = admin.post(
        f"/buy-back/windows/{window.id}/close", data={"csrf_token": csrf_token(admin, "/")}
    )
    assert closed.status_code == 303
    session.expire_all()
    assert window_of(session).closes_at == DURING
    refused = head.post(path, data={**answer_everything(page, form_data(page)), "action": "save"})
    assert "The deadline has passed" in soup(refused).get_text()
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "buyback.window_closed_early")
    ).one()
    assert event.detail["was"].startswith("2027-03-02")
    # Closed, it is neither extended nor closed again.
    again = admin.get(f"/buy-back/windows/{window.id}/deadline")
    assert again.status_code == 303


# --- the trust lead's page, and invoices by month and year (issue #17, 13) -----------------------


def test_invoice_months_carry_the_year_of_the_financial_year(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "BUYBACK_INVOICE_SCHEDULE", "April:1/2, Jan:1/2")
    with app.app_context():
        schedule = invoice_schedule(1001, 2027)
    assert schedule == [("April 2027", 1 / 2, 500), ("January 2028", 1 / 2, 501)]


def test_the_trust_page_has_the_deadline_and_a_csv_and_each_academy_leads_back(
    client_for, session, clock
) -> None:
    import csv
    import io

    lead = client_for("trust_lead")
    riverside = session.scalars(select(School).where(School.urn == 140201)).one()
    submit_as_head(client_for("academy_head"), riverside.id, purchase_order="PO-RIV")
    page = soup(lead.get("/buy-back/"))
    assert "Choices for 2027-28 are due by 31 March 2027 at 5:00pm" in page.get_text()
    rows = {
        tr.select_one("th").get_text(strip=True): [td.get_text(strip=True) for td in tr("td")]
        for tr in page.select("tbody tr")
    }
    assert rows["Riverside Academy"][1:3] == ["31 March 2027 at 5:00pm", "Submitted"]
    link = page.find("a", string=re.compile("Download each academy's submitted choices"))
    download = lead.get(link["href"])
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    submission = this_years_submissions(session, riverside)[-1]
    theirs = [row for row in table if row["School"] == "Riverside Academy"]
    assert len(theirs) == len(submission.lines)
    assert {row["Purchase order"] for row in theirs} == {"PO-RIV"}
    bought = sum(
        round(float(row["Net (£)"]) * 100) + round(float(row["VAT (£)"]) * 100)
        for row in theirs
        if row["Buying"] == "Yes"
    )
    assert bought == submission.net_pence + submission.vat_pence
    others = [row for row in table if row["School"] == "Atherstone Meadows Primary School"]
    assert [row["Status"] for row in others] == ["Not started"]
    # Each academy's page leads back to the trust's; the academy's own head has no trust page.
    back = soup(lead.get(f"/buy-back/{riverside.id}")).select_one(".govuk-back-link")
    assert back.get_text(strip=True) == "Back to your academies" and back["href"] == "/buy-back/"
    own = soup(client_for("academy_head").get(f"/buy-back/{riverside.id}"))
    assert own.select_one(".govuk-back-link") is None


def test_council_staff_get_no_choices_csv(client_for) -> None:
    assert client_for("la_admin").get("/buy-back/choices.csv").status_code == 403


# --- the demo's season (issue #17) ---------------------------------------------------------------


def test_the_demo_shows_the_buy_back_season(session) -> None:
    from portal.models import Membership, Role

    for cohort in (Cohort.MAINTAINED, Cohort.ACADEMIES):
        assert window_of(session, 2027, cohort).state(DURING) == "open"
    heads = session.scalars(
        select(Membership.school_id).where(Membership.role == Role.HEAD_TEACHER)
    ).all()
    assert len(set(heads)) >= 6
    bulkington = session.scalars(select(School).where(School.urn == 125612)).one()
    changed = this_years_submissions(session, bulkington)[-1].choice
    assert changed.unsent_since is not None and changed.unsent_told_at is not None
    told = mail_about(session, "Buy-back changes not yet sent: Bulkington Village")
    assert [m.recipient for m in told] == ["head@bulkington.example"]
    weddington = session.scalars(select(School).where(School.urn == 125608)).one()
    assert this_years_submissions(session, weddington)[-1].choice.unsent_since is None


# The markup of each service's fields as the category page's Jinja loop drew it, before
# portal.buyback.display.service_fields wrote it out in Python for speed.
_SERVICE_FIELDS_LOOP = Path(__file__).with_name("buyback_service_fields_loop.html")


def test_the_written_out_service_fields_are_the_category_loops_markup(
    app: Flask, session, clock
) -> None:
    """A category's service fields are written out in Python (display.service_fields) for
    speed: they must stay what the page's Jinja loop drew, whatever is answered, wrong,
    typed or disabled, and with names that need escaping."""
    from dataclasses import replace

    from portal.buyback import display
    from portal.buyback.answers import Answer, Answers
    from portal.buyback.offered import ServiceName

    school = oakfield(session)
    loop = app.jinja_env.from_string(_SERVICE_FIELDS_LOOP.read_text())
    with app.test_request_context():
        window = current_window(school)
        assert window is not None
        offered = offered_to(school, window.year)
        for item in offered:  # priced here, where the prices can be read
            assert item.quotes is not None and item.last_year is not None
    items = [
        replace(item, service=ServiceName(item.service.id, f'{item.service.name} & <"co\'s">'))
        if index % 4 == 1
        else item
        for index, item in enumerate(offered)
    ]
    assert any(len(item.options) > 1 for item in items)
    assert any(item.sold_by_the_unit for item in items)
    answers = Answers({})
    errors: dict[str, str] = {}
    for index, item in enumerate(items):
        sid, option = item.service.id, item.options[index % len(item.options)]
        kind = index % 5
        if kind == 1:
            answers.by_service[sid] = Answer(True, option.id, 3, 12_345, 2_469)
        elif kind == 2:
            answers.by_service[sid] = Answer(False, None)
        elif kind == 3:
            answers.by_service[sid] = Answer(None, option.id, 2)
        elif kind == 4:
            answers.by_service[sid] = Answer(True, option.id, 7)
        if index % 3 == 0:
            errors[f"answer-{sid}"] = f'{item.service.name}: <choose> & "answer"'
        if index % 7 == 2:
            errors[f"option-{sid}"] = "Choose which option to buy"
        if index % 2 == 1:
            errors[f"quantity-{sid}"] = "Enter how many 'sessions' <of> this"
    unit_sids = [item.service.id for item in items if item.sold_by_the_unit]
    forms = [{}, {f"quantity-{unit_sids[0]}": ' 12 <b>"x"', f"quantity-{unit_sids[-1]}": ""}]
    for form in forms:
        for may_prepare in (True, False):
            for shown_errors in ({}, errors):
                with app.test_request_context("/", method="POST", data=form):
                    from flask import request

                    theirs = loop.render(
                        task=Task(items[0].category, items, 0, 0, 0, len(items)),
                        window=window,
                        answers=answers,
                        errors=shown_errors,
                        may_prepare=may_prepare,
                        price_hint=display.price_hint,
                        cost_line=display.cost_line,
                        quantity_hint=QUANTITY_HINT,
                    )
                    link = app.jinja_env.globals["link_for_each"]
                    ours = display.service_fields(
                        items,
                        answers,
                        shown_errors,
                        may_prepare,
                        link("services.show", "service_id", year=window.year),
                        request.form,
                    )
                assert same_markup(str(ours)) == same_markup(theirs)


_TASK_LIST_LOOP = Path(__file__).with_name("buyback_task_list_loop.html")


def test_the_written_out_task_list_is_the_choice_pages_loop(app: Flask) -> None:
    """The choice's task list is written out in Python (display.task_list_items) for speed:
    it must stay what the page's Jinja loop drew, for every status, with changes not yet
    sent or none, and with names that need escaping."""
    from portal.buyback import display
    from portal.buyback.answers import Task
    from portal.buyback.standing import Change, Standing
    from portal.services.catalogue import CategoryName

    loop = app.jinja_env.from_string(_TASK_LIST_LOOP.read_text())
    one, many = [object()], [object(), object(), object()]
    tasks = [
        Task(CategoryName(3, 'Fish & <chips> "co\'s"'), many, 3, 120_000, 24_000, 3),
        Task(CategoryName(5, "Behaviour"), one, 1, 0, 0, 1),
        Task(CategoryName(8, "Curriculum"), [], 1, 5_050, 0, 3),
        Task(CategoryName(13, "Governance"), many, 0, 0, 0, 3),
        Task(CategoryName(21, "HR"), one, 0, 0, 0, 1),
    ]
    changes = [
        Change(1, "A", 3, "Not buying", "Buying", None, None),
        Change(2, "B", 5, "Not buying", "Buying", "Ann", None),
        Change(4, "C", 5, "Buying", "Not buying", None, None),
        Change(6, "D", 8, "Buying", "Not buying", None, None),
    ]
    for stands in (Standing(None, 0, [], None), Standing(None, 1, changes, None)):
        with app.test_request_context("/"):
            theirs = loop.render(
                tasks=tasks, standing=stands, school={"id": 42}, format_pence=format_pence
            )
            link = app.jinja_env.globals["link_for_each"]
            ours = display.task_list_items(
                tasks, stands, link("buyback.category", "category_id", school_id=42)
            )
        assert same_markup(str(ours)) == same_markup(theirs)
        assert "Changed, not yet sent" in theirs or stands.changes == []


def test_the_buyback_pages_reads_by_the_driver_are_what_sqlalchemy_reads(
    app: Flask, session
) -> None:
    """The buy-back pages read through the driver itself (portal/db.py driver_rows), with
    the values their statements bind themselves (a traded service, a published offer)
    converted as SQLAlchemy converts them: each value as SQLAlchemy's own results give it,
    of the same type. The year's offer with last year's; a school's windows, with names and
    pupils on roll or without; a submitted school's answers, with what was sent or not."""
    from portal.db import driver_rows

    def same(statement, params) -> list:
        ours = driver_rows(statement, params)
        theirs = db.session.connection().execute(statement, params).all()
        assert [[(value, type(value)) for value in row] for row in ours] == [
            [(value, type(value)) for value in row] for row in theirs
        ]
        return ours

    school = oakfield(session)
    with app.test_request_context():
        window = current_window(school)
        assert window is not None
        offer_rows = same(
            buyback_offer._year_query(), {"year": window.year, "last_year": window.year - 1}
        )
        assert len(offer_rows) > 10
        assert any(row[9] is not None for row in offer_rows)  # last year's offers
        submitted = session.scalars(
            select(BuybackChoice).where(
                BuybackChoice.window_id == window.id, BuybackChoice.submissions.any()
            )
        ).first()
        for names in (True, False):
            for rolls in (True, False):
                read = same(windows_statement(names, rolls), {"school_id": submitted.school_id})
                assert any(row[11] is not None for row in read)  # a latest submission
        answers = {"window": window.id, "school": submitted.school_id}
        answered = same(answers_query(), answers)
        assert len(answered) > 10 and any(row[_SENT] is not None for row in answered)
        assert len(same(answers_query(False), answers)) == len(answered)
        # The forms' (offered_to: submitting, saving a category), with and without last
        # year's offers, and a category's with a list of other services, one a slot.
        params = _year_and_school(window.year, school)
        for shape in (_Wanted(last_year=False), _Wanted(last_year=True)):
            forms = same(_offered_query(shape), params)
            assert [list(row[:9]) for row in forms] == [list(row[:9]) for row in offer_rows]
        others = [row[SERVICE] for row in offer_rows[: _ALSO_SLOTS + 1]]
        for also in (others, others[:1]):
            slots, listed = _also(also)
            category = {"category": offer_rows[-1][CATEGORY]} | listed | params
            shape = _Wanted(last_year=True, category=True, also=slots)
            assert {row[SERVICE] for row in same(_offered_query(shape), category)} >= set(also)


def test_a_draft_says_who_saved_it(client_for, session, clock) -> None:
    """The task list names who last saved a draft not yet submitted (read as a name with
    the windows, not as the person's record)."""
    school = oakfield(session)
    head, staff = client_for("head_teacher"), client_for("school_staff")
    change_first_answer(staff, school.id)
    text = choice_page(head, school.id).get_text(" ", strip=True)
    assert "Draft saved by Sol Demo-Staff on " in text
    assert "Not yet submitted." in text
