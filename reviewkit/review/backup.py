"""Backups of the review store while the review runs, and putting one back.

In: a workspace whose ``review.db`` may be in use (the review hub, reviewers saving), and for a
restore a backup file. Out: ``backup_store`` writes a consistent copy of the store with SQLite's
online backup (one read transaction: the copy is the store as it was at one moment, every
rating with its audit row, however many people are saving), as one self-contained file, owner
only (0600, in a 0700 folder), named by the time it was taken (``review-2026-03-04T020000Z.db``),
and keeps only the newest N of those. ``check_backup`` opens a backup read-only and checks it
(SQLite's integrity check, the store's schema, and that it is this review's); ``restore_store``
copies the current store aside first (``review-before-restore-….db``, never pruned) and then
writes the backup into the live store through the same online backup, so a running hub sees
the restored store at its next read instead of a file swapped under it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reviewkit.core.atomic import describe_failure, make_folder
from reviewkit.core.errors import InvalidInputError, StoreError
from reviewkit.review.auditlog import now as audit_now
from reviewkit.review.migrations import BACKUP_DIR, STORE_SCHEMA, store_version
from reviewkit.review.workspace import Workspace, open_workspace

__all__ = ["DEFAULT_KEEP", "BackupCheck", "BackupResult", "backup_store", "check_backup", "list_backups",
           "restore_store"]

DEFAULT_KEEP = 14  # two weeks of daily backups
PREFIX = "review-"
_DATED = re.compile(r"^review-(\d{4}-\d{2}-\d{2}T\d{6}Z)(?:-(\d+))?\.db$")  # what --keep prunes, and nothing else
_TABLES = ("ratings", "case_flags", "meetings", "conversations", "notes", "audit_log")
TIMEOUT = 60.0  # seconds to wait for a writer's lock


@dataclass(frozen=True)
class BackupResult:
    """A backup written: where, what it holds, and the older backups removed to keep the newest N."""

    path: Path
    ratings: int
    audit_rows: int
    removed: tuple[Path, ...] = ()


@dataclass(frozen=True)
class BackupCheck:
    """What a backup holds, once it passed every check."""

    path: Path
    schema: int
    ratings: int
    audit_rows: int
    taken: str  # when it was taken (UTC, ISO 8601), or '' for a copy made otherwise


def _identity(ws: Workspace) -> dict[str, str]:
    """What says a store belongs to this review: its council, theme and audit tool."""
    return {"council": ws.meta.council, "theme": ws.meta.theme, "tool": ws.meta.tool}


def _stamp(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")


def _free_name(folder: Path, stem: str) -> Path:
    """The next name for this second: after every backup of the same second, even one already pruned away."""
    taken = [int(m.group(2) or 1) for p in folder.iterdir()
             if (m := _DATED.match(p.name)) and f"{PREFIX}{m.group(1)}" == stem]
    n = max(taken, default=0) + 1
    return folder / (f"{stem}.db" if n == 1 else f"{stem}-{n}.db")


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    try:
        conn = sqlite3.connect(target, timeout=TIMEOUT, isolation_level=None, uri=read_only)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot be opened ({describe_failure(exc)})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(TIMEOUT * 1000)}")
        yield conn
    finally:
        conn.close()


def _counts(conn: sqlite3.Connection) -> tuple[int, int]:
    return (int(conn.execute("SELECT count(*) FROM ratings").fetchone()[0]),
            int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]))


def _copy_store(source: Path, target: Path, identity: dict[str, str] | None, taken: str) -> tuple[int, int]:
    """Copy the live store ``source`` into the new file ``target`` (0600) in one step; check the copy."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private before SQLite writes into it
    os.close(fd)
    try:
        with _connect(source) as live, _connect(target) as copy:
            live.backup(copy)  # pages=-1: the whole store in one step, as it was at one moment
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            if identity is not None:
                copy.execute("INSERT OR REPLACE INTO meta VALUES ('backup_of', ?)", (json.dumps(identity),))
                copy.execute("INSERT OR REPLACE INTO meta VALUES ('backup_taken', ?)", (taken,))
            if str(copy.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
                raise StoreError(f"{target}: the copy failed SQLite's integrity check; nothing was kept")
            counts = _counts(copy)
        with open(target, "rb") as f:
            os.fsync(f.fileno())
        return counts
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"{source}: could not copy the store to {target} ({describe_failure(exc)}); "
                         "nothing was kept. Check the disk has room.") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def list_backups(folder: str | Path) -> list[Path]:
    """The dated backups ``backup_store`` wrote in ``folder``, oldest first."""
    root = Path(folder)
    if not root.is_dir():
        return []
    dated = [(m.group(1), int(m.group(2) or 1), p) for p in root.iterdir()
             if p.is_file() and (m := _DATED.match(p.name))]
    return [p for _, _, p in sorted(dated)]


