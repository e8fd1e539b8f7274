"""The offline audit workbook: one reviewer's cases, the tool's wording and rating dropdowns.

It is a ratings file (the import contract's columns on a "Ratings" sheet, with each
question's title beside its id) and a case flags file (a "Cases" sheet: complete, referred
back, reason, and any concern about a person's safety), with "Instructions" and "Questions" sheets beside them;
when the review holds a calibration round, a "Calibration" sheet (the calibration contract: the
calibration records' questions for this reviewer, apart from the case ratings) comes before the
ratings. A PSW who works
offline rates and finishes each case in Excel or LibreOffice, and the host imports the file
back with no edits to its layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewkit.core.atomic import write_xlsx
from reviewkit.core.errors import InvalidInputError
from reviewkit.core.sheets import append_row, put
from reviewkit.intake.rowchecks import fold
from reviewkit.intake.tables import CONTRACTS, column_letter
from reviewkit.review.progress import needs_evidence
from reviewkit.review.workspace import Workspace

if TYPE_CHECKING:  # openpyxl is imported when a workbook is written
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["list_validation", "questions_sheet", "workbook_target", "write_workbook"]


def workbook_target(out: str | Path, what: str = "the audit workbook") -> Path:
    """The file a workbook is written to: an .xlsx name in a folder that exists, else a plain error."""
    out = Path(out)
    if out.suffix.casefold() != ".xlsx":
        raise InvalidInputError(f"{out}: {what} is an Excel file; end the name in .xlsx")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out}: the folder {out.parent} does not exist; create it first")
    return out


def list_validation(sheet: Worksheet, source: str, ranges: list[str], title: str, error: str) -> None:
    """A drop-down list on ``ranges`` of ``sheet`` from the cells ``source``; anything else typed is refused."""
    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.worksheet.datavalidation import DataValidation

    dv = DataValidation(type="list", formula1=source, allow_blank=True, showErrorMessage=True, errorTitle=title,
                        error=error)
    for cells in ranges:
        dv.add(cells)
    sheet.add_data_validation(dv)


def questions_sheet(wb: Any, questions: list[Any], levels: list[str], style: tuple[Any, Any, Any]) -> Worksheet:
    """The "Questions" sheet: each question's id, title and wording, and what each rating looks like."""
    bold, head_fill, wrap = style
    qs = wb.create_sheet("Questions")
    append_row(qs, ["id", "title", "question text", *levels])
    for cell in qs[1]:
        cell.font, cell.fill = bold, head_fill
    for q in questions:
        append_row(qs, [q.id, q.title, q.text, *[q.descriptors.get(lv, "") for lv in levels]])
    for i, width in enumerate((9, 24, 45, *([45] * len(levels)))):
        qs.column_dimensions[column_letter(i)].width = width
    for row in qs.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    qs.freeze_panes = "B2"
    return qs


