"""The action plan: the review's recommendations as rows a council fills in, and back again.

In: a workspace (its recommendations, the narrative that links findings to them, its ratings);
a filled-in plan (.xlsx or .docx), a regional bundle or a previous workspace.
Out: an ``ActionPlan`` written as a workbook or Word table; at the next review, the previous
review's date, recommendations, updates, statuses and starting figures in review.yaml.

``write_plan`` turns the recommendations of a review into a spreadsheet or a Word table a
quality board runs: per recommendation, the finding and CQC quality statement it answers (as
the review links them), its starting figure from this review, a target, actions each with an
owner, date and status, a RAG rating, the date last updated and the latest update
(``reviewkit.intake.planwrite``). At the next review, ``load_previous`` reads the filled-in
plan (this layout or reviewkit 0.1.0's one row per recommendation), or the previous review's
workspace or regional bundle, and ``apply_previous`` puts its recommendations and updates into
the new review, so the report's "previous practice review" section comes from the plan rather
than being typed again. The previous round's figures go in with it, for the trend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import write_bytes
from reviewkit.core.errors import ImportFileError, Problem, RegionalError, WorkspaceError
from reviewkit.intake.planlinks import recommendation_actions, recommendation_links
from reviewkit.intake.planmodel import (
    COLUMNS,
    COLUMNS_V1,
    OWNER_MAX,
    PLAN_FORMAT,
    RAGS,
    ActionPlan,
    PlanAction,
    PlanRow,
    derived_status,
)
from reviewkit.intake.planscreen import cell_problem
from reviewkit.intake.planwrite import ABOUT_SHEET, PLAN_SHEET, docx_bytes, xlsx_bytes_of
from reviewkit.intake.tables import inspect_office_file
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.gate import declared_for, describe_kinds, shape_kinds
from reviewkit.review.bundle import _items, _plain, bundle_bytes, bundle_from_workspace
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.files import PREVIOUS_ROUND_FILE
from reviewkit.review.reviewyaml import STATUSES, Recommendation
from reviewkit.review.workspace import Workspace, open_workspace

__all__ = ["COLUMNS", "COLUMNS_V1", "PLAN_FORMAT", "ActionPlan", "PlanAction", "PlanRow", "Previous", "action_plan",
           "apply_previous", "load_previous", "read_plan", "recommendation_texts", "write_plan"]


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
    """The review's action plan: a row per recommendation in narrative/recommendations.md, with what it
    answers and its starting figure filled in, and its actions (those written under it, else empty rows)."""
    path = ws.narrative_dir / "recommendations.md"
    try:
        markdown = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        markdown = ""
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    texts = recommendation_texts(markdown)
    if not texts:
        raise WorkspaceError(f"{path}: no recommendations yet; write them as a numbered list, then make the "
                             "action plan")
    names = ws.private_names()
    declared = declared_for(ws)
    links = recommendation_links(ws, texts)
    actions = recommendation_actions(markdown)
    rows = []
    for i, (text, link) in enumerate(zip(texts, links), 1):
        own = actions[i - 1] if i - 1 < len(actions) else []
        pieces = [("recommendation", text), ("the finding it answers", link.finding)] + [
            (f"action {i}.{j}", a) for j, a in enumerate(own, 1)]
        for what, piece in pieces:
            if not piece:
                continue
            rec = what == "recommendation"
            where = f"recommendation {i}" if rec else f"{what} of recommendation {i}"
            place = path if rec else ws.narrative_dir
            privacy.check(piece, names, confirm_warnings=True, field=f"{where} in {place.name}")
            kinds = shape_kinds(piece, declared)
            if kinds:
                raise WorkspaceError(f"{place}: {where} holds {describe_kinds(kinds)} as it would print; "
                                     f"rewrite it (or confirm a word that is not a name: reviewkit check {ws.path} "
                                     "--show-words). No action plan was written.")
        problem = cell_problem("Starting figure", link.start, names, declared.year)
        if problem:  # the audit tool's words in it: what the plan could not read back, it does not write
            raise WorkspaceError(f"{ws.path / 'audit_tool.yaml'}: the title or rating labels of the question "
                                 f"recommendation {i} names hold {problem}; rewrite them. No action plan was written.")
        rows.append(PlanRow(i, text, finding=link.finding, statement=link.statement, start=link.start,
                            actions=tuple(PlanAction(f"{i}.{j}", a) for j, a in enumerate(own, 1))))
    return ActionPlan(ws.meta.council, _round(ws), tuple(rows))


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
    data = xlsx_bytes_of(plan) if suffix == ".xlsx" else docx_bytes(plan)
    return write_bytes(target, data)


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
        table = next((t for t in document.tables if t.rows and _is_header([c.text for c in t.rows[0].cells])), None)
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


def _is_header(row: Sequence[Any]) -> bool:
    cells = {_text(c) for c in row}
    return "Number" in cells and bool(cells & {COLUMNS[1], COLUMNS_V1[1]})


_ACTION_NUMBER = re.compile(r"^(\d{1,3})\.(\d{1,3})$")


def _plan(where: str, rows: list[tuple[Any, ...]], about: dict[str, Any], names: Sequence[str]) -> ActionPlan:
    """The plan's rows checked one by one: a date, a listed status, a short owner, no identifier.

    Reads this version's layout (a row per recommendation and per action) and reviewkit 0.1.0's
    (a row per recommendation), told apart by their header rows.
    """
    header_at = next((i for i, r in enumerate(rows[:20]) if r and _is_header(r)), None)
    if header_at is None:
        raise ImportFileError([Problem(where, None, None,
                                       "no header row with 'Number' and 'Recommendation'; keep the header row")])
    header = [_text(c) for c in rows[header_at]]
    columns = COLUMNS if COLUMNS[1] in header else COLUMNS_V1
    missing = [c for c in columns if c not in header]
    if missing:
        raise ImportFileError([Problem(where, header_at + 1, None,
                                       f"missing column(s) {', '.join(missing)}; keep every column of the plan")])
    col = {c: header.index(c) for c in columns}
    text_col, target_col = columns[1], ("Target" if columns is COLUMNS else "Measure of success")
    known = {s.casefold(): s for s in STATUSES}
    rags = {r.casefold(): r for r in RAGS}
    problems: list[Problem] = []
    recs: dict[int, dict[str, Any]] = {}
    actions: dict[int, list[PlanAction]] = {}
    numbers: list[int] = []

    round_ = _text(about.get("round"))
    year = int(round_[:4]) if re.match(r"^\d{4}-\d{2}$", round_) else dt.date.today().year

    def check_text(i: int, column: str, value: str) -> str:
        problem = cell_problem(column, value, names, year)
        if problem:
            problems.append(Problem(where, i, column, f"holds {problem}; "
                                    + ("remove it" if problem.startswith("what looks") else "rewrite it")
                                    + " (the plan goes into the next report)"))
        return value

    def check_date(i: int, column: str, value: Any, example: str) -> str:
        day = _date(value)
        if day is None:
            problems.append(Problem(where, i, column, f"expected a date such as {example}, or leave it empty"))
        return day or ""

    for i, r in enumerate(rows[header_at + 1:], header_at + 2):
        cells = {c: (r[col[c]] if col[c] < len(r) else None) for c in columns}
        number = _text(cells["Number"])
        if all(_text(v) == "" for c, v in cells.items() if c != "Number" or not _ACTION_NUMBER.match(number)):
            continue  # an empty row, or an action row left empty
        status = _text(cells["Status"])
        if status and status.casefold() not in known:
            problems.append(Problem(where, i, "Status", f"expected one of {', '.join(STATUSES)}"))
        owner = _text(cells["Owner"])
        if len(owner) > OWNER_MAX:
            problems.append(Problem(where, i, "Owner", f"write a role of at most {OWNER_MAX} characters"))
        by_when = check_date(i, "By when", cells["By when"], "31/03/2027")
        text = check_text(i, text_col, _text(cells[text_col]))
        check_text(i, "Owner", owner)
        action = _ACTION_NUMBER.match(number) if columns is COLUMNS else None
        if action:
            if not text:
                problems.append(Problem(where, i, text_col, "say what the action is, or clear the row"))
            actions.setdefault(int(action.group(1)), []).append(
                PlanAction(number, text, owner, by_when, known.get(status.casefold(), "")))
            continue
        if not number.isdigit():
            problems.append(Problem(where, i, "Number", "expected the recommendation's number (1, 2, 3 …)"
                                    + (" or an action's (1.1, 1.2 …)" if columns is COLUMNS else "")))
            continue
        if not text:
            problems.append(Problem(where, i, text_col, "the recommendation is empty; keep its text"))
        values = {c: check_text(i, c, _text(cells[c])) for c in (target_col, "Update", "Finding it answers",
                                                                  "Quality statement", "Starting figure")
                  if c in cells}
        rag = _text(cells.get("RAG"))
        if rag and rag.casefold() not in rags:
            problems.append(Problem(where, i, "RAG", "expected Red, Amber or Green"))
        last = check_date(i, "Last updated", cells["Last updated"], "31/03/2027") if "Last updated" in cells else ""
        numbers.append(int(number))
        recs[int(number)] = dict(number=int(number), recommendation=text, owner=owner, by_when=by_when,
                                 measure=values[target_col], status=known.get(status.casefold(), ""),
                                 update=values["Update"], finding=values.get("Finding it answers", ""),
                                 statement=values.get("Quality statement", ""),
                                 start=values.get("Starting figure", ""), rag=rags.get(rag.casefold(), ""),
                                 last_updated=last)
    if len(set(numbers)) != len(numbers):
        problems.append(Problem(where, None, "Number", "a recommendation number is used twice; number them once each"))
    for rec in sorted(set(actions) - set(recs)):
        problems.append(Problem(where, None, "Number", f"actions numbered {rec}.… have no recommendation {rec}; "
                                                       "number each action under its recommendation"))
    if not recs and not problems:
        problems.append(Problem(where, None, None, "no recommendations in the plan"))
    if problems:
        raise ImportFileError(problems)
    out = [PlanRow(**recs[n], actions=tuple(actions.get(n, ()))) for n in sorted(recs)]
    return ActionPlan(_text(about.get("council")), round_ if re.match(r"^\d{4}-\d{2}$", round_) else "", tuple(out))


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
        prev.recommendations = [Recommendation(r.recommendation, r.update, derived_status(r), start=r.start,
                                               target=r.measure, rag=r.rag) for r in plan.rows]
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
