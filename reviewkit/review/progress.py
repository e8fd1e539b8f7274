"""Who has rated what: completeness per reviewer and case, and moderation disagreements.

Pure functions over the workspace's allocation and the store's rows, shared by the rating
form (its progress line and the "mark complete" check), the host's progress notebook and
``reviewkit status``, so that all three say the same thing about the same review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.tools import AuditTool, RatingScale

if TYPE_CHECKING:  # imported for type hints only: progress stays importable without a store
    from reviewkit.review.store import Store
    from reviewkit.review.workspace import Workspace

COMPLETENESS_COLUMNS = ["reviewer", "case_id", "moderation", "rated", "total", "missing", "overall",
                        "needs_note", "marked_complete", "complete", "referred_back"]
DISAGREEMENT_COLUMNS = ["case_id", "question", "title", "ratings", "steps"]


@dataclass(frozen=True)
class Entry:
    """What a reviewer has stored for one question of one case: a level and a note."""

    rating: str | None = None
    comment: str = ""


def needs_evidence(scale: RatingScale, label: str | None) -> bool:
    """Whether a rating asks for an evidence note: the lower half of the scored levels.

    On the default scale that is Requires Improvement and Inadequate: a shortfall must say
    what the record lacked, so the host can feed it back to the council.
    """
    if not label:
        return False
    level = scale.parse(label)
    if level is None or level.score is None:
        return False
    scored = scale.scored
    return level in scored[len(scored) // 2:]


def missing_questions(tool: AuditTool, entries: Mapping[str, Entry]) -> list[str]:
    """Ids of the tool's questions (not the overall judgement) that have no rating yet."""
    return [q for q in tool.question_ids if not (entries.get(q) and entries[q].rating)]


def notes_needed(tool: AuditTool, entries: Mapping[str, Entry]) -> list[str]:
    """Ids (overall included) rated low enough to need an evidence note that is still blank."""
    return [q for q in tool.all_ids
            if q in entries and needs_evidence(tool.scale, entries[q].rating) and not entries[q].comment.strip()]


def _question_name(tool: AuditTool, qid: str) -> str:
    """'question 3' for a rated question, 'the overall judgement' for the overall one."""
    if qid == tool.overall.id:
        return "the overall judgement"
    return f"question {tool.question_ids.index(qid) + 1}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def case_blockers(tool: AuditTool, entries: Mapping[str, Entry]) -> list[str]:
    """Plain-English reasons a case cannot be marked complete yet (empty when it can)."""
    out: list[str] = []
    missing = missing_questions(tool, entries)
    if missing:
        numbers = [str(tool.question_ids.index(q) + 1) for q in missing]
        word = "Question" if len(numbers) == 1 else "Questions"
        verb = "is" if len(numbers) == 1 else "are"
        out.append(f"{word} {_join(numbers)} {verb} not rated yet.")
    overall = entries.get(tool.overall.id)
    if not (overall and overall.rating):
        out.append("The overall judgement is not set yet.")
    for qid in notes_needed(tool, entries):
        level = tool.scale.level(entries[qid].rating or "")
        name = _question_name(tool, qid)
        out.append(f"{name[0].upper()}{name[1:]} is rated {level.label}: write the evidence note.")
    return out


def progress_line(position: int, n_cases: int, rated: int, total: int) -> str:
    """The form's progress line: 'Case 3 of 5 · 10 of 12 questions rated'."""
    return f"Case {position} of {n_cases} · {rated} of {total} questions rated"


def _entries(store: Store) -> dict[tuple[str, str], dict[str, Entry]]:
    """Stored ratings grouped by (case, reviewer) -> question -> entry."""
    out: dict[tuple[str, str], dict[str, Entry]] = {}
    for row in store.all_ratings().itertuples(index=False):
        rating = row.rating if isinstance(row.rating, str) and row.rating else None
        comment = row.comment if isinstance(row.comment, str) else ""
        out.setdefault((row.case_id, row.reviewer), {})[row.question] = Entry(rating, comment)
    return out


