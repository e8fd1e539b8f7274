"""The figures of a review: pure pandas, DataFrames in and DataFrames (or plain dicts) out.

Nothing here reads files, prints or keeps state, so the report notebook stays a thin
"load, call, display" and every figure in the published report is computed and tested here.
This module holds the ratings' figures (formatting, checked inputs, level tables, distributions,
shares, reviewer spread, weakest questions) and the review's counts; agreement between
reviewers is in ``reviewkit.figures.agreement``, and the notes, flags and previous
recommendations in ``reviewkit.figures.notes``.

Conventions used throughout:

- Percentages are of *scored* ratings: "Not applicable" (a level with no score) is counted
  and shown but left out of every denominator.
- ``percent``, ``ci_low`` and ``ci_high`` columns are on a 0–100 scale; ``wilson_interval``
  itself returns proportions (0–1).
- ``display`` strings are ``"59 (24.6%)"``: count, then the percentage rounded half-up to one
  decimal place. With a zero denominator the display is ``"0 (–)"`` and the percent is NaN.
- Pooled figures use primary ratings only (``primary_ratings``); moderation agreement uses
  every reviewer of the moderation cases.
- An empty review gives zero counts and NaN percentages, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import pandas as pd

from reviewkit.core.errors import InvalidInputError
from reviewkit.core.tools import OVERALL, AuditTool, Level, RatingScale
from reviewkit.figures.intervals import SPARSE_LIMIT, clustered_wilson_interval, wilson_interval

RATING_COLUMNS = ("case_id", "reviewer", "question", "rating")
ALLOCATION_COLUMNS = ("case_id", "reviewer", "primary")
LEVEL_COLUMNS = ["level", "count", "percent", "display", "ci_low", "ci_high"]
NO_PERCENT = "–"
NOT_COUNTED = "(not counted)"  # display suffix of not-applicable rows in level tables

__all__ = [
    "format_count",
    "format_percent",
    "level_table",
    "attendance_by_role",
    "rated_counts",
    "rounded_total",
    "overall_distribution",
    "pct",
    "primary_ratings",
    "question_display_table",
    "question_distribution",
    "question_levels",
    "rating_distribution",
    "review_counts",
    "reviewer_spread",
    "share_good_or_better",
    "weakest_questions",
    "wilson_interval",
    "clustered_wilson_interval",
]


# --------------------------------------------------------------------------- formatting

def pct(n: int, d: int) -> float:
    """The percentage n/d on a 0–100 scale, NaN when there is no denominator."""
    return float("nan") if not d else 100.0 * n / d


def _round_half_up_tenths(n: int, d: int) -> str:
    # Exact arithmetic so 1/16 gives 6.3 (as a reader expects), not binary float's 6.2.
    tenths = math.floor(Fraction(1000 * int(n), int(d)) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}"


def format_percent(n: int, d: int, *, whole: bool = False) -> str:
    """'24.6%' for 59 of 240 (half-up, one decimal); '–' when d is 0.

    ``whole`` gives the main report's plain form, '25%': a share that is not nothing never
    reads '0%' ('under 1%'), and one short of all never reads '100%' ('over 99%').
    """
    if not d:
        return NO_PERCENT
    if not whole:
        return _round_half_up_tenths(n, d) + "%"
    pct = math.floor(Fraction(100 * int(n), int(d)) + Fraction(1, 2))
    if pct == 0 and n:
        return "under 1%"
    if pct == 100 and n != d:
        return "over 99%"
    return f"{pct}%"


def format_count(n: int, d: int, *, whole: bool = False) -> str:
    """'59 (24.6%)': the house style for every count beside its percentage; '0 (–)' if d is 0."""
    return f"{int(n)} ({format_percent(n, d, whole=whole)})"


# --------------------------------------------------------------------------- inputs

def checked_frame(df: pd.DataFrame | None, columns: Sequence[str], name: str) -> pd.DataFrame:
    """The frame with its required columns checked; an empty frame when None."""
    if df is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidInputError(
            f"{name}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"expected {', '.join(columns)}"
        )
    return df.reset_index(drop=True)


def scored_ratings(ratings: pd.DataFrame | None, scale: RatingScale) -> pd.DataFrame:
    """Ratings with canonical ``level`` labels and ``score`` (None for not applicable)."""
    df = checked_frame(ratings, RATING_COLUMNS, "ratings").copy()
    levels: list[str] = []
    scores: list[float] = []
    for pos, value in enumerate(df["rating"].tolist()):
        found = scale.parse(value) if isinstance(value, str) else None
        if found is None:
            raise InvalidInputError(
                f"ratings row {pos + 1}, column 'rating': not a level of scale '{scale.id}'; "
                f"expected one of {scale.describe()}"
            )
        levels.append(found.label)
        scores.append(float("nan") if found.score is None else float(found.score))
    df["level"] = pd.Series(levels, index=df.index, dtype=object)
    df["score"] = pd.Series(scores, index=df.index, dtype=float)
    df["question"] = df["question"].astype(str) if len(df) else df["question"].astype(object)
    return df


def as_bools(values: pd.Series) -> pd.Series:
    """A yes/no column as real booleans; blanks are False (avoids pandas' object downcasting)."""
    def one(v: Any) -> bool:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return False
        if isinstance(v, str):
            return v.strip().casefold() in {"true", "yes", "y", "1"}
        return bool(v)
    return pd.Series([one(v) for v in values], index=values.index, dtype=bool)


def questions_only(df: pd.DataFrame, overall_id: str) -> pd.DataFrame:
    return df[df["question"] != overall_id]


def primary_ratings(ratings: pd.DataFrame | None, allocation: pd.DataFrame | None) -> pd.DataFrame:
    """Ratings by each case's primary reviewer only: moderation ratings must not double-count."""
    df = checked_frame(ratings, RATING_COLUMNS, "ratings")
    if allocation is None or len(allocation) == 0:
        return df.copy()
    alloc = checked_frame(allocation, ALLOCATION_COLUMNS, "allocation")
    primary = alloc[as_bools(alloc["primary"])]
    counts = primary.groupby("case_id").size()
    if (counts > 1).any():
        rows = [str(i + 1) for i in primary.index[primary["case_id"].isin(counts[counts > 1].index)]]
        raise InvalidInputError(
            f"allocation rows {', '.join(rows)}, column 'primary': a case has more than one "
            "primary reviewer; mark exactly one primary reviewer per case"
        )
    keys = set(zip(primary["case_id"], primary["reviewer"]))
    mask = [(c, r) in keys for c, r in zip(df["case_id"], df["reviewer"])]
    return df[pd.Series(mask, index=df.index, dtype=bool)].reset_index(drop=True)


def _records(df: pd.DataFrame) -> int:
    """Number of case records: each (case, reviewer) pair in primary ratings is one record."""
    if len(df) == 0:
        return 0
    return int(df[["case_id", "reviewer"]].drop_duplicates().shape[0])


# --------------------------------------------------------------------------- distributions

def level_table(counts: Mapping[str, int], scale: RatingScale) -> pd.DataFrame:
    """Counts by level in scale order with percent of scored, display string and Wilson CI."""
    total = sum(int(counts.get(lv.label, 0)) for lv in scale.scored)
    rows = []
    for lv in scale.levels:
        n = int(counts.get(lv.label, 0))
        if lv.counts:
            lo, hi = wilson_interval(n, total)
            rows.append({"level": lv.label, "count": n, "percent": pct(n, total),
                         "display": format_count(n, total), "ci_low": 100 * lo, "ci_high": 100 * hi})
        else:
            rows.append({"level": lv.label, "count": n, "percent": float("nan"),
                         "display": f"{n} {NOT_COUNTED}", "ci_low": float("nan"),
                         "ci_high": float("nan")})
    table = pd.DataFrame(rows, columns=LEVEL_COLUMNS)
    table["count"] = table["count"].astype(int)
    table.attrs["scored"] = total
    table.attrs["not_applicable"] = int(sum(int(counts.get(lv.label, 0))
                                            for lv in scale.levels if not lv.counts))
    return table


def _level_counts(df: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in df["level"].value_counts().items()}


def rating_distribution(ratings: pd.DataFrame | None, scale: RatingScale, *,
                        include_overall: bool = False, overall_id: str = OVERALL) -> pd.DataFrame:
    """All question ratings pooled by level; pass ``primary_ratings(...)`` so no case counts twice.

    ``attrs['scored']`` holds the denominator and ``attrs['not_applicable']`` the NA count.
    """
    df = scored_ratings(ratings, scale)
    if not include_overall:
        df = questions_only(df, overall_id)
    table = level_table(_level_counts(df), scale)
    table.attrs["records"] = _records(df)
    _cluster_intervals(table, df, scale)
    return table


def _cluster_intervals(table: pd.DataFrame, df: pd.DataFrame, scale: RatingScale) -> None:
    """Replace the table's Wilson intervals by ones that allow for ratings clustering in case records."""
    scored = df[df["score"].notna()]
    if not len(scored):
        return
    per_case = pd.crosstab(scored["case_id"].astype(str), scored["level"])
    totals = per_case.sum(axis=1).tolist()
    sparse = []
    for i, lv in enumerate(scale.levels):
        if lv.counts:
            hits = per_case[lv.label].tolist() if lv.label in per_case else [0] * len(totals)
            lo, hi = clustered_wilson_interval(hits, totals)
            table.loc[i, ["ci_low", "ci_high"]] = [100 * lo, 100 * hi]
            k = int(sum(hits))
            if len(totals) >= 2 and sum(totals) > len(totals) and (
                    k <= SPARSE_LIMIT or sum(totals) - k <= SPARSE_LIMIT):
                sparse.append((lv.label, k))
    table.attrs["clustered"] = True
    table.attrs["clusters"] = len(totals)  # case records with a scored question rating
    table.attrs["largest_cluster"] = int(max(totals))
    table.attrs["sparse_levels"] = sparse  # (level, ratings): the clustering could not be estimated


def overall_distribution(ratings: pd.DataFrame | None, scale: RatingScale, *,
                         overall_id: str = OVERALL) -> pd.DataFrame:
    """Overall judgements by level, same shape as ``rating_distribution``."""
    df = scored_ratings(ratings, scale)
    df = df[df["question"] == overall_id]
    table = level_table(_level_counts(df), scale)
    table.attrs["records"] = _records(df)
    return table


def _good_or_better_levels(scale: RatingScale) -> list[Level]:
    """The top two scored levels ("Outstanding or Good" on the default scale)."""
    return scale.scored[:2]


def question_distribution(ratings: pd.DataFrame | None, tool: AuditTool) -> pd.DataFrame:
    """One row per question in tool order: counts per level, scored total and percentages.

    Columns: ``question, number, title``, one count column per level label (NA included),
    ``scored``, one ``"<label> %"`` column per scored level, ``good_or_better`` and
    ``good_or_better %``.
    """
    scale = tool.scale
    df = questions_only(scored_ratings(ratings, scale), tool.overall.id)
    top = [lv.label for lv in _good_or_better_levels(scale)]
    rows = []
    for number, q in enumerate(tool.questions, 1):
        sub = df[df["question"] == q.id]
        counts = _level_counts(sub)
        row: dict[str, Any] = {"question": q.id, "number": number, "title": q.title}
        for lv in scale.levels:
            row[lv.label] = int(counts.get(lv.label, 0))
        scored = sum(row[lv.label] for lv in scale.scored)
        row["scored"] = scored
        for lv in scale.scored:
            row[f"{lv.label} %"] = pct(row[lv.label], scored)
        row["good_or_better"] = sum(row[label] for label in top)
        row["good_or_better %"] = pct(row["good_or_better"], scored)
        rows.append(row)
    columns = (["question", "number", "title"] + scale.labels + ["scored"]
               + [f"{lv.label} %" for lv in scale.scored] + ["good_or_better", "good_or_better %"])
    return pd.DataFrame(rows, columns=columns)


def question_levels(row: Mapping[str, Any] | pd.Series, scale: RatingScale) -> pd.DataFrame:
    """The level table (``level_table`` shape) of one row of ``question_distribution``."""
    return level_table({lv.label: int(row.get(lv.label, 0)) for lv in scale.levels}, scale)


def question_display_table(qdist: pd.DataFrame, scale: RatingScale) -> pd.DataFrame:
    """The per-question table as printed: 'Q1 Voice of the person' then '5 (25.0%)' per level."""
    rows = []
    for _, row in qdist.iterrows():
        out = {"Question": f"{row['number']}. {row['title']}"}
        for lv in scale.levels:
            n = int(row[lv.label])
            out[lv.label] = format_count(n, int(row["scored"])) if lv.counts else str(n)
        rows.append(out)
    return pd.DataFrame(rows, columns=["Question"] + scale.labels)


def share_good_or_better(ratings: pd.DataFrame | None, scale: RatingScale,
                         question: str | None = OVERALL) -> dict[str, Any]:
    """Count and share rated in the top two levels, for one question or (None) all questions.

    Returns ``count, total, percent, display, ci_low, ci_high`` (percent scale) and ``levels``
    (the labels counted, best first) so a sentence can name them.
    """
    df = scored_ratings(ratings, scale)
    df = df[df["question"] == question] if question is not None else questions_only(df, OVERALL)
    df = df[df["score"].notna()]
    top = [lv.label for lv in _good_or_better_levels(scale)]
    count = int(df["level"].isin(top).sum())
    total = int(len(df))
    if question is None:  # many ratings per case record: allow for their clustering
        hits = df["level"].isin(top).groupby(df["case_id"].astype(str)).agg(["sum", "size"])
        lo, hi = clustered_wilson_interval(hits["sum"].tolist(), hits["size"].tolist())
    else:
        lo, hi = wilson_interval(count, total)
    return {"count": count, "total": total, "percent": pct(count, total),
            "display": format_count(count, total), "ci_low": 100 * lo, "ci_high": 100 * hi,
            "levels": top, "question": question}


def reviewer_spread(ratings: pd.DataFrame | None, scale: RatingScale, *,
                    anonymise: bool = False, overall_id: str = OVERALL) -> pd.DataFrame:
    """Per reviewer: case records, question ratings per level and mean score, to spot drift.

    ``anonymise=True`` replaces names by "Reviewer A", "Reviewer B"… in name order.
    """
    df = scored_ratings(ratings, scale)
    questions = questions_only(df, overall_id)
    reviewers = sorted({str(r) for r in df["reviewer"]})
    rows = []
    for i, name in enumerate(reviewers):
        mine = questions[questions["reviewer"].astype(str) == name]
        counts = _level_counts(mine)
        cases = int(df[df["reviewer"].astype(str) == name]["case_id"].nunique())
        row: dict[str, Any] = {"reviewer": _letter_label(i) if anonymise else name, "cases": cases}
        for lv in scale.levels:
            row[lv.label] = int(counts.get(lv.label, 0))
        scores = mine["score"].dropna()
        row["scored"] = int(len(scores))
        row["mean_score"] = float(scores.mean()) if len(scores) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows, columns=["reviewer", "cases"] + scale.labels + ["scored", "mean_score"])


