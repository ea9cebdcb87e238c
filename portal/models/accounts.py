"""People, their roles in organisations (held or offered), the single-use links sent to
them, and the browsers that got their sign-in wrong."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.clock import utcnow
from portal.db import Base, UTCDateTime
from portal.models.base import stored_enum
from portal.models.schools import Area, School, Trust


class Role(enum.StrEnum):
    """What a person does in the portal. Each role belongs to one kind of organisation."""

    SCHOOL_STAFF = "school_staff"
    HEAD_TEACHER = "head_teacher"
    TRUST_LEAD = "trust_lead"
    CAF_OFFICER = "caf_officer"
    PUBLISHER = "publisher"
    LA_ADMIN = "la_admin"
    # Publishes courses and their sessions, keeps their registers, reports their take-up.
    TRAINING_COORDINATOR = "training_coordinator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_council(self) -> bool:
        return self in (
            Role.CAF_OFFICER,
            Role.PUBLISHER,
            Role.LA_ADMIN,
            Role.TRAINING_COORDINATOR,
        )


ROLE_LABELS = {
    Role.SCHOOL_STAFF: "School staff",
    Role.HEAD_TEACHER: "Head teacher",
    Role.TRUST_LEAD: "Trust lead",
    Role.CAF_OFFICER: "CAF officer",
    Role.PUBLISHER: "Service publisher",
    Role.LA_ADMIN: "Council administrator",
    Role.TRAINING_COORDINATOR: "Training coordinator",
}


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Part of the session's identity: raising it ends every session signed in before.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once a password has been chosen (an invited user has none until they accept).
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Failures from browsers the account does not know, and how long they are refused for
    # (portal/auth/lockout.py): the account's own browsers are counted in SignInDevice.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The second factor for council staff: a TOTP secret, and hashed one-time recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # The 30-second time step of the last authenticator code accepted: a code is for one
    # sign-in, so none for this step or an earlier one is accepted again.
    totp_last_step: Mapped[int | None] = mapped_column()

    # Loaded when asked for (the signed-in person's with them, by load_user; a list of
    # accounts with selectinload), not with every User that some other row refers to.
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id}>"


# One account per address whatever its case: Head@Oakfield and head@oakfield are one.
Index("uq_user_account_email_lower", func.lower(User.email), unique=True)
# The accounts list is in name order: one page of it without sorting every account.
Index("ix_user_account_display_name_lower", func.lower(User.display_name), User.id)


class RoleInOrganisation:
    """A role in one organisation (a school, a trust, an area or the council): as a
    :class:`Membership` holds it, and as a :class:`MembershipInvitation` offers it."""

    role: Mapped[Role] = mapped_column(stored_enum(Role, "role"))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trust.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)

    @declared_attr
    def school(cls) -> Mapped[School | None]:
        return relationship(lazy="joined")

    @declared_attr
    def trust(cls) -> Mapped[Trust | None]:
        return relationship(lazy="joined")

    @declared_attr
    def area(cls) -> Mapped[Area | None]:
        return relationship(lazy="joined")

    @property
    def organisation_name(self) -> str:
        organisation = self.school or self.trust or self.area
        return organisation.name if organisation is not None else "the council"


def _organisation_matches_role() -> CheckConstraint:
    return CheckConstraint(
        "(role IN ('school_staff', 'head_teacher') AND school_id IS NOT NULL"
        " AND trust_id IS NULL AND area_id IS NULL)"
        " OR (role = 'trust_lead' AND trust_id IS NOT NULL"
        " AND school_id IS NULL AND area_id IS NULL)"
        " OR (role = 'caf_officer' AND area_id IS NOT NULL"
        " AND school_id IS NULL AND trust_id IS NULL)"
        " OR (role IN ('publisher', 'la_admin', 'training_coordinator')"
        " AND school_id IS NULL"
        " AND trust_id IS NULL AND area_id IS NULL)",
        name="organisation_matches_role",
    )


class Membership(RoleInOrganisation, Base):
    """A person's role in one organisation: what they may see and do there.

    Every row grants access (portal/access.py reads them all). A role someone has been
    offered and not yet accepted is a :class:`MembershipInvitation`, never a row here.
    """

    __tablename__ = "membership"
    __table_args__ = (_organisation_matches_role(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User] = relationship(back_populates="memberships")


class MembershipInvitation(RoleInOrganisation, Base):
    """A role offered to an e-mail address by a head teacher, trust lead or council
    administrator, waiting for an answer. It gives no access: accepted, it becomes a
    :class:`Membership` of the address's account (made then, for someone new) and is gone;
    declined, it stays so that whoever invited them sees the answer.

    It names the address, not an account: nothing written when inviting says whether the
    address had one, and those who manage the organisation see only what they typed.
    """

    __tablename__ = "membership_invitation"
    __table_args__ = (_organisation_matches_role(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # In lower case, as the invite form leaves it.
    email: Mapped[str] = mapped_column(String(254), index=True)
    # The name the inviter typed: what the organisation sees until the person accepts.
    invited_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # The links sent for it: they end with it (withdrawn, or accepted).
    tokens: Mapped[list[AccountToken]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True
    )


class TokenPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a password)
    # Lets one more browser sign in while those the account does not know are locked out.
    SIGN_IN_UNLOCK = "sign_in_unlock"


class AccountToken(Base):
    """A single-use link sent by e-mail: to answer an invitation, reset a password, or sign in
    from a new browser while the account is under attack.

    Only a hash of the token is stored, so the table is no use to someone who reads it.
    """

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account it is for: none for an invitation's link, which is for an address.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(stored_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The invitation this link answers. None for a reset, and for an invitation's link sent
    # before invitations waited for an answer: that one opens the account it was sent for.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("membership_invitation.id", ondelete="CASCADE"), index=True
    )

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    invitation: Mapped[MembershipInvitation | None] = relationship(back_populates="tokens")


class SignInDevice(Base):
    """A browser the account knows (it holds the account's device cookie) that has got the
    password or a security code wrong: its own count of failures, apart from the account's
    count for every other browser, and until when it is known no longer.

    Made at such a browser's first failure, removed at its next complete sign-in. The
    cookie's nonce is kept only as a hash.
    """

    __tablename__ = "sign_in_device"
    __table_args__ = (UniqueConstraint("user_id", "device"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(64))
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime())
