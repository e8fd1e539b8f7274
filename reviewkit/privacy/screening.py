"""Offline screening and redaction of personal identifiers in free text.

Every save, import and render passes free text through ``check`` or ``redact`` (the rules are
the README's "Personal data" section). Findings carry kind, level and position in the
*normalised* text, never the value, so they can be logged and shown safely. Positions in
messages and ``describe`` are 1-based and inclusive ("characters 12-23"), as a person counts.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Iterable

from reviewkit.core.errors import BlockedTextError, TextFinding, WarningTextError
from reviewkit.core.resources import shipped

__all__ = ["as_printed", "check", "describe", "normalise", "redact", "screen"]

BLOCK, WARN = "block", "warn"

# Zero-width and invisible format characters that could hide an identifier from a regex
# (the brief's list plus the bidi marks and invisible operators).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]")

_LABELS = {
    "nhs_number": ("an", "NHS number"),
    "postcode": ("a", "postcode"),
    "phone": ("a", "phone number"),
    "email": ("an", "email address"),
    "date_of_birth": ("a", "date of birth"),
    "ni_number": ("a", "National Insurance number"),
    "honorific_name": ("a", "person's name"),
    "listed_name": ("a", "name from this review's list of names"),
    "address": ("an", "address"),
    "record_number": ("a", "social care record number"),
}
_ADVICE = {
    "postcode": "describe the place in general terms (for example 'at home')",
    "address": "describe the place in general terms (for example 'at home')",
    "record_number": "refer to the person by their case reference",
    "phone": "leave contact details in the case record, not here",
    "email": "leave contact details in the case record, not here",
}
_PERSON_ADVICE = "refer to the person by their case reference"
_PLACEHOLDERS = {
    "nhs_number": "[NHS NUMBER]", "postcode": "[POSTCODE]", "phone": "[PHONE]",
    "email": "[EMAIL]", "date_of_birth": "[DATE OF BIRTH]", "ni_number": "[NI NUMBER]",
    "address": "[ADDRESS]", "record_number": "[RECORD NUMBER]",
}
_PLACEHOLDER_RE = re.compile(
    r"\[(?:NHS NUMBER|POSTCODE|PHONE|EMAIL|DATE OF BIRTH|NI NUMBER|ADDRESS|RECORD NUMBER|PERSON \d+)\]"
)

# Latin look-alikes from other scripts (Cyrillic, Greek): 'Мrs' with a Cyrillic М reads as
# 'Mrs'. Screening reads text through this one-for-one map, so positions do not move and the
# text itself is never changed.
CONFUSABLES = _CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТУХЅІЈаеорсухѕіјԁԛԝһӏΑΒΕΖΗΙΚΜΝΟΡΤΥΧοϲν",
    "ABEKMHOPCTYXSIJaeopcyxsijdqwhlABEZHIKMNOPTYXocv",
)


# NHS number: ten digits grouped 3-3-4, each gap empty or a space/hyphen/dot (mixed allowed).
_SEP = r"(?:[ \t]*[-.\u2010-\u2014][ \t]*|[ \t]+)?"
_NHS_RE = re.compile(rf"(?<!\d)(\d{{3}}){_SEP}(\d{{3}}){_SEP}(\d{{4}})(?!\d)")
# Any other grouping of ten digits ("9434 765 919", "943/476/5919"): two to four groups with
# one kind of gap throughout. Only a valid checksum counts: these forms are too common in
# counts and references for a plain ten-digit run to warn.
_DIGIT_GROUP = re.compile(r"\d+")
_NHS_GAPS = (" ", "\t", "-", ".", "/", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014")

# Phones: 0 + ten digits (01, 02, 03, 07, 08) or +44/0044 + ten digits, at most three gaps
# (so a run of dates or counts is not read as a number); "(0121) 496 0000" too.
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[ \t]?44[ \t]?(?:\(0\)[ \t]?)?(?P<intl>[1-9](?:[ .\-]?\d){9})"
    r"|(?P<nat>\(0\d{4}\)[ \t]?\d(?:[ .\-]?\d){5}|\(0\d{3}\)[ \t]?\d(?:[ .\-]?\d){6}"
    r"|\(0\d\d\)[ \t]?\d(?:[ .\-]?\d){7}|0\d(?:[ .\-]?\d){9}))(?!\d)"
)

_EMAIL_RE = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}(?![\w\-])")

# The 124 postcode areas (incl. BT, GY, JE, IM): other letters never make a postcode.
POSTCODE_AREAS = _AREAS = (
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT "
    "DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA "
    "LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE "
    "SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV "
    "YO ZE"
).split()
_AREA_ALT = "|".join(sorted(_AREAS, key=len, reverse=True))
_POSTCODE_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:{_AREA_ALT})\d[A-Z\d]?[ \t]?\d[ABD-HJLNP-UW-Z]{{2}}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# Outward-only ("B33", "SW1A") warns only when written in capitals and standing alone. A
# one-letter area needs two more characters ("B33", "E1W"): "L3" (level 3 training), "M6",
# "E2" are too common in practice text. Never single-letter S (s42 / S42 is a Care Act
# section 42 enquiry), nor the retired London districts that only exist with a letter (SW1,
# W1, EC1-4, WC1-2: "SW1" is a staff label), nor after a label word ("Ward B33", "vitamin
# B12"). Q3, C07, q12, A1 and QS7 never match: Q, C, A and QS are not postcode areas.
_AREA2_ALT = "|".join(a for a in _AREAS if len(a) == 2)
_OUTWARD_RE = re.compile(
    rf"(?<![\w\-/.])(?:(?:{_AREA2_ALT})\d|[BEGLMNW]\d)[A-Z\d]?(?<=\w\w\w)(?![\w\-/]|\.\d)"
)
_OUTWARD_RETIRED = {"SW1", "W1", "EC1", "EC2", "EC3", "EC4", "WC1", "WC2"}
_LABEL_BEFORE = re.compile(
    r"\b(?:ward|room|bay|bed|band|grade|level|vitamin|form|pathway|step|stage|tier|"
    r"question|item|table|figure|appendix|annex|paragraph|page|section|schedule|version)\s*$",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)$")

_NI_RE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z])([A-Za-z])[ \-]?(\d\d[ \-]?\d\d[ \-]?\d\d)[ \-]?[A-Da-d](?![A-Za-z0-9])"
)
_NI_BAD_PAIRS = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "sept|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec"
)
_MONTH_NO = {m[:3]: i for i, m in enumerate(_MONTHS.split("|")[:12], start=1)}
_ORD = r"(?:st|nd|rd|th)?"
_DATE_RES = (  # (regex, order of day/month/year groups)
    (re.compile(r"(?<![\w/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/\-]|\.\d)"), "dmy"),
    (re.compile(r"(?<![\w/.\-])(\d{4})([/.\-])(\d{1,2})\2(\d{1,2})(?![\w/\-]|\.\d)"), "ymd"),
    (re.compile(rf"(?<!\w)(\d{{1,2}}){_ORD}()(?:\s+of)?\s+({_MONTHS})\.?,?\s+(\d{{4}})(?!\w)", re.I),
     "dmy"),
    (re.compile(rf"(?<!\w)({_MONTHS})()\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})(?!\w)", re.I), "mdy"),
)
# Only next to a birth cue: "d.o.b. 3 Mar 42" (a two-digit year) and "born in March 1942"
# (no day). Without one they are everyday dates ("in March 2024").
_CUED_DATE_RES = (
    (re.compile(rf"(?<!\w)(\d{{1,2}}){_ORD}()(?:\s+of)?\s+({_MONTHS})\.?,?\s+(\d{{2}})(?![\w/]|\.\d)", re.I), "dmy"),
    (re.compile(rf"(?<!\w)({_MONTHS})()\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{2}})(?![\w/]|\.\d)", re.I), "mdy"),
    (re.compile(rf"(?<![\w/])()()({_MONTHS})\.?,?\s+(\d{{4}})(?!\w)", re.I), "dmy"),
)

# A house number, one to three capitalised words and a street type: "14 Acacia Avenue".
_STREET_TYPES = (
    "Road|Street|Avenue|Lane|Close|Drive|Way|Crescent|Grove|Gardens|Place|Terrace|Court|Square|"
    "Walk|Rise|Mews|Row|Hill|Park|View|Green|Parade|Vale|Croft|Fold|Gate|Wharf|Rd|Ave|Cres|Gdns"
)
_ADDRESS_RE = re.compile(
    rf"(?<![\w£$€.,/:\-])\d{{1,3}}[A-Za-z]?,?[ \t]+(?:[A-Z][a-z'’\-]+[ \t]+){{1,3}}(?:{_STREET_TYPES})\b\.?"
)
# A case-recording system's name with a number ("Mosaic ID 123456", "LAS 1234567"): the
# systems are data (templates/privacy/record_systems.txt). Generic labels too ("client ID
# 123456"). Without a label word the number needs five digits ("Paris 2024" is a year).
_RECORD_LABEL = r"(?:[ \t]+(?:person[ \t]+|client[ \t]+)?(?P<label>id|no\.?|number|ref(?:erence)?|record))?"
_GENERIC_RECORD_RE = re.compile(
    r"(?<!\w)(?:person|client|service[ \t]user|patient|customer|case|record|file|system)[ \t]+"
    r"(?:id|no\.?|number|ref(?:erence)?)[ \t]*[:#.\-]?[ \t]*\d{4,12}(?!\d)", re.I)
RECORD_SYSTEMS_FILE = shipped("templates", "privacy", "record_systems.txt")
_BIRTH_CUE = re.compile(
    r"\bd\.?\s?o\.?\s?b\b|date\s+of\s+birth|\bbirth\s*date|\bborn\b|\bbirthday", re.I
)
# Without a birth cue, a date under 14 years old reads as an event (assessment, review), not
# a birth: adult social care starts at transition age. With a cue every date blocks.
_EVENT_AGE_YEARS = 14

# A name after a title: letters of any script (Zoë, Ó Súilleabháin), apostrophes and hyphens
# (O'Neill, Lloyd-Jones), internal capitals (McDonald), and the particles of Irish, Welsh,
# Dutch, Arabic and other names ("van der Berg", "ap Rhys", "Ní Bhriain"), so a redaction
# covers the whole name.
_NAME_WORD = r"[A-ZÀ-ÖØ-ÞĀ-ſ](?:[^\W\d_]|['’\-](?=[^\W\d_]))+"
_PARTICLE = r"(?i:van|von|der|den|de|da|di|du|del|della|la|le|ap|ab|ni|ní|nic|mac|ó|o|ua|bin|ibn|al|el|ter|ten)"
_HONORIFIC_RE = re.compile(
    r"(?<![\w])(?:Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Professor|Cllr|Councillor|Revd|Rev|Sir|Dame|"
    r"MRS|MR|MS|MISS|MX|DR|PROF|CLLR|REVD|REV)\.?[ \t]+"
    rf"(?P<name>(?:[A-Z]\.?[ \t]+)*"  # initials; "Mr A" alone is a pseudonym, not flagged
    rf"(?:{_PARTICLE}[ \t]+)*(?:{_NAME_WORD}|[A-Z][A-Z'’\-]*[A-Z])"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{_NAME_WORD}){{0,2}})"
)
HONORIFIC_WORDS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "cllr", "councillor",
                    "rev", "revd", "sir", "dame"})
# "mrs smith", "Mr jones": Mr, Mrs or Mx in any case, or dr, prof, cllr in lower case, and a
# name typed in lower case. Not "ms" or "miss" ("has ms", "did not miss"), nor "Cllr lead",
# and never a common word after the honorific.
_LOWER_NAME = r"[a-z][a-z'’\-]+"
_HONORIFIC_LOWER_RE = re.compile(
    rf"(?<![\w])(?:(?i:mrs|mr|mx)|dr|prof|cllr)\.?[ \t]+(?P<name>{_LOWER_NAME}(?:[ \t]+{_LOWER_NAME})?)"
)
_NOT_NAMES = frozenset("""
a about after again against all also always am an and any are as asked at be because been before
being but by came can could did do does done during each felt for from gave get got had has have
he her here him his how i if in into is it its just knew know last let like made may me might
more most much must my never no nor not now of on once only or other our out over own said same
saw say says see she should since so some still such than that the their them then there these
they this those though to told too took under until up us very visit visited was wanted we went
were what when where which while who whom why will with would yes yet you your today yesterday
tomorrow tonight later earlier recently first again herself himself themselves please thanks
agreed explained reported declined attended called rang phoned thought arrived left wrote stated
confirmed refused accepted needs needed lives lived uses used likes liked wants spoke speaks
""".split())


@dataclass(frozen=True)
class _Hit:
    finding: TextFinding
    person: str = ""  # casefolded key that names map to, for consistent placeholders


@lru_cache(maxsize=1)
def _record_re() -> re.Pattern[str] | None:
    """The record-number pattern built from the list of systems (read once)."""
    try:
        lines = RECORD_SYSTEMS_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    systems = sorted({ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")},
                     key=len, reverse=True)
    if not systems:
        return None
    alt = "|".join(re.escape(s).replace(r"\ ", r"[ \t]+") for s in systems)
    return re.compile(rf"(?<!\w)(?:{alt}){_RECORD_LABEL}[ \t]*[:#.\-]?[ \t]*(?P<digits>\d{{4,12}})(?!\d)", re.I)


def normalise(text: str) -> str:
    """NFKC and drop invisible characters, so '９９９' or a hidden space cannot dodge a rule."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", _INVISIBLE.sub("", text)))


