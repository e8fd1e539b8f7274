"""A test oracle: every generated sentence and figure of the report, recomputed from the export.

It reads only what a reviewer can take out of reviewkit (``reviewkit export`` CSVs, the
workspace's review.yaml and audit_tool.yaml) and recomputes each sentence with its own
arithmetic: nothing from reviewkit's analysis, narrative or report modules is imported. The
tests then check that the rendered sections say exactly this.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import yaml

LEVELS = [("Outstanding", 4), ("Good", 3), ("Requires Improvement", 2), ("Inadequate", 1)]
NA = "Not applicable"
SCORE = dict(LEVELS)
TOP = ["Outstanding", "Good"]
PSW = "Principal Social Worker"
WHO = {"person": ("a person", "people"), "relative": ("a relative", "relatives"),
       "carer": ("a carer", "carers"), "person and relative": ("a person and their relative",
                                                               "people and their relatives")}
KRIPPENDORFF = (0.667, 0.800)


# --------------------------------------------------------------------------- words

def pc(n: int, d: int, whole: bool = False) -> str:
    if whole:  # the main report's plain form: never "0%" for some, nor "100%" for all but some
        pct = math.floor(Fraction(100 * n, d) + Fraction(1, 2))
        return "under 1%" if pct == 0 < n else "over 99%" if pct == 100 and n != d else f"{pct}%"
    tenths = math.floor(Fraction(1000 * n, d) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


def nc(n: int, d: int, whole: bool = False) -> str:
    return f"{n} ({pc(n, d, whole)})" if d else f"{n} (–)"


def noun(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def join(items: list[str], conj: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conj} {items[-1]}"


def was(n: int) -> str:
    return "was" if n == 1 else "were"


def long_date(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%B %Y}"


def wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def clustered(hits: np.ndarray, sizes: np.ndarray) -> tuple[float, float]:
    """Design-effect Wilson (ANOVA ICC, t with clusters − 1 df), written out afresh with numpy."""
    keep = sizes > 0
    hits, sizes = hits[keep].astype(float), sizes[keep].astype(float)
    k, big_n = len(sizes), sizes.sum()
    share = hits.sum() / big_n
    t = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646, 8: 2.3060,
         9: 2.2622, 10: 2.2281, 11: 2.2010, 12: 2.1788, 13: 2.1604, 14: 2.1448, 15: 2.1314,
         16: 2.1199, 17: 2.1098, 18: 2.1009, 19: 2.0930, 20: 2.0860}[k - 1] if k >= 2 else 12.7062
    if k < 2:
        return wilson(share, 1.0, t)
    if big_n <= k:
        deff = 1.0
    elif hits.sum() <= 1 or big_n - hits.sum() <= 1:
        deff = float(sizes.max())  # 0 or 1 in (or out of) the level: the most clustering there could be
    else:
        p_i = hits / sizes
        msb = (sizes * (p_i - share) ** 2).sum() / (k - 1)
        msw = (hits * (1 - p_i)).sum() / (big_n - k)
        n0 = (big_n - (sizes ** 2).sum() / big_n) / (k - 1)
        denom = msb + (n0 - 1) * msw
        icc = 0.0 if denom <= 0 else float(np.clip((msb - msw) / denom, 0, 1))
        deff = 1 + ((sizes ** 2).sum() / big_n - 1) * icc
    n_eff = big_n / deff
    return wilson(share * n_eff, n_eff, t)


def interval(lo_hi: tuple[float, float]) -> str:
    return f"{100 * lo_hi[0]:.1f}% to {100 * lo_hi[1]:.1f}%"


def rounded_sum(counts: list[int], total: int) -> str:
    tenths = sum(int(pc(n, total).rstrip("%").replace(".", "")) for n in counts)
    return f"{tenths // 10}.{tenths % 10}"


# --------------------------------------------------------------------------- the review

def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Review:
    """The exported review, as plain Python."""

    council: str
    team: list[dict]
    cases: list[dict]
    questions: list[tuple[str, str]]  # (id, title) in tool order
    tool_title: str
    ratings: list[dict[str, str]]
    flags: list[dict[str, str]]
    meetings: list[dict[str, str]]
    conversations: list[dict[str, str]]
    overall: str = "overall"
    concerns: list[dict[str, str]] = field(default_factory=list)
    primary: list[dict[str, str]] = field(default_factory=list)
    layout: str = "main-and-appendix"  # review.yaml's report_layout
    selection: str = ""  # review.yaml's case_selection method

    @classmethod
    def load(cls, workspace: Path, exported: Path) -> Review:
        meta = yaml.safe_load((workspace / "review.yaml").read_text(encoding="utf-8"))
        tool = yaml.safe_load((workspace / "audit_tool.yaml").read_text(encoding="utf-8"))
        scale = tool.get("scale")
        if isinstance(scale, list):
            scale = [(lv["label"], lv["score"]) for lv in scale]
        assert scale in (None, "default", [*LEVELS, (NA, None)]), "the oracle knows the default scale only"
        review = cls(
            council=meta["council"], team=meta.get("team") or [], cases=meta.get("cases") or [],
            questions=[(q["id"], q["title"]) for q in tool["questions"]], tool_title=tool["title"],
            ratings=read_csv(exported / "ratings.csv"), flags=read_csv(exported / "flags.csv"),
            meetings=read_csv(exported / "meetings.csv"),
            conversations=read_csv(exported / "conversations.csv"),
            overall=(tool.get("overall") or {}).get("id", "overall"),
            concerns=read_csv(exported / "concerns.csv") if (exported / "concerns.csv").exists() else [],
            layout=meta.get("report_layout") or "main-and-appendix",
            selection=(sel.get("method") or "") if isinstance(sel := meta.get("case_selection") or {}, dict) else sel,
        )
        primary = {(c["id"], c["reviewer"]) for c in review.cases}
        review.primary = [r for r in review.ratings if (r["case_id"], r["reviewer"]) in primary]
        return review

    # -- derived ----------------------------------------------------------------------
    @property
    def allocated_pairs(self) -> set[tuple[str, str]]:
        out = set()
        for c in self.cases:
            out.add((c["id"], c["reviewer"]))
            out |= {(c["id"], m) for m in c.get("moderators") or []}
        return out

    @property
    def examined(self) -> set[tuple[str, str]]:
        return {(r["case_id"], r["reviewer"]) for r in self.primary}

    def question_ratings(self) -> list[dict[str, str]]:
        return [r for r in self.primary if r["question"] != self.overall]

    def overall_ratings(self) -> list[dict[str, str]]:
        return [r for r in self.primary if r["question"] == self.overall]

    def role_totals(self, meeting: str | None = None) -> dict[str, int]:
        out: Counter[str] = Counter()
        for m in self.meetings:
            if (meeting is None or m["meeting"] == meeting) and m["role"] and int(m["attendees"] or 0):
                out[m["role"]] += int(m["attendees"])
        return dict(sorted(out.items()))


def roles_phrase(roles: dict[str, int]) -> str:
    return join([noun(n, r) for r, n in roles.items()])


# --------------------------------------------------------------------------- sentences

def method_sentence(rv: Review) -> str:
    reviewers = {r["reviewer"] for r in rv.ratings} | {r for _, r in rv.allocated_pairs}
    cases = len(rv.examined)
    team = f" of {noun(len(reviewers), PSW)}" if reviewers else ""
    parts = [f"examined {noun(cases, 'case record')}" if cases else "examined no case records"]
    meetings = list(dict.fromkeys(m["meeting"] for m in rv.meetings))
    staffed = {m["meeting"] for m in rv.meetings if int(m["attendees"] or 0)}
    more = len(meetings) - len(staffed)
    if meetings and not staffed:
        parts.append(f"held {noun(len(meetings), 'meeting')} with staff, with no attendance recorded yet")
    elif meetings:
        roles = rv.role_totals()
        staff = sum(roles.values())
        detail = f" ({roles_phrase(roles)})" if roles else ""
        later = f" ({noun(more, 'more meeting')} {'has' if more == 1 else 'have'} no attendance recorded yet)" \
            if more else ""
        parts.append(f"met {noun(staff, 'member')} of staff{detail} in {noun(len(staffed), 'meeting')}{later}")
    else:
        parts.append("held no meetings with staff")
    if rv.conversations:
        who = Counter(c["who"] for c in rv.conversations)
        if len(rv.conversations) == 1:
            detail = f"It was with {WHO[rv.conversations[0]['who']][0]}"
        else:
            detail = "Of these, " + "; ".join(f"{n} {was(n)} with {WHO[w][0 if n == 1 else 1]}" if i == 0 else
                                               f"{n} with {WHO[w][0 if n == 1 else 1]}"
                                               for i, (w, n) in enumerate(who.items()))
        parts.append(f"held {noun(len(rv.conversations), 'conversation')} with people whose case records "
                     f"were examined or their families and carers. {detail}")
    else:
        parts.append("held no conversations with people or their families")
    # One sentence for each part of the review, rather than one of 60 words.
    return " ".join([f"The review team{team} {parts[0]}."] + [f"They {part}." for part in parts[1:]])


def meeting_sentence(rv: Review) -> str | None:
    clauses = []
    for i, ref in enumerate(dict.fromkeys(m["meeting"] for m in rv.meetings)):
        rows = [m for m in rv.meetings if m["meeting"] == ref]
        kind = rows[0]["kind"]
        who = kind if kind in ("practitioners", "managers") else "staff"
        when = f" on {long_date(rows[0]['date'])}" if rows[0]["date"] else ""
        roles = rv.role_totals(ref)
        head = f"The meeting with {who}{when}"
        clauses.append(f"{head} was attended by {roles_phrase(roles)}" if roles else
                       f"{head} has no attendance recorded yet")
    return " ".join(c + "." for c in clauses) if clauses else None


def _done(rv: Review) -> dict[tuple[str, str], set[str]]:
    done: dict[tuple[str, str], set[str]] = {}
    for r in rv.primary:
        done.setdefault((r["case_id"], r["reviewer"]), set()).add(r["question"])
    return done


def _complete(rv: Review) -> int:
    wanted = {q for q, _ in rv.questions} | {rv.overall}
    return sum(1 for qs in _done(rv).values() if wanted <= qs)


def _moderation(rv: Review) -> dict:
    """Moderation cases as rated (question ratings by allocated reviewers of cases two of them rated)."""
    pairs = rv.allocated_pairs
    rows = [r for r in rv.ratings if (r["case_id"], r["reviewer"]) in pairs and r["question"] != rv.overall]
    by_case: dict[str, set[str]] = {}
    for r in rows:
        by_case.setdefault(r["case_id"], set()).add(r["reviewer"])
    mod = {c: rs for c, rs in by_case.items() if len(rs) >= 2}
    return {"cases": mod, "rows": [r for r in rows if r["case_id"] in mod]}


def scope_sentence(rv: Review) -> str | None:
    """'Each case record was rated on the 12 questions … 2 case records were also rated independently …'."""
    if not rv.examined:
        return None
    every = "Each case record was" if _complete(rv) == len(_done(rv)) else "Case records were"
    text = (f"{every} rated on the {len(rv.questions)} questions of the audit tool ‘{rv.tool_title}’, "
            "with an overall judgement.")
    planned = sum(1 for c in rv.cases if len({c["reviewer"], *(c.get("moderators") or [])}) >= 2)
    if not planned:
        return text
    rated_pairs = {(r["case_id"], r["reviewer"]) for r in rv.ratings if r["question"] != rv.overall} \
        & rv.allocated_pairs
    rated = sum(1 for n in Counter(c for c, _ in rated_pairs).values() if n >= 2)
    if not rated:
        return text + (f" {noun(planned, 'case record')} {was(planned)} chosen to be rated independently by a "
                       f"second {PSW} as well; none has been rated by more than one yet.")
    others = Counter(len(v) - 1 for v in _moderation(rv)["cases"].values())
    if len(others) <= 1:
        n = next(iter(others), 1)
        by = f"a second {PSW}" if n == 1 else f"{n} other {PSW}s"
    else:
        by = f"other {PSW}s (" + join([f"{k} by {'a second' if n == 1 else f'{n} others'}"
                                       for n, k in sorted(others.items())]) + ")"
    head = noun(rated, "case record") if rated == planned else \
        f"{rated} of the {planned} case records chosen for moderation"
    return text + (f" {head} {was(rated)} also rated independently by {by}. This checks how consistently "
                   "the team used the audit tool.")


def _about(rv: Review) -> str:
    about = {c["case_id"] for c in rv.conversations}
    examined = {c for c, _ in rv.examined}
    cases = len(rv.examined)
    if about <= examined:
        return f"{len(about)} of the {noun(cases, 'case record')} examined"
    inside = len(about & examined)
    among = "none is" if not inside else f"{inside} {'is' if inside == 1 else 'are'}"
    return f"{noun(len(about), 'case record')}, of which {among} among the {noun(cases, 'case record')} examined"


def conversations_sentence(rv: Review) -> str | None:
    return f"The conversations were about {_about(rv)}." if rv.conversations else None


def rated_sentence(rv: Review) -> str | None:
    allocated_cases = {c["id"] for c in rv.cases}
    allocated_reviewers = {c["reviewer"] for c in rv.cases}
    if not allocated_cases:
        return None
    done = _done(rv)
    if not done:
        return (f"None of the {noun(len(allocated_reviewers), PSW)} has rated any of the "
                f"{noun(len(allocated_cases), 'allocated case record')} yet.")
    per = Counter(r for _, r in done)
    raters = len(per)
    if raters == len(allocated_reviewers):
        who = f"The {noun(raters, PSW)}" if raters > 1 else f"The {PSW}"
    else:
        who = f"{raters} of the {noun(len(allocated_reviewers), PSW)}"
    hosts = {m["name"] for m in rv.team if m.get("role") == "host"}
    if hosts & set(per):
        who += ", including the host," if raters > 1 else " (the host)"
    cases, planned = len(done), len(allocated_cases)
    if cases == planned:
        what = f"all {planned} allocated case records" if planned > 1 else "the 1 allocated case record"
    else:
        what = f"{cases} of the {noun(planned, 'allocated case record')}"
    each = ""
    if raters > 1:
        low, high = min(per.values()), max(per.values())
        each = f" ({low} each)" if low == high else f" (between {low} and {high} each)"
    complete = _complete(rv)
    if complete == cases:
        tail = ". They completed the audit tool for each" if cases > 1 else ". They completed the audit tool for it"
    elif complete == 0:
        tail = "; none of them has every question and an overall judgement rated yet"
    else:
        tail = f"; {complete} of them {'has' if complete == 1 else 'have'} every question and an overall judgement rated"
    return f"{who} rated {what}{each}{tail}."


def referred_sentence(rv: Review) -> str:
    # A case with a concern about a person's safety logged was referred back too (each case once).
    n = len({f["case_id"] for f in rv.flags if f["referred_back"] == "yes"} | {c["case_id"] for c in rv.concerns})
    if n == 0:
        return f"No case records were referred back to {rv.council} for significant concerns."
    if n == 1:
        return f"1 case record was referred back to {rv.council} for a significant concern."
    return f"{n} case records were referred back to {rv.council} for significant concerns."


def concerns_sentence(rv: Review) -> str:
    """The concerns raised during the review: a count, the longest wait for a response, the outcomes."""
    n = len(rv.concerns)
    if not n:
        return ""
    words = {"acted": "took action", "already-in-hand": "was already acting on it",
             "no-further-action": "found no further action was needed"}
    lead = (f"{n} concern{'s' if n > 1 else ''} about a person’s safety {'was' if n == 1 else 'were'} raised with "
            f"{rv.council} during the review")
    answered = [c for c in rv.concerns if c["response"].strip()]
    if not answered:
        return lead + (". No response from the council is recorded yet." if n == 1 else
                       ". No response from the council to any of them is recorded yet.")
    days = max((dt.date.fromisoformat(c["responded_on"]) - dt.date.fromisoformat(c["raised_on"])).days
               for c in answered)
    when = "on the same day" if days == 0 else f"within {noun(days, 'day')}"
    if n == 1:
        outcome = answered[0]["outcome"]
        return f"{lead}. The council responded {when}" + (f" and {words[outcome]}." if outcome else ".")
    who = "to each" if len(answered) == n else f"to {len(answered)} of them"
    text = f"{lead}. The council responded {who} {when}"
    said = Counter(c["outcome"] for c in answered if c["outcome"])
    if said:
        text += " (" + "; ".join(f"{k}: {words[o]}" for o, k in said.items()) + ")"
    if len(answered) < n:
        text += f", and {n - len(answered)} {'has' if n - len(answered) == 1 else 'have'} no response recorded yet"
    return text + "."


def _level_list(counts: Counter, total: int, verb: str, whole: bool = False) -> str:
    parts = []
    for i, (label, _) in enumerate(LEVELS):
        n = counts[label]
        parts.append(f"{nc(n, total, whole)} {was(n)} {verb} {label}" if i == 0 else f"{nc(n, total, whole)} {label}")
    return join(parts)


def _na(n: int) -> str:
    return f". A further {n} {was(n)} marked Not applicable and {'is' if n == 1 else 'are'} not counted" if n else ""


def pooled_sentence(rv: Review, whole: bool = False) -> str:
    counts = Counter(r["rating"] for r in rv.question_ratings())
    na = counts[NA]
    total = sum(counts[lv] for lv, _ in LEVELS)
    cases = len(rv.examined)
    expected = cases * len(rv.questions)
    gap = expected - total - na
    missing = (f" {noun(gap, 'rating')} of the {expected} expected ({cases} × {len(rv.questions)}) "
               f"{'is' if gap == 1 else 'are'} not yet entered." if gap > 0 else "")
    if total == 0:
        if na:
            return f"No questions were rated on the scale; {na} {was(na)} marked Not applicable.{missing}"
        return f"No questions have been rated yet.{missing}"
    across = len({r["case_id"] for r in rv.question_ratings()})
    return (f"Of the {noun(total, 'question')} rated across {noun(across, 'case record')}, "
            f"{_level_list(counts, total, 'rated', whole)}{_na(na)}.{missing}")


def headline_sentence(rv: Review, whole: bool = False) -> str:
    counts = Counter(r["rating"] for r in rv.overall_ratings())
    total = sum(counts[lv] for lv, _ in LEVELS)
    if total == 0:
        return "No case records have an overall judgement yet."
    good = counts["Outstanding"] + counts["Good"]
    records = "case record" if total == 1 else "case records"
    if total == 1:
        return f"The 1 case record with an overall judgement {'was' if good else 'was not'} judged Outstanding or Good."
    head = (f"None of the {total} {records} ({pc(0, total, whole)}) {was(total)}" if good == 0 else
            f"{good} of the {total} {records} ({pc(good, total, whole)}) {was(good)}")
    return f"{head} judged Outstanding or Good."


def overall_sentence(rv: Review, whole: bool = False) -> str:
    counts = Counter(r["rating"] for r in rv.overall_ratings())
    total = sum(counts[lv] for lv, _ in LEVELS)
    if total == 0:
        return "No case records have an overall judgement yet."
    return (f"Of the {noun(total, 'case record')} given an overall judgement, "
            f"{_level_list(counts, total, 'judged', whole)}{_na(counts[NA])}.")


def per_question(rv: Review) -> list[tuple[int, str, str, Counter]]:
    out = []
    for number, (qid, title) in enumerate(rv.questions, 1):
        out.append((number, qid, title, Counter(r["rating"] for r in rv.question_ratings() if r["question"] == qid)))
    return out


def weakest_sentence(rv: Review, n: int = 3, whole: bool = False, as_list: bool = False) -> Any:
    rows = []
    for number, _, title, counts in per_question(rv):
        scored = sum(counts[lv] for lv, _ in LEVELS)
        if scored:
            good = counts["Outstanding"] + counts["Good"]
            rows.append((Fraction(good, scored), number, title, good, scored))
    if not rows:
        return ("No questions have been rated yet.", [], "") if as_list else "No questions have been rated yet."
    rows.sort(key=lambda r: (r[0], r[1]))
    chosen = rows[:n]
    tied = 0
    if len(chosen) == n:
        cut = chosen[-1][0]
        chosen = [r for r in rows if r[0] <= cut]
        tied = sum(1 for r in rows if r[0] == cut) if len(chosen) > n else 0
    if tied and tied == len(rows):
        said = (f"All {tied} rated questions were rated Outstanding or Good in the same proportion "
                f"({pc(chosen[-1][3], chosen[-1][4], whole)}), so no question stands out as least often so rated.")
        return (said, [], "") if as_list else said
    if as_list:  # the main report: a lead, one item a question, and a note on ties
        head = "The question least often rated Outstanding or Good was:" if len(chosen) == 1 else \
            "The questions least often rated Outstanding or Good were:"
        return head, [f"Question {num}, {title}: {g} of {s} ({pc(g, s, whole)})" for _, num, title, g, s in chosen], \
            (f"The last {tied} share the same proportion, so all of them are named." if tied else "")
    items = [f"question {num}, {title} ({g} of {s}, {pc(g, s, whole)})" for _, num, title, g, s in chosen]
    head = "The question least often rated Outstanding or Good was" if len(items) == 1 else \
        "The questions least often rated Outstanding or Good were"
    text = f"{head} {join(items)}."
    if tied:
        text += (f" The last {tied} share the same proportion ({pc(chosen[-1][3], chosen[-1][4], whole)}), so all of "
                 "them are named.")
    return text


def _alpha(rows: list[dict[str, str]]) -> tuple[float | None, int, int, int]:
    import krippendorff

    scored = [r for r in rows if r["rating"] in SCORE]
    units: dict[tuple[str, str], dict[str, int]] = {}
    for r in scored:
        units.setdefault((r["case_id"], r["question"]), {})[r["reviewer"]] = SCORE[r["rating"]]
    units = {u: v for u, v in units.items() if len(v) >= 2}
    pairs = agreeing = 0
    for v in units.values():
        for a, b in combinations(list(v.values()), 2):
            pairs += 1
            agreeing += a == b
    values = {s for v in units.values() for s in v.values()}
    if not units or len(values) < 2:
        return None, len(units), pairs, agreeing
    reviewers = sorted({r for v in units.values() for r in v})
    keys = sorted(units)
    matrix = np.full((len(reviewers), len(keys)), np.nan)
    for j, u in enumerate(keys):
        for r, s in units[u].items():
            matrix[reviewers.index(r), j] = s
    alpha = float(krippendorff.alpha(reliability_data=matrix, value_domain=[1.0, 2.0, 3.0, 4.0],
                                     level_of_measurement="ordinal"))
    return alpha, len(units), pairs, agreeing


def agreement_sentence(rv: Review) -> str:
    mod = _moderation(rv)
    cases = len(mod["cases"])
    if cases == 0:
        return ("No case records were rated by more than one reviewer, so agreement between "
                "reviewers was not measured.")
    sizes = {len(v) for v in mod["cases"].values()}
    if len(sizes) == 1:
        by = f"{'' if cases == 1 else 'each '}rated independently by {noun(sizes.pop(), 'reviewer')}"
    else:
        by = f"each rated independently by between {min(sizes)} and {max(sizes)} reviewers"
    lead = f"{noun(cases, 'moderation case record')} {was(cases)} {by}"
    alpha, items, pairs, agreeing = _alpha(mod["rows"])
    if pairs == 0:
        return f"{lead}, but no question had two scored ratings to compare, so agreement was not measured."
    caveat = (f"Agreement on {noun(cases, 'moderation case')} is a rough guide, not a verdict: with so few "
              "ratings a single different rating moves these figures a lot.")
    raw = f"{lead}: they gave the same rating in {agreeing} of {noun(pairs, 'pair')} of ratings ({pc(agreeing, pairs)})"
    if alpha is None:
        return (f"{raw}. Krippendorff's alpha is undefined when every rating is the same level (there is "
                f"no variation to agree about); raw agreement is shown instead. {caveat}")
    text = f"{alpha:.2f}"
    if any((alpha < t) != (float(text) < t) for t in KRIPPENDORFF):
        text = f"{alpha:.3f}"
    where = "is at or above both" if alpha >= 0.8 else "is between the two" if alpha >= 0.667 else "is below both"
    return (f"{raw}, and Krippendorff's alpha (ordinal) was {text} across {noun(items, 'rated question')}. "
            "Krippendorff suggests relying on ratings where alpha is at least 0.800 and drawing only "
            f"tentative conclusions where it is at least 0.667; {text} {where}. {caveat}")


def case_records_sentence(rv: Review) -> str:
    cases = len(rv.examined)
    lead = f"Principal Social Workers examined {noun(cases, 'case record') if cases else 'no case records'}"
    if not rv.conversations:
        return lead + "; no conversations with people or their families took place."
    who = Counter(c["who"] for c in rv.conversations)
    parts = [f"{n} {('was ' if n == 1 else 'were ') if i == 0 else ''}with {WHO[w][0 if n == 1 else 1]}"
             for i, (w, n) in enumerate(who.items())]
    return (f"{lead}. They also talked with people whose case records were examined, or with their families and "
            f"carers, about {_about(rv)}. Of these conversations, {join(parts)}.")


def sentences(rv: Review) -> list[str]:
    """Every generated sentence of sections 1, 4 and 5 the oracle knows, in no particular order."""
    out = [method_sentence(rv), meeting_sentence(rv), scope_sentence(rv), conversations_sentence(rv),
           rated_sentence(rv), referred_sentence(rv), concerns_sentence(rv), pooled_sentence(rv),
           headline_sentence(rv), overall_sentence(rv), weakest_sentence(rv), agreement_sentence(rv),
           case_records_sentence(rv)]
    if rv.layout != "classic":  # section 4 of the main report says the same in whole percentages
        lead, _, ties = weakest_sentence(rv, whole=True, as_list=True)  # its items: weakest_items
        out += [pooled_sentence(rv, whole=True), headline_sentence(rv, whole=True), overall_sentence(rv, whole=True),
                lead, ties]
    return [s for s in out if s]


# --------------------------------------------------------------------------- tables

def level_rows(counts: Counter, ci: dict[str, tuple[float, float]]) -> list[tuple[str, str, str]]:
    total = sum(counts[lv] for lv, _ in LEVELS)
    rows = [(lv, nc(counts[lv], total), interval(ci[lv]) if total else "–") for lv, _ in LEVELS]
    return rows + [(NA, f"{counts[NA]} (not counted)", "not counted")]


def pooled_table(rv: Review) -> list[tuple[str, str, str]]:
    scored = [r for r in rv.question_ratings() if r["rating"] in SCORE]
    cases = sorted({r["case_id"] for r in scored})
    sizes = np.array([sum(1 for r in scored if r["case_id"] == c) for c in cases])
    ci = {}
    for lv, _ in LEVELS:
        hits = np.array([sum(1 for r in scored if r["case_id"] == c and r["rating"] == lv) for c in cases])
        ci[lv] = clustered(hits, sizes) if len(cases) else (math.nan, math.nan)
    return level_rows(Counter(r["rating"] for r in rv.question_ratings()), ci)


def one_per_case_table(counts: Counter) -> list[tuple[str, str, str]]:
    total = sum(counts[lv] for lv, _ in LEVELS)
    ci = {lv: wilson(counts[lv], total) if total else (math.nan, math.nan) for lv, _ in LEVELS}
    return level_rows(counts, ci)


def tables(rv: Review) -> dict[str, list[tuple[str, str, str]]]:
    """Each level table of the report by the start of its caption (after 'Table n: ')."""
    out = {"All question ratings by level": pooled_table(rv),
           "Overall judgements of the case records": one_per_case_table(
               Counter(r["rating"] for r in rv.overall_ratings()))}
    for number, _, title, counts in per_question(rv):
        out[f"Question {number}: {title}"] = one_per_case_table(counts)
    rows, _ = moderation_table(rv)
    if rows:
        out["Agreement on the moderation case records, in pairs of ratings"] = rows
    return out


def moderation_table(rv: Review) -> tuple[list[tuple[str, ...]], str | None]:
    """Agreement on the moderation case records, counted in pairs of ratings, and the note under it."""
    units: dict[tuple[str, str], list[int]] = {}
    for r in _moderation(rv)["rows"]:
        if r["rating"] in SCORE:
            units.setdefault((r["case_id"], r["question"]), []).append(SCORE[r["rating"]])
    units = {u: v for u, v in units.items() if len(v) >= 2}
    if not units:
        return [], None

    def row(name: str, keys: list[tuple[str, str]]) -> tuple[str, ...]:
        pairs = [(a, b) for u in keys for a, b in combinations(units[u], 2)]
        same = sum(a == b for a, b in pairs)
        near = sum(abs(a - b) <= 1 for a, b in pairs)
        return (name, str(len(keys)), str(len(pairs)), nc(same, len(pairs)), nc(near, len(pairs)))

    cases = sorted({c for c, _ in units})
    rows = [row(f"Moderation case {i}", [u for u in units if u[0] == c]) for i, c in enumerate(cases, 1)]
    if len(cases) > 1:
        rows.append(row("All moderation cases", list(units)))
    most = max(len(v) for v in units.values())
    per = ("a question rated by 2 reviewers gives 1 pair" if most == 2 else
           f"a question rated by {most} reviewers gives {most * (most - 1) // 2} pairs, one for each two of them")
    return rows, f"Each count is of pairs of ratings of the same question, as in the sentence above: {per}."


def sparse_note(rv: Review) -> str | None:
    """The method note's words on levels given 0 or 1 times (or all times but 0 or 1), if any."""
    scored = [r for r in rv.question_ratings() if r["rating"] in SCORE]
    sizes = Counter(r["case_id"] for r in scored)
    total = len(scored)
    if len(sizes) < 2 or total <= len(sizes):
        return None
    counts = Counter(r["rating"] for r in scored)
    items = []
    for lv, _ in LEVELS:
        k = counts[lv]
        if k == 0:
            items.append(f"{lv} has no ratings")
        elif k == 1:
            items.append(f"{lv} has only 1 rating")
        elif total - k <= 1:
            items.append(f"{lv} has all the ratings but {total - k}")
    if not items:
        return None
    its = "its interval assumes" if len(items) == 1 else "their intervals assume"
    return (f"{join(items)}: too few to estimate how far ratings of the same case record resemble each other "
            f"(the estimate would be no resemblance at all, whatever the truth), so {its} the most there could "
            "be: the number of ratings is divided by the most questions rated on any one case record "
            f"({max(sizes.values())}), as if each case record gave a single rating.")


