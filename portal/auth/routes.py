from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from portal.access import current_principal, requires
from portal.auth import bp, two_factor
from portal.auth.forms import SecurityCodeForm, SignInForm, SignOutForm, TwoFactorSetupForm
from portal.auth.service import (
    NextStep,
    attempt_sign_in,
    code_step_locked,
    confirm_second_factor,
    now,
    password_accepted,
    safe_next,
    second_factor_failed,
    sign_in,
    sign_out,
)
from portal.config import PRODUCTION
from portal.extensions import htmx
from portal.models import User
from portal.rendering import render_page

SIGN_IN_FAILED = "Enter a correct e-mail address and password"
TOO_MANY_ATTEMPTS = (
    "Too many attempts to sign in with this e-mail address. Wait {wait}, then try again."
)
WRONG_CODE = "Enter a correct security code"
WRONG_SETUP_CODE = "Enter the code your authenticator app shows now"
SETUP_EXPIRED = "That QR code has expired. Add this new one to your app, then enter its code"
CODE_TIMED_OUT = "You took too long to enter the security code. Sign in again."
LOCKED_AT_CODE = "There were too many wrong codes. Wait {minutes} minutes, then sign in again."
LOCKED = "There have been too many attempts to sign in. Wait {wait}, then sign in again."


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _sign_in_page(form: SignInForm, failed_message: str | None = None) -> str:
    config = current_app.config
    return render_page(
        "auth/sign-in.html",
        form=form,
        failed=failed_message is not None,
        failed_message=failed_message,
        lockout_threshold=config["LOCKOUT_THRESHOLD"],
        lockout_minutes=config["LOCKOUT_MINUTES"],
    )


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in_page() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignInForm()
    if not form.validate_on_submit():
        return _sign_in_page(form)
    email, password = form.email.data or "", form.password.data or ""
    form.password.data = ""
    attempt = attempt_sign_in(email, password)
    if attempt.wait_seconds:
        # Counted per address and e-mail address, account or none: this says nothing about
        # whether the account exists.
        message = TOO_MANY_ATTEMPTS.format(wait=_minutes(attempt.wait_seconds))
        return _sign_in_page(form, message), 429
    user = attempt.user
    if user is None:
        # One message for any failure, so the page never says whether an account exists,
        # nor whether it is locked.
        return _sign_in_page(form, SIGN_IN_FAILED)
    next_url = safe_next(request.args.get("next"))
    step = password_accepted(user, next_url)
    if step is NextStep.SIGNED_IN and next_url:
        return redirect(next_url, 303)
    return redirect(url_for(step.value), 303)


@bp.route("/sign-in/code", methods=["GET", "POST"], endpoint="sign_in_code")
def sign_in_code_page() -> ResponseReturnValue:
    """The second step for council staff: nobody is signed in until the code is right."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = two_factor.pending_sign_in()
    if pending is None:
        return redirect(url_for("auth.sign_in"))
    moment = now()
    locked = code_step_locked(pending.user, moment)
    if pending.expired(moment) or locked:
        # Told only to someone who gave the right password: it gives nothing away.
        locked_until = pending.user.locked_until
        two_factor.clear_pending()
        if locked and locked_until is not None:
            wait = int((locked_until - moment).total_seconds())
            flash(LOCKED.format(wait=_minutes(wait)))
        else:
            flash(CODE_TIMED_OUT)
        return redirect(url_for("auth.sign_in"), 303)
    form = SecurityCodeForm()
    if form.validate_on_submit():
        user = pending.user
        method = two_factor.verify_second_factor(user, form.code.data or "", moment)
        if method is not None:
            sign_in(user, second_factor=method)
            if method == two_factor.RECOVERY_CODE:
                flash(_recovery_codes_left(user))
            return redirect(safe_next(pending.next_url) or url_for("main.home"), 303)
        minutes = second_factor_failed(user)
        if minutes is not None:
            two_factor.clear_pending()
            flash(LOCKED_AT_CODE.format(minutes=minutes))
            return redirect(url_for("auth.sign_in"), 303)
        form.code.errors = [WRONG_CODE]
    form.code.data = ""
    return render_page("auth/sign-in-code.html", form=form, demo_secret=_demo_secret(pending.user))


def _recovery_codes_left(user: User) -> str:
    left = len(user.recovery_codes)
    if left == 0:
        return (
            "You signed in with your last recovery code. Ask the portal team for new ones "
            "before you need one."
        )
    codes = "recovery code" if left == 1 else "recovery codes"
    return f"You signed in with a recovery code. It will not work again: {left} {codes} left."


def _demo_secret(user: User) -> str | None:
    """On a demo (never in production), where the code for a demo account comes from."""
    if (
        current_app.config["PORTAL_ENV"] == PRODUCTION
        or user.totp_secret != two_factor.DEMO_TOTP_SECRET
    ):
        return None
    return two_factor.grouped(two_factor.DEMO_TOTP_SECRET)


@bp.route("/account/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@requires()
def two_factor_page() -> ResponseReturnValue:
    """Setting up the authenticator app (council staff), or how it stands once set up."""
    who = current_principal()
    if not two_factor.needs_second_factor(who.person):
        abort(403)
    user = who.user
    if user.totp_enabled_at is not None:
        if request.method == "POST":
            return redirect(url_for("auth.two_factor"), 303)
        return render_page("auth/two-factor.html", user=user, left=len(user.recovery_codes))
    form = TwoFactorSetupForm()
    secret = None
    if request.method == "POST":
        # The secret the page showed, so a mistyped code can be tried again with the same one.
        secret = two_factor.secret_from_setup_token(user, form.setup.data or "")
        if form.validate_on_submit():
            step = two_factor.matching_step(secret, form.code.data or "", now()) if secret else None
            if secret is None:
                form.code.errors = [SETUP_EXPIRED]
            elif step is not None:
                codes = two_factor.enrol(user, secret, now(), step)
                confirm_second_factor(user)
                return render_page("auth/two-factor-recovery-codes.html", codes=codes)
            else:
                form.code.errors = [WRONG_SETUP_CODE]
    secret = secret or two_factor.new_secret()
    form.setup.data = two_factor.setup_token(user, secret)
    form.code.data = ""
    uri = two_factor.provisioning_uri(user, secret)
    # Like every page, kept in no cache nor the browser's history (portal/security.py): this
    # one carries the app's key.
    return render_page(
        "auth/two-factor-setup.html",
        form=form,
        qr_code=two_factor.qr_code_data_uri(uri),
        secret=two_factor.grouped(secret),
        # No sections in the menu: none of them opens until this is done.
        navigation=[],
    )


@bp.post("/sign-out", endpoint="sign_out")
@requires()
def sign_out_page() -> ResponseReturnValue:
    form = SignOutForm()
    if not form.validate_on_submit():
        # CSRFProtect has already refused a missing or wrong token; this is belt and braces.
        return redirect(url_for("main.home"), 303)
    sign_out(current_principal().user)
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"), 303)


def unauthorized() -> ResponseReturnValue:
    """Nobody is signed in: to the sign-in page, then back to where they were going.

    An htmx request would swap the sign-in page into a fragment of the page, so it is told
    to navigate the whole window instead.
    """
    wanted = request.full_path if request.query_string else request.path
    target = url_for("auth.sign_in", next=wanted)
    if htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)
