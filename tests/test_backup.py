"""Backups of the review store taken while reviewers save, and putting one back.

Real processes write ratings through the Store (each save of a case is all of its questions
and their audit rows in one transaction) while `reviewkit backup` runs again and again. Every
backup must open on its own, pass SQLite's integrity check and show the store as it was at
one moment: each case either fully saved or not at all at the same version, and every rating
with exactly as many audit rows as it has versions.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.core.errors import InvalidInputError, StoreError
from reviewkit.review.backup import backup_store, check_backup, list_backups, restore_store
from reviewkit.review.migrations import STORE_SCHEMA
from reviewkit.review.workspace import open_workspace

from .helpers import make_workspace

CTX = mp.get_context("spawn")  # children import reviewkit afresh: only the files are shared
PAIRS = [[("C02", "A. Visitor"), ("C03", "B. Visitor")], [("C05", "C. Visitor"), ("C07", "H. Host")]]
LEVELS = ["Good", "Outstanding", "Requires Improvement", "Inadequate"]


def _writer(ws_path: str, pairs: list[tuple[str, str]], started: mp.synchronize.Event,
            stop: mp.synchronize.Event) -> None:
    from reviewkit.review.ratings import RatingInput

    ws = open_workspace(ws_path)
    questions = ws.tool.all_ids
    with ws.store() as store:
        n = 0
        while not stop.is_set():
            case, reviewer = pairs[n % len(pairs)]
            level = LEVELS[(n // len(pairs)) % len(LEVELS)]
            store.apply_ratings(reviewer, [RatingInput(case, reviewer, q, level, f"Evidence {n}") for q in questions])
            n += 1
            started.set()


def _consistent(path: Path, questions: int) -> int:
    """Check one backup on its own; the number of audit rows it holds."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal needed
        per_case = conn.execute("SELECT case_id, reviewer, count(*), count(DISTINCT version) FROM ratings "
                                "GROUP BY case_id, reviewer").fetchall()
        for case, reviewer, rows, versions in per_case:
            assert (rows, versions) == (questions, 1), (path.name, case, reviewer, rows, versions)
        audited = dict(conn.execute("SELECT key, count(*) FROM audit_log WHERE entity='rating' GROUP BY key"))
        for case, reviewer, question, version in conn.execute(
                "SELECT case_id, reviewer, question, version FROM ratings"):
            assert audited.pop(f"{case}/{reviewer}/{question}") == version
        assert audited == {}  # no audit row without its rating
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    finally:
        conn.close()


def test_backups_taken_while_reviewers_save_are_each_whole_and_consistent(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    questions = len(ws.tool.all_ids)
    started = [CTX.Event() for _ in PAIRS]
    stop = CTX.Event()
    writers = [CTX.Process(target=_writer, args=(str(ws.path), pairs, s, stop)) for pairs, s in zip(PAIRS, started)]
    for p in writers:
        p.start()
    audit_counts = []
    try:
        for s in started:
            assert s.wait(120), "a writer did not start saving"
        out = tmp_path / "backups"
        for _ in range(8):
            done = backup_store(ws.path, out, keep=3)
            assert stat.S_IMODE(done.path.stat().st_mode) == 0o600
            audit_counts.append(_consistent(done.path, questions))
            assert done.audit_rows == audit_counts[-1]
            assert all(p.is_alive() for p in writers), "a writer stopped while the backups ran"
    finally:
        stop.set()
        for p in writers:
            p.join(60)
    assert [p.exitcode for p in writers] == [0, 0]
    assert len(set(audit_counts)) >= 3, audit_counts  # the store really changed between backups
    assert audit_counts == sorted(audit_counts)
    kept = list_backups(out)
    assert len(kept) == 3 and stat.S_IMODE(out.stat().st_mode) == 0o700
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no half-written copy left
    with ws.store() as store:
        assert store.integrity_check() == "ok"


def test_restore_checks_the_backup_keeps_the_current_store_and_puts_the_backup_back(tmp_path: Path, capsys) -> None:
    from reviewkit.review.ratings import RatingInput

    ws = make_workspace(tmp_path / "ws")
    with ws.store() as store:
        store.set_rating("A. Visitor", RatingInput("C02", "A. Visitor", "q1", "Good"))
    assert main(["backup", str(ws.path)]) == 0
    backup = list_backups(ws.path / "backups")[-1]
    assert f"Backed up the review store to {backup}" in capsys.readouterr().out
    with ws.store() as store:  # the week goes on after the backup
        store.set_rating("A. Visitor", RatingInput("C02", "A. Visitor", "q1", "Inadequate", "Plans lack detail"))
        store.set_rating("B. Visitor", RatingInput("C03", "B. Visitor", "q2", "Good"))
        before = store.audit_log()

    # Refused, and nothing changed: another review's backup, a damaged file, a newer reviewkit's store.
    other = make_workspace(tmp_path / "other")
    other.meta.council = "Westshire Council"
    other.save_meta()
    foreign = backup_store(other.path, tmp_path / "foreign").path
    damaged = tmp_path / "damaged.db"
    data = bytearray(backup.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page of the tables overwritten
    damaged.write_bytes(bytes(data))
    newer = tmp_path / "newer.db"
    shutil.copyfile(backup, newer)
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA user_version = {STORE_SCHEMA + 1}")
    for bad, why in ((foreign, "a backup of a different review"), (damaged, "damaged|not a backup"),
                     (newer, "newer version of reviewkit"), (tmp_path / "missing.db", "no such backup file")):
        with pytest.raises(InvalidInputError if bad.name == "missing.db" else StoreError, match=why):
            restore_store(ws.path, bad, actor="H. Host")
        assert main(["restore", str(ws.path), str(bad)]) == 1
    with ws.store() as store:
        assert len(store.audit_log()) == len(before)

    assert check_backup(ws.path, backup).ratings == 1
    assert main(["restore", str(ws.path), str(backup), "--as", "H. Host"]) == 0
    said = capsys.readouterr().out
    saved = next(p for p in (ws.path / "backups").iterdir() if p.name.startswith("review-before-restore-"))
    assert f"Copied the store as it was to {saved}" in said and "Restored the review store" in said
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    with open_workspace(ws.path).store() as store:
        ratings = store.all_ratings()
        log = store.audit_log()
        assert store.integrity_check() == "ok"
    assert list(zip(ratings["case_id"], ratings["question"], ratings["rating"])) == [("C02", "q1", "Good")]
    assert list(log["action"]) == ["insert", "restore"] and log["actor"].iloc[-1] == "H. Host"
    assert check_backup(ws.path, saved).ratings == 2  # the store from before the restore, whole
    assert list_backups(ws.path / "backups") == [backup]  # the copy from before is never pruned