_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+|\n[ \t]*\Z")
# Emphasis, code and strike-through marks print as nothing: 'Mrs *Smith*' reads "Mrs Smith".
# An underscore inside a word (an email address, a file name) is not markup.
_MARKUP = re.compile(r"[*`~]|(?<![^\W_])_|_(?![^\W_])")


def as_printed(text: str) -> str:
    """The text with its line breaks as Markdown prints them, character for character.

    Inside a paragraph a line break prints as a space (``Mrs⏎Smith`` reads "Mrs Smith"), so
    each one becomes a space; a blank line still ends the paragraph. Carriage returns and
    emphasis marks (``Mrs *Smith*``) become spaces too. The result has the same length, so
    positions found in it hold for ``text``.
    """
    text = text.replace("\r", " ")
    if "*" in text or "_" in text or "`" in text or "~" in text:
        text = _MARKUP.sub(" ", text)
    if "\n" not in text:
        return text
    out, pos = [], 0
    for m in _PARAGRAPH_BREAK.finditer(text):
        out += [text[pos:m.start()].replace("\n", " "), m.group()]
        pos = m.end()
    out.append(text[pos:].replace("\n", " "))
    return "".join(out)


def _nhs_checksum_ok(digits: str) -> bool:
    """Modulus 11 check of the NHS number: weights 10..2, 11 -> 0, 10 is never issued."""
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _date_level(text: str, start: int, end: int, y: int, m: int, d: int) -> str | None:
    """Block a date next to a birth cue; warn on an older plain date; ignore recent ones."""
    if not 1900 <= y <= 2099:  # "27 November, 0044 20 7946 0958" is a phone, not a year
        return None
    try:
        date(y, m, d)
    except ValueError:
        try:
            date(y, d, m)  # US order, "04/23/1941"
        except ValueError:
            return None
    if _BIRTH_CUE.search(text[max(0, start - 40):start]) or _BIRTH_CUE.search(text[end:end + 12]):
        return BLOCK
    return WARN if y <= date.today().year - _EVENT_AGE_YEARS else None


