"""A person's forms hold at most two kernels, and a kernel no page connects to does not stay.

Each page load of a form starts a kernel. A plain GET of the form's address (a link preview,
a script, a browser closed before the page ran) never opens the page's connection; before,
each left a kernel of about 100 MB for 20 minutes, with no limit. Here the real ``reviewkit
serve`` (Voila) runs with the unconnected time shortened to a few seconds: three GETs never
hold more than two kernels at once, and all go soon after; a page open in Chromium keeps its
kernel while a later GET's kernel goes, because it is connected.
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
