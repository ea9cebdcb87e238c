"""The access module: the intended policy (docs/architecture.md), and the school scope every
query uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.access import POLICY, Capability, Principal, visible_schools
from portal.models import Area, Membership, Role, School, Trust, User

C = Capability

# The policy table of docs/architecture.md, row by row: which roles may do each thing (anywhere
# in their scope).
DESIGN_POLICY = {
    C.VIEW_CONTACTS: set(Role),
    C.EDIT_CONTACTS: {Role.PUBLISHER, Role.LA_ADMIN},
    # Retired contacts are history, for those who keep the directory (issue 19: decided in
    # access.py, not in the contacts' views).
    C.VIEW_RETIRED_CONTACTS: {Role.PUBLISHER, Role.LA_ADMIN},
    # "Council staff download the directory as CSV" (the contacts issue).
    C.EXPORT_CONTACTS: {Role.CAF_OFFICER, Role.PUBLISHER, Role.LA_ADMIN},
    # Issue 17: the annual letter. Council staff print every school's they serve at once;
    # those who keep the directory e-mail it to every head teacher.
    C.PRINT_CONTACT_LETTERS: {Role.CAF_OFFICER, Role.PUBLISHER, Role.LA_ADMIN},
    C.SEND_CONTACT_LETTERS: {Role.PUBLISHER, Role.LA_ADMIN},
    C.VIEW_SERVICES: set(Role),
    C.EDIT_SERVICES: {Role.PUBLISHER, Role.LA_ADMIN},
    C.RAISE_SUPPORT_REQUEST: {Role.SCHOOL_STAFF, Role.HEAD_TEACHER, Role.TRUST_LEAD},
    C.VIEW_SUPPORT_REQUESTS: {
        Role.SCHOOL_STAFF,
        Role.HEAD_TEACHER,
        Role.TRUST_LEAD,
        Role.CAF_OFFICER,
        Role.LA_ADMIN,
    },
    C.ACT_ON_SUPPORT_REQUESTS: {Role.CAF_OFFICER, Role.LA_ADMIN},
    # Issue 17: officers see their own areas' figures; administrators every area's.
    C.VIEW_SUPPORT_STATISTICS: {Role.CAF_OFFICER, Role.LA_ADMIN},
    C.VIEW_BUYBACK: {
        Role.SCHOOL_STAFF,
        Role.HEAD_TEACHER,
        Role.TRUST_LEAD,
        Role.PUBLISHER,
        Role.LA_ADMIN,
    },
    # The buy-back issue: school staff may prepare the draft; only leaders submit it.
    C.PREPARE_BUYBACK: {Role.SCHOOL_STAFF, Role.HEAD_TEACHER, Role.TRUST_LEAD},
    C.EDIT_BUYBACK: {Role.HEAD_TEACHER, Role.TRUST_LEAD},
    # A window's page (returns so far, reminders): the council staff who see buy-back.
    C.VIEW_BUYBACK_WINDOWS: {Role.PUBLISHER, Role.LA_ADMIN},
    C.MANAGE_BUYBACK_WINDOWS: {Role.LA_ADMIN},
    # "Council administrators: ... the buy-back analysis"; publishers price the services.
    C.ANALYSE_BUYBACK: {Role.PUBLISHER, Role.LA_ADMIN},
    C.MANAGE_USERS: {Role.HEAD_TEACHER, Role.TRUST_LEAD, Role.LA_ADMIN},
    # Issue 16: a school takes away a person's roles at its schools, and sees no more of an
    # account than name, address, role and status; the whole account is the council's.
    C.REMOVE_FROM_SCHOOLS: {Role.HEAD_TEACHER, Role.TRUST_LEAD},
    # Issue 17: those who manage an account lift a lock that failed sign-ins put on it.
    C.UNLOCK_ACCOUNTS: {Role.HEAD_TEACHER, Role.TRUST_LEAD, Role.LA_ADMIN},
    C.ADMINISTER_ACCOUNTS: {Role.LA_ADMIN},
    # Issue 7: only the council's administrators reset a lost authenticator app.
    C.RESET_SECOND_FACTOR: {Role.LA_ADMIN},
    C.ADMINISTER: {Role.LA_ADMIN},
    C.VIEW_SCHOOLS: set(Role),
    # Training: everyone finds courses; schools book and claim; the coordinator and council
    # administrators run the courses; administrators alone hold the supply-cover funds.
    C.VIEW_TRAINING: set(Role),
    C.BOOK_TRAINING: {Role.SCHOOL_STAFF, Role.HEAD_TEACHER, Role.TRUST_LEAD},
    C.SET_TRAINING_APPROVAL: {Role.HEAD_TEACHER, Role.TRUST_LEAD},
    C.MANAGE_TRAINING: {Role.TRAINING_COORDINATOR, Role.LA_ADMIN},
    C.VIEW_TRAINING_REPORTS: {Role.TRAINING_COORDINATOR, Role.LA_ADMIN},
    C.CLAIM_SUPPLY_COVER: {Role.SCHOOL_STAFF, Role.HEAD_TEACHER, Role.TRUST_LEAD},
    C.MANAGE_SUPPLY_FUNDS: {Role.LA_ADMIN},
}


@pytest.mark.parametrize("capability", list(Capability))
def test_policy_is_the_one_in_the_design(capability: Capability) -> None:
    holders = {role for role, capabilities in POLICY.items() if capability in capabilities}
    assert holders == DESIGN_POLICY[capability]


def test_the_designs_table_has_a_column_for_every_role() -> None:
    """docs/architecture.md's "Who may do what": a role added to the portal is added there."""
    design = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    table = design.split("## Who may do what", 1)[1].split("\n\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    columns = [cell.strip().lower() for cell in rows[0].strip("|").split("|")][1:]
    assert len(columns) == len(Role)
    # Each role a column, named by the start or the end of its label ("council admin" for
    # Council administrator, "publisher" for Service publisher).
    for role in Role:
        label = role.label.lower()
        assert any(label.startswith(column) or label.endswith(column) for column in columns), role
    assert all(row.count("|") == rows[0].count("|") for row in rows)


def principal(session, **memberships: list[int]) -> Principal:
    user = User(email="probe@school.example", display_name="Probe Demo", password_hash="x")
    for school_id in memberships.get("schools", []):
        user.memberships.append(Membership(role=Role.SCHOOL_STAFF, school_id=school_id))
    for trust_id in memberships.get("trusts", []):
        user.memberships.append(Membership(role=Role.TRUST_LEAD, trust_id=trust_id))
    for area_id in memberships.get("areas", []):
        user.memberships.append(Membership(role=Role.CAF_OFFICER, area_id=area_id))
    return Principal.of(user)


def scoped_ids(session, who: Principal) -> set[int]:
    return set(session.scalars(visible_schools(who).with_only_columns(School.id)))


def test_nobody_with_no_membership_sees_any_school_or_may_do_anything(session) -> None:
    who = principal(session)
    assert scoped_ids(session, who) == set()
    assert who.capabilities == frozenset()


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_person_sees_exactly_the_schools_their_memberships_reach(session, data) -> None:
    schools = session.scalars(select(School)).all()
    trust_ids = session.scalars(select(Trust.id)).all()
    area_ids = session.scalars(select(Area.id)).all()
    chosen = {
        "schools": data.draw(st.lists(st.sampled_from([s.id for s in schools]), max_size=3)),
        "trusts": data.draw(st.lists(st.sampled_from(trust_ids), max_size=2)),
        "areas": data.draw(st.lists(st.sampled_from(area_ids), max_size=2)),
    }
    who = principal(session, **chosen)
    expected = {
        s.id
        for s in schools
        if s.id in chosen["schools"]
        or s.trust_id in chosen["trusts"]
        or s.area_id in chosen["areas"]
    }
    assert scoped_ids(session, who) == expected


def test_council_wide_roles_see_every_school(session) -> None:
    admin = session.scalars(select(User).where(User.email == "admin@council.example")).one()
    every_school = set(session.scalars(select(School.id)))
    assert scoped_ids(session, Principal.of(admin)) == every_school


@pytest.mark.parametrize(
    "email",
    [
        "staff@oakfield.example",
        "head@oakfield.example",
        "head@riverside.example",
        "trust@meadowtrust.example",
        "caf.north@council.example",
        "admin@council.example",
    ],
)
def test_the_areas_and_schools_a_person_is_shown_are_those_their_scope_reaches(
    app, email: str, count_queries
) -> None:
    """A member of schools alone has their schools' areas and names worked out from the
    memberships loaded with them, without a query: the same as the school scope's."""
    from portal.access import school_scope, visible_area_ids, visible_school_names
    from portal.db import db

    with app.test_request_context():
        user = db.session.scalars(select(User).where(User.email == email)).unique().one()
        who = Principal.of(user)
        reached = db.session.execute(select(School.area_id, School.name).where(school_scope(who)))
        areas, names = set(), []
        for area_id, name in reached:
            areas.add(area_id)
            names.append(name)
        with count_queries() as counter:
            found_areas = visible_area_ids(who)
            found_names = visible_school_names(who)
        if who.council_wide:
            assert found_areas is None
        else:
            assert found_areas == frozenset(areas) | who.area_ids
        assert sorted(found_names) == sorted(names)
        only_schools = not (who.council_wide or who.trust_ids or who.area_ids)
        assert (counter.count == 0) == only_schools


def test_the_support_scope_made_once_per_shape_reaches_what_it_reaches_built_afresh(
    app,
) -> None:
    """Statements made once per shape of who may see which support requests (home's open
    requests) bind the person's values when they run: for every account of the demo, they
    reach exactly the requests support_request_scope reaches."""
    from portal.access import (
        support_request_condition,
        support_request_scope,
        support_request_scope_shape,
    )
    from portal.db import db
    from portal.models import SupportRequest

    shapes = set()
    with app.test_request_context():
        users = db.session.scalars(select(User)).unique().all()
        for user in users:
            who = Principal.of(user)
            shape, values = support_request_scope_shape(who)
            shapes.add(shape)
            made_once = select(SupportRequest.id).where(support_request_condition(shape))
            afresh = select(SupportRequest.id).where(support_request_scope(who))
            assert set(db.session.scalars(made_once, values)) == set(db.session.scalars(afresh)), (
                user.email
            )
    # Staff, heads, trust leads, officers, administrators and people who may see none.
    assert len(shapes) >= 5


def test_a_changes_author_is_named_from_what_was_read_with_them(app, count_queries) -> None:
    """The account a change records as its author (Principal.user) carries the name and
    e-mail address read with the person: naming them in the change's e-mail reads nothing
    more (an officer's first assignment in a worker spent 13 ms reading the account)."""
    from portal.auth.service import load_user
    from portal.db import db

    with app.test_request_context():
        account = db.session.scalars(
            select(User).where(User.email == "caf.north@council.example")
        ).one()
        person = load_user(f"{account.id}:{account.session_version}")
        assert person is not None
        db.session.expunge_all()
        who = Principal.of(person)
        with count_queries() as counter:
            author = who.user
            named = (author.display_name, author.email)
        assert named == ("Chris Demo-North", "caf.north@council.example")
        assert counter.count == 0
        assert author.id == account.id
