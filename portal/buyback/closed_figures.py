"""A closed window's figures, kept as they stood after its deadline (``BuybackWindowFigures``),
and ``window_figures``, the one place a window's figures come from: those kept for a closed
window, those counted now (portal.buyback.figures) for an open or upcoming one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal import clock
from portal.buyback.figures import (
    GroupTakeUp,
    Reading,
    Return,
    ReturnState,
    WindowFigures,
    count_figures,
)
from portal.db import db
from portal.models import BuybackWindow, BuybackWindowFigures


def window_figures(
    windows: Sequence[BuybackWindow], reading: Reading | None = None
) -> dict[int, WindowFigures]:
    """Each window's figures by its id: a closed window's as kept (kept now, the first time
    they are asked for after its deadline), an open or upcoming window's as they stand.
    Every page that shows a window's figures has them from here. ``reading``: what the
    caller has read already (its offers, for the costs; the schools)."""
    if reading is None:
        reading = Reading.of(w.year for w in windows)
    at = clock.now()
    closed = {w.id for w in windows if w.state(at) == "closed"}
    figures = _kept({w.id: w for w in windows if w.id in closed})
    counting = [w for w in windows if w.id not in figures]
    if counting:
        counted = count_figures(counting, reading)
        newly = [counted[w.id] for w in counting if w.id in closed]
        if newly:
            figures.update((f.window.id, f) for f in _keep(newly, at))
            # At once, whoever asked: the next page must read the figures this one showed.
            db.session.commit()
        figures.update((k, v) for k, v in counted.items() if k not in figures)
    return figures


def keep_closed_windows() -> int:
    """Keep the figures of every window past its deadline that has none kept for it, as
    they stand now; the caller commits. Called before anything that could move them (a
    register import). Returns how many windows' figures were kept."""
    at = clock.now()
    waiting = db.session.scalars(
        select(BuybackWindow)
        .outerjoin(BuybackWindowFigures, BuybackWindowFigures.window_id == BuybackWindow.id)
        .where(
            BuybackWindow.closes_at <= at,
            or_(
                BuybackWindowFigures.window_id.is_(None),
                BuybackWindowFigures.closes_at != BuybackWindow.closes_at,
            ),
        )
    ).all()
    if waiting:
        counted = count_figures(waiting, Reading.of(w.year for w in waiting))
        _keep(list(counted.values()), at)
    return len(waiting)


def _kept(windows: Mapping[int, BuybackWindow]) -> dict[int, WindowFigures]:
    """The kept figures of these closed windows, those kept at their present deadline."""
    if not windows:
        return {}
    rows = db.session.execute(
        select(
            BuybackWindowFigures.window_id,
            BuybackWindowFigures.closes_at,
            BuybackWindowFigures.kept_at,
            BuybackWindowFigures.figures,
        ).where(BuybackWindowFigures.window_id.in_(list(windows)))
    )
    return {
        window_id: _decoded(windows[window_id], figures, kept_at)
        for window_id, closes_at, kept_at, figures in rows
        if closes_at == windows[window_id].closes_at
    }


def _keep(figures: list[WindowFigures], at: datetime) -> list[WindowFigures]:
    """Keep these closed windows' figures, in one statement. Figures kept at an earlier
    deadline are replaced; figures already kept at this one (by a page drawn at the same
    moment) stand."""
    table = BuybackWindowFigures.__table__
    rows = [
        {
            "window_id": f.window.id,
            "closes_at": f.window.closes_at,
            "kept_at": at,
            "figures": _encoded(f),
        }
        for f in figures
    ]
    insert = (
        postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    statement = insert(table).values(rows)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.window_id],
            set_={
                "closes_at": statement.excluded.closes_at,
                "kept_at": statement.excluded.kept_at,
                "figures": statement.excluded.figures,
            },
            where=table.c.closes_at != statement.excluded.closes_at,
        )
    )
    return [
        WindowFigures(f.window, f.returns, f.services, f.by_phase, f.by_type, kept_at=at)
        for f in figures
    ]


def _encoded(figures: WindowFigures) -> dict[str, Any]:
    def rows(found: list[GroupTakeUp]) -> list[list[Any]]:
        return [
            [r.group, r.service_id, r.service, r.eligible, r.buying, r.not_buying, r.income_pence]
            for r in found
        ]

    return {
        "returns": [
            [
                r.school_id,
                r.state.value,
                r.submitted_at.isoformat() if r.submitted_at else None,
                r.submissions,
            ]
            for r in figures.returns
        ],
        "services": rows(figures.services),
        "by_phase": rows(figures.by_phase),
        "by_type": rows(figures.by_type),
    }


def _decoded(window: BuybackWindow, kept: dict[str, Any], kept_at: datetime) -> WindowFigures:
    def rows(name: str) -> list[GroupTakeUp]:
        return [GroupTakeUp(*row) for row in kept[name]]

    return WindowFigures(
        window=window,
        returns=[
            Return(school_id, ReturnState(state), datetime.fromisoformat(at) if at else None, n)
            for school_id, state, at, n in kept["returns"]
        ],
        services=rows("services"),
        by_phase=rows("by_phase"),
        by_type=rows("by_type"),
        kept_at=kept_at,
    )