def table_notes(rv: Review) -> list[str]:
    """Every note under a table of sections 1, 4 and 5: rounding, and the unit of the agreement table."""
    _, note = moderation_table(rv)
    return rounding_notes(rv) + ([note] if note else [])


def rounding_notes(rv: Review) -> list[str]:
    """The rounding notes the report must print (one per level table or summary row that misses 100)."""
    notes = []
    counted = [Counter(r["rating"] for r in rv.question_ratings()),
               Counter(r["rating"] for r in rv.overall_ratings())]
    counted += [c for *_, c in per_question(rv)]
    for counts in counted:
        total = sum(counts[lv] for lv, _ in LEVELS)
        if total and (s := rounded_sum([counts[lv] for lv, _ in LEVELS], total)) != "100.0":
            notes.append(f"The percentages are rounded to one decimal place, so they add up to {s}% rather than 100%.")
    rows = []
    for number, _, _, counts in per_question(rv):
        total = sum(counts[lv] for lv, _ in LEVELS)
        if total and (s := rounded_sum([counts[lv] for lv, _ in LEVELS], total)) != "100.0":
            rows.append(f"question {number} ({s}%)")
    if rows:
        notes.append(f"Percentages are rounded to one decimal place, so in the {'row' if len(rows) == 1 else 'rows'} "
                     f"for {join(rows)} they do not add up to exactly 100%.")
    return notes


