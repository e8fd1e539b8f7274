"""The action plan: the review's recommendations as rows a council fills in, and back again.

``write_plan`` turns the recommendations of a review into a spreadsheet or a Word table with
one row per recommendation and columns for the owner, by when, the measure of success, the
status and an update, with data validation on the owner, date and status columns. At the next
review, ``load_previous`` reads the filled-in plan (or the previous review's workspace or
regional bundle) and ``apply_previous`` puts its recommendations and updates into the new
review, so the report's "previous practice review" section comes from the plan rather than
being typed again. The previous round's figures go in with it, for the trend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import write_bytes, xlsx_bytes
from reviewkit.core.dates import long_date
from reviewkit.core.errors import ImportFileError, Problem, RegionalError, WorkspaceError
from reviewkit.core.sheets import put
from reviewkit.core.tools import REFERENCE_DOCX
from reviewkit.intake.tables import inspect_office_file
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.gate import Declared, declared_for, describe_kinds, shape_kinds
from reviewkit.review.bundle import _items, _plain, bundle_bytes, bundle_from_workspace
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.files import PREVIOUS_ROUND_FILE
from reviewkit.review.reviewyaml import STATUSES, Recommendation
from reviewkit.review.workspace import Workspace, open_workspace

__all__ = ["COLUMNS", "PLAN_FORMAT", "ActionPlan", "PlanRow", "Previous", "action_plan", "apply_previous",
           "load_previous", "read_plan", "recommendation_texts", "write_plan"]

PLAN_FORMAT = "reviewkit-action-plan"
PLAN_SHEET = "Action plan"
ABOUT_SHEET = "About this plan"
COLUMNS = ("Number", "Recommendation", "Owner", "By when", "Measure of success", "Status", "Update")
WIDTHS = (9, 60, 24, 13, 36, 16, 60)
DOCX_WIDTHS = (17, 60, 24, 17, 36, 18, 56)  # shares of the landscape page (Word's bold headings are wider)
HEADER_ROW = 4
OWNER_MAX = 120


@dataclass(frozen=True)
class PlanRow:
    """One recommendation and what the council plans and reports on it."""

    number: int
    recommendation: str
    owner: str = ""
    by_when: str = ""  # YYYY-MM-DD
    measure: str = ""
    status: str = ""
    update: str = ""


@dataclass(frozen=True)
class ActionPlan:
    """The action plan of one review round."""

    council: str
    round: str  # YYYY-MM, the month the review started
    rows: tuple[PlanRow, ...]


@dataclass
class Previous:
    """What a new review takes from the previous one: its date, recommendations and figures."""

    date: str = ""
    recommendations: list[Recommendation] = field(default_factory=list)
    figures: bytes | None = None  # the previous round's regional bundle
    sources: list[str] = field(default_factory=list)
    councils: dict[str, str] = field(default_factory=dict)  # source → the council it is about

    def check_council(self, council: str) -> None:
        """Refuse a previous review of another council: its figures would be compared as if they were ours."""
        fold = " ".join(council.split()).casefold()
        for source, other in self.councils.items():
            if other and " ".join(other.split()).casefold() != fold:
                raise WorkspaceError(f"{source}: it is about {other}, not {council}; give the previous review of "
                                     f"{council}")


def recommendation_texts(markdown: str) -> list[str]:
    """Each top-level recommendation of narrative/recommendations.md as plain text (first paragraph)."""
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    return [_plain(item) for item in _items(text.splitlines()) if _plain(item)]


def _round(ws: Workspace) -> str:
    for value in (ws.meta.start, ws.meta.end, ws.meta.report_date):
        if re.match(r"^\d{4}-\d{2}", value or ""):
            return value[:7]
    return ""


def action_plan(ws: Workspace) -> ActionPlan:
    """The review's action plan: one empty row per recommendation in narrative/recommendations.md."""
    path = ws.narrative_dir / "recommendations.md"
    try:
        texts = recommendation_texts(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        texts = []
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    if not texts:
        raise WorkspaceError(f"{path}: no recommendations yet; write them as a numbered list, then make the "
                             "action plan")
    names = ws.private_names()
    declared = declared_for(ws)
    for i, text in enumerate(texts, 1):
        privacy.check(text, names, confirm_warnings=True, field=f"recommendation {i} in {path.name}")
        kinds = shape_kinds(text, declared)
        if kinds:
            raise WorkspaceError(f"{path}: recommendation {i} holds {describe_kinds(kinds)} as it would print; rewrite "
                                 f"it (or confirm a word that is not a name: reviewkit check {ws.path} --show-words). "
                                 "No action plan was written.")
    return ActionPlan(ws.meta.council, _round(ws), tuple(PlanRow(i, t) for i, t in enumerate(texts, 1)))


# --------------------------------------------------------------------------- writing

def write_plan(plan: ActionPlan, out: str | Path) -> Path:
    """Write the plan as .xlsx (with data validation) or .docx (a table): either is filled in and read back."""
    target = Path(out)
    suffix = target.suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        raise WorkspaceError(f"{target}: write the action plan as .xlsx (for Excel) or .docx (for Word)")
    if not target.parent.is_dir():
        raise WorkspaceError(f"{target.parent}: no such folder; create it or choose another --out")
    # Built in memory, then written in one go: a full disk is one plain FileWriteError and
    # leaves no partial file (it once left a traceback and a half-written copy beside the target).
    data = _xlsx_bytes(plan) if suffix == ".xlsx" else _docx_bytes(plan)
    return write_bytes(target, data)


def _when(round_: str) -> str:
    return long_date(round_) if round_ else ""


def _xlsx_bytes(plan: ActionPlan) -> bytes:
    from openpyxl import Workbook  # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.styles import (  # start-up: openpyxl loads only when a workbook is read or written
        Alignment,
        Font,
        PatternFill,
    )
    from openpyxl.utils import get_column_letter  # start-up: openpyxl loads only when a workbook is read or written

    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = PLAN_SHEET
    when = _when(plan.round)
    put(ws, 1, 1, f"Action plan: practice review of {plan.council}" + (f", {when}" if when else ""))
    ws["A1"].font = Font(bold=True, size=14)
    put(ws, 2, 1, "Fill in the owner (a role, such as Head of Service), by when, the measure of success, the "
                  "status and an update for each recommendation. Keep the number and the recommendation as "
                  "they are: the next review reads this sheet back.")
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    ws.row_dimensions[2].height = 32
    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, (name, width) in enumerate(zip(COLUMNS, WIDTHS), 1):
        cell = put(ws, HEADER_ROW, col, name)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(col)].width = width
    first, last = HEADER_ROW + 1, HEADER_ROW + len(plan.rows)
    for r, row in enumerate(plan.rows, first):
        values = (row.number, row.recommendation, row.owner, _date_value(row.by_when), row.measure,
                  row.status, row.update)
        for col, value in enumerate(values, 1):
            cell = put(ws, r, col, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(r, 4).number_format = "DD/MM/YYYY"
    ws.freeze_panes = ws.cell(first, 3)

    status = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="Status",
                            error="Choose a status from the list: " + ", ".join(STATUSES) + ".",
                            showInputMessage=True, promptTitle="Status", prompt="Choose from the list.")
    date = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2099,12,31)",
                          allow_blank=True, showErrorMessage=True, errorTitle="By when",
                          error="Enter a date, such as 31/03/2027.", showInputMessage=True,
                          promptTitle="By when", prompt="The date the action should be done by, e.g. 31/03/2027.")
    owner = DataValidation(type="textLength", operator="between", formula1="1", formula2=str(OWNER_MAX),
                           allow_blank=True, showErrorMessage=True, errorTitle="Owner",
                           error=f"Write a role of at most {OWNER_MAX} characters, such as Head of Service.",
                           showInputMessage=True, promptTitle="Owner",
                           prompt="A role, such as Head of Service, not a person's name.")
    for dv, col in ((owner, "C"), (date, "D"), (status, "F")):
        ws.add_data_validation(dv)
        dv.add(f"{col}{first}:{col}{max(last, first)}")

    about = wb.create_sheet(ABOUT_SHEET)
    for i, (key, value) in enumerate((("format", PLAN_FORMAT), ("format_version", 1), ("council", plan.council),
                                      ("round", plan.round), ("statuses", ", ".join(STATUSES))), 1):
        put(about, i, 1, key).font = Font(bold=True)
        put(about, i, 2, value)
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 60
    return xlsx_bytes(wb)


