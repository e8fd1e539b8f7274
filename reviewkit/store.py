"""The review store: SQLite in the workspace, with an append-only audit log.

Every change from the forms, imports and the CLI goes through ``Store``: one ``BEGIN
IMMEDIATE`` transaction writes the row and its audit row together, so a crash leaves either
both or neither. WAL lets the host read while reviewers write. Free text is screened for
personal identifiers before it is stored, and the audit log records free text only as a
length and digest, so redacting a note never leaves the old words behind in the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import migrations, prescreen, privacy
from .errors import ConflictError, InvalidInputError, StoreError, UnsafeLocationError, WarningTextError
from .tools import RatingScale

if TYPE_CHECKING:
    from .session import Session

SCHEMA_VERSION = migrations.STORE_SCHEMA  # PRAGMA user_version; see reviewkit.migrations
MEETING_KINDS = ("practitioners", "managers", "other")
NOTE_KINDS = ("note", "quote", "one_change")
PUBLISHED_KINDS = ("quote", "one_change")  # the kinds the report prints when marked for it
STANCES = ("strength", "concern", "mixed", "")
WHO = ("person", "relative", "carer", "person and relative")
# How many of one role a meeting can count (the meeting form's own bound): a typo such as
# 99999999999999999999999 is refused with this range instead of overflowing SQLite's integer.
MAX_ATTENDEES = 500
# The dates a review's meetings, conversations and dates can carry: a year typed as 0001 or
# 2206 is a slip, refused with this window and the fix (see ``date_outside_window``).
EARLIEST_DATE = dt.date(2000, 1, 1)
FUTURE_YEARS = 2
SYNCED_MARKERS = ("onedrive", "sharepoint", "dropbox", "google drive", "googledrive", "my drive",
                  "icloud drive", "icloud", "box sync", "nextcloud", "owncloud", "pcloud")
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "sshfs", "afs",
              "9p", "fuse.rclone", "davfs", "fuse.davfs2", "glusterfs", "ceph", "fuse.s3fs", "fuse.gcsfuse"}

# Schema 1, as reviewkit 0.1.0 made it: never edit it; add a migration (see reviewkit.migrations).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ratings (
    case_id TEXT NOT NULL, reviewer TEXT NOT NULL, question TEXT NOT NULL,
    rating TEXT, comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (case_id, reviewer, question)
);
CREATE TABLE IF NOT EXISTS case_flags (
    case_id TEXT NOT NULL, reviewer TEXT NOT NULL,
    referred_back INTEGER NOT NULL DEFAULT 0 CHECK (referred_back IN (0, 1)),
    reason TEXT NOT NULL DEFAULT '',
    complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (case_id, reviewer)
);
CREATE TABLE IF NOT EXISTS meetings (
    id INTEGER PRIMARY KEY, ref TEXT UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('practitioners', 'managers', 'other')),
    held_on TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS attendance (
    meeting_id INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    role TEXT NOT NULL, count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (meeting_id, role)
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, ref TEXT UNIQUE, case_id TEXT NOT NULL,
    who TEXT NOT NULL CHECK (who IN ('person', 'relative', 'carer', 'person and relative')),
    held_on TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY, ref TEXT UNIQUE,
    meeting_id INTEGER REFERENCES meetings(id) ON DELETE CASCADE,
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('note', 'quote', 'one_change')),
    text TEXT NOT NULL, speaker_role TEXT NOT NULL DEFAULT '',
    stance TEXT NOT NULL DEFAULT '' CHECK (stance IN ('strength', 'concern', 'mixed', '')),
    use_in_report INTEGER NOT NULL DEFAULT 0 CHECK (use_in_report IN (0, 1)),
    created_by TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    CHECK ((meeting_id IS NULL) <> (conversation_id IS NULL))
);
CREATE TABLE IF NOT EXISTS note_codes (
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    code TEXT NOT NULL, PRIMARY KEY (note_id, code)
);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, entity TEXT NOT NULL, key TEXT NOT NULL,
    old TEXT, new TEXT, note TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

# Fields holding free text: screened on save, and logged only as length + digest.
FREE_TEXT = {"comment", "reason", "text", "title"}


def check_location(path: Path) -> None:
    """Refuse synced or network folders: they corrupt or fork a live SQLite database."""
    full = Path(os.path.abspath(path))
    lowered = [part.casefold() for part in full.parts]
    for part in lowered:
        if any(marker in part for marker in SYNCED_MARKERS):
            raise UnsafeLocationError(
                f"{full}: this looks like a synced folder (OneDrive, SharePoint, Dropbox…). "
                "A live review store there can be corrupted or forked. Keep the workspace on "
                "local disk (e.g. under Documents outside the synced folder) and share "
                "workbooks or exported files instead."
            )
    fstype = _filesystem_type(full)
    if fstype in NETWORK_FS:
        raise UnsafeLocationError(
            f"{full}: is on a network drive ({fstype}). SQLite's locking is unreliable there; "
            "keep the workspace on local disk."
        )


def _filesystem_type(path: Path) -> str:
    """The filesystem type of the mount holding `path` (Linux), or '' when unknown."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return ""
    best, fstype = "", ""
    target = str(path)
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount = parts[1].replace("\\040", " ")
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, fstype = mount, parts[2]
    return fstype


