"""`reviewkit hub` leaves nothing behind when the terminal closes (SIGHUP) or on Ctrl+C (SIGINT).

SIGTERM, with people signed in and their servers and kernels running, is covered end to end in
test_hub_browser.py; here the hub and its proxy start, and the signal must stop both and
remove the hub's private temp folder (config, database, cookie secret).
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from .helpers import make_workspace, wait_for, with_logins
from .test_serve_lifecycle import alive, in_group

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(300)]


def start_hub(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """`reviewkit hub` on a workspace with logins, as a person runs it; returns once it says its address."""
    ws = with_logins(make_workspace(tmp_path / "ws"))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    log = tmp_path / "hub.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "reviewkit", "hub", str(ws.path)], stdout=out,
                                stderr=subprocess.STDOUT, env=dict(os.environ, TMPDIR=str(tmp)),
                                start_new_session=True)
    try:
        wait_for(lambda: proc.poll() is not None or "sign in at:" in log.read_text(), "the hub's address", 240)
    except AssertionError:
        kill_hub(proc)
        raise
    return proc, tmp, log


def kill_hub(proc: subprocess.Popen[bytes]) -> None:
    """What a failed test leaves: kill the command and everything under it."""
    if proc.poll() is None:
        tree = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()
        proc.wait()
        for p in tree:
            p.kill()


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_ends_the_hub_its_proxy_and_removes_its_temp_folder(tmp_path: Path, signum: int) -> None:
    proc, tmp, log = start_hub(tmp_path)
    try:
        assert re.search(r"sign in at:\s+http://127\.0\.0\.1:\d+/", log.read_text()), log.read_text()[-2000:]
        state = [d for d in tmp.iterdir() if d.name.startswith("reviewkit-hub-")]
        assert len(state) == 1 and stat.S_IMODE(state[0].stat().st_mode) == 0o700
        config = state[0] / "jupyterhub_config.py"
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
        tree = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in tree)
        assert "jupyterhub" in names and "configurable-http-proxy" in names and "reviewkit.team.rateservice" in names
        for p in [psutil.Process(proc.pid), *tree]:  # no secret on any command line
            assert "secret" not in " ".join(p.cmdline()).lower() and "token" not in " ".join(p.cmdline()).lower()

        os.kill(proc.pid, signum)
        assert proc.wait(timeout=120) == 0
        wait_for(lambda: not alive(tree), "the hub and its proxy to stop", timeout=60)
        assert in_group(proc.pid) == []
        assert list(tmp.iterdir()) == []
    finally:
        kill_hub(proc)


def test_the_hub_is_ready_only_when_its_sign_in_page_answers(tmp_path: Path) -> None:
    """The proxy answers (404, then 503) before the hub does; the address is given out only after."""
    import urllib.request

    from reviewkit.team import hub

    p = hub.plan(with_logins(make_workspace(tmp_path / "ws")).path)
    proc = hub.start(p)
    try:
        hub.wait_ready(p, proc)
        with urllib.request.urlopen(p.url + "hub/login", timeout=30) as page:  # noqa: S310 - loopback
            assert page.status == 200 and b'id="first_code_input"' in page.read()
    finally:
        assert hub.stop(proc, p) == 0


def test_the_rating_service_ends_when_jupyterhub_dies_however_it_dies(tmp_path: Path) -> None:
    # JupyterHub starts the rating service; if JupyterHub itself is killed (or fails while starting), the
    # service's parent is gone and nothing would stop it: it must end by itself.
    proc, tmp, log = start_hub(tmp_path)
    try:
        tree = psutil.Process(proc.pid).children(recursive=True)
        (hub,) = [p for p in tree if "-m jupyterhub" in " ".join(p.cmdline())]
        service = [p for p in tree if "reviewkit.team.rateservice" in " ".join(p.cmdline())]
        (keeper,) = [p for p in service if p.ppid() == hub.pid]  # the service, and the fork of it that serves
        assert [p.ppid() for p in service if p.pid != keeper.pid] == [keeper.pid]
        hub.kill()
        wait_for(lambda: not alive(service), "the rating service to end with JupyterHub", timeout=10)
        assert proc.wait(timeout=120) != 0  # reviewkit hub says the hub stopped, and cleans up the rest
        try:
            wait_for(lambda: not alive(tree), "everything the hub started to stop", timeout=60)
        except AssertionError:
            raise AssertionError([" ".join(psutil.Process(pid).cmdline())[:120] for pid in alive(tree)]) from None
        assert list(tmp.iterdir()) == []
    finally:
        kill_hub(proc)
