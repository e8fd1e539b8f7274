"""Start a server in the background and make sure nothing of it outlives reviewkit.

``serve`` and ``hub`` run a server (Voila, JupyterHub) that starts children of its own
(kernels, single-user servers, the proxy), some in new sessions of their own. Closing the
terminal (SIGHUP), ``kill`` (SIGTERM) or Ctrl+C (SIGINT) must all stop the whole tree and
remove the temp folder that held its private files, so no form keeps serving with an old
token and no kernel keeps 100 MB of memory after the review team has gone home.

A SIGKILL (or the out-of-memory killer) gives reviewkit no chance to do that, so on Linux the
server is started to get SIGTERM when reviewkit dies (PR_SET_PDEATHSIG), and a small guard
(``reviewkit.core.watchdog``) stops whatever of its tree is left and removes the private
folder. Each private folder names the process that made it; the next start removes folders
whose maker is gone, should the guard have been killed too.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
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


OWNER_FILE = ".reviewkit-owner"  # in each private folder: the process number and start time of its maker
PR_SET_PDEATHSIG = 1


def _me() -> str:
    me = psutil.Process()
    return f"{me.pid} {me.create_time():.3f}"


def _maker_gone(folder: Path) -> bool:
    try:
        pid, started = (folder / OWNER_FILE).read_text().split()
        return abs(psutil.Process(int(pid)).create_time() - float(started)) > 0.01
    except (OSError, ValueError):
        return False  # no mark (not ours, or still being made): leave it alone
    except psutil.Error:
        return True


def sweep_stale(prefix: str, root: str | Path | None = None) -> list[Path]:
    """Remove this user's private folders of `prefix` whose maker is no longer running; the folders removed."""
    removed = []
    base = Path(root or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for d in base.iterdir():
            with contextlib.suppress(OSError):
                if (d.name.startswith(prefix) and d.is_dir() and not d.is_symlink()
                        and d.stat().st_uid == os.getuid() and _maker_gone(d)):
                    shutil.rmtree(d, ignore_errors=True)
                    removed.append(d)
    return removed


def private_dir(prefix: str, root: str | None = None) -> Path:
    """A temp folder only this user can read (0700), for tokens, databases and kernel files.

    Folders of the same kind left by a run that was killed (its maker gone) are removed first.
    """
    sweep_stale(prefix, root)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        path.chmod(0o700)
        write_private(path / OWNER_FILE, _me())
    except OSError:  # a full disk: no unmarked folder stays behind, which no sweep would ever remove
        shutil.rmtree(path, ignore_errors=True)
        raise
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


def _die_with(parent: int) -> Callable[[], None]:
    """Run in the child before it starts: SIGTERM when `parent` dies (Linux; elsewhere the guard alone)."""
    def set_up() -> None:
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the line above took effect
                os._exit(1)
    return set_up


def die_with_parent() -> None:
    """Get SIGTERM when this process's parent dies (Linux), or exit now if it already has.

    For a process a server starts itself (the hub's rating service): if the server dies without
    stopping it (killed, crashed while starting), nothing else would.
    """
    _die_with(os.getppid())()


def start_detached(argv: list[str], env: dict[str, str], cwd: str | Path | None = None,
                   guard_folder: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in a session of its own, so a stop can reach its whole process group.

    The server gets SIGTERM if this process dies (Linux), and a guard stops its whole tree and
    removes `guard_folder` then (see ``reviewkit.core.watchdog``). Call from the main thread: the
    signal follows the thread that started the server. ``stop_tree`` stops the guard too.
    """
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=_die_with(os.getpid()))  # noqa: PLW1509 - only prctl and getppid run there
    guard = [sys.executable, "-m", "reviewkit.core.watchdog", str(os.getpid()), str(proc.pid)]
    if guard_folder is not None:
        guard.append(str(guard_folder))
    proc.guard = subprocess.Popen(guard, stdin=subprocess.DEVNULL, start_new_session=True,  # type: ignore[attr-defined]
                                  env={k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "LANG")})
    return proc


def _stop_guard(proc: subprocess.Popen[bytes]) -> None:
    guard = getattr(proc, "guard", None)
    if guard is not None and guard.poll() is None and proc.poll() is not None:
        # The server ended by itself: its children are no longer its children, but the guard saw them.
        guard.send_signal(signal.SIGUSR1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            guard.wait(15)
    if guard is not None and guard.poll() is None:
        guard.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            guard.wait(5)
        if guard.poll() is None:
            guard.kill()
            guard.wait()


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
    _stop_guard(proc)  # this stop is an orderly one: the guard must not race it
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


def keep_forking(serve: Callable[[], int], log: Callable[[str], None], *, quick: float = 5.0) -> int:
    """Run ``serve`` in a forked child, and fork another at once whenever one dies (the out-of-memory
    killer, a crash): the hub that started this process would notice only at its next poll, up to 30 s
    later. A stop signal (SIGTERM, SIGINT, SIGHUP) is passed to the child, and ends both.

    The child gets SIGTERM if this process dies, as this one does if the hub dies. A child that dies
    within ``quick`` seconds of starting is started again after a pause that doubles each time (to 30 s),
    so a service that cannot start does not spin.
    """
    me, child, stopping, pause = os.getpid(), 0, [], 0.5

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        if child:
            with contextlib.suppress(OSError):
                os.kill(child, signum)

    for s in STOP_SIGNALS:
        signal.signal(s, stop)
    while not stopping:
        # Signals wait while the child is made: neither process may handle one before it knows its part.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        if stopping:  # a stop just before the block: its handler has run, with no child to pass it to
            break
        gc.freeze()  # the child's collector leaves what it inherits alone, so those pages stay shared
        pid = os.fork()
        if pid == 0:
            for s in STOP_SIGNALS:
                signal.signal(s, signal.SIG_DFL)
            _die_with(me)()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            code = 1
            try:
                code = serve()
            except BaseException:  # noqa: BLE001 - said in the log; the next child may fare better
                log(f"the service failed:\n{traceback.format_exc()}")
            finally:
                os._exit(code)
        child, started = pid, time.monotonic()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # a stop that came meanwhile reaches the child now
        _, status = os.waitpid(child, 0)
        child = 0
        if stopping:
            break
        how = f"signal {-os.waitstatus_to_exitcode(status)}" if os.WIFSIGNALED(status) else \
            f"exit code {os.waitstatus_to_exitcode(status)}"
        quickly = time.monotonic() - started < quick
        log(f"the service ended ({how}); starting it again" + (f" in {pause:.1f} s" if quickly else ""))
        if quickly:
            end = time.monotonic() + pause
            while not stopping and time.monotonic() < end:  # a stop meanwhile ends the wait
                time.sleep(0.05)
            pause = min(pause * 2, 30.0)
        else:
            pause = 0.5
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    return 0
