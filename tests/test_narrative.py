"""Generated sentences: exact strings, singular/plural and the empty review."""

from __future__ import annotations

import pandas as pd
import pytest

from reviewkit.core.tools import load_scale
from reviewkit.figures import agreement as ag
from reviewkit.figures import analysis as a
from reviewkit.figures import sentences as n

SCALE = load_scale("default")


@pytest.fixture
def tool12():
    from .test_analysis import make_tool

    return make_tool(12)
LEVELS = ["Outstanding", "Good", "Requires Improvement", "Inadequate", "Not applicable"]


def dist(o: int, g: int, ri: int, i: int, na: int = 0) -> pd.DataFrame:
    return a.level_table(dict(zip(LEVELS, (o, g, ri, i, na))), SCALE)


def share(count: int, total: int) -> dict:
    rows = [("C%02d" % k, "R", "overall", "Good" if k < count else "Requires Improvement", "")
            for k in range(total)]
    return a.share_good_or_better(pd.DataFrame(rows, columns=["case_id", "reviewer", "question",
                                                              "rating", "comment"]), SCALE)


# --------------------------------------------------------------------------- pooled and overall

def test_pooled_sentence_003():
    assert n.pooled_sentence(dist(59, 143, 37, 1), 20, 12) == (
        "Of the 240 questions rated across 20 case records, 59 (24.6%) were rated Outstanding, "
        "143 (59.6%) Good, 37 (15.4%) Requires Improvement and 1 (0.4%) Inadequate.")


def test_pooled_sentence_mentions_not_applicable():
    assert n.pooled_sentence(dist(59, 140, 37, 1, na=3), 20, 12) == (
        "Of the 237 questions rated across 20 case records, 59 (24.9%) were rated Outstanding, "
        "140 (59.1%) Good, 37 (15.6%) Requires Improvement and 1 (0.4%) Inadequate. A further 3 "
        "were marked Not applicable and are not counted.")
    assert n.pooled_sentence(dist(1, 1, 0, 0, na=1), 1).endswith(
        ". A further 1 was marked Not applicable and is not counted.")


def test_pooled_sentence_singular_and_missing_ratings():
    assert n.pooled_sentence(dist(1, 0, 0, 0), 1, 12) == (
        "Of the 1 question rated across 1 case record, 1 (100.0%) was rated Outstanding, "
        "0 (0.0%) Good, 0 (0.0%) Requires Improvement and 0 (0.0%) Inadequate. 11 ratings of "
        "the 12 expected (1 × 12) are not yet entered.")
    assert n.pooled_sentence(dist(0, 11, 0, 0), 1, 12).endswith(
        " 1 rating of the 12 expected (1 × 12) is not yet entered.")


def test_pooled_sentence_empty():
    assert n.pooled_sentence(dist(0, 0, 0, 0), 0) == "No questions have been rated yet."
    assert n.pooled_sentence(dist(0, 0, 0, 0, na=2), 1) == (
        "No questions were rated on the scale; 2 were marked Not applicable.")


def test_overall_sentence():
    assert n.overall_sentence(dist(5, 13, 2, 0)) == (
        "Of the 20 case records given an overall judgement, 5 (25.0%) were judged Outstanding, "
        "13 (65.0%) Good, 2 (10.0%) Requires Improvement and 0 (0.0%) Inadequate.")
    assert n.overall_sentence(dist(0, 0, 0, 0)) == "No case records have an overall judgement yet."


# --------------------------------------------------------------------------- headline

def test_headline_sentence_003():
    assert n.headline_sentence(share(18, 20)) == (
        "18 of the 20 case records (90.0%) were judged Outstanding or Good.")


def test_headline_sentence_singular_zero_and_interval():
    assert n.headline_sentence(share(1, 20)) == (
        "1 of the 20 case records (5.0%) was judged Outstanding or Good.")
    assert n.headline_sentence(share(0, 20)) == (
        "None of the 20 case records (0.0%) were judged Outstanding or Good.")
    assert n.headline_sentence(share(1, 1)) == (
        "The 1 case record with an overall judgement was judged Outstanding or Good.")
    assert n.headline_sentence(share(0, 1)) == (
        "The 1 case record with an overall judgement was not judged Outstanding or Good.")
    assert n.headline_sentence(share(0, 0)) == "No case records have an overall judgement yet."
    assert n.headline_sentence(share(18, 20), with_interval=True) == (
        "18 of the 20 case records (90.0%) were judged Outstanding or Good "
        "(95% confidence interval 69.9% to 97.2%).")


# --------------------------------------------------------------------------- referred back

@pytest.mark.parametrize("count, expected", [
    (0, "No case records were referred back to the council for significant concerns."),
    (1, "1 case record was referred back to the council for a significant concern."),
    (2, "2 case records were referred back to the council for significant concerns."),
])
def test_referred_sentence(count, expected):
    assert n.referred_sentence(count) == expected


