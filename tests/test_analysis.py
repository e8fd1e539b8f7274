"""reviewkit.figures.analysis against tables computed by hand, the 003 report's figures and edge cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reviewkit.core.errors import InvalidInputError, ReviewkitError
from reviewkit.core.tools import parse_tool
from reviewkit.figures import agreement as ag
from reviewkit.figures import analysis as a
from reviewkit.figures import notes as nt

CANARY = "Zebediah Quokkafeather"
DESCRIPTORS = {"O": "a", "G": "b", "RI": "c", "I": "d"}


def make_tool(n: int = 3, scale: object = "default"):
    titles = ["Voice of the person", "Personal strengths", "Management oversight"]
    return parse_tool({
        "id": "small", "version": "1", "title": "Small tool", "scale": scale,
        "questions": [{"id": f"q{i}", "title": titles[i - 1] if i <= 3 else f"Question {i}",
                       "text": "Asked?", "descriptors": DESCRIPTORS} for i in range(1, n + 1)],
    })


def frame(rows, columns=("case_id", "reviewer", "question", "rating", "comment")):
    return pd.DataFrame(list(rows), columns=list(columns))


@pytest.fixture
def tool():
    return make_tool()


@pytest.fixture
def ratings():
    """Three cases; C2 is a moderation case (Bob primary, Ann second) with disagreement."""
    return frame([
        ("C1", "Ann", "q1", "Outstanding", ""), ("C1", "Ann", "q2", "Good", ""),
        ("C1", "Ann", "q3", "Not applicable", ""), ("C1", "Ann", "overall", "Good", ""),
        ("C2", "Bob", "q1", "Good", ""), ("C2", "Bob", "q2", "Requires Improvement", ""),
        ("C2", "Bob", "q3", "Inadequate", ""), ("C2", "Bob", "overall", "Requires Improvement", ""),
        ("C2", "Ann", "q1", "Good", ""), ("C2", "Ann", "q2", "Good", ""),
        ("C2", "Ann", "q3", "Requires Improvement", ""), ("C2", "Ann", "overall", "Good", ""),
        ("C3", "Cat", "q1", "Good", ""), ("C3", "Cat", "q2", "Good", ""),
        ("C3", "Cat", "q3", "Good", ""), ("C3", "Cat", "overall", "Outstanding", ""),
    ])


@pytest.fixture
def allocation():
    return pd.DataFrame({"case_id": ["C1", "C2", "C2", "C3"], "reviewer": ["Ann", "Bob", "Ann", "Cat"],
                         "primary": [True, True, False, True]})


@pytest.fixture
def primary(ratings, allocation):
    return a.primary_ratings(ratings, allocation)


def as_dict(dist: pd.DataFrame) -> dict[str, str]:
    return dict(zip(dist["level"], dist["display"]))


# --------------------------------------------------------------------------- formatting

@pytest.mark.parametrize("n, d, expected", [
    (59, 240, "59 (24.6%)"), (143, 240, "143 (59.6%)"), (37, 240, "37 (15.4%)"),
    (1, 240, "1 (0.4%)"), (18, 20, "18 (90.0%)"), (2, 3, "2 (66.7%)"), (1, 8, "1 (12.5%)"),
    (1, 16, "1 (6.3%)"),  # exact half rounds up, as a reader expects (float would give 6.2)
    (3, 3, "3 (100.0%)"), (0, 5, "0 (0.0%)"), (0, 0, "0 (–)"),
])
def test_format_count(n, d, expected):
    assert a.format_count(n, d) == expected


def test_pct_and_format_percent():
    assert a.pct(1, 4) == 25.0
    assert math.isnan(a.pct(0, 0))
    assert a.format_percent(59, 240) == "24.6%"
    assert a.format_percent(0, 0) == "–"


def test_wilson_interval_known_value():
    lo, hi = a.wilson_interval(18, 20)
    assert lo == pytest.approx(0.6990, abs=5e-4)
    assert hi == pytest.approx(0.9721, abs=5e-4)


def test_wilson_interval_edges():
    assert all(math.isnan(x) for x in a.wilson_interval(0, 0))
    lo, hi = a.wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-4)
    lo, hi = a.wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=5e-4)


# --------------------------------------------------------------------------- primary ratings

def test_primary_ratings_drops_moderation_ratings(ratings, allocation):
    p = a.primary_ratings(ratings, allocation)
    assert len(p) == 12
    assert not ((p["case_id"] == "C2") & (p["reviewer"] == "Ann")).any()


def test_without_allocation_every_case_reviewer_pair_is_a_record(ratings):
    assert len(a.primary_ratings(ratings, None)) == 16
    assert len(a.primary_ratings(ratings, pd.DataFrame(columns=["case_id", "reviewer", "primary"]))) == 16
    assert a.rating_distribution(ratings, make_tool().scale).attrs["records"] == 4


def test_two_primary_reviewers_for_one_case_is_an_error(ratings):
    bad = pd.DataFrame({"case_id": ["C2", "C2"], "reviewer": ["Bob", "Ann"], "primary": [True, True]})
    with pytest.raises(InvalidInputError, match="more than one primary reviewer") as exc:
        a.primary_ratings(ratings, bad)
    assert "rows 1, 2" in str(exc.value)


def test_primary_column_accepts_text_yes_no(ratings):
    alloc = pd.DataFrame({"case_id": ["C1", "C2", "C2", "C3"], "reviewer": ["Ann", "Bob", "Ann", "Cat"],
                          "primary": ["true", "yes", "false", None]})
    p = a.primary_ratings(ratings, alloc)
    assert sorted(set(zip(p["case_id"], p["reviewer"]))) == [("C1", "Ann"), ("C2", "Bob")]


def test_ratings_with_a_filtered_index_are_counted_by_row(ratings, allocation, tool):
    # A frame sliced or filtered by the caller keeps its index; every figure must still line up.
    shifted = ratings.set_axis(range(100, 100 + len(ratings)))
    assert len(a.primary_ratings(shifted, allocation)) == 12
    dist = a.rating_distribution(a.primary_ratings(shifted, allocation), tool.scale)
    assert list(dist["count"]) == [1, 5, 1, 1, 1]
    table, summary = ag.moderation_agreement(shifted, allocation, tool.scale)
    assert summary["pairs"] == 3 and summary["agreeing_pairs"] == 1


def test_two_primary_reviewers_error_names_only_the_clashing_rows(ratings):
    bad = pd.DataFrame({"case_id": ["C1", "C2", "C2"], "reviewer": ["Ann", "Bob", "Ann"],
                        "primary": [True, True, True]})
    with pytest.raises(InvalidInputError) as exc:
        a.primary_ratings(ratings, bad)
    assert "rows 2, 3" in str(exc.value) and "rows 1" not in str(exc.value)


# --------------------------------------------------------------------------- distributions

def test_rating_distribution_hand_computed(primary, tool):
    dist = a.rating_distribution(primary, tool.scale)
    assert list(dist.columns) == ["level", "count", "percent", "display", "ci_low", "ci_high"]
    assert list(dist["level"]) == ["Outstanding", "Good", "Requires Improvement", "Inadequate",
                                   "Not applicable"]
    assert list(dist["count"]) == [1, 5, 1, 1, 1]
    assert as_dict(dist) == {"Outstanding": "1 (12.5%)", "Good": "5 (62.5%)",
                             "Requires Improvement": "1 (12.5%)", "Inadequate": "1 (12.5%)",
                             "Not applicable": "1 (not counted)"}
    assert dist["percent"].iloc[:4].tolist() == [12.5, 62.5, 12.5, 12.5]
    assert math.isnan(dist["percent"].iloc[4])
    assert dist.attrs == {"scored": 8, "not_applicable": 1, "records": 3, "clustered": True, "clusters": 3,
                          "largest_cluster": 3,  # levels given once: their clustering cannot be estimated
                          "sparse_levels": [("Outstanding", 1), ("Requires Improvement", 1), ("Inadequate", 1)]}
    # Pooled ratings cluster in case records: Good is 1 of 2, 1 of 3 and 3 of 3 in the 3 records.
    lo, hi = a.clustered_wilson_interval([1, 1, 3], [2, 3, 3])
    assert dist["ci_low"].iloc[1] == pytest.approx(100 * lo)
    assert dist["ci_high"].iloc[1] == pytest.approx(100 * hi)


def test_rating_distribution_accepts_codes_and_any_case(tool):
    r = frame([("C1", "Ann", "q1", "o", ""), ("C1", "Ann", "q2", " requires   improvement ", ""),
               ("C1", "Ann", "q3", "NA", "")])
    assert list(a.rating_distribution(r, tool.scale)["count"]) == [1, 0, 1, 0, 1]


def test_include_overall_pools_the_overall_judgements(primary, tool):
    dist = a.rating_distribution(primary, tool.scale, include_overall=True)
    assert list(dist["count"]) == [2, 6, 2, 1, 1]
    assert dist.attrs["scored"] == 11


def test_overall_distribution_hand_computed(primary, tool):
    dist = a.overall_distribution(primary, tool.scale)
    assert as_dict(dist) == {"Outstanding": "1 (33.3%)", "Good": "1 (33.3%)",
                             "Requires Improvement": "1 (33.3%)", "Inadequate": "0 (0.0%)",
                             "Not applicable": "0 (not counted)"}


def test_overall_distribution_one_per_record_has_the_plain_wilson_interval(primary, tool):
    dist = a.overall_distribution(primary, tool.scale)
    lo, hi = a.wilson_interval(1, 3)
    assert dist["ci_low"].iloc[:3].tolist() == pytest.approx([100 * lo] * 3)
    assert dist["ci_high"].iloc[:3].tolist() == pytest.approx([100 * hi] * 3)
    na = dist.iloc[4]
    assert math.isnan(na["percent"]) and math.isnan(na["ci_low"]) and math.isnan(na["ci_high"])


def test_question_distribution_hand_computed(primary, tool):
    q = a.question_distribution(primary, tool)
    assert list(q["question"]) == ["q1", "q2", "q3"]
    assert list(q["number"]) == [1, 2, 3]
    assert q.loc[0, "title"] == "Voice of the person"
    assert q[["Outstanding", "Good", "Requires Improvement", "Inadequate", "Not applicable"]].values.tolist() == [
        [1, 2, 0, 0, 0], [0, 2, 1, 0, 0], [0, 1, 0, 1, 1]]
    assert list(q["scored"]) == [3, 3, 2]
    assert q.loc[2, "Inadequate %"] == 50.0
    assert "Not applicable %" not in q.columns
    assert list(q["good_or_better"]) == [3, 2, 1]
    assert q["good_or_better %"].round(1).tolist() == [100.0, 66.7, 50.0]


def test_question_display_table(primary, tool):
    table = a.question_display_table(a.question_distribution(primary, tool), tool.scale)
    assert table.loc[2].tolist() == ["3. Management oversight", "0 (0.0%)", "1 (50.0%)",
                                     "0 (0.0%)", "1 (50.0%)", "1"]


def test_share_good_or_better(primary, tool):
    share = a.share_good_or_better(primary, tool.scale)
    assert (share["count"], share["total"], share["display"]) == (2, 3, "2 (66.7%)")
    assert share["levels"] == ["Outstanding", "Good"]
    pooled = a.share_good_or_better(primary, tool.scale, question=None)
    assert (pooled["count"], pooled["total"]) == (6, 8)  # NA left out of the denominator
    q3 = a.share_good_or_better(primary, tool.scale, question="q3")
    assert (q3["count"], q3["total"]) == (1, 2)


def test_reviewer_spread(primary, ratings, tool):
    spread = a.reviewer_spread(primary, tool.scale)
    assert list(spread["reviewer"]) == ["Ann", "Bob", "Cat"]
    assert list(spread["cases"]) == [1, 1, 1]
    assert list(spread["mean_score"]) == [3.5, 2.0, 3.0]
    assert list(spread["Not applicable"]) == [1, 0, 0]
    everyone = a.reviewer_spread(ratings, tool.scale, anonymise=True)
    assert list(everyone["reviewer"]) == ["Reviewer A", "Reviewer B", "Reviewer C"]
    assert everyone.loc[0, "cases"] == 2 and everyone.loc[0, "scored"] == 5


def test_moderation_agreement_when_no_rating_is_by_an_allocated_reviewer(tool, allocation):
    r = frame([("C9", "Zed", "q1", "Good", "")])
    table, summary = ag.moderation_agreement(r, allocation, tool.scale)
    assert summary["cases"] == 0 and len(table) == 0
    table, summary = ag.moderation_agreement(frame([]), allocation, tool.scale)
    assert summary["cases"] == 0


def test_weakest_questions_lowest_share_first_ties_in_tool_order(tool):
    r = frame([("C1", "Ann", "q1", "Requires Improvement", ""), ("C1", "Ann", "q2", "Good", ""),
               ("C1", "Ann", "q3", "Inadequate", ""), ("C2", "Bob", "q1", "Good", ""),
               ("C2", "Bob", "q2", "Good", ""), ("C2", "Bob", "q3", "Good", "")])
    weak = a.weakest_questions(r, tool, n=1)  # q1 and q3 tie at 1 of 2: both are kept
    assert list(weak["question"]) == ["q1", "q3"]
    assert list(weak["display"]) == ["1 (50.0%)", "1 (50.0%)"]
    assert weak.attrs["tied"] == 2
    weak = a.weakest_questions(r, tool, n=2)
    assert list(weak["question"]) == ["q1", "q3"] and weak.attrs["tied"] == 0


def test_weakest_questions_defaults_to_three_and_skips_unscored_questions():
    tool = make_tool(5)
    r = frame([("C1", "Ann", "q1", "Good", ""), ("C1", "Ann", "q2", "Inadequate", ""),
               ("C1", "Ann", "q3", "Requires Improvement", ""), ("C1", "Ann", "q4", "Good", ""),
               ("C1", "Ann", "q5", "Not applicable", ""), ("C2", "Bob", "q1", "Good", ""),
               ("C2", "Bob", "q2", "Good", ""), ("C2", "Bob", "q3", "Good", ""),
               ("C2", "Bob", "q4", "Inadequate", ""), ("C2", "Bob", "q5", "Not applicable", "")])
    weak = a.weakest_questions(r, tool)  # q5 has no scored rating: it is not "weakest"
    assert list(weak["question"]) == ["q2", "q3", "q4"]
    assert list(weak.index) == [0, 1, 2] and "index" not in weak.columns
    assert weak.attrs["tied"] == 0 and weak.attrs["rated_questions"] == 4
    assert list(a.weakest_questions(r, tool, n=0)["question"]) == []


# --------------------------------------------------------------------------- the 003 report

def review_003():
    """20 cases × 12 questions with 003's pooled counts 59/143/37/1 and overall 5/13/2/0."""
    tool = make_tool(12)
    pooled = ["Outstanding"] * 59 + ["Good"] * 143 + ["Requires Improvement"] * 37 + ["Inadequate"]
    overall = ["Outstanding"] * 5 + ["Good"] * 13 + ["Requires Improvement"] * 2
    reviewers = ["Ann", "Bob", "Cat", "Dev"]
    rows = []
    for c in range(20):
        for q in range(12):
            rows.append((f"C{c + 1:02d}", reviewers[c // 5], f"q{q + 1}", pooled[c * 12 + q], ""))
        rows.append((f"C{c + 1:02d}", reviewers[c // 5], "overall", overall[c], ""))
    return tool, frame(rows)


def test_003_pooled_and_overall_figures():
    tool, r = review_003()
    dist = a.rating_distribution(r, tool.scale)
    assert as_dict(dist) == {"Outstanding": "59 (24.6%)", "Good": "143 (59.6%)",
                             "Requires Improvement": "37 (15.4%)", "Inadequate": "1 (0.4%)",
                             "Not applicable": "0 (not counted)"}
    assert dist.attrs["scored"] == 240 and dist.attrs["records"] == 20
    overall = a.overall_distribution(r, tool.scale)
    assert list(overall["display"][:4]) == ["5 (25.0%)", "13 (65.0%)", "2 (10.0%)", "0 (0.0%)"]
    share = a.share_good_or_better(r, tool.scale)
    assert (share["count"], share["total"], share["display"]) == (18, 20, "18 (90.0%)")
    assert share["ci_low"] == pytest.approx(69.9, abs=0.05)
    assert share["ci_high"] == pytest.approx(97.2, abs=0.05)
    counts = a.review_counts(r)
    assert (counts["cases"], counts["reviewers"], counts["question_ratings"],
            counts["overall_judgements"]) == (20, 4, 240, 20)


# --------------------------------------------------------------------------- moderation

def test_moderation_agreement_hand_computed(ratings, allocation, tool):
    table, summary = ag.moderation_agreement(ratings, allocation, tool.scale)
    assert list(table["question"]) == ["q1", "q2", "q3"]
    assert list(table["levels"]) == ["Good / Good", "Good / Requires Improvement",
                                      "Requires Improvement / Inadequate"]
    assert list(table["agree"]) == [True, False, False]
    assert list(table["spread"]) == [0, 1, 1]
    assert (summary["cases"], summary["reviewers"], summary["items"], summary["pairs"],
            summary["agreeing_pairs"]) == (1, 2, 3, 3, 1)
    assert summary["raw_display"] == "1 (33.3%)"
    assert summary["within_one"] == 100.0
    # By hand: values 3,3 | 2,3 | 1,2 (n=6); ordinal distances d(1,2)=2.25, d(2,3)=6.25,
    # d(1,3)=16; Do = 17/6, De = 180/30 = 6, alpha = 1 - 17/36 = 19/36.
    assert summary["alpha"] == pytest.approx(19 / 36)
    assert "Krippendorff" in summary["method"] and "Raw agreement" in summary["method"]
    assert summary["caveat"].startswith("Agreement on 1 moderation case is a rough guide, not a verdict")


def test_moderation_with_overall_adds_the_overall_item(ratings, allocation, tool):
    table, summary = ag.moderation_agreement(ratings, allocation, tool.scale, include_overall=True)
    assert list(table["question"]) == ["overall", "q1", "q2", "q3"]
    assert summary["pairs"] == 4 and summary["agreeing_pairs"] == 1


def test_moderation_three_reviewers_count_every_pair(tool):
    r = frame([("C1", "Ann", "q1", "Good", ""), ("C1", "Bob", "q1", "Good", ""),
               ("C1", "Cat", "q1", "Outstanding", ""), ("C1", "Cat", "q2", "Not applicable", ""),
               ("C1", "Ann", "q2", "Good", "")])
    table, summary = ag.moderation_agreement(r, None, tool.scale)
    assert len(table) == 1  # q2 has one scored rating only: NA is left out
    assert (summary["pairs"], summary["agreeing_pairs"], summary["reviewers"]) == (3, 1, 3)
    assert summary["raw_display"] == "1 (33.3%)"


def test_krippendorff_textbook_example():
    """Krippendorff (2011) 'Computing Krippendorff's alpha-reliability': 4 observers, 12 units,
    values 1–5, ordinal alpha 0.815."""
    five = [{"label": f"Level {v}", "code": f"L{v}", "score": v} for v in (5, 4, 3, 2, 1)]
    tool = parse_tool({"id": "k", "version": "1", "title": "K", "scale": five, "questions": [
        {"id": f"q{i}", "title": "T", "text": "x",
         "descriptors": {f"L{v}": "d" for v in range(1, 6)}} for i in range(1, 5)]})
    data = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
            "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
            "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
            "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]}
    rows = [(f"C{u // 4}", rev, f"q{u % 4 + 1}", f"Level {v}", "")
            for rev, values in data.items() for u, v in enumerate(values) if v is not None]
    table, summary = ag.moderation_agreement(frame(rows), None, tool.scale)
    assert round(summary["alpha"], 3) == 0.815
    assert summary["items"] == 11  # unit 12 has a single value and is not pairable
    assert summary["cases"] == 3


def test_no_moderation_cases(primary, tool):
    table, summary = ag.moderation_agreement(primary, None, tool.scale)
    assert table.empty and list(table.columns)[:2] == ["case_id", "question"]
    assert summary["cases"] == 0 and summary["alpha"] is None and summary["raw_agreement"] is None
    assert "cannot be measured" in summary["caveat"]


def test_identical_ratings_alpha_undefined_raw_agreement_full(tool):
    r = frame([(c, rev, q, "Good", "") for c in ("C1", "C2") for rev in ("Ann", "Bob")
               for q in ("q1", "q2", "q3")])
    _, summary = ag.moderation_agreement(r, None, tool.scale)
    assert summary["raw_agreement"] == 100.0 and summary["raw_display"] == "6 (100.0%)"
    assert summary["alpha"] is None
    assert "undefined" in summary["alpha_note"]
    assert "2 moderation cases" in summary["caveat"]


def test_alpha_is_computed_when_ratings_use_only_two_levels(tool):
    r = frame([("C1", "Ann", "q1", "Good", ""), ("C1", "Bob", "q1", "Good", ""),
               ("C1", "Ann", "q2", "Good", ""), ("C1", "Bob", "q2", "Requires Improvement", ""),
               ("C1", "Ann", "q3", "Requires Improvement", ""), ("C1", "Bob", "q3", "Requires Improvement", "")])
    _, summary = ag.moderation_agreement(r, None, tool.scale)
    # By hand: values 3,3 | 3,2 | 2,2; n=6, Do = 2/6 of d(2,3), De = 18/30 of d(2,3): alpha = 1 - 10/18.
    assert summary["alpha"] == pytest.approx(1 - 10 / 18) and summary["alpha_note"] == ""


def test_moderation_table_and_summary_hand_computed_with_allocation(tool):
    # C1: Ann and Bob (Cat rated q3 but is not allocated, so is left out); C1 q2 has one scored
    # rating (Bob's is Not applicable) and is skipped, not the end of the case. C2: three reviewers.
    r = frame([("C1", "Ann", "q1", "Outstanding", ""), ("C1", "Bob", "q1", "Requires Improvement", ""),
               ("C1", "Ann", "q2", "Good", ""), ("C1", "Bob", "q2", "Not applicable", ""),
               ("C1", "Ann", "q3", "Good", ""), ("C1", "Bob", "q3", "Good", ""), ("C1", "Cat", "q3", "Inadequate", ""),
               ("C2", "Ann", "q1", "Good", ""), ("C2", "Bob", "q1", "Good", ""),
               ("C2", "Dan", "q1", "Requires Improvement", "")])
    alloc = pd.DataFrame({"case_id": ["C1", "C1", "C2", "C2", "C2"],
                          "reviewer": ["Ann", "Bob", "Ann", "Bob", "Dan"], "primary": [True, False, True, False, False]})
    table, summary = ag.moderation_agreement(r, alloc, tool.scale)
    assert list(table.columns) == ag.MODERATION_COLUMNS
    assert table[["case_id", "question", "raters", "pairs", "agreeing_pairs", "display", "spread",
                  "agree"]].values.tolist() == [
        ["C1", "q1", 2, 1, 0, "0 (0.0%)", 2, False],
        ["C1", "q3", 2, 1, 1, "1 (100.0%)", 0, True],
        ["C2", "q1", 3, 3, 1, "1 (33.3%)", 1, False]]
    assert table["agreement"].tolist() == pytest.approx([0.0, 100.0, 100 / 3])
    assert table["near_pairs"].tolist() == [0, 1, 3]  # pairs at most one level apart, the unit of within_one
    assert {k: summary[k] for k in ("cases", "reviewers", "raters_min", "raters_max", "items", "pairs",
                                    "agreeing_pairs", "raw_agreement", "raw_display", "within_one")} == {
        "cases": 2, "reviewers": 3, "raters_min": 2, "raters_max": 3, "items": 3, "pairs": 5,
        "agreeing_pairs": 2, "raw_agreement": 40.0, "raw_display": "2 (40.0%)", "within_one": 80.0}
    assert summary["raters_count"] == {2: 1, 3: 1}  # C1 by 2 reviewers, C2 by 3


SUMMARY_KEYS = {"cases", "reviewers", "raters_min", "raters_max", "raters_count", "items", "pairs", "agreeing_pairs",
                "raw_agreement", "raw_display", "within_one", "alpha", "alpha_note", "method", "caveat"}


def test_moderation_case_with_no_pairable_question_has_no_figures(tool):
    r = frame([("C1", "Ann", "q1", "Not applicable", ""), ("C1", "Bob", "q1", "Good", ""),
               ("C1", "Bob", "q2", "Good", "")])
    table, summary = ag.moderation_agreement(r, None, tool.scale)
    assert table.empty and list(table.columns) == ag.MODERATION_COLUMNS
    assert set(summary) == SUMMARY_KEYS
    assert (summary["cases"], summary["raters_min"], summary["raters_max"], summary["items"],
            summary["pairs"], summary["agreeing_pairs"]) == (1, 2, 2, 0, 0, 0)
    assert summary["raw_agreement"] is None and summary["within_one"] is None and summary["alpha"] is None
    assert summary["raw_display"] == "0 (–)" and summary["alpha_note"]


def test_no_moderation_summary_is_all_zeros(primary, tool):
    _, summary = ag.moderation_agreement(primary, None, tool.scale)
    assert set(summary) == SUMMARY_KEYS
    assert (summary["raters_min"], summary["raters_max"], summary["items"], summary["pairs"],
            summary["agreeing_pairs"], summary["raw_display"], summary["within_one"]) == (0, 0, 0, 0, 0, "0 (–)", None)
    assert summary["alpha_note"] == "No moderation cases."


# --------------------------------------------------------------------------- flags and notes

def test_referred_back_one_row_per_case():
    flags = pd.DataFrame({"case_id": ["C2", "C2", "C1", "C3"], "reviewer": ["Bob", "Ann", "Ann", "Cat"],
                          "referred_back": [True, True, False, None], "reason": ["r1", "", "", ""]})
    out = nt.referred_back(flags)
    assert list(out["case_id"]) == ["C2"] and len(out) == 1
    assert out.loc[0, "reviewers"] == "Ann, Bob" and out.loc[0, "reasons"] == ["r1"]
    assert len(nt.referred_back(None)) == 0


def note(i, kind="note", source="meeting", meeting_kind="managers", who=None, text="t",
         role="", stance="", use=False, codes=()):
    return {"note_id": i, "source": source, "meeting_kind": meeting_kind, "who": who, "kind": kind,
            "text": text, "speaker_role": role, "stance": stance, "use_in_report": use, "codes": codes}


@pytest.fixture
def notes():
    return pd.DataFrame([
        note(1, stance="concern", codes=("supervision", "workload")),
        note(2, stance="concern", codes=("supervision",), meeting_kind="practitioners"),
        note(3, stance="strength", codes=("supervision",), meeting_kind="practitioners"),
        note(4, stance="", codes=("panel",)),
        note(5, kind="quote", role="practitioner", text="it's so nice", use=True,
             meeting_kind="practitioners", stance="strength", codes=("practice-model",)),
        note(6, kind="quote", role="", text="not chosen", use=False),
        note(7, kind="quote", source="conversation", meeting_kind=None, who="carer",
             text="extremely supportive", use=True, codes=("carers",)),
        note(9, kind="one_change", meeting_kind="practitioners", text="Regular supervision", use=True),
        note(8, kind="one_change", meeting_kind="practitioners", text="Less paperwork", use=True),
        note(10, kind="one_change", text="Shorter forms", use=True),
        note(11, kind="one_change", text="Unpublished", use=False),
    ])


def test_theme_counts_by_code_kind_and_stance(notes):
    t = nt.theme_counts(notes, {"supervision": "Supervision"})
    rows = [tuple(r) for r in t[["code", "label", "meeting_kind", "stance", "count"]].values]
    assert rows == [
        ("supervision", "Supervision", "managers", "concern", 1),
        ("supervision", "Supervision", "practitioners", "concern", 1),
        ("supervision", "Supervision", "practitioners", "strength", 1),
        ("panel", "panel", "managers", "unspecified", 1),
        ("practice-model", "practice-model", "practitioners", "strength", 1),
        ("workload", "workload", "managers", "concern", 1),
    ]
    both = nt.theme_counts(notes, source=None)
    assert ("carers", "conversation") in set(zip(both["code"], both["meeting_kind"]))
    assert nt.theme_counts(notes, source="conversation")["count"].sum() == 1


def test_one_change_lists_only_published_in_note_order(notes):
    assert nt.one_change_lists(notes) == {"practitioners": ["Less paperwork", "Regular supervision"],
                                         "managers": ["Shorter forms"]}


def test_report_quotes_marked_only_with_role(notes):
    q = nt.report_quotes(notes)
    assert list(q["text"]) == ["it's so nice", "extremely supportive"]
    assert list(q["role"]) == ["practitioner", "carer"]
    assert "speaker_role" not in q.columns and "who" not in q.columns
    unnamed = pd.DataFrame([note(1, kind="quote", use=True, text="x")])
    assert nt.report_quotes(unnamed).loc[0, "role"] == "participant"


def test_report_quotes_columns_and_values():
    notes = pd.DataFrame([note(2, kind="quote", use=True, text="  second  ", source="conversation",
                               who="relative", stance=None, codes="T1"),
                          note(1, kind="quote", use=True, text="first", role="manager", stance="strength",
                               codes=("T2",))])
    q = nt.report_quotes(notes)
    assert list(q.columns) == ["note_id", "source", "group", "role", "stance", "codes", "text"]
    assert list(q["note_id"]) == [1, 2] and list(q["text"]) == ["first", "second"]
    assert list(q["source"]) == ["meeting", "conversation"]
    assert list(q["role"]) == ["manager", "relative"] and list(q["stance"]) == ["strength", ""]
    assert list(q["codes"]) == [("T2",), ("T1",)]
    assert nt.report_quotes(None).columns.tolist() == list(q.columns)


def test_previous_recommendations_numbered():
    recs = nt.previous_recommendations([{"text": " Model for SBP ", "update": "Framework drafted"},
                                       {"text": "Waiting lists"}])
    assert recs.values.tolist() == [[1, "Model for SBP", "Framework drafted"], [2, "Waiting lists", ""]]
    with pytest.raises(InvalidInputError, match="previous recommendation 2: 'text'") as exc:
        nt.previous_recommendations([{"text": "ok"}, {"update": CANARY}])
    assert CANARY not in str(exc.value)


# --------------------------------------------------------------------------- counts

def test_review_counts(ratings, allocation):
    counts = a.review_counts(
        ratings, allocation,
        meetings=[{"kind": "managers", "attendees": 6}, {"kind": "practitioners", "attendees": 7}],
        conversations=pd.DataFrame({"who": ["person", "person and relative", "relative", "relative",
                                            "relative"]}))
    assert counts == {
        "cases": 3, "reviewers": 3, "moderation_cases": 1, "question_ratings": 9,
        "overall_judgements": 3, "meetings": 2, "meetings_unrecorded": 0, "attendees": 13,
        "attendees_by_kind": {"managers": 6, "practitioners": 7}, "attendees_by_role": {},
        "moderation_rated": 1, "conversations": 5,
        "conversations_by_who": {"person": 1, "person and relative": 1, "relative": 3},
    }


def test_review_counts_rejects_non_whole_attendees():
    with pytest.raises(InvalidInputError, match="meetings row 2, column 'attendees'"):
        a.review_counts(None, meetings=[{"kind": "managers", "attendees": 6},
                                        {"kind": "practitioners", "attendees": 2.5}])


def test_review_counts_defaults_and_repeated_kinds(ratings, allocation):
    counts = a.review_counts(
        ratings, None,
        meetings=[{"kind": "managers", "attendees": 2}, {"kind": "managers", "attendees": 3},
                  {"attendees": 0}, {"kind": "practitioners"}, {"kind": "practitioners", "attendees": None},
                  {"kind": "carers", "attendees": float("nan")}],
        conversations=[{"who": "relative"}, {"who": ""}, {}])
    assert counts["moderation_cases"] == 0 and counts["moderation_rated"] == 0
    assert counts["attendees_by_kind"] == {"managers": 5, "meeting": 0, "practitioners": 0, "carers": 0}
    assert counts["attendees"] == 5 and counts["meetings"] == 6
    assert counts["conversations_by_who"] == {"relative": 1, "person": 2}
    # Reviewers count the team: those who rated and those only allocated.
    alloc = pd.concat([allocation, pd.DataFrame({"case_id": ["C3"], "reviewer": ["Dev"], "primary": [False]})])
    assert a.review_counts(ratings, alloc)["reviewers"] == 4
    # The overall judgement alone does not make a moderation case rated.
    assert a.review_counts(ratings[ratings["question"] != "overall"], allocation)["moderation_rated"] == 1


# --------------------------------------------------------------------------- empty and bad input

@pytest.mark.parametrize("empty", [None, pd.DataFrame(columns=["case_id", "reviewer", "question", "rating"])])
def test_empty_review_gives_zeros_everywhere(empty, tool):
    dist = a.rating_distribution(empty, tool.scale)
    assert list(dist["count"]) == [0] * 5 and dist["display"].iloc[0] == "0 (–)"
    assert dist.attrs == {"scored": 0, "not_applicable": 0, "records": 0}
    assert a.overall_distribution(empty, tool.scale)["count"].sum() == 0
    q = a.question_distribution(empty, tool)
    assert len(q) == 3 and q["scored"].sum() == 0 and q["good_or_better %"].isna().all()
    share = a.share_good_or_better(empty, tool.scale)
    assert (share["count"], share["total"], share["display"]) == (0, 0, "0 (–)")
    assert a.reviewer_spread(empty, tool.scale).empty
    assert a.weakest_questions(empty, tool).empty
    table, summary = ag.moderation_agreement(empty, None, tool.scale)
    assert table.empty and summary["cases"] == 0
    assert a.primary_ratings(empty, None).empty
    assert a.review_counts(empty)["cases"] == 0
    assert nt.theme_counts(None).empty and nt.one_change_lists(None) == {}
    assert nt.report_quotes(None).empty and nt.referred_back(None).empty
    assert nt.previous_recommendations(None).empty


def test_unknown_rating_names_row_and_column_not_the_value(tool):
    r = frame([("C1", "Ann", "q1", "Good", ""), ("C1", "Ann", "q2", CANARY, "")])
    with pytest.raises(InvalidInputError) as exc:
        a.rating_distribution(r, tool.scale)
    message = str(exc.value)
    assert "ratings row 2, column 'rating'" in message and "Requires Improvement (RI)" in message
    assert CANARY not in message
    assert isinstance(exc.value, ReviewkitError)


def test_missing_column_is_named(tool):
    with pytest.raises(InvalidInputError, match="ratings: missing column\\(s\\) 'rating'"):
        a.rating_distribution(pd.DataFrame(columns=["case_id", "reviewer", "question"]), tool.scale)


# --------------------------------------------------------------------------- recorded against planned

def test_rated_counts_counts_only_what_primary_reviewers_recorded(ratings, tool):
    # Ann is primary on C1 and C4 and second on C2 (her C2 ratings are not hers to count);
    # C3 lacks its overall judgement, C4 has one question only, C5 (Dan) is not rated at all.
    alloc = pd.DataFrame({"case_id": ["C1", "C2", "C2", "C3", "C4", "C5"],
                          "reviewer": ["Ann", "Bob", "Ann", "Cat", "Ann", "Dan"],
                          "primary": [True, True, False, True, True, True]})
    r = pd.concat([ratings[~((ratings["case_id"] == "C3") & (ratings["question"] == "overall"))],
                   frame([("C4", "Ann", "q1", "Not applicable", ""), ("C9", "Eve", "q1", "Good", "")])])
    assert a.rated_counts(r, alloc, tool) == {
        "allocated_cases": 5, "allocated_reviewers": 4, "rated_cases": 4,
        "rating_reviewers": ["Ann", "Bob", "Cat"], "per_reviewer": {"Ann": 2, "Bob": 1, "Cat": 1},
        "complete_cases": 2,
    }


@pytest.mark.parametrize("counts, total, expected", [
    ([1, 1, 1], 3, "99.9"), ([2, 1], 3, "100.0"), ([1, 15], 16, "100.1"),
    ([59, 143, 37, 1], 240, "100.0"), ([0, 0], 5, "0.0"), ([1, 2], 0, ""),
])
def test_rounded_total_sums_the_printed_percentages(counts, total, expected):
    assert a.rounded_total(counts, total) == expected


def test_attendance_by_role_sums_meetings_in_role_name_order():
    meetings = [{"kind": "managers", "by_role": {"social worker": 2, "manager": 1}},
                {"kind": "practitioners", "by_role": {"manager": 3, "occupational therapist": 0}},
                {"kind": "practitioners", "attendees": 4}, {"by_role": None}]
    totals = a.attendance_by_role(meetings)
    assert list(totals.items()) == [("manager", 4), ("social worker", 2)]
    assert a.review_counts(None, meetings=meetings)["attendees_by_role"] == totals


def test_one_role_typed_with_other_capitals_or_spaces_is_counted_once():
    # "Team manager" in one meeting and "team  manager" in another are the same people's role:
    # the report must not say "2 team managers and 3 team managers".
    meetings = [{"by_role": {"Team manager": 2, "social worker": 1}},
                {"by_role": {"team  manager": 3, "Social Worker ": 4, "assistant team manager": 1}}]
    assert a.attendance_by_role(meetings) == {"assistant team manager": 1, "social worker": 5, "Team manager": 5}
    assert list(a.attendance_by_role(meetings)) == ["assistant team manager", "social worker", "Team manager"]


def test_moderation_rated_needs_two_allocated_reviewers_with_question_ratings(ratings, allocation):
    # Ann's only C2 rating is the overall judgement: C2 no longer counts as rated twice.
    only_overall = ratings[~((ratings["case_id"] == "C2") & (ratings["reviewer"] == "Ann")
                             & (ratings["question"] != "overall"))]
    assert a.review_counts(only_overall, allocation)["moderation_rated"] == 0
    assert a.review_counts(ratings, allocation)["moderation_rated"] == 1
    assert a.review_counts(ratings, None)["moderation_rated"] == 0


# --------------------------------------------------------------------------- what mutation testing found untested

RATINGS_MISSING = pd.DataFrame(columns=["case_id", "reviewer"])
ALLOCATION_MISSING = pd.DataFrame({"case_id": ["C1"]})
EXPECT_RATINGS = ("ratings: missing column(s) 'question', 'rating'; "
                  "expected case_id, reviewer, question, rating")
EXPECT_ALLOCATION = ("allocation: missing column(s) 'reviewer', 'primary'; "
                     "expected case_id, reviewer, primary")


@pytest.mark.parametrize("call, expected", [
    (lambda r, al, t: a.primary_ratings(RATINGS_MISSING, al), EXPECT_RATINGS),
    (lambda r, al, t: a.primary_ratings(r, ALLOCATION_MISSING), EXPECT_ALLOCATION),
    (lambda r, al, t: ag.moderation_agreement(r, ALLOCATION_MISSING, t.scale), EXPECT_ALLOCATION),
    (lambda r, al, t: a.review_counts(RATINGS_MISSING, al), EXPECT_RATINGS),
    (lambda r, al, t: a.rated_counts(RATINGS_MISSING, al, t), EXPECT_RATINGS),
    (lambda r, al, t: a.rated_counts(r, ALLOCATION_MISSING, t), EXPECT_ALLOCATION),
    (lambda r, al, t: nt.referred_back(pd.DataFrame(columns=["case_id"])),
     "flags: missing column(s) 'reviewer', 'referred_back'; expected case_id, reviewer, referred_back"),
    *[(lambda r, al, t, f=f: f(pd.DataFrame(columns=["note_id", "source"])),
       "notes: missing column(s) 'meeting_kind', 'who', 'kind', 'text', 'speaker_role', 'stance', "
       "'use_in_report', 'codes'; expected note_id, source, meeting_kind, who, kind, text, speaker_role, "
       "stance, use_in_report, codes")
      for f in (nt.theme_counts, nt.one_change_lists, nt.report_quotes)],
])
def test_a_missing_column_is_named_with_its_table(call, expected, ratings, allocation, tool):
    with pytest.raises(InvalidInputError) as exc:
        call(ratings, allocation, tool)
    assert str(exc.value) == expected


@pytest.mark.parametrize("i, expected", [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"),
                                         (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA")])
def test_letters_count_like_spreadsheet_columns(i, expected):
    assert a.letters(i) == expected


def test_anonymised_reviewers_are_lettered_in_name_order(ratings):
    spread = a.reviewer_spread(ratings, make_tool().scale, anonymise=True)
    assert list(spread["reviewer"]) == ["Reviewer A", "Reviewer B", "Reviewer C"]


def test_primary_column_reads_y_and_1_as_yes_and_keeps_the_rating_columns(ratings):
    alloc = pd.DataFrame({"case_id": ["C1", "C2", "C2", "C3"], "reviewer": ["Ann", "Bob", "Ann", "Cat"],
                          "primary": [" Y ", "1", "0", "y"]})
    p = a.primary_ratings(ratings, alloc)
    assert list(p.columns) == list(ratings.columns) and list(p.index) == list(range(12))
    assert sorted(set(zip(p["case_id"], p["reviewer"]))) == [("C1", "Ann"), ("C2", "Bob"), ("C3", "Cat")]


def test_a_level_nobody_gave_has_an_interval_from_zero(primary, tool):
    dist = a.rating_distribution(primary, tool.scale)
    outstanding = dist[dist["level"] == "Outstanding"].iloc[0]
    assert outstanding["count"] == 1
    # Drop the one Outstanding: no case record has one, so the interval starts at 0.
    none = a.rating_distribution(primary[primary["rating"] != "Outstanding"], tool.scale)
    row = none[none["level"] == "Outstanding"].iloc[0]
    # C1 has one scored question left, C2 three and C3 three.
    lo, hi = a.clustered_wilson_interval([0, 0, 0], [1, 3, 3])
    assert row["count"] == 0 and row["ci_low"] == 0.0 and row["ci_high"] == pytest.approx(100 * hi)
    assert lo == 0.0
    assert none["count"].dtype.kind == "i"


def test_overall_distribution_counts_its_records(primary, tool):
    dist = a.overall_distribution(primary, tool.scale)
    assert dist.attrs == {"scored": 3, "not_applicable": 0, "records": 3}


def test_question_levels_is_the_level_table_of_one_question(primary, tool):
    qdist = a.question_distribution(primary, tool)
    q3 = a.question_levels(qdist.iloc[2], tool.scale)
    assert list(q3["count"]) == [0, 1, 0, 1, 1]
    assert list(q3["display"]) == ["0 (0.0%)", "1 (50.0%)", "0 (0.0%)", "1 (50.0%)", "1 (not counted)"]
    assert q3.attrs == {"scored": 2, "not_applicable": 1}
    # A row without some levels counts them as none.
    partial = a.question_levels({"Good": 2, "Inadequate": 2}, tool.scale)
    assert list(partial["count"]) == [0, 2, 0, 2, 0] and partial.attrs["scored"] == 4


def test_share_good_or_better_for_one_question_in_full(primary, tool):
    share = a.share_good_or_better(primary, tool.scale, "q1")
    lo, hi = a.wilson_interval(3, 3)
    assert share == {"count": 3, "total": 3, "percent": 100.0, "display": "3 (100.0%)",
                     "ci_low": 100 * lo, "ci_high": 100 * hi, "levels": ["Outstanding", "Good"],
                     "question": "q1"}


def test_a_reviewer_with_no_scored_question_has_no_mean(tool):
    r = frame([("C1", "Ann", "q1", "Not applicable", ""), ("C1", "Ann", "overall", "Good", ""),
               ("C2", "Bob", "q1", "Good", "")])
    spread = a.reviewer_spread(r, tool.scale)
    ann = spread.iloc[0]
    assert (ann["reviewer"], ann["cases"], ann["scored"], ann["Not applicable"]) == ("Ann", 1, 0, 1)
    assert math.isnan(ann["mean_score"]) and spread.iloc[1]["mean_score"] == 3.0


def test_empty_tables_keep_their_headings(tool):
    assert list(a.reviewer_spread(None, tool.scale).columns) == (
        ["reviewer", "cases"] + tool.scale.labels + ["scored", "mean_score"])
    assert list(nt.referred_back(None).columns) == ["case_id", "reviewers", "reasons"]
    assert list(nt.previous_recommendations([]).columns) == ["number", "recommendation", "update"]
    empty_q = a.question_distribution(None, tool).iloc[0:0]
    assert list(a.question_display_table(empty_q, tool.scale).columns) == ["Question"] + tool.scale.labels


def test_weakest_questions_rank_by_share_and_include_a_question_rated_once(tool):
    rows = [(f"C{i}", "Ann", "q1", "Good" if i <= 3 else "Inadequate", "") for i in range(1, 7)]
    rows += [("C1", "Ann", "q2", "Good", ""), ("C2", "Ann", "q2", "Outstanding", "")]
    rows += [("C1", "Ann", "q3", "Inadequate", "")]
    weakest = a.weakest_questions(frame(rows), tool, n=2)
    # q3: 0 of 1; q1: 3 of 6 (fewer than q2's 2 of 2 only by share, not by count).
    assert list(weakest["question"]) == ["q3", "q1"]
    assert list(weakest["display"]) == ["0 (0.0%)", "3 (50.0%)"]
    assert weakest.attrs == {"tied": 0, "rated_questions": 3}


def test_moderation_caveats_and_notes_are_worded_in_full(tool):
    one = frame([("C1", "Ann", "q1", "Good", ""), ("C1", "Bob", "q1", "Good", "")])
    _, summary = ag.moderation_agreement(one, None, tool.scale)
    assert summary["caveat"] == ("Agreement on 1 moderation case is a rough guide, not a verdict: with so "
                                 "few ratings a single different rating moves these figures a lot.")
    assert summary["alpha_note"] == ("Krippendorff's alpha is undefined when every rating is the same level "
                                     "(there is no variation to agree about); raw agreement is shown instead.")
    unpaired = frame([("C1", "Ann", "q1", "Not applicable", ""), ("C1", "Bob", "q1", "Good", "")])
    _, summary = ag.moderation_agreement(unpaired, None, tool.scale)
    assert summary["alpha_note"] == ("Krippendorff's alpha needs at least one question rated by two "
                                     "reviewers on the same case; there is none.")
    _, summary = ag.moderation_agreement(frame([("C1", "Ann", "q1", "Good", "")]), None, tool.scale)
    assert summary["caveat"] == ("No case records were rated by more than one reviewer, so agreement "
                                 "between reviewers cannot be measured.")


def test_referred_back_cases_in_order_with_or_without_reasons():
    flags = pd.DataFrame({"case_id": ["C3", "C1", "C2"], "reviewer": ["Cat", "Ann", "Bob"],
                          "referred_back": [True, True, True]})
    out = nt.referred_back(flags)
    assert out.values.tolist() == [["C1", "Ann", []], ["C2", "Bob", []], ["C3", "Cat", []]]


def test_use_in_report_written_as_text_is_read_as_yes_or_no():
    notes = pd.DataFrame([note(1, kind="quote", text="kept", use="yes"),
                          note(2, kind="quote", text="left out", use="no"),
                          note(3, kind="one_change", text="kept too", use="Yes"),
                          note(4, kind="one_change", text="also left out", use="false")])
    assert list(nt.report_quotes(notes)["text"]) == ["kept"]
    assert nt.one_change_lists(notes) == {"managers": ["kept too"]}


def test_codes_written_in_text_or_left_blank(notes):
    more = pd.DataFrame([note(20, codes="supervision; panel"), note(21, codes="panel,  supervision"),
                         note(22, codes=None), note(23, codes=float("nan")),
                         note(24, kind="quote", use=True, codes=float("nan")),
                         note(25, kind="quote", use=True, codes=None)])
    t = nt.theme_counts(more)
    assert list(t.columns) == nt.THEME_COLUMNS and t["count"].dtype.kind == "i"
    assert t.values.tolist() == [["panel", "panel", "managers", "unspecified", 2],
                                 ["supervision", "supervision", "managers", "unspecified", 2]]
    assert list(nt.report_quotes(more)["codes"]) == [(), ()]


def test_a_meeting_without_a_kind_is_grouped_as_a_meeting():
    notes = pd.DataFrame([note(1, kind="quote", use=True, meeting_kind="", codes=("c",)),
                          note(2, kind="quote", use=True, meeting_kind=None, codes=("c",)),
                          note(3, kind="one_change", use=True, meeting_kind="  ", text="x")])
    assert list(nt.report_quotes(notes)["group"]) == ["meeting", "meeting"]
    assert nt.theme_counts(notes)["meeting_kind"].tolist() == ["meeting"]
    assert nt.one_change_lists(notes) == {"meeting": ["x"]}


def test_a_meeting_quote_is_never_attributed_by_who_wrote_it_down():
    notes = pd.DataFrame([note(1, kind="quote", use=True, who=CANARY, role="")])
    quotes = nt.report_quotes(notes)
    assert list(quotes["role"]) == ["participant"] and list(quotes["group"]) == ["managers"]


def test_a_previous_recommendation_that_is_not_a_mapping_is_named():
    with pytest.raises(InvalidInputError) as exc:
        nt.previous_recommendations([{"text": "ok"}, "Waiting lists"])
    assert str(exc.value) == "previous recommendation 2: expected a mapping with 'text' and 'update'"


def test_reviewers_who_rated_without_an_allocation_are_counted(ratings, allocation):
    extra = pd.concat([ratings, frame([("C3", "Eve", "q1", "Good", "")])])
    assert a.review_counts(extra, allocation)["reviewers"] == 4


def test_a_meeting_without_roles_does_not_stop_the_count():
    meetings = [{"kind": "managers", "attendees": 3}, {"kind": "practitioners", "by_role": {"manager": 2}}]
    assert a.attendance_by_role(meetings) == {"manager": 2}
