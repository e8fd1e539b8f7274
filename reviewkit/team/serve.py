"""Serve an entry form as a code-free page with Voila, on this computer only (127.0.0.1).

A visiting PSW should never see Python: Voila runs the form's notebook in a fresh kernel per
browser tab and strips every code cell from the page. The workspace and reviewer reach the
notebook's ``parameters`` cell through environment variables, so nothing is typed into code.
Voila ships its own page assets; reviewkit's small page template drops the one outside link
of Voila's own (an icon font on a public CDN), so the page loads nothing from the web.

Each server gets a random access token in its address, so another program or user on the
same computer cannot open the form and write to the review store. The token reaches Voila
through its environment (readable only by this user), never its command line, which any
user can list. A kernel is released when its page closes, and culled if left idle; closing
the terminal, ``kill`` or Ctrl+C stop Voila and every kernel and remove the temp folder; if
``reviewkit serve`` itself is killed, a guard does the same (see ``reviewkit.core.lifecycle``).
Each tab's kernel is a fork of a fork server started beside Voila that has the forms already
imported (``reviewkit.core.forkserver``): it is ready at once and shares most of its memory.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewkit.core.errors import InvalidInputError, ServeError
from reviewkit.core.forkserver import FORK_SOCKET, FORKSERVER_ENV
from reviewkit.core.lifecycle import private_dir, remove_dir, start_detached, stop_tree, supervise
from reviewkit.core.resources import shipped
from reviewkit.inhouse.programme import is_programme, open_programme
from reviewkit.review.workspace import open_workspace
from reviewkit.team.widgets.audit import check_auditor
from reviewkit.team.widgets.common import check_reviewer

NOTEBOOKS = shipped("notebooks")
# Holds voila/templates/reviewkit: Voila's page without its CDN link.
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"
TEMPLATE = "reviewkit"
CULL_IDLE_SECONDS = 20 * 60  # a kernel left idle this long (its page closed) is shut down
CULL_EVERY_SECONDS = 60
FORMS = {
    "rate": "rate_case_records.ipynb",
    "meeting": "record_meeting.ipynb",
    "conversation": "record_conversation.ipynb",
    "progress": "review_progress.ipynb",
    "host": "host_console.ipynb",
    "calibrate": "calibration.ipynb",
    "audit": "record_audit.ipynb",
}
NEEDS_REVIEWER = {"rate", "meeting", "conversation", "calibrate"}
PROGRAMME_FORMS = {"audit"}  # the forms of an in-house audit programme (a folder with programme.yaml)
MAX_KERNELS = 2  # as reviewkit.team.kernels (not imported here: Jupyter Server loads only in the server)
UNCONNECTED_SECONDS = 300  # long enough for a page on a very busy machine to load and connect
HOST = "127.0.0.1"
# What the fork server imports once, so that each page's kernel starts at once (see reviewkit.core.forkserver).
KERNEL_PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipywidgets", "pandas", "reviewkit.team.widgets")
FORK_WAIT_SECONDS = 60  # how long wait_ready waits for the fork server to finish importing



@dataclass
class ServePlan:
    """Everything needed to start the server: command, environment and the address to open."""

    argv: list[str]
    env: dict[str, str]
    url: str
    port: int
    notebook: Path
    token: str = ""
    scratch: Path | None = None  # a private folder start() made for kernel files; removed on stop
    forker: subprocess.Popen[bytes] | None = None  # the fork server start() runs beside Voila


def free_port(host: str = HOST) -> int:
    """A port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_taken(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the server will: connections of a server stopped a moment ago must not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def plan(workspace: str | Path, reviewer: str = "", *, form: str = "rate", port: int | None = None,
         token: str | None = None, history_dir: str | Path | None = None,
         cull_idle_seconds: int = CULL_IDLE_SECONDS, cull_every_seconds: int = CULL_EVERY_SECONDS,
         unconnected_seconds: int = UNCONNECTED_SECONDS) -> ServePlan:
    """Check the workspace, reviewer and port, and build the Voila command; starts nothing."""
    if form not in FORMS:
        raise InvalidInputError(f"form must be one of {', '.join(FORMS)}")
    if form in PROGRAMME_FORMS or is_programme(workspace):
        if form not in PROGRAMME_FORMS:
            raise InvalidInputError(f"{workspace} is an in-house audit programme: its form is --form audit "
                                    "(the review forms need a review workspace)")
        programme = open_programme(workspace)  # not a programme: says so, and how to make one
        folder, name = programme.path, check_auditor(programme, reviewer)
    else:
        ws = open_workspace(workspace)  # a wrong folder fails here, in plain English, not in the page
        folder, name = ws.path, check_reviewer(ws, reviewer) if form in NEEDS_REVIEWER else reviewer
    if port is None:
        port = free_port()
    elif not 1024 <= port <= 65535:
        raise InvalidInputError("port must be a number from 1024 to 65535, e.g. --port 8866")
    elif _port_taken(port):
        raise ServeError(f"port {port} is already in use on this computer; choose another with --port, "
                         "or leave --port out to pick a free one")
    notebook = NOTEBOOKS / FORMS[form]
    if not notebook.exists():
        raise ServeError(f"{notebook}: the form's notebook is missing; reinstall reviewkit")
    token = token if token is not None else secrets.token_urlsafe(24)
    env = dict(os.environ)
    env.update({"REVIEWKIT_WORKSPACE": str(folder.resolve()), "REVIEWKIT_REVIEWER": name,
                "PYTHONUNBUFFERED": "1", "JUPYTER_TOKEN": token})
    env.pop("JUPYTER_TOKEN_FILE", None)
    # This environment's kernel and page assets first: a stale per-user "python3" kernelspec
    # would otherwise shadow the one that can import reviewkit.
    ours = str(Path(sys.prefix) / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join([ours, str(JUPYTER_DATA),
                                           *[x for x in env.get("JUPYTER_PATH", "").split(os.pathsep) if x]])
    # Kernel history would otherwise collect under the home folder: keep it with this server
    # (start() makes a throwaway folder when none is given).
    env.pop("IPYTHONDIR", None)
    if history_dir:
        env["IPYTHONDIR"] = str(history_dir)
    argv = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={HOST}",
        "--Voila.port_retries=0",
        "--Voila.auto_token=True",  # the token itself comes from JUPYTER_TOKEN in the environment
        f"--template={TEMPLATE}",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--theme=light",
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_seconds)}",
        f"--MappingKernelManager.cull_interval={int(cull_every_seconds)}",
        "--MappingKernelManager.cull_connected=False",
        # At most two kernels (two tabs); one no page connects to (a plain GET) goes soon.
        "--VoilaConfiguration.multi_kernel_manager_class=reviewkit.team.kernels.FormsKernelManager",
        f"--FormsKernelManager.max_kernels={MAX_KERNELS}",
        f"--FormsKernelManager.unconnected_seconds={int(unconnected_seconds)}",
        # Each kernel a fork of a process that has imported the forms: ready at once, its memory shared.
        "--FormsKernelManager.kernel_manager_class=reviewkit.team.kernels.ForkedKernelManager",
    ]
    url = f"http://{HOST}:{port}/?token={token}"
    return ServePlan(argv, env, url, port, notebook, token)