def test_referred_sentence_names_the_council():
    assert n.referred_sentence(0, council="Dudley Metropolitan Borough Council") == (
        "No case records were referred back to Dudley Metropolitan Borough Council for "
        "significant concerns.")


# --------------------------------------------------------------------------- agreement

def ratings(rows):
    return pd.DataFrame(rows, columns=["case_id", "reviewer", "question", "rating"])


def test_agreement_sentence_with_alpha():
    r = ratings([("C2", "Bob", "q1", "Good"), ("C2", "Bob", "q2", "Requires Improvement"),
                 ("C2", "Bob", "q3", "Inadequate"), ("C2", "Ann", "q1", "Good"),
                 ("C2", "Ann", "q2", "Good"), ("C2", "Ann", "q3", "Requires Improvement")])
    _, summary = ag.moderation_agreement(r, None, SCALE)
    assert n.agreement_sentence(summary) == (
        "1 moderation case record was rated independently by 2 reviewers: they gave the same "
        "rating in 1 of 3 pairs of ratings (33.3%), and Krippendorff's alpha (ordinal) was 0.53 "
        "across 3 rated questions. Krippendorff suggests relying on ratings where alpha is at "
        "least 0.800 and drawing only tentative conclusions where it is at least 0.667; 0.53 is "
        "below both. Agreement on 1 moderation case is a rough guide, not a "
        "verdict: with so few ratings a single different rating moves these figures a lot.")


@pytest.mark.parametrize("alpha, reading", [
    (0.51, "0.51 is below both"), (0.70, "0.70 is between the two"), (0.80, "0.80 is at or above both"),
    (0.6665, "0.666 is below both"),  # 2 decimals would print 0.67, past the threshold it is below
    (0.7996, "0.800 is between the two"),
])
def test_alpha_reading_states_krippendorffs_guidance(alpha, reading):
    text = n.alpha_reading(alpha)
    assert text.startswith("Krippendorff suggests relying on ratings where alpha is at least 0.800")
    assert text.endswith(reading + ".")


def test_agreement_sentence_counts_reviewers_per_case_not_in_all():
    # 2 cases, each rated by 2 reviewers, 3 different reviewers in all: "each … by 2".
    r = ratings([("C1", "Ann", "q1", "Good"), ("C1", "Bob", "q1", "Good"),
                 ("C2", "Bob", "q1", "Good"), ("C2", "Cat", "q1", "Outstanding")])
    _, summary = ag.moderation_agreement(r, None, SCALE)
    assert n.agreement_sentence(summary).startswith(
        "2 moderation case records were each rated independently by 2 reviewers: ")
    r = ratings([("C1", "Ann", "q1", "Good"), ("C1", "Bob", "q1", "Good"),
                 ("C2", "Bob", "q1", "Good"), ("C2", "Cat", "q1", "Outstanding"),
                 ("C2", "Ann", "q1", "Good")])
    _, summary = ag.moderation_agreement(r, None, SCALE)
    assert n.agreement_sentence(summary).startswith(
        "2 moderation case records were each rated independently by between 2 and 3 reviewers: ")


def test_agreement_sentence_alpha_undefined():
    r = ratings([(c, rev, "q1", "Good") for c in ("C1", "C2") for rev in ("Ann", "Bob")])
    _, summary = ag.moderation_agreement(r, None, SCALE)
    sentence = n.agreement_sentence(summary)
    assert sentence.startswith(
        "2 moderation case records were each rated independently by 2 reviewers: they gave the same "
        "rating in 2 of 2 pairs of ratings (100.0%). Krippendorff's alpha is undefined when "
        "every rating is the same level")
    assert sentence.endswith("Agreement on 2 moderation cases is a rough guide, not a verdict: "
                             "with so few ratings a single different rating moves these figures a lot.")


def test_agreement_sentence_none_and_nothing_comparable():
    _, summary = ag.moderation_agreement(None, None, SCALE)
    assert n.agreement_sentence(summary) == (
        "No case records were rated by more than one reviewer, so agreement between reviewers "
        "was not measured.")
    r = ratings([("C1", "Ann", "q1", "Good"), ("C1", "Bob", "q1", "Not applicable")])
    _, summary = ag.moderation_agreement(r, None, SCALE)
    assert n.agreement_sentence(summary) == (
        "1 moderation case record was rated independently by 2 reviewers, but no question had "
        "two scored ratings to compare, so agreement was not measured.")


# --------------------------------------------------------------------------- method

def test_method_sentence_003():
    counts = {"reviewers": 4, "cases": 20, "meetings": 2, "attendees": 13,
              "attendees_by_kind": {"managers": 6, "practitioners": 7}, "conversations": 5,
              "conversations_by_who": {"person": 1, "person and relative": 1, "relative": 3}}
    assert n.method_sentence(counts) == (
        "The review team of 4 Principal Social Workers examined 20 case records. They met 13 members "
        "of staff (6 managers and 7 practitioners) in 2 meetings. They held 5 conversations with "
        "people whose case records were examined or their families and carers. Of these, 1 was with a person; "
        "1 with a person and their relative; 3 with relatives.")


