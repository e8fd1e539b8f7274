"""Intervals for shares of ratings: the clustered interval keeps its promised coverage.

The coverage simulation is the evidence behind the report's methods note: 20 case records ×
12 questions, true shares 5–60%, case-level random effects with SD up to 1.2 on the logit
scale, 1,000 simulated reviews per scenario with a fixed seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewkit.figures.intervals import (
    clustered_wilson_interval,
    conservative_design_effect,
    design_effect,
    newcombe_difference,
    t_quantile_95,
    wilson_interval,
)

SHARES = (0.05, 0.10, 0.20, 0.30, 0.45, 0.60)
SDS = (0.0, 0.4, 0.8, 1.2)
CASES, QUESTIONS, REVIEWS = 20, 12, 1000


def _marginal_share(intercept: float, sd: float) -> float:
    """The population share of ratings in the level: E[expit(intercept + sd·u)], u ~ N(0, 1)."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    return float((w / (1 + np.exp(-(intercept + sd * x)))).sum() / w.sum())


def _coverage(share: float, sd: float, rng: np.random.Generator) -> tuple[float, float]:
    """Share of simulated reviews whose interval covers the truth: (clustered, plain Wilson)."""
    intercept = math.log(share / (1 - share))
    truth = _marginal_share(intercept, sd)
    effects = rng.normal(0.0, sd, size=(REVIEWS, CASES, 1))
    p = 1 / (1 + np.exp(-(intercept + effects)))
    hits = (rng.random((REVIEWS, CASES, QUESTIONS)) < p).sum(axis=2)  # per case record
    totals = [QUESTIONS] * CASES
    clustered = plain = 0
    for per_case in hits:
        lo, hi = clustered_wilson_interval(per_case, totals)
        clustered += lo <= truth <= hi
        lo, hi = wilson_interval(int(per_case.sum()), CASES * QUESTIONS)
        plain += lo <= truth <= hi
    return clustered / REVIEWS, plain / REVIEWS


def test_clustered_interval_covers_the_truth_in_every_scenario():
    rng = np.random.default_rng(20261130)
    results = {(share, sd): _coverage(share, sd, rng) for share in SHARES for sd in SDS}
    clustered = {k: v[0] for k, v in results.items()}
    low = {k: v for k, v in clustered.items() if v < 0.92}
    assert not low, f"coverage below 92% (share, SD): {low}"
    assert max(clustered.values()) <= 0.99, "intervals far wider than they need to be"
    # The method it replaces does fail here: that is why the report no longer uses it.
    assert min(v[1] for v in results.values()) < 0.80


def test_wilson_is_kept_for_one_rating_per_case_record():
    lo, hi = wilson_interval(18, 20)
    assert (round(100 * lo, 1), round(100 * hi, 1)) == (69.9, 97.2)


def test_design_effect_of_identical_case_records_is_one():
    icc, deff = design_effect([3] * 20, [12] * 20)
    assert (icc, deff) == (0.0, 1.0)


def test_design_effect_grows_with_clustering():
    icc, deff = design_effect([12] * 5 + [0] * 15, [12] * 20)
    assert icc == pytest.approx(1.0)
    assert deff == pytest.approx(12.0)  # every rating of a case record is the same: 20 records, not 240


def test_clustered_interval_wider_than_plain_when_records_differ():
    per_case = [12, 11, 10, 9, 0, 0, 1, 0, 2, 1, 0, 0, 12, 10, 1, 0, 0, 3, 0, 0]
    lo, hi = clustered_wilson_interval(per_case, [12] * 20)
    plo, phi = wilson_interval(sum(per_case), 240)
    assert lo < plo and hi > phi


def test_clustered_interval_edges():
    assert all(math.isnan(x) for x in clustered_wilson_interval([], []))
    assert all(math.isnan(x) for x in clustered_wilson_interval([0, 0], [0, 0]))
    lo, hi = clustered_wilson_interval([0] * 20, [12] * 20)  # none in the level: as if 20 ratings, not 240
    assert lo == 0.0 and hi == pytest.approx(wilson_interval(0, 20, t_quantile_95(19))[1])
    lo, hi = clustered_wilson_interval([6], [12])  # one case record: no claim to precision
    assert lo < 0.05 and hi > 0.95
    lo, hi = clustered_wilson_interval([1] * 10, [1] * 10)  # one rating each: no clustering to remove
    assert 0.6 < lo < 1.0 and hi == 1.0
    lo, hi = clustered_wilson_interval([0] * 20, [1] * 20)  # one rating each, none in the level: plain Wilson
    assert (lo, hi) == pytest.approx(wilson_interval(0, 20, t_quantile_95(19)))


