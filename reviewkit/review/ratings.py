"""Ratings and case flags: what each reviewer records about each case record.

In: a rating typed in a form or read from an import (``RatingInput``), and a reviewer's flags on
a case (referred back, complete). Out: rows in the store's ratings and case_flags tables, checked
against the review's rules, each with its audit row; and those tables read back for the analysis.
``RatingsMixin`` is mixed into ``Store`` (reviewkit.review.store), whose connection,
transactions, screening and audit log it uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reviewkit.core.errors import ConflictError, InvalidInputError
from reviewkit.review import auditlog


@dataclass(frozen=True)
class RatingInput:
    """One rating to store; `rating` None leaves a question unrated (a note typed first)."""

    case_id: str
    reviewer: str
    question: str
    rating: str | None
    comment: str = ""


@dataclass(frozen=True)
class Rating:
    """A stored rating with its version, for optimistic concurrency."""

    case_id: str
    reviewer: str
    question: str
    rating: str | None
    comment: str
    version: int
    updated_at: str


@dataclass(frozen=True)
class ImportSummary:
    """What one bulk write changed."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0


class RatingsMixin:
    """The store's ratings and case flags (part of ``Store``)."""

    # -- validation -------------------------------------------------------------------------
    def _check_rating(self, r: RatingInput) -> str | None:
        self._check_writes_as(r.reviewer, "a rating")
        rules = self.rules
        if rules is None:
            return r.rating
        if r.reviewer not in rules.reviewers:
            raise InvalidInputError(
                f"'{r.reviewer}' is not a reviewer of this review; reviewers are {', '.join(rules.reviewers)}"
            )
        if r.question not in rules.questions:
            raise InvalidInputError(
                f"question '{r.question}' is not in this review's audit tool; expected one of {', '.join(rules.questions)}"
            )
        if rules.cases:
            if r.case_id not in rules.cases:
                # The value is not repeated: a mistyped case reference may be an NHS number.
                raise InvalidInputError("that case reference is not in this review's case list (review.yaml); "
                                        "use a reference such as C07 from the list")
            if r.reviewer not in rules.cases[r.case_id]:
                raise InvalidInputError(f"case {r.case_id} is not allocated to '{r.reviewer}' in review.yaml")
        self.check_calibrated(r.reviewer)  # type: ignore[attr-defined]  # (CalibrationMixin, in Store)
        if r.rating is None or r.rating == "":
            return None
        label = self._labels.get(r.rating)
        if label is None:
            level = rules.scale.parse(r.rating)
            if level is None:
                raise InvalidInputError(f"rating must be one of {rules.scale.describe()}")
            label = self._labels[r.rating] = level.label
        return label

    # -- ratings ----------------------------------------------------------------------------
    def rating(self, case_id: str, reviewer: str, question: str) -> Rating | None:
        row = self._db.execute(
            "SELECT * FROM ratings WHERE case_id=? AND reviewer=? AND question=?", (case_id, reviewer, question)
        ).fetchone()
        return None if row is None else Rating(
            row["case_id"], row["reviewer"], row["question"], row["rating"], row["comment"],
            row["version"], row["updated_at"],
        )

    def set_rating(self, actor: str, r: RatingInput, *, expected_version: int | None = None,
                   confirm_warnings: bool = False) -> Rating:
        """Save one rating and its evidence note; `expected_version` guards against a stale form."""
        self._check_actor(actor)
        label = self._check_rating(r)
        stored = self.rating(r.case_id, r.reviewer, r.question)
        note = self._screen_changed(r.comment, stored.comment if stored else None, "evidence note", confirm_warnings)
        with self.transaction():
            self._upsert_rating(actor, RatingInput(r.case_id, r.reviewer, r.question, label, r.comment),
                                expected_version, note)
        found = self.rating(r.case_id, r.reviewer, r.question)
        assert found is not None
        return found

    def _upsert_rating(self, actor: str, r: RatingInput, expected_version: int | None, note: str = "") -> str:
        key = f"{r.case_id}/{r.reviewer}/{r.question}"
        old = self._db.execute(
            "SELECT rating, comment, version FROM ratings WHERE case_id=? AND reviewer=? AND question=?",
            (r.case_id, r.reviewer, r.question),
        ).fetchone()
        current = 0 if old is None else old["version"]
        if expected_version is not None and expected_version != current:
            raise ConflictError(
                f"The rating of {r.question} for case {r.case_id} was changed elsewhere "
                "(another tab or window). Reload the form to see the latest version."
            )
        new = {"rating": r.rating, "comment": r.comment}
        if old is None:
            self._db.execute(
                "INSERT INTO ratings (case_id, reviewer, question, rating, comment, updated_at, updated_by) "
                "VALUES (?,?,?,?,?,?,?)",
                (r.case_id, r.reviewer, r.question, r.rating, r.comment, auditlog.now(), actor),
            )
            self._audit(actor, "insert", "rating", key, None, new, note)
            return "added"
        before = {"rating": old["rating"], "comment": old["comment"]}
        if before == new:
            return "unchanged"
        self._db.execute(
            "UPDATE ratings SET rating=?, comment=?, updated_at=?, updated_by=?, version=version+1 "
            "WHERE case_id=? AND reviewer=? AND question=?",
            (r.rating, r.comment, auditlog.now(), actor, r.case_id, r.reviewer, r.question),
        )
        self._audit(actor, "update", "rating", key, before, new, note)
        return "changed"

    def apply_ratings(self, actor: str, rows: Iterable[RatingInput], *, source: str = "",
                      confirm_warnings: bool = False) -> ImportSummary:
        """Store many ratings in one transaction: all of them, or none if any is invalid.

        The same rows and audit rows as saving each in turn (one timestamp: they commit
        together), written with a few statements instead of three per rating.
        """
        self._check_actor(actor)
        stored: dict[tuple[str, str, str], tuple[str | None, str, int]] = {
            (c, rv, q): (rt, t, v) for c, rv, q, rt, t, v in
            self._db.execute("SELECT case_id, reviewer, question, rating, comment, version FROM ratings")}
        # Each key's latest value in this batch: ratings new to the store, and stored ones changed.
        added: dict[tuple[str, str, str], tuple[str | None, str, int]] = {}
        changed: dict[tuple[str, str, str], tuple[str | None, str, int]] = {}
        log: list[tuple[str, str, str | None, str, str]] = []
        counts = {"added": 0, "changed": 0, "unchanged": 0}
        check, screen, what = self._check_rating, self.screen, "evidence note"
        for r in rows:  # once per rating: 100,000 times in a large import
            label = check(r)
            key = (r.case_id, r.reviewer, r.question)
            comment = r.comment
            old = added.get(key) or changed.get(key) or stored.get(key)
            if old is not None and old[0] == label and old[1] == comment:
                counts["unchanged"] += 1
                continue
            # Text already stored passed (or was confirmed) then: only new text is screened.
            note = "" if old is not None and comment == old[1] else screen(
                comment, what, confirm_warnings=confirm_warnings)
            audit_key = f"{r.case_id}/{r.reviewer}/{r.question}"
            if old is None:
                added[key] = (label, comment, 1)
                log.append(("insert", audit_key, None, auditlog.rating_log(label, comment), note))
                counts["added"] += 1
            else:
                (added if key in added else changed)[key] = (label, comment, old[2] + 1)
                log.append(("update", audit_key, auditlog.rating_log(old[0], old[1]),
                            auditlog.rating_log(label, comment), note))
                counts["changed"] += 1
        now = auditlog.now()
        with self.transaction():
            self._db.executemany(
                "INSERT INTO ratings (case_id, reviewer, question, rating, comment, version, updated_at, updated_by) "
                "VALUES (?,?,?,?,?,?,?,?)", [(*k, *v, now, actor) for k, v in added.items()])
            self._db.executemany(
                "UPDATE ratings SET rating=?, comment=?, version=?, updated_at=?, updated_by=? "
                "WHERE case_id=? AND reviewer=? AND question=?",
                [(*v, now, actor, *k) for k, v in changed.items() if v != stored[k]])
            self._db.executemany(
                "INSERT INTO audit_log (at, actor, action, entity, key, old, new, note) "
                "VALUES (?,?,?,'rating',?,?,?,?)", [(now, actor, *entry) for entry in log])
            if counts["added"] or counts["changed"]:
                self._audit(actor, "import", "ratings", source or "-", None, counts)
        return ImportSummary(**counts)

    def ratings(self) -> pd.DataFrame:
        """All ratings with a level, as the analysis expects them."""
        return pd.read_sql_query(
            "SELECT case_id, reviewer, question, rating, comment FROM ratings WHERE rating IS NOT NULL "
            "ORDER BY case_id, reviewer, question", self._db)

    def all_ratings(self) -> pd.DataFrame:
        """Every rating row, including notes typed before a level was chosen, with versions."""
        return pd.read_sql_query(
            "SELECT case_id, reviewer, question, rating, comment, version, updated_at, updated_by "
            "FROM ratings ORDER BY case_id, reviewer, question", self._db)

    # -- case flags -------------------------------------------------------------------------
    def case_flag(self, case_id: str, reviewer: str) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM case_flags WHERE case_id=? AND reviewer=?",
                               (case_id, reviewer)).fetchone()
        if row is None:
            return {"referred_back": False, "reason": "", "complete": False, "version": 0}
        return {"referred_back": bool(row["referred_back"]), "reason": row["reason"],
                "complete": bool(row["complete"]), "version": row["version"]}

    def set_case_flag(self, actor: str, case_id: str, reviewer: str, *, referred_back: bool | None = None,
                      reason: str | None = None, complete: bool | None = None,
                      expected_version: int | None = None, confirm_warnings: bool = False) -> dict[str, Any]:
        """Set a reviewer's flags on a case: referred back (with reason) and complete."""
        self._check_actor(actor)
        if self.rules is not None:
            self._check_rating(RatingInput(case_id, reviewer, self.rules.questions[0], None))
        before = self.case_flag(case_id, reviewer)
        after = dict(before)
        for key, value in (("referred_back", referred_back), ("reason", reason), ("complete", complete)):
            if value is not None:
                after[key] = value
        if after["referred_back"] and not str(after["reason"]).strip():
            raise InvalidInputError("A case referred back needs a reason: say what the significant concern is.")
        note = self._screen_changed(str(after["reason"]), str(before["reason"]), "referral reason", confirm_warnings)
        key = f"{case_id}/{reviewer}"
        with self.transaction():
            current = self.case_flag(case_id, reviewer)
            if expected_version is not None and current["version"] != expected_version:
                raise ConflictError(f"Case {case_id} was changed elsewhere (another tab or window). Reload the form.")
            old = {k: current[k] for k in ("referred_back", "reason", "complete")}
            new = {k: after[k] for k in ("referred_back", "reason", "complete")}
            if old == new and current["version"]:
                return current
            self._db.execute(
                "INSERT INTO case_flags (case_id, reviewer, referred_back, reason, complete, updated_at, updated_by) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (case_id, reviewer) DO UPDATE SET "
                "referred_back=excluded.referred_back, reason=excluded.reason, complete=excluded.complete, "
                "updated_at=excluded.updated_at, updated_by=excluded.updated_by, version=case_flags.version+1",
                (case_id, reviewer, int(new["referred_back"]), new["reason"], int(new["complete"]), auditlog.now(),
                 actor),
            )
            self._audit(actor, "update" if current["version"] else "insert", "case_flag", key,
                        old if current["version"] else None, new, note)
        return self.case_flag(case_id, reviewer)

    def case_flags(self) -> pd.DataFrame:
        df = pd.read_sql_query(
            "SELECT case_id, reviewer, referred_back, reason, complete FROM case_flags ORDER BY case_id, reviewer",
            self._db)
        df["referred_back"] = df["referred_back"].astype(bool)
        df["complete"] = df["complete"].astype(bool)
        return df
