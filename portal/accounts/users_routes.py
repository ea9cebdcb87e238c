"""Managing other people's accounts and invitations (``/users/...``): for a school's leaders,
their schools' people; for council administrators, everyone's. Each view reads its request,
calls one function of the accounts capability, and renders or redirects."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import (
    Capability,
    current_principal,
    get_managed_invitation_or_404,
    get_managed_user_or_404,
    requires,
)
from portal.accounts import bp
from portal.accounts.forms import ConfirmForm, InviteForm
from portal.accounts.invitations import invite, invite_options, withdraw_invitation
from portal.accounts.listing import invitation_page, person_page, user_page
from portal.accounts.roles import describe_membership
from portal.accounts.unlocks import unlock_account
from portal.accounts.users import (
    Deactivation,
    Refused,
    deactivate,
    reactivate,
    remove_from_schools,
    reset_second_factor,
    second_factor_reset_refusal,
)
from portal.rendering import render_page


@bp.get("/users/")
@requires(Capability.MANAGE_USERS)
def users() -> ResponseReturnValue:
    who = current_principal()
    query = request.args.get("q", "").strip()[:100]
    page = user_page(who, query=query, page=request.args.get("page", 1, type=int) or 1)
    return render_page("accounts/users.html", fragment="results", page=page, query=query)


@bp.route("/users/invite", methods=["GET", "POST"])
@requires(Capability.MANAGE_USERS)
def invite_user() -> ResponseReturnValue:
    who = current_principal()
    form = InviteForm(invite_options(who))
    if form.validate_on_submit():
        invitation = form.invitation()
        invite(who, invitation)
        # The same words whether or not the address already had an account.
        flash(
            f"We have sent {invitation.email} an invitation. They will have the role once they "
            "accept it.",
            "success",
        )
        return redirect(url_for("accounts.users"), 303)
    return render_page("accounts/invite.html", form=form)


@bp.get("/users/<int:user_id>")
@requires(Capability.MANAGE_USERS)
def user(user_id: int) -> ResponseReturnValue:
    who = current_principal()
    shown = person_page(who, get_managed_user_or_404(who, user_id))
    return render_page(
        "accounts/user.html",
        row=shown.row,
        is_self=shown.is_self,
        needs_second_factor=shown.needs_second_factor,
        may_reset_second_factor=shown.may_reset_second_factor,
        may_unlock=shown.may_unlock,
        form=ConfirmForm(),
        describe=describe_membership,
    )


@bp.post("/users/<int:user_id>/remove")
@requires(Capability.REMOVE_FROM_SCHOOLS)
def remove_user(user_id: int) -> ResponseReturnValue:
    who = current_principal()
    account = get_managed_user_or_404(who, user_id)
    back = url_for("accounts.user", user_id=account.id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back, 303)
    try:
        remove_from_schools(who, account)
    except Refused as refusal:
        flash(str(refusal), "error")
        return redirect(back, 303)
    flash(f"{account.display_name} no longer has access to your schools.", "success")
    return redirect(url_for("accounts.users"), 303)


@bp.post("/users/<int:user_id>/deactivate")
@requires(Capability.ADMINISTER_ACCOUNTS)
def deactivate_user(user_id: int) -> ResponseReturnValue:
    who = current_principal()
    account = get_managed_user_or_404(who, user_id)
    back = url_for("accounts.user", user_id=account.id)
    if not ConfirmForm().validate_on_submit():
        return redirect(back, 303)
    try:
        outcome = deactivate(who, account)
    except Refused as refusal:
        flash(str(refusal), "error")
        return redirect(back, 303)
    name = account.display_name
    messages = {
        Deactivation.DEACTIVATED: f"{name}'s account has been deactivated and signed out.",
        Deactivation.INVITATION_WITHDRAWN: f"{name}'s invitation has been withdrawn.",
        Deactivation.ALREADY_INACTIVE: f"{name}'s account was already deactivated.",
    }
    flash(messages[outcome], "success")
    return redirect(back, 303)


@bp.post("/users/<int:user_id>/reactivate")
@requires(Capability.ADMINISTER_ACCOUNTS)
def reactivate_user(user_id: int) -> ResponseReturnValue:
    who = current_principal()
    account = get_managed_user_or_404(who, user_id)
    back = url_for("accounts.user", user_id=account.id)
    if ConfirmForm().validate_on_submit():
        try:
            reactivate(who, account)
        except Refused as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"{account.display_name} can sign in again.", "success")
    return redirect(back, 303)


@bp.post("/users/<int:user_id>/unlock")
@requires(Capability.UNLOCK_ACCOUNTS)
def unlock_user(user_id: int) -> ResponseReturnValue:
    """Lift the lock that failed sign-ins put on an account, when its owner asks."""
    who = current_principal()
    account = get_managed_user_or_404(who, user_id)
    if ConfirmForm().validate_on_submit():
        try:
            unlock_account(who, account)
        except Refused as refusal:
            flash(str(refusal), "error")
        else:
            flash(
                f"{account.display_name}'s account is unlocked: they can sign in from any "
                "browser again. We have e-mailed them to say so.",
                "success",
            )
    return redirect(url_for("accounts.user", user_id=account.id), 303)


@bp.get("/users/invitations/<int:invitation_id>")
@requires(Capability.MANAGE_USERS)
def invitation(invitation_id: int) -> ResponseReturnValue:
    who = current_principal()
    shown = invitation_page(who, get_managed_invitation_or_404(who, invitation_id))
    return render_page(
        "accounts/invitation.html",
        row=shown.row,
        account_id=shown.account_id,
        form=ConfirmForm(),
        describe=describe_membership,
    )


@bp.post("/users/invitations/<int:invitation_id>/withdraw")
@requires(Capability.MANAGE_USERS)
def withdraw(invitation_id: int) -> ResponseReturnValue:
    who = current_principal()
    offer = get_managed_invitation_or_404(who, invitation_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("accounts.invitation", invitation_id=offer.id), 303)
    name, email = offer.invited_name, offer.email
    withdraw_invitation(who, offer)
    flash(f"The invitation to {name} ({email}) has been withdrawn.", "success")
    return redirect(url_for("accounts.users"), 303)


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["GET", "POST"])
@requires(Capability.RESET_SECOND_FACTOR)
def reset_second_factor_page(user_id: int) -> ResponseReturnValue:
    """Asks first, then takes away a council person's lost authenticator app."""
    who = current_principal()
    account = get_managed_user_or_404(who, user_id)
    back = url_for("accounts.user", user_id=account.id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            reset_second_factor(who, account)
        except Refused as refusal:
            flash(str(refusal), "error")
            return redirect(back, 303)
        flash(
            f"{account.display_name}'s authenticator app has been reset, and they have been "
            "signed out. They will set up an app again when they next sign in. We have "
            "e-mailed them to say so.",
            "success",
        )
        return redirect(back, 303)
    refusal = second_factor_reset_refusal(who, account)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(back, 303)
    return render_page("accounts/reset-two-factor.html", account=account, form=form)
