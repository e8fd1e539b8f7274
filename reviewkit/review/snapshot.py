"""One read of a review: the immutable snapshot a render gates, hashes and publishes from.

Why: a render used to read the review several times over (the publish gate, the cache digest,
the charts drawn ahead and the notebook's sections each opened the workspace for themselves),
so a save made meanwhile could put text in the report that the gate had never screened.
``take_snapshot`` reads every input once (review.yaml, the audit tool, the codebook,
names.txt, the redaction map, the previous round, the narrative files, and the store's tables
in one read transaction) into a frozen value. The gate, the digest, the charts and the sections
all take that value; ``render_report`` hands it to its kernel as a private file
(``write_snapshot``, owner-only, in the render's private staging folder) which the notebook reads
instead of the workspace. Run by hand, the notebook takes a snapshot of its own.

A snapshot offers the read side of a ``Workspace`` (``path``, ``meta``, ``tool``,
``private_names()``, ``store()``), so the checks written for a workspace take it unchanged;
its ``store()`` answers from the rows read, never from the database.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from reviewkit.core.errors import CodebookError, ReviewkitError, WorkspaceError
from reviewkit.core.themes import load_codebook, parse_codebook
from reviewkit.core.tools import AuditTool, load_yaml, parse_tool
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.files import PREVIOUS_ROUND_FILE, REDACTION_MAP_FILE
from reviewkit.review.reviewyaml import ReviewMeta
from reviewkit.review.workspace import (
    CODEBOOK_FILE,
    CONFIRMED_FILE,
    NAMES_FILE,
    REVIEW_FILE,
    TOOL_FILE,
    Workspace,
    open_workspace,
    parse_meta,
    parse_names,
)

__all__ = [
    "DIGEST_EXCLUDED",
    "SNAPSHOT_ENV",
    "ReviewSnapshot",
    "Table",
    "digest_tables",
    "read_snapshot",
    "snapshot_of",
    "take_snapshot",
    "write_snapshot",
]

SNAPSHOT_ENV = "REVIEWKIT_SNAPSHOT"  # set by render_report in its kernel's environment only
FORMAT = "reviewkit-review-snapshot"
VERSION = 1
# The files a render depends on besides the narrative and the store, in the digest's order.
FILES = (REVIEW_FILE, TOOL_FILE, CODEBOOK_FILE, NAMES_FILE, REDACTION_MAP_FILE, PREVIOUS_ROUND_FILE, CONFIRMED_FILE)
# The store's read methods whose results a render uses (see reviewkit.review.store.Store).
TABLES = ("ratings", "all_ratings", "case_flags", "meetings", "conversations", "notes", "concerns",
          "calibration_ratings")
# What the cache digest hashes of the store: every table the schema has (read from it, so a
# table a migration adds is hashed without anyone remembering to list it), without timestamps
# and versions, except
# - audit_log: the history of saves, not the review's content; an edit and its undo both add
#   rows to it, and the digest must come back to the same value (no report prints the log);
# - SQLite's own tables (sqlite_sequence, sqlite_stat1, …): the engine's bookkeeping, such as
#   the count of audit rows.
# ``meta`` is hashed: it holds the schema version, so an upgraded store renders afresh once.
DIGEST_EXCLUDED = ("audit_log",)
_DIGEST_SKIP = {"updated_at", "updated_by", "version"}


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """A fresh, mutable copy of a frozen cell (attendance by role is a dict in a DataFrame)."""
    if isinstance(value, MappingProxyType):
        return {k: _thaw(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Table:
    """One of the store's tables as read: column names, pandas dtypes and rows of plain values."""

    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @classmethod
    def of(cls, df: pd.DataFrame) -> Table:
        values = [[_freeze(v) for v in df[c].tolist()] for c in df.columns]
        return cls(tuple(str(c) for c in df.columns), tuple(str(d) for d in df.dtypes), tuple(zip(*values)))

    def frame(self) -> pd.DataFrame:
        """A new DataFrame of the rows, the same (dtypes included) as the store's method returns."""
        cells = list(zip(*self.rows)) if self.rows else [()] * len(self.columns)
        return pd.DataFrame({c: pd.Series([_thaw(v) for v in vals], dtype=d)
                             for c, d, vals in zip(self.columns, self.dtypes, cells)}, columns=list(self.columns))