def _create_private(path: Path) -> None:
    """Create the store file readable by its owner only; SQLite gives -wal and -shm the same mode."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


# SQLite's primary result codes, for messages that say what to do.
_FULL, _IOERR, _CORRUPT, _NOTADB = 13, 10, 11, 26
_BUSY, _LOCKED, _READONLY, _CANTOPEN, _PERM = 5, 6, 8, 14, 3


def describe_failure(exc: BaseException) -> str:
    """Why the store (or a file) could not be used, in words that name the fix; never a value."""
    import errno

    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return "the disk is full: free some space and try again"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "permission denied: check you may write to that folder"
        return exc.strerror or type(exc).__name__
    if any(code in str(exc) for code in ("ENOSPC", "EFBIG", "EDQUOT")):  # lxml's IO_ENOSPC and kin
        return "the disk is full: free some space and try again"
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_FULL, _IOERR):
        return "the disk is full or cannot be written: free some space and try again"
    if primary in (_CORRUPT, _NOTADB):
        return ("the file is damaged or is not a review store; restore review.db from a backup, "
                "or start a new workspace and import the exported files")
    if primary in (_BUSY, _LOCKED):
        return "another program is writing to the review; wait for it to finish and try again"
    if primary in (_READONLY, _CANTOPEN, _PERM):
        return "permission denied: check you may read and write the workspace folder and review.db"
    return type(exc).__name__


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def _digest(value: str) -> str:
    """How the audit log records free text: enough to see it changed, nothing to read back."""
    if not value:
        return ""
    return f"<{len(value)} chars sha256:{hashlib.sha256(value.encode()).hexdigest()[:12]}>"


def _for_log(row: dict[str, Any] | None) -> str | None:
    if row is None:
        return None
    safe = {k: (_digest(v) if k in FREE_TEXT and isinstance(v, str) else v) for k, v in row.items()}
    return json.dumps(safe, sort_keys=True, ensure_ascii=False)


_json_str = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=64)
def _json_label(rating: str | None) -> str:
    return _json_str(rating)


def _rating_log(rating: str | None, comment: str) -> str:
    """``_for_log({"rating": rating, "comment": comment})``, built directly: an import writes one per row.

    A digest is plain ASCII with no quote or backslash, so it needs no JSON escaping.
    """
    return f'{{"comment": "{_digest(comment)}", "rating": {_json_label(rating)}}}'


@dataclass(frozen=True)
class Rules:
    """What the review allows: question ids, scale, reviewers, cases (empty = any) and names."""

    questions: tuple[str, ...]
    scale: RatingScale
    reviewers: tuple[str, ...]
    cases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: tuple[str, ...] = ()


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


class Store:
    """The review's SQLite store; all writes go through its methods."""

    def __init__(self, path: str | Path, rules: Rules | None = None, *, timeout: float = 60.0,
                 session: Session | None = None) -> None:
        self.path = Path(path)
        self.rules = rules
        self.session = session  # who signed in to the review hub; None on one computer or the CLI
        self._screened: dict[tuple[str, str, bool], str] = {}  # see screen()
        self._labels: dict[str, str] = {}  # rating as typed -> its level's label (see _check_rating)
        self._plainly_clean = prescreen.for_names(tuple(rules.names) if rules else ())
        check_location(self.path.parent)
        try:
            _create_private(self.path)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{self.path}: cannot open the review store ({describe_failure(exc)})") from None
        try:
            self._open(timeout)
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"{self.path}: cannot open the review store ({describe_failure(exc)})") from None

    def _open(self, timeout: float) -> None:
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            self._db.execute("PRAGMA foreign_keys = ON")
            mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:  # the disk, a lock or permissions: not the file's content
            self._db.close()
            raise StoreError(f"{self.path}: cannot open the review store ({describe_failure(exc)})") from None
        except sqlite3.DatabaseError:
            self._db.close()
            raise StoreError(f"{self.path}: not a review store (not an SQLite database); restore it from a copy") \
                from None
        except BaseException:
            self._db.close()
            raise
        if str(mode).lower() != "wal":
            self._db.close()
            raise StoreError(f"{self.path}: could not switch the store to WAL mode; is the folder on local disk?")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA secure_delete = ON")
        try:
            # Creates a new store, or upgrades an older one (a backup first), or refuses a newer one.
            migrations.upgrade_store(self._db, self.path, _SCHEMA)
        except BaseException:
            self._db.close()
            raise

    # -- plumbing ---------------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction: the rows and their audit rows commit together."""
        if self._db.in_transaction:
            yield self._db
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: cannot write to the review store ({describe_failure(exc)})") from None
        try:
            yield self._db
        except BaseException as exc:
            if self._db.in_transaction:  # SQLite rolls back by itself after some errors (a full disk)
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):  # the disk, a lock or permissions, not the data
                raise StoreError(f"{self.path}: nothing was saved ({describe_failure(exc)})") from None
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"{self.path}: nothing was saved ({describe_failure(exc)})") from None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction: every read inside sees the store as it was at its first read."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")  # nothing was written: this only ends the read

    def _audit(self, actor: str, action: str, entity: str, key: str,
               old: dict[str, Any] | None, new: dict[str, Any] | None, note: str = "") -> None:
        self._db.execute(
            "INSERT INTO audit_log (at, actor, action, entity, key, old, new, note) VALUES (?,?,?,?,?,?,?,?)",
            (_now(), actor, action, entity, key, _for_log(old), _for_log(new), note),
        )

    def screen(self, text: str, what: str, *, confirm_warnings: bool = False) -> str:
        """Screen free text as saving it would (raises on identifiers); returns its audit note.

        Passing results are remembered for this store (its names list is fixed), so an import
        that checks every row before writing does not screen the same text twice.
        """
        key = (text, what, confirm_warnings)
        note = self._screened.get(key)
        if note is None:
            if not text or self._plainly_clean(text):  # most notes: no screening rule could match
                note = ""
            else:
                names = self.rules.names if self.rules else ()
                findings = privacy.check(text, names, confirm_warnings=confirm_warnings, field=what)
                warned = sorted({f.kind for f in findings if f.level == "warn"}) if findings else ()
                note = f"confirmed possible identifier(s) in {what}: {', '.join(warned)}" if warned else ""
            if len(self._screened) < 200_000:
                self._screened[key] = note
        return note

    def screen_published(self, text: str, what: str, *, confirm_warnings: bool = False) -> str:
        """Screen text marked for the report as it would print (the publish gate's shapes); returns its audit note.

        A shape here is a warning, not a refusal: the reviewer may save it for now, but a final
        report refuses it until it is rewritten (possible names are the host's to confirm later).
        """
        from .pagegate import describe_kinds, shape_kinds

        kinds = shape_kinds(text, names=False) if text else []
        if not kinds:
            return ""
        if not confirm_warnings:
            raise WarningTextError(
                f"The {what} is marked for the report and, as it would print, holds {describe_kinds(kinds)}. "
                "Rewrite it without anything that could identify a person, or confirm to save it for now (a "
                "final report refuses it until it is rewritten).", ())
        return f"confirmed shape(s) in {what} marked for the report: {', '.join(kinds)}"

    def _screen(self, text: str, what: str, confirm: bool) -> str:
        """Screen text; returns an audit note naming confirmed warning kinds (never values)."""
        return self.screen(text, what, confirm_warnings=confirm)

    def _screen_changed(self, text: str, stored: str | None, what: str, confirm: bool) -> str:
        """Screen text unless it is what is already stored: it passed (or was confirmed) then,
        so re-saving a rating beside an unchanged, confirmed note never asks again."""
        return "" if stored is not None and text == stored else self._screen(text, what, confirm)

    # -- who may write -------------------------------------------------------------------------
    def _check_actor(self, actor: str) -> None:
        """Under the hub, every change is the signed-in person's own: the audit log never names another."""
        if self.session is not None:
            self.session.check_actor(actor)

    def _check_writes_as(self, reviewer: str, what: str) -> None:
        """Under the hub, a visiting reviewer writes only their own ratings, flags and conversations."""
        if self.session is not None:
            self.session.check_writes_as(reviewer, what)

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
                (r.case_id, r.reviewer, r.question, r.rating, r.comment, _now(), actor),
            )
            self._audit(actor, "insert", "rating", key, None, new, note)
            return "added"
        before = {"rating": old["rating"], "comment": old["comment"]}
        if before == new:
            return "unchanged"
        self._db.execute(
            "UPDATE ratings SET rating=?, comment=?, updated_at=?, updated_by=?, version=version+1 "
            "WHERE case_id=? AND reviewer=? AND question=?",
            (r.rating, r.comment, _now(), actor, r.case_id, r.reviewer, r.question),
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
                log.append(("insert", audit_key, None, _rating_log(label, comment), note))
                counts["added"] += 1
            else:
                (added if key in added else changed)[key] = (label, comment, old[2] + 1)
                log.append(("update", audit_key, _rating_log(old[0], old[1]), _rating_log(label, comment), note))
                counts["changed"] += 1
        now = _now()
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
                (case_id, reviewer, int(new["referred_back"]), new["reason"], int(new["complete"]), _now(), actor),
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

    # -- meetings, conversations, notes ---------------------------------------------------------
    def add_meeting(self, actor: str, kind: str, held_on: str = "", attendees: dict[str, int] | None = None,
                    title: str = "", ref: str | None = None) -> int:
        """Record a meeting with staff and how many of each role attended."""
        self._check_actor(actor)
        if kind not in MEETING_KINDS:
            raise InvalidInputError(f"meeting kind must be one of {', '.join(MEETING_KINDS)}")
        _check_date(held_on, "meeting date")
        counts = _check_attendees(attendees or {})
        note = self._screen(title, "meeting title", False)
        with self.transaction():
            cur = self._db.execute("INSERT INTO meetings (ref, kind, held_on, title) VALUES (?,?,?,?)",
                                   (ref, kind, held_on, title))
            mid = int(cur.lastrowid or 0)
            self._db.executemany("INSERT INTO attendance VALUES (?,?,?)", [(mid, r, n) for r, n in counts.items()])
            self._audit(actor, "insert", "meeting", str(mid), None,
                        {"kind": kind, "held_on": held_on, "title": title, "attendees": counts}, note)
        return mid

    def update_meeting(self, actor: str, meeting_id: int, *, expected_version: int | None = None,
                       kind: str | None = None, held_on: str | None = None,
                       attendees: dict[str, int] | None = None, title: str | None = None) -> None:
        """Change a meeting's details; attendance is replaced when given."""
        self._check_actor(actor)
        old = self.meeting(meeting_id)
        new = dict(old)
        for key, value in (("kind", kind), ("held_on", held_on), ("title", title)):
            if value is not None:
                new[key] = value
        if new["kind"] not in MEETING_KINDS:
            raise InvalidInputError(f"meeting kind must be one of {', '.join(MEETING_KINDS)}")
        _check_date(new["held_on"], "meeting date")
        if attendees is not None:
            new["attendees"] = _check_attendees(attendees)
        note = self._screen(new["title"], "meeting title", False)
        with self.transaction():
            cur = self._db.execute(
                "UPDATE meetings SET kind=?, held_on=?, title=?, version=version+1 WHERE id=? AND version=?",
                (new["kind"], new["held_on"], new["title"], meeting_id,
                 expected_version if expected_version is not None else old["version"]))
            if cur.rowcount == 0:
                raise ConflictError("This meeting was changed elsewhere (another tab or window). Reload the form.")
            self._db.execute("DELETE FROM attendance WHERE meeting_id=?", (meeting_id,))
            self._db.executemany("INSERT INTO attendance VALUES (?,?,?)",
                                 [(meeting_id, r, n) for r, n in new["attendees"].items()])
            self._audit(actor, "update", "meeting", str(meeting_id),
                        {k: old[k] for k in ("kind", "held_on", "title", "attendees")},
                        {k: new[k] for k in ("kind", "held_on", "title", "attendees")}, note)

    def meeting(self, meeting_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM meetings WHERE id=?", (meeting_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no meeting {meeting_id}")
        att = self._db.execute("SELECT role, count FROM attendance WHERE meeting_id=? ORDER BY role",
                               (meeting_id,)).fetchall()
        return {"id": row["id"], "ref": row["ref"], "kind": row["kind"], "held_on": row["held_on"], "title": row["title"],
                "version": row["version"], "attendees": {a["role"]: a["count"] for a in att}}

    def find_ref(self, table: str, ref: str) -> int | None:
        """The id of the meeting, conversation or note an import calls `ref`, if stored."""
        if table not in ("meetings", "conversations", "notes"):
            raise StoreError(f"no table {table} has references")
        row = self._db.execute(f"SELECT id FROM {table} WHERE ref=?", (ref,)).fetchone()
        return None if row is None else int(row[0])

    def meetings(self) -> pd.DataFrame:
        """Meetings with total attendees and attendance by role (as a dict)."""
        ids = [r[0] for r in self._db.execute("SELECT id FROM meetings ORDER BY held_on, id")]
        rows = [self.meeting(i) for i in ids]
        for r in rows:
            r["attendee_count"] = sum(r["attendees"].values())
        return pd.DataFrame(rows, columns=["id", "ref", "kind", "held_on", "title", "version", "attendees", "attendee_count"])

    def add_conversation(self, actor: str, case_id: str, who: str, reviewer: str, held_on: str = "",
                         ref: str | None = None) -> int:
        """Record a conversation with a person, relative or carer about a case."""
        self._check_actor(actor)
        self._check_writes_as(reviewer, "a conversation")
        if who not in WHO:
            raise InvalidInputError(f"who must be one of {', '.join(WHO)}")
        _check_date(held_on, "conversation date")
        if self.rules is not None:
            if reviewer not in self.rules.reviewers:
                raise InvalidInputError(f"'{reviewer}' is not a reviewer of this review")
            if self.rules.cases and case_id not in self.rules.cases:
                raise InvalidInputError("that case reference is not in this review's case list (review.yaml)")
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO conversations (ref, case_id, who, held_on, reviewer) VALUES (?,?,?,?,?)",
                (ref, case_id, who, held_on, reviewer))
            cid = int(cur.lastrowid or 0)
            self._audit(actor, "insert", "conversation", str(cid), None,
                        {"case_id": case_id, "who": who, "held_on": held_on, "reviewer": reviewer})
        return cid

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM conversations WHERE id=?", (conversation_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no conversation {conversation_id}")
        return dict(row)

    def update_conversation(self, actor: str, conversation_id: int, *, expected_version: int | None = None,
                            case_id: str | None = None, who: str | None = None, reviewer: str | None = None,
                            held_on: str | None = None) -> None:
        """Change a conversation's case, who was spoken to, reviewer or date (a re-import, a typo)."""
        self._check_actor(actor)
        old = self.conversation(conversation_id)
        self._check_writes_as(old["reviewer"], "a conversation")
        self._check_writes_as(reviewer if reviewer is not None else old["reviewer"], "a conversation")
        keys = ("case_id", "who", "reviewer", "held_on")
        new = {k: old[k] for k in keys}
        for key, value in zip(keys, (case_id, who, reviewer, held_on)):
            if value is not None:
                new[key] = value
        if new["who"] not in WHO:
            raise InvalidInputError(f"who must be one of {', '.join(WHO)}")
        _check_date(new["held_on"], "conversation date")
        if self.rules is not None:
            if new["reviewer"] not in self.rules.reviewers:
                raise InvalidInputError(f"'{new['reviewer']}' is not a reviewer of this review")
            if self.rules.cases and new["case_id"] not in self.rules.cases:
                raise InvalidInputError(f"case '{new['case_id']}' is not in this review's case list (review.yaml)")
        with self.transaction():
            cur = self._db.execute(
                "UPDATE conversations SET case_id=?, who=?, reviewer=?, held_on=?, version=version+1 "
                "WHERE id=? AND version=?",
                (new["case_id"], new["who"], new["reviewer"], new["held_on"], conversation_id,
                 expected_version if expected_version is not None else old["version"]))
            if cur.rowcount == 0:
                raise ConflictError("This conversation was changed elsewhere (another tab or window). Reload the form.")
            self._audit(actor, "update", "conversation", str(conversation_id), {k: old[k] for k in keys}, new)

    def conversations(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT id, ref, case_id, who, held_on, reviewer, version FROM conversations ORDER BY id",
                                 self._db)

    def add_note(self, actor: str, text: str, *, meeting_id: int | None = None, conversation_id: int | None = None,
                 kind: str = "note", speaker_role: str = "", stance: str = "", codes: Sequence[str] = (),
                 use_in_report: bool = False, confirm_warnings: bool = False, ref: str | None = None) -> int:
        """Add a note, quote or 'one change' to a meeting or a conversation."""
        self._check_actor(actor)
        fields = self._check_note(text, kind, stance, meeting_id, conversation_id)
        note = self._screen(text, "note", confirm_warnings)
        if use_in_report and kind in PUBLISHED_KINDS:
            note = "; ".join(n for n in (note, self.screen_published(text, kind.replace("_", " "),
                                                                     confirm_warnings=confirm_warnings)) if n)
        codes = _clean_codes(codes)
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO notes (ref, meeting_id, conversation_id, kind, text, speaker_role, stance, use_in_report, "
                "created_by) VALUES (?,?,?,?,?,?,?,?,?)",
                (ref, meeting_id, conversation_id, kind, text, speaker_role, stance, int(use_in_report), actor))
            nid = int(cur.lastrowid or 0)
            self._db.executemany("INSERT INTO note_codes VALUES (?,?)", [(nid, c) for c in codes])
            self._audit(actor, "insert", "note", str(nid), None,
                        {**fields, "speaker_role": speaker_role, "use_in_report": use_in_report, "codes": codes}, note)
        return nid

    def _check_note(self, text: str, kind: str, stance: str, meeting_id: int | None,
                    conversation_id: int | None) -> dict[str, Any]:
        if kind not in NOTE_KINDS:
            raise InvalidInputError(f"note kind must be one of {', '.join(NOTE_KINDS)}")
        if stance not in STANCES:
            raise InvalidInputError("stance must be strength, concern, mixed or left blank")
        if not text.strip():
            raise InvalidInputError("the note is empty; write the note or quote first")
        if (meeting_id is None) == (conversation_id is None):
            raise InvalidInputError("a note belongs to exactly one meeting or one conversation")
        table, ident = ("meetings", meeting_id) if meeting_id is not None else ("conversations", conversation_id)
        if self._db.execute(f"SELECT 1 FROM {table} WHERE id=?", (ident,)).fetchone() is None:
            raise InvalidInputError(f"there is no {table[:-1]} {ident}")
        return {"meeting_id": meeting_id, "conversation_id": conversation_id, "kind": kind, "text": text,
                "stance": stance}

    def note(self, note_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM notes WHERE id=?", (note_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no note {note_id}")
        codes = [c[0] for c in self._db.execute("SELECT code FROM note_codes WHERE note_id=? ORDER BY code",
                                                (note_id,))]
        out = dict(row)
        out["use_in_report"] = bool(out["use_in_report"])
        out["codes"] = tuple(codes)
        return out

    def update_note(self, actor: str, note_id: int, *, expected_version: int | None = None,
                    confirm_warnings: bool = False, **changes: Any) -> dict[str, Any]:
        """Change a note's text, kind, role, stance, codes or 'use in report'."""
        self._check_actor(actor)
        allowed = {"text", "kind", "speaker_role", "stance", "codes", "use_in_report"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInputError(f"a note has no field {', '.join(sorted(unknown))}")
        old = self.note(note_id)
        new = {**old, **{k: v for k, v in changes.items() if v is not None}}
        new["codes"] = tuple(_clean_codes(new["codes"]))
        self._check_note(new["text"], new["kind"], new["stance"], old["meeting_id"], old["conversation_id"])
        note = self._screen_changed(new["text"], old["text"], "note", confirm_warnings)
        newly_published = new["use_in_report"] and new["kind"] in PUBLISHED_KINDS and not (
            old["use_in_report"] and old["kind"] in PUBLISHED_KINDS and old["text"] == new["text"])
        if newly_published:
            note = "; ".join(n for n in (note, self.screen_published(new["text"], new["kind"].replace("_", " "),
                                                                     confirm_warnings=confirm_warnings)) if n)
        keys = ("text", "kind", "speaker_role", "stance", "codes", "use_in_report")
        with self.transaction():
            cur = self._db.execute(
                "UPDATE notes SET text=?, kind=?, speaker_role=?, stance=?, use_in_report=?, version=version+1 "
                "WHERE id=? AND version=?",
                (new["text"], new["kind"], new["speaker_role"], new["stance"], int(bool(new["use_in_report"])),
                 note_id, expected_version if expected_version is not None else old["version"]))
            if cur.rowcount == 0:
                raise ConflictError("This note was changed elsewhere (another tab or window). Reload the form.")
            self._db.execute("DELETE FROM note_codes WHERE note_id=?", (note_id,))
            self._db.executemany("INSERT INTO note_codes VALUES (?,?)", [(note_id, c) for c in new["codes"]])
            self._audit(actor, "update", "note", str(note_id), {k: old[k] for k in keys},
                        {k: new[k] for k in keys}, note)
        return self.note(note_id)

    def delete_note(self, actor: str, note_id: int) -> None:
        self._check_actor(actor)
        old = self.note(note_id)
        with self.transaction():
            self._db.execute("DELETE FROM notes WHERE id=?", (note_id,))
            self._audit(actor, "delete", "note", str(note_id),
                        {k: old[k] for k in ("text", "kind", "speaker_role", "stance", "codes")}, None)

    def notes(self) -> pd.DataFrame:
        """Notes joined to their meeting or conversation, in the shape the analysis expects."""
        rows = self._db.execute(
            "SELECT n.id AS note_id, n.ref, CASE WHEN n.meeting_id IS NULL THEN 'conversation' ELSE 'meeting' END AS source, "
            "n.meeting_id, n.conversation_id, m.kind AS meeting_kind, c.who, c.case_id, n.kind, n.text, "
            "n.speaker_role, n.stance, n.use_in_report, n.version, "
            "(SELECT group_concat(code, ',') FROM (SELECT code FROM note_codes WHERE note_id = n.id ORDER BY code)) "
            "AS codes FROM notes n LEFT JOIN meetings m ON m.id = n.meeting_id "
            "LEFT JOIN conversations c ON c.id = n.conversation_id ORDER BY n.id").fetchall()
        cols = ["note_id", "ref", "source", "meeting_id", "conversation_id", "meeting_kind", "who", "case_id", "kind",
                "text", "speaker_role", "stance", "use_in_report", "version", "codes"]
        df = pd.DataFrame([dict(r) for r in rows], columns=cols)
        df["use_in_report"] = df["use_in_report"].astype(bool)
        # pandas 3 reads a NULL group_concat as NaN (a float), not None: test for text.
        df["codes"] = [tuple(c.split(",")) if isinstance(c, str) and c else () for c in df["codes"]]
        return df

    # -- audit log and health ------------------------------------------------------------------
    def audit_log(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT id, at, actor, action, entity, key, old, new, note FROM audit_log ORDER BY id",
                                 self._db)

    def checkpoint(self) -> None:
        """Fold the WAL into the database and truncate it, so no old page lingers there."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def execute_read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read-only query for reports and checks (writes must use the methods above)."""
        if not sql.lstrip().lower().startswith("select"):
            raise StoreError("execute_read only runs SELECT statements")
        return self._db.execute(sql, params).fetchall()


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def latest_date(today: dt.date | None = None) -> dt.date:
    """The latest date a review can carry: ``FUTURE_YEARS`` after today (28 February for 29 February)."""
    today = today or dt.date.today()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def date_outside_window(day: dt.date, today: dt.date | None = None) -> str | None:
    """Why a real date cannot be one of a review's dates (None when it can): before 2000 or years ahead."""
    latest = latest_date(today)
    if EARLIEST_DATE <= day <= latest:
        return None
    return (f"is outside the dates a review can have ({EARLIEST_DATE.isoformat()} to {latest.isoformat()}); "
            "check the year")


def _check_date(value: str, what: str) -> None:
    if value:
        try:
            if not _ISO_DATE.fullmatch(value):  # fromisoformat also takes 20260314 and 2026-W11-6
                raise ValueError(value)
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"{what} must be written YYYY-MM-DD") from None
        outside = date_outside_window(day)
        if outside:
            raise InvalidInputError(f"the {what} {outside}")


def _check_attendees(attendees: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for role, count in attendees.items():
        role = str(role).strip()
        if not role:
            raise InvalidInputError("each attendee count needs a role, e.g. practitioner or manager")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ATTENDEES:
            raise InvalidInputError(f"the number of {role}s must be a whole number from 0 to {MAX_ATTENDEES}")
        out[role] = count
    return dict(sorted(out.items()))


def _clean_codes(codes: Iterable[str]) -> list[str]:
    return sorted({str(c).strip() for c in codes if str(c).strip()})
