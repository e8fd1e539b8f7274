"""What `check` shows for each kind of text: the exact place, kind and whether it is published.

Mutation testing found that the place names (table, row, field), the wording of a finding and
which text counts as published could all change without a test noticing, though a host reads
exactly these lines to find what to fix. One possible identifier (an old date, a warning) is
put in every field the review holds, and each line of `check` is compared whole.
"""

from __future__ import annotations

import sqlite3

from reviewkit.cli import main
from reviewkit.review.ratings import RatingInput
from reviewkit.review.redaction import scan_workspace
from reviewkit.review.reviewyaml import Recommendation
from reviewkit.review.workspace import open_workspace

DATE = "3 March 1941"  # a plain old date: a possible date of birth (a warning)


def _fill(ws) -> None:
    text = f"Seen on {DATE}."
    with ws.store() as s:
        s.set_rating("t", RatingInput("C01", "A. Visitor", "q2", "Good", text), confirm_warnings=True)
        s.set_case_flag("t", "C03", "B. Visitor", referred_back=True, reason=text, confirm_warnings=True)
        meeting = s.add_meeting("t", "practitioners", "2026-03-02", {"social worker": 4}, "Team", ref="M1")
        s.add_note("t", text, meeting_id=meeting, kind="quote", use_in_report=True, confirm_warnings=True,
                   ref="N1")
        s.add_note("t", text, meeting_id=meeting, kind="note", use_in_report=True, confirm_warnings=True,
                   ref="N2")
    with sqlite3.connect(ws.db_path) as db:  # a title cannot be saved with a warning: legacy data
        db.execute("UPDATE meetings SET title=? WHERE ref='M1'", (text,))
    ws.meta.theme = f"Practice since {DATE}"
    ws.meta.review_questions = ["How is practice?", f"What changed after {DATE}?"]
    ws.meta.previous_recommendations = [Recommendation(f"Review by {DATE}", f"Done {DATE}")]
    ws.meta.case_selection, ws.meta.selection_description = "council", f"Chosen after {DATE}."
    ws.save_meta()
    (ws.path / "narrative" / "observations.md").write_text(f"# Observations\n\nA visit on {DATE}.\n",
                                                           encoding="utf-8")


EXPECTED = [
    "ratings, case C01, A. Visitor, q2, comment: possible identifier (date of birth) at characters 9-20",
    "case flags, case C03, B. Visitor, reason: possible identifier (date of birth) at characters 9-20",
    "meetings, meeting M1, title: possible identifier (date of birth) at characters 9-20",
    "notes, note N1, text: possible identifier (date of birth) at characters 9-20",
    "notes, note N2, text: possible identifier (date of birth) at characters 9-20",
    "review.yaml, theme, theme: possible identifier (date of birth) at characters 16-27",
    "review.yaml, review question 2, text: possible identifier (date of birth) at characters 20-31",
    "review.yaml, case_selection, description: possible identifier (date of birth) at characters 14-25",
    "review.yaml, previous recommendation 1, text: possible identifier (date of birth) at characters 11-22",
    "review.yaml, previous recommendation 1, update: possible identifier (date of birth) at characters 6-17",
    "narrative/observations.md, line 3, text: possible identifier (date of birth) at characters 12-23",
]
# The report prints a quote marked for it, the theme, review questions, the previous review's
# recommendations, how the cases were chosen and the narrative; never an evidence note, a reason, a
# title or a plain note.
PUBLISHED = [False, False, False, True, False, True, True, True, True, True, True]


def test_every_field_is_named_exactly_where_check_lists_it(ws):
    _fill(ws)
    found = scan_workspace(open_workspace(ws.path))
    assert [str(loc) for loc in found] == EXPECTED
    assert [loc.published for loc in found] == PUBLISHED
    assert {loc.level for loc in found} == {"warn"}
    published = scan_workspace(open_workspace(ws.path), published_only=True)
    assert [str(loc) for loc in published] == [e for e, p in zip(EXPECTED, PUBLISHED) if p]


def test_the_check_command_prints_each_place_and_marks_what_is_published(ws, capsys):
    _fill(ws)
    # Screening only warns; the publish gate refuses the old dates in published text as printed.
    assert main(["check", str(ws.path)]) == 1
    out = capsys.readouterr().out.splitlines()
    # First the claims check (this review's narrative states no figure), then the identifiers.
    assert out.pop(0) == "The narrative's figures and comparisons agree with the review's data."
    assert out[0].startswith("Found ") and out[0].endswith("that must be removed or confirmed), by location:")
    assert out[1:12] == [f"  {e}{'  [published in the report]' if p else ''}" for e, p in zip(EXPECTED, PUBLISHED)]
    page = [line for line in out[12:] if "as printed" in line]
    assert page and all("date of birth" in line for line in page)
    assert "1941" not in "\n".join(out)


def test_a_blocking_finding_is_called_an_identifier(ws):
    (ws.path / "narrative" / "introduction.md").write_text("NHS 999 000 0018\n", encoding="utf-8")
    assert [str(loc) for loc in scan_workspace(open_workspace(ws.path))] == [
        "narrative/introduction.md, line 1, text: identifier (nhs number) at characters 5-16"]


def test_the_placeholder_map_is_reused_by_the_next_redaction(ws):
    from reviewkit.review.redaction import redact_workspace

    (ws.path / "private" / "names.txt").write_text("Zebediah Quokkafeather\nAda Lovelace\n", encoding="utf-8")
    intro = ws.path / "narrative" / "introduction.md"
    intro.write_text("Ada Lovelace met Zebediah Quokkafeather.\n", encoding="utf-8")
    redact_workspace(open_workspace(ws.path), actor="t")
    assert intro.read_text(encoding="utf-8") == "[PERSON 1] met [PERSON 2].\n"
    strengths = ws.path / "narrative" / "strengths.md"
    strengths.write_text("Zebediah Quokkafeather said so.\n", encoding="utf-8")
    redact_workspace(open_workspace(ws.path), actor="t")
    assert strengths.read_text(encoding="utf-8") == "[PERSON 2] said so.\n"