def test_method_sentence_counts_staff_by_role_when_roles_are_recorded():
    counts = {"reviewers": 4, "cases": 20, "meetings": 2, "attendees": 13,
              "attendees_by_kind": {"managers": 6, "practitioners": 7},
              "attendees_by_role": a.attendance_by_role([
                  {"by_role": {"team manager": 2, "assistant team manager": 4}},
                  {"by_role": {"social worker": 6, "occupational therapist": 1}}]),
              "conversations": 0}
    assert n.method_sentence(counts).startswith(
        "The review team of 4 Principal Social Workers examined 20 case records. They met 13 members "
        "of staff (4 assistant team managers, 1 occupational therapist, 6 social workers and "
        "2 team managers) in 2 meetings")


def test_method_sentence_singular():
    counts = {"reviewers": 1, "cases": 1, "meetings": 1, "attendees": 1,
              "attendees_by_kind": {"managers": 1}, "conversations": 1,
              "conversations_by_who": {"carer": 1}}
    assert n.method_sentence(counts, reviewer_noun="reviewer") == (
        "The review team of 1 reviewer examined 1 case record. They met 1 member of staff (1 manager) "
        "in 1 meeting. They held 1 conversation with people whose case records were examined or "
        "their families and carers. It was with a carer.")


def test_method_sentence_from_review_counts_of_an_empty_review():
    assert n.method_sentence(a.review_counts(None)) == (
        "The review team examined no case records. They held no meetings with staff. They held no "
        "conversations with people or their families.")


# --------------------------------------------------------------------------- helpers

def test_count_noun_and_join_words():
    assert n.count_noun(1, "case record") == "1 case record"
    assert n.count_noun(0, "case record") == "0 case records"
    assert n.count_noun(2, "person", "people") == "2 people"
    assert n.join_words([]) == ""
    assert n.join_words(["a"]) == "a"
    assert n.join_words(["a", "b", "c"], "or") == "a, b or c"


def test_weakest_sentence():
    weak = pd.DataFrame({"question": ["q11", "q5"], "number": [11, 5],
                         "title": ["Management oversight", "Community assets and prevention"],
                         "good_or_better": [9, 12], "scored": [20, 20],
                         "good_or_better %": [45.0, 60.0], "display": ["9 (45.0%)", "12 (60.0%)"]})
    assert n.weakest_sentence(weak) == (
        "The questions least often rated Outstanding or Good were question 11, Management "
        "oversight (9 of 20, 45.0%) and question 5, Community assets and prevention (12 of 20, 60.0%).")
    assert n.weakest_sentence(weak.head(1)).startswith(
        "The question least often rated Outstanding or Good was question 11")
    assert n.weakest_sentence(weak.head(0)) == "No questions have been rated yet."


def test_weakest_sentence_names_every_tied_question(tool12):
    # Shares: q1 10/20, q2 12/19, then q3, q4, q5, q6 all 17/20; the rest 19/20.
    good = {1: 10, 2: 12, 3: 17, 4: 17, 5: 17, 6: 17}
    rows = []
    for q in range(1, 13):
        g = good.get(q, 19)
        for c in range(20):
            if q == 2 and c == 19:
                rating = "Not applicable"
            else:
                rating = "Good" if c < g else "Requires Improvement"
            rows.append((f"C{c:02}", "Ann", f"q{q}", rating))
    weak = a.weakest_questions(ratings(rows), tool12, n=3)
    assert list(weak["number"]) == [1, 2, 3, 4, 5, 6]
    assert weak.attrs["tied"] == 4
    text = n.weakest_sentence(weak)
    assert "question 2, Personal strengths (12 of 19, 63.2%)" in text
    assert "question 3, Management oversight (17 of 20, 85.0%), question 4, Question 4 (17 of 20, 85.0%), " \
        "question 5, Question 5 (17 of 20, 85.0%) and question 6, Question 6 (17 of 20, 85.0%)." in text
    assert text.endswith("The last 4 share the same proportion (85.0%), so all of them are named.")


def test_weakest_sentence_when_every_question_ties_names_none(tool12):
    # Every rating Good: all 12 questions at 100% are not "the least often rated Good".
    rows = [(f"C{c:02}", "Ann", f"q{q}", "Good") for q in range(1, 13) for c in range(5)]
    weak = a.weakest_questions(ratings(rows), tool12, n=3)
    assert n.weakest_sentence(weak) == (
        "All 12 rated questions were rated Outstanding or Good in the same proportion (100.0%), so no "
        "question stands out as least often so rated.")


def test_weakest_sentence_no_tie_note_without_a_tie(tool12):
    rows = [(f"C{c:02}", "Ann", f"q{q}", "Good" if c < 8 + q else "Requires Improvement")
            for q in range(1, 13) for c in range(20)]
    weak = a.weakest_questions(ratings(rows), tool12, n=3)
    assert list(weak["number"]) == [1, 2, 3] and weak.attrs["tied"] == 0
    assert "share the same" not in n.weakest_sentence(weak)