def _names_table(names: Iterable[str]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One regex for the listed names and their parts, and each variant's person key."""
    return _names_table_cached(tuple(names))


@lru_cache(maxsize=16)
def _names_table_cached(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    owners: dict[str, set[str]] = {}  # casefolded variant -> the full names it belongs to
    spelled: dict[str, str] = {}  # casefolded variant -> as listed, for the regex
    for raw in names:
        words = [w for w in _readable(raw).split() if w.casefold().rstrip(".") not in HONORIFIC_WORDS]
        if not words:
            continue
        full = " ".join(words)
        parts = [p for w in words for p in {w, *re.split(r"[-'’]", w)} if len(p) >= 3]
        for variant in [full, *parts]:
            owners.setdefault(variant.casefold(), set()).add(full.casefold())
            spelled.setdefault(variant.casefold(), variant)
    if not owners:
        return None, {}
    # a part two listed people share (a surname) is its own person: it cannot be told apart
    keys = {v: (next(iter(o)) if len(o) == 1 else v) for v, o in owners.items()}
    alts = sorted(spelled.values(), key=len, reverse=True)
    pattern = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in alts)
    return re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE), keys


# -- which rules could match ------------------------------------------------------------------
# Running every rule over every text costs tens of microseconds; most rules need something a
# quick look rules out (ten digits, a letter touching a digit, a month or an honorific as a
# word), so ``_could_match`` names the rules that could match and only those run. Each test
# there is a necessary condition read off the rule's own pattern, never a rule of its own:
# what it lets through is screened by the rules above, unchanged. tests/test_privacy_quick.py
# holds the two in step (the same findings with and without it). A new rule runs on every
# text until it is given a name here and the reason it cannot match without it.
_LETTERS = re.compile(r"[^\W\d_]+")
# ASCII text's words by a byte table: letters lower-cased, everything else a space.
_ASCII_WORDS = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))
# The only characters outside ASCII that a case-insensitive rule reads as an ASCII letter.
_ASCII_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_MONTH_WORDS = frozenset(_MONTHS.split("|"))
_GENERIC_WORDS = frozenset({"person", "client", "service", "patient", "customer", "case", "record", "file",
                            "system"})
