"""Who may see and do what: the one place that decides.

Two questions are answered here and nowhere else:

* **capabilities**: may this person use a kind of feature at all (edit contacts, act on
  support requests...)? Routes ask with :func:`requires`; a role without the capability
  gets 403.
* **scope**: which schools' records may this person load? Every query for tenant data goes
  through :func:`school_scope` or one of the ``*_or_404`` helpers, so a record outside the
  scope is simply not found: 404, never 403, so that ids leak nothing.

Longer than most modules, by design: every decision of who may see and do what is here,
and nowhere else, so that one file answers the question for every capability.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache, wraps
from typing import Any, NamedTuple, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from portal.db import db, request_memo
from portal.extensions import login_manager
from portal.models import (
    Area,
    Booking,
    Contact,
    Course,
    CourseSession,
    CourseStatus,
    FundStatus,
    Membership,
    MembershipInvitation,
    OfferStatus,
    Role,
    School,
    SchoolTrainingSettings,
    ServiceOffer,
    SupplyClaim,
    SupplyFund,
    SupportRequest,
    Trust,
    User,
)


class Capability(enum.StrEnum):
    VIEW_SCHOOLS = "view_schools"
    VIEW_CONTACTS = "view_contacts"
    EDIT_CONTACTS = "edit_contacts"
    EXPORT_CONTACTS = "export_contacts"
    # Retired contacts are history: only those who keep the directory still find them (in a
    # search, the CSV export, or by going to one's page).
    VIEW_RETIRED_CONTACTS = "view_retired_contacts"
    # Printing the key contacts letter (and poster) for every school one serves at once: an
    # area's, or the whole council's. A school prints its own with VIEW_CONTACTS.
    PRINT_CONTACT_LETTERS = "print_contact_letters"
    # E-mailing the letter to every head teacher: those who keep the directory.
    SEND_CONTACT_LETTERS = "send_contact_letters"
    VIEW_SERVICES = "view_services"
    EDIT_SERVICES = "edit_services"
    RAISE_SUPPORT_REQUEST = "raise_support_request"
    VIEW_SUPPORT_REQUESTS = "view_support_requests"
    ACT_ON_SUPPORT_REQUESTS = "act_on_support_requests"
    # The figures on support requests (their areas' for officers, all for administrators).
    VIEW_SUPPORT_STATISTICS = "view_support_statistics"
    VIEW_BUYBACK = "view_buyback"
    PREPARE_BUYBACK = "prepare_buyback"
    EDIT_BUYBACK = "edit_buyback"
    # A window as the council sees it: every school's returns so far and its reminders.
    VIEW_BUYBACK_WINDOWS = "view_buyback_windows"
    MANAGE_BUYBACK_WINDOWS = "manage_buyback_windows"
    # The buy-back analysis: every school's returns and the council's income from them.
    ANALYSE_BUYBACK = "analyse_buyback"
    MANAGE_USERS = "manage_users"
    # Taking a person's roles at one's own schools away (school leaders): the same whether or
    # not the person works anywhere else, which is not the school's to know.
    REMOVE_FROM_SCHOOLS = "remove_from_schools"
    # Lifting the lock that failed sign-ins put on an account (see may_unlock).
    UNLOCK_ACCOUNTS = "unlock_accounts"
    # The whole of any account: when it signed in, was made, set up its second factor; and
    # deactivating or reactivating it, wherever its roles are.
    ADMINISTER_ACCOUNTS = "administer_accounts"
    # Taking away a council person's authenticator app when they have lost it.
    RESET_SECOND_FACTOR = "reset_second_factor"
    ADMINISTER = "administer"
    # Training: finding courses and their sessions (everyone signed in); booking places for
    # oneself or colleagues at one's school; choosing who approves a school's bookings.
    VIEW_TRAINING = "view_training"
    BOOK_TRAINING = "book_training"
    SET_TRAINING_APPROVAL = "set_training_approval"
    # Publishing courses and sessions, their bookings, waiting lists and registers.
    MANAGE_TRAINING = "manage_training"
    # Take-up of training and of the supply-cover funds, for the Schools Forum.
    VIEW_TRAINING_REPORTS = "view_training_reports"
    # A school's claims for supply cover from a fund, and its balance.
    CLAIM_SUPPLY_COVER = "claim_supply_cover"
    # Setting up funds and their allocations, deciding claims, payment batches.
    MANAGE_SUPPLY_FUNDS = "manage_supply_funds"


C = Capability
_SCHOOL_STAFF = frozenset(
    {
        C.VIEW_SCHOOLS,
        C.VIEW_CONTACTS,
        C.VIEW_SERVICES,
        C.RAISE_SUPPORT_REQUEST,
        C.VIEW_SUPPORT_REQUESTS,
        C.VIEW_BUYBACK,
        # A business manager prepares the choices; only the head (or trust lead) submits.
        C.PREPARE_BUYBACK,
        C.VIEW_TRAINING,
        C.BOOK_TRAINING,
        # A business manager claims supply cover as a head teacher does; the council decides.
        C.CLAIM_SUPPLY_COVER,
    }
)
_SCHOOL_LEADER = _SCHOOL_STAFF | {
    C.EDIT_BUYBACK,
    C.MANAGE_USERS,
    C.REMOVE_FROM_SCHOOLS,
    C.UNLOCK_ACCOUNTS,
    C.SET_TRAINING_APPROVAL,
}

# The intended policy (docs/architecture.md, "Who may do what"), role by role. Scope (which
# schools) is decided below.
POLICY: dict[Role, frozenset[Capability]] = {
    Role.SCHOOL_STAFF: _SCHOOL_STAFF,
    Role.HEAD_TEACHER: _SCHOOL_LEADER,
    Role.TRUST_LEAD: _SCHOOL_LEADER,
    Role.CAF_OFFICER: frozenset(
        {
            C.VIEW_SCHOOLS,
            C.VIEW_CONTACTS,
            C.VIEW_SERVICES,
            C.VIEW_SUPPORT_REQUESTS,
            C.ACT_ON_SUPPORT_REQUESTS,
            C.VIEW_SUPPORT_STATISTICS,
            C.EXPORT_CONTACTS,
            C.PRINT_CONTACT_LETTERS,
            C.VIEW_TRAINING,
        }
    ),
    Role.PUBLISHER: frozenset(
        {C.VIEW_SCHOOLS, C.VIEW_CONTACTS, C.EDIT_CONTACTS, C.EXPORT_CONTACTS, C.VIEW_SERVICES}
        | {
            C.VIEW_RETIRED_CONTACTS,
            C.EDIT_SERVICES,
            C.VIEW_BUYBACK,
            C.VIEW_BUYBACK_WINDOWS,
            C.ANALYSE_BUYBACK,
            C.PRINT_CONTACT_LETTERS,
            C.SEND_CONTACT_LETTERS,
            C.VIEW_TRAINING,
        }
    ),
    Role.LA_ADMIN: frozenset(
        {
            C.VIEW_SCHOOLS,
            C.VIEW_CONTACTS,
            C.EDIT_CONTACTS,
            C.VIEW_RETIRED_CONTACTS,
            C.EXPORT_CONTACTS,
            C.PRINT_CONTACT_LETTERS,
            C.SEND_CONTACT_LETTERS,
            C.VIEW_SERVICES,
            C.EDIT_SERVICES,
            C.VIEW_SUPPORT_REQUESTS,
            C.ACT_ON_SUPPORT_REQUESTS,
            C.VIEW_SUPPORT_STATISTICS,
            C.VIEW_BUYBACK,
            C.VIEW_BUYBACK_WINDOWS,
            C.MANAGE_BUYBACK_WINDOWS,
            C.ANALYSE_BUYBACK,
            C.MANAGE_USERS,
            C.UNLOCK_ACCOUNTS,
            C.ADMINISTER_ACCOUNTS,
            C.RESET_SECOND_FACTOR,
            C.ADMINISTER,
            C.VIEW_TRAINING,
            C.MANAGE_TRAINING,
            C.VIEW_TRAINING_REPORTS,
            C.MANAGE_SUPPLY_FUNDS,
        }
    ),
    Role.TRAINING_COORDINATOR: frozenset(
        {
            C.VIEW_SCHOOLS,
            C.VIEW_CONTACTS,
            C.VIEW_SERVICES,
            C.VIEW_TRAINING,
            C.MANAGE_TRAINING,
            C.VIEW_TRAINING_REPORTS,
        }
    ),
}

# Roles whose scope is every school in the council's area.
_COUNCIL_WIDE = frozenset({Role.PUBLISHER, Role.LA_ADMIN, Role.TRAINING_COORDINATOR})


@cache
def roles_that_may(capability: Capability) -> frozenset[Role]:
    """The roles whose policy includes ``capability``: for example those who submit a
    school's buy-back, and so are the people told about it."""
    return frozenset(role for role, can_do in POLICY.items() if capability in can_do)


