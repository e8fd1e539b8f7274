"""The rating form: a visiting PSW rates their case records on the review's audit tool.

Every change goes to the store at once (``Store.set_rating`` / ``set_case_flag``, each with
its audit row), so closing the browser loses nothing. The form remembers the version of each
row it loaded and passes it back as ``expected_version``: the same reviewer in a second tab
gets "Changed elsewhere — reload" instead of silently overwriting the first tab's work.
The decisions (what blocks "complete", which ratings need a note, the progress line) live
in ``reviewkit.review.progress`` and the plain functions below, which the callbacks only call.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w
from ipywidgets.widgets.widget_selection import ToggleButtonsStyle
from ipywidgets.widgets.widget_string import TextStyle

from reviewkit.core.errors import BlockedTextError, InvalidInputError, ReviewkitError, WarningTextError
from reviewkit.core.tools import AuditTool, Question
from reviewkit.review.progress import Entry, case_blockers, needs_evidence, progress_line
from reviewkit.review.ratings import Rating, RatingInput
from reviewkit.review.reviewyaml import Case
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace
from reviewkit.team.widgets.common import (
    EntryForm,
    alert_html,
    heading,
    level_css,
    message_html,
    open_or_explain,
    shared,
    show_refused_text,
    text_html,
)
from reviewkit.team.widgets.concern import ConcernPanel

NOTE_PLACEHOLDER = "What in the record supports this rating? (no names or identifiers: use the case reference)"


# -- plain functions the callbacks call -------------------------------------------------------
def case_label(case: Case, reviewer: str) -> str:
    """How a case appears in the case list: its reference, marked when it is a moderation case."""
    return f"{case.id} (moderation)" if reviewer in case.moderators else case.id


@dataclass
class CaseState:
    """Everything stored for one reviewer's case, with the versions the form loaded."""

    entries: dict[str, Entry]
    versions: dict[str, int]
    flag: dict[str, Any]


def load_case(store: Store, tool: AuditTool, case_id: str, reviewer: str) -> CaseState:
    """Read a reviewer's ratings, notes and flags for a case from the store."""
    entries: dict[str, Entry] = {}
    versions: dict[str, int] = {}
    for qid in tool.all_ids:
        r = store.rating(case_id, reviewer, qid)
        entries[qid] = Entry(r.rating, r.comment) if r else Entry()
        versions[qid] = r.version if r else 0
    return CaseState(entries, versions, store.case_flag(case_id, reviewer))


def save_entry(store: Store, reviewer: str, case_id: str, qid: str, entry: Entry, version: int,
               *, confirm_warnings: bool = False) -> Rating:
    """Store one question's rating and note, refusing if the row changed since `version`."""
    return store.set_rating(reviewer, RatingInput(case_id, reviewer, qid, entry.rating, entry.comment),
                            expected_version=version, confirm_warnings=confirm_warnings)


def descriptor_html(question: Question, tool: AuditTool, selected: str | None) -> str:
    """The level descriptors, the selected one highlighted and named for screen readers."""
    cards = []
    for lv in tool.scale.levels:
        text = question.descriptors.get(lv.label)
        if text is None:  # keep the cards lined up under their buttons
            text = ("The question does not apply to this case record." if lv.score is None
                    else "No description in the audit tool.")
        chosen = lv.label == selected
        tag = '<span class="rk-tag">Your rating</span>' if chosen else ""
        cards.append(
            f'<div class="rk-descriptor{" rk-selected" if chosen else ""}" data-level="{html.escape(lv.label)}">'
            f"<strong>{html.escape(lv.label)}{tag}</strong>{html.escape(text)}</div>")
    said = (f"Your rating: {html.escape(selected)}." if selected else "Not rated yet.")
    return (f'<div class="rk-descriptors" role="group" aria-label="What each rating means">{"".join(cards)}</div>'
            f'<p class="rk-muted" aria-live="polite">{said}</p>')


def note_hint(tool: AuditTool, entry: Entry) -> str:
    """The inline warning under a question whose low rating still needs an evidence note."""
    if needs_evidence(tool.scale, entry.rating) and not entry.comment.strip():
        return f"A {entry.rating} rating needs an evidence note: say what the record shows or lacks."
    return ""


