"""The review store: SQLite in the workspace, with an append-only audit log.

Every change from the forms, imports and the CLI goes through ``Store``: one ``BEGIN
IMMEDIATE`` transaction writes the row and its audit row together, so a crash leaves either
both or neither. WAL lets the host read while reviewers write. Free text is screened for
personal identifiers before it is stored, and the audit log records free text only as a
length and digest, so redacting a note never leaves the old words behind in the log.

The methods for each kind of record are mixed in: ratings and case flags from
reviewkit.review.ratings, meetings, conversations and notes from reviewkit.review.fieldwork, the
concerns log from reviewkit.review.concerns, the calibration round from reviewkit.review.calibration.
This module opens the store and holds what they share: transactions, screening, who may
write, and the audit log (its format in reviewkit.review.auditlog).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.atomic import describe_failure
from reviewkit.core.errors import AccessError, StoreError, UnsafeLocationError, WarningTextError
from reviewkit.core.tools import RatingScale
from reviewkit.privacy import prescreen
from reviewkit.privacy import screening as privacy
from reviewkit.review import auditlog, migrations
from reviewkit.review.calibration import CalibrationMixin
from reviewkit.review.concerns import ConcernsMixin
from reviewkit.review.fieldwork import FieldworkMixin
from reviewkit.review.ratings import RatingsMixin

if TYPE_CHECKING:
    from reviewkit.review.session import Session

SCHEMA_VERSION = migrations.STORE_SCHEMA  # PRAGMA user_version; see reviewkit.review.migrations
SYNCED_MARKERS = ("onedrive", "sharepoint", "dropbox", "google drive", "googledrive", "my drive",
                  "icloud drive", "icloud", "box sync", "nextcloud", "owncloud", "pcloud")
NETWORK_FS = {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "sshfs", "afs",
              "9p", "fuse.rclone", "davfs", "fuse.davfs2", "glusterfs", "ceph", "fuse.s3fs", "fuse.gcsfuse"}

# Schema 1, as reviewkit 0.1.0 made it: never edit it; add a migration (see reviewkit.review.migrations).
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
"""
_SCHEMA += auditlog.AUDIT_LOG_SCHEMA


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


@dataclass(frozen=True)
class Rules:
    """What the review allows: question ids, scale, reviewers, cases (empty = any) and names."""

    questions: tuple[str, ...]
    scale: RatingScale
    reviewers: tuple[str, ...]
    cases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: tuple[str, ...] = ()


class Store(RatingsMixin, FieldworkMixin, ConcernsMixin, CalibrationMixin):
    """The review's SQLite store; all writes go through its methods."""

    def __init__(self, path: str | Path, rules: Rules | None = None, *, timeout: float = 60.0,
                 session: Session | None = None) -> None:
        self.path = Path(path)
        self.rules = rules
        self.session = session  # who signed in to the review hub; None on one computer or the CLI
        self._screened: dict[tuple[str, str, bool], str] = {}  # see screen()
        self._calibrated: set[str] = set()  # reviewers whose cases are open (see CalibrationMixin)
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
            raise StoreError(f"{self.path}: cannot open the review store ({describe_failure(exc)}); nothing was "
                             "changed") from None
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
            auditlog.AUDIT_LOG_INSERT, (auditlog.now(), actor, action, entity, key, auditlog.for_log(old), auditlog.for_log(new), note),
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
        from reviewkit.privacy.gate import describe_kinds, shape_kinds  # start-up: the gate brings in lxml and mistune

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

    def _check_own_case(self, case_id: str, what: str) -> None:
        """Under the hub, a visiting reviewer records conversations (and their notes) on their own cases only.

        Called after the case is known to be on the case list, so naming it repeats nothing typed.
        """
        if self.session is None or self.session.is_host or self.rules is None or not self.rules.cases:
            return
        if self.session.reviewer not in self.rules.cases.get(case_id, ()):
            raise AccessError(f"You are signed in as {self.session.reviewer}: case {case_id} is not allocated to "
                              f"you in review.yaml, so you cannot record {what} about it.")

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
