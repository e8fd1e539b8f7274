"""What a cell of an action plan may hold, by its column, before it goes into the next report.

In: a cell's column and text, the names the review lists, the year of the plan's review.
Out: what the cell holds that cannot be published ("a run of six or more digits", "a date beside
words about a person"), or '' when it may be: never the value.

Every cell passes the stored-text screen (``reviewkit.privacy.screening``) and the publish
gate's shapes (``reviewkit.privacy.gate``), as it would print. A declared date column (a target,
an update: ``planmodel.DATE_COLUMNS``) may hold dates on the review's timeline in any of the
forms a council writes them ("by 31 March 2027", "Reviewed 12/01/2027", "Q2 2027/28",
"31-Mar-2027"); a date beside a person's words ("born", "DOB", "aged 91") is refused in every
column, and so is a full date years before the review. The starting-figure column's line, when
it has the shape the kit writes (``reviewkit.figures.baseline.generated_figure``), is the kit's
own: its numbers are not screened, its words are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewkit.figures.baseline import generated_figure
from reviewkit.intake.planmodel import DATE_COLUMNS, GENERATED_COLUMNS
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.gate import Declared, describe_kinds, shape_kinds
from reviewkit.privacy.timeline import mask, person_dates, timeline_spans

__all__ = ["PERSON_DATE", "cell_problem"]

_PLACE = re.compile(r" at \d+-\d+")
PERSON_DATE = "a date beside words about a person (born, date of birth, DOB, aged)"


def cell_problem(column: str, value: str, names: Sequence[str], year: int) -> str:
    """What the cell holds that the next report cannot publish, or ''."""
    if not value:
        return ""
    if column in GENERATED_COLUMNS and (words := generated_figure(value)) is not None:
        problem = next((p for part in words if (p := cell_problem("", part, names, year))), "")
        return _PLACE.sub("", problem)  # a place in the title is no place in the cell
    if person_dates(value):
        return PERSON_DATE
    dates = column in DATE_COLUMNS
    text = mask(value, timeline_spans(value, year)) if dates else value
    found = [f for f in privacy.screen(text, names) if f.level == privacy.BLOCK]
    if found:
        return f"what looks like a personal identifier ({privacy.describe(found)})"
    kinds = shape_kinds(value, Declared(review_year=year), names=False, dates=dates)
    return describe_kinds(kinds) + " as it would print" if kinds else ""