# A school's columns, in the order a Member holds them.
SCHOOL_COLUMNS = tuple(School.__table__.c.keys())


@dataclass(frozen=True)
class Member:
    """One of a person's roles and where it applies, as plain values."""

    role: Role
    school_id: int | None
    trust_id: int | None
    area_id: int | None
    # The name of the school, trust or area; None for a council-wide role.
    organisation: str | None
    # For a role at a school, the school's row (SCHOOL_COLUMNS) and the names of its area and
    # trust: the pages of one's own school (buy-back, home) need them, and they come with the
    # person at no extra round trip.
    school: tuple[Any, ...] | None = None
    school_area: str | None = None
    school_trust: str | None = None


@dataclass(frozen=True)
class Person:
    """Who is signed in, as every request reads them afresh (load_user in
    portal/auth/service.py): their account's few facts the pages show or decide by, and their
    roles, as plain values rather than database objects. It is also Flask-Login's user: only
    an active account, under the session's version, is ever loaded as one."""

    id: int
    email: str
    display_name: str
    session_version: int
    # Whether the account has set up an authenticator app (council staff must).
    has_authenticator: bool
    memberships: tuple[Member, ...]

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @classmethod
    def of(cls, user: User) -> Person:
        """``user``, a database object (signing in, where the account has just been read)."""
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            session_version=user.session_version,
            has_authenticator=user.totp_enabled_at is not None,
            memberships=tuple(
                Member(m.role, m.school_id, m.trust_id, m.area_id, _organisation(m))
                if m.school is None
                else Member(
                    m.role,
                    m.school_id,
                    m.trust_id,
                    m.area_id,
                    _organisation(m),
                    tuple(getattr(m.school, name) for name in SCHOOL_COLUMNS),
                    m.school.area.name,
                    m.school.trust.name if m.school.trust is not None else None,
                )
                for m in user.memberships
            ),
        )


