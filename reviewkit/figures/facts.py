"""The review's figures as facts a sentence can be checked against, and as fields the team can write.

In: the review's tables (ratings, allocation, meetings, conversations, case flags) and the
audit tool, and the previous round's bundle if there is one. Out: a ``ReviewFacts`` (every
share and count the report prints, each question's share, and the change since the previous
round with a 95% interval), and ``render_fields``, which replaces ``{{ overall.outstanding_or_good }}``
and the other fields of ``FIELD_TEMPLATES`` in the team's text with the figure as the report
prints it ("18 of 20 (90.0%)").

Why fields: a figure typed into the narrative goes stale the moment a rating changes; a field
is computed from the data at every render, so it cannot. ``reviewkit.figures.claims`` checks
the figures the team typed instead. Everything here is pure: no files, no state.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.errors import NarrativeFieldError
from reviewkit.core.tools import AuditTool
from reviewkit.figures import analysis as an
from reviewkit.figures import intervals

if TYPE_CHECKING:  # the bundle is read by the review (reviewkit.review.bundle); figures take it as data
    from reviewkit.review.bundle import Bundle

__all__ = ["FIELD", "FIELD_TEMPLATES", "Change", "QuestionFacts", "ReviewFacts", "Share", "field_names", "fields_markdown",
           "field_value", "newcombe_difference", "render_fields", "review_facts", "slug"]

FIELD = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def slug(label: str) -> str:
    """'Requires improvement' -> 'requires_improvement': a level's name as a field writes it."""
    return re.sub(r"[^a-z0-9]+", "_", label.casefold()).strip("_")


@dataclass(frozen=True)
class Share:
    """k of n, with the report's rounding (one decimal, half up)."""

    count: int
    total: int

    @property
    def percent(self) -> float:
        return an.pct(self.count, self.total)

    @property
    def percent_text(self) -> str:
        return self.percent_shown()

    @property
    def display(self) -> str:
        return self.shown()

    def percent_shown(self, whole: bool = False) -> str:
        """'90.0%', or '90%' in whole percentages (the main report's plain form), each from the count and total."""
        return an.format_percent(self.count, self.total, whole=whole) if self.total else "no ratings"

    def shown(self, whole: bool = False) -> str:
        """'18 of 20 (90.0%)', or '18 of 20 (90%)' in whole percentages."""
        return f"{self.count} of {self.total} ({self.percent_shown(whole)})" if self.total else "none rated"


@dataclass(frozen=True)
class Change:
    """One comparison with the previous round: both shares and a 95% interval for the difference (points)."""

    question: str
    title: str
    previous: Share
    now: Share
    low: float
    high: float

    @property
    def points(self) -> float:
        return self.now.percent - self.previous.percent

    @property
    def clear(self) -> str:
        """'rose' or 'fell' when the interval for the change excludes none; '' when it includes none."""
        if math.isnan(self.low) or math.isnan(self.high):
            return ""
        return "rose" if self.low > 0 else "fell" if self.high < 0 else ""

    @property
    def display(self) -> str:
        if math.isnan(self.points):
            return "no comparison (no ratings in one of the rounds)"
        from reviewkit.figures.trend import points  # start-up: only a review with a previous round needs it

        shown = points(self.points, False)
        verb = "did not change" if shown in ("0", "0.0") else "rose" if self.points > 0 else "fell"
        size = "" if verb == "did not change" else f" by {shown} points"
        return f"{verb}{size} (95% interval {points(self.low)} to {points(self.high)})"


@dataclass(frozen=True)
class QuestionFacts:
    """One question (or the overall judgement): its number, title and shares per level."""

    id: str
    number: int | None
    title: str
    good: Share  # the top two scored levels ("Outstanding or Good")
    low: Share  # the bottom two scored levels
    levels: Mapping[str, Share] = field(default_factory=dict)  # by level slug

    @property
    def name(self) -> str:
        return f"Q{self.number}" if self.number else "the overall judgement"


@dataclass(frozen=True)
class ReviewFacts:
    """Every figure of one review a sentence in its narrative may state."""

    questions: tuple[QuestionFacts, ...]
    overall: QuestionFacts
    pooled: Share  # all question ratings, Outstanding or Good
    counts: Mapping[str, int]  # cases.allocated, cases.rated, …, meetings.count (the fields' names)
    meetings: tuple[Mapping[str, Any], ...] = ()  # kind and attendance by role, per meeting
    changes: tuple[Change, ...] = ()
    good_label: str = "Outstanding or Good"
    level_labels: tuple[str, ...] = ()
    whole_percents: bool = False  # the main report's plain form: "18 of 20 (90%)", not "(90.0%)"

    def question(self, qid: str) -> QuestionFacts | None:
        return next((q for q in self.questions if q.id == qid), None)

    def change(self, qid: str) -> Change | None:
        return next((c for c in self.changes if c.question == qid), None)