def letters(i: int) -> str:
    """Spreadsheet-style letters for a 0-based index (A … Z, AA …): pseudonyms for people and councils."""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def _letter_label(i: int) -> str:
    return f"Reviewer {letters(i)}"


def weakest_questions(ratings: pd.DataFrame | None, tool: AuditTool, n: int = 3) -> pd.DataFrame:
    """The n questions with the lowest share rated Outstanding or Good, and every question tied with the nth.

    Naming one of several tied questions would single it out by tool order alone, so a tie at
    the cut-off makes the list longer than n (``attrs['tied']`` then holds how many share the
    nth place's exact share). Rows are in order of share, then tool order.
    """
    qdist = question_distribution(ratings, tool)
    qdist = qdist[qdist["scored"] > 0].copy()
    qdist["display"] = [format_count(int(g), int(s))
                        for g, s in zip(qdist["good_or_better"], qdist["scored"])]
    qdist["_share"] = [Fraction(int(g), int(s)) for g, s in zip(qdist["good_or_better"], qdist["scored"])]
    qdist = qdist.sort_values(["_share", "number"], kind="mergesort")
    cols = ["question", "number", "title", "good_or_better", "scored", "good_or_better %", "display"]
    out = qdist.head(n)
    tied = 0
    if len(out) == n and n > 0:
        cut = out["_share"].iloc[-1]
        tied = int((qdist["_share"] == cut).sum())
        out = qdist[qdist["_share"] <= cut]
    table = out[cols].reset_index(drop=True)
    table.attrs["tied"] = tied if len(table) > n else 0
    table.attrs["rated_questions"] = len(qdist)  # when all of them tie, none is "least often"
    return table


