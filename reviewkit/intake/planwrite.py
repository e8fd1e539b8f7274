"""The action plan written out: an Excel workbook or a Word table that print one page wide.

In: an ``ActionPlan``.
Out: the bytes of an .xlsx (data validation on owner, dates, status and RAG; RAG colours;
landscape A4, one page wide, header rows repeated on every page) or a .docx (the same table,
landscape, header row repeated, rows never split across pages).

Each recommendation has a row ("3") for what it answers, where it starts from, its target,
RAG, last updated and update, then a row per action ("3.1", "3.2") with an owner, a date and a
status. Actions written under a recommendation in recommendations.md are filled in; otherwise
two empty action rows are left to fill in.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from typing import Any

from reviewkit.core.atomic import xlsx_bytes
from reviewkit.core.dates import long_date
from reviewkit.core.errors import WorkspaceError
from reviewkit.core.sheets import put
from reviewkit.core.tools import REFERENCE_DOCX
from reviewkit.intake.planmodel import (
    COLUMNS,
    FORMAT_VERSION,
    OWNER_MAX,
    PLAN_FORMAT,
    RAGS,
    ActionPlan,
    PlanAction,
    PlanRow,
)
from reviewkit.review.reviewyaml import STATUSES

__all__ = ["ABOUT_SHEET", "HEADER_ROW", "PLAN_SHEET", "docx_bytes", "plan_lines", "xlsx_bytes_of"]

PLAN_SHEET = "Action plan"
ABOUT_SHEET = "About this plan"
HEADER_ROW = 4
EMPTY_ACTIONS = 2
# Column widths in Excel's character units: together one A4 landscape page wide at about 75%.
WIDTHS = (8, 38, 30, 17, 20, 18, 15, 11, 12, 8, 11, 30)
DOCX_WIDTHS = (9, 34, 26, 19, 18, 16, 14, 12, 12, 8, 12, 28)  # shares of the landscape page
RAG_FILLS = {"Red": "F4B6B6", "Amber": "FCE4B6", "Green": "C6E7C6"}
INSTRUCTIONS = (
    "Each recommendation has a row (1, 2, 3 …) and a row per action under it (1.1, 1.2 …). For each action, "
    "fill in what will be done, the owner (a role, such as Head of Service, never a person's name), by when "
    "and its status. For each recommendation, fill in the target, the RAG rating (Red, Amber, Green), the date "
    "last updated and the latest update. Add a row for another action and number it (1.3). {autofit}Keep the "
    "numbers and recommendations as they are: the next review reads this {what} back.")
AUTOFIT = ("After writing at length, select the rows and choose AutoFit Row Height (Excel) or Optimal Row Height "
           "(LibreOffice) so that nothing is hidden in print. ")


def _when(round_: str) -> str:
    return long_date(round_) if round_ else ""


def title_of(plan: ActionPlan) -> str:
    when = _when(plan.round)
    return f"Action plan: practice review of {plan.council}" + (f", {when}" if when else "")


def _date_value(value: str) -> Any:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return value


def _actions(row: PlanRow) -> tuple[PlanAction, ...]:
    return row.actions or tuple(PlanAction(f"{row.number}.{i}", "") for i in range(1, EMPTY_ACTIONS + 1))


def plan_lines(plan: ActionPlan) -> list[tuple[bool, tuple[Any, ...]]]:
    """(is a recommendation, the row's values in COLUMNS order, dates as dates) for every line of the table."""
    lines: list[tuple[bool, tuple[Any, ...]]] = []
    for row in plan.rows:
        lines.append((True, (row.number, row.recommendation, row.finding, row.statement, row.start, row.measure,
                             row.owner, _date_value(row.by_when), row.status, row.rag,
                             _date_value(row.last_updated), row.update)))
        for action in _actions(row):
            lines.append((False, (action.number, action.text, None, None, None, None, action.owner,
                                  _date_value(action.by_when), action.status, None, None, None)))
    return lines


def xlsx_bytes_of(plan: ActionPlan) -> bytes:
    from openpyxl import Workbook  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.formatting.rule import CellIsRule  # start-up: openpyxl loads only when a workbook is written
    from openpyxl.styles import (  # start-up: openpyxl loads only when a workbook is read or written
        Alignment,
        Border,
        Font,
        PatternFill,
        Side,
    )
    from openpyxl.utils import get_column_letter  # start-up: openpyxl loads only when a workbook is read or written

    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.properties import PageSetupProperties  # start-up: as above

    wb = Workbook()
    ws = wb.active
    ws.title = PLAN_SHEET
    put(ws, 1, 1, title_of(plan))
    ws["A1"].font = Font(bold=True, size=14)
    put(ws, 2, 1, INSTRUCTIONS.format(autofit=AUTOFIT, what="sheet"))
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    ws.row_dimensions[2].height = 48
    thin = Side(style="thin", color="A6A6A6")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    fill = PatternFill("solid", fgColor="DDEBF7")
    rec_fill = PatternFill("solid", fgColor="F2F2F2")
    for col, (name, width) in enumerate(zip(COLUMNS, WIDTHS), 1):
        cell = put(ws, HEADER_ROW, col, name)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.row_dimensions[HEADER_ROW].height = 30
    lines = plan_lines(plan)
    first, last = HEADER_ROW + 1, HEADER_ROW + len(lines)
    for r, (is_rec, values) in enumerate(lines, first):
        for col, value in enumerate(values, 1):
            cell = put(ws, r, col, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left",
                                       indent=1 if col == 2 and not is_rec else 0)
            cell.border = border
            if is_rec:
                cell.fill = rec_fill
                cell.font = Font(bold=col <= 2)
        for col in (8, 11):
            ws.cell(r, col).number_format = "DD/MM/YYYY"
        # Neither Excel nor LibreOffice sizes a row to its wrapped text on opening: without a height
        # the text of one row is printed over the next. An empty action row has room for two lines.
        ws.row_dimensions[r].height = _height(values, is_rec)
    ws.freeze_panes = ws.cell(first, 3)
    _print_setup(ws, len(COLUMNS))

    def rule(kind: str, col: str, **kw: Any) -> None:
        dv = DataValidation(type=kind, allow_blank=True, showErrorMessage=True, showInputMessage=True, **kw)
        ws.add_data_validation(dv)
        dv.add(f"{col}{first}:{col}{max(last, first)}")

    rule("textLength", "G", operator="between", formula1="1", formula2=str(OWNER_MAX), errorTitle="Owner",
         error=f"Write a role of at most {OWNER_MAX} characters, such as Head of Service.", promptTitle="Owner",
         prompt="A role, such as Head of Service, not a person's name.")
    for col, what, prompt in (("H", "By when", "The date the action should be done by, e.g. 31/03/2027."),
                              ("K", "Last updated", "The date of the latest update, e.g. 31/03/2027.")):
        rule("date", col, operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)",
             errorTitle=what, error="Enter a date, such as 31/03/2027.", promptTitle=what, prompt=prompt)
    rule("list", "I", formula1='"' + ",".join(STATUSES) + '"', errorTitle="Status",
         error="Choose a status from the list: " + ", ".join(STATUSES) + ".", promptTitle="Status",
         prompt="Choose from the list.")
    rule("list", "J", formula1='"' + ",".join(RAGS) + '"', errorTitle="RAG",
         error="Choose Red, Amber or Green.", promptTitle="RAG",
         prompt="Red: off track. Amber: at risk. Green: on track or done.")
    for rag, colour in RAG_FILLS.items():
        ws.conditional_formatting.add(f"J{first}:J{max(last, first)}", CellIsRule(
            operator="equal", formula=[f'"{rag}"'], fill=PatternFill("solid", fgColor=colour, bgColor=colour)))

    about = wb.create_sheet(ABOUT_SHEET)
    for i, (key, value) in enumerate((("format", PLAN_FORMAT), ("format_version", FORMAT_VERSION),
                                      ("council", plan.council), ("round", plan.round),
                                      ("statuses", ", ".join(STATUSES)), ("RAG", ", ".join(RAGS))), 1):
        put(about, i, 1, key).font = Font(bold=True)
        put(about, i, 2, value)
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 60
    about.page_setup.fitToWidth, about.page_setup.fitToHeight = 1, 0
    about.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    return xlsx_bytes(wb)


