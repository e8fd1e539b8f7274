"""The publish gate: screen the page a reader reads, deny by shape, allow by declaration.

Rules that list identifier formats lose to the next variant, so published text is read the
other way round. ``reader_text`` (``reviewkit.privacy.reader``) turns whatever will be
published (Markdown, HTML or plain text) into the words a reader sees; ``screen_page`` then
finds every *shape* that could be about a person — a long run of digits whatever sits between
them, a token mixing letters and three or more digits, an ``@`` or "at … dot …", an old full
date, a postcode in any spacing, a house number and a street word, a title and the name after
it, and a capitalised word that is neither English nor declared by the review — and lets
through only what the review declares (its case references, question ids, places, teams and
the words the host confirmed).

Findings carry a kind and a position in the reader text, never the value.
"""

from __future__ import annotations

import gzip
import itertools
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

from reviewkit.core.resources import shipped
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.reader import reader_blocks, reader_text
from reviewkit.privacy.timeline import mask, person_dates, timeline_spans

__all__ = ["declared_phrases", "describe_kinds", "phrase_key", "plan_dates", "reference_shaped", "shape_kinds",
           "CONFIRMABLE", "Declared", "PageFinding", "KINDS", "declared_for", "screen_page", "screen_blocks",
           "ordinary_word", "possible_name_words"]

KINDS = {
    "digits": "a run of six or more digits",
    "letters_and_digits": "a reference mixing letters and digits",
    "email": "an email address",
    "date_of_birth": "a full date old enough to be a date of birth",
    "postcode": "a postcode",
    "address": "a house number and street",
    "title_name": "a title and a name",
    "possible_name": "a possible name (a capitalised word that is not ordinary English or declared)",
}
# What a host can confirm once (a word that is not a name: a place, a team): the others are
# rewritten, never confirmed — a date or a number can always be written another way.
CONFIRMABLE = frozenset({"possible_name"})

WORDS_FILE = shipped("templates", "privacy", "english_words.txt.gz")
ORDINARY_FILE = shipped("templates", "privacy", "ordinary_words.txt")
NAME_WORDS_FILE = shipped("templates", "privacy", "name_words.txt")
# A full date older than this many years before the review reads as a date of birth.
BIRTH_AGE_YEARS = 16


