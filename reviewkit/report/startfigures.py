"""Section 2's figures: each previous recommendation's starting figure beside this review's.

In: the report's builder (this review's primary ratings and audit tool) and one previous
recommendation as review.yaml holds it (its starting figure and target, from the action plan).
Out: an HTML paragraph, or '' when the plan kept no starting figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewkit.figures.baseline import question_figure, starting_question
from reviewkit.report.markup import esc
from reviewkit.review.reviewyaml import Recommendation

if TYPE_CHECKING:
    from reviewkit.report.sections import ReportBuilder

__all__ = ["start_and_now"]


def start_and_now(b: ReportBuilder, rec: Recommendation, number: int) -> str:
    """'Starting figure: … | Target: … | This review: …' for one previous recommendation."""
    start = " ".join(rec.start.split())
    if not start:
        return ""
    question = starting_question(start, b.tool)
    now = question_figure(b.primary, b.tool, question) if question is not None else ""
    if question is None:
        now_text = "not measured the same way in this review"
    else:
        now_text = now or "no case record was rated on this question"
    cells = [("Starting figure (previous review)", start)]
    if rec.target.strip():
        cells.append(("Target", " ".join(rec.target.split())))
    cells.append(("This review", (f"{start.split(':', 1)[0]}: {now}" if now else now_text)))
    head = "".join(f'<th scope="col">{esc(k)}</th>' for k, _ in cells)
    row = "".join(f"<td>{esc(v)}</td>" for _, v in cells)
    caption = f"Previous recommendation {number}: its starting figure beside this review's"
    return (f'<table class="start-and-now"><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody><tr>{row}</tr></tbody></table>")
