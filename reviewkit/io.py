"""Import and export of ratings, case flags, meetings, conversations and notes (CSV and XLSX).

An import reads every file and checks every row before anything is written, then writes it
all in one store transaction: one bad row anywhere and nothing is stored, and the user gets
every problem at once (file, row, column, what was expected) instead of one per attempt.
Messages never quote a cell, because any cell could hold personal data. Exports use the same
contracts, so an exported file imports back unchanged (the offline audit workbook, in
``reviewkit.workbook``, is a ratings file with instructions beside it).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io as _io
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .errors import (
    BlockedTextError,
    ConflictError,
    FileWriteError,
    ImportFileError,
    InvalidInputError,
    Problem,
    StoreError,
    WarningTextError,
)
from .progress import needs_evidence
from .store import MEETING_KINDS, NOTE_KINDS, STANCES, WHO, ImportSummary, RatingInput, Store, describe_failure
from .workspace import CASE_ID, Workspace

__all__ = ["CONTRACTS", "Contract", "EXPORT_KINDS", "ImportResult", "export", "import_files"]


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
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.#/-]{0,31}$")
_REF_HELP = "a short reference such as M1 (letters, digits and - _ . # /, at most 32 characters)"
_GENERATED_REF = {"meetings": "M", "conversations": "V", "notes": "N"}  # exported for rows stored without one
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
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
class _Table:
    """One table read from a CSV file or an XLSX sheet, before its kind is known."""

    source: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]
    sheet_kind: str | None = None


def _norm_header(name: str) -> str:
    return "_".join(name.replace("-", " ").replace("_", " ").casefold().split())


def _needs_quote(value: str) -> bool:
    """Whether a spreadsheet would run the text as a formula (counting quotes export added)."""
    return value.lstrip("'")[:1] in _FORMULA_START and value.lstrip("'") != ""


def _neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, written with one leading quote."""
    return "'" + value if isinstance(value, str) and _needs_quote(value) else value


def _unescape(value: str) -> str:
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
                  ) -> _Table | None:
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
    return _Table(source, header, header_row, rows, sheet_kind)


def _read_csv(path: Path, label: str, problems: list[Problem]) -> list[_Table]:
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


def _read_xlsx(path: Path, label: str, problems: list[Problem], say: Progress | None = None) -> list[_Table]:
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
    broken = (InvalidFileException, zipfile.BadZipFile, zlib.error, ParseError, *_xml_errors(), KeyError, ValueError,
              TypeError, IndexError, AttributeError, OSError, EOFError, NotImplementedError)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except broken:
        problems.append(unreadable)
        return []
    sheets: list[tuple[str, _Table]] = []
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
                                  _SHEET_KINDS.get(_norm_header(sheet.title)))
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


def _inspect_xlsx(path: Path, label: str) -> Problem | None:
    """Refuse a workbook before openpyxl inflates it: too big unpacked, too many rows, or a DTD.

    The zip's declared sizes bound what inflating can produce (zipfile stops at the declared
    size), and each sheet's dimension gives its rows, so a few kilobytes read decide.
    Excel never writes a DTD; one in an XLSX is there to expand entities or read other files.
    """
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_XLSX_MEMBERS:
                return Problem(label, None, None, f"holds {len(infos):,} parts, far more than a workbook; "
                               "open it in Excel and save it again as 'Excel Workbook (*.xlsx)'")
            unpacked = sum(i.file_size for i in infos)
            if unpacked > MAX_XLSX_BYTES:
                return Problem(label, None, None, f"unpacks to {unpacked / 2**20:,.0f} MB, more than the "
                               f"{MAX_XLSX_BYTES // 2**20} MB a review's workbook can need; check it is the "
                               "right file, or split it into smaller files")
            for info in infos:
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as member:
                    head = member.read(_HEAD_BYTES)
                plain = _PROLOG_NOISE.sub(b"", head)
                if _DTD.search(plain) or (len(head) == _HEAD_BYTES and not _ROOT.search(plain)):
                    return Problem(label, None, None, f"part {info.filename} declares a document type (DTD), "
                                   "which Excel never writes and which can make a file read other files; "
                                   "open it in Excel and save it again as 'Excel Workbook (*.xlsx)'")
                dim = _DIMENSION.search(head) if info.filename.startswith("xl/worksheets/") else None
                if dim and dim.group(1) and int(dim.group(1)) > MAX_ROWS:
                    return _too_many_rows(label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError,
            OSError, EOFError):
        return Problem(label, None, None, "is not a readable XLSX workbook; open it in Excel and save it "
                       "as 'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (Comma delimited)'")
    return None


def _looks_like_contract(header: Sequence[str]) -> bool:
    cols = {_norm_header(h) for h in header}
    return any(len(cols & set(c.required)) >= 2 for c in CONTRACTS.values())


def _read_file(path: Path, label: str, problems: list[Problem], say: Progress | None = None) -> list[_Table]:
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


