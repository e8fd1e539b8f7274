"""The action plan round trip: write it, fill it in as a council would, start the next review from it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from reviewkit import cli
from reviewkit.core.errors import ImportFileError, WorkspaceError
from reviewkit.intake.actionplan import COLUMNS, action_plan, load_previous, read_plan, recommendation_texts, write_plan
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report import findings
from reviewkit.report.sections import ReportBuilder
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.files import PREVIOUS_ROUND_FILE
from reviewkit.review.reviewyaml import STATUSES
from reviewkit.review.workspace import open_workspace

CANARY_NHS = "999 000 0018"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_workspace(tmp_path_factory.mktemp("plan") / "eastvale").path


def _rows(path: Path) -> tuple[openpyxl.Workbook, object, int]:
    wb = openpyxl.load_workbook(path)
    sheet = wb["Action plan"]
    header = next(i for i, r in enumerate(sheet.iter_rows(values_only=True), 1) if r[0] == "Number")
    return wb, sheet, header


def _row_of(sheet: object, header: int, number: object) -> int:
    """The sheet row holding recommendation or action ``number`` (1, 3, "1.1")."""
    return next(r for r in range(header + 1, sheet.max_row + 1) if str(sheet.cell(r, 1).value) == str(number))


def _primary_share(sample: Path, question: str) -> tuple[int, int]:
    """(Outstanding or Good, rated) on one question from the store, by each case's primary reviewer."""
    ws = open_workspace(sample)
    with ws.store() as store:
        ratings = store.ratings()
    primary = {(c.id, c.reviewer) for c in ws.meta.cases}
    rows = [r for r in ratings.to_dict("records")
            if (r["case_id"], r["reviewer"]) in primary and r["question"] == question]
    rated = [r for r in rows if r["rating"] != "Not applicable"]
    return sum(r["rating"] in ("Outstanding", "Good") for r in rated), len(rated)


def test_a_row_per_recommendation_and_its_actions_with_links_and_validation(sample: Path, tmp_path: Path) -> None:
    assert cli.main(["action-plan", str(sample), "--out", str(tmp_path / "plan.xlsx")]) == 0
    recs = recommendation_texts((sample / "narrative" / "recommendations.md").read_text(encoding="utf-8"))
    assert len(recs) == 7
    wb, sheet, header = _rows(tmp_path / "plan.xlsx")
    rows = list(sheet.iter_rows(min_row=header, values_only=True))
    assert list(rows[0]) == list(COLUMNS)
    numbers = [r[0] for r in rows[1:]]
    assert numbers == [x for n in range(1, 8) for x in (n, f"{n}.1", f"{n}.2")]
    by_number = {r[0]: r for r in rows[1:]}
    assert [by_number[n][1] for n in range(1, 8)] == recs
    assert all(v is None for r in rows[1:] if isinstance(r[0], str) for v in r[1:])  # actions to fill in
    # What each recommendation answers, as the narrative links it ("(Recommendation 3)").
    third = dict(zip(COLUMNS, by_number[3]))
    # Two findings name it: the safeguarding one and the governance one, each once, as full sentences.
    assert third["Finding it answers"].startswith("In one record a serious risk of fire")
    assert third["Finding it answers"].endswith(" Management oversight is rarely recorded on the case record, and "
                                                "sign-off is often done in batches.")
    assert ".;" not in third["Finding it answers"]
    assert third["Quality statement"] == "QS7 Safeguarding; QS8 Governance, management and sustainability"
    good, rated = _primary_share(sample, "q11")
    assert third["Starting figure"] == (f"Q11 Management oversight: {round(100 * good / rated)}% Outstanding or Good "
                                        f"({good} of {rated} case records)")
    assert dict(zip(COLUMNS, by_number[7]))["Starting figure"].startswith("Q5 Community assets and prevention: ")
    assert dict(zip(COLUMNS, by_number[4]))["Starting figure"] is None  # names no question: nothing guessed
    assert all(dict(zip(COLUMNS, by_number[n]))[c] is None for n in range(1, 8)
               for c in ("Target", "Owner", "By when", "Status", "RAG", "Last updated", "Update"))
    first, last = header + 1, header + len(rows) - 1
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    assert rules[f"G{first}:G{last}"].type == "textLength"
    assert rules[f"H{first}:H{last}"].type == "date" and rules[f"K{first}:K{last}"].type == "date"
    status = rules[f"I{first}:I{last}"]
    assert status.type == "list" and status.formula1 == '"' + ",".join(STATUSES) + '"'
    assert rules[f"J{first}:J{last}"].formula1 == '"Red,Amber,Green"'
    assert all(dv.showErrorMessage for dv in rules.values())