# --------------------------------------------------------------------------- key messages, sections 1 and 2

SELECTED = {
    "random": "The case records were chosen at random from a list of {c}’s case records.",
    "stratified": "The case records were chosen at random within each of {c}’s teams.",
    "council": "{c} chose the case records for the review.",
    "mixed": "Some of the case records were chosen at random and {c} chose the others.",
}


def date_range(start: str, end: str) -> str:
    if not start or not end or start == end:
        return long_date(start or end) if (start or end) else ""
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day} to {b.day} {b:%B %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%B} to {b.day} {b:%B %Y}"
    return f"{long_date(start)} to {long_date(end)}"


def month_or_day(value: str) -> str:
    """'on 5 October 2022' for a day, 'in June 2022' for a month."""
    if len(value) == 10:
        return f"on {long_date(value)}"
    if len(value) == 7:
        return f"in {dt.date.fromisoformat(value + '-01'):%B %Y}"
    return f"in {value}"


@dataclass
class Extra:
    """What the oracle reads beside the export: review.yaml in full and the previous round's manifest."""

    meta: dict
    previous: dict | None  # the previous round's bundle manifest, if the workspace keeps one
    notes: list[dict[str, str]]
    quality_statements: str

    @classmethod
    def load(cls, workspace: Path, exported: Path) -> Extra:
        import zipfile

        meta = yaml.safe_load((workspace / "review.yaml").read_text(encoding="utf-8"))
        previous = None
        if (workspace / "previous_round.zip").is_file():
            with zipfile.ZipFile(workspace / "previous_round.zip") as zf:
                previous = yaml.safe_load(zf.read("manifest.yaml"))
                previous["_ratings"] = list(csv.DictReader(zf.read("question_ratings.csv").decode().splitlines()))
                previous["_overall"] = list(csv.DictReader(zf.read("overall_judgements.csv").decode().splitlines()))
        qs = workspace / "narrative" / "quality_statements.md"
        notes = read_csv(exported / "notes.csv") if (exported / "notes.csv").is_file() else []
        return cls(meta, previous, notes, qs.read_text(encoding="utf-8") if qs.is_file() else "")


