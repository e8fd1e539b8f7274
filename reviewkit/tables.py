"""Reading the tables an import brings: CSV files and XLSX sheets, bounded before they are read.

Every file is read in full before any row is checked, so a bad file anywhere stops the
import before the store is touched. A workbook is inspected before openpyxl inflates it (its
unpacked size, rows and any DTD), so a file made to exhaust memory is refused with a plain
message. The contracts (the columns of each kind of table, README "Data contracts") live
here because reading, checking and export all follow them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem

__all__ = ["CONTRACTS", "Contract", "EXPORT_KINDS", "MAX_ROWS", "MAX_XLSX_BYTES", "Table", "read_file"]


@dataclass(frozen=True)
class Contract:
    """The columns of one kind of table (README "Data contracts"), in the README's order."""

    kind: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    # Columns a file may carry for the person filling it in (the audit workbook's question
    # titles): accepted and ignored on import, never exported.
    informational: tuple[str, ...] = ()


CONTRACTS: dict[str, Contract] = {c.kind: c for c in (
    Contract("ratings", ("case_id", "reviewer", "question", "rating", "comment"),
             ("case_id", "reviewer", "question", "rating"), ("question_title",)),
    Contract("flags", ("case_id", "reviewer", "referred_back", "reason", "complete"),
             ("case_id", "reviewer", "referred_back")),
    Contract("meetings", ("meeting", "kind", "date", "role", "attendees", "title"),
             ("meeting", "kind", "date", "role", "attendees")),
    Contract("conversations", ("conversation", "case_id", "who", "reviewer", "date"),
             ("conversation", "case_id", "who", "reviewer")),
    Contract("notes", ("note", "meeting", "conversation", "kind", "text", "speaker_role", "stance", "codes",
                       "use_in_report"), ("note", "kind", "text")),
)}
EXPORT_KINDS = (*CONTRACTS, "all")
# Sheets named after a kind are read as that kind whatever their header says.
_SHEET_KINDS = {"ratings": "ratings", "flags": "flags", "case_flags": "flags", "cases": "flags", "meetings": "meetings",
                "conversations": "conversations", "notes": "notes", "notes_and_quotes": "notes"}
# Bounds on what an import reads: a review holds a few thousand rows and a few megabytes, so
# these refuse a file made to exhaust memory (an "XLSX bomb") before it is inflated.
MAX_ROWS = 50_000
MAX_XLSX_BYTES = 64 * 2**20
MAX_XLSX_MEMBERS = 2_000
_HEAD_BYTES = 64 * 1024  # of each XML part: its prolog (any DTD) and a sheet's dimension
# Spreadsheet apps run a cell beginning with one of these as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[str], None]

# -- reading files ----------------------------------------------------------------------------
@dataclass
class Table:
    """One table read from a CSV file or an XLSX sheet, before its kind is known."""

    source: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]
    sheet_kind: str | None = None


def norm_header(name: str) -> str:
    return "_".join(name.replace("-", " ").replace("_", " ").casefold().split())


def _needs_quote(value: str) -> bool:
    """Whether a spreadsheet would run the text as a formula (counting quotes export added)."""
    return value.lstrip("'")[:1] in _FORMULA_START and value.lstrip("'") != ""


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, written with one leading quote."""
    return "'" + value if isinstance(value, str) and _needs_quote(value) else value


def unescape(value: str) -> str:
    """Undo export's neutralisation: drop exactly the one quote it put in front."""
    return value[1:] if value[:1] == "'" and _needs_quote(value[1:]) else value