@dataclass(frozen=True)
class PageFinding:
    """A shape found in reader text: kind and 0-based [start, end) position, never the value."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Declared:
    """What the review declares safe to publish.

    ``words``: casefolded words of the council, places, teams, services, glossary and the
    words the host confirmed; ``ids``: casefolded references (case ids, question ids, quality
    statement numbers); ``review_year``: the year dates are aged against.
    """

    words: frozenset[str] = frozenset()
    ids: frozenset[str] = frozenset()
    review_year: int | None = None
    # Digit strings the kit itself generated (figure table cells in order), allowed in finished outputs.
    figures: frozenset[str] = field(default=frozenset(), compare=False)
    # Dates on the plan's timeline that came from an action plan's declared date columns (its targets and
    # updates, as review.yaml keeps them): read as dates, wherever they print ("Q2 2027/28", "31-Mar-2027").
    timeline: frozenset[str] = field(default=frozenset(), compare=False)
    # The declared phrases whole (``phrase_key``): a title and a name pass only as one of them has them.
    phrases: frozenset[str] = field(default=frozenset(), compare=False)

    def declares_phrase(self, name: str, text: str) -> bool:
        """True when ``text`` begins with a whole declared phrase that holds all of ``name`` (a title and
        the name after it): "Father Hudson's Care" as the glossary has it. Words declared one by one (a
        team, a place, a reviewer) are no such phrase."""
        want, have = phrase_key(name), phrase_key(text) + " "
        return any(have.startswith(p + " ") and (p + " ").startswith(want + " ") for p in self.phrases)

    @property
    def year(self) -> int:
        return self.review_year or date.today().year


# -- what is ordinary ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    with gzip.open(WORDS_FILE, "rt", encoding="utf-8") as f:
        return frozenset(f.read().split())


@lru_cache(maxsize=1)
def _ordinary() -> frozenset[str]:
    lines = ORDINARY_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip().casefold() for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))


_POSSESSIVE = re.compile(r"['’]s?$")
# "I've", "We're", "Don't", "She'd": a contraction of ordinary words (either apostrophe).
_CONTRACTION = re.compile(r"^(?P<base>[^\W\d_]+?)(?:n['’]t|['’](?:ve|re|ll|d|m|s|t))$", re.I)


def ordinary_word(word: str, declared: Declared = Declared()) -> bool:
    """True for an English word (in lower case), a word the kit ships as ordinary, or a declared one."""
    folded = word.casefold()
    if folded in declared.words or folded in _ordinary():
        return True
    if word.lower().replace("’", "'") in _english():  # "Won't", "Can't" as the list spells them
        return True
    contraction = _CONTRACTION.match(word)
    if contraction and (len(contraction["base"]) == 1 or contraction["base"].lower() in _english()):
        return True
    bare = _POSSESSIVE.sub("", word)
    lower = bare.lower()
    if lower in _english() or bare.casefold() in declared.words or bare.casefold() in _ordinary():
        return True
    if "-" in bare:  # "Co-ordinated" as "coordinated", or each part an ordinary word
        return lower.replace("-", "") in _english() or all(ordinary_word(p, declared) for p in bare.split("-") if p)
    # "Practitioners'", "Records" after a heading number: plural and past forms of listed words
    for suffix in ("s", "es", "ed", "d", "ing", "ly"):
        if lower.endswith(suffix) and lower[: -len(suffix)] in _english():
            return True
    return False


# -- the shapes ----------------------------------------------------------------------------------
_LETTER = r"[^\W\d_]"
_WORD = rf"{_LETTER}[\w'’\-]*"
# Between digits: spaces, dots, hyphens and dashes, slashes, brackets and commas.
_DIGIT_RUN = re.compile(r"\d(?:[ .\-\u2010-\u2015/\\()\[\],]{0,3}\d)+")
_YEAR_RANGE = re.compile(r"(?:19|20)\d\d\s*[-\u2010-\u2015/]\s*(?:(?:19|20)\d\d|\d\d)")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_SENTENCE_GAP = re.compile(r"\d[.,)]\s+\(?\d")  # "in 2024. 12 people", "2024, 12 people": a sentence or list
_TOKEN = re.compile(r"[^\s,;:!?()\[\]{}\"“”‘<>|]+")
_SAFE_TOKEN = re.compile(
    r"\d+(?:st|nd|rd|th|s)"  # 100th, 1990s
    r"|\d{1,2}(?:[.:]\d\d)?(?:am|pm)"  # 10.30am
    r"|[£$€]?\d[\d,.]*(?:k|m|bn|mg|ml|kg|km|mph|hrs?|mins?|pc|p)"  # £250k, 100mg
    r"|(?:19|20)\d\d(?:[-/](?:19|20)?\d\d)?['’]?s?",
    re.I)
_EMAIL_AT = re.compile(r"[\w.%+\-']*\s?(?:@|＠)\s?[\w\-]+(?:\s?\.\s?[\w\-]+)*")
_SPELLED_AT = r"(?:\s+at\s+|\s*[(\[{<]\s*at\s*[)\]}>]\s*)"
_SPELLED_DOT = r"(?:\s+dot\s+|\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s?\.\s?)"
# "name at example.org": what follows "at" ends in a domain (a dot and two or more letters).
_DOMAIN_END = re.compile(r"(?i:at|[)\]}>])\s*[\w\-]+(?:\s?\.\s?[\w\-]+)*"
                         r"(?:\.[a-z]{2,6}|\.\s(?:uk|com|org|net|gov|nhs|ac|co|io|info|eu|ie|scot|wales|cymru))$")
_SPELLED_EMAIL = re.compile(rf"[\w\-]+(?:{_SPELLED_DOT}[\w\-]+)*{_SPELLED_AT}[\w\-]+(?:{_SPELLED_DOT}[\w\-]+)+", re.I)
_POSTCODE = re.compile(
    rf"(?<![^\W_])(?:{'|'.join(sorted(privacy.POSTCODE_AREAS, key=len, reverse=True))})\d[A-Z\d]?[\s\-.]*\d[ABD-HJLNP-UW-Z]{{2}}"
    r"(?![^\W_])", re.I)
_STREETS = (
    "street|st|road|rd|avenue|ave|av|lane|ln|close|cl|crescent|cres|drive|dr|court|ct|gardens|gdns|way|place|pl|"
    "terrace|terr|tce|grove|gr|square|sq|walk|mews|row|hill|park|view|green|parade|pde|vale|rise|gate|wharf|"
    "boulevard|blvd|chase|croft|fold|meadow|meadows|yard|embankment|quay|circus|hollow|end|brow|bank"
)
_ADDRESS = re.compile(
    rf"(?<![\w£$€.,/:\-])(?P<number>\d{{1,4}}[A-Za-z]?(?:\s*[-–/]\s*\d{{1,4}}[A-Za-z]?)?),?\s+(?P<words>(?:{_WORD}\s+){{1,3}}?)"
    rf"(?P<street>{_STREETS})(?![^\W_])\.?", re.I)
_FUNCTION_WORDS = frozenset("""a an the of to in on at by for with from and or but than as into over under about
per each every more most less few many all some any no not is are was were be been being has have had do does
did will would can could may might should must this that these those their his her our your my its who which
what when where why how people times weeks days months years hours minutes cases case records record staff
practitioners managers members teams team carers carer visits visit calls call referrals referral""".split())

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "sept|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec")
_MONTH_NO = {m[:3]: i for i, m in enumerate(_MONTHS.split("|")[:12], start=1)}
_ORD = r"(?:st|nd|rd|th)?"
_DSEP = r"\s*[/.\-\u2010-\u2015\\]\s*|\s+"
_DATES = (
    (re.compile(rf"(?<![\d])(\d{{1,2}})(?:{_DSEP})(\d{{1,2}})(?:{_DSEP})(\d{{4}}|\d{{2}})(?!\d)"), "dmy"),
    (re.compile(rf"(?<![\d])(\d{{4}})(?:{_DSEP})(\d{{1,2}})(?:{_DSEP})(\d{{1,2}})(?!\d)"), "ymd"),
    (re.compile(r"(?<![\d])(\d{2})(\d{2})((?:19|20)\d{2})(?!\d)"), "dmy"),
    (re.compile(rf"(?<![^\W_])(\d{{1,2}}){_ORD}(?:\s*of)?[\s\-/.,]*({_MONTHS})[a-z]*\.?[\s\-/.,']*(\d{{4}}|\d{{2}})(?!\d)",
                re.I), "dmy"),
    # The day is one or two digits of their own: "March 2027" is no "20 March (19)27".
    (re.compile(rf"(?<![^\W_])({_MONTHS})[a-z]*\.?[\s\-/.]*(\d{{1,2}})(?!\d){_ORD},?[\s\-/.,']*(\d{{4}}|\d{{2}})(?!\d)",
                re.I), "mdy"),
)
# A month and a year ("March 1941"): old enough, it is read as a date of birth, as a full date is.
_MONTH_YEAR = re.compile(rf"(?<![^\W_])(?:{_MONTHS})[a-z]*\.?[\s\-/.,']*((?:19|20)\d\d)(?!\d)", re.I)
_BIRTH_CUE = re.compile(r"(?:\bd\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|\bbirth\s*date|\bborn\b(?:\s+(?:in|on))?)"
                        r"[\s:\-]*$", re.I)
_CUED_YEAR = re.compile(rf"(?:(?:{_MONTHS})[a-z]*\.?\s+)?(?:19|20)\d\d(?!\d)", re.I)

_STRONG_TITLES = "mr|mrs|mx|mister|missus|cllr|councillor|revd|rev|reverend|prof|professor"
_WEAK_TITLES = ("ms|miss|dr|doctor|sir|dame|lady|lord|father|fr|sister|sr|brother|nurse|madam|madame|mme|"
                "mlle|master|canon|pastor|imam|rabbi|aunt|auntie|uncle")
_PARTICLES = ("van|von|der|den|de|da|di|du|dos|das|do|del|della|la|le|ap|ab|ni|ní|nic|mac|mc|o|ó|ua|an|bin|binti|"
              "ibn|al|el|st|ter|ten|y|d'|o'")
_INITIALS = rf"(?:{_LETTER}\.\s*)*"
_NAME_TOKEN = rf"{_INITIALS}(?:(?:{_PARTICLES})\s+)*{_LETTER}[\w'’\-]*"
# Later parts of a name start with a capital ("Smith"), or a small letter and a capital ("tSaoir").
_NAME_NEXT = r"(?:[a-z][A-Z]|[A-ZÀ-ÞĀ-ſ])[\w'’\-]*"
_TITLE = re.compile(
    rf"(?<![^\W_])(?P<title>{_STRONG_TITLES}|{_WEAK_TITLES})(?P<dot>\.?)\s+(?P<name>{_NAME_TOKEN}"
    rf"(?:\s+{_INITIALS}(?:(?:{_PARTICLES})\s+)*{_NAME_NEXT}){{0,2}})", re.I)
# After "her father", "the nurse": words that go on the sentence, never a name.
_NOT_NAME_AFTER_TITLE = frozenset("""will would may might can could should must shall did does do had has have was were
is are said says told tells felt feels came comes went goes got gets visited visits saw sees knew knows thought
thinks also always never often still then who whom whose which that what when where why how because but""".split())
_STRONG = frozenset(_STRONG_TITLES.split("|"))
_TITLE_WORDS = _STRONG | frozenset(_WEAK_TITLES.split("|"))
# A capitalised word of letters (with apostrophes and hyphens): a token with digits is another rule's.
_CAPITAL_WORD = re.compile(r"(?<![\w'’\-])[A-ZÀ-ÞĀ-ſ][^\W\d_]*(?:['’\-][^\W\d_]+)*(?![\w])")


_ANY_DIGIT = re.compile(r"\d")
_AT_OR_DOT = re.compile(r"[@＠]|\b(?:at|dot)\b", re.I)


def _declared_dates(block: str, declared: Declared) -> str:
    """The block with the timeline dates the review declares masked (same length); a person's date never is."""
    spans = [(s, e) for s, e in timeline_spans(block, declared.year)
             if " ".join(block[s:e].split()) in declared.timeline]
    return mask(block, spans) if spans else block