def examined_sentence(rv: Review) -> str | None:
    done = _done(rv)
    if not rv.examined:
        return None
    allocated = {c["reviewer"] for c in rv.cases}
    raters = {r for _, r in done}
    who = noun(len(raters), PSW) if len(raters) == len(allocated) else \
        f"{len(raters)} of the {noun(len(allocated), PSW)}"
    n_q, cases, complete = noun(len(rv.questions), "question"), len(done), _complete(rv)
    if complete == cases:
        tail = f", each rated on the {n_q} of the audit tool" if cases > 1 else f", rated on the {n_q} of the audit tool"
    elif complete == 0:
        tail = (f"; none of them has yet been rated on all the {n_q} of the audit tool with an overall judgement"
                if cases > 1 else f"; it has not yet been rated on all the {n_q} of the audit tool with an overall "
                "judgement")
    else:
        tail = (f"; {complete} of them {'has' if complete == 1 else 'have'} been rated on all the {n_q} of the audit "
                "tool with an overall judgement")
    return f"{noun(cases, 'case record')} examined by {who}{tail}."


def headline_with_interval(rv: Review) -> str:
    counts = Counter(r["rating"] for r in rv.overall_ratings())
    total = sum(counts[lv] for lv, _ in LEVELS)
    if total == 0:
        return "No case records have an overall judgement yet."
    good = counts["Outstanding"] + counts["Good"]
    lo, hi = wilson(good, total)
    return headline_sentence(rv)[:-1] + f" (95% confidence interval {100 * lo:.1f}% to {100 * hi:.1f}%)."


