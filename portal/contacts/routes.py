"""Local contacts: each view reads its request, calls one function of the contacts
capability, and renders or redirects."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from portal.access import (
    Capability,
    current_principal,
    get_contact_or_404,
    requires,
)
from portal.clock import utcnow
from portal.contacts import bp, letters
from portal.contacts.directory import ContactSearch, browse
from portal.contacts.display import directory_context
from portal.contacts.export import export_directory
from portal.contacts.forms import ConfirmForm, ContactForm, SendLettersForm
from portal.contacts.keeping import (
    all_areas,
    contact_page,
    create_contact,
    mark_checked,
    needing_check,
    reinstate_contact,
    retire_contact,
    update_contact,
)
from portal.contacts.posters import ChooseArea, posters
from portal.extensions import htmx
from portal.numbers import record_id
from portal.rendering import drawing_fragment, render_page


@bp.get("/")
@requires(Capability.VIEW_CONTACTS)
def index() -> ResponseReturnValue:
    found = browse(
        current_principal(),
        ContactSearch.from_args(request.args),
        results_only=drawing_fragment(),
    )
    return render_page("contacts/index.html", fragment="results", **directory_context(found))


@bp.get("/<int:contact_id>")
@requires(Capability.VIEW_CONTACTS)
def show(contact_id: int) -> ResponseReturnValue:
    shown = contact_page(current_principal(), contact_id)
    return render_page("contacts/show.html", contact=shown.contact, history=shown.history)


@bp.route("/new", methods=["GET", "POST"])
@requires(Capability.EDIT_CONTACTS)
def new() -> ResponseReturnValue:
    form = ContactForm(all_areas())
    if form.validate_on_submit():
        contact = create_contact(form.details(), current_principal().user)
        flash(f"{contact.name} has been added to the directory.", "success")
        return redirect(url_for("contacts.show", contact_id=contact.id), 303)
    return render_page("contacts/form.html", form=form, contact=None)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(Capability.EDIT_CONTACTS)
def edit(contact_id: int) -> ResponseReturnValue:
    contact = get_contact_or_404(current_principal(), contact_id)
    form = ContactForm.for_contact(all_areas(), contact)
    if form.validate_on_submit():
        changes = update_contact(contact, form.details(), current_principal().user)
        flash(
            f"{contact.name} has been updated." if changes else "Nothing was changed.",
            "success",
        )
        return redirect(url_for("contacts.show", contact_id=contact.id), 303)
    return render_page("contacts/form.html", form=form, contact=contact)


@bp.route("/<int:contact_id>/retire", methods=["GET", "POST"])
@requires(Capability.EDIT_CONTACTS)
def retire(contact_id: int) -> ResponseReturnValue:
    contact = get_contact_or_404(current_principal(), contact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        retire_contact(contact, current_principal().user)
        flash(f"{contact.name} has been retired. Schools no longer see them.", "success")
        return redirect(url_for("contacts.index"), 303)
    return render_page("contacts/retire.html", contact=contact, form=form)


@bp.post("/<int:contact_id>/reinstate")
@requires(Capability.EDIT_CONTACTS)
def reinstate(contact_id: int) -> ResponseReturnValue:
    contact = get_contact_or_404(current_principal(), contact_id)
    if ConfirmForm().validate_on_submit():
        reinstate_contact(contact, current_principal().user)
        flash(f"{contact.name} is back in the directory.", "success")
    return redirect(url_for("contacts.show", contact_id=contact.id), 303)


@bp.post("/<int:contact_id>/check")
@requires(Capability.EDIT_CONTACTS)
def check(contact_id: int) -> ResponseReturnValue:
    contact = get_contact_or_404(current_principal(), contact_id)
    if ConfirmForm().validate_on_submit():
        mark_checked(contact, current_principal().user)
    if htmx:
        # The row becomes a confirmation in place, and leaves the list at the next load.
        return render_page("contacts/needs-checking.html", fragment="checked_row", contact=contact)
    flash(f"{contact.name} has been marked as checked.", "success")
    # Without JavaScript the button on the list comes back to the list.
    if request.form.get("from") == "list":
        return redirect(url_for("contacts.needs_checking"), 303)
    return redirect(url_for("contacts.show", contact_id=contact.id), 303)


@bp.get("/needs-checking")
@requires(Capability.EDIT_CONTACTS)
def needs_checking() -> ResponseReturnValue:
    months = current_app.config["CONTACT_CHECK_MONTHS"]
    page = needing_check(months, request.args.get("page", 1, type=int) or 1)
    return render_page("contacts/needs-checking.html", page=page, months=months, form=ConfirmForm())


@bp.get("/export.csv")
@requires(Capability.EXPORT_CONTACTS)
def export() -> ResponseReturnValue:
    exported = export_directory(
        current_principal(), with_retired=request.args.get("retired") == "1"
    )
    return Response(
        exported.body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


# Posters printed at once for an area: a print job a browser and a printer both manage, and
# more than the largest real council's area has schools, so that only at ten times that
# scale does an area print in batches.
POSTERS_PER_PRINT = 150


@bp.get("/poster")
@requires(Capability.VIEW_CONTACTS)
def poster() -> ResponseReturnValue:
    """One A4 poster per school: the school's own, a chosen one, or every school in an area
    (POSTERS_PER_PRINT at a time)."""
    area_id = request.args.get("area", type=record_id)
    found = posters(
        current_principal(),
        school_id=request.args.get("school", type=record_id),
        area_id=area_id,
        page=request.args.get("page", 1, type=int) or 1,
        per_print=POSTERS_PER_PRINT,
    )
    if found is None:
        abort(404)
    if isinstance(found, ChooseArea):
        return render_page("contacts/poster-choose.html", areas=found.areas)
    return render_page(
        "contacts/poster.html",
        posters=found.posters,
        today=utcnow(),
        batch=found.batch,
        area_id=area_id,
    )


# Letters printed at once: a batch as large as the posters', for the same reasons.
LETTERS_PER_PRINT = POSTERS_PER_PRINT


@bp.get("/letter")
@requires(Capability.VIEW_CONTACTS)
def letter() -> ResponseReturnValue:
    """The annual letter of key contacts, one A4 page per school: a school's own, a chosen
    school's, an area's or every school's (LETTERS_PER_PRINT at a time)."""
    who = current_principal()
    area_id = request.args.get("area", type=record_id)
    every = request.args.get("all") == "1"
    if every and not who.can(Capability.PRINT_CONTACT_LETTERS):
        abort(403)
    shown = letters.letter_page(
        who,
        school_id=request.args.get("school", type=record_id),
        area_id=area_id,
        every=every,
        page=request.args.get("page", 1, type=int) or 1,
        per_print=LETTERS_PER_PRINT,
    )
    if shown is None:
        abort(404)
    if isinstance(shown, letters.Choice):
        # Council staff choose what to print, or send the letters by e-mail.
        return _letters_page(shown, SendLettersForm(shown.every_area))
    return render_page(
        "contacts/letter.html",
        letters=shown.letters,
        batch=shown.batch,
        today=utcnow(),
        **shown.links,
        area_id=area_id,
        every=every,
    )


def _letters_page(choice: letters.Choice, form: SendLettersForm) -> str:
    return render_page("contacts/letters.html", areas=choice.areas, form=form, last=choice.last)


@bp.post("/letter/send")
@requires(Capability.SEND_CONTACT_LETTERS)
def send_letters() -> ResponseReturnValue:
    who = current_principal()
    areas = all_areas()
    form = SendLettersForm(areas)
    if not form.validate_on_submit():
        return _letters_page(letters.choice(who, areas), form)
    event = letters.send_letters(who, form.chosen_area())
    return redirect(url_for("contacts.letters_sent", event_id=event.id), 303)


@bp.get("/letter/sent/<int:event_id>")
@requires(Capability.SEND_CONTACT_LETTERS)
def letters_sent(event_id: int) -> ResponseReturnValue:
    sent = letters.letters_sent(event_id)
    if sent is None:
        abort(404)
    return render_page("contacts/letters-sent.html", sent=sent)
