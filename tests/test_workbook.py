"""The offline audit workbook finishes a case: filled in (in Excel or LibreOffice), imported back.

A reviewer rates their questions on the Ratings sheet (question titles beside the ids), marks
the case complete or referred back on the Cases sheet, and the host's import sets the case
flags. The LibreOffice round trip runs the real ``soffice`` when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from reviewkit.core.errors import ImportFileError
from reviewkit.intake.io import import_files
from reviewkit.intake.workbook import write_workbook
from reviewkit.review.progress import completeness
from reviewkit.review.readiness import readiness
from reviewkit.review.workspace import Workspace


def _fill(path: Path, tool_ids: list[str]) -> None:
    """As A. Visitor would: C02 rated in full and complete; C01 (moderation) started and referred back."""
    wb = openpyxl.load_workbook(path)
    ratings = wb["Ratings"]
    header = [c.value for c in ratings[1]]
    col = {name: header.index(name) for name in header}
    for row in ratings.iter_rows(min_row=2):
        case, question = row[col["case_id"]].value, row[col["question"]].value
        if case == "C02":
            low = question == "q4"
            row[col["rating"]].value = "Requires Improvement" if low else "Good"
            row[col["comment"]].value = None if low else f"Evidence for {question}."
        elif case == "C01" and question in ("q1", "overall"):
            row[col["rating"]].value = "Inadequate"
            row[col["comment"]].value = "No safety plan after a disclosure."
    cases = wb["Cases"]
    header = [c.value for c in cases[1]]
    col = {name: header.index(name) for name in header}
    for row in cases.iter_rows(min_row=2):
        if row[col["case_id"]].value == "C02":
            row[col["complete"]].value = "yes"
            row[col["referred_back"]].value = "no"
        elif row[col["case_id"]].value == "C01":
            row[col["referred_back"]].value = "yes"
            row[col["reason"]].value = "Safeguarding concern not followed up."
    wb.save(path)


def _flags(ws: Workspace) -> dict[str, tuple[bool, bool, str]]:
    with ws.store() as store:
        return {r.case_id: (bool(r.complete), bool(r.referred_back), r.reason)
                for r in store.case_flags().itertuples(index=False) if r.reviewer == "A. Visitor"}


def _check_imported(ws: Workspace, source: Path) -> None:
    result = import_files(ws, [source], actor="H. Host")
    assert result["ratings"].added == 15 and result["flags"].added == 2
    assert _flags(ws) == {"C02": (True, False, ""), "C01": (False, True, "Safeguarding concern not followed up.")}
    [warning] = result.warnings  # C02 q4: Requires Improvement, no evidence note
    assert warning.column == "comment" and "C02 q4 is rated Requires Improvement" in warning.message
    assert "sheet 'Ratings'" in warning.file
    with ws.store() as store:
        table = completeness(ws, store).set_index(["reviewer", "case_id"])
    c02 = table.loc[("A. Visitor", "C02")]
    assert c02["marked_complete"] and not c02["complete"]  # marked, but the evidence note is still owed
    gaps = {(g.kind, g.case_id) for g in readiness(ws) if "A. Visitor" in g.where}
    assert gaps == {("evidence", "C02"), ("missing_questions", "C01"), ("not_complete", "C01")}
    again = import_files(ws, [source], actor="H. Host")
    assert again["flags"].unchanged == 2 and again["ratings"].unchanged == 15


def test_workbook_has_a_cases_sheet_titles_and_the_evidence_rule(ws: Workspace, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx"))
    cases = wb["Cases"]
    rows = [[c.value for c in row] for row in cases.iter_rows()]
    assert rows == [["case_id", "reviewer", "complete", "referred_back", "reason", "concern", "concern_raised_on",
                     "concern_raised_with"],
                    ["C01", "A. Visitor", *[None] * 6], ["C02", "A. Visitor", *[None] * 6]]
    assert cases.protection.sheet and cases["A2"].protection.locked and not cases["C2"].protection.locked
    assert not cases["F2"].protection.locked and not cases["H3"].protection.locked
    dv, day = cases.data_validations.dataValidation
    assert dv.formula1 == '"yes,no"' and str(dv.sqref) == "C2:D3"
    assert day.type == "date" and str(day.sqref) == "G2:G3"
    ratings = wb["Ratings"]
    assert ratings["D1"].value == "question_title" and ratings["D2"].value == ws.tool.question("q1").title
    text = " ".join(str(c.value) for row in wb["Instructions"].iter_rows() for c in row if c.value)
    assert "A rating of Requires Improvement or Inadequate" in text and "needs an evidence note" in text
    assert "choose yes in 'complete'" in text and "'referred_back'" in text


def test_untouched_workbook_imports_nothing(ws: Workspace, tmp_path: Path) -> None:
    out = write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
    result = import_files(ws, [out], actor="H. Host")
    assert (result["ratings"].added, result["flags"].added) == (0, 0) and result.warnings == []
    assert _flags(ws) == {}


def test_filled_workbook_sets_the_case_flags(ws: Workspace, tmp_path: Path) -> None:
    out = write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
    _fill(out, ws.tool.all_ids)
    _check_imported(ws, out)


def test_referred_back_without_a_reason_is_refused_by_row(ws: Workspace, tmp_path: Path) -> None:
    out = write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(out)
    wb["Cases"]["D3"] = "yes"
    wb.save(out)
    with pytest.raises(ImportFileError) as info:
        import_files(ws, [out], actor="H. Host")
    [problem] = info.value.problems
    assert (problem.row, problem.column) == (3, "reason") and "sheet 'Cases'" in problem.file
    assert _flags(ws) == {}


def test_workbook_round_trip_through_libreoffice(ws: Workspace, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
    _fill(out, ws.tool.all_ids)
    saved = tmp_path / "libreoffice"
    profile = tmp_path / "profile"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "xlsx", "--outdir", str(saved), str(out)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0 and (saved / "a.xlsx").is_file(), done.stderr[-1000:]
    assert (saved / "a.xlsx").read_bytes() != out.read_bytes()  # written by LibreOffice, not copied
    _check_imported(ws, saved / "a.xlsx")
