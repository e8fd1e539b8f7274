"""Every place text is published goes through the publish gate (issue: the page gate, items 1-3).

The paragraph below passed ``check`` and reached the HTML, PDF and Word of a final report
through the old, enumerating rules. Each test fails on that kit.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.core.errors import RegionalError, WarningTextError
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.review.workspace import CONFIRMED_FILE, open_workspace

PARAGRAPH = (r"We spoke with Mrs Ní Bhriain (NHS 943\-476\-5919, born 14-Mar-1942) at 14 Church St, SW1A-1AA;"
             "\n" r"email jane.doe\@eastvale.gov.uk; record MOS-00123; phone 0 7 7 0 0 9 0 0 1 2 3." "\n")
# What a reader would read of it: none may appear in any output.
READ = ["Bhriain", "943-476-5919", "5919", "14-Mar-1942", "Church St", "SW1A-1AA", "jane.doe", "MOS-00123",
        "0 7 7 0 0 9"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gate")
    return build_sample_workspace(root / "eastvale").path


@pytest.fixture
def sample(built: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "eastvale"
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


def _plant(ws: Path, text: str = PARAGRAPH, name: str = "observations.md") -> None:
    f = ws / "narrative" / name
    f.write_text(f.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


def test_check_lists_every_shape_of_the_paragraph_by_line_and_never_its_values(sample, capsys):
    _plant(sample)
    lines = (sample / "narrative" / "observations.md").read_text(encoding="utf-8").count("\n")
    assert main(["check", str(sample)]) == 1
    out = capsys.readouterr().out
    where = f"narrative/observations.md, lines {lines - 1}-{lines}, text: "
    for what in ("a title and a name", "a run of six or more digits", "a full date old enough to be a date of birth",
                 "a house number and street", "a postcode", "an email address",
                 "a reference mixing letters and digits"):
        assert f"{where}{what} as printed" in out
    assert not [r for r in READ if r in out]


@pytest.mark.slow
def test_a_final_report_refuses_naming_file_and_place_and_writes_nothing(sample, tmp_path, capsys):
    _plant(sample)
    out = tmp_path / "out"
    assert main(["report", str(sample), "--final", "--to", "html", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "narrative/observations.md, line" in err and "a title and a name" in err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_a_withheld_draft_prints_none_of_it_in_any_format(sample, tmp_path):
    _plant(sample)
    out = tmp_path / "out"
    assert main(["report", str(sample), "--withhold-identifiers", "--to", "html,docx", "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(out / "report.docx") as z:
        word = z.read("word/document.xml").decode("utf-8")
    for text in (html, word):
        assert "Withheld from this draft" in text
        assert not [r for r in READ if r in text]


@pytest.mark.slow
def test_the_finished_files_are_screened_again_before_anything_is_published(sample, tmp_path, capsys):
    # A notebook that prints a name no source holds: only the finished files show it.
    nb = json.loads((Path(__file__).parent.parent / "notebooks" / "review_report.ipynb").read_text(encoding="utf-8"))
    nb["cells"].append({"id": "rk-gate-test", "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": "from IPython.display import HTML\nHTML('<p>We thank Mrs Quokkafeather.</p>')"})
    custom = tmp_path / "custom.ipynb"
    custom.write_text(json.dumps(nb), encoding="utf-8")
    out = tmp_path / "out"
    from reviewkit.core.errors import RenderError
    from reviewkit.report.render import render_report

    with pytest.raises(RenderError) as raised:
        render_report(sample, out, ("html", "docx"), final=True, notebook=custom)
    err = str(raised.value)
    assert "report.html: a title and a name" in err and "report.docx: a title and a name" in err
    assert "Quokkafeather" not in err
    assert not (out / "report.html").exists()


def test_a_possible_name_is_listed_then_confirmed_once_and_kept(sample, capsys):
    _plant(sample, "The Brightwater hub helped.\n")
    ws = open_workspace(sample)
    assert main(["check", str(sample), "--show-words"]) == 1
    out = capsys.readouterr().out
    assert "  Brightwater" in out and "a possible name" in out
    assert main(["confirm", str(sample), "Brightwater"]) == 0
    assert (sample / CONFIRMED_FILE).stat().st_mode & 0o777 == 0o600
    assert ws.confirmed_words() == ["Brightwater"]
    assert main(["check", str(sample)]) == 0


def test_a_number_or_an_email_cannot_be_confirmed(sample, capsys):
    assert main(["confirm", str(sample), "943 476 5919"]) == 1
    assert main(["confirm", str(sample), "jane@x.org"]) == 1
    assert not (sample / CONFIRMED_FILE).exists()


def test_a_glossary_in_review_yaml_declares_places_and_teams(sample, capsys):
    _plant(sample, "The Brightwater hub helped.\n")
    review = sample / "review.yaml"
    review.write_text(review.read_text(encoding="utf-8") + "glossary:\n  - Brightwater Hub\n", encoding="utf-8")
    assert main(["check", str(sample)]) == 0


def test_a_regional_bundle_refuses_a_recommendation_heading_holding_a_shape(sample, tmp_path, capsys):
    recs = sample / "narrative" / "recommendations.md"
    text = recs.read_text(encoding="utf-8")
    first = next(line for line in text.splitlines() if line.startswith("1. "))
    recs.write_text(text.replace(first, first.replace("1. ", "1. Ask Mrs Ó Súilleabháin: ", 1)), encoding="utf-8")
    out = tmp_path / "bundle.zip"
    assert main(["export", str(sample), "--for-region", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "heading of recommendation 1" in err and "Súilleabháin" not in err
    assert not out.exists()


def test_compare_refuses_a_hand_edited_bundle_holding_a_shape(sample, tmp_path, capsys):
    good = tmp_path / "good.zip"
    assert main(["export", str(sample), "--for-region", "--out", str(good)]) == 0
    import dataclasses

    from reviewkit.review.bundle import bundle_bytes
    from reviewkit.review.bundleread import read_bundle

    edited = dataclasses.replace(read_bundle(good), raw=None, recommendations=("Ring 0 7 7 0 0 9 0 0 1 2 3 first",))
    with pytest.raises(RegionalError) as raised:
        read_bundle(bundle_bytes(edited), "bad.zip")
    assert "recommendations.csv" in str(raised.value) and "run of six or more digits" in str(raised.value)
    assert "0 7 7" not in str(raised.value)


def test_an_action_plan_refuses_a_recommendation_and_previous_refuses_a_plan_cell(sample, tmp_path, capsys):
    plan = tmp_path / "plan.xlsx"
    assert main(["action-plan", str(sample), "--out", str(plan)]) == 0
    import openpyxl

    wb = openpyxl.load_workbook(plan)
    sheet = wb.worksheets[0]
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "Number")
    update_col = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(header, c).value == "Update")
    sheet.cell(header + 1, update_col).value = "Met Ms jones at 14 acacia avenue"
    wb.save(plan)
    assert main(["previous", str(sample), str(plan)]) == 1
    err = capsys.readouterr().err
    assert "row" in err and "'Update'" in err and "acacia" not in err and "jones" not in err

    _plant(sample, "1. Ask Mr van der Berg to lead the work.\n", "recommendations.md")
    assert main(["action-plan", str(sample), "--out", str(tmp_path / "plan2.xlsx")]) == 1
    assert "van der Berg" not in capsys.readouterr().err
    assert not (tmp_path / "plan2.xlsx").exists()


def test_the_store_warns_on_a_shape_in_text_marked_for_the_report(sample):
    ws = open_workspace(sample)
    with ws.store() as s:
        mid = int(s.meetings()["id"].iloc[0])
        with pytest.raises(WarningTextError, match="marked for the report"):
            s.add_note("Helen Marchbank", "Ring 0 7 7 0 0 9 0 0 1 2 3.", meeting_id=mid, kind="quote",
                       use_in_report=True)
        nid = s.add_note("Helen Marchbank", "Ring 0 7 7 0 0 9 0 0 1 2 3.", meeting_id=mid, kind="quote")
        with pytest.raises(WarningTextError, match="marked for the report"):
            s.update_note("Helen Marchbank", nid, use_in_report=True)
