"""The support pages' repeated markup, written out in Python rather than drawn by Jinja.

The queue's 25 rows drawn by the template were about a fifth of the page's cost: every cell
a Jinja attribute look-up on a row, an escape and, for the link, a whole ``url_for``. Here each
row is one string of fixed markup, the text cells escaped as Jinja would escape them;
tests/support/test_support.py keeps the rows the same as the template drew them. Nothing here
is kept between requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import current_app
from markupsafe import Markup, escape

from portal.clock import long_date
from portal.components import MOST_HELD
from portal.links import link_for_each
from portal.models import SupportKind, SupportStatus, Urgency
from portal.support.officer_forms import AssignForm, UnsentAssignForm, UnsentUpdateForm, UpdateForm
from portal.support.queue import STATUS_COLOURS, timeliness

_NOBODY = '<td class="govuk-table__cell">Nobody yet</td>'

# What never changes between rows: each status's tag, each kind's and urgency's words.
STATUS_TAGS = {
    status: Markup('<strong class="govuk-tag govuk-tag--{}">{}</strong>').format(
        colour, status.label
    )
    for status, colour in STATUS_COLOURS.items()
}
_KINDS = {kind: Markup.escape(kind.label) for kind in SupportKind}
_URGENCIES = {urgency: Markup.escape(urgency.label) for urgency in Urgency}
TIMELINESS_TAGS = {
    None: Markup(""),
    "overdue": Markup('<strong class="govuk-tag govuk-tag--red">Overdue</strong>'),
    "due": Markup('<strong class="govuk-tag govuk-tag--orange">Due today</strong>'),
}


def queue_rows_html(
    items: Iterable[Any], *, today: date, viewer_id: int, is_officer: bool
) -> Markup:
    """The queue table's body rows for ``items`` (support.queue.queue's rows): reference
    (linked to the request), school, support, urgency, status, who has it (officers only,
    ``viewer_id`` read as "you") and the respond-by date with its tag if due or overdue."""
    link = link_for_each("support.show", "request_id")
    rows = []
    # Each date written once: the queue's rows, in order of their dates, share a few.
    dates: dict[date, str] = {}
    for item in items:
        respond_by = dates.get(item.respond_by)
        if respond_by is None:
            respond_by = dates[item.respond_by] = long_date(item.respond_by)
        # escape() and a plain string, rather than Markup.format: the formatter is written
        # in Python and costs several times as much for the same markup.
        if not is_officer:
            officer = ""
        elif item.assigned_officer_id is None:
            officer = _NOBODY
        elif item.assigned_officer_id == viewer_id:
            officer = f'<td class="govuk-table__cell">{escape(item.officer)} (you)</td>'
        else:
            officer = f'<td class="govuk-table__cell">{escape(item.officer)}</td>'
        rows.append(
            '<tr class="govuk-table__row">'
            f'<td class="govuk-table__cell"><a class="govuk-link" href="{link(item.id)}">'
            f"{escape(item.reference)}</a></td>"
            f'<td class="govuk-table__cell">{escape(item.school_name)}</td>'
            f'<td class="govuk-table__cell">{_KINDS[item.kind]}</td>'
            f'<td class="govuk-table__cell">{_URGENCIES[item.urgency]}</td>'
            f'<td class="govuk-table__cell">{STATUS_TAGS[item.status]}</td>'
            f"{officer}"
            f'<td class="govuk-table__cell">{respond_by} '
            f"{TIMELINESS_TAGS[timeliness(item, today)]}</td>"
            "</tr>"
        )
    # Safe: every value in the rows is escaped above, or is the portal's own fixed markup.
    return Markup("".join(rows))  # noqa: S704


# Each status's update form fields as first shown, drawn once. A form nobody has posted to
# holds nothing but its status's choices and its defaults, all the portal's own words (the
# CSRF token and the version are drawn beside the fields, on each request), so the drawing is
# a function of the status alone and cannot be stale. Anything posted (a note, a date, an
# error) is drawn afresh and never kept.
_blank_update_fields: dict[SupportStatus, Markup] = {}


def update_fields_html(form: UpdateForm | UnsentUpdateForm) -> Markup:
    """The fields of the officer's update ``form`` (templates/support/_update_fields.html),
    drawn once for each status while nothing has been posted to it."""
    if isinstance(form, UpdateForm) and (
        form.errors or any(field.raw_data is not None for field in form)
    ):
        return _draw_update_fields(form)
    drawn = _blank_update_fields.get(form.status)
    if drawn is None:
        first_shown = form if isinstance(form, UpdateForm) else UpdateForm(status=form.status)
        drawn = _blank_update_fields[form.status] = _draw_update_fields(first_shown)
    return drawn


def _draw_update_fields(form: UpdateForm) -> Markup:
    template = current_app.jinja_env.get_template("support/_update_fields.html")
    drawn: Markup = template.module.update_fields(form)
    return drawn


# The assign form's fields as first shown, drawn once for each set of officers the request may
# be given to, whom it is with and its area's name: all that the drawing shows (the officers'
# ids and names, which one is chosen, the area in the hint), so a renamed officer or area, or
# an officer who joins or leaves, is a new key, and a drawing kept can never be stale. The
# database's shared facts, nothing anyone typed; a form posted to is drawn afresh, never kept.
_blank_assign_fields: dict[tuple[Any, ...], Markup] = {}


def assign_fields_html(form: AssignForm | UnsentAssignForm, area_name: str) -> Markup:
    """The fields of the form that gives a request to an officer
    (templates/support/_assign_fields.html), drawn once for each choice while nothing has
    been posted to it."""
    if isinstance(form, AssignForm):
        return _draw_assign_fields(form, area_name)
    key = (form.officers, form.current, area_name)
    drawn = _blank_assign_fields.get(key)
    if drawn is None:
        if len(_blank_assign_fields) >= MOST_HELD:
            _blank_assign_fields.clear()
        drawn = _blank_assign_fields[key] = _draw_assign_fields(form.form(), area_name)
    return drawn


def _draw_assign_fields(form: AssignForm, area_name: str) -> Markup:
    template = current_app.jinja_env.get_template("support/_assign_fields.html")
    drawn: Markup = template.module.assign_fields(form, area_name)
    return drawn
