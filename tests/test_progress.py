"""Completeness, moderation disagreements and the progress lines shared by form, page and CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reviewkit.review.progress import (
    Entry,
    case_blockers,
    completeness,
    disagreements,
    missing_questions,
    needs_evidence,
    notes_needed,
    progress_line,
    summary_lines,
)
from reviewkit.review.ratings import RatingInput

from .helpers import make_workspace


def rate_all(store, case_id: str, reviewer: str, level: str = "Good", overall: str | None = "Good",
             skip: tuple[str, ...] = (), tool=None) -> None:
    for qid in tool.question_ids:
        if qid not in skip:
            store.set_rating(reviewer, RatingInput(case_id, reviewer, qid, level, ""))
    if overall:
        store.set_rating(reviewer, RatingInput(case_id, reviewer, tool.overall.id, overall, ""))


def test_needs_evidence_is_the_lower_half_of_the_scored_levels(ws) -> None:
    scale = ws.tool.scale
    assert [lv.label for lv in scale.levels if needs_evidence(scale, lv.label)] == ["Requires Improvement", "Inadequate"]
    assert needs_evidence(scale, "ri") and needs_evidence(scale, "I")
    assert not needs_evidence(scale, None) and not needs_evidence(scale, "") and not needs_evidence(scale, "Not applicable")
    assert not needs_evidence(scale, "no such level")


def test_case_blockers_name_blank_questions_overall_and_missing_notes(ws) -> None:
    tool = ws.tool
    entries = {q: Entry("Good") for q in tool.question_ids}
    assert case_blockers(tool, entries) == ["The overall judgement is not set yet."]
    del entries["q4"], entries["q7"]
    entries["q2"] = Entry("Inadequate", "   ")
    entries["overall"] = Entry("Requires Improvement", "")
    assert case_blockers(tool, entries) == [
        "Questions 4 and 7 are not rated yet.",
        "Question 2 is rated Inadequate: write the evidence note.",
        "The overall judgement is rated Requires Improvement: write the evidence note.",
    ]
    assert missing_questions(tool, entries) == ["q4", "q7"]
    assert notes_needed(tool, entries) == ["q2", "overall"]
    done = {q: Entry("Requires Improvement", "the plan lists no outcomes") for q in tool.all_ids}
    assert case_blockers(tool, done) == []
    one = {q: Entry("Not applicable") for q in tool.question_ids if q != "q12"}
    assert case_blockers(tool, one)[0] == "Question 12 is not rated yet."


def test_a_note_typed_before_a_rating_does_not_count_as_rated(ws) -> None:
    assert missing_questions(ws.tool, {"q1": Entry(None, "a note first")})[0] == "q1"


def test_progress_line_reads_as_the_issue_says() -> None:
    assert progress_line(3, 5, 10, 12) == "Case 3 of 5 · 10 of 12 questions rated"


def test_completeness_lists_every_reviewer_case_in_order_with_what_is_missing(ws) -> None:
    tool = ws.tool
    with ws.store() as store:
        empty = completeness(ws, store)
        assert list(empty.columns[:9]) == ["reviewer", "case_id", "moderation", "rated", "total", "missing",
                                           "overall", "needs_note", "marked_complete"]
        # A. Visitor has C01 (primary) and C02; B. Visitor moderates C01.
        a = empty[empty["reviewer"] == "A. Visitor"]
        assert list(a["case_id"]) == ["C01", "C02"]
        b = empty[empty["reviewer"] == "B. Visitor"]
        assert list(b["case_id"]) == ["C01", "C03", "C04"]
        assert list(b["moderation"]) == [True, False, False]
        assert not a["moderation"].any()
        assert (empty["rated"] == 0).all() and (empty["total"] == 12).all()
        assert empty.iloc[0]["missing"] == tool.question_ids

        rate_all(store, "C02", "A. Visitor", skip=("q3",), tool=tool)
        store.set_rating("A. Visitor", RatingInput("C02", "A. Visitor", "q5", "Inadequate", ""))
        store.set_case_flag("A. Visitor", "C02", "A. Visitor", referred_back=True, reason="safety plan missing")
        rate_all(store, "C01", "A. Visitor", tool=tool)
        store.set_case_flag("A. Visitor", "C01", "A. Visitor", complete=True)
        df = completeness(ws, store)
    row = df[(df["reviewer"] == "A. Visitor") & (df["case_id"] == "C02")].iloc[0]
    assert (row["rated"], row["missing"], row["overall"], row["needs_note"]) == (11, ["q3"], "Good", ["q5"])
    assert bool(row["referred_back"]) and not bool(row["complete"])
    done = df[(df["reviewer"] == "A. Visitor") & (df["case_id"] == "C01")].iloc[0]
    assert bool(done["complete"]) and bool(done["marked_complete"]) and done["missing"] == []


def test_a_case_marked_complete_but_unfinished_is_not_counted_complete(ws) -> None:
    with ws.store() as store:
        # An import can set the flag without the ratings; the table must not believe it.
        store.set_case_flag("H. Host", "C07", "H. Host", complete=True)
        df = completeness(ws, store)
    row = df[df["case_id"] == "C07"].iloc[0]
    assert bool(row["marked_complete"]) and not bool(row["complete"])
    assert "marked complete but not finished" in "\n".join(summary_lines(df))


def test_disagreements_list_only_questions_rated_differently_by_two_reviewers(ws) -> None:
    tool = ws.tool
    with ws.store() as store:
        assert disagreements(ws, store).empty
        rate_all(store, "C01", "A. Visitor", tool=tool)
        assert disagreements(ws, store).empty  # only one reviewer so far
        rate_all(store, "C01", "B. Visitor", tool=tool)
        store.set_rating("B. Visitor", RatingInput("C01", "B. Visitor", "q2", "Inadequate", "no outcomes"))
        store.set_rating("B. Visitor", RatingInput("C01", "B. Visitor", "q9", "Not applicable", ""))
        store.set_rating("B. Visitor", RatingInput("C01", "B. Visitor", "overall", "Outstanding", ""))
        # A rating on a non-moderated case never shows up, however it differs.
        rate_all(store, "C02", "A. Visitor", level="Inadequate", tool=tool)
        df = disagreements(ws, store)
    assert list(df.columns) == ["case_id", "question", "title", "ratings", "steps"]
    assert list(df["question"]) == ["q2", "q9", "overall"]
    assert set(df["case_id"]) == {"C01"}
    q2 = df.iloc[0]
    assert q2["ratings"] == {"A. Visitor": "Good", "B. Visitor": "Inadequate"}
    assert q2["steps"] == 2 and q2["title"] == tool.question("q2").title
    assert pd.isna(df.iloc[1]["steps"])  # Not applicable against a level: no number of steps
    assert str(df["steps"].dtype) == "Int64"
    assert df.iloc[2]["steps"] == 1


def test_summary_lines_group_by_reviewer_with_case_positions(ws) -> None:
    tool = ws.tool
    with ws.store() as store:
        rate_all(store, "C03", "B. Visitor", skip=("q11", "q12"), overall=None, tool=tool)
        df = completeness(ws, store)
    lines = summary_lines(df)
    assert lines[0] == "A. Visitor: 0 of 2 cases complete"
    b_start = lines.index("B. Visitor: 0 of 3 cases complete")
    assert lines[b_start + 1].startswith("  Case 1 of 3 · C01 (moderation) · 0 of 12 questions rated")
    assert lines[b_start + 2] == ("  Case 2 of 3 · C03 · 10 of 12 questions rated · not rated: q11, q12 · "
                                  "no overall judgement · in progress")


def test_summary_lines_say_when_nothing_is_allocated(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "empty", cases=False)
    with ws.store() as store:
        df = completeness(ws, store)
    assert df.empty
    assert summary_lines(df) == ["No cases are allocated yet: add them under 'cases' in review.yaml."]
