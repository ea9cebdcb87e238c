"""Local contacts: thin views over ``portal.contacts.service``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.access import (
    Capability,
    Principal,
    can,
    current_principal,
    get_school_or_404,
    requires,
    school_scope,
    visible_area_ids,
    visible_school_names,
)
from portal.contacts import bp, letters
from portal.contacts.display import directory_head
from portal.contacts.forms import ConfirmForm, ContactForm, SendLettersForm
from portal.contacts.service import (
    COUNTYWIDE,
    PAGE_PER_ROLE,
    POSTER_PER_ROLE,
    POSTER_ROOM_MM,
    ContactSearch,
    area_names,
    create_contact,
    directory_csv,
    directory_version,
    key_contacts,
    key_contacts_by_area,
    mark_checked,
    needing_check,
    poster_row_mm,
    reinstate_contact,
    retire_contact,
    search,
    update_contact,
)
from portal.db import db, utcnow
from portal.extensions import htmx
from portal.models import Area, AuditEvent, Contact, ContactRole, School
from portal.numbers import record_id
from portal.pagination import paginate
from portal.rendering import drawing_fragment, render_page


def _areas() -> list[Area]:
    return list(db.session.scalars(select(Area).order_by(Area.name)))


def _my_areas(who: Principal, areas: list[Area]) -> list[Area]:
    """The areas whose contacts are ``who``'s own; none for council-wide staff."""
    area_ids = visible_area_ids(who)
    if area_ids is None:
        return []
    return [area for area in areas if area.id in area_ids]


def _get_contact_or_404(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    # A retired contact is history: only those who keep the directory can still open it.
    if contact is None or (contact.is_retired and not can(Capability.EDIT_CONTACTS)):
        abort(404)
    return contact


@bp.get("/")
@requires(Capability.VIEW_CONTACTS)
def index() -> ResponseReturnValue:
    who = current_principal()
    criteria = ContactSearch.from_args(request.args)
    if not can(Capability.EDIT_CONTACTS):
        criteria = replace(criteria, include_retired=False)
    # With nothing searched for, a person with areas sees their own contacts, grouped;
    # council-wide staff, and anyone searching, see the matching directory, paged (their
    # areas play no part in it).
    my_area_ids = frozenset() if criteria.is_active else visible_area_ids(who) or frozenset()
    show_mine = bool(my_area_ids)
    context: dict[str, Any] = {"criteria": criteria, "show_mine": show_mine}
    if show_mine:
        version = directory_version()
    else:
        found = search(criteria)
        context["page"] = found.page
        version = found.version
    # A search as someone types asks for its results alone: no filters, no areas to name.
    if show_mine or not drawing_fragment():
        areas = area_names(version)
        context["my_areas"] = [area for area in areas if area.id in my_area_ids]
        context["role_items"] = [{"value": "", "text": "Any role"}] + [
            {"value": role.value, "text": role.label, "selected": role == criteria.role}
            for role in ContactRole
        ]
        context["area_items"] = [
            {"value": "", "text": "Any area"},
            {"value": COUNTYWIDE, "text": "Countywide", "selected": criteria.area == COUNTYWIDE},
        ] + [
            {"value": str(area.id), "text": area.name, "selected": area.id == criteria.area}
            for area in areas
        ]
        if not criteria.is_active:
            context["directory_head"] = directory_head(areas, **context)
    if show_mine:
        context["groups"] = key_contacts(my_area_ids, PAGE_PER_ROLE, version)
        context["my_schools"] = (
            [] if who.council_wide or not who.is_school_user else visible_school_names(who)
        )
    return render_page("contacts/index.html", fragment="results", **context)


@bp.get("/<int:contact_id>")
@requires(Capability.VIEW_CONTACTS)
def show(contact_id: int) -> ResponseReturnValue:
    contact = _get_contact_or_404(contact_id)
    history = []
    if can(Capability.EDIT_CONTACTS):
        history = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "Contact", AuditEvent.subject_id == contact.id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(50)
        ).all()
    return render_page("contacts/show.html", contact=contact, history=history)


@bp.route("/new", methods=["GET", "POST"])
@requires(Capability.EDIT_CONTACTS)
def new() -> ResponseReturnValue:
    form = ContactForm(_areas())
    if form.validate_on_submit():
        contact = create_contact(form.details(), current_principal().user)
        flash(f"{contact.name} has been added to the directory.", "success")
        return redirect(url_for("contacts.show", contact_id=contact.id), 303)
    return render_page("contacts/form.html", form=form, contact=None)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
