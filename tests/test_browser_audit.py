"""The in-house audit form in a real browser: ``reviewkit serve PROGRAMME --form audit``, Debian's Chromium,
Playwright. An auditor records a whole audit by clicking and typing; it reaches the audit store as an
imported row would, with its evidence note; a refused save says what to put right; the page passes axe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewkit.team import serve

from .helpers import chromium, route_local, wait_for
from .test_browser_forms import _axe_violations
from .test_tracking import _programme

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(600)]

NOTE = "No contingency plan although the carer is unwell"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[object, serve.ServePlan]]:
    p = _programme(tmp_path)
    plan = serve.plan(p.path, "A. Auditor", form="audit", history_dir=tmp_path / "ipython")
    proc = serve.start(plan)
    try:
        serve.wait_ready(plan, proc, timeout=120)
        yield p, plan
    finally:
        serve.stop(proc, plan)


def _stored(p) -> dict:
    with p.store() as store:
        return store.stored()


def test_record_a_whole_audit_in_chromium(browser, server) -> None:
    p, plan = server
    outside: list[str] = []
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-GB")  # type: ignore[attr-defined]
    route_local(page, outside)
    page.goto(plan.url)
    page.wait_for_selector(".rk-form .rk-q-q1 button", timeout=120_000)
    assert "audit_form(" not in page.content()  # no code on the page
    page.locator(".rk-ref input").fill("A-1")
    page.locator(".rk-month input").fill("2027-03")
    page.locator(".rk-team select").select_option("South Team")
    page.get_by_role("button", name="Save audit", exact=True).click()  # nothing rated yet: refused, and why
    page.wait_for_selector(".rk-alert-error", timeout=60_000)
    assert "q1 · " in page.locator(".rk-alert-error").inner_text() and _stored(p) == {}
    for qid in p.tool.all_ids:
        level = "Inadequate" if qid == "q5" else "Good"
        page.locator(f".rk-q-{qid}").get_by_role("button", name=level, exact=True).click()
    page.locator(".rk-q-q5 textarea").fill(NOTE)
    page.get_by_role("button", name="Save audit", exact=True).click()
    wait_for(lambda: ("A-1", "first") in _stored(p), "the audit in the store")
    month, team, ratings, notes, auditor = _stored(p)[("A-1", "first")]
    assert (month, team, auditor, ratings["q5"], ratings["q1"], notes) == (
        "2027-03", "South Team", "A. Auditor", "Inadequate", "Good", {"q5": NOTE})
    page.wait_for_selector(".rk-alert-ok", timeout=60_000)
    assert _axe_violations(page) == []
    assert outside == []
    page.close()
