"""The audit log: council administrators search it and download it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from bs4 import BeautifulSoup
from sqlalchemy import select

from portal.models import AuditEvent, User


def soup(response) -> BeautifulSoup:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def rows(page: BeautifulSoup) -> list[list[str]]:
    return [
        [td.get_text(strip=True) for td in tr.select("td")]
        for tr in page.select("#results tbody tr")
    ]


def add_events(session) -> None:  # type: ignore[no-untyped-def]
    publisher = session.scalars(select(User).where(User.email == "publisher@council.example")).one()
    admin = session.scalars(select(User).where(User.email == "admin@council.example")).one()
    session.add_all(
        [
            AuditEvent(
                action="contact.updated",
                actor=publisher,
                subject_type="Contact",
                subject_id=7,
                occurred_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
                detail={"changes": {"phone": ["a", "b"]}},
            ),
            AuditEvent(
                action="contact.retired",
                actor=publisher,
                subject_type="Contact",
                subject_id=8,
                occurred_at=datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
                detail={"name": "=cmd()"},
            ),
            AuditEvent(
                action="offer.published",
                actor=admin,
                subject_type="ServiceOffer",
                subject_id=3,
                occurred_at=datetime(2026, 7, 2, 10, 0, tzinfo=UTC),
                detail={},
            ),
        ]
    )
    session.commit()


def test_search_by_user_kind_of_record_and_date(client_for, session) -> None:  # type: ignore[no-untyped-def]
    add_events(session)
    admin = client_for("la_admin")
    by_user = rows(soup(admin.get("/admin/audit?user=publisher&action=contact.")))
    assert [r[2] for r in by_user] == ["contact.retired", "contact.updated"]
    by_kind = rows(soup(admin.get("/admin/audit?subject_type=ServiceOffer")))
    assert [r[2] for r in by_kind] == ["offer.published"]
    # 30 June 23:30 UTC is 1 July in London (summer time): a London date is what people mean.
    first_of_july = rows(
        soup(admin.get("/admin/audit?date_from=2026-07-01&date_to=2026-07-01&action=contact."))
    )
    assert [r[2] for r in first_of_july] == ["contact.updated"]


def test_a_bad_date_is_explained_not_an_error(client_for) -> None:  # type: ignore[no-untyped-def]
    page = soup(client_for("la_admin").get("/admin/audit?date_from=31/02/2026"))
    assert "Enter a real date, like 2026-11-22" in page.select_one("#date_from-error").get_text()


def test_the_log_downloads_as_csv_safe_for_spreadsheets(client_for, session) -> None:  # type: ignore[no-untyped-def]
    add_events(session)
    response = client_for("la_admin").get("/admin/audit.csv?action=contact.")
    assert response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0][:4] == ["When (UK time)", "Who", "E-mail", "Action"]
    assert [row[3] for row in table[1:]] == ["contact.retired", "contact.updated"]
    assert table[2][0] == "2026-07-01 00:30:00"
    assert table[1][7] == '{"name": "=cmd()"}'  # JSON starts with "{": nothing to run


def test_htmx_search_swaps_only_the_results(client_for) -> None:  # type: ignore[no-untyped-def]
    html = (
        client_for("la_admin")
        .get("/admin/audit?action=auth.", headers={"HX-Request": "true"})
        .get_data(as_text=True)
    )
    assert "<html" not in html and "events" in html
