"""Sentences of the report generated from the figures, so no number is ever typed by hand.

Every function takes the tables and dicts of ``reviewkit.figures.analysis`` and returns one plain
sentence (or a short paragraph). Counts are always numerals ("2 case records", never "two"),
except that zero reads "no"/"none" where that is the natural English; percentages use the house
style "59 (24.6%)". Singular and plural follow the number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from reviewkit.figures.analysis import NOT_COUNTED, format_count, format_percent

__all__ = [
    "agreement_sentence",
    "alpha_reading",
    "attendance_phrase",
    "rounding_note",
    "who_phrase",
    "count_noun",
    "headline_sentence",
    "join_words",
    "meetings_phrase",
    "method_sentence",
    "overall_sentence",
    "plain_interval_sentence",
    "pooled_sentence",
    "interval_scope",
    "referred_sentence",
    "selection_sentence",
    "teams_sentence",
    "weakest_list",
    "weakest_sentence",
]

# How each kind of conversation partner reads, singular and plural.
WHO_PHRASES = {
    "person": ("a person", "people"),
    "relative": ("a relative", "relatives"),
    "carer": ("a carer", "carers"),
    "person and relative": ("a person and their relative", "people and their relatives"),
    "person and carer": ("a person and their carer", "people and their carers"),
}


def count_noun(n: int, singular: str, plural: str | None = None) -> str:
    """'1 case record', '2 case records': the number with its noun in the right number."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def join_words(items: Sequence[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (no Oxford comma, as the programme's reports write)."""
    items = [i for i in items if i]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _verb(n: int) -> str:
    return "was" if n == 1 else "were"


def _split(dist: pd.DataFrame) -> tuple[list[tuple[str, int]], int]:
    """Scored (level, count) pairs in scale order and the not-applicable count."""
    scored = [(str(r.level), int(r.count)) for r in dist.itertuples()
              if not str(r.display).endswith(NOT_COUNTED)]
    na = sum(int(r.count) for r in dist.itertuples() if str(r.display).endswith(NOT_COUNTED))
    return scored, na


def _level_list(scored: list[tuple[str, int]], total: int, first_verb: str, whole: bool = False) -> str:
    """'59 (24.6%) were rated Outstanding, 143 (59.6%) Good … and 1 (0.4%) Inadequate'."""
    parts = []
    for i, (label, n) in enumerate(scored):
        count = format_count(n, total, whole=whole)
        head = f"{count} {_verb(n)} {first_verb} " if i == 0 else f"{count} "
        parts.append(head + label)
    return join_words(parts)


def _na_clause(na: int) -> str:
    if not na:
        return ""
    return (f". A further {na} {_verb(na)} marked Not applicable and "
            f"{'is' if na == 1 else 'are'} not counted")  # a sentence of its own: the list before it is long


def pooled_sentence(dist: pd.DataFrame, n_cases: int, n_questions: int | None = None, *,
                    across: int | None = None, whole: bool = False) -> str:
    """The pooled distribution of all question ratings, as in section 4 of the report.

    ``dist`` is ``analysis.rating_distribution(...)``; ``n_cases`` the case records examined.
    With ``n_questions`` the sentence also says how many expected ratings are missing.
    ``across`` is how many case records have a question rated (``dist.attrs['records']``): a
    record with only its overall judgement so far is examined but has no question rated.
    """
    scored, na = _split(dist)
    total = sum(n for _, n in scored)
    missing = ""
    if n_questions is not None:
        expected = n_cases * n_questions
        gap = expected - total - na
        if gap > 0:
            missing = (f" {count_noun(gap, 'rating')} of the {expected} expected "
                       f"({n_cases} × {n_questions}) {'is' if gap == 1 else 'are'} not yet entered.")
    if total == 0:
        if na:
            return (f"No questions were rated on the scale; {na} {_verb(na)} marked Not "
                    f"applicable.{missing}")
        return f"No questions have been rated yet.{missing}"
    records = n_cases if across is None else across
    lead = f"Of the {count_noun(total, 'question')} rated across {count_noun(records, 'case record')}, "
    return lead + _level_list(scored, total, "rated", whole) + _na_clause(na) + "." + missing


