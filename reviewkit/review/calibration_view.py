"""What the team sees of a calibration round, as plain lines for the command line and the form.

In: an open workspace and its store (the calibration tables). Out: lines of text: who has
rated the calibration records; per record and question, everyone's rating side by side (names:
for the team only), the spread, the tool's descriptors and the agreed rating, most
disagreement first; and agreement round by round (the same code as moderation).
"""

from __future__ import annotations

from typing import Any

from reviewkit.figures.analysis import format_percent
from reviewkit.figures.calibration import compare_rounds, round_agreement, side_by_side
from reviewkit.review.workspace import Workspace

__all__ = ["agreement_lines", "show_lines", "status_lines"]


def status_lines(ws: Workspace, store: Any) -> list[str]:
    """The calibration's state: records, round, and how many ratings each reviewer still has to give."""
    records = store.calibration_records()
    if not records:
        return ["No calibration is set up. To hold one, name one or more fictional or anonymised records:",
                f"  reviewkit calibrate {ws.path} --record CAL1 --record CAL2"]
    lines = [f"Calibration records: {', '.join(records)}; round {store.calibration_round()}."]
    opened = {r[0] for r in store.execute_read("SELECT reviewer FROM calibration_open")}
    for reviewer in ws.meta.reviewers:
        missing = store.calibration_missing(reviewer)
        state = ("has rated every calibration record" if missing == 0
                 else f"{missing} round-1 rating(s) to go")
        if missing and ("*" in opened or reviewer in opened):
            state += " (cases opened early by the host)"
        elif missing:
            state += " (case ratings wait until then)"
        lines.append(f"  {reviewer}: {state}")
    return lines


def _level_text(value: Any) -> str:
    return f"{value[0]}" + (f" — {value[1]}" if value[1] else "") if value else ""


def show_lines(ws: Workspace, store: Any, number: int | None = None) -> list[str]:
    """Per record and question of a round, most disagreement first: ratings side by side and descriptors."""
    number = store.calibration_round() if number is None else number
    ratings = store.calibration_ratings()
    rows = side_by_side(ratings, ws.tool, number, store.agreed_ratings())
    if not rows:
        return [f"No calibration ratings in round {number} yet."]
    lines = [f"Calibration round {number}: {len(rows)} record question(s) rated; most disagreement first. "
             "Names are for the team only."]
    first = [r for r in rows if not r["all_agree"]]
    if first:
        lines.append("Talk through first: " + ", ".join(f"{r['record_id']} {r['question']}" for r in first[:5]))
    for r in rows:
        lines.append("")
        lines.append(f"{r['record_id']} {r['question']} {r['title']}: same rating in {r['agreement']} of the pairs; "
                     f"spread {r['spread']} level(s)")
        lines.append("  " + " · ".join(f"{who}: {level}" for who, level in r["ratings"].items()))
        for level, text in r["descriptors"].items():
            if text:
                lines.append(f"    {level}: {text}")
        if r["agreed"]:
            lines.append(f"  Agreed: {_level_text(r['agreed'])}")
    lines.append("")
    lines.extend(agreement_lines(ws, store))
    return lines


def agreement_lines(ws: Workspace, store: Any) -> list[str]:
    """Agreement per round (questions only, as for moderation), and round 1 against the latest."""
    ratings = store.calibration_ratings()
    rounds = sorted({int(r) for r in ratings["round"]}) if len(ratings) else []
    lines = []
    for number in rounds:
        _, s = round_agreement(ratings, ws.tool, number)
        alpha = "not computable" if s["alpha"] is None else f"{s['alpha']:.2f}"
        share = f" ({format_percent(s['agreeing_pairs'], s['pairs'])})" if s["pairs"] else ""
        lines.append(f"Round {number}: reviewers gave the same rating in {s['agreeing_pairs']} of {s['pairs']} "
                     f"pairs{share}; Krippendorff's alpha {alpha}.")
    if len(rounds) > 1:
        c = compare_rounds(ratings, ws.tool, rounds[0], rounds[-1])
        b, a = c["before"], c["after"]
        lines.append(f"Before the discussion {b['agreeing_pairs']} of {b['pairs']} pairs agreed; after it "
                     f"{a['agreeing_pairs']} of {a['pairs']}.")
    return lines
