"""Buy-back: a head teacher chooses next year's services by the deadline."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.buyback import service as buyback
from portal.models import (
    AuditEvent,
    BuybackChoice,
    BuybackReminder,
    BuybackSubmission,
    BuybackWindow,
    ChoiceStatus,
    Cohort,
    OutboxMessage,
    School,
)
from tests.conftest import csrf_token

# The demo's maintained schools' window for 2027-28 is open from 2 November 2026 to
# 2 March 2027 at 5pm (London, which is then UTC).
DURING = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
JUST_BEFORE = datetime(2027, 3, 2, 16, 59, 59, tzinfo=UTC)
AFTER = datetime(2027, 3, 2, 17, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set the server's clock for buy-back."""

    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(buyback, "now", lambda: moment)

    set_to(DURING)
    return set_to


def soup(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def oakfield(session) -> School:  # type: ignore[no-untyped-def]
    return session.scalars(select(School).where(School.urn == 125601)).one()


def choice_page(client, school_id: int) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    response = client.get(f"/buy-back/{school_id}")
    assert response.status_code == 200
    return soup(response)


def form_data(page: BeautifulSoup) -> dict[str, object]:
    """Everything the choice form would send as it stands, as a browser would."""
    data: dict[str, object] = {}
    form = page.select_one("form#choices")
    for field in form.select("input, select"):
        name, kind = field.get("name"), field.get("type")
        if not name or kind == "submit" or field.has_attr("disabled"):
            continue
        if kind in ("radio", "checkbox"):
            if field.has_attr("checked"):
                data[name] = field["value"]
        elif field.name == "select":
            chosen = field.select_one("option[selected]")
            data[name] = chosen["value"] if chosen else ""
        else:
            data[name] = field.get("value", "")
    return data


def answer_everything(page: BeautifulSoup, data: dict[str, object]) -> dict[str, object]:
    """Answer every unanswered service 'not buying', and pick the first option where needed."""
    for radio in page.select('input[type="radio"][value="no"]'):
        data.setdefault(radio["name"], "no")
    for select_box in page.select("form#choices select"):
        if data.get(select_box["name"]) in (None, ""):
            data[select_box["name"]] = select_box.select("option")[1]["value"]
    return data


def test_window_states_follow_the_clock(session) -> None:  # type: ignore[no-untyped-def]
    window = session.scalars(
        select(BuybackWindow).where(
            BuybackWindow.year == 2027, BuybackWindow.cohort == Cohort.MAINTAINED
        )
    ).one()
    assert window.state(datetime(2026, 11, 2, 8, 59, tzinfo=UTC)) == "upcoming"
    assert window.state(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) == "open"
    assert window.state(JUST_BEFORE) == "open"
    assert window.state(AFTER) == "closed"


def test_last_years_choices_are_filled_in_with_price_changes(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    page = choice_page(client_for("head_teacher"), oakfield(session).id)
    assert "Last year's choices have been filled in to start from" in page.get_text()
    checked = page.select('input[type="radio"][checked]')
    assert checked, "last year's answers should be pre-filled"
    assert "on last year" in page.get_text()


def test_staff_prepare_a_draft_and_only_the_head_submits(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    staff = client_for("school_staff")
    page = choice_page(staff, school.id)
    assert page.select_one('button[value="submit"]') is None
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    assert staff.post(f"/buy-back/{school.id}", data=data).status_code == 303
    choice = session.scalars(
        select(BuybackChoice).where(BuybackChoice.school_id == school.id)
    ).all()
    assert [c.status for c in choice if c.window.year == 2027] == [ChoiceStatus.DRAFT]
    refused = staff.post(
        f"/buy-back/{school.id}", data={**data, "action": "submit", "declaration": "yes"}
    )
    assert refused.status_code == 403


def submit_as_head(client, school_id: int, **changes: object):  # type: ignore[no-untyped-def]
    page = choice_page(client, school_id)
    data = {**answer_everything(page, form_data(page)), "action": "submit", "declaration": "yes"}
    data.update(changes)
    return client.post(f"/buy-back/{school_id}", data=data), data


def test_submitting_freezes_prices_keeps_versions_and_confirms(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    head = client_for("head_teacher")
    response, _ = submit_as_head(head, school.id, purchase_order="PO-1234")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/buy-back/{school.id}/submissions/1"
    confirmation = soup(head.get(response.headers["Location"]))
    text = confirmation.get_text(" ", strip=True)
    assert "Choices submitted" in text and "PO-1234" in text
    submission = session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .where(BuybackChoice.school_id == school.id, BuybackSubmission.number == 1)
        .order_by(BuybackSubmission.id.desc())
    ).first()
    total = submission.net_pence + submission.vat_pence
    # The invoice schedule: 7/12 in April (rounded down), the rest in September.
    april = total * 7 // 12
    assert f"April: £{april / 100:,.2f}" in text
    assert f"September: £{(total - april) / 100:,.2f}" in text
    mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.contains("Buy-back confirmation"))
    ).all()
    assert [m.recipient for m in mail] == ["head@oakfield.example"]
    # Prices are frozen: a later change to the offer does not touch the submission.
    frozen = [line["net_pence"] for line in submission.lines]
    for line in submission.choice.lines:
        if line.option is not None:
            line.option.amount_pence += 10_000
    session.commit()
    session.expire_all()
    again = session.get(BuybackSubmission, submission.id)
    assert [line["net_pence"] for line in again.lines] == frozen
    # Until the deadline, it can be changed and submitted again: a second version.
    second, _ = submit_as_head(head, school.id)
    assert second.headers["Location"] == f"/buy-back/{school.id}/submissions/2"
    assert "buyback.submitted" in session.scalars(select(AuditEvent.action)).all()


def test_submit_needs_an_answer_for_every_service_and_the_declaration(
    client_for, session, clock
) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    head = client_for("head_teacher")
    page = choice_page(head, school.id)
    data = {**form_data(page), "action": "submit"}
    for name in [n for n in data if n.startswith("answer-")][:1]:
        del data[name]
    response = head.post(f"/buy-back/{school.id}", data=data)
    page = soup(response)
    messages = [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")]
    assert any(m.endswith("select buying or not buying") for m in messages)
    assert "Confirm that you are authorised to commit the school to these purchases" in messages
    # What was chosen is still chosen.
    assert page.select('input[type="radio"][checked]')


def test_pressing_submit_twice_submits_once(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    head = client_for("head_teacher")
    first, data = submit_as_head(head, school.id)
    second = head.post(f"/buy-back/{school.id}", data=data)
    assert second.headers["Location"] == first.headers["Location"]
    count = session.scalars(
        select(BuybackSubmission)
        .join(BuybackChoice)
        .where(BuybackChoice.school_id == school.id, BuybackChoice.status == ChoiceStatus.SUBMITTED)
    ).all()
    assert len([s for s in count if s.choice.window.year == 2027]) == 1


def test_two_people_at_once_the_second_is_told_and_loses_nothing(
    client_for, session, clock
) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    staff, head = client_for("school_staff"), client_for("head_teacher")
    staff_page = choice_page(staff, school.id)
    first = {**answer_everything(staff_page, form_data(staff_page)), "action": "save"}
    assert staff.post(f"/buy-back/{school.id}", data=first).status_code == 303
    head_page = choice_page(head, school.id)  # sees version after the first save
    staff_seen = form_data(choice_page(staff, school.id))
    # The head saves a change; then staff save on top of the version they saw.
    head_data = {**form_data(head_page), "action": "save"}
    flipped = next(
        name for name, value in head_data.items() if name.startswith("answer-") and value == "no"
    )
    head_data[flipped] = "buy"
    assert (
        head.post(
            f"/buy-back/{school.id}", data=answer_everything(head_page, head_data)
        ).status_code
        == 303
    )
    stale = staff.post(
        f"/buy-back/{school.id}",
        data={**answer_everything(head_page, staff_seen), "action": "save", "purchase_order": ""},
    )
    page = soup(stale)
    assert stale.status_code == 200
    summary = page.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert "Someone else has just saved this school's choices" in summary
    # Their own answers are still in the form.
    assert page.select_one(f'input[name="{flipped}"][value="no"]').has_attr("checked")


def test_the_deadline_is_the_servers(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    head = client_for("head_teacher")
    clock(JUST_BEFORE)
    page = choice_page(head, school.id)
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    clock(AFTER)
    refused = head.post(f"/buy-back/{school.id}", data=data)
    assert "The deadline has passed" in soup(refused).get_text()
    assert not session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).all()
    closed = choice_page(head, school.id)
    assert closed.select_one('button[value="submit"]') is None
    assert "can no longer be changed" in closed.get_text()
    assert all(r.has_attr("disabled") for r in closed.select('input[type="radio"]'))


def test_the_total_updates_without_saving(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    head = client_for("head_teacher")
    page = choice_page(head, school.id)
    data = {**form_data(page), "action": "total"}
    fragment = head.post(f"/buy-back/{school.id}", data=data, headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html
    assert re.search(r"Total for 2027-28: £[\d,]+\.\d\d", html)
    assert not session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).all()


def test_reminders_go_once_to_heads_of_schools_that_have_not_submitted(
    app, client_for, session, clock
) -> None:  # type: ignore[no-untyped-def]
    clock(datetime(2027, 2, 26, 9, tzinfo=UTC))  # four days before the deadline
    submit_as_head(client_for("head_teacher"), oakfield(session).id)
    with app.app_context():
        first = buyback.send_reminders(7)
        again = buyback.send_reminders(7)
    assert first > 0 and again == 0
    reminded = {r.school_id for r in session.scalars(select(BuybackReminder))}
    assert oakfield(session).id not in reminded
    assert not session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.subject.contains("Reminder"),
            OutboxMessage.recipient == "head@oakfield.example",
        )
    ).all()


def test_no_reminders_long_before_the_deadline(app, clock) -> None:  # type: ignore[no-untyped-def]
    clock(DURING)
    with app.app_context():
        assert buyback.send_reminders(7) == 0


def test_a_trust_lead_sees_each_academys_total(client_for) -> None:  # type: ignore[no-untyped-def]
    page = soup(client_for("trust_lead").get("/buy-back/"))
    rows = [tr.select_one("th").get_text(strip=True) for tr in page.select("tbody tr")]
    assert "Riverside Academy" in rows
    assert "Trust total" in page.get_text()


def test_an_administrator_sets_up_a_window(client_for, session) -> None:  # type: ignore[no-untyped-def]
    admin = client_for("la_admin")
    data = {
        "csrf_token": csrf_token(admin, "/buy-back/windows/new"),
        "year": "2028",
        "cohort": "all",
        "opens_on": ["6", "1", "2028"],
        "opens_time": "09:00",
        "closes_on": ["2", "3", "2028"],
        "closes_time": "17:00",
    }
    assert admin.post("/buy-back/windows/new", data=data).status_code == 303
    window = session.scalars(select(BuybackWindow).where(BuybackWindow.year == 2028)).one()
    assert window.opens_at == datetime(2028, 1, 6, 9, tzinfo=UTC)
    bad = admin.post("/buy-back/windows/new", data={**data, "closes_on": ["1", "1", "2028"]})
    assert "The window must close after it opens" in soup(bad).get_text()


def test_the_htmx_total_brings_every_costs_line_with_it(client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    school = oakfield(session)
    head = client_for("head_teacher")
    page = choice_page(head, school.id)
    data = {**form_data(page), "action": "total"}
    buying = next(
        name for name, value in data.items() if name.startswith("answer-") and value == "buy"
    )
    data[buying] = "no"
    fragment = soup(head.post(f"/buy-back/{school.id}", data=data, headers={"HX-Request": "true"}))
    sid = buying.removeprefix("answer-")
    line = fragment.select_one(f"#cost-{sid}")
    assert line["hx-swap-oob"] == "true"
    # No longer bought: no cost shown for it.
    assert line.get_text(strip=True) == ""
    assert len(fragment.select("[hx-swap-oob]")) == len(page.select('p[id^="cost-"]'))


def test_a_price_published_again_is_the_new_price(app, client_for, session, clock) -> None:  # type: ignore[no-untyped-def]
    """A re-pricing is withdraw, change, publish again: the page shows the new price, and
    nowhere the old one."""
    from portal.db import db
    from portal.models import PricingBasis, ServiceOffer, User
    from portal.services import publishing
    from portal.services.pricing import format_pence

    head = client_for("head_teacher")
    school = oakfield(session)
    offer = next(
        o
        for o in session.scalars(
            select(ServiceOffer)
            .where(ServiceOffer.year == 2027, ServiceOffer.status == "published")
            .order_by(ServiceOffer.id)
        )
        if len(o.options) == 1
        and o.options[0].basis is PricingBasis.PER_SCHOOL
        and o.service.is_available_to(school)
    )
    old_pence = offer.options[0].amount_pence
    new_pence = old_pence + 12_345

    def price_text() -> str:
        page = choice_page(head, school.id)
        return page.select_one(f"#price-{offer.service_id}").get_text(" ", strip=True)

    assert format_pence(old_pence) in price_text()
    with app.app_context():
        live = db.session.get(ServiceOffer, offer.id)
        publisher = db.session.scalars(
            select(User).where(User.email == "publisher@council.example")
        ).one()
        option = live.options[0]
        publishing.withdraw(live, publisher)
        details = publishing.OptionDetails(
            name=option.name,
            basis=option.basis,
            audience=option.audience,
            amount_pence=new_pence,
            per_pupil_pence=option.per_pupil_pence,
            unit=option.unit,
            minimum_pence=option.minimum_pence,
            rates=option.rates,
        )
        publishing.save_option(live, option, details, publisher)
        publishing.publish(live, publisher)
    text = price_text()
    assert format_pence(new_pence) in text
    assert format_pence(old_pence) not in text