def test_the_plan_as_word_is_a_table_with_a_caption(sample: Path, tmp_path: Path) -> None:
    out = write_plan(action_plan(open_workspace(sample)), tmp_path / "plan.docx")
    document = docx.Document(str(out))
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(COLUMNS)
    assert len(table.rows) == 1 + 7 * 3 and [r.cells[0].text for r in table.rows[1:4]] == ["1", "1.1", "1.2"]
    # Room to write in every column: landscape, set widths filling the page, header repeated,
    # rows kept whole (left to Word, the empty columns shrink to their headings).
    section = document.sections[0]
    assert section.page_width > section.page_height
    grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    usable = (section.page_width - section.left_margin - section.right_margin) / 635
    assert len(grid) == len(COLUMNS) and sum(grid) == pytest.approx(usable, rel=0.01)
    assert min(grid) > usable / 30 and min(grid[6:9]) > usable / 25  # owner, by when, status: room to write
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)


def _fill(path: Path) -> None:
    """Edit actions, owners, dates, statuses, RAG and updates as a host would, in Excel."""
    wb, sheet, header = _rows(path)
    col = {c: i + 1 for i, c in enumerate(COLUMNS)}
    edits = {1: {"Target": "Refresher training for every team.", "RAG": "green",
                 "Last updated": dt.datetime(2027, 2, 1), "Update": "Training booked for all teams; two sessions held."},
             "1.1": {"Recommendation or action": "Book refresher training", "Owner": "Head of Adult Social Care",
                     "By when": dt.datetime(2027, 3, 31), "Status": "In progress"},
             3: {"Owner": "Service managers", "By when": "30/06/2027", "Target": "Oversight recorded on 90% of "
                 "audited records.", "Status": "done", "Update": "Oversight case note now mandatory at each review."}}
    for number, values in edits.items():
        r = _row_of(sheet, header, number)
        for column, value in values.items():
            sheet.cell(r, col[column]).value = value
    wb.save(path)


