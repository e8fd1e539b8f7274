"""Start a server in the background and make sure nothing of it outlives reviewkit.

``serve`` and ``hub`` run a server (Voila, JupyterHub) that starts children of its own
(kernels, single-user servers, the proxy), some in new sessions of their own. Closing the
terminal (SIGHUP), ``kill`` (SIGTERM) or Ctrl+C (SIGINT) must all stop the whole tree and
remove the temp folder that held its private files, so no form keeps serving with an old
token and no kernel keeps 100 MB of memory after the review team has gone home.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import psutil

from reviewkit.core.atomic import write_text
from reviewkit.core.errors import Stopped

STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None),
                                 getattr(signal, "SIGINT", None)) if s is not None)



@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM, SIGHUP and SIGINT into ``Stopped`` while the block runs (main thread only)."""
    def handler(signum: int, _frame: FrameType | None) -> None:
        for s in STOP_SIGNALS:  # one stop is enough: a second Ctrl+C must not cut the clean-up short
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {}
    try:
        for s in STOP_SIGNALS:
            previous[s] = signal.signal(s, handler)
    except ValueError:  # not the main thread: the caller stops the server itself
        pass
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def private_dir(prefix: str) -> Path:
    """A temp folder only this user can read (0700), for tokens, databases and kernel files."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> Path:
    """Write a file that only this user can read (0600) from the moment it exists, whole or not at all."""
    return write_text(path, text, mode=0o600)


def supervise(start: Callable[[], subprocess.Popen[bytes]], wait_ready: Callable[[subprocess.Popen[bytes]], None],
              stop: Callable[[subprocess.Popen[bytes]], object], on_ready: Callable[[], None] | None = None) -> int:
    """Run a server until it exits or a stop signal arrives; on any way out, ``stop`` runs.

    Returns the server's exit code, or 0 when stopped by Ctrl+C, kill or the terminal closing.
    """
    with stop_on_signals():
        proc = start()
        try:
            wait_ready(proc)
            if on_ready is not None:
                on_ready()
            return proc.wait()
        except (Stopped, KeyboardInterrupt):
            return 0
        finally:
            stop(proc)


def start_detached(argv: list[str], env: dict[str, str], cwd: str | Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in a session of its own, so a stop can reach its whole process group."""
    return subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, start_new_session=True)


def descendants(pid: int) -> list[psutil.Process]:
    """Every process started under `pid`, including those that moved to a session of their own."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def stop_tree(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """Stop a server politely (it shuts its kernels and children down), then firmly, then sweep up.

    Kernels start in sessions of their own, so the process group alone would miss them: the
    tree is noted first and anything of it still alive afterwards is killed.
    """
    tree = descendants(proc.pid)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)  # anything left in its group (e.g. a proxy)
    _gone, alive = psutil.wait_procs(tree, timeout=5)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return int(proc.returncode or 0)


def remove_dir(path: Path | None) -> None:
    """Remove a temp folder; a second try covers files a dying child wrote at the last moment."""
    if path is None:
        return
    for _ in range(3):
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.2)