def overall_sentence(dist: pd.DataFrame, *, whole: bool = False) -> str:
    """The overall judgements by level: 'Of the 20 case records given an overall judgement, …'."""
    scored, na = _split(dist)
    total = sum(n for _, n in scored)
    if total == 0:
        return "No case records have an overall judgement yet."
    lead = f"Of the {count_noun(total, 'case record')} given an overall judgement, "
    return lead + _level_list(scored, total, "judged", whole) + _na_clause(na) + "."


def headline_sentence(share: Mapping[str, Any], *, with_interval: bool = False, whole: bool = False) -> str:
    """'18 of the 20 case records (90.0%) were judged Outstanding or Good.'

    ``share`` is ``analysis.share_good_or_better(...)`` for the overall judgement. With
    ``with_interval`` the 95% Wilson interval follows, for readers who weigh small samples.
    """
    count, total = int(share["count"]), int(share["total"])
    levels = join_words(list(share.get("levels") or ["Outstanding", "Good"]), "or")
    if total == 0:
        return "No case records have an overall judgement yet."
    records = "case record" if total == 1 else "case records"
    if total == 1:  # not "1 of the 1 case record"
        head = f"The 1 case record with an overall judgement {'was' if count else 'was not'}"
    elif count == 0:
        head = f"None of the {total} {records} ({format_percent(0, total, whole=whole)}) {_verb(total)}"
    else:
        head = f"{count} of the {total} {records} ({format_percent(count, total, whole=whole)}) {_verb(count)}"
    tail = ""
    if with_interval:
        tail = (f" (95% confidence interval {share['ci_low']:.1f}% to {share['ci_high']:.1f}%)")
    return f"{head} judged {levels}{tail}."


def plain_interval_sentence(share: Mapping[str, Any], method: str, *, council: str = "the council") -> str:
    """The headline's 95% interval once, in words a reader without statistics can weigh, and
    true to how the records were chosen (``interval_scope`` says the same for the appendix).

    '' when no case record has an overall judgement.
    """
    total = int(share["total"])
    if total == 0:
        return ""
    lo, hi = (math.floor(float(share[k]) + 0.5) for k in ("ci_low", "ci_high"))  # 0–100, to whole percents
    between = f"lies between {lo}% and {hi}%"
    if method == "random":
        return ("We can be fairly sure that the figure for every case record on the list these were "
                f"drawn from {between}.")
    if method == "stratified":
        return ("We can be fairly sure that the figure for the teams’ case records, taken in the same "
                f"numbers from each team, {between}.")
    records = count_noun(total, "case record")
    chosen = {"council": f"{council[:1].upper()}{council[1:]} chose these case records",
              "mixed": f"Some of these case records were chosen by {council}"}.get(
        method, "How these case records were chosen is not recorded")
    return (f"{chosen}, so the figure is about them, not all the council’s case records. With only {records}, "
            f"we can be fairly sure only that the figure for records like these {between}.")


def teams_sentence(teams: Sequence[str]) -> str:
    """'The 20 case records examined came from 4 teams: Hospital discharge (5), …', from each examined
    record's team in review.yaml ('' for none). A record with no team is counted, not guessed, and
    the teams are then those of the others only; one team typed in two cases is one team."""
    spelled: dict[str, str] = {}
    for t in teams:
        if t:
            spelled.setdefault(t.casefold(), t)  # the first spelling in review.yaml's order
    named = Counter(t.casefold() for t in teams if t)
    if not named:
        return ""
    listed = join_words([f"{spelled[k]} ({named[k]})" for k in sorted(named)])
    unnamed = len(teams) - sum(named.values())
    if not unnamed:
        return (f"The {count_noun(len(teams), 'case record')} examined came from {count_noun(len(named), 'team')}: "
                f"{listed}.")
    return (f"Of the {count_noun(len(teams), 'case record')} examined, {sum(named.values())} came from "
            f"{count_noun(len(named), 'team')}: {listed}; {unnamed} {'has' if unnamed == 1 else 'have'} no team "
            "recorded.")