def _organisation(membership: Membership) -> str | None:
    found = membership.school or membership.trust or membership.area
    return found.name if found is not None else None


@dataclass(frozen=True)
class Principal:
    """A signed-in person as the policy sees them: their roles and where those apply."""

    person: Person
    roles: frozenset[Role]
    capabilities: frozenset[Capability]
    council_wide: bool
    school_ids: frozenset[int]
    trust_ids: frozenset[int]
    area_ids: frozenset[int]
    # Schools where this person is the head teacher (they see all of the school's requests).
    led_school_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, someone: Person | User) -> Principal:
        person = someone if isinstance(someone, Person) else Person.of(someone)
        memberships = person.memberships
        roles = frozenset(m.role for m in memberships)
        return cls(
            person=person,
            roles=roles,
            capabilities=frozenset().union(*(POLICY[role] for role in roles)),
            council_wide=bool(roles & _COUNCIL_WIDE),
            school_ids=frozenset(m.school_id for m in memberships if m.school_id is not None),
            trust_ids=frozenset(m.trust_id for m in memberships if m.trust_id is not None),
            area_ids=frozenset(m.area_id for m in memberships if m.area_id is not None),
            led_school_ids=frozenset(
                m.school_id
                for m in memberships
                if m.role is Role.HEAD_TEACHER and m.school_id is not None
            ),
        )

    @cached_property
    def user(self) -> User:
        """Their account as a database object, for the changes that record who made them:
        made from its id, name and e-mail address as read with the person this request, so
        that naming them as a change's author, or in an e-mail about it, costs no query (an
        officer's first assignment in a worker spent 13 ms reading the rest of the account
        to name them); anything else about the account is read when first asked for."""
        person = self.person
        return _as_read(User(id=person.id, email=person.email, display_name=person.display_name))

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def is_council(self) -> bool:
        return any(role.is_council for role in self.roles)

    @property
    def is_school_user(self) -> bool:
        return bool(self.roles & {Role.SCHOOL_STAFF, Role.HEAD_TEACHER, Role.TRUST_LEAD})

    @property
    def has_council_view(self) -> bool:
        """Whether pages show this person what council staff see (areas or schools to choose
        among) rather than their own schools': anyone with a council-wide role, and anyone
        with no role at a school or trust (a CAF officer). Someone who is both a school's and
        an area's keeps their schools' pages."""
        return self.council_wide or not self.is_school_user


def principal() -> Principal | None:
    """The signed-in person for this request, or None when nobody is signed in."""
    someone = current_user._get_current_object()
    if not someone.is_authenticated:
        return None
    found: Principal | None = g.get("principal")
    if found is None:
        found = g.principal = Principal.of(someone)
    return found


def current_principal() -> Principal:
    """The signed-in person; only for views already behind :func:`requires`."""
    who = principal()
    if who is None:
        abort(401)
    return who