class _FrozenMeta(ReviewMeta):
    """review.yaml as a snapshot holds it: its lists as tuples, and no attribute can be set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_sealed", False)
        super().__init__(*args, **kwargs)
        for f in dataclasses.fields(ReviewMeta):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
        object.__setattr__(self, "_sealed", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_sealed", False):
            raise dataclasses.FrozenInstanceError(f"cannot assign to field '{name}': a review snapshot is read-only")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field '{name}': a review snapshot is read-only")


def _frozen_meta(meta: ReviewMeta) -> ReviewMeta:
    return _FrozenMeta(**{f.name: getattr(meta, f.name) for f in dataclasses.fields(ReviewMeta)})


class SnapshotStore:
    """The store's read methods, answered from a snapshot's rows (each call a new DataFrame)."""

    def __init__(self, tables: Mapping[str, Table]) -> None:
        self._tables = tables

    def __enter__(self) -> SnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def ratings(self) -> pd.DataFrame:
        return self._tables["ratings"].frame()

    def all_ratings(self) -> pd.DataFrame:
        return self._tables["all_ratings"].frame()

    def case_flags(self) -> pd.DataFrame:
        return self._tables["case_flags"].frame()

    def meetings(self) -> pd.DataFrame:
        return self._tables["meetings"].frame()

    def conversations(self) -> pd.DataFrame:
        return self._tables["conversations"].frame()

    def notes(self) -> pd.DataFrame:
        return self._tables["notes"].frame()

    def concerns(self) -> pd.DataFrame:
        return self._tables["concerns"].frame()

    def calibration_ratings(self) -> pd.DataFrame:
        return self._tables["calibration_ratings"].frame()


@dataclass(frozen=True)
class ReviewSnapshot:
    """Everything a report is made from, read once: files as bytes, the store as rows."""

    path: Path
    meta: ReviewMeta  # read-only (see _FrozenMeta)
    tool: AuditTool
    files: Mapping[str, bytes]  # FILES present in the workspace, by path inside it
    narrative: Mapping[str, bytes]  # narrative/*.md by file name
    tables: Mapping[str, Table]  # TABLES by name
    store_digest: str  # sha256 of the store's content without timestamps and versions

    @property
    def narrative_dir(self) -> Path:
        return self.path / "narrative"

    def private_names(self) -> list[str]:
        """Names the host listed for screening (private/names.txt as read)."""
        raw = self.files.get(NAMES_FILE)
        return [] if raw is None else parse_names(raw, self.path / NAMES_FILE)

    def confirmed_words(self) -> list[str]:
        """Words the host confirmed are not names (private/confirmed_words.txt as read)."""
        raw = self.files.get(CONFIRMED_FILE)
        return [] if raw is None else parse_names(raw, self.path / CONFIRMED_FILE)

    def redaction_map(self) -> dict[str, str]:
        """The review's name → placeholder map as read (empty if missing or damaged)."""
        try:
            data = json.loads(self.files.get(REDACTION_MAP_FILE, b"{}").decode("utf-8"))
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def narrative_bytes(self, name: str) -> bytes | None:
        """narrative/``name`` as read, or None if there was no such file."""
        return self.narrative.get(name)

    def store(self) -> SnapshotStore:
        return SnapshotStore(self.tables)

    def frame(self, table: str) -> pd.DataFrame:
        return self.tables[table].frame()

    def previous_round(self) -> Any:
        """The previous round's figures (a ``reviewkit.review.bundle.Bundle``), or None when there are none."""
        raw = self.files.get(PREVIOUS_ROUND_FILE)
        if raw is None:
            return None
        path = self.path / PREVIOUS_ROUND_FILE
        try:
            return read_bundle(raw, path.name)
        except ReviewkitError as exc:
            raise WorkspaceError(f"{path}: the previous round's figures cannot be read ({exc}); replace the file "
                                 "with the previous round's regional bundle, or delete it") from None

    def codebook(self) -> Any:
        """The review's frozen codebook as read (or the shipped one review.yaml names); may raise CodebookError."""
        raw = self.files.get(CODEBOOK_FILE)
        if raw is None:
            return load_codebook(self.meta.codebook)
        path = self.path / CODEBOOK_FILE
        return replace(parse_codebook(load_yaml(raw, str(path), CodebookError), str(path)), source=path)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except FileNotFoundError:
        return None