def referred_sentence(n: int, *, council: str = "the council") -> str:
    """How many case records were referred back for a significant concern (0 reads 'No')."""
    if n == 0:
        return f"No case records were referred back to {council} for significant concerns."
    if n == 1:
        return f"1 case record was referred back to {council} for a significant concern."
    return f"{n} case records were referred back to {council} for significant concerns."


ALPHA_GUIDANCE = (0.667, 0.800)  # Krippendorff (2004): tentative conclusions from 0.667, reliance from 0.800


def _alpha_text(alpha: float) -> str:
    """Alpha to 2 decimals, or 3 where 2 would put it on the other side of a guidance threshold."""
    two = f"{alpha:.2f}"
    if any((alpha < t) != (float(two) < t) for t in ALPHA_GUIDANCE):
        return f"{alpha:.3f}"
    return two


def alpha_reading(alpha: float) -> str:
    """Krippendorff's own guidance on alpha, and where this alpha sits against it (not a verdict)."""
    low, high = ALPHA_GUIDANCE
    where = ("is at or above both" if alpha >= high else "is between the two" if alpha >= low
             else "is below both")
    return (f"Krippendorff suggests relying on ratings where alpha is at least {high:.3f} and "
            f"drawing only tentative conclusions where it is at least {low:.3f}; "
            f"{_alpha_text(alpha)} {where}.")


def _raters_phrase(summary: Mapping[str, Any]) -> str:
    low = int(summary.get("raters_min") or 0)
    high = int(summary.get("raters_max") or 0)
    if low == high:
        return f"{'' if int(summary.get('cases', 0)) == 1 else 'each '}rated independently by {count_noun(low, 'reviewer')}"
    return f"each rated independently by between {low} and {high} reviewers"


def agreement_sentence(summary: Mapping[str, Any]) -> str:
    """Moderation agreement in words, raw agreement beside alpha, always with its caveat."""
    cases = int(summary.get("cases", 0))
    if cases == 0:
        return ("No case records were rated by more than one reviewer, so agreement between "
                "reviewers was not measured.")
    pairs = int(summary.get("pairs", 0))
    lead = f"{count_noun(cases, 'moderation case record')} {_verb(cases)} {_raters_phrase(summary)}"
    if pairs == 0:
        return (f"{lead}, but no question had two scored ratings to compare, so agreement "
                "was not measured.")
    agreeing = int(summary["agreeing_pairs"])
    raw = (f"{lead}: they gave the same rating in {agreeing} of {count_noun(pairs, 'pair')} of "
           f"ratings ({format_percent(agreeing, pairs)})")
    alpha = summary.get("alpha")
    items = int(summary.get("items", 0))
    if alpha is None:
        note = summary.get("alpha_note") or "Krippendorff's alpha could not be calculated."
        stat = f". {note}"
    else:
        stat = (f", and Krippendorff's alpha (ordinal) was {_alpha_text(float(alpha))} across "
                f"{count_noun(items, 'rated question')}. {alpha_reading(float(alpha))}")
    return f"{raw}{stat} {summary.get('caveat', '')}".strip()


