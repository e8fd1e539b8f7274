"""How the case records were chosen, each case's team, and the small fixes around them.

review.yaml records the selection (random, stratified, council, mixed, with the host's own
words) and each case's team; the report's method and its interval note say what the figures
can stand for; per-team figures reach the team annex only, with counts; ``reviewkit new``
shows commented examples and the date format; a quote a relative spoke in a joint
conversation is labelled "a relative".
"""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from reviewkit import cli
from reviewkit.core.errors import ReviewkitError, WorkspaceError
from reviewkit.core.tools import available_tools
from reviewkit.report import sections as reportsections
from reviewkit.report.annex import annex_html
from reviewkit.report.data import load_report_data
from reviewkit.report.sections import RenderedChart, ReportBuilder
from reviewkit.review.ratings import RatingInput
from reviewkit.review.readiness import readiness
from reviewkit.review.reviewyaml import SELECTIONS, Case, new_review_yaml, parse_meta
from reviewkit.review.workspace import open_workspace

from .helpers import REVIEWERS, make_workspace

TEAMS = ["Hospital discharge", "Long-term support"]


def _text(fragment: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def _blank_chart(kind, args, kwargs) -> RenderedChart:  # noqa: ANN001  words only: no picture
    return RenderedChart(b"", "a chart", kind, pd.DataFrame(), 1.0, 1.0)


def _meta(**extra) -> dict:
    return {"council": "Testshire Council", "theme": "Strengths", "tool": "strengths-based-practice",
            "tool_version": "1.0", "team": [{"name": "A. Visitor"}],
            "cases": [{"id": "C01", "reviewer": "A. Visitor", "team": "Long-term  support"}], **extra}


# --------------------------------------------------------------------------- review.yaml

def test_review_yaml_records_the_selection_and_each_cases_team() -> None:
    meta = parse_meta(_meta(case_selection={"method": "Council", "description": "Five from each team."}), "r.yaml")
    assert (meta.case_selection, meta.selection_description) == ("council", "Five from each team.")
    assert meta.cases[0].team == "Long-term support"
    again = parse_meta(meta.to_yaml(), "r.yaml")
    assert (again.case_selection, again.selection_description, again.cases) == (
        "council", "Five from each team.", meta.cases)
    assert parse_meta(_meta(case_selection="stratified"), "r.yaml").case_selection == "stratified"
    assert parse_meta(_meta(), "r.yaml").case_selection == ""  # optional: readiness asks for it


@pytest.mark.parametrize("value", ["handpicked", {"method": "by hand"}, ["random"]])
def test_an_unknown_selection_is_refused_naming_the_key_and_the_choices(value) -> None:
    with pytest.raises(WorkspaceError) as err:
        parse_meta(_meta(case_selection=value), "review.yaml")
    assert "review.yaml" in str(err.value) and "case_selection" in str(err.value)
    assert all(k in str(err.value) for k in SELECTIONS)


def test_a_new_review_yaml_shows_the_date_format_and_commented_examples(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", cases=False)
    text = new_review_yaml(ws.meta)
    assert "YYYY-MM-DD" in text.split("dates:")[0].splitlines()[-2]  # the comment just above 'dates:'
    assert "# case_selection:\n#   method: random" in text
    assert "#   team: Long-term support" in text
    # Uncommented, the examples are valid review.yaml.
    example = yaml.safe_load(text)
    example["case_selection"] = {"method": "random", "description": "20 drawn at random."}
    example["cases"] = [{"id": "C01", "reviewer": REVIEWERS[0], "team": "Long-term support"}]
    assert parse_meta(example, "review.yaml").cases[0].team == "Long-term support"


def test_new_help_lists_the_shipped_audit_tools(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["new", "-h"])
    out = capsys.readouterr().out
    listed = out.split("audit tools shipped (--tool):\n")[1].split()
    assert listed == available_tools() and "strengths-based-practice" in listed


# --------------------------------------------------------------------------- the report

@pytest.fixture(scope="module")
def review(tmp_path_factory):
    """Eight case records in two teams (one without a team), rated; selection chosen per test."""
    ws = make_workspace(tmp_path_factory.mktemp("selection") / "ws")
    ws.meta.cases = [Case(c.id, c.reviewer, c.moderators, TEAMS[i % 2] if i < 7 else "")
                     for i, c in enumerate(ws.meta.cases)]
    ws.save_meta()
    ws = open_workspace(ws.path)
    with ws.store() as store:
        store.apply_ratings("test", [RatingInput(c.id, who, q, "Good" if (i + j) % 3 else "Requires Improvement",
                                                 "evidence noted")
                                     for i, c in enumerate(ws.meta.cases) for who in c.reviewers
                                     for j, q in enumerate(ws.tool.all_ids)])
    return ws.path


SAYS = {
    "random": ("The case records were chosen at random from a list of Testshire Council’s case records.",
               "so the intervals show how far these figures could differ, by chance, from the figures for every "
               "case record on that list; they say nothing about records that were not on it."),
    "stratified": ("The case records were chosen at random within each of Testshire Council’s teams.",
                   "they do not give any one team’s figures."),
    "council": ("Testshire Council chose the case records for the review.",
                "Testshire Council chose these case records, so the figures describe them, not all of its case "
                "records; the intervals show only the uncertainty from rating a small number of records."),
    "mixed": ("Some of the case records were chosen at random and Testshire Council chose the others.",
              "Some of these case records were chosen by Testshire Council, so the figures describe them, not all "
              "of its case records; the intervals show only the uncertainty from rating a small number of records."),
    "": ("How the case records were chosen is not recorded.",
         "How the case records were chosen is not recorded, so the figures describe these records, not all of "
         "Testshire Council’s case records; the intervals show only the uncertainty from rating a small number of "
         "records."),
}


@pytest.mark.parametrize("method", list(SAYS))
def test_the_method_and_the_interval_note_say_what_the_figures_stand_for(method, review, monkeypatch) -> None:
    monkeypatch.setattr(reportsections, "render_chart", _blank_chart)
    ws = open_workspace(review)
    ws.meta.case_selection = method
    ws.meta.selection_description = "Drawn in September." if method == "random" else ""
    ws.save_meta()
    b = ReportBuilder.load(review)
    intro, analysis = _text(b.introduction()), _text(b.data_analysis() + b.figures_appendix())  # note: Appendix A
    chosen, scope = SAYS[method]
    assert chosen + (" Drawn in September." if method == "random" else "") in intro
    note = re.search(r"Method\. (.*?)(?= All question| Overall judgements|$)", analysis).group(1)
    assert scope in note
    teams = [s for s in re.split(r"(?<=\.) ", intro) if "examined" in s and "came from" in s]
    assert len(teams) == 1 and all(team in teams[0] for team in TEAMS)  # the teams that took part, named
    for team in TEAMS:  # but per-team figures are for the team annex only
        assert team not in intro.replace(teams[0], "") + analysis + _text(b.key_messages())


def test_a_selection_description_holding_an_identifier_is_screened(review) -> None:
    ws = open_workspace(review)
    ws.meta.case_selection, ws.meta.selection_description = "council", "Records such as NHS number 999 000 0018."
    ws.save_meta()
    with pytest.raises(ReviewkitError) as err:
        load_report_data(review, withhold_identifiers=False)
    assert "case_selection" in str(err.value) and "999 000 0018" not in str(err.value)
    ws.meta.selection_description = ""
    ws.save_meta()


def test_readiness_asks_how_the_case_records_were_chosen(review) -> None:
    ws = open_workspace(review)
    ws.meta.case_selection = ""
    ws.save_meta()
    assert [g.where for g in readiness(open_workspace(review)) if g.kind == "selection"] == ["review.yaml"]
    ws.meta.case_selection = "mixed"
    ws.save_meta()
    assert not [g for g in readiness(open_workspace(review)) if g.kind == "selection"]


def test_the_team_annex_gives_figures_by_team_with_counts(review) -> None:
    page = annex_html(open_workspace(review))
    table = page[page.index("Figures by team"):]
    rows = [[_text(c) for c in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", tr, flags=re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)]
    # 8 cases: even positions Hospital discharge (4), odd Long-term support (3), the last with no team.
    assert [r[:3] for r in rows] == [["Hospital discharge", "4", "4"], ["Long-term support", "3", "3"],
                                     ["Team not recorded", "1", "1"]]
    ws = open_workspace(review)
    with ws.store() as store:
        ratings = store.ratings()
    primary = {(c.id, c.reviewer): c.team or "Team not recorded" for c in ws.meta.cases}
    for team, *_, overall, questions in rows:
        mine = [r for r in ratings.itertuples() if primary.get((r.case_id, r.reviewer)) == team]
        judged = [r.rating for r in mine if r.question == "overall"]
        rated = [r.rating for r in mine if r.question != "overall"]
        good = sum(r in ("Outstanding", "Good") for r in judged)
        assert overall.startswith(f"{good} of {len(judged)} (")
        assert questions.startswith(f"{sum(r in ('Outstanding', 'Good') for r in rated)} of {len(rated)} (")


# --------------------------------------------------------------------------- quotes

def test_a_relatives_words_in_a_joint_conversation_are_labelled_a_relative(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reportsections, "render_chart", _blank_chart)
    ws = make_workspace(tmp_path / "ws")
    with ws.store() as store:
        store.apply_ratings("test", [RatingInput(c.id, c.reviewer, q, "Good") for c in ws.meta.cases
                                     for q in ws.tool.all_ids])
        joint = store.add_conversation("test", "C02", "person and relative", REVIEWERS[0])
        store.add_note("test", "They always ring me back", conversation_id=joint, kind="quote",
                       speaker_role="relative", use_in_report=True)
        store.add_note("test", "I chose my own carers", conversation_id=joint, kind="quote", use_in_report=True)
    html = ReportBuilder.load(ws.path).case_records()
    said = dict(re.findall(r"“([^”<]+)”.*?<p class=\"attribution\">— ([^<]+)</p>", html, flags=re.S))
    assert said["They always ring me back"] == "a relative"
    assert said["I chose my own carers"] == "Person and relative 1"  # no speaker role: the conversation's label


def test_redaction_replaces_a_name_in_the_selection_description(tmp_path) -> None:
    from reviewkit.review.redaction import redact_workspace

    ws = make_workspace(tmp_path / "ws")
    (ws.path / "private" / "names.txt").write_text("Zebediah Quokkafeather\n", encoding="utf-8")
    ws.meta.case_selection, ws.meta.selection_description = "council", "Chosen by Zebediah Quokkafeather."
    ws.save_meta()
    redact_workspace(open_workspace(ws.path), actor="t")
    assert open_workspace(ws.path).meta.selection_description == "Chosen by [PERSON 1]."
