"""Small builders shared by tests: a workspace with a case list, without the sample data."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from reviewkit.review.reviewyaml import Case
from reviewkit.review.workspace import Workspace, create_workspace, open_workspace

REVIEWERS = ["A. Visitor", "B. Visitor", "C. Visitor"]
HOST = "H. Host"


def make_workspace(root: Path, *, cases: bool = True) -> Workspace:
    """A four-rater workspace; with `cases`, C01–C08 allocated two each and C01 moderated."""
    ws = create_workspace(root, council="Testshire Council", theme="Strengths-based practice",
                          reviewers=REVIEWERS, host=HOST)
    if cases:
        raters = REVIEWERS + [HOST]
        ws.meta.cases = [Case(f"C{i:02d}", raters[(i - 1) // 2]) for i in range(1, 9)]
        ws.meta.cases[0] = Case("C01", "A. Visitor", ("B. Visitor",))
        ws.save_meta()
    return open_workspace(root)


LOGINS = {"A. Visitor": "a.visitor@northshire.example", "B. Visitor": "b.visitor@westshire.example",
          "C. Visitor": "c.visitor@eastshire.example", HOST: "h.host@testshire.example"}


def with_logins(ws: Workspace) -> Workspace:
    """Give every team member the hub login of LOGINS, as the host would in review.yaml."""
    from dataclasses import replace

    ws.meta.team = [replace(m, login=LOGINS[m.name]) for m in ws.meta.team]
    ws.save_meta()
    return open_workspace(ws.path)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until ``check`` holds (a kernel commits what a page sent asynchronously; a server starts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def route_local(page, outside: list[str]) -> None:  # noqa: ANN001
    """Let a browser page reach this computer only; every other address is recorded and refused."""
    def route(r) -> None:  # noqa: ANN001
        if urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:  # nothing may leave this computer
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium under Playwright, for the browser tests of the forms; closed on the way out."""
    import pytest

    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: install it with 'apt-get install -y chromium' (see the README)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