def start(p: ServePlan) -> subprocess.Popen[bytes]:
    """Start the server in the background (a session of its own); stop it with ``stop``."""
    if p.scratch is None:
        p.scratch = private_dir("reviewkit-serve-")
    if "IPYTHONDIR" not in p.env:
        p.env["IPYTHONDIR"] = str(p.scratch / "ipython")
    # Kernel connection files (they hold the kernels' keys) stay in the private folder too.
    p.env["JUPYTER_RUNTIME_DIR"] = str(p.scratch / "runtime")
    (p.scratch / "tmp").mkdir(exist_ok=True)
    p.env["TMPDIR"] = str(p.scratch / "tmp")  # Voila's own temp folder for kernel connection files
    sock = p.scratch / FORK_SOCKET
    p.env[FORKSERVER_ENV] = str(sock)  # until it answers, kernels start as usual
    p.forker = start_detached([sys.executable, "-m", "reviewkit.core.forkserver", str(sock), *KERNEL_PRELOAD],
                              {k: v for k, v in p.env.items() if k != "JUPYTER_TOKEN"}, cwd=p.scratch,
                              guard_folder=p.scratch)
    return start_detached(p.argv, p.env, guard_folder=p.scratch)


def wait_ready(p: ServePlan, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Wait until the server answers on its address, or raise if it stopped or took too long."""
    deadline = time.monotonic() + timeout
    probe = f"http://{HOST}:{p.port}/voila/static/voila.js"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServeError(f"the form server stopped while starting (exit code {proc.returncode}); "
                             "see the messages above")
        try:
            with urllib.request.urlopen(probe, timeout=2):  # noqa: S310 - loopback only
                break
        except urllib.error.HTTPError:
            break  # it answered, so it is up
        except OSError:
            time.sleep(0.2)
    else:
        raise ServeError(f"the form server did not answer within {timeout:.0f} seconds")
    # The first page's kernel is quick only once the fork server has imported the forms.
    sock = Path(p.env.get(FORKSERVER_ENV, ""))
    deadline = min(deadline, time.monotonic() + FORK_WAIT_SECONDS)
    while (p.forker is not None and p.forker.poll() is None and not sock.exists()
           and time.monotonic() < deadline):
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], p: ServePlan | None = None, timeout: float = 10.0) -> int:
    """Stop the server and every kernel it started; remove the plan's temp folder."""
    try:
        return stop_tree(proc, timeout)
    finally:
        if p is not None:
            if p.forker is not None:  # after Voila, which stops its kernels first
                stop_tree(p.forker, timeout)
                p.forker = None
            remove_dir(p.scratch)
            p.scratch = None


def open_in_browser(url: str) -> bool:
    """Open the form in the person's web browser when there is a screen to show it on.

    Without a display (a server, an SSH session) Python's webbrowser would start a text
    browser in the terminal, so the address is only printed there.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


def run(p: ServePlan, on_ready: Callable[[str], None] | None = None) -> int:
    """Serve until the server exits or a stop signal arrives (Ctrl+C, kill, the terminal closing).

    Returns an exit code; on any way out, the server, its kernels and its temp folder go.
    """
    return supervise(lambda: start(p), lambda proc: wait_ready(p, proc), lambda proc: stop(proc, p),
                     None if on_ready is None else lambda: on_ready(p.url))
