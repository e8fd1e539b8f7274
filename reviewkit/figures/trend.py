"""This review beside the previous round: per shared question, both shares and the change with its interval.

In: this round's primary ratings, its audit tool and the previous round's bundle (kept in the
workspace as ``previous_round.zip``: counts only, no case ids or free text, taken from the
previous round's own bundle or workspace by ``reviewkit new --previous`` or ``reviewkit previous``).
Out: ``compare_rounds``' table (one row per compared question, all question ratings pooled and
the overall judgement: both shares with Wilson intervals, and the change in percentage points
with its 95% interval) and the plain sentences the report prints about it.

Two rounds rate different case records with different reviewers. A change is called a rise or a
fall only when its own 95% interval excludes no change (Newcombe's hybrid score interval, built
from the two Wilson intervals; for ratings pooled over questions, on effective sample sizes that
allow for ratings of one case record resembling each other). Otherwise the words say the figures
cannot tell — never that practice stayed the same. A seeded simulation (tests/test_trend.py)
gives this rule its error rates at 20 case records a round: a false "change" in 2–5% of
comparisons where nothing changed (pooled ratings too), and a real 20-point change seen in 25–34%
of comparisons, where the overlap rule it replaced saw one in 7–9% and a false one in under 1%.
Only questions both rounds' tools ask (same id and wording) are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.tools import AuditTool
from reviewkit.figures import analysis as an
from reviewkit.figures.intervals import (
    SPARSE_LIMIT,
    conservative_design_effect,
    design_effect,
    newcombe_difference,
    t_quantile_95,
)
from reviewkit.figures.sentences import count_noun, join_words

if TYPE_CHECKING:  # the bundle is read by the review (reviewkit.review.bundle); figures take it as data
    from reviewkit.review.bundle import Bundle, CountRow

__all__ = ["TREND_COLUMNS", "SharedQuestions", "change_sentence", "compare_rounds", "detectable_change",
           "points", "pooled_change", "pooled_shares", "round_share", "shared_questions", "tool_difference_warning",
           "trend_summary"]

TREND_COLUMNS = ["question", "number", "title", "kind", "prev_count", "prev_total", "prev_percent", "prev_low",
                 "prev_high", "count", "total", "percent", "low", "high", "change", "change_low", "change_high",
                 "verdict"]
ROSE, FELL, UNCLEAR, UNAVAILABLE = "rose", "fell", "unclear", "unavailable"
POOLED = "pooled"
ALPHA = 0.05


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


# --------------------------------------------------------------------------- which questions

def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


@dataclass(frozen=True)
class SharedQuestions:
    """Which questions the two rounds' tools share (same id and wording), and which they do not."""

    shared: tuple[tuple[int, str, str], ...]  # (number in this round's tool, id, title)
    only_now: tuple[tuple[int, str, str], ...]
    only_then: tuple[str, ...]  # titles of the previous round's questions not asked now
    overall: bool  # the overall judgement is comparable
    same_scale: bool
    same_tool: bool

    @property
    def any(self) -> bool:
        return self.same_scale and bool(self.shared or self.overall)


def shared_questions(tool: AuditTool, previous: Bundle) -> SharedQuestions:
    """The questions asked in both rounds: the same id with the same wording, on the same rating scale."""
    then = dict(previous.questions)
    shared, only_now = [], []
    for number, q in enumerate(tool.questions, 1):
        (shared if q.id in then and _same(then[q.id], q.title) else only_now).append((number, q.id, q.title))
    ids = {qid for _, qid, _ in shared}
    only_then = tuple(title for qid, title in previous.questions if qid not in ids)
    same_scale = [lb.casefold() for lb in previous.scored_labels] == [lv.label.casefold() for lv in tool.scale.scored]
    overall = previous.overall_id == tool.overall.id and _same(previous.overall_title, tool.overall.title)
    same_tool = (previous.tool, previous.tool_version) == (tool.id, tool.version)
    return SharedQuestions(tuple(shared), tuple(only_now), only_then, overall, same_scale, same_tool)


def _q(number: int, title: str) -> str:
    return f"Q{number} {title}"


