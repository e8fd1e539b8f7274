"""Real processes writing one review store: concurrent imports, and a writer killed mid-import."""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

from reviewkit.review.workspace import create_workspace, open_workspace

REVIEWERS = [f"Reviewer {i}" for i in range(1, 9)]
CASES = [f"C{i:02d}" for i in range(1, 6)]
# Spawned children import reviewkit afresh: nothing is shared with the test process but the files.
CTX = mp.get_context("spawn")


def _ratings_csv(path: Path, reviewers: list[str], cases: list[str], questions: list[str]) -> int:
    labels = ["Outstanding", "Good", "Requires Improvement", "Inadequate", "Not applicable"]
    n = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case_id", "reviewer", "question", "rating", "comment"])
        for reviewer in reviewers:
            for case in cases:
                for q in questions:
                    w.writerow([case, reviewer, q, labels[n % len(labels)], f"Evidence note {n} on this question."])
                    n += 1
    return n


def _import_worker(ws_path: str, csv_path: str, actor: str, start: mp.synchronize.Event) -> None:
    from reviewkit.intake.io import import_files

    ws = open_workspace(ws_path)
    start.wait(60)  # every child is loaded before any import begins: they really contend
    import_files(ws, [csv_path], actor=actor)


def _killable_worker(ws_path: str, csv_path: str, in_transaction: mp.synchronize.Event,
                     committed: mp.synchronize.Event) -> None:
    from reviewkit.intake.io import import_files

    def progress(message: str) -> None:
        if message.startswith("Writing"):  # said inside the store transaction, after the checks
            in_transaction.set()
        elif message.startswith("Saved"):  # said right after COMMIT
            committed.set()

    import_files(open_workspace(ws_path), [csv_path], actor="doomed", progress=progress)


def test_eight_processes_import_different_reviewers_at_once(tmp_path: Path) -> None:
    ws = create_workspace(tmp_path / "ws", council="Eastvale Borough Council", theme="Strengths-based practice",
                          reviewers=REVIEWERS)
    questions = ws.tool.all_ids
    files = []
    for reviewer in REVIEWERS:
        f = tmp_path / f"{reviewer.replace(' ', '_')}.csv"
        _ratings_csv(f, [reviewer], CASES, questions)
        files.append(f)
    start = CTX.Event()
    procs = [CTX.Process(target=_import_worker, args=(str(ws.path), str(f), r, start))
             for r, f in zip(REVIEWERS, files)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)

    expected = len(REVIEWERS) * len(CASES) * len(questions)
    with open_workspace(ws.path).store() as s:
        assert s.integrity_check() == "ok"
        ratings = s.ratings()
        log = s.audit_log()
    assert len(ratings) == expected == 8 * 5 * 13
    assert ratings.groupby("reviewer").size().to_dict() == {r: len(CASES) * len(questions) for r in REVIEWERS}
    rating_rows = log[log["entity"] == "rating"]
    assert len(rating_rows) == expected
    keys = set(ratings["case_id"] + "/" + ratings["reviewer"] + "/" + ratings["question"])
    assert set(rating_rows["key"]) == keys  # each rating has its own audit row
    assert (rating_rows["actor"] == rating_rows["key"].str.split("/").str[1]).all()
    assert sorted(log.loc[log["entity"] == "ratings", "actor"]) == sorted(REVIEWERS)  # one summary per import


def test_writer_killed_mid_import_leaves_nothing_and_a_sound_database(tmp_path: Path) -> None:
    reviewers = ["A. Visitor", "B. Visitor"]
    ws = create_workspace(tmp_path / "ws", council="Eastvale Borough Council", theme="Strengths-based practice",
                          reviewers=reviewers)
    cases = [f"K{i:04d}" for i in range(1154)]
    big = tmp_path / "big.csv"
    total = _ratings_csv(big, reviewers, cases, ws.tool.all_ids)
    assert total == 30_004
    wal = Path(f"{ws.db_path}-wal")

    in_transaction, committed = CTX.Event(), CTX.Event()
    child = CTX.Process(target=_killable_worker, args=(str(ws.path), str(big), in_transaction, committed))
    child.start()
    try:
        assert in_transaction.wait(60), "the import never reached its write phase"
        # Kill once rows are really being written: uncommitted pages spill into the WAL file.
        deadline = time.monotonic() + 60
        while (not wal.exists() or wal.stat().st_size < 1_000_000) and time.monotonic() < deadline \
                and not committed.is_set():
            time.sleep(0.005)
        spilled = wal.stat().st_size
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(30)
    assert child.exitcode == -signal.SIGKILL
    assert not committed.is_set(), "the import finished before it could be killed mid-transaction"
    assert spilled >= 1_000_000  # uncommitted rows had reached the database files

    with open_workspace(ws.path).store() as s:
        assert s.integrity_check() == "ok"
        count = s.execute_read("SELECT count(*) FROM ratings")[0][0]
        audit = s.execute_read("SELECT count(*) FROM audit_log")[0][0]
    assert count in (0, total)
    assert count == 0 and audit == 0  # killed inside the transaction: none of it

    # The crash left no lock behind: the same file now imports whole.
    from reviewkit.intake.io import import_files

    summary = import_files(open_workspace(ws.path), [big], actor="survivor")
    assert summary["ratings"].added == total
    with open_workspace(ws.path).store() as s:
        assert s.integrity_check() == "ok"
        assert s.execute_read("SELECT count(*) FROM ratings")[0][0] == total
