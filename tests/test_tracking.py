"""An in-house audit programme end to end: create it, import audits all or nothing, and render the
tracking report, which must flag the sample's truly improving question and truly worsening team and no
stable measure, write signals.csv, stay accessible, and refuse what the review report refuses."""

from __future__ import annotations

import csv
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from reviewkit.cli import main
from reviewkit.core.errors import ImportFileError, NotReadyError, ProgrammeError, RenderError
from reviewkit.figures.spc import COMMON, CONCERN, IMPROVEMENT
from reviewkit.inhouse import render as tr
from reviewkit.inhouse import sample as smp
from reviewkit.inhouse.importer import import_audits
from reviewkit.inhouse.programme import create_programme, open_programme
from reviewkit.inhouse.tracking import load_tracking

from .test_regional_render import _axe

TOOL_IDS = ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12", "overall"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return smp.build_sample_programme(tmp_path_factory.mktemp("inhouse") / "programme")


@pytest.fixture(scope="module")
def rendered(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("tracking")
    # final: every month has audits and a moderation sample, and the finished files pass the publish gate
    return tr.render_tracking(sample.path, out, ["html", "pdf", "docx"], by_team=True, final=True)


def _programme(tmp_path: Path, **kw):
    return create_programme(tmp_path / "p", council="Westfold Council", tool="strengths-based-practice",
                            teams=kw.get("teams", ["North Team", "South Team"]),
                            auditors=["A. Auditor", "B. Auditor"])


def _audit_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    header = ["audit_id", "month", "team", "auditor", "role", *TOOL_IDS, "themes", "feedback_from", "feedback"]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header, restval="")
        w.writeheader()
        w.writerows(rows)
    return path


def _row(audit_id: str, month: str = "2027-01", team: str = "North Team", auditor: str = "A. Auditor",
         rating: str = "Good", **extra: str) -> dict[str, str]:
    return {"audit_id": audit_id, "month": month, "team": team, "auditor": auditor, **{q: rating for q in TOOL_IDS},
            **extra}


# --------------------------------------------------------------------------- the sample's truth

def test_sample_flags_the_improving_question_and_worsening_team_and_no_stable_measure(sample):
    track = load_tracking(sample, by_team=True)
    council = {m.key: m.reading for m in [*track.council, *track.themes]}
    assert council[smp.IMPROVING] == IMPROVEMENT
    assert track.teams[smp.WORSENING][0].key == "overall"
    assert track.teams[smp.WORSENING][0].reading == CONCERN
    # Stable: every measure but the improving question (in any team) and the worsening team's overall
    # judgement; the council's overall judgement is left out too, as it holds the worsening team's records.
    stable = [m for m in track.all_measures()
              if m.key != smp.IMPROVING and not (m.key == "overall" and m.team in ("", smp.WORSENING))]
    assert len(stable) == (16 - 2) + (4 * 16 - 4 - 1)  # 13 tool measures and 3 themes, council and 4 teams
    flagged = [(m.team or "council", m.key, m.reading) for m in stable if m.reading != COMMON]
    assert flagged == []


@pytest.mark.slow
def test_signals_csv_says_which_rule_fired_on_which_measure_and_month(rendered, sample):
    with rendered["signals"].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) == {"measure", "team", "month", "rule", "direction"}
    last = smp.LAST_MONTH
    latest = {(r["measure"], r["team"], r["direction"]) for r in rows if r["month"] == last}
    assert ("q6", "", "improvement") in latest
    assert ("overall", smp.WORSENING, "concern") in latest
    assert {r["rule"] for r in rows} <= {"beyond-limit", "shift", "trend", "two-of-three"}
    # nothing fires in the baseline year on the improving question
    assert not [r for r in rows if r["measure"] == "q6" and r["team"] == "" and r["month"] <= "2026-06"]


