"""Training for the demo: the council's courses, their sessions past and to come, schools'
bookings on them, Oakfield's approval setting, and a supply-cover fund with its claims.

The data is in ``demo_training.json``. Sessions are dated from the day the demo is seeded
(``portal.clock``, so a test that moves the time moves with it), on weekdays, at London
times. Every booking's price, charge and each session's ``places_taken`` are worked out here
by the course's rules, as the portal's own workflow would have left them. Seeding again adds
nothing: the training is there once its first course is.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from portal import clock
from portal.db import db
from portal.models import (
    Approver,
    Attendance,
    Booking,
    BookingStatus,
    BuybackChoice,
    BuybackLine,
    BuybackWindow,
    ChoiceStatus,
    ClaimStatus,
    Course,
    CourseSession,
    CourseStatus,
    Evaluation,
    FundAllocation,
    FundEligibility,
    FundStatus,
    PaymentBatch,
    School,
    SchoolRoll,
    SchoolStatus,
    SchoolTrainingSettings,
    Service,
    SessionStatus,
    StaffLevel,
    SupplyClaim,
    SupplyFund,
    User,
)
from portal.training import charges
from portal_seed.allocation import fund_shares
from portal_seed.data_files import read_json
from portal_seed.demo.training_evidence import demo_evidence

DATA = read_json("demo_training.json")
OAKFIELD = 125601


def add_training(schools: dict[int, School]) -> dict[str, int]:
    """The demo's training, if it is not there yet; returns how many of each there are."""
    first = DATA["courses"][0]["title"]
    if db.session.scalar(select(Course.id).where(Course.title == first)) is None:
        _Seeder(schools).seed()
        db.session.commit()
    return {
        name: int(db.session.scalar(select(func.count()).select_from(model)) or 0)
        for name, model in (
            ("courses", Course),
            ("course sessions", CourseSession),
            ("training bookings", Booking),
            ("supply claims", SupplyClaim),
        )
    }


def weekday(day: date, forward: bool) -> date:
    """``day``, or the nearest school day to it going ``forward`` (or back): no training at
    the weekend, nor over Christmas (20 December to 3 January)."""
    step = timedelta(days=1 if forward else -1)
    while day.weekday() >= 5 or (day.month, day.day) >= (12, 20) or (day.month, day.day) <= (1, 3):
        day += step
    return day


def late_charge(course: Course, price_pence: int) -> int:
    """What giving a place up late, or not coming, costs: the course's late charge, or the
    price of the place when it names none (nothing, for a free course)."""
    return charges.late_charge(course.late_charge_pence, price_pence)


