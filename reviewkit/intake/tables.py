"""Reading the tables an import brings: CSV files and XLSX sheets, bounded before they are read.

Every file is read in full before any row is checked, so a bad file anywhere stops the
import before the store is touched. A workbook is inspected before openpyxl inflates it (its
unpacked size, rows, cells and any DTD), so a file made to exhaust memory is refused with a
plain message. One cell-size limit holds for both readers. A CSV quote left open, which would
fold the rows after it into one cell, is refused by row and column; a quoted cell that runs
over lines and closes into a row as wide as the header (Excel's multi-line cells) is kept.
The contracts (the columns of each kind of table, README "Data contracts") live here because
reading, checking and export all follow them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from lxml.etree import LxmlError

from reviewkit.core.errors import Problem, TooManyCells, TooManyRows

__all__ = ["CONTRACTS", "Contract", "EXPORT_KINDS", "MAX_CELLS", "MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_ROWS",
           "MAX_XLSX_BYTES", "Table", "read_file"]


@dataclass(frozen=True)
class Contract:
    """The columns of one kind of table (README "Data contracts"), in the README's order."""

    kind: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    # Columns a file may carry for the person filling it in (the audit workbook's question
    # titles): accepted and ignored on import, never exported.
    informational: tuple[str, ...] = ()
    # Optional columns read on import but never exported with this kind (the audit workbook's
    # Cases sheet carries a concern beside the case flags; it is exported as a concerns table).
    extra: tuple[str, ...] = ()


CONTRACTS: dict[str, Contract] = {c.kind: c for c in (
    Contract("ratings", ("case_id", "reviewer", "question", "rating", "comment"),
             ("case_id", "reviewer", "question", "rating"), ("question_title",)),
    Contract("flags", ("case_id", "reviewer", "referred_back", "reason", "complete"),
             ("case_id", "reviewer", "referred_back"), extra=("concern", "concern_raised_on", "concern_raised_with")),
    Contract("meetings", ("meeting", "kind", "date", "role", "attendees", "title"),
             ("meeting", "kind", "date", "role", "attendees")),
    Contract("conversations", ("conversation", "case_id", "who", "reviewer", "date"),
             ("conversation", "case_id", "who", "reviewer")),
    Contract("notes", ("note", "meeting", "conversation", "kind", "text", "speaker_role", "stance", "codes",
                       "use_in_report"), ("note", "kind", "text")),
    Contract("concerns", ("case_id", "reviewer", "concern", "raised_on", "raised_with", "response", "outcome",
                          "responded_on"), ("case_id", "reviewer", "concern", "raised_on", "raised_with")),
    # A calibration record's ratings: "calibration_record" where case ratings have "case_id", so the two
    # never mix; round blank = the current calibration round.
    Contract("calibration", ("calibration_record", "reviewer", "question", "rating", "comment", "round"),
             ("calibration_record", "reviewer", "question", "rating"), ("question_title",)),
)}
EXPORT_KINDS = (*CONTRACTS, "all")
# Sheets named after a kind are read as that kind whatever their header says.
_SHEET_KINDS = {"ratings": "ratings", "flags": "flags", "case_flags": "flags", "cases": "flags", "meetings": "meetings",
                "conversations": "conversations", "notes": "notes", "notes_and_quotes": "notes",
                "concerns": "concerns", "calibration": "calibration"}
