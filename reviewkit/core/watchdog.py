"""A small guard that stops a server's whole tree when the reviewkit command that started it dies.

``serve`` and ``hub`` stop everything on Ctrl+C, ``kill`` or the terminal closing. A SIGKILL
or the out-of-memory killer gives them no chance to, and their server, its kernels and the
hub's proxy run in sessions of their own, so nothing would stop them. This guard, started by
``reviewkit.core.lifecycle.start_detached`` in a session of its own, notes the server's tree
every half second; once the command that started it is gone it stops that tree (politely,
then firmly) and removes the private folder that held the server's secrets. If the server
itself dies first (the out-of-memory killer picks the biggest process), the guard stops what
it had started (the hub's proxy, in a session of its own) at once; the command removes the folder.

Run as ``python -m reviewkit.core.watchdog OWNER_PID SERVER_PID [FOLDER]``; only process numbers
and a folder's path are on its command line, never a secret.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time

import psutil

POLL_SECONDS = 0.5
POLITE_SECONDS = 3.0  # how long the server gets to stop its kernels itself before everything is killed


def _tree(server: psutil.Process) -> dict[int, psutil.Process]:
    try:
        return {p.pid: p for p in [server, *server.children(recursive=True)]}
    except psutil.Error:
        return {}


def _alive(procs: dict[int, psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs.values():
        with contextlib.suppress(psutil.Error):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
    return out


def stop_everything(seen: dict[int, psutil.Process], server: psutil.Process | None) -> None:
    """SIGTERM the server (it stops its children), then SIGKILL whatever of the tree or its groups is left."""
    if server is not None:
        seen.update(_tree(server))
        with contextlib.suppress(psutil.Error):
            server.terminate()
    deadline = time.monotonic() + POLITE_SECONDS
    while time.monotonic() < deadline and _alive(seen):
        if server is not None:
            seen.update(_tree(server))  # children started while it stops
        time.sleep(0.1)
    groups = set()
    for p in _alive(seen):
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
            groups.add(os.getpgid(p.pid))
        with contextlib.suppress(psutil.Error):
            p.kill()
    for g in groups - {os.getpgid(0)}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(g, signal.SIGKILL)
    psutil.wait_procs(list(seen.values()), timeout=3)


def remove(folder: str) -> None:
    for _ in range(5):  # a dying child may write a last file
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            return
        time.sleep(0.2)


def watch(owner_pid: int, server_pid: int, folder: str = "") -> None:
    """Poll until the owner is gone, then stop the server's tree and remove its folder."""
    try:
        server: psutil.Process | None = psutil.Process(server_pid)
    except psutil.Error:
        server = None
    seen: dict[int, psutil.Process] = {}
    while os.getppid() == owner_pid:  # a parent that dies hands this process to another
        if _ENDED:  # the command found its server gone: stop what is left of the tree, then end
            stop_everything(seen, None)
            return
        if server is not None and _alive({server.pid: server}):
            seen.update(_tree(server))
        elif server is not None:  # the server died by itself (killed, crashed): what it started outlives it
            stop_everything(seen, None)
            server, seen = None, {}
        time.sleep(POLL_SECONDS)
    stop_everything(seen, server)
    if folder:
        remove(folder)


_ENDED: list[bool] = []  # set by SIGUSR1


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # a normal stop: the command cleans up itself
    signal.signal(signal.SIGUSR1, lambda *_: _ENDED.append(True))  # the server ended by itself (see stop_tree)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the command, which then stops this guard
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    watch(int(argv[0]), int(argv[1]), argv[2] if len(argv) > 2 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
