"""The blank monthly audit workbook of an in-house programme: the audit file's columns with drop-downs.

In: a programme and the number of rows to leave. Out: an .xlsx whose first sheet, "Audits", is
the audit file the import reads (one row per record and auditor), with drop-down lists of the
programme's teams, auditors, roles, ratings and feedback answers, and a column for each
question's evidence note; then "Lists" (what the drop-downs offer), "Questions" (each
question's wording and what each rating looks like, as in a review's workbook) and
"Instructions". The target checks, drop-downs and Questions sheet are the review workbook's
(``reviewkit.intake.workbook``). Auditors fill it in offline in
Excel or LibreOffice; the host imports it as it is with ``reviewkit import``.
"""

from __future__ import annotations

from pathlib import Path

from reviewkit.core.atomic import write_xlsx
from reviewkit.core.sheets import append_row, put
from reviewkit.inhouse.importer import FEEDBACK, note_column
from reviewkit.inhouse.programme import Programme
from reviewkit.intake.tables import column_letter
from reviewkit.intake.workbook import list_validation, questions_sheet, workbook_target

__all__ = ["write_audit_workbook"]

ROWS = 300


def write_audit_workbook(programme: Programme, out: str | Path, rows: int = ROWS) -> Path:
    """Write the blank audit workbook to ``out`` (.xlsx)."""
    from openpyxl import Workbook  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.styles import Alignment, Font, PatternFill  # start-up: openpyxl loads only when a workbook is written

    out = workbook_target(out)
    tool = programme.tool
    bold = Font(bold=True)
    wb = Workbook()
    audits = wb.active
    audits.title = "Audits"
    header = ["audit_id", "month", "team", "auditor", "role", *tool.all_ids, "themes", "feedback_from", "feedback",
              *(note_column(q) for q in tool.all_ids)]
    append_row(audits, header)
    for cell in audits[1]:
        cell.font = bold
    audits.freeze_panes = "B2"
    lists = wb.create_sheet("Lists")
    columns = {"team": list(programme.teams), "auditor": list(programme.auditors), "role": ["first", "moderator"],
               "rating": tool.scale.labels, "feedback_from": ["person", "carer", "both"], "feedback": list(FEEDBACK)}
    for j, (name, values) in enumerate(columns.items(), 1):
        put(lists, 1, j, name).font = bold
        for i, value in enumerate(values, 2):
            put(lists, i, j, value)

    def dropdown(list_name: str, targets: list[str], what: str) -> None:
        j = list(columns).index(list_name)
        if not columns[list_name]:
            return
        letter, n = column_letter(j), len(columns[list_name]) + 1
        ranges = [f"{column_letter(header.index(c))}2:{column_letter(header.index(c))}{rows + 1}" for c in targets]
        list_validation(audits, f"Lists!${letter}$2:${letter}${n}", ranges, what, f"Choose the {what} from the list")

    dropdown("team", ["team"], "team")
    dropdown("auditor", ["auditor"], "auditor")
    dropdown("role", ["role"], "role (first, or moderator for a second auditor)")
    dropdown("rating", tool.all_ids, "rating")
    dropdown("feedback_from", ["feedback_from"], "person, carer or both")
    dropdown("feedback", ["feedback"], "feedback answer")
    questions_sheet(wb, [*tool.questions, tool.overall], [lv.label for lv in tool.scale.scored],
                    (bold, PatternFill("solid", fgColor="DDEBF7"), Alignment(wrap_text=True, vertical="top")))
    for col, width in {"A": 14, "B": 10, "C": 26, "D": 18}.items():
        audits.column_dimensions[col].width = width
    note = wb.create_sheet("Instructions")
    for line in ("One row per record audited: its audit reference (never a name or NHS number), the month "
                 "(such as 2027-03), the team and the auditor, and a rating for every question.",
                 "An evidence note for a question goes in its _note column (q1_note …): what the record shows or "
                 "lacks, never a name, date of birth or NHS number.",
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
