"""The rating form, driven through its widgets: values set and buttons clicked as a browser would."""

from __future__ import annotations

import logging
from pathlib import Path

import ipywidgets as w
import pytest

from reviewkit.review.ratings import RatingInput
from reviewkit.team.widgets import RatingForm, rating_form
from reviewkit.team.widgets.common import CHANGED_ELSEWHERE
from reviewkit.team.widgets.rating import case_label, descriptor_html, load_case
from reviewkit.team.widgets.testing import CallbackErrorTrap

from .helpers import make_workspace

NHS_CANARY = "999 000 0018"


def form_for(ws, reviewer: str, trap: CallbackErrorTrap) -> RatingForm:
    return trap.watch(RatingForm(ws, reviewer))


def rate_everything(form: RatingForm, level: str = "Good") -> None:
    for block in form.blocks.values():
        block.buttons.value = level


def test_the_form_lists_only_the_reviewers_cases_and_marks_moderation(ws, trap) -> None:
    a = form_for(ws, "A. Visitor", trap)
    b = form_for(ws, "b. visitor", trap)  # names match whatever the case
    assert a.case_picker.options == (("C01", "C01"), ("C02", "C02"))
    assert b.reviewer == "B. Visitor"
    assert [label for label, _ in b.case_picker.options] == ["C01 (moderation)", "C03", "C04"]
    assert b.case_id == "C01"
    assert b.progress_text == "Case 1 of 3 · 0 of 12 questions rated"
    assert case_label(ws.meta.cases[0], "B. Visitor") == "C01 (moderation)"