def plain_headline(rv: Review) -> str:
    """The main report's headline: whole percentages, then the interval once, in words true to how the
    records were chosen."""
    counts = Counter(r["rating"] for r in rv.overall_ratings())
    total = sum(counts[lv] for lv, _ in LEVELS)
    if total == 0:
        return "No case records have an overall judgement yet."
    lo, hi = (math.floor(100 * x + 0.5) for x in wilson(counts["Outstanding"] + counts["Good"], total))
    between = f"lies between {lo}% and {hi}%"
    chosen = {"random": None, "stratified": None, "council": f"{rv.council} chose these case records",
              "mixed": f"Some of these case records were chosen by {rv.council}"}.get(
        rv.selection, "How these case records were chosen is not recorded")
    if rv.selection == "random":
        said = f"We can be fairly sure that the figure for every case record on the list these were drawn from {between}."
    elif rv.selection == "stratified":
        said = ("We can be fairly sure that the figure for the teams’ case records, taken in the same numbers from "
                f"each team, {between}.")
    else:
        said = (f"{chosen}, so the figure is about them, not all the council’s case records. With only "
                f"{noun(total, 'case record')}, we can be fairly sure only that the figure for records like these "
                f"{between}.")
    return f"{headline_sentence(rv, whole=True)} {said}"


