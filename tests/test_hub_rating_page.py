"""The hub's plain rating page in Chromium: a real `reviewkit hub`, JupyterHub OAuth, the page's script and SQLite.

A visiting reviewer signs in and lands on the rating service's page, with no server or kernel
of their own. Every kind of change the page sends is tried as a person would: a rating, a note
refused outright, a note saved with "Save anyway", a referral, a concern, completion; a second
tab's stale change gets "Changed elsewhere — reload". The service refuses another reviewer's
case, a request without the page's token and a signed-out request, each with a plain answer.
"Record a meeting" starts the person's own server and opens that form. axe-core finds no WCAG
violation, and nothing is loaded from outside this computer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlparse

import psutil
import pytest

from .helpers import route_local, wait_for
from .test_browser_forms import browser  # noqa: F401 - the shared Chromium fixture
from .test_hub_browser import A, B, Hub, _axe, hub, rate, sign_in  # noqa: F401 - a hub of this module's own

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(900)]

NHS_CANARY = "999 000 0018"
FORM = ".rk-form .rk-q-q1 button"
SERVICE = "services/reviewkit-rate/"


def _store(running: Hub):  # noqa: ANN202
    from reviewkit.review.workspace import open_workspace

    return open_workspace(running.ws).store()


def _servers(running: Hub) -> list[str]:
    """People's single-user servers under the hub (their command line is jupyterhub-singleuser's or a fork's)."""
    found = []
    for p in psutil.Process(running.proc.pid).children(recursive=True):
        try:
            if Path(p.cwd()).parent.name == "u":  # <hub folder>/u/<key>; kernels run in its forms/
                found.append(p.cwd())
        except psutil.Error:
            continue
    return found


def test_a_visitor_rates_on_the_plain_page_and_the_service_keeps_the_rules(browser, hub: Hub) -> None:  # noqa: ANN001, F811
    outside: list[str] = []
    t0 = time.monotonic()
    ctx, page = sign_in(browser, hub, A, FORM, outside)
    ready = time.monotonic() - t0
    assert urlparse(page.url).path == "/" + SERVICE
    assert "Rating as A. Visitor" in page.content()
    assert _servers(hub) == []  # rating needs no server or kernel of one's own
    assert [o.split()[0] for o in page.locator(".rk-bar select option").all_inner_texts()] == ["C01", "C02"]

    rate(page, "q1", "Good")
    assert page.locator("#rk-status").inner_text().startswith("Saved ")
    # A sure identifier: refused, no "Save anyway", and the status line says a change waits.
    q1 = page.locator(".rk-q-q1")
    q1.locator("textarea").fill(f"NHS number {NHS_CANARY} on file")
    page.locator(".rk-q-q2 textarea").focus()
    page.wait_for_selector(".rk-q-q1 .rk-message :text('Not saved.')")
    assert q1.locator(".rk-anyway").is_hidden()
    assert page.locator("#rk-status").inner_text().startswith("Not saved: 1 change")
    # A possible identifier: "Save anyway" stores it as typed.
    text = "Reviewed after the visit to Ward B3 on 12/03/1961"
    q1.locator("textarea").fill(text)
    page.locator(".rk-q-q2 textarea").focus()
    page.wait_for_selector(".rk-q-q1 .rk-message :text('Not saved yet.')")
    q1.get_by_role("button", name="Save anyway").click()
    page.wait_for_selector(".rk-q-q1 .rk-anyway.rk-hidden", state="attached")
    wait_for(lambda: page.locator("#rk-status").inner_text().startswith("Saved "), "the status line to say Saved")
    # Referral (saved once a reason is written), a concern, and completion refused while questions are left.
    page.get_by_label("Refer this case back to the council for a significant concern").check()
    page.wait_for_selector("#referral-message :text('Write the reason')")
    page.get_by_label("Reason for referring it back").fill("No follow-up after a disclosure")
    page.get_by_label("I have finished rating this case record").focus()
    page.wait_for_selector("#referral-message :text('Referral saved.')")
    page.get_by_label("What the risk is").fill("Falls not followed up")
    page.get_by_label("Date you raised it").fill("2026-10-07")
    page.get_by_label("Raised with (role)").fill("team manager")
    page.get_by_role("button", name="Save the concern").click()
    page.wait_for_selector("#concern-message :text('Concern saved.')")
    page.get_by_label("I have finished rating this case record").check()
    page.wait_for_selector("#complete-message :text('cannot be marked complete yet')")
    assert not page.get_by_label("I have finished rating this case record").is_checked()
    assert _axe(page) == []

    with _store(hub) as store:
        r = store.rating("C01", A, "q1")
        flag = store.case_flag("C01", A)
        concern = store.concern("C01", A)
        log = store.audit_log()
    assert (r.rating, r.comment) == ("Good", text)
    assert flag["referred_back"] and not flag["complete"] and concern["raised_on"] == "2026-10-07"
    assert set(log["actor"]) == {A} and NHS_CANARY not in log.to_string()

    # A second tab loaded before the first saves gets "Changed elsewhere", never an overwrite.
    tab2 = ctx.new_page()
    route_local(tab2, outside)
    tab2.goto(hub.url + SERVICE + "?case=C02")
    page.locator(".rk-bar select").select_option("C02")
    page.get_by_role("button", name="Open").click()
    page.wait_for_selector(".rk-bar :text('Case 2 of 2')")
    rate(page, "q3", "Good")
    tab2.locator(".rk-q-q3").get_by_role("button", name="Inadequate", exact=True).click()
    tab2.wait_for_selector("#rk-alert :text('Changed elsewhere — reload')")
    assert tab2.get_by_role("button", name="Reload").is_visible()
    with _store(hub) as store:
        assert store.rating("C02", A, "q3").rating == "Good"

    # Another reviewer's case, no token, signed out: each refused with a plain answer.
    cfg = json.loads(page.locator("main.rk-form").get_attribute("data-rk"))
    api = ctx.request
    body = {"case": "C03", "question": "q1", "part": "rating", "rating": "Good", "version": 0}
    theirs = api.post(hub.url + SERVICE + "api/rating", data=json.dumps(body),
                      headers={"X-XSRFToken": cfg["xsrf"], "Content-Type": "application/json"})
    assert theirs.status == 403 and "not allocated to you" in theirs.json()["message"]
    no_token = api.post(hub.url + SERVICE + "api/rating", data=json.dumps(body | {"case": "C02"}),
                        headers={"Content-Type": "application/json"})
    assert no_token.status == 403 and "Traceback" not in no_token.text()
    huge = api.post(hub.url + SERVICE + "api/rating", data=json.dumps(body | {"part": "note", "comment": "x" * 2_000_000}),
                    headers={"X-XSRFToken": cfg["xsrf"], "Content-Type": "application/json"})
    assert huge.status >= 400  # refused before it is read: the service keeps no 2 MB note in memory
    asked = ctx.new_page()
    asked.goto(hub.url + SERVICE + "?case=C03")
    assert "not allocated to you" in asked.locator("#rk-alert").inner_text()
    assert asked.locator(".rk-bar select").input_value() == "C01"
    stranger = browser.new_context()
    out = stranger.request.post(hub.url + SERVICE + "api/rating", data=json.dumps(body), max_redirects=0)
    assert out.status == 403 and "signed out" in out.json()["message"]
    assert urlparse(stranger.new_page().goto(hub.url + SERVICE).url).path == "/hub/login"
    stranger.close()
    with _store(hub) as store:
        assert store.rating("C03", B, "q1") is None and store.rating("C03", A, "q1") is None

    # The other forms are one link away: it starts the person's own server.
    page.get_by_role("link", name="Record a meeting").click()
    page.wait_for_selector(".rk-form .rk-bar", timeout=240_000)
    assert "voila/render/record_meeting.ipynb" in page.url and "Record a meeting" in page.content()
    assert len(_servers(hub)) == 1
    ctx.close()
    assert outside == []
    print(f"\nsigned in to a ready plain rating page in {ready:.1f} s")  # noqa: T201