def newcombe_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score 95% interval for p2 − p1 in percentage points (the report's own); NaN without ratings."""
    _, low, high = intervals.newcombe_difference(k1, n1, k2, n2)
    return (100 * low, 100 * high)


def _question_facts(qid: str, number: int | None, title: str, counts: Mapping[str, int],
                    tool: AuditTool) -> QuestionFacts:
    scored = [lv.label for lv in tool.scale.scored]
    total = sum(int(counts.get(lb, 0)) for lb in scored)
    good = sum(int(counts.get(lb, 0)) for lb in scored[:2])
    low = sum(int(counts.get(lb, 0)) for lb in scored[-2:]) if len(scored) >= 4 else total - good
    levels = {slug(lb): Share(int(counts.get(lb, 0)), total) for lb in scored}
    return QuestionFacts(qid, number, title, Share(good, total), Share(low, total), levels)


def _previous_changes(ratings: pd.DataFrame, tool: AuditTool, previous: Bundle | None) -> tuple[Change, ...]:
    if previous is None:
        return ()
    from reviewkit.figures.trend import compare_rounds  # start-up: only a review with a previous round needs it

    rows = compare_rounds(ratings, tool, previous)
    out = []
    for r in rows.itertuples(index=False):
        if r.prev_total is None or pd.isna(r.prev_total):
            continue
        before, now = Share(int(r.prev_count), int(r.prev_total)), Share(int(r.count), int(r.total))
        # The interval the report prints for this comparison (pooled ratings allow for clustering).
        out.append(Change(str(r.question), str(r.title), before, now, float(r.change_low), float(r.change_high)))
    return tuple(out)


def review_facts(ratings: pd.DataFrame | None, allocation: pd.DataFrame | None, tool: AuditTool, *,
                 meetings: Iterable[Mapping[str, Any]] | pd.DataFrame | None = None,
                 conversations: pd.DataFrame | None = None, flags: pd.DataFrame | None = None,
                 previous: Bundle | None = None) -> ReviewFacts:
    """The review's facts from its tables, computed as the report computes them (primary ratings)."""
    ratings = an.checked_frame(ratings, an.RATING_COLUMNS, "ratings")
    alloc = an.checked_frame(allocation, an.ALLOCATION_COLUMNS, "allocation")
    primary = an.primary_ratings(ratings, alloc)
    counts = an.review_counts(ratings, alloc, meetings=meetings, conversations=conversations,
                              overall_id=tool.overall.id)
    rated = an.rated_counts(ratings, alloc, tool)
    qdist = an.question_distribution(primary, tool)
    questions = tuple(_question_facts(str(r["question"]), int(r["number"]), str(r["title"]), r, tool)
                      for _, r in qdist.iterrows())
    odist = an.overall_distribution(primary, tool.scale, overall_id=tool.overall.id)
    overall = _question_facts(tool.overall.id, None, tool.overall.title,
                              dict(zip(odist["level"], odist["count"])), tool)
    pooled_counts = {lb: int(qdist[lb].sum()) for lb in tool.scale.labels} if len(qdist) else {}
    pooled = _question_facts("questions", None, "all questions", pooled_counts, tool).good
    referred = 0
    if flags is not None and len(flags) and "referred_back" in flags.columns:
        referred = int(flags[an.as_bools(flags["referred_back"])]["case_id"].astype(str).nunique())
    meeting_rows = tuple(dict(m) for m in (meetings.to_dict("records") if isinstance(meetings, pd.DataFrame)
                                           else (meetings or [])))
    labels = [lv.label for lv in tool.scale.scored]
    return ReviewFacts(
        questions=questions, overall=overall, pooled=pooled,
        counts={"cases.allocated": rated["allocated_cases"], "cases.rated": rated["rated_cases"],
                "cases.complete": rated["complete_cases"], "cases.moderated": int(counts["moderation_cases"]),
                "cases.referred_back": referred, "reviewers.count": len(rated["rating_reviewers"]),
                "reviewers.allocated": rated["allocated_reviewers"], "meetings.count": int(counts["meetings"]),
                "meetings.attendees": int(counts["attendees"]), "conversations.count": int(counts["conversations"]),
                "questions.count": len(tool.questions)},
        meetings=meeting_rows, changes=_previous_changes(primary, tool, previous),
        good_label=" or ".join(labels[:2]), level_labels=tuple(labels))


# --------------------------------------------------------------------------- fields

# Each field: what it gives, and how, from its question's facts and whether percentages are whole.
FieldSpec = tuple[str, Callable[[Any, bool], str]]


def _share_fields(prefix: str, what: str) -> dict[str, FieldSpec]:
    return {
        f"{prefix}.outstanding_or_good": (f"{what}: rated in the top two levels (Outstanding or Good), as "
                                          "'18 of 20 (90.0%)'",
                                          lambda q, whole: q.good.shown(whole)),
        f"{prefix}.outstanding_or_good_percent": (f"{what}: the share in the top two levels ('90.0%')",
                                                  lambda q, whole: q.good.percent_shown(whole)),
        f"{prefix}.outstanding_or_good_count": (f"{what}: how many in the top two levels",
                                                lambda q, _whole: str(q.good.count)),
        f"{prefix}.rated": (f"{what}: how many ratings (Not applicable left out)", lambda q, _whole: str(q.good.total)),
        f"{prefix}.<level>": (f"{what}: rated at one level of the scale, e.g. `{prefix}.requires_improvement` "
                              "('2 of 20 (10.0%)')",
                              lambda q, _whole: ""),
    }


# Each template, what it gives and how. 'Q<n>' is a question's number (Q1 … Q12 on the
# default tool); '<level>' a level of the rating scale in lower case with underscores.
_QUESTION = _share_fields("Q<n>", "one question")
_QUESTION["Q<n>.title"] = ("one question: its title", lambda q, _whole: q.title)
_QUESTION["Q<n>.change"] = ("one question: the change since the previous round with its 95% interval "
                            "(only with a previous round)", lambda c, _whole: c.display)
_OVERALL = _share_fields("overall", "the overall judgements")
_OVERALL["overall.change"] = ("the overall judgements: the change since the previous round with its 95% "
                              "interval (only with a previous round)", lambda c, _whole: c.display)
_POOLED = {k.replace("Q<n>", "questions"): v for k, v in _share_fields("questions", "all question ratings pooled").items()
           if not k.endswith("<level>")}
_COUNTS = {
    "cases.allocated": "case records allocated in review.yaml",
    "cases.rated": "case records their reviewer has rated",
    "cases.complete": "case records rated in full (every question and the overall judgement)",
    "cases.moderated": "moderation case records (rated by more than one reviewer)",
    "cases.referred_back": "case records referred back to the council",
    "reviewers.count": "reviewers who have rated case records",
    "reviewers.allocated": "reviewers allocated case records",
    "meetings.count": "meetings held with staff",
    "meetings.attendees": "people who attended the meetings",
    "conversations.count": "conversations with people, relatives and carers",
    "questions.count": "questions on the audit tool",
}
FIELD_TEMPLATES: dict[str, str] = {
    **{k: v[0] for k, v in _OVERALL.items()}, **{k: v[0] for k, v in _QUESTION.items()},
    **{k: v[0] for k, v in _POOLED.items()}, **_COUNTS,
}


def field_names(facts: ReviewFacts) -> list[str]:
    """Every field this review can fill in, templates expanded (Q1 … Qn, each level)."""
    names: list[str] = []
    levels = [slug(lb) for lb in facts.level_labels]
    for template in FIELD_TEMPLATES:
        if template.endswith(".change") and not facts.changes:
            continue
        prefixes = ([f"Q{q.number}" for q in facts.questions] if template.startswith("Q<n>") else [""])
        for p in prefixes:
            name = template.replace("Q<n>", p) if p else template
            names += [name.replace("<level>", lv) for lv in levels] if "<level>" in name else [name]
    return names


def field_value(name: str, facts: ReviewFacts) -> str | None:
    """The text a field renders to, or None if this review has no such field."""
    head, _, tail = name.partition(".")
    if name in facts.counts:
        return str(facts.counts[name])
    if head == "overall" or re.fullmatch(r"[Qq]\d{1,2}", head):
        q = facts.overall if head == "overall" else next(
            (x for x in facts.questions if x.number == int(head[1:])), None)
        if q is None:
            return None
        if tail == "change":
            c = facts.change(q.id)
            return c.display if c is not None else None
        if tail in q.levels:
            return q.levels[tail].shown(facts.whole_percents)
        spec = _OVERALL.get(name) if head == "overall" else _QUESTION.get(f"Q<n>.{tail}")
        return spec[1](q, facts.whole_percents) if spec is not None and "<" not in tail else None
    if head == "questions" and f"questions.{tail}" in _POOLED:
        holder = QuestionFacts("questions", None, "all questions", facts.pooled, facts.pooled)
        return _POOLED[f"questions.{tail}"][1](holder, facts.whole_percents)
    return None


def render_fields(text: str, facts: ReviewFacts, where: str, *, unknown: Callable[[str], str] | None = None) -> str:
    """The text with each {{ field }} replaced by its figure; an unknown field names the nearest one.

    ``where`` names the file ('narrative/key_messages.md'); the error adds the line. Given
    ``unknown``, an unknown field is replaced by what it returns for the name instead (a draft's
    placeholder), and readiness lists it.
    """
    def one(m: re.Match[str]) -> str:
        value = field_value(m.group(1), facts)
        if value is not None:
            return value
        if unknown is not None:
            return unknown(m.group(1))
        line = text.count("\n", 0, m.start()) + 1
        known = field_names(facts)
        near = difflib.get_close_matches(m.group(1), known, n=1, cutoff=0.0)
        hint = f"; did you mean {{{{ {near[0]} }}}}?" if near else ""
        why = " (this review has no previous round to compare with)" if m.group(1).endswith(".change") else ""
        raise NarrativeFieldError(f"{where} line {line}: unknown field {{{{ {m.group(1)} }}}}{why}{hint} "
                                  "The README lists every field.")
    return FIELD.sub(one, text)


def fields_markdown() -> str:
    """The README's table of every field (from FIELD_TEMPLATES, so the two cannot drift apart)."""
    lines = ["| field | what it gives |", "| --- | --- |"]
    lines += [f"| `{{{{ {name} }}}}` | {what} |" for name, what in FIELD_TEMPLATES.items()]
    return "\n".join(lines)