def heard_sentence(rv: Review) -> str | None:
    heard = []
    meetings = list(dict.fromkeys(m["meeting"] for m in rv.meetings))
    staffed = {m["meeting"] for m in rv.meetings if int(m["attendees"] or 0)}
    more = len(meetings) - len(staffed)
    if meetings and not staffed:
        heard.append(f"{noun(len(meetings), 'meeting')} with staff, with no attendance recorded yet")
    elif meetings:
        staff = sum(int(m["attendees"] or 0) for m in rv.meetings)
        later = f" ({noun(more, 'more meeting')} {'has' if more == 1 else 'have'} no attendance recorded yet)" \
            if more else ""
        heard.append(f"{noun(len(staffed), 'meeting')} with {noun(staff, 'member')} of staff{later}")
    if rv.conversations:
        heard.append(f"{noun(len(rv.conversations), 'conversation')} with people whose case records were examined, "
                     "or their families and carers")
    return f"The team also held {join(heard)}." if heard else None


def key_message_items(rv: Review) -> list[str]:
    """Every generated item of 'The review at a glance', in order."""
    referred = referred_sentence(rv) + (f" {concerns_sentence(rv)}" if rv.concerns else "")
    headline = headline_with_interval(rv) if rv.layout == "classic" else plain_headline(rv)
    out = [examined_sentence(rv), headline, NOT_A_RATING, referred, heard_sentence(rv)]
    return [s for s in out if s]


