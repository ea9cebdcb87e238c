"""Publishing the offer: services, each year's draft, its prices, publish and withdraw.

About 400 lines: an offer's publishing steps (draft, checked, published, withdrawn) and the
checks between them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from portal import audit
from portal.access import Principal, editable_offer_scope
from portal.clock import utcnow
from portal.db import db
from portal.models import (
    Audience,
    OfferStatus,
    PriceOption,
    PricingBasis,
    Service,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
    User,
)
from portal.pricing import PriceRule, uplift_rule, validate


class PublishingError(Exception):
    """A step the offer is not ready for, in words for the publisher."""


@dataclass(frozen=True)
class ServiceDetails:
    name: str
    category_id: int
    kind: ServiceKind
    summary: str
    included: str
    standards: str | None
    statutory_duties: str | None
    provider_team: str
    contact_email: str
    contact_phone: str | None
    eligible: tuple[str, ...]
    phases: tuple[str, ...]


def _service_values(service: Service) -> dict[str, Any]:
    values = {f.name: getattr(service, f.name) for f in fields(ServiceDetails)}
    values["kind"] = service.kind.value if service.kind else None
    values["eligible"] = sorted(service.eligible or [])
    values["phases"] = sorted(service.phases or [])
    return values


def _apply(service: Service, details: ServiceDetails) -> None:
    for f in fields(ServiceDetails):
        value = getattr(details, f.name)
        setattr(service, f.name, list(value) if isinstance(value, tuple) else value)


def save_service(service: Service | None, details: ServiceDetails, actor: User) -> Service:
    """Create a service, or change one; audited with what changed from what."""
    if service is None:
        service = Service()
        _apply(service, details)
        db.session.add(service)
        db.session.flush()
        audit.record(
            "service.created", actor=actor, subject=service, values=_service_values(service)
        )
    else:
        before = _service_values(service)
        _apply(service, details)
        after = _service_values(service)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            audit.record("service.updated", actor=actor, subject=service, changes=changes)
    db.session.commit()
    return service


def start_offer(service: Service, year: int, actor: User) -> ServiceOffer:
    """A draft offer for the year (an existing one is returned unchanged)."""
    for offer in service.offers:
        if offer.year == year:
            return offer
    had_last_year = any(o.year == year - 1 for o in service.offers)
    offer = ServiceOffer(
        service=service,
        year=year,
        status=OfferStatus.DRAFT,
        decision=TradingDecision.CONTINUE if had_last_year else TradingDecision.NEW,
    )
    db.session.add(offer)
    db.session.flush()
    audit.record("offer.created", actor=actor, subject=offer, service=service.name, year=year)
    db.session.commit()
    return offer


VAT_WHILE_PUBLISHED = (
    "Withdraw the offer before changing whether VAT applies: schools have been shown its prices"
)


def update_offer(offer: ServiceOffer, decision: TradingDecision, vat: bool, actor: User) -> None:
    # VAT changes every price a school sees, so it is a price change: a published offer's
    # prices stand until the offer is withdrawn (see _editable).
    _lock(offer)
    if offer.vat_applies != vat and offer.status is OfferStatus.PUBLISHED:
        raise PublishingError(VAT_WHILE_PUBLISHED)
    changes = {}
    if offer.decision != decision:
        changes["decision"] = [offer.decision.value, decision.value]
        offer.decision = decision
    if offer.vat_applies != vat:
        changes["vat_applies"] = [offer.vat_applies, vat]
        offer.vat_applies = vat
    if changes:
        audit.record("offer.updated", actor=actor, subject=offer, changes=changes)
    db.session.commit()


def _editable(offer: ServiceOffer) -> None:
    _lock(offer)
    if offer.status is OfferStatus.PUBLISHED:
        raise PublishingError("Withdraw the offer before changing its prices")


def _lock(offer: ServiceOffer) -> None:
    """Read the offer's status and VAT again, its row locked until this change is committed.

    A published offer's prices never change (pages keep them by publication:
    portal/services/offers.py), so a change is checked against the offer as it is now, not
    as the page read it a moment ago; and nobody publishes it while the change is made.
    """
    db.session.refresh(offer, ["status", "vat_applies"], with_for_update=True)


@dataclass(frozen=True)
class OptionDetails:
    name: str
    basis: PricingBasis
    audience: Audience
    amount_pence: int
    per_pupil_pence: int
    unit: str | None
    minimum_pence: int | None
    rates: dict[str, Any]


def _option_values(option: PriceOption) -> dict[str, Any]:
    return {
        "name": option.name,
        "basis": option.basis.value,
        "audience": option.audience.value,
        "amount_pence": option.amount_pence,
        "per_pupil_pence": option.per_pupil_pence,
        "unit": option.unit,
        "minimum_pence": option.minimum_pence,
        "rates": option.rates,
    }


def save_option(
    offer: ServiceOffer, option: PriceOption | None, details: OptionDetails, actor: User
) -> PriceOption:
    _editable(offer)
    before = _option_values(option) if option is not None else None
    if option is None:
        option = PriceOption(offer=offer, position=len(offer.options))
        db.session.add(option)
    for name, value in vars(details).items():
        setattr(option, name, value)
    db.session.flush()
    after = _option_values(option)
    if before is None:
        audit.record("price_option.created", actor=actor, subject=option, values=after)
    else:
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            audit.record("price_option.updated", actor=actor, subject=option, changes=changes)
    db.session.commit()
    return option


def delete_option(offer: ServiceOffer, option: PriceOption, actor: User) -> None:
    _editable(offer)
    audit.record("price_option.deleted", actor=actor, subject=option, values=_option_values(option))
    offer.options.remove(option)
    db.session.commit()


def problems(offer: ServiceOffer) -> list[str]:
    """Why the offer cannot be published yet; empty when it can."""
    found = []
    if offer.service.kind is ServiceKind.TRADED and not offer.options:
        found.append("Add at least one price option: this is a traded service")
    if offer.decision is TradingDecision.CEASED:
        found.append("A ceased service is not offered: change the trading decision to publish it")
    for option in offer.options:
        for problem in validate(PriceRule.from_option(option, vat=offer.vat_applies)):
            found.append(f"{option.name}: {problem}")
    return found


def publish(offer: ServiceOffer, actor: User) -> None:
    # The prices checked are the prices published: none is changed meanwhile.
    _lock(offer)
    found = problems(offer)
    if found:
        raise PublishingError("; ".join(found))
    _publish(offer, actor)
    db.session.commit()


def _publish(offer: ServiceOffer, actor: User) -> None:
    offer.status = OfferStatus.PUBLISHED
    offer.published_at = utcnow()
    audit.record("offer.published", actor=actor, subject=offer, year=offer.year)


# --- a year's drafts, checked and published together --------------------------------------------


@dataclass(frozen=True)
class DraftCheck:
    """A draft offer and what stops it being published (nothing, when it is ready)."""

    offer: ServiceOffer
    problems: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Drafts:
    """A year's draft offers as their publisher checks them, service by service."""

    years: tuple[int, ...]  # every year with a draft ``who`` may publish, newest first
    year: int | None  # the year shown; None when there are no drafts at all
    to_publish: tuple[DraftCheck, ...]
    # Drafts that record a service stopping: kept, never published (see problems()).
    ceased: tuple[ServiceOffer, ...]

    @property
    def ready(self) -> tuple[DraftCheck, ...]:
        return tuple(check for check in self.to_publish if check.ready)


