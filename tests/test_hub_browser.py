"""The review team on the hub, end to end: real JupyterHub, proxy, servers, Chromium and SQLite.

`reviewkit hub` runs as a person would run it (its own session, on 127.0.0.1 and a free
port). The host makes first sign-in codes with `reviewkit hub-codes`; two visiting reviewers
and the host sign in with their code and a new password in Chromium (without the code, or
with a wrong one, the first sign-in is refused; afterwards the password alone signs in);
each reviewer rates one of their cases on the plain rating page; the host's console shows both
and renders a draft report that the test downloads. Reviewer A cannot open B's forms, see
B's cases, write files or start code. axe-core finds no WCAG violation on the sign-in page
or any form. After SIGTERM nothing of the hub is left running and its temp folder is gone, and
no code is in any file of the workspace or in the hub's log.
The hub's start time, the rating service's memory and a reviewer's own server's are printed (run with -s).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

from .helpers import HOST, LOGINS, make_workspace, route_local, wait_for, with_logins
from .test_browser_forms import _axe_violations, browser  # noqa: F401 - the shared Chromium fixture
from .test_serve_lifecycle import alive, in_group

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(900)]

A, B = "A. Visitor", "B. Visitor"
PASSWORD = "a long first-use password"
CODE = re.compile(r"^  (\S+@\S+)\s+(\w{4}-\w{4}-\w{4})\b", re.M)
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


class Hub:
    """The running `reviewkit hub` command and what the test learns about it."""

    def __init__(self, proc: subprocess.Popen[str], url: str, ws: Path, tmp: Path, started_in: float,
                 codes: dict[str, str], log: Path) -> None:
        self.proc, self.url, self.ws, self.tmp, self.started_in = proc, url, ws, tmp, started_in
        self.codes, self.log = codes, log

    def user_url(self, who: str, path: str = "") -> str:
        return f"{self.url}user/{quote(LOGINS[who], safe='@')}/{path}"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root = tmp_path_factory.mktemp("hub")
    ws = with_logins(make_workspace(root / "ws"))
    # A short temp folder, as /tmp is: kernels' socket files must have paths under ~100 characters.
    tmp = Path(tempfile.mkdtemp(prefix="rkh"))
    env = dict(os.environ, TMPDIR=str(tmp))
    made = subprocess.run([sys.executable, "-m", "reviewkit", "hub-codes", str(ws.path)], env=env, text=True,
                          capture_output=True, timeout=120, check=True)
    codes = dict(CODE.findall(made.stdout))
    assert sorted(codes) == sorted(LOGINS.values()), made.stdout
    log = root / "hub.log"  # a file, not a pipe: the proxy logs there too, and a full pipe would stall it
    t0 = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "reviewkit", "hub", str(ws.path)], env=env, text=True,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: proc.poll() is not None or "sign in at:" in log.read_text(), "the hub's address", 240)
        found = re.search(r"sign in at:\s+(http://127\.0\.0\.1:\d+/)", log.read_text())
        assert found, f"the hub stopped before printing its address (exit {proc.poll()})"
        assert "4 of 4 login(s) on the team have not signed in yet" in log.read_text()
        yield Hub(proc, found.group(1), ws.path, tmp, time.monotonic() - t0, codes, log)
    finally:
        if proc.poll() is None:  # the test failed before stopping it: stop it as a person would
            tree = psutil.Process(proc.pid).children(recursive=True)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            finally:
                for p in psutil.wait_procs(tree, timeout=30)[1]:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def sign_in(browser, hub: Hub, who: str, ready: str, outside: list[str], first: bool = True):  # noqa: ANN001, ANN201
    """A new browser profile signs in as `who` (the first time with their code, setting the password) and lands on
    their page."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB", accept_downloads=True)
    context.set_default_timeout(120_000)  # a busy machine: the first page of a new server can be slow
    page = context.new_page()
    route_local(page, outside)
    page.goto(hub.url + "hub/login", timeout=120_000)
    page.get_by_label("Username").fill(LOGINS[who])
    page.get_by_label("Password").fill(PASSWORD)
    if first:
        page.get_by_label("First sign-in code").fill(hub.codes[LOGINS[who]])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(ready, timeout=240_000)
    return context, page