def _height(values: tuple[Any, ...], bold: bool) -> float:
    """Points tall enough for the longest wrapped cell of a row (at least two lines).

    Counted generously (a line of a column holds about its width in characters, fewer in bold):
    a row a little too tall prints well; one too short prints over the next row.
    """
    lines = 2
    for col, (value, width) in enumerate(zip(values, WIDTHS), 1):
        text = "" if value is None else (value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else str(value))
        per_line = max(4, int(width * (0.9 if bold and col <= 2 else 1.0)) - 2)
        lines = max(lines, sum(-(-len(part) // per_line) or 1 for part in text.split("\n")) if text else 1)
    return 14.5 * lines + 4


def _print_setup(ws: Any, ncols: int) -> None:
    """A4 landscape, one page wide (as many pages down as it takes), header rows on every page."""
    from openpyxl.utils import get_column_letter  # start-up: openpyxl loads only when a workbook is written
    from openpyxl.worksheet.properties import PageSetupProperties  # start-up: as above

    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{get_column_letter(ncols)}{ws.max_row}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "Page &P of &N"


def docx_bytes(plan: ActionPlan) -> bytes:
    import pypandoc  # start-up: pandoc runs only for a Word file

    e = html.escape
    title = title_of(plan)
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in COLUMNS)
    body = []
    for _is_rec, values in plan_lines(plan):
        cells = [long_date(v.isoformat()) if isinstance(v, dt.date) else ("" if v is None else str(v)) for v in values]
        body.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    page = (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{e(title)}</title></head><body>'
            f"<p>{e(INSTRUCTIONS.format(autofit='', what='table'))} Statuses: {e(', '.join(STATUSES))}.</p>"
            f"<table><caption>Action plan: {len(plan.rows)} recommendations</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></body></html>")
    args = ["--standalone"] + (["--reference-doc", str(REFERENCE_DOCX)] if REFERENCE_DOCX.exists() else [])
    try:  # the page in and the document out through pandoc's pipes: no file on disk
        data = pypandoc.convert_text(page, "docx", format="html", outputfile="-", extra_args=args)
    except (RuntimeError, OSError) as exc:
        raise WorkspaceError(f"pandoc could not write the action plan ({type(exc).__name__})") from None
    return _stamp_docx(data, plan, title)


def _stamp_docx(data: bytes, plan: ActionPlan, title: str) -> bytes:
    """Landscape with set column widths, the header row repeated, and what the plan is about in
    the document's properties, which Word and LibreOffice keep on save: the next review reads
    the council and round from there, as from the workbook's "About this plan" sheet."""
    import docx  # start-up: python-docx loads only for a Word file
    from docx.enum.section import WD_ORIENT  # start-up: python-docx loads only for a Word file
    from docx.oxml import OxmlElement  # start-up: python-docx loads only for a Word file
    from docx.oxml.ns import qn  # start-up: python-docx loads only for a Word file
    from docx.shared import Cm, Pt  # start-up: python-docx loads only for a Word file

    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    if section.orientation != WD_ORIENT.LANDSCAPE:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    section.left_margin = section.right_margin = Cm(1.2)
    usable = section.page_width - section.left_margin - section.right_margin
    for table in document.tables:
        if len(table.columns) != len(COLUMNS):
            continue
        table.autofit = False
        widths = [int(usable * share / sum(DOCX_WIDTHS)) for share in DOCX_WIDTHS]
        for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=False):
            col.set(qn("w:w"), str(width // 635))  # EMU to twips
        table_width = table._tbl.tblPr.find(qn("w:tblW"))
        if table_width is not None:
            table_width.set(qn("w:type"), "dxa")
            table_width.set(qn("w:w"), str(sum(widths) // 635))
        for i, row in enumerate(table.rows):
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width
                for paragraph in cell.paragraphs:  # small enough for twelve columns, as a printed tracker is
                    for run in paragraph.runs:
                        run.font.size = Pt(8.5)
                        if i and cell.text and row.cells[0].text.isdigit() and cell is row.cells[1]:
                            run.font.bold = True
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a row is kept on one page
        header = table.rows[0]._tr.get_or_add_trPr()  # the header row repeats on every page
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "on")
        header.append(repeat)
    props = document.core_properties
    props.title = title
    props.subject = PLAN_FORMAT
    props.comments = "\n".join(f"{k}: {v}" for k, v in (("format", PLAN_FORMAT), ("format_version", FORMAT_VERSION),
                                                         ("council", plan.council), ("round", plan.round)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