# Bounds on what an import reads: a review holds a few thousand rows and a few megabytes, so
# these refuse a file made to exhaust memory (an "XLSX bomb") before it is inflated.
MAX_ROWS = 50_000
MAX_XLSX_BYTES = 64 * 2**20
MAX_XLSX_MEMBERS = 2_000
# The csv module's own field limit, kept for XLSX cells too: a cell one reader refuses, the
# other must not store.
MAX_CELL_CHARS = 131_072
# A contract has at most 10 columns; openpyxl builds a whole row before handing it over, so a
# single row of a million cells (a 137 KB file) once took 1.15 GB. Both are counted before it reads.
MAX_COLUMNS = 256
MAX_CELLS = 1_000_000
_SCAN_BYTES = 1 << 20  # a worksheet's XML is counted in pieces of this size
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


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 26 -> AA."""
    out, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _column_name(header: Sequence[str] | None, index: int) -> str:
    return header[index] if header and index < len(header) and header[index] else column_letter(index)


def _from_records(source: str, records: Iterable[tuple[int, list[str]]], problems: list[Problem],
                  sheet_kind: str | None = None) -> Table | None:
    """Header = first non-blank row; blank rows are skipped, row numbers kept as the user sees them.

    A row wider than ``MAX_COLUMNS`` refuses the table; a cell longer than ``MAX_CELL_CHARS``
    is a problem at its row and column (the row is left out: the import fails anyway).
    """
    header: list[str] | None = None
    header_row = 1
    rows: list[tuple[int, list[str]]] = []
    for number, cells in records:
        if len(cells) > MAX_COLUMNS:
            problems.append(Problem(source, number, None, _too_wide("has")))
            return None
        if cells and max(map(len, cells)) > MAX_CELL_CHARS:
            i = next(i for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS)
            problems.append(Problem(source, number, _column_name(header, i), _TOO_LONG))
            continue
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


_LIMIT = (f"longer than {MAX_CELL_CHARS:,} characters, the most a cell may hold (in CSV or XLSX); shorten it, "
          "or split it over several notes, and save again")
_TOO_LONG = f"this cell is {_LIMIT}"


def _too_wide(what: str) -> str:
    return (f"{what} more than {MAX_COLUMNS} cells, far more than a review's tables have columns; check it is "
            "the right file, or delete the cells to the right of the table and save again")


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
    lines = list(_io.StringIO(text, newline=""))  # the physical lines, split as the csv module splits them
    reader = csv.reader(lines, delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    quotes: list[Problem] = []
    header: list[str] | None = None
    end = 0  # the physical lines read so far
    try:
        for number, cells in enumerate(reader, 1):
            if number > MAX_ROWS:
                problems.append(_too_many_rows(label))
                return []
            start, end = end, reader.line_num
            if end - start > 1:  # a quoted cell ran over a line break (in the header: only an open quote counts)
                width = len(cells) if header is not None else None
                quote = _quote_problem(label, lines, start, end, number, width, header, delimiter)
                if quote is not None:
                    quotes.append(quote)
            if header is None and "".join(cells).strip():
                header = cells
            records.append((number, cells))
    except csv.Error as exc:
        problems.extend(quotes)
        quote = _quote_problem(label, lines, end, len(lines), len(records) + 1, None, header, delimiter)
        if quote is not None:  # an open quote ran on until the cell outgrew the csv module's limit
            problems.append(quote)
        elif "field limit" in str(exc):
            problems.append(Problem(label, len(records) + 1, None, f"has a cell {_LIMIT}"))
        else:
            problems.append(Problem(label, len(records) + 1, None, "is not valid CSV here (a quote that is never "
                                    "closed?); save the file again from Excel as CSV UTF-8"))
        return []
    if quotes:  # the rows after an open quote were read into one cell: nothing of this file is used
        problems.extend(quotes)
        return []
    table = _from_records(label, records, problems)
    if table is None:
        problems.append(Problem(label, None, None, "is empty; expected a header row and one row per record"))
        return []
    return [table]


def _quote_problem(label: str, lines: Sequence[str], start: int, end: int, number: int, width: int | None,
                   header: Sequence[str] | None, delimiter: str) -> Problem | None:
    """The problem with a record that runs over physical lines ``start``..``end``, or None when it
    is a real multi-line cell: its quote closes, and the row is then as wide as the header.

    ``width`` is the record's number of cells (None when the csv module gave up on it).
    """
    raw = "".join(lines[start:end])
    cells = _quoted_cells(raw, delimiter)
    spanning = [c for c in cells if c[2]]
    if not spanning:
        return None
    bad = next((c for c in spanning if c[3] != "closed"), None)
    if bad is None and (width is None or header is None or width in (len(header), _trimmed(header))):
        return None
    field, offset, _, _ = bad or spanning[0]
    line = start + 1 + raw.count("\n", 0, offset) + raw.count("\r", 0, offset) - raw.count("\r\n", 0, offset)
    after = end - line
    column = _column_name([h.strip() for h in header] if header else None, field)
    shown = f" (row {number} when the file is opened in a spreadsheet)" if number != line else ""
    if bad is not None:
        what = (f"a quote (\") opens this cell and is not closed at its end, so the {after} line(s) after it were "
                "read into this one cell")
    else:
        what = (f"a quoted cell here runs over {after} line break(s) and its row then has {width} cells where the "
                f"header has {_trimmed(header or [])}, so it has probably swallowed the rows after it")
    return Problem(label, line, column, f"{what}{shown}; close the quote in row {line}, column '{column}', or "
                   "remove it, and save again")


def _trimmed(header: Sequence[str]) -> int:
    """The header's width without trailing blank cells, as ``_from_records`` keeps it."""
    n = len(header)
    while n and not header[n - 1].strip():
        n -= 1
    return n


