"""The calibration round: every reviewer rates the same fictional records before their own cases.

In: the host's calibration records (fictional or anonymised records, never the review's
cases), each reviewer's ratings of them in a round (``CalibrationRating``), the agreed rating
and note the team settles on per record and question, and the host's override that opens a
reviewer's cases early. Out: rows in the store's calibration tables, each with its audit row,
read back as tables; and the rule that a reviewer's case ratings wait until they have rated
every calibration record (``check_calibrated``). ``CalibrationMixin`` is mixed into ``Store``.
Calibration ratings live in their own tables, so no figure of the review ever counts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reviewkit.core.errors import AccessError, CalibrationPendingError, InvalidInputError
from reviewkit.review import auditlog

EVERYONE = "*"  # calibration_open row that opens every reviewer's cases
RECORD_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")


@dataclass(frozen=True)
class CalibrationRating:
    """One reviewer's rating of one question of a calibration record; ``round`` None = the current round."""

    record_id: str
    reviewer: str
    question: str
    rating: str | None
    comment: str = ""
    round: int | None = None


class CalibrationMixin:
    """The store's calibration tables (part of ``Store``)."""

    _calibrated: set[str]

    # -- who may do what ----------------------------------------------------------------------
    def _check_host(self, what: str) -> None:
        session = getattr(self, "session", None)
        if session is not None and not session.is_host:
            raise AccessError(f"Only the host PSW can {what}.")

    # -- records and rounds -------------------------------------------------------------------
    def calibration_records(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT record_id FROM calibration_records ORDER BY added_at, record_id")]

    def calibration_round(self) -> int:
        """The current calibration round (0 when no calibration is set up)."""
        row = self._db.execute("SELECT MAX(round) FROM calibration_rounds").fetchone()
        return int(row[0] or 0)

    def add_calibration_record(self, actor: str, record_id: str) -> bool:
        """Name a calibration record (round 1 starts with the first); False when it was already named."""
        self._check_actor(actor)
        self._check_host("name calibration records")
        if not RECORD_ID.match(record_id or ""):
            raise InvalidInputError("a calibration record's reference must be a short code such as CAL1 "
                                    "(a letter, then letters, digits, - or _; at most 20 characters)")
        rules = self.rules
        if rules is not None and record_id in rules.cases:
            raise InvalidInputError(f"{record_id} is one of the review's case records (review.yaml); a calibration "
                                    "record must be a fictional or anonymised record outside the review, such as CAL1")
        if record_id in self.calibration_records():
            return False
        now = auditlog.now()
        with self.transaction():
            self._db.execute("INSERT INTO calibration_records VALUES (?,?,?)", (record_id, now, actor))
            if self.calibration_round() == 0:
                self._db.execute("INSERT INTO calibration_rounds VALUES (1,?,?)", (now, actor))
            self._audit(actor, "insert", "calibration_record", record_id, None, {"record_id": record_id})
        self._calibrated = set()
        return True

    def start_calibration_round(self, actor: str, number: int) -> int:
        """Start round ``number`` (the next one): reviewers rate the same records again, after discussion."""
        self._check_actor(actor)
        self._check_host("start a calibration round")
        current = self.calibration_round()
        if current == 0:
            raise InvalidInputError("no calibration is set up yet: name a calibration record first "
                                    "(reviewkit calibrate WS --record CAL1)")
        if number == current:
            return current
        if number != current + 1:
            raise InvalidInputError(f"the calibration is in round {current}; the next round is {current + 1}")
        with self.transaction():
            self._db.execute("INSERT INTO calibration_rounds VALUES (?,?,?)", (number, auditlog.now(), actor))
            self._audit(actor, "insert", "calibration_round", str(number), None, {"round": number})
        return number

    # -- ratings ------------------------------------------------------------------------------
    def _check_calibration_rating(self, r: CalibrationRating) -> tuple[int, str | None]:
        self._check_writes_as(r.reviewer, "a calibration rating")
        current = self.calibration_round()
        if current == 0:
            raise InvalidInputError("no calibration is set up in this review; the host names calibration records "
                                    "first (reviewkit calibrate WS --record CAL1)")
        number = current if r.round is None else int(r.round)
        if not 1 <= number <= current:
            raise InvalidInputError(f"calibration round {number} has not been started; the current round is {current}")
        if r.record_id not in self.calibration_records():
            raise InvalidInputError(f"{r.record_id} is not a calibration record of this review; they are "
                                    f"{', '.join(self.calibration_records())}")
        rules = self.rules
        if rules is None:
            return number, r.rating
        if r.reviewer not in rules.reviewers:
            raise InvalidInputError(
                f"'{r.reviewer}' is not a reviewer of this review; reviewers are {', '.join(rules.reviewers)}")
        if r.question not in rules.questions:
            raise InvalidInputError(f"question '{r.question}' is not in this review's audit tool; expected one of "
                                    f"{', '.join(rules.questions)}")
        if r.rating is None or r.rating == "":
            return number, None
        level = rules.scale.parse(r.rating)
        if level is None:
            raise InvalidInputError(f"rating must be one of {rules.scale.describe()}")
        return number, level.label

    def set_calibration_rating(self, actor: str, r: CalibrationRating, *, confirm_warnings: bool = False) -> int:
        """Save one calibration rating; returns the round it was saved in."""
        self.apply_calibration_ratings(actor, [r], confirm_warnings=confirm_warnings)
        return self.calibration_round() if r.round is None else int(r.round)

    def apply_calibration_ratings(self, actor: str, rows: Iterable[CalibrationRating], *,
                                  confirm_warnings: bool = False) -> dict[str, int]:
        """Store calibration ratings in one transaction: all of them, or none if any is invalid."""
        self._check_actor(actor)
        checked = []
        for r in rows:
            number, label = self._check_calibration_rating(r)
            note = self._screen(r.comment, "calibration note", confirm_warnings) if r.comment else ""
            checked.append((number, r, label, note))
        counts = {"added": 0, "changed": 0, "unchanged": 0}
        now = auditlog.now()
        with self.transaction():
            for number, r, label, note in checked:
                key = (number, r.record_id, r.reviewer, r.question)
                old = self._db.execute("SELECT rating, comment FROM calibration_ratings WHERE round=? AND record_id=? "
                                       "AND reviewer=? AND question=?", key).fetchone()
                new = {"rating": label, "comment": r.comment}
                audit_key = "/".join(str(k) for k in key)
                if old is None:
                    self._db.execute("INSERT INTO calibration_ratings (round, record_id, reviewer, question, rating, "
                                     "comment, updated_at, updated_by) VALUES (?,?,?,?,?,?,?,?)",
                                     (*key, label, r.comment, now, actor))
                    self._audit(actor, "insert", "calibration_rating", audit_key, None, new, note)
                    counts["added"] += 1
                elif (old["rating"], old["comment"]) == (label, r.comment):
                    counts["unchanged"] += 1
                else:
                    self._db.execute("UPDATE calibration_ratings SET rating=?, comment=?, updated_at=?, updated_by=?, "
                                     "version=version+1 WHERE round=? AND record_id=? AND reviewer=? AND question=?",
                                     (label, r.comment, now, actor, *key))
                    self._audit(actor, "update", "calibration_rating", audit_key,
                                {"rating": old["rating"], "comment": old["comment"]}, new, note)
                    counts["changed"] += 1
        return counts

    def calibration_ratings(self) -> pd.DataFrame:
        """Every calibration rating with a level: round, record_id, reviewer, question, rating."""
        return pd.read_sql_query(
            "SELECT round, record_id, reviewer, question, rating FROM calibration_ratings WHERE rating IS NOT NULL "
            "ORDER BY round, record_id, reviewer, question", self._db)

    def calibration_rating(self, record_id: str, reviewer: str, question: str,
                           number: int | None = None) -> dict[str, Any] | None:
        number = self.calibration_round() if number is None else number
        row = self._db.execute("SELECT rating, comment, version FROM calibration_ratings WHERE round=? AND "
                               "record_id=? AND reviewer=? AND question=?",
                               (number, record_id, reviewer, question)).fetchone()
        return None if row is None else dict(row)

    # -- agreed ratings -----------------------------------------------------------------------
    def set_agreed_rating(self, actor: str, record_id: str, question: str, rating: str, note: str = "", *,
                          confirm_warnings: bool = False) -> None:
        """The rating the team agreed for one question of a calibration record, with a short note."""
        self._check_actor(actor)
        self._check_host("record the agreed calibration ratings")
        if record_id not in self.calibration_records():
            raise InvalidInputError(f"{record_id} is not a calibration record of this review; they are "
                                    f"{', '.join(self.calibration_records()) or 'none yet'}")
        label = rating
        if self.rules is not None:
            if question not in self.rules.questions:
                raise InvalidInputError(f"question '{question}' is not in this review's audit tool; expected one of "
                                        f"{', '.join(self.rules.questions)}")
            level = self.rules.scale.parse(rating)
            if level is None:
                raise InvalidInputError(f"the agreed rating must be one of {self.rules.scale.describe()}")
            label = level.label
        if len(note) > 600:
            raise InvalidInputError("the note on an agreed rating is a short note: at most 600 characters")
        audit_note = self._screen(note, "calibration note", confirm_warnings)
        old = self._db.execute("SELECT rating, note FROM calibration_agreed WHERE record_id=? AND question=?",
                               (record_id, question)).fetchone()
        new = {"rating": label, "note": note}
        with self.transaction():
            if old is None:
                self._db.execute("INSERT INTO calibration_agreed (record_id, question, rating, note, updated_at, "
                                 "updated_by) VALUES (?,?,?,?,?,?)", (record_id, question, label, note,
                                                                      auditlog.now(), actor))
            else:
                self._db.execute("UPDATE calibration_agreed SET rating=?, note=?, updated_at=?, updated_by=?, "
                                 "version=version+1 WHERE record_id=? AND question=?",
                                 (label, note, auditlog.now(), actor, record_id, question))
            self._audit(actor, "insert" if old is None else "update", "calibration_agreed",
                        f"{record_id}/{question}", None if old is None else dict(old), new, audit_note)

    def agreed_ratings(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT record_id, question, rating, note FROM calibration_agreed "
                                 "ORDER BY record_id, question", self._db)

    # -- the rule: calibration before case ratings --------------------------------------------
    def open_cases(self, actor: str, reviewer: str = EVERYONE) -> None:
        """The host's override: open a reviewer's (or everyone's) cases before calibration is done."""
        self._check_actor(actor)
        self._check_host("open a reviewer's cases before calibration")
        if reviewer != EVERYONE and self.rules is not None and reviewer not in self.rules.reviewers:
            raise InvalidInputError(f"'{reviewer}' is not a reviewer of this review; reviewers are "
                                    f"{', '.join(self.rules.reviewers)}")
        with self.transaction():
            self._db.execute("INSERT OR REPLACE INTO calibration_open VALUES (?,?,?)", (reviewer, auditlog.now(), actor))
            self._audit(actor, "insert", "calibration_open", reviewer, None, {"reviewer": reviewer})

    def calibration_missing(self, reviewer: str) -> int:
        """How many round-1 calibration ratings this reviewer still has to give (0 when none is set up)."""
        records = self.calibration_records()
        if not records:
            return 0
        questions = self.rules.questions if self.rules is not None else tuple(
            r[0] for r in self._db.execute("SELECT DISTINCT question FROM calibration_ratings"))
        done = {(r[0], r[1]) for r in self._db.execute(
            "SELECT record_id, question FROM calibration_ratings WHERE round=1 AND reviewer=? AND rating IS NOT NULL",
            (reviewer,))}
        return sum(1 for rec in records for q in questions if (rec, q) not in done)

    def cases_open(self, reviewer: str) -> bool:
        """True when this reviewer may rate their cases: no calibration, calibrated, or opened by the host."""
        if reviewer in self._calibrated:
            return True
        opened = {r[0] for r in self._db.execute("SELECT reviewer FROM calibration_open")}
        if EVERYONE in opened or reviewer in opened or self.calibration_missing(reviewer) == 0:
            self._calibrated.add(reviewer)
            return True
        return False

    def check_calibrated(self, reviewer: str) -> None:
        """Refuse a reviewer's case ratings until they have rated every calibration record."""
        if not self.cases_open(reviewer):
            missing = self.calibration_missing(reviewer)
            raise CalibrationPendingError(
                f"{reviewer} has not yet rated the calibration records ({missing} rating(s) to go): in this review "
                "everyone rates them first, before their own case records open. Rate them in the calibration form "
                "(reviewkit serve WS --form calibrate) or the calibration sheet of the workbook; the host can open "
                "the cases early with: reviewkit calibrate WS --open-cases NAME")