def test_round_trip_write_edit_new_previous_and_section_2_shows_the_updates(sample: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.xlsx"
    assert cli.main(["action-plan", str(sample), "--out", str(plan)]) == 0
    _fill(plan)
    read = read_plan(plan)
    assert (read.council, read.round) == ("Eastvale Borough Council", "2026-10")
    assert read.rows[0].actions[0].by_when == "2027-03-31" and read.rows[2].by_when == "2027-06-30"
    assert read.rows[2].status == "Done"  # typed in lower case, stored as the list spells it
    assert (read.rows[0].rag, read.rows[0].last_updated, read.rows[0].status) == ("Green", "2027-02-01", "")
    nxt = tmp_path / "eastvale-2030"
    code = cli.main(["new", str(nxt), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--reviewer", "A. Visitor", "--previous", str(plan), "--previous", str(sample)])
    assert code == 0
    ws = open_workspace(nxt)
    assert ws.meta.previous_date == "2026-10"
    recs = ws.meta.previous_recommendations
    assert [r.text for r in recs] == [r.recommendation for r in read.rows]
    assert (recs[0].update, recs[0].status) == ("Training booked for all teams; two sessions held.", "In progress")
    assert (recs[1].update, recs[1].status) == ("", "")
    assert read_bundle(nxt / PREVIOUS_ROUND_FILE).round == "2026-10"
    built = ReportBuilder.load(nxt)
    section = built.previous_review() + built.previous_appendix()  # each recommendation in full: Appendix C
    assert "undertaken in October 2026 and made 7 recommendations" in section
    first = re.search(r'<li id="previous-1">(.*?)</li>', section, flags=re.S).group(1)
    assert "Training booked for all teams; two sessions held." in first and "(status: in progress)" in first
    third = re.search(r'<li id="previous-3">(.*?)</li>', section, flags=re.S).group(1)
    assert "(status: done)" in third
    second = re.search(r'<li id="previous-2">(.*?)</li>', section, flags=re.S).group(1)
    assert "none provided" in second
    # The owner and measure stay in the council's plan; the report shows the update and status.
    assert "Head of Adult Social Care" not in section


def test_a_bad_plan_names_row_and_column_never_the_value_and_creates_nothing(
        sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.xlsx"
    write_plan(action_plan(open_workspace(sample)), plan)
    wb, sheet, header = _rows(plan)
    sheet[f"I{header + 2}"] = "Nearly there"
    sheet[f"H{header + 3}"] = "next spring"
    sheet[f"L{header + 4}"] = f"Discussed with the person, NHS number {CANARY_NHS}"
    wb.save(plan)
    code = cli.main(["new", str(tmp_path / "next"), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--previous", str(plan)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"row {header + 2}, column 'Status': expected one of Not started, In progress" in err
    assert f"row {header + 3}, column 'By when': expected a date" in err
    assert f"row {header + 4}, column 'Update': holds what looks like a personal identifier (NHS number" in err
    assert CANARY_NHS not in err and "Nearly there" not in err and "next spring" not in err
    assert not (tmp_path / "next").exists()


def test_previous_from_a_bundle_gives_figures_and_recommendation_headings(tmp_path: Path) -> None:
    bundle = Path(__file__).resolve().parent.parent / "sample_data" / "region" / "bundles" / "eastvale-borough-2022-06.zip"
    prev = load_previous([bundle])
    assert prev.date == "2022-06" and len(prev.recommendations) == 8
    assert prev.figures == bundle.read_bytes()
    with pytest.raises(WorkspaceError, match="action plan"):
        load_previous([tmp_path / "notes.txt"])
    with pytest.raises(WorkspaceError, match="once"):
        load_previous([bundle, bundle])


def test_a_workbook_that_is_not_a_plan_is_refused(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(ImportFileError, match="no sheet named 'Action plan'"):
        read_plan(tmp_path / "other.xlsx")


def test_no_recommendations_yet_says_what_to_write(sample: Path, tmp_path: Path) -> None:
    ws = shutil.copytree(sample, tmp_path / "ws", ignore=shutil.ignore_patterns(".cache"))
    (ws / "narrative" / "recommendations.md").write_text("<!-- stub -->\n", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="no recommendations yet"):
        action_plan(open_workspace(ws))


def test_previous_on_an_existing_workspace_records_the_plan_and_the_figures(sample: Path, tmp_path: Path) -> None:
    from tests.helpers import make_workspace

    plan = tmp_path / "plan.xlsx"
    write_plan(action_plan(open_workspace(sample)), plan)
    _fill(plan)
    ws = make_workspace(tmp_path / "ws")
    ws.meta.council = "Eastvale Borough Council"
    ws.save_meta()
    bundle = Path(__file__).resolve().parent.parent / "sample_data" / "region" / "bundles" / "eastvale-borough-2022-06.zip"
    assert cli.main(["previous", str(ws.path), str(plan), str(bundle)]) == 0
    meta = open_workspace(ws.path).meta
    assert meta.previous_date == "2026-10" and len(meta.previous_recommendations) == 7
    assert meta.previous_recommendations[2].status == "Done"
    assert (ws.path / PREVIOUS_ROUND_FILE).read_bytes() == bundle.read_bytes()
    assert 'id="previous-round"' in findings.trend(ReportBuilder.load(ws.path))


def test_the_samples_previous_review_comes_from_its_action_plan(sample: Path, tmp_path: Path) -> None:
    from reviewkit.intake.sample import SAMPLE_DIR

    plan = read_plan(SAMPLE_DIR / "previous_action_plan.xlsx")
    meta = open_workspace(sample).meta
    assert plan.round == meta.previous_date == "2022-06"
    assert [(r.recommendation, r.update, r.status) for r in plan.rows] == [
        (" ".join(r.text.split()), " ".join(r.update.split()), r.status) for r in meta.previous_recommendations]
    assert all(r.owner and r.by_when and r.measure for r in plan.rows)
    # Starting the sample afresh from its plan and its previous round gives the same section 2.
    ws = tmp_path / "again"
    from reviewkit.intake.sample import previous_round_bundle

    bundle = previous_round_bundle()
    assert cli.main(["new", str(ws), "--council", meta.council, "--theme", meta.theme,
                     "--previous", str(SAMPLE_DIR / "previous_action_plan.xlsx"), "--previous", str(bundle)]) == 0
    again, original = ((b.previous_review() + b.previous_appendix())  # each in full: Appendix C
                       for b in (ReportBuilder.load(ws), ReportBuilder.load(sample)))
    figures = re.compile(r'<table class="start-and-now">.*?</table>', flags=re.S)
    assert figures.sub("", again) == figures.sub("", original)
    # The starting figure the plan kept, beside this round's (the new workspace has no ratings yet).
    good, rated = _primary_share(sample, "q11")
    # The table follows its recommendation's list item (a table inside a list loses its caption in Word).
    table = re.search(r'<li id="previous-4">.*?</li></ol>(<table class="start-and-now">.*?</table>)',
                      original, flags=re.S).group(1)
    assert re.findall(r'<th scope="col">([^<]*)</th>', table) == ["Starting figure (previous review)", "Target",
                                                                  "This review"]
    assert re.findall(r"<td>([^<]*)</td>", table) == [
        "Q11 Management oversight: 35% Outstanding or Good (7 of 20 case records)",
        "Management oversight recorded on 90% of audited records",
        f"Q11 Management oversight: {round(100 * good / rated)}% Outstanding or Good ({good} of {rated} case records)"]
    assert "no case record was rated on this question" in figures.search(again).group(0)
    assert len(figures.findall(original)) == 1  # only where the plan kept a starting figure


def test_a_previous_review_of_another_council_is_refused(sample: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    bundle = Path(__file__).resolve().parent.parent / "sample_data" / "region" / "bundles" / "greyhaven-borough-2023-02.zip"
    code = cli.main(["new", str(tmp_path / "next"), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--previous", str(bundle)])
    assert code == 1 and "it is about Greyhaven Borough Council, not Eastvale Borough Council" in capsys.readouterr().err
    assert not (tmp_path / "next").exists()


# -- the plan in Word: filled in there and read back with the same checks --------------------------

def _fill_word(path: Path, edits: dict[int, dict[str, str]]) -> None:
    """Type into the Word table's cells as a host would (row = the recommendation's number)."""
    document = docx.Document(str(path))
    table = document.tables[0]
    for number, values in edits.items():
        cells = next(r for r in table.rows if r.cells[0].text == str(number)).cells
        for column, value in values.items():
            cells[COLUMNS.index(column)].text = value
    document.save(str(path))


WORD_EDITS = {1: {"Owner": "Head of Adult Social Care", "By when": "31/03/2027", "Status": "In progress",
                  "Update": "Training booked for all teams; two sessions held."},
              3: {"Owner": "Service managers", "By when": "30 June 2027", "Status": "done",
                  "Target": "Oversight recorded on 90% of audited records.",
                  "Update": "Oversight case note now mandatory at each review."}}


def _check_word_plan(plan: Path) -> None:
    read = read_plan(plan)
    assert (read.council, read.round) == ("Eastvale Borough Council", "2026-10")
    assert len(read.rows) == 7
    first, third = read.rows[0], read.rows[2]
    assert (first.owner, first.by_when, first.status, first.update) == (
        "Head of Adult Social Care", "2027-03-31", "In progress", "Training booked for all teams; two sessions held.")
    assert (third.by_when, third.status, third.measure) == ("2027-06-30", "Done",
                                                            "Oversight recorded on 90% of audited records.")
    assert (read.rows[1].owner, read.rows[1].status, read.rows[1].update) == ("", "", "")


def test_a_word_plan_filled_in_is_read_back_into_the_next_review(sample: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.docx"
    assert cli.main(["action-plan", str(sample), "--out", str(plan)]) == 0
    assert "the next review reads this table back" in "\n".join(p.text for p in docx.Document(str(plan)).paragraphs)
    _fill_word(plan, WORD_EDITS)
    _check_word_plan(plan)
    nxt = tmp_path / "eastvale-2030"
    assert cli.main(["new", str(nxt), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--previous", str(plan)]) == 0
    meta = open_workspace(nxt).meta
    assert meta.previous_date == "2026-10"
    recs = meta.previous_recommendations
    assert [r.text for r in recs] == [r.recommendation for r in read_plan(plan).rows]
    assert (recs[0].update, recs[0].status) == ("Training booked for all teams; two sessions held.", "In progress")
    assert recs[2].status == "Done" and (recs[1].update, recs[1].status) == ("", "")


def test_a_word_plan_saved_by_an_office_suite_keeps_its_rows_and_council(sample: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is installed by scripts/setup.sh"
    plan = write_plan(action_plan(open_workspace(sample)), tmp_path / "plan.docx")
    _fill_word(plan, WORD_EDITS)
    saved, profile = tmp_path / "saved", tmp_path / "profile"
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "docx", "--outdir", str(saved), str(plan)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0 and (saved / "plan.docx").is_file(), done.stderr[-1000:]
    assert (saved / "plan.docx").read_bytes() != plan.read_bytes()  # written by LibreOffice, not copied
    _check_word_plan(saved / "plan.docx")


def test_a_bad_word_plan_names_row_and_column_never_the_value_and_creates_nothing(
        sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(action_plan(open_workspace(sample)), tmp_path / "plan.docx")
    _fill_word(plan, {1: {"Status": "Nearly there"}, 2: {"By when": "next spring"},
                      3: {"Update": f"Discussed with the person, NHS number {CANARY_NHS}"}})
    code = cli.main(["new", str(tmp_path / "next"), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--previous", str(plan)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "plan.docx (table), row 2, column 'Status': expected one of Not started, In progress" in err
    assert "plan.docx (table), row 5, column 'By when': expected a date" in err
    assert "plan.docx (table), row 8, column 'Update': holds what looks like a personal identifier" in err
    assert CANARY_NHS not in err and "Nearly there" not in err and "next spring" not in err
    assert not (tmp_path / "next").exists()


def test_a_word_plan_of_another_council_is_refused(sample: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    plan = write_plan(action_plan(open_workspace(sample)), tmp_path / "plan.docx")
    code = cli.main(["new", str(tmp_path / "next"), "--council", "Greyhaven Borough Council", "--theme", "Practice",
                     "--previous", str(plan)])
    assert code == 1 and "it is about Eastvale Borough Council, not Greyhaven Borough Council" in capsys.readouterr().err
    assert not (tmp_path / "next").exists()


def test_a_word_file_that_is_not_a_plan_is_refused_plainly(tmp_path: Path) -> None:
    other = docx.Document()
    other.add_paragraph("Minutes of the team meeting")
    other.add_table(rows=2, cols=2).rows[0].cells[0].text = "Item"
    other.save(str(tmp_path / "minutes.docx"))
    with pytest.raises(ImportFileError, match="no table with the columns 'Number' and 'Recommendation"):
        read_plan(tmp_path / "minutes.docx")
    (tmp_path / "renamed.docx").write_bytes(b"not a zip at all")
    with pytest.raises(ImportFileError, match=r"is not a readable Word document; open it in Word and save it again"):
        read_plan(tmp_path / "renamed.docx")
    with pytest.raises(ImportFileError, match="read from the .xlsx or .docx"):
        read_plan(tmp_path / "plan.pdf")


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_a_plan_made_to_exhaust_memory_or_read_other_files_is_refused_before_it_is_opened(
        sample: Path, tmp_path: Path, suffix: str) -> None:
    import zipfile

    from reviewkit.intake.tables import MAX_XLSX_BYTES

    plan = write_plan(action_plan(open_workspace(sample)), tmp_path / f"plan{suffix}")
    main = "xl/worksheets/sheet1.xml" if suffix == ".xlsx" else "word/document.xml"
    with zipfile.ZipFile(plan) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    # A DTD with an external entity, the way a file is made to read /etc/passwd.
    xxe = tmp_path / f"xxe{suffix}"
    with zipfile.ZipFile(xxe, "w") as z:
        for name, data in parts.items():
            if name == main:
                dtd = b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                data = data.replace(b"?>", b"?>" + dtd, 1) if data.startswith(b"<?xml") else dtd + data
            z.writestr(name, data)
    with pytest.raises(ImportFileError, match=f"part {main} declares a document type"):
        read_plan(xxe)
    # A member that inflates to more than a plan can need (written from zeros: a few kilobytes packed).
    bomb = tmp_path / f"bomb{suffix}"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        with z.open("padding.bin", "w", force_zip64=True) as f:
            block = b"\0" * 2**20
            for _ in range(MAX_XLSX_BYTES // 2**20 + 1):
                f.write(block)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(ImportFileError, match=r"unpacks to \d+ MB, more than the 64 MB"):
        read_plan(bomb)
