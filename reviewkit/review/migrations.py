"""Forward-only upgrades of a review workspace, so a review begun with an older reviewkit opens in a newer one.

Two things in a workspace carry a version:

- the store, ``review.db``: SQLite's ``PRAGMA user_version`` (0.1.0 left it at 0 with its
  tables in place; that is schema 1);
- ``review.yaml``: its ``format`` key (1 in 0.1.0).

On open, an older store is copied to ``backups/`` in the workspace first, then upgraded one
step at a time, each step in one transaction together with its new version number, so a
failure leaves the store at the last good step. An older ``review.yaml`` is copied to
``backups/`` and rewritten in the current format. Each upgrade is logged (logger
``reviewkit``) as one plain sentence, which the CLI prints. A store or ``review.yaml``
written by a *newer* reviewkit is refused untouched, with the fix (upgrade reviewkit).

How to add a migration
----------------------
Store: append a ``StoreMigration(version, summary, apply)`` to ``STORE_MIGRATIONS``. ``version``
is the next whole number; ``summary`` says in plain words what changes; ``apply(conn)`` runs
its statements with ``conn.execute`` (or ``run_script(conn, sql)`` for several). Never commit,
never call ``executescript`` and never edit ``store._SCHEMA`` (it is schema 1, as 0.1.0 made
it): a new store is made as schema 1 plus every migration, so there is one definition. Foreign
keys are off during a step (so a table can be rebuilt the SQLite way: create, copy, drop,
rename) and checked before it commits. Never change or remove a released migration.

review.yaml: append a ``WorkspaceMigration(format, summary, apply)`` to
``WORKSPACE_MIGRATIONS``; ``apply(data)`` takes the parsed YAML of the previous format and
returns it in the new one (it must not touch files: it also reads older files in memory).
``workspace.FORMAT`` follows on its own. A new optional key that defaults sensibly when
absent needs no migration.

Add a test beside ``tests/test_migrations.py``'s: the 0.1.0 workspace in ``tests/data`` must
still open, report and export the same figures.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import describe_failure, make_folder, owner_only
from reviewkit.core.errors import MigrationError, NewerVersionError, StoreError, WorkspaceError

__all__ = [
    "BACKUP_DIR",
    "STORE_MIGRATIONS",
    "STORE_SCHEMA",
    "WORKSPACE_FORMAT",
    "WORKSPACE_MIGRATIONS",
    "StoreMigration",
    "WorkspaceMigration",
    "check_store_not_newer",
    "run_script",
    "save_upgraded_review_file",
    "upgrade_review_data",
    "upgrade_store",
]

log = logging.getLogger("reviewkit.review.migrations")

BACKUP_DIR = "backups"
UPGRADE_HINT = "upgrade reviewkit (pip install --upgrade reviewkit) and try again"


@dataclass(frozen=True)
class StoreMigration:
    """One step of the store's schema: from ``version - 1`` to ``version``."""

    version: int
    summary: str
    apply: Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class WorkspaceMigration:
    """One step of review.yaml: from ``format - 1`` to ``format``."""

    format: int
    summary: str
    apply: Callable[[dict[str, Any]], dict[str, Any]]


def _add_concerns(conn: sqlite3.Connection) -> None:
    run_script(conn, """
CREATE TABLE concerns (
    case_id TEXT NOT NULL, reviewer TEXT NOT NULL,
    what TEXT NOT NULL, raised_on TEXT NOT NULL, raised_with TEXT NOT NULL,
    response TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'acted', 'already-in-hand', 'no-further-action')),
    responded_on TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (case_id, reviewer)
);
""")