class _Seeder:
    """One seeding of the demo's training: what each step made is handed to the next."""

    def __init__(self, schools: dict[int, School]) -> None:
        self.schools = schools
        self.now = clock.now()
        self.today = clock.today_in_london(self.now)
        self.year = clock.financial_year(self.today)
        self.courses: dict[str, Course] = {}
        self.sessions: dict[str, CourseSession] = {}
        self.bookings: list[Booking] = []
        emails = {
            "admin@council.example",
            *(b["booked_by"] for b in DATA["bookings"]),
            *(b["email"] for b in DATA["bookings"]),
        }
        self.people = {
            user.email: user
            for user in db.session.scalars(select(User).where(User.email.in_(emails)))
        }
        self.bought = self._bought_services()

    def seed(self) -> None:
        self._courses()
        self._sessions()
        self._settings()
        self._bookings()
        for booking in self.bookings:
            db.session.add(booking)
        db.session.flush()
        for spec in DATA["sessions"]:
            session = self.sessions[spec["key"]]
            session.places_taken = sum(
                b.status.holds_place for b in self.bookings if b.session is session
            )
        self._fund()

    def _bought_services(self) -> dict[int, set[int]]:
        """The traded services each school buys this financial year (its submitted return)."""
        bought: dict[int, set[int]] = defaultdict(set)
        for school_id, service_id in db.session.execute(
            select(BuybackChoice.school_id, BuybackLine.service_id)
            .join(BuybackLine.choice)
            .join(BuybackChoice.window)
            .where(
                BuybackWindow.year == self.year,
                BuybackChoice.status == ChoiceStatus.SUBMITTED,
                BuybackLine.buying.is_(True),
            )
        ):
            bought[school_id].add(service_id)
        return bought

    def _courses(self) -> None:
        services = {s.name: s for s in db.session.scalars(select(Service))}
        created = self.now - timedelta(days=120)
        for spec in DATA["courses"]:
            service = services[spec["member_service"]] if "member_service" in spec else None
            course = Course(
                title=spec["title"],
                description=spec["description"],
                audience=spec["audience"],
                staff_level=StaffLevel(spec["staff_level"]),
                learning_outcomes="\n".join(spec["outcomes"]),
                duration_minutes=spec["duration_minutes"],
                price_pence=spec["price_pence"],
                member_price_pence=spec.get("member_price_pence"),
                member_service=service,
                academy_price_pence=spec.get("academy_price_pence"),
                cancellation_days=spec["cancellation_days"],
                late_charge_pence=spec.get("late_charge_pence"),
                status=CourseStatus(spec.get("status", "published")),
                created_at=created,
                updated_at=created,
            )
            db.session.add(course)
            self.courses[spec["key"]] = course

    def _sessions(self) -> None:
        areas = {school.area.code: school.area for school in self.schools.values()}
        for spec in DATA["sessions"]:
            day = weekday(self.today + timedelta(days=spec["days"]), spec["days"] > 0)
            starts = clock.from_london(day, spec["start"])
            online = spec.get("online")
            area = areas[spec["area"]] if "area" in spec else None
            past = starts < self.now
            session = CourseSession(
                course=self.courses[spec["course"]],
                starts_at=starts,
                ends_at=clock.from_london(day, spec["end"]),
                venue=None if online else DATA["venues"][spec["area"]],
                online_link=online,
                area=area,
                capacity=spec["capacity"],
                places_taken=0,
                trainer=spec["trainer"],
                status=SessionStatus.CANCELLED if "cancelled" in spec else SessionStatus.SCHEDULED,
                cancelled_reason=spec.get("cancelled"),
                register_taken_at=starts + timedelta(hours=7)
                if past and spec.get("register", True)
                else None,
                created_at=min(starts, self.now) - timedelta(days=60),
            )
            db.session.add(session)
            self.sessions[spec["key"]] = session

    def _settings(self) -> None:
        for spec in DATA["settings"]:
            school = self.schools[spec["urn"]]
            if db.session.get(SchoolTrainingSettings, school.id) is None:
                db.session.add(
                    SchoolTrainingSettings(school=school, approver=Approver(spec["approver"]))
                )

    def _price(self, course: Course, school: School) -> int:
        if school.is_academy and course.academy_price_pence is not None:
            return course.academy_price_pence
        if course.member_price_pence is not None and course.member_service_id in self.bought.get(
            school.id, set()
        ):
            return course.member_price_pence
        return course.price_pence

    def _bookings(self) -> None:
        db.session.flush()  # the courses' and services' ids, for the prices
        for spec in DATA["bookings"]:
            self.bookings.append(self._booking(spec))
        others = sorted(urn for urn in self.schools if urn != OAKFIELD)
        names = DATA["attendees"]
        count = 0
        for index, spec in enumerate(DATA["sessions"]):
            session = self.sessions[spec["key"]]
            for number in range(spec["others"]):
                count += 1
                urn = others[(index * 7 + number) % len(others)]
                first = names["first_names"][count % len(names["first_names"])]
                last = names["surnames"][(count * 5) % len(names["surnames"])]
                attendance = None
                if session.register_taken_at is not None:
                    attendance = "absent" if count % 9 == 0 else "attended"
                self.bookings.append(
                    self._booking(
                        {
                            "session": spec["key"],
                            "urn": urn,
                            "name": f"{first} Demo-{last}",
                            "email": f"{first}.{last}@{_domain(self.schools[urn])}".lower(),
                            "job": names["jobs"][count % len(names["jobs"])],
                            "status": "confirmed",
                            "attendance": attendance,
                        }
                    )
                )

    def _booking(self, spec: dict[str, Any]) -> Booking:
        session = self.sessions[spec["session"]]
        course = session.course
        school = self.schools[spec["urn"]]
        status = BookingStatus(spec["status"])
        if session.status is SessionStatus.CANCELLED and status.holds_place:
            status = BookingStatus.SESSION_CANCELLED
        price = self._price(course, school)
        booked_at = min(session.starts_at - timedelta(days=21), self.now - timedelta(days=6))
        booked_at = max(booked_at, session.created_at + timedelta(days=1))
        attendance = Attendance(spec["attendance"]) if spec.get("attendance") else None
        booking = Booking(
            session=session,
            school=school,
            attendee_name=spec["name"],
            attendee_email=spec["email"],
            attendee_job_title=spec["job"],
            attendee_user=self.people.get(spec["email"]),
            booked_by=self.people.get(spec.get("booked_by", "")),
            status=status,
            created_at=booked_at,
            price_pence=price,
            charge_pence=0,
            attendance=attendance,
            reason=spec.get("reason"),
            submission_key=f"demo-training-{len(self.bookings) + 1}",
        )
        if status in (BookingStatus.CONFIRMED, BookingStatus.AWAITING_APPROVAL):
            booking.charge_pence = (
                late_charge(course, price) if attendance is Attendance.ABSENT else price
            )
        elif status is BookingStatus.CANCELLED:
            cancelled = session.starts_at - timedelta(days=spec["cancelled_days_before"])
            booking.cancelled_at = min(cancelled, self.now - timedelta(hours=1))
            window_opens = session.starts_at - timedelta(days=course.cancellation_days)
            if booking.cancelled_at > window_opens:
                booking.charge_pence = late_charge(course, price)
        elif status in (BookingStatus.WAITING, BookingStatus.OFFERED):
            # In the order of the data: the place offered went to the first on the list.
            booking.joined_list_at = booked_at + timedelta(hours=len(self.bookings))
            if status is BookingStatus.OFFERED:
                booking.offer_expires_at = self.now + timedelta(hours=spec["offer_hours_left"])
                booking.charge_pence = price
        self._decided(booking, spec, status)
        if attendance is Attendance.ATTENDED and "evaluation" in spec:
            overall, met, will_use, comments = spec["evaluation"]
            booking.evaluation = Evaluation(
                overall=overall,
                met_outcomes=met,
                will_use=will_use,
                comments=comments,
                submitted_at=session.ends_at + timedelta(days=2),
            )
        if attendance is Attendance.ATTENDED:
            booking.evaluation_requested_at = session.ends_at + timedelta(hours=2)
        if session.starts_at > self.now and booking.status.holds_place:
            reminder = session.starts_at - timedelta(days=2)
            booking.reminded_at = reminder if reminder < self.now else None
        elif session.starts_at < self.now and status is BookingStatus.CONFIRMED:
            booking.reminded_at = session.starts_at - timedelta(days=2)
        return booking

    def _decided(self, booking: Booking, spec: dict[str, Any], status: BookingStatus) -> None:
        """At a school whose head teacher approves bookings, who said yes (or no), and when."""
        settings = next((s for s in DATA["settings"] if s["urn"] == spec["urn"]), None)
        if settings is None or status in (BookingStatus.AWAITING_APPROVAL, BookingStatus.WAITING):
            return
        head = next(
            (
                u
                for u in self.people.values()
                if u.email.startswith("head@") and u.email.endswith(_domain(booking.school))
            ),
            None,
        )
        if head is None or booking.booked_by is head:
            return
        booking.decided_by = head
        booking.decided_at = min(booking.created_at + timedelta(days=1), self.now)

    def _fund(self) -> None:
        spec = DATA["fund"]
        admin = self.people["admin@council.example"]
        # Opened after some of the sessions it covers were held: those are claimed for too.
        opened = self.now - timedelta(days=35)
        earliest = self.today - timedelta(days=max(-s["days"] for s in DATA["sessions"]) + 7)
        fund = SupplyFund(
            name=f"{spec['name']} {clock.financial_year_label(self.year)}",
            total_pence=spec["total_pence"],
            # Its dates take in sessions held before it opened: schools claim for those too.
            covers_from=date(min(self.year, clock.financial_year(earliest)), 4, 1),
            covers_to=date(self.year + 1, 3, 31),
            claims_close_on=date(self.year + 1, 4, 30),
            daily_rate_pence=spec["daily_rate_pence"],
            half_day_rate_pence=spec["half_day_rate_pence"],
            eligibility=FundEligibility(spec["eligibility"]),
            lump_sum_pence=spec["lump_sum_pence"],
            roll_year=self.year,
            status=FundStatus.ALLOCATED,
            created_by_id=admin.id,
            created_at=opened,
            allocated_at=opened + timedelta(days=7),
            courses=[self.courses[key] for key in spec["courses"]],
        )
        db.session.add(fund)
        eligible = [
            s
            for s in self.schools.values()
            if s.status is SchoolStatus.OPEN
            and (fund.eligibility is FundEligibility.ALL_SCHOOLS or not s.is_academy)
        ]
        rolls = {
            school_id: pupils
            for school_id, pupils in db.session.execute(
                select(SchoolRoll.school_id, SchoolRoll.pupils_on_roll).where(
                    SchoolRoll.year == self.year
                )
            )
        }
        pupils = {s.id: rolls.get(s.id, s.pupils_on_roll) for s in eligible}
        allocations = {}
        for school_id, share in fund_shares(fund.total_pence, fund.lump_sum_pence, pupils).items():
            allocations[school_id] = FundAllocation(
                fund=fund,
                school_id=school_id,
                pupils=share.pupils,
                lump_sum_pence=share.lump_sum_pence,
                exact_pupil_share_micropence=share.exact_pupil_share_micropence,
                pupil_share_pence=share.pupil_share_pence,
                amount_pence=share.amount_pence,
                approved_pence=0,
                paid_pence=0,
            )
        db.session.add_all(allocations.values())
        self._claims(fund, allocations, admin)

    def _claims(
        self, fund: SupplyFund, allocations: dict[int, FundAllocation], admin: User
    ) -> None:
        batch = None
        for number, spec in enumerate(DATA["fund"]["claims"], start=1):
            session = self.sessions[spec["session"]]
            booking = next(
                b
                for b in self.bookings
                if b.session is session and b.attendee_email == spec["attendee"]
            )
            if booking.attendance is not Attendance.ATTENDED:
                raise ValueError(f"a claim for a place not attended: {spec}")
            status = ClaimStatus(spec["status"])
            made = max(session.ends_at, fund.allocated_at or self.now) + timedelta(days=3)
            claim = SupplyClaim(
                fund=fund,
                school=booking.school,
                booking=booking,
                half_days=spec["half_days"],
                cost_pence=spec["cost_pence"],
                agency_reference=spec["agency"],
                **demo_evidence(spec),
                status=status,
                approved_pence=spec.get("approved_pence"),
                decision_reason=spec.get("reason"),
                claimed_by=self.people[f"head@{_domain(booking.school)}"],
                created_at=made,
                submission_key=f"demo-claim-{number}",
            )
            if status is not ClaimStatus.SUBMITTED:
                claim.decided_by = admin
                claim.decided_at = made + timedelta(days=2)
                allocations[booking.school_id].approved_pence += claim.approved_pence or 0
            if status is ClaimStatus.PAID:
                if batch is None:
                    batch = PaymentBatch(
                        fund=fund,
                        reference=f"SUPPLY-{self.year}-001",
                        claim_count=0,
                        total_pence=0,
                        created_by_id=admin.id,
                        created_at=made + timedelta(days=4),
                        paid_at=made + timedelta(days=9),
                        paid_by_id=admin.id,
                    )
                batch.claim_count += 1
                batch.total_pence += claim.approved_pence or 0
                claim.payment_batch = batch
                allocations[booking.school_id].paid_pence += claim.approved_pence or 0
            db.session.add(claim)


def _domain(school: School) -> str:
    """The demo's made-up e-mail domain for a school: ``oakfield.example``."""
    words = re.sub(r"[^a-z ]", "", school.name.lower()).split()
    return (words[0] if words[0] != "st" else "st" + words[1]) + ".example"
