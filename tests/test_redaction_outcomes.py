"""What a redaction leaves behind, and where check places what it finds, in the less common cases.

Mutation testing showed that these could change without a test noticing: how many pieces of
text a summary counts, whether text with nothing to redact is left exactly as written, the
rating and audit rows beside a redacted note, the placeholder map saved on a later run, a map
that is damaged in a new way, a "one change" item marked for the report, a narrative that starts
with a blank line, an identifier whose last line is one character, and a listed name in an
earlier render.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from reviewkit.core.errors import WorkspaceError
from reviewkit.review.files import REDACTION_MAP_FILE
from reviewkit.review.ratings import RatingInput
from reviewkit.review.redaction import blocking_findings, redact_workspace, scan_workspace
from reviewkit.review.workspace import open_workspace

NAME = "Zebediah Quokkafeather"
OTHER = "Araminta Fettleworth"
THIRD = "Bartholomew Quillsby"


def _names(ws, *names: str):
    (ws.path / "private" / "names.txt").write_text("".join(n + "\n" for n in names), encoding="utf-8")
    return open_workspace(ws.path)


def _legacy(ws, sql: str, *args: object) -> None:
    """Text written before its name was listed (or before screening existed)."""
    with sqlite3.connect(ws.db_path) as db:
        db.execute(sql, args)


def test_each_changed_piece_of_text_is_counted(ws):
    with ws.store() as s:
        for question in ("q1", "q2", "q3"):
            s.set_rating("A", RatingInput("C01", "A. Visitor", question, "Good", "Fine."))
    ws = _names(ws, NAME)
    _legacy(ws, "UPDATE ratings SET comment = ? WHERE question IN ('q1', 'q3')", f"{NAME} led the plan.")
    assert redact_workspace(ws, actor="host").changed == {"ratings": 2}


def test_text_with_nothing_to_redact_is_left_exactly_as_written(ws):
    # Redaction returns normalised text (a ligature, a non-breaking space, a circled digit
    # become plain); text without an identifier must not be rewritten for that.
    plain = "The \ufb01rst visit\u00a0went well \u2460."
    with ws.store() as s:
        s.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Good", plain))
    (ws.path / "narrative" / "strengths.md").write_text(plain + "\n", encoding="utf-8")
    ws = _names(ws, NAME)
    summary = redact_workspace(ws, actor="host")
    assert summary.changed == {} and summary.total == 0
    with ws.store() as s:
        assert s.rating("C01", "A. Visitor", "q1").comment == plain
    assert (ws.path / "narrative" / "strengths.md").read_text(encoding="utf-8") == plain + "\n"
    assert not (ws.path / REDACTION_MAP_FILE).exists()  # nobody was given a placeholder


def test_a_redacted_note_keeps_its_rating_and_the_audit_names_who_redacted(ws):
    with ws.store() as s:
        s.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", "q1", "Requires Improvement", "Fine."))
        s.set_case_flag("A. Visitor", "C01", "A. Visitor", referred_back=True, reason="Concern.")
        mid = s.add_meeting("H", "managers", "2026-10-05", {"manager": 6}, title="Managers")
        s.add_note("H", "It helped.", meeting_id=mid)
    ws = _names(ws, NAME)
    _legacy(ws, "UPDATE ratings SET comment = ?", f"{NAME} led the plan.")
    _legacy(ws, "UPDATE case_flags SET reason = ?", f"Concern about {NAME}.")
    _legacy(ws, "UPDATE meetings SET title = ?", f"Meeting about {NAME}")
    _legacy(ws, "UPDATE notes SET text = ?", f"{NAME} said it helped.")
    redact_workspace(ws, actor="H. Host")
    with ws.store() as s:
        rating = s.rating("C01", "A. Visitor", "q1")
        flags = s.case_flags()
        log = s.audit_log()
    assert (rating.rating, rating.comment) == ("Requires Improvement", "[PERSON 1] led the plan.")
    assert (flags["case_id"][0], flags["reviewer"][0], bool(flags["referred_back"][0])) == ("C01", "A. Visitor", True)
    assert flags["reason"][0] == "Concern about [PERSON 1]."
    redaction = log.iloc[-4:]
    assert list(redaction["actor"]) == ["H. Host"] * 4
    assert sorted(redaction["entity"]) == ["case_flag", "meeting", "note", "rating"]


def test_a_person_first_met_on_a_later_run_is_added_to_the_saved_map(ws):
    ws = _names(ws, NAME, OTHER)
    intro = ws.path / "narrative" / "introduction.md"
    intro.write_text(f"We met {NAME}.\n", encoding="utf-8")
    redact_workspace(ws, actor="host")
    saved = ws.path / REDACTION_MAP_FILE
    assert json.loads(saved.read_text(encoding="utf-8")) == {NAME.casefold(): "[PERSON 1]"}
    (ws.path / "narrative" / "strengths.md").write_text(f"{OTHER} agreed.\n", encoding="utf-8")
    redact_workspace(open_workspace(ws.path), actor="host")
    assert json.loads(saved.read_text(encoding="utf-8")) == {NAME.casefold(): "[PERSON 1]",
                                                            OTHER.casefold(): "[PERSON 2]"}
    # A third run meets both again and someone new: each keeps their placeholder, and the
    # newcomer is not given one already in use.
    ws = _names(ws, NAME, OTHER, THIRD)
    (ws.path / "narrative" / "areas.md").write_text(f"{THIRD}, {OTHER} and {NAME}.\n", encoding="utf-8")
    redact_workspace(ws, actor="host")
    assert (ws.path / "narrative" / "areas.md").read_text(encoding="utf-8") == (
        "[PERSON 3], [PERSON 2] and [PERSON 1].\n")


@pytest.mark.parametrize("saved", [
    {NAME.casefold(): 1},  # a placeholder that is not text
    {NAME.casefold(): ["[PERSON 1]"]},
    ["[PERSON 1]"],  # not a map at all
])
def test_a_map_with_something_other_than_text_stops_redaction(ws, saved):
    ws = _names(ws, NAME)
    f = ws.path / REDACTION_MAP_FILE
    f.write_text(json.dumps(saved), encoding="utf-8")
    intro = ws.path / "narrative" / "introduction.md"
    intro.write_text(f"We met {NAME}.\n", encoding="utf-8")
    with pytest.raises(WorkspaceError) as raised:
        redact_workspace(ws, actor="host")
    assert str(raised.value) == (
        f"{f}: damaged (expected names mapped to placeholders such as [PERSON 1]); restore it from a "
        "backup, so that each person keeps their placeholder")
    assert intro.read_text(encoding="utf-8") == f"We met {NAME}.\n"


def test_a_one_change_item_marked_for_the_report_is_published(ws):
    with ws.store() as s:
        mid = s.add_meeting("H", "managers", "2026-10-05", {"manager": 6})
        s.add_note("H", "A shorter form.", meeting_id=mid, kind="one_change", use_in_report=True, ref="N1")
    ws = _names(ws, NAME)
    _legacy(ws, "UPDATE notes SET text = ?", f"{NAME} wants a shorter form.")
    assert [(f.table, f.row, f.published) for f in scan_workspace(ws)] == [("notes", "note N1", True)]
    assert [str(f) for f in blocking_findings(ws)] == [
        "notes, note N1, text: identifier (listed name) at characters 1-22",
        "notes, note N1, text: a possible name (a capitalised word that is not ordinary English or declared) as "
        "printed, at characters 1-22 of the printed paragraph (confirm it is not a name with: reviewkit confirm)"]


def test_a_narrative_that_starts_with_a_blank_line_is_placed_by_its_own_lines(ws):
    (ws.path / "narrative" / "introduction.md").write_text("\nNHS 999 000 0018\n", encoding="utf-8")
    assert [str(f) for f in scan_workspace(open_workspace(ws.path))] == [
        "narrative/introduction.md, line 2, text: identifier (nhs number) at characters 5-16"]


def test_an_identifier_ending_one_character_into_the_next_line_spans_both(ws):
    (ws.path / "narrative" / "introduction.md").write_text("Her NHS 943 476 591\n9 was on file.\n",
                                                          encoding="utf-8")
    assert [str(f) for f in scan_workspace(open_workspace(ws.path))] == [
        "narrative/introduction.md, lines 1-2, text: identifier (nhs number) at characters 9-21"]


def test_check_finds_a_listed_name_in_an_earlier_render(ws):
    ws = _names(ws, NAME)
    entry = ws.path / ".cache" / "report" / ("2" * 64)
    entry.mkdir(parents=True)
    (entry / "report.html").write_text(f"<p>We met {NAME}.</p>", encoding="utf-8")
    ws.stamp_report_cache()
    found = scan_workspace(open_workspace(ws.path))
    assert [(f.table, f.row, f.kind) for f in found] == [
        ("report cache (an earlier render, cleared by redact) 222222222222", "report.html", "listed_name")]
    assert scan_workspace(open_workspace(ws.path), published_only=True) == []


# -- review.yaml: each kind of field on its own ------------------------------------------------

def test_a_name_only_in_the_theme_or_a_question_is_redacted_and_saved(ws):
    ws = _names(ws, NAME)
    ws.meta.theme = f"Support for {NAME}"
    ws.save_meta()
    assert redact_workspace(open_workspace(ws.path), actor="host").changed == {"review.yaml": 1}
    assert open_workspace(ws.path).meta.theme == "Support for [PERSON 1]"
    ws = open_workspace(ws.path)
    ws.meta.review_questions = ["How is practice?", f"How was {NAME} supported?"]
    ws.save_meta()
    assert redact_workspace(open_workspace(ws.path), actor="host").changed == {"review.yaml": 1}
    assert open_workspace(ws.path).meta.review_questions == ["How is practice?", "How was [PERSON 1] supported?"]


def test_a_recommendation_is_redacted_in_whichever_half_holds_the_name(ws):
    from reviewkit.review.reviewyaml import Recommendation

    ws = _names(ws, NAME)
    ws.meta.previous_recommendations = [Recommendation(f"Visit {NAME}.", "Done."),
                                        Recommendation("Shorter forms.", f"{NAME} agreed."),
                                        Recommendation("Clean.", "")]
    ws.save_meta()
    assert redact_workspace(open_workspace(ws.path), actor="host").changed == {"review.yaml": 1}
    recs = open_workspace(ws.path).meta.previous_recommendations
    assert [(r.text, r.update) for r in recs] == [("Visit [PERSON 1].", "Done."),
                                                  ("Shorter forms.", "[PERSON 1] agreed."), ("Clean.", "")]
    assert redact_workspace(open_workspace(ws.path), actor="host").changed == {}


# -- rendered pages: read as a reader sees them --------------------------------------------------

def _rendered(ws, html: str, name: str = "report.html"):
    (ws.path / "report").mkdir(exist_ok=True)
    (ws.path / "report" / name).write_text(html, encoding="utf-8")
    return open_workspace(ws.path)


def test_check_lists_a_rendered_report_by_its_path(ws):
    ws = _rendered(ws, "<p>NHS 999 000 0018</p>")
    found = scan_workspace(ws)
    assert [str(f) for f in found] == [
        "rendered report (render it again), report/report.html, text: identifier (nhs number) at characters 7-18"]
    assert [f.published for f in found] == [True]
    assert scan_workspace(ws, published_only=True) == []  # the gate screens the source, not old output


def test_an_unreadable_earlier_render_does_not_hide_the_others(ws):
    entry = ws.path / ".cache" / "report" / ("3" * 64)
    (entry / "report.html").mkdir(parents=True)  # cannot be read as a page
    other = ws.path / ".cache" / "report" / ("4" * 64)
    other.mkdir(parents=True)
    (other / "report.html").write_text("<p>NHS 943 476 5919</p>", encoding="utf-8")
    ws.stamp_report_cache()
    ws = _rendered(ws, "<p>NHS 999 000 0018</p>", "summary.html")
    assert [(f.table, f.row) for f in scan_workspace(ws)] == [
        ("report cache (an earlier render, cleared by redact) 444444444444", "report.html"),
        ("rendered report (render it again)", "report/summary.html")]


def test_a_page_with_a_byte_that_is_not_utf8_is_still_screened(ws):
    (ws.path / "report").mkdir()
    (ws.path / "report" / "report.html").write_bytes(b"<p>Caf\xe9 visit.</p><p>NHS 999 000 0018</p>")
    assert [f.kind for f in scan_workspace(open_workspace(ws.path))] == ["nhs_number"]


@pytest.mark.parametrize("tag", ["p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "section"])
def test_a_block_starts_a_new_paragraph_in_a_rendered_page(ws, tag):
    # A blank line before the block, then "x NHS ": the number starts at character 9.
    ws = _rendered(ws, f"<{tag}>x NHS 999 000 0018")
    assert [(f.start, f.end) for f in scan_workspace(ws)] == [(8, 20)]
    # And a name split by a block is not read as one.
    ws = _rendered(ws, f"Mrs<{tag}>Smith came.")
    assert scan_workspace(ws) == []


@pytest.mark.parametrize("tag", ["td", "th"])
def test_table_cells_are_read_side_by_side(ws, tag):
    # One space before a cell, then "x NHS ": the number starts at character 8.
    ws = _rendered(ws, f"<table><{tag}>x NHS 999 000 0018</{tag}></table>")
    assert [(f.start, f.end) for f in scan_workspace(ws)] == [(7, 19)]


def test_scripts_and_styles_are_not_read_but_what_follows_them_is(ws):
    ws = _rendered(ws, "</script></style><script>var a = 'NHS 999 000 0018';</script>"
                       "<style>/* NHS 999 000 0018 */</style>x NHS 943 476 5919")
    assert [(f.kind, f.start, f.end) for f in scan_workspace(ws)] == [("nhs_number", 6, 18)]


def test_character_references_in_a_page_read_as_their_characters(ws):
    ws = _rendered(ws, "Mrs&nbsp;Smith came &amp; went.")
    assert [(f.kind, f.start, f.end) for f in scan_workspace(ws)] == [("honorific_name", 0, 9)]


# -- links in the narrative ----------------------------------------------------------------------

def test_links_after_an_anchor_email_links_and_file_links_are_listed(ws):
    from reviewkit.review.redaction import outside_links

    (ws.path / "narrative" / "strengths.md").write_text(
        "See [below](#rec-2) and <https://guide.example.org/x>.\n"
        "Write to [the team](mailto:team@example.org) or read [the plan](files/plan.pdf).\n", encoding="utf-8")
    assert [str(link) for link in outside_links(open_workspace(ws.path))] == [
        "narrative/strengths.md, line 1: https://guide.example.org…",
        "narrative/strengths.md, line 2: an email link",
        "narrative/strengths.md, line 2: a link to a file"]
