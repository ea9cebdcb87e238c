"""Never a server error for a number: every money and quantity field, and the dates people
type, has a stated maximum that fits the database, says so beside the field, and answers a
number it cannot take with an error beside the field that keeps what was typed (issue #17).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import clock
from portal.buyback.answers import Answer, Answers
from portal.buyback.choices import submit
from portal.buyback.offered import offered_to
from portal.buyback.school_windows import current_window
from portal.clock import today_in_london
from portal.db import db
from portal.forms import within_a_year_of
from portal.models import (
    BuybackChoice,
    BuybackWindow,
    PriceOption,
    School,
    Service,
    ServiceOffer,
    SupportRequest,
    SupportStatus,
    User,
)
from portal.pricing import MAX_PENCE, MAX_QUOTE_PENCE, PriceRule, format_pence, validate
from portal.services import publishing
from tests.buyback.test_buyback import (
    DURING,
    _unit_priced_category,
    answer_everything,
    form_data,
    oakfield,
)
from tests.conftest import csrf_token
from tests.helpers.html import ok_soup as page_of
from tests.register.test_register import extract as register_extract
from tests.register.test_register import report_of, school_row
from tests.support.test_support import created, raise_request
from tests.support.test_support import update as update_request

SLOW = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/services/"), **data})


# Numbers as people type them, and as they should not: huge, negative, with decimals, with
# thousands commas, in other scripts' digits, and either side of each field's maximum.
typed_numbers = (
    st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str)
    | st.integers(min_value=0, max_value=10**12).map(lambda n: f"£{n:,}.{n % 100:02d}")
    | st.sampled_from(
        [
            "99999999999999999999", "1000000", "1000000.00", "1000000.01", "£1,000,000",
            "9999", "10000", "99999", "100000", "0", "-1", "1e9", "\u0661\u0662\u0663",
            "\uff11\uff12", "\u00b2", "\u2212" + "5", "9" * 400, "9" * 5000,
        ]
    )
)  # fmt: skip


# --- the price-option form ----------------------------------------------------------------------

# Each money or quantity field of the price-option form: the basis that asks for it, what
# else that basis needs, where the number typed goes, and the maximum its hint states.
POUNDS = "Up to £1,000,000.00"
BY_THE_HOUR = {"unit": "hour", "amount": "10.00"}
OPTION_NUMBERS = {
    "amount": ("per_school", {}, "amount", "{}", POUNDS),
    "per_pupil": ("per_pupil", {}, "per_pupil", "{}", POUNDS),
    "rate_primary": ("per_pupil", {}, "rate_primary", "{}", POUNDS),
    "rate_secondary": ("per_pupil", {}, "rate_secondary", "{}", POUNDS),
    "rate_nursery": ("per_pupil", {}, "rate_nursery", "{}", POUNDS),
    "rate_all_through": ("per_pupil", {}, "rate_all_through", "{}", POUNDS),
    "minimum": ("per_pupil", {"per_pupil": "5.00"}, "minimum", "{}", POUNDS),
    "unit price": ("per_unit", {"unit": "hour"}, "amount", "{}", POUNDS),
    "pack size": ("per_unit", BY_THE_HOUR, "pack_size", "{}", "from 1 to 9,999"),
    "band price": ("banded", {}, "bands", "0+: {}", "prices up to £1,000,000.00"),
    "band pupils": ("banded", {}, "bands", "0-{}: 765.00", "Pupils up to 99,999"),
    "tier price": ("per_unit", BY_THE_HOUR, "tiers", "10: {}", "prices up to £1,000,000.00"),
    "tier quantity": ("per_unit", BY_THE_HOUR, "tiers", "{}: 5.00", "From 1 to 9,999 units"),
}
NAMES = itertools.count()


def typed_value(page: BeautifulSoup, field: str) -> str:
    box = page.select_one(f"#{field}")
    return box.get_text() if box.name == "textarea" else box.get("value", "")


@pytest.fixture
def option_form(client_for, session):
    """A publisher, and the new-option form of an offer they may price (withdrawn first)."""
    publisher = client_for("publisher")
    fire = session.scalars(select(Service).where(Service.name == "Fire risk assessment")).one()
    assert post(publisher, f"/services/{fire.id}/offers/2027/withdraw").status_code == 303
    return publisher, f"/services/{fire.id}/offers/2027/options/new"


def post_option(option_form, what: str, number: str, name: str):
    publisher, path = option_form
    basis, others, field, line, _hint = OPTION_NUMBERS[what]
    # shown_basis: the basis whose fields the form showed (the form asks only what it needs).
    fields = {"name": name, "basis": basis, "shown_basis": basis, "audience": "all"}
    return post(publisher, path, **fields, **others, **{field: line.format(number)})


@pytest.mark.parametrize("what", list(OPTION_NUMBERS))
def test_a_price_too_large_for_the_database_is_refused_beside_its_field(
    option_form, what: str
) -> None:
    """A price of 99999999999999999999 answered 500 and lost the form."""
    _basis, _others, field, line, hint = OPTION_NUMBERS[what]
    page = page_of(post_option(option_form, what, "99999999999999999999", "Too much"))
    error = page.select_one(f"#{field}-error").get_text(" ", strip=True)
    assert any(
        words in error
        for words in (
            "£1,000,000.00 or less",
            "from 1 to 9,999",
            "up to 99,999 pupils",
            "9,999 or fewer",
        )
    ), error
    assert page.select_one(f'.govuk-error-summary a[href="#{field}"]') is not None
    assert typed_value(page, field).strip() == line.format("99999999999999999999")
    assert hint in page.select_one(f"#{field}-hint").get_text()


# Many generated examples, each a form sent: left out of make test-fast.
@pytest.mark.slow
@pytest.mark.parametrize("what", list(OPTION_NUMBERS))
@SLOW
@given(number=typed_numbers)
def test_any_number_in_a_price_field_is_saved_or_explained_never_a_server_error(
    option_form, session, what: str, number: str
) -> None:
    _basis, _others, field, line, hint = OPTION_NUMBERS[what]
    name = f"Test {next(NAMES)}"
    response = post_option(option_form, what, number, name)
    assert response.status_code in (200, 303), response.status_code
    if response.status_code == 303:
        # Saved: a price the engine takes, every amount and number within its maximum.
        option = session.scalars(select(PriceOption).where(PriceOption.name == name)).one()
        assert validate(PriceRule.from_option(option, vat=False)) == []
        return
    page = page_of(response)
    assert page.select_one(f"#{field}-error") is not None, page.select_one(".govuk-error-summary")
    assert page.select_one(f'.govuk-error-summary a[href="#{field}"]') is not None
    # What was typed stays, for the person to correct (spaces at either end aside).
    assert typed_value(page, field).strip() == line.format(number).strip()
    assert hint in page.select_one(f"#{field}-hint").get_text()


def test_a_year_copied_past_the_largest_price_is_held_back_from_publishing(
    client_for, session
) -> None:
    """Each copy of a year may uplift prices by up to 100%: a price already at the maximum
    is drafted (it still fits the database) but cannot be published, so it cannot be copied
    and doubled again until it no longer fits."""
    payroll = session.scalars(select(Service).where(Service.name == "Payroll")).one()
    option = next(o for o in payroll.offers if o.year == 2027).options[0]
    option.amount_pence = MAX_PENCE
    session.commit()
    publisher = client_for("publisher")
    copy = csrf_token(publisher, "/services/copy-year")
    response = publisher.post(
        "/services/copy-year", data={"csrf_token": copy, "from_year": "2027", "uplift": "100"}
    )
    assert response.status_code == 303
    draft = session.scalars(
        select(ServiceOffer).where(ServiceOffer.service_id == payroll.id, ServiceOffer.year == 2028)
    ).one()
    assert draft.options[0].amount_pence == 2 * MAX_PENCE
    assert f"{option.name}: Amount must be £1,000,000.00 or less" in publishing.problems(draft)
    # Publishing it is refused with the same words, not a server error.
    token = csrf_token(publisher, f"/services/{payroll.id}/offers/2028")
    refused = publisher.post(
        f"/services/{payroll.id}/offers/2028/publish", data={"csrf_token": token}
    )
    assert refused.status_code == 303
    session.expire_all()
    assert session.get(ServiceOffer, draft.id).status.value == "draft"
    page = page_of(publisher.get(f"/services/{payroll.id}/offers/2028"))
    assert "Amount must be £1,000,000.00 or less" in page.get_text(" ", strip=True)


# --- a buy-back quantity ------------------------------------------------------------------------


@pytest.fixture
def buyback_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: DURING)


def saved_choice(session, school):
    session.expire_all()
    return session.scalars(
        select(BuybackChoice)
        .join(BuybackWindow)
        .where(BuybackChoice.school_id == school.id, BuybackWindow.year == 2027)
    ).one_or_none()


def test_an_empty_quantity_is_asked_for_not_taken_as_one(client_for, session, buyback_open) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    path, page, sid = _unit_priced_category(head, school.id)
    # The box says what it takes.
    box = page.select_one(f"#quantity-{sid}")
    assert page.select_one(f"#quantity-{sid}-hint").get_text() == "A whole number from 1 to 9,999"
    assert f"quantity-{sid}-hint" in box["aria-describedby"]
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    data[f"answer-{sid}"], data[f"quantity-{sid}"] = "buy", ""
    shown = page_of(head.post(path, data=data))
    message = "Enter how many sessions of Behaviour support outreach you are buying"
    assert message in shown.select_one(f"#quantity-{sid}-error").get_text()
    summary = shown.select_one(f'.govuk-error-summary a[href="#quantity-{sid}"]')
    assert summary is not None and message in summary.get_text()
    assert shown.select_one(f"#quantity-{sid}")["value"] == ""
    assert saved_choice(session, school) is None
    # Given, it is saved as given.
    data[f"quantity-{sid}"] = "12"
    assert head.post(path, data=data).status_code == 303
    line = next(li for li in saved_choice(session, school).lines if li.service_id == int(sid))
    assert (line.buying, line.quantity) == (True, 12)
    again = page_of(head.get(path))
    assert again.select_one(f"#quantity-{sid}")["value"] == "12"


def test_a_quantity_that_would_cost_more_than_a_line_holds_is_refused_beside_it(
    client_for, session, buyback_open
) -> None:
    school = oakfield(session)
    head = client_for("head_teacher")
    path, page, sid = _unit_priced_category(head, school.id)
    sessions = session.scalars(
        select(PriceOption)
        .join(ServiceOffer)
        .where(ServiceOffer.service_id == int(sid), ServiceOffer.year == 2027)
    ).one()
    # Re-priced: withdrawn, changed and published again.
    sessions.amount_pence, sessions.rates = MAX_PENCE, {}
    sessions.offer.published_at = datetime.now(UTC)
    session.commit()
    data = {**answer_everything(page, form_data(page)), "action": "save"}
    data[f"answer-{sid}"], data[f"quantity-{sid}"] = "buy", "3"
    shown = page_of(head.post(path, data=data))
    error = shown.select_one(f"#quantity-{sid}-error").get_text(" ", strip=True)
    assert (
        "Enter a smaller number of sessions of Behaviour support outreach: 3 would cost more "
        "than £2,000,000.00, the most one service can cost in a year"
    ) in error
    assert shown.select_one(f"#quantity-{sid}")["value"] == "3"
    assert saved_choice(session, school) is None
    data[f"quantity-{sid}"] = "2"
    assert head.post(path, data=data).status_code == 303


def test_a_whole_choice_may_come_to_more_than_a_32_bit_number_of_pence(
    app, client_for, session, buyback_open
) -> None:
    """Each service is capped at MAX_QUOTE_PENCE, but a choice of a dozen at the cap comes to
    more than £21,474,836.47, the most an INTEGER column holds on PostgreSQL."""
    with app.test_request_context():
        school = db.session.scalars(select(School).where(School.urn == 125601)).one()
        window = current_window(school)
        offered = [item for item in offered_to(school, window.year) if item.options][:12]
        assert len(offered) == 12
        answers = Answers(
            {
                item.service.id: Answer(True, item.options[0].id, 1, MAX_QUOTE_PENCE, 0)
                for item in offered
            }
        )
        head = db.session.scalars(select(User).where(User.email == "head@oakfield.example")).one()
        submission = submit(
            school, window, None, answers, offered, head, None, "whole-choice-too-big"
        )
        school_id, number = school.id, submission.number
    total = 12 * MAX_QUOTE_PENCE
    assert total > 2**31 - 1
    confirmation = page_of(
        client_for("head_teacher").get(f"/buy-back/{school_id}/submissions/{number}")
    )
    assert format_pence(total) in confirmation.get_text(" ", strip=True)


# --- a CAF meeting date -------------------------------------------------------------------------


@pytest.fixture
def acknowledged(client_for, session) -> SupportRequest:
    request = created(session, raise_request(client_for("school_staff")))
    request.status = SupportStatus.ACKNOWLEDGED
    session.commit()
    return request


def meeting_fields(page: BeautifulSoup) -> list[str]:
    return [page.select_one(f"#meeting_on-{part}")["value"] for part in ("day", "month", "year")]


def test_a_meeting_in_2020_is_refused_beside_the_date(client_for, session, acknowledged) -> None:
    officer = client_for("caf_officer")
    response = update_request(
        officer, acknowledged, action="in_progress", meeting_on=["3", "12", "2020"]
    )
    page = page_of(response)
    earliest, latest = within_a_year_of(today_in_london())
    message = (
        "Meeting date must be within a year of today: between "
        f"{earliest:%-d %B %Y} and {latest:%-d %B %Y}"
    )
    assert message in page.select_one("#meeting_on-error").get_text()
    assert message in page.select_one(".govuk-error-summary").get_text()
    assert meeting_fields(page) == ["3", "12", "2020"]
    assert "Within a year of today" in page.select_one("#meeting_on-hint").get_text()
    session.expire_all()
    assert session.get(SupportRequest, acknowledged.id).status is SupportStatus.ACKNOWLEDGED


def near_today(days: int) -> list[str]:
    day = today_in_london() + timedelta(days=days)
    return [str(day.day), str(day.month), str(day.year)]


date_parts = st.lists(
    typed_numbers | st.sampled_from(["", " ", "2020", "29", "2"]), min_size=3, max_size=3
)


@SLOW
@given(parts=date_parts | st.integers(-800, 800).map(near_today))
def test_any_meeting_date_is_taken_or_explained_never_a_server_error(
    client_for, session, acknowledged, parts: list[str]
) -> None:
    officer = client_for("caf_officer")
    request = session.get(SupportRequest, acknowledged.id)
    request.status, request.meeting_on = SupportStatus.ACKNOWLEDGED, None
    session.commit()
    response = update_request(officer, request, action="in_progress", meeting_on=parts)
    assert response.status_code in (200, 303), response.status_code
    session.expire_all()
    if response.status_code == 303:
        meeting = session.get(SupportRequest, request.id).meeting_on
        earliest, latest = within_a_year_of(today_in_london())
        assert earliest <= meeting <= latest
        assert [str(meeting.day), str(meeting.month), str(meeting.year)] == [
            part.strip().lstrip("0") for part in parts
        ]
        return
    page = page_of(response)
    assert page.select_one("#meeting_on-error") is not None
    assert meeting_fields(page) == parts  # as typed
    assert session.get(SupportRequest, request.id).status is SupportStatus.ACKNOWLEDGED


# --- pupils on roll in a register file ----------------------------------------------------------


@given(pupils=typed_numbers)
def test_a_register_row_with_more_pupils_than_a_school_has_is_rejected_with_why(
    pupils: str,
) -> None:
    report = report_of(
        register_extract([school_row("125601", "Oakfield Primary School", NumberOfPupils=pupils)])
    )
    number = pupils.strip()
    if (
        number.isascii()
        and number.isdigit()
        and len(number.lstrip("0")) <= 20
        and int(number) <= 99_999
    ):
        assert report["rejected"] == []
        return
    [rejected] = report["rejected"]
    assert rejected["reason"] in (
        f"number of pupils “{number}” is not a whole number",
        f"number of pupils “{number}” is more than 99,999",
    )
