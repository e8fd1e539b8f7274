"""A person's forms hold at most two kernels, and a kernel no page connects to does not stay.

Each page load of a form starts a kernel. A plain GET of the form's address (a link preview,
a script, a browser closed before the page ran) never opens the page's connection; before,
each left a kernel of about 100 MB for 20 minutes, with no limit. Here the real ``reviewkit
serve`` (Voila) runs with the unconnected time shortened to a few seconds: three GETs never
hold more than two kernels at once, and all go soon after; a page open in Chromium keeps its
kernel while a later GET's kernel goes, because it is connected.

And a kernel forked from the fork server answers the page's request for all of a form's widgets
in one message (ipywidgets' control channel), as a kernel started afresh does; without it the
page asks for each widget in turn, which took seconds.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from reviewkit.team import serve

from .helpers import make_workspace, wait_for
from .test_browser_forms import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(400)]

UNCONNECTED = 30  # long enough for a loaded machine to load the page and connect


def kernels(voila: psutil.Process, forker: psutil.Process | None = None) -> list[psutil.Process]:
    """The kernels of a form server: forks of its fork server, or (without one) Voila's own children."""
    found = []
    try:
        forks = forker.children() if forker is not None else []
    except psutil.Error:  # the fork server has stopped
        forks = []
    for p in voila.children(recursive=True) + forks:
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:  # ended meanwhile
            continue
    return found


@pytest.mark.browser
def test_plain_gets_hold_at_most_two_kernels_and_leave_none(browser, tmp_path: Path) -> None:  # noqa: ANN001, F811
    from .test_browser_forms import open_page

    ws = make_workspace(tmp_path / "ws")
    p = serve.plan(ws.path, "A. Visitor", form="rate", unconnected_seconds=UNCONNECTED)
    proc = serve.start(p)
    most = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            most[0] = max(most[0], len(kernels(voila, forker)))
            time.sleep(0.05)

    try:
        serve.wait_ready(p, proc, timeout=120)
        voila = psutil.Process(proc.pid)
        assert p.forker is not None
        forker = psutil.Process(p.forker.pid)
        watcher = threading.Thread(target=count, daemon=True)
        watcher.start()
        for _ in range(3):  # each renders the whole form in a kernel, and never connects to it
            with urllib.request.urlopen(p.url, timeout=180) as page:  # noqa: S310 - loopback
                assert b"application/vnd.jupyter.widget-view+json" in page.read()  # the form ran
        assert 1 <= len(kernels(voila, forker)) <= 2
        wait_for(lambda: kernels(voila, forker) == [], "the unconnected kernels to be shut down", timeout=150)

        outside: list[str] = []
        page = open_page(browser, p.url, outside)  # a real page connects to its kernel
        (mine,) = [k.pid for k in kernels(voila, forker)]
        # One more plain GET; once its kernel is shut down, the page's (idle for longer) has been
        # eligible as long: it must stay, because its page is connected.
        with urllib.request.urlopen(p.url, timeout=180) as r:  # noqa: S310 - loopback
            r.read()
        assert len(kernels(voila, forker)) == 2
        wait_for(lambda: len(kernels(voila, forker)) == 1, "the GET's kernel to be shut down", timeout=150)
        assert [k.pid for k in kernels(voila, forker)] == [mine], "the open page's kernel was shut down"
        page.locator(".rk-q-q1").get_by_role("button", name="Good", exact=True).click()
        page.wait_for_selector(".rk-form .rk-status:has-text('Saved')", timeout=60_000)
        page.close()
        stop.set()
        watcher.join()
        assert most[0] <= 2, f"{most[0]} kernels at once"
    finally:
        stop.set()
        serve.stop(proc, p)


def _control_channel(kc, comm_id: str) -> dict | None:  # noqa: ANN001
    """Ask the kernel for every widget at once, as the form's page does; their states, or None if refused."""
    from ipywidgets.widgets.widget import __control_protocol_version__ as version

    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "jupyter.widget.control",
                                                       "data": {}}, metadata={"version": version}))
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"method": "request_states"}}))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except Exception:  # noqa: BLE001, S112 - queue.Empty: nothing yet
            continue
        content = msg["content"]
        if content.get("comm_id") != comm_id:
            continue
        if msg["msg_type"] == "comm_close":  # no such target in this kernel: the page falls back to one by one
            return None
        if msg["msg_type"] == "comm_msg" and content["data"].get("method") == "update_states":
            return content["data"]["states"]
    raise AssertionError("the kernel neither answered nor refused the widgets' control channel within 60 s")


def test_a_kernel_forked_from_the_fork_server_sends_a_forms_widgets_at_once(tmp_path: Path) -> None:
    """A forked kernel inherits ipywidgets imported before any kernel existed; the forms set up its channel."""
    import os
    import signal
    import subprocess
    import sys

    from jupyter_client import BlockingKernelClient
    from jupyter_client.connect import write_connection_file

    from reviewkit.core.forkserver import spawn

    sock = tmp_path / "fork.sock"
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               MPLCONFIGDIR=str(tmp_path / "mpl"))
    forker = subprocess.Popen([sys.executable, "-m", "reviewkit.core.forkserver", str(sock), "ipykernel.kernelapp",
                               "ipywidgets", "reviewkit.team.widgets"], env=env, start_new_session=True)
    kc = None
    printed: list[str] = []
    try:
        wait_for(lambda: sock.exists(), "the fork server to import the forms", 120)
        connection, _ = write_connection_file(str(tmp_path / "kernel.json"), ip="127.0.0.1")
        kernel = spawn(sock, [sys.executable, "-m", "ipykernel_launcher", "-f", connection], env, tmp_path, os.getpid())
        assert kernel.pid in [c.pid for c in psutil.Process(forker.pid).children()]  # a fork, not a new Python
        kc = BlockingKernelClient(connection_file=connection)
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        kc.execute_interactive("import ipywidgets as w; button = w.Button(description='Good')", timeout=60)
        assert _control_channel(kc, "before") is None  # what a forked kernel gave the page before the forms' fix
        reply = kc.execute_interactive("from reviewkit.team.widgets.common import listen_for_pages\n"
                                       "listen_for_pages(); print(button.model_id)", timeout=60,
                                       output_hook=lambda m: printed.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        states = _control_channel(kc, "after")
        model_id = "".join(printed).strip()
        assert states is not None and model_id in states
        assert states[model_id]["state"]["description"] == "Good"
    finally:
        if kc is not None:
            kc.stop_channels()
        forker.send_signal(signal.SIGTERM)  # it stops every process it started, then itself
        forker.wait(30)