def can(capability: Capability) -> bool:
    who = principal()
    return who is not None and who.can(capability)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def requires(capability: Capability | None = None) -> Callable[[F], F]:
    """Sign-in, and optionally a capability, for a view.

    Nobody signed in: the sign-in page (through Flask-Login). Signed in but the role may not
    use this feature: 403.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            who = principal()
            if who is None:
                return login_manager.unauthorized()
            if capability is not None and not who.can(capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def school_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`School` that holds for exactly the schools ``who`` may see.

    Fails closed: a person with no membership that grants schools sees none.
    """
    if who.council_wide:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if who.school_ids:
        conditions.append(School.id.in_(who.school_ids))
    if who.trust_ids:
        conditions.append(School.trust_id.in_(who.trust_ids))
    if who.area_ids:
        conditions.append(School.area_id.in_(who.area_ids))
    return or_(*conditions) if conditions else false()


def visible_schools(who: Principal) -> Select[tuple[School]]:
    """The schools ``who`` may see, ordered by name, ready for more filters or paging."""
    return select(School).where(school_scope(who)).order_by(School.name)


def visible_school_list(who: Principal) -> list[School]:
    """The schools ``who`` may see, by name, as :func:`visible_schools` finds them: for
    someone whose only schools are their own (staff, a head teacher), those read with them
    (no query)."""
    own = _membership_schools(who)
    if own is not None:
        return sorted(own, key=lambda school: school.name)
    return list(db.session.scalars(visible_schools(who)))


def _record(model: type[T], values: Iterable[tuple[str, Any]]) -> T:
    """A new ``model`` holding ``values`` (columns' names and values), for _as_read: put in
    its dict, as SQLAlchemy's loading does, rather than set one by one through the class's
    constructor and its attribute events, which cost as much as the rest of the page's
    knowing its school (make_transient_to_detached then takes them as loaded)."""
    record: T = model.__mapper__.class_manager.new_instance()
    record.__dict__.update(values)
    return record


def _as_read(record: T) -> T:
    """``record``, whose columns were read in this request (at least its primary key), as
    the session's object for its row, with no query: SQLAlchemy makes it as though it had
    just been read (make_transient_to_detached), and any column not given is read when first
    asked for. The session's own object for the row, if it has one, is used instead."""
    key = db.session.identity_key(instance=record)
    found: T | None = db.session.identity_map.get(key)
    if found is not None:
        return found
    make_transient_to_detached(record)
    db.session.add(record)
    return record


def own_school(who: Principal, school_id: int) -> School:
    """One of the schools ``who`` has a role at (``school_id`` in ``who.school_ids``), with
    its area's and trust's names, from what was read with them on this request: no query."""
    member = next(m for m in who.person.memberships if m.school_id == school_id)
    assert member.school is not None
    school = _as_read(_record(School, zip(SCHOOL_COLUMNS, member.school, strict=True)))
    # Its area and trust, as far as their names, so that `school.area.name` asks nothing.
    area = _as_read(_record(Area, (("id", school.area_id), ("name", member.school_area))))
    trust = None
    if school.trust_id is not None:
        trust = _as_read(_record(Trust, (("id", school.trust_id), ("name", member.school_trust))))
    set_committed_value(school, "area", area)
    set_committed_value(school, "trust", trust)
    return school


def get_school_or_404(who: Principal, school_id: int) -> School:
    if school_id in who.school_ids:
        # Their own school: no query (every buy-back page pays one round trip less).
        school: School | None = own_school(who, school_id)
    else:
        school = db.session.scalars(
            select(School).where(School.id == school_id, school_scope(who))
        ).one_or_none()
    if school is None:
        abort(404)
    return school


def _membership_schools(who: Principal) -> list[School] | None:
    """The schools :func:`school_scope` gives ``who``, when their memberships name every one
    (none of them a trust's or an area's): read with the person, so no query. None when it
    takes a query to find them."""
    if who.council_wide or who.trust_ids or who.area_ids:
        return None
    return [own_school(who, school_id) for school_id in who.school_ids]


def visible_area_ids(who: Principal) -> frozenset[int] | None:
    """The areas whose local contacts ``who`` is shown first; None means every area."""
    if who.council_wide:
        return None
    if who.roles == {Role.CAF_OFFICER}:
        return who.area_ids
    own = _membership_schools(who)
    if own is not None:
        return frozenset(school.area_id for school in own)
    school_areas = db.session.scalars(
        select(School.area_id).where(school_scope(who)).distinct()
    ).all()
    return frozenset(school_areas) | who.area_ids


def visible_school_names(who: Principal) -> list[str]:
    """The names of the schools ``who`` may see, in no particular order."""
    own = _membership_schools(who)
    if own is not None:
        return [school.name for school in own]
    return list(db.session.scalars(select(School.name).where(school_scope(who))))


# --- the contacts directory -------------------------------------------------------------------