def _add_calibration(conn: sqlite3.Connection) -> None:
    """Schema 3: a calibration round's records, each reviewer's ratings of them, and the agreed ratings."""
    run_script(conn, """
CREATE TABLE calibration_records (
    record_id TEXT PRIMARY KEY, added_at TEXT NOT NULL, added_by TEXT NOT NULL
);
CREATE TABLE calibration_rounds (
    round INTEGER PRIMARY KEY CHECK (round >= 1), started_at TEXT NOT NULL, started_by TEXT NOT NULL
);
CREATE TABLE calibration_ratings (
    round INTEGER NOT NULL REFERENCES calibration_rounds(round),
    record_id TEXT NOT NULL REFERENCES calibration_records(record_id),
    reviewer TEXT NOT NULL, question TEXT NOT NULL, rating TEXT, comment TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (round, record_id, reviewer, question)
);
CREATE TABLE calibration_agreed (
    record_id TEXT NOT NULL REFERENCES calibration_records(record_id),
    question TEXT NOT NULL, rating TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (record_id, question)
);
CREATE TABLE calibration_open (
    reviewer TEXT PRIMARY KEY, opened_at TEXT NOT NULL, opened_by TEXT NOT NULL
);
""")


# Schema 1 is store._SCHEMA, as reviewkit 0.1.0 made it. Later steps go here, in order.
STORE_MIGRATIONS: tuple[StoreMigration, ...] = (
    StoreMigration(2, "adds the concerns log (a risk to a person found during the review, and the council's "
                      "response)", _add_concerns),
    StoreMigration(3, "adds the calibration round: calibration records, their ratings and the agreed ratings",
                   _add_calibration),
)

# Format 1 is review.yaml as reviewkit 0.1.0 wrote it. Later steps go here, in order.
WORKSPACE_MIGRATIONS: tuple[WorkspaceMigration, ...] = ()


def _latest(steps: tuple[Any, ...], attr: str) -> int:
    numbers = [getattr(s, attr) for s in steps]
    if numbers != list(range(2, 2 + len(numbers))):
        raise AssertionError(f"migrations must be numbered 2, 3, … in order (found {numbers})")
    return 1 + len(numbers)


STORE_SCHEMA = _latest(STORE_MIGRATIONS, "version")
WORKSPACE_FORMAT = _latest(WORKSPACE_MIGRATIONS, "format")


def run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run several SQL statements inside the caller's transaction (``executescript`` would commit)."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                conn.execute(statement)
            statement = ""
    if statement.strip():
        conn.execute(statement)


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _backup_path(workspace: Path, stem: str, suffix: str) -> Path:
    folder = make_folder(workspace / BACKUP_DIR, exist_ok=True)
    path = folder / f"{stem}-{_stamp()}{suffix}"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{_stamp()}-{n}{suffix}"
    return path


# --------------------------------------------------------------------------- the store

def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='ratings'").fetchone() is not None