# -- widgets ---------------------------------------------------------------------------------
class QuestionBlock:
    """The widgets of one question: heading, level buttons, descriptors, evidence note."""

    def __init__(self, form: RatingForm, number: int | None, question: Question) -> None:
        tool = form.ws.tool
        self.form = form
        self.qid = question.id
        self.question = question
        title = f"{number}. {question.title}" if number else question.title
        self.title = heading(title, 3)
        self.text = text_html(f"<p>{html.escape(question.text)}</p>")
        tooltips = [question.descriptors.get(lv.label, "The question does not apply to this case record.")
                    for lv in tool.scale.levels]
        self.buttons = w.ToggleButtons(options=tool.scale.labels, index=None, tooltips=tooltips,
                                       layout=shared(w.Layout, width="100%"), style=shared(ToggleButtonsStyle))
        self.buttons.add_class("rk-levels")
        self.descriptors = text_html(descriptor_html(question, tool, None))
        label = "Summary of your judgement" if number is None else "Evidence note"
        self.note = w.Textarea(description=label, placeholder=NOTE_PLACEHOLDER, continuous_update=False,
                               layout=shared(w.Layout, width="100%", height="6rem"), style=shared(TextStyle))
        self.note.add_class("rk-note")
        self.message = text_html()
        self.save_anyway = w.Button(description="Save anyway", button_style="warning",
                                    tooltip="Save the note as written: you have checked it identifies no one",
                                    layout=w.Layout(display="none", width="auto"))
        self.box = w.VBox([self.title, self.text, self.buttons, self.descriptors, self.note,
                           self.message, self.save_anyway])
        self.box.add_class("rk-card")
        self.box.add_class(f"rk-q-{self.qid}")
        self.buttons.observe(form.guard(self._on_rating), names="value")
        self.note.observe(form.guard(self._on_note), names="value")
        self.save_anyway.on_click(form.guard(self._on_save_anyway))

    def show(self, entry: Entry) -> None:
        """Show what is stored (called under form.quiet())."""
        self.buttons.value = entry.rating
        self.note.value = entry.comment
        self.descriptors.value = descriptor_html(self.question, self.form.ws.tool, entry.rating)
        self.say("warn", note_hint(self.form.ws.tool, entry))
        self.save_anyway.layout.display = "none"

    def say_saved(self, hint: str, status: str) -> None:
        """After a save: the note hint if one is due, else a quiet 'Saved 14:02' by the question."""
        if hint:
            self.say("warn", hint)
        else:
            self.message.value = f'<p class="rk-muted" role="status">{html.escape(status)}</p>'

    def say(self, kind: str, text: str) -> None:
        self.message.value = message_html(kind, text)

    # callbacks: thin, they call the form's save path
    def _on_rating(self, change: dict[str, Any]) -> None:
        self.form.change_rating(self.qid, change["new"])

    def _on_note(self, change: dict[str, Any]) -> None:
        self.form.change_note(self.qid, change["new"])

    def _on_save_anyway(self, _button: w.Button) -> None:
        self.form.change_note(self.qid, self.note.value, confirm_warnings=True)