@requires(Capability.EDIT_CONTACTS)
def edit(contact_id: int) -> ResponseReturnValue:
    contact = _get_contact_or_404(contact_id)
    form = ContactForm.for_contact(_areas(), contact)
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
    contact = _get_contact_or_404(contact_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        retire_contact(contact, current_principal().user)
        flash(f"{contact.name} has been retired. Schools no longer see them.", "success")
        return redirect(url_for("contacts.index"), 303)
    return render_page("contacts/retire.html", contact=contact, form=form)


@bp.post("/<int:contact_id>/reinstate")
@requires(Capability.EDIT_CONTACTS)
def reinstate(contact_id: int) -> ResponseReturnValue:
    contact = _get_contact_or_404(contact_id)
    if ConfirmForm().validate_on_submit():
        reinstate_contact(contact, current_principal().user)
        flash(f"{contact.name} is back in the directory.", "success")
    return redirect(url_for("contacts.show", contact_id=contact.id), 303)


@bp.post("/<int:contact_id>/check")
@requires(Capability.EDIT_CONTACTS)
def check(contact_id: int) -> ResponseReturnValue:
    contact = _get_contact_or_404(contact_id)
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
    include_retired = can(Capability.EDIT_CONTACTS) and request.args.get("retired") == "1"
    query = (
        select(Contact)
        .options(selectinload(Contact.last_checked_by))
        .order_by(Contact.role, Contact.name, Contact.id)
    )
    if not include_retired:
        query = query.where(Contact.retired_at.is_(None))
    body = directory_csv(db.session.scalars(query))
    filename = f"contacts-{utcnow().date().isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
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
    who = current_principal()
    school_id = request.args.get("school", type=record_id)
    area_id = request.args.get("area", type=record_id)
    batch = None  # an area's posters come a batch at a time
    if school_id is not None:
        schools = [get_school_or_404(who, school_id)]
    elif area_id is not None:
        # A large council's area has a thousand schools: printed a batch at a time.
        batch = paginate(
            select(School)
            .where(School.area_id == area_id, school_scope(who))
            .order_by(School.name, School.id),
            request.args.get("page", 1, type=int) or 1,
            POSTERS_PER_PRINT,
        )
        if not batch.total:
            abort(404)
        schools = list(batch.items)
    elif who.council_wide or not who.is_school_user:
        # Council staff choose which area's posters to print.
        areas = _areas()
        return render_page("contacts/poster-choose.html", areas=_my_areas(who, areas) or areas)
    else:
        schools = list(
            db.session.scalars(select(School).where(school_scope(who)).order_by(School.name))
        )
    # Every school in an area has the same contacts: one query for every area on the page.
    by_area = key_contacts_by_area(
        {school.area_id for school in schools}, POSTER_PER_ROLE, POSTER_ROOM_MM, poster_row_mm
    )
    posters = [(school, by_area[school.area_id]) for school in schools]
    return render_page(
        "contacts/poster.html",
        posters=posters,
        today=utcnow(),
        batch=batch,
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
    school_id = request.args.get("school", type=record_id)
    area_id = request.args.get("area", type=record_id)
    every = request.args.get("all") == "1"
    if school_id is None and area_id is None and not every and not who.is_school_user:
        # Council staff choose what to print, or send the letters by e-mail.
        areas = _areas()
        return _letters_page(who, areas, SendLettersForm(areas))
    if every and not can(Capability.PRINT_CONTACT_LETTERS):
        abort(403)
    printing = letters.to_print(
        who,
        school_id=school_id,
        area_id=area_id,
        page=request.args.get("page", 1, type=int) or 1,
        per_print=LETTERS_PER_PRINT,
    )
    if not printing.letters:
        abort(404)
    return render_page(
        "contacts/letter.html",
        letters=printing.letters,
        batch=printing.batch,
        today=utcnow(),
        **letters.portal_links(),
        area_id=area_id,
        every=every,
    )


def _letters_page(who: Principal, areas: list[Area], form: SendLettersForm) -> str:
    return render_page(
        "contacts/letters.html",
        areas=_my_areas(who, areas) or areas,
        form=form,
        last=letters.last_sending() if who.can(Capability.SEND_CONTACT_LETTERS) else None,
    )


@bp.post("/letter/send")
@requires(Capability.SEND_CONTACT_LETTERS)
def send_letters() -> ResponseReturnValue:
    who = current_principal()
    areas = _areas()
    form = SendLettersForm(areas)
    if not form.validate_on_submit():
        return _letters_page(who, areas, form)
    event = letters.send_letters(who, form.chosen_area())
    return redirect(url_for("contacts.letters_sent", event_id=event.id), 303)


@bp.get("/letter/sent/<int:event_id>")
@requires(Capability.SEND_CONTACT_LETTERS)
def letters_sent(event_id: int) -> ResponseReturnValue:
    sent = letters.letters_sent(event_id)
    if sent is None:
        abort(404)
    return render_page("contacts/letters-sent.html", sent=sent)