_GENERIC_LABELS = frozenset({"id", "no", "number", "ref", "reference"})
_ADDRESS_AFTER = re.compile(r"[A-Za-z]?,?[ \t]+[A-Z]")  # what follows the house number
_DIGIT_RUN = re.compile(r"\d\d*")  # as \d+, but the engine skips to the first digit
ALL_RULES = frozenset({"ten_digits", "ni", "address", "system_record", "generic_record", "postcode", "numeric_date",
                       "month_date", "honorific"})


@lru_cache(maxsize=1)
def _system_words() -> frozenset[str] | None:
    """A word each record system's name holds (lower case), or None when one cannot be told by its words."""
    record_re = _record_re()
    if record_re is None:
        return frozenset()
    words = set()
    for line in RECORD_SYSTEMS_FILE.read_text(encoding="utf-8").splitlines():
        name = line.strip()
        if not name or line.lstrip().startswith("#"):
            continue
        runs = _LETTERS.findall(name.lower())
        if not name.isascii() or not runs or name[-1].isdigit():
            return None  # read with every text instead
        words.add(max(runs, key=len))
    return frozenset(words)


def _words(text: str) -> set[str]:
    """The text's words (runs of letters), lower-cased, as a case-insensitive rule reads them."""
    if text.isascii():
        return set(text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split())
    return set(_LETTERS.findall(text.translate(_ASCII_FOLD).lower()))