class RatingForm(EntryForm):
    """Rate one's allocated case records; every change is saved to the review store at once."""

    def __init__(self, workspace: Workspace | str | Path, reviewer: str, *, store: Store | None = None) -> None:
        super().__init__(workspace, reviewer, store=store)
        self.cases = self.ws.meta.cases_for(self.reviewer)
        tool = self.ws.tool
        self.case_id: str | None = None
        self.progress_text = ""
        self.state = CaseState({}, {}, {"referred_back": False, "reason": "", "complete": False, "version": 0})

        self.case_picker = w.Dropdown(
            options=[(case_label(c, self.reviewer), c.id) for c in self.cases], value=None,
            description="Case record", style={"description_width": "initial"}, layout=w.Layout(width="22rem"))
        self.progress = text_html()
        self.blocks = {q.id: QuestionBlock(self, i, q) for i, q in enumerate(tool.questions, 1)}
        self.blocks[tool.overall.id] = QuestionBlock(self, None, tool.overall)

        self.referred = w.Checkbox(description="Refer this case back to the council for a significant concern",
                                   indent=False, layout=w.Layout(width="auto"))
        self.reason = w.Textarea(description="Reason for referring it back", continuous_update=False,
                                 placeholder="What is the significant concern? (no names or identifiers)",
                                 layout=w.Layout(width="100%", height="5rem", display="none"))
        self.reason.add_class("rk-note")
        self.referral_message = text_html()
        self.reason_anyway = w.Button(description="Save anyway", button_style="warning",
                                      layout=w.Layout(display="none", width="auto"))
        self.complete = w.Checkbox(description="I have finished rating this case record", indent=False,
                                   layout=w.Layout(width="auto"))
        self.complete_message = text_html()
        self.concern = ConcernPanel(self)

        self.referred.observe(self.guard(self._on_referred), names="value")
        self.reason.observe(self.guard(self._on_reason), names="value")
        self.reason_anyway.on_click(self.guard(lambda _b: self.change_reason(self.reason.value, confirm_warnings=True)))
        self.complete.observe(self.guard(self._on_complete), names="value")
        self.case_picker.observe(self.guard(self._on_case), names="value")

        intro = (f"Rating as {self.reviewer}. Pick a case record, then choose a rating for each question "
                 "and write your evidence. Every change is saved straight away.")
        overall_head = heading("Overall judgement and flags", 2,
                               "Your judgement of the record as a whole: not an average of the ratings above.")
        finish = w.VBox([heading("Referral and completion", 3), self.referred, self.reason, self.referral_message,
                         self.reason_anyway, self.complete, self.complete_message])
        finish.add_class("rk-card")
        self.questions_box = w.VBox([heading("Questions", 2, tool.title)]
                                    + [self.blocks[q].box for q in tool.question_ids]
                                    + [overall_head, self.blocks[tool.overall.id].box, finish, self.concern.box])
        self.set_view("Rate case records", intro, self.top_bar(self.case_picker, self.progress), self.questions_box,
                      css=level_css(tool.scale))
        if not self.cases:
            self.alert.show("info", f"No case records are allocated to {self.reviewer} yet. "
                                    "Ask the host PSW to add them to the review's case list.")
            self.questions_box.layout.display = "none"
        else:
            self.case_picker.value = self.cases[0].id  # loads it through _on_case

    # -- loading -------------------------------------------------------------------------------
    def _on_case(self, change: dict[str, Any]) -> None:
        self.open_case(change["new"])

    def open_case(self, case_id: str) -> None:
        """Show a case as stored."""
        if case_id not in [c.id for c in self.cases]:
            raise InvalidInputError(f"case '{case_id}' is not allocated to {self.reviewer}")
        self.case_id = case_id
        self.reload()

    def reload(self) -> None:
        """Read the current case again from the store, discarding anything not saved."""
        self.clear_alert()
        if self.case_id is None:
            return
        self.state = load_case(self.store, self.ws.tool, self.case_id, self.reviewer)
        self.forget_unsaved()  # the form now shows what is stored: nothing refused waits any more
        with self.quiet():
            if self.case_picker.value != self.case_id:
                self.case_picker.value = self.case_id
            for qid, block in self.blocks.items():
                block.show(self.state.entries[qid])
            flag = self.state.flag
            self.referred.value = bool(flag["referred_back"])
            self.reason.value = flag["reason"]
            self.reason.layout.display = "" if flag["referred_back"] else "none"
            self.referral_message.value = ""
            self.reason_anyway.layout.display = "none"
            self.complete.value = bool(flag["complete"])
            self.concern.show(self.case_id)
        self._refresh()

    def _refresh(self) -> None:
        """Progress line and the 'what is left' list, from the form's copy of the store."""
        tool = self.ws.tool
        ids = [c.id for c in self.cases]
        entries = self.state.entries
        rated = sum(1 for q in tool.question_ids if entries.get(q) and entries[q].rating)
        line = progress_line(ids.index(self.case_id) + 1 if self.case_id in ids else 0, len(ids), rated,
                             len(tool.question_ids))
        overall = entries.get(tool.overall.id)
        tail = f" · overall: {overall.rating}" if overall and overall.rating else " · overall judgement not set"
        done = " · marked complete" if self.state.flag["complete"] else ""
        self.progress_text = line
        self.progress.value = f'<p aria-live="polite"><strong>{html.escape(line)}</strong>{html.escape(tail + done)}</p>'
        blockers = case_blockers(tool, entries)
        if self.state.flag["complete"]:
            self.complete_message.value = message_html("ok", "This case record is marked complete.")
        elif blockers:
            self.complete_message.value = (f'<div class="rk-muted">Before you can mark it complete:'
                                           f"{_list_html(blockers)}</div>")
        else:
            self.complete_message.value = '<div class="rk-muted">Everything is rated: tick the box when you have finished.</div>'

    # -- saving (called by the callbacks) ------------------------------------------------------
    def _save(self, qid: str, entry: Entry, *, confirm_warnings: bool = False) -> None:
        assert self.case_id is not None
        stored = save_entry(self.store, self.reviewer, self.case_id, qid, entry, self.state.versions[qid],
                            confirm_warnings=confirm_warnings)
        self.state.entries[qid] = Entry(stored.rating, stored.comment)
        self.state.versions[qid] = stored.version
        self.saved()

    def change_rating(self, qid: str, rating: str | None) -> None:
        """Save a new rating for a question, keeping the note as stored."""
        if self.case_id is None:
            return
        block = self.blocks[qid]
        entry = Entry(rating, self.state.entries[qid].comment)
        try:
            self._save(qid, entry)
        except ReviewkitError:
            block.say("error", "This rating was not saved: see the message at the top of the form.")
            raise
        block.descriptors.value = descriptor_html(block.question, self.ws.tool, rating)
        block.say_saved(note_hint(self.ws.tool, self.state.entries[qid]), self.status_text)
        self._after_change()

    def change_note(self, qid: str, text: str, *, confirm_warnings: bool = False) -> None:
        """Save a question's evidence note, keeping the rating as stored; screen it first."""
        if self.case_id is None:
            return
        block = self.blocks[qid]
        entry = Entry(self.state.entries[qid].rating, text)
        try:
            self._save(qid, entry, confirm_warnings=confirm_warnings)
        except (BlockedTextError, WarningTextError) as exc:
            show_refused_text(exc, block.message, block.save_anyway)
            self.not_saved(f"note:{qid}")
            return
        except ReviewkitError:
            block.say("error", "This note was not saved: see the message at the top of the form.")
            raise
        self.saved(f"note:{qid}")
        block.save_anyway.layout.display = "none"
        block.say_saved(note_hint(self.ws.tool, self.state.entries[qid]), self.status_text)
        self._after_change()

    def _after_change(self) -> None:
        """A case marked complete that no longer meets the rules is unmarked, and says why."""
        if self.state.flag["complete"] and case_blockers(self.ws.tool, self.state.entries):
            self._set_flag(complete=False)
            self.alert.show("warn", "This case record is no longer marked complete: see the list at the "
                                    "bottom of the form for what is left to do.")
            self._refresh()
            self.complete_message.value = _blocked_html(
                "This case record is no longer marked complete. Before you can mark it complete again:",
                case_blockers(self.ws.tool, self.state.entries))
            return
        self._refresh()

    def _set_flag(self, **changes: Any) -> None:
        assert self.case_id is not None
        self.state.flag = self.store.set_case_flag(self.reviewer, self.case_id, self.reviewer,
                                                   expected_version=self.state.flag["version"], **changes)
        with self.quiet():
            self.complete.value = bool(self.state.flag["complete"])
        self.saved()

    def _on_referred(self, change: dict[str, Any]) -> None:
        self.change_referred(bool(change["new"]))

    def change_referred(self, referred: bool) -> None:
        """Tick or untick 'referred back'; the flag is stored once a reason is written."""
        self.reason.layout.display = "" if referred else "none"
        if referred and not self.reason.value.strip():
            self.referral_message.value = message_html("warn", "Write the reason in the box above: the referral is "
                                                               "saved once the reason is written.")
            return
        self.referral_message.value = ""
        if referred:
            self.change_reason(self.reason.value)
        elif self.state.flag["referred_back"]:
            self._set_flag(referred_back=False)
            self._refresh()

    def _on_reason(self, change: dict[str, Any]) -> None:
        self.change_reason(change["new"])

    def change_reason(self, reason: str, *, confirm_warnings: bool = False) -> None:
        """Save the referral reason (and the flag, when ticked); screen it first."""
        if not self.referred.value:
            return
        if not reason.strip():
            self.referral_message.value = message_html("warn", "A case referred back needs a reason: say what the "
                                                               "significant concern is.")
            return
        try:
            self._set_flag(referred_back=True, reason=reason, confirm_warnings=confirm_warnings)
        except (BlockedTextError, WarningTextError) as exc:
            show_refused_text(exc, self.referral_message, self.reason_anyway)
            self.not_saved("reason")
            return
        self.saved("reason")
        self.referral_message.value = message_html("ok", "Referral saved.")
        self.reason_anyway.layout.display = "none"
        self._refresh()

    def _on_complete(self, change: dict[str, Any]) -> None:
        self.change_complete(bool(change["new"]))

    def change_complete(self, complete: bool) -> None:
        """Mark the case complete, unless a question, the overall judgement or a note is missing."""
        if complete:
            blockers = case_blockers(self.ws.tool, self.state.entries)
            if blockers:
                with self.quiet():
                    self.complete.value = False
                self._refresh()
                self.complete_message.value = _blocked_html("This case record cannot be marked complete yet:", blockers)
                return
        self._set_flag(complete=complete)
        self.clear_alert()
        self._refresh()


def _list_html(items: list[str]) -> str:
    """A bulleted list of plain-text items, escaped."""
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def _blocked_html(title: str, blockers: list[str]) -> str:
    return alert_html("warn", f"<strong>{html.escape(title)}</strong>{_list_html(blockers)}")


def rating_form(workspace: Workspace | str | Path, reviewer: str) -> RatingForm | w.VBox:
    """The notebook's entry point: the form, or a plain-English panel saying why it cannot open."""
    return open_or_explain(lambda: RatingForm(workspace, reviewer))
