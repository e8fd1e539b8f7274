"""This review beside the previous round: per question, both shares with both intervals.

The previous round's figures are kept in the workspace as a regional bundle
(``previous_round.zip``: counts only, no case ids or free text), taken from the previous
round's own bundle or workspace when the review was created (``reviewkit new --previous``).
Two rounds rate different case records with different reviewers, so the wording never claims
more than the intervals allow: where they overlap, the review cannot tell whether practice
changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.tools import AuditTool
from reviewkit.figures import analysis as an

if TYPE_CHECKING:  # the bundle is read by the review (reviewkit.review.bundle); figures take it as data
    from reviewkit.review.bundle import Bundle, CountRow

__all__ = ["TREND_COLUMNS", "compare_rounds", "round_share"]

TREND_COLUMNS = ["question", "number", "title", "prev_count", "prev_total", "prev_percent", "prev_low",
                 "prev_high", "count", "total", "percent", "low", "high", "verdict"]
OVERLAP, HIGHER, LOWER, UNAVAILABLE = "overlap", "higher", "lower", "unavailable"


def round_share(row: CountRow, bundle: Bundle) -> tuple[int, int] | None:
    """(Outstanding or Good, scored) from a bundle row, or None if a cell it needs was suppressed."""
    labels = bundle.level_labels
    scored = bundle.scored_labels
    cells = dict(zip(labels, row.cells))
    top = scored[:2]
    if any(cells.get(lb) is None for lb in top):
        return None
    unscored = [lb for lb in labels if lb not in scored]
    if any(cells.get(lb) is None for lb in unscored):
        if any(cells.get(lb) is None for lb in scored):
            return None
        total = sum(int(cells[lb] or 0) for lb in scored)
    else:
        total = row.total - sum(int(cells[lb] or 0) for lb in unscored)
    return sum(int(cells[lb] or 0) for lb in top), total


def _verdict(a: tuple[float, float], b: tuple[float, float]) -> str:
    if any(pd.isna(v) for v in (*a, *b)):
        return UNAVAILABLE
    if b[0] > a[1]:
        return HIGHER
    if b[1] < a[0]:
        return LOWER
    return OVERLAP


def compare_rounds(ratings: pd.DataFrame | None, tool: AuditTool, previous: Bundle) -> pd.DataFrame:
    """Per question asked in both rounds (same id and title), and the overall judgement, both shares.

    ``ratings`` are this round's primary ratings. Shares and Wilson intervals are on a 0–100
    scale; ``verdict`` is "higher" or "lower" (this round against the previous) only when the
    two 95% intervals do not overlap, "overlap" otherwise, "unavailable" when either share is
    unknown (no ratings, or a count suppressed in the previous round's bundle).
    """
    current = an.question_distribution(ratings, tool).set_index("question")
    prev_rows = {r.key: r for r in previous.ratings}
    prev_titles = dict(previous.questions)
    rows: list[dict[str, Any]] = []

    def add(qid: str, number: Any, title: str, k: int, n: int, prev: CountRow | None) -> None:
        share = round_share(prev, previous) if prev is not None else None
        pk, pn = share if share is not None else (0, 0)
        plo, phi = an.wilson_interval(pk, pn)
        lo, hi = an.wilson_interval(k, n)
        rows.append({"question": qid, "number": number, "title": title,
                     "prev_count": pk if share else None, "prev_total": pn if share else None,
                     "prev_percent": an.pct(pk, pn), "prev_low": 100 * plo, "prev_high": 100 * phi,
                     "count": k, "total": n, "percent": an.pct(k, n), "low": 100 * lo, "high": 100 * hi,
                     "verdict": _verdict((plo, phi), (lo, hi))})

    for q in tool.questions:
        if q.id in prev_rows and " ".join(prev_titles.get(q.id, "").split()).casefold() == q.title.casefold():
            r = current.loc[q.id]
            add(q.id, int(r["number"]), q.title, int(r["good_or_better"]), int(r["scored"]), prev_rows[q.id])
    overall = an.share_good_or_better(ratings, tool.scale, question=tool.overall.id)
    add(tool.overall.id, None, "Overall judgement", int(overall["count"]), int(overall["total"]), previous.overall)
    return pd.DataFrame(rows, columns=TREND_COLUMNS)
