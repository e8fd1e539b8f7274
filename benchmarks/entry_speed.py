"""How long a rating change in the form takes to reach the store, against a floor in the same run.

    .venv/bin/python benchmarks/entry_speed.py [--changes 1000] [--dir FOLDER]

Builds a throwaway workspace and opens the rating form, then makes N rating changes by
setting a question's level buttons exactly as a click does (``ToggleButtons.value``). The
callback path runs in full: the guard, ``Store.set_rating`` with the version the form loaded
(screening, one BEGIN IMMEDIATE transaction with its audit row, fsync), the descriptor
highlight, the progress line and the complete-flag check. The store commits before the
callback returns, so the time measured is change-to-commit; each change is checked in the
store afterwards (outside the timing).

The floor is a bare ``Store.set_rating`` of the same kind of change on another case in the
same store, interleaved one for one with the form's changes so both see the same disk.
Prints the median and 95th percentile of each (ms) and their ratios. The issue's aim: under
50 ms at the 95th percentile.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewkit.review.ratings import RatingInput  # noqa: E402
from reviewkit.review.reviewyaml import Case  # noqa: E402
from reviewkit.review.workspace import create_workspace, open_workspace  # noqa: E402
from reviewkit.team.widgets import RatingForm  # noqa: E402
from reviewkit.team.widgets.testing import CallbackErrorTrap  # noqa: E402

LEVELS = ["Good", "Outstanding", "Requires Improvement", "Good", "Inadequate", "Not applicable"]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--dir", default=None, help="where to put the throwaway workspace (its disk sets the fsync cost)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="reviewkit-entry-", dir=args.dir) as tmp:
        ws = create_workspace(Path(tmp) / "ws", council="Benchmark Council", theme="Speed",
                              reviewers=["A. Visitor"])
        ws.meta.cases = [Case("C01", "A. Visitor"), Case("C02", "A. Visitor")]
        ws.save_meta()
        ws = open_workspace(ws.path)
        qids = ws.tool.all_ids
        form_times: list[float] = []
        floor_times: list[float] = []
        with CallbackErrorTrap() as trap, ws.store() as floor_store, ws.store() as check_store:
            form = trap.watch(RatingForm(ws, "A. Visitor"))
            floor_versions = {q: 0 for q in qids}
            for i in range(args.changes):
                qid = qids[i % len(qids)]
                level = LEVELS[(i // len(qids)) % len(LEVELS)]
                # the form's path: a click on a level button, through to the commit
                t0 = time.perf_counter()
                form.blocks[qid].buttons.value = level
                form_times.append(time.perf_counter() - t0)
                got = check_store.rating("C01", "A. Visitor", qid)
                if got is None or got.rating != level:
                    raise SystemExit(f"change {i} did not reach the store")
                # the floor: the same kind of change straight through the store API
                t0 = time.perf_counter()
                r = floor_store.set_rating("A. Visitor", RatingInput("C02", "A. Visitor", qid, level, ""),
                                           expected_version=floor_versions[qid])
                floor_times.append(time.perf_counter() - t0)
                floor_versions[qid] = r.version
            trap.check()
    ms = [t * 1000 for t in form_times]
    fl = [t * 1000 for t in floor_times]
    print(f"rating changes: {args.changes} (each committed with its audit row), store in {args.dir or tempfile.gettempdir()}")
    print(f"form   (click -> commit): median {statistics.median(ms):7.2f} ms   p95 {p95(ms):7.2f} ms")
    print(f"floor  (Store.set_rating): median {statistics.median(fl):7.2f} ms   p95 {p95(fl):7.2f} ms")
    print(f"ratio form/floor: median {statistics.median(ms) / statistics.median(fl):.2f}x   "
          f"p95 {p95(ms) / p95(fl):.2f}x")
    print(f"aim: p95 under 50 ms -> {'met' if p95(ms) < 50 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