def _recognise(columns: set[str]) -> str | None:
    """The contract a header belongs to: most shared columns, then fewest missing required."""
    scored = [(len(columns & set(c.columns)), -len(set(c.required) - columns), c.kind) for c in CONTRACTS.values()]
    scored.sort(reverse=True)
    best = scored[0]
    if best[0] == 0 or (best[:2] == scored[1][:2]):
        return None
    return best[2]


# -- checking rows ----------------------------------------------------------------------------
@dataclass
class _Meeting:
    source: str
    row: int
    ref: str
    kind: str
    held_on: str
    title: str
    attendees: dict[str, int] = field(default_factory=dict)
    role_rows: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass
class _Conversation:
    source: str
    row: int
    ref: str
    case_id: str
    who: str
    reviewer: str
    held_on: str


@dataclass
class _Note:
    source: str
    row: int
    ref: str
    parent: str  # "meetings" or "conversations"
    parent_ref: str
    kind: str
    text: str
    speaker_role: str
    stance: str
    codes: tuple[str, ...]
    use_in_report: bool


@dataclass
class _Flag:
    source: str
    row: int
    case_id: str
    reviewer: str
    referred_back: bool
    reason: str
    complete: bool | None


class _Checker:
    """Checks every row of every table against the contracts and the review's rules."""

    def __init__(self, ws: Workspace, store: Store, confirm_warnings: bool) -> None:
        self.ws, self.store, self.confirm = ws, store, confirm_warnings
        rules = ws.rules()
        self.rules = rules
        self.names = rules.names
        self.scale = rules.scale
        self.reviewers = {_fold(r): r for r in rules.reviewers}
        self.questions = {q.casefold(): q for q in rules.questions}
        self.cases = {c.casefold(): c for c in rules.cases}
        self.problems: list[Problem] = []
        self.ratings: list[RatingInput] = []
        self.rating_sources: list[str] = []
        self.rating_seen: dict[tuple[str, str, str], tuple[str, int]] = {}
        self.flags: list[_Flag] = []
        self.flag_seen: dict[tuple[str, str], tuple[str, int]] = {}
        self.meetings: dict[str, _Meeting] = {}
        self.conversations: dict[str, _Conversation] = {}
        self.notes: dict[str, _Note] = {}
        self.kinds: list[str] = []
        self.warnings: list[Problem] = []
        self._codebook: Any = _load_codebook(ws)
        self._good_cases: dict[str, str] = {}  # as typed -> accepted reference (see case())
        self._good_reviewers: dict[str, str] = {}  # as typed -> the team member's name

    # -- helpers --------------------------------------------------------------------------
    def problem(self, source: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(source, row, column, message))

    def case(self, src: str, row: int, value: str, column: str = "case_id") -> str | None:
        known = self._good_cases.get(value)  # a case reference already accepted: thousands of rows repeat it
        if known is not None:
            return known
        v = value.strip()
        if not v:
            self.problem(src, row, column, "is blank; give the case reference, e.g. C07")
            return None
        if self.cases:
            found = self.cases.get(v.casefold())
            if found is None:
                self.problem(src, row, column, "is not in the case list in review.yaml; use a case reference "
                             "listed there (or add the case to review.yaml first)")
            else:
                self._good_cases[value] = found
            return found
        if not CASE_ID.match(v):
            self.problem(src, row, column, "must be a short pseudonymous case reference such as C07 (a letter, "
                         "then up to 15 letters, digits, - or _), never a name or NHS number")
            return None
        self._good_cases[value] = v
        return v

    def reviewer(self, src: str, row: int, value: str) -> str | None:
        found = self._good_reviewers.get(value)
        if found is not None:
            return found
        found = self.reviewers.get(_fold(value))
        if found is not None:
            self._good_reviewers[value] = found
        else:
            what = "is blank" if not value.strip() else "is not a reviewer on the review team"
            self.problem(src, row, "reviewer", f"{what}; expected one of {', '.join(self.rules.reviewers)} "
                         "(as written in review.yaml)")
        return found

    def allocated(self, src: str, row: int, case: str | None, reviewer: str | None) -> bool:
        if case is None or reviewer is None or not self.cases:
            return case is not None and reviewer is not None
        if reviewer not in self.rules.cases[case]:
            self.problem(src, row, "case_id", "this case is not allocated to this reviewer in review.yaml "
                         "(as reviewer or moderator); check the case reference or the allocation")
            return False
        return True

    def yes_no(self, src: str, row: int, column: str, value: str, *, blank: bool | None) -> bool | None:
        v = value.strip().casefold()
        if not v:
            if blank is None and column == "referred_back":
                self.problem(src, row, column, "is blank; expected yes or no")
            return blank
        if v in _YES:
            return True
        if v in _NO:
            return False
        self.problem(src, row, column, "expected yes or no")
        return blank

    def date(self, src: str, row: int, value: str, *, required: bool) -> str | None:
        v = value.strip()
        if not v:
            if required:
                self.problem(src, row, "date", "is blank; expected a date written YYYY-MM-DD, e.g. 2026-03-14")
                return None
            return ""
        if _DATE.match(v):
            try:
                dt.date.fromisoformat(v)
                return v
            except ValueError:
                pass
        self.problem(src, row, "date", "expected a real date written YYYY-MM-DD, e.g. 2026-03-14")
        return None

    def ref(self, src: str, row: int, column: str, value: str) -> str | None:
        v = value.strip()
        if not v:
            self.problem(src, row, column, f"is blank; expected {_REF_HELP}")
            return None
        if not _REF.match(v):
            self.problem(src, row, column, f"expected {_REF_HELP}")
            return None
        return v

    def screen(self, src: str, row: int, column: str, text: str, what: str, *, warnings_allowed: bool) -> bool:
        """Screen as the store will (it remembers passing text); a finding names its kind and place only."""
        if not text.strip():
            return True
        try:
            self.store.screen(text, what, confirm_warnings=warnings_allowed)
            return True
        except BlockedTextError as exc:
            message = str(exc)
        except WarningTextError as exc:  # only raised when warnings are not confirmed
            message = str(exc) + (" A meeting title cannot keep one: reword it." if what == "meeting title"
                                  else " To keep it as it is, import again confirming the warnings "
                                  "(--confirm-warnings).")
        self.problem(src, row, column, message)
        return False

    # -- tables ---------------------------------------------------------------------------
    def columns(self, t: _Table) -> tuple[str, dict[str, int]] | None:
        """The table's kind and column positions, or None after recording header problems."""
        src, hrow = t.source, t.header_row
        names = [_norm_header(h) for h in t.header]
        kind = t.sheet_kind or _recognise({n for n in names if n})
        if kind is None:
            kinds = "; ".join(f"{c.kind}: {', '.join(c.columns)}" for c in CONTRACTS.values())
            self.problem(src, hrow, None, "cannot tell what kind of table this is from its column names; the "
                         f"first row must hold the column names of one contract ({kinds})")
            return None
        contract = CONTRACTS[kind]
        positions: dict[str, int] = {}
        ok = True
        # Unknown columns are named by letter: a header cell may be a data row typed without a header.
        for i, name in enumerate(names):
            if not name:
                if any(i < len(cells) and cells[i].strip() for _, cells in t.rows):
                    self.problem(src, hrow, _letter(i), "this column holds data but has no name; give it one "
                                 f"of {', '.join(contract.columns)} or delete it")
            elif name in contract.informational:
                continue
            elif name not in contract.columns:
                self.problem(src, hrow, _letter(i), f"this column's name is not a column of the {kind} contract "
                             f"({', '.join(contract.columns)}); rename or remove the column")
            elif name in positions:
                self.problem(src, hrow, name, f"appears twice (columns {_letter(positions[name])} and "
                             f"{_letter(i)}); keep one")
                ok = False
            else:
                positions[name] = i
        for name in contract.required:
            if name not in positions:
                self.problem(src, hrow, name, f"is missing; a {kind} table needs the columns "
                             f"{', '.join(contract.required)}")
                ok = False
        if kind == "notes" and "meeting" not in positions and "conversation" not in positions:
            self.problem(src, hrow, "meeting", "a notes table needs a 'meeting' or a 'conversation' column "
                         "saying where each note was made")
            ok = False
        return (kind, positions) if ok else None

    def rows(self, t: _Table, positions: dict[str, int], kind: str) -> Iterable[tuple[int, dict[str, str]]]:
        width = len(t.header)
        where = [(name, positions.get(name)) for name in CONTRACTS[kind].columns]
        for number, cells in t.rows:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                self.problem(t.source, number, None, "has more cells than the header has columns; remove them "
                             "or give their column a name")
            n = len(cells)
            yield number, {name: _unescape(cells[i]) if i is not None and i < n else "" for name, i in where}

    def check(self, tables: list[_Table]) -> None:
        notes: list[tuple[_Table, dict[str, int]]] = []
        for t in tables:
            found = self.columns(t)
            if found is None:
                continue
            kind, positions = found
            if kind not in self.kinds:
                self.kinds.append(kind)
            if kind == "notes":
                notes.append((t, positions))  # after meetings and conversations, which they refer to
            else:
                getattr(self, f"check_{kind}")(t, positions)
        for t, positions in notes:
            self.check_notes(t, positions)

    def check_ratings(self, t: _Table, positions: dict[str, int]) -> None:
        src, seen = t.source, self.rating_seen
        levels: dict[str, Any] = {}
        questions: dict[str, str | None] = {}  # as typed -> question id (None: not one)
        self.rating_sources.append(src)
        # Bound once: this loop runs once per rating, 100,000 times in a large import.
        case_of, reviewer_of, allocated, screen = self.case, self.reviewer, self.allocated, self.screen
        add, confirm = self.ratings.append, self.confirm
        for row, c in self.rows(t, positions, "ratings"):
            raw, comment = c["rating"].strip(), c["comment"]
            if not comment.strip():
                comment = ""
            if not raw:
                if comment:  # an unfilled workbook row is "not rated yet"; a lone comment is a slip
                    self.problem(src, row, "rating", "is blank but a comment is written; choose a rating")
                continue
            case = case_of(src, row, c["case_id"])
            reviewer = reviewer_of(src, row, c["reviewer"])
            typed = c["question"]
            question = questions[typed] if typed in questions else questions.setdefault(
                typed, self.questions.get(typed.strip().casefold()))
            if question is None:
                self.problem(src, row, "question", "is not a question of the review's audit tool; expected one "
                             f"of {', '.join(self.rules.questions)}")
            level = levels[raw] if raw in levels else levels.setdefault(raw, self.scale.parse(raw))
            if level is None:
                self.problem(src, row, "rating", f"expected one of {self.scale.describe()} (any case)")
            ok = allocated(src, row, case, reviewer)
            ok = screen(src, row, "comment", comment, "evidence note", warnings_allowed=confirm) and ok
            if not (ok and question is not None and level is not None):
                continue
            key = (case, reviewer, question)
            assert case is not None and reviewer is not None
            if key in seen:
                other = seen[key]
                self.problem(src, row, "question", f"duplicate rating: {other[0]} row {other[1]} already rates the "
                             "same case, reviewer and question; keep one of the two rows")
                continue
            seen[key] = (src, row)
            add(RatingInput(case, reviewer, question, level.label, comment))
            if not comment and needs_evidence(self.scale, level.label):
                self.warnings.append(Problem(src, row, "comment", f"{case} {question} is rated {level.label} with "
                                             "no evidence note; the report cannot be final until one is written"))

    def check_flags(self, t: _Table, positions: dict[str, int]) -> None:
        src = t.source
        has_reason = "reason" in positions
        for row, c in self.rows(t, positions, "flags"):
            if not any(c[k].strip() for k in ("referred_back", "reason", "complete")):
                continue  # a case not finished yet (an audit workbook's Cases row left blank)
            case = self.case(src, row, c["case_id"])
            reviewer = self.reviewer(src, row, c["reviewer"])
            ok = self.allocated(src, row, case, reviewer)
            referred = self.yes_no(src, row, "referred_back", c["referred_back"], blank=None)
            complete = self.yes_no(src, row, "complete", c["complete"], blank=None)
            reason = c["reason"] if c["reason"].strip() else ""
            if referred and not reason:
                self.problem(src, row, "reason", "a case referred back needs a reason: say what the significant "
                             "concern is (no names)" + ("" if has_reason else "; add a 'reason' column"))
                ok = False
            ok = self.screen(src, row, "reason", reason, "referral reason", warnings_allowed=self.confirm) and ok
            if not ok or referred is None or (c["complete"].strip() and complete is None):
                continue
            assert case is not None and reviewer is not None
            key = (case, reviewer)
            if key in self.flag_seen:
                other = self.flag_seen[key]
                self.problem(src, row, "case_id", f"duplicate: {other[0]} row {other[1]} already gives this "
                             "reviewer's flags for the same case; keep one of the two rows")
                continue
            self.flag_seen[key] = (src, row)
            self.flags.append(_Flag(src, row, case, reviewer, referred, reason, complete))

    def check_meetings(self, t: _Table, positions: dict[str, int]) -> None:
        src = t.source
        for row, c in self.rows(t, positions, "meetings"):
            ref = self.ref(src, row, "meeting", c["meeting"])
            kind = c["kind"].strip().casefold()
            if kind not in MEETING_KINDS:
                self.problem(src, row, "kind", f"expected one of {', '.join(MEETING_KINDS)}")
            held_on = self.date(src, row, c["date"], required=True)
            title = c["title"] if c["title"].strip() else ""
            ok = self.screen(src, row, "title", title, "meeting title", warnings_allowed=False)
            role = " ".join(c["role"].split())
            raw_count = c["attendees"].strip()
            count: int | None = None
            if role or raw_count:
                if not role:
                    self.problem(src, row, "role", "is blank; say which role attended, e.g. practitioner")
                    ok = False
                ok = self.screen(src, row, "role", role, "role", warnings_allowed=self.confirm) and ok
                if raw_count.isdigit():
                    count = int(raw_count)
                else:
                    self.problem(src, row, "attendees", "expected how many of that role attended, as a whole "
                                 "number (0 or more)")
                    ok = False
            if not ok or ref is None or kind not in MEETING_KINDS or held_on is None:
                continue
            meeting = self.meetings.get(ref)
            if meeting is None:
                meeting = self.meetings[ref] = _Meeting(src, row, ref, kind, held_on, title)
            else:
                for column, mine, theirs in (("kind", kind, meeting.kind), ("date", held_on, meeting.held_on),
                                             ("title", title, meeting.title)):
                    if mine != theirs:
                        self.problem(src, row, column, f"differs from {meeting.source} row {meeting.row} for the "
                                     "same meeting; a meeting has one kind, date and title")
            if role and count is not None:
                if role in meeting.role_rows:
                    other = meeting.role_rows[role]
                    self.problem(src, row, "role", f"this role is already counted for the same meeting in "
                                 f"{other[0]} row {other[1]}; give one row per role")
                    continue
                meeting.role_rows[role] = (src, row)
                meeting.attendees[role] = count

    def check_conversations(self, t: _Table, positions: dict[str, int]) -> None:
        src = t.source
        for row, c in self.rows(t, positions, "conversations"):
            ref = self.ref(src, row, "conversation", c["conversation"])
            case = self.case(src, row, c["case_id"])
            who = " ".join(c["who"].split()).casefold()
            if who not in WHO:
                self.problem(src, row, "who", f"expected one of {', '.join(WHO)}")
            reviewer = self.reviewer(src, row, c["reviewer"])
            held_on = self.date(src, row, c["date"], required=False)
            if ref is None or case is None or who not in WHO or reviewer is None or held_on is None:
                continue
            if ref in self.conversations:
                other = self.conversations[ref]
                self.problem(src, row, "conversation", f"the same reference is used in {other.source} row "
                             f"{other.row}; give each conversation its own reference")
                continue
            self.conversations[ref] = _Conversation(src, row, ref, case, who, reviewer, held_on)

    def check_notes(self, t: _Table, positions: dict[str, int]) -> None:
        src = t.source
        for row, c in self.rows(t, positions, "notes"):
            ref = self.ref(src, row, "note", c["note"])
            parent = self.note_parent(src, row, c["meeting"].strip(), c["conversation"].strip())
            kind = "_".join(c["kind"].replace("-", " ").casefold().split())
            if kind not in NOTE_KINDS:
                self.problem(src, row, "kind", f"expected one of {', '.join(NOTE_KINDS)}")
            stance = c["stance"].strip().casefold()
            if stance not in STANCES:
                self.problem(src, row, "stance", "expected strength, concern, mixed or blank")
            text = c["text"]
            ok = True
            if not text.strip():
                self.problem(src, row, "text", "is blank; write the note or quote (no names)")
                ok = False
            ok = self.screen(src, row, "text", text, "note", warnings_allowed=self.confirm) and ok
            speaker = " ".join(c["speaker_role"].split())
            ok = self.screen(src, row, "speaker_role", speaker, "speaker's role", warnings_allowed=self.confirm) and ok
            codes = self.codes(src, row, c["codes"])
            use = self.yes_no(src, row, "use_in_report", c["use_in_report"], blank=False)
            if c["use_in_report"].strip() and c["use_in_report"].strip().casefold() not in _YES | _NO:
                ok = False
            if not ok or ref is None or parent is None or kind not in NOTE_KINDS or stance not in STANCES \
                    or codes is None:
                continue
            if ref in self.notes:
                other = self.notes[ref]
                self.problem(src, row, "note", f"the same reference is used in {other.source} row {other.row}; "
                             "give each note its own reference")
                continue
            if not self.note_stays(src, row, ref, parent):
                continue
            self.notes[ref] = _Note(src, row, ref, parent[0], parent[1], kind, text, speaker, stance, codes,
                                    bool(use))

    def note_parent(self, src: str, row: int, meeting: str, conversation: str) -> tuple[str, str] | None:
        if bool(meeting) == bool(conversation):
            self.problem(src, row, "meeting", "give either a meeting or a conversation reference (exactly one) "
                         "saying where the note was made")
            return None
        table, column, ref = ("meetings", "meeting", meeting) if meeting else ("conversations", "conversation",
                                                                            conversation)
        known = self.meetings if table == "meetings" else self.conversations
        if ref not in known and _stored_id(self.store, table, ref) is None:
            self.problem(src, row, column, f"no {column} with this reference is in this import or already stored; "
                         f"import the {table} file together with the notes")
            return None
        return table, ref

    def note_stays(self, src: str, row: int, ref: str, parent: tuple[str, str]) -> bool:
        """A stored note cannot move to another meeting or conversation on re-import."""
        nid = _stored_id(self.store, "notes", ref)
        if nid is None:
            return True
        old = self.store.note(nid)
        pid = _stored_id(self.store, parent[0], parent[1])
        same = (pid is not None and old["meeting_id" if parent[0] == "meetings" else "conversation_id"] == pid)
        if not same:
            column = "meeting" if parent[0] == "meetings" else "conversation"
            self.problem(src, row, column, "this note is already stored under another meeting or conversation; a "
                         "note cannot move: give it a new reference")
        return same

    def codes(self, src: str, row: int, value: str) -> tuple[str, ...] | None:
        typed = [p.strip() for p in re.split(r"[;,]", value) if p.strip()]
        if self._codebook is None:
            return tuple(sorted(set(typed)))
        found = [self._codebook.parse(code) for code in typed]
        bad = [str(i) for i, code in enumerate(found, 1) if code is None]
        if bad:
            self.problem(src, row, "codes", f"code {' and '.join(bad)} of {len(typed)} is not in the codebook "
                         f"'{self._codebook.id}'; expected codes from: {', '.join(self._codebook.ids)} "
                         "(separated by ;)")
            return None
        return tuple(sorted({code.id for code in found}))