def method_sentence(counts: Mapping[str, Any], *, reviewer_noun: str = "Principal Social Worker",
                    reviewer_plural: str | None = None) -> str:
    """The elements of the review with their counts, from ``analysis.review_counts(...)``."""
    reviewers = int(counts.get("reviewers", 0))
    cases = int(counts.get("cases", 0))
    meetings = int(counts.get("meetings", 0))
    attendees = int(counts.get("attendees", 0))
    conversations = int(counts.get("conversations", 0))
    team = f" of {count_noun(reviewers, reviewer_noun, reviewer_plural)}" if reviewers else ""
    parts = [f"examined {count_noun(cases, 'case record')}" if cases else "examined no case records"]
    if meetings:
        by_role = {k: v for k, v in (counts.get("attendees_by_role") or {}).items() if v}
        by_kind = {k: v for k, v in (counts.get("attendees_by_kind") or {}).items() if v}
        detail = ""
        if by_role and sum(by_role.values()) == attendees:
            detail = f" ({attendance_phrase(by_role)})"
        elif by_kind and list(by_kind) != ["meeting"] and not by_role:
            detail = " (" + join_words([_kind_phrase(k, v) for k, v in by_kind.items()]) + ")"
        parts.append(meetings_phrase(meetings, attendees, int(counts.get("meetings_unrecorded", 0)), detail))
    else:
        parts.append("held no meetings with staff")
    if conversations:
        who = counts.get("conversations_by_who") or {}
        detail = ""
        if who:  # a sentence of its own: "Of these, 1 was with a person; 3 with relatives"
            items = [f"{v} {_verb(v)} with {who_phrase(k, v)}" if i == 0 else f"{v} with {who_phrase(k, v)}"
                     for i, (k, v) in enumerate(who.items())]
            detail = (f". It was with {who_phrase(next(iter(who)), 1)}" if conversations == 1 and len(who) == 1
                      else ". Of these, " + "; ".join(items))
        parts.append(f"held {count_noun(conversations, 'conversation')} with people whose case "
                     f"records were examined or their families and carers{detail}")
    else:
        parts.append("held no conversations with people or their families")
    # One sentence for each part of the review, rather than one of 60 words.
    return " ".join([f"The review team{team} {parts[0]}."] + [f"They {part}." for part in parts[1:]])


def meetings_phrase(meetings: int, attendees: int, unrecorded: int, detail: str = "") -> str:
    """'met 13 members of staff (…) in 2 meetings', never 'met 0 members of staff' for a meeting whose
    attendance is not recorded yet."""
    if unrecorded >= meetings:
        return f"held {count_noun(meetings, 'meeting')} with staff, with no attendance recorded yet"
    more = (f" ({count_noun(unrecorded, 'more meeting')} {'has' if unrecorded == 1 else 'have'} no attendance "
            "recorded yet)" if unrecorded else "")
    return (f"met {count_noun(attendees, 'member')} of staff{detail} in "
            f"{count_noun(meetings - unrecorded, 'meeting')}{more}")


def attendance_phrase(by_role: Mapping[str, int]) -> str:
    """'4 assistant team managers, 2 team managers and 1 occupational therapist' (roles are singular)."""
    return join_words([count_noun(int(n), str(role)) for role, n in by_role.items() if n])


def rounding_note(total: str, what: str = "The percentages") -> str:
    """A note for a table whose rounded percentages do not add up to 100 ('' when they do)."""
    if not total or total == "100.0":
        return ""
    return (f"{what} are rounded to one decimal place, so they add up to {total}% rather "
            "than 100%.")


def who_phrase(who: str, n: int) -> str:
    """'a person'/'people', 'a person and their relative'/'people and their relatives'."""
    if who in WHO_PHRASES:
        return WHO_PHRASES[who][0 if n == 1 else 1]
    if n == 1:
        return f"{'an' if who[:1].lower() in 'aeiou' else 'a'} {who}"
    return who if who.endswith("s") else who + "s"


def _kind_phrase(kind: str, n: int) -> str:
    """'6 managers', '1 manager': meeting kinds are stored as plural nouns."""
    if n == 1 and kind.endswith("s") and not kind.endswith("ss"):
        kind = kind[:-1]
    return f"{n} {kind}"


