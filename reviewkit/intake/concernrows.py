"""Checking the rows of the concerns log (a risk to a person found during the review) before any write.

In: rows of a concerns file, or the concern columns of the audit workbook's Cases sheet. Out: each
problem by file, row and column (never a value) and the checked ``ConcernRow``s the import writes.
A mixin of ``RowChecker``, which supplies the shared checks (case, reviewer, dates, screening).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reviewkit.review.concerns import OUTCOMES

if TYPE_CHECKING:
    from reviewkit.intake.tables import Table

__all__ = ["ConcernChecks", "ConcernRow"]


@dataclass
class ConcernRow:
    source: str
    row: int
    case_id: str
    reviewer: str
    what: str
    raised_on: str
    raised_with: str
    response: str = ""
    outcome: str = ""
    responded_on: str = ""


class ConcernChecks:
    """The concern rules; the checker that mixes this in supplies case, reviewer, date, screen and problem."""

    concern_seen: dict[tuple[str, str], tuple[str, int]]
    concerns: list[ConcernRow]
    kinds: list[str]
    confirm: bool
    case: Any
    reviewer: Any
    allocated: Any
    date: Any
    screen: Any
    problem: Any
    rows: Any

    def check_concerns(self, t: Table, positions: dict[str, int]) -> None:
        for row, c in self.rows(t, positions, "concerns"):
            if not any(v.strip() for v in c.values()):
                continue
            self.concern_row(t.source, row, c["case_id"], c["reviewer"], c["concern"], c["raised_on"],
                             c["raised_with"], response=c["response"], outcome=c["outcome"],
                             responded_on=c["responded_on"])

    def concern_row(self, src: str, row: int, case_value: str, reviewer_value: str, what: str, raised_on: str,
                    raised_with: str, *, prefix: str = "", response: str = "", outcome: str = "",
                    responded_on: str = "") -> None:
        """One concern about a person's safety: on a case allocated to its reviewer, dated, screened."""
        case = self.case(src, row, case_value)
        reviewer = self.reviewer(src, row, reviewer_value)
        ok = self.allocated(src, row, case, reviewer)
        what, raised_with, response = what.strip(), raised_with.strip(), response.strip()
        column = "concern"
        if not what:
            self.problem(src, row, column, "is blank; say what the risk to the person is (no names)")
            ok = False
        if not raised_with:
            self.problem(src, row, f"{prefix}raised_with", "is blank; give the role the concern was raised with, "
                         "e.g. team manager (no names)")
            ok = False
        day = self.date(src, row, raised_on, required=True, column=f"{prefix}raised_on")
        answered = self.date(src, row, responded_on, required=False, column="responded_on") if response or \
            responded_on.strip() else ""
        if response and answered == "":
            self.problem(src, row, "responded_on", "is blank; give the date of the council's response")
            ok = False
        elif responded_on.strip() and not response:
            self.problem(src, row, "response", "is blank but a response date is given; write the council's "
                         "response or clear the date")
            ok = False
        if day and answered and answered < day:
            self.problem(src, row, "responded_on", "is before the date the concern was raised; check the dates")
            ok = False
        found = outcome.strip().casefold().replace(" ", "-").replace("_", "-")
        if found and found not in OUTCOMES:
            self.problem(src, row, "outcome", f"expected one of {', '.join(OUTCOMES)} (or blank)")
            ok = False
        for col, text, label in ((column, what, "concern"), (f"{prefix}raised_with", raised_with,
                                                             "concern raised with"),
                                 ("response", response, "council's response")):
            ok = self.screen(src, row, col, text, label, warnings_allowed=self.confirm) and ok
        if not ok or day is None or answered is None:
            return
        assert case is not None and reviewer is not None
        key = (case, reviewer)
        if key in self.concern_seen:
            other = self.concern_seen[key]
            self.problem(src, row, "case_id", f"duplicate: {other[0]} row {other[1]} already gives this reviewer's "
                         "concern on the same case; keep one of the two rows (one concern per reviewer and case)")
            return
        self.concern_seen[key] = (src, row)
        if "concerns" not in self.kinds:
            self.kinds.append("concerns")
        self.concerns.append(ConcernRow(src, row, case, reviewer, what, day, raised_with, response, found,
                                        answered))
