"""How long `reviewkit tracking` takes on ten years of monthly audits, against the sample review's report in the same run.

    .venv/bin/python benchmarks/tracking_speed.py [--years 10] [--records 100] [--repeat 2] [--by-team]

Builds, in a temporary folder, an invented in-house programme of YEARS × 12 months × RECORDS
audits (four teams, a moderation sample of about one in ten, three themes, one recorded change
half way), imported through the checked import; and the sample review (``reviewkit sample``).
Then times, each as the whole command in a fresh process, REPEAT times in turn:

  floor     reviewkit report SAMPLE --to html --no-cache   (one review's report, the same pipeline)
  tracking  reviewkit tracking PROGRAMME --to html          (every measure's p-chart over 120 months)

It prints every time, the best of each and their ratio (the aim is less than 2×).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REVIEWKIT = str(Path(sys.executable).parent / "reviewkit")
TEAMS = ("North Team", "South Team", "East Team", "West Team")
LEVELS = ("Outstanding", "Good", "Requires Improvement", "Inadequate")


def build_programme(folder: Path, years: int, records: int) -> Path:
    from reviewkit.figures.tracking import month_span
    from reviewkit.inhouse.importer import import_audits
    from reviewkit.inhouse.programme import create_programme, open_programme

    p = create_programme(folder, council="Benchmark Borough Council", tool="strengths-based-practice", teams=TEAMS,
                         auditors=[f"{c}. Auditor" for c in "ABCDEFGH"])
    months = month_span("2017-01", f"{2016 + years}-12")
    yaml_file = p.path / "programme.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8") + (
        "themes:\n  - {id: rationale, title: Rationale not evidenced, better: down}\n"
        "  - {id: voice, title: Person's own words recorded, better: up}\n"
        "  - {id: carers, title: Carer's needs considered, better: up}\n"
        f"changes:\n  - {{month: \"{months[len(months) // 2]}\", what: new audit tool}}\n"), encoding="utf-8")
    p = open_programme(p.path)
    ids = p.tool.all_ids
    rng = np.random.default_rng(1)
    path = folder / "audits.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["audit_id", "month", "team", "auditor", "role", *ids, "themes"])
        n = 0
        for month in months:
            for _ in range(records):
                n += 1
                team = TEAMS[n % 4]
                levels = rng.choice(LEVELS, size=len(ids), p=(0.15, 0.55, 0.25, 0.05))
                themes = ";".join(t for t in ("rationale", "voice", "carers") if rng.random() < 0.4)
                w.writerow([f"B-{n:06d}", month, team, "A. Auditor", "first", *levels, themes])
                if rng.random() < 0.1:
                    w.writerow([f"B-{n:06d}", month, team, "B. Auditor", "moderator", *levels, ""])
    import_audits(p, [path])
    return p.path


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([REVIEWKIT, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--by-team", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        programme = build_programme(root / "programme", args.years, args.records)
        print(f"built {args.years} years × 12 months × {args.records} records in {time.perf_counter() - start:.1f} s")
        subprocess.run([REVIEWKIT, "sample", str(root / "sample")], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        floor, tracking = [], []
        extra = ["--by-team"] if args.by_team else []
        for _ in range(args.repeat):
            floor.append(timed(["report", str(root / "sample"), "--to", "html", "--no-cache", "--out",
                                str(root / "report")]))
            tracking.append(timed(["tracking", str(programme), "--to", "html", "--out", str(root / "tracking"),
                                   *extra]))
        print("floor (reviewkit report on the sample review):", ", ".join(f"{t:.2f} s" for t in floor))
        print("tracking (reviewkit tracking, ten years):     ", ", ".join(f"{t:.2f} s" for t in tracking))
        print(f"best: floor {min(floor):.2f} s, tracking {min(tracking):.2f} s, ratio {min(tracking) / min(floor):.2f}× "
              "(aim: less than 2×)")


if __name__ == "__main__":
    main()