def _could_match(text: str) -> set[str] | frozenset[str]:
    """The rules that could find something in the (readable) text; the others cannot match."""
    total = 0
    short = year = letter_digit = numeric_date = address = record = False
    size = len(text)
    for m in _DIGIT_RUN.finditer(text):
        start, end = m.span()
        n = end - start
        total += n
        if n <= 2:
            short = True
        elif n == 4:
            year = True
        if 4 <= n <= 12:
            record = True
        if n <= 3 and not address and _ADDRESS_AFTER.match(text, end):
            address = True
        if start and text[start - 1].isalpha():
            letter_digit = True
        if end + 1 < size and text[end] in "/.-" and text[end + 1].isdigit():
            numeric_date = True
    words = _words(text)
    rules = set()
    if total >= 10:  # an NHS number or phone number: ten digits or more
        rules.add("ten_digits")
    if total >= 6:
        rules.add("ni")
    if address:
        rules.add("address")
    if record:  # a record number: four to twelve digits after a system's name or a label
        systems = _system_words()
        if systems is None or not words.isdisjoint(systems):
            rules.add("system_record")
        if not words.isdisjoint(_GENERIC_WORDS) and not words.isdisjoint(_GENERIC_LABELS):
            rules.add("generic_record")
    if letter_digit:  # a postcode's area letters touch its first digit
        rules.add("postcode")
    if numeric_date:
        rules.add("numeric_date")
    if (short or year) and not words.isdisjoint(_MONTH_WORDS):
        rules.add("month_date")
    if not words.isdisjoint(HONORIFIC_WORDS):
        rules.add("honorific")
    return rules


