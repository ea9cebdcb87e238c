"""The support pages' repeated markup, written out in Python rather than drawn by Jinja.

The queue's 25 rows drawn by the template were about a fifth of the page's cost: every cell
a Jinja attribute look-up on a row, an escape and, for the link, a whole ``url_for``. Here each
row is one format of a fixed string; the text cells are escaped by ``Markup.format`` as Jinja
would escape them. tests/test_support.py keeps the rows the same as the template drew them.
Nothing here is kept between requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from markupsafe import Markup

from portal.models import SupportKind, SupportStatus, Urgency
from portal.support.service import STATUS_COLOURS, timeliness
from portal.templating import link_for_each, long_date

_ROW = Markup(
    '<tr class="govuk-table__row">'
    '<td class="govuk-table__cell"><a class="govuk-link" href="{href}">{reference}</a></td>'
    '<td class="govuk-table__cell">{school}</td>'
    '<td class="govuk-table__cell">{kind}</td>'
    '<td class="govuk-table__cell">{urgency}</td>'
    '<td class="govuk-table__cell">{status}</td>'
    "{officer}"
    '<td class="govuk-table__cell">{respond_by} {when}</td>'
    "</tr>"
)
_OFFICER = Markup('<td class="govuk-table__cell">{}</td>')
_YOU = Markup('<td class="govuk-table__cell">{} (you)</td>')
_NOBODY = Markup('<td class="govuk-table__cell">Nobody yet</td>')

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
        if not is_officer:
            officer: Markup | str = ""
        elif item.assigned_officer_id is None:
            officer = _NOBODY
        elif item.assigned_officer_id == viewer_id:
            officer = _YOU.format(item.officer)
        else:
            officer = _OFFICER.format(item.officer)
        rows.append(
            _ROW.format(
                href=link(item.id),
                reference=item.reference,
                school=item.school_name,
                kind=_KINDS[item.kind],
                urgency=_URGENCIES[item.urgency],
                status=STATUS_TAGS[SupportStatus(item.status)],
                officer=officer,
                respond_by=long_date(item.respond_by),
                when=TIMELINESS_TAGS[timeliness(item, today)],
            )
        )
    return Markup("").join(rows)
