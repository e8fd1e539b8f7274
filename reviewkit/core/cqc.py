"""The CQC's local authority assessment framework as data: four themes, nine quality statements.

Audit tools and codebooks map their questions and codes to statements (``cqc: [..]`` in their
YAML, checked here when they load); ``reviewkit.figures.cqc`` gathers the evidence a review
holds per statement. Nothing here scores a statement: a peer review is not a CQC assessment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = ["NOT_AN_ASSESSMENT", "QualityStatement", "STATEMENTS", "THEMES", "fold", "parse_statement", "parse_theme",
           "quality_statements_stub", "statement_numbers"]

NOT_AN_ASSESSMENT = (
    "A peer review is not a CQC assessment. This section sets the evidence the review gathered "
    "beside the CQC's quality statements so that the council can use it; it gives no score and "
    "makes no judgement on the CQC's scale.")
STANCES = ("strength", "concern", "mixed", "unspecified")


@dataclass(frozen=True)
class QualityStatement:
    """One of the nine quality statements: its number, theme and canonical label (with aliases)."""

    number: int
    theme: str
    label: str
    aliases: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        return f"qs-{self.number}"


THEMES: dict[str, tuple[str, ...]] = {  # canonical theme label → other names in CQC's pages
    "Working with people": ("How the local authority works with people",),
    "Providing support": ("How the local authority provides support",),
    "Ensuring safety": ("How the local authority ensures safety within the system", "Ensuring safety within the system"),
    "Leadership": (),
}
STATEMENTS: tuple[QualityStatement, ...] = (
    QualityStatement(1, "Working with people", "Assessing needs"),
    QualityStatement(2, "Working with people", "Supporting people to live healthier lives"),
    QualityStatement(3, "Working with people", "Equity in experience and outcomes"),
    QualityStatement(4, "Providing support", "Care provision, integration and continuity",
                     ("Care provision, integration and continuity of care",)),
    QualityStatement(5, "Providing support", "Partnerships and communities"),
    QualityStatement(6, "Ensuring safety", "Safe systems, pathways and transitions",
                     ("Safe pathways, systems and transitions",)),
    QualityStatement(7, "Ensuring safety", "Safeguarding"),
    QualityStatement(8, "Leadership", "Governance, management and sustainability"),
    QualityStatement(9, "Leadership", "Learning, improvement and innovation"),
)
_BY_NUMBER = {s.number: s for s in STATEMENTS}


def fold(text: str) -> str:
    """A heading or label as compared: NFKC, case-folded, '&' as 'and', markup and hyphens gone."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'").replace("&", "and")
    text = re.sub(r"(?<=\w)[-\u2010\u2011](?=\w)", "", text)
    return " ".join(re.sub(r"[*_`:.]", " ", text).split())


_NUMBERED = re.compile(r"^(quality\s+statement\s*|qs\s*)?(\d)\b[\s.):–—-]*(.*)$", re.IGNORECASE)


def parse_statement(value: str) -> QualityStatement | None:
    """The statement a heading or cell names: 'QS7', '7. Safeguarding', a label or an alias.

    A bare number counts only with the statement's label after it ("3 things to say" is not QS3).
    """
    text = value.strip().strip("*_ ")
    m = _NUMBERED.match(text)
    if m and int(m.group(2)) in _BY_NUMBER:
        found = _BY_NUMBER[int(m.group(2))]
        rest = fold(m.group(3))
        if m.group(1) or not rest or rest in {fold(n) for n in (found.label, *found.aliases)}:
            return found
        return None
    folded = fold(text)
    for s in STATEMENTS:
        if folded in {fold(n) for n in (s.label, *s.aliases)}:
            return s
    return None


def statement_numbers(value: Any, where: str, error: type[Exception]) -> tuple[int, ...]:
    """A YAML 'cqc' list as statement numbers: 1 to 9, or labels and aliases ('Safeguarding').

    Used by the audit tool and codebook loaders, so that a mapping written either way is checked
    against the framework when the file is loaded.
    """
    help_ = "'cqc' must list CQC quality statement numbers 1 to 9 (or their labels, such as 'Safeguarding')"
    if not isinstance(value, list):
        raise error(f"{where}: {help_}")
    out: list[int] = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool) and item in _BY_NUMBER:
            number = item
        elif isinstance(item, str) and parse_statement(item) is not None:
            number = parse_statement(item).number  # type: ignore[union-attr]
        else:
            raise error(f"{where}: {help_}")
        if number in out:
            raise error(f"{where}: 'cqc' lists quality statement {number} twice")
        out.append(number)
    return tuple(out)


def parse_theme(value: str) -> str | None:
    """The canonical theme a heading names ('Theme 3: How the local authority ensures safety…')."""
    folded = fold(re.sub(r"^\s*theme\s*\d\s*[:.–—-]?\s*", "", value, flags=re.IGNORECASE))
    for theme, aliases in THEMES.items():
        if folded in {fold(n) for n in (theme, *aliases)}:
            return theme
    return None


def quality_statements_stub() -> str:
    """A new quality_statements.md: how to write the team's view per statement, all in a comment."""
    listing = "\n".join(f"  {s.number}. {s.label} ({s.theme})" for s in STATEMENTS)
    return ("<!-- Strengths and areas for consideration by CQC quality statement.\n"
            "For each quality statement, write a heading with its number and label, then 'Strengths'\n"
            "and 'Areas for consideration' beneath it, e.g.\n\n"
            "## 1. Assessing needs\n\n### Strengths\n\n- ...\n\n### Areas for consideration\n\n- ...\n\n"
            "For a statement the review did not look at, write instead, under its heading, the line\n\n"
            "## 6. Safe systems, pathways and transitions\n\n"
            "Outside the scope of this review: the reason, e.g. no transitions were in the sample.\n\n"
            "The report shows these beside the evidence the review holds for each statement:\n"
            f"{listing}\n"
            "A final report needs one or the other for each of the nine. Delete this comment when you write. -->\n")