def write_workbook(ws: Workspace, reviewer: str, out: str | Path) -> Path:
    """A reviewer's offline audit workbook: their cases, the tool's wording and rating dropdowns."""
    from openpyxl import Workbook  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.comments import Comment  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.styles import (  # start-up: openpyxl loads only when a workbook is read or written
        Alignment,
        Font,
        PatternFill,
        Protection,
    )

    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.worksheet.datavalidation import DataValidation

    out = workbook_target(out)
    team = {fold(r): r for r in ws.meta.reviewers}
    name = team.get(fold(reviewer))
    if name is None:
        raise InvalidInputError("there is no reviewer of that name on the review team; the reviewers are "
                                f"{', '.join(ws.meta.reviewers) or 'none yet (add them to review.yaml)'}")
    cases = ws.meta.cases_for(name)
    if not cases:
        raise InvalidInputError(f"no cases are allocated to {name} in review.yaml; list the cases under 'cases' "
                                f"with reviewer: {name} (or as a moderator), then make the workbook again")
    tool, scale = ws.tool, ws.tool.scale
    questions = [*tool.questions, tool.overall]
    low = " or ".join(lv.label for lv in scale.scored if needs_evidence(scale, lv.label))
    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    wb = Workbook()
    info = wb.active
    info.title = "Instructions"
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 100
    lines: list[tuple[str, str]] = [
        (f"Offline audit workbook: {ws.meta.council}", ""),
        ("Reviewer", name),
        ("Theme", ws.meta.theme),
        ("Audit tool", f"{tool.title} (version {tool.version})"),
        ("", ""),
        ("How to fill it in", "Go to the Ratings sheet. Each row is one question for one of your cases. Choose "
         "a rating from the drop-down list in the 'rating' column and write your evidence in 'comment'. The "
         "Questions sheet gives each question in full with what each rating looks like."),
        ("", "Rate what the case record shows. Leave a row blank if you have not rated it yet: blank rows are "
         "not imported. A comment needs a rating."),
        ("Evidence notes", f"A rating of {low} (for a question or the overall judgement) needs an evidence note "
         "in 'comment': say what the record lacked, so the council can act on it. The host's import accepts such "
         "a rating without a note but warns, and the report cannot be final until the note is written."),
        ("Finishing a case", "When every question and the overall judgement of a case are rated, go to the Cases "
         "sheet and choose yes in 'complete' for that case. If the case must go back to the council for a "
         "significant concern, choose yes in 'referred_back' and say what the concern is in 'reason' (no names); "
         "otherwise choose no. Leave a case's row blank until you have finished it."),
        ("A risk to a person", "If you find a risk to a person's safety, raise it with the council at once, as "
         "your own safeguarding duties require; then record it on the Cases sheet: what the risk is in 'concern' "
         "(no names), the date you raised it in 'concern_raised_on' (YYYY-MM-DD) and the role you raised it with "
         "in 'concern_raised_with' (e.g. team manager). This is private: the report gives only how many concerns "
         "were raised and how the council responded. You may record a concern before the case is finished."),
        ("", "Do not change the case_id, reviewer, question or question_title columns, rename sheets, or add "
         "columns: the host imports this file as it is."),
        ("Personal data", "Never write a name, address, date of birth, NHS number, phone number or email in a "
         "comment. Refer to the person by the case reference. The import refuses text that holds an identifier."),
        ("When you have finished", "Save the file as .xlsx and return it to the host PSW by a secure route."),
        ("", ""),
        ("Your cases", ""),
    ]
    for case in cases:
        others = [r for r in case.reviewers if r != name]
        if not others:
            lines.append((case.id, "your case"))
        else:
            lines.append((case.id, "moderation case: also rated by " + ", ".join(others)
                          + ". Rate it on your own; the ratings are compared afterwards."))
    lines += [("", ""), ("Rating scale", "")]
    for row, (a, b) in enumerate(lines, 1):
        put(info, row, 1, a).font = bold
        put(info, row, 2, b).alignment = wrap
    info["A1"].font = Font(bold=True, size=14)
    first_level = len(lines) + 1
    for i, level in enumerate(scale.levels):
        put(info, first_level + i, 1, level.label)
        note = "not counted in percentages" if level.score is None else f"score {level.score}"
        put(info, first_level + i, 2, f"short code {level.code}; {note}")
    last_level = first_level + len(scale.levels) - 1

    sheet = wb.create_sheet("Ratings")
    contract = CONTRACTS["ratings"].columns
    header = [*contract[:3], "question_title", *contract[3:]]  # the title beside the id, for the reader
    append_row(sheet, header)
    for cell in sheet[1]:
        cell.font, cell.fill = bold, head_fill
    for case in cases:
        for q in questions:
            append_row(sheet, [case.id, name, q.id, q.title, None, None])
            cell = sheet.cell(sheet.max_row, 3)
            cell.comment = Comment(f"{q.title}: {q.text}", "reviewkit", width=320, height=120)
    n = sheet.max_row
    for col, width in zip("ABCDEF", (10, 22, 10, 30, 24, 90)):
        sheet.column_dimensions[col].width = width
    unlocked = Protection(locked=False)
    for row in sheet.iter_rows(min_row=2, max_row=n, min_col=5, max_col=6):
        for cell in row:
            cell.protection = unlocked
            cell.alignment = wrap
    list_validation(sheet, f"Instructions!$A${first_level}:$A${last_level}", [f"E2:E{n}"], "Rating",
                    "Choose a rating from the list: " + ", ".join(scale.labels))
    sheet.freeze_panes = "E2"
    _protect(sheet)  # case, reviewer, question and title locked so the layout imports back

    # One row per case: the case flags contract, left blank until the reviewer finishes the case.
    flags = wb.create_sheet("Cases")
    append_row(flags, ["case_id", "reviewer", "complete", "referred_back", "reason", "concern", "concern_raised_on",
                       "concern_raised_with"])
    for cell in flags[1]:
        cell.font, cell.fill = bold, head_fill
    for case in cases:
        append_row(flags, [case.id, name, None, None, None, None, None, None])
    m = flags.max_row
    for col, width in zip("ABCDEFGH", (10, 22, 12, 15, 60, 60, 18, 24)):
        flags.column_dimensions[col].width = width
    for row in flags.iter_rows(min_row=2, max_row=m, min_col=3, max_col=8):
        for cell in row:
            cell.protection = unlocked
            cell.alignment = wrap
    yes_no = DataValidation(type="list", formula1='"yes,no"', allow_blank=True, showErrorMessage=True,
                            errorTitle="yes or no", error="Choose yes or no")
    yes_no.add(f"C2:D{m}")
    flags.add_data_validation(yes_no)
    day = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                         showErrorMessage=True, errorTitle="Date", error="Give the date as YYYY-MM-DD")
    day.add(f"G2:G{m}")
    flags.add_data_validation(day)
    flags.freeze_panes = "C2"
    _protect(flags)

    with ws.store() as store:
        records, number = store.calibration_records(), store.calibration_round()
    if records:
        _calibration_sheet(wb.create_sheet("Calibration", 1), name, records, number, questions,
                           f"Instructions!$A${first_level}:$A${last_level}", scale.labels, (bold, head_fill, wrap))
        put(info, len(lines) + len(scale.levels) + 2, 1, "Calibration").font = bold
        put(info, len(lines) + len(scale.levels) + 2, 2,
            f"Before your cases, rate the calibration record(s) {', '.join(records)} on the Calibration sheet, on "
            "your own: the team compares these ratings afterwards. They are never counted in the review's figures, "
            "and your case ratings are imported only once they are in.").alignment = wrap

    questions_sheet(wb, questions, [lv.label for lv in scale.scored], (bold, head_fill, wrap))
    wb.active = 0
    write_xlsx(out, wb)  # built in memory: a full disk is one plain error, no partial file
    return out


