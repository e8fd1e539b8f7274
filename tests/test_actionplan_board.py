"""The action plan as a quality board runs it: saved by LibreOffice, printed, and read back, old plans too."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest

from reviewkit import cli
from reviewkit.intake.actionplan import (
    COLUMNS,
    COLUMNS_V1,
    ActionPlan,
    PlanAction,
    action_plan,
    read_plan,
    write_plan,
)
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.review.workspace import open_workspace

DATA = Path(__file__).resolve().parent / "data"

pytestmark = pytest.mark.slow  # LibreOffice saves and prints the plans


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_workspace(tmp_path_factory.mktemp("board") / "eastvale").path


def _soffice(args: list[str], profile: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is installed by scripts/setup.sh"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", *args],
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-1000:]


def _pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF, in order (poppler's pdftotext)."""
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout.split("\f")[:-1] if done.stdout.endswith("\f") else done.stdout.split("\f")


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (xMin, yMin, xMax, yMax, word), from pdftotext -bbox."""
    done = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=True)
    pages: list[list[tuple[float, float, float, float, str]]] = []
    for chunk in done.stdout.split("<page ")[1:]:
        words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
                           chunk)
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in words])
    return pages


def _overlaps(words: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    """Pairs of words printed over each other (boxes sharing more than a third of the smaller one)."""
    out = []
    for i, (ax0, ay0, ax1, ay1, aw) in enumerate(words):
        for bx0, by0, bx1, by1, bw in words[i + 1:]:
            w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
            if w > 0 and h > 0:
                smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
                if w * h > smaller / 3:
                    out.append((aw, bw))
    return out


def _fill(path: Path, actions_each: int = 2) -> None:
    """Fill every action row and the recommendation rows as a quality board would, in Excel."""
    wb = openpyxl.load_workbook(path)
    sheet = wb["Action plan"]
    col = {c: i + 1 for i, c in enumerate(COLUMNS)}
    header = next(r for r in range(1, 20) if sheet.cell(r, 1).value == "Number")
    for r in range(header + 1, sheet.max_row + 1):
        number = str(sheet.cell(r, 1).value)
        if "." in number:
            sheet.cell(r, col["Recommendation or action"]).value = (
                f"Action {number}: agree the approach with team managers, brief every team, and check the change "
                "in the next monthly audit of case records")
            sheet.cell(r, col["Owner"]).value = "Head of Adult Social Care"
            sheet.cell(r, col["By when"]).value = dt.datetime(2027, 3, 31)
            sheet.cell(r, col["Status"]).value = "Done" if number.endswith(".1") else "In progress"
        elif number.isdigit():
            sheet.cell(r, col["Target"]).value = "Seen on 90% of audited records"
            sheet.cell(r, col["RAG"]).value = ("Red", "Amber", "Green")[int(number) % 3]
            sheet.cell(r, col["Last updated"]).value = dt.datetime(2027, 2, 1)
            sheet.cell(r, col["Update"]).value = ("Briefings held in four of six teams; the audit in January "
                                                  "showed oversight recorded on more records than in the review.")
    wb.save(path)


def test_the_new_columns_survive_libreoffice_and_previous_reads_them(sample: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.xlsx"
    assert cli.main(["action-plan", str(sample), "--out", str(plan)]) == 0
    _fill(plan)
    _soffice(["--convert-to", "xlsx", "--outdir", str(tmp_path / "saved"), str(plan)], tmp_path / "profile")
    saved = tmp_path / "saved" / "plan.xlsx"
    assert saved.read_bytes() != plan.read_bytes()  # written by LibreOffice, not copied
    before, after = read_plan(plan), read_plan(saved)
    assert after == before
    third = after.rows[2]
    assert third.statement == "QS7 Safeguarding; QS8 Governance, management and sustainability"
    assert third.start.startswith("Q11 Management oversight: ") and third.rag == "Red"
    assert third.last_updated == "2027-02-01" and third.measure == "Seen on 90% of audited records"
    assert [(a.number, a.owner, a.by_when, a.status) for a in third.actions] == [
        ("3.1", "Head of Adult Social Care", "2027-03-31", "Done"),
        ("3.2", "Head of Adult Social Care", "2027-03-31", "In progress")]
    # Into an existing workspace with `reviewkit previous`, as the next review starts.
    nxt = tmp_path / "eastvale-2030"
    assert cli.main(["new", str(nxt), "--council", "Eastvale Borough Council", "--theme", "Practice"]) == 0
    assert cli.main(["previous", str(nxt), str(saved)]) == 0
    recs = open_workspace(nxt).meta.previous_recommendations
    assert len(recs) == 7
    assert (recs[2].start, recs[2].target, recs[2].rag) == (third.start, third.measure, "Red")
    assert recs[2].status == "In progress"  # left blank on the recommendation: what its actions add up to
    assert "Q11 Management oversight" in (nxt / "review.yaml").read_text(encoding="utf-8")


def _filled(plan: ActionPlan) -> ActionPlan:
    """The plan as a quality board keeps it: two actions each, a target, a RAG rating and an update."""
    action = ("agree the approach with team managers, brief every team, and check the change in the next monthly "
              "audit of case records")
    return dataclasses.replace(plan, rows=tuple(dataclasses.replace(
        r, measure="Seen on 90% of audited records", rag=("Red", "Amber", "Green")[r.number % 3],
        last_updated="2027-02-01", update="Briefings held in four of six teams; the audit in January showed "
                                          "oversight recorded on more records than in the review.",
        actions=tuple(PlanAction(f"{r.number}.{i}", f"Action {r.number}.{i}: {action}", "Head of Adult Social Care",
                                 "2027-03-31", "Done" if i == 1 else "In progress") for i in (1, 2)))
        for r in plan.rows))


def test_the_workbook_prints_landscape_one_page_wide_with_its_header_on_every_page(
        sample: Path, tmp_path: Path) -> None:
    plan = write_plan(_filled(action_plan(open_workspace(sample))), tmp_path / "plan.xlsx")
    sheet = openpyxl.load_workbook(plan)["Action plan"]
    setup = sheet.page_setup
    assert (setup.orientation, int(setup.paperSize), setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$4:$4"
    _soffice(["--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(plan)], tmp_path / "profile")
    pages = _pages(tmp_path / "pdf" / "plan.pdf")
    plan_pages = [p for p in pages if "Recommendation or action" in p]
    assert len(plan_pages) >= 2, "filled in, the sample's plan runs to more than one page down"
    # One page wide: every page of the plan holds the first and the last column, under their repeated headings.
    for text in plan_pages:
        heading = next(line for line in text.splitlines() if "Recommendation or action" in line)
        assert heading.lstrip().startswith("Number") and heading.rstrip().endswith("Update")
    # Every action, target and update printed, none lost off the right-hand edge, and no row's wrapped
    # text printed over the next row's (the fault of a row set too short for its text).
    words = _words(tmp_path / "pdf" / "plan.pdf")
    plan_words = [page for page in words if any(w[4] == "Recommendation" for w in page)]
    assert len(plan_words) == len(plan_pages)
    for page in plan_words:
        assert _overlaps(page) == []
    printed = [w[4] for page in plan_words for w in page]
    assert all(f"{n}.{i}:" in printed for n in range(1, 8) for i in (1, 2))
    assert printed.count("review.") == 7 and printed.count("records") >= 7 + 14
    last_words = {r.recommendation.split()[-1] for r in action_plan(open_workspace(sample)).rows}
    assert all(word in printed for word in last_words)  # each recommendation's last line printed


def test_the_word_plan_prints_landscape_with_its_header_row_on_every_page(sample: Path, tmp_path: Path) -> None:
    plan = write_plan(action_plan(open_workspace(sample)), tmp_path / "plan.docx")
    _soffice(["--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(plan)], tmp_path / "profile")
    pages = _pages(tmp_path / "pdf" / "plan.pdf")
    assert len(pages) >= 2
    assert all("Recommendation or action" in p and "Last" in p for p in pages)
    done = subprocess.run(["pdfinfo", str(tmp_path / "pdf" / "plan.pdf")], capture_output=True, text=True, check=True)
    size = next(line for line in done.stdout.splitlines() if line.startswith("Page size"))
    width, height = (float(v) for v in size.split(":")[1].split("pts")[0].split(" x "))
    assert width > height  # landscape


def test_a_workbook_plan_of_reviewkit_0_1_0_still_imports(tmp_path: Path) -> None:
    old = DATA / "action-plan-0.1.0.xlsx"
    sheet = openpyxl.load_workbook(old)["Action plan"]
    assert tuple(c.value for c in sheet[4]) == COLUMNS_V1  # the old layout, as councils kept it
    plan = read_plan(old)
    assert (plan.council, plan.round, len(plan.rows)) == ("Eastvale Borough Council", "2022-06", 8)
    assert all(r.owner and r.by_when and r.measure and r.update and not r.actions for r in plan.rows)
    nxt = tmp_path / "next"
    assert cli.main(["new", str(nxt), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--previous", str(old)]) == 0
    recs = open_workspace(nxt).meta.previous_recommendations
    assert [(r.text, r.update, r.status) for r in recs] == [(r.recommendation, r.update, r.status) for r in plan.rows]
    assert all(r.start == "" and r.target == r2.measure for r, r2 in zip(recs, plan.rows))


def test_a_word_plan_of_reviewkit_0_1_0_still_imports(tmp_path: Path) -> None:
    old = tmp_path / "old.docx"
    shutil.copyfile(DATA / "action-plan-0.1.0.docx", old)
    document = docx.Document(str(old))
    table = document.tables[0]
    assert tuple(c.text for c in table.rows[0].cells) == COLUMNS_V1
    cells = table.rows[2].cells
    for column, value in (("Owner", "Principal Social Worker"), ("By when", "30 June 2027"), ("Status", "done"),
                          ("Update", "A shorter form is live.")):
        cells[COLUMNS_V1.index(column)].text = value
    document.save(str(old))
    plan = read_plan(old)
    assert (plan.council, plan.round, len(plan.rows)) == ("Eastvale Borough Council", "2026-10", 7)
    second = plan.rows[1]
    assert (second.owner, second.by_when, second.status, second.update) == (
        "Principal Social Worker", "2027-06-30", "Done", "A shorter form is live.")


def test_an_action_under_no_recommendation_is_refused_by_row(sample: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(action_plan(open_workspace(sample)), tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(plan)
    sheet = wb["Action plan"]
    sheet.append(["9.1", "An action under a recommendation the plan does not have"])
    sheet.append(["7.3", "", "", "", "", "", "Head of Service"])
    wb.save(plan)
    code = cli.main(["new", str(tmp_path / "next"), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--previous", str(plan)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "actions numbered 9.… have no recommendation 9" in err
    assert f"row {sheet.max_row}, column 'Recommendation or action': say what the action is" in err
    assert not (tmp_path / "next").exists()