def _cell_text(value: Any) -> str:
    """An XLSX cell as the text a person typed: whole numbers without .0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _from_records(source: str, records: Iterable[tuple[int, list[str]]], sheet_kind: str | None = None
                  ) -> Table | None:
    """Header = first non-blank row; blank rows are skipped, row numbers kept as the user sees them."""
    header: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[str]]] = []
    for number, cells in records:
        if not "".join(cells).strip():  # a blank row
            continue
        if header is None:
            header, header_row = [c.strip() for c in cells], number
        else:
            rows.append((number, cells))
    if header is None:
        return None
    while header and not header[-1]:
        header.pop()
    return Table(source, header, header_row, rows, sheet_kind)


def _read_csv(path: Path, label: str, problems: list[Problem]) -> list[Table]:
    data = _read_bytes(path, label, problems)
    if data is None:
        return []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(label, None, None, "is saved as 'Unicode text' (UTF-16); in Excel choose "
                                "File > Save As > 'CSV UTF-8 (Comma delimited)' and import that file"))
        return []
    if data.startswith(b"PK\x03\x04"):
        problems.append(Problem(label, None, None, "is an Excel workbook with a .csv name; rename it to "
                                ".xlsx, or save it as 'CSV UTF-8 (Comma delimited)'"))
        return []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        problems.append(Problem(label, line, None, "is not UTF-8 text (it was probably saved as plain 'CSV' "
                                "or in a Windows encoding); in Excel choose File > Save As > 'CSV UTF-8 "
                                "(Comma delimited)' and import that file"))
        return []
    if "\x00" in text:
        problems.append(Problem(label, None, None, "is not a text file; save it as CSV UTF-8 or XLSX"))
        return []
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ","
    if "," not in first:  # Excel in some locales writes ; and "Text (Tab delimited)" tabs
        delimiter = next((d for d in (";", "\t") if d in first), ",")
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(reader, 1):
            if number > MAX_ROWS:
                problems.append(_too_many_rows(label))
                return []
            records.append((number, cells))
    except csv.Error as exc:
        line = len(records) + 1
        if "field limit" in str(exc):
            problems.append(Problem(label, line, None, f"has a cell longer than {csv.field_size_limit():,} "
                                    "characters (or a quote that is never closed runs on to the end of the "
                                    "file); shorten the cell, or split it over several notes, and save again"))
        else:
            problems.append(Problem(label, line, None, "is not valid CSV here (a quote that is never "
                                    "closed?); save the file again from Excel as CSV UTF-8"))
        return []
    table = _from_records(label, records)
    if table is None:
        problems.append(Problem(label, None, None, "is empty; expected a header row and one row per record"))
        return []
    return [table]


def _too_many_rows(label: str) -> Problem:
    return Problem(label, None, None, f"has more than {MAX_ROWS:,} rows, far more than a review holds; "
                   "check it is the right file, or split it into smaller files")


def _read_bytes(path: Path, label: str, problems: list[Problem]) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(label, None, None, "no such file; check the name and folder"))
        return None
    except IsADirectoryError:
        problems.append(Problem(label, None, None, "is a folder, not a file; give the CSV or XLSX file"))
        return None
    except OSError as exc:
        problems.append(Problem(label, None, None, f"cannot be read ({exc.strerror or 'read error'}); "
                                "close it in Excel and check you may read it"))
        return None
    if not data.strip():
        problems.append(Problem(label, None, None, "is empty; expected a header row and one row per record"))
        return None
    return data


def _read_xlsx(path: Path, label: str, problems: list[Problem], say: Progress | None = None) -> list[Table]:
    if _read_bytes(path, label, problems) is None:
        return []
    import zipfile
    import zlib
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = Problem(label, None, None, "is not a readable XLSX workbook; open it in Excel and save it "
                         "as 'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (Comma delimited)'")
    refused = _inspect_xlsx(path, label)
    if refused is not None:
        problems.append(refused)
        return []
    broken = (InvalidFileException, zipfile.BadZipFile, zlib.error, ParseError, *xml_errors(), KeyError, ValueError,
              TypeError, IndexError, AttributeError, OSError, EOFError, NotImplementedError)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except broken:
        problems.append(unreadable)
        return []
    sheets: list[tuple[str, Table]] = []
    hidden: list[str] = []
    try:
        for sheet in wb.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                hidden.append(sheet.title)
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some writers store a wrong size; read every row (up to the limit)
            rows = _bounded(enumerate(sheet.iter_rows(values_only=True), 1))
            records = ((n, [_cell_text(v) for v in row]) for n, row in rows)
            table = _from_records(f"{label} (sheet '{sheet.title}')", records,
                                  _SHEET_KINDS.get(norm_header(sheet.title)))
            if table is not None:
                sheets.append((sheet.title, table))
    except _TooManyRows:
        problems.append(_too_many_rows(label))
        return []
    except broken:
        problems.append(unreadable)
        return []
    finally:
        wb.close()
    if not sheets:
        problems.append(Problem(label, None, None, "is empty; expected a header row and one row per record"))
        return []
    # Sheets named after a kind, or whose header is recognisably a contract, are read; the
    # rest (the workbook's Instructions and Questions) are for people, not for import.
    chosen = [t for _, t in sheets if t.sheet_kind or _looks_like_contract(t.header)]
    chosen = chosen or [sheets[0][1]]
    read_hidden = [title for title, t in sheets if title in hidden and any(t is c for c in chosen)]
    if read_hidden and say is not None:
        # Excel does not show these, so the person sending the file may not know what it holds.
        names = ", ".join(f"'{t}'" for t in read_hidden)
        say(f"Warning: {label}: sheet {names} is hidden in Excel and was read; unhide it "
            "(right-click a sheet tab > Unhide) to check what it holds before relying on this import")
    return chosen


class _TooManyRows(Exception):
    """A sheet has more rows than any review holds (a file made to exhaust memory, or the wrong file)."""


def _bounded(rows: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    for n, row in rows:
        if n > MAX_ROWS:
            raise _TooManyRows
        yield n, row


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"[A-Z]{1,3}\d+(?::[A-Z]{1,3}(\d+))?\"")
_PROLOG_NOISE = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")


# What each kind of office file is called in a message, and how to save a clean copy of it.
_OFFICE = {"xlsx": ("workbook", "Excel", "open it in Excel and save it again as 'Excel Workbook (*.xlsx)'"),
           "docx": ("document", "Word", "open it in Word and save it again as 'Word Document (*.docx)'")}


def _inspect_xlsx(path: Path, label: str) -> Problem | None:
    return inspect_office_file(path, label, "xlsx")


def inspect_office_file(path: Path, label: str, kind: str = "xlsx") -> Problem | None:
    """Refuse an XLSX or DOCX before it is inflated: too big unpacked, too many rows, or a DTD.

    The zip's declared sizes bound what inflating can produce (zipfile stops at the declared
    size), and each sheet's dimension gives its rows, so a few kilobytes read decide.
    Office never writes a DTD; one in its XML is there to expand entities or read other files.
    """
    import zipfile
    import zlib

    noun, app, resave = _OFFICE[kind]
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_XLSX_MEMBERS:
                return Problem(label, None, None, f"holds {len(infos):,} parts, far more than a {noun}; {resave}")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > MAX_XLSX_BYTES:
                return Problem(label, None, None, f"unpacks to {unpacked / 2**20:,.0f} MB, more than the "
                               f"{MAX_XLSX_BYTES // 2**20} MB a review's {noun} can need; check it is the "
                               "right file, or split it into smaller files")
            for info in infos:
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as member:
                    head = member.read(_HEAD_BYTES)
                plain = _PROLOG_NOISE.sub(b"", head)
                if _DTD.search(plain) or (len(head) == _HEAD_BYTES and not _ROOT.search(plain)):
                    return Problem(label, None, None, f"part {info.filename} declares a document type (DTD), "
                                   f"which {app} never writes and which can make a file read other files; {resave}")
                dim = _DIMENSION.search(head) if info.filename.startswith("xl/worksheets/") else None
                if dim and dim.group(1) and int(dim.group(1)) > MAX_ROWS:
                    return _too_many_rows(label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError,
            OSError, EOFError):
        if kind == "docx":
            return Problem(label, None, None, f"is not a readable Word document; {resave}")
        return Problem(label, None, None, "is not a readable XLSX workbook; open it in Excel and save it "
                       "as 'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (Comma delimited)'")
    return None


def _looks_like_contract(header: Sequence[str]) -> bool:
    cols = {norm_header(h) for h in header}
    return any(len(cols & set(c.required)) >= 2 for c in CONTRACTS.values())


def read_file(path: Path, label: str, problems: list[Problem], say: Progress | None = None) -> list[Table]:
    suffix = path.suffix.casefold()
    if suffix == ".csv":
        return _read_csv(path, label, problems)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, label, problems, say)
    if suffix in (".xls", ".ods", ".numbers"):
        problems.append(Problem(label, None, None, f"is a {suffix} file; save it as 'Excel Workbook (*.xlsx)' "
                                "or 'CSV UTF-8 (Comma delimited)' and import that file"))
        return []
    problems.append(Problem(label, None, None, "is not a CSV or XLSX file; the name must end in .csv or .xlsx"))
    return []


def recognise(columns: set[str]) -> str | None:
    """The contract a header belongs to: most shared columns, then fewest missing required."""
    scored = [(len(columns & set(c.columns)), -len(set(c.required) - columns), c.kind) for c in CONTRACTS.values()]
    scored.sort(reverse=True)
    best = scored[0]
    if best[0] == 0 or (best[:2] == scored[1][:2]):
        return None
    return best[2]

def xml_errors() -> tuple[type[BaseException], ...]:
    """lxml's errors, when openpyxl reads and writes XML with it (it then reports a full disk as IO_ENOSPC)."""
    try:
        from lxml.etree import LxmlError
    except ImportError:  # pragma: no cover - openpyxl then uses the standard library
        return ()
    return (LxmlError,)
