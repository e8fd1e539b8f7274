"""The offline audit workbook: one reviewer's cases, the tool's wording and rating dropdowns.

It is a ratings file (the import contract's columns on a "Ratings" sheet) with an
"Instructions" and a "Questions" sheet beside it, so a PSW who works offline fills it in in
Excel and the host imports it back with no edits to its layout.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InvalidInputError
from .atomic import write_atomic
from .io import CONTRACTS, _fold
from .workspace import Workspace

__all__ = ["write_workbook"]


def write_workbook(ws: Workspace, reviewer: str, out: str | Path) -> Path:
    """A reviewer's offline audit workbook: their cases, the tool's wording and rating dropdowns."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    out = Path(out)
    if out.suffix.casefold() != ".xlsx":
        raise InvalidInputError(f"{out}: the audit workbook is an Excel file; end the name in .xlsx")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out}: the folder {out.parent} does not exist; create it first")
    team = {_fold(r): r for r in ws.meta.reviewers}
    name = team.get(_fold(reviewer))
    if name is None:
        raise InvalidInputError("there is no reviewer of that name on the review team; the reviewers are "
                                f"{', '.join(ws.meta.reviewers) or 'none yet (add them to review.yaml)'}")
    cases = ws.meta.cases_for(name)
    if not cases:
        raise InvalidInputError(f"no cases are allocated to {name} in review.yaml; list the cases under 'cases' "
                                f"with reviewer: {name} (or as a moderator), then make the workbook again")
    tool, scale = ws.tool, ws.tool.scale
    questions = [*tool.questions, tool.overall]
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
        ("", "Do not change the case_id, reviewer or question columns, rename sheets, or add columns: the host "
         "imports this file as it is."),
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
        info.cell(row, 1, a).font = bold
        info.cell(row, 2, b).alignment = wrap
    info["A1"].font = Font(bold=True, size=14)
    first_level = len(lines) + 1
    for i, level in enumerate(scale.levels):
        info.cell(first_level + i, 1, level.label)
        note = "not counted in percentages" if level.score is None else f"score {level.score}"
        info.cell(first_level + i, 2, f"short code {level.code}; {note}")
    last_level = first_level + len(scale.levels) - 1

    sheet = wb.create_sheet("Ratings")
    header = list(CONTRACTS["ratings"].columns)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font, cell.fill = bold, head_fill
    for case in cases:
        for q in questions:
            sheet.append([case.id, name, q.id, None, None])
            cell = sheet.cell(sheet.max_row, 3)
            cell.comment = Comment(f"{q.title}: {q.text}", "reviewkit", width=320, height=120)
    n = sheet.max_row
    for col, width in zip("ABCDE", (10, 22, 10, 24, 90)):
        sheet.column_dimensions[col].width = width
    unlocked = Protection(locked=False)
    for row in sheet.iter_rows(min_row=2, max_row=n, min_col=4, max_col=5):
        for cell in row:
            cell.protection = unlocked
            cell.alignment = wrap
    dv = DataValidation(type="list", formula1=f"Instructions!$A${first_level}:$A${last_level}", allow_blank=True,
                        showErrorMessage=True, errorTitle="Rating",
                        error="Choose a rating from the list: " + ", ".join(scale.labels))
    dv.add(f"D2:D{n}")
    sheet.add_data_validation(dv)
    sheet.freeze_panes = "D2"
    # Lock case, reviewer and question so the layout imports back; ratings and comments stay editable.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False

    qs = wb.create_sheet("Questions")
    levels = [lv.label for lv in scale.scored]
    qs.append(["id", "title", "question text", *levels])
    for cell in qs[1]:
        cell.font, cell.fill = bold, head_fill
    for q in questions:
        qs.append([q.id, q.title, q.text, *[q.descriptors.get(lv, "") for lv in levels]])
    for col, width in zip("ABCDEFGH", (9, 24, 45, *([45] * len(levels)))):
        qs.column_dimensions[col].width = width
    for row in qs.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    qs.freeze_panes = "B2"
    wb.active = 0
    write_atomic(out, lambda tmp: wb.save(tmp))
    return out
