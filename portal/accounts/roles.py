"""Roles and where they are, as the accounts pages and e-mails name them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from portal.models import Role, RoleInOrganisation

if TYPE_CHECKING:
    from portal.accounts.invitations import Invitation

# The roles a head teacher or trust lead may give, at their own schools.
SCHOOL_ROLES = (Role.SCHOOL_STAFF, Role.HEAD_TEACHER)


def describe_membership(membership: RoleInOrganisation) -> str:
    """'Head teacher, Oakfield Primary School', 'CAF officer for the North area'."""
    if membership.area is not None:
        return f"{membership.role.label} for the {membership.area.name} area"
    organisation = membership.school or membership.trust
    if organisation is not None:
        return f"{membership.role.label}, {organisation.name}"
    return f"{membership.role.label}, {current_app.config['COUNCIL_NAME']}"


def role_and_place(
    held: RoleInOrganisation | Invitation,
) -> tuple[Role, int | None, int | None, int | None]:
    """A role and where it is, to tell whether two are the same."""
    return (held.role, held.school_id, held.trust_id, held.area_id)
