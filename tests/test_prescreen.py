"""The pre-filter only ever clears text the full screener would also find nothing in."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewkit.intake.sample import SAMPLE_DIR
from reviewkit.privacy.prescreen import plainly_clean
from reviewkit.privacy.screening import screen

TESTS = Path(__file__).parent
NAMES = ["Margaret Okonkwo-Hale", "Li Wu", "Jo", "Dr Peter O'Neill", "Smith", "Ann Lee-Fox"]

FRAGMENTS = ["Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "MR", "DR", "mr", " ", "  ", "\t", "\n", "-", "/", ".", ",",
             "@", "(", ")", "+44", "0044", "(0)", "0", "07", "020", "born", "DOB", "d.o.b", "date of birth",
             "January", "jan", "Sept", "1st", "22nd", "of", "SW1A", "B33", "8TH", "M6", "E1W", "QQ", "AB", "C",
             "s42", "ward", "Smith", "smiths", "WU", "li", "O'Neill", "Okonkwo", "Hale", "Peter", "jo", "Lee",
             "fox", "ANN", "[PERSON 1]", "[POSTCODE]", "\u200b", "\uff19", "\u00ad", "é", "Ǆ", "example.org", "note", "q12"]
text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.integers(0, 10**12).map(str),
                          st.text(alphabet="abcXYZ019 .-/", max_size=6)), max_size=14).map("".join)


def _agree(value: str, names: list[str]) -> None:
    if plainly_clean(value, names):
        assert screen(value, names) == [], repr(value)


@settings(max_examples=3000, deadline=None)
@given(text, st.lists(st.sampled_from(NAMES), max_size=3))
def test_cleared_text_has_no_findings(value: str, names: list[str]) -> None:
    _agree(value, names)


def _privacy_examples() -> list[str]:
    """Every string written in the screener's own tests: its positive examples above all."""
    found = []
    for path in TESTS.glob("test_*.py"):
        if path.name == "test_prescreen.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 2000:
                found.append(node.value)
    return found


def test_cleared_text_has_no_findings_in_every_example_the_tests_use() -> None:
    examples = _privacy_examples()
    assert len(examples) > 500
    for names in ([], NAMES):
        for value in examples:
            _agree(value, names)
            _agree(f"{value} Note 12.", names)


def test_the_sample_reviews_plain_evidence_notes_skip_the_full_screener() -> None:
    names = [ln.strip() for ln in (SAMPLE_DIR / "private" / "names.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    comments = []
    for f in sorted((SAMPLE_DIR / "ratings").glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            comments += [row["comment"] for row in csv.DictReader(fh) if row["comment"]]
    for value in comments:
        _agree(value, names)
    cleared = sum(plainly_clean(c, names) for c in comments)
    assert cleared > len(comments) / 2


def test_what_is_never_cleared() -> None:
    for value in ("Mr Smith said", "see Dr. Jones", "a@b.example", "B33 8TH", "SW1A", "QQ 12 34 56 C",
                  "943 476 5919", "07700 900123", "01/02/1950", "3 March 1950", "Margaret was there",
                  "Note 123456", "seen twice: 12 and 13", "14 Acacia Avenue", "LAS 1234567", "born in March 1942",
                  "we met mrs smith", "\u041crs Smith", "Prof Jones", "cllr jones", "Note 12.", "Mrs\u00a0Smith"):
        assert not plainly_clean(value, NAMES), value
    assert plainly_clean("Strengths and networks are recorded before services.", NAMES)
    assert plainly_clean("The person\u2019s own words \u2014 \u201cI want to stay home\u201d \u2014 lead the plan.", NAMES)