def digest_tables(store: Any) -> tuple[str, ...]:
    """The store's tables the cache digest hashes, by name: all but DIGEST_EXCLUDED and SQLite's own."""
    names = [r[0] for r in store.execute_read("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return tuple(n for n in names if n not in DIGEST_EXCLUDED and not n.startswith("sqlite_"))


def _store_digest(store: Any) -> str:
    """The store's content without timestamps and versions: an edit undone hashes the same."""
    out: list[Any] = []
    for table in digest_tables(store):
        rows = [{k: r[k] for k in r.keys() if k not in _DIGEST_SKIP}  # noqa: SIM118 (sqlite3.Row)
                for r in store.execute_read(f"SELECT * FROM {table}")]
        out.append([table, sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)])
    return hashlib.sha256(json.dumps(out).encode()).hexdigest()


def take_snapshot(workspace: str | Path | Workspace) -> ReviewSnapshot:
    """Read the review once: its files, its narrative and its store (one read transaction)."""
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    files: dict[str, bytes] = {}
    for name in FILES:
        raw = ws.sources.get(name)  # what open_workspace parsed into meta and tool
        if raw is None:
            raw = _read(ws.path / name)
        if raw is not None:
            files[name] = raw
    narrative = {p.name: p.read_bytes() for p in sorted(ws.narrative_dir.glob("*.md")) if p.is_file()}
    with ws.store() as store, store.reading():
        tables = {name: Table.of(getattr(store, name)()) for name in TABLES}
        digest = _store_digest(store)
    return ReviewSnapshot(path=ws.path, meta=_frozen_meta(ws.meta), tool=ws.tool,
                          files=MappingProxyType(files), narrative=MappingProxyType(narrative),
                          tables=MappingProxyType(tables), store_digest=digest)


# --------------------------------------------------------------------------- the file for the kernel

def _encode(value: Any) -> Any:
    if isinstance(value, MappingProxyType):
        return {"$map": [[k, _encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$map" in value:
            return MappingProxyType({k: _decode(v) for k, v in value["$map"]})
        if "$tuple" in value:
            return tuple(_decode(v) for v in value["$tuple"])
    return value


def write_snapshot(snapshot: ReviewSnapshot, file: Path) -> Path:
    """Write the snapshot for the render's kernel: versioned JSON, owner-only, never replaced."""
    doc = {
        "format": FORMAT, "version": VERSION, "path": str(snapshot.path.resolve()),
        "files": {k: base64.b64encode(v).decode("ascii") for k, v in snapshot.files.items()},
        "narrative": {k: base64.b64encode(v).decode("ascii") for k, v in snapshot.narrative.items()},
        "tables": {k: {"columns": list(t.columns), "dtypes": list(t.dtypes),
                       "rows": [[_encode(v) for v in row] for row in t.rows]} for k, t in snapshot.tables.items()},
        "store_digest": snapshot.store_digest,
    }
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return file


def read_snapshot(file: str | Path, workspace: str | Path) -> ReviewSnapshot:
    """The snapshot ``render_report`` wrote for ``workspace``; WorkspaceError if it is not that."""
    try:
        doc = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise WorkspaceError(f"{file}: the render's snapshot of the review cannot be read") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise WorkspaceError(f"{file}: not a review snapshot this version of reviewkit reads")
    path = Path(workspace)
    if Path(doc["path"]) != path.resolve():
        raise WorkspaceError(f"{file}: the render's snapshot is of another workspace than {path}")
    files = {k: base64.b64decode(v) for k, v in doc["files"].items()}
    meta = parse_meta(load_yaml(files[REVIEW_FILE], str(path / REVIEW_FILE), WorkspaceError), str(path / REVIEW_FILE))
    tool_file = str(path / TOOL_FILE)
    tool = parse_tool(load_yaml(files[TOOL_FILE], tool_file), tool_file)
    tables = {k: Table(tuple(t["columns"]), tuple(t["dtypes"]), tuple(tuple(_decode(v) for v in row)
                                                                      for row in t["rows"]))
              for k, t in doc["tables"].items()}
    return ReviewSnapshot(path=path, meta=_frozen_meta(meta), tool=tool, files=MappingProxyType(files),
                          narrative=MappingProxyType({k: base64.b64decode(v) for k, v in doc["narrative"].items()}),
                          tables=MappingProxyType(tables), store_digest=str(doc["store_digest"]))


def snapshot_of(workspace: str | Path | Workspace | ReviewSnapshot) -> ReviewSnapshot:
    """The snapshot to build a report from: the one given; in a render's kernel, the one the render
    gated (never the workspace as it is now); otherwise a new one."""
    if isinstance(workspace, ReviewSnapshot):
        return workspace
    if isinstance(workspace, Workspace):
        return take_snapshot(workspace)
    handed = os.environ.get(SNAPSHOT_ENV, "")
    if handed:
        return read_snapshot(handed, workspace)
    return take_snapshot(workspace)


def iter_files(snapshot: ReviewSnapshot) -> Iterator[tuple[str, bytes]]:
    """Each of FILES with its bytes (empty when missing), then narrative/*.md by name: the digest's order."""
    for name in FILES:
        yield name, snapshot.files.get(name, b"")
    for name in sorted(snapshot.narrative):
        yield "narrative/" + name, snapshot.narrative[name]