def _offers_of_services() -> Select[tuple[ServiceOffer]]:
    return (
        select(ServiceOffer)
        .join(ServiceOffer.service)
        .options(contains_eager(ServiceOffer.service))
        .order_by(Service.name, ServiceOffer.id)
    )


def drafts(who: Principal, year: int | None) -> Drafts:
    """The draft offers of ``year`` (or of the latest year with any) that ``who`` may publish,
    each checked as publishing it would check it."""
    scope = editable_offer_scope(who)
    years = tuple(
        db.session.scalars(
            select(ServiceOffer.year)
            .where(ServiceOffer.status == OfferStatus.DRAFT, scope)
            .distinct()
            .order_by(ServiceOffer.year.desc())
        )
    )
    shown = year if year in years else (years[0] if years else None)
    if shown is None:
        return Drafts(years=(), year=None, to_publish=(), ceased=())
    offers = db.session.scalars(
        _offers_of_services().where(
            ServiceOffer.year == shown, ServiceOffer.status == OfferStatus.DRAFT, scope
        )
    ).all()
    return Drafts(
        years=years,
        year=shown,
        to_publish=tuple(
            DraftCheck(offer, tuple(problems(offer)))
            for offer in offers
            if offer.decision is not TradingDecision.CEASED
        ),
        ceased=tuple(offer for offer in offers if offer.decision is TradingDecision.CEASED),
    )


