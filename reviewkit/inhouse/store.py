"""The audit store of an in-house programme: audits, their ratings and the moderation sample (SQLite).

In: checked rows from an import (``reviewkit.inhouse.importer``) or the sample. Out: the audits
and ratings as DataFrames for the tracking report. One file, owner-only (0600), written in one
transaction per import or form save, each logged in the store's append-only audit log
(``reviewkit.review.auditlog``: who, when, what; evidence notes only as a length and digest).
Ten years of monthly audits of 100 records are 12,000 audits and about
170,000 ratings: read in well under a second.

    audits(audit_id, month, team, themes, feedback_from, feedback)
    ratings(audit_id, role, auditor, question, rating, comment)   role: first or moderator
    audit_log(id, at, actor, action, entity, key, old, new, note)   as a review store's

Feedback from the person or carer is kept as closed answers only (who gave it; positive, mixed
or negative): what they said stays in the case record, never here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from reviewkit.core.atomic import owner_only
from reviewkit.core.errors import StoreError
from reviewkit.review import auditlog

__all__ = ["AuditStore", "STORE_VERSION"]

STORE_VERSION = 2  # 2: evidence notes on ratings, and the audit log
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audits (
    audit_id TEXT PRIMARY KEY,
    month TEXT NOT NULL,
    team TEXT NOT NULL,
    themes TEXT NOT NULL DEFAULT '',
    feedback_from TEXT NOT NULL DEFAULT '',
    feedback TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS ratings (
    audit_id TEXT NOT NULL REFERENCES audits(audit_id),
    role TEXT NOT NULL CHECK (role IN ('first', 'moderator')),
    auditor TEXT NOT NULL,
    question TEXT NOT NULL,
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (audit_id, role, question)
);
CREATE INDEX IF NOT EXISTS audits_month ON audits(month);
""" + auditlog.AUDIT_LOG_SCHEMA
# What each older store needs to reach the next version (its tables exist, so CREATE … IF NOT EXISTS skips them).
_UPGRADES = {1: "ALTER TABLE ratings ADD COLUMN comment TEXT NOT NULL DEFAULT '';"}
# One logged change: (action, key, old, new, note), old and new already as the log writes them.
LogEntry = tuple[str, str, "str | None", "str | None", str]