def _candidates(text: str, names: Iterable[str], quick: bool = True) -> list[_Hit]:
    """Every possible identifier, overlapping ones included (``quick``: only the rules that could match)."""
    hits: list[_Hit] = []

    def add(kind: str, level: str, start: int, end: int, person: str = "") -> None:
        hits.append(_Hit(TextFinding(kind, level, start, end), person))

    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            add("email", BLOCK, *m.span())
    rules = _could_match(text) if quick else ALL_RULES
    names_re, keys = _names_table(names)
    if not rules and names_re is None:  # most evidence notes
        return hits
    if "ten_digits" in rules:
        for m in _NHS_RE.finditer(text):
            add("nhs_number", BLOCK if _nhs_checksum_ok("".join(m.groups())) else WARN, *m.span())
        for start, end, digits in _ten_digit_groups(text):
            if _nhs_checksum_ok(digits):
                add("nhs_number", BLOCK, start, end)
    if "address" in rules:
        for m in _ADDRESS_RE.finditer(text):
            add("address", BLOCK, *m.span())
    if "system_record" in rules:
        record_re = _record_re()
        for m in record_re.finditer(text) if record_re is not None else ():
            if m["label"] or len(m["digits"]) >= 5:
                add("record_number", BLOCK, *m.span())
    if "generic_record" in rules:
        for m in _GENERIC_RECORD_RE.finditer(text):
            add("record_number", BLOCK, *m.span())
    if "ten_digits" in rules:
        for m in _PHONE_RE.finditer(text):
            national = m["intl"] or m["nat"]
            digits = re.sub(r"\D", "", national)
            digits = "0" + digits if m["intl"] else digits
            gaps = len(re.findall(r"[ .\-]+", national.lstrip("(").replace(")", " ")))
            if len(digits) == 11 and digits[1] in "12378" and gaps <= 3:
                add("phone", BLOCK, *m.span())
    if "postcode" in rules:
        for m in _POSTCODE_RE.finditer(text):
            inward = m.group()[-3:]
            if _ORDINAL.match(inward) and inward[1:].islower() and not m.group().islower():
                continue  # "Ward B3 3rd floor": an ordinal, not an inward code
            add("postcode", BLOCK, *m.span())
        for m in _OUTWARD_RE.finditer(text):
            label_before = _LABEL_BEFORE.search(text[max(0, m.start() - 12):m.start()])
            if m.group() not in _OUTWARD_RETIRED and not label_before:
                add("postcode", WARN, *m.span())
    if "ni" in rules:
        for m in _NI_RE.finditer(text):
            pair = (m[1] + m[2]).upper()
            allowed = pair[0] not in "DFIQUV" and pair[1] not in "DFIOQUV" and pair not in _NI_BAD_PAIRS
            if allowed or pair == "QQ":  # QQ: HMRC's specimen prefix, used in examples and tests
                add("ni_number", BLOCK, *m.span())
    numeric, month = "numeric_date" in rules, "month_date" in rules
    for regex, order in (_DATE_RES[:2] if numeric else ()) + (_DATE_RES[2:] if month else ()):
        for m in regex.finditer(text):
            parts = dict(zip(order, (m[1], m[3], m[4])))
            month_typed = parts["m"]
            mo = int(month_typed) if month_typed.isdigit() else _MONTH_NO[month_typed[:3].lower()]
            y = int(parts["y"])
            if len(parts["y"]) == 2:
                y += 2000 if 2000 + y <= date.today().year else 1900
            level = _date_level(text, m.start(), m.end(), y, mo, int(parts["d"]))
            if level:
                add("date_of_birth", level, *m.span())
    for regex, order in _CUED_DATE_RES if month else ():
        for m in regex.finditer(text):
            if not _BIRTH_CUE.search(text[max(0, m.start() - 24):m.start()]):
                continue
            parts = dict(zip(order, (m[1], m[3], m[4])))
            y = int(parts["y"])
            if len(parts["y"]) == 2:
                y += 2000 if 2000 + y <= date.today().year else 1900
            if _date_level(text, m.start(), m.end(), y, _MONTH_NO[parts["m"][:3].lower()],
                           int(parts["d"] or 1)):
                add("date_of_birth", BLOCK, *m.span())
    for m in _HONORIFIC_RE.finditer(text) if "honorific" in rules else ():
        name = " ".join(m["name"].split()).casefold()
        last = re.split(r"[\s\-'’]+", name)[-1]
        add("honorific_name", BLOCK, *m.span(), person=keys.get(name) or keys.get(last) or name)
    for m in _HONORIFIC_LOWER_RE.finditer(text) if "honorific" in rules else ():
        words = m["name"].split()
        if words[0] in _NOT_NAMES:
            continue
        if len(words) == 2 and words[1] in _NOT_NAMES:
            words = words[:1]
        end = m.start("name") + len(words[0]) if len(words) == 1 else m.end()
        name = " ".join(words).casefold()
        add("honorific_name", BLOCK, m.start(), end, person=keys.get(name) or keys.get(words[-1]) or name)
    if names_re is not None:
        for m in names_re.finditer(text):
            key = " ".join(m.group().split()).casefold()
            add("listed_name", BLOCK, *m.span(), person=keys.get(key, key))
    return hits


