"""The meeting form and its note editor, driven through their widgets."""

from __future__ import annotations

import datetime as dt

import pytest

from reviewkit.core.errors import InvalidInputError
from reviewkit.core.themes import load_codebook
from reviewkit.team.widgets import MeetingForm, meeting_form
from reviewkit.team.widgets.common import CHANGED_ELSEWHERE
from reviewkit.team.widgets.meeting import attendees_from_rows, meeting_label
from reviewkit.team.widgets.notes import (
    CodeChoice,
    accept_suggestions,
    add_suggestions,
    check_role,
    codes_to_save,
    dismiss_suggestions,
    note_summary_html,
    toggle_code,
)

CANARY_NAME = "Zebediah Quokkafeather"


def new_meeting(form: MeetingForm, kind: str = "practitioners") -> int:
    form.kind.value = kind
    form.date.value = dt.date(2026, 3, 4)
    form.title.value = "Practitioners' focus group"
    form.attendee_rows[0].role.value = "practitioner"
    form.attendee_rows[0].count.value = 7
    form.create.click()
    assert form.meeting_id is not None
    return form.meeting_id


# -- plain functions -------------------------------------------------------------------------------
def test_suggestions_are_offered_unticked_and_never_block_saving() -> None:
    book = load_codebook("default")
    choice = add_suggestions(CodeChoice(), ["workload", "supervision"])
    assert choice.suggested == {"workload", "supervision"} and choice.ticked == set()
    assert codes_to_save(choice, book) == []  # an untouched suggestion is not saved, and blocks nothing
    assert codes_to_save(accept_suggestions(choice), book) == ["supervision", "workload"]
    # Ticking a suggested code yourself takes it; dismissing the rest never offers them again.
    mine = toggle_code(choice, "workload", True)
    assert mine.ticked == {"workload"} and mine.suggested == {"supervision"}
    dismissed = dismiss_suggestions(mine)
    again = add_suggestions(dismissed, ["supervision", "panel"])
    assert again.suggested == {"panel"} and codes_to_save(again, book) == ["workload"]


def test_a_speaker_is_a_short_role_never_a_name() -> None:
    assert check_role("  team   manager ") == "team manager"
    assert check_role("") == ""
    with pytest.raises(InvalidInputError, match="never a name") as info:
        check_role("Mrs Quokkafeather")
    assert "Quokkafeather" not in str(info.value)
    with pytest.raises(InvalidInputError, match="never a name"):
        check_role("practitioner Zebediah", names=[CANARY_NAME])
    with pytest.raises(InvalidInputError, match="too long"):
        check_role("x" * 41)


def test_attendance_rows_skip_blanks_and_refuse_a_role_twice() -> None:
    assert attendees_from_rows([("practitioner", 7), ("", 3), (" team  manager", 1)]) == \
        {"practitioner": 7, "team manager": 1}
    with pytest.raises(InvalidInputError, match="listed twice"):
        attendees_from_rows([("manager", 2), ("Manager", 1)])
    with pytest.raises(InvalidInputError, match="how many"):
        attendees_from_rows([("manager", None)])


def test_note_summaries_escape_text_and_name_codes_by_label() -> None:
    book = load_codebook("default")
    html = note_summary_html({"kind": "quote", "text": "<b>We</b> are stretched", "speaker_role": "practitioner",
                              "stance": "concern", "use_in_report": True, "codes": ("workload",)}, book)
    assert "&lt;b&gt;We&lt;/b&gt;" in html and "<b>We</b>" not in html
    assert "Direct quote · practitioner · Concern · use in report" in html and "Codes: Workload" in html
    assert meeting_label({"kind": "managers", "held_on": "2026-03-05", "title": ""}) == \
        "Meeting with managers · 2026-03-05"