def tool_difference_warning(tool: AuditTool, previous: Bundle) -> str:
    """A plain warning when the previous round used another tool or scale ('' when it used this one)."""
    s = shared_questions(tool, previous)
    if s.same_tool and s.same_scale and not s.only_now and not s.only_then:
        return ""
    head = ("Warning: the previous round's figures ask some questions in other words than this review's audit tool."
            if s.same_tool else
            f"Warning: the previous round used another audit tool ('{previous.tool_title}', "
            f"{previous.tool} version {previous.tool_version}) than this review ('{tool.title}', "
            f"{tool.id} version {tool.version}).")
    if not s.any:
        why = ("it rated on another scale" if not s.same_scale else "the two tools share no question")
        return f"{head} The report will not compare the two rounds: {why}."
    parts = [_q(n, t) for n, _, t in s.shared]
    if s.overall:
        parts.append("the overall judgement")
    text = f"{head} The report will compare only what both tools ask: {join_words(parts)}."
    if s.only_now:
        text += f" Not compared: {join_words([_q(n, t) for n, _, t in s.only_now])}."
    return text


# --------------------------------------------------------------------------- the comparison

def _verdict(low: float, high: float) -> str:
    if any(math.isnan(v) for v in (low, high)):
        return UNAVAILABLE
    if low > 0:
        return ROSE
    if high < 0:
        return FELL
    return UNCLEAR


def compare_rounds(ratings: pd.DataFrame | None, tool: AuditTool, previous: Bundle) -> pd.DataFrame:
    """Per shared question, all question ratings pooled and the overall judgement: both shares and the change.

    ``ratings`` are this round's primary ratings. Shares and intervals are on a 0–100 scale;
    ``change`` is this round's share less the previous round's, in percentage points, with its
    95% interval (``change_low``, ``change_high``). ``verdict`` is "rose" or "fell" only when
    that interval excludes 0, "unclear" when it includes 0, "unavailable" when either share is
    unknown (nothing rated, or a count suppressed in the previous round's bundle). ``kind`` is
    "question", "pooled" or "overall". ``attrs`` holds ``shared`` (``SharedQuestions``) and
    ``cases`` (case records examined in each round, as the bundle counts them: previous, this).
    No rows when nothing is shared.
    """
    s = shared_questions(tool, previous)
    current = an.question_distribution(ratings, tool).set_index("question")
    prev_rows = {r.key: r for r in previous.ratings}
    rows: list[dict[str, Any]] = []
    overall = an.share_good_or_better(ratings, tool.scale, question=tool.overall.id)
    prev_cases = int(dict(previous.counts).get("cases", 0))
    examined = an.scored_ratings(ratings, tool.scale)["case_id"].astype(str).nunique()
    table_attrs = {"shared": s, "cases": (prev_cases, int(examined))}

    def add(qid: str, number: Any, title: str, kind: str, now: _Share, then: _Share | None) -> None:
        pk, pn = (then.k, then.n) if then else (0, 0)
        plo, phi = an.wilson_interval(then.k_eff, then.n_eff, then.z) if then and pn else (math.nan, math.nan)
        lo, hi = an.wilson_interval(now.k_eff, now.n_eff, now.z) if now.n else (math.nan, math.nan)
        if then and pn and now.n:
            d, dlo, dhi = newcombe_difference(then.k_eff, then.n_eff, now.k_eff, now.n_eff, z1=then.z, z2=now.z)
        else:
            d = dlo = dhi = math.nan
        rows.append({"question": qid, "number": number, "title": title, "kind": kind,
                     "prev_count": pk if then else None, "prev_total": pn if then else None,
                     "prev_percent": 100 * pk / pn if pn else math.nan, "prev_low": 100 * plo,
                     "prev_high": 100 * phi, "count": now.k, "total": now.n,
                     "percent": 100 * now.k / now.n if now.n else math.nan,
                     "low": 100 * lo, "high": 100 * hi, "change": 100 * d, "change_low": 100 * dlo,
                     "change_high": 100 * dhi, "verdict": _verdict(dlo, dhi)})

    if not s.any:
        return _frame(rows, table_attrs)
    for number, qid, title in s.shared:
        r = current.loc[qid]
        share = round_share(prev_rows[qid], previous) if qid in prev_rows else None
        add(qid, number, title, "question", _Share.plain(int(r["good_or_better"]), int(r["scored"])),
            _Share.plain(*share) if share else None)
    if len(s.shared) > 1:
        now, then = _pooled(ratings, tool, [qid for _, qid, _ in s.shared], previous, prev_rows, prev_cases)
        add(POOLED, None, "All question ratings", POOLED, now, then)
    if s.overall:
        share = round_share(previous.overall, previous)
        add(tool.overall.id, None, "Overall judgement", "overall",
            _Share.plain(int(overall["count"]), int(overall["total"])), _Share.plain(*share) if share else None)
    return _frame(rows, table_attrs)