def _resolve(text: str, hits: list[_Hit]) -> list[_Hit]:
    """Keep the longest finding where one holds another; join partial overlaps; skip placeholders."""
    if not hits:
        return hits
    # One sort and one sweep, so a cell of thousands of postcodes stays linear (n log n).
    spans = [m.span() for m in _PLACEHOLDER_RE.finditer(text)] if "[" in text else []
    starts, ends = [s for s, _ in spans], [e for _, e in spans]

    def on_placeholder(f: TextFinding) -> bool:  # placeholders never overlap: check the last one before f.end
        i = bisect.bisect_left(starts, f.end) - 1
        return i >= 0 and ends[i] > f.start

    # Widest first among those starting together, a blocking finding before a warning on the same
    # span: a hit inside any earlier one in this order (whose end reaches as far) is dropped.
    order = sorted(range(len(hits)), key=lambda i: (hits[i].finding.start, -hits[i].finding.end,
                                                    hits[i].finding.level != BLOCK, i))
    kept: list[_Hit] = []
    reach = -1
    for i in order:
        f = hits[i].finding
        if on_placeholder(f):
            continue
        if f.end <= reach:
            continue
        kept.append(hits[i])
        reach = f.end
    merged: list[_Hit] = []
    for hit in kept:  # "27 November 1982-08-22": two dates sharing text become one finding
        if merged and hit.finding.start < merged[-1].finding.end:
            a, b = merged[-1], hit
            main = a if a.finding.end - a.finding.start >= b.finding.end - b.finding.start else b
            level = BLOCK if BLOCK in (a.finding.level, b.finding.level) else WARN
            span = (a.finding.start, max(a.finding.end, b.finding.end))
            merged[-1] = _Hit(TextFinding(main.finding.kind, level, *span), main.person)
        else:
            merged.append(hit)
    return merged