def _letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 26 -> AA."""
    out, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _load_codebook(ws: Workspace) -> Any:
    """The review's codebook, when the themes module is installed (codes are then checked)."""
    try:
        from . import themes
    except ImportError:
        return None
    return themes.load_codebook(ws.meta.codebook or themes.DEFAULT_CODEBOOK)


def _stored_id(store: Store, table: str, ref: str) -> int | None:
    """The stored id for an import reference, including the M#12 form export gives unnamed rows."""
    found = store.find_ref(table, ref)
    if found is not None:
        return found
    m = re.fullmatch(rf"{_GENERATED_REF[table]}#(\d+)", ref)
    if m:
        rows = store.execute_read(f"SELECT id FROM {table} WHERE id=? AND ref IS NULL", (int(m.group(1)),))
        if rows:
            return int(rows[0][0])
    return None


# -- import ---------------------------------------------------------------------------------
class ImportResult(dict):  # type: ignore[type-arg]
    """What an import stored, by kind; ``warnings`` lists what was stored but still needs work.

    A warning (a Requires Improvement or Inadequate rating with no evidence note) does not
    stop the import: the reviewer may send the note later, and ``reviewkit status`` and a
    final report keep asking for it.
    """

    warnings: list[Problem]

    def __init__(self, summaries: dict[str, ImportSummary], warnings: Sequence[Problem] = ()) -> None:
        super().__init__(summaries)
        self.warnings = list(warnings)