def store_version(conn: sqlite3.Connection) -> int:
    """The store's schema: ``user_version``, or 1 for 0.1.0's (tables, no version), 0 when empty."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version == 0 and _has_tables(conn):
        return 1
    return version


def _newer_store(path: Path, version: int) -> NewerVersionError:
    return NewerVersionError(
        f"{path}: this review's store was written by a newer version of reviewkit (store schema {version}; "
        f"this version reads up to {STORE_SCHEMA}). Nothing was changed; {UPGRADE_HINT}.")


def check_store_not_newer(path: Path) -> None:
    """Refuse, without writing anything, a store written by a newer reviewkit (a read-only peek)."""
    if not path.is_file():
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return  # opening the store for real reports the problem
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error:
        return
    finally:
        conn.close()
    if version > STORE_SCHEMA:
        raise _newer_store(path, version)


@contextlib.contextmanager
def _step(conn: sqlite3.Connection) -> Any:
    """One migration step: foreign keys off, one transaction, foreign keys checked before commit."""
    conn.execute("PRAGMA foreign_keys = OFF")  # (a no-op inside a transaction, so set it first)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        broken = conn.execute("PRAGMA foreign_key_check").fetchone()
        if broken is not None:
            raise sqlite3.IntegrityError(f"a row of {broken[0]} lost the row it refers to")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _set_version(conn: sqlite3.Connection, version: int) -> None:
    conn.execute(f"PRAGMA user_version = {int(version)}")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(version),))


def _create(conn: sqlite3.Connection, schema_1: str) -> None:
    """A new store: schema 1 plus every migration, in one transaction."""
    with _step(conn):
        if store_version(conn) != 0:
            return  # made meanwhile by another process
        run_script(conn, schema_1)
        for step in STORE_MIGRATIONS:
            step.apply(conn)
        _set_version(conn, STORE_SCHEMA)


def upgrade_store(conn: sqlite3.Connection, path: Path, schema_1: str) -> None:
    """Bring an open store to ``STORE_SCHEMA``: create it, upgrade it (backup first) or refuse it.

    ``conn`` is in autocommit mode (``isolation_level=None``); ``schema_1`` is the SQL of schema 1.
    """
    try:
        version = store_version(conn)
    except sqlite3.OperationalError as exc:  # the disk, a lock or permissions: not the file's content

        raise StoreError(f"{path}: cannot open the review store ({describe_failure(exc)})") from None
    except sqlite3.DatabaseError:
        raise StoreError(f"{path}: not a review store (not an SQLite database); restore it from a copy") from None
    if version == STORE_SCHEMA:
        if conn.execute("PRAGMA user_version").fetchone()[0] != version:
            with _step(conn):  # a 0.1.0 store: write down the schema it already has
                _set_version(conn, version)
        return
    if version > STORE_SCHEMA:
        raise _newer_store(path, version)
    if version == 0:
        _create(conn, schema_1)
        return
    backup = _backup_path(path.parent, f"{path.stem}-schema{version}", path.suffix or ".db")
    try:
        owner_only(backup)  # a copy of the store: private before SQLite writes into it
        with contextlib.closing(sqlite3.connect(backup)) as copy:
            conn.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    except (sqlite3.Error, OSError) as exc:
        with contextlib.suppress(OSError):
            backup.unlink()
        raise MigrationError(f"{path}: could not copy the store to {backup} before upgrading it "
                             f"({type(exc).__name__}); nothing was changed. Check the disk has room.") from None
    for step in STORE_MIGRATIONS:
        if step.version <= version:
            continue
        try:
            with _step(conn):
                if store_version(conn) >= step.version:
                    continue  # done meanwhile by another process
                step.apply(conn)
                _set_version(conn, step.version)
        except sqlite3.Error as exc:
            raise MigrationError(
                f"{path}: could not upgrade the review store to schema {step.version} ({step.summary}): "
                f"{type(exc).__name__}. That step was undone; a copy of the store from before the upgrade "
                f"is {backup}.") from None
    log.warning("Upgraded this review's store from schema %d to %d for this version of reviewkit; "
                "a copy from before the upgrade is %s", version, STORE_SCHEMA, backup)


# --------------------------------------------------------------------------- review.yaml

def _format_of(data: dict[str, Any], where: str) -> int:
    value = data.get("format", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WorkspaceError(f"{where}: 'format' must be a whole number such as {WORKSPACE_FORMAT}")
    return value


def upgrade_review_data(data: dict[str, Any], where: str) -> tuple[dict[str, Any], int]:
    """review.yaml's content in the current format (in memory) and the format it was in."""
    old = _format_of(data, where)
    if old > WORKSPACE_FORMAT:
        raise NewerVersionError(
            f"{where}: written by a newer version of reviewkit (format {old}; this version reads up to "
            f"{WORKSPACE_FORMAT}). Nothing was changed; {UPGRADE_HINT}.")
    for step in WORKSPACE_MIGRATIONS:
        if step.format > old:
            data = step.apply(dict(data))
            data["format"] = step.format
    return data, old


def save_upgraded_review_file(path: Path, data: dict[str, Any], old: int,
                              dump: Callable[[dict[str, Any]], str]) -> None:
    """Write review.yaml in the current format, after copying the old file to backups/."""
    backup = _backup_path(path.parent, f"{path.stem}-format{old}", path.suffix)
    tmp: str | None = None
    try:
        owner_only(backup)  # private before the copy: copyfile keeps the mode of a file it writes into
        shutil.copyfile(path, backup)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dump(data))
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise MigrationError(f"{path}: could not upgrade it to format {WORKSPACE_FORMAT} "
                             f"({exc.strerror or type(exc).__name__}); nothing was changed") from None
    log.warning("Upgraded %s from format %d to %d for this version of reviewkit; a copy of the old file is %s",
                path.name, old, WORKSPACE_FORMAT, backup)
