"""A recommendation's starting figure: the audit question it is about and that question's share.

In: the review's primary ratings, the audit tool, a recommendation's text (or the starting
figure the council kept in its action plan, "Q11 Management oversight: …").
Out: the question a recommendation is about, and its figure as one line such as
"Q11 Management oversight: 50% Outstanding or Good (10 of 20 case records)".

A recommendation is about a question when it names it: "Q11" or "question 11", or the
question's title word for word ("management oversight"). Nothing is guessed beyond that: a
recommendation that names no question has no starting figure, and the council may write one.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from reviewkit.core.tools import AuditTool, Question
from reviewkit.figures import analysis as an

__all__ = ["generated_figure", "named_question", "question_figure", "question_label", "starting_question"]

_NUMBERED = re.compile(r"\b(?:Q|[Qq]uestion\s+)(\d{1,2})\b")
_LEAD = re.compile(r"^\s*Q(\d{1,2})\b")


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def question_label(tool: AuditTool, question: Question) -> str:
    """'Q11 Management oversight': the question as the report's tables name it."""
    return f"Q{tool.questions.index(question) + 1} {question.title}"


def named_question(text: str, tool: AuditTool) -> Question | None:
    """The question a recommendation names ("Q11", "question 11" or its title), or None."""
    for m in _NUMBERED.finditer(text or ""):
        n = int(m.group(1))
        if 1 <= n <= len(tool.questions):
            return tool.questions[n - 1]
    folded = f" {_fold(text or '')} "
    for question in tool.questions:
        title = _fold(question.title)
        if title and f" {title} " in folded:
            return question
    return None


def starting_question(start: str, tool: AuditTool) -> Question | None:
    """The question a kept starting figure is about: its leading "Q11", checked against the title."""
    m = _LEAD.match(start or "")
    if not m or not 1 <= int(m.group(1)) <= len(tool.questions):
        return None
    question = tool.questions[int(m.group(1)) - 1]
    # Another tool numbers its questions differently: the number must come with the same title.
    return question if _fold(question.title) in _fold(start) else None


def question_figure(primary: pd.DataFrame | None, tool: AuditTool, question: Question) -> str:
    """'50% Outstanding or Good (10 of 20 case records)', or '' when no case record was rated on it."""
    share = an.share_good_or_better(primary, tool.scale, question=question.id)
    if not share["total"]:
        return ""
    levels = " or ".join(share["levels"])
    records = "case record" if share["total"] == 1 else "case records"
    whole = math.floor(100 * share["count"] / share["total"] + 0.5)  # half up, as a reader rounds
    return f"{whole}% {levels} ({share['count']} of {share['total']} {records})"


# The line question_label and question_figure write: "Q11 <title>: 50% <levels> (10 of 20 case records)".
_GENERATED = re.compile(r"Q(?P<q>\d{1,2}) (?P<title>.+): (?P<pct>\d{1,3})% (?P<levels>.+) "
                        r"\((?P<count>\d{1,6}) of (?P<total>\d{1,6}) (?P<noun>case records?)\)", re.S)


def generated_figure(text: str) -> tuple[str, str] | None:
    """(the question's title, the levels counted) when ``text`` is a starting figure as the kit writes it, else None.

    The figure's numbers must agree (the percentage is the count of the total, rounded half up;
    "case record" for one), so only the kit's own line has this shape; its words (the audit
    tool's title and rating labels) are returned to be screened as text.
    """
    m = _GENERATED.fullmatch(text or "")
    if m is None:
        return None
    count, total = int(m["count"]), int(m["total"])
    if not 0 < total or count > total or (m["noun"] == "case record") != (total == 1):
        return None
    if int(m["pct"]) != math.floor(100 * count / total + 0.5) or not 1 <= int(m["q"]) <= 99:
        return None
    return m["title"], m["levels"]