def server_memory(hub: Hub, who: str) -> str:
    """RSS of a person's single-user server and of its kernels, as 'server 95 MB + 1 kernel 110 MB'.

    Servers and kernels are forks of the hub's fork server (their command line is its one): a
    person's server runs in their folder under the hub's, u/<key>, and their kernels in its forms/.
    """
    import hashlib

    key = hashlib.sha256(LOGINS[who].encode()).hexdigest()[:12]
    server, kernels = None, []
    for p in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            cwd = Path(p.cwd())
            if cwd.name == key and cwd.parent.name == "u":
                server = p
            elif cwd.name == "forms" and cwd.parent.name == key:
                kernels.append(p)
        except psutil.Error:
            continue
    if server is None:
        raise AssertionError(f"no server found for {who}")
    mb = sum(k.memory_info().rss for k in kernels) / 2**20
    return f"server {server.memory_info().rss / 2**20:.0f} MB + {len(kernels)} kernel(s) {mb:.0f} MB"


def service_memory(hub: Hub) -> str:
    """RSS of the rating service (the process the hub started and the fork of it that serves every page)."""
    rss = []
    for p in psutil.Process(hub.proc.pid).children(recursive=True):
        try:
            if "reviewkit.team.rateservice" in p.cmdline():
                rss.append(p.memory_info().rss / 2**20)
        except psutil.Error:
            continue
    if not rss:
        raise AssertionError("no rating service found")
    return " + ".join(f"{mb:.0f}" for mb in rss) + " MB (RSS, shared pages counted in each)"


def rate(page, qid: str, level: str) -> None:  # noqa: ANN001
    page.locator(f".rk-q-{qid}").get_by_role("button", name=level, exact=True).click()
    page.wait_for_selector(f".rk-q-{qid} button.mod-active")