def test_each_question_shows_title_text_levels_and_descriptors(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    q1 = ws.tool.question("q1")
    block = form.blocks["q1"]
    assert q1.title in block.title.value and "1." in block.title.value
    assert block.buttons.options == tuple(ws.tool.scale.labels)
    assert block.buttons.value is None
    assert block.buttons.tooltips[1] == q1.descriptors["Good"]
    for level, text in q1.descriptors.items():
        assert level in block.descriptors.value
    assert "Not rated yet." in block.descriptors.value
    block.buttons.value = "Good"
    assert 'rk-descriptor rk-selected" data-level="Good"' in block.descriptors.value
    assert "Your rating: Good." in block.descriptors.value
    html = descriptor_html(q1, ws.tool, "Inadequate")
    assert html.count("rk-selected") == 1 and 'data-level="Inadequate"' in html


def test_every_rating_change_is_saved_at_once_with_its_audit_row(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    form.blocks["q1"].buttons.value = "Outstanding"
    form.blocks["q1"].buttons.value = "Good"
    form.blocks["q1"].note.value = "Person's own words quoted in the assessment"
    with ws.store() as store:
        r = store.rating("C01", "A. Visitor", "q1")
        log = store.audit_log()
    assert (r.rating, r.comment, r.version) == ("Good", "Person's own words quoted in the assessment", 3)
    rows = log[(log["entity"] == "rating") & (log["key"] == "C01/A. Visitor/q1")]
    assert list(rows["action"]) == ["insert", "update", "update"]
    assert set(rows["actor"]) == {"A. Visitor"}
    assert "Person's own words" not in "".join(log["new"].astype(str))  # free text is logged as a digest only
    assert form.status_text.startswith("Saved ") and len(form.status_text) == len("Saved 14:02")
    assert form.progress_text == "Case 1 of 2 · 1 of 12 questions rated"
    assert form.status_text in form.blocks["q1"].message.value


def test_reopening_the_form_shows_everything_as_stored(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    form.case_picker.value = "C02"
    form.blocks["q3"].buttons.value = "Requires Improvement"
    form.blocks["q3"].note.value = "Strengths listed but not used in the plan"
    form.referred.value = True
    form.reason.value = "Risk to safety not followed up"
    again = form_for(ws, "A. Visitor", trap)
    assert again.case_id == "C01"  # opens on the first case
    again.case_picker.value = "C02"
    assert again.blocks["q3"].buttons.value == "Requires Improvement"
    assert again.blocks["q3"].note.value == "Strengths listed but not used in the plan"
    assert again.blocks["q3"].message.value == ""  # the note is there, so no warning
    assert again.referred.value is True and again.reason.value == "Risk to safety not followed up"
    assert again.reason.layout.display == ""
    assert again.progress_text == "Case 2 of 2 · 1 of 12 questions rated"


def test_a_low_rating_asks_for_an_evidence_note_and_blocks_complete(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    rate_everything(form)
    form.blocks["q6"].buttons.value = "Inadequate"
    assert "needs an evidence note" in form.blocks["q6"].message.value
    form.complete.value = True
    assert form.complete.value is False
    assert "Question 6 is rated Inadequate: write the evidence note." in form.complete_message.value
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["complete"] is False
    form.blocks["q6"].note.value = "No risk assessment despite two falls"
    assert "needs an evidence note" not in form.blocks["q6"].message.value
    form.complete.value = True
    assert form.complete.value is True
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["complete"] is True
    assert "marked complete" in form.complete_message.value


def test_a_case_with_blank_questions_or_no_overall_cannot_be_marked_complete(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    for qid in ws.tool.question_ids[:10]:
        form.blocks[qid].buttons.value = "Good"
    form.complete.value = True
    assert form.complete.value is False
    msg = form.complete_message.value
    assert "Questions 11 and 12 are not rated yet." in msg and "The overall judgement is not set yet." in msg
    form.blocks["q11"].buttons.value = "Good"
    form.blocks["q12"].buttons.value = "Not applicable"
    form.complete.value = True
    assert form.complete.value is False and "overall judgement" in form.complete_message.value
    form.blocks["overall"].buttons.value = "Good"
    form.complete.value = True
    assert form.complete.value is True


def test_a_later_change_that_breaks_the_rules_unmarks_complete(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    rate_everything(form)
    form.complete.value = True
    form.blocks["q4"].buttons.value = "Requires Improvement"
    assert form.complete.value is False
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["complete"] is False
    assert "no longer marked complete" in form.alert.message
    assert "Question 4 is rated Requires Improvement" in form.complete_message.value


def test_blocked_text_is_not_stored_and_the_form_says_why(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    form.blocks["q1"].buttons.value = "Good"
    form.blocks["q1"].note.value = f"NHS number {NHS_CANARY} on file"
    msg = form.blocks["q1"].message.value
    assert "Not saved" in msg and "NHS number" in msg and NHS_CANARY not in msg
    assert form.blocks["q1"].save_anyway.layout.display == "none"  # blocked text cannot be forced
    # The rating itself still saves: a rating change sends the stored note, not the refused one.
    form.blocks["q1"].buttons.value = "Outstanding"
    with ws.store() as store:
        r = store.rating("C01", "A. Visitor", "q1")
        assert (r.rating, r.comment) == ("Outstanding", "")
        assert NHS_CANARY not in store.audit_log().to_string()
    # … but the status line never claims "Saved" while the refused note waits in its box.
    assert form.status_text.startswith("Not saved: 1 change")
    form.blocks["q1"].note.value = "The plan quotes the person's own words"
    assert form.status_text.startswith("Saved ")


def test_a_possible_identifier_needs_save_anyway(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    block = form.blocks["q2"]
    block.buttons.value = "Good"
    text = "Reviewed after the visit to Ward B3 on 12/03/1961"  # an old date: could be a birth date
    block.note.value = text
    assert "Not saved yet" in block.message.value
    assert block.save_anyway.layout.display == ""
    with ws.store() as store:
        assert store.rating("C01", "A. Visitor", "q2").comment == ""
    block.save_anyway.click()
    assert block.save_anyway.layout.display == "none"
    with ws.store() as store:
        assert store.rating("C01", "A. Visitor", "q2").comment == text
        log = store.audit_log()
    assert "confirmed possible identifier" in log.iloc[-1]["note"]
    block.buttons.value = "Outstanding"  # a later rating change keeps the confirmed note
    with ws.store() as store:
        saved = store.rating("C01", "A. Visitor", "q2")
    assert (saved.rating, saved.comment) == ("Outstanding", text)
    assert form.alert.message == ""


def test_referred_back_needs_a_reason_before_it_is_stored(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    form.referred.value = True
    assert form.reason.layout.display == ""
    assert "Write the reason" in form.referral_message.value
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["referred_back"] is False
    form.reason.value = "No safeguarding follow-up after a disclosure"
    with ws.store() as store:
        flag = store.case_flag("C01", "A. Visitor")
    assert flag["referred_back"] is True and flag["reason"] == "No safeguarding follow-up after a disclosure"
    form.reason.value = "  "
    assert "needs a reason" in form.referral_message.value
    form.referred.value = False
    assert form.reason.layout.display == "none"
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["referred_back"] is False


def test_a_referral_reason_with_a_possible_identifier_needs_save_anyway(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    form.referred.value = True
    form.reason.value = "Falls since 03/04/1941 not followed up"
    assert "Not saved yet" in form.referral_message.value and form.reason_anyway.layout.display == ""
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["referred_back"] is False
    form.reason_anyway.click()
    assert "Referral saved" in form.referral_message.value
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["referred_back"] is True
    form.reason.value = f"NHS {NHS_CANARY}"
    assert "Not saved." in form.referral_message.value and NHS_CANARY not in form.referral_message.value
    assert form.reason_anyway.layout.display == "none"


def test_the_same_reviewer_in_two_tabs_gets_changed_elsewhere_not_an_overwrite(ws, trap) -> None:
    tab1 = form_for(ws, "A. Visitor", trap)
    tab2 = form_for(ws, "A. Visitor", trap)
    tab1.blocks["q1"].buttons.value = "Good"
    tab2.blocks["q1"].buttons.value = "Inadequate"  # tab2 loaded before tab1 saved
    assert tab2.alert.message and tab2.alert.html.value.count(CHANGED_ELSEWHERE) == 1
    assert tab2.reload_button.layout.display == ""
    assert "not saved" in tab2.blocks["q1"].message.value
    with ws.store() as store:
        assert store.rating("C01", "A. Visitor", "q1").rating == "Good"  # tab1's rating survives
    tab2.reload_button.click()
    assert tab2.blocks["q1"].buttons.value == "Good"
    assert tab2.alert.message == "" and tab2.reload_button.layout.display == "none"
    tab2.blocks["q1"].buttons.value = "Outstanding"  # after a reload, saving works again
    with ws.store() as store:
        assert store.rating("C01", "A. Visitor", "q1").rating == "Outstanding"
    # Flags are guarded the same way.
    tab1.complete.value = False
    tab3 = form_for(ws, "A. Visitor", trap)
    tab1.referred.value = True
    tab1.reason.value = "Concern about a missed review"
    tab3.referred.value = True
    tab3.reason.value = "A different reason"
    assert CHANGED_ELSEWHERE in tab3.alert.html.value
    with ws.store() as store:
        assert store.case_flag("C01", "A. Visitor")["reason"] == "Concern about a missed review"


def test_two_reviewers_of_a_moderation_case_never_overwrite_each_other(ws, trap) -> None:
    a = form_for(ws, "A. Visitor", trap)
    b = form_for(ws, "B. Visitor", trap)
    assert a.case_id == b.case_id == "C01"
    a.blocks["q1"].buttons.value = "Good"
    b.blocks["q1"].buttons.value = "Requires Improvement"
    b.blocks["q1"].note.value = "Views paraphrased"
    a.blocks["q1"].note.value = "Own words quoted"
    assert not a.alert.message and not b.alert.message
    with ws.store() as store:
        assert store.rating("C01", "A. Visitor", "q1").comment == "Own words quoted"
        assert store.rating("C01", "B. Visitor", "q1").rating == "Requires Improvement"


def test_switching_cases_shows_each_cases_own_ratings(ws, trap) -> None:
    form = form_for(ws, "A. Visitor", trap)
    form.blocks["q1"].buttons.value = "Outstanding"
    form.case_picker.value = "C02"
    assert form.blocks["q1"].buttons.value is None
    assert form.progress_text == "Case 2 of 2 · 0 of 12 questions rated"
    form.case_picker.value = "C01"
    assert form.blocks["q1"].buttons.value == "Outstanding"
    with ws.store() as store:
        assert store.rating("C02", "A. Visitor", "q1") is None  # switching saved nothing


def test_load_case_returns_versions_for_concurrency(ws) -> None:
    with ws.store() as store:
        store.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", "q2", "Good", ""))
        state = load_case(store, ws.tool, "C01", "A. Visitor")
    assert state.versions["q2"] == 1 and state.versions["q1"] == 0
    assert state.entries["q2"].rating == "Good" and state.entries["q1"].rating is None


def test_the_notebook_entry_point_shows_a_plain_panel_instead_of_a_traceback(ws, tmp_path: Path) -> None:
    panel = rating_form(ws.path, "Nobody Here")
    assert isinstance(panel, w.VBox)
    text = " ".join(getattr(c, "value", "") for c in panel.children)
    assert "is not a reviewer of this review" in text and "A. Visitor" in text
    assert "Traceback" not in text
    missing = rating_form(tmp_path / "no-such-folder", "A. Visitor")
    assert "no such workspace folder" in " ".join(getattr(c, "value", "") for c in missing.children)
    blank = rating_form("", "A. Visitor")
    assert "No review workspace was given" in " ".join(getattr(c, "value", "") for c in blank.children)
    assert isinstance(rating_form(ws.path, "A. Visitor"), RatingForm)


def test_a_reviewer_with_no_cases_is_told_so(tmp_path: Path, trap) -> None:
    ws = make_workspace(tmp_path / "ws", cases=False)
    form = form_for(ws, "A. Visitor", trap)
    assert form.case_id is None and "No case records are allocated" in form.alert.message
    assert form.questions_box.layout.display == "none"


def test_an_unexpected_callback_error_shows_in_the_form_is_logged_and_fails_the_trap(ws, caplog) -> None:
    with CallbackErrorTrap() as t:
        form = t.watch(RatingForm(ws, "A. Visitor"))
        form.store.close()  # the database goes away under the form
        with caplog.at_level(logging.ERROR, logger="reviewkit.team.widgets"):
            form.blocks["q1"].buttons.value = "Good"
        assert form.unexpected == ["ProgrammingError"]
        assert "Something went wrong" in form.alert.message and "Reload" in form.alert.message
        assert form.reload_button.layout.display == ""
        assert any("unexpected ProgrammingError" in r.getMessage() for r in caplog.records)
        with pytest.raises(AssertionError, match="widget callback error"):
            t.check()


def test_the_trap_also_catches_errors_ipywidgets_would_only_log() -> None:
    button = w.Button()

    def broken(_b: w.Button) -> None:
        raise RuntimeError("boom")

    button.on_click(broken)
    with CallbackErrorTrap() as t:
        button.click()  # ipywidgets swallows this and logs a warning
        assert any("callback" in p.lower() for p in t.problems())
        with pytest.raises(AssertionError):
            t.check()


def test_a_concern_about_a_person_is_logged_from_the_form_for_the_case_shown(ws, trap) -> None:
    import datetime as dt

    form = form_for(ws, "A. Visitor", trap)
    panel = form.concern
    panel.what.value = "Unexplained bruising not followed up"
    panel.save.click()
    assert "Not saved yet: give the date you raised it, the role you raised it with" in panel.message.value
    panel.raised_on.value = dt.date(2026, 10, 6)
    panel.raised_with.value = "team manager"
    panel.save.click()
    assert "Concern saved" in panel.message.value and "shows as open" in panel.response.value
    with ws.store() as store:
        row = store.concern("C01", "A. Visitor")
        log = store.audit_log()
    assert (row["what"], row["raised_on"], row["raised_with"]) == (
        "Unexplained bruising not followed up", "2026-10-06", "team manager")
    assert list(log[log["entity"] == "concern"]["actor"]) == ["A. Visitor"]
    # Another case shows its own (none); coming back shows the stored concern and the council's response.
    form.case_picker.value = "C02"
    assert panel.what.value == "" and panel.raised_on.value is None and panel.response.value == ""
    with ws.store() as store:
        store.record_response("H. Host", "C01", response="Visited", responded_on="2026-10-07")
    form.case_picker.value = "C01"
    assert panel.what.value == "Unexplained bruising not followed up" and panel.raised_on.value == dt.date(2026, 10, 6)
    assert "response was recorded on 2026-10-07" in panel.response.value
    # A possible identifier needs "Save anyway"; a sure one is refused and never echoed.
    panel.what.value = "Falls since 03/04/1941 not followed up"
    panel.save.click()
    assert "Not saved yet" in panel.message.value and panel.save_anyway.layout.display == ""
    panel.save_anyway.click()
    assert "Concern saved" in panel.message.value
    panel.what.value = f"NHS {NHS_CANARY}"
    panel.save.click()
    assert "Not saved." in panel.message.value and NHS_CANARY not in panel.message.value
    with ws.store() as store:
        assert store.concern("C01", "A. Visitor")["what"] == "Falls since 03/04/1941 not followed up"
    panel.raised_on.value = dt.date.today() + dt.timedelta(days=3)
    panel.what.value = "Falls not followed up"
    panel.save.click()
    assert "in the future" in panel.message.value