def _calibration_sheet(sheet: Worksheet, name: str, records: list[str], number: int, questions: list,
                       levels_range: str, labels: list[str], style: tuple) -> None:
    """The calibration rows: one per record and question, for this reviewer, in the current round."""
    from openpyxl.styles import Protection  # start-up: openpyxl loads only when a workbook is read or written

    bold, head_fill, wrap = style
    contract = CONTRACTS["calibration"].columns
    append_row(sheet, [*contract[:3], "question_title", *contract[3:]])
    for cell in sheet[1]:
        cell.font, cell.fill = bold, head_fill
    for record in records:
        for q in questions:
            append_row(sheet, [record, name, q.id, q.title, None, None, number])
    n = sheet.max_row
    for col, width in zip("ABCDEFG", (18, 22, 10, 30, 24, 60, 8)):
        sheet.column_dimensions[col].width = width
    for row in sheet.iter_rows(min_row=2, max_row=n, min_col=5, max_col=6):
        for cell in row:
            cell.protection = Protection(locked=False)
            cell.alignment = wrap
    list_validation(sheet, levels_range, [f"E2:E{n}"], "Rating", "Choose a rating from the list: " + ", ".join(labels))
    sheet.freeze_panes = "E2"
    _protect(sheet)


def _protect(sheet: Worksheet) -> None:
    """Protect a sheet's locked cells (its layout) while columns and rows can still be resized."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