def import_files(ws: Workspace, paths: Sequence[str | Path], *, actor: str, confirm_warnings: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Check every row of every file, then store all of it in one transaction, or nothing.

    The result maps each kind imported to what changed; its ``warnings`` name (file, row,
    case and question, never a value) each low rating imported without an evidence note.
    """
    say = progress or (lambda _msg: None)
    if not paths:
        raise InvalidInputError("no files to import; give one or more CSV or XLSX files")
    problems: list[Problem] = []
    tables: list[_Table] = []
    with _bulk():
        for p in paths:
            say(f"Reading {p}")
            tables.extend(_read_file(Path(p), str(p), problems, say))
        return _check_and_write(ws, paths, tables, problems, actor, confirm_warnings, say)


@contextlib.contextmanager
def _bulk() -> Iterator[None]:
    """No cyclic garbage collection while an import builds its rows (they all stay alive until
    written): with 100,000 ratings the collector's passes over them cost about a tenth."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_and_write(ws: Workspace, paths: Sequence[str | Path], tables: list[_Table], problems: list[Problem],
                     actor: str, confirm_warnings: bool, say: Progress) -> dict[str, ImportSummary]:
    with ws.store() as store:
        checker = _Checker(ws, store, confirm_warnings)
        say(f"Checking {sum(len(t.rows) for t in tables)} row(s)")
        checker.check(tables)
        problems.extend(checker.problems)
        if problems:
            labels = [str(p) for p in paths]

            def place(problem: Problem) -> tuple[int, int]:  # file by file as given, then by row
                i = next((i for i, label in enumerate(labels)
                          if problem.file == label or problem.file.startswith(f"{label} (sheet ")), len(labels))
                return i, problem.row or 0

            raise ImportFileError(sorted(problems, key=place))
        return ImportResult(_write(store, checker, actor, confirm_warnings, say), checker.warnings)