@dataclass(frozen=True)
class _Share:
    """k of n ratings, and the effective k and n (and quantile) its interval uses."""

    k: int
    n: int
    k_eff: float
    n_eff: float
    z: float = 1.96

    @classmethod
    def plain(cls, k: int, n: int) -> _Share:  # one rating per case record: Wilson as it stands
        return cls(k, n, float(k), float(n))


def _frame(rows: list[dict[str, Any]], attrs: dict[str, Any]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=TREND_COLUMNS)
    table.attrs.update(attrs)
    return table


def _pooled(ratings: pd.DataFrame | None, tool: AuditTool, ids: list[str], previous: Bundle,
            prev_rows: dict[str, CountRow], prev_cases: int) -> tuple[_Share, _Share | None]:
    """All shared questions pooled, in each round: this round per case record, the previous from its counts."""
    df = an.scored_ratings(ratings, tool.scale)
    df = df[df["question"].isin(ids) & df["score"].notna()]
    top = [lv.label for lv in tool.scale.scored[:2]]
    per = df["level"].isin(top).groupby(df["case_id"].astype(str)).agg(["sum", "size"])
    shares = [round_share(prev_rows[q], previous) if q in prev_rows else None for q in ids]
    then = None
    if all(sh is not None for sh in shares):
        then = (sum(sh[0] for sh in shares if sh), sum(sh[1] for sh in shares if sh))
    return pooled_shares([int(v) for v in per["sum"]], [int(v) for v in per["size"]], then, prev_cases)


def pooled_shares(hits: list[int], sizes: list[int], then: tuple[int, int] | None,
                  prev_cases: int) -> tuple[_Share, _Share | None]:
    """Pooled shares with effective sizes that allow for ratings clustering in case records.

    ``hits[i]`` of ``sizes[i]`` ratings of this round's case record i are in the share; ``then``
    is the previous round's (count, total) over ``prev_cases`` case records. This round's design
    effect comes from its own ratings (ANOVA intra-class correlation, or the largest cluster when
    the clustering cannot be estimated: one rating or none in or out of the share). The previous
    round's bundle holds counts only, so its design effect uses this round's intra-class
    correlation with the previous round's average number of ratings per case record. Each
    interval uses the t quantile for its case records less one, as the report's pooled intervals do.
    """
    k, n = sum(hits), sum(sizes)
    if len(sizes) >= 2 and SPARSE_LIMIT < k < n - SPARSE_LIMIT:
        icc, deff = design_effect(hits, sizes)
    else:  # the clustering cannot be estimated: assume the most it could be
        icc, deff = 1.0, conservative_design_effect(sizes)
    now = _Share(k, n, k / deff, n / deff, t_quantile_95(max(len(sizes) - 1, 1)))
    if then is None or not then[1] or not prev_cases:
        return now, None
    pk, pn = then
    pdeff = 1 + (pn / prev_cases - 1) * icc if pn > prev_cases else 1.0
    return now, _Share(pk, pn, pk / pdeff, pn / pdeff, t_quantile_95(max(prev_cases - 1, 1)))


def pooled_change(now: _Share, then: _Share) -> tuple[float, float, float]:
    """(change, low, high) in points between two pooled shares, by Newcombe's method on effective sizes."""
    d, lo, hi = newcombe_difference(then.k_eff, then.n_eff, now.k_eff, now.n_eff, z1=then.z, z2=now.z)
    return 100 * d, 100 * lo, 100 * hi


# --------------------------------------------------------------------------- words

def points(x: float, signed: bool = True) -> str:
    """A change in percentage points as the report writes it: whole points, '+27', '−4', '+0.4'."""
    shown = f"{abs(x):.1f}" if 0 < abs(x) < 0.5 else f"{abs(x):.0f}"
    if not signed:
        return shown
    if shown.strip("0.") == "":
        return "0"
    return ("+" if x > 0 else "−") + shown


