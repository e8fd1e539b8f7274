"""The hub's plain host console in Chromium: a real `reviewkit hub`, JupyterHub OAuth, the page's script and SQLite.

The host signs in and lands on the console the rating service serves, with no server or
kernel of their own. Uploads are imported all or nothing, a draft report is rendered as a
job whose steps the page shows and is downloaded, and a library refusal (an action plan
without recommendations) is shown as its sentence. A visiting reviewer is refused the page,
its actions (an upload is refused before it is read), and its files; no file outside the
report folder can be downloaded. axe-core finds no WCAG violation; nothing loads from outside.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .helpers import HOST
from .test_browser_forms import browser  # noqa: F401 - the shared Chromium fixture
from .test_hub_browser import A, Hub, _axe, hub, sign_in  # noqa: F401 - a hub of this module's own
from .test_hub_rating_page import _servers

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(900)]

CONSOLE = ".rk-form .rk-card"
HOST_PAGE = "services/reviewkit-rate/host"
GOOD = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q1,Good,\nC03,B. Visitor,q2,RI,Plans lack detail\n"
BAD = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q1,Superb,\nC99,Z. Nobody,q2,Good,\n"


def _files(*named: tuple[str, bytes]) -> list[dict[str, object]]:
    return [{"name": n, "mimeType": "text/csv", "buffer": b} for n, b in named]


def test_the_host_works_on_the_plain_console(browser, hub: Hub) -> None:  # noqa: ANN001, F811
    outside: list[str] = []
    t0 = time.monotonic()
    ctx, page = sign_in(browser, hub, HOST, CONSOLE, outside)
    print(f"\nhost console ready {time.monotonic() - t0:.1f} s after pressing Sign in")  # noqa: T201
    assert urlparse(page.url).path == "/" + HOST_PAGE
    assert "Signed in as H. Host" in page.content() and page.get_by_role("link", name="Open JupyterLab").count() == 1
    assert _servers(hub) == []  # the console needs no server or kernel of the host's own
    assert _axe(page) == []

    # An upload with a problem stores nothing and lists every problem; a good one is stored, the tables follow.
    page.set_input_files("#files", _files(("good.csv", GOOD), ("bad.csv", BAD)))
    page.get_by_role("button", name="Import the chosen files").click()
    page.wait_for_selector("#import-message :text('Nothing was imported: 3 problem(s) found.')")
    assert "bad.csv, row 2, column 'rating'" in page.locator("#import-message").inner_text()
    assert page.locator("#rk-status").inner_text() == "Not done: see the message"
    page.set_input_files("#files", _files(("b.csv", GOOD)))
    page.get_by_role("button", name="Import the chosen files").click()
    page.wait_for_selector("#import-message :text('ratings: 2 added')")
    assert page.eval_on_selector("#files", "e => e.files.length") == 0  # the chooser is emptied once imported
    assert "B. Visitor" in page.locator("#rk-tables").inner_text()
    with _store(hub) as store:
        assert set(store.all_ratings()["reviewer"]) == {"B. Visitor"}

    # A draft report: a job whose steps show while it runs, then its file to download.
    page.get_by_role("button", name="Render a draft report").click()
    page.wait_for_selector("#report-steps li")  # a step shown while the render runs
    page.wait_for_selector("#report-message a.rk-download, #report-message .rk-alert-error", timeout=600_000)
    assert page.locator("#report-message .rk-alert-error").count() == 0, page.locator("#report-message").inner_text()
    with page.expect_download() as info:
        page.locator("a.rk-download", has_text="report.html").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html") and "DRAFT" in text
    # The library's refusal is the answer: no recommendations yet, so no action plan.
    page.get_by_role("button", name="Write the action plan").click()
    page.wait_for_selector("#plan-message .rk-alert-error")
    assert "no recommendations yet" in page.locator("#plan-message").inner_text()
    assert _axe(page) == []  # after the answers are shown, too

    # No file outside the report folder, whatever the address says.
    for name in ("..%2Freview.yaml", "review.db", "..%2F.cache%2Freport%2F.names-digest", ".names-digest"):
        got = ctx.request.get(f"{hub.url}{HOST_PAGE}/files/{name}")
        assert got.status == 404, (name, got.status)
    ctx.close()
    assert outside == []


def test_a_visiting_reviewer_is_refused_the_console_its_actions_and_files(browser, hub: Hub) -> None:  # noqa: ANN001, F811
    outside: list[str] = []
    ctx, page = sign_in(browser, hub, A, ".rk-form .rk-q-q1 button", outside)
    got = page.goto(f"{hub.url}{HOST_PAGE}")
    assert got is not None and got.status == 403
    assert "The host console is for the review's host PSW. You are signed in as A. Visitor" in page.content()
    page.goto(f"{hub.url}services/reviewkit-rate/")
    with _store(hub) as store:
        changes_before = len(store.audit_log())
    xsrf = json.loads(page.locator("main").get_attribute("data-rk"))["xsrf"]
    api = ctx.request
    job = api.post(f"{hub.url}{HOST_PAGE}/api/job", headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
                   data=json.dumps({"job": "bundle"}))
    assert job.status == 403 and "host console is for the review's host PSW" in html.unescape(job.json()["html"])
    small = api.post(f"{hub.url}{HOST_PAGE}/api/import", headers={"X-XSRFToken": xsrf},
                     multipart={"files": {"name": "b.csv", "mimeType": "text/csv", "buffer": GOOD}})
    assert small.status == 403 and "host console is for the review" in html.unescape(small.json()["html"])
    assert api.get(f"{hub.url}{HOST_PAGE}/files/report.html").status == 403
    # 4 MB: refused before it is read, so the service closes the connection and the proxy may answer 503.
    # It goes last: the closed connection can reset a request sent on it next.
    big = api.post(f"{hub.url}{HOST_PAGE}/api/import", headers={"X-XSRFToken": xsrf},
                   multipart={"files": {"name": "b.csv", "mimeType": "text/csv", "buffer": GOOD * 40_000}})
    assert big.status in (403, 503)
    with _store(hub) as store:
        assert len(store.audit_log()) == changes_before  # nothing imported
    assert not (hub.ws / "report" / "regional_bundle.zip").exists()  # nothing made
    ctx.close()
    assert outside == []


def _store(running: Hub):  # noqa: ANN202
    from reviewkit.review.workspace import open_workspace

    return open_workspace(running.ws).store()

