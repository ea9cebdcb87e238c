"""Reading a CSV download from the DfE's register (GIAS), however it was saved.

The DfE's own download is UTF-8, sometimes with a byte-order mark, with Windows line
endings and every field quoted. A copy that has been opened in Excel and saved again may be
Windows-1252, have its columns reordered or trimmed, or carry columns of its own. So columns
are found by their header name, never by their position, and the encoding is worked out.

A file that cannot be read as a table at all, or whose rows do not line up with its header
(a stray comma shifts every value after it into the wrong column), is refused whole: it is
*malformed*, and nothing in it is applied. Judging the values in a row is for the plan.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Tried in this order: the DfE's UTF-8, then Excel's "CSV" on a Windows PC. Latin-1 decodes
# any bytes at all, so it is the last resort for a file that is neither.
ENCODINGS = (("utf-8-sig", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1"))
DELIMITERS = (",", "\t", ";")
# Enough to show what is wrong with a damaged file without drowning the page.
MAX_PROBLEMS_LISTED = 50


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: str


class MalformedFile(Exception):
    """The file cannot be read as the table it should be: nothing in it is applied."""

    def __init__(self, message: str, problems: Sequence[RowProblem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


def header_key(name: str) -> str:
    """A column's name as it is matched: case, spacing and a stray byte-order mark ignored."""
    return " ".join(name.replace("\ufeff", "").replace("ï»¿", "").split()).casefold()


@dataclass(frozen=True)
class Row:
    """One record of the file, numbered as a spreadsheet numbers it (the header is row 1)."""

    number: int
    values: Sequence[str]
    columns: dict[str, int] = field(repr=False)

    def get(self, name: str) -> str | None:
        """The value in the column called ``name``, stripped; None if there is no such column."""
        index = self.columns.get(header_key(name))
        return None if index is None else self.values[index].strip()


@dataclass(frozen=True)
class Table:
    header: list[str]
    columns: dict[str, int]
    rows: list[Row]
    encoding: str

    def has(self, name: str) -> bool:
        return header_key(name) in self.columns


def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read in."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text": UTF-16, usually with tabs between the columns.
        try:
            return raw.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError as error:
            raise MalformedFile(
                "The file says it is UTF-16 but is not: save it as CSV again."
            ) from error
    if raw.startswith(b"PK\x03\x04"):
        raise MalformedFile(
            "This is an Excel workbook (or a zip file), not a CSV file. Open it in Excel and "
            "save it as “CSV UTF-8 (comma delimited)”, or download the CSV from GIAS again."
        )
    if b"\x00" in raw:
        raise MalformedFile(
            "This is not a text file (it may be a spreadsheet or a damaged download). "
            "Download the CSV from GIAS again."
        )
    for codec, label in ENCODINGS:
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if any(ch < " " and ch not in "\t\r\n" for ch in text):
            raise MalformedFile(
                "The file holds control characters that no CSV file has: it is not text, or "
                "it is damaged. Download the CSV from GIAS again."
            )
        return text, label
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _delimiter(first_line: str) -> str:
    return max(DELIMITERS, key=first_line.count)


def read_table(raw: bytes, required: Iterable[str], *, what: str = "GIAS extract") -> Table:
    """The file as a header and rows. Raises :class:`MalformedFile` saying what is wrong."""
    text, encoding = decode(raw)
    if not text.strip():
        raise MalformedFile("The file is empty.")
    delimiter = _delimiter(text.lstrip().splitlines()[0])
    # newline="" lets the csv module see quoted line breaks and Windows line endings itself.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    columns: dict[str, int] = {}
    rows: list[Row] = []
    problems: list[RowProblem] = []
    number = 0
    try:
        for record in reader:
            number += 1
            if not any(value.strip() for value in record):
                continue
            if header is None:
                header = record
                for index, name in enumerate(record):
                    columns.setdefault(header_key(name), index)
                _check_columns(header, columns, required, what)
                number = 1
                continue
            if len(record) != len(header):
                problems.append(
                    RowProblem(
                        number,
                        f"has {len(record)} values where the header has {len(header)} columns "
                        "(a comma or quotation mark out of place?)",
                    )
                )
                continue
            rows.append(Row(number, record, columns))
    except csv.Error as error:
        problems.append(RowProblem(number + 1 if header else 1, f"cannot be read: {error}"))
    if header is None:
        raise MalformedFile("The file is empty.")
    if problems:
        listed = problems[:MAX_PROBLEMS_LISTED]
        more = len(problems) - len(listed)
        raise MalformedFile(
            f"{_plural(len(problems), 'row')} of the file cannot be read, so none of it has "
            "been used. The file may be damaged or have been changed by hand: download it "
            "from GIAS again." + (f" ({more} more not listed.)" if more else ""),
            listed,
        )
    return Table(header=header, columns=columns, rows=rows, encoding=encoding)


def _check_columns(
    header: list[str], columns: dict[str, int], required: Iterable[str], what: str
) -> None:
    missing = [name for name in required if header_key(name) not in columns]
    if not missing:
        return
    found = ", ".join(f"“{name.strip()}”" for name in header[:8]) + (
        ", …" if len(header) > 8 else ""
    )
    names = ", ".join(f"“{name}”" for name in missing)
    raise MalformedFile(
        f"The file has no {names} column{'s' if len(missing) > 1 else ''}: is it a {what} "
        f"in CSV? Its first row reads {found}."
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
