"""What an XLSX bomb costs `reviewkit import`: time and peak memory, at a chosen scale.

    .venv/bin/python benchmarks/xlsx_bombs.py [--scale 16]

Builds two crafted workbooks and imports each in a fresh process, reporting the wall time
and the process's peak resident memory (VmHWM, Linux):

- a bomb: a sheet with one cell of 4 GiB / scale characters, deflated to a few MB / scale;
- a long sheet: 3,000,000 / scale rows of one number each.

At scale 1 these are the files of issue 12 (4 MB inflating to 4 GiB; 3 million rows), which
need gigabytes of memory and minutes before the import bounds them, so the default scale
keeps a run short. Point PYTHONPATH at another checkout to measure its import instead.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import make_workspace  # noqa: E402
from tests.xlsx_crafting import sheet_xml, workbook  # noqa: E402

_CHILD = """
import json, sys, time
from reviewkit.core.errors import ReviewkitError
from reviewkit.intake.io import import_files
from reviewkit.review.workspace import open_workspace
ws = open_workspace(sys.argv[1])
t = time.perf_counter()
try:
    import_files(ws, [sys.argv[2]], actor="bench")
    outcome = "imported"
except ReviewkitError as exc:
    outcome = "refused: " + str(exc).splitlines()[-1].split(": ", 1)[-1][:70]
except MemoryError:
    outcome = "MemoryError"
print(json.dumps({"from": __import__("reviewkit").__file__, "seconds": time.perf_counter() - t, "outcome": outcome,
                  "peak_mb": int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024}))
"""


def _write_member(src: Path, dst: Path, data: bytes) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, data if info.filename == "xl/worksheets/sheet1.xml"
                          else zin.read(info.filename))


def measure(ws: Path, file: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(ws), str(file)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return {"outcome": f"crashed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=16, help="divide the issue's sizes by this (default 16)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = make_workspace(root / "ws").path
        base = workbook(root / "base.xlsx")
        cell = 4 * 2**30 // args.scale
        _write_member(base, root / "bomb.xlsx", sheet_xml(0, 1, cell))
        _write_member(base, root / "rows.xlsx", sheet_xml(3_000_000 // args.scale))
        print(f"scale 1/{args.scale}")
        for name, what in (("bomb.xlsx", f"a sheet inflating to {cell / 2**20:,.0f} MiB"),
                           ("rows.xlsx", f"a sheet of {3_000_000 // args.scale:,} rows")):
            size = (root / name).stat().st_size
            t = time.perf_counter()
            m = measure(ws, root / name)
            print(f"{what} ({size / 2**20:.2f} MiB on disk): {m.get('seconds', time.perf_counter() - t):.2f} s, "
                  f"peak {m.get('peak_mb', float('nan')):,.0f} MB, {m['outcome']} [{m.get('from', '?')}]")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