_QUOTED = re.compile(r'"((?:[^"]+|"")*)("?)')


def _quoted_cells(raw: str, delimiter: str) -> list[tuple[int, int, bool, str]]:
    """The quoted cells of the first record in ``raw``, read as the csv module reads them.

    Each is (column index, offset of its opening quote, whether it holds a line break, how
    it ends: "closed" by a quote then a delimiter or line end, "stray" text after its closing
    quote, or "open" at the end of the file).
    """
    unquoted = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    out: list[tuple[int, int, bool, str]] = []
    pos, field, n = 0, 0, len(raw)
    while pos < n:
        if raw[pos] == '"':
            m = _QUOTED.match(raw, pos)
            assert m is not None  # the pattern matches any text after a quote
            body, closed = m.group(1), m.group(2)
            after = raw[m.end():m.end() + 1]
            how = "open" if not closed else "closed" if after in (delimiter, "\r", "\n", "") else "stray"
            out.append((field, pos, "\n" in body or "\r" in body, how))
            pos = m.end()
        pos = unquoted.match(raw, pos).end()  # type: ignore[union-attr] # the rest of the cell
        if raw[pos:pos + 1] != delimiter:
            break  # the end of the record
        pos += 1
        field += 1
    return out


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
    from openpyxl import load_workbook  # start-up: openpyxl loads only when a workbook is read or written

    # start-up: openpyxl loads only when a workbook is read or written
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
    counter = _Bounds()
    try:
        for sheet in wb.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                hidden.append(sheet.title)
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # some writers store a wrong size; read every row (up to the limit)
            rows = counter.bounded(enumerate(sheet.iter_rows(values_only=True), 1))
            records = ((n, [_cell_text(v) for v in row]) for n, row in rows)
            table = _from_records(f"{label} (sheet '{sheet.title}')", records, problems,
                                  _SHEET_KINDS.get(norm_header(sheet.title)))
            if table is not None:
                sheets.append((sheet.title, table))
    except TooManyRows:
        problems.append(_too_many_rows(label))
        return []
    except TooManyCells:
        problems.append(_too_many_cells(label))
        return []
    except broken:
        problems.append(unreadable)
        return []
    finally:
        wb.close()
    if not sheets:
        if not any(p.file.startswith(f"{label} (sheet ") for p in problems):
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


class _Bounds:
    """Rows per sheet and cells per workbook, counted as openpyxl hands the rows over."""

    def __init__(self) -> None:
        self.cells = 0

    def bounded(self, rows: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        for n, row in rows:
            if n > MAX_ROWS:
                raise TooManyRows
            self.cells += len(row)  # a row is as wide as its last cell: <c r="XFD1"> pads it with blanks
            if self.cells > MAX_CELLS:
                raise TooManyCells
            yield n, row


def _too_many_cells(label: str) -> Problem:
    return Problem(label, None, None, f"holds more than {MAX_CELLS:,} cells, far more than a review's tables; "
                   "check it is the right file, or split it into smaller files")


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"([A-Z]{1,3})\d+(?::([A-Z]{1,3})(\d+))?\"")
_WORKSHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
_ROW_START = re.compile(rb"<(?:\w+:)?row[\s/>]")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s/>]")
_PROLOG_NOISE = re.compile(rb"<\?.*?\?>|<!--.*?-->", re.DOTALL)
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")


