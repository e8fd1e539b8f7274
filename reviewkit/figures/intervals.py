"""95% confidence intervals for shares of ratings, honest about how the ratings were collected.

Two kinds of share appear in a report:

- one rating per case record (the overall judgements, or one question across the case
  records): the ratings are independent draws, so the plain Wilson score interval is right;
- many ratings per case record pooled together (all question ratings): ratings of the same
  case record resemble each other, so they carry less information than their number suggests.
  ``clustered_wilson_interval`` shrinks the sample to its effective size with a design effect
  estimated from the data (ANOVA intra-class correlation), then applies Wilson with the
  t quantile for (case records − 1) degrees of freedom.

A seeded simulation (20 case records × 12 questions, true shares 5–60%, case-level random
effects up to SD 1.2 on the logit scale) gives this method 93–98% coverage of nominal 95%
intervals, where plain Wilson on all ratings gives 68–96% (see tests/test_intervals.py).
A level given 0 or 1 times says nothing about how ratings of a case record resemble each
other (the estimate would be 0: no clustering), so its interval takes the largest design
effect a case record allows instead (``SPARSE_LIMIT``, ``conservative_design_effect``).

A change between two review rounds is the difference of two shares from independent samples
of case records: ``newcombe_difference`` gives its 95% interval by Newcombe's hybrid score
method (method 10 of Newcombe 1998, built from the two Wilson intervals), on effective sample
sizes when the shares pool several ratings per case record.
Everything here is pure arithmetic: no files, no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "CLUSTERED_METHOD",
    "SPARSE_LIMIT",
    "conservative_design_effect",
    "design_effect",
    "clustered_wilson_interval",
    "newcombe_difference",
    "t_quantile_95",
    "wilson_interval",
]

Z95 = 1.959963984540054
# Two-sided 95% quantiles of Student's t for 1–9 degrees of freedom (the expansion below is
# accurate to 0.001 from 10 upwards).
_T95_SMALL = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646,
              8: 2.3060, 9: 2.2622}

CLUSTERED_METHOD = (
    "Each case record contributes up to {questions} question ratings, and ratings of the same "
    "case record tend to resemble each other, so the {ratings} ratings carry less information "
    "than {ratings} independent ratings would. The intervals for all question ratings therefore "
    "use the Wilson score method on an effective sample size: the number of ratings divided by a "
    "design effect estimated from how much more the ratings vary between case records than "
    "within them (the analysis-of-variance intra-class correlation), with the t distribution for "
    "the number of case records less one. The intervals for the overall judgements and for each "
    "question have one rating per case record, so they use the Wilson score method directly."
)
# A level with this many ratings or fewer gives no estimate of the clustering: see sparse_note.
SPARSE_LIMIT = 1


def wilson_interval(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for k of n as proportions; honest at small n, unlike k/n ± z·se."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(max(0.0, p * (1 - p)) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def t_quantile_95(df: int) -> float:
    """The 97.5th percentile of Student's t with df degrees of freedom (two-sided 95%)."""
    if df < 1:
        return float("inf")
    if df in _T95_SMALL:
        return _T95_SMALL[df]
    z, v = Z95, float(df)
    # Cornish–Fisher expansion of t in terms of the normal quantile.
    return (z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3))


def design_effect(successes: Sequence[float], totals: Sequence[float]) -> tuple[float, float]:
    """(intra-class correlation, design effect) of a share counted in clusters.

    ``successes[i]`` of ``totals[i]`` ratings of case record i are in the level. The ANOVA
    estimator of the intra-class correlation is truncated at 0 (no clustering is assumed when
    the case records vary less than chance would make them) and is 0 when there is no
    variation at all. The design effect is 1 + (Σnᵢ²/N − 1)·ICC.
    """
    pairs = [(float(s), float(n)) for s, n in zip(successes, totals) if n > 0]
    k = len(pairs)
    total = sum(n for _, n in pairs)
    if k < 2 or total <= k:  # one case record, or one rating each: nothing to correlate
        return (0.0, 1.0)
    p = sum(s for s, _ in pairs) / total
    between = sum(n * (s / n - p) ** 2 for s, n in pairs) / (k - 1)
    within = sum(s * (1 - s / n) for s, n in pairs) / (total - k)
    n0 = (total - sum(n * n for _, n in pairs) / total) / (k - 1)
    denom = between + (n0 - 1) * within
    icc = 0.0 if denom <= 0 else min(1.0, max(0.0, (between - within) / denom))
    deff = 1 + (sum(n * n for _, n in pairs) / total - 1) * icc
    return icc, deff


def conservative_design_effect(totals: Sequence[float]) -> float:
    """The largest design effect clusters of these sizes allow: the largest cluster's size.

    Used where the clustering cannot be estimated (a level given 0 or 1 times): the effective
    sample is then no larger than the number of clusters, as if each case record gave one rating.
    """
    return max([float(n) for n in totals if n > 0], default=1.0)


def clustered_wilson_interval(successes: Sequence[float], totals: Sequence[float]) -> tuple[float, float]:
    """95% interval (proportions) for a share pooled over clusters (e.g. ratings within case records).

    ``successes[i]`` of ``totals[i]`` ratings of cluster i are in the level. Wilson on the
    effective sample size N / design effect, with the t quantile for (clusters − 1) degrees of
    freedom. With a single cluster the clustering cannot be estimated, so the interval is as wide
    as one observation allows. With ``SPARSE_LIMIT`` (1) or fewer successes in all (or failures:
    the same thing seen from the other side), the estimated intra-class correlation would be 0
    whatever the truth, so the design effect is the largest the
    cluster sizes allow (``conservative_design_effect``) rather than 1.
    """
    pairs = [(float(s), float(n)) for s, n in zip(successes, totals) if n > 0]
    total = sum(n for _, n in pairs)
    if total <= 0:
        return (float("nan"), float("nan"))
    k = sum(s for s, _ in pairs)
    if len(pairs) < 2:
        return wilson_interval(k / total, 1.0, t_quantile_95(1))
    if (k <= SPARSE_LIMIT or total - k <= SPARSE_LIMIT) and total > len(pairs):
        deff = conservative_design_effect([n for _, n in pairs])
    else:
        _, deff = design_effect([s for s, _ in pairs], [n for _, n in pairs])
    n_eff = total / deff
    return wilson_interval(k / total * n_eff, n_eff, t_quantile_95(len(pairs) - 1))


def newcombe_difference(k1: float, n1: float, k2: float, n2: float, *, z1: float = Z95,
                        z2: float = Z95) -> tuple[float, float, float]:
    """(difference, low, high) of p2 − p1 as proportions: Newcombe's hybrid score interval.

    Method 10 of Newcombe (1998, Statistics in Medicine 17:873–890): with Wilson limits
    (l1, u1) for p1 = k1/n1 and (l2, u2) for p2 = k2/n2, the difference d = p2 − p1 has limits
    d − √((p2 − l2)² + (u1 − p1)²) and d + √((u2 − p2)² + (p1 − l1)²). For a share pooled over
    several ratings per case record pass effective sizes (n / design effect, with k scaled to
    keep the share) and the t quantile for the case records less one as ``z1``/``z2``. NaNs when
    either round has nothing rated.
    """
    if n1 <= 0 or n2 <= 0:
        nan = float("nan")
        return (nan, nan, nan)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z1)
    l2, u2 = wilson_interval(k2, n2, z2)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return (d, max(-1.0, low), min(1.0, high))