def test_a_rating_service_that_died_is_serving_again_within_seconds_and_the_page_works_again(browser, hub: Hub) -> None:  # noqa: ANN001, E501, F811
    def service() -> list[psutil.Process]:
        """The process that serves: a fork of the service process the hub started."""
        found = []
        for p in psutil.Process(hub.proc.pid).children(recursive=True):
            try:
                if p.status() != psutil.STATUS_ZOMBIE and "reviewkit.team.rateservice" in " ".join(p.cmdline()) \
                        and "reviewkit.team.rateservice" in " ".join(p.parent().cmdline()):
                    found.append(p)
            except psutil.Error:
                continue
        return found

    ctx, page = sign_in(browser, hub, B, FORM, [])
    (old,) = service()
    keeper = old.parent()
    old.kill()  # as the out-of-memory killer would (it picks the largest process)
    killed = time.monotonic()
    # Served again within seconds, not at the hub's next poll (up to 30 s later).
    wait_for(lambda: len(service()) == 1 and service()[0].pid != old.pid, "the service to serve again", 10)
    wait_for(lambda: ctx.request.get(hub.url + SERVICE, max_redirects=0).status == 302, "the service to listen", 10)
    print(f"\nserving again {time.monotonic() - killed:.2f} s after it was killed")  # noqa: T201
    assert service()[0].parent().pid == keeper.pid
    # The new service does not know the old one's sign-in: a change gets a plain message, and the status line
    # says it was not saved.
    page.locator(".rk-q-q5").get_by_role("button", name="Good", exact=True).click()
    page.wait_for_selector("#rk-alert .rk-alert-error")
    assert page.locator("#rk-status").inner_text().startswith("Not saved")
    # Were the service down (the proxy shows the hub's page for a 503, which is this one), the page says in
    # plain words what is happening and what to do.
    down = ctx.new_page()
    down.goto(hub.url + "hub/error/503")
    said = down.inner_text("body")
    assert "not answering just now" in said and "reload this page" in said and "Your server appears" not in said
    assert _axe(down) == []
    down.close()
    page.get_by_role("button", name="Reload").click()  # the new service signs the person in again, silently
    page.wait_for_selector(FORM)
    rate(page, "q5", "Good")
    with _store(hub) as store:
        assert store.rating("C01", B, "q5").rating == "Good"  # B moderates C01, their first case
    # The service process the hub started, killed too: it takes its fork with it, and the hub starts both again
    # at its next poll.
    serving = service()[0]
    keeper.kill()
    wait_for(lambda: not serving.is_running() or serving.status() == psutil.STATUS_ZOMBIE, "the fork to end", 10)
    wait_for(lambda: len(service()) == 1 and service()[0].parent().pid != keeper.pid, "the hub to start it again", 90)
    wait_for(lambda: ctx.request.get(hub.url + SERVICE, max_redirects=0).status == 302, "the service to listen", 30)
    page.reload()  # the page had nothing unsaved, so no Reload button: the person reloads it
    page.wait_for_selector(FORM)
    rate(page, "q6", "Good")
    with _store(hub) as store:
        assert store.rating("C01", B, "q6").rating == "Good"
    ctx.close()
