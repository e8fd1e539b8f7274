"""A cheap test that free text cannot hold anything ``privacy.screen`` looks for.

Most evidence notes are plain sentences: no '@', no honorific, no listed name, at most one
short number. Screening each with every rule costs tens of microseconds, which dominates an
import of thousands of ratings; this test costs a few, and only ever answers "clean" when no
rule could match, so every other text still goes through the full screener.

Why each rule cannot match such a text (in ``privacy.normalise``'d text):

- email: needs '@';
- honorific name: needs Mr, Mrs, Ms, Miss, Mx or Dr (any capitals) at the start of a word;
- listed name: needs the name, or one of its parts, somewhere in the text (checked here as a
  plain substring, case-folded, for every part of two or more characters, which is wider);
- postcode, full or outward only: a letter right before a digit ("B33", "SW1A 1AA");
- NHS number (10 digits), phone (11 or more), National Insurance number (6 digits) and
  dates (two or more groups of digits): a single run of digits, of at most 9 and not 6, as
  in "note 12", "2026" or "12345", matches none of them.

Keep it in step with ``privacy``: a rule added there needs its reason here. The tests run
both over privacy's own examples and random text to hold them together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from .privacy import normalise

__all__ = ["for_names", "plainly_clean"]

# An honorific at the start of a word; looked for only when one of the hints is in the text.
_HONORIFIC = re.compile(r"(?<!\w)(?:M[rsxiRSXI]|D[rR])")
_HONORIFIC_HINTS = ("Mr", "Ms", "Mx", "Mi", "MR", "MS", "MX", "MI", "Dr", "DR")
_DIGITS = re.compile(r"\d+")
_WORD_PARTS = re.compile(r"[\s\-'’.,]+")


@lru_cache(maxsize=16)
def _name_pieces(names: tuple[str, ...]) -> tuple[str, ...]:
    """Every listed name (spaces collapsed) and each of its parts of 2+ characters, case-folded."""
    pieces: set[str] = set()
    for raw in names:
        folded = " ".join(normalise(raw).casefold().split())
        if folded:
            pieces.add(folded)
        pieces.update(p for p in _WORD_PARTS.split(folded) if len(p) >= 2)
    return tuple(sorted(pieces, key=len))


def plainly_clean(text: str, names: Iterable[str] = ()) -> bool:
    """True only when no screening rule can find anything in ``text``; False means "screen it"."""
    return for_names(tuple(names))(text)


@lru_cache(maxsize=16)
def for_names(names: tuple[str, ...]) -> Callable[[str], bool]:
    """``plainly_clean`` with the names list made ready once, for a store that screens many texts."""
    pieces = _name_pieces(names)
    digits = _DIGITS.search

    def clean(text: str) -> bool:
        norm = text if text.isascii() else normalise(text)
        if "@" in norm:
            return False
        if any(h in norm for h in _HONORIFIC_HINTS) and _HONORIFIC.search(norm):
            return False
        run = digits(norm)
        if run is not None:
            start, end = run.span()
            if end - start > 9 or end - start == 6 or digits(norm, end) is not None:
                return False  # long enough for a number, or two runs: a date's shape
            if start and norm[start - 1].isalpha():
                return False  # a letter right before a digit: a postcode's shape
        if pieces:
            folded = " ".join(norm.casefold().split())
            if any(p in folded for p in pieces):
                return False
        return True

    return clean
