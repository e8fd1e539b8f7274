"""What each recommendation answers, as the review's own text links them, and where it starts from.

In: the workspace's narrative (quality_statements.md, observations.md, key_messages.md,
recommendations.md), its audit tool and its recorded ratings.
Out: per recommendation number, the finding it answers, the CQC quality statement(s) it sits
under, its starting figure and any actions written under it in recommendations.md.

The team links a finding to a recommendation by writing "(Recommendation 3)" beside it, as the
report already links them. A finding under a quality statement's heading in
quality_statements.md gives the statement too; otherwise the sentence of the observations or
key messages that names the recommendation is the finding. The starting figure comes from the
audit question the recommendation names (``reviewkit.figures.baseline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewkit.core.cqc import STATEMENTS
from reviewkit.figures.baseline import named_question, question_figure, question_label
from reviewkit.figures.cqc import split_commentary
from reviewkit.review.bundle import _plain
from reviewkit.review.snapshot import take_snapshot
from reviewkit.review.workspace import Workspace

__all__ = ["Links", "recommendation_actions", "recommendation_links"]

_REC = re.compile(r"\(?\b(?:see\s+)?[Rr]ecommendations?\s+(\d{1,2})\b\)?")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TOP = re.compile(r"^ {0,3}\d{1,3}[.)]\s+(.*\S)\s*$")
_SUB = re.compile(r"^(?: {2,}|\t)(?:[-*+]|\d{1,3}[.)]|[a-z][.)])\s+(.*\S)\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_BY_NUMBER = {s.number: s for s in STATEMENTS}


@dataclass(frozen=True)
class Links:
    """What one recommendation answers and where it starts from."""

    finding: str = ""
    statement: str = ""
    start: str = ""


def _clean(text: str) -> str:
    text = _REC.sub("", _plain(text))
    return " ".join(text.split()).strip(" ;,").replace(" .", ".").replace(" ,", ",")


def _bullets(markdown: str) -> list[str]:
    """Each list item (continuation lines joined) or paragraph of a markdown fragment."""
    items: list[str] = []
    for line in re.sub(r"<!--.*?-->", "", markdown, flags=re.S).splitlines():
        if not line.strip():
            items.append("")
        elif _BULLET.match(line) or not items or not items[-1]:
            items.append(_BULLET.sub("", line).strip())
        else:
            items[-1] += " " + line.strip()
    return [i for i in items if i]


def _read(ws: Workspace, name: str) -> str:
    try:
        return (ws.narrative_dir / name).read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def _findings(ws: Workspace) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Findings and statements per recommendation number, from the team's narrative."""
    findings: dict[int, list[str]] = {}
    statements: dict[int, list[str]] = {}
    parts, _ = split_commentary(_read(ws, "quality_statements.md"))
    for number, texts in sorted(parts.items()):
        label = f"QS{number} {_BY_NUMBER[number].label}"
        for item in _bullets("\n".join(texts.values())):
            for m in _REC.finditer(item):
                rec = int(m.group(1))
                findings.setdefault(rec, []).append(_clean(item))
                if label not in statements.setdefault(rec, []):
                    statements[rec].append(label)
    for name in ("observations.md", "key_messages.md"):
        for item in _bullets(_read(ws, name)):
            for sentence in _SENTENCE.split(_plain(item)):
                for m in _REC.finditer(sentence):
                    rec = int(m.group(1))
                    if rec not in findings:
                        findings[rec] = [_clean(sentence)]
    return findings, statements


def recommendation_links(ws: Workspace, texts: list[str]) -> list[Links]:
    """The finding, statement and starting figure of each recommendation, in order."""
    findings, statements = _findings(ws)
    snap = take_snapshot(ws)
    ratings = snap.frame("ratings")
    primary = {(c.id, c.reviewer) for c in ws.meta.cases}
    if ratings.empty:  # nothing rated yet: no starting figures
        primary_ratings = None
    else:
        mask = [(c, r) in primary for c, r in zip(ratings["case_id"], ratings["reviewer"])]
        primary_ratings = ratings[mask] if primary else ratings
    out = []
    for number, text in enumerate(texts, 1):
        question = named_question(text, ws.tool)
        start = ""
        if question is not None:
            figure = question_figure(primary_ratings, ws.tool, question)
            start = f"{question_label(ws.tool, question)}: {figure}" if figure else ""
        said = [f if f.endswith((".", "!", "?")) else f"{f}." for f in dict.fromkeys(findings.get(number, []))]
        out.append(Links(" ".join(said),
                         "; ".join(statements.get(number, [])), start))
    return out


def recommendation_actions(markdown: str) -> list[list[str]]:
    """The actions written as a list under each numbered recommendation of recommendations.md."""
    out: list[list[str]] = []
    last: str | None = None
    for line in re.sub(r"<!--.*?-->", "", markdown, flags=re.S).splitlines():
        top, sub = _TOP.match(line), _SUB.match(line)
        if top and not line.startswith((" " * 4, "\t")):
            out.append([])
            last = "rec"
        elif sub and out:
            out[-1].append(_plain(sub.group(1)))
            last = "action"
        elif not line.strip():
            last = None if last == "action" else last
        elif last == "action" and line[:1].isspace():
            out[-1][-1] += " " + _plain(line)
    return out