# The fixed line beside the headline share: what a peer review's figures are not.
NOT_A_RATING = ("This peer review is not a CQC assessment and does not grade the council. Its figures show "
                "what the reviewers found in the case records they read.")


def selection_sentence(rv: Review, extra: Extra) -> str | None:
    if not rv.examined:
        return None
    sel = extra.meta.get("case_selection") or {}
    sel = {"method": sel} if isinstance(sel, str) else sel
    text = SELECTED.get(sel.get("method") or "", "How the case records were chosen is not recorded.")
    text = text.format(c=rv.council)
    said = " ".join(str(sel.get("description") or "").split())
    return f"{text} {said}{'' if said[-1:] in '.!?' else '.'}" if said else text


def teams_sentence(rv: Review) -> str | None:
    """The teams the examined case records came from, counted from review.yaml's cases (one team however cased)."""
    examined = {c for c, _ in rv.examined}
    teams = [str(c.get("team") or "") for c in rv.cases if c["id"] in examined]
    first: dict[str, str] = {}
    for t in filter(None, teams):
        first.setdefault(t.lower(), t)
    named = Counter(t.lower() for t in teams if t)
    if not named:
        return None
    listing = join([f"{first[t]} ({named[t]})" for t in sorted(named)])
    gap = len(teams) - sum(named.values())
    if not gap:
        return f"The {noun(len(teams), 'case record')} examined came from {noun(len(named), 'team')}: {listing}."
    return (f"Of the {noun(len(teams), 'case record')} examined, {len(teams) - gap} came from "
            f"{noun(len(named), 'team')}: {listing}; {gap} {'has' if gap == 1 else 'have'} no team recorded.")


def introduction_sentences(rv: Review, extra: Extra) -> list[str]:
    dates = extra.meta.get("dates") or {}
    start, end = str(dates.get("start") or ""), str(dates.get("end") or "")
    when = date_range(start, end)
    first = (f"The practice review of {rv.council} took place from {when}." if start and end and start != end else
             f"The practice review of {rv.council} took place on {when}." if when else
             f"The practice review of {rv.council} took place in the period set out in this report.")
    out = [first, f"The council identified the theme for the review as ‘{extra.meta['theme']}’.",
           selection_sentence(rv, extra), teams_sentence(rv)]
    if extra.meta.get("review_questions"):
        out.append(f"{rv.council} asked the review to answer these questions:")
    return [s for s in out if s]


def previous_sentence(rv: Review, extra: Extra) -> str:
    """Section 2's opening, true whether the previous round is recorded by recommendations, figures, both or neither."""
    prev = extra.meta.get("previous_review") or {}
    recs, date = prev.get("recommendations") or [], str(prev.get("date") or "")
    # The main-and-appendix layout (the default) puts the comparison in Appendix A; "classic" in section 4.
    where = "Section 4" if extra.meta.get("report_layout") == "classic" else "Appendix A"
    compared = f" {where} compares this review’s ratings with the previous review’s." if extra.previous else ""
    if recs:
        when = f" {month_or_day(date)}" if date else ""
        classic = extra.meta.get("report_layout") == "classic"
        # Classic: each below its update; otherwise each in full in Appendix C, and what they came to here.
        where = ", shown below the recommendation" if classic else ". Appendix C sets out each recommendation with its update"
        statuses = [str(r.get("status") or "").strip().lower() for r in recs]
        said = Counter(s for s in statuses if s)
        blank = sum(1 for s in statuses if not s)
        reported = (" Their status, as the council reports it: " + join([f"{n} {s}" for s, n in said.items()])
                    + (f"; {blank} {'has' if blank == 1 else 'have'} no status recorded" if blank else "")
                    + ".") if said else ""
        updated = sum(1 for r in recs if str(r.get("update") or "").strip())
        psw = "The host Principal Social Worker has"
        updates = (f"{psw} provided an update on each{where}." if updated == len(recs) else
                   f"{psw} provided an update on {updated} of them{where}." if updated else
                   f"{psw} not provided an update on them" + ("." if classic else
                                                              "; Appendix C sets out each recommendation."))
        return (f"The previous practice review was undertaken{when} and made {noun(len(recs), 'recommendation')}. "
                f"{updates}{reported}{compared}")
    if extra.previous is None and not date:
        return "No previous practice review is recorded for this council."
    when = month_or_day(date or str(extra.previous["round"]))
    return (f"The previous practice review of {rv.council} was undertaken {when}. Its recommendations, and the "
            f"council’s updates on them, are not recorded for this review.{compared}")


# --------------------------------------------------------------------------- the comparison with the previous round

def trend_sentences(rv: Review, extra: Extra, tool: dict) -> list[str]:
    """The comparison's opening: which round, which tool, and what is compared (the figures: oracle_trend)."""
    prev = extra.previous
    if prev is None:
        return []
    titles = {q["id"]: " ".join(q["title"].split()).casefold() for q in prev["questions"]}
    rows = {r["question"] for r in prev["_ratings"]}
    shared = [f"Q{n} {title}" for n, (qid, title) in enumerate(rv.questions, 1)
              if qid in rows and titles.get(qid) == " ".join(title.split()).casefold()]
    same_tool = (prev["tool"]["id"], str(prev["tool"]["version"])) == (tool["id"], str(tool["version"]))
    which_tool = (f"the same audit tool (‘{prev['tool']['title']}’)" if same_tool else
                  f"another audit tool (‘{prev['tool']['title']}’)")
    lead = (f"The previous practice review of {rv.council} ({long_date_any(prev['round'])}) rated "
            f"{noun(int(prev['counts']['cases']), 'case record')} on {which_tool}.")
    if same_tool:
        return [f"{lead} Every question and the overall judgement are compared."]
    if not shared and not prev.get("_overall"):
        return [lead]
    return [f"{lead} Only what both tools ask is compared: {join(shared + ['the overall judgement'])}."]


