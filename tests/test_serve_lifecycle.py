"""Nothing of `reviewkit serve` outlives it, and its token stays out of sight.

The real command runs in a session of its own (as in a terminal); a page load starts a real
kernel; then SIGTERM (kill), SIGHUP (the terminal closing) or SIGINT (Ctrl+C) must leave no
process of its process group or of its tree, and no temp file. The token must never be on a
command line (any local user can read /proc/PID/cmdline) nor in a file others can read.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from .helpers import make_workspace, wait_for
from .test_browser_forms import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(300)]


def in_group(pgid: int) -> list[int]:
    """Live processes of a process group, read from /proc (zombies reaped by now do not count)."""
    found = []
    for p in psutil.process_iter(["status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(p.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return found


def alive(procs: list[psutil.Process]) -> list[int]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except psutil.Error:
            continue
    return out


def start_serve(ws: Path, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, TMPDIR=str(tmp))
    proc = subprocess.Popen([sys.executable, "-m", "reviewkit", "serve", str(ws), "--reviewer", "A. Visitor",
                             "--no-browser"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        if found:
            return proc, found.group(0)
    raise AssertionError(f"serve stopped before printing its address (exit {proc.wait()})")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_ends_voila_and_every_kernel_and_removes_the_temp_folder(tmp_path: Path, signum: int) -> None:
    ws = make_workspace(tmp_path / "ws")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc, url = start_serve(ws.path, tmp)
    try:
        token = url.split("token=", 1)[1]
        with urllib.request.urlopen(url, timeout=120) as page:  # noqa: S310 - loopback; runs the form in a kernel
            page.read()
        wait_for(lambda: len(psutil.Process(proc.pid).children(recursive=True)) >= 2, "Voila and a kernel")
        tree = psutil.Process(proc.pid).children(recursive=True)
        for p in [psutil.Process(proc.pid), *tree]:
            assert token not in " ".join(p.cmdline()), "the token is on a command line"
        scratch = [d for d in tmp.iterdir() if d.name.startswith("reviewkit-serve-")]
        # Kernel files and history sit in a folder only this user can enter; the token in none.
        assert len(scratch) == 1 and stat.S_IMODE(scratch[0].stat().st_mode) == 0o700
        for f in scratch[0].rglob("*"):
            if f.is_file():
                assert token not in f.read_text(errors="replace"), f"the token is in {f}"

        os.kill(proc.pid, signum)
        assert proc.wait(timeout=60) == 0
        wait_for(lambda: not alive(tree), "every child of serve to stop", timeout=30)
        assert in_group(proc.pid) == []
        assert [p.name for p in tmp.iterdir()] == []  # the private temp folder is gone
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()


@pytest.mark.browser
def test_each_page_load_releases_its_kernel_when_the_page_goes(browser, tmp_path: Path) -> None:  # noqa: ANN001
    from reviewkit.team import serve

    from .test_browser_forms import open_page
    from .test_form_kernels import kernels

    ws = make_workspace(tmp_path / "ws")
    p = serve.plan(ws.path, "A. Visitor", form="rate")
    proc = serve.start(p)
    try:
        serve.wait_ready(p, proc, timeout=120)
        voila = psutil.Process(proc.pid)
        assert p.forker is not None
        forker = psutil.Process(p.forker.pid)  # each page's kernel is a fork of it
        outside: list[str] = []
        page = open_page(browser, p.url, outside)
        for _ in range(3):  # reloading: the page before lets its kernel go
            page.reload()
            page.wait_for_selector(".rk-form .rk-q-q1 button", timeout=120_000)
        wait_for(lambda: len(kernels(voila, forker)) == 1, "one kernel for one open page", timeout=120)
        page.goto("about:blank")  # leaving the page, as closing its tab does, fires its pagehide
        page.close()
        wait_for(lambda: kernels(voila, forker) == [], "the closed page's kernel to be shut down", timeout=120)
        assert outside == []  # every asset of the page came from the server itself
    finally:
        serve.stop(proc, p)
    assert p.scratch is None