def _write(store: Store, c: _Checker, actor: str, confirm: bool, say: Progress) -> dict[str, ImportSummary]:
    """Store what was checked in one transaction; a late refusal rolls all of it back."""
    where: list[Any] = [c.rating_sources[0] if c.rating_sources else "import", None]
    out: dict[str, ImportSummary] = {}
    try:
        with store.transaction():
            say("Writing to the review store")
            if "ratings" in c.kinds:
                out["ratings"] = store.apply_ratings(actor, c.ratings, source="; ".join(c.rating_sources),
                                                     confirm_warnings=confirm)
            if "flags" in c.kinds:
                out["flags"] = _write_flags(store, c.flags, actor, confirm, where)
            ids: dict[str, dict[str, int]] = {"meetings": {}, "conversations": {}}
            if "meetings" in c.kinds:
                out["meetings"] = _write_meetings(store, c.meetings.values(), actor, ids["meetings"], where)
            if "conversations" in c.kinds:
                out["conversations"] = _write_conversations(store, c.conversations.values(), actor,
                                                            ids["conversations"], where)
            if "notes" in c.kinds:
                out["notes"] = _write_notes(store, c.notes.values(), actor, confirm, ids, where)
    except (InvalidInputError, ConflictError):
        # The rows were checked, so this is another writer changing the review meanwhile.
        raise ImportFileError([Problem(where[0], where[1], None, "was refused by the review store because the "
                                       "review changed while importing; nothing was stored, import again")]) from None
    except StoreError as exc:
        raise StoreError(f"{exc}; nothing was imported") from None
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: the review store refused the import ({describe_failure(exc)}); "
                         "nothing was imported") from None
    total = sum(s.added + s.changed for s in out.values())
    say(f"Saved: {total} record(s) added or changed")
    return out


