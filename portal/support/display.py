"""The support pages' repeated markup, written out in Python rather than drawn by Jinja.

The queue's 25 rows drawn by the template were about a fifth of the page's cost: every cell
a Jinja attribute look-up on a row, an escape and, for the link, a whole ``url_for``. Here each
row is one string of fixed markup, the text cells escaped as Jinja would escape them;
tests/test_support.py keeps the rows the same as the template drew them. Nothing here is kept
between requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from portal.models import SupportKind, Urgency
from portal.support.service import STATUS_COLOURS, timeliness
from portal.templating import link_for_each, long_date

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
    """The queue table's body rows for ``items`` (support.service.queue's rows): reference
    (linked to the request), school, support, urgency, status, who has it (officers only,
    ``viewer_id`` read as "you") and the respond-by date with its tag if due or overdue."""
    link = link_for_each("support.show", "request_id")
    rows = []
    for item in items:
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
            f'<td class="govuk-table__cell">{long_date(item.respond_by)} '
            f"{TIMELINESS_TAGS[timeliness(item, today)]}</td>"
            "</tr>"
        )
    # Safe: every value in the rows is escaped above, or is the portal's own fixed markup.
    return Markup("".join(rows))  # noqa: S704