@pytest.mark.slow
def test_report_states_the_year_and_reads_each_figure_by_the_rules(rendered):
    html = rendered["html"].read_text(encoding="utf-8")
    assert "The year’s figures" in html or "The year's figures" in html
    assert "scored as Good or better" in html and "were tagged with this theme" in html
    assert "Special cause: improvement (up)" in html and "Special cause: concern (down)" in html
    assert "Common-cause variation" in html
    # alt text names the rule that fired and its direction
    assert 'alt="p-chart of Q6 Strengths-based language: ' in html
    assert "a month beyond the process limits (" in html and "), improvement" in html
    assert "Action plan measures" in html and "Write every record in strengths-based language" in html
    words = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)  # the charts' pixels are not words
    for word in ("up from", "down from", "rose", "fell"):
        assert word not in words  # changes are stated only by the rules
    for auditor in smp.AUDITORS:
        assert auditor not in html  # auditors are never named
    assert "IA-0" not in html  # nor any audit reference
    assert "computed from the audits recorded in the programme" in html and "review team" not in html


@pytest.mark.slow
def test_final_pdf_and_word_have_every_section_and_no_draft_mark(rendered):
    reader = PdfReader(rendered["pdf"])
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    for heading in ("About this report", "The year", "Action plan measures", "Moderation and feedback",
                    "Practice themes", "By team", smp.WORSENING):
        assert heading in text
    assert "DRAFT" not in text
    assert rendered["docx"].stat().st_size > 0 and rendered["docx"].stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
@pytest.mark.browser
def test_tracking_report_has_no_axe_violations(rendered):
    assert _axe(rendered["html"]) == []


# --------------------------------------------------------------------------- import

def test_import_refuses_the_whole_file_and_names_file_row_and_column(tmp_path):
    p = _programme(tmp_path)
    good = _audit_csv(tmp_path / "good.csv", [_row("A-1")])
    bad = _audit_csv(tmp_path / "bad.csv", [
        _row("A-2"),
        _row("A-3", month="Smarch 2027"),
        _row("A-4", team="West Team"),
        _row("A-5", auditor="Z. Stranger"),
        {**_row("A-6"), "q3": "Brilliant"},
        _row("A-7", themes="nonsense"),
        _row("A-8", feedback="they said it helped"),
    ])
    with pytest.raises(ImportFileError) as info:
        import_audits(p, [good, bad])
    problems = [(pr.file, pr.row, pr.column) for pr in info.value.problems]
    assert problems == [(str(bad), 3, "month"), (str(bad), 4, "team"), (str(bad), 5, "auditor"),
                        (str(bad), 6, "q3"), (str(bad), 7, "themes"), (str(bad), 8, "feedback")]
    message = str(info.value)
    assert message.startswith("Nothing was imported: 6 problem(s) found.")
    assert "Smarch" not in message and "Stranger" not in message and "helped" not in message
    with sqlite3.connect(p.store_path) as db:
        assert db.execute("SELECT COUNT(*) FROM audits").fetchone()[0] == 0


def test_a_file_without_a_question_column_is_refused_at_its_header(tmp_path):
    p = _programme(tmp_path)
    path = tmp_path / "short.csv"
    path.write_text("audit_id,month,team,auditor,q1\nA-1,2027-01,North Team,A. Auditor,Good\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as info:
        import_audits(p, [path])
    [problem] = info.value.problems
    assert problem.row == 1 and "'q2'" in problem.message and "'overall'" in problem.message


def test_moderation_is_checked_against_the_first_auditor_and_never_counted(tmp_path):
    p = _programme(tmp_path)
    import_audits(p, [_audit_csv(tmp_path / "first.csv", [_row("A-1"), _row("A-2")])])
    with pytest.raises(ImportFileError) as info:
        import_audits(p, [_audit_csv(tmp_path / "mod-bad.csv", [
            _row("A-1", role="moderator", team="South Team", auditor="B. Auditor"),
            _row("A-9", role="moderator", auditor="B. Auditor")])])
    assert [(pr.row, pr.column) for pr in info.value.problems] == [(2, "team"), (3, "audit_id")]
    import_audits(p, [_audit_csv(tmp_path / "mod.csv", [_row("A-1", role="moderator", auditor="B. Auditor",
                                                             rating="Inadequate")])])
    track = load_tracking(p)
    overall = track.council[0].chart
    assert (overall.n, overall.x) == ((2,), (2,))  # one rating per record: the first auditor's
    assert track.counts[["moderated", "agreed"]].iloc[0].tolist() == [1, 0]


def test_reimporting_an_audit_replaces_it(tmp_path):
    p = _programme(tmp_path)
    import_audits(p, [_audit_csv(tmp_path / "a.csv", [_row("A-1")])])
    result = import_audits(p, [_audit_csv(tmp_path / "b.csv", [_row("A-1", rating="Inadequate")])])
    assert (result.audits_added, result.audits_changed) == (0, 1)
    assert load_tracking(p).council[0].chart.x == (0,)


# --------------------------------------------------------------------------- limits, readiness, privacy

def test_a_recorded_change_starts_new_limits_from_its_month(sample, tmp_path):
    import shutil

    copy = Path(shutil.copytree(sample.path, tmp_path / "copy"))
    yaml_file = copy / "programme.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace(
        "changes: []", 'changes:\n  - {month: "2026-07", what: new audit tool from July}'), encoding="utf-8")
    track = load_tracking(open_programme(copy))
    q6 = next(m for m in track.council if m.key == "q6")
    july = q6.months.index("2026-07")
    assert q6.chart.phase[july - 1] == 0 and q6.chart.phase[july] == 1
    assert q6.chart.centre[july] > q6.chart.centre[july - 1] + 0.15  # the new limits sit on the new level
    assert q6.reading == COMMON  # against its own new limits nothing has changed since July