def contact_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`Contact`: the contacts ``who`` may find. Every contact is the
    council's to publish, to everyone signed in; a retired one only to those who may still
    see retired contacts (Capability.VIEW_RETIRED_CONTACTS)."""
    if who.can(Capability.VIEW_RETIRED_CONTACTS):
        return true()
    return Contact.retired_at.is_(None)


def get_contact_or_404(who: Principal, contact_id: int) -> Contact:
    """The contact, if ``who`` may see it (see :func:`contact_scope`); else 404."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or (contact.is_retired and not who.can(Capability.VIEW_RETIRED_CONTACTS)):
        abort(404)
    return contact


# --- the services' offers ---------------------------------------------------------------------


def sees_every_offer(who: Principal) -> bool:
    """Whether ``who`` sees every services' yearly offer (drafts, withdrawn), as those who
    edit services do, whose work they are, or only the published ones: for a statement built
    once for each answer, with :func:`offer_scope`."""
    return who.can(Capability.EDIT_SERVICES)


def offer_scope(every_offer: bool) -> ColumnElement[bool]:
    """Every offer, or only the published ones."""
    return true() if every_offer else ServiceOffer.status == OfferStatus.PUBLISHED


def price_preview_schools(who: Principal) -> list[School]:
    """The schools whose prices ``who`` may preview as each school sees them: every school, by
    name, for those who set the prices (publishers, council administrators); none for anyone
    else, who sees their own schools' prices alone."""
    if not who.can(Capability.EDIT_SERVICES):
        return []
    return list(db.session.scalars(select(School).order_by(School.name)))


def get_price_preview_school_or_404(who: Principal, school_id: int) -> School | None:
    """The school ``school_id``, for ``who`` to preview its prices (see
    :func:`price_preview_schools`); None when ``who`` previews no school's prices."""
    if not who.can(Capability.EDIT_SERVICES):
        return None
    school = db.session.get(School, school_id)
    if school is None:
        abort(404)
    return school


def editable_offer_scope(who: Principal) -> ColumnElement[bool]:
    """The offers ``who`` may change, price and publish. Publishers and council
    administrators keep the council's whole offer (docs/architecture.md); nobody else edits any.
    Fails closed."""
    return true() if who.can(Capability.EDIT_SERVICES) else false()


def support_request_scope(who: Principal) -> ColumnElement[bool]:
    """The CAF support requests ``who`` may see (docs/architecture.md): staff the ones they
    raised, head teachers their school's, trust leads their academies', officers their areas',
    council administrators all. Publishers none."""
    return _support_condition(*support_request_scope_shape(who))


class SupportScope(NamedTuple):
    """Which of support_request_scope's conditions apply to someone: statements that depend
    on it are made once per shape, their values bound when they run
    (:func:`support_request_scope_shape`)."""

    everything: bool = False
    raised: bool = False  # those they raised, at the schools where they are staff
    led: bool = False  # their schools', where they lead (head teachers)
    trusts: bool = False  # their trusts' academies'
    areas: bool = False  # their areas' (CAF officers)


def support_request_scope_shape(who: Principal) -> tuple[SupportScope, dict[str, Any]]:
    """The shape of ``who``'s support_request_scope and the values it binds."""
    if Role.LA_ADMIN in who.roles:
        return SupportScope(everything=True), {}
    values: dict[str, Any] = {}
    staff_schools = who.school_ids - who.led_school_ids
    if staff_schools:
        values["scope_person"] = who.person.id
        values["scope_staff_schools"] = sorted(staff_schools)
    if who.led_school_ids:
        values["scope_led_schools"] = sorted(who.led_school_ids)
    if who.trust_ids:
        values["scope_trusts"] = sorted(who.trust_ids)
    areas = Role.CAF_OFFICER in who.roles and who.area_ids
    if areas:
        values["scope_areas"] = sorted(who.area_ids)
    shape = SupportScope(
        raised=bool(staff_schools),
        led=bool(who.led_school_ids),
        trusts=bool(who.trust_ids),
        areas=bool(areas),
    )
    return shape, values


@lru_cache(maxsize=32)
def support_request_condition(shape: SupportScope) -> ColumnElement[bool]:
    """support_request_scope's condition of each shape, built once, its values bound by name
    when it runs (support_request_scope_shape's)."""
    return _support_condition(shape, None)