# What each kind of office file is called in a message, and how to save a clean copy of it.
_OFFICE = {"xlsx": ("workbook", "Excel", "open it in Excel and save it again as 'Excel Workbook (*.xlsx)'"),
           "docx": ("document", "Word", "open it in Word and save it again as 'Word Document (*.docx)'")}


def _inspect_xlsx(path: Path, label: str) -> Problem | None:
    return inspect_office_file(path, label, "xlsx")


def inspect_office_file(path: Path, label: str, kind: str = "xlsx") -> Problem | None:
    """Refuse an XLSX or DOCX before it is inflated: too big unpacked, too many rows or cells, or a DTD.

    The zip's declared sizes bound what inflating can produce (zipfile stops at the declared
    size), and each sheet's dimension gives its rows and columns, so a few kilobytes read
    decide; each sheet's cells are then counted from its XML (a dimension can be left out).
    Office never writes a DTD; one in its XML is there to expand entities or read other files.
    """
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
            cells = 0
            for info in infos:
                if not info.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as member:
                    head = member.read(_HEAD_BYTES)
                plain = _PROLOG_NOISE.sub(b"", head)
                if _DTD.search(plain) or (len(head) == _HEAD_BYTES and not _ROOT.search(plain)):
                    return Problem(label, None, None, f"part {info.filename} declares a document type (DTD), "
                                   f"which {app} never writes and which can make a file read other files; {resave}")
                if kind != "xlsx" or not _WORKSHEET.fullmatch(info.filename):
                    continue
                dim = _DIMENSION.search(head)
                if dim and dim.group(3) and int(dim.group(3)) > MAX_ROWS:
                    return _too_many_rows(label)
                if dim and dim.group(2) and _column_number(dim.group(2)) - _column_number(dim.group(1)) >= MAX_COLUMNS:
                    return Problem(label, None, None, _too_wide(f"part {info.filename} declares rows of"))
                with zf.open(info) as member:
                    widest, counted = _count_cells(member)
                cells += counted
                if widest > MAX_COLUMNS:
                    return Problem(label, None, None, _too_wide(f"part {info.filename} has a row of"))
                if cells > MAX_CELLS:
                    return _too_many_cells(label)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError,
            OSError, EOFError):
        if kind == "docx":
            return Problem(label, None, None, f"is not a readable Word document; {resave}")
        return Problem(label, None, None, "is not a readable XLSX workbook; open it in Excel and save it "
                       "as 'Excel Workbook (*.xlsx)' or 'CSV UTF-8 (Comma delimited)'")
    return None


def _column_number(letters: bytes) -> int:
    """A column's number from its letters: A -> 1, AA -> 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _count_cells(member: IO[bytes]) -> tuple[int, int]:
    """(cells in the widest row, cells in all) of a worksheet's XML, read in pieces; stops at a bound.

    Counting ``<c>`` elements costs a fraction of a second for the largest sheet the unpacked-size
    bound lets through, where openpyxl would build every cell of a row at once.
    """
    widest = cells = in_row = 0
    tail = b""
    while True:
        chunk = member.read(_SCAN_BYTES)
        data = tail + chunk
        cut = data.rfind(b"<", max(0, len(data) - 64)) if chunk else -1
        data, tail = (data[:cut], data[cut:]) if cut >= 0 else (data, b"")  # a tag cut in two waits for the rest
        for i, piece in enumerate(_ROW_START.split(data)):
            if i:
                in_row = 0
            counted = len(_CELL_START.findall(piece))
            in_row += counted
            cells += counted
            widest = max(widest, in_row)
        if not chunk or widest > MAX_COLUMNS or cells > MAX_CELLS:
            return widest, cells


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
    return (LxmlError,)
