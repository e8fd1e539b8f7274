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

def pc(n: int, d: int) -> str:
    tenths = math.floor(Fraction(1000 * n, d) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


def nc(n: int, d: int) -> str:
    return f"{n} ({pc(n, d)})" if d else f"{n} (–)"


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
    if meetings:
        roles = rv.role_totals()
        staff = sum(roles.values())
        detail = f" ({roles_phrase(roles)})" if roles else ""
        parts.append(f"met {noun(staff, 'member')} of staff{detail} in {noun(len(meetings), 'meeting')}")
    else:
        parts.append("held no meetings with staff")
    if rv.conversations:
        who = Counter(c["who"] for c in rv.conversations)
        detail = "; ".join(f"{n} with {WHO[w][0 if n == 1 else 1]}" for w, n in who.items())
        parts.append(f"held {noun(len(rv.conversations), 'conversation')} with people whose case records "
                     f"were examined or their families and carers ({detail})")
    else:
        parts.append("held no conversations with people or their families")
    return f"The review team{team} {join(parts)}."


def meeting_sentence(rv: Review) -> str | None:
    clauses = []
    for i, ref in enumerate(dict.fromkeys(m["meeting"] for m in rv.meetings)):
        rows = [m for m in rv.meetings if m["meeting"] == ref]
        kind = rows[0]["kind"]
        who = kind if kind in ("practitioners", "managers") else "staff"
        when = f" on {long_date(rows[0]['date'])}" if rows[0]["date"] else ""
        roles = rv.role_totals(ref)
        head = f"{'The' if i == 0 else 'the'} meeting with {who}{when}"
        clauses.append(f"{head} was attended by {roles_phrase(roles)}" if roles else
                       f"{head} has no attendance recorded yet")
    return "; ".join(clauses) + "." if clauses else None


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
    high = max((len(v) for v in _moderation(rv)["cases"].values()), default=0) or 2
    by = f"a second {PSW}" if high <= 2 else f"more than one other {PSW}"
    head = noun(rated, "case record") if rated == planned else \
        f"{rated} of the {planned} case records chosen for moderation"
    return text + (f" {head} {was(rated)} also rated independently by {by}, to check how consistently "
                   "the team applied the audit tool.")


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
        who += f" (including the host {PSW})" if raters > 1 else " (the host)"
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
        tail = ", completing the audit tool for each" if cases > 1 else ", completing the audit tool for it"
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
        return lead + ("; no response from the council is recorded yet." if n == 1 else
                       "; no response from the council to any of them is recorded yet.")
    days = max((dt.date.fromisoformat(c["responded_on"]) - dt.date.fromisoformat(c["raised_on"])).days
               for c in answered)
    when = "on the same day" if days == 0 else f"within {noun(days, 'day')}"
    if n == 1:
        outcome = answered[0]["outcome"]
        return f"{lead}; the council responded {when}" + (f" and {words[outcome]}." if outcome else ".")
    who = "to each" if len(answered) == n else f"to {len(answered)} of them"
    text = f"{lead}; the council responded {who} {when}"
    said = Counter(c["outcome"] for c in answered if c["outcome"])
    if said:
        text += " (" + "; ".join(f"{k}: {words[o]}" for o, k in said.items()) + ")"
    if len(answered) < n:
        text += f", and {n - len(answered)} {'has' if n - len(answered) == 1 else 'have'} no response recorded yet"
    return text + "."


def _level_list(counts: Counter, total: int, verb: str) -> str:
    parts = []
    for i, (label, _) in enumerate(LEVELS):
        n = counts[label]
        parts.append(f"{nc(n, total)} {was(n)} {verb} {label}" if i == 0 else f"{nc(n, total)} {label}")
    return join(parts)


def _na(n: int) -> str:
    return f"; a further {n} {was(n)} marked Not applicable and {'is' if n == 1 else 'are'} not counted" if n else ""


def pooled_sentence(rv: Review) -> str:
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
            f"{_level_list(counts, total, 'rated')}{_na(na)}.{missing}")


def headline_sentence(rv: Review) -> str:
    counts = Counter(r["rating"] for r in rv.overall_ratings())
    total = sum(counts[lv] for lv, _ in LEVELS)
    if total == 0:
        return "No case records have an overall judgement yet."
    good = counts["Outstanding"] + counts["Good"]
    records = "case record" if total == 1 else "case records"
    if total == 1:
        return f"The 1 case record with an overall judgement {'was' if good else 'was not'} judged Outstanding or Good."
    head = (f"None of the {total} {records} ({pc(0, total)}) {was(total)}" if good == 0 else
            f"{good} of the {total} {records} ({pc(good, total)}) {was(good)}")
    return f"{head} judged Outstanding or Good."


def overall_sentence(rv: Review) -> str:
    counts = Counter(r["rating"] for r in rv.overall_ratings())
    total = sum(counts[lv] for lv, _ in LEVELS)
    if total == 0:
        return "No case records have an overall judgement yet."
    return (f"Of the {noun(total, 'case record')} given an overall judgement, "
            f"{_level_list(counts, total, 'judged')}{_na(counts[NA])}.")


def per_question(rv: Review) -> list[tuple[int, str, str, Counter]]:
    out = []
    for number, (qid, title) in enumerate(rv.questions, 1):
        out.append((number, qid, title, Counter(r["rating"] for r in rv.question_ratings() if r["question"] == qid)))
    return out


def weakest_sentence(rv: Review, n: int = 3) -> str:
    rows = []
    for number, _, title, counts in per_question(rv):
        scored = sum(counts[lv] for lv, _ in LEVELS)
        if scored:
            good = counts["Outstanding"] + counts["Good"]
            rows.append((Fraction(good, scored), number, title, good, scored))
    if not rows:
        return "No questions have been rated yet."
    rows.sort(key=lambda r: (r[0], r[1]))
    chosen = rows[:n]
    tied = 0
    if len(chosen) == n:
        cut = chosen[-1][0]
        chosen = [r for r in rows if r[0] <= cut]
        tied = sum(1 for r in rows if r[0] == cut) if len(chosen) > n else 0
    if tied and tied == len(rows):
        return (f"All {tied} rated questions were rated Outstanding or Good in the same proportion "
                f"({pc(chosen[-1][3], chosen[-1][4])}), so no question stands out as least often so rated.")
    items = [f"question {num}, {title} ({g} of {s}, {pc(g, s)})" for _, num, title, g, s in chosen]
    head = "The question least often rated Outstanding or Good was" if len(items) == 1 else \
        "The questions least often rated Outstanding or Good were"
    text = f"{head} {join(items)}."
    if tied:
        text += f" The last {tied} share the same proportion ({pc(chosen[-1][3], chosen[-1][4])}), so all of them are named."
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
    parts = [f"{n} with {WHO[w][0 if n == 1 else 1]}" for w, n in who.items()]
    return (f"{lead} and held conversations with people whose case records were examined, or their "
            f"families and carers, about {_about(rv)} ({join(parts)}).")


def sentences(rv: Review) -> list[str]:
    """Every generated sentence of sections 1, 4 and 5 the oracle knows, in no particular order."""
    out = [method_sentence(rv), meeting_sentence(rv), scope_sentence(rv), conversations_sentence(rv),
           rated_sentence(rv), referred_sentence(rv), concerns_sentence(rv), pooled_sentence(rv),
           headline_sentence(rv), overall_sentence(rv), weakest_sentence(rv), agreement_sentence(rv),
           case_records_sentence(rv)]
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
    return out


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
