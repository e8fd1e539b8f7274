"""Start the forms' servers and kernels in a fraction of a second: fork them from a process that has imported them.

A reviewer's single-user server and each form's kernel are Python programs that spend
seconds importing the same modules (Jupyter Server, Voila, ipykernel, ipywidgets, the forms)
before they do anything. This fork server imports them once, at start; each program it is
asked for is then a fork of it that runs the program's module, ready in milliseconds. The
forks share the imported modules' memory with the fork server until they change it (copy on
write), so each costs a fraction of a separately started process.

Run as ``python -m reviewkit.core.forkserver SOCKET MODULE [MODULE ...]``: it imports the
modules, then listens on the Unix socket SOCKET (made 0600; put it in a 0700 folder). A client
(``spawn``) sends one JSON request, ``{"argv": [python, "-m", module, ...], "env": {...},
"cwd": "...", "owner": pid}``, and gets the new process's number back. The new process starts
a session of its own with exactly the environment sent (nothing of the fork server's), and
stops if ``owner`` stops (a kernel whose server was killed). On SIGTERM the fork server stops
every process it started, then itself.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
import time
from pathlib import Path

MAX_REQUEST = 1 << 20
FORKSERVER_ENV = "REVIEWKIT_FORKSERVER"  # the fork server's socket, for a server whose kernels it starts
FORK_SOCKET = "fork.sock"  # its name in the hub's (or serve's) private folder
FORK_STARTING = "fork.starting"  # there while the fork server imports: a sign-in then waits for it
PR_SET_PDEATHSIG = 1
OWNER_POLL_SECONDS = 1.0


class ForkedProcess:
    """What a caller needs of a process the fork server started (it is not the caller's child)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                with open(f"/proc/{self.pid}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
                if state in (b"Z", b"X"):
                    self.returncode = 0
            except OSError:
                self.returncode = 0  # gone (the fork server reaped it); its exit code is not ours to know
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"process {self.pid} still running")
            time.sleep(0.05)
        return int(self.returncode or 0)

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def spawn(sock_path: str | Path, argv: list[str], env: dict[str, str], cwd: str | Path | None = None,
          owner: int = 0, timeout: float = 30.0) -> ForkedProcess:
    """Ask the fork server at `sock_path` to run ``argv`` (``[python, "-m", module, ...]``); the new process."""
    request = json.dumps({"argv": list(argv), "env": dict(env), "cwd": str(cwd or os.getcwd()), "owner": owner})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock_path))
        s.sendall(request.encode() + b"\n")
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    reply = json.loads(answer or b"{}")
    if "pid" not in reply:
        raise OSError(f"the fork server refused to start {argv[2:3]}: {reply.get('error', 'no answer')}")
    return ForkedProcess(int(reply["pid"]))


def module_of(argv: list[str]) -> tuple[str, list[str]]:
    """The module and its arguments of ``[python, "-m", module, *args]``; ValueError for anything else."""
    if len(argv) < 3 or argv[1] != "-m" or not argv[2].replace(".", "").replace("_", "").isalnum():
        raise ValueError("only 'python -m module ...' can be forked")
    return argv[2], argv[3:]


def _watch_owner(owner: int) -> None:
    def poll() -> None:
        while True:
            time.sleep(OWNER_POLL_SECONDS)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)
                os._exit(1)
            except PermissionError:
                continue
    threading.Thread(target=poll, name="owner-watch", daemon=True).start()


def _run_child(request: dict, listener: socket.socket, conn: socket.socket) -> None:
    """In the fork: become the requested program. Never returns."""
    code = 1
    try:
        listener.close()
        conn.close()
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(s, signal.SIG_DFL)
        os.setsid()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        module, args = module_of(request["argv"])
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request["env"].items()})
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if request.get("owner"):
            _watch_owner(int(request["owner"]))
        sys.argv = [module, *args]
        gc.unfreeze()
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        with contextlib.suppress(Exception):
            atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - the fork must never return into the fork server's loop
        import traceback  # start-up: only when a forked program fails

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class ForkServer:
    def __init__(self, sock_path: str, modules: list[str]) -> None:
        self.sock_path = sock_path
        self.children: set[int] = set()
        self.stopping = False
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as e:  # noqa: BLE001 - a module that fails here is imported by the fork itself
                sys.stderr.write(f"fork server: {name} not preloaded ({type(e).__name__}: {e})\n")
        gc.collect()
        gc.freeze()  # the imported objects stay put: forks share their pages instead of copying them

    def reap(self) -> None:
        while self.children:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def handle(self, listener: socket.socket, conn: socket.socket) -> None:
        conn.settimeout(10)
        data = b""
        with contextlib.suppress(OSError):
            while not data.endswith(b"\n") and len(data) < MAX_REQUEST:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        try:
            request = json.loads(data)
            module_of(request["argv"])
            if not isinstance(request["env"], dict) or not os.path.isdir(request["cwd"]):
                raise ValueError("env must be a mapping and cwd a folder")
        except (ValueError, KeyError, TypeError) as e:
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"error": str(e)}).encode() + b"\n")
            conn.close()
            return
        pid = os.fork()
        if pid == 0:
            _run_child(request, listener, conn)
        self.children.add(pid)
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        conn.close()

    def stop_children(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 8
        while self.children and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.05)
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.reap()

    def serve(self) -> int:
        def stop(_signum: int, _frame: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, stop)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sock_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.sock_path)
        finally:
            os.umask(old)
        listener.listen(64)
        sel = selectors.DefaultSelector()
        sel.register(listener, selectors.EVENT_READ)
        sys.stderr.flush()
        try:
            while not self.stopping:
                if sel.select(timeout=0.2):
                    with contextlib.suppress(OSError):
                        conn, _ = listener.accept()
                        self.handle(listener, conn)
                self.reap()
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(self.sock_path)
            self.stop_children()
        return 0


def main(argv: list[str]) -> int:
    if not argv:
        sys.stderr.write("usage: python -m reviewkit.core.forkserver SOCKET [MODULE ...]\n")
        return 2
    return ForkServer(argv[0], argv[1:]).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
