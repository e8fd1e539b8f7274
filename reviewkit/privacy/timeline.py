"""Dates on a plan's timeline, and dates that describe a person.

In: a piece of text (an action plan's target or update, a page of the report) and the year of
the review the text belongs to.
Out: the spans that are dates on the review's timeline (a calendar date, a day and month, a
month and year, a quarter or a financial year, within a few years of the review), the spans
that are dates about a person (next to "born", "date of birth", "DOB", "birthday", or "aged"
or "age" and a number), and the text with its timeline dates masked.

A quality board writes dates in its plan's target and update columns ("by 31 March 2027",
"Q2 2027/28", "31-Mar-2027 – 30-Jun-2027"), shapes the publish gate otherwise reads as a run
of digits, a reference mixing letters and digits, or a house number ("31 March RAG green").
The columns are declared as date columns (``reviewkit.intake.planmodel``): there, and where a
review declares the phrases that came from them, a timeline date is read as a date. Nothing
here lets through a date about a person, or a full date years before the review: a date next
to a person's words is refused in any column, and one outside the timeline keeps every rule.

The mask keeps the text's length (each letter and digit of a date becomes "x"), so positions
found in the masked text hold for the original.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = ["EARLIEST", "LATEST", "in_window", "mask", "person_dates", "timeline_spans"]

# The plan's timeline: from a few years before the review (a plan carried over) to a few after.
EARLIEST, LATEST = 3, 7

_MONTH_NAMES = ("january|february|march|april|may|june|july|august|september|october|november|december|"
                "sept|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec")
_MONTH = rf"(?:{_MONTH_NAMES})\.?"
_MONTH_NO = {m[:3]: i for i, m in enumerate(_MONTH_NAMES.split("|")[:12], start=1)}
_ORD = r"(?:st|nd|rd|th)?"
_YEAR4 = r"(?:19|20)\d\d"
_YEAR = rf"(?:{_YEAR4}|'?\d\d)"
_SEP = r"[/.\-]"
_B, _E = r"(?<![\w/.\-])", r"(?![\w]|[/.\-]\d)"  # nothing that runs on into a longer number or word
_DASH = r"\s*[-\u2010-\u2015]\s*"

# Each shape names its day, month and year groups (a quarter or financial year has no day).
_SHAPES = tuple(re.compile(p, re.I) for p in (
    # 31/03/2027, 31.3.27, 31-03-2027 (and a day range before it: 10-12/03/2027 is read as two)
    rf"{_B}(?P<d>\d{{1,2}})(?P<s>{_SEP})(?P<m>\d{{1,2}})(?P=s)(?P<y>{_YEAR4}|\d\d){_E}",
    # 2027-03-31, 2027/3/31
    rf"{_B}(?P<y>{_YEAR4})(?P<s>{_SEP})(?P<m>\d{{1,2}})(?P=s)(?P<d>\d{{1,2}}){_E}",
    # 31 March 2027, 31st of March, 2027, 31-Mar-2027, 10-12 January 2027, 31 March (no year)
    rf"(?<![\w])(?:\d{{1,2}}{_ORD}{_DASH})?(?P<d>\d{{1,2}}){_ORD}(?:\s+of)?[\s\-/]*(?P<mn>{_MONTH_NAMES})[a-z]*\.?"
    rf"(?:,?[\s\-/]*(?P<y>{_YEAR4}|'?\d\d))?(?![\w])",
    # March 31, 2027; March 31st 2027
    rf"(?<![\w])(?P<mn>{_MONTH_NAMES})[a-z]*\.?\s+(?P<d>\d{{1,2}}){_ORD},?\s+(?P<y>{_YEAR4})(?![\w])",
    # March 2027, Mar-27, Sept '27
    rf"(?<![\w])(?P<mn>{_MONTH_NAMES})[a-z]*\.?[\s\-/]+(?P<y>{_YEAR4}|'?\d\d)(?![\w]|[/.\-]\d)",
    # Q2 2027/28, Q3 2027-28, Q4 2026, 2027/28 Q1, FY 2027/28, FY27/28, 2027-28, 2027/2028, 2027
    rf"(?<![\w])(?:Q[1-4]\s*)?(?:FY\s*)?(?P<y>{_YEAR4}|\d\d)(?:\s*[/\-\u2013]\s*(?P<y2>{_YEAR4}|\d\d))?"
    rf"(?:\s*Q[1-4])?(?![\w]|[/.\-]\d)",
    # Q1, Q4 alone, FY alone are no date: only with a year (above)
))
# A person's words before a date: born, birth (date of birth, birth date, birthday), DOB,
# d.o.b., and "aged"/"age" with a number or a colon ("aged 91 on", "Age: ").
_BIRTH_CUE = re.compile(r"\b(?:born|birth\w*|d\.?\s?o\.?\s?b\b\.?|dob)", re.I)
# An age group ("aged 65+", "aged 18-25", "age 65 and over", "aged 75 or older") describes no one person.
_GROUP = r"\s*(?:\+|plus\b|[-\u2013]\s*\d|to\s+\d|(?:and|or)\s+(?:over|above|older|under|more|less|younger)\b)"
_AGE_CUE = re.compile(rf"\baged?\b\s*(?::|\d{{1,3}}(?!\d|{_GROUP})|(?:[a-z]+-)?[a-z]+ty\b|ninety|eighty)", re.I)
_BEFORE, _AFTER, _AGE_BEFORE = 40, 16, 18
# Anything date-like a cue can point at: a timeline shape, a bare year, or digits with separators.
_ANY_DATE = re.compile(rf"\d{{1,4}}(?:\s*[/.\-]\s*\d{{1,4}}){{1,2}}|\d{{6,8}}|(?<!\d){_YEAR4}(?!\d)"
                       rf"|\d{{1,2}}{_ORD}(?:\s+of)?\s+{_MONTH}|{_MONTH}\s+\d{{1,4}}", re.I)


def _year(text: str | None) -> int | None:
    if not text:
        return None
    text = text.lstrip("'")
    return int(text) + 2000 if len(text) == 2 else int(text)


def in_window(year: int, review_year: int) -> bool:
    """A year on the review's timeline: from EARLIEST years before it to LATEST after."""
    return review_year - EARLIEST <= year <= review_year + LATEST


