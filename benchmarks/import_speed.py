"""How fast `reviewkit import` stores ratings, against a floor measured in the same run.

    .venv/bin/python benchmarks/import_speed.py [--ratings 100000] [--repeat 5]

Builds a throwaway workspace (no case list, so any case reference is accepted), writes
generated ratings with short, clean and distinct evidence comments as CSV files of 25,000 rows
(a file may hold at most 50,000 rows), times one `import_files` of all of them (read,
check every row, screen every comment, store each rating with its audit row in one
transaction), and compares it with a floor: parsing the same CSV with csv.reader and
inserting their rows into a fresh SQLite table with one executemany in one transaction.
Medians of --repeat runs, each a floor then an import into a new workspace, so the ratio
holds on a busy machine even when the absolute rate does not.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewkit.intake.io import import_files  # noqa: E402
from reviewkit.review.workspace import create_workspace  # noqa: E402

PHRASES = [
    "The person's own words are quoted and shape the plan.",
    "Outcomes are written in the person's terms.",
    "Strengths and networks are recorded before services.",
    "Community options were explored first.",
    "Risks are discussed with the person and agreed.",
    "Management oversight is recorded at key points.",
    "The carer's view is recorded and acted on.",
    "Recording is clear, timely and analytical.",
]


ROWS_PER_FILE = 25_000  # within the import's limit of 50,000 rows a file


def make_csvs(folder: Path, n: int, questions: list[str], reviewers: list[str]) -> list[Path]:
    rng = random.Random(2026)
    labels = ["Outstanding", "Good", "Good", "Good", "Requires Improvement", "Inadequate", "Not applicable"]
    per_case = len(questions) * len(reviewers)
    paths = []
    for first in range(0, n, ROWS_PER_FILE):
        path = folder / f"ratings{len(paths) + 1}.csv"
        paths.append(path)
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["case_id", "reviewer", "question", "rating", "comment"])
            for i in range(first, min(n, first + ROWS_PER_FILE)):
                case, rest = divmod(i, per_case)
                reviewer, q = divmod(rest, len(questions))
                # Every comment differs, as real evidence notes do, so no screening result is reused.
                w.writerow([f"C{case:05d}", reviewers[reviewer], questions[q], rng.choice(labels),
                            f"{rng.choice(PHRASES)} {rng.choice(PHRASES)} Note {i + 1}."])
    return paths


def floor(paths: list[Path], db: Path) -> float:
    """Plain csv.reader + one executemany into a bare table: the least any import can cost."""
    start = time.perf_counter()
    rows = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as f:
            rows += list(csv.reader(f))[1:]
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE ratings (case_id TEXT, reviewer TEXT, question TEXT, rating TEXT, comment TEXT, "
                "PRIMARY KEY (case_id, reviewer, question))")
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO ratings VALUES (?,?,?,?,?)", rows)
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=100_000, help="how many ratings (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="runs, each into a new workspace (default %(default)s)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    reviewers = [f"Reviewer {i}" for i in range(1, 5)]
    floors, imports, reimports = [], [], []
    with tempfile.TemporaryDirectory(prefix="reviewkit-bench-") as tmp:
        root = Path(tmp)
        data: list[Path] = []
        for run in range(args.repeat):
            ws = create_workspace(root / f"ws{run}", council="Benchmark Council",
                                  theme="Strengths-based practice", reviewers=reviewers)
            if run == 0:
                data = make_csvs(root, args.ratings, ws.tool.all_ids, reviewers)
            floors.append(floor(data, root / f"floor{run}.db"))
            start = time.perf_counter()
            summary = import_files(ws, data, actor="benchmark")
            imports.append(time.perf_counter() - start)
            added = summary["ratings"].added
            if added != args.ratings:
                print(f"expected {args.ratings} ratings added, got {added}", file=sys.stderr)
                return 1
            start = time.perf_counter()
            again = import_files(ws, data, actor="benchmark")
            reimports.append(time.perf_counter() - start)
            assert again["ratings"].unchanged == args.ratings
    floor_s, import_s, reimport_s = (statistics.median(x) for x in (floors, imports, reimports))
    ratios = sorted(i / f for i, f in zip(imports, floors))

    def runs(xs: list[float]) -> str:
        return ", ".join(f"{x:.2f}" for x in xs)

    print(f"ratings:          {args.ratings:,} in {len(data)} file(s); medians of {args.repeat} runs, "
          "each floor then import")
    print(f"load average:     {load_before:.2f} before, {os.getloadavg()[0]:.2f} after (1 minute; "
          f"{os.cpu_count()} CPUs)")
    print(f"import_files:     {import_s:.2f} s  ({args.ratings / import_s:,.0f} ratings/s)  [{runs(imports)}]")
    print(f"re-import (same): {reimport_s:.2f} s  ({args.ratings / reimport_s:,.0f} ratings/s, nothing written)")
    print(f"floor:            {floor_s:.2f} s  ({args.ratings / floor_s:,.0f} rows/s: csv.reader + executemany)"
          f"  [{runs(floors)}]")
    print(f"import / floor:   {statistics.median(ratios):.1f}x (median of the runs' ratios; "
          f"{ratios[0]:.1f}x-{ratios[-1]:.1f}x)")
    print("aim: 50,000 ratings/s on a quiet machine, whose floor is about 250,000 rows/s: at most 5x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
