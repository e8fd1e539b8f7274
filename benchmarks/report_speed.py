"""How long a report render takes, against a floor measured in the same run.

    .venv/bin/python benchmarks/report_speed.py [--repeat N] [--whole-process-only]

Two measures. First, as a user feels it, whole processes timed from outside, one after
another in turns (medians of N turns):
(A) floor: a fresh Python process that imports papermill and nbconvert, runs a notebook that
    displays one line and exports it to HTML with the stock lab template;
(B) `reviewkit report SAMPLE --to html --no-cache`;
(C) `reviewkit report SAMPLE --to html,pdf,docx --no-cache`;
(D) the same with `--final`: the publish gate reads each finished file back (HTML text,
    pdftotext of the PDF, the Word XML) before publishing; (D) - (C) is what that costs.
Aims (issue 13): (B)/(A) at most 1.2, (C)/(A) at most 1.5.

Then, in this process:

(a) floor: papermill runs a notebook that displays one line, then nbconvert exports it to
    HTML with the stock lab template, in this process;
(b) render_report(sample, formats=("html",)) with the cache bypassed;
then the extra time for PDF and Word (rendering html,pdf,docx minus html alone), and a second
render with unchanged inputs (a cache hit). Medians of N runs after one warm-up of each, so
imports and first-use costs are paid before timing, as they would be in a long session
(N defaults to 5: now and then plain papermill waits 2.5 s on a stalled kernel shutdown, and
a median of five shrugs off two such runs).
Aims (issue 4): (b)/(a) at most 1.5; PDF and Word together under 2 s extra.

Beside each time, the CPU seconds per run of this process and every process it started (the
kernel, the chart drawing, Chromium, pandoc): on a 2-core machine a render is CPU-bound, so
CPU / 2 is about the least wall time it can take.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import papermill
from nbconvert import HTMLExporter

from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.render import render_report


def _one_line_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('workspace = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell('print("one line")')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def floor(notebook: Path, workspace: Path) -> None:
    """papermill + nbconvert HTML of a notebook that displays one line."""
    nb = papermill.execute_notebook(str(notebook), None, parameters={"workspace": str(workspace)},
                                    kernel_name="python3", progress_bar=False)
    HTMLExporter(template_name="lab", exclude_input=True).from_notebook_node(nb)


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children (and theirs)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, list[float], float]:
    """Median wall seconds, every run's, and the mean CPU seconds per run."""
    fn()  # warm-up: imports, template compilation, font caches
    runs = []
    cpu = _cpu()
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), runs, (_cpu() - cpu) / repeat


def breakdown(render: Callable[[Callable[[str], None]], object]) -> list[tuple[str, float]]:
    """Seconds from each progress message to the next (the last step runs to the end)."""
    marks: list[tuple[str, float]] = []
    start = time.perf_counter()
    render(lambda message: marks.append((message, time.perf_counter())))
    end = time.perf_counter()
    stamps = [t for _, t in marks] + [end]
    return [(m, stamps[i + 1] - t) for i, (m, t) in enumerate(marks)] + [("total", end - start)]


_FLOOR_PROCESS = """
import sys
import papermill
from nbconvert import HTMLExporter
nb = papermill.execute_notebook(sys.argv[1], None, parameters={"workspace": sys.argv[2]}, kernel_name="python3",
                                progress_bar=False)
HTMLExporter(template_name="lab", exclude_input=True).from_notebook_node(nb)
"""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _wall(cmd: list[str], cwd: Path, cpu: list[float] | None = None) -> float:
    """Wall seconds of one process run to its end; its (and its children's) CPU seconds go to ``cpu``."""
    before = _children_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(_children_cpu() - before)
    return wall