def completeness(ws: Workspace, store: Store) -> pd.DataFrame:
    """One row per reviewer × allocated case, in review.yaml order, saying what is left to do.

    ``complete`` is true only when the reviewer marked the case complete *and* nothing blocks
    it (every question rated, an overall judgement, evidence notes for low ratings), so an
    import or a later change can never leave a half-rated case counted as finished.
    """
    entries = _entries(store)
    flags = store.case_flags()
    flag = {(r.case_id, r.reviewer): (bool(r.complete), bool(r.referred_back))
            for r in flags.itertuples(index=False)}
    tool = ws.tool
    rows: list[dict[str, Any]] = []
    for reviewer in _reviewer_order(ws):
        for case in ws.meta.cases_for(reviewer):
            got = entries.get((case.id, reviewer), {})
            missing = missing_questions(tool, got)
            overall = got.get(tool.overall.id)
            marked, referred = flag.get((case.id, reviewer), (False, False))
            rows.append({
                "reviewer": reviewer,
                "case_id": case.id,
                "moderation": reviewer in case.moderators,
                "rated": len(tool.question_ids) - len(missing),
                "total": len(tool.question_ids),
                "missing": missing,
                "overall": overall.rating if overall and overall.rating else "",
                "needs_note": notes_needed(tool, got),
                "marked_complete": marked,
                "complete": marked and not case_blockers(tool, got),
                "referred_back": referred,
            })
    return pd.DataFrame(rows, columns=COMPLETENESS_COLUMNS)


def _reviewer_order(ws: Workspace) -> list[str]:
    """Reviewers in team order, then anyone allocated a case who is not on the team list."""
    order = list(ws.meta.reviewers)
    for case in ws.meta.cases:
        for who in case.reviewers:
            if who not in order:
                order.append(who)
    return order


def disagreements(ws: Workspace, store: Store) -> pd.DataFrame:
    """Case × question where two or more reviewers of a moderation case gave different ratings.

    ``ratings`` maps each reviewer who rated the question to their level; ``steps`` is how
    many scale steps separate the highest and lowest rating (None when one of them is
    Not applicable, which is a different kind of disagreement).
    """
    entries = _entries(store)
    tool = ws.tool
    rows: list[dict[str, Any]] = []
    for case in ws.meta.cases:
        if len(case.reviewers) < 2:
            continue
        for q in (*tool.questions, tool.overall):
            ratings = {who: entries[(case.id, who)][q.id].rating
                       for who in case.reviewers
                       if q.id in entries.get((case.id, who), {}) and entries[(case.id, who)][q.id].rating}
            if len(ratings) < 2 or len(set(ratings.values())) < 2:
                continue
            levels = [tool.scale.level(str(v)) for v in ratings.values()]
            scores = [lv.score for lv in levels]
            steps = None
            if all(s is not None for s in scores):
                scored = tool.scale.scored
                positions = [scored.index(lv) for lv in levels]
                steps = max(positions) - min(positions)
            rows.append({"case_id": case.id, "question": q.id, "title": q.title,
                         "ratings": ratings, "steps": steps})
    df = pd.DataFrame(rows, columns=DISAGREEMENT_COLUMNS)
    df["steps"] = pd.array([r["steps"] for r in rows], dtype="Int64")  # whole steps, <NA> for N/A
    return df


def summary_lines(df: pd.DataFrame) -> list[str]:
    """Plain-text progress for each reviewer and case, as `reviewkit status` prints it."""
    lines: list[str] = []
    if df.empty:
        return ["No cases are allocated yet: add them under 'cases' in review.yaml."]
    for reviewer, group in df.groupby("reviewer", sort=False):
        n = len(group)
        done = int(group["complete"].sum())
        lines.append(f"{reviewer}: {done} of {n} case{'s' if n != 1 else ''} complete")
        for position, row in enumerate(group.itertuples(index=False), 1):
            label = f"{row.case_id} (moderation)" if row.moderation else row.case_id
            parts = [f"Case {position} of {n}", label, f"{row.rated} of {row.total} questions rated"]
            if row.missing:
                parts.append("not rated: " + ", ".join(row.missing))
            parts.append(f"overall {row.overall}" if row.overall else "no overall judgement")
            if len(row.needs_note):
                parts.append("evidence note needed: " + ", ".join(row.needs_note))
            if row.complete:
                parts.append("complete")
            elif row.marked_complete:
                parts.append("marked complete but not finished")
            else:
                parts.append("in progress")
            if row.referred_back:
                parts.append("referred back")
            lines.append("  " + " · ".join(parts))
    return lines