def _support_condition(shape: SupportScope, values: dict[str, Any] | None) -> ColumnElement[bool]:
    """The condition of ``shape``, with ``values`` in it, or (None) bound by name later."""

    def value(name: str, expanding: bool = True) -> Any:
        return bindparam(name, expanding=expanding) if values is None else values[name]

    if shape.everything:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if shape.raised:
        conditions.append(
            (SupportRequest.requester_id == value("scope_person", expanding=False))
            & SupportRequest.school_id.in_(value("scope_staff_schools"))
        )
    if shape.led:
        conditions.append(SupportRequest.school_id.in_(value("scope_led_schools")))
    if shape.trusts:
        conditions.append(
            SupportRequest.school_id.in_(
                select(School.id).where(School.trust_id.in_(value("scope_trusts")))
            )
        )
    if shape.areas:
        conditions.append(SupportRequest.area_id.in_(value("scope_areas")))
    return or_(*conditions) if conditions else false()


def may_act_on_support_request(who: Principal, request: Any) -> bool:
    """Officers act on their areas' requests; council administrators on all."""
    if Role.LA_ADMIN in who.roles:
        return True
    return Role.CAF_OFFICER in who.roles and request.area_id in who.area_ids


def may_assign_support_request(who: Principal, request: Any) -> bool:
    """Who gives a request to an officer: its area's officers and council administrators,
    while it is still open."""
    return may_act_on_support_request(who, request) and request.status.is_open


def may_be_assigned_support_request(user: User, request: Any) -> bool:
    """Who a request may be given to: an active CAF officer of the request's area."""
    return user.is_active and any(
        m.role is Role.CAF_OFFICER and m.area_id == request.area_id for m in user.memberships
    )


def visible_support_events(who: Principal, events: Iterable[Any]) -> list[Any]:
    """The entries of a request's timeline (``events``, each with ``assignment``,
    ``shared_with_school`` and ``note``) that ``who`` may read: the council every one; a
    school its status changes and the notes shared with it, not the officers' private notes
    nor whom the council gave the request to."""
    if who.is_council:
        return list(events)
    return [e for e in events if not e.assignment and (e.shared_with_school or e.note is None)]


def support_caseworker(who: Principal) -> bool:
    """A CAF officer, whose home page is their queue."""
    return Role.CAF_OFFICER in who.roles and bool(who.area_ids)


def support_statistics_area_ids(who: Principal) -> frozenset[int] | None:
    """The areas whose support figures ``who`` sees: an officer's own, all (None) for
    council administrators, none for anyone else."""
    if not who.can(Capability.VIEW_SUPPORT_STATISTICS):
        return frozenset()
    if Role.LA_ADMIN in who.roles:
        return None
    return who.area_ids if Role.CAF_OFFICER in who.roles else frozenset()


def get_support_request_or_404(who: Principal, request_id: int) -> Any:
    found = db.session.scalars(
        select(SupportRequest).where(SupportRequest.id == request_id, support_request_scope(who))
    ).one_or_none()
    if found is None:
        abort(404)
    return found


# --- managing people's accounts (Capability.MANAGE_USERS) -------------------------------------


def managed_school_ids(who: Principal) -> frozenset[int] | None:
    """The schools whose staff ``who`` manages; None means every account (administrators).

    Head teachers manage their own schools' staff, trust leads their academies' staff.
    Fails closed: anyone without the capability manages nobody.
    """
    if not who.can(Capability.MANAGE_USERS):
        return frozenset()
    if Role.LA_ADMIN in who.roles:
        return None
    # Asked for each scope a page builds (its people and its invitations): read once.
    memo = request_memo("managed_school_ids")
    key = (who.person.id, who.roles, who.led_school_ids, who.trust_ids)
    if key not in memo:
        school_ids = set(who.led_school_ids)
        if Role.TRUST_LEAD in who.roles and who.trust_ids:
            school_ids.update(
                db.session.scalars(select(School.id).where(School.trust_id.in_(who.trust_ids)))
            )
        memo[key] = frozenset(school_ids)
    found: frozenset[int] = memo[key]
    return found


def visible_memberships(who: Principal, user: User) -> list[Membership]:
    """The roles of ``user`` (an account ``who`` manages) that ``who`` is shown: every one for
    a council administrator; for a school's leaders only those at the schools they manage.
    Where else someone works is not the school's to know."""
    school_ids = managed_school_ids(who)
    return [m for m in user.memberships if school_ids is None or m.school_id in school_ids]


def removable_memberships(who: Principal, user: User) -> list[Membership]:
    """The roles of ``user`` that ``who`` may take away (Capability.REMOVE_FROM_SCHOOLS):
    those at the schools ``who`` leads, whether or not ``user`` has access anywhere else. A
    council administrator deactivates an account rather than removing its roles: nothing to
    remove."""
    if not who.can(Capability.REMOVE_FROM_SCHOOLS):
        return []
    school_ids = managed_school_ids(who) or frozenset()
    return [m for m in user.memberships if m.school_id in school_ids]