def _findings_in(block: str, declared: Declared) -> Iterator[PageFinding]:
    """Every shape in one block of reader text (rules that need a digit or an '@' only where one is)."""
    digit = _ANY_DIGIT.search(block) is not None
    if digit and declared.timeline:
        block = _declared_dates(block, declared)
    if digit:
        yield from _digits(block, declared)
        yield from _letter_digit_tokens(block, declared)
        yield from _dates(block, declared)
    if _AT_OR_DOT.search(block):
        yield from _emails(block)
    for m in _POSTCODE.finditer(block) if digit else ():
        inward = m.group()[-3:]
        if inward[1:].lower() in ("st", "nd", "rd", "th") and inward[0].isdigit():
            continue  # "Ward B3 3rd floor": an ordinal, not an inward code
        yield PageFinding("postcode", *m.span())
    for m in _ADDRESS.finditer(block) if digit else ():
        words = m["words"].split()
        if any(w.casefold() in _FUNCTION_WORDS for w in words):
            continue  # "5 people in court", "3 times a week": a count, not an address
        yield PageFinding("address", *m.span())
    yield from _titles(block, declared)
    yield from _possible_names(block, declared)
    for m in _system_number_re().finditer(block) if digit and _system_number_re() else ():
        if not re.fullmatch(r"(?:19|20)\d\d", m["digits"]):
            yield PageFinding("letters_and_digits", *m.span())  # "Mosaic 1234": a record system and a number
    for f in privacy.screen(block):  # the stored-text rules too (NI numbers, "Mosaic 1234", NHS checksums)
        if f.level == privacy.BLOCK:
            yield PageFinding(_FROM_PRIVACY.get(f.kind, "letters_and_digits"), f.start, f.end)


