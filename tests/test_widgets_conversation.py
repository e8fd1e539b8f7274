"""The conversation form: linked to a case, coded against the I statements."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reviewkit.core.themes import load_codebook
from reviewkit.team.widgets import ConversationForm, conversation_form
from reviewkit.team.widgets.common import CHANGED_ELSEWHERE
from reviewkit.team.widgets.conversation import case_options, conversation_label

from .helpers import make_workspace


def test_cases_offered_put_the_reviewers_own_first(ws) -> None:
    options = case_options(ws, "B. Visitor")
    assert options[:3] == [("C01 (one of your cases)", "C01"), ("C03 (one of your cases)", "C03"),
                           ("C04 (one of your cases)", "C04")]
    assert [v for _, v in options] == ["C01", "C03", "C04", "C02", "C05", "C06", "C07", "C08"]
    assert conversation_label({"case_id": "C03", "who": "carer", "held_on": ""}) == "C03 · A carer"


def test_the_codes_offered_are_the_conversation_codes(ws, trap) -> None:
    book = load_codebook("default")
    form = trap.watch(ConversationForm(ws, "A. Visitor"))
    assert list(form.editor.boxes) == list(book.conversation_codes)
    assert form.editor.boxes["i1"].description == book.code("i1").label
    assert "supervision" not in form.editor.boxes
    assert "What the I statements say" in form.legend.value


def test_recording_a_conversation_and_a_coded_quote(ws, trap) -> None:
    form = trap.watch(ConversationForm(ws, "B. Visitor"))
    assert form.editor.save_button.disabled
    form.case.value = "C03"
    form.who.value = "person and relative"
    form.date.value = dt.date(2026, 3, 10)
    form.create.click()
    cid = form.conversation_id
    assert cid is not None and form.create.layout.display == "none"
    ed = form.editor
    ed.kind.value = "quote"
    ed.role.value = "relative"
    ed.text.value = "Nobody told us who to call when she had a fall at night"
    assert ed.editing.choice.suggested >= {"i3", "i6"} and not ed.editing.choice.ticked
    ed.accept.click()
    ed.boxes["carers"].value = True
    ed.use.value = True
    ed.save_button.click()
    assert "Note saved" in ed.message.value
    with ws.store() as store:
        conv = store.conversations()
        notes = store.notes()
        log = store.audit_log()
    c = conv.iloc[0]
    assert (c["case_id"], c["who"], c["held_on"], c["reviewer"]) == ("C03", "person and relative", "2026-03-10",
                                                                      "B. Visitor")
    n = notes.iloc[0]
    assert n["conversation_id"] == cid and n["source"] == "conversation" and n["case_id"] == "C03"
    assert set(n["codes"]) >= {"carers", "i3", "i6"} and bool(n["use_in_report"])
    assert list(log["entity"]) == ["conversation", "note"]


def test_details_of_a_saved_conversation_save_as_they_change_and_conflicts_are_caught(ws, trap) -> None:
    tab1 = trap.watch(ConversationForm(ws, "A. Visitor"))
    tab1.create.click()
    cid = tab1.conversation_id
    tab2 = trap.watch(ConversationForm(ws, "A. Visitor"))
    assert [v for _, v in tab2.picker.options] == [0, cid]
    tab2.picker.value = cid
    tab1.who.value = "carer"
    with ws.store() as store:
        assert store.conversation(cid)["who"] == "carer"
    tab2.who.value = "relative"
    assert CHANGED_ELSEWHERE in tab2.alert.html.value
    with ws.store() as store:
        assert store.conversation(cid)["who"] == "carer"
    tab2.reload_button.click()
    assert tab2.who.value == "carer"


def test_a_reviewer_sees_only_their_own_conversations(ws, trap) -> None:
    a = trap.watch(ConversationForm(ws, "A. Visitor"))
    a.create.click()
    b = trap.watch(ConversationForm(ws, "B. Visitor"))
    assert [v for _, v in b.picker.options] == [0]


def test_no_cases_means_nothing_to_link_to(tmp_path: Path, trap) -> None:
    ws = make_workspace(tmp_path / "ws", cases=False)
    form = trap.watch(ConversationForm(ws, "A. Visitor"))
    assert form.create.disabled and "no case records listed" in form.alert.message
    panel = conversation_form(tmp_path / "missing", "A. Visitor")
    assert "no such workspace folder" in " ".join(getattr(c, "value", "") for c in panel.children)