def long_date_any(value: str) -> str:
    return long_date(value) if len(value) == 10 else f"{dt.date.fromisoformat(value + '-01'):%B %Y}"


# --------------------------------------------------------------------------- CQC evidence

def cqc_rows(rv: Review, extra: Extra, tool: dict, codebook: dict) -> tuple[str, list[tuple[str, ...]]]:
    """The CQC section's count sentence and its summary table (all columns but the team's view), recounted.

    Four kinds of evidence per statement: audit ratings, meeting notes, conversations and the
    team's written points; a statement is evidenced with at least two. Each note and conversation
    counts once per statement; a conversation counts under a statement when one of its notes has a
    code or an I statement mapped there. A statement marked "Outside the scope of this review" has
    no written points.
    """
    import re

    names = {1: "Assessing needs", 2: "Supporting people to live healthier lives", 3: "Equity in experience and "
             "outcomes", 4: "Care provision, integration and continuity", 5: "Partnerships and communities",
             6: "Safe systems, pathways and transitions", 7: "Safeguarding", 8: "Governance, management and "
             "sustainability", 9: "Learning, improvement and innovation"}
    code_map = {c["id"]: set(c.get("cqc") or []) for c in codebook.get("codes") or []}
    i_map = {c["id"]: set(c.get("cqc") or []) for c in codebook.get("i_statements") or []}
    lines: dict[int, list[str]] = {}
    current = None
    for line in re.sub(r"<!--.*?-->", "", extra.quality_statements, flags=re.S).splitlines():
        m = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            n = re.match(r"(?:QS\s*|quality statement\s*)?(\d)\b", m.group(1), flags=re.I)
            if n:
                current = int(n.group(1))
            elif re.match(r"(?:theme|[1-4]\.)", m.group(1), flags=re.I) and not re.match(
                    r"(strengths?|areas for|considerations?|what (?:is )?works?)", m.group(1), flags=re.I):
                current = None
            continue
        if current is not None and line.strip():
            lines.setdefault(current, []).append(line.strip())
    written = {s for s, said in lines.items()
               if not said[0].lstrip("-*_ ").casefold().startswith("outside the scope of this review")}
    rows, evidenced = [], 0
    scored = [r for r in rv.question_ratings() if r["rating"] in SCORE]

    def codes(n: dict) -> list[str]:
        return [c.strip() for c in (n["codes"] or "").split(";") if c.strip()]

    all_notes: set[str] = set()
    all_convs: set[str] = set()
    for s in range(1, 10):
        mapped = [q for q in tool["questions"] if s in (q.get("cqc") or [])]
        ratings = sum(1 for r in scored if r["question"] in {q["id"] for q in mapped})
        notes = {n["note"] for n in extra.notes if n["meeting"] and any(s in code_map.get(c, ()) for c in codes(n))}
        convs = {n["conversation"] for n in extra.notes if n["conversation"] and any(
            s in code_map.get(c, set()) | i_map.get(c, set()) for c in codes(n))}
        all_notes |= notes
        all_convs |= convs
        kinds = bool(ratings) + bool(notes) + bool(convs) + (s in written)
        evidenced += kinds >= 2
        rows.append((f"QS{s} {names[s]}", f"{len(mapped)} ({ratings})", str(len(notes)), str(len(convs)),
                     f"{kinds} of 4"))
    rows.append(("Different notes and conversations in all", "", str(len(all_notes)), str(len(all_convs)), ""))
    return f"at least 2 of these kinds: {evidenced} of the 9 statements are.", rows


# --------------------------------------------------------------------------- the regional comparison

def regional_sentences(bundles: list) -> list[str]:
    """The comparison's scope sentence, the start of its caveat and the range of shares, from the bundles' counts.

    ``bundles`` are the bundles as read (council, round, counts, overall cells), named comparisons only.
    """
    latest: dict[str, object] = {}
    rounds: Counter[str] = Counter()
    for b in bundles:
        key = " ".join(b.council.split()).casefold()
        rounds[key] += 1
        if key not in latest or b.round > latest[key].round:
            latest[key] = b
    firsts = sorted(b.round for b in bundles)
    when = f"in {firsts[0]}" if firsts[0] == firsts[-1] else f"from {firsts[0]} to {firsts[-1]}"
    cases = [int(dict(b.counts)["cases"]) for b in latest.values()]
    n, with_prev = len(latest), sum(1 for k in latest if rounds[k] > 1)
    prev = ("Every council has a previous round to compare with." if with_prev == n and n > 1 else
            "The council has a previous round to compare with." if with_prev == n else
            "No council has a previous round in these bundles." if with_prev == 0 else
            f"{with_prev} of the {n} councils have a previous round to compare with.")
    scope = (f"This comparison covers {noun(n, 'council')} and {noun(len(bundles), 'review round')} {when}; the "
             f"latest rounds examined {sum(cases)} case records in all. {prev}")
    low, high = min(cases), max(cases)
    rest = (f"Each council's figures rest on between {low} and {high} case records" if low != high else
            f"The council's figures rest on {noun(low, 'case record')}" if n == 1 else
            f"Each council's figures rest on {noun(low, 'case record')}")
    shares = []
    for b in latest.values():
        cells = dict(zip([lb for lb, _ in b.levels], b.overall.cells))
        scored = sum(cells[lb] for lb, s in b.levels if s is not None)
        if scored:
            shares.append(Fraction(100 * (cells["Outstanding"] + cells["Good"]), scored))
    out = [scope, rest + ", so a single different judgement moves a share by several points and the 95% intervals "
           "are wide."]
    if shares:
        out.append(f"Across the councils the share judged Outstanding or Good ranges from {float(min(shares)):.1f}% to "
                   f"{float(max(shares)):.1f}%; the intervals show how far each figure could move by chance with so "
                   "few case records.")
    return out