def whole_process(root: Path, ws: Path, notebook: Path, repeat: int) -> None:
    """(A), (B) and (C) as fresh processes, in turns so that a busy spell hits all three alike."""
    cli = str(Path(sys.executable).with_name("reviewkit"))
    commands = {
        "A": [sys.executable, "-c", _FLOOR_PROCESS, str(notebook), str(ws)],
        "B": [cli, "report", str(ws), "--to", "html", "--out", str(root / "wp-html"), "--no-cache"],
        "C": [cli, "report", str(ws), "--to", "html,pdf,docx", "--out", str(root / "wp-all"), "--no-cache"],
        "D": [cli, "report", str(ws), "--to", "html,pdf,docx", "--out", str(root / "wp-final"), "--no-cache",
              "--final"],
    }
    for cmd in commands.values():  # warm-up: the page cache, font caches, compiled bytecode
        _wall(cmd, root)
    runs: dict[str, list[float]] = {k: [] for k in commands}
    cpu: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(repeat):
        for key, cmd in commands.items():
            runs[key].append(_wall(cmd, root, cpu[key]))
    a, b, c, d = (statistics.median(runs[k]) for k in "ABCD")
    a_cpu, b_cpu, c_cpu, d_cpu = (statistics.median(cpu[k]) for k in "ABCD")
    ratios_b = sorted(x / y for x, y in zip(runs["B"], runs["A"]))
    ratios_c = sorted(x / y for x, y in zip(runs["C"], runs["A"]))

    def fmt(xs: list[float]) -> str:
        return ", ".join(f"{x:.2f}" for x in xs)

    print(f"whole processes, medians of {repeat} turns (load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores):")
    print(f"(A) floor: papermill + nbconvert, one-line notebook   {a:6.2f} s   [{fmt(runs['A'])}]  CPU {a_cpu:.2f} s")
    print(f"(B) reviewkit report --to html                      {b:6.2f} s   [{fmt(runs['B'])}]  CPU {b_cpu:.2f} s")
    print(f"(C) reviewkit report --to html,pdf,docx             {c:6.2f} s   [{fmt(runs['C'])}]  CPU {c_cpu:.2f} s")
    print(f"    ratio (B)/(A)                                   {b / a:6.2f}     (aim: at most 1.2; "
          f"turn by turn {ratios_b[0]:.2f}-{ratios_b[-1]:.2f})")
    print(f"    ratio (C)/(A)                                   {c / a:6.2f}     (aim: at most 1.5; "
          f"turn by turn {ratios_c[0]:.2f}-{ratios_c[-1]:.2f})")
    print(f"(D) reviewkit report --to html,pdf,docx --final     {d:6.2f} s   [{fmt(runs['D'])}]  CPU {d_cpu:.2f} s")
    print(f"    ratio (D)/(A)                                   {d / a:6.2f}     the finished files read back "
          f"and screened: (D)-(C) = {d - c:+.2f} s wall, {d_cpu - c_cpu:+.2f} s CPU")
    print(f"    CPU ratios (B)/(A) {b_cpu / a_cpu:.2f}, (C)/(A) {c_cpu / a_cpu:.2f}: on a busy machine wall time "
          "follows CPU time, and a render's parallel steps stop paying")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (default: 5)")
    parser.add_argument("--whole-process-only", action="store_true", help="skip the in-process measures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reviewkit-bench-") as tmp:
        root = Path(tmp)
        ws = build_sample_workspace(root / "eastvale").path
        notebook = _one_line_notebook(root / "one_line.ipynb")
        out = root / "out"
        whole_process(root, ws, notebook, args.repeat)
        if args.whole_process_only:
            return 0
        print("in this process:")

        a, a_runs, a_cpu = timed(lambda: floor(notebook, ws), args.repeat)
        b, b_runs, b_cpu = timed(lambda: render_report(ws, out / "html", ("html",), use_cache=False), args.repeat)
        c, c_runs, c_cpu = timed(lambda: render_report(ws, out / "all", ("html", "pdf", "docx"), use_cache=False),
                                 args.repeat)
        render_report(ws, out / "cached", ("html", "pdf", "docx"))  # fill the cache
        d, d_runs, _ = timed(lambda: render_report(ws, out / "cached", ("html", "pdf", "docx")), args.repeat)
        steps = breakdown(lambda say: render_report(ws, out / "steps", ("html", "pdf", "docx"), use_cache=False,
                                                    progress=say))

    def fmt(runs: list[float]) -> str:
        return ", ".join(f"{r:.2f}" for r in runs)

    print(f"(a) floor: papermill + nbconvert, one-line notebook   {a:6.2f} s   [{fmt(a_runs)}]  CPU {a_cpu:.2f} s")
    print(f"(b) render_report html, cache bypassed              {b:6.2f} s   [{fmt(b_runs)}]  CPU {b_cpu:.2f} s")
    print(f"    ratio (b)/(a)                                   {b / a:6.2f}     (aim: at most 1.5)")
    print(f"(c) render_report html+pdf+docx, cache bypassed     {c:6.2f} s   [{fmt(c_runs)}]  CPU {c_cpu:.2f} s")
    print(f"    extra for PDF and Word (c)-(b)                  {c - b:6.2f} s   (aim: under 2 s)")
    print(f"(d) second render, inputs unchanged (cache hit)     {d:6.2f} s   [{fmt(d_runs)}]")
    print("one render of (c), step by step (the kernel starts before the first step and the charts\n"
          "    are drawn from its end, both beside the steps; PDF and Word run side by side):")
    for message, seconds in steps:
        print(f"    {message:<48} {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
