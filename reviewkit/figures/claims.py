"""The team's words checked against the data: figures and comparisons in the narrative the tables contradict.

In: one narrative file's text (Markdown, as the team wrote it) and the review's ``ReviewFacts``.
Out: a ``ClaimFlag`` per claim the data does not bear out, with its line, its kind, the few
words that triggered it and the nearest true figure. Pure: no files, no state.

What is read as a claim (each in a sentence that names what it is about: a question of the
audit tool by number or by the words of its title, the overall judgement, case records,
meetings, conversations or reviewers):

- ``figure``: a typed share ("18 of 20", "90%", "90 per cent") that is no share of this review
  in the sentence's context, allowing for the report's rounding;
- ``count``: a number of case records, meetings, conversations, reviewers or questions ("two
  moderated case records", "5 meetings") that is no count of this review;
- ``proportion``: a proportion word quantifying case records ("most records", "almost every
  record", "half the case records", "three quarters of", "a minority of", "all", "none") that
  the share does not bear out: the share rated Outstanding or Good on the questions the
  sentence names (the overall judgement when it names none), or the share rated lower when
  the sentence speaks of a shortfall ("lacked", "weak", "deficit", …);
- ``superlative``: "the strongest/weakest (highest, lowest, best, worst) area(s)" naming
  questions another question beats ("weakest … after X" leaves X out);
- ``change``: improved/rose/declined/fell/unchanged/"close to the previous round" against the
  95% interval for each change since the previous round;
- ``referred``: "no case records were referred back" while one was, and a number referred;
- ``meetings``: "all (the) meetings …" or "every meeting …" naming a role no one of that role attended.

Words inside quotation marks are what someone said, not the team's claim, and are skipped;
so are headings, list numbers, fields (``{{ … }}``, computed from the data) and references
such as "section 4" or "Recommendation 3".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reviewkit.figures.facts import FIELD, QuestionFacts, ReviewFacts, Share

__all__ = ["CLAIM_KINDS", "ClaimFlag", "check_claims", "mentioned_questions"]

CLAIM_KINDS = {
    "figure": "a typed figure that is no figure of this review",
    "count": "a count that is no count of this review",
    "proportion": "a proportion word the shares do not bear out",
    "superlative": "a strongest or weakest area another question beats",
    "change": "a change since the previous round the intervals do not bear out",
    "referred": "case records referred back, against the case flags",
    "meetings": "a claim about every meeting that one meeting contradicts",
}


@dataclass(frozen=True)
class ClaimFlag:
    """One claim the data does not bear out: where, what kind, the words and the true figure."""

    line: int
    kind: str
    quote: str  # the words that triggered it (figures and their noun: short, never a quote of a person)
    message: str  # the nearest true figure
    sentence: str = ""  # a digest of the sentence's words: a confirmation holds while they stay the same

    def __str__(self) -> str:
        return f'line {self.line}: "{self.quote}" — {self.message}'


_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUM = r"(\d{1,4}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_RECORDS = r"(?:case\s+records?|records?|cases|case\s+files?|overall\s+judgements?)"
_NOUNS = {
    "records": _RECORDS,
    "meetings": r"(?:meetings?)",
    "conversations": r"(?:conversations?)",
    "reviewers": r"(?:reviewers?|principal\s+social\s+workers?|psws?)",
    "questions": r"(?:questions?\s+(?:of|on)\s+the\s+(?:audit\s+)?tool|audit\s+questions?)",
}
_GAP = r"(?:[\w'-]+\s+){0,2}?"
_PROPORTIONS: list[tuple[str, str, float, float]] = [  # pattern, name, lowest %, highest %
    (r"(?:nearly|almost|virtually)\s+(?:all|every)", "nearly all", 80, 100),
    (r"all|every|each", "all", 99.95, 100),
    (r"none\s+of|no", "none", 0, 0.05),
    (r"most|the\s+majority\s+of|a\s+majority\s+of", "most", 50.05, 100),
    (r"(?:about\s+|around\s+|roughly\s+|nearly\s+|almost\s+)?half(?:\s+of)?", "half", 45, 55),
    (r"(?:about\s+|around\s+)?three\s+quarters\s+of", "three quarters", 70, 80),
    (r"(?:about\s+|around\s+)?two\s+thirds\s+of", "two thirds", 61, 72),
    (r"(?:about\s+|around\s+)?(?:a|one)\s+third\s+of", "a third", 28, 38),
    (r"(?:about\s+|around\s+)?(?:a|one)\s+quarter\s+of", "a quarter", 20, 30),
    (r"a\s+minority\s+of|only\s+a\s+minority\s+of", "a minority", 0, 49.95),
]
_PROPORTION = re.compile(r"\b(" + "|".join(f"(?:{p})" for p, *_ in _PROPORTIONS) + r")\s+(?:of\s+)?(?:the\s+)?"
                         + _GAP + r"(" + _RECORDS + r")\b(?!\s+of\b)", re.IGNORECASE)
_SUPERLATIVE = re.compile(r"\b(strongest|weakest|highest|lowest|best|worst)\s+(?:rated\s+)?"
                          r"(areas?|questions?|aspects?|parts?)\b", re.IGNORECASE)
_NEGATIVE = re.compile(r"\b(weak\w*|lack\w*|missing|absent|poor\w*|inadequate|requires\s+improvement|thin|deficit|"
                       r"not|rarely|limited|fail\w*|without|below)\b", re.IGNORECASE)
_PERCENT = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)"
                      r"(?!\s*(?:confidence\s+|credible\s+)?intervals?\b)", re.IGNORECASE)  # not "95% interval"
_QUALITY = re.compile(r"\b(outstanding|good|better|well|strong\w*|high\w*|quality|standard|rated|ratings?|"
                      r"judgements?)\b", re.IGNORECASE)
_FRACTION = re.compile(r"\b" + _NUM + r"\s+(?:out\s+)?of\s+(?:the\s+|all\s+|its\s+)?" + _NUM + r"\b", re.IGNORECASE)
_COUNT = re.compile(r"(?<![-\w])" + _NUM + r"\s+(?!of\b)" + _GAP + r"(" + "|".join(_NOUNS.values()) + r")\b",
                    re.IGNORECASE)
_UNCHANGED = re.compile(r"\b(within\s+the\s+(?:uncertainty|margin)|no\s+(?:clear|real)\s+change|close\s+to|similar\s+to|in\s+line\s+with|the\s+same\s+as|unchanged|no\s+change|"
                        r"stayed\s+the\s+same|remained\s+(?:stable|the\s+same|steady)|stable)\b", re.IGNORECASE)
_IMPROVED = re.compile(r"\b(improved|improvement\s+(?:on|since)|rose|risen|increased|higher\s+than|better\s+than|up\s+from)\b",
                       re.IGNORECASE)
_DECLINED = re.compile(r"\b(declined|fell|fallen|decreased|dropped|deteriorated|lower\s+than|worse\s+than|down\s+from)\b",
                       re.IGNORECASE)
_PREVIOUS = re.compile(r"\b(previous|last|earlier|prior)\s+(round|review)|\bsince\s+(?:the|its)\s+(?:last|previous)",
                       re.IGNORECASE)
_AUDIT = re.compile(r"\b(audit\s+figures|figures|ratings|shares?|audit\s+tool|overall\s+judgements?|case\s+records?|"
                    r"records)\b", re.IGNORECASE)
_REFERRED = re.compile(r"\b(?:(no|none\s+of\s+the)|" + _NUM + r")\s+" + _GAP + _RECORDS +
                       r"\s+(?:\w+\s+){0,2}?(?:was|were|had\s+been|have\s+been|has\s+been)\s+referred\s+back\b",
                       re.IGNORECASE)
_ALL_MEETINGS = re.compile(r"\b(?:all\s+(?:of\s+)?(?:the\s+)?(?:" + _NUM + r"\s+)?meetings|every\s+meeting|each\s+meeting|"
                           r"both\s+meetings)\b", re.IGNORECASE)
_QUESTION_REF = re.compile(r"(?<!review\s)\b(?:q|question\s+)(\d{1,2})\b", re.IGNORECASE)
_OVERALL = re.compile(r"\boverall\b", re.IGNORECASE)
_REFERENCE = re.compile(r"\b(?:sections?|recommendations?|quality\s+statements?|statements?|review\s+questions?|"
                        r"table|figure|chapter|page|appendix|annex)\s+\d[\d,\s]*(?:(?:and|or)\s+\d+)?", re.IGNORECASE)
_QUOTED = re.compile(r"\"[^\"\n]*(?:\n[^\"\n]*){0,6}\"|“[^”]*”|‘[^’\n]{12,}’")
_GENERIC = {"the", "and", "of", "a", "an", "what", "to", "in", "on", "person", "persons", "people", "practice", "record",
            "records", "case", "review", "based", "strengths-based", "for", "with", "their", "own"}
_ROLE_WORDS = re.compile(r"\b(managers?|practitioners?|social\s+workers?|occupational\s+therapists?|"
                         r"team\s+managers?|assistant\s+team\s+managers?|senior\s+practitioners?)\b", re.IGNORECASE)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.casefold()]


def _blank(m: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


def _prepared(text: str) -> str:
    """The text with what is not the team's claim blanked out, keeping every offset and line."""
    text = re.sub(r"<!--.*?-->", _blank, text, flags=re.DOTALL)
    text = re.sub(r"(?m)^ {0,3}#{1,6}\s.*$", _blank, text)  # headings (the review questions themselves)
    text = re.sub(r"(?m)^(\s*)(\d{1,3}[.)]|[-*+])(?=\s)", lambda m: m.group(1) + " " * len(m.group(2)), text)
    text = FIELD.sub(lambda m: " " * len(m.group(0)), text)
    text = _QUOTED.sub(_blank, text)
    text = _REFERENCE.sub(_blank, text)
    text = re.sub(r"[*_`]", " ", text)
    return text


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) for each sentence: ends at . ! ? or ; before a capital, or at a blank line."""
    for para in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", text):
        start = para.start()
        for m in re.finditer(r".+?(?:[.!?](?=\s+[A-Z0-9\s]|\s*$)|$)", para.group(0), re.DOTALL):
            if m.group(0).strip():
                yield start + m.start(), m.group(0)


def _words(title: str) -> list[str]:
    words = re.findall(r"[a-z][a-z'-]+", title.casefold())
    return [w for w in words if w not in _GENERIC and len(w) > 2]


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def mentioned_questions(text: str, facts: ReviewFacts) -> list[QuestionFacts]:
    """The questions a piece of text names: 'Q3', 'question 3' or a word of the title (not 'review', 'person')."""
    tokens = {_stem(w) for w in re.findall(r"[a-z][a-z'-]+", text.casefold().replace("’", "'"))}
    tokens |= {_stem(w.split("'")[0]) for w in tokens}
    numbers = {int(n) for n in _QUESTION_REF.findall(text)}
    out = []
    for q in facts.questions:
        keys = {_stem(w) for w in _words(q.title)}
        if q.number in numbers or keys & tokens:
            out.append(q)
    return out


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _names(qs: Iterable[QuestionFacts]) -> str:
    names = [q.name for q in qs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _matches(typed: str, value: float) -> bool:
    """A typed percentage matches a share as the report would round it (or a writer would, to whole numbers)."""
    decimals = len(typed.partition(".")[2])
    tolerance = 0.5 * 10 ** (-decimals) + 1e-9
    return abs(float(typed) - value) <= tolerance


def _shares(q: QuestionFacts) -> list[tuple[str, Share]]:
    return [("Outstanding or Good", q.good), ("rated lower", q.low), *((k.replace("_", " "), s) for k, s in q.levels.items())]


class _Checker:
    def __init__(self, facts: ReviewFacts) -> None:
        self.facts = facts
        self.all_q = [*facts.questions, facts.overall]

    # ------------------------------------------------------------------ context
    def context(self, sentence: str) -> tuple[list[QuestionFacts], bool]:
        """The questions a sentence is about (named ones, else the overall judgement), and whether it names any."""
        named = mentioned_questions(sentence, self.facts)
        if _OVERALL.search(sentence):
            named.append(self.facts.overall)
        return (named, True) if named else ([self.facts.overall], False)

    def candidates(self, qs: list[QuestionFacts], named: bool) -> list[tuple[str, Share]]:
        pooled = [] if named else [("all question ratings, Outstanding or Good", self.facts.pooled)]
        return [(f"{q.name} {label}", s) for q in qs for label, s in _shares(q)] + pooled

    # ------------------------------------------------------------------ kinds
    def figures(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        qs, named = self.context(sentence)
        cands = [(what, s) for what, s in self.candidates(qs, named) if s.total]
        if not named:  # a figure with no question named may be any share of the review
            cands += [(w, s) for q in self.facts.questions for w, s in self.candidates([q], True) if s.total]
        for m in _PERCENT.finditer(sentence):
            if not cands or any(_matches(m.group(1), s.percent) for _, s in cands):
                continue
            what, near = min(cands, key=lambda c: abs(c[1].percent - float(m.group(1))))
            yield m.start(), "figure", m.group(0), f"no share of this review in its context is {m.group(1)}%; the " \
                f"nearest is {what}: {near.display}"
        counts = set(self.facts.counts.values())
        for m in _FRACTION.finditer(sentence):
            k, n = _number(m.group(1)), _number(m.group(2))
            if k > n or n < 2:
                continue
            shares = ([(w, s) for q in self.all_q for w, s in self.candidates([q], True)]
                      + [("all question ratings, Outstanding or Good", self.facts.pooled)]) if not named else cands
            if any(s.count == k and s.total == n for _, s in shares) or (not named and k in counts and n in counts):
                continue
            if not named and n in counts and not _QUALITY.search(sentence):
                continue  # "one of the two moderated case records": a part of a count, not a share
            same = [c for c in shares if c[1].total == n] or [c for c in cands if c[1].total]
            if not same:
                continue
            what, near = min(same, key=lambda c: abs(c[1].count - k))
            yield m.start(), "figure", m.group(0), f"no figure of this review is {k} of {n}; the nearest is {what}: " \
                f"{near.display}"

    def counts(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        c = self.facts.counts
        for m in _COUNT.finditer(sentence):
            n = _number(m.group(1))
            if n < 2 or re.match(r"\s*(?:of|out)\b", sentence[m.end():]):
                continue
            noun = m.group(2).casefold()
            family = next(k for k, p in _NOUNS.items() if re.fullmatch(p, noun, re.IGNORECASE))
            if family == "records":
                true = {c["cases.allocated"], c["cases.rated"], c["cases.complete"], c["cases.moderated"],
                        c["cases.referred_back"]} | {s.count for q in self.all_q for _, s in _shares(q)}
                main = ("case records rated", c["cases.rated"])
            elif family == "questions":
                true, main = {c["questions.count"]}, ("questions on the audit tool", c["questions.count"])
            else:
                key = {"meetings": "meetings.count", "conversations": "conversations.count",
                       "reviewers": "reviewers.count"}[family]
                true = {c[key]} | ({c["reviewers.allocated"]} if family == "reviewers" else set())
                main = (family, c[key])
            if n not in true:
                yield m.start(), "count", m.group(0), f"this review has {main[1]} {main[0]}"

    def proportions(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        for m in _PROPORTION.finditer(sentence):
            word = " ".join(m.group(1).casefold().split())
            if re.search(r"moderat|referred|allocated|examined|chosen|selected", m.group(0), re.IGNORECASE):
                continue  # a subset or how records were chosen, not how good they were
            if word == "no" and re.search(r"\breferred\s+back", sentence[m.end():], re.IGNORECASE):
                continue  # the referred-back claim checks this against the case flags
            name, lo, hi = next((n, a, b) for p, n, a, b in _PROPORTIONS if re.fullmatch(p, word, re.IGNORECASE))
            qs, named = self.context(sentence)
            negative = bool(_NEGATIVE.search(sentence))
            if not named and not negative and not _QUALITY.search(sentence):
                continue  # "each case record was read twice": how the review worked, not how good the records were
            shares = [(q, q.low if negative else q.good) for q in qs if q.good.total]
            if not shares or any(lo <= s.percent <= hi for _, s in shares):
                continue
            q, s = min(shares, key=lambda x: min(abs(x[1].percent - lo), abs(x[1].percent - hi)))
            label = "rated below Good" if negative else f"rated {self.facts.good_label}"
            yield m.start(), "proportion", m.group(0), f"{q.name} {label}: {s.display}, not {name}"

    def superlatives(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        for m in _SUPERLATIVE.finditer(sentence):
            clause_start = max(sentence.rfind(ch, 0, m.start()) for ch in ";:(") + 1
            before = sentence[clause_start:m.start()]
            after = sentence[m.end():]
            clause_end = min([i for i in (after.find(ch) for ch in ";:,.(") if i >= 0] or [len(after)])
            after = after[:clause_end]
            excluded: list[QuestionFacts] = []
            if re.match(r"\s+(?:\w+\s+){0,3}?after\b", after):
                excluded = mentioned_questions(after, self.facts)
                named = mentioned_questions(before, self.facts)
            else:
                named = mentioned_questions(before, self.facts) or mentioned_questions(after, self.facts)
            named = [q for q in named if q.good.total and q not in excluded]
            others = [q for q in self.facts.questions if q.good.total and q not in named and q not in excluded]
            if not named or not others:
                continue
            high = m.group(1).casefold() in ("strongest", "highest", "best")
            if high:
                floor = min(q.good.percent for q in named)
                beat = [q for q in others if q.good.percent > floor + 1e-9]
            else:
                floor = max(q.good.percent for q in named)
                beat = [q for q in others if q.good.percent < floor - 1e-9]
            if beat:
                best = (max if high else min)(q.good.percent for q in beat)
                verb = "higher" if high else "lower"
                yield m.start(), "superlative", f"{m.group(0)} … {_names(named)}", \
                    f"{_names(beat)} {'is' if len(beat) == 1 else 'are'} {verb} ({_pct(best)} vs {_pct(floor)} " \
                    f"rated {self.facts.good_label})"

    def changes(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        previous = _PREVIOUS.search(sentence)
        if previous is None or not (_AUDIT.search(sentence) or mentioned_questions(sentence, self.facts)):
            return
        for pattern, claim in ((_UNCHANGED, "unchanged"), (_IMPROVED, "rose"), (_DECLINED, "fell")):
            m = pattern.search(sentence)
            if m is None:
                continue
            later = _PREVIOUS.search(sentence, m.end())
            quote = f"{m.group(0)} … {later.group(0)}" if later is not None else m.group(0)
            if not self.facts.changes:
                yield m.start(), "change", quote, "no previous round's figures are recorded to compare with " \
                    "(reviewkit previous WORKSPACE BUNDLE records them)"
                return
            clause = _clause(sentence, m.start())  # what changed is named in the claim's own clause
            named = [q.id for q in mentioned_questions(clause, self.facts)]
            if _OVERALL.search(clause):
                named.append(self.facts.overall.id)
            if named:
                subject = [c for c in self.facts.changes if c.question in named]
            elif claim == "unchanged":
                subject = list(self.facts.changes)
            else:
                subject = [c for c in self.facts.changes if c.question == self.facts.overall.id]
            if claim == "unchanged":
                wrong = [c for c in subject if c.clear]
            else:
                wrong = [c for c in subject if c.clear != claim]
            if wrong:
                c = max(wrong, key=lambda c: abs(c.points))
                q = self.facts.question(c.question)
                who = q.name if q is not None else "the overall judgement"
                many = (f" (of {len(subject)} comparisons about one in 20 crosses the line by chance: if the team "
                        "judges this one chance, confirm the claim with that reason)") if len(subject) > 3 else ""
                why = ("the interval leaves out no change, so the rounds differ" + many if claim == "unchanged" else
                       "the interval includes no change, so the data cannot tell" if c.clear == "" else
                       "the other way")
                yield m.start(), "change", quote, f"{who} {c.display}: {why}"
            return

    def referred(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        n = self.facts.counts["cases.referred_back"]
        for m in _REFERRED.finditer(sentence):
            typed = 0 if m.group(1) else _number(m.group(2))
            if typed != n:
                yield m.start(), "referred", m.group(0), \
                    f"{n} case record{'s were' if n != 1 else ' was'} referred back (the case flags)"

    def meetings(self, sentence: str) -> Iterator[tuple[int, str, str, str]]:
        for m in _ALL_MEETINGS.finditer(sentence):
            if m.group(1) and _number(m.group(1)) != self.facts.counts["meetings.count"]:
                continue  # "all three meetings": the count is checked as a count
            for role in dict.fromkeys(" ".join(r.casefold().split()) for r in _ROLE_WORDS.findall(sentence)):
                stem = _stem(role)
                missing = [mt for mt in self.facts.meetings if not _attended(mt, stem)]
                if missing and self.facts.meetings:
                    yield m.start(), "meetings", m.group(0), \
                        f"{len(missing)} of {len(self.facts.meetings)} meetings had no {role} recorded as attending"
                    break


def _clause(sentence: str, at: int) -> str:
    """The part of a sentence around offset ``at`` between semicolons, colons or dashes."""
    start = max(sentence.rfind(ch, 0, at) for ch in (";", ":", " – ", " — ")) + 1
    ends = [i for i in (sentence.find(ch, at) for ch in (";", ":", " – ", " — ")) if i >= 0]
    return sentence[start:min(ends) if ends else len(sentence)]


def _attended(meeting: Mapping[str, Any], stem: str) -> bool:
    """Whether a meeting's kind or attendance by role includes a role word ('manager', 'practitioner')."""
    kind = str(meeting.get("kind") or "")
    roles = meeting.get("by_role") or {}
    if stem in kind.casefold():
        return True
    if stem == "practitioner":
        return kind.casefold() == "practitioners" or any(n and "manager" not in r.casefold() for r, n in roles.items())
    return any(n and stem in str(r).casefold() for r, n in roles.items())


def check_claims(text: str, facts: ReviewFacts) -> list[ClaimFlag]:
    """Every claim in one narrative file the review's figures do not bear out, in order of line."""
    prepared = _prepared(text)
    checker = _Checker(facts)
    flags: list[ClaimFlag] = []
    for offset, sentence in _sentences(prepared):
        for kind in (checker.figures, checker.counts, checker.proportions, checker.superlatives,
                     checker.changes, checker.referred, checker.meetings):
            for at, claim_kind, quote, message in kind(sentence):
                line = prepared.count("\n", 0, offset + at) + 1
                digest = hashlib.sha256(" ".join(sentence.casefold().split()).encode("utf-8")).hexdigest()[:12]
                flags.append(ClaimFlag(line, claim_kind, " ".join(quote.split())[:80], message, digest))
    seen: set[tuple[int, str, str]] = set()
    out = []
    for f in sorted(flags, key=lambda f: f.line):
        if (f.line, f.kind, f.quote) not in seen:
            seen.add((f.line, f.kind, f.quote))
            out.append(f)
    return out