def managed_user_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`User` that holds for exactly the accounts ``who`` manages:
    for a school, the people with a role there (someone only invited is not one of them:
    the school sees the invitation, never the account)."""
    school_ids = managed_school_ids(who)
    if school_ids is None:
        return true()
    if not school_ids:
        return false()
    return User.id.in_(select(Membership.user_id).where(Membership.school_id.in_(school_ids)))


def managed_invitation_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`MembershipInvitation`: the invitations ``who`` manages, those
    to their schools (every one, for administrators)."""
    school_ids = managed_school_ids(who)
    if school_ids is None:
        return true()
    if not school_ids:
        return false()
    return MembershipInvitation.school_id.in_(school_ids)


def get_managed_user_or_404(who: Principal, user_id: int) -> User:
    found = db.session.scalars(
        select(User).where(User.id == user_id, managed_user_scope(who))
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def may_unlock(who: Principal, user: User) -> bool:
    """Whether ``who`` may lift the lock that failed sign-ins put on ``user``'s account, for
    an account ``who`` manages (found with :func:`get_managed_user_or_404`): a council
    administrator anyone's, a head teacher or trust lead that of anyone with a role at their
    schools.

    A lock is on the whole account, wherever else its owner works, and the answer is the same
    whatever else the account may do: a school is told nothing of that. Unlocking gives a
    guesser no more than the lock's own end would (a new count of failures, after which the
    account locks again), a council account still wants its second factor, and the owner is
    e-mailed. Never one's own account: the e-mailed link is for that.
    """
    return who.can(Capability.UNLOCK_ACCOUNTS) and user.id != who.person.id


def get_managed_invitation_or_404(who: Principal, invitation_id: int) -> MembershipInvitation:
    found = db.session.scalars(
        select(MembershipInvitation).where(
            MembershipInvitation.id == invitation_id, managed_invitation_scope(who)
        )
    ).one_or_none()
    if found is None:
        abort(404)
    return found


# --- training ---------------------------------------------------------------------------------


def manages_training(who: Principal) -> bool:
    """Whether ``who`` sees every course (drafts and withdrawn ones too), every session's
    bookings and every school's places: the training coordinator and council administrators."""
    return who.can(Capability.MANAGE_TRAINING)


def course_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`Course`: published courses for everyone, every course for
    those who manage training."""
    if manages_training(who):
        return true()
    return Course.status == CourseStatus.PUBLISHED


def get_course_or_404(who: Principal, course_id: int) -> Course:
    found = db.session.scalars(
        select(Course).where(Course.id == course_id, course_scope(who))
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def get_course_session_or_404(who: Principal, session_id: int) -> CourseSession:
    found = db.session.scalars(
        select(CourseSession)
        .join(Course, Course.id == CourseSession.course_id)
        .where(CourseSession.id == session_id, course_scope(who))
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def training_school_ids(who: Principal) -> frozenset[int] | None:
    """The schools whose places ``who`` may book, see and act on: None for every school
    (those who manage training); otherwise their own schools and their trusts' (read with
    the person: no query for staff or a head teacher)."""
    if manages_training(who):
        return None
    if not who.can(Capability.BOOK_TRAINING):
        return frozenset()
    own = _membership_schools(who)
    if own is not None:
        return frozenset(school.id for school in own)
    return frozenset(
        db.session.scalars(
            select(School.id).where(
                or_(School.id.in_(who.school_ids), School.trust_id.in_(who.trust_ids))
            )
        )
    )


def booking_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`Booking`: the places of the schools ``who`` books for (every
    place, for those who manage training)."""
    school_ids = training_school_ids(who)
    if school_ids is None:
        return true()
    if not school_ids:
        return false()
    return Booking.school_id.in_(school_ids)