def test_the_team_rates_on_the_hub_and_the_host_renders_a_draft(browser, hub: Hub) -> None:  # noqa: ANN001
    outside: list[str] = []
    # The sign-in page passes axe-core.
    login = browser.new_page()
    route_local(login, outside)
    login.goto(hub.url + "hub/login", timeout=120_000)
    login.wait_for_selector("#login_submit", timeout=120_000)
    assert _axe(login) == []
    # An unknown login is refused with the same plain page as a wrong password.
    login.get_by_label("Username").fill("someone@elsewhere.example")
    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Sign in").click()
    login.wait_for_load_state()
    assert "Sign-in refused" in login.locator(".login_error").inner_text()
    # A first sign-in without the code, or with someone else's, claims nothing.
    for code in ("", hub.codes[LOGINS[B]]):
        login.get_by_label("Username").fill(LOGINS[A])
        login.get_by_label("Password").fill(PASSWORD)
        login.get_by_label("First sign-in code").fill(code)
        login.get_by_role("button", name="Sign in").click()
        login.wait_for_load_state()
        assert "Sign-in refused" in login.locator(".login_error").inner_text()
    code_field = login.get_by_label("First sign-in code")
    assert code_field.get_attribute("autocomplete") == "off"
    assert "first time you sign in" in login.locator(f"#{code_field.get_attribute('aria-describedby')}").inner_text()
    login.close()

    form = ".rk-form .rk-q-q1 button"
    ctx_a, page_a = sign_in(browser, hub, A, form, outside)
    ctx_b, page_b = sign_in(browser, hub, B, form, outside)
    # Each sees only their own cases: the sign-in decides who is rating.
    options_a = page_a.locator(".rk-bar select option").all_inner_texts()
    assert [o.split()[0] for o in options_a] == ["C01", "C02"] and "Rating as A. Visitor" in page_a.content()
    for page, case, line in ((page_a, "C02", "Case 2 of 2"), (page_b, "C03", "Case 2 of 3")):  # B moderates C01
        page.locator(".rk-bar select").select_option(label=case)
        page.get_by_role("button", name="Open").click()
        page.wait_for_selector(f".rk-bar :text('{line}')")
    rate(page_a, "q1", "Good")
    rate(page_b, "q1", "Outstanding")
    assert _axe(page_a) == []
    mem_service = service_memory(hub)  # the one process serving both reviewers' rating pages

    # The meeting and conversation forms (each person's own server, started by the first) open and pass axe-core;
    # a bookmarked form's address starts the server by itself.
    for nb, what in (("record_meeting.ipynb", "meeting"), ("record_conversation.ipynb", "conversation")):
        page_a.goto(hub.user_url(A, f"voila/render/{nb}"))
        page_a.wait_for_selector(".rk-form .rk-bar", timeout=240_000)
        page_a.get_by_role("button", name=f"Create {what}", exact=True).click()
        page_a.wait_for_selector(".rk-form .rk-status:has-text('Saved')", timeout=60_000)
        assert _axe(page_a) == []
    mem_a = server_memory(hub, A)

    # A cannot open B's forms, write files, start code or open a terminal on their own server.
    response = page_a.goto(hub.user_url(B, "voila/render/rate_case_records.ipynb"))  # B's server is not running:
    assert response is not None and response.status in (403, 404)  # the hub does not even say whether it exists
    assert "Rating as" not in page_a.content()
    xsrf = next((c["value"] for c in ctx_a.cookies() if c["name"] == "_xsrf"), "")
    api = ctx_a.request
    for method, path in (("PUT", "api/contents/evil.ipynb"), ("POST", "api/kernels"), ("POST", "api/terminals")):
        r = api.fetch(hub.user_url(A, path), method=method, headers={"X-XSRFToken": xsrf},
                      data=json.dumps({"type": "notebook"}) if method == "PUT" else "{}")
        assert r.status in (403, 404), (method, path, r.status)
    assert api.get(hub.user_url(A, "lab")).status in (403, 404)  # no JupyterLab for a visitor

    # The host's console shows both ratings and renders a draft the test downloads.
    ctx_h, page_h = sign_in(browser, hub, HOST, ".rk-form .rk-card", outside)
    assert "Host console" in page_h.content() and "Open JupyterLab" in page_h.content()
    tables = page_h.locator("table.rk-table").first.inner_text()
    assert re.search(r"A\. Visitor\s+0 of 2\s+1 \(4\.2%\)", tables), tables  # 1 of 24 questions
    assert re.search(r"B\. Visitor\s+0 of 3\s+1 \(2\.8%\)", tables), tables  # 1 of 36
    assert _axe(page_h) == []
    page_h.get_by_role("button", name="Render a draft report").click()
    page_h.wait_for_selector(".rk-form a.rk-download, .rk-form .rk-alert-error", timeout=600_000)
    assert page_h.locator(".rk-form .rk-alert-error").count() == 0, page_h.locator(".rk-form .rk-alert-error").all_inner_texts()
    link = page_h.locator("a.rk-download", has_text="report.html")
    with page_h.expect_download() as info:
        link.click()
    saved = info.value.path()
    html_text = Path(saved).read_text(encoding="utf-8")
    assert html_text.lstrip().lower().startswith("<!doctype html") and "DRAFT" in html_text
    for ctx in (ctx_a, ctx_b, ctx_h):
        ctx.close()
    # The password alone signs in now (a new browser profile, so no cookie helps).
    ctx_again, _ = sign_in(browser, hub, A, form, outside, first=False)
    ctx_again.close()
    assert outside == []  # nothing loaded from outside this computer

    from reviewkit.review.workspace import open_workspace

    with open_workspace(hub.ws).store() as store:
        ratings = store.all_ratings()
        log = store.audit_log()
    assert sorted(zip(ratings["case_id"], ratings["reviewer"], ratings["question"], ratings["rating"])) == [
        ("C02", A, "q1", "Good"), ("C03", B, "q1", "Outstanding")]
    assert dict(zip(ratings["reviewer"], ratings["updated_by"])) == {A: A, B: B}
    rating_log = log[log["entity"] == "rating"]
    assert sorted(zip(rating_log["key"], rating_log["actor"])) == [(f"C02/{A}/q1", A), (f"C03/{B}/q1", B)]

    # The hub's own database commits without waiting for the disk each time (see auth.quick_hub_db).
    import sqlite3

    (hub_db,) = hub.tmp.glob("reviewkit-hub-*/jupyterhub.sqlite")
    with contextlib.closing(sqlite3.connect(f"file:{hub_db}?mode=ro", uri=True)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # Stop the hub: nothing of it stays, its temp folder goes.
    tree = psutil.Process(hub.proc.pid).children(recursive=True)
    assert len(tree) >= 5  # hub, proxy, three people's servers (and their kernels)
    hub.proc.send_signal(signal.SIGTERM)
    assert hub.proc.wait(timeout=120) == 0
    wait_for(lambda: not alive(tree), "every process of the hub to stop", timeout=60)
    assert in_group(hub.proc.pid) == []
    assert list(hub.tmp.iterdir()) == []
    files = [p for p in hub.ws.rglob("*") if p.is_file()] + [hub.log]
    for code in hub.codes.values():
        assert not [p.name for p in files if code.encode() in p.read_bytes()
                    or code.replace("-", "").encode() in p.read_bytes()], "a code was written down"
    print(f"\nhub start: {hub.started_in:.1f} s; the rating service (both reviewers' pages) {mem_service}; "
          f"A's own server with the meeting and conversation forms: {mem_a}")


def _axe(page) -> list:  # noqa: ANN001
    """axe-core over the whole page (the sign-in page has no form wrapper)."""
    from axe_playwright_python.sync_playwright import Axe

    if page.locator(".rk-form").count():
        return _axe_violations(page)
    page.mouse.move(0, 0)
    result = Axe().run(page, options=WCAG)
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in result.response["violations"]]
