"""A full disk or an unwritable folder gives a plain message, exit 1 and no traceback.

A full disk is simulated safely: the command runs in a subprocess under a file-size limit
(RLIMIT_FSIZE), so any write past the limit fails with EFBIG as a full disk fails with
ENOSPC, and no real disk fills.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import make_workspace

_CHILD = """
import resource, sys
limit = int(sys.argv[1])
from reviewkit.cli import main  # imported first: the limit is for the command's own writes
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
sys.exit(main(sys.argv[2:]))
"""
COMMENT = "Strengths and networks are recorded before services are considered. " * 70  # ~5 KB, no identifier


def ratings_csv(path: Path) -> Path:
    """Every allocated rating with a long comment: about 600 KB once stored."""
    allocation = {"C01": ["A. Visitor", "B. Visitor"], "C02": ["A. Visitor"], "C03": ["B. Visitor"],
                  "C04": ["B. Visitor"], "C05": ["C. Visitor"], "C06": ["C. Visitor"], "C07": ["H. Host"],
                  "C08": ["H. Host"]}
    lines = ["case_id,reviewer,question,rating,comment"]
    for case, reviewers in allocation.items():
        for reviewer in reviewers:
            lines += [f"{case},{reviewer},q{q},Good,{COMMENT}" for q in range(1, 13)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def limited(limit: int, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", _CHILD, str(limit), *argv], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def run_with_file_limit(tmp_path: Path, scenario: str, limit_kb: int) -> subprocess.CompletedProcess[str]:
    """Run one command of `scenario` on a fresh workspace with files limited to `limit_kb`."""
    ws = make_workspace(tmp_path / "ws")
    if scenario == "import":
        return limited(limit_kb * 1024, "import", str(ws.path), str(ratings_csv(tmp_path / "r.csv")))
    raise ValueError(scenario)


def _plain(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_an_import_on_a_full_disk_stores_nothing_and_says_so(tmp_path):
    from reviewkit.review.workspace import open_workspace

    message = _plain(run_with_file_limit(tmp_path, "import", limit_kb=256))
    assert "review.db" in message and "the disk is full" in message and "nothing was imported" in message
    with open_workspace(tmp_path / "ws").store() as s:
        assert len(s.all_ratings()) == 0


def test_opening_the_store_on_a_full_disk_is_a_plain_error(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    db = sqlite3.connect(ws.db_path)  # the last connection to close removes the -wal and -shm files
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    for extra in ("-wal", "-shm"):  # so opening the store must create them
        assert not Path(f"{ws.db_path}{extra}").exists()
    message = _plain(limited(0, "status", str(ws.path)))
    assert "review.db: cannot open the review store (the disk is full" in message


def test_creating_a_workspace_on_a_full_disk_is_a_plain_error(tmp_path):
    _plain(limited(0, "new", str(tmp_path / "ws"), "--council", "Testshire Council", "--theme", "Strengths"))


def test_an_export_on_a_full_disk_leaves_no_file_and_says_so(tmp_path):
    from reviewkit.cli import main

    ws = make_workspace(tmp_path / "ws")
    assert main(["import", str(ws.path), str(ratings_csv(tmp_path / "r.csv"))]) == 0
    out = tmp_path / "out"
    out.mkdir()
    for name in ("ratings.csv", "ratings.xlsx"):
        message = _plain(limited(64 * 1024, "export", str(ws.path), "--out", str(out / name)))
        assert name in message and "not enough disk space" in message and "nothing was changed" in message
    assert list(out.iterdir()) == []


def test_an_export_to_an_unwritable_place_is_a_plain_error(tmp_path):
    from reviewkit.cli import main

    ws = make_workspace(tmp_path / "ws")
    (tmp_path / "taken.csv").mkdir()  # a folder already has the name
    assert main(["export", str(ws.path), "--out", str(tmp_path / "taken.csv")]) == 1
    if os.geteuid() == 0:  # root may write anywhere on a normal disk; sysfs refuses even root
        locked = Path("/sys")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    message = _plain(subprocess.run([sys.executable, "-m", "reviewkit", "export", str(ws.path), "--out",
                                     str(locked / "ratings.csv")], capture_output=True, text=True, check=False))
    assert "ratings.csv" in message and "cannot write" in message and "nothing was changed" in message


@pytest.mark.parametrize("what", ["ratings", "all"])
def test_an_export_with_room_still_works_under_the_limit(tmp_path, what):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / f"{what}.xlsx"
    done = limited(4 * 2**20, "export", str(ws.path), "--out", str(out), "--what", what)
    assert done.returncode == 0, done.stderr
    assert out.exists()


def test_a_regional_bundle_on_a_full_disk_leaves_no_file_and_says_so(tmp_path):
    from reviewkit.intake.sample import build_sample_workspace

    ws = build_sample_workspace(tmp_path / "eastvale")
    out = tmp_path / "out"
    out.mkdir()
    with ws.store():  # held open, so the store's -wal and -shm files need not be made under the limit
        message = _plain(limited(1024, "export", str(ws.path), "--for-region", "--out", str(out / "bundle.zip")))
    assert "bundle.zip" in message and "not enough disk space" in message and "nothing was changed" in message
    assert list(out.iterdir()) == []


def _no_leftovers(done: subprocess.CompletedProcess[str]) -> str:
    """The one plain error line, with nothing of Python's left on stderr ("Exception ignored …")."""
    assert "Exception ignored" not in done.stderr, done.stderr
    return _plain(done)


@pytest.mark.parametrize("command, name", [("action-plan", "plan.xlsx"), ("action-plan", "plan.docx"),
                                           ("workbook", "a.xlsx")])
def test_an_action_plan_or_workbook_on_a_full_disk_leaves_no_file_and_says_so(tmp_path, command, name):
    ws = make_workspace(tmp_path / "ws")
    (ws.narrative_dir / "recommendations.md").write_text("1. Protect supervision time.\n2. Record carers' views.\n",
                                                          encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    extra = ["--reviewer", "A. Visitor"] if command == "workbook" else []
    for limit in (0, 4096):  # nothing can be written; the first few kilobytes can
        message = _no_leftovers(limited(limit, command, str(ws.path), *extra, "--out", str(out / name)))
        # The command stops at its first write: the output file, or the store it reads from (WAL needs its files).
        assert (name in message and "not enough disk space" in message) or "cannot open the review store" in message
        assert "nothing was changed" in message
        assert list(out.iterdir()) == []
    done = limited(4 * 2**20, command, str(ws.path), *extra, "--out", str(out / name))
    assert done.returncode == 0, done.stderr
    assert [p.name for p in out.iterdir()] == [name]


def test_a_comparison_on_a_full_disk_is_a_plain_error_and_writes_nothing(tmp_path):
    from reviewkit.review import bundle as bd

    from .test_regional import make_bundle

    bundle = tmp_path / "b.zip"
    bundle.write_bytes(bd.bundle_bytes(make_bundle()))
    out = tmp_path / "out"
    message = _no_leftovers(limited(0, "compare", str(bundle), "--out", str(out)))  # not even a temporary folder
    assert "cannot make a temporary folder" in message and "nothing was written" in message
    message = _no_leftovers(limited(64 * 1024, "compare", str(bundle), "--out", str(out)))
    assert "cannot write the comparison (the disk is full" in message and f"nothing was written to {out}" in message
    assert not out.exists()


def test_a_report_with_no_room_for_its_temporary_folder_is_a_plain_error(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    out = tmp_path / "report"
    message = _no_leftovers(limited(0, "report", str(ws.path), "--out", str(out)))
    assert "cannot make a temporary folder" in message
    assert not out.exists()
