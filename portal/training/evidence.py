"""A claim's evidence: the supply agency's invoice, uploaded as a PDF or an image.

What a file is, is decided by its content, never by its name or the type the browser says it
is: a PDF must start with the PDF header and end as a PDF does; an image must be a PNG or a
JPEG that Pillow opens and verifies, and not so many pixels that opening it would be an
attack on the server's memory (a decompression bomb). A name that says the file is another
kind (an image called .pdf) is refused as well. It must be at most MAX_EVIDENCE_BYTES, read
no further than that.

A file kept is stored under the instance folder with a random name (the person's file name
is kept only to show), and is given out only through the claim's evidence link, to those
who may see the claim, as an attachment of its checked type.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

MAX_EVIDENCE_MB = 5
MAX_EVIDENCE_BYTES = MAX_EVIDENCE_MB * 1024 * 1024
# More pixels than a scan of an A4 invoice at 600 dots an inch (35 million); an image
# claiming more is refused before it is decoded.
MAX_PIXELS = 50_000_000
# Said beside the field.
EVIDENCE_HINT = f"A PDF, PNG or JPEG file, up to {MAX_EVIDENCE_MB} MB"

PDF = "application/pdf"
_IMAGE_TYPES = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg")}
# A PDF starts "%PDF-1.7" (or 2.0), and its last lines end "%%EOF".
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PDF_TAIL_BYTES = 1024


class EvidenceRefused(Exception):
    """The upload cannot be kept; the message says why, beside the field."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str
    extension: str
    # The name it was uploaded with, to show (never used as a path).
    filename: str


def display_name(filename: str | None, extension: str) -> str:
    """The uploaded file's own name, without any folders a browser sent with it or
    characters that could not be shown; a name of our own if nothing is left."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:255]
    return name or f"evidence{extension}"


def check(upload: FileStorage | None) -> CheckedFile:
    """The upload, if it is a PDF, PNG or JPEG no larger than the limit.

    Raises EvidenceRefused with what to tell the person.
    """
    if upload is None or not upload.filename:
        raise EvidenceRefused("Choose the agency's invoice to upload")
    # Read one byte past the limit, and no more: enough to know the file is too large. What
    # is kept is in memory, so the upload (a temporary file, when large) is closed at once.
    try:
        data = upload.stream.read(MAX_EVIDENCE_BYTES + 1)
    finally:
        upload.close()
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceRefused(f"The selected file must be smaller than {MAX_EVIDENCE_MB} MB")
    if not data:
        raise EvidenceRefused("The selected file is empty")
    checked = (
        _pdf(data, upload.filename) if data.startswith(b"%PDF-") else _image(data, upload.filename)
    )
    _name_agrees(checked)
    return checked


# The names each kind of file may have: what it is decides, but a name that says it is
# another kind (an image called .pdf) is a file someone renamed, or a trick.
_NAMES = {PDF: (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg")}
_KNOWN = tuple(name for names in _NAMES.values() for name in names)
_KINDS = {PDF: "a PDF", "image/png": "a PNG image", "image/jpeg": "a JPEG image"}


def _name_agrees(checked: CheckedFile) -> None:
    name = checked.filename.lower()
    if name.endswith(_KNOWN) and not name.endswith(_NAMES[checked.content_type]):
        raise EvidenceRefused(
            f"The selected file is {_KINDS[checked.content_type]} but its name says otherwise: "
            "upload the agency's invoice as it was saved"
        )


def _pdf(data: bytes, filename: str) -> CheckedFile:
    if not _PDF_HEADER.match(data) or b"%%EOF" not in data[-_PDF_TAIL_BYTES:]:
        raise EvidenceRefused("The selected file is not a complete PDF: save it as a PDF again")
    return CheckedFile(data, PDF, ".pdf", display_name(filename, ".pdf"))


def _image(data: bytes, filename: str) -> CheckedFile:
    refused = EvidenceRefused("The selected file must be a PDF, PNG or JPEG")
    too_large = EvidenceRefused(
        "The selected image is too large to open: scan it at a lower resolution, or save it "
        "as a PDF"
    )
    try:
        # A DecompressionBombWarning (more pixels than Pillow's own limit) is an error here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_IMAGE_TYPES)) as image:
                found = image.format
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise too_large
                image.verify()
    except EvidenceRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_large from error
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise refused from error
    if found not in _IMAGE_TYPES:
        raise refused
    content_type, extension = _IMAGE_TYPES[found]
    return CheckedFile(data, content_type, extension, display_name(filename, extension))


def evidence_directory() -> Path:
    configured = current_app.config.get("CLAIM_EVIDENCE_DIRECTORY")
    return Path(configured) if configured else Path(current_app.instance_path) / "claim-evidence"


def store(checked: CheckedFile) -> str:
    """Keep the file under a random name; the name to keep on the claim."""
    directory = evidence_directory()
    directory.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16) + checked.extension
    (directory / name).write_bytes(checked.data)
    return name


def path_of(stored_name: str) -> Path | None:
    """Where a stored file is, or None if the name is not one ``store`` gives or it is gone."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|png|jpg)", stored_name):
        return None
    path = evidence_directory() / stored_name
    return path if path.is_file() else None


def discard(stored_name: str) -> None:
    """Remove a file kept for a claim that was not made after all."""
    path = path_of(stored_name)
    if path is not None:
        path.unlink(missing_ok=True)