def _date_value(value: str) -> Any:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return value


def _docx_bytes(plan: ActionPlan) -> bytes:
    import pypandoc  # start-up: pandoc runs only for a Word file


    e = html.escape
    when = _when(plan.round)
    title = f"Action plan: practice review of {plan.council}" + (f", {when}" if when else "")
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in (
            r.number, r.recommendation, r.owner, long_date(r.by_when), r.measure, r.status, r.update)) + "</tr>"
        for r in plan.rows)
    page = (f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{e(title)}</title></head><body>'
            f"<p>One row per recommendation of the review: fill in the owner (a role, such as Head of Service, "
            f"not a person's name), by when (a date such as 31/03/2027), the measure of success, the status "
            f"({e(', '.join(STATUSES))}) and the latest update. Keep the number and the recommendation as they "
            f"are: the next review reads this table back.</p>"
            f"<table><caption>Action plan: {len(plan.rows)} recommendations</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></body></html>")
    args = ["--standalone"] + (["--reference-doc", str(REFERENCE_DOCX)] if REFERENCE_DOCX.exists() else [])
    try:  # the page in and the document out through pandoc's pipes: no file on disk
        data = pypandoc.convert_text(page, "docx", format="html", outputfile="-", extra_args=args)
    except (RuntimeError, OSError) as exc:
        raise WorkspaceError(f"pandoc could not write the action plan ({type(exc).__name__})") from None
    return _stamp_docx(data, plan, title)


