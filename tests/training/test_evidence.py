"""A claim's evidence: a PDF, PNG or JPEG by what the file is, not what it is called; no
larger than the limit; kept under a random name; given only to those who see the claim."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.models import Attendance, SupplyClaim
from portal.training import evidence
from tests.helpers.html import error_summary, soup
from tests.training.factories import (
    PDF_BYTES,
    allocate_to,
    jpeg_bytes,
    make_booking,
    make_claim,
    make_course,
    make_fund,
    make_session,
    png_bytes,
    school_by_urn,
)
from tests.training.test_claims import claim_form


def upload(data: bytes, name: str, content_type: str = "application/pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


def bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` by ``height`` pixels, with almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (PDF_BYTES, "invoice.pdf", "application/pdf"),
        (png_bytes(), "scan.png", "image/png"),
        (jpeg_bytes(), "photo.jpeg", "image/jpeg"),
        # What the browser says does not matter, nor a name that says nothing of the kind.
        (png_bytes(), "scan", "image/png"),
        (jpeg_bytes(), "SCAN.JPG", "image/jpeg"),
    ],
)
def test_good_files_are_accepted_by_their_content(app, data, name, content_type) -> None:
    with app.app_context():
        # The browser's word for it is always "application/pdf" here: it is not listened to.
        checked = evidence.check(upload(data, name, "application/pdf"))
    assert checked.content_type == ("application/pdf" if data == PDF_BYTES else content_type)
    assert checked.data == data
    assert checked.filename == name


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just some text, not an invoice\n", "invoice.png", "must be a PDF, PNG or JPEG"),
        # A PNG called a PDF, a PDF called an image.
        (png_bytes(), "invoice.pdf", "is a PNG image but its name says otherwise"),
        (PDF_BYTES, "invoice.jpg", "is a PDF but its name says otherwise"),
        (b"GIF89a" + b"\0" * 40, "invoice.gif", "must be a PDF, PNG or JPEG"),
        (b"<html><script>alert(1)</script></html>", "invoice.pdf", "must be a PDF, PNG or JPEG"),
        (b"%PDF-1.7\nno end to it", "invoice.pdf", "not a complete PDF"),
        (png_bytes()[:40], "cut.png", "must be a PDF, PNG or JPEG"),
        (b"", "empty.pdf", "is empty"),
        # Over the portal's limit; over Pillow's own, which refuses to open it at all.
        (bomb_png(8_000, 8_000), "bomb.png", "too large to open"),
        (bomb_png(100_000, 100_000), "bomb.png", "too large to open"),
    ],
)
def test_other_files_are_refused(app, data, name, message) -> None:
    with app.app_context(), pytest.raises(evidence.EvidenceRefused, match=message):
        evidence.check(upload(data, name))


def test_a_file_over_the_limit_is_refused_without_reading_it_all(app) -> None:
    class Counted(io.BytesIO):
        given = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            Counted.given += len(chunk)
            return chunk

    stream = Counted(PDF_BYTES + b"0" * (evidence.MAX_EVIDENCE_BYTES * 2))
    with app.app_context(), pytest.raises(evidence.EvidenceRefused, match="smaller than 5 MB"):
        evidence.check(FileStorage(stream, filename="big.pdf"))
    assert Counted.given == evidence.MAX_EVIDENCE_BYTES + 1


def test_the_name_shown_is_the_files_own_without_folders() -> None:
    assert evidence.display_name("C:\\Users\\me\\invoice 12.pdf", ".pdf") == "invoice 12.pdf"
    assert evidence.display_name("../../etc/passwd", ".pdf") == "passwd"
    assert evidence.display_name("\x00\n", ".png") == "evidence.png"


@pytest.fixture
def claimable(app, session, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CLAIM_EVIDENCE_DIRECTORY", str(tmp_path))
    course = make_course(duration_minutes=360, session=session)
    fund = make_fund(courses=[course], session=session)
    oakfield = school_by_urn(125601, session=session)
    allocate_to(fund, {oakfield: 50_000}, session=session)
    booking = make_booking(
        make_session(course, on=date(2026, 10, 1), session=session),
        oakfield,
        attendance=Attendance.ATTENDED,
        session=session,
    )
    session.commit()
    return fund, booking


def test_a_refused_upload_is_said_beside_the_field_and_the_rest_is_kept(
    client_for, claimable
) -> None:
    fund, booking = claimable
    too_large = b"%PDF-1.4\n" + b"0" * (evidence.MAX_EVIDENCE_BYTES + 10) + b"\n%%EOF"
    response = claim_form(
        client_for("head_teacher"),
        fund,
        booking,
        evidence=(io.BytesIO(too_large), "invoice.pdf"),
        agency_reference="AGY-99",
    )
    assert response.status_code == 200
    assert error_summary(response) == ["The selected file must be smaller than 5 MB"]
    page = soup(response)
    assert "smaller than 5 MB" in page.select_one("#evidence-error").get_text()
    assert page.select_one("input[name=agency_reference]")["value"] == "AGY-99"
    assert page.select_one("input[name=cost]")["value"] == "180.00"
    # The form says the limit before anyone tries.
    assert "up to 5 MB" in page.get_text()


def test_a_text_file_named_png_is_refused_on_the_form(client_for, session, claimable) -> None:
    fund, booking = claimable
    response = claim_form(
        client_for("head_teacher"), fund, booking, evidence=(io.BytesIO(b"hello"), "invoice.png")
    )
    assert error_summary(response) == ["The selected file must be a PDF, PNG or JPEG"]
    assert (
        session.scalars(select(SupplyClaim).where(SupplyClaim.booking_id == booking.id)).first()
        is None
    )


def test_the_evidence_is_given_only_to_those_who_see_the_claim(
    client_for, session, claimable, tmp_path
) -> None:
    fund, booking = claimable
    assert (
        claim_form(
            client_for("head_teacher"),
            fund,
            booking,
            evidence=(io.BytesIO(png_bytes()), "scan.png"),
        ).status_code
        == 303
    )
    claim = session.scalars(select(SupplyClaim).where(SupplyClaim.booking_id == booking.id)).one()
    assert claim.evidence_type == "image/png"
    assert claim.evidence_path.endswith(".png") and "scan" not in claim.evidence_path
    page = soup(client_for("head_teacher").get(f"/training/claims/{claim.id}"))
    link = page.find("a", href=f"/training/claims/{claim.id}/evidence")
    assert link.get_text() == "scan.png"
    for role in ("head_teacher", "school_staff", "la_admin"):
        response = client_for(role).get(f"/training/claims/{claim.id}/evidence")
        assert response.status_code == 200
        assert response.data == png_bytes()
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    for role in ("academy_head", "trust_lead", "caf_officer", "publisher"):
        assert client_for(role).get(f"/training/claims/{claim.id}/evidence").status_code == 404


def test_a_missing_file_is_not_found(client_for, session, claimable) -> None:
    fund, booking = claimable
    claim = make_claim(fund, booking, session=session)
    session.commit()
    assert client_for("la_admin").get(f"/training/claims/{claim.id}/evidence").status_code == 404
