"""How easy a text is to read: sentence lengths, the Flesch reading ease and the Flesch–Kincaid grade.

In: plain text (sentences ending in . ! or ?, or one per line).
Out: the words of each sentence, syllable counts, and the two Flesch figures.

Syllables are counted by a rule of thumb, as most readability tools do without a dictionary:
each run of vowels (a e i o u y) is a syllable, less a silent final "e" (but not "-le", as in
"table"), less "-es"/"-ed" endings that add no sound ("makes", "asked"), at least one per word.
It is right for most everyday words and off by one on some (e.g. "create"); the figures are a
guide to the text as a whole, not a score for one sentence.

    reading ease = 206.835 - 1.015 × (words per sentence) - 84.6 × (syllables per word)
    grade        = 0.39 × (words per sentence) + 11.8 × (syllables per word) - 15.59

A reading ease of 60 to 70 is plain English; Easy Read material sits well above 70.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Readability", "readability", "sentences", "syllables", "words"]

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n+")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_VOWELS = re.compile(r"[aeiouy]+")


def sentences(text: str) -> list[str]:
    """The sentences of a text: split after . ! ? and at line ends; empty pieces dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and _WORD.search(s)]


def words(sentence: str) -> list[str]:
    """The words of a sentence (a number counts as a word; punctuation does not)."""
    return _WORD.findall(sentence)


def syllables(word: str) -> int:
    """Syllables in one word, by the rule of thumb in the module's docstring."""
    w = word.lower().strip("'’-")
    if not w:
        return 0
    if w.isdigit():
        return max(1, len(w))  # "20" is read "twenty": about one syllable a digit
    count = len(_VOWELS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    elif re.search(r"[^aeiouy](es|ed)$", w) and not re.search(r"(ted|ded|ces|ses|zes|ges|xes|shes|ches)$", w) \
            and count > 1:
        count -= 1
    return max(1, count)


@dataclass(frozen=True)
class Readability:
    """The reading figures of a text."""

    sentence_lengths: tuple[int, ...]  # words in each sentence, in order
    words: int
    syllables: int
    reading_ease: float  # Flesch reading ease (higher is easier)
    grade: float  # Flesch–Kincaid grade (US school grade; add 5 for a reading age)

    def share_at_most(self, n: int) -> float:
        """The share (0–1) of sentences of ``n`` words or fewer."""
        if not self.sentence_lengths:
            return 1.0
        return sum(1 for x in self.sentence_lengths if x <= n) / len(self.sentence_lengths)


def readability(text: str) -> Readability:
    """The reading figures of ``text``; a text without words has none (NaN)."""
    lengths = tuple(len(words(s)) for s in sentences(text))
    all_words = [w for s in sentences(text) for w in words(s)]
    n_words, n_sentences = len(all_words), len(lengths)
    n_syllables = sum(syllables(w) for w in all_words)
    if not n_words:
        return Readability(lengths, 0, 0, float("nan"), float("nan"))
    wps, spw = n_words / n_sentences, n_syllables / n_words
    return Readability(lengths, n_words, n_syllables, 206.835 - 1.015 * wps - 84.6 * spw,
                       0.39 * wps + 11.8 * spw - 15.59)
