"""What the council's offer asks of those who publish it, on their home page: each year's
draft offers waiting to be published (schools see only published ones)."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, select

from portal.access import Capability, Principal, editable_offer_scope
from portal.clock import financial_year_label
from portal.db import db
from portal.models import OfferStatus, ServiceOffer, TradingDecision
from portal.pricing import plural
from portal.todo import ToDo, ToDoList


def home_tasks(who: Principal) -> ToDoList | None:
    if not who.can(Capability.EDIT_SERVICES):
        return None
    # The drafts page's "to publish": a draft recording that a service stops is never
    # published (publishing.problems), so it waits for nothing.
    rows = db.session.execute(
        select(ServiceOffer.year, func.count(ServiceOffer.id))
        .where(
            ServiceOffer.status == OfferStatus.DRAFT,
            ServiceOffer.decision != TradingDecision.CEASED,
            editable_offer_scope(who),
        )
        .group_by(ServiceOffer.year)
        .order_by(ServiceOffer.year.desc())
    ).all()
    return ToDoList(
        "Services",
        tuple(
            ToDo(
                f"{plural(count, 'draft offer')} for {financial_year_label(year)} to publish",
                url_for("services.drafts", year=year),
                hint="Schools see only published offers: check the drafts, then publish them "
                "together.",
            )
            for year, count in rows
        ),
    )
