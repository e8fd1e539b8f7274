"""A service that keeps a fork serving (``lifecycle.keep_forking``): the hub's rating service.

If the serving process dies (the out-of-memory killer picks the largest), another serves at once,
not at the hub's next poll; a stop ends both; a killed keeper takes its fork with it; one that
cannot start is not restarted in a tight loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from .helpers import wait_for

SERVICE = """
import os, sys, time, pathlib
from reviewkit.core.lifecycle import keep_forking
folder, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
def serve():
    n = len(list(folder.glob("started-*")))
    (folder / f"started-{n}").write_text(f"{os.getpid()} {time.monotonic()}")
    if mode == "fail":
        raise RuntimeError("the port is taken")
    while True:
        time.sleep(1)
sys.exit(keep_forking(serve, lambda m: print(m, file=sys.stderr, flush=True)))
"""


def _start(folder: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", SERVICE, str(folder), mode], stderr=subprocess.PIPE, text=True)


def _end(keeper: subprocess.Popen[str]) -> None:
    if keeper.poll() is None:
        keeper.kill()
    keeper.communicate()


def _started(folder: Path, n: int) -> tuple[int, float]:
    pid, at = (folder / f"started-{n}").read_text().split()
    return int(pid), float(at)


def _wait_started(folder: Path, n: int) -> tuple[int, float]:
    wait_for(lambda: (folder / f"started-{n}").exists(), f"start {n}", timeout=10)
    wait_for(lambda: len((folder / f"started-{n}").read_text().split()) == 2, f"start {n} written", timeout=5)
    return _started(folder, n)


def test_a_killed_fork_is_replaced_at_once_and_a_stop_ends_both(tmp_path: Path) -> None:
    keeper = _start(tmp_path, "serve")
    try:
        first, _ = _wait_started(tmp_path, 0)
        assert psutil.Process(first).ppid() == keeper.pid
        os.kill(first, signal.SIGKILL)
        second, _ = _wait_started(tmp_path, 1)  # within seconds: the hub's own poll would take up to 30
        assert second != first and psutil.Process(second).ppid() == keeper.pid
        keeper.send_signal(signal.SIGTERM)
        assert keeper.wait(timeout=10) == 0
        wait_for(lambda: not psutil.pid_exists(second) or psutil.Process(second).status() == psutil.STATUS_ZOMBIE,
                 "the fork to end with its keeper", timeout=10)
        _, err = keeper.communicate(timeout=10)
        assert "the service ended (signal 9); starting it again" in err
        assert "Traceback" not in err
    finally:
        _end(keeper)


def test_a_killed_keeper_takes_its_fork_with_it(tmp_path: Path) -> None:
    keeper = _start(tmp_path, "serve")
    try:
        fork, _ = _wait_started(tmp_path, 0)
        served = psutil.Process(fork)
        keeper.kill()
        keeper.wait(timeout=10)
        wait_for(lambda: not served.is_running() or served.status() == psutil.STATUS_ZOMBIE,
                 "the fork to end when its keeper is killed", timeout=10)
    finally:
        _end(keeper)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_a_fork_that_cannot_start_is_started_again_after_a_growing_pause_and_a_stop_ends_the_wait(
        tmp_path: Path, stop: signal.Signals) -> None:
    keeper = _start(tmp_path, "fail")
    try:
        starts = [_wait_started(tmp_path, n)[1] for n in range(3)]
        assert starts[1] - starts[0] >= 0.5 and starts[2] - starts[1] >= 1.0  # 0.5 s, then twice that
        keeper.send_signal(stop)  # during the pause before the fourth start, which may be 2 s
        assert keeper.wait(timeout=10) == 0
        _, err = keeper.communicate(timeout=10)
        assert "RuntimeError: the port is taken" in err and "exit code 1); starting it again in 0.5 s" in err
        assert "starting it again in 1.0 s" in err
    finally:
        _end(keeper)