def backup_store(workspace: str | Path | Workspace, to: str | Path | None = None, *, keep: int = DEFAULT_KEEP,
                 now: dt.datetime | None = None) -> BackupResult:
    """Take a consistent copy of the review store (safe while the hub runs) and keep the newest ``keep``."""
    if keep < 1:
        raise InvalidInputError("--keep must be a whole number of 1 or more, e.g. --keep 14")
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    if not ws.db_path.is_file():
        raise StoreError(f"{ws.db_path}: there is no review store to back up yet")
    folder = make_folder(Path(to) if to is not None else ws.path / BACKUP_DIR, exist_ok=True)
    taken = _stamp(now)
    # A temp name first, renamed once complete and checked: a backup folder never holds half a copy.
    final = _free_name(folder, f"{PREFIX}{taken}")
    partial = folder / f".{final.name}.partial"
    partial.unlink(missing_ok=True)
    ratings, audit_rows = _copy_store(ws.db_path, partial, _identity(ws), taken)
    os.replace(partial, final)
    dated = list_backups(folder)
    removed = tuple(dated[:-keep]) if len(dated) > keep else ()
    for old in removed:
        old.unlink(missing_ok=True)
    return BackupResult(final, ratings, audit_rows, removed)


def check_backup(workspace: str | Path | Workspace, backup: str | Path) -> BackupCheck:
    """Open a backup read-only and check it: SQLite's integrity, the store's schema, and that it is this review's."""
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    path = Path(backup)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such backup file; 'reviewkit backup' writes them to "
                                f"{ws.path / BACKUP_DIR}")
    if path.resolve() == ws.db_path.resolve():
        raise InvalidInputError(f"{path}: that is the review's own store, not a backup of it")
    not_a_store = f"{path}: not a backup of a review store (not an SQLite database the kit wrote)"
    try:
        with _connect(path, read_only=True) as conn:
            if str(conn.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
                raise StoreError(f"{path}: the backup is damaged (it fails SQLite's integrity check); "
                                 "choose another backup")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not set(_TABLES) <= tables:
                raise StoreError(not_a_store)
            schema = store_version(conn)
            if schema > STORE_SCHEMA:
                raise StoreError(f"{path}: made by a newer version of reviewkit (store schema {schema}; this version "
                                 f"reads up to {STORE_SCHEMA}); upgrade reviewkit to restore it")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            _check_same_review(ws, path, conn, meta.get("backup_of"))
            ratings, audit_rows = _counts(conn)
    except sqlite3.DatabaseError:
        raise StoreError(not_a_store) from None
    return BackupCheck(path, schema, ratings, audit_rows, str(meta.get("backup_taken", "")))


def _check_same_review(ws: Workspace, path: Path, conn: sqlite3.Connection, stamp: str | None) -> None:
    """Refuse a backup of another review: by the stamp a backup carries, else by its reviewers and cases."""
    other = f"{path}: a backup of a different review"
    if stamp:
        try:
            identity = json.loads(stamp)
        except ValueError:
            identity = None
        if identity != _identity(ws):
            raise StoreError(f"{other} (its council, theme or audit tool differ from review.yaml's); "
                             "nothing was changed")
        return
    reviewers = set(ws.meta.reviewers)
    cases = {c.id for c in ws.meta.cases}
    strangers = [r for (r,) in conn.execute("SELECT DISTINCT reviewer FROM ratings") if r not in reviewers]
    unknown = [c for (c,) in conn.execute("SELECT DISTINCT case_id FROM ratings") if cases and c not in cases]
    if strangers or unknown:
        raise StoreError(f"{other}: {len(strangers)} of its reviewers and {len(unknown)} of its cases are not in "
                         "review.yaml; nothing was changed")


def restore_store(workspace: str | Path | Workspace, backup: str | Path, *, actor: str,
                  now: dt.datetime | None = None) -> tuple[BackupCheck, Path | None]:
    """Put a checked backup back as the review's store; returns the check and where the replaced store was copied.

    The current store is copied aside first (``backups/review-before-restore-….db``). The backup is
    written into the live store with SQLite's online backup, so connections open elsewhere (the
    hub's forms) read the restored store next; the restore is recorded in the audit log.
    """
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    checked = check_backup(ws, backup)
    saved: Path | None = None
    if ws.db_path.is_file():
        folder = make_folder(ws.path / BACKUP_DIR, exist_ok=True)
        saved = _free_name(folder, f"{PREFIX}before-restore-{_stamp(now)}")
        _copy_store(ws.db_path, saved, _identity(ws), _stamp(now))
    try:
        with _connect(checked.path, read_only=True) as source, _connect(ws.db_path) as live:
            source.backup(live)  # one step, under the store's write lock
            live.execute("PRAGMA journal_mode = WAL")
            live.execute("DELETE FROM meta WHERE key IN ('backup_of', 'backup_taken')")
            live.execute("INSERT INTO audit_log (at, actor, action, entity, key, old, new, note) "
                         "VALUES (?,?,?,?,?,?,?,?)",
                         (audit_now(), actor, "restore", "store", checked.path.name, None, None,
                          f"restored from a backup taken {checked.taken or 'at an unknown time'}"))
            if str(live.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
                raise StoreError(f"{ws.db_path}: the restored store fails SQLite's integrity check; the store "
                                 f"from before is {saved}")
    except sqlite3.Error as exc:
        raise StoreError(f"{ws.db_path}: could not restore the backup ({describe_failure(exc)}); the store from "
                         f"before is {saved}") from None
    return checked, saved
