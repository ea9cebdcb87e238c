"""The demo council's offer to schools: free and traded services over two financial years.

Prices follow the shapes of councils' real price lists (see the traded services reference
material): per school, per pupil by phase, bands, flat plus per pupil, per unit with tiers
and packs, minimum charges and separate academy prices.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from portal.db import db, utcnow
from portal.models import (
    Audience,
    OfferStatus,
    PriceOption,
    PricingBasis,
    School,
    SchoolRoll,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
)

B = PricingBasis
K = ServiceKind
LAST_YEAR, NEXT_YEAR = 2026, 2027

CATEGORIES = [
    "Admissions and transport",
    "Attendance and education social work",
    "Behaviour support",
    "Educational psychology",
    "Finance",
    "Governor services",
    "Health and safety",
    "Human resources",
    "ICT",
    "Music",
    "Outdoor education",
    "Payroll",
    "School improvement",
    "SEN support",
]


def option(name: str, basis: PricingBasis, **values: Any) -> dict[str, Any]:
    return {"name": name, "basis": basis, **values}


# name, category, kind, summary, included, eligible, phases, vat, options (this year), and how
# next year differs: ("uplift", percent) | ("repriced", options) | ("ceased",) | ("new",)
SERVICES: list[dict[str, Any]] = [
    dict(
        name="Home to school transport",
        category="Admissions and transport",
        kind=K.STATUTORY,
        summary="Free transport for eligible pupils to their nearest suitable school.",
        included="Assessing eligibility, arranging routes and passes, and travel training for pupils with SEND.",
        duties="Education Act 1996, sections 508A to 509AD.",
        options=[],
    ),
    dict(
        name="School admissions and appeals",
        category="Admissions and transport",
        kind=K.STATUTORY,
        summary="Co-ordinated admissions for community and voluntary controlled schools, and appeals.",
        included="The co-ordinated scheme, in-year admissions, and independent appeal panels.",
        duties="School Standards and Framework Act 1998; the School Admissions Code.",
        options=[],
    ),
    dict(
        name="Educational psychology: statutory assessment",
        category="Educational psychology",
        kind=K.STATUTORY,
        summary="Psychological advice for education, health and care needs assessments.",
        included="Advice within statutory timescales for every EHC needs assessment.",
        duties="Children and Families Act 2014, section 36.",
        options=[],
    ),
    dict(
        name="SEN monitoring and EHC plan reviews",
        category="SEN support",
        kind=K.STATUTORY,
        summary="Monitoring provision for pupils with EHC plans and attending annual reviews.",
        included="Annual review attendance where needed and support to amend plans.",
        duties="Children and Families Act 2014, Part 3.",
        options=[],
    ),
    dict(
        name="Prosecution for non-attendance",
        category="Attendance and education social work",
        kind=K.STATUTORY,
        summary="Legal action, penalty notices and prosecution where attendance does not improve.",
        included="Penalty notices, parenting orders and prosecutions under the council's code of conduct.",
        duties="Education Act 1996, section 444.",
        options=[],
    ),
    dict(
        name="Children missing education",
        category="Attendance and education social work",
        kind=K.STATUTORY,
        summary="Tracing children who leave a roll with no known destination.",
        included="Checks with other councils and agencies, and the deletion-from-roll notifications.",
        duties="Education Act 1996, section 436A.",
        options=[],
    ),
    dict(
        name="Designated safeguarding lead network",
        category="School improvement",
        kind=K.DISCRETIONARY,
        summary="Termly briefings and a network for designated safeguarding leads.",
        included="Three termly briefings, model policies and a yearly audit tool.",
        options=[],
    ),
    dict(
        name="Early years foundation stage moderation",
        category="School improvement",
        kind=K.DISCRETIONARY,
        summary="Statutory moderation of the EYFS profile, free to every school with a reception class.",
        included="Moderation visits on the statutory cycle and cluster meetings.",
        phases=["Primary", "All-through"],
        options=[],
    ),
    dict(
        name="Attendance and education social work",
        category="Attendance and education social work",
        kind=K.TRADED,
        summary="A named education social worker for persistent absence and family work.",
        included="Termly attendance reviews, home visits, and casework for persistently absent pupils.",
        options=[
            option(
                "Annual service",
                B.PER_PUPIL,
                per_pupil_pence=650,
                rates={"by_phase": {"Secondary": 720}},
            )
        ],
        next=("uplift", 3),
    ),
    dict(
        name="Behaviour support outreach",
        category="Behaviour support",
        kind=K.TRADED,
        summary="Specialist teachers supporting pupils at risk of exclusion.",
        included="Assessment, a support plan, and up to six sessions of in-class support per referral.",
        options=[
            option(
                "Support sessions",
                B.PER_UNIT,
                unit="session",
                amount_pence=18500,
                rates={"tiers": [{"from": 1, "pence": 18500}, {"from": 10, "pence": 16500}]},
            )
        ],
        next=("uplift", 2.5),
    ),
    dict(
        name="Educational psychology: traded time",
        category="Educational psychology",
        kind=K.TRADED,
        summary="Educational psychologist days beyond statutory work.",
        included="Consultation, assessment, training and critical incident support, planned with your link EP.",
        options=[
            option(
                "Days",
                B.PER_UNIT,
                unit="day",
                amount_pence=55000,
                rates={"tiers": [{"from": 1, "pence": 55000}, {"from": 10, "pence": 50000}]},
            ),
            option("Half days", B.PER_UNIT, unit="half day", amount_pence=30000),
        ],
        next=(
            "repriced",
            [
                option(
                    "Days",
                    B.PER_UNIT,
                    unit="day",
                    amount_pence=57500,
                    rates={"tiers": [{"from": 1, "pence": 57500}, {"from": 10, "pence": 52000}]},
                ),
                option("Half days", B.PER_UNIT, unit="half day", amount_pence=31500),
            ],
        ),
    ),
    dict(
        name="Education financial services",
        category="Finance",
        kind=K.TRADED,
        summary="Budget setting, monitoring and year-end support for maintained schools.",
        included="A named finance officer, three budget monitoring visits and year-end closedown.",
        eligible=["maintained"],
        options=[
            option(
                "Annual subscription",
                B.BANDED,
                rates={
                    "bands": [
                        {"from": 0, "to": 50, "pence": 169320},
                        {"from": 51, "to": 150, "pence": 211956},
                        {"from": 151, "to": 300, "pence": 304674},
                        {"from": 301, "to": 1000, "pence": 360366},
                        {"from": 1001, "to": None, "pence": 530400},
                    ]
                },
            )
        ],
        next=("uplift", 4),
    ),
    dict(
        name="Payroll",
        category="Payroll",
        kind=K.TRADED,
        summary="Monthly payroll for all school staff, pensions and year-end returns.",
        included="Monthly pay runs, pension returns to the LGPS and Teachers' Pensions, P60s and HMRC returns.",
        vat=True,
        options=[
            option(
                "Per employee paid", B.PER_UNIT, unit="post", amount_pence=2601, minimum_pence=30600
            ),
            option(
                "Academy payroll",
                B.FLAT_PLUS_PER_PUPIL,
                audience=Audience.ACADEMIES,
                amount_pence=95000,
                per_pupil_pence=310,
            ),
        ],
        next=("uplift", 3),
    ),
    dict(
        name="HR advisory service",
        category="Human resources",
        kind=K.TRADED,
        summary="Advice on employment matters, casework support and model policies.",
        included="A telephone helpline, casework support for discipline, grievance and capability, and model policies.",
        options=[
            option(
                "Maintained schools",
                B.FLAT_PLUS_PER_PUPIL,
                audience=Audience.MAINTAINED,
                amount_pence=80000,
                per_pupil_pence=450,
            ),
            option(
                "Academies",
                B.FLAT_PLUS_PER_PUPIL,
                audience=Audience.ACADEMIES,
                amount_pence=95000,
                per_pupil_pence=480,
            ),
        ],
        next=("uplift", 3),
    ),
    dict(
        name="Employee assistance programme",
        category="Human resources",
        kind=K.TRADED,
        summary="Confidential counselling and advice for school staff, day and night.",
        included="A 24-hour helpline, up to six counselling sessions per person a year, and manager support.",
        options=[
            option(
                "Maintained schools",
                B.PER_UNIT,
                audience=Audience.MAINTAINED,
                unit="employee",
                amount_pence=633,
            ),
            option(
                "Academies",
                B.PER_UNIT,
                audience=Audience.ACADEMIES,
                unit="employee",
                amount_pence=643,
            ),
        ],
        next=("uplift", 2),
    ),
    dict(
        name="Governor services",
        category="Governor services",
        kind=K.TRADED,
        summary="Clerking, training and advice for governing boards.",
        included="A clerk for three full board meetings, governor training programme and a helpline.",
        options=[
            option(
                "Clerking and training",
                B.BANDED,
                rates={
                    "bands": [
                        {"from": 0, "to": 100, "pence": 76500},
                        {"from": 101, "to": None, "pence": 122400},
                    ]
                },
            )
        ],
        next=("uplift", 3),
    ),
    dict(
        name="Governor training only",
        category="Governor services",
        kind=K.TRADED,
        summary="Access for all governors to the council's training programme.",
        included="Every course in the governor training programme, online and in person.",
        options=[option("Annual access", B.PER_SCHOOL, amount_pence=42000)],
        next=("ceased",),
    ),
    dict(
        name="Health and safety advice",
        category="Health and safety",
        kind=K.TRADED,
        summary="Competent health and safety advice, audits and training.",
        included="An audit every two years, a helpline, model policies and accident investigation support.",
        options=[option("Annual service", B.PER_PUPIL, per_pupil_pence=320, minimum_pence=45000)],
        next=("uplift", 3),
    ),
    dict(
        name="Fire risk assessment",
        category="Health and safety",
        kind=K.TRADED,
        summary="A fire risk assessment of your site by a qualified assessor.",
        included="A site visit, a written assessment and an action plan.",
        vat=True,
        options=[option("Assessment", B.PER_SCHOOL, amount_pence=39500)],
        next=("uplift", 0),
    ),
    dict(
        name="ICT technical support",
        category="ICT",
        kind=K.TRADED,
        summary="On-site technician time and a remote service desk.",
        included="Service desk 8am to 5pm, remote fixes, and technician visits from the pack bought.",
        vat=True,
        options=[
            option(
                "Technician visits",
                B.PER_UNIT,
                unit="visit",
                amount_pence=190000,
                rates={"pack_size": 10},
            ),
            option("Service desk", B.PER_PUPIL, per_pupil_pence=550),
        ],
        next=("uplift", 3.5),
    ),
    dict(
        name="Broadband and filtering",
        category="ICT",
        kind=K.TRADED,
        summary="Managed broadband with web filtering that meets the DfE's standards.",
        included="A managed line, filtering and monitoring, and a firewall.",
        vat=True,
        options=[
            option(
                "Annual service",
                B.BANDED,
                rates={
                    "bands": [
                        {"from": 0, "to": 210, "pence": 210000},
                        {"from": 211, "to": 600, "pence": 295000},
                        {"from": 601, "to": None, "pence": 480000},
                    ]
                },
            )
        ],
        next=("uplift", 2),
    ),
    dict(
        name="Music service: whole class ensemble teaching",
        category="Music",
        kind=K.TRADED,
        summary="A term of whole class instrumental teaching with specialist teachers.",
        included="Weekly lessons for one class, instruments on loan, and a concert.",
        phases=["Primary", "All-through", "Middle deemed primary"],
        options=[option("Per class per term", B.PER_UNIT, unit="session", amount_pence=65000)],
        next=("uplift", 3),
    ),
    dict(
        name="Music service: instrument hire",
        category="Music",
        kind=K.TRADED,
        summary="Instruments on loan for pupils and school ensembles.",
        included="Maintained instruments, insurance and exchange.",
        options=[option("Per instrument", B.PER_UNIT, unit="place", amount_pence=4500)],
        next=("uplift", 0),
    ),
    dict(
        name="Outdoor education: residential visits",
        category="Outdoor education",
        kind=K.TRADED,
        summary="Residential visits at the council's outdoor education centre.",
        included="Accommodation, meals, instructors and equipment.",
        options=[
            option("Per pupil place", B.PER_UNIT, unit="place", amount_pence=21000),
            option("Day visits", B.PER_UNIT, unit="day", amount_pence=95000),
        ],
        next=(
            "repriced",
            [
                option("Per pupil place", B.PER_UNIT, unit="place", amount_pence=22500),
                option("Day visits", B.PER_UNIT, unit="day", amount_pence=99000),
            ],
        ),
    ),
    dict(
        name="Outdoor education: off-site visits advice",
        category="Outdoor education",
        kind=K.TRADED,
        summary="The outdoor education adviser and the visits approval system.",
        included="Visit approval, EVC training and advice for every off-site visit.",
        options=[option("Annual subscription", B.PER_SCHOOL, amount_pence=28000)],
        next=("uplift", 2),
    ),
    dict(
        name="School improvement partner",
        category="School improvement",
        kind=K.TRADED,
        summary="A school improvement adviser's days, for challenge and support.",
        included="Days with an experienced adviser: self-evaluation, leadership support and reviews.",
        options=[
            option(
                "Adviser days",
                B.PER_UNIT,
                unit="day",
                amount_pence=62500,
                rates={"tiers": [{"from": 1, "pence": 62500}, {"from": 5, "pence": 59000}]},
            )
        ],
        next=("uplift", 3),
    ),
    dict(
        name="SEN support: specialist teachers",
        category="SEN support",
        kind=K.TRADED,
        summary="Specialist teachers for cognition and learning, and communication and interaction.",
        included="Assessment, advice, and training for staff supporting pupils with SEN.",
        options=[
            option("Hours", B.PER_UNIT, unit="hour", amount_pence=7200, rates={"pack_size": 20})
        ],
        next=("uplift", 3),
    ),
    dict(
        name="Early years advisory support",
        category="School improvement",
        kind=K.TRADED,
        summary="Support for nursery and reception: quality, curriculum and inclusion.",
        included="Visits, the early years toolkit and network meetings.",
        eligible=["nursery", "maintained", "academy"],
        phases=["Nursery", "Primary", "All-through"],
        options=[
            option("Standard package", B.PER_SCHOOL, amount_pence=30000),
            option("Enhanced package", B.PER_SCHOOL, amount_pence=130000),
        ],
        next=("uplift", 2),
    ),
    dict(
        name="Mental health in schools team",
        category="SEN support",
        kind=K.TRADED,
        summary="Emotional wellbeing practitioners working with pupils and staff.",
        included="Group and one-to-one work, staff training and a termly consultation.",
        options=[
            option("Annual service", B.FLAT_PLUS_PER_PUPIL, amount_pence=50000, per_pupil_pence=300)
        ],
        next=("new",),
    ),
]

# New services whose offer for next year is still being drafted, so that the publisher's
# list of drafts shows one ready to publish and one not (it has no price yet).
DRAFTS: list[dict[str, Any]] = [
    dict(
        name="Online safety training for staff",
        category="School improvement",
        kind=K.TRADED,
        summary="Training for every member of staff on keeping pupils safe online.",
        included="A twilight session in school, the online safety policy template and a yearly update.",
        options=[option("Whole staff session", B.PER_SCHOOL, amount_pence=35000)],
    ),
    dict(
        name="Outdoor learning residentials",
        category="Outdoor education",
        kind=K.TRADED,
        summary="Two- and three-night residential visits at the council's outdoor centre.",
        included="Accommodation, meals, instructors and all activity equipment.",
        options=[],
    ),
]


def _make_option(position: int, values: dict[str, Any]) -> PriceOption:
    return PriceOption(
        position=position,
        name=values["name"],
        basis=values["basis"],
        audience=values.get("audience", Audience.ALL),
        amount_pence=values.get("amount_pence", 0),
        per_pupil_pence=values.get("per_pupil_pence", 0),
        unit=values.get("unit"),
        minimum_pence=values.get("minimum_pence"),
        rates=values.get("rates", {}),
    )


def _uplifted(options: list[dict[str, Any]], percent: float) -> list[PriceOption]:
    from decimal import Decimal

    from portal.services.pricing import PriceRule, uplift_rule

    made = []
    for position, values in enumerate(options):
        original = _make_option(position, values)
        rule = uplift_rule(PriceRule.from_option(original, vat=False), Decimal(str(percent)))
        original.amount_pence = rule.amount_pence
        original.per_pupil_pence = rule.per_pupil_pence
        original.minimum_pence = rule.minimum_pence
        original.rates = rule.to_rates()
        made.append(original)
    return made


def seed_services(schools: dict[int, School]) -> int:
    """The offer for last year (published) and next year (published, with changes, and two
    new services still in draft)."""
    if db.session.scalar(select(func.count(Service.id))):
        return int(db.session.scalar(select(func.count(Service.id))) or 0)
    categories = {name: ServiceCategory(name=name) for name in CATEGORIES}
    db.session.add_all(categories.values())
    now = utcnow()
    for number, entry in enumerate(SERVICES):
        service = _service(entry, categories, number)
        change = entry.get("next", ("uplift", 0))
        vat = entry.get("vat", False)
        if change[0] != "new":
            service.offers.append(
                ServiceOffer(
                    year=LAST_YEAR,
                    status=OfferStatus.PUBLISHED,
                    decision=TradingDecision.CONTINUE,
                    vat_applies=vat,
                    published_at=now,
                    options=[_make_option(i, o) for i, o in enumerate(entry["options"])],
                )
            )
        if change[0] == "ceased":
            service.offers.append(
                ServiceOffer(
                    year=NEXT_YEAR,
                    status=OfferStatus.DRAFT,
                    decision=TradingDecision.CEASED,
                    vat_applies=vat,
                )
            )
            continue
        if change[0] == "repriced":
            options = [_make_option(i, o) for i, o in enumerate(change[1])]
            decision = TradingDecision.REPRICED
        elif change[0] == "new":
            options = [_make_option(i, o) for i, o in enumerate(entry["options"])]
            decision = TradingDecision.NEW
        else:
            options = _uplifted(entry["options"], change[1])
            decision = TradingDecision.REPRICED if change[1] else TradingDecision.CONTINUE
        service.offers.append(
            ServiceOffer(
                year=NEXT_YEAR,
                status=OfferStatus.PUBLISHED,
                decision=decision,
                vat_applies=vat,
                published_at=now,
                options=options,
            )
        )
    for number, entry in enumerate(DRAFTS, start=len(SERVICES)):
        _service(entry, categories, number).offers.append(
            ServiceOffer(
                year=NEXT_YEAR,
                status=OfferStatus.DRAFT,
                decision=TradingDecision.NEW,
                options=[_make_option(i, o) for i, o in enumerate(entry["options"])],
            )
        )
    # Pupils on roll as the census recorded them: last year a little different from now.
    for school in schools.values():
        for year, pupils in (
            (LAST_YEAR, max(0, school.pupils_on_roll - school.urn % 17 + 8)),
            (NEXT_YEAR, school.pupils_on_roll),
        ):
            db.session.add(SchoolRoll(school_id=school.id, year=year, pupils_on_roll=pupils))
    db.session.commit()
    return len(SERVICES) + len(DRAFTS)


def _service(entry: dict[str, Any], categories: dict[str, ServiceCategory], number: int) -> Service:
    service = Service(
        name=entry["name"],
        category=categories[entry["category"]],
        kind=entry["kind"],
        summary=entry["summary"],
        included=entry["included"],
        statutory_duties=entry.get("duties"),
        standards="We answer enquiries within two working days and visits are confirmed in writing.",
        provider_team=f"{entry['category']} team",
        contact_email=entry["category"].lower().replace(" and ", ".").replace(" ", ".")
        + "@council.example",
        contact_phone="+441214960" + f"{700 + number:03d}",
        eligible=entry.get("eligible", []),
        phases=entry.get("phases", []),
    )
    db.session.add(service)
    return service


def seed_buyback(schools: dict[int, School]) -> int:
    """Last year's window (closed, with returns) and this year's (open for maintained
    schools and for academies), and what each traded service costs to deliver."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.buyback.offered import offered_to
    from portal.models import (
        BuybackChoice,
        BuybackLine,
        BuybackSubmission,
        BuybackWindow,
        ChoiceStatus,
        Cohort,
        User,
    )

    if db.session.scalar(select(func.count(BuybackWindow.id))):
        return int(db.session.scalar(select(func.count(BuybackWindow.id))) or 0)
    london = ZoneInfo("Europe/London")

    def at(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=london)

    last = [
        BuybackWindow(
            year=LAST_YEAR,
            cohort=Cohort.MAINTAINED,
            opens_at=at(2026, 1, 6, 9),
            closes_at=at(2026, 3, 2, 17),
        ),
        BuybackWindow(
            year=LAST_YEAR,
            cohort=Cohort.ACADEMIES,
            opens_at=at(2026, 5, 1, 9),
            closes_at=at(2026, 6, 30, 17),
        ),
    ]
    this = [
        BuybackWindow(
            year=NEXT_YEAR,
            cohort=Cohort.MAINTAINED,
            opens_at=at(2026, 11, 2, 9),
            closes_at=at(2027, 3, 2, 17),
        ),
        BuybackWindow(
            year=NEXT_YEAR,
            cohort=Cohort.ACADEMIES,
            opens_at=at(2026, 11, 16, 9),
            closes_at=at(2027, 3, 31, 17),
        ),
    ]
    db.session.add_all(last + this)
    # What each traded service costs to deliver: most pay their way, some do not.
    for offer in db.session.scalars(
        select(ServiceOffer).join(Service).where(Service.kind == K.TRADED)
    ):
        offer.delivery_cost_pence = 1_000_000 + (offer.service_id % 7) * 450_000
    db.session.flush()
    head = db.session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
    # Last year, most maintained schools returned; each bought what suited its size.
    for index, school in enumerate(sorted(schools.values(), key=lambda s: s.urn)):
        window = last[1] if school.is_academy else last[0]
        if index % 5 == 4:
            continue  # some schools never returned
        offered = offered_to(school, LAST_YEAR)
        choice = BuybackChoice(
            school=school,
            window=window,
            status=ChoiceStatus.SUBMITTED,
            submitted_at=window.closes_at,
        )
        frozen = []
        for position, item in enumerate(offered):
            buying = (position + index) % 3 != 0
            option = item.options[0]
            quote = item.quotes.get(option.id)
            buying = buying and quote is not None
            choice.lines.append(
                BuybackLine(
                    service_id=item.service.id,
                    buying=buying,
                    option_id=option.id if buying else None,
                    quantity=1,
                    net_pence=quote.net_pence if buying else None,
                    vat_pence=quote.vat_pence if buying else None,
                )
            )
            frozen.append(
                {
                    "service_id": item.service.id,
                    "service": item.service.name,
                    "buying": buying,
                    "option_id": option.id if buying else None,
                    "option": option.name if buying else None,
                    "unit": option.unit,
                    "quantity": 1,
                    "net_pence": quote.net_pence if buying else 0,
                    "vat_pence": quote.vat_pence if buying else 0,
                }
            )
        choice.submissions.append(
            BuybackSubmission(
                number=1,
                submission_key=f"demo-{LAST_YEAR}-{school.urn}",
                submitted_at=window.closes_at,
                submitted_by=head,
                lines=frozen,
                net_pence=sum(line["net_pence"] for line in frozen),
                vat_pence=sum(line["vat_pence"] for line in frozen),
            )
        )
        db.session.add(choice)
    db.session.commit()
    return len(last + this)
