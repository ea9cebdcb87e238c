"""A person's own account (``/account/...``): answering an invitation, a forgotten password,
changing it. Each view reads its request, calls one function of the accounts capability,
and renders or redirects; those who manage other people's accounts have theirs in
users_routes.py."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue

from portal.access import current_principal, principal, requires
from portal.accounts import bp
from portal.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    NewPasswordForm,
)
from portal.accounts.invitations import (
    Accepted,
    Answering,
    accept_invitation,
    accept_role,
    answering,
    decline_invitation,
)
from portal.accounts.passwords import change_password, request_password_reset, reset_password
from portal.accounts.tokens import LinkUnusable, looks_like_token, usable_token
from portal.accounts.unlocks import use_unlock_link
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
