"""The quick look that skips rules which cannot match never changes what screening finds.

``privacy._could_match`` lets a rule run only when the text holds what the rule's pattern
needs (ten digits, a letter touching a digit, a month or an honorific as a word). These tests
run the screener with and without it over every example the tests use, and over random text
built from the pieces identifiers are made of, and require the very same findings.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewkit.privacy import screening as privacy
from reviewkit.privacy.screening import _candidates, _readable, redact, screen

TESTS = Path(__file__).parent
NAMES = ["Margaret Okonkwo-Hale", "Li Wu", "Jo", "Dr Peter O'Neill", "Smith", "Ann Lee-Fox"]

PIECES = ["Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Cllr", "Councillor", "Revd", "Sir",
          "Dame", "MRS", "mr", "mrs", "dr", "prof", "cllr", "Smith", "smith", "O'Neill", "Jones", "A.", "J",
          " ", "  ", "\t", "\n", "\n\n", "-", "/", ".", ",", ":", "#", "@", "(", ")", "[", "]", "+", "+44", "0044",
          "(0)", "(0121)", "0", "07", "020", "0121", "44", "943", "476", "5919", "9434765919", "07700 900123",
          "born", "DOB", "d.o.b", "date of birth", "birthday", "January", "jan", "Sept", "sept", "march", "MAY",
          "may", "1st", "22nd", "3rd", "of", "SW1A", "1AA", "B33", "8TH", "M6", "E1W", "LS6", "2QT", "Ward",
          "vitamin", "level", "QQ", "AB", "NI", "C", "D", "s42", "12", "34", "56", "1942", "1950", "2024", "03",
          "14", "Acacia", "Avenue", "Road", "Rd", "Flat", "LAS", "Mosaic", "Care Director", "Rio", "Paris", "ID",
          "no.", "number", "ref", "reference", "record", "client", "person", "service user", "case", "file",
          "Note", "[PERSON 1]", "[POSTCODE]", "\u200b", "\u00ad", "\uff19", "\u0661", "\u0130", "\u0131",
          "\u017f", "\u212a", "\u041c", "\u0430", "é", "Ǆ", "_", "*", "~", "`", "example.org", "a.b", "q12", "£",
          "visit", "the plan", "strengths"]


def _examples() -> list[str]:
    """Every string written in the tests: the screener's positive examples above all."""
    found = []
    for path in TESTS.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 2000:
                found.append(node.value)
    return found


def _same(value: str, names: list[str]) -> None:
    text = _readable(value)
    assert _candidates(text, names) == _candidates(text, names, quick=False), repr(value)


def test_the_same_findings_for_every_example_the_tests_use() -> None:
    examples = _examples()
    assert len(examples) > 500
    for names in ([], NAMES):
        for value in examples:
            _same(value, names)
            _same(f"{value} Note 12345.", names)
            _same(f"Mosaic ID {value}", names)


def test_the_same_findings_for_random_text_built_from_identifier_pieces() -> None:
    rng = random.Random(2026)
    for _ in range(20_000):
        pieces = [rng.choice(PIECES) if rng.random() < 0.8 else str(rng.randrange(10 ** rng.randrange(1, 13)))
                  for _ in range(rng.randrange(1, 12))]
        glue = rng.choice(["", " ", " ", "-", "/", "."])
        value = glue.join(pieces)
        if rng.random() < 0.3:
            value = value.upper() if rng.random() < 0.5 else value.lower()
        _same(value, NAMES if rng.random() < 0.3 else [])


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.integers(0, 10**12).map(str),
                          st.text(alphabet="aBLS019 .-/:\u0131", max_size=6)), max_size=14).map("".join))
def test_the_same_findings_for_generated_text(value: str) -> None:
    _same(value, [])


def test_each_kind_of_rule_is_skipped_only_when_it_cannot_match() -> None:
    # one example each of the rules the quick look can skip, and the rules it names for it
    cases = {
        "Call 0121 496 0000": "ten_digits", "NHS 943 476 5919": "ten_digits", "QQ 12 34 56 C": "ni",
        "14 Acacia Avenue": "address", "LAS 1234567": "system_record", "client ID 123456": "generic_record",
        "B33 8TH": "postcode", "at LS6 today": "postcode", "01/02/1950": "numeric_date",
        "born in March 1942": "month_date", "d.o.b. 12 Mar 42": "month_date", "3 March 1950": "month_date", "we met mrs smith": "honorific",
        "Mr Jones": "honorific", "cl\u0131ent ID 123456": "generic_record", "\u0130D": "",
    }
    for value, rule in cases.items():
        found = privacy._could_match(_readable(value))
        assert (rule in found) if rule else not found, value
        if rule:
            assert screen(value) != [], value
    assert privacy._could_match("Strengths are recorded before services. Note 12345.") == frozenset()


def test_redaction_reads_through_the_same_rules() -> None:
    assert redact("Mr Jones, 14 Acacia Avenue, LAS 1234567.") == "[PERSON 1], [ADDRESS], [RECORD NUMBER]."
