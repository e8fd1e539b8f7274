"""Regenerate the binary fixtures of this folder (run from anywhere; the CSVs are hand-written)."""

from __future__ import annotations

import datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADER = ["case_id", "reviewer", "question", "rating", "comment"]


def xlsx(name: str, sheets: dict[str, list[list[object]]]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(HERE / name)


def main() -> None:
    # cp1252 (Excel's plain "CSV" on Windows): must be refused, never mis-decoded.
    (HERE / "latin1.csv").write_bytes(
        "case_id,reviewer,question,rating,comment\r\nC01,A. Visitor,q3,Good,Caf\u00e9 visit \u2013 \u00a320\r\n"
        .encode("cp1252"))
    (HERE / "utf16.csv").write_bytes("case_id,reviewer,question,rating,comment\r\n".encode("utf-16"))
    (HERE / "empty.csv").write_bytes(b"")
    (HERE / "not_a_spreadsheet.xlsx").write_text("Zebediah Quokkafeather 999 000 0018\n", encoding="utf-8")
    xlsx("duplicate_rating.xlsx", {"Ratings": [
        HEADER,
        ["C01", "A. Visitor", "q3", "Good", None],
        ["C01", "A. Visitor", "q4", "Good", None],
        ["C01", "A. Visitor", "q3", "Inadequate", "Rated twice by mistake."],
    ]})
    # A workbook with notes on a sheet nobody named: read as the first sheet.
    xlsx("first_sheet_meetings.xlsx", {"Sheet1": [
        ["Meeting", "Kind", "Date", "Role", "Attendees", "Title"],
        ["M5", "other", datetime.datetime(2026, 3, 20), "carer", 3, "Carers' forum"],  # Excel's own date cell
    ], "Scratch": [["anything"], ["else"]]})


if __name__ == "__main__":
    main()
