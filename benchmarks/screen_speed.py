"""Screening a long cell of postcode-like tokens stays linear, against a floor in the same run.

    .venv/bin/python benchmarks/screen_speed.py [--chars 32000] [--repeat 3]

A pasted list (a spreadsheet column of postcodes, a run of ward codes) can put thousands of
possible identifiers in one cell. Screening once compared every finding with every other,
so a 32,000-character cell took seconds and 200,000 characters minutes. Prints, for the
postcode-like cell: its time at N/4 and N characters and the scaling ratio
t(N) / (4 · t(N/4)) — 1 for linear work, 4 for quadratic — and its time against the floor,
ordinary practice text of the same length screened in the same run. Exits 1 when the
scaling ratio is over 2 (quadratic growth).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewkit.privacy.screening import screen  # noqa: E402

POSTCODE_LIKE = "B33 SW1A 1AA Ward B12 LS6 2QT E1W "
PRACTICE = ("The practitioner recorded the person's wishes clearly and reviewed the plan with the family. ")
MAX_SCALING = 2.0


def cell(pattern: str, chars: int) -> str:
    return (pattern * (chars // len(pattern) + 1))[:chars]


def best(text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        screen(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=32_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.chars
    quarter = best(cell(POSTCODE_LIKE, n // 4), args.repeat)
    full = best(cell(POSTCODE_LIKE, n), args.repeat)
    floor = best(cell(PRACTICE, n), args.repeat)
    findings = len(screen(cell(POSTCODE_LIKE, n)))
    scaling = full / (4 * quarter)
    print(f"postcode-like cell, {n // 4:,} chars: {quarter * 1000:.1f} ms")
    print(f"postcode-like cell, {n:,} chars: {full * 1000:.1f} ms ({findings:,} findings)")
    print(f"practice text (floor), {n:,} chars: {floor * 1000:.1f} ms")
    print(f"scaling ratio t(N)/(4·t(N/4)): {scaling:.2f} (1 = linear, 4 = quadratic; limit {MAX_SCALING})")
    print(f"postcode-like / floor: {full / floor:.1f}×")
    return 0 if scaling <= MAX_SCALING else 1


if __name__ == "__main__":
    sys.exit(main())
