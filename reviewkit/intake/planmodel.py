"""The action plan as data: its rows, its actions and its columns, old and new.

In: nothing (definitions only).
Out: ``ActionPlan``, ``PlanRow``, ``PlanAction`` and the column names of both layouts: the
plan of reviewkit 0.1.0 (one row per recommendation: owner, by when, measure of success,
status, update) and the current one (the finding and quality statement each recommendation
answers, its starting figure and target, a row per action with its owner, date and status, a
RAG rating, the date last updated and the latest update); which columns are declared date
columns (a target or update may say "by 31 March 2027" or "Q2 2027/28") and which one holds a
line the kit itself writes (the starting figure).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ActionPlan", "COLUMNS", "COLUMNS_V1", "DATE_COLUMNS", "FORMAT_VERSION", "GENERATED_COLUMNS", "OWNER_MAX",
           "PLAN_FORMAT", "PlanAction", "PlanRow", "RAGS", "derived_status"]

PLAN_FORMAT = "reviewkit-action-plan"
FORMAT_VERSION = 2
OWNER_MAX = 120
RAGS = ("Red", "Amber", "Green")
# reviewkit 0.1.0's plan: still read back.
COLUMNS_V1 = ("Number", "Recommendation", "Owner", "By when", "Measure of success", "Status", "Update")
COLUMNS = ("Number", "Recommendation or action", "Finding it answers", "Quality statement", "Starting figure",
           "Target", "Owner", "By when", "Status", "RAG", "Last updated", "Update")
# Columns declared to hold the plan's dates: a target, an update, a date. There, dates on the review's
# timeline ("by 31 March 2027", "Q2 2027/28", "31-Mar-2027") are read as dates, not as numbers; a date
# beside a person's words ("born", "DOB", "aged 91") or years before the review is refused in any column.
DATE_COLUMNS = frozenset({"Target", "Measure of success", "Update", "By when", "Last updated"})
# Columns the kit fills with a line of its own shape ("Q11 <title>: 50% <levels> (10 of 20 case records)"):
# its numbers are the kit's, and only its words (the audit tool's) are screened as text.
GENERATED_COLUMNS = frozenset({"Starting figure"})


@dataclass(frozen=True)
class PlanAction:
    """One action under a recommendation (row "3.1"): what is done, by whom (a role), by when, how far."""

    number: str  # "3.1"
    text: str
    owner: str = ""
    by_when: str = ""  # YYYY-MM-DD
    status: str = ""


@dataclass(frozen=True)
class PlanRow:
    """One recommendation and what the council plans and reports on it.

    ``measure`` is the target (the 0.1.0 plan called it the measure of success).
    """

    number: int
    recommendation: str
    owner: str = ""
    by_when: str = ""  # YYYY-MM-DD
    measure: str = ""
    status: str = ""
    update: str = ""
    finding: str = ""
    statement: str = ""  # "QS8 Governance, management and sustainability"
    start: str = ""  # "Q11 Management oversight: 50% Outstanding or Good (10 of 20 case records)"
    rag: str = ""
    last_updated: str = ""  # YYYY-MM-DD
    actions: tuple[PlanAction, ...] = ()


@dataclass(frozen=True)
class ActionPlan:
    """The action plan of one review round."""

    council: str
    round: str  # YYYY-MM, the month the review started
    rows: tuple[PlanRow, ...]


def derived_status(row: PlanRow) -> str:
    """The recommendation's status, or (left blank) what its actions' statuses add up to."""
    if row.status or not row.actions:
        return row.status
    statuses = [a.status for a in row.actions if a.status]
    if not statuses:
        return ""
    done = [s for s in statuses if s in ("Done", "Not going ahead")]
    if len(done) == len(row.actions) and "Done" in done:
        return "Done"
    if len(done) == len(row.actions):
        return "Not going ahead"
    return "In progress" if any(s in ("In progress", "Done") for s in statuses) else "Not started"
