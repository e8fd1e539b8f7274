"""The calibration form: ratings saved as calibration ratings, the team view only once your own are in."""

from __future__ import annotations

import pytest

from reviewkit.core.errors import CalibrationPendingError
from reviewkit.review.calibration import CalibrationRating
from reviewkit.review.ratings import RatingInput
from reviewkit.team.widgets import CalibrationForm, calibration_form
from reviewkit.team.widgets.calibrate import NOT_RATED

from .helpers import HOST, REVIEWERS


@pytest.fixture
def cal(ws):
    with ws.store() as store:
        store.add_calibration_record(HOST, "CAL1")
    return ws


def test_without_calibration_the_form_explains_how_to_set_one_up(ws) -> None:
    panel = calibration_form(ws, REVIEWERS[0])
    assert not isinstance(panel, CalibrationForm)
    assert "reviewkit calibrate WORKSPACE --record CAL1" in panel.children[1].value


def test_a_reviewer_rates_then_sees_the_team_side_by_side(cal, trap) -> None:
    a, b = REVIEWERS[0], REVIEWERS[1]
    with cal.store() as store:  # B has rated already, differently on q1
        store.apply_calibration_ratings(b, [CalibrationRating("CAL1", b, q, "Outstanding" if q == "q1" else "Good")
                                            for q in cal.tool.all_ids])
    form = trap.watch(CalibrationForm(cal, a))
    assert "once you have rated every question" in form.team.value and b not in form.team.value
    for qid, picker in form.pickers.items():
        assert picker.value == NOT_RATED
        picker.value = "Good"
    assert form.status_text.startswith("Saved")
    with cal.store() as store:
        mine = store.calibration_ratings()
        assert len(mine[mine["reviewer"] == a]) == len(cal.tool.all_ids)
        assert len(store.ratings()) == 0  # no case rating came from this form
        store.set_rating(a, RatingInput("C01", a, "q1", "Good"))  # A's cases are open now
        with pytest.raises(CalibrationPendingError):
            store.set_rating(REVIEWERS[2], RatingInput("C05", REVIEWERS[2], "q1", "Good"))
    team = form.team.value
    assert "<caption>Calibration round 1" in team and a in team and b in team
    first_row = team.split("<tbody>")[1].split("</tr>")[0]
    assert "CAL1 q1" in first_row and "(talk through)" in first_row  # most disagreement first
    assert "Round 1: reviewers gave the same rating in" in team
    assert not hasattr(form, "agree_button")  # agreeing is the host's


def test_the_host_records_the_agreed_rating_and_note(cal, trap) -> None:
    form = trap.watch(CalibrationForm(cal, HOST))
    form.agree_record.value = "CAL1"
    form.agree_question.value = "q2"
    form.agree_rating.value = "Requires Improvement"
    form.agree_note.value = "Outcomes were listed but not the person's own words"
    form.agree_button.click()
    assert "Saved the agreed rating for CAL1 q2" in form.agree_message.value
    with cal.store() as store:
        agreed = store.agreed_ratings().to_dict("records")
    assert agreed == [{"record_id": "CAL1", "question": "q2", "rating": "Requires Improvement",
                       "note": "Outcomes were listed but not the person's own words"}]
    form.agree_note.value = "NHS number 943 476 5919"
    form.agree_button.click()
    assert "Not saved" in form.agree_message.value


def test_an_open_form_takes_in_a_record_the_host_names_after_it_opened(cal, trap) -> None:
    a = REVIEWERS[0]
    form = trap.watch(CalibrationForm(cal, a))
    assert form.record.options == ("CAL1",)
    with cal.store() as store:  # the host names another record while the page is open
        store.add_calibration_record(HOST, "CAL2")
    form.pickers["q1"].value = "Good"  # the next rating chosen
    assert form.record.options == ("CAL1", "CAL2") and form.record.value == "CAL1"
    assert "CAL2" in form.alert.message and form.status_text.startswith("Saved")
    for picker in form.pickers.values():
        picker.value = "Good"
    assert not form._finished()  # CAL2 still to rate: the team's ratings stay hidden
    assert "once you have rated every question" in form.team.value
    form.record.value = "CAL2"
    for picker in form.pickers.values():
        assert picker.value == NOT_RATED
        picker.value = "Requires Improvement"
    assert "<caption>Calibration round 1" in form.team.value
    with cal.store() as store:
        store.add_calibration_record(HOST, "CAL3")
    form.refresh_button.click()  # pressing Show the team's ratings checks too
    assert "CAL3" in form.record.options