def _label(r: dict[str, Any]) -> str:
    if r["kind"] == "overall":
        return "the overall judgements"
    if r["kind"] == POOLED:
        return "all question ratings pooled"
    return _q(int(r["number"]), str(r["title"]))


def change_sentence(r: dict[str, Any], top: str = "Outstanding or Good") -> str:
    """One comparison in plain words: rose/fell with its interval, or why the figures cannot tell."""
    what = f"For {_label(r)}, the share rated {top}"
    ci = f"{points(r['change_low'])} to {points(r['change_high'])}"
    if r["verdict"] == ROSE:
        return f"{what} rose by {points(r['change'], False)} points (95% interval {ci})."
    if r["verdict"] == FELL:
        return f"{what} fell by {points(r['change'], False)} points (95% interval {ci})."
    if r["verdict"] == UNAVAILABLE:
        return f"{what} cannot be compared: a count it needs is missing or was suppressed."
    return (f"{what} changed by {points(r['change'])} points; the 95% interval ({ci}) includes no change, "
            "so these figures cannot tell whether practice changed.")


def detectable_change(n_then: int, n_now: int, base: float) -> int | None:
    """The smallest change, in whole points, whose 95% interval would exclude no change.

    ``base`` is the previous round's share (0–100) with ``n_then`` case records; the change is
    judged either way from it (the larger of a rise and a fall, where both are possible).
    """
    if n_then <= 0 or n_now <= 0 or math.isnan(base):
        return None
    p = base / 100
    found = []
    for sign in (1, -1):
        for d in range(1, 101):
            q = p + sign * d / 100
            if not 0 <= q <= 1:
                break
            _, lo, hi = newcombe_difference(p * n_then, n_then, q * n_now, n_now)
            if lo > 0 or hi < 0:
                found.append(d)
                break
    return max(found) if found else None


def trend_summary(table: pd.DataFrame, top: str = "Outstanding or Good") -> list[str]:
    """The paragraphs under the comparison: what can be detected, the chance of a false change, each result."""
    rows = table.to_dict("records")
    known = [r for r in rows if r["verdict"] != UNAVAILABLE]
    if not known:
        if not any(r["total"] for r in rows):
            return ["Nothing has been rated in this review yet, so it cannot be compared with the previous round."]
        return ["No comparison can be made: a count each needs is missing or was suppressed in the previous "
                "round's figures."]
    n_then, n_now = table.attrs.get("cases", (0, 0))
    questions = [r for r in known if r["kind"] == "question"]
    base = (sum(r["prev_percent"] for r in questions) / len(questions)) if questions else known[0]["prev_percent"]
    size = detectable_change(int(n_then), int(n_now), base)
    each = (f"With {count_noun(int(n_now), 'case record')} in each round" if n_then == n_now
            else f"With {count_noun(int(n_then), 'case record')} in the previous round and {int(n_now)} in this one")
    out = []
    k = len(known)
    chance = k * ALPHA
    expected = ("fewer than one is likely to" if chance < 0.5 else
                "about one may" if chance < 1.5 else f"about {round(chance)} may")
    first = (f"{each}, only a change in one question’s share of about {size} points or more would be clear; "
             "smaller real changes can go unseen." if size else f"{each}, no change could be told from chance.")
    out.append(f"{first} Each comparison has a 1 in 20 chance of showing a clear change where there was none, "
               f"so of these {count_noun(k, 'comparison')} {expected} cross that line by chance alone.")
    moved = [r for r in known if r["verdict"] in (ROSE, FELL)]
    unclear = [r for r in known if r["verdict"] == UNCLEAR]
    out.extend(change_sentence(r, top) for r in moved)
    if len(unclear) == 1:
        out.append(change_sentence(unclear[0], top))
    elif unclear:
        items = [f"{_label(r)} ({points(r['change'])} points; {points(r['change_low'])} to "
                 f"{points(r['change_high'])})" for r in unclear]
        lead = "For the other" if moved else "For all"
        out.append(f"{lead} {count_noun(len(unclear), 'comparison')}, the 95% interval of the change includes "
                   f"no change, so these figures cannot tell whether practice changed: {'; '.join(items)}.")
    missing = [r for r in rows if r["verdict"] == UNAVAILABLE]
    if missing:
        out.append(f"{join_words([_label(r) for r in missing]).capitalize()} cannot be compared: a count "
                   "needed was missing or suppressed in the previous round's figures.")
    return out