def _stamp_docx(data: bytes, plan: ActionPlan, title: str) -> bytes:
    """Record what the plan is about in the document's properties, which Word and LibreOffice keep
    on save: the next review reads the council and round from there, as from the workbook's
    "About this plan" sheet."""
    import docx  # start-up: python-docx loads only for a Word file
    from docx.enum.section import WD_ORIENT  # start-up: python-docx loads only for a Word file
    from docx.oxml import OxmlElement  # start-up: python-docx loads only for a Word file
    from docx.oxml.ns import qn  # start-up: python-docx loads only for a Word file

    document = docx.Document(io.BytesIO(data))
    # Landscape, with set column widths, so there is room to write in them
    # (left to Word, the empty columns would shrink to their headings and break words).
    section = document.sections[0]
    if section.orientation != WD_ORIENT.LANDSCAPE:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
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
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a row is kept on one page
        header = table.rows[0]._tr.get_or_add_trPr()  # the header row repeats on every page
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "on")
        header.append(repeat)
    props = document.core_properties
    props.title = title
    props.subject = PLAN_FORMAT
    props.comments = "\n".join(f"{k}: {v}" for k, v in (("format", PLAN_FORMAT), ("format_version", 1),
                                                         ("council", plan.council), ("round", plan.round)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- reading

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _date(value: Any) -> str | None:
    """A cell as YYYY-MM-DD, '' when empty, None when it is not a date."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value)
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    for form in ("%d %B %Y", "%d %b %Y"):  # as the Word plan writes it: 31 March 2027
        try:
            return dt.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            pass
    m = _DMY.match(text)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            return None
    return None


def read_plan(path: str | Path, names: Sequence[str] = ()) -> ActionPlan:
    """Read a filled-in action plan (.xlsx or .docx); every problem is named by row and column, never by value."""
    src = Path(path)
    label = src.name
    suffix = src.suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        raise ImportFileError([Problem(label, None, None, "an action plan is read from the .xlsx or .docx that "
                                                           "'reviewkit action-plan' wrote")])
    if not src.is_file():
        raise ImportFileError([Problem(label, None, None, "file not found")])
    refused = inspect_office_file(src, label, suffix[1:])  # a zip bomb or a DTD, before anything inflates it
    if refused is not None:
        raise ImportFileError([refused])
    where, rows, about = (_xlsx_plan if suffix == ".xlsx" else _docx_plan)(src, label)
    return _plan(where, rows, about, names)


def _xlsx_plan(src: Path, label: str) -> tuple[str, list[tuple[Any, ...]], dict[str, Any]]:
    """The plan sheet's rows and the "About this plan" sheet, from the workbook."""
    from openpyxl import load_workbook  # start-up: openpyxl loads only when a workbook is read or written

    try:
        with src.open("rb") as fh:  # closed however openpyxl fails
            wb = load_workbook(fh, data_only=True)
    except Exception:  # noqa: BLE001  openpyxl raises many kinds for a file that is not a workbook
        raise ImportFileError([Problem(label, None, None, "not an Excel workbook (.xlsx) that can be read")]) from None
    if PLAN_SHEET not in wb.sheetnames:
        raise ImportFileError([Problem(label, None, None, f"no sheet named '{PLAN_SHEET}'; use the workbook "
                                                          "'reviewkit action-plan' wrote")])
    about = {}
    if ABOUT_SHEET in wb.sheetnames:
        about = {_text(r[0]): r[1] for r in wb[ABOUT_SHEET].iter_rows(values_only=True) if r and r[0]}
    return f"{label} ({PLAN_SHEET})", list(wb[PLAN_SHEET].iter_rows(values_only=True)), about


def _docx_plan(src: Path, label: str) -> tuple[str, list[tuple[Any, ...]], dict[str, Any]]:
    """The plan table's rows (row 1 is its header) and what the document's properties say it is about."""
    import docx  # start-up: python-docx loads only for a Word file

    try:
        with src.open("rb") as fh:
            document = docx.Document(fh)
        table = next((t for t in document.tables
                      if t.rows and {"Number", "Recommendation"} <= {_text(c.text) for c in t.rows[0].cells}), None)
        rows = [tuple(c.text for c in row.cells) for row in table.rows] if table is not None else []
        props = document.core_properties
        comments = (props.comments or "") if props.subject == PLAN_FORMAT else ""
    except Exception:  # noqa: BLE001  python-docx raises many kinds (zip, XML, missing parts) for a damaged file
        raise ImportFileError([Problem(label, None, None, "not a Word document (.docx) that can be read")]) from None
    if table is None:
        raise ImportFileError([Problem(label, None, None, "no table with the columns 'Number' and 'Recommendation'; "
                                                          "use the document 'reviewkit action-plan' wrote")])
    about = dict(line.split(": ", 1) for line in comments.splitlines() if ": " in line)
    return f"{label} (table)", rows, about


def _plan(where: str, rows: list[tuple[Any, ...]], about: dict[str, Any], names: Sequence[str]) -> ActionPlan:
    """The plan's rows checked one by one: a date, a listed status, a short owner, no identifier."""
    header_at = next((i for i, r in enumerate(rows[:20]) if r and {"Number", "Recommendation"} <= {_text(c) for c in r}),
                     None)
    if header_at is None:
        raise ImportFileError([Problem(where, None, None,
                                       "no header row with 'Number' and 'Recommendation'; keep the header row")])
    header = [_text(c) for c in rows[header_at]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportFileError([Problem(where, header_at + 1, None,
                                       f"missing column(s) {', '.join(missing)}; keep every column of the plan")])
    col = {c: header.index(c) for c in COLUMNS}
    known = {s.casefold(): s for s in STATUSES}
    problems: list[Problem] = []
    out: list[PlanRow] = []
    for i, r in enumerate(rows[header_at + 1:], header_at + 2):
        cells = {c: (r[col[c]] if col[c] < len(r) else None) for c in COLUMNS}
        if all(_text(v) == "" for v in cells.values()):
            continue
        number = _text(cells["Number"])
        if not number.isdigit():
            problems.append(Problem(where, i, "Number", "expected the recommendation's number (1, 2, 3 …)"))
            continue
        text = _text(cells["Recommendation"])
        if not text:
            problems.append(Problem(where, i, "Recommendation", "the recommendation is empty; keep its text"))
        by_when = _date(cells["By when"])
        if by_when is None:
            problems.append(Problem(where, i, "By when", "expected a date such as 31/03/2027, or leave it empty"))
        status = _text(cells["Status"])
        if status and status.casefold() not in known:
            problems.append(Problem(where, i, "Status", f"expected one of {', '.join(STATUSES)}"))
        owner = _text(cells["Owner"])
        if len(owner) > OWNER_MAX:
            problems.append(Problem(where, i, "Owner", f"write a role of at most {OWNER_MAX} characters"))
        values = {"Recommendation": text, "Owner": owner, "Measure of success": _text(cells["Measure of success"]),
                  "Update": _text(cells["Update"])}
        for column, value in values.items():
            found = [f for f in privacy.screen(value, names) if f.level == privacy.BLOCK] if value else []
            if found:
                problems.append(Problem(where, i, column, f"holds what looks like a personal identifier ({privacy.describe(found)}); "
                                                          "remove it (the plan goes into the next report)"))
            elif kinds := shape_kinds(value, Declared(), names=False):
                problems.append(Problem(where, i, column, f"holds {describe_kinds(kinds)} as it would print; rewrite "
                                                          "it (the plan goes into the next report)"))
        out.append(PlanRow(int(number), text, owner, by_when or "", values["Measure of success"],
                           known.get(status.casefold(), ""), values["Update"]))
    numbers = [r.number for r in out]
    if len(set(numbers)) != len(numbers):
        problems.append(Problem(where, None, "Number", "a recommendation number is used twice; number them once each"))
    if not out and not problems:
        problems.append(Problem(where, None, None, "no recommendations in the plan"))
    if problems:
        raise ImportFileError(problems)
    round_ = _text(about.get("round"))
    return ActionPlan(_text(about.get("council")), round_ if re.match(r"^\d{4}-\d{2}$", round_) else "",
                      tuple(sorted(out, key=lambda r: r.number)))


# --------------------------------------------------------------------------- the next review

def load_previous(sources: Sequence[str | Path], names: Sequence[str] = ()) -> Previous:
    """What a new review takes from the previous one, from a plan (.xlsx or .docx), bundle (.zip) or workspace folder.

    A plan gives the recommendations with the council's updates; a bundle or workspace gives the
    previous round's figures (and its recommendations, when no plan is given).
    """
    prev = Previous()
    plan: ActionPlan | None = None
    fallback: list[Recommendation] = []
    for source in sources:
        path = Path(source)
        prev.sources.append(str(path))
        if path.is_dir():
            ws = open_workspace(path)
            try:
                figures = bundle_bytes(bundle_from_workspace(ws))
            except RegionalError as exc:
                raise WorkspaceError(f"{path}: the previous review's figures cannot be taken from it ({exc})") from None
            _set_figures(prev, figures, path)
            prev.councils[str(path)] = ws.meta.council
            prev.date = prev.date or _round(ws)
            texts = recommendation_texts(_read(ws.narrative_dir / "recommendations.md"))
            fallback = fallback or [Recommendation(t) for t in texts]
        elif path.suffix.lower() == ".zip":
            bundle = read_bundle(path)
            _set_figures(prev, bundle.raw or bundle_bytes(bundle), path)
            prev.councils[str(path)] = bundle.council
            prev.date = prev.date or bundle.round
            fallback = fallback or [Recommendation(t) for t in bundle.recommendations]
        elif path.suffix.lower() in (".xlsx", ".docx"):
            if plan is not None:
                raise WorkspaceError(f"{path}: give one action plan with --previous, not two")
            plan = read_plan(path, names)
            prev.councils[str(path)] = plan.council
            prev.date = plan.round or prev.date
        else:
            raise WorkspaceError(f"{path}: --previous takes an action plan (.xlsx or .docx), a regional bundle (.zip) or "
                                 "the previous review's workspace folder")
    if plan is not None:
        prev.recommendations = [Recommendation(r.recommendation, r.update, r.status) for r in plan.rows]
    else:
        prev.recommendations = fallback
    return prev


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8 text; save it as UTF-8") from None


def _set_figures(prev: Previous, figures: bytes, path: Path) -> None:
    if prev.figures is not None:
        raise WorkspaceError(f"{path}: give the previous round's figures once (one bundle or one workspace)")
    prev.figures = figures


def apply_previous(ws: Workspace, prev: Previous) -> None:
    """Put the previous review's date, recommendations and updates into review.yaml, and its figures beside it."""
    prev.check_council(ws.meta.council)
    ws.meta = dataclasses.replace(ws.meta, previous_date=prev.date or ws.meta.previous_date,
                                  previous_recommendations=list(prev.recommendations)
                                  or ws.meta.previous_recommendations)
    ws.save_meta()
    if prev.figures is not None:
        write_bytes(ws.path / PREVIOUS_ROUND_FILE, prev.figures)
