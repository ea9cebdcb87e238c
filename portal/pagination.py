"""Every list is paged: one count query and one page query, whatever the data's size (or one
query that does both, for the lists people page through while they wait)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Row, Select, Subquery, bindparam, func, literal_column, select

from portal.db import db, driver_records

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)


# Far beyond any list's last page: a number above it is a page past the end.
MAX_PAGE = 1_000_000


def paginate(query: Select[tuple[T]], number: int, per_page: int) -> Page[T]:
    """The ``number``th page of ``query`` (pages count from 1; out-of-range pages clamp)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = int(total or 0)
    number = _clamp(number, total, per_page)
    items = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=items, number=number, per_page=per_page, total=total)


@dataclass(frozen=True)
class PagedQuery:
    """The statements of :func:`paginate_rows` for a query: its first page of rows with their
    count, any later page (its offset bound as ``page_offset``), and the count alone, for
    pages of ``per_page`` rows. Made once for a query made once, they cost only their
    parameters to run again."""

    first: Select[Any]
    page: Select[Any]
    count: Select[Any]
    per_page: int

    @classmethod
    def of(
        cls,
        counted: Select[Any],
        count: Select[Any],
        per_page: int,
        rows: Callable[[Subquery], Select[Any]] | None = None,
    ) -> PagedQuery:
        """The statements for ``counted`` (ordered, with its ``total`` column) and ``count``.

        The page's size is written into the SQL and the first page has no offset: with
        either bound, PostgreSQL costs a prepared statement's one plan for any size and
        offset as far dearer than the plan for the values sent, and so plans it afresh each
        time it runs (the officer's queue: 0.13 ms of planning in a 0.4 ms statement,
        measured). Written in, the first page, the one people open, is planned once per
        connection."""
        size = literal_column(str(int(per_page)))
        first = counted.limit(size)
        later = counted.limit(size).offset(bindparam("page_offset"))
        if rows is not None:
            first, later = rows(first.subquery()), rows(later.subquery())
        return cls(first, later, count, per_page)


def paged(
    query: Select[Any], per_page: int, rows: Callable[[Subquery], Select[Any]] | None = None
) -> PagedQuery:
    """The statements that page ``query`` (ordered) ``per_page`` rows at a time: a page of
    it, each row counting all of them (``total``, a window); given ``rows``, the page as a
    subquery from which ``rows`` selects what the page shows, in the same order, with its
    ``total`` column. And its count alone."""
    return PagedQuery.of(
        query.add_columns(func.count().over().label("total")),
        select(func.count()).select_from(query.order_by(None).subquery()),
        per_page,
        rows,
    )


def paginate_rows(
    query: Select[Any],
    number: int,
    per_page: int,
    rows: Callable[[Subquery], Select[Any]] | None = None,
) -> Page[Row[Any]]:
    """As :func:`paginate`, in one round trip rather than two: the page and its count in one
    query (:func:`paged`)."""
    return paginate_paged(paged(query, per_page, rows), number)


def paginate_paged(
    statements: PagedQuery,
    number: int,
    params: dict[str, Any] | None = None,
    *,
    made_once: bool = False,
) -> Page[Any]:
    """The ``number``th page of what ``statements`` page, with ``params`` bound. A page past
    the last (fewer rows now than when its link was drawn) costs a count and the last page,
    as :func:`paginate` would have shown. ``made_once``: the statements are made once and
    kept (not per request), so the page is read by the driver itself (db.driver_records)."""
    per_page = statements.per_page

    def rows_of(n: int) -> Sequence[Any]:
        statement = statements.first if n == 1 else statements.page
        bound = {**(params or {}), "page_offset": (n - 1) * per_page}
        if made_once:
            return driver_records(statement, bound)
        return db.session.execute(statement, bound).all()

    # A page number past any list's end (typed into the address) is taken as the last page
    # with its count, below; capped first so that its offset fits the database's integers.
    number = min(max(1, number), MAX_PAGE)
    found = rows_of(number)
    if found:
        total = int(found[0].total)
    elif number == 1:
        total = 0
    else:
        total = int(db.session.scalar(statements.count, params or {}) or 0)
        number = _clamp(number, total, per_page)
        found = rows_of(number) if total else []
    return Page(items=found, number=number, per_page=per_page, total=total)


def page_of(items: Sequence[T], number: int, per_page: int) -> Page[T]:
    """As ``paginate``, for rows already worked out (a report's lists)."""
    number = _clamp(number, len(items), per_page)
    start = (number - 1) * per_page
    rows = items[start : start + per_page]
    return Page(items=rows, number=number, per_page=per_page, total=len(items))


def _clamp(number: int, total: int, per_page: int) -> int:
    return min(max(1, number), max(1, ceil(total / per_page)))


def pagination_params(page: Page[Any], url_for_page: Any) -> dict[str, Any]:
    """Parameters for the GOV.UK pagination macro; ``url_for_page(n)`` builds each link."""
    params: dict[str, Any] = {"items": []}
    if page.has_previous:
        params["previous"] = {"href": url_for_page(page.number - 1)}
    if page.has_next:
        params["next"] = {"href": url_for_page(page.number + 1)}
    for n in range(1, page.pages + 1):
        # First, last, and the neighbours of the current page; ellipses between.
        if n in (1, page.pages) or abs(n - page.number) <= 1:
            params["items"].append(
                {"number": n, "href": url_for_page(n), "current": n == page.number}
            )
        elif params["items"] and not params["items"][-1].get("ellipsis"):
            params["items"].append({"ellipsis": True})
    return params
