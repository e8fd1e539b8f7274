"""The code-free rating form in a real browser: Voila on 127.0.0.1, Debian's Chromium, Playwright.

Rates every question of a case by clicking (and one by keyboard), types evidence notes,
reloads the page and finds everything still there, then checks the store and its audit log.
Chromium is the system package (never ``playwright install``); Playwright drives it over a
pipe and the page talks to the server over loopback only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from reviewkit.team import serve
from reviewkit.team.widgets.common import CHANGED_ELSEWHERE

from .helpers import chromium, make_workspace, route_local, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(600)]

# reviewkit's page template drops the icon font Voila links on a CDN: nothing may load from outside.
COSMETIC_HOSTS: set[str] = set()
REVIEWER = "A. Visitor"
CASE = "C01"
PLAN = {  # question -> (level, evidence note or "")
    "q1": ("Outstanding", "The person's own words are quoted throughout"),
    "q2": ("Good", ""),
    "q3": ("Requires Improvement", "Strengths are listed but not used in the plan"),
    "q4": ("Good", ""),
    "q5": ("Inadequate", "No contingency plan although the carer is unwell"),
    "q6": ("Good", ""),
    "q7": ("Not applicable", ""),
    "q8": ("Good", ""),
    "q9": ("Outstanding", ""),
    "q10": ("Good", "Manager's oversight recorded at each stage"),
    "q11": ("Good", ""),
    "q12": ("Outstanding", ""),
    "overall": ("Good", "Sound practice; two gaps to put right"),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, serve.ServePlan]]:
    ws = make_workspace(tmp_path / "ws")
    p = serve.plan(ws.path, REVIEWER, form="rate", history_dir=tmp_path / "ipython")
    assert urlparse(p.url).hostname == "127.0.0.1"
    proc = serve.start(p)
    try:
        serve.wait_ready(p, proc, timeout=120)
        yield ws.path, p
    finally:
        serve.stop(proc, p)


def open_page(browser: object, url: str, outside: list[str], ready: str = ".rk-form .rk-q-q1 button"):  # noqa: ANN201
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-GB")  # type: ignore[attr-defined]
    route_local(page, outside)
    page.goto(url)
    page.wait_for_selector(ready, timeout=120_000)
    return page


def stored(ws_path: Path) -> dict[str, tuple[str | None, str]]:
    from reviewkit.review.workspace import open_workspace

    with open_workspace(ws_path).store() as store:
        df = store.all_ratings()
    mine = df[(df["case_id"] == CASE) & (df["reviewer"] == REVIEWER)]
    return {r.question: (r.rating, r.comment) for r in mine.itertuples()}


def test_rate_a_whole_case_reload_and_find_it_all_saved(browser, server) -> None:
    ws_path, p = server
    outside: list[str] = []
    page = open_page(browser, p.url, outside)
    html = page.content()
    assert "rating_form(" not in html and "import os" not in html  # Voila stripped every code cell
    assert page.get_by_role("heading", name="Rate case records").is_visible()
    assert page.locator(".rk-bar").inner_text().count("Case 1 of 2 · 0 of 12 questions rated") == 1

    for qid, (level, note) in PLAN.items():
        block = page.locator(f".rk-q-{qid}")
        button = block.get_by_role("button", name=level, exact=True)
        if qid == "q12":  # keyboard only: focus the button and press Enter
            button.focus()
            page.keyboard.press("Enter")
        else:
            button.click()
        if note:
            box = block.locator("textarea")
            box.fill(note)
            box.press("Tab")  # leaving the box sends the note
    wait_for(lambda: stored(ws_path) == {q: (lv, n) for q, (lv, n) in PLAN.items()}, "all 13 ratings in the store")
    assert page.locator(".rk-status").inner_text().startswith("Saved ")

    page.get_by_label("I have finished rating this case record").check()
    wait_for(lambda: _flag(ws_path)["complete"] is True, "the case to be marked complete")

    page.reload()
    page.wait_for_selector(".rk-form .rk-q-q1 button.mod-active", timeout=120_000)
    for qid, (level, note) in PLAN.items():
        block = page.locator(f".rk-q-{qid}")
        assert block.locator("button.mod-active").inner_text().strip() == level
        assert block.locator("textarea").input_value() == note
    assert "Case 1 of 2 · 12 of 12 questions rated" in page.locator(".rk-bar").inner_text()
    assert page.get_by_label("I have finished rating this case record").is_checked()

    from reviewkit.review.workspace import open_workspace

    with open_workspace(ws_path).store() as store:
        log = store.audit_log()
    ratings = log[log["entity"] == "rating"]
    assert set(ratings["actor"]) == {REVIEWER}
    assert sorted(ratings[ratings["action"] == "insert"]["key"]) == sorted(f"{CASE}/{REVIEWER}/{q}" for q in PLAN)
    assert (ratings["action"] == "update").sum() == sum(1 for _, n in PLAN.values() if n)  # one per note
    assert "own words" not in log.to_string()  # notes are logged as digests
    assert {urlparse(u).hostname for u in outside} <= COSMETIC_HOSTS
    page.close()


WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def _axe_violations(page) -> list[tuple[str, str, int]]:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    page.mouse.move(0, 0)  # no stray hover state from the last click
    page.wait_for_timeout(300)  # let style transitions finish before measuring contrast
    result = Axe().run(page, context=".rk-form", options=WCAG)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]], [n.get("failureSummary") for n in v["nodes"]])
            for v in result.response["violations"]]


def test_the_rating_form_passes_axe_accessibility_checks(browser, server) -> None:
    _ws_path, p = server
    page = open_page(browser, p.url, [])
    page.locator(".rk-q-q2").get_by_role("button", name="Requires Improvement", exact=True).click()
    page.wait_for_selector(".rk-q-q2 .rk-alert-warn")
    assert _axe_violations(page) == []
    page.close()


@pytest.mark.parametrize("form", ["meeting", "conversation", "progress"])
def test_the_other_pages_pass_axe_accessibility_checks(browser, tmp_path: Path, form: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    p = serve.plan(ws.path, "" if form == "progress" else REVIEWER, form=form, history_dir=tmp_path / "ipython")
    proc = serve.start(p)
    try:
        serve.wait_ready(p, proc, timeout=120)
        outside: list[str] = []
        page = open_page(browser, p.url, outside, ready=".rk-form .rk-bar")
        if form != "progress":  # create the record so the note editor and its codes are live
            page.get_by_role("button", name=f"Create {form}", exact=True).click()
            page.wait_for_selector(".rk-form .rk-status:has-text('Saved')", timeout=60_000)
        assert _axe_violations(page) == []
        assert {urlparse(u).hostname for u in outside} <= COSMETIC_HOSTS
        page.close()
    finally:
        serve.stop(proc, p)


def test_the_same_reviewer_in_two_tabs_is_told_changed_elsewhere(browser, server) -> None:
    ws_path, p = server
    tab1 = open_page(browser, p.url, [])
    tab2 = open_page(browser, p.url, [])
    tab1.locator(".rk-q-q1").get_by_role("button", name="Good", exact=True).click()
    wait_for(lambda: stored(ws_path).get("q1", (None, ""))[0] == "Good", "tab 1's rating")
    tab2.locator(".rk-q-q1").get_by_role("button", name="Inadequate", exact=True).click()
    alert = tab2.locator(".rk-bar .rk-alert-error")
    alert.wait_for(timeout=60_000)
    assert CHANGED_ELSEWHERE in alert.inner_text()
    assert stored(ws_path)["q1"][0] == "Good"  # never a silent overwrite
    tab2.get_by_role("button", name="Reload", exact=True).click()
    tab2.locator(".rk-q-q1 button.mod-active", has_text="Good").wait_for(timeout=60_000)
    assert tab2.locator(".rk-bar .rk-alert-error").count() == 0
    tab1.close()
    tab2.close()


def _flag(ws_path: Path) -> dict:
    from reviewkit.review.workspace import open_workspace

    with open_workspace(ws_path).store() as store:
        return store.case_flag(CASE, REVIEWER)


# Scroll the box that scrolls the page (Voila's #rendered_cells) so the button sits at the very top.
SCROLL_UNDER_THE_BAR = """b => {
  for (let e = b.parentElement; e; e = e.parentElement) {
    if (e.scrollHeight > e.clientHeight + 2 && /(auto|scroll)/.test(getComputedStyle(e).overflowY)) {
      e.scrollTop += b.getBoundingClientRect().top - e.getBoundingClientRect().top - 5; return true; }
  }
  return false; }"""


def test_the_sticky_bar_never_covers_the_chosen_rating(browser, server) -> None:
    _ws_path, p = server
    page = open_page(browser, p.url, [])
    page.locator(".rk-q-q7").get_by_role("button", name="Good", exact=True).click()
    chosen = page.locator(".rk-q-q7 button.mod-active")
    chosen.wait_for()
    bar = page.locator(".rk-bar")
    for _ in range(2):  # with the page scrolled so the chosen rating sits under the bar, then by keyboard
        moved = chosen.evaluate(SCROLL_UNDER_THE_BAR)
        assert moved, "no scrolling box holds the form"
        chosen.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")
        page.wait_for_timeout(300)
        top = chosen.bounding_box()["y"]  # type: ignore[index]
        bottom = bar.bounding_box()
        assert bottom is not None and bottom["y"] + bottom["height"] <= top + 1, (bottom, top)
    page.close()