def test_final_is_refused_while_a_month_has_no_moderation_sample(tmp_path):
    p = _programme(tmp_path)
    import_audits(p, [_audit_csv(tmp_path / "a.csv", [_row("A-1"), _row("A-2", month="2027-03")])])
    with pytest.raises(NotReadyError) as info:
        tr.render_tracking(p.path, tmp_path / "out", ["html"], final=True)
    message = str(info.value)
    assert "January 2027: no moderation sample" in message and "February 2027: no audits recorded" in message
    assert not (tmp_path / "out").exists()


def test_an_identifier_in_programme_text_refuses_the_render_naming_where_not_what(tmp_path):
    p = _programme(tmp_path)
    import_audits(p, [_audit_csv(tmp_path / "a.csv", [_row("A-1")])])
    yaml_file = p.path / "programme.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace(
        "# changes:", 'changes:\n  - {month: "2027-01", what: "call 01632 960123 about the audit"}\n# was:'),
        encoding="utf-8")
    with pytest.raises(RenderError) as info:
        tr.render_tracking(p.path, tmp_path / "out", ["html"])
    assert "changes entry 1" in str(info.value) and "960123" not in str(info.value)
    assert not (tmp_path / "out").exists()
    # A name no list holds: a change's words are not declared, so the page's gate sees it (a draft too).
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace(
        "call 01632 960123 about the audit", "new tool after Zebediah Quokkafeather complained"), encoding="utf-8")
    with pytest.raises(RenderError) as info:
        tr.render_tracking(p.path, tmp_path / "out", ["html"])
    assert "changes entry 1" in str(info.value) and "Quokkafeather" not in str(info.value)
    assert not (tmp_path / "out").exists()
    assert "quokkafeather" not in tr.declared_for_programme(open_programme(p.path)).words


def test_programme_yaml_errors_name_the_key(tmp_path):
    p = _programme(tmp_path)
    yaml_file = p.path / "programme.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    yaml_file.write_text(text + "changes:\n  - {month: April, what: x}\n", encoding="utf-8")
    with pytest.raises(ProgrammeError, match="changes entry 1: 'month' must be a month"):
        open_programme(p.path)
    yaml_file.write_text(text + "themes:\n  - {id: a, title: A theme, better: sideways}\n", encoding="utf-8")
    with pytest.raises(ProgrammeError, match="themes entry 1: 'better' must be up, down or neither"):
        open_programme(p.path)


