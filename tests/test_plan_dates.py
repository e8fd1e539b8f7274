"""Dates in an action plan's target and update columns read back; dates of birth never do.

The rule (``reviewkit.privacy.timeline``, ``reviewkit.intake.planscreen``) is measured on the
corpus in ``tests/plan_dates_corpus.py``, written before the rule: every ordinary phrase is
written into a plan as a council would (its target or update cell), saved, and read back the
way ``previous`` reads it; every hostile one must be refused there or by the publish gate
screening the page the next report prints. The measured figures are printed (``-s``) and held
to floors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest


from reviewkit import cli
from reviewkit.core.errors import ImportFileError, WorkspaceError
from reviewkit.intake.actionplan import COLUMNS, ActionPlan, PlanRow, action_plan, read_plan, write_plan
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.privacy.gate import Declared, plan_dates, screen_page
from reviewkit.privacy.reader import reader_text
from reviewkit.review.redaction import page_findings
from reviewkit.review.workspace import open_workspace

from .plan_dates_corpus import HOSTILE, ORDINARY, ROUND

# The next review, two years on: the year its publish gate ages dates against.
NEXT_YEAR = int(ROUND[:4]) + 2


def _plan(items: tuple[tuple[str, str], ...]) -> ActionPlan:
    """A plan with one recommendation per phrase, in its column (the target or the update)."""
    rows = []
    for i, (column, text) in enumerate(items, 1):
        cell = {"measure": text} if column == "Target" else {"update": text}
        rows.append(PlanRow(i, f"Recommendation {i}: record management oversight on every case record", **cell))
    return ActionPlan("Eastvale Borough Council", ROUND, tuple(rows))


def _refused_rows(path: Path) -> set[int]:
    """The recommendation numbers whose cells `previous` refuses (rows are named, never values)."""
    try:
        read_plan(path)
    except ImportFileError as exc:
        header = 4
        return {int(m.group(1)) - header for m in re.finditer(r"row (\d+), column '(?:Target|Update)'", str(exc))}
    return set()


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("plandates")
    ordinary = write_plan(_plan(ORDINARY), out / "ordinary.xlsx")
    hostile = write_plan(_plan(HOSTILE), out / "hostile.xlsx")
    return {"ordinary": ordinary, "hostile": hostile, "ordinary_refused": _refused_rows(ordinary),
            "hostile_refused": _refused_rows(hostile)}


def _rows_per_recommendation(path: Path) -> dict[int, int]:
    sheet = openpyxl.load_workbook(path)["Action plan"]
    return {sheet.cell(r, 1).value: r for r in range(5, sheet.max_row + 1) if isinstance(sheet.cell(r, 1).value, int)}


def test_the_corpus_is_large_enough_and_each_phrase_is_in_a_date_column() -> None:
    assert len(ORDINARY) >= 40 and len(HOSTILE) >= 40
    assert len(set(ORDINARY)) == len(ORDINARY) and len(set(HOSTILE)) == len(HOSTILE)
    assert {c for c, _ in ORDINARY + HOSTILE} == {"Target", "Update"}


def test_ordinary_dated_targets_and_updates_read_back_as_written(measured: dict) -> None:
    # Each recommendation is one row and two empty action rows: row numbers map back to phrases.
    rows = _rows_per_recommendation(measured["ordinary"])
    refused = {n for n, r in rows.items() if r - 4 in measured["ordinary_refused"]}
    passed = 1 - len(refused) / len(ORDINARY)
    print(f"\nordinary dated phrases read back: {len(ORDINARY) - len(refused)} of {len(ORDINARY)} ({passed:.0%})"
          + (f"; refused: {[ORDINARY[n - 1][1] for n in sorted(refused)]}" if refused else ""))
    assert passed >= 0.95
    if not refused:
        plan = read_plan(measured["ordinary"])
        assert [r.measure or r.update for r in plan.rows] == [t for _, t in ORDINARY]
    # And the next report publishes them: its gate, with the plan's dates declared, finds nothing in them.
    texts = [t for _, t in ORDINARY]
    assert [t for t in texts if _gate_refuses(t, texts)] == []


def _gate_refuses(text: str, plan_texts: list[str]) -> bool:
    """The publish gate on the next report's page, declaring the plan's dates as `previous` puts them there."""
    declared = Declared(frozenset({"eastvale", "borough", "council"}), frozenset(), NEXT_YEAR,
                        timeline=plan_dates(plan_texts, NEXT_YEAR))
    return bool(screen_page(text, declared) or screen_page(text, declared, markup="plain"))


def test_hostile_dates_of_birth_and_identifiers_are_refused(measured: dict) -> None:
    rows = _rows_per_recommendation(measured["hostile"])
    at_read = {n for n, r in rows.items() if r - 4 in measured["hostile_refused"]}
    texts = [t for _, t in HOSTILE]
    at_gate = {n for n, (_, t) in enumerate(HOSTILE, 1) if n not in at_read and _gate_refuses(t, texts)}
    missed = [t for n, (_, t) in enumerate(HOSTILE, 1) if n not in at_read | at_gate]
    print(f"\nhostile phrases refused by previous: {len(at_read)} of {len(HOSTILE)} "
          f"({len(at_read) / len(HOSTILE):.0%});"
          f" by previous or the publish gate: {len(at_read | at_gate)} ({len(at_read | at_gate) / len(HOSTILE):.0%})"
          + (f"; missed: {missed}" if missed else ""))
    # Measured when the rule was first run on the corpus: 46 of 50 refused by `previous`, 48 of 50 by it or the
    # gate. The two missed: a made-up postcode outside the 124 postcode areas (no rule of the kit reads it as one)
    # and an age in words more than 18 characters before the date ("aged ninety-one at the … review").
    assert len(at_read | at_gate) / len(HOSTILE) >= 0.95
    assert len(at_read) / len(HOSTILE) >= 0.9


def test_a_date_is_read_as_a_date_only_in_a_declared_date_column(tmp_path: Path) -> None:
    # "Q2 2027/28" holds seven digits in a row: as a recommendation it is refused, as a target it is a date.
    plan = ActionPlan("Eastvale Borough Council", ROUND, (PlanRow(1, "Record oversight by Q2 2027/28"),))
    with pytest.raises(ImportFileError, match=r"row 5, column 'Recommendation or action': holds a run of six"):
        read_plan(write_plan(plan, tmp_path / "rec.xlsx"))
    plan = dataclasses.replace(plan, rows=(PlanRow(1, "Record oversight", measure="Q2 2027/28",
                                                   update="Paper to board 23 Feb 2027 RAG Green"),))
    back = read_plan(write_plan(plan, tmp_path / "target.xlsx"))
    assert (back.rows[0].measure, back.rows[0].update) == ("Q2 2027/28", "Paper to board 23 Feb 2027 RAG Green")
    # A date run on into other digits may be part of a number: there it is no date, and every rule applies.
    plan = dataclasses.replace(plan, rows=(PlanRow(1, "Record oversight", measure="Q2 2027/28",
                                                   update="Ref 12 34 2027"),))
    with pytest.raises(ImportFileError, match=r"row 5, column 'Update': holds a run of six or more digits"):
        read_plan(write_plan(plan, tmp_path / "run.xlsx"))


def test_the_word_plan_reads_its_dated_targets_and_updates_back(tmp_path: Path) -> None:
    plan = dataclasses.replace(_plan(ORDINARY[:12]), rows=tuple(
        dataclasses.replace(r, by_when="2027-03-31", last_updated="2027-02-01") for r in _plan(ORDINARY[:12]).rows))
    back = read_plan(write_plan(plan, tmp_path / "plan.docx"))
    assert [(r.measure, r.update, r.by_when, r.last_updated) for r in back.rows] == [
        (r.measure, r.update, "2027-03-31", "2027-02-01") for r in plan.rows]


def test_a_date_about_a_person_is_refused_in_every_column_and_years_back_in_a_date_column(tmp_path: Path) -> None:
    plan = ActionPlan("Eastvale Borough Council", ROUND, (
        PlanRow(1, "Check records of the person aged 91 on 2 March 2027"),
        PlanRow(2, "Record oversight", measure="by 31 March 2027", update="aged 91 on 2 March 2027"),
        PlanRow(3, "Record oversight", update="Reviewed 12/03/1941")))
    with pytest.raises(ImportFileError) as caught:
        read_plan(write_plan(plan, tmp_path / "plan.xlsx"))
    message = str(caught.value)
    assert "row 5, column 'Recommendation or action': holds a date beside words about a person" in message
    assert "row 8, column 'Update': holds a date beside words about a person" in message
    assert "row 11, column 'Update': holds a full date old enough to be a date of birth" in message
    assert "row 8, column 'Target'" not in message and "1941" not in message and "91" not in message


def test_a_starting_figure_is_the_kits_only_when_its_numbers_agree(tmp_path: Path) -> None:
    # The kit's line: its words (a hostile question title, a short one) are screened, its numbers are its own.
    for kit in ("Q3 +cmd: 100% Outstanding or Good (1 of 1 case record)",
                "Q3 MOS: 100% Outstanding or Good (3 of 3 case records)"):
        plan = ActionPlan("Eastvale Borough Council", ROUND, (PlanRow(1, "Record oversight", start=kit),))
        assert read_plan(write_plan(plan, tmp_path / "kit.xlsx")).rows[0].start == kit
    for changed in ("Q3 MOS: 1000% Outstanding or Good (3 of 3 case records)",  # numbers that do not agree: text,
                    "Q3 MOS: 1000% Outstanding or Good (3 of 3 case record)",  # where "MOS: 1000" is a reference
                    "Q3 Mosaic 123456: 100% Outstanding or Good (1 of 1 case record)"):  # a record number in its words
        plan = dataclasses.replace(plan, rows=(PlanRow(1, "Record oversight", start=changed),))
        with pytest.raises(ImportFileError, match=r"row 5, column 'Starting figure': holds"):
            read_plan(write_plan(plan, tmp_path / "changed.xlsx"))


def test_the_kit_writes_no_starting_figure_it_could_not_read_back(tmp_path: Path) -> None:
    ws = build_sample_workspace(tmp_path / "eastvale")
    tool_file = ws.path / "audit_tool.yaml"
    tool_file.write_text(tool_file.read_text(encoding="utf-8").replace(
        "title: Management oversight", "title: Management oversight Mosaic 123456", 1), encoding="utf-8")
    recs = ws.narrative_dir / "recommendations.md"
    recs.write_text(recs.read_text(encoding="utf-8").replace("management oversight", "management oversight (Q11)", 1),
                    encoding="utf-8")
    with pytest.raises(WorkspaceError, match=r"audit_tool.yaml: the title or rating labels of the question "
                                             r"recommendation 3 names hold what looks like a personal identifier "
                                             r"\(social care record number\); rewrite them. No action plan"):
        action_plan(open_workspace(ws.path))


@pytest.mark.slow  # LibreOffice saves the plan
def test_dated_cells_survive_libreoffice_and_previous_and_the_gate_still_refuses_a_date_of_birth(
        tmp_path: Path) -> None:
    sample = build_sample_workspace(tmp_path / "eastvale").path
    plan = tmp_path / "plan.xlsx"
    assert cli.main(["action-plan", str(sample), "--out", str(plan)]) == 0
    wb = openpyxl.load_workbook(plan)
    sheet = wb["Action plan"]
    col = {c: i + 1 for i, c in enumerate(COLUMNS)}
    dated = {1: ("by 31 March 2027", "Reviewed 12/01/2027, next 31-Mar-2027 – 30-Jun-2027"),
             2: ("Q2 2027/28", "Paper to board 23 Feb 2027 RAG Green"),
             3: ("March 2027", "Slipped to Q3 2027-28")}
    for r in range(5, sheet.max_row + 1):
        number = sheet.cell(r, 1).value
        if number in dated:
            sheet.cell(r, col["Target"]).value, sheet.cell(r, col["Update"]).value = dated[number]
            sheet.cell(r, col["Last updated"]).value = dt.datetime(2027, 2, 1)
    wb.save(plan)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is installed by scripts/setup.sh"
    done = subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                           "--norestore", "--convert-to", "xlsx", "--outdir", str(tmp_path / "saved"), str(plan)],
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-1000:]
    saved = tmp_path / "saved" / "plan.xlsx"
    assert saved.read_bytes() != plan.read_bytes()
    assert read_plan(saved) == read_plan(plan)
    nxt = tmp_path / "eastvale-2028"
    assert cli.main(["new", str(nxt), "--council", "Eastvale Borough Council", "--theme", "Practice"]) == 0
    assert cli.main(["previous", str(nxt), str(saved)]) == 0
    ws = open_workspace(nxt)
    recs = ws.meta.previous_recommendations
    assert [(recs[n - 1].target, recs[n - 1].update) for n in dated] == list(dated.values())
    # What the report would publish: the plan's dates pass the publish gate; a date of birth does not,
    # in the narrative, or in an update that names the same date as a target.
    assert [f for f in page_findings(ws) if "previous recommendation" in f.row] == []
    (nxt / "narrative" / "key_messages.md").write_text(
        "Reviewed 12/01/2027 as planned.\n\nOne person, born 12/01/1941, moved on 31 March 2027.\n",
        encoding="utf-8")
    found = [f for f in page_findings(open_workspace(nxt)) if f.table == "narrative/key_messages.md"]
    assert {(f.row, f.kind) for f in found} == {("line 3", "date_of_birth")}  # line 1, the plan's date, passes


def test_the_gate_reads_a_declared_plan_date_as_a_date_and_still_refuses_a_date_of_birth_on_the_page() -> None:
    targets = ["Q2 2027/28", "Paper to board 23 Feb 2027 RAG Green", "31-Mar-2027 – 30-Jun-2027"]
    page = ("<html><body><h2>Previous recommendations</h2><table><tr><td>Target</td><td>Q2 2027/28</td></tr>"
            "<tr><td>Update</td><td>Paper to board 23 Feb 2027 RAG Green</td></tr></table>"
            "<p>Pilot 31-Mar-2027 – 30-Jun-2027.</p><p>One person (DOB 3 Mar 1941) moved.</p>"
            "<p>Another, born 12/01/2027 in the plan's words, and one aged 91 on 23 Feb 2027.</p></body></html>")
    undeclared = Declared(review_year=NEXT_YEAR)
    declared = dataclasses.replace(undeclared, timeline=plan_dates(targets, NEXT_YEAR))
    kinds = {f.kind for f in screen_page(page, undeclared, markup="html")}
    assert {"digits", "letters_and_digits", "address"} <= kinds  # without the plan, its dates read as identifiers
    found = screen_page(page, declared, markup="html")
    text = reader_text(page, "html")
    assert [(f.kind, text[f.start:f.end]) for f in found if f.kind != "possible_name"] == [
        ("date_of_birth", "3 Mar 1941"), ("date_of_birth", "12/01/2027")]


@pytest.mark.slow  # renders the next report
def test_the_next_report_publishes_the_plans_dates_and_refuses_a_date_of_birth_beside_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = build_sample_workspace(tmp_path / "eastvale").path
    plan = action_plan(open_workspace(sample))
    dated = dataclasses.replace(plan, rows=tuple(dataclasses.replace(
        r, measure="Q2 2027/28" if r.number == 3 else "by 31 March 2027",
        update="Paper to board 23 Feb 2027 RAG Green; pilot 31-Mar-2027 – 30-Jun-2027") for r in plan.rows))
    path = write_plan(dated, tmp_path / "plan.xlsx")
    assert cli.main(["previous", str(sample), str(path)]) == 0
    out = tmp_path / "out"
    assert cli.main(["report", str(sample), "--final", "--to", "html", "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Q2 2027/28" in html and "31-Mar-2027 – 30-Jun-2027" in html and "RAG Green" in html
    # The same dates beside a date of birth (typed into review.yaml by hand): the final report refuses it.
    ws = open_workspace(sample)
    first = ws.meta.previous_recommendations[0]
    ws.meta.previous_recommendations[0] = dataclasses.replace(first, target="by 31 March 2027 (DOB 12/01/1941)")
    ws.save_meta()
    capsys.readouterr()
    again = tmp_path / "again"
    assert cli.main(["report", str(sample), "--final", "--to", "html", "--out", str(again)]) == 1
    err = capsys.readouterr().err
    assert "review.yaml, previous recommendation 1, target" in err and "1941" not in err
    assert not again.exists() or not any(again.iterdir())