@dataclass(frozen=True)
class PublishResult:
    """What publishing several offers at once did: which were published, and which were
    not and why, in the order of their services' names."""

    published: tuple[ServiceOffer, ...]
    refused: tuple[DraftCheck, ...]


ALREADY_PUBLISHED = "It is already published"
WITHDRAWN = "It was withdrawn: publish it again from its own page once you have checked it"


def publish_many(who: Principal, offer_ids: Collection[int]) -> PublishResult:
    """Publish each of the offers that is ready, checked and audited as publishing one is;
    refuse the rest with the reasons. Offers ``who`` may not edit are not found."""
    offers = db.session.scalars(
        _offers_of_services()
        .where(ServiceOffer.id.in_(set(offer_ids)), editable_offer_scope(who))
        # Two publishers at once publish (and audit) each offer once.
        .with_for_update(of=ServiceOffer)
    ).all()
    published: list[ServiceOffer] = []
    refused: list[DraftCheck] = []
    for offer in offers:
        if offer.status is OfferStatus.PUBLISHED:
            found = [ALREADY_PUBLISHED]
        elif offer.status is OfferStatus.WITHDRAWN:
            found = [WITHDRAWN]
        else:
            found = problems(offer)
        if found:
            refused.append(DraftCheck(offer, tuple(found)))
        else:
            _publish(offer, who.user)
            published.append(offer)
    db.session.commit()
    return PublishResult(published=tuple(published), refused=tuple(refused))


def withdraw(offer: ServiceOffer, actor: User) -> None:
    if offer.status is OfferStatus.PUBLISHED:
        offer.status = OfferStatus.WITHDRAWN
        audit.record("offer.withdrawn", actor=actor, subject=offer, year=offer.year)
        db.session.commit()


def copy_year(from_year: int, uplift_percent: Decimal, actor: User) -> int:
    """Draft next year's offer from this year's, every price uplifted by the percentage.

    Ceased services are left behind, and a service that already has next year's offer
    keeps it. Returns how many offers were drafted.
    """
    to_year = from_year + 1
    sources = db.session.scalars(
        select(ServiceOffer).where(
            ServiceOffer.year == from_year,
            ServiceOffer.status == OfferStatus.PUBLISHED,
            ServiceOffer.decision != TradingDecision.CEASED,
        )
    ).all()
    already = set(
        db.session.scalars(select(ServiceOffer.service_id).where(ServiceOffer.year == to_year))
    )
    drafted = 0
    for source in sources:
        if source.service_id in already:
            continue
        offer = ServiceOffer(
            service_id=source.service_id,
            year=to_year,
            status=OfferStatus.DRAFT,
            decision=TradingDecision.REPRICED if uplift_percent else TradingDecision.CONTINUE,
            vat_applies=source.vat_applies,
        )
        for option in source.options:
            rule = uplift_rule(
                PriceRule.from_option(option, vat=source.vat_applies), uplift_percent
            )
            offer.options.append(
                PriceOption(
                    position=option.position,
                    name=option.name,
                    basis=option.basis,
                    audience=option.audience,
                    amount_pence=rule.amount_pence,
                    per_pupil_pence=rule.per_pupil_pence,
                    unit=option.unit,
                    minimum_pence=rule.minimum_pence,
                    rates=rule.to_rates(),
                )
            )
        db.session.add(offer)
        drafted += 1
    audit.record(
        "offer.year_copied",
        actor=actor,
        from_year=from_year,
        to_year=to_year,
        uplift_percent=str(uplift_percent),
        drafted=drafted,
    )
    db.session.commit()
    return drafted
