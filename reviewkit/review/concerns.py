"""The concerns log: a risk to a person that a reviewer found during the review, and the council's response.

In: a reviewer's concern on one of their case records (what they found, when and to whom
they raised it), from the rating form, the audit workbook's Cases sheet or a concerns file;
and the host's record of the council's response. Out: rows in the store's ``concerns`` table,
each change with its audit row, and the table read back for readiness and the report.

What a reviewer writes about the person (``what``, ``raised_with``) and the council's response
in full (``response``) are private: screened like every free text, kept in the store and in
exports that carry private data, and never published. The report gives counts, how long the
council took to respond and the response's outcome (one of ``OUTCOMES``) only.
``ConcernsMixin`` is mixed into ``Store`` (reviewkit.review.store).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from reviewkit.core.errors import AccessError, InvalidInputError
from reviewkit.figures.concerns import OUTCOME_WORDS
from reviewkit.review import auditlog
from reviewkit.review.ratings import RatingInput

__all__ = ["CONCERN_COLUMNS", "OUTCOMES", "ConcernsMixin", "parse_day", "parse_outcome"]

# The council's response outcomes, as the report words each after "the council …".
OUTCOMES: dict[str, str] = OUTCOME_WORDS
CONCERN_COLUMNS = ["case_id", "reviewer", "what", "raised_on", "raised_with", "response", "outcome",
                   "responded_on", "open"]


def parse_day(value: str, what: str) -> str:
    """A date as YYYY-MM-DD, or a plain refusal naming the field (never the value)."""
    text = (value or "").strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidInputError(f"{what} must be a date written YYYY-MM-DD, e.g. 2026-10-07") from None


def parse_outcome(value: str | None) -> str:
    """An outcome as stored ('' when not given): acted, already-in-hand or no-further-action."""
    text = (value or "").strip().casefold().replace(" ", "-").replace("_", "-")
    if not text:
        return ""
    if text not in OUTCOMES:
        raise InvalidInputError(f"the council's response outcome must be one of {', '.join(OUTCOMES)}")
    return text


class ConcernsMixin:
    """The store's concerns log (part of ``Store``): one concern per reviewer and case record."""

    def concern(self, case_id: str, reviewer: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM concerns WHERE case_id=? AND reviewer=?",
                               (case_id, reviewer)).fetchone()
        return None if row is None else {k: row[k] for k in row.keys()}

    def set_concern(self, actor: str, case_id: str, reviewer: str, *, what: str, raised_on: str, raised_with: str,
                    confirm_warnings: bool = False) -> dict[str, Any]:
        """Record (or correct) a reviewer's concern about a person on one of their case records.

        The reviewer must be allocated the case (as for a rating); under the hub a visiting
        reviewer records only their own. The text is screened before it is stored.
        """
        self._check_actor(actor)
        rules = self.rules
        self._check_writes_as(reviewer, "a concern")
        if rules is not None:
            self._check_rating(RatingInput(case_id, reviewer, rules.questions[0], None))
        what, raised_with = (what or "").strip(), (raised_with or "").strip()
        if not what:
            raise InvalidInputError("a concern needs a description: say what the risk to the person is (no names)")
        if not raised_with:
            raise InvalidInputError("a concern needs the person or team it was raised with (a role, e.g. "
                                    "'the team manager'; no names)")
        day = parse_day(raised_on, "the date the concern was raised")
        before = self.concern(case_id, reviewer)
        notes = [self._screen_changed(what, before["what"] if before else None, "concern",
                                      confirm_warnings),
                 self._screen_changed(raised_with, before["raised_with"] if before else None,
                                      "concern raised with", confirm_warnings)]
        new = {"what": what, "raised_on": day, "raised_with": raised_with}
        key = f"{case_id}/{reviewer}"
        with self.transaction():
            current = self.concern(case_id, reviewer)
            if current is not None and all(current[k] == v for k, v in new.items()):
                return current
            if current is None:
                self._db.execute(
                    "INSERT INTO concerns (case_id, reviewer, what, raised_on, raised_with, updated_at, updated_by) "
                    "VALUES (?,?,?,?,?,?,?)", (case_id, reviewer, what, day, raised_with, auditlog.now(), actor))
            else:
                self._db.execute(
                    "UPDATE concerns SET what=?, raised_on=?, raised_with=?, updated_at=?, updated_by=?, "
                    "version=version+1 WHERE case_id=? AND reviewer=?",
                    (what, day, raised_with, auditlog.now(), actor, case_id, reviewer))
            old = None if current is None else {k: current[k] for k in new}
            self._audit(actor, "update" if current else "insert", "concern", key, old, new,
                        "; ".join(n for n in notes if n))
        return self.concern(case_id, reviewer)

    def record_response(self, actor: str, case_id: str, *, response: str, reviewer: str | None = None,
                        outcome: str | None = None, responded_on: str | None = None,
                        confirm_warnings: bool = False) -> dict[str, Any]:
        """The host records the council's response to a concern (the case's only one, or ``reviewer``'s)."""
        self._check_actor(actor)
        session = self.session
        if session is not None and not session.is_host:
            raise AccessError("Only the host records the council's response to a concern.")
        response = (response or "").strip()
        if not response:
            raise InvalidInputError("the council's response is blank: say what the council did (no names)")
        found = self._db.execute(
            "SELECT reviewer FROM concerns WHERE case_id=?" + (" AND reviewer=?" if reviewer else "")
            + " ORDER BY reviewer", (case_id, reviewer) if reviewer else (case_id,)).fetchall()
        if not found:
            raise InvalidInputError(f"no concern is logged on case {case_id}"
                                    + (f" by {reviewer}" if reviewer else "") + "; check the case reference")
        if len(found) > 1:
            raise InvalidInputError(f"case {case_id} has concerns from {len(found)} reviewers; say whose with "
                                    "--reviewer")
        who = found[0]["reviewer"]
        current = self.concern(case_id, who)
        assert current is not None
        day = parse_day(responded_on or dt.date.today().isoformat(), "the date of the council's response")
        if day < current["raised_on"]:
            raise InvalidInputError("the council's response is dated before the concern was raised; check the date")
        new = {"response": response, "outcome": parse_outcome(outcome), "responded_on": day}
        note = self._screen_changed(response, current["response"] or None, "council's response",
                                    confirm_warnings)
        with self.transaction():
            self._db.execute(
                "UPDATE concerns SET response=?, outcome=?, responded_on=?, updated_at=?, updated_by=?, "
                "version=version+1 WHERE case_id=? AND reviewer=?",
                (response, new["outcome"], day, auditlog.now(), actor, case_id, who))
            old = {k: current[k] for k in new}
            self._audit(actor, "update", "concern_response", f"{case_id}/{who}", old, new, note)
        return self.concern(case_id, who)

    def concerns(self) -> pd.DataFrame:
        """Every concern logged, oldest first; ``open`` is True until the council's response is recorded."""
        df = pd.read_sql_query(
            "SELECT case_id, reviewer, what, raised_on, raised_with, response, outcome, responded_on FROM concerns "
            "ORDER BY raised_on, case_id, reviewer", self._db)
        df["open"] = (df["response"].fillna("").str.strip() == "").astype(bool)
        return df[CONCERN_COLUMNS]
