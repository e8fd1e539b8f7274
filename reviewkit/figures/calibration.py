"""Calibration figures: the team's ratings of the same calibration records, side by side, and agreement.

In: calibration ratings (round, record_id, reviewer, question, rating) as the store's
``calibration_ratings()`` gives them, the audit tool, and the agreed ratings. Out: the
side-by-side table for the team (names inside the team only: never published), the order in
which to talk the questions through (most disagreement first), agreement per round computed
by the same code as moderation (``reviewkit.figures.agreement.moderation_agreement``), the
comparison of two rounds, and the report's methods sentence (counts only, no reviewer).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from reviewkit.core.tools import AuditTool
from reviewkit.figures.agreement import moderation_agreement
from reviewkit.figures.analysis import format_count
from reviewkit.figures.sentences import count_noun

__all__ = [
    "CALIBRATION_COLUMNS",
    "calibration_sentence",
    "compare_rounds",
    "round_agreement",
    "side_by_side",
]

CALIBRATION_COLUMNS = ["round", "record_id", "reviewer", "question", "rating"]


def _round_frame(ratings: pd.DataFrame, number: int) -> pd.DataFrame:
    df = ratings[ratings["round"].astype(int) == int(number)]
    return df.rename(columns={"record_id": "case_id"})[["case_id", "reviewer", "question", "rating"]]


def round_agreement(ratings: pd.DataFrame, tool: AuditTool, number: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Agreement on one round's calibration records: the moderation table and summary, records as cases."""
    return moderation_agreement(_round_frame(ratings, number), None, tool.scale, overall_id=tool.overall.id)


def side_by_side(ratings: pd.DataFrame, tool: AuditTool, number: int,
                 agreed: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """Per record and question of one round: each reviewer's rating, the spread, the descriptors.

    Rows come most disagreement first (the smallest share of agreeing pairs, then the widest
    spread), so the team talks those through first. Each row: ``record_id, question, title,
    ratings`` (reviewer -> level, for the team only), ``spread`` (levels between the highest
    and lowest rating), ``agreement`` ('1 (33.3%)' of pairs), ``all_agree``, ``descriptors``
    (level -> the audit tool's descriptor, for each level someone gave) and ``agreed``
    (the agreed level and note, when recorded).
    """
    scale = tool.scale
    df = _round_frame(ratings, number)
    agreed_map = {} if agreed is None else {(str(a["record_id"]), str(a["question"])): (a["rating"], a["note"])
                                            for a in agreed.to_dict("records")}
    order = {q: i for i, q in enumerate(tool.all_ids)}
    rows = []
    for (record, question), group in df.groupby(["case_id", "question"], sort=True):
        if str(question) not in order:
            continue
        by_reviewer = {str(r): str(scale.level(v).label) for r, v in zip(group["reviewer"], group["rating"])}
        scores = [scale.level(v).score for v in by_reviewer.values()]
        scored = [s for s in scores if s is not None]
        pairs = agree = 0
        values = list(by_reviewer.values())
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                pairs += 1
                agree += values[i] == values[j]
        q = tool.question(str(question))
        given = [lv.label for lv in scale.levels if lv.label in set(values)]
        rows.append({
            "record_id": str(record), "question": str(question), "title": q.title,
            "ratings": dict(sorted(by_reviewer.items())),
            "spread": (max(scored) - min(scored)) if scored else 0,
            "pairs": pairs, "agreeing_pairs": agree, "agreement": format_count(agree, pairs),
            "all_agree": pairs > 0 and agree == pairs,
            "descriptors": {label: q.descriptors.get(label, "") for label in given},
            "agreed": agreed_map.get((str(record), str(question))),
            "_order": order[str(question)],
        })
    rows.sort(key=lambda r: (r["agreeing_pairs"] / r["pairs"] if r["pairs"] else 1.0, -r["spread"],
                             r["record_id"], r["_order"]))
    for r in rows:
        del r["_order"]
    return rows


def compare_rounds(ratings: pd.DataFrame, tool: AuditTool, first: int = 1,
                   second: int = 2) -> dict[str, Any]:
    """Agreement in two rounds on the same records: pairs agreeing and Krippendorff's alpha, before and after."""
    out: dict[str, Any] = {}
    for name, number in (("before", first), ("after", second)):
        _, s = round_agreement(ratings, tool, number)
        out[name] = {"round": number, "pairs": s["pairs"], "agreeing_pairs": s["agreeing_pairs"],
                     "raw_display": s["raw_display"], "alpha": s["alpha"], "alpha_note": s["alpha_note"],
                     "records": s["cases"], "reviewers": s["reviewers"]}
    return out


def _alpha_text(alpha: float | None) -> str:
    return "could not be computed" if alpha is None else f"{alpha:.2f}"


def calibration_sentence(ratings: pd.DataFrame, records: int, tool: AuditTool) -> str:
    """The methods sentence: a calibration took place, how many records and questions, agreement before it.

    Counts only: no reviewer, record reference or rating is named. '' when no calibration was held.
    """
    if records <= 0 or ratings is None or not len(ratings):
        return ""
    questions = len(tool.questions)
    _, first = round_agreement(ratings, tool, 1)
    same = ("the same fictional or anonymised case record" if records == 1 else
            f"the same {count_noun(records, 'fictional or anonymised case record')}")
    text = ("Before rating their case records, the reviewers took part in a calibration exercise. Each rated "
            f"{same} on the {count_noun(questions, 'question')} of the audit tool on their own. Then the team "
            "talked through where their ratings differed, using the tool's descriptors.")
    if first["pairs"]:
        text += (f" Before the discussion, reviewers gave the same rating in {first['agreeing_pairs']} of "
                 f"{count_noun(int(first['pairs']), 'pair')} of ratings.")
    rounds = sorted({int(r) for r in ratings["round"]})
    if len(rounds) > 1:
        _, last = round_agreement(ratings, tool, rounds[-1])
        if last["pairs"]:
            text += (f" When they rated the same records again after the discussion, they gave the same rating in "
                     f"{last['agreeing_pairs']} of {count_noun(int(last['pairs']), 'pair')}.")
    text += " The calibration ratings are not counted in any figure of this report."
    return text