def test_cli_creates_a_programme_and_imports_into_it(tmp_path, capsys):
    folder = tmp_path / "pqa"
    assert main(["new", str(folder), "--in-house", "--council", "Westfold Council", "--team", "North Team",
                 "--auditor", "A. Auditor"]) == 0
    assert (folder / "programme.yaml").stat().st_mode & 0o777 == 0o600
    assert (folder / "audits.sqlite").stat().st_mode & 0o777 == 0o600
    path = _audit_csv(tmp_path / "a.csv", [_row("A-1")])
    assert main(["import", str(folder), str(path)]) == 0
    assert "1 audit(s) added" in capsys.readouterr().out
    assert main(["new", str(tmp_path / "r"), "--council", "Westfold Council"]) == 1
    assert "--theme" in capsys.readouterr().err


def test_the_blank_audit_workbook_imports_back_once_filled_in(tmp_path, capsys):
    from openpyxl import load_workbook

    p = _programme(tmp_path)
    out = tmp_path / "audits.xlsx"
    assert main(["workbook", str(p.path), "--out", str(out)]) == 0
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "Audits"
    sheet = wb["Audits"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["audit_id", "month", "team", "auditor", "role"] and "overall" in header
    lists = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["C2:C301"] == "Lists!$A$2:$A$3"  # the two teams
    assert [c.value for c in wb["Questions"][1]][:4] == ["id", "title", "question text", "Outstanding"]
    row = {"audit_id": "A-1", "month": "2027-02", "team": "South Team", "auditor": "B. Auditor", "role": "first",
           **{q: "G" for q in TOOL_IDS}, "q3": "RI", "q3_note": "Strengths listed but not used in the plan"}
    for j, name in enumerate(header, 1):
        sheet.cell(2, j, row.get(name))
    wb.save(out)
    assert main(["import", str(p.path), str(out)]) == 0
    assert "1 audit(s) added" in capsys.readouterr().out
    with p.store() as store:
        assert store.stored()[("A-1", "first")][3] == {"q3": "Strengths listed but not used in the plan"}
    assert main(["workbook", str(tmp_path / "nowhere"), "--out", str(out)]) == 1  # neither a programme nor a review


@pytest.mark.slow
def test_by_team_charts_every_question_where_the_counts_support_it_and_says_why_not_elsewhere(tmp_path):
    p = _programme(tmp_path)
    rng = np.random.default_rng(41)
    rows = []
    for m in range(1, 15):
        month = f"{2026 + (m > 12)}-{(m - 1) % 12 + 1:02d}"
        for team, count in (("North Team", 20), ("South Team", 3)):
            for i in range(count):
                rows.append({**_row(f"{team[0]}-{m}-{i}", month=month, team=team),
                             **{q: "Good" if rng.random() < 0.7 else "Requires Improvement" for q in TOOL_IDS}})
    import_audits(p, [_audit_csv(tmp_path / "a.csv", rows)])
    files = tr.render_tracking(p.path, tmp_path / "out", ["html"], by_team=True)
    html = files["html"].read_text(encoding="utf-8")
    team_section = html[html.index("By team"):]
    for label in ["Overall judgement", *(f"Q{i} {q.title}" for i, q in enumerate(p.tool.questions, 1))]:
        assert f'alt="p-chart of {label} for North Team' in team_section  # every question, in the same style
        assert f'alt="p-chart of {label} for South Team' not in team_section
    assert "South Team: measures with too few records a month to chart" in team_section
    assert "3 records in a typical month, fewer than 5" in team_section
    with files["signals"].open(encoding="utf-8") as f:
        assert "South Team" not in {r["team"] for r in csv.DictReader(f)}  # never read, never signalled


def test_an_audit_reference_that_could_be_a_name_or_a_record_number_is_refused_and_nothing_imported(tmp_path):
    p = _programme(tmp_path)
    rows = [_row("A-1"), _row("Zebediah Quokkafeather"), _row("Smith"), _row("M1234567"), _row("IA 0042/3")]
    with pytest.raises(ImportFileError) as info:
        import_audits(p, [_audit_csv(tmp_path / "names.csv", rows)])
    assert [(pr.row, pr.column) for pr in info.value.problems] == [(3, "audit_id"), (4, "audit_id"), (5, "audit_id")]
    assert all("Quokkafeather" not in pr.message and "Smith" not in pr.message for pr in info.value.problems)
    with pytest.raises(ProgrammeError, match="no audits yet"):  # nothing of the file was imported
        load_tracking(p)