def test_t_quantile():
    assert t_quantile_95(19) == pytest.approx(2.0930, abs=1e-3)
    assert t_quantile_95(5) == pytest.approx(2.5706, abs=1e-3)
    assert t_quantile_95(10) == pytest.approx(2.2281, abs=1e-3)
    assert t_quantile_95(1000) == pytest.approx(1.962, abs=1e-3)
    assert t_quantile_95(0) == math.inf


# --------------------------------------------------------------------------- a level with 0 or 1 ratings

def test_a_level_with_0_or_1_ratings_takes_the_largest_design_effect_not_none():
    # One Inadequate among 238 ratings: the ANOVA estimate says no clustering (design effect 1), which
    # no single rating can show. The interval counts each case record once instead.
    sizes = [12] * 19 + [10]
    hits = [1] + [0] * 19
    assert design_effect(hits, sizes) == (0.0, 1.0)
    assert conservative_design_effect(sizes) == 12
    lo, hi = clustered_wilson_interval(hits, sizes)
    n_eff = 238 / 12
    assert (lo, hi) == pytest.approx(wilson_interval(n_eff / 238, n_eff, t_quantile_95(19)))
    assert hi > 3 * wilson_interval(1, 238)[1]
    # All ratings but one in the level is the same case seen from the other side.
    assert clustered_wilson_interval([n - h for n, h in zip(sizes, hits)], sizes) == pytest.approx((1 - hi, 1 - lo))
    # Two ratings: the clustering is estimated again.
    assert clustered_wilson_interval([2] + [0] * 19, sizes)[1] < hi


RARE_SHARES = (0.002, 0.005, 0.01, 0.02)


def test_interval_of_a_level_with_0_or_1_ratings_covers_the_truth():
    """Coverage of the 0-or-1 rule: 20 case records × 12 questions, rare levels, 4,000 reviews a scenario, seeded.

    Only the simulated reviews where the level got 0 or 1 ratings count (scenarios with fewer than
    100 such reviews are skipped). Measured (this seed, true shares 0.2–2%, case-level SD 0–1.2 on
    the logit scale): the rule covers the truth in 100% of them in every scenario, with an upper
    limit of about 18%; treating the ratings as independent (the estimated design effect of 1)
    covers it in as few as 78%. The price of not knowing the clustering is a wide interval.
    """
    rng = np.random.default_rng(20261209)
    worst, worst_independent = 1.0, 1.0
    for share in RARE_SHARES:
        for sd in SDS:
            truth = _marginal_share(math.log(share / (1 - share)), sd)
            effects = rng.normal(0.0, sd, size=(4000, CASES, 1))
            p = 1 / (1 + np.exp(-(math.log(share / (1 - share)) + effects)))
            hits = (rng.random((4000, CASES, QUESTIONS)) < p).sum(axis=2)
            sparse = hits[hits.sum(axis=1) <= 1]
            if len(sparse) < 100:
                continue
            covered = independent = 0
            for per_case in sparse:
                lo, hi = clustered_wilson_interval(per_case, [QUESTIONS] * CASES)
                covered += lo <= truth <= hi
                lo, hi = wilson_interval(int(per_case.sum()), CASES * QUESTIONS, t_quantile_95(CASES - 1))
                independent += lo <= truth <= hi
            worst = min(worst, covered / len(sparse))
            worst_independent = min(worst_independent, independent / len(sparse))
    assert worst >= 0.95, worst
    assert worst_independent < 0.93, worst_independent  # the rule this replaces did fall short


# --------------------------------------------------------------------------- a change between two rounds

@pytest.mark.parametrize(("a", "m", "b", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:873–890, Table II, method 10 (hybrid score).
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
])
def test_newcombe_difference_matches_the_published_worked_examples(a, m, b, n, low, high):
    d, lo, hi = newcombe_difference(b, n, a, m, z1=1.96, z2=1.96)  # p2 − p1 with p2 = a/m, as Newcombe's p1 − p2
    assert d == pytest.approx(a / m - b / n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_newcombe_difference_edges():
    assert all(math.isnan(v) for v in newcombe_difference(0, 0, 3, 10))
    d, lo, hi = newcombe_difference(5, 10, 5, 10)
    assert d == 0 and lo == pytest.approx(-hi)
    # Effective sizes and a t quantile widen it, as clustering should.
    assert newcombe_difference(5, 10, 8, 10, z1=2.09, z2=2.09)[1] < newcombe_difference(5, 10, 8, 10)[1]
