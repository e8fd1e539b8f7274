"""Nothing of `reviewkit hub` or `reviewkit serve` outlives a SIGKILL, and no secret stays on disk.

SIGKILL (or the out-of-memory killer) gives the command no chance to stop its server. The real
commands run in sessions of their own, as in a terminal; a page load starts a real kernel (for
the hub, a reviewer signs in over HTTP first, so the hub, the proxy, a single-user server and a
kernel are all running). Every process under the command is noted from /proc before the kill;
within 10 seconds of it none may be left, and the private folder holding the cookie secret,
the kernel keys and the hub's database must be gone. A folder whose maker was killed along with
its guard is removed by the next start.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from reviewkit.core.lifecycle import OWNER_FILE, private_dir, sweep_stale

from .helpers import LOGINS, make_workspace, wait_for, with_logins
from .test_form_kernels import kernels
from .test_serve_lifecycle import alive, start_serve

pytestmark = [pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(400)]

PASSWORD = "a long first-use password"
CODE = re.compile(r"^  (\S+@\S+)\s+(\w{4}-\w{4}-\w{4})\b", re.M)
GONE_WITHIN = 10.0


def _kill_and_time(proc: subprocess.Popen, tree: list[psutil.Process]) -> float:  # type: ignore[type-arg]
    """SIGKILL the command alone (not its group) and return how long its tree took to go."""
    assert tree, "nothing was running under the command"
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    while alive(tree) and time.monotonic() - t0 < GONE_WITHIN + 20:
        time.sleep(0.1)
    return time.monotonic() - t0


def _sweep(tree: list[psutil.Process]) -> None:
    for p in tree:
        try:
            p.kill()
        except psutil.Error:
            continue


def test_serve_killed_leaves_no_process_and_no_secret(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc, url = start_serve(ws.path, tmp)
    tree: list[psutil.Process] = []
    try:
        with urllib.request.urlopen(url, timeout=180) as page:  # noqa: S310 - loopback; runs the form in a kernel
            page.read()
        children = psutil.Process(proc.pid).children()
        voila = next(p for p in children if "voila" in " ".join(p.cmdline()))
        forker = next(p for p in children if "reviewkit.core.forkserver" in " ".join(p.cmdline()))
        wait_for(lambda: len(kernels(voila, forker)) >= 1, "a kernel for the page", timeout=120)
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert {k.pid for k in kernels(voila, forker)} <= {p.pid for p in tree}
        assert [d.name for d in tmp.iterdir() if d.name.startswith("reviewkit-serve-")]

        took = _kill_and_time(proc, tree)
        assert alive(tree) == [], [p.cmdline() for p in tree if p.pid in alive(tree)]
        assert took <= GONE_WITHIN, f"the tree took {took:.1f} s to go"
        wait_for(lambda: list(tmp.iterdir()) == [], "the private folder to be removed", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _sweep(tree)
        assert proc.stdout is not None
        proc.stdout.close()


def _sign_in(base: str, login: str, code: str) -> urllib.request.OpenerDirector:
    """Sign in as a reviewer would, over HTTP (first time: login, code, new password)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "hub/login", timeout=120) as r:
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', r.read().decode())
    assert xsrf, "no _xsrf field on the sign-in page"
    form = urllib.parse.urlencode({"_xsrf": xsrf.group(1), "username": login, "password": PASSWORD,
                                   "first_code": code}).encode()
    with opener.open(base + "hub/login", data=form, timeout=240) as r:  # redirects on to the user's server
        r.read()
    return opener


def test_hub_killed_leaves_no_process_and_no_secret(tmp_path: Path) -> None:
    ws = with_logins(make_workspace(tmp_path / "ws"))
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"rkk{os.getpid()}"  # short: kernel socket paths
    tmp.mkdir(mode=0o700)
    env = dict(os.environ, TMPDIR=str(tmp))
    made = subprocess.run([sys.executable, "-m", "reviewkit", "hub-codes", str(ws.path)], env=env, text=True,
                          capture_output=True, timeout=120, check=True)
    codes = dict(CODE.findall(made.stdout))
    log = tmp_path / "hub.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "reviewkit", "hub", str(ws.path)], env=env, text=True,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    tree: list[psutil.Process] = []
    try:
        wait_for(lambda: proc.poll() is not None or "sign in at:" in log.read_text(), "the hub's address", 240)
        found = re.search(r"sign in at:\s+(http://127\.0\.0\.1:\d+/)", log.read_text())
        assert found, log.read_text()[-2000:]
        base = found.group(1)
        login = LOGINS["A. Visitor"]
        opener = _sign_in(base, login, codes[login])
        # A visitor rates on the rating service's page; a widget form starts their own server and a kernel.
        form = f"{base}user/{urllib.parse.quote(login, safe='@')}/voila/render/rate_case_records.ipynb"
        with opener.open(f"{base}hub/spawn?next=" + urllib.parse.quote(urllib.parse.urlparse(form).path, safe=""),
                         timeout=240) as r:
            r.read()

        def form_runs() -> bool:  # the page comes from the person's server once it is up, running the form
            try:
                with opener.open(form, timeout=240) as r:
                    return r.status == 200 and "/voila/render/" in r.geturl()
            except urllib.error.HTTPError:
                return False

        wait_for(form_runs, "the visitor's own server to serve the form", 240)
        wait_for(lambda: any("ipykernel" in " ".join(p.cmdline())
                             for p in psutil.Process(proc.pid).children(recursive=True)), "a kernel", 120)
        tree = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in tree)
        for part in ("jupyterhub -f", "configurable-http-proxy", "jupyterhub.singleuser", "ipykernel",
                     "reviewkit.team.rateservice"):
            assert part in names, part
        state = [d for d in tmp.iterdir() if d.name.startswith("reviewkit-hub-")]
        assert len(state) == 1 and (state[0] / "jupyterhub_cookie_secret").exists()

        took = _kill_and_time(proc, tree)
        assert alive(tree) == [], [" ".join(p.cmdline()) for p in tree if p.pid in alive(tree)]
        assert took <= GONE_WITHIN, f"the tree took {took:.1f} s to go"
        wait_for(lambda: not state[0].exists(), "the cookie secret's folder to be removed", timeout=5)
        with pytest.raises(OSError):  # the address answers no more
            urllib.request.urlopen(base + "hub/login", timeout=5)  # noqa: S310 - loopback
    finally:
        if proc.poll() is None:
            proc.kill()
        _sweep(tree)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def test_the_next_start_removes_a_folder_whose_maker_was_killed(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    # A folder a killed run left (its maker's process number no longer runs), one of a live run,
    # and a folder of the same name that reviewkit did not make.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "reviewkit-hub-stale"
    stale.mkdir(mode=0o700)
    (stale / "jupyterhub_cookie_secret").write_text("secret")
    (stale / OWNER_FILE).write_text(f"{dead.pid} {time.time() - 60:.3f}")
    live = private_dir("reviewkit-hub-")
    unmarked = tmp_path / "reviewkit-hub-unmarked"
    unmarked.mkdir()
    assert not stale.exists()  # made by private_dir's sweep
    assert live.exists() and unmarked.exists()
    assert sweep_stale("reviewkit-hub-") == []  # the live one's maker (this test) is running
    assert oct(live.stat().st_mode & 0o777) == "0o700"
