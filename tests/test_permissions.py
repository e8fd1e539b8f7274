"""Other users of the same computer cannot read a review's private parts.

The store (with its -wal and -shm files), private/ (names, the redaction map) and the report
cache are created owner-only (0600 files, 0700 folders) whatever the umask; a workspace made
before, or copied in with open modes, is tightened when opened, and the command line says so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.report.inputs import cache_store
from reviewkit.review.redaction import redact_workspace
from reviewkit.review.workspace import open_workspace

from .helpers import make_workspace


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask, under which new files are readable by everyone (0644 / 0755)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _private_parts(root: Path) -> list[Path]:
    parts = [root / "review.db", root / "private"]
    parts += [p for p in (root / "review.db-wal", root / "review.db-shm") if p.exists()]
    for tree in (root / "private", root / ".cache"):
        if tree.exists():
            parts += [tree, *tree.rglob("*")]
    return parts


def _open_to_others(root: Path) -> list[str]:
    return [f"{p.relative_to(root)} {oct(_mode(p))}" for p in _private_parts(root) if _mode(p) & 0o077]


def test_a_new_workspace_keeps_its_private_parts_to_its_owner(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "private" / "names.txt").write_text("Zebediah Quokkafeather\n", encoding="utf-8")
    with ws.store() as s:  # open: the -wal and -shm files exist now
        s.execute_read("SELECT 1")
        assert Path(f"{ws.db_path}-wal").exists() and Path(f"{ws.db_path}-shm").exists()
        assert _open_to_others(ws.path) == []
    assert _mode(ws.path / "private") == 0o700
    assert _mode(ws.db_path) == 0o600
    assert _mode(ws.path / "review.yaml") == 0o600  # staff logins: every file the kit writes is owner-only


def test_the_redaction_map_and_the_report_cache_are_owner_only(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "private" / "names.txt").write_text("Zebediah Quokkafeather\n", encoding="utf-8")
    (ws.path / "narrative" / "introduction.md").write_text("We met Zebediah Quokkafeather.\n", encoding="utf-8")
    redact_workspace(ws, actor="t")
    assert (ws.path / "private" / "redaction_map.json").exists()
    rendered = tmp_path / "report.html"
    rendered.write_text("<p>the report</p>", encoding="utf-8")
    cache_store(ws.path / ".cache" / "report" / "0123abcd", {"html": rendered})
    assert (ws.path / ".cache" / "report" / "0123abcd" / "report.html").exists()
    ws.stamp_report_cache()  # as every render does: which names.txt the cache was made with
    assert (ws.path / ".cache" / "report" / ".names-digest").exists()
    assert _open_to_others(ws.path) == []


def test_an_open_workspace_is_tightened_on_open_and_the_cli_says_so(tmp_path, capsys):
    ws = make_workspace(tmp_path / "ws")
    cached = ws.path / ".cache" / "report" / "old"
    cached.mkdir(parents=True)
    (cached / "report.html").write_text("<p>old</p>", encoding="utf-8")
    for p in _private_parts(ws.path):  # as an older kit, or a copy, left them
        p.chmod(0o755 if p.is_dir() else 0o644)
    assert _open_to_others(ws.path)
    assert main(["status", str(ws.path)]) == 0
    err = capsys.readouterr().err
    assert "note: " in err and "review.db, private, .cache could be read by other users" in err
    assert _open_to_others(ws.path) == []
    assert main(["status", str(ws.path)]) == 0  # once tightened, nothing more to say
    assert "could be read by other users" not in capsys.readouterr().err


def test_tightening_is_reported_through_logging_by_the_library(tmp_path, caplog):
    ws = make_workspace(tmp_path / "ws")
    ws.db_path.chmod(0o644)
    with caplog.at_level("WARNING", logger="reviewkit"):
        open_workspace(ws.path)
    assert [r.getMessage() for r in caplog.records] == [
        f"{ws.path}: review.db could be read by other users of this computer; made private to you"]
    assert _mode(ws.db_path) == 0o600
