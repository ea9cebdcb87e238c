"""The home page of those who manage training: the registers of sessions held that nobody
has taken yet, each linking to its session, the latest first; none for sessions to come,
cancelled ones, or registers taken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.models import SessionStatus
from tests.helpers.html import ok_soup
from tests.training.factories import make_course, make_session


def training_to_do(browser: FlaskClient) -> list[tuple[str, str]]:
    page = ok_soup(browser.get("/"))
    return [(a.get_text(" ", strip=True), a["href"]) for a in page.select("#to-do-training + ul a")]


@pytest.mark.parametrize("role", ["training_coordinator", "la_admin"])
def test_registers_to_take_are_on_the_home_page(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient], role: str
) -> None:
    now = utcnow().replace(microsecond=0)
    course = make_course(session=session, title="Emotion coaching in the classroom")
    older = make_session(course, starts_at=now - timedelta(days=9), session=session)
    latest = make_session(course, starts_at=now - timedelta(days=2), session=session)
    make_session(course, starts_at=now + timedelta(days=3), session=session)
    make_session(
        course,
        starts_at=now - timedelta(days=4),
        status=SessionStatus.CANCELLED,
        cancelled_reason="The trainer is ill.",
        session=session,
    )
    make_session(
        course,
        starts_at=now - timedelta(days=5),
        register_taken_at=now - timedelta(days=4),
        session=session,
    )
    session.commit()

    assert training_to_do(client_for(role)) == [
        (
            "Take the register: Emotion coaching in the classroom",
            f"/training/manage/sessions/{session_id}",
        )
        for session_id in (latest.id, older.id)
    ]


def test_only_the_latest_registers_are_listed_and_the_rest_are_a_link_away(
    app: Flask, session: Session, client_for: Callable[[str], FlaskClient]
) -> None:
    now = utcnow().replace(microsecond=0)
    course = make_course(session=session)
    for days in range(1, 8):
        make_session(course, starts_at=now - timedelta(days=days), session=session)
    session.commit()

    listed = training_to_do(client_for("training_coordinator"))
    assert len(listed) == 5
    page = ok_soup(client_for("training_coordinator").get("/"))
    more = page.find("a", string="Every course and its sessions")
    assert more is not None and more["href"] == "/training/manage/"


def test_nothing_to_take_nothing_listed(
    app: Flask, client_for: Callable[[str], FlaskClient]
) -> None:
    page = ok_soup(client_for("training_coordinator").get("/"))
    assert page.select("#to-do-training") == []
    assert page.select_one("#nothing-to-do") is not None
