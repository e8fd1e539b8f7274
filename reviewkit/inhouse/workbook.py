"""The blank monthly audit workbook of an in-house programme: the audit file's columns with drop-downs.

In: a programme and the number of rows to leave. Out: an .xlsx whose first sheet, "Audits", is
the audit file the import reads (one row per record and auditor), with drop-down lists of the
programme's teams, auditors, roles, ratings and feedback answers; then "Questions" (each
question's wording) and "Lists" (what the drop-downs offer). Auditors fill it in offline in
Excel or LibreOffice; the host imports it as it is with ``reviewkit import``.
"""

from __future__ import annotations

from pathlib import Path

from reviewkit.core.atomic import write_xlsx
from reviewkit.core.errors import InvalidInputError
from reviewkit.core.sheets import append_row
from reviewkit.inhouse.importer import FEEDBACK
from reviewkit.inhouse.programme import Programme
from reviewkit.intake.tables import column_letter

__all__ = ["write_audit_workbook"]

ROWS = 300


def write_audit_workbook(programme: Programme, out: str | Path, rows: int = ROWS) -> Path:
    """Write the blank audit workbook to ``out`` (.xlsx)."""
    from openpyxl import Workbook  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.styles import Font  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.worksheet.datavalidation import (  # start-up: openpyxl loads only when a workbook is written
        DataValidation,
    )

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise InvalidInputError(f"{out}: write the audit workbook as .xlsx")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out.parent}: no such folder; create it or choose another --out")
    tool = programme.tool
    wb = Workbook()
    audits = wb.active
    audits.title = "Audits"
    header = ["audit_id", "month", "team", "auditor", "role", *tool.all_ids, "themes", "feedback_from", "feedback"]
    append_row(audits, header)
    for cell in audits[1]:
        cell.font = Font(bold=True)
    audits.freeze_panes = "B2"
    lists = wb.create_sheet("Lists")
    columns = {"team": list(programme.teams), "auditor": list(programme.auditors), "role": ["first", "moderator"],
               "rating": tool.scale.labels, "feedback_from": ["person", "carer", "both"], "feedback": list(FEEDBACK)}
    for j, (name, values) in enumerate(columns.items(), 1):
        lists.cell(1, j, name).font = Font(bold=True)
        for i, value in enumerate(values, 2):
            lists.cell(i, j, value)
    last = rows + 1

    def dropdown(list_name: str, targets: list[str], what: str) -> None:
        j = list(columns).index(list_name) + 1
        letter = column_letter(j - 1)
        n = len(columns[list_name]) + 1
        if n < 2:
            return
        dv = DataValidation(type="list", formula1=f"Lists!${letter}$2:${letter}${n}", allow_blank=True,
                            showErrorMessage=True, errorTitle=what, error=f"Choose the {what} from the list")
        for col in targets:
            k = header.index(col)
            dv.add(f"{column_letter(k)}2:{column_letter(k)}{last}")
        audits.add_data_validation(dv)

    dropdown("team", ["team"], "team")
    dropdown("auditor", ["auditor"], "auditor")
    dropdown("role", ["role"], "role (first, or moderator for a second auditor)")
    dropdown("rating", tool.all_ids, "rating")
    dropdown("feedback_from", ["feedback_from"], "person, carer or both")
    dropdown("feedback", ["feedback"], "feedback answer")
    questions = wb.create_sheet("Questions")
    append_row(questions, ["id", "title", "question text"])
    for q in (*tool.questions, tool.overall):
        append_row(questions, [q.id, q.title, q.text])
    for sheet, widths in ((audits, {"A": 14, "B": 10, "C": 26, "D": 18}), (questions, {"B": 30, "C": 90})):
        for col, width in widths.items():
            sheet.column_dimensions[col].width = width
    note = wb.create_sheet("Instructions")
    for line in ("One row per record audited: its audit reference (never a name or NHS number), the month "
                 "(such as 2027-03), the team and the auditor, and a rating for every question.",
                 "A moderation: a second row with the same audit_id, month and team, role 'moderator' and the "
                 "second auditor's ratings (leave themes and feedback empty on it).",
                 "themes: the theme ids from programme.yaml, separated by ';'. Feedback: who gave it and whether "
                 "it was positive, mixed or negative; what they said stays in the case record.",
                 "Import the saved file with: reviewkit import PROGRAMME_FOLDER this-file.xlsx"):
        append_row(note, [line])
    note.column_dimensions["A"].width = 120
    wb.active = 0
    write_xlsx(out, wb)
    return out
