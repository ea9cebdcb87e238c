"""The demo council is realistic enough to show the product, and invents every person."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.clock import LONDON
from portal.models import (
    Area,
    Booking,
    Course,
    CourseSession,
    EstablishmentGroup,
    Evaluation,
    FundAllocation,
    Membership,
    Phase,
    Role,
    School,
    SupplyClaim,
    Trust,
    User,
)
from portal.training import evidence
from portal_seed.demo import seed

TRAINING = (Course, CourseSession, Booking, Evaluation, FundAllocation, SupplyClaim)


def test_five_areas_two_trusts_and_at_least_forty_schools(session) -> None:
    areas = session.scalars(select(Area.name).order_by(Area.name)).all()
    assert areas == ["North", "Nuneaton and Bedworth", "Rugby", "Stratford", "Warwick"]
    assert session.scalar(select(func.count(Trust.id))) == 2
    schools = session.scalars(select(School)).all()
    assert len(schools) >= 40
    # Every area has schools of its own, and both trusts have several academies.
    assert Counter(s.area.name for s in schools).most_common()[-1][1] >= 5
    assert all(len(trust.schools) >= 3 for trust in session.scalars(select(Trust)))


def test_schools_are_of_mixed_types_and_phases_with_real_urns(session) -> None:
    schools = session.scalars(select(School)).all()
    groups = {s.establishment_type.group for s in schools}
    assert groups == set(EstablishmentGroup)
    kinds = {s.establishment_type.value for s in schools}
    for needed in (
        "Community school",
        "Foundation school",
        "Voluntary aided school",
        "Community special school",
        "Academy converter",
        "Academy sponsor led",
        "Free schools",
    ):
        assert needed in kinds
    assert {Phase.NURSERY, Phase.PRIMARY, Phase.SECONDARY, Phase.ALL_THROUGH} <= {
        s.phase for s in schools
    }
    assert all(100000 <= s.urn <= 999999 for s in schools)
    # Realistic sizes: nurseries under 150, secondaries over 500.
    assert all(s.pupils_on_roll < 150 for s in schools if s.phase is Phase.NURSERY)
    assert all(s.pupils_on_roll > 500 for s in schools if s.phase is Phase.SECONDARY)
    # Academies in a trust are academies; maintained schools are in no trust.
    assert all(s.is_academy for s in schools if s.trust is not None)


def test_every_demo_person_is_invented_with_an_example_address(session) -> None:
    for user in session.scalars(select(User)):
        assert user.email.endswith(".example"), user.email
        assert "Demo" in user.display_name


def test_the_issues_demo_accounts_have_their_roles(session) -> None:
    def roles_of(email: str) -> list[tuple[str, str]]:
        memberships = session.scalars(
            select(Membership).join(User).where(User.email == email)
        ).all()
        return [(m.role.value, m.organisation_name) for m in memberships]

    assert roles_of("admin@council.example") == [("la_admin", "the council")]
    assert roles_of("publisher@council.example") == [("publisher", "the council")]
    assert roles_of("coordinator@council.example") == [("training_coordinator", "the council")]
    assert roles_of("caf.north@council.example") == [("caf_officer", "North")]
    assert roles_of("head@oakfield.example") == [("head_teacher", "Oakfield Primary School")]
    assert roles_of("staff@oakfield.example") == [("school_staff", "Oakfield Primary School")]
    assert roles_of("head@riverside.example") == [("head_teacher", "Riverside Academy")]
    assert roles_of("trust@meadowtrust.example") == [("trust_lead", "Meadow Learning Trust")]
    oakfield = session.scalars(select(School).where(School.name == "Oakfield Primary School")).one()
    assert (oakfield.area.name, oakfield.is_academy) == ("North", False)
    riverside = session.scalars(select(School).where(School.name == "Riverside Academy")).one()
    assert riverside.trust.name == "Meadow Learning Trust"


def test_seeding_again_changes_nothing(app: Flask, session) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Area, Trust, School, User, Membership, *TRAINING)
        )

    before = counts()
    with app.app_context():
        seed()
    assert counts() == before


def test_the_demo_shows_a_locked_account(client_for) -> None:
    """Failed sign-ins have locked someone's account: the council sees it on the users list."""
    listing = client_for("la_admin").get("/users/?q=hartshill")
    text = listing.get_data(as_text=True)
    assert "Kit Demo-Office" in text
    assert "Locked" in text


def test_the_north_queue_shows_every_state_of_a_caseload(app: Flask, session) -> None:
    """Two officers share North: requests overdue and due today, each officer's and nobody's."""
    from portal.clock import today_in_london
    from portal.models import SupportRequest, SupportStatus
    from portal.support.dates import response_target_days
    from portal.support.queue import timeliness
    from portal.workdays import add_working_days, is_working_day

    officers = session.scalars(
        select(User)
        .join(Membership)
        .where(Membership.role == Role.CAF_OFFICER, Membership.area.has(Area.name == "North"))
    ).all()
    assert sorted(o.email for o in officers) == [
        "caf.north@council.example",
        "caf2.north@council.example",
    ]
    north = session.scalars(
        select(SupportRequest).where(
            SupportRequest.area.has(Area.name == "North"),
            SupportRequest.status.in_([s for s in SupportStatus if s.is_open]),
        )
    ).all()
    today = today_in_london()
    with app.app_context():  # the response targets are settings
        targets = {u: response_target_days(u) for u in {r.urgency for r in north}}
    states = [timeliness(r, today) for r in north]
    assert states.count("overdue") >= 2 and states.count("due") >= 2
    with_each = {r.assigned_officer_id for r in north}
    assert {o.id for o in officers} | {None} == with_each
    assert SupportStatus.IN_PROGRESS in {r.status for r in north}
    # Each was submitted as long before its date as its response target in working days says.
    for request in north:
        submitted = request.submitted_at.astimezone(LONDON).date()
        target = add_working_days(submitted, targets[request.urgency])
        if is_working_day(request.respond_by):
            assert target == request.respond_by, request.reference
        else:  # due "today" on a weekend: only a demo seeded at the weekend has one
            assert target <= request.respond_by == today, request.reference


def test_every_demo_claims_evidence_downloads_as_its_invoice(
    session, client_for, claim_evidence_directory: str
) -> None:
    """Each demo claim's invoice is kept as an upload is (a PDF the portal's own check
    accepts, under the claims' evidence folder, never the repository's instance/), so the
    claim's evidence link downloads it."""
    admin = client_for("la_admin")
    claims = session.scalars(select(SupplyClaim).order_by(SupplyClaim.id)).all()
    assert len(claims) == 4
    for claim in claims:
        kept = Path(claim_evidence_directory) / claim.evidence_path
        assert kept.stat().st_size == claim.evidence_bytes
        assert evidence.check(FileStorage(io.BytesIO(kept.read_bytes()), "x.pdf")).content_type
        response = admin.get(f"/training/claims/{claim.id}/evidence")
        downloaded = response.get_data()
        response.close()
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert downloaded == kept.read_bytes()
        assert claim.agency_reference.encode() in downloaded
        assert claim.evidence_filename in response.headers["Content-Disposition"]