def weakest_sentence(weakest: pd.DataFrame, levels: Sequence[str] = ("Outstanding", "Good"), *,
                     whole: bool = False) -> str:
    """The questions with the lowest share rated in the top levels, from ``weakest_questions``.

    Every question tied at the cut-off is named, and the sentence says why the list is longer.
    """
    if len(weakest) == 0:
        return "No questions have been rated yet."
    tied = int(weakest.attrs.get("tied", 0))
    if tied and tied == int(weakest.attrs.get("rated_questions", -1)):
        # Every rated question has the same share: naming them all as "least often" says nothing.
        last = weakest.iloc[-1]
        return (f"All {tied} rated questions were rated {join_words(list(levels), 'or')} in the same "
                f"proportion ({format_percent(int(last['good_or_better']), int(last['scored']), whole=whole)}), "
                "so no question stands out as least often so rated.")
    items = [f"question {int(r.number)}, {r.title} ({r.good_or_better} of {r.scored}, "
             f"{format_percent(int(r.good_or_better), int(r.scored), whole=whole)})"
             for r in weakest.itertuples()]
    noun, verb = ("question", "was") if len(items) == 1 else ("questions", "were")
    text = (f"The {noun} least often rated {join_words(list(levels), 'or')} {verb} "
            f"{join_words(items)}.")
    if tied:
        last = weakest.iloc[-1]
        text += (f" The last {tied} share the same proportion "
                 f"({format_percent(int(last['good_or_better']), int(last['scored']), whole=whole)}), so all of them "
                 "are named.")
    return text


def weakest_list(weakest: pd.DataFrame, levels: Sequence[str] = ("Outstanding", "Good"), *,
                 whole: bool = False) -> tuple[str, list[str], str]:
    """``weakest_sentence`` as a lead, one item a question and a note on ties: the main report's list.

    A list reads more easily than one sentence naming six questions; with nothing to list (no
    ratings, or every question tied) the lead is the whole sentence and there are no items.
    """
    if len(weakest) == 0 or int(weakest.attrs.get("tied", 0)) == int(weakest.attrs.get("rated_questions", -1)):
        return weakest_sentence(weakest, levels, whole=whole), [], ""
    noun, verb = ("question", "was") if len(weakest) == 1 else ("questions", "were")
    items = [f"Question {int(r.number)}, {r.title}: {r.good_or_better} of {r.scored} "
             f"({format_percent(int(r.good_or_better), int(r.scored), whole=whole)})" for r in weakest.itertuples()]
    tied = int(weakest.attrs.get("tied", 0))
    after = f"The last {tied} share the same proportion, so all of them are named." if tied else ""
    return f"The {noun} least often rated {join_words(list(levels), 'or')} {verb}:", items, after


def selection_sentence(method: str, description: str = "", *, council: str = "the council") -> str:
    """How the case records were chosen (review.yaml's case_selection), with the host's own words after."""
    said = {
        "random": f"The case records were chosen at random from a list of {council}’s case records.",
        "stratified": f"The case records were chosen at random within each of {council}’s teams.",
        "council": f"{council} chose the case records for the review.",
        "mixed": f"Some of the case records were chosen at random and {council} chose the others.",
    }.get(method, "How the case records were chosen is not recorded.")
    described = " ".join(description.split())
    if described:
        said += " " + described + ("" if described[-1] in ".!?" else ".")
    return said


_ONLY_SMALL = "the intervals show only the uncertainty from rating a small number of records."


def interval_scope(method: str, *, council: str = "the council") -> str:
    """What the 95% intervals can and cannot be read as saying, given how the records were chosen."""
    if method == "random":
        return ("The case records were drawn at random from a list, so the intervals show how far these "
                "figures could differ, by chance, from the figures for every case record on that list; they "
                "say nothing about records that were not on it.")
    if method == "stratified":
        return ("The case records were drawn at random within each team, so the intervals show how far these "
                "figures could differ, by chance, from the figures for the teams’ case records in the numbers "
                "drawn from each; they do not give any one team’s figures.")
    if method == "council":
        return (f"{council[:1].upper()}{council[1:]} chose these case records, so the figures describe them, "
                f"not all of its case records; {_ONLY_SMALL}")
    if method == "mixed":
        return (f"Some of these case records were chosen by {council}, so the figures describe them, not all "
                f"of its case records; {_ONLY_SMALL}")
    return ("How the case records were chosen is not recorded, so the figures describe these records, not all "
            f"of {council}’s case records; {_ONLY_SMALL}")