def _tally(counts: dict[str, int]) -> ImportSummary:
    return ImportSummary(counts["added"], counts["changed"], counts["unchanged"])


def _write_flags(store: Store, flags: list[_Flag], actor: str, confirm: bool, where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for f in flags:
        where[:] = [f.source, f.row]
        before = store.case_flag(f.case_id, f.reviewer)
        after = store.set_case_flag(actor, f.case_id, f.reviewer, referred_back=f.referred_back, reason=f.reason,
                                    complete=f.complete, confirm_warnings=confirm)
        counts["added" if not before["version"] else
               "changed" if after["version"] != before["version"] else "unchanged"] += 1
    return _tally(counts)


def _write_meetings(store: Store, meetings: Iterable[_Meeting], actor: str, ids: dict[str, int],
                    where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for m in meetings:
        where[:] = [m.source, m.row]
        attendees = dict(sorted(m.attendees.items()))
        mid = _stored_id(store, "meetings", m.ref)
        if mid is None:
            ids[m.ref] = store.add_meeting(actor, m.kind, m.held_on, attendees, m.title, ref=m.ref)
            counts["added"] += 1
            continue
        ids[m.ref] = mid
        old = store.meeting(mid)
        if (old["kind"], old["held_on"], old["title"], old["attendees"]) == (m.kind, m.held_on, m.title, attendees):
            counts["unchanged"] += 1
            continue
        store.update_meeting(actor, mid, kind=m.kind, held_on=m.held_on, attendees=attendees, title=m.title)
        counts["changed"] += 1
    return _tally(counts)


def _write_conversations(store: Store, conversations: Iterable[_Conversation], actor: str, ids: dict[str, int],
                         where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for v in conversations:
        where[:] = [v.source, v.row]
        cid = _stored_id(store, "conversations", v.ref)
        if cid is None:
            ids[v.ref] = store.add_conversation(actor, v.case_id, v.who, v.reviewer, v.held_on, ref=v.ref)
            counts["added"] += 1
            continue
        ids[v.ref] = cid
        old = store.conversation(cid)
        if (old["case_id"], old["who"], old["reviewer"], old["held_on"]) == (v.case_id, v.who, v.reviewer,
                                                                              v.held_on):
            counts["unchanged"] += 1
            continue
        store.update_conversation(actor, cid, case_id=v.case_id, who=v.who, reviewer=v.reviewer, held_on=v.held_on)
        counts["changed"] += 1
    return _tally(counts)


def _write_notes(store: Store, notes: Iterable[_Note], actor: str, confirm: bool, ids: dict[str, dict[str, int]],
                 where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for n in notes:
        where[:] = [n.source, n.row]
        pid = ids[n.parent].get(n.parent_ref) or _stored_id(store, n.parent, n.parent_ref)
        if pid is None:
            raise InvalidInputError("the note's meeting or conversation is gone")
        fields = {"text": n.text, "kind": n.kind, "speaker_role": n.speaker_role, "stance": n.stance,
                  "codes": n.codes, "use_in_report": n.use_in_report}
        nid = _stored_id(store, "notes", n.ref)
        if nid is None:
            parent = {"meeting_id": pid} if n.parent == "meetings" else {"conversation_id": pid}
            store.add_note(actor, n.text, **parent, kind=n.kind, speaker_role=n.speaker_role, stance=n.stance,
                           codes=n.codes, use_in_report=n.use_in_report, confirm_warnings=confirm, ref=n.ref)
            counts["added"] += 1
            continue
        old = store.note(nid)
        if {k: old[k] for k in fields} == fields:
            counts["unchanged"] += 1
            continue
        store.update_note(actor, nid, confirm_warnings=confirm, **fields)
        counts["changed"] += 1
    return _tally(counts)


# -- export ---------------------------------------------------------------------------------
def export(ws: Workspace, out: str | Path, *, what: str = "ratings") -> Path:
    """Write stored data in the import contracts, so the file imports back unchanged."""
    out = Path(out)
    what = what.strip().casefold()
    if what not in EXPORT_KINDS:
        raise InvalidInputError(f"cannot export that; choose one of {', '.join(EXPORT_KINDS)}")
    suffix = out.suffix.casefold()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInputError(f"{out}: the export file name must end in .csv or .xlsx")
    if suffix == ".csv" and what == "all":
        raise InvalidInputError(f"{out}: a CSV file holds one kind of table; export 'all' to an .xlsx file "
                                "(one sheet per kind), or choose ratings, flags, meetings, conversations or notes")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out}: the folder {out.parent} does not exist; create it first")
    kinds = list(CONTRACTS) if what == "all" else [what]
    with ws.store() as store, store.transaction():  # one snapshot: no note without its meeting
        tables = {kind: _export_rows(ws, store, kind) for kind in kinds}
    try:
        if suffix == ".csv":
            write_atomic(out, lambda tmp: _write_csv(tmp, CONTRACTS[what].columns, tables[what]))
        else:
            write_atomic(out, lambda tmp: _write_xlsx(tmp, tables))
    except _xml_errors() as exc:  # openpyxl's sheet files, written by lxml, which reports IO_ENOSPC
        if "disk is full" in describe_failure(exc):
            raise FileWriteError(f"not enough disk space to write {out}; nothing was changed. "
                                 "Free some space, or choose another folder, and try again.") from None
        raise FileWriteError(f"cannot write {out} ({type(exc).__name__}); nothing was changed.") from None
    return out


def _xml_errors() -> tuple[type[BaseException], ...]:
    """lxml's errors, when openpyxl reads and writes XML with it (it then reports a full disk as IO_ENOSPC)."""
    try:
        from lxml.etree import LxmlError
    except ImportError:  # pragma: no cover - openpyxl then uses the standard library
        return ()
    return (LxmlError,)


def _export_rows(ws: Workspace, store: Store, kind: str) -> list[dict[str, Any]]:
    """Stored rows as contract rows (column -> value); unnamed rows get an M#12-style reference."""
    yn = {1: "yes", 0: "no"}
    if kind == "ratings":
        order = {q: i for i, q in enumerate(ws.tool.all_ids)}
        rows = store.execute_read("SELECT case_id, reviewer, question, rating, comment FROM ratings "
                                  "WHERE rating IS NOT NULL")
        out = [dict(r) for r in rows]
        out.sort(key=lambda r: (r["case_id"], r["reviewer"], order.get(r["question"], len(order)), r["question"]))
        return out
    if kind == "flags":
        rows = store.execute_read("SELECT case_id, reviewer, referred_back, reason, complete FROM case_flags "
                                  "ORDER BY case_id, reviewer")
        return [{**dict(r), "referred_back": yn[r["referred_back"]], "complete": yn[r["complete"]]} for r in rows]
    if kind == "meetings":
        out = []
        for r in store.execute_read("SELECT id, ref FROM meetings ORDER BY held_on, id"):
            m = store.meeting(r["id"])
            base = {"meeting": r["ref"] or f"M#{r['id']}", "kind": m["kind"], "date": m["held_on"],
                    "title": m["title"]}
            roles = list(m["attendees"].items()) or [("", "")]  # a meeting with no attendance recorded
            out += [{**base, "role": role, "attendees": count} for role, count in roles]
        return out
    if kind == "conversations":
        rows = store.execute_read("SELECT id, ref, case_id, who, reviewer, held_on FROM conversations ORDER BY id")
        return [{"conversation": r["ref"] or f"V#{r['id']}", "case_id": r["case_id"], "who": r["who"],
                 "reviewer": r["reviewer"], "date": r["held_on"]} for r in rows]
    rows = store.execute_read(
        "SELECT n.id, n.ref, n.meeting_id, m.ref AS mref, n.conversation_id, c.ref AS cref, n.kind, n.text, "
        "n.speaker_role, n.stance, n.use_in_report, "
        "(SELECT group_concat(code, '; ') FROM (SELECT code FROM note_codes WHERE note_id = n.id ORDER BY code)) "
        "AS codes FROM notes n LEFT JOIN meetings m ON m.id = n.meeting_id "
        "LEFT JOIN conversations c ON c.id = n.conversation_id ORDER BY n.id")
    return [{"note": r["ref"] or f"N#{r['id']}",
             "meeting": "" if r["meeting_id"] is None else (r["mref"] or f"M#{r['meeting_id']}"),
             "conversation": "" if r["conversation_id"] is None else (r["cref"] or f"V#{r['conversation_id']}"),
             "kind": r["kind"], "text": r["text"], "speaker_role": r["speaker_role"], "stance": r["stance"],
             "codes": r["codes"] or "", "use_in_report": yn[r["use_in_report"]]} for r in rows]


def _write_csv(path: Path, header: Sequence[str], rows: list[dict[str, Any]]) -> None:
    # UTF-8 with a byte-order mark: Excel then opens accents and curly quotes correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([_neutralise(row[c]) for c in header] for row in rows)


def _xlsx_text(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _neutralise(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _write_xlsx(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    # The zip is built in memory (an export is a few MB at most) and written in one go, so a
    # full disk fails in this function's own write, not inside openpyxl's zip writer.
    buffer = _io.BytesIO()
    try:
        _fill_xlsx(wb, tables)
        wb.save(buffer)
    except BaseException:
        _discard_sheets(wb)
        raise
    path.write_bytes(buffer.getvalue())


def _fill_xlsx(wb: Any, tables: dict[str, list[dict[str, Any]]]) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    widths = {"comment": 80, "text": 80, "reason": 60, "title": 36, "reviewer": 22, "codes": 30}
    for kind, rows in tables.items():
        sheet = wb.create_sheet(kind)
        columns = CONTRACTS[kind].columns
        for i, name in enumerate(columns):
            sheet.column_dimensions[chr(ord("A") + i)].width = widths.get(name, 14)
        sheet.freeze_panes = "A2"
        header = []
        for name in columns:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_text(row[c]) for c in columns])


def _discard_sheets(wb: Any) -> None:
    """After a failed save (a full disk), close and delete openpyxl's temporary sheet files at once:
    they hold the exported text, and a half-closed one raises again when collected."""
    for sheet in wb.worksheets:
        rows = getattr(sheet, "_rows", None)
        if rows is not None:
            with contextlib.suppress(Exception):
                rows.close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
            with contextlib.suppress(Exception):
                writer.cleanup()