def get_booking_or_404(who: Principal, booking_id: int) -> Booking:
    found = db.session.scalars(
        select(Booking).where(Booking.id == booking_id, booking_scope(who))
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def leads_school(who: Principal, school_id: int) -> bool:
    """Whether ``who`` leads ``school_id``: its head teacher, or the lead of its trust."""
    if school_id in who.led_school_ids:
        return True
    if Role.TRUST_LEAD not in who.roles or not who.trust_ids:
        return False
    return (
        db.session.scalar(
            select(School.id).where(School.id == school_id, School.trust_id.in_(who.trust_ids))
        )
        is not None
    )


def may_act_on_booking(who: Principal, booking: Booking) -> bool:
    """Cancelling a place, or swapping who attends: whoever booked it, the attendee, the
    school's leaders, and those who manage training. (Found with get_booking_or_404 first.)"""
    if manages_training(who):
        return True
    person = who.person.id
    return (
        booking.booked_by_id == person
        or booking.attendee_user_id == person
        or leads_school(who, booking.school_id)
    )


def may_approve_booking(
    who: Principal, booking: Booking, settings: SchoolTrainingSettings | None
) -> bool:
    """Approving or refusing a place that waits for it: the school's named training lead if
    it has one, and always its head teacher (or trust lead), who answers for the school."""
    if not who.can(Capability.BOOK_TRAINING):
        return False
    if settings is not None and settings.training_lead_id == who.person.id:
        return booking.school_id in (training_school_ids(who) or frozenset())
    return leads_school(who, booking.school_id)


def approvable_booking_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`Booking`: the places ``who`` may approve or refuse, as
    :func:`may_approve_booking` decides one: those of the schools they lead, and of the
    schools that name them as training lead."""
    if not who.can(Capability.BOOK_TRAINING):
        return false()
    conditions: list[ColumnElement[bool]] = []
    if who.led_school_ids:
        conditions.append(Booking.school_id.in_(who.led_school_ids))
    if Role.TRUST_LEAD in who.roles and who.trust_ids:
        conditions.append(
            Booking.school_id.in_(select(School.id).where(School.trust_id.in_(who.trust_ids)))
        )
    own = training_school_ids(who) or frozenset()
    if own:
        conditions.append(
            Booking.school_id.in_(
                select(SchoolTrainingSettings.school_id).where(
                    SchoolTrainingSettings.training_lead_id == who.person.id,
                    SchoolTrainingSettings.school_id.in_(own),
                )
            )
        )
    return or_(*conditions) if conditions else false()


def may_set_training_approval(who: Principal, school_id: int) -> bool:
    return who.can(Capability.SET_TRAINING_APPROVAL) and leads_school(who, school_id)


def training_schools(who: Principal) -> list[School]:
    """The schools whose places ``who`` books (training_school_ids), as rows by name, to
    price and book for: read with the person for staff and head teachers (no query); none
    for those who manage training, who see the council's view rather than a school's."""
    school_ids = training_school_ids(who)
    if not school_ids:
        return []
    own = _membership_schools(who)
    if own is not None:
        return sorted(own, key=lambda school: school.name)
    return list(
        db.session.scalars(select(School).where(School.id.in_(school_ids)).order_by(School.name))
    )


def may_evaluate(who: Principal, booking: Booking) -> bool:
    """Filling in a booking's evaluation: the attendee (their account, or the account with
    the e-mail address they were booked under); and, for an attendee with no account, the
    colleague who booked the place for them, who can sit down with them to do it. Not the
    school's leaders or the council: an evaluation is the attendee's own view. (Found with
    get_booking_or_404 first.)"""
    if not who.can(Capability.BOOK_TRAINING):
        return False
    person = who.person
    if booking.attendee_user_id == person.id or booking.attendee_email == person.email.lower():
        return True
    return booking.attendee_user_id is None and booking.booked_by_id == person.id


def supply_school_ids(who: Principal) -> frozenset[int] | None:
    """The schools whose supply-cover claims and balances ``who`` sees: None for every
    school (those who manage the funds)."""
    if who.can(Capability.MANAGE_SUPPLY_FUNDS):
        return None
    if not who.can(Capability.CLAIM_SUPPLY_COVER):
        return frozenset()
    return training_school_ids(who) or frozenset()


def claim_scope(who: Principal) -> ColumnElement[bool]:
    school_ids = supply_school_ids(who)
    if school_ids is None:
        return true()
    if not school_ids:
        return false()
    return SupplyClaim.school_id.in_(school_ids)


def get_claim_or_404(who: Principal, claim_id: int) -> SupplyClaim:
    found = db.session.scalars(
        select(SupplyClaim).where(SupplyClaim.id == claim_id, claim_scope(who))
    ).one_or_none()
    if found is None:
        abort(404)
    return found


def get_fund_or_404(who: Principal, fund_id: int) -> SupplyFund:
    """A fund: any, for those who manage funds; for schools, one whose allocations are
    confirmed (a draft is the council's alone)."""
    query = select(SupplyFund).where(SupplyFund.id == fund_id)
    if not who.can(Capability.MANAGE_SUPPLY_FUNDS):
        if not who.can(Capability.CLAIM_SUPPLY_COVER):
            abort(404)
        query = query.where(SupplyFund.status != FundStatus.DRAFT)
    found = db.session.scalars(query).one_or_none()
    if found is None:
        abort(404)
    return found


def reported_fund_scope(who: Principal) -> ColumnElement[bool]:
    """A condition on :class:`SupplyFund`: the funds in the take-up reports, for those who
    see them: every fund whose allocations are confirmed (a draft's may still change)."""
    if not who.can(Capability.VIEW_TRAINING_REPORTS):
        return false()
    return SupplyFund.status != FundStatus.DRAFT
