"""The calibration form in a real browser: ``reviewkit serve --form calibrate``, Debian's Chromium, Playwright.

A reviewer rates every question of a calibration record by choosing from the drop-down lists;
the ratings reach the store as calibration ratings (never case ratings), the team's ratings
then show side by side, and the reviewer's case records open.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewkit.review.calibration import CalibrationRating
from reviewkit.review.ratings import RatingInput
from reviewkit.review.workspace import open_workspace
from reviewkit.team import serve

from .helpers import HOST, chromium, make_workspace, route_local, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(600)]

REVIEWER, OTHER = "A. Visitor", "B. Visitor"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, serve.ServePlan]]:
    ws = make_workspace(tmp_path / "ws")
    with ws.store() as store:
        store.add_calibration_record(HOST, "CAL1")
        store.apply_calibration_ratings(OTHER, [CalibrationRating("CAL1", OTHER, q, "Good")
                                                for q in ws.tool.all_ids])
    p = serve.plan(ws.path, REVIEWER, form="calibrate", history_dir=tmp_path / "ipython")
    proc = serve.start(p)
    try:
        serve.wait_ready(p, proc, timeout=120)
        yield ws.path, p
    finally:
        serve.stop(proc, p)


def _mine(ws_path: Path) -> dict[str, str]:
    with open_workspace(ws_path).store() as store:
        df = store.calibration_ratings()
        assert len(store.ratings()) == 0
    return {r.question: r.rating for r in df[df["reviewer"] == REVIEWER].itertuples()}


def test_rate_the_calibration_record_in_chromium_then_see_the_team(browser, server) -> None:
    ws_path, p = server
    outside: list[str] = []
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="en-GB")
    route_local(page, outside)
    page.goto(p.url)
    page.wait_for_selector(".rk-form .rk-cal-q1 select", timeout=120_000)
    assert "calibration_form(" not in page.content()
    assert "once you have rated every question" in page.locator(".rk-cal-team").inner_text()
    assert OTHER not in page.locator(".rk-cal-team").inner_text()  # not before my own ratings are in
    tool = open_workspace(ws_path).tool
    plan = {q: ("Requires Improvement" if q == "q1" else "Good") for q in tool.all_ids}
    for qid, level in plan.items():
        page.locator(f".rk-cal-{qid} select").select_option(level)
    wait_for(lambda: _mine(ws_path) == plan, "all 13 calibration ratings in the store")
    page.wait_for_selector(".rk-cal-team caption", timeout=60_000)
    team = page.locator(".rk-cal-team").inner_text()
    assert OTHER in team and REVIEWER in team and "talk through" in team
    assert "Round 1: reviewers gave the same rating in 11 of 12 pairs (91.7%)" in team
    with open_workspace(ws_path).store() as store:  # the case records are open now
        store.set_rating(REVIEWER, RatingInput("C01", REVIEWER, "q1", "Good"))
    assert outside == []