# -- the form ------------------------------------------------------------------------------------------
def test_creating_a_meeting_stores_kind_date_title_and_attendance(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    assert form.meeting_id is None and form.editor.save_button.disabled  # no notes before a meeting
    form.add_role.click()
    form.attendee_rows[1].role.value = "senior practitioner"
    form.attendee_rows[1].count.value = 2
    mid = new_meeting(form)
    with ws.store() as store:
        m = store.meeting(mid)
        log = store.audit_log()
    assert (m["kind"], m["held_on"], m["title"]) == ("practitioners", "2026-03-04", "Practitioners' focus group")
    assert m["attendees"] == {"practitioner": 7, "senior practitioner": 2}
    assert list(log["entity"]) == ["meeting"] and log.iloc[0]["actor"] == "A. Visitor"
    assert form.picker.value == mid and form.create.layout.display == "none"
    assert not form.editor.save_button.disabled
    assert form.status_text.startswith("Saved ")


def test_details_of_a_saved_meeting_save_as_they_change(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    mid = new_meeting(form)
    form.kind.value = "managers"
    form.attendee_rows[0].count.value = 6
    form.attendee_rows[0].remove.click()
    with ws.store() as store:
        m = store.meeting(mid)
    assert m["kind"] == "managers" and m["attendees"] == {} and m["version"] == 4
    assert "Meeting with managers" in dict((v, k) for k, v in form.picker.options)[mid]
    form.add_role.click()
    form.attendee_rows[0].role.value = "manager"
    form.add_role.click()
    form.attendee_rows[1].role.value = "Manager"
    assert "listed twice" in form.details_message.value


def test_a_meeting_title_with_a_name_is_refused(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    form.title.value = "Meeting with Mr Quokkafeather"
    form.create.click()
    assert form.meeting_id is None and "Not saved" in form.details_message.value
    assert "Quokkafeather" not in form.details_message.value
    with ws.store() as store:
        assert store.meetings().empty


def test_suggested_codes_are_offered_not_ticked_and_the_note_saves_at_once(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    mid = new_meeting(form)
    ed = form.editor
    ed.kind.value = "quote"
    ed.text.value = "Supervision is rushed because our caseloads are far too high"
    assert not ed.boxes["supervision"].value and not ed.boxes["workload"].value  # offered, not ticked
    assert ed.boxes["supervision"].description == "Supervision (suggested)"
    assert "rk-suggested" in ed.boxes["workload"]._dom_classes
    assert ed.accept.layout.display == "" and "saved only if you tick it" in ed.suggest_line.value
    ed.role.value = "practitioner"
    ed.stance.value = "concern"
    ed.use.value = True
    ed.boxes["supervision"].value = True  # the person takes one suggestion …
    ed.boxes["culture"].value = True  # … adds a code of their own, and leaves "workload" alone
    ed.save_button.click()
    assert "Note saved" in ed.message.value and form.status_text.startswith("Saved ")
    with ws.store() as store:
        notes = store.notes()
    row = notes.iloc[0]
    assert (row["meeting_id"], row["kind"], row["speaker_role"], row["stance"]) == (mid, "quote", "practitioner", "concern")
    assert row["codes"] == ("culture", "supervision") and bool(row["use_in_report"])
    # the editor is empty again, and the saved note is listed
    assert ed.text.value == "" and not any(b.value for b in ed.boxes.values())
    assert form.notes.note_ids == [int(row["note_id"])]
    # "Tick the suggested codes" takes them all at once
    ed.text.value = "Caseloads are too high"
    ed.accept.click()
    assert ed.boxes["workload"].value and ed.boxes["workload"].description == "Workload"
    ed.save_button.click()
    with ws.store() as store:
        assert store.notes().iloc[1]["codes"] == ("workload",)


def test_the_status_line_never_says_saved_while_a_refused_note_waits(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    new_meeting(form)
    assert form.status_text.startswith("Saved ")
    ed = form.editor
    ed.text.value = "Call her on 07700 900123 about the review"
    ed.save_button.click()
    assert "Not saved" in ed.message.value
    assert form.status_text.startswith("Not saved: 1 change")
    form.title.value = "Practitioners' group"  # another change saves, but the refused note still waits
    assert form.status_text.startswith("Not saved: 1 change")
    ed.clear()  # the person withdraws the note
    assert form.status_text.startswith("Saved ")
    ed.text.value = "A plain note"
    ed.save_button.click()
    assert form.status_text.startswith("Saved ") and "Note saved" in ed.message.value


def test_one_change_items_are_listed_separately(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    new_meeting(form)
    ed = form.editor
    for role, text in (("practitioner", "Protected time to reflect"), ("team manager", "Fewer forms")):
        ed.kind.value = "one_change"
        ed.role.value = role
        ed.text.value = text
        ed.save_button.click()
        assert "Note saved" in ed.message.value
    with ws.store() as store:
        notes = store.notes()
    assert list(notes["kind"]) == ["one_change", "one_change"]
    assert list(notes["speaker_role"]) == ["practitioner", "team manager"]
    headings = [c.value for c in form.notes.rows.children if "<h4>" in getattr(c, "value", "")]
    assert any("One change or improvement" in h for h in headings)


def test_blocked_and_possible_identifiers_in_notes(ws, trap) -> None:
    (ws.path / "private" / "names.txt").write_text(CANARY_NAME + "\n", encoding="utf-8")
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    new_meeting(form)
    ed = form.editor
    ed.text.value = f"{CANARY_NAME} said the team is stretched"
    ed.save_button.click()
    assert "Not saved" in ed.message.value and CANARY_NAME not in ed.message.value
    assert ed.save_anyway.layout.display == "none"
    ed.text.value = "Seen at the clinic on 02/05/1950 for a review"
    ed.save_button.click()
    assert "Not saved yet" in ed.message.value and ed.save_anyway.layout.display == ""
    ed.save_anyway.click()
    assert "Note saved" in ed.message.value
    with ws.store() as store:
        notes = store.notes()
        log = store.audit_log()
    assert len(notes) == 1 and CANARY_NAME not in log.to_string()
    ed.role.value = "Zebediah"
    ed.text.value = "Quote"
    ed.save_button.click()
    assert "never a name" in ed.message.value


def test_changing_and_deleting_a_saved_note(ws, trap) -> None:
    form = trap.watch(MeetingForm(ws, "A. Visitor"))
    new_meeting(form)
    ed = form.editor
    ed.text.value = "Good peer support in the team"
    ed.accept.click() if ed.accept.layout.display == "" else None
    ed.save_button.click()
    nid = form.notes.note_ids[0]
    form.notes.controls[nid]["change"].click()
    assert ed.text.value == "Good peer support in the team" and ed.save_button.description == "Save changes"
    ed.stance.value = "strength"
    ed.save_button.click()
    with ws.store() as store:
        note = store.note(nid)
    assert note["stance"] == "strength" and note["version"] == 2
    form.notes.controls[nid]["delete"].click()
    with ws.store() as store:
        assert len(store.notes()) == 1  # nothing deleted until confirmed
    form.notes.controls[nid]["confirm"].click()
    with ws.store() as store:
        assert store.notes().empty
        assert store.audit_log().iloc[-1]["action"] == "delete"
    assert form.notes.note_ids == []


def test_two_tabs_editing_the_same_note_or_meeting_get_changed_elsewhere(ws, trap) -> None:
    tab1 = trap.watch(MeetingForm(ws, "A. Visitor"))
    mid = new_meeting(tab1)
    tab1.editor.text.value = "Panels slow everything down"
    tab1.editor.save_button.click()
    nid = tab1.notes.note_ids[0]
    tab2 = trap.watch(MeetingForm(ws, "B. Visitor"))
    tab2.picker.value = mid
    tab2.notes.controls[nid]["change"].click()
    tab1.notes.controls[nid]["change"].click()
    tab1.editor.stance.value = "concern"
    tab1.editor.save_button.click()
    tab2.editor.stance.value = "mixed"
    tab2.editor.save_button.click()
    assert CHANGED_ELSEWHERE in tab2.alert.html.value
    with ws.store() as store:
        assert store.note(nid)["stance"] == "concern"
    tab1.title.value = "Renamed"
    tab2.title.value = "Renamed again"
    assert CHANGED_ELSEWHERE in tab2.alert.html.value
    with ws.store() as store:
        assert store.meeting(mid)["title"] == "Renamed"
    tab2.reload_button.click()
    assert tab2.title.value == "Renamed" and tab2.alert.message == ""


def test_the_entry_point_refuses_an_unknown_reviewer_in_plain_english(ws) -> None:
    panel = meeting_form(ws.path, "Someone Else")
    assert "is not a reviewer of this review" in " ".join(getattr(c, "value", "") for c in panel.children)
    assert isinstance(meeting_form(ws.path, "H. Host"), MeetingForm)
