"""Chromium started ahead prints the same PDF as Chromium started to print, leaves nothing
running, and a printer that fails hands over to the ordinary print."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pypdf
import pytest

from reviewkit.report import printer as rp

from .helpers import wait_for

pytestmark = pytest.mark.slow

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Printer test</title>
<style>@page { size: A4; margin: 2cm; } h1 { color: navy; }</style></head>
<body><main><h1>Printer test</h1><h2>Part one</h2><p>First part.</p><h2>Part two</h2><p>Second part.</p></main>
</body></html>"""


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _running_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (ended ones a container's first
    process has not collected yet do not count: they run nothing)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _gone(pid: int) -> None:
    """Wait until Chromium and every process it started have ended (a killed process takes a moment)."""
    wait_for(lambda: _running_in_group(pid) == [], f"Chromium's process group {pid} to end", timeout=30)


def _waiting_for_charts(starter: rp.PrinterAfterCharts) -> bool:
    """Whether the starter's thread is in its loop waiting for the charts (so it has not started
    Chromium, and would not without them)."""
    source, first = inspect.getsourcelines(rp.PrinterAfterCharts._start)
    loop = next(n for n in ast.walk(ast.parse(textwrap.dedent("".join(source)))) if isinstance(n, ast.While))
    frame = sys._current_frames().get(starter._thread.ident or -1)  # the thread's innermost Python frame
    return (frame is not None and frame.f_code is rp.PrinterAfterCharts._start.__code__
            and first + loop.lineno - 1 <= frame.f_lineno <= first + (loop.end_lineno or loop.lineno) - 1)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    f = tmp_path / "page.html"
    f.write_text(PAGE, encoding="utf-8")
    return f


def test_the_printer_started_ahead_prints_what_chromium_prints_and_then_is_gone(page: Path, tmp_path: Path) -> None:
    chromium = rp.require_chromium()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    printer = rp._start_printer(chromium, tmp_path / "a")
    assert printer is not None
    pid = printer.pid
    try:
        ahead = printer.print(page, tmp_path / "ahead.pdf")
    finally:
        printer.stop()
    _gone(pid)  # Chromium and every process it started
    plain = rp.to_pdf(page, tmp_path / "plain.pdf", tmp_path / "b", chromium)
    assert _text(ahead) == _text(plain)
    reader = pypdf.PdfReader(ahead)
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert [item["/Title"] for item in reader.outline if isinstance(item, dict)]
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_a_printer_that_fails_hands_over_to_the_ordinary_print(page: Path, tmp_path: Path) -> None:
    broken = tmp_path / "not-chromium"
    broken.write_text("#!/bin/sh\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    (tmp_path / "work").mkdir()
    printer = rp._start_printer(str(broken), tmp_path / "work")
    assert printer is not None
    try:
        out = rp.print_pdf(printer, page, tmp_path / "out.pdf", tmp_path / "work", rp.require_chromium())
    finally:
        printer.stop()
    assert "Part two" in _text(out)


def test_chromium_waits_for_the_charts_and_never_starts_once_the_render_has_stopped(page: Path,
                                                                                  tmp_path: Path) -> None:
    chromium = rp.require_chromium()
    charts = tmp_path / "charts"
    charts.mkdir()
    (tmp_path / "w1").mkdir()
    stopped = rp.PrinterAfterCharts(chromium, tmp_path / "w1", charts)
    stopped.stop()  # the render ended (refused, failed, interrupted) before the charts were done
    assert stopped.get() is None  # and no Chromium was started for it
    assert not (tmp_path / "w1" / "chromium").exists()

    (tmp_path / "w2").mkdir()
    waiting = rp.PrinterAfterCharts(chromium, tmp_path / "w2", charts)
    wait_for(lambda: _waiting_for_charts(waiting), "the printer's start to wait for the charts", timeout=30)
    assert not (tmp_path / "w2" / "chromium").exists()  # not started while the charts are drawn
    (charts / "done").touch()
    printer = waiting.get()
    assert printer is not None
    pid = printer.pid
    try:
        out = rp.print_pdf(printer, page, tmp_path / "out.pdf", tmp_path / "w2", chromium)
    finally:
        waiting.stop()
    assert "Part two" in _text(out)
    _gone(pid)
