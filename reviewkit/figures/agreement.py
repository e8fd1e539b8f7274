"""Agreement between reviewers on the moderation cases: raw agreement and Krippendorff's ordinal alpha.

In: ratings, the allocation and the rating scale (the shapes ``reviewkit.figures.analysis``
checks). Out: a table of case × question agreement and a summary dict with the method and a
caveat the report prints. Kept apart: it is the only figure that sets reviewers' ratings of
the same case side by side, and the only one that needs ``krippendorff``.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from reviewkit.core.tools import OVERALL, RatingScale
from reviewkit.figures.analysis import (
    ALLOCATION_COLUMNS,
    checked_frame,
    format_count,
    pct,
    questions_only,
    scored_ratings,
)

__all__ = [
    "AGREEMENT_METHOD",
    "MODERATION_COLUMNS",
    "moderation_agreement",
]


# --------------------------------------------------------------------------- moderation

AGREEMENT_METHOD = (
    "Raw agreement is the share of pairs of reviewers who gave the same rating to the same "
    "question of the same case record (Not applicable ratings are left out). Krippendorff's "
    "alpha (ordinal) corrects that for the agreement expected by chance and counts near misses "
    "as smaller disagreements: 1 is perfect agreement, 0 is no better than chance."
)
MODERATION_COLUMNS = ["case_id", "question", "raters", "levels", "pairs", "agreeing_pairs", "near_pairs",
                      "agreement", "display", "spread", "agree"]


def _caveat(cases: int) -> str:
    noun = "case" if cases == 1 else "cases"
    return (f"Agreement on {cases} moderation {noun} is a rough guide, not a verdict: with so few "
            "ratings a single different rating moves these figures a lot.")


def moderation_agreement(ratings: pd.DataFrame | None, allocation: pd.DataFrame | None,
                         scale: RatingScale, *, include_overall: bool = False,
                         overall_id: str = OVERALL) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Agreement between reviewers on cases two or more of them rated (raw % and Krippendorff).

    The table has one row per case × question with at least two scored ratings (its counts are
    pairs of ratings, the unit of the summary's raw agreement: ``pairs``, ``agreeing_pairs``,
    ``near_pairs`` at most one level apart; ``agree`` is True when every pair agrees); the summary
    dict holds ``cases, reviewers`` (distinct, over all moderation cases), ``raters_min,
    raters_max`` (reviewers per moderation case), ``raters_count`` (cases by their number of reviewers), ``items, pairs, agreeing_pairs, raw_agreement`` (percent),
    ``raw_display``, ``within_one`` (percent of pairs at most one level apart), ``alpha``
    (None when undefined), ``alpha_note``, ``method`` and ``caveat``.
    """
    df = scored_ratings(ratings, scale)
    if allocation is not None and len(allocation):
        alloc = checked_frame(allocation, ALLOCATION_COLUMNS, "allocation")
        keys = set(zip(alloc["case_id"], alloc["reviewer"]))
        # A boolean Series, not a list: an empty list would select no columns, not no rows.
        df = df[pd.Series([(c, r) in keys for c, r in zip(df["case_id"], df["reviewer"])],
                          index=df.index, dtype=bool)]
    if not include_overall:
        df = questions_only(df, overall_id)
    per_case = df.groupby("case_id")["reviewer"].nunique() if len(df) else pd.Series(dtype=int)
    mod_cases = sorted(per_case[per_case >= 2].index.tolist(), key=str)
    mod = df[df["case_id"].isin(mod_cases)]
    raters = mod.groupby("case_id")["reviewer"].nunique() if len(mod) else pd.Series(dtype=int)
    summary: dict[str, Any] = {
        "cases": len(mod_cases), "reviewers": int(mod["reviewer"].nunique()), "items": 0,
        "raters_min": int(raters.min()) if len(raters) else 0,
        "raters_max": int(raters.max()) if len(raters) else 0,
        # how many moderation cases had each number of reviewers ({2: 1, 3: 1})
        "raters_count": {int(k): int(v) for k, v in sorted(raters.value_counts().items())},
        "pairs": 0, "agreeing_pairs": 0, "raw_agreement": None, "raw_display": format_count(0, 0),
        "within_one": None, "alpha": None, "alpha_note": "", "method": AGREEMENT_METHOD,
        "caveat": _caveat(len(mod_cases)),
    }
    if not mod_cases:
        summary["caveat"] = ("No case records were rated by more than one reviewer, so agreement "
                             "between reviewers cannot be measured.")
        summary["alpha_note"] = "No moderation cases."
        return pd.DataFrame(columns=MODERATION_COLUMNS), summary

    scored = mod[mod["score"].notna()].sort_values(["case_id", "question", "reviewer"], kind="mergesort")
    rows = []
    units: list[tuple[Any, str]] = []
    pairs = agreeing = near = 0
    for (case_id, question), group in scored.groupby(["case_id", "question"], sort=True):
        if len(group) < 2:
            continue
        scores = group["score"].tolist()
        n_pairs = agree = within = 0
        for a, b in combinations(scores, 2):
            n_pairs += 1
            agree += a == b
            within += abs(a - b) <= 1
        pairs += n_pairs
        agreeing += agree
        near += within
        units.append((case_id, question))
        rows.append({"case_id": case_id, "question": question, "raters": len(group),
                     "levels": " / ".join(group["level"]), "pairs": n_pairs,
                     "agreeing_pairs": agree, "near_pairs": within, "agreement": pct(agree, n_pairs),
                     "display": format_count(agree, n_pairs),
                     "spread": int(max(scores) - min(scores)), "agree": agree == n_pairs})
    table = pd.DataFrame(rows, columns=MODERATION_COLUMNS)
    summary.update(items=len(units), pairs=pairs, agreeing_pairs=agreeing,
                   raw_agreement=pct(agreeing, pairs) if pairs else None,
                   raw_display=format_count(agreeing, pairs),
                   within_one=pct(near, pairs) if pairs else None)
    summary["alpha"], summary["alpha_note"] = _ordinal_alpha(scored, units, scale)
    return table, summary


def _ordinal_alpha(scored: pd.DataFrame, units: list[tuple[Any, str]],
                   scale: RatingScale) -> tuple[float | None, str]:
    """Krippendorff's ordinal alpha over pairable units, or None with the reason."""
    if not units:
        return None, ("Krippendorff's alpha needs at least one question rated by two reviewers "
                      "on the same case; there is none.")
    pairable = set(units)
    values = scored[[(c, q) in pairable for c, q in zip(scored["case_id"], scored["question"])]]
    if values["score"].nunique() < 2:
        return None, ("Krippendorff's alpha is undefined when every rating is the same level "
                      "(there is no variation to agree about); raw agreement is shown instead.")
    reviewers = sorted({str(r) for r in values["reviewer"]})
    index = {u: j for j, u in enumerate(units)}
    matrix = np.full((len(reviewers), len(units)), np.nan)
    for r, c, q, s in zip(values["reviewer"], values["case_id"], values["question"], values["score"]):
        matrix[reviewers.index(str(r)), index[(c, q)]] = s
    domain = sorted(float(lv.score) for lv in scale.scored if lv.score is not None)
    alpha = float(krippendorff.alpha(reliability_data=matrix, value_domain=domain,
                                     level_of_measurement="ordinal"))
    if math.isnan(alpha):
        return None, "Krippendorff's alpha could not be computed from these ratings."
    return alpha, ""