# --------------------------------------------------------------------------- counts

def _records_list(value: pd.DataFrame | Iterable[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, pd.DataFrame):
        return value.to_dict("records")
    return [dict(v) for v in value]


def review_counts(ratings: pd.DataFrame | None, allocation: pd.DataFrame | None = None, *,
                  meetings: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
                  conversations: pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
                  overall_id: str = OVERALL) -> dict[str, Any]:
    """The counts the introduction and method quote: records, reviewers, meetings, people.

    ``meetings``: one row per meeting with ``kind`` and ``attendees`` (int).
    ``conversations``: one row per conversation with ``who`` ("person", "relative", …).
    Returns ``cases`` (records examined), ``reviewers``, ``moderation_cases``,
    ``question_ratings`` (primary, NA included; the distribution tables split scored from NA),
    ``overall_judgements``, ``meetings``, ``meetings_unrecorded`` (meetings with no attendance
    recorded yet), ``attendees``, ``attendees_by_kind``,
    ``attendees_by_role`` (``attendance_by_role``; empty when no meeting recorded roles),
    ``moderation_rated`` (moderation cases that two or more of their reviewers have rated
    questions of, as the agreement figures count them; an overall judgement alone is not enough),
    ``conversations`` and ``conversations_by_who`` (dicts keep first-seen order).
    """
    all_ratings = checked_frame(ratings, RATING_COLUMNS, "ratings")
    primary = primary_ratings(all_ratings, allocation)
    questions = primary[primary["question"].astype(str) != overall_id]
    reviewers = {str(r) for r in all_ratings["reviewer"]}
    if allocation is not None and len(allocation):
        alloc = checked_frame(allocation, ALLOCATION_COLUMNS, "allocation")
        reviewers |= {str(r) for r in alloc["reviewer"]}
        per_case = alloc.groupby("case_id")["reviewer"].nunique()
        moderation = int((per_case >= 2).sum())
    else:
        moderation = 0
    meeting_rows = _records_list(meetings)
    by_kind: dict[str, int] = {}
    unrecorded = 0
    for i, m in enumerate(meeting_rows, 1):
        attendees = m.get("attendees", 0)
        if attendees is None or (isinstance(attendees, float) and math.isnan(attendees)):
            attendees = 0
        try:  # 10**400 overflows float(), and text cannot be compared with 0
            whole = not isinstance(attendees, bool) and float(attendees).is_integer() and attendees >= 0
        except (TypeError, ValueError, OverflowError):
            whole = False
        if not whole:
            raise InvalidInputError(f"meetings row {i}, column 'attendees': expected a whole number")
        kind = str(m.get("kind") or "meeting")
        by_kind[kind] = by_kind.get(kind, 0) + int(attendees)
        unrecorded += not int(attendees)
    by_role = attendance_by_role(meeting_rows)
    by_who: dict[str, int] = {}
    conversation_rows = _records_list(conversations)
    for c in conversation_rows:
        who = str(c.get("who") or "person")
        by_who[who] = by_who.get(who, 0) + 1
    return {
        "cases": _records(primary),
        "reviewers": len(reviewers),
        "moderation_cases": moderation,
        "question_ratings": int(len(questions)),
        "overall_judgements": int((primary["question"].astype(str) == overall_id).sum()),
        "meetings": len(meeting_rows),
        "meetings_unrecorded": unrecorded,
        "attendees": sum(by_kind.values()),
        "attendees_by_kind": by_kind,
        "attendees_by_role": by_role,
        "moderation_rated": _moderation_rated(all_ratings[all_ratings["question"].astype(str) != overall_id],
                                              allocation),
        "conversations": len(conversation_rows),
        "conversations_by_who": by_who,
    }


def attendance_by_role(meetings: pd.DataFrame | Iterable[Mapping[str, Any]] | None) -> dict[str, int]:
    """Attendees by role summed over meetings (each row's ``by_role`` dict), roles in name order.

    The one source of attendance by role: every sentence that mentions who attended, for the
    whole review or one meeting, is built from this, so they cannot disagree.
    """
    totals: dict[str, int] = {}
    spelling: dict[str, str] = {}  # one role however it was capitalised or spaced: the first spelling
    for m in _records_list(meetings):
        roles = m.get("by_role")
        if not isinstance(roles, Mapping):
            continue
        for role, n in roles.items():
            if n:
                name = " ".join(str(role).split())
                key = name.casefold()
                spelling.setdefault(key, name)
                totals[key] = totals.get(key, 0) + int(n)
    return {spelling[key]: totals[key] for key in sorted(totals)}


def _moderation_rated(ratings: pd.DataFrame, allocation: pd.DataFrame | None) -> int:
    if allocation is None or not len(allocation) or not len(ratings):
        return 0
    alloc = checked_frame(allocation, ALLOCATION_COLUMNS, "allocation")
    keys = set(zip(alloc["case_id"].astype(str), alloc["reviewer"].astype(str)))
    rated = {(str(c), str(r)) for c, r in zip(ratings["case_id"], ratings["reviewer"])} & keys
    per_case: dict[str, int] = {}
    for case_id, _ in rated:
        per_case[case_id] = per_case.get(case_id, 0) + 1
    return sum(1 for n in per_case.values() if n >= 2)


def rated_counts(ratings: pd.DataFrame | None, allocation: pd.DataFrame | None,
                 tool: AuditTool) -> dict[str, Any]:
    """What was recorded against what was planned, for sentences that must count the former.

    Returns ``allocated_cases`` and ``allocated_reviewers`` (primary allocation),
    ``rated_cases`` (allocated cases their primary reviewer has rated at all),
    ``rating_reviewers`` (primary reviewers who rated at least one of their cases, in name
    order), ``per_reviewer`` (name → cases rated) and ``complete_cases`` (rated cases with
    every question and the overall judgement rated; Not applicable counts as rated).
    """
    df = checked_frame(ratings, RATING_COLUMNS, "ratings")
    alloc = checked_frame(allocation, ALLOCATION_COLUMNS, "allocation")
    primary = alloc[as_bools(alloc["primary"])]
    keys = {(str(c), str(r)) for c, r in zip(primary["case_id"], primary["reviewer"])}
    wanted = {q.id for q in tool.questions} | {tool.overall.id}
    done: dict[tuple[str, str], set[str]] = {}
    for c, r, q in zip(df["case_id"], df["reviewer"], df["question"]):
        if (str(c), str(r)) in keys:
            done.setdefault((str(c), str(r)), set()).add(str(q))
    per_reviewer: dict[str, int] = {}
    for _, r in sorted(done):
        per_reviewer[r] = per_reviewer.get(r, 0) + 1
    return {
        "allocated_cases": len({c for c, _ in keys}),
        "allocated_reviewers": len({r for _, r in keys}),
        "rated_cases": len(done),
        "rating_reviewers": sorted(per_reviewer),
        "per_reviewer": dict(sorted(per_reviewer.items())),
        "complete_cases": sum(1 for qs in done.values() if wanted <= qs),
    }


def rounded_total(counts: Iterable[int], total: int) -> str:
    """The sum of the rounded percentages as printed ('99.9'), to say when it is not 100; '' if total is 0."""
    if not total:
        return ""
    tenths = 0
    for n in counts:
        whole, frac = format_percent(int(n), total).rstrip("%").split(".")
        tenths += 10 * int(whole) + int(frac)
    return f"{tenths // 10}.{tenths % 10}"
