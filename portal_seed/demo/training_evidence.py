"""The demo claims' evidence: a one-page PDF invoice for each, kept where the portal keeps
uploads (``portal/training/evidence.py`` ``store``, so under CLAIM_EVIDENCE_DIRECTORY, by
default the instance folder), so a demo claim's evidence link downloads a real file."""

from __future__ import annotations

from typing import Any

from portal.training import evidence


def invoice_pdf(reference: str, cost_pence: int) -> bytes:
    """A small, valid PDF (header, objects, cross-reference table, trailer) saying what the
    agency invoiced: the portal checks a PDF by its header and its ``%%EOF``."""
    text = f"Demo invoice {reference}: supply cover GBP {cost_pence // 100}.{cost_pence % 100:02d}"
    text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 56 780 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(pdf)


def demo_evidence(claim: dict[str, Any]) -> dict[str, Any]:
    """A demo claim's (from demo_training.json) evidence columns, its invoice stored as an
    upload would be."""
    data = invoice_pdf(claim["agency"], claim["cost_pence"])
    filename = f"{claim['agency'].split()[-1]}.pdf"
    return {
        "evidence_filename": filename,
        "evidence_type": evidence.PDF,
        "evidence_bytes": len(data),
        "evidence_path": evidence.store(evidence.CheckedFile(data, evidence.PDF, ".pdf", filename)),
    }