class AuditStore:
    """The programme's SQLite file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> AuditStore:
        try:
            owner_only(self.path)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA foreign_keys = ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > STORE_VERSION:
                raise StoreError(f"{self.path}: written by a newer reviewkit (store version {version}); "
                                 "upgrade reviewkit to open it")
            if version < STORE_VERSION:
                steps = "".join(_UPGRADES[v] for v in range(version, STORE_VERSION) if version and v in _UPGRADES)
                self._db.executescript(f"BEGIN IMMEDIATE;{steps}{_SCHEMA}PRAGMA user_version = {STORE_VERSION};"
                                       "COMMIT;")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the audit store ({type(exc).__name__}); restore it from "
                             "a backup") from None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the audit store is not open")
        return self._db

    def audits(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT audit_id, month, team, themes, feedback_from, feedback FROM audits "
                                 "ORDER BY month, audit_id", self.db)

    def ratings(self, role: str | None = None) -> pd.DataFrame:
        """Ratings with each audit's month and team; ``role`` first or moderator (None: both)."""
        sql = ("SELECT r.audit_id, a.month, a.team, r.role, r.auditor, r.question, r.rating, r.comment FROM ratings r "
               "JOIN audits a USING (audit_id)")
        return pd.read_sql_query(sql + (" WHERE r.role = ?" if role else ""), self.db,
                                 params=(role,) if role else None)

    def first_counts(self) -> pd.DataFrame:
        """The first auditors' ratings counted by month, team, question and rating (what the charts need).

        Counted inside SQLite: ten years of ratings arrive as a few tens of thousands of counts.
        """
        return pd.read_sql_query(
            "SELECT a.month, a.team, r.question, r.rating, COUNT(*) AS count FROM ratings r JOIN audits a "
            "USING (audit_id) WHERE r.role = 'first' GROUP BY a.month, a.team, r.question, r.rating", self.db)

    def moderation_counts(self, question: str) -> pd.DataFrame:
        """Per month: records a moderator rated, and how many of them got the first auditor's rating on ``question``."""
        return pd.read_sql_query(
            "SELECT a.month, COUNT(*) AS moderated, SUM(m.rating = f.rating) AS agreed FROM ratings m "
            "JOIN ratings f ON f.audit_id = m.audit_id AND f.question = m.question AND f.role = 'first' "
            "JOIN audits a ON a.audit_id = m.audit_id WHERE m.role = 'moderator' AND m.question = ? "
            "GROUP BY a.month", self.db, params=(question,))

    def existing(self) -> dict[tuple[str, str], tuple[str, str, dict[str, str]]]:
        """(audit_id, role) → (month, team, {question: rating}) for everything stored."""
        return {key: (month, team, ratings) for key, (month, team, ratings, _n, _a) in self.stored().items()}

    def stored(self) -> dict[tuple[str, str], tuple[str, str, dict[str, str], dict[str, str], str]]:
        """(audit_id, role) → (month, team, {question: rating}, {question: evidence note}, auditor)."""
        meta = {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT audit_id, month, team FROM audits")}
        out: dict[tuple[str, str], tuple[str, str, dict[str, str], dict[str, str], str]] = {}
        for audit_id, role, auditor, question, rating, comment in self.db.execute(
                "SELECT audit_id, role, auditor, question, rating, comment FROM ratings"):
            entry = out.setdefault((audit_id, role), (*meta[audit_id], {}, {}, auditor))
            entry[2][question] = rating
            if comment:
                entry[3][question] = comment
        return out

    def audit(self, audit_id: str) -> dict[str, Any] | None:
        """One audit's month, team, themes and feedback, or None when it is not stored."""
        row = self.db.execute("SELECT month, team, themes, feedback_from, feedback FROM audits WHERE audit_id = ?",
                              (audit_id,)).fetchone()
        return None if row is None else dict(zip(("month", "team", "themes", "feedback_from", "feedback"), row))

    def audit_log(self) -> pd.DataFrame:
        """Every change the store took, oldest first (free text only as a length and digest)."""
        return pd.read_sql_query("SELECT id, at, actor, action, entity, key, old, new, note FROM audit_log ORDER BY id",
                                 self.db)

    def write(self, audits: Iterable[tuple[Any, ...]], ratings: Iterable[tuple[Any, ...]],
              replace: Iterable[tuple[str, str]], *, actor: str = "", log: Iterable[LogEntry] = ()) -> None:
        """In one transaction: upsert audits, drop the ratings of each (audit_id, role) replaced, insert ratings,
        and append ``log`` (action, key, old, new, note) to the audit log as ``actor``'s."""
        db = self.db
        now = auditlog.now()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO audits(audit_id, month, team, themes, feedback_from, feedback) "
                           "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(audit_id) DO UPDATE SET month=excluded.month, "
                           "team=excluded.team, themes=excluded.themes, feedback_from=excluded.feedback_from, "
                           "feedback=excluded.feedback", audits)
            db.executemany("DELETE FROM ratings WHERE audit_id = ? AND role = ?", replace)
            db.executemany("INSERT INTO ratings(audit_id, role, auditor, question, rating, comment) "
                           "VALUES (?, ?, ?, ?, ?, ?)", ratings)
            db.executemany(auditlog.AUDIT_LOG_INSERT, [(now, actor, action, "audit", key, old, new, note)
                                                       for action, key, old, new, note in log])
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            db.execute("ROLLBACK")
            raise StoreError(f"{self.path}: the audits could not be saved ({type(exc).__name__}); nothing was "
                             "imported") from None
