"""Accounts: each view reads its request, calls one function of the accounts capability, and
renders or redirects.

``/account/...`` is a person's own account: answering an invitation, a forgotten password,
changing it. ``/users/...`` is for those who manage other people's accounts and invitations.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import (
    Capability,
    current_principal,
    get_managed_invitation_or_404,
    get_managed_user_or_404,
    principal,
    requires,
)
from portal.accounts import bp
from portal.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    InviteForm,
    NewPasswordForm,
)
from portal.accounts.invitations import (
    Accepted,
    Answering,
    accept_invitation,
    accept_role,
    answering,
    decline_invitation,
    invite,
    invite_options,
    withdraw_invitation,
)
from portal.accounts.listing import invitation_page, person_page, user_page
from portal.accounts.passwords import change_password, request_password_reset, reset_password
from portal.accounts.roles import describe_membership
from portal.accounts.tokens import LinkUnusable, looks_like_token, usable_token
from portal.accounts.unlocks import unlock_account, use_unlock_link
from portal.accounts.users import (
    Deactivation,
    Refused,
    deactivate,
    reactivate,
    remove_from_schools,
    reset_second_factor,
    second_factor_reset_refusal,
)
from portal.auth.service import NextStep
from portal.models import AccountToken, TokenPurpose
from portal.rendering import render_page

CURRENT_NOT_CORRECT = "The current password is not correct"
# What an invitation's new member is told, by the step of signing in they go on to.
STILL_TO_DO = {
    NextStep.SECURITY_CODE: "Enter the code from your authenticator app to finish signing in.",
    NextStep.SET_UP_SECOND_FACTOR: "Your role needs an authenticator app: set one up to carry on.",
    NextStep.SIGNED_IN: "",
}


def _link_or_none(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """The link's token if it can be used; None if it was ours but cannot (expired, used).

    Anything that could never have been a link of ours is simply not found.
    """
    if not looks_like_token(raw):
        abort(404)
    return usable_token(raw, purpose)


def _link_gone(purpose: TokenPurpose) -> ResponseReturnValue:
    # 410 Gone: the page is clear for a person, and the status for anything else.
    return render_page("accounts/link-gone.html", purpose=purpose.value), 410


# --- a person's own account ------------------------------------------------------------------


@bp.route("/account/accept/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    """An invitation's link: someone new chooses a password; someone with an account signs
    in, then accepts or declines."""
    found = _link_or_none(token, TokenPurpose.INVITATION)
    if found is None:
        return _link_gone(TokenPurpose.INVITATION)
    link = answering(found)
    if not link.needs_password:
        return _answer(found, token, link)
    offer = link.offer
    form = NewPasswordForm(offer.email)
    if form.validate_on_submit():
        try:
            accepted = accept_invitation(found, form.password.data or "")
        except LinkUnusable:
            return _link_gone(TokenPurpose.INVITATION)
        return _onwards(accepted, "Your account is ready.")
    return render_page(
        "accounts/new-password.html",
        form=form,
        email=offer.email,
        title="Set your password",
        intro="Choose a password to finish setting up your account.",
        offer=offer,
        token=token,
        decline_form=ConfirmForm(),
    )


def _answer(found: AccountToken, token: str, link: Answering) -> ResponseReturnValue:
    """The page where the owner of an open account, signed in, accepts or declines."""
    refusal = _unless_owner(link, token)
    if refusal is not None:
        return refusal
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accepted = accept_role(found, current_principal().user)
        except LinkUnusable:
            return _link_gone(TokenPurpose.INVITATION)
        return _onwards(accepted, "You have accepted the invitation.")
    return render_page(
        "accounts/answer-invitation.html",
        offer=link.offer,
        token=token,
        form=form,
        decline_form=ConfirmForm(),
    )


def _onwards(accepted: Accepted, done: str) -> ResponseReturnValue:
    """On from an accepted invitation, signed in: home, or the step of signing in that the
    role still needs."""
    said = [done, f"You are now {accepted.role}." if accepted.role else ""]
    flash(" ".join(part for part in [*said, STILL_TO_DO[accepted.next_step]] if part), "success")
    return redirect(url_for(accepted.next_step.value), 303)


def _unless_owner(link: Answering, token: str) -> ResponseReturnValue | None:
    """None when the account the link is for is the one signed in. Otherwise: nobody signed
    in, to sign in and back to the link; someone else, refused."""
    who = principal()
    if who is None:
        flash("Sign in to answer your invitation.")
        return redirect(url_for("auth.sign_in", next=url_for("accounts.accept", token=token)), 303)
    account = link.account
    if account is None or who.person.id != account.id:
        return render_page("accounts/not-your-invitation.html"), 403
    return None


@bp.post("/account/decline/<token>")
def decline(token: str) -> ResponseReturnValue:
    found = _link_or_none(token, TokenPurpose.INVITATION)
    if found is None:
        return _link_gone(TokenPurpose.INVITATION)
    # Someone new declines with the link alone; someone with an account, signed in as it.
    link = answering(found)
    has_account = not link.needs_password
    if has_account:
        refusal = _unless_owner(link, token)
        if refusal is not None:
            return refusal
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("accounts.accept", token=token), 303)
    try:
        decline_invitation(found)
    except LinkUnusable:
        return _link_gone(TokenPurpose.INVITATION)
    flash("You have declined the invitation. Nothing has been added to any account.", "success")
    return redirect(url_for("main.home" if has_account else "auth.sign_in"), 303)


@bp.route("/account/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data or "")
        # The same page whether or not the address has an account.
        return render_page("accounts/forgot-sent.html")
    return render_page("accounts/forgot.html", form=form)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    found = _link_or_none(token, TokenPurpose.PASSWORD_RESET)
    if found is None or found.user is None:
        return _link_gone(TokenPurpose.PASSWORD_RESET)
    form = NewPasswordForm(found.user.email)
    if form.validate_on_submit():
        try:
            reset_password(found, form.password.data or "")
        except LinkUnusable:
            return _link_gone(TokenPurpose.PASSWORD_RESET)
        flash(
            "Your password has been changed, and you have been signed out everywhere. "
            "Sign in with your new password.",
            "success",
        )
        return redirect(url_for("auth.sign_in"), 303)
    return render_page(
        "accounts/new-password.html",
        form=form,
        email=found.user.email,
        title="Choose a new password",
        intro="Your new password replaces the old one everywhere you sign in.",
    )


@bp.route("/account/unlock/<token>", methods=["GET", "POST"])
def unlock(token: str) -> ResponseReturnValue:
    """The link e-mailed while browsers the account does not know are locked out of it.

    Opening it changes nothing (mail scanners open links to look at them, and must not use
    this one up): the button does, in the browser the person wants to sign in from.
    """
    found = _link_or_none(token, TokenPurpose.SIGN_IN_UNLOCK)
    if found is None:
        return _link_gone(TokenPurpose.SIGN_IN_UNLOCK)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            use_unlock_link(found)
        except LinkUnusable:
            return _link_gone(TokenPurpose.SIGN_IN_UNLOCK)
        flash(
            "This browser can now sign in to your account. Sign in with your e-mail address "
            "and password.",
            "success",
        )
        return redirect(url_for("auth.sign_in"), 303)
    return render_page("accounts/unlock.html", form=form, user=found.user)


@bp.route("/account/password", methods=["GET", "POST"])
@requires()
def change_password_page() -> ResponseReturnValue:
    user = current_principal().user
    form = ChangePasswordForm(user.email)
    if form.validate_on_submit():
        if change_password(user, form.current_password.data or "", form.password.data or ""):
            flash(
                "Your password has been changed. Anywhere else you were signed in has been "
                "signed out.",
                "success",
            )
            return redirect(url_for("main.home"), 303)
        form.current_password.errors = [CURRENT_NOT_CORRECT]
    return render_page("accounts/change-password.html", form=form)


# --- managing other people's accounts --------------------------------------------------------


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
