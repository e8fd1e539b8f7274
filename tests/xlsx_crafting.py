"""Crafted XLSX files for the hostile-input tests: valid workbooks changed part by part."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

RATINGS = [["case_id", "reviewer", "question", "rating"], ["C01", "A. Visitor", "q1", "Good"]]


def workbook(path: Path, sheets: dict[str, list[list[str]]] | None = None,
             states: dict[str, str] | None = None) -> Path:
    """A real workbook written by openpyxl; `states` hides sheets ('hidden' or 'veryHidden')."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in (sheets or {"ratings": RATINGS}).items():
        sheet = wb.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = (states or {}).get(title, "visible")
    wb.save(path)
    return path


def rewrite(src: Path, dst: Path, changes: dict[str, Callable[[bytes], bytes]]) -> Path:
    """A copy of a zip with some members changed (a new name in `changes` is added)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        seen = set()
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in changes:
                data = changes[info.filename](data)
                seen.add(info.filename)
            zout.writestr(info.filename, data)
        for name in set(changes) - seen:
            zout.writestr(name, changes[name](b""))
    return dst


def with_doctype(data: bytes, entity_ref: bool = True) -> bytes:
    """The part with a DTD declaring an external entity (file:///etc/hostname), used in it."""
    doctype = b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>\n'
    body = data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data
    if entity_ref:
        body = body.replace(b"<v>", b"<v>&e;", 1) if b"<v>" in body else body.replace(b'name="', b'name="&e;', 1)
    return doctype + body


def sheet_xml(rows: int, dimension: int | None = None, cell_bytes: int = 0) -> bytes:
    """A worksheet part with `rows` rows (or one cell of `cell_bytes` characters), streamed small."""
    dim = f'<dimension ref="A1:D{dimension or rows}"/>' if dimension != 0 else ""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main">{dim}<sheetData>'.encode()]
    if cell_bytes:
        parts.append(b'<row r="1"><c r="A1" t="inlineStr"><is><t>' + b"A" * cell_bytes + b"</t></is></c></row>")
    for r in range(1, rows + 1):
        parts.append(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'.encode())
    parts.append(b"</sheetData></worksheet>")
    return b"".join(parts)


def wide_row_xml(cells: int, dimension: str | None = None, column: str = "", rows: int = 100) -> bytes:
    """A worksheet part whose one row holds `cells` one-letter inline strings (issue 17: 1.2 million
    of them zip to 137 KB); with `column`, each of `rows` rows holds A and one cell far out at that column."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main">{dim}<sheetData>').encode()
    if column:
        data = b"".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="{column}{r}"><v>1</v></c></row>'.encode()
                        for r in range(1, rows + 1))
    else:
        data = b'<row r="1">' + b'<c t="inlineStr"><is><t>x</t></is></c>' * cells + b"</row>"
    return head + data + b"</sheetData></worksheet>"


def bomb(src: Path, dst: Path, unpacked: int) -> Path:
    """A workbook whose sheet inflates to `unpacked` bytes: one inline-string cell of 'A's."""
    return rewrite(src, dst, {"xl/worksheets/sheet1.xml": lambda _d: sheet_xml(0, 1, unpacked)})


def deflated_size(data: bytes) -> int:
    return len(zlib.compress(data, 9))
