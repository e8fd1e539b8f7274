"""A seeded corpus of personal identifiers in practice-review text, to measure the publish gate's recall.

Nothing here is tuned to the gate. Every family of issue 17 item 2 is written the ways people
write it (groupings, separators, cases, abbreviations, particles and accents), placed in the
kinds of text a review publishes (narrative, a carer's quote, a recommendation, a review
question, a review.yaml field, an action-plan cell, bundle text, a stored quote, a finished
HTML page) and passed through an encoding (Markdown escapes, emphasis, links, inline HTML and
entities, a table with the identifier split over two cells, a line break inside it, zero-width
and soft-hyphen characters, full-width forms, odd spaces, decomposed accents).

Every value is invented: NHS numbers are in the never-issued 999 range (plus the documentation
example 943 476 5919), phone numbers are Ofcom's drama ranges, people and streets are made up.

``corpus()`` returns the same items on every run (one seed); ``locate`` finds where an
identifier sits in a reader's text, whatever separators, tags or line breaks the reader form
left between its letters and digits.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

SEED = 20260517
REVIEW_YEAR = 2026

# What the corpus's contexts declare (the sample review's council, neighbours and programme),
# and the review's own references, so that only the planted identifier can be a finding.
DECLARED_WORDS = frozenset({"Eastvale", "Northmere", "Harrowdale", "Kingsbrook", "Westmarch", "Good", "Lives"})
DECLARED_IDS = frozenset({f"C{i:02d}" for i in range(1, 21)} | {f"Q{i}" for i in range(1, 10)})

# Families whose recall must be 100%; the bare names that are ordinary English words are measured.
FAMILIES = ("nhs", "phone", "dob", "record", "email", "postcode", "address", "title_name", "bare_name",
            "bare_name_word_surname", "bare_name_all_words")
MEASURED_ONLY = frozenset({"bare_name_word_surname", "bare_name_all_words"})
PERSON_FAMILIES = frozenset({"title_name", "bare_name", "bare_name_word_surname", "bare_name_all_words"})

TARGETS = {"nhs": 220, "phone": 220, "dob": 240, "record": 220, "email": 220, "postcode": 220, "address": 220,
           "title_name": 300, "bare_name": 200, "bare_name_word_surname": 120, "bare_name_all_words": 100}

# Where text is published, and how the kit reads it: narrative files are Markdown, fields and
# cells are plain text, and a finished report page is HTML.
PLACES = {
    "narrative": "markdown",
    "carer_quote": "markdown",
    "recommendation": "markdown",
    "review_question": "plain",
    "review_yaml_field": "plain",
    "action_plan_cell": "plain",
    "bundle_text": "plain",
    "stored_quote": "plain",
    "html_page": "html",
}

ENCODINGS = {
    "markdown": ("plain", "md_escape", "emphasis", "link_label", "link_target", "html_inline", "html_entity",
                 "table_split", "line_break", "zero_width", "soft_hyphen", "fullwidth", "odd_space", "nfd"),
    "plain": ("plain", "md_escape", "line_break", "zero_width", "soft_hyphen", "fullwidth", "odd_space", "nfd"),
    "html": ("plain", "html_inline", "html_entity", "link_label", "link_target", "table_split", "line_break",
             "zero_width", "soft_hyphen", "fullwidth", "odd_space", "nfd"),
}


@dataclass(frozen=True)
class Item:
    """One identifier in context: what is screened (`text`) and what a reader reads in it (`identifier`)."""

    key: str
    family: str
    variant: str
    place: str
    encoding: str
    markup: str
    identifier: str
    text: str

    @property
    def digits(self) -> str:
        """The identifier's digits when it is written with digits and no letters (else '')."""
        plain = unicodedata.normalize("NFKC", self.identifier)
        if any(c.isalpha() for c in plain):
            return ""
        digits = "".join(c for c in plain if c.isdigit())
        return digits if len(digits) >= 6 else ""


# --------------------------------------------------------------------------- reader forms

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
SOFT = "\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, ZERO_WIDTH + (SOFT, "\u180e")))
# Between two letters or digits of an identifier a reader's text may hold separators, a tag the
# renderer printed as text, or nothing; the gap is bounded so distant text is never taken, and
# never crosses a line (reader text puts one block a line, and no shape runs across two).
_GAP = r"(?:[^\w\n]|_|<[^<>\n]{0,40}>){0,12}?"


def normalise(text: str) -> str:
    """NFKC without zero-width or soft characters: the form `locate` compares."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


@cache
def _pattern(identifier: str) -> re.Pattern[str]:
    chars = [c for c in normalise(identifier) if c.isalnum()]
    return re.compile(_GAP.join(re.escape(c) for c in chars), re.IGNORECASE)


def locate(identifier: str, reader: str) -> list[tuple[int, int]]:
    """Every span of `reader` that reads as `identifier` (same letters and digits, any separators)."""
    return [m.span() for m in _pattern(identifier).finditer(reader)]


# --------------------------------------------------------------------------- values

def nhs_check_digit(nine: str) -> int | None:
    """The NHS number check digit of nine digits, or None when no valid number starts so."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    return None if check == 10 else (0 if check == 11 else check)


def nhs_valid(number: str) -> bool:
    digits = "".join(c for c in number if c.isdigit())
    return len(digits) == 10 and nhs_check_digit(digits[:9]) == int(digits[9])