@lru_cache(maxsize=1)
def _system_number_re() -> re.Pattern[str] | None:
    """A record system's name (templates/privacy/record_systems.txt), a label, and three or more digits."""
    lines = privacy.RECORD_SYSTEMS_FILE.read_text(encoding="utf-8").splitlines()
    systems = sorted({ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")}, key=len,
                     reverse=True)
    if not systems:
        return None
    alt = "|".join(re.escape(s).replace(r"\ ", r"\s+") for s in systems)
    return re.compile(rf"(?<![^\W_])(?:{alt})(?:\s+(?:id|no\.?|number|ref(?:erence)?|record))?\s*[:#.\-]?\s*"
                      rf"(?P<digits>\d{{3,}})(?!\d)", re.I)


def _digits(block: str, declared: Declared) -> Iterator[PageFinding]:
    for m in _DIGIT_RUN.finditer(block):
        text = m.group().rstrip(" .-,/([")
        for piece_start, piece in _split_sentences(m.start(), text):
            digits = re.sub(r"\D", "", piece)
            if len(digits) < 6:
                continue
            if _YEAR_RANGE.fullmatch(piece) or _THOUSANDS.fullmatch(piece) or _is_date(piece):
                continue  # a year range, 12,345, or a full date (dates are aged by their own rule)
            if declared.figures and any(digits in f for f in declared.figures):
                continue  # the kit's own figures, read across a table row
            yield PageFinding("digits", piece_start, piece_start + len(piece))


def _split_sentences(start: int, text: str) -> Iterator[tuple[int, str]]:
    """A run cut where a sentence or list goes on: '2024. 12 people', 'in 2024, 12 more'."""
    pos = 0
    for m in _SENTENCE_GAP.finditer(text):
        before = text[pos:m.start() + 1]
        after_digits = re.sub(r"\D", "", text[m.end() - 1:])
        if len(re.sub(r"\D", "", before)) >= 4 and re.fullmatch(r".*\b(?:19|20)\d\d", before) \
                or len(after_digits) <= 2:
            yield start + pos, before
            pos = m.end() - 1
    yield start + pos, text[pos:]


def _is_date(piece: str) -> bool:
    for regex, _ in _DATES[:3]:
        if regex.fullmatch(piece) and _parse(regex.fullmatch(piece), _order(regex)) is not None:
            return True
    return False


def _order(regex: re.Pattern[str]) -> str:
    return next(o for r, o in _DATES if r is regex)


def _parse(m: re.Match[str] | None, order: str) -> date | None:
    if m is None:
        return None
    parts = dict(zip(order, m.groups()))
    month = parts["m"]
    mo = int(month) if month.isdigit() else _MONTH_NO.get(month[:3].lower(), 0)
    y = int(parts["y"])
    if len(parts["y"]) == 2:
        y += 2000 if 2000 + y <= date.today().year else 1900
    for d, mm in ((int(parts["d"]), mo), (mo, int(parts["d"]))):
        try:
            return date(y, mm, d)
        except ValueError:
            continue
    return None


def _dates(block: str, declared: Declared) -> Iterator[PageFinding]:
    oldest = declared.year - BIRTH_AGE_YEARS
    for regex, order in _DATES:
        for m in regex.finditer(block):
            found = _parse(m, order)
            if found is not None and found.year < oldest:
                yield PageFinding("date_of_birth", *m.span())
    for m in _MONTH_YEAR.finditer(block):
        if int(m.group(1)) < oldest:
            yield PageFinding("date_of_birth", *m.span())
    for m in _CUED_YEAR.finditer(block):  # "born in March 1942", "DOB 1942"
        if _BIRTH_CUE.search(block[max(0, m.start() - 24):m.start()]):
            yield PageFinding("date_of_birth", *m.span())


# A short word and a number of three or more digits: "MOS 16633", "sg 82735", "MOS- 21222". Not a
# percentage ("MCA: 100% of records"): a share of three digits is a figure, never a reference.
_WORD_NUMBER = re.compile(r"(?<![\w\-])(?P<word>[^\W\d_]{1,8})[\s\-.:#/]{1,4}(?P<digits>\d{3,})(?![\d])")


def _letter_digit_tokens(block: str, declared: Declared) -> Iterator[PageFinding]:
    for m in _WORD_NUMBER.finditer(block):
        word, digits = m["word"], m["digits"]
        if len(digits) == 4 and re.fullmatch(r"(?:19|20)\d\d", digits):
            continue  # a year: "in 2024", "ASC 2025"
        if len(digits) == 3 and block[m.end():m.end() + 1] == "%":
            continue  # a share: "MCA: 100%"
        if word.casefold() in declared.words or word.casefold() in declared.ids:
            continue
        if word.islower() and word in _english() or word.istitle() and word.lower() in _english():
            continue  # "page 123", "Room 101", "about 250"
        yield PageFinding("letters_and_digits", *m.span())
    for m in _TOKEN.finditer(block):
        token = m.group().strip(".'’-/")
        if sum(c.isdigit() for c in token) < 3 or not any(c.isalpha() for c in token):
            continue
        if token.casefold() in declared.ids or token.casefold() in declared.words or _SAFE_TOKEN.fullmatch(token):
            continue
        if "@" in token or "＠" in token:
            continue  # an email: its own finding
        start = m.start() + m.group().find(token)
        yield PageFinding("letters_and_digits", start, start + len(token))


def _emails(block: str) -> Iterator[PageFinding]:
    for m in _EMAIL_AT.finditer(block):
        yield PageFinding("email", *m.span())
    spelled = re.search(r"\bat\b|[(\[{<]\s*at\s*[)\]}>]", block, re.I)
    for m in _SPELLED_EMAIL.finditer(block) if spelled else ():
        if re.search(r"\bdot\b|[(\[{<]\s*dot|[(\[{<]\s*at", m.group(), re.I) or _DOMAIN_END.search(m.group()):
            yield PageFinding("email", *m.span())


@lru_cache(maxsize=1)
def _name_words() -> frozenset[str]:
    """English words that are also names ("rose", "wood", "smith"): after a title, a name."""
    lines = NAME_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


def _titles(block: str, declared: Declared) -> Iterator[PageFinding]:
    particles = frozenset(_PARTICLES.split("|"))
    for m in _TITLE.finditer(block):
        title = m["title"].casefold()
        words = m["name"].split()
        first = next(w for w in words if w.casefold().strip("'’") not in particles or w is words[-1])
        named = (bool(m["dot"]) or words[0].casefold() in particles or re.match(rf"{_LETTER}\.", words[0])
                 or len(words) > 1 and words[1][:1].isupper())
        lower_first = first.strip("'’.").lower()
        if title not in _STRONG and not named and lower_first in _name_words() \
                and lower_first not in _NOT_NAME_AFTER_TITLE and lower_first not in _FUNCTION_WORDS:
            named = True  # "Father smith", "nurse rose": a name that is also a word
        if title not in _STRONG and not named:
            typed_title = m["title"]
            capital_name = first[:1].isupper()
            if not capital_name and ordinary_word(first):
                continue  # "her father said", "the district nurse visited", "did not miss appointments"
            if not typed_title[:1].isupper() and not capital_name and first.casefold() in _FUNCTION_WORDS:
                continue
            if typed_title[:1].isupper() and not capital_name and ordinary_word(first):
                continue
        capitalised = words[:1] + list(itertools.takewhile(lambda w: w[:1].isupper() or w.casefold() in particles,
                                                           words[1:]))
        if declared.declares_phrase(f"{m['title']} {' '.join(capitalised)}", block[m.start():m.start() + 300]):
            continue  # a declared name, title and all: a charity or a home named after a person, as the glossary has it
        yield PageFinding("title_name", m.start(), m.end())


def _possible_names(block: str, declared: Declared) -> Iterator[PageFinding]:
    run_start = run_end = -1
    for m in _CAPITAL_WORD.finditer(block):
        word = m.group().rstrip("'’-")
        if len(word) < 2 or ordinary_word(word, declared) or word.casefold().rstrip(".") in _TITLE_WORDS:
            continue
        if word.casefold() in declared.ids:
            continue
        if run_end >= 0 and block[run_end:m.start()].strip() == "":
            run_end = m.start() + len(word)
            continue
        if run_end >= 0:
            yield PageFinding("possible_name", run_start, run_end)
        run_start, run_end = m.start(), m.start() + len(word)
    if run_end >= 0:
        yield PageFinding("possible_name", run_start, run_end)
    # Two or more capitalised words that are all also names ("Bill Brown", "Amber Marsh"): a
    # person's name made of English words, unless the review declares the phrase.
    for m in _NAME_PAIR.finditer(block):
        words = [w.lower() for w in re.findall(r"[^\W\d_]+", m.group()) if len(w) > 1]
        if len(words) >= 2 and all(w in _name_words() for w in words) and not all(
                w in declared.words for w in words):
            yield PageFinding("possible_name", *m.span())


_NAME_PAIR = re.compile(r"(?<![\w'’\-])[A-Z][a-z]+(?:\s+(?:[A-Z]\.\s+)?[A-Z][a-z]+)+(?![\w])")
_FROM_PRIVACY = {"nhs_number": "digits", "phone": "digits", "email": "email", "date_of_birth": "date_of_birth",
                 "postcode": "postcode", "address": "address", "honorific_name": "title_name",
                 "listed_name": "possible_name", "record_number": "letters_and_digits", "ni_number": "letters_and_digits"}
_PRIORITY = {kind: i for i, kind in enumerate(("title_name", "email", "date_of_birth", "postcode", "address", "digits",
                                                "letters_and_digits", "possible_name"))}  # a specific kind names a place before "possible name"


def _merge(findings: Iterable[PageFinding]) -> list[PageFinding]:
    """One finding per place: overlapping findings joined, named by their most specific kind."""
    out: list[PageFinding] = []
    for f in sorted(set(findings), key=lambda f: (f.start, -f.end)):
        if out and f.start < out[-1].end:
            last = out[-1]
            kind = min(last.kind, f.kind, key=_PRIORITY.__getitem__)
            out[-1] = PageFinding(kind, last.start, max(last.end, f.end))
            continue
        out.append(f)
    return out


def screen_blocks(blocks: Sequence[str], declared: Declared = Declared()) -> list[tuple[int, PageFinding]]:
    """Findings per block: (block index, finding with positions inside that block)."""
    out: list[tuple[int, PageFinding]] = []
    seen: dict[str, list[PageFinding]] = {}  # a finished report repeats cells and headings: screen each once
    for i, block in enumerate(blocks):
        if block not in seen:
            seen[block] = _merge(_findings_in(block, declared))
        out += [(i, f) for f in seen[block]]
    return out


def screen_page(source: str, declared: Declared = Declared(), *, markup: str = "markdown") -> list[PageFinding]:
    """Every shape in the text as a reader reads it; positions refer to ``reader_text(source, markup)``."""
    blocks = reader_blocks(source, markup)
    offsets, pos = [], 0
    for b in blocks:
        offsets.append(pos)
        pos += len(b) + 1
    return [PageFinding(f.kind, offsets[i] + f.start, offsets[i] + f.end) for i, f in screen_blocks(blocks, declared)]


def possible_name_words(source: str, declared: Declared = Declared(), *, markup: str = "markdown") -> list[str]:
    """The words behind 'possible name' findings: for the host to confirm, never logged."""
    text = reader_text(source, markup)
    words: list[str] = []
    for f in screen_page(source, declared, markup=markup):
        if f.kind in CONFIRMABLE:
            words += [w.rstrip("'’-.") for w in text[f.start:f.end].split()]
    return list(dict.fromkeys(w for w in words if w))


_WORDS_OF = re.compile(r"[^\W\d_][\w'’\-]*")


def reference_shaped(ref: str) -> bool:
    """Whether a case or audit reference cannot be taken for a name or a record number: a digit, never six in a row.

    A review's case references are declared, so each passes wherever it is printed: a reference
    that is a word ("Smith", "Zebediah") would let that word through in any quote or narrative.
    """
    return any(c.isdigit() for c in ref) and not re.search(r"\d{6,}", ref)


def declared_for(review: object) -> Declared:
    """What a workspace or snapshot declares: its team, councils, glossary, confirmed words, ids and year.

    The review team's names are published (they sign the report) and are declared; so are the
    council, the programme, the glossary in review.yaml and the words the host confirmed.
    """
    meta = review.meta  # type: ignore[attr-defined]
    tool = review.tool  # type: ignore[attr-defined]
    phrases = [meta.council, meta.programme, *(m.name for m in meta.team), *(m.council for m in meta.team),
               *(c.team for c in meta.cases if c.team),  # the council's teams, named in the introduction
               *meta.glossary, *review.confirmed_words()]  # type: ignore[attr-defined]
    ids = {c.id.casefold() for c in meta.cases if reference_shaped(c.id)} | {q.casefold() for q in tool.question_ids}
    ids |= {tool.overall.id.casefold()} | {f"qs{n}" for n in range(1, 21)}
    year = None
    for value in (meta.start, meta.report_date, meta.end):
        if value and re.match(r"\d{4}", value):
            year = int(value[:4])
            break
    return declared_phrases(phrases, ids, year, timeline=plan_dates(
        [t for r in getattr(meta, "previous_recommendations", ()) for t in (r.target, r.update)],
        year or date.today().year))


def phrase_key(text: str) -> str:
    """A phrase's words, casefolded, one space apart, without dots and apostrophes: "Dr. Gray's" -> "dr gray s"."""
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def declared_phrases(phrases: Iterable[str | None], ids: Iterable[str], year: int | None, *,
                     timeline: frozenset[str] = frozenset()) -> Declared:
    """What phrases declare: each word of them (as typed, and split at hyphens and apostrophes), and each whole."""
    typed = [p for p in phrases if p]
    words = {w.casefold() for p in typed for w in _WORDS_OF.findall(p)}
    words |= {w.casefold() for p in typed for w in p.split()}
    # A PDF reader joins a word broken at its hyphen at a line end ("Long-" + "term" -> "Longterm").
    words |= {w.replace("-", "") for w in words if "-" in w}
    return Declared(frozenset(words), frozenset(ids), year, timeline=timeline,
                    phrases=frozenset(k for k in map(phrase_key, typed) if k))


def plan_dates(texts: Iterable[str], year: int) -> frozenset[str]:
    """The timeline dates in texts from an action plan's declared date columns, as the gate compares them."""
    return frozenset(" ".join(text[s:e].split()) for text in texts if text for s, e in timeline_spans(text, year))


def shape_kinds(text: str, declared: Declared = Declared(), *, names: bool = True,
                dates: bool = False) -> list[str]:
    """The kinds of shape in a piece of typed text, read as Markdown prints it and as typed.

    ``names`` False leaves out "possible name": for text read from another council's file (a
    plan, a bundle), where the words are not this review's to declare; the text is screened
    with names when it is published. ``dates`` True: the text is a declared date column (an
    action plan's target or update), where dates on the review's timeline are read as dates
    (``reviewkit.privacy.timeline``); a date a person's words point at is still "a date of birth".
    """
    kinds: list[str] = []
    if not text or not text.strip():
        return kinds
    if person_dates(text):
        kinds.append("date_of_birth")
    if dates:
        text = mask(text, timeline_spans(text, declared.year))
    for markup in ("markdown", "plain"):
        for _, f in screen_blocks(reader_blocks(text, markup), declared):
            if (names or f.kind != "possible_name") and f.kind not in kinds:
                kinds.append(f.kind)
    return kinds


def describe_kinds(kinds: Sequence[str]) -> str:
    """'a title and a name and a postcode': what was found, never the value."""
    labels = [KINDS[k].split(" (")[0] for k in kinds]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
