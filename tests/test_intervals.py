"""Intervals for shares of ratings: the clustered interval keeps its promised coverage.

The coverage simulation is the evidence behind the report's methods note: 20 case records ×
12 questions, true shares 5–60%, case-level random effects with SD up to 1.2 on the logit
scale, 1,000 simulated reviews per scenario with a fixed seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewkit.figures.intervals import clustered_wilson_interval, design_effect, t_quantile_95, wilson_interval

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
    lo, hi = clustered_wilson_interval([0] * 20, [12] * 20)  # none in the level
    assert lo == 0.0 and 0 < hi < 0.05
    lo, hi = clustered_wilson_interval([6], [12])  # one case record: no claim to precision
    assert lo < 0.05 and hi > 0.95
    lo, hi = clustered_wilson_interval([1] * 10, [1] * 10)  # one rating each: no clustering to remove
    assert 0.6 < lo < 1.0 and hi == 1.0


def test_t_quantile():
    assert t_quantile_95(19) == pytest.approx(2.0930, abs=1e-3)
    assert t_quantile_95(5) == pytest.approx(2.5706, abs=1e-3)
    assert t_quantile_95(10) == pytest.approx(2.2281, abs=1e-3)
    assert t_quantile_95(1000) == pytest.approx(1.962, abs=1e-3)
    assert t_quantile_95(0) == math.inf