def _valid(m: re.Match[str], review_year: int) -> bool:
    groups = m.groupdict()
    year = _year(groups.get("y"))
    if year is None:  # "31 March": a day and a month, no year
        return groups.get("d") is not None and groups.get("mn") is not None and 1 <= int(groups["d"]) <= 31
    if not in_window(year, review_year):
        return False
    if groups.get("y2"):  # 2027/28 or 2027-2028: the next year, nothing else
        second = groups["y2"]
        return int(second) == (year + 1) % 100 if len(second) == 2 else int(second) == year + 1
    if groups.get("y") and len(groups["y"].lstrip("'")) == 2 and not (groups.get("mn") or groups.get("m")):
        return False  # two digits alone are not a year
    if groups.get("d") is None:
        return True  # a month, a quarter or a year
    month = groups.get("m")
    mo = int(month) if month else _MONTH_NO[groups["mn"][:3].lower()]
    try:
        date(year, mo, int(groups["d"]))
    except ValueError:
        return False
    return True


def person_dates(text: str) -> list[tuple[int, int]]:
    """Spans of dates (or years) a person's words point at: 'born 1939', 'DOB 3 Mar 42', 'aged 91 on 2 May 2027'."""
    out = []
    for m in _ANY_DATE.finditer(text):
        before, after = text[max(0, m.start() - _BEFORE):m.start()], text[m.end():m.end() + _AFTER]
        near = text[max(0, m.start() - _AGE_BEFORE):m.start()]
        if _BIRTH_CUE.search(before) or _BIRTH_CUE.search(after) or _AGE_CUE.search(near):
            out.append(m.span())
    return out


def timeline_spans(text: str, review_year: int) -> list[tuple[int, int]]:
    """Spans of the text that are dates on the review's timeline and point at no person, longest first kept."""
    found: list[tuple[int, int]] = []
    for shape in _SHAPES:
        for m in shape.finditer(text):
            if _valid(m, review_year):
                found.append(m.span())
    person = person_dates(text)
    kept: list[tuple[int, int]] = []
    for start, end in sorted(found, key=lambda s: (s[0], -s[1])):
        if kept and start < kept[-1][1]:
            if end > kept[-1][1]:
                kept[-1] = (kept[-1][0], end)
            continue
        kept.append((start, end))
    kept = [(s, e) for s, e in kept if not any(s < pe and ps < e for ps, pe in person)]
    while True:  # a date run on into other digits ("12 34 2027") may be part of a number: it keeps every rule
        joined = [span for span in kept if _runs_on(text, span, kept)]
        if not joined:
            return kept
        kept = [span for span in kept if span not in joined]


# What the publish gate reads between the digits of one number, and what ends a list item ("2027, 34").
_BETWEEN = r"[ \t.\-\u2010-\u2015/\\()\[\],]{0,3}"
_DIGIT_BEFORE = re.compile(rf"\d({_BETWEEN})$")
_DIGIT_AFTER = re.compile(rf"({_BETWEEN})\d")
_LIST_BREAK = re.compile(r"[.,)]\s")


def _runs_on(text: str, span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """True when a digit outside every span sits next to the span, across what joins one number."""
    start, end = span

    def covered(i: int) -> bool:
        return any(s <= i < e for s, e in spans)

    before = _DIGIT_BEFORE.search(text, max(0, start - 4), start)
    if before and not _LIST_BREAK.match(before.group(1)) and not covered(before.start()):
        return True
    after = _DIGIT_AFTER.match(text, end, end + 4)
    return bool(after and not _LIST_BREAK.match(after.group(1)) and not covered(after.end() - 1))


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each span's letters and digits as 'x': the same length, no date left to read."""
    out = list(text)
    for start, end in spans:
        for i in range(start, end):
            if out[i].isalnum():
                out[i] = "x"
    return "".join(out)
