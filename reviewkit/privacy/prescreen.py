"""A cheap test that free text cannot hold anything ``privacy.screen`` looks for.

Most evidence notes are plain sentences: ASCII letters and punctuation, no digit, no '@', no
honorific, no listed name. Screening each with every rule costs tens of microseconds, which
dominates an import of thousands of ratings; this test costs a few, and only ever answers
"clean" when no rule could match, so every other text still goes through the full screener.

Why each rule cannot match such a text:

- every number, date, postcode, phone, address and record-number rule needs a digit, so any
  digit sends the text to the screener (cheap rules about digit counts drift out of step with
  the screener as it learns new shapes: a house number, a record system's id);
- email needs '@';
- honorific name needs an honorific word (``privacy.HONORIFIC_WORDS``) in any case;
- listed name needs the name, or one of its parts, somewhere in the text (checked here as a
  plain substring, case-folded, for every part of two or more characters, which is wider);
- letters from other scripts that look Latin ('М' in 'Мrs'), invisible and full-width
  characters: anything beyond ASCII and common typographic punctuation is screened in full.

Keep it in step with ``privacy``: a digit-free rule added there needs its reason here. The
tests run both over privacy's own examples and random text to hold them together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from reviewkit.privacy.screening import HONORIFIC_WORDS, normalise

__all__ = ["for_names", "plainly_clean"]

# An honorific word in any case, as a word of its own or followed by a full stop.
_HONORIFIC = re.compile(rf"(?<![A-Za-z])(?:{'|'.join(sorted(HONORIFIC_WORDS))})(?![A-Za-z])", re.IGNORECASE)
_DIGIT_OR_AT = re.compile(r"[\d@]")
# Typographic punctuation pasted from a word processor: no letter or digit hides in it.
_TYPOGRAPHIC = str.maketrans("", "", "\u2018\u2019\u201c\u201d\u2013\u2014\u2026")
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

    def clean(text: str) -> bool:
        if not text.isascii() and not text.translate(_TYPOGRAPHIC).isascii():
            return False
        if _DIGIT_OR_AT.search(text) or _HONORIFIC.search(text):
            return False
        if pieces:
            folded = " ".join(text.casefold().split())
            if any(p in folded for p in pieces):
                return False
        return True

    return clean