def _nhs_number(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return "9434765919"  # the documentation example
    while True:
        nine = "999" + "".join(rng.choice("0123456789") for _ in range(6))
        check = nhs_check_digit(nine)
        if check is not None:
            return nine + str(check)


NHS_FORMS: dict[str, Callable[[str], str]] = {
    "3-3-4": lambda n: f"{n[:3]} {n[3:6]} {n[6:]}",
    "run": lambda n: n,
    "hyphens": lambda n: f"{n[:3]}-{n[3:6]}-{n[6:]}",
    "dots": lambda n: f"{n[:3]}.{n[3:6]}.{n[6:]}",
    "4-3-3_two_spaces": lambda n: f"{n[:4]}  {n[4:7]}  {n[7:]}",
    "4-3-3": lambda n: f"{n[:4]} {n[4:7]} {n[7:]}",
    "2-4-4": lambda n: f"{n[:2]} {n[2:6]} {n[6:]}",
    "brackets": lambda n: f"({n[:3]}) {n[3:6]} {n[6:]}",
    "slashes": lambda n: f"{n[:3]}/{n[3:6]}/{n[6:]}",
    "spaced_digits": lambda n: " ".join(n),
    "commas": lambda n: f"{n[:3]},{n[3:6]},{n[6:]}",
    "mixed_separators": lambda n: f"{n[:3]}-{n[3:6]} {n[6:]}",
    "spaced_hyphens": lambda n: f"{n[:3]} - {n[3:6]} - {n[6:]}",
    "5-5": lambda n: f"{n[:5]} {n[5:]}",
    "square_brackets": lambda n: f"[{n[:3]}] {n[3:6]} {n[6:]}",
}


def gen_nhs(rng: random.Random, variant: str) -> str:
    return NHS_FORMS[variant](_nhs_number(rng))


def _three(rng: random.Random) -> str:
    return f"{rng.randrange(1000):03d}"


PHONE_FORMS: dict[str, Callable[[random.Random], str]] = {
    "landline": lambda r: f"01632 960{_three(r)}",
    "landline_brackets": lambda r: f"(01632) 960{_three(r)}",
    "landline_slash": lambda r: f"01632/960{_three(r)}",
    "landline_hyphen": lambda r: f"01632-960{_three(r)}",
    "landline_run": lambda r: f"01632960{_three(r)}",
    "landline_3_3": lambda r: f"01632 960 {_three(r)}",
    "landline_dots": lambda r: f"01632.960.{_three(r)}",
    "landline_two_spaces": lambda r: f"01632  960{_three(r)}",
    "landline_+44": lambda r: f"+44 1632 960{_three(r)}",
    "landline_+44(0)": lambda r: f"+44 (0)1632 960{_three(r)}",
    "landline_0044": lambda r: f"0044 1632 960{_three(r)}",
    "mobile": lambda r: f"07700 900{_three(r)}",
    "mobile_run": lambda r: f"07700900{_three(r)}",
    "mobile_3_4_4": lambda r: f"077 0090 0{_three(r)}",
    "mobile_+44": lambda r: f"+44 7700 900{_three(r)}",
    "mobile_+44_run": lambda r: f"+447700900{_three(r)}",
    "mobile_hyphens": lambda r: f"07700-900-{_three(r)}",
    "mobile_spaced_digits": lambda r: " ".join(f"07700900{_three(r)}"),
    "london": lambda r: f"020 7946 0{_three(r)}",
    "london_brackets": lambda r: f"(020) 7946 0{_three(r)}",
    "london_+44": lambda r: f"+44 20 7946 0{_three(r)}",
    "london_4_3_4": lambda r: f"0207 946 0{_three(r)}",
    "city": lambda r: f"0{r.choice(['113', '114', '115', '116', '117', '121', '161', '191'])} 496 0{_three(r)}",
    "city_slash": lambda r: f"0{r.choice(['113', '121', '161'])}/496 0{_three(r)}",
}


def gen_phone(rng: random.Random, variant: str) -> str:
    return PHONE_FORMS[variant](rng)


def _birthday(rng: random.Random, two_digit: bool = False) -> dt.date:
    year = rng.randrange(1930, 2000) if two_digit else rng.randrange(1922, 2009)
    month = rng.randrange(1, 13)
    day = rng.randrange(1, calendar.monthrange(year, month)[1] + 1)
    return dt.date(year, month, day)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _mon(d: dt.date) -> str:
    return calendar.month_abbr[d.month]


def _month(d: dt.date) -> str:
    return calendar.month_name[d.month]


DOB_FORMS: dict[str, tuple[bool, Callable[[dt.date], str]]] = {
    "dd-Mon-yyyy": (False, lambda d: f"{d.day}-{_mon(d)}-{d.year}"),
    "dd/mm/yyyy": (False, lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}"),
    "d.m.yy": (True, lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}"),
    "yyyy-mm-dd": (False, lambda d: d.isoformat()),
    "ordinal_of_month_yyyy": (False, lambda d: f"{_ordinal(d.day)} of {_month(d)} {d.year}"),
    "Month_d,_yyyy": (False, lambda d: f"{_month(d)} {d.day}, {d.year}"),
    "DOB_ddmmyyyy": (False, lambda d: f"DOB {d.day:02d}{d.month:02d}{d.year}"),
    "dob_dd_mm_yyyy": (False, lambda d: f"dob {d.day:02d} {d.month:02d} {d.year}"),
    "d_Month_yyyy": (False, lambda d: f"{d.day} {_month(d)} {d.year}"),
    "ordinal_Month_yyyy": (False, lambda d: f"{_ordinal(d.day)} {_month(d)} {d.year}"),
    "d_Mon_yyyy": (False, lambda d: f"{d.day} {_mon(d)} {d.year}"),
    "Mon_d_yyyy": (False, lambda d: f"{_mon(d)} {d.day} {d.year}"),
    "dd-mm-yyyy": (False, lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}"),
    "dd.mm.yyyy": (False, lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}"),
    "d/m/yy": (True, lambda d: f"{d.day}/{d.month}/{d.year % 100:02d}"),
    "dd/mm/yy": (True, lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}"),
    "d.o.b._dd/mm/yyyy": (False, lambda d: f"d.o.b. {d.day:02d}/{d.month:02d}/{d.year}"),
    "ordinal_of_Month,_yyyy": (False, lambda d: f"{_ordinal(d.day)} of {_month(d)}, {d.year}"),
    "yyyy/mm/dd": (False, lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}"),
    "d_MON_yyyy": (False, lambda d: f"{d.day} {_mon(d).upper()} {d.year}"),
    "dd-mon-yy": (True, lambda d: f"{d.day:02d}-{_mon(d).lower()}-{d.year % 100:02d}"),
    "m/d/yyyy_us": (False, lambda d: f"{d.month}/{d.day}/{d.year}"),
    "ddmmyyyy": (False, lambda d: f"{d.day:02d}{d.month:02d}{d.year}"),
    "ddmmyy": (True, lambda d: f"{d.day:02d}{d.month:02d}{d.year % 100:02d}"),
    "weekday_d_Month_yyyy": (False, lambda d: f"{calendar.day_name[d.weekday()]} {d.day} {_month(d)} {d.year}"),
    "d_Mon_'yy": (True, lambda d: f"{d.day} {_mon(d)} '{d.year % 100:02d}"),
    "lowercase_d_month_yyyy": (False, lambda d: f"{d.day} {_month(d).lower()} {d.year}"),
}


def gen_dob(rng: random.Random, variant: str) -> str:
    two_digit, form = DOB_FORMS[variant]
    return form(_birthday(rng, two_digit))


_L = "ABCDEFGHJKLMNPRSTUWY"
RECORD_FORMS: dict[str, Callable[[random.Random], str]] = {
    "MOS-00123": lambda r: f"MOS-{r.randrange(100000):05d}",
    "LAS123456": lambda r: f"LAS{r.randrange(100000, 1000000)}",
    "Mosaic_1234": lambda r: f"Mosaic {r.randrange(1000, 10000)}",
    "ID:_AB12345": lambda r: f"ID: {r.choice(_L)}{r.choice(_L)}{r.randrange(10000, 100000)}",
    "LCS/004512": lambda r: f"LCS/{r.randrange(1000000):06d}",
    "CF-77812": lambda r: f"CF-{r.randrange(10000, 100000)}",
    "EMIS_4471928": lambda r: f"EMIS {r.randrange(1000000, 10000000)}",
    "SystmOne_ID_88213": lambda r: f"SystmOne ID {r.randrange(10000, 100000)}",
    "Liquidlogic_ref_56012": lambda r: f"Liquidlogic ref {r.randrange(10000, 100000)}",
    "Mosaic_ID_12345": lambda r: f"Mosaic ID {r.randrange(10000, 100000)}",
    "person_ID_4471": lambda r: f"person ID {r.randrange(1000, 10000)}",
    "case_no._45123": lambda r: f"case no. {r.randrange(10000, 100000)}",
    "AZ_12_34_56": lambda r: f"{r.choice(_L)}{r.choice(_L)} {r.randrange(10, 100)} {r.randrange(10, 100)} "
                             f"{r.randrange(10, 100)}",
    "rec_#004512": lambda r: f"rec #{r.randrange(1000000):06d}",
    "P1234567": lambda r: f"P{r.randrange(1000000, 10000000)}",
    "ab12345_lower": lambda r: f"{r.choice(_L).lower()}{r.choice(_L).lower()}{r.randrange(10000, 100000)}",
    "MOS_00123_space": lambda r: f"MOS {r.randrange(100000):05d}",
    "CareFirst_1234": lambda r: f"CareFirst {r.randrange(1000, 10000)}",
    "mosaic_1234_lower": lambda r: f"mosaic {r.randrange(1000, 10000)}",
    "ABC-123-456": lambda r: f"{r.choice(_L)}{r.choice(_L)}{r.choice(_L)}-{r.randrange(100, 1000)}-"
                             f"{r.randrange(100, 1000)}",
    "Rio_no._7788": lambda r: f"Rio no. {r.randrange(1000, 10000)}",
}


def gen_record(rng: random.Random, variant: str) -> str:
    while True:  # "Mosaic 2025" reads as a year as well as a record; keep the corpus unambiguous
        value = RECORD_FORMS[variant](rng)
        if not re.search(r"(?<![\d-])(?:19|20)\d\d(?![\d-])", value):
            return value


EMAIL_PEOPLE = [("jane", "doe"), ("aled", "pritchard"), ("priya", "chaudhry"), ("tom", "threlfall"),
                ("siobhan", "murphy"), ("kwame", "adeyemi"), ("morag", "mackinnon"), ("bartosz", "nowak"),
                ("eilidh", "quayle"), ("terry", "openshaw"), ("niamh", "obrien"), ("deepak", "sutcliffe")]
EMAIL_DOMAINS = [("eastvale", "gov", "uk"), ("nhs", "net"), ("northmere", "gov", "uk"), ("gmail", "com"),
                 ("hotmail", "co", "uk"), ("carers-hub", "org", "uk"), ("btinternet", "com"),
                 ("kingsbrook", "nhs", "uk"), ("example", "org")]


def _local(rng: random.Random) -> tuple[str, ...]:
    first, last = rng.choice(EMAIL_PEOPLE)
    return rng.choice([(first, last), (first[0], last), (first + last,), (f"{first}_{last}",),
                       (f"{first}-{last}{rng.randrange(10, 100)}",)])


def _email_parts(rng: random.Random) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return _local(rng), rng.choice(EMAIL_DOMAINS)


def _spelled(local: tuple[str, ...], domain: tuple[str, ...], at: str, dot: str) -> str:
    return f"{dot.join(local)}{at}{dot.join(domain)}"


EMAIL_FORMS: dict[str, Callable[[tuple[str, ...], tuple[str, ...]], str]] = {
    "plain": lambda lo, do: _spelled(lo, do, "@", "."),
    "spelled_dot_at": lambda lo, do: _spelled(lo, do, " at ", " dot "),
    "spelled_DOT_AT": lambda lo, do: _spelled(lo, do, " AT ", " DOT "),
    "(at)": lambda lo, do: f"{'.'.join(lo)} (at) {'.'.join(do)}",
    "[at][dot]": lambda lo, do: _spelled(lo, do, "[at]", "[dot]"),
    "(at)(dot)": lambda lo, do: _spelled(lo, do, "(at)", "(dot)"),
    "{at}_{dot}_spaced": lambda lo, do: _spelled(lo, do, " {at} ", " {dot} "),
    "at_with_real_dots": lambda lo, do: f"{'.'.join(lo)} at {'.'.join(do)}",
    "spaced_@": lambda lo, do: f"{'.'.join(lo)} @ {'.'.join(do)}",
    "upper": lambda lo, do: _spelled(lo, do, "@", ".").upper(),
    "mailto": lambda lo, do: "mailto:" + _spelled(lo, do, "@", "."),
    "angle_brackets": lambda lo, do: f"<{_spelled(lo, do, '@', '.')}>",
}


def gen_email(rng: random.Random, variant: str) -> str:
    local, domain = _email_parts(rng)
    return EMAIL_FORMS[variant](local, domain)


_AREAS = ["E", "N", "W", "SW", "SE", "NW", "EC", "WC", "LS", "M", "B", "BS", "CF", "EH", "G", "L", "S", "NE",
          "YO", "HU", "DN", "OX", "CB", "NR", "PL", "EX", "TR", "BN", "CT", "ME", "TN", "RH", "GU", "RG", "SO",
          "BH", "BA", "GL", "CV", "LE", "NG", "DE", "ST", "LL", "CH", "WA", "PR", "BD", "HX", "WF", "DH", "TS",
          "CA", "LA", "KW", "IV", "AB", "DD", "BT", "SA"]
_INWARD = "ABDEFGHJLNPQRSTUWXYZ"


def _postcode(rng: random.Random) -> tuple[str, str]:
    shape = rng.randrange(4)
    area = rng.choice(_AREAS)
    if shape == 0:
        outward = f"{area}{rng.randrange(1, 10)}"
    elif shape == 1:
        outward = f"{area}{rng.randrange(10, 30)}"
    elif shape == 2:  # A9A / AA9A: central London
        outward = rng.choice(["E1W", "W1A", "N1C", "N1P", "W1T", "W1D", "SW1A", "SW1P", "EC1A", "EC2M", "WC1E",
                              "WC2H", "SE1P", "NW1W"])
    else:
        outward = rng.choice(["E1", "LS1", "SW1A", "M1", "B1", "G2", "EH1", "CF10", "BS1", "L1"])
    return outward, f"{rng.randrange(10)}{rng.choice(_INWARD)}{rng.choice(_INWARD)}"


POSTCODE_FORMS: dict[str, Callable[[str, str], str]] = {
    "standard": lambda o, i: f"{o} {i}",
    "no_space": lambda o, i: f"{o}{i}",
    "two_spaces": lambda o, i: f"{o}  {i}",
    "lower": lambda o, i: f"{o} {i}".lower(),
    "lower_two_spaces": lambda o, i: f"{o}  {i}".lower(),
    "lower_no_space": lambda o, i: f"{o}{i}".lower(),
    "hyphen": lambda o, i: f"{o}-{i}",
    "mixed_case": lambda o, i: f"{o[0]}{o[1:].lower()} {i[0]}{i[1:].lower()}",
    "dot": lambda o, i: f"{o}.{i}",
    "three_spaces": lambda o, i: f"{o}   {i}",
}


def gen_postcode(rng: random.Random, variant: str) -> str:
    fixed = {"two_spaces": ("E1", "6AN"), "lower_two_spaces": ("LS1", "4AP"), "hyphen": ("SW1A", "1AA")}
    outward, inward = fixed[variant] if variant in fixed and rng.random() < 0.15 else _postcode(rng)
    return POSTCODE_FORMS[variant](outward, inward)


STREET_NAMES = ["Acacia", "Mill", "Church", "Station", "Victoria", "Albert", "Chapel", "Orchard", "Meadow",
                "Harbour", "Beech", "Willow", "Elm", "Queen's", "St Mary's", "Haworth", "Pendle", "Coronation",
                "Upper Mill", "Old Church", "Larkspur", "Fountains", "Tanner's", "Abbey", "Ravensworth"]
# (full word, abbreviations); the issue's list first, then other street words people write.
STREET_WORDS = [("Street", ["St", "St."]), ("Road", ["Rd", "Rd."]), ("Avenue", ["Av", "Ave", "Ave."]),
                ("Lane", ["Ln"]), ("Close", ["Cl"]), ("Crescent", ["Cres"]), ("Drive", ["Dr"]),
                ("Court", ["Ct"]), ("Gardens", ["Gdns"]), ("Way", []), ("Place", ["Pl"]),
                ("Terrace", ["Terr", "Tce"]), ("Grove", ["Gr"]), ("Walk", []), ("Mews", []),
                ("Square", ["Sq"]), ("Row", []), ("Hill", []), ("Rise", []), ("Parade", ["Pde"]),
                ("View", []), ("Green", [])]

ADDRESS_CASES = ("title", "lower", "upper", "abbrev_title", "abbrev_lower", "number_letter", "number_comma",
                 "flat_prefix", "no._prefix", "range")


def gen_address(rng: random.Random, variant: str) -> str:
    number = rng.randrange(1, 250)
    name = rng.choice(STREET_NAMES)
    word, abbrevs = rng.choice(STREET_WORDS)
    if variant.startswith("abbrev"):
        if not abbrevs:
            word, abbrevs = rng.choice([w for w in STREET_WORDS if w[1]])
        word = rng.choice(abbrevs)
    street = f"{name} {word}"
    text = {
        "title": f"{number} {street}",
        "lower": f"{number} {street}".lower(),
        "upper": f"{number} {street}".upper(),
        "abbrev_title": f"{number} {street}",
        "abbrev_lower": f"{number} {street}".lower(),
        "number_letter": f"{number}{rng.choice('abc')} {street}",
        "number_comma": f"{number}, {street}",
        "flat_prefix": f"Flat {rng.randrange(1, 12)}, {number} {street}",
        "no._prefix": f"No. {number} {street}",
        "range": f"{number}-{number + 2} {street}",
    }[variant]
    return text


TITLES = ["Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Miss", "Mx", "Dr", "Dr.", "Prof", "Prof.", "Professor", "Cllr",
          "Councillor", "Sir", "Dame", "Lady", "Lord", "Mister", "Father", "Fr", "Sister", "Nurse", "Rev",
          "Revd", "Reverend", "Doctor"]
TITLE_SURNAMES = ["van der Berg", "Ní Bhriain", "Ó Súilleabháin", "O'Neill", "McAllister", "ap Rhys",
                  "Gwenllïan Prys", "Zoë Jones", "de la Cruz", "D'Souza", "MacLeod", "Fitzgerald-Jones",
                  "le Fevre", "van Dijk", "du Plessis", "dos Santos", "Nic Giolla Phádraig", "Ó Briain",
                  "Siân Evans", "Bethan ap Gwyn", "Łukasz Nowak", "Müller", "Pemberton", "Smithson", "Jones",
                  "Okonkwo", "Patel", "Nguyen", "Kowalczyk", "Iqbal", "Smith", "Brown", "Green", "Wood", "Rose",
                  "Threlfall", "St John", "ffrench", "bin Rashid", "Mac an tSaoir", "Ní Dhomhnaill", "Ramsbottom",
                  "Seán Ó Ceallaigh", "Ffion ap Dafydd", "Dvořák", "Ng", "Li", "Van Der Merwe", "Oyelaran",
                  "J. Smith", "A Okonkwo", "Mary-Kate O'Brien", "Hughes-Llewellyn", "Nwachukwu"]
TITLE_CASES = ("as_written", "name_lower", "name_upper_title_lower", "all_lower", "all_upper", "title_lower")


def gen_title_name(rng: random.Random, variant: str) -> str:
    title, name = rng.choice(TITLES), rng.choice(TITLE_SURNAMES)
    return {"as_written": f"{title} {name}", "name_lower": f"{title} {name.lower()}",
            "name_upper_title_lower": f"{title.lower()} {name.upper()}", "all_lower": f"{title} {name}".lower(),
            "all_upper": f"{title} {name}".upper(), "title_lower": f"{title.lower()} {name}"}[variant]


# Invented people. "Ordinary English word" is judged by a standard dictionary's lower-case
# entries (checked against /usr/share/dict/british-english when the lists were written).
FIRST_NAMES = ["Siobhan", "Gareth", "Priya", "Olumide", "Hamish", "Eilidh", "Bronwen", "Tariq", "Agnieszka",
               "Nkechi", "Rhiannon", "Declan", "Morag", "Aled", "Kwame", "Farida", "Bartosz", "Shona", "Callum",
               "Niamh", "Ruairi", "Yusuf", "Parveen", "Deepak", "Mairead", "Lowri", "Terence", "Doreen",
               "Maureen", "Cyril", "Winifred", "Euan", "Fergus", "Ffion", "Ravinder", "Gurpreet", "Oluwaseun",
               "Chidi", "Thandiwe", "Ioan", "Caoimhe", "Dorothy", "Margaret", "Imogen", "Kieran", "Siân", "Zoë",
               "Seán", "Aoife", "Łucja"]
SURNAMES = ["Pemberton", "Smithson", "Featherstone", "Okonkwo", "Adeyemi", "Chaudhry", "Kowalczyk", "Nwachukwu",
            "Ramsbottom", "Higginbotham", "Threlfall", "Aldridge", "Pritchard", "Llewellyn", "Davies", "Evans",
            "Jones", "Taylor", "Williams", "Thomas", "Roberts", "Johnson", "Robinson", "Thompson", "Wilson",
            "Patel", "Hughes", "Edwards", "Murphy", "Sutcliffe", "Entwistle", "Greenhalgh", "Openshaw", "Quayle",
            "Fletcher", "Harris", "Clarke", "Lewis", "Jackson", "Ó Briain", "Müller", "MacLeod", "O'Connor",
            "Pemberton-Okafor"]
WORD_SURNAMES = ["Smith", "Brown", "Green", "Wood", "Rose", "White", "Black", "King", "Baker", "Cook", "Hill",
                 "Walker", "Turner", "Hunter", "Fisher", "Mason", "Bell", "Bird", "Fox", "Lamb", "Marsh", "Stone",
                 "Field", "Hall", "Young", "Long", "Sharp", "Swift", "Bishop", "Knight", "Page", "Wall", "Moss",
                 "Cross", "Khan", "Wright", "Price", "Shepherd", "Porter", "Butler", "Weaver", "Carpenter"]
WORD_FIRST_NAMES = ["Rose", "Grace", "Hope", "Faith", "Joy", "Dawn", "Holly", "Ivy", "Iris", "Amber", "Ruby",
                    "Heather", "Daisy", "Pearl", "Mark", "Bill", "Jack", "Will", "Frank", "Rob", "Sue", "Ray",
                    "Carol", "Robin", "Sandy", "Hazel", "Olive", "Violet", "Patience", "Summer", "Grant", "Drew"]
BARE_FORMS = ("first_last", "possessive", "middle_initial", "sentence_start")


def _bare(first: str, last: str, rng: random.Random, variant: str) -> str:
    if variant == "middle_initial":
        return f"{first} {rng.choice(_L)}. {last}"
    return f"{first} {last}"


def gen_bare_name(rng: random.Random, variant: str) -> str:
    return _bare(rng.choice(FIRST_NAMES), rng.choice(SURNAMES), rng, variant)


def gen_bare_name_word_surname(rng: random.Random, variant: str) -> str:
    return _bare(rng.choice(FIRST_NAMES), rng.choice(WORD_SURNAMES), rng, variant)


def gen_bare_name_all_words(rng: random.Random, variant: str) -> str:
    return _bare(rng.choice(WORD_FIRST_NAMES), rng.choice(WORD_SURNAMES), rng, variant)


GENERATORS: dict[str, tuple[tuple[str, ...], Callable[[random.Random, str], str]]] = {
    "nhs": (tuple(NHS_FORMS), gen_nhs),
    "phone": (tuple(PHONE_FORMS), gen_phone),
    "dob": (tuple(DOB_FORMS), gen_dob),
    "record": (tuple(RECORD_FORMS), gen_record),
    "email": (tuple(EMAIL_FORMS), gen_email),
    "postcode": (tuple(POSTCODE_FORMS), gen_postcode),
    "address": (ADDRESS_CASES, gen_address),
    "title_name": (TITLE_CASES, gen_title_name),
    "bare_name": (BARE_FORMS, gen_bare_name),
    "bare_name_word_surname": (BARE_FORMS, gen_bare_name_word_surname),
    "bare_name_all_words": (BARE_FORMS, gen_bare_name_all_words),
}

# --------------------------------------------------------------------------- contexts

LEAD_INS = {
    "nhs": ["NHS number ", "NHS no. ", "NHS ", "", "nhs number: ", "the number "],
    "phone": ["phone ", "tel. ", "mobile ", "", "on ", "the number "],
    "dob": ["born ", "date of birth ", "", "b. ", "born on ", "DoB: "],
    "record": ["record ", "", "ref ", "reference ", "the file "],
    "email": ["email ", "", "the address ", "e-mail: "],
    "postcode": ["postcode ", "", "living in ", "near "],
    "address": ["", "", "address: ", "the house at "],
}

# Sentences with a slot: "detail" for an identifier that is an attribute, "person" for a name.
SENTENCES = {
    "narrative": {
        "detail": ["In one record the practitioner had copied {x} into the case summary, which added nothing to "
                   "the person's story.",
                   "The reviewer noted that {x} appeared in the assessment for C07 although it was not needed "
                   "for the decision.",
                   "Staff told us that details such as {x} are often repeated across the assessment, the support "
                   "plan and the panel request.",
                   "The hospital discharge summary for C12 gave {x} and little else about what mattered to the "
                   "person.",
                   "A safeguarding referral quoted {x} but the outcome was not recorded on the file.",
                   "Where the record included {x}, the reason for sharing it was not explained (Q3)."],
        "person": ["The practitioner's conversation with {x} was warm, respectful and clearly led by what "
                   "mattered to them.",
                   "In C07 the record shows that {x} was not asked about their own network of support.",
                   "The daughter of {x} told the review team that nobody had explained the panel's decision.",
                   "{x} had been waiting eleven weeks for a carers' assessment when the review took place.",
                   "The team manager signed off the plan for {x} without recording the rationale.",
                   "A reviewer spoke with {x}, who described the occupational therapist as the first person to "
                   "really listen."],
    },
    "carer_quote": {
        "detail": ['"They asked me for {x} three times and still got it wrong on the letter," one carer told us.',
                   '"I gave them {x} and nobody rang back for a fortnight." (carer)',
                   '"Everything went through {x}, and in the end I just stopped ringing," a carer said.'],
        "person": ['"When {x} came home from hospital, the carers turned up the next morning and that made all '
                   'the difference," a carer said.',
                   '"{x} was the only one who asked what my mum actually wanted." (carer)',
                   '"I look after {x} every day and no one has ever asked how I am coping," one carer told us.'],
    },
    "recommendation": {
        "detail": ["Eastvale should remove details such as {x} from case summaries and remind practitioners why "
                   "they are not needed.",
                   "The council should check that {x} is not shared with the resource panel unless the decision "
                   "needs it.",
                   "Team managers should review the record that holds {x} and agree a plan within four weeks."],
        "person": ["Eastvale should learn from the support arranged for {x} and share it across all adult social "
                   "care teams.",
                   "The hospital team should meet {x} and their family to agree a contingency plan before the "
                   "winter.",
                   "Managers should make sure that {x} has a review within the statutory timescale."],
    },
    "review_question": {
        "detail": ["How well did the team use the information on file ({x}) when planning support?",
                   "Why was {x} repeated across the assessment and the support plan in C12?",
                   "What does the record holding {x} tell us about management oversight?"],
        "person": ["How well was {x} involved in planning their own support?",
                   "What difference did the community connectors service make for {x}?",
                   "Did the support plan for {x} reflect their strengths and networks?"],
    },
    "review_yaml_field": {
        "detail": ["the application of strengths-based practice, including how records such as {x} are kept",
                   "A revised assessment form went live in 2025; the pilot record {x} is still open.",
                   "Contingency planning with carers is not yet consistent; see {x} for the latest example."],
        "person": ["the application of strengths-based practice, as first raised by {x}",
                   "The carers' strategy was agreed in 2024 after a complaint from {x}.",
                   "A working group including {x} is designing a shorter version of the form."],
    },
    "action_plan_cell": {
        "detail": ["Update: details checked against {x}; awaiting the team manager's sign-off.",
                   "Spoke to the family on the 3rd, {x}; next review in the spring.",
                   "Action complete: {x} removed from the shared summary."],
        "person": ["Update: {x} has agreed to join the co-production group.",
                   "Owner: team manager, with {x}. Target: end of quarter.",
                   "Review with {x} booked; outcome to be reported to the quality board."],
    },
    "bundle_text": {
        "detail": ["Recommendation 2: strengthen contingency planning with carers ({x}).",
                   "Theme: strengths-based practice; records seen included {x}.",
                   "Key message: duplication in the records, for example {x}, takes practitioners' time away from "
                   "people."],
        "person": ["Recommendation 4: learn from the support arranged for {x}.",
                   "Key message: the conversation with {x} showed practice at its best.",
                   "Theme: strengths-based practice as described by {x}."],
    },
    "stored_quote": {
        "detail": ["I had to chase {x} myself because the panel would not wait.",
                   "We still write {x} on every form, it's habit more than anything.",
                   "The duty desk gave out {x} and that was the end of it."],
        "person": ["I rang {x} myself because the panel would not wait.",
                   "Honestly, {x} taught me more about strengths-based practice than the course did.",
                   "We'd never have got {x} home without the reablement team."],
    },
}
SENTENCES["html_page"] = SENTENCES["narrative"]

POSSESSIVE = ["The review found that {x}'s support plan had not been looked at for two years.",
              "Nobody had recorded {x}'s own view of the move into residential care.",
              "The practitioner built the plan around {x}'s allotment and the friends she meets there."]

FILLERS = ["The review team read twenty case records and met practitioners from every adult social care team.",
           "Practitioners described a supportive culture and managers who make time for reflective supervision.",
           "Strengths-based conversations were evident in most records, although the person's own words were "
           "not always recorded.",
           "Management oversight was not consistently visible on the records seen.",
           "Eastvale has made progress since its previous review, particularly in carers' assessments.",
           "The Good Lives framework has given teams a shared language for strengths-based practice.",
           "Several records were long and repetitive, and parts had been copied forward from earlier assessments.",
           "Staff spoke warmly of the occupational therapy and reablement teams."]

_MD_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BLOCK_START = re.compile(r"\s*(?:[-+*>#=|]|\d+[.)](?:\s|$))")


# --------------------------------------------------------------------------- encodings

def _inner_positions(s: str) -> list[int]:
    """Places between two letters or digits of `s` (where an invisible character hides best)."""
    return [i for i in range(1, len(s)) if s[i - 1].isalnum() and s[i].isalnum()]


def _split_point(ident: str, rng: random.Random, later: str, family: str) -> tuple[str, str] | None:
    """Two halves of the identifier where a writer (or an editor's wrap) would part it: at a space,
    after a separator, between a record's letters and digits, or between a postcode's halves."""
    cuts = [(ident[:i], ident[i + 1:]) for i, c in enumerate(ident) if c == " "]
    cuts += [(ident[:i], ident[i:]) for i in range(1, len(ident)) if ident[i - 1] in "-/.,:@"]
    if not cuts and family == "postcode":
        cuts = [(ident[:-3], ident[-3:])]
    if not cuts and family == "record":
        cuts = [(ident[:i], ident[i:]) for i in range(1, len(ident)) if ident[i - 1].isalpha() and ident[i].isdigit()]
    rng.shuffle(cuts)
    for left, right in cuts:
        if left.strip() and right.strip() and not _BLOCK_START.match(right + later):
            return left, right
    return None


def _emphasis(ident: str, rng: random.Random) -> str | None:
    tokens = ident.split(" ")
    marks = rng.choice(["*", "**", "~~", "***"])
    if len(tokens) > 1:
        i = rng.randrange(len(tokens))
        if not any(c.isalnum() for c in tokens[i]):
            return None
        tokens[i] = f"{marks}{tokens[i]}{marks}"
        return " ".join(tokens)
    runs = [m.span() for m in re.finditer(r"[^\W_]+", ident)]
    if len(runs) > 1:  # a run between punctuation: jane.doe@*eastvale*.gov.uk
        a, b = rng.choice(runs)
    else:  # inside a run of letters and digits: LAS*123456*
        pos = _inner_positions(ident)
        if not pos:
            return None
        a, b = rng.choice(pos), len(ident)
        if marks == "~~":
            marks = "*"
    return f"{ident[:a]}{marks}{ident[a:b]}{marks}{ident[b:]}"


def _entity(ident: str, rng: random.Random) -> str | None:
    pos = [i for i, c in enumerate(ident) if c.isalnum() and ord(c) < 128]
    if not pos:
        return None
    out = list(ident)
    for i in rng.sample(pos, min(len(pos), rng.choice([1, 1, 2]))):
        out[i] = rng.choice([f"&#{ord(out[i])};", f"&#x{ord(out[i]):x};"])
    return "".join(out)


def _html_inline(ident: str, rng: random.Random) -> str | None:
    tag = rng.choice(["b", "strong", "em", "span", "i", "mark"])
    tokens = ident.split(" ")
    if len(tokens) > 1:
        i = rng.randrange(len(tokens))
        tokens[i] = f"<{tag}>{tokens[i]}</{tag}>"
        return " ".join(tokens)
    pos = _inner_positions(ident) or [len(ident) // 2]
    a = rng.choice(pos)
    return f"<{tag}>{ident[:a]}</{tag}>{ident[a:]}"


def _insert(ident: str, rng: random.Random, chars: tuple[str, ...]) -> str | None:
    pos = _inner_positions(ident)
    if not pos:
        return None
    out = ident
    for i in sorted(rng.sample(pos, min(len(pos), rng.randrange(1, 4))), reverse=True):
        out = out[:i] + rng.choice(chars) + out[i:]
    return out


def _fullwidth(ident: str, rng: random.Random) -> str | None:
    every = rng.random() < 0.5

    def wide(c: str) -> str:
        if (c.isascii() and (c.isalnum() or c == "@")) and (every or c.isdigit() or c == "@"):
            return chr(ord(c) + 0xFEE0)
        return c

    out = "".join(wide(c) for c in ident)
    return out if out != ident else None


def _odd_space(ident: str, rng: random.Random) -> str | None:
    if " " not in ident:
        return None
    spaces = ["\u00a0", "\u202f", "\u2009", "\u2007", "\u3000", "\u2002"]
    return "".join(rng.choice(spaces) if c == " " else c for c in ident)


def _md_escape(ident: str, rng: random.Random) -> str | None:
    if not any(c in _MD_PUNCT for c in ident):
        return None
    return "".join(f"\\{c}" if c in _MD_PUNCT else c for c in ident)


def _nfd(ident: str, rng: random.Random) -> str | None:
    out = unicodedata.normalize("NFD", ident)
    return out if out != ident else None


def _link_target_url(family: str, ident: str) -> str | None:
    compact = re.sub(r"\s+", "", ident)
    if family == "email":
        return compact if compact.startswith("mailto:") else f"mailto:{compact.strip('<>')}" if "@" in compact \
            else None
    if family == "phone":
        return f"tel:{compact}"
    if family in ("nhs", "record"):
        return f"https://records.example/person/{re.sub(r'[^0-9A-Za-z-]', '', compact)}"
    return None


_INLINE: dict[str, Callable[[str, random.Random], str | None]] = {
    "md_escape": _md_escape, "emphasis": _emphasis, "html_entity": _entity, "html_inline": _html_inline,
    "zero_width": lambda s, r: _insert(s, r, ZERO_WIDTH), "soft_hyphen": lambda s, r: _insert(s, r, (SOFT,)),
    "fullwidth": _fullwidth, "odd_space": _odd_space, "nfd": _nfd,
}


def _assemble(family: str, variant: str, ident: str, place: str, encoding: str,
              rng: random.Random) -> tuple[str, str] | None:
    """(text to screen, identifier as a reader reads it), or None when the encoding cannot apply."""
    markup = PLACES[place]
    slot = "person" if family in PERSON_FAMILIES else "detail"
    sentence = rng.choice(SENTENCES[place][slot])
    lead = "" if re.match(r"(?i)d\.?o\.?b", ident) else rng.choice(LEAD_INS.get(family, [""]))
    reader_ident = ident
    if family == "email" and ident.startswith("<") and markup != "markdown":
        return None  # an autolink is Markdown; elsewhere it is a tag or literal brackets
    if variant == "possessive":
        sentence = rng.choice(POSSESSIVE)
    before, after = sentence.split("{x}")
    if markup == "markdown" and family == "email" and ident.startswith("<"):
        reader_ident = ident[1:-1]
    table = None
    if encoding == "plain":
        shown = ident
    elif encoding in _INLINE:
        shown = _INLINE[encoding](ident, rng)
        if shown is None:
            return None
    elif encoding == "link_label":
        if markup == "markdown":
            shown = f"[{ident}](#{rng.choice(['x', 'notes', 'case'])})" if rng.random() < 0.5 or " " not in ident \
                else ident.replace(" ", " [", 1) + "](#x)"
        else:
            shown = f'<a href="#x">{ident}</a>'
    elif encoding == "link_target":
        url = _link_target_url(family, ident)
        if url is None:
            return None
        label = rng.choice(["contact", "details", "here", "the record"])
        shown = f"[{label}]({url})" if markup == "markdown" else f'<a href="{url}">{label}</a>'
        lead = ""
        reader_ident = url.split(":", 1)[1] if url.startswith(("mailto:", "tel:")) else url.rsplit("/", 1)[1]
    elif encoding == "table_split":
        cut = _split_point(ident, rng, "", family)
        if cut is None:
            return None
        table = cut
        shown = ident
    elif encoding == "line_break":
        cut = _split_point(ident, rng, after, family)
        if cut is None:
            return None
        brk = {"plain": ["\n"], "markdown": ["\n", "  \n", "\\\n"], "html": ["<br>", "\n", "<br/>\n"]}[markup]
        shown = cut[0] + rng.choice(brk) + cut[1]
    else:
        raise ValueError(encoding)
    if markup == "html" and ("<" in ident or "&" in ident):
        return None
    if table is not None:
        left, right = table
        if markup == "markdown":
            text = (f"{rng.choice(FILLERS)}\n\n| Note | Detail |\n| --- | --- |\n"
                    f"| {before}{lead}{left} | {right}{after} |\n")
        elif markup == "html":
            text = (f"<p>{rng.choice(FILLERS)}</p>\n<table><thead><tr><th>Note</th><th>Detail</th></tr></thead>"
                    f"<tbody><tr><td>{before}{lead}{left}</td><td>{right}{after}</td></tr></tbody></table>")
        else:
            return None
        return text, reader_ident
    body = f"{before}{lead}{shown}{after}"
    if place == "narrative":
        fill = rng.sample(FILLERS, 2)
        text = f"{fill[0]} {body} {fill[1]}\n"
    elif place == "carer_quote":
        text = f"{rng.choice(FILLERS)}\n\n> {body}\n"
    elif place == "recommendation":
        text = f"{rng.randrange(1, 9)}. {body}\n"
    elif place == "html_page":
        text = f"<h2>Observations</h2>\n<p>{rng.choice(FILLERS)} {body}</p>\n"
    else:
        text = body
    return text, reader_ident


def _items_for(family: str, rng: random.Random) -> Iterator[Item]:
    variants, gen = GENERATORS[family]
    combos = [(place, enc) for place, markup in PLACES.items() for enc in ENCODINGS[markup]]
    dead: set[tuple[str, str]] = set()
    made = 0
    turn = 0
    while made < TARGETS[family]:
        place, encoding = combos[turn % len(combos)]
        turn += 1
        if (place, encoding) in dead:
            if len(dead) == len(combos):
                raise AssertionError(f"{family}: no encoding applies")
            continue
        for attempt in range(40):
            variant = variants[(made + attempt) % len(variants)]
            ident = gen(rng, variant)
            if variant == "sentence_start":
                built = _sentence_start(ident, place, encoding, rng)
            else:
                built = _assemble(family, variant, ident, place, encoding, rng)
            if built is not None:
                text, reader_ident = built
                yield Item(key=f"{family}/{encoding}/{place}/{variant}/{made:04d}", family=family, variant=variant,
                           place=place, encoding=encoding, markup=PLACES[place], identifier=reader_ident,
                           text=text)
                made += 1
                break
        else:
            dead.add((place, encoding))


def _sentence_start(ident: str, place: str, encoding: str, rng: random.Random) -> tuple[str, str] | None:
    """A bare name opening its sentence (where capitals prove nothing)."""
    markup = PLACES[place]
    if encoding not in ("plain", "zero_width", "soft_hyphen", "fullwidth", "odd_space", "nfd", "emphasis",
                        "html_inline", "html_entity", "md_escape"):
        return None
    shown = ident if encoding == "plain" else _INLINE[encoding](ident, rng)
    if shown is None:
        return None
    rest = rng.choice([" told us the plan had been agreed without anyone asking her.",
                       " said the reablement team were the first to really listen.",
                       " has been on the waiting list for a carers' assessment since the spring."])
    body = shown + rest
    if markup == "markdown":
        return f"{rng.choice(FILLERS)} {body}\n", ident
    if markup == "html":
        return f"<p>{rng.choice(FILLERS)} {body}</p>", ident
    return body, ident


# Every variant named in issue 17, this brief and the data-protection note, written exactly so:
# (family, encoding, as written in the source, as a reader reads it).
ISSUE_EXAMPLES: tuple[tuple[str, str, str, str], ...] = (
    ("title_name", "plain", "Mrs Ní Bhriain", "Mrs Ní Bhriain"),
    ("nhs", "md_escape", "943\\-476\\-5919", "943-476-5919"),
    ("dob", "plain", "born 14-Mar-1942", "14-Mar-1942"),
    ("address", "plain", "14 Church St", "14 Church St"),
    ("postcode", "plain", "SW1A-1AA", "SW1A-1AA"),
    ("email", "md_escape", "jane.doe\\@eastvale.gov.uk", "jane.doe@eastvale.gov.uk"),
    ("record", "plain", "record MOS-00123", "MOS-00123"),
    ("phone", "plain", "phone 0 7 7 0 0 9 0 0 1 2 3", "0 7 7 0 0 9 0 0 1 2 3"),
    ("nhs", "plain", "9434  765  919", "9434 765 919"),
    ("nhs", "plain", "(943) 476 5919", "(943) 476 5919"),
    ("title_name", "plain", "mrs SMITHSON", "mrs SMITHSON"),
    ("title_name", "plain", "Miss pemberton", "Miss pemberton"),
    ("title_name", "plain", "Ms jones", "Ms jones"),
    ("title_name", "plain", "Mister Pemberton", "Mister Pemberton"),
    ("title_name", "plain", "Lady Gwenllïan Prys", "Lady Gwenllïan Prys"),
    ("title_name", "plain", "Father O'Neill", "Father O'Neill"),
    ("title_name", "plain", "Nurse McAllister", "Nurse McAllister"),
    ("title_name", "link_label", "Mrs [Smith](#x)", "Mrs Smith"),
    ("title_name", "html_inline", "Mrs <b>Smith</b>", "Mrs Smith"),
    ("title_name", "plain", "Mr Ó Súilleabháin", "Mr Ó Súilleabháin"),
    ("dob", "plain", "DOB 14031942", "DOB 14031942"),
    ("dob", "plain", "dob 14 03 1942", "dob 14 03 1942"),
    ("postcode", "plain", "E1  6AN", "E1 6AN"),
    ("postcode", "plain", "ls1  4ap", "ls1 4ap"),
    ("address", "plain", "14 acacia avenue", "14 acacia avenue"),
    ("address", "plain", "14 Acacia Av", "14 Acacia Av"),
    ("address", "plain", "7 Mill Ln", "7 Mill Ln"),
    ("record", "plain", "Mosaic 1234", "Mosaic 1234"),
    ("record", "plain", "LAS123456", "LAS123456"),
    ("record", "plain", "ID: AB12345", "ID: AB12345"),
    ("phone", "plain", "01632/960001", "01632/960001"),
    ("email", "plain", "jane dot doe at eastvale dot gov dot uk", "jane dot doe at eastvale dot gov dot uk"),
    ("email", "plain", "jane.doe (at) eastvale.gov.uk", "jane.doe (at) eastvale.gov.uk"),
    ("email", "plain", "jane.doe[at]eastvale[dot]gov[dot]uk", "jane.doe[at]eastvale[dot]gov[dot]uk"),
    ("email", "link_target", "[contact](mailto:jane@x.org)", "jane@x.org"),
    ("title_name", "plain", "Mr van der Berg", "Mr van der Berg"),
    ("title_name", "plain", "Mrs Zoë Jones", "Mrs Zoë Jones"),
    ("title_name", "plain", "Mr ap Rhys", "Mr ap Rhys"),
    ("title_name", "plain", "Mrs Gwenllïan Prys", "Mrs Gwenllïan Prys"),
    ("title_name", "plain", "Cllr ap Rhys", "Cllr ap Rhys"),
    ("title_name", "plain", "mr VAN DER MEER", "mr VAN DER MEER"),
    ("nhs", "html_entity", "&#57;43 476 5919", "943 476 5919"),
    ("dob", "plain", "14/03/1942", "14/03/1942"),
    ("dob", "plain", "14.3.42", "14.3.42"),
    ("dob", "plain", "1942-03-14", "1942-03-14"),
    ("dob", "plain", "14th of March 1942", "14th of March 1942"),
    ("dob", "plain", "March 14, 1942", "March 14, 1942"),
    ("nhs", "plain", "999 000 0018", "999 000 0018"),
    ("bare_name", "plain", "Zebediah Quokkafeather", "Zebediah Quokkafeather"),
    ("nhs", "table_split", "943 476 | 5919", "943 476 5919"),
)


def _issue_items() -> list[Item]:
    items = []
    for n, (family, encoding, shown, reader) in enumerate(ISSUE_EXAMPLES):
        if encoding == "table_split":
            left, right = shown.split(" | ")
            text = f"The review team saw this entry.\n\n| Note | Detail |\n| --- | --- |\n| NHS {left} | {right} |\n"
        else:
            text = f"We spoke with the family about {shown} and the plan agreed at the review.\n"
        items.append(Item(key=f"{family}/{encoding}/narrative/issue_example/{n:04d}", family=family,
                          variant="issue_example", place="narrative", encoding=encoding, markup="markdown",
                          identifier=reader, text=text))
    return items


@cache
def corpus() -> tuple[Item, ...]:
    """Every item, the same on every run: the issue's own examples, then the generated families."""
    rng = random.Random(SEED)
    items: list[Item] = _issue_items()
    for family in FAMILIES:
        items.extend(_items_for(family, rng))
    return tuple(items)


def pick(n: int, *, families: tuple[str, ...] = FAMILIES, places: tuple[str, ...] | None = None,
         seed: int = SEED) -> list[Item]:
    """A seeded sample of `n` generated items with every family and every place at least once."""
    rng = random.Random(seed)
    places = tuple(PLACES) if places is None else places
    pool = [i for i in corpus() if i.family in families and i.place in places and i.variant != "issue_example"]
    chosen: list[Item] = []
    for family in families:
        chosen.append(rng.choice([i for i in pool if i.family == family]))
    for place in places:
        if not any(i.place == place for i in chosen):
            chosen.append(rng.choice([i for i in pool if i.place == place]))
    rest = [i for i in pool if i not in chosen]
    chosen.extend(rng.sample(rest, n - len(chosen)))
    return chosen
