"""The hub's rating service, below HTTP: each change a page sends, applied to a real store as the signed-in person.

The browser path (sign-in, the page's script, the hub's OAuth) is tested in ``test_hub_browser.py``;
here every rule the page relies on is checked directly: saves and their versions, screening with
"Save anyway", another tab's change, allocation, moderation, referral, completion, concerns, and
what an unexpected error shows.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from reviewkit.core.errors import AccessError, BlockedTextError, ConflictError, WarningTextError
from reviewkit.team import ratepage
from reviewkit.team.rateservice import Settings, answer_for, context, save_concern, save_flag, save_rating
from reviewkit.team.widgets.rating import load_case

from .helpers import LOGINS, make_workspace, with_logins

A, B = "A. Visitor", "B. Visitor"
NHS_CANARY = "999 000 0018"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(str(with_logins(make_workspace(tmp_path / "ws")).path))


def rate(settings: Settings, who: str, case: str, qid: str, level: str, version: int | None = None) -> dict:
    ctx = context(settings, LOGINS[who])
    if version is None:
        with ctx.store() as store:
            version = load_case(store, ctx.ws.tool, case, ctx.reviewer).versions[qid]
    return save_rating(ctx, {"case": case, "question": qid, "part": "rating", "rating": level, "version": version})


def note(settings: Settings, case: str, qid: str, text: str, version: int, confirm: bool = False) -> dict:
    return save_rating(context(settings, LOGINS[A]), {"case": case, "question": qid, "part": "note",
                                                       "comment": text, "version": version, "confirm": confirm})


def stored(settings: Settings, case: str, who: str, qid: str):  # noqa: ANN201
    ctx = context(settings, LOGINS[who])
    with ctx.store() as store:
        return store.rating(case, who, qid)


def test_a_rating_is_stored_as_the_signed_in_reviewer_with_its_version(settings: Settings) -> None:
    reply = rate(settings, A, "C01", "q1", "Good")
    assert reply["ok"] and reply["version"] == 1 and reply["rating"] == "Good"
    assert "Your rating: Good." in reply["descriptors_html"]
    assert "Case 1 of 2 · 1 of 12 questions rated" in reply["case_state"]["progress_html"]
    r = stored(settings, "C01", A, "q1")
    assert (r.rating, r.comment, r.version) == ("Good", "", 1)
    ctx = context(settings, LOGINS[A])
    with ctx.store() as store:
        log = store.audit_log()
    assert list(log["actor"]) == [A]
    # A low rating asks for a note; the note keeps the rating as stored.
    low = rate(settings, A, "C01", "q2", "Inadequate")
    assert "needs an evidence note" in low["hint"]
    after = note(settings, "C01", "q2", "No outcomes are recorded in the support plan", low["version"])
    assert after["hint"] == "" and after["rating"] == "Inadequate"


def test_a_stale_version_is_refused_not_overwritten(settings: Settings) -> None:
    rate(settings, A, "C01", "q1", "Good", version=0)  # tab 1
    with pytest.raises(ConflictError) as refused:
        rate(settings, A, "C01", "q1", "Inadequate", version=0)  # tab 2 loaded before tab 1 saved
    status, reply = answer_for(refused.value)
    assert status == 409 and reply["kind"] == "conflict" and "changed elsewhere" in reply["message"]
    assert stored(settings, "C01", A, "q1").rating == "Good"


def test_notes_are_screened_with_save_anyway_only_for_a_possible_identifier(settings: Settings) -> None:
    v = rate(settings, A, "C01", "q1", "Good")["version"]
    with pytest.raises(BlockedTextError) as blocked:
        note(settings, "C01", "q1", f"NHS number {NHS_CANARY} on file", v, confirm=True)
    status, reply = answer_for(blocked.value)
    assert (status, reply["kind"]) == (422, "blocked") and NHS_CANARY not in reply["message"]
    text = "Reviewed after the visit to Ward B3 on 12/03/1961"  # an old date: could be a birth date
    with pytest.raises(WarningTextError) as warned:
        note(settings, "C01", "q1", text, v)
    assert answer_for(warned.value)[1]["kind"] == "warn"
    assert stored(settings, "C01", A, "q1").comment == ""
    assert note(settings, "C01", "q1", text, v, confirm=True)["ok"]
    assert stored(settings, "C01", A, "q1").comment == text


def test_only_allocated_and_moderation_cases_can_be_rated(settings: Settings) -> None:
    with pytest.raises(AccessError) as refused:
        rate(settings, A, "C03", "q1", "Good", version=0)  # B's case
    status, reply = answer_for(refused.value)
    assert status == 403 and "not allocated to you" in reply["message"]
    assert rate(settings, B, "C01", "q1", "Outstanding")["ok"]  # B moderates C01
    assert stored(settings, "C01", B, "q1").rating == "Outstanding"
    assert stored(settings, "C01", A, "q1") is None
    with pytest.raises(AccessError, match="not on the review team"):
        context(settings, "someone@elsewhere.example")


def test_referral_waits_for_a_reason_and_completion_for_every_answer(settings: Settings) -> None:
    ctx = context(settings, LOGINS[A])
    reply = save_flag(ctx, {"case": "C01", "action": "referred", "referred": True, "reason": "", "version": 0})
    assert not reply["stored"] and "Write the reason" in reply["message"]
    reply = save_flag(ctx, {"case": "C01", "action": "reason", "reason": "No follow-up after a disclosure",
                            "version": 0})
    assert reply["stored"] and reply["message"] == "Referral saved."
    version = reply["case_state"]["flag_version"]
    refused = save_flag(ctx, {"case": "C01", "action": "complete", "complete": True, "version": version})
    assert not refused["stored"] and not refused["case_state"]["complete"]
    assert "cannot be marked complete yet" in refused["case_state"]["complete_html"]
    assert "The overall judgement is not set yet." in refused["case_state"]["complete_html"]
    for qid in ctx.ws.tool.all_ids:
        rate(settings, A, "C01", qid, "Good")
    done = save_flag(ctx, {"case": "C01", "action": "complete", "complete": True, "version": version})
    assert done["stored"] and done["case_state"]["complete"]
    # A later low rating with no note unmarks it, and says so.
    low = rate(settings, A, "C01", "q4", "Requires Improvement")
    assert low["unmarked"] and not low["case_state"]["complete"]
    assert "no longer marked complete" in low["case_state"]["complete_html"]


def test_a_concern_needs_all_three_parts_and_a_past_date(settings: Settings) -> None:
    ctx = context(settings, LOGINS[A])
    body = {"case": "C01", "what": "Falls not followed up", "raised_on": "", "raised_with": "team manager"}
    assert "the date you raised it" in save_concern(ctx, body)["message"]
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert "in the future" in save_concern(ctx, body | {"raised_on": tomorrow})["message"]
    reply = save_concern(ctx, body | {"raised_on": "2026-10-07"})
    assert reply["ok"] and "until then it shows as open" in reply["response_html"]
    with ctx.store() as store:
        assert store.concern("C01", A)["what"] == "Falls not followed up"
    with pytest.raises(AccessError):
        save_concern(ctx, body | {"case": "C03", "raised_on": "2026-10-07"})


def test_an_unexpected_error_shows_its_kind_and_never_its_message() -> None:
    status, reply = answer_for(RuntimeError("Zebediah Quokkafeather, 12 Acacia Road"))
    assert status == 500 and "RuntimeError" in reply["message"] and "Zebediah" not in str(reply)
    assert answer_for(KeyError("question"))[0] == 400  # a request of the wrong shape


def test_the_page_escapes_what_was_typed_and_loads_nothing_from_elsewhere(settings: Settings) -> None:
    v = rate(settings, A, "C01", "q1", "Good")["version"]
    note(settings, "C01", "q1", "</textarea><script>alert(1)</script>", v)
    ctx = context(settings, LOGINS[A])
    with ctx.store() as store:
        state = load_case(store, ctx.ws.tool, "C01", A)
    info = ratepage.PageInfo(A, "/services/reviewkit-rate/api/", "token", "/hub/spawn?next=%2Fhub%2F", "n0nce")
    page = ratepage.page_html(info, ctx.ws.tool, ctx.ws.meta.cases_for(A), "C01", state, None)
    assert "<script>alert(1)" not in page and "&lt;/textarea&gt;&lt;script&gt;" in page
    assert page.count("<script") == 1 and '<script nonce="n0nce">' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # no outside address
    assert 'aria-pressed="true" title=' in page and page.count('class="mod-active"') == 1
    assert "record_meeting.ipynb" in page
    assert len(page.encode()) < 80_000  # one small page, not a 4.9 MB application
