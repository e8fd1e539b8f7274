"""The review questions and their answers, as the team writes them in narrative/review_questions.md.

The file holds one heading per question of review.yaml ("## 2. Do case records show …?") with
the team's answer under it. Answers are matched to questions by the heading's number (or its
exact words), so the team may shorten a heading; a question with no answer under it is a gap
that a final report refuses, because a question the council asked must not go unanswered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewkit.core.cqc import quality_statements_stub
from reviewkit.core.errors import WorkspaceError
from reviewkit.core.yamlfile import load_yaml
from reviewkit.review.files import NARRATIVE_SECTIONS, OPTIONAL_NARRATIVE, REVIEW_FILE, text_of

__all__ = ["Narrative", "answers_stub", "narrative_stub", "narrative_status", "split_answers", "unanswered",
           "unwritten_sections"]

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_NUMBER = re.compile(r"^(?:question\s*|q)?(\d{1,2})\s*[.):–—-]?\s*(.*)$", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    return " ".join(re.sub(r"[*_`]", "", text).split()).rstrip(" ?.:")


def answers_stub(questions: Sequence[str]) -> str:
    """A new review_questions.md: a note on what to write, then one heading per question."""
    lines = ["<!-- The review questions answered: write a short answer under each question's heading. "
             "Keep the headings' numbers; refer to the evidence as \"section 4\", \"quality statement 8\" "
             "or \"Recommendation 2\" and the report links them. -->", ""]
    if not questions:
        lines += ["<!-- review.yaml lists no review questions yet. Add them under review_questions, then "
                  "add a heading here for each: \"## 1. The question\". -->", ""]
    for i, q in enumerate(questions, 1):
        lines += [f"## {i}. {' '.join(q.split())}", "", f"<!-- Answer question {i} here. -->", ""]
    return "\n".join(lines)


def _which(heading: str, questions: Sequence[str]) -> int | None:
    """The 0-based question a heading names: by its number, else by the question's exact words."""
    m = _NUMBER.match(heading.strip())
    if m and 1 <= int(m.group(1)) <= len(questions):
        return int(m.group(1)) - 1
    folded = _fold(heading)
    for i, q in enumerate(questions):
        if folded == _fold(q):
            return i
    return None


def split_answers(text: str, questions: Sequence[str]) -> list[str]:
    """Each question's answer (Markdown, comments removed; '' when none), in question order.

    A heading that names a question starts its answer; a deeper heading stays inside the answer;
    any other heading at the same level or above ends it.
    """
    answers = [[] for _ in questions]  # type: list[list[str]]
    current: int | None = None
    level = 0
    for line in _COMMENT.sub("", text).splitlines():
        m = _HEADING.match(line)
        if m:
            which = _which(m.group(2), questions)
            if which is not None:
                current, level = which, len(m.group(1))
                continue
            if current is not None and len(m.group(1)) <= level:
                current = None
        if current is not None:
            answers[current].append(line)
    return ["\n".join(lines).strip() for lines in answers]


def unanswered(text: str, questions: Sequence[str]) -> list[int]:
    """Numbers (1-based) of the review questions with no answer in the text."""
    return [i for i, a in enumerate(split_answers(text, questions), 1) if not a]


def narrative_stub(name: str, title: str, questions: Sequence[str] = ()) -> str:
    """A new narrative file: a comment saying what to write (review questions get their headings)."""
    if name == "review_questions":
        return answers_stub(questions)
    if name == "quality_statements":
        return quality_statements_stub()
    return f"<!-- {title}: write this section in Markdown, then delete this line. -->\n"





@dataclass(frozen=True)
class Narrative:
    """One prose section from narrative/NAME.md; ``text`` is '' when unwritten."""

    name: str
    title: str
    path: Path
    text: str
    gaps: tuple[str, ...] = ()  # parts still to write, e.g. "an answer to review question 2"
    optional: bool = False  # a final report does not wait for it

    @property
    def written(self) -> bool:
        return bool(self.text.strip()) and not self.gaps


def _strip_stub(text: str) -> str:
    """The narrative without HTML comments (the workspace's stubs are a single comment)."""
    return _COMMENT.sub("", text).strip()


def _review_questions(workspace: Path) -> list[str]:
    """review.yaml's review questions, or none if it cannot be read (opening it reports why)."""
    try:
        data = load_yaml((workspace / REVIEW_FILE).read_text(encoding="utf-8"), REVIEW_FILE)
    except Exception:  # noqa: BLE001  an unreadable review.yaml is reported by open_workspace
        return []
    questions = data.get("review_questions") if isinstance(data, dict) else None
    return [q for q in questions if isinstance(q, str)] if isinstance(questions, list) else []


def _with_fields(text: str, facts: Any, name: str) -> str:
    """The text with comments removed (keeping their lines) and each {{ field }} filled in from ``facts``."""
    from reviewkit.figures.facts import render_fields  # start-up: pandas, needed only when rendering a report

    kept = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return render_fields(kept, facts, f"narrative/{name}.md", unknown=lambda field: f"[unknown field: {field}]").strip()


def narrative_status(workspace: Any,
                     questions: Sequence[str] | None = None, *, facts: Any = None) -> dict[str, Narrative]:
    """Each narrative section of the workspace: its file and its text ('' if missing or a stub).

    The answers to the review questions count as written only when every question of
    review.yaml (or ``questions``) has one; with no questions there is nothing to answer.
    Given a snapshot, the files and questions are those it read. Given ``facts`` (a
    ``reviewkit.figures.facts.ReviewFacts``), each ``{{ field }}`` is replaced by its figure; an
    unknown one by "[unknown field: NAME]" (readiness lists it, with the nearest field, and a final
    report refuses it).
    """
    strip = _strip_stub if facts is None else None
    snapshot = workspace if hasattr(workspace, "narrative_bytes") else None  # a snapshot: the files it read
    root = snapshot.path if snapshot is not None else Path(workspace)  # type: ignore[arg-type]
    folder = root / "narrative"
    out: dict[str, Narrative] = {}
    for name, title in NARRATIVE_SECTIONS.items():
        path = folder / f"{name}.md"
        try:
            if snapshot is not None:
                raw = snapshot.narrative_bytes(path.name)
                text = text_of(raw) if raw is not None else ""
            else:
                text = path.read_text(encoding="utf-8")
            text = strip(text) if strip is not None else _with_fields(text, facts, name)
        except FileNotFoundError:
            text = ""
        except UnicodeDecodeError:
            raise WorkspaceError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        gaps: tuple[str, ...] = ()
        optional = name in OPTIONAL_NARRATIVE
        if name == "review_questions":
            if questions is None:
                questions = snapshot.meta.review_questions if snapshot is not None else _review_questions(root)
            asked = list(questions)
            optional = not asked
            gaps = tuple(f"an answer to review question {i}" for i in unanswered(text, asked))
        out[name] = Narrative(name, title, path, text, gaps, optional)
    return out


def unwritten_sections(workspace: str | Path) -> list[Path]:
    """Narrative files still missing, a stub or with a gap, which a final report may not have."""
    return [n.path for n in narrative_status(workspace).values() if not n.written and not n.optional]