def _ten_digit_groups(text: str) -> Iterable[tuple[int, int, str]]:
    """Runs of two to four digit groups with one kind of gap and ten digits in all."""
    groups = [m.span() for m in _DIGIT_GROUP.finditer(text)]
    for i, (start, _) in enumerate(groups):
        if start and (text[start - 1].isalnum() or text[start - 1] in "/.-"):
            continue
        digits, gap = 0, None
        for j in range(i, min(i + 4, len(groups))):
            if j > i:
                between = text[groups[j - 1][1]:groups[j][0]]
                if len(between) != 1 or between not in _NHS_GAPS or (gap is not None and between != gap):
                    break
                gap = between
            digits += groups[j][1] - groups[j][0]
            if digits >= 10:
                end = groups[j][1]
                if digits == 10 and j > i and not (end < len(text) and (text[end].isalnum() or (
                        text[end] in "/.-" and end + 1 < len(text) and text[end + 1].isdigit()))):
                    yield start, end, re.sub(r"\D", "", text[start:end])
                break


def _readable(text: str) -> str:
    """What screening reads: normalised, look-alike letters folded, line breaks as printed."""
    if text.isascii():  # NFKC, the invisible characters and the look-alikes are all outside ASCII
        return as_printed(text)
    return as_printed(normalise(text)).translate(_CONFUSABLES)


def screen(text: str, names: Iterable[str] = ()) -> list[TextFinding]:
    """Find possible identifiers in the text as it will be printed; positions refer to ``normalise(text)``.

    The one screening function: storing, ``check`` and the report's gate all come here, so
    they cannot disagree about an identifier split over two lines.
    """
    norm = _readable(text)
    return [h.finding for h in _resolve(norm, _candidates(norm, names))]


def _where(findings: Iterable[TextFinding], article: bool) -> str:
    """'an NHS number (characters 12-23) and a postcode (characters 40-47)' without values."""
    items = [
        f"{_LABELS[f.kind][0] + ' ' if article else ''}{_LABELS[f.kind][1]}"
        f"{f' (characters {f.start + 1}-{f.end})' if article else f' at {f.start + 1}-{f.end}'}"
        for f in findings
    ]
    if not article:
        return "; ".join(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe(findings: Iterable[TextFinding]) -> str:
    """Say what was found where (1-based, inclusive), never the value: safe for logs and audits."""
    return _where(findings, article=False)


def check(
    text: str, names: Iterable[str] = (), *, confirm_warnings: bool = False, field: str = "text"
) -> list[TextFinding]:
    """Refuse text holding an identifier, and text that may hold one unless confirmed."""
    findings = screen(text, names)
    if not findings:
        return findings
    blocked = [f for f in findings if f.level == BLOCK]
    if blocked:
        advice = list(dict.fromkeys(_ADVICE.get(f.kind, _PERSON_ADVICE) for f in blocked))
        raise BlockedTextError(
            f"The {field} contains what looks like {_where(blocked, article=True)}. "
            f"Remove {'it' if len(blocked) == 1 else 'them'} and {' and '.join(advice)}.",
            tuple(findings),
        )
    warned = [f for f in findings if f.level == WARN]
    if warned and not confirm_warnings:
        raise WarningTextError(
            f"The {field} may contain {_where(warned, article=True)}. Check "
            f"{'it' if len(warned) == 1 else 'them'}: remove anything that could identify a "
            "person, or confirm to save the text as it is.",
            tuple(findings),
        )
    return findings


def redact(text: str, names: Iterable[str] = (), mapping: dict[str, str] | None = None) -> str:
    """Replace identifiers with typed placeholders, the same [PERSON n] for the same person.

    Pass one ``mapping`` (casefolded name -> placeholder) across a whole review. The result is
    normalised text; redacting it again changes nothing.
    """
    names = list(names)
    mapping = {} if mapping is None else mapping
    out = normalise(text)
    for _ in range(4):  # a replacement can, rarely, expose a new match; settle to a fixed point
        printed = as_printed(out).translate(_CONFUSABLES)
        hits = _resolve(printed, _candidates(printed, names))
        if not hits:
            break
        pieces, pos = [], 0
        for hit in hits:
            f = hit.finding
            if hit.person:
                if hit.person not in mapping:
                    mapping[hit.person] = f"[PERSON {len(set(mapping.values())) + 1}]"
                label = mapping[hit.person]
            else:
                label = _PLACEHOLDERS[f.kind]
            pieces += [out[pos:f.start], label]
            pos = f.end
        out = "".join(pieces) + out[pos:]
    return out
