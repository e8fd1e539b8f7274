"""How long `reviewkit compare` takes at national scale, against the sample's own report in the same run.

    .venv/bin/python benchmarks/regional_scale.py [--councils 150] [--rounds 3] [--repeat 1]

Draws 150 invented councils × 3 rounds of regional bundles (sample_data/region/make_region.py's
``make_bundles``) into a temporary folder, then times, each in a fresh Python process:

  floor    render_report(sample workspace, html) with the cache bypassed: one review's report,
           the same papermill + nbconvert pipeline, the same machine, the same run;
  compare  render_comparison(450 bundles, html): read and validate every bundle, compare,
           run the comparison notebook, convert to HTML.

It prints both times, their ratio (the aim is at most 2×) and each run's peak memory: the
largest resident set of the process itself and of its children (the notebook kernel), from
resource.getrusage, and their sum as an upper bound on the two together (the aim is < 1 GB).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _generator():
    spec = importlib.util.spec_from_file_location("make_region", ROOT / "sample_data" / "region" / "make_region.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _run(kind: str, source: str, out: str) -> None:
    """One measured render in this process; prints seconds and peak memory as JSON."""
    start = time.perf_counter()
    if kind == "floor":
        from reviewkit.report.render import render_report

        render_report(source, out, ["html"], use_cache=False)
    else:
        from reviewkit.region.render import render_comparison

        render_comparison(sorted(Path(source).glob("*.zip")), out, ["html"])
    seconds = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "self_mb": me, "children_mb": children}))


def measure(kind: str, source: Path, out: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--run", kind, str(source), str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--councils", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest is reported")
    parser.add_argument("--run", nargs=3, metavar=("KIND", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        _run(*args.run)
        return 0

    from reviewkit.intake.sample import build_sample_workspace
    from reviewkit.review.bundle import bundle_bytes

    with tempfile.TemporaryDirectory(prefix="reviewkit-bench-") as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        bundles = _generator().make_bundles(args.councils, args.rounds)
        folder = work / "bundles"
        folder.mkdir()
        for i, b in enumerate(bundles):
            (folder / f"b{i:05d}.zip").write_bytes(bundle_bytes(b))
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"Generated {len(bundles)} bundles ({args.councils} councils × {args.rounds} rounds, "
              f"{size / 1024:.0f} KiB) in {time.perf_counter() - start:.1f} s")
        ws = build_sample_workspace(work / "eastvale-2026")
        runs: dict[str, list[dict[str, float]]] = {"floor": [], "compare": []}
        for r in range(args.repeat):
            for kind, source in (("floor", ws.path), ("compare", folder)):
                runs[kind].append(measure(kind, source, work / f"out-{kind}-{r}"))
        best = {k: min(v, key=lambda x: x["seconds"]) for k, v in runs.items()}
        html = (work / "out-compare-0" / "regional_comparison.html").stat().st_size
        for kind, label in (("floor", "floor:   sample review report (html, no cache)"),
                            ("compare", f"compare: {len(bundles)} bundles (html)")):
            m = best[kind]
            print(f"{label:48s} {m['seconds']:6.1f} s   peak RSS: process {m['self_mb']:.0f} MB, "
                  f"kernel {m['children_mb']:.0f} MB, sum {m['self_mb'] + m['children_mb']:.0f} MB")
        ratio = best["compare"]["seconds"] / best["floor"]["seconds"]
        peak = max(m["self_mb"] + m["children_mb"] for m in best.values())
        print(f"ratio compare / floor: {ratio:.2f}× (aim ≤ 2×); peak memory ≤ {peak:.0f} MB (aim < 1024 MB); "
              f"comparison HTML {html / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
