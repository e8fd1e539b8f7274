"""The conversation form: a reviewer's conversation with a person whose record was read, their
relative or their carer, linked to the case, with notes and quotes coded against the CQC
I statements (plus carers and equality, as the codebook's ``conversation_codes`` say).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

from reviewkit.core.errors import InvalidInputError
from reviewkit.core.themes import load_codebook
from reviewkit.review.fieldwork import WHO
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace
from reviewkit.team.widgets.common import EntryForm, date_text, message_html, open_or_explain, parse_date, text_html
from reviewkit.team.widgets.notes import NoteEditor, NoteList, notes_for

WHO_LABELS = {"person": "The person", "relative": "A relative", "carer": "A carer",
              "person and relative": "The person and a relative"}
ROLES = ["person", "relative", "carer", "reviewer"]
NEW = 0


def conversation_label(row: dict[str, Any]) -> str:
    """How a saved conversation appears in the list."""
    bits = [str(row["case_id"]), WHO_LABELS.get(row["who"], row["who"])]
    if row.get("held_on"):
        bits.append(str(row["held_on"]))
    return " · ".join(bits)


def case_options(ws: Workspace, reviewer: str, *, own_only: bool = False) -> list[tuple[str, str]]:
    """The reviewer's own cases first, then (unless ``own_only``) the rest of the review's cases."""
    own = [c.id for c in ws.meta.cases_for(reviewer)]
    rest = [] if own_only else [c.id for c in ws.meta.cases if c.id not in own]
    return [(f"{c} (one of your cases)", c) for c in own] + [(c, c) for c in rest]


def own_conversations(store: Store, reviewer: str) -> pd.DataFrame:
    """The conversations this reviewer recorded, oldest first."""
    df = store.conversations()
    return df[df["reviewer"] == reviewer]


class ConversationForm(EntryForm):
    """Record a conversation about a case and its notes and quotes."""

    def __init__(self, workspace: Workspace | str | Path, reviewer: str, *, store: Store | None = None) -> None:
        super().__init__(workspace, reviewer, store=store)
        self.codebook = load_codebook(self.ws.meta.codebook)
        self.conversation_id: int | None = None
        self.version = 0
        g = self.guard

        self.picker = w.Dropdown(options=[("Start a new conversation", NEW)], value=NEW, description="Conversation",
                                 style={"description_width": "initial"}, layout=w.Layout(width="42rem"))
        # On the review hub a visiting reviewer records conversations about their own cases only (the store
        # refuses the rest); the host, and one person on one computer, may pick any case.
        visiting = self.store.session is not None and not self.store.session.is_host
        options = case_options(self.ws, self.reviewer, own_only=visiting)
        self.case = w.Dropdown(options=options, value=options[0][1] if options else None, description="Case record",
                               style={"description_width": "9.5rem"}, layout=w.Layout(width="30rem"))
        self.who = w.Dropdown(options=[(WHO_LABELS[k], k) for k in WHO], value="person", description="Talked with",
                              style={"description_width": "9.5rem"}, layout=w.Layout(width="30rem"))
        self.date = w.DatePicker(description="Date", style={"description_width": "9.5rem"},
                                 layout=w.Layout(width="20rem"))
        self.create = w.Button(description="Create conversation", button_style="primary", layout=w.Layout(width="auto"))
        self.details_title = text_html("<h3>New conversation</h3>")
        self.details_message = text_html("")
        self.details_fields = w.VBox([self.case, self.who, self.date, self.create])
        self.details_saved = text_html("")
        details = w.VBox([self.details_title, self.details_fields, self.details_saved, self.details_message])
        details.add_class("rk-card")

        codes = [self.codebook.code(c) for c in self.codebook.conversation_codes]
        self.editor = NoteEditor(self, self.store, self.codebook, codes, roles=ROLES, for_conversation=True,
                                 names=self.ws.private_names(),
                                 target=lambda: {"conversation_id": self.conversation_id},
                                 on_saved=self.refresh_notes)
        self.notes = NoteList(self, self.store, self.codebook, self.editor, "Saved notes for this conversation")
        legend = "".join(f"<li><strong>{html.escape(c.label)}</strong>: {html.escape(c.text)}</li>"
                         for c in codes if c.i_statement)
        self.legend = text_html(f"<details><summary>What the I statements say</summary><ul>{legend}</ul></details>")
        self.editor.box.children = (*self.editor.box.children[:5], self.legend, *self.editor.box.children[5:])

        self.picker.observe(g(self._on_pick), names="value")
        for widget in (self.case, self.who, self.date):
            widget.observe(g(self._on_details), names="value")
        self.create.on_click(g(lambda _b: self.create_conversation()))
        intro = (f"Recording as {self.reviewer}. A conversation with a person whose record was read, or their "
                 "relative or carer. No names: the case reference and a role are enough.")
        self.set_view("Record a conversation", intro, self.top_bar(self.picker), details, self.editor.box,
                      self.notes.box)
        self.reload()
        if not options:
            self.alert.show("info", "This review has no case records listed yet, so there is nothing to link a "
                                    "conversation to. Ask the host PSW to add the cases to review.yaml.")
            self.create.disabled = True

    def reload(self) -> None:
        """Read this reviewer's conversations and the open one again from the store."""
        self.clear_alert()
        rows = own_conversations(self.store, self.reviewer).to_dict("records")
        with self.quiet():
            self.picker.options = [("Start a new conversation", NEW)] + [(conversation_label(r), int(r["id"])) for r in rows]
            self.picker.value = self.conversation_id or NEW
        self.show_conversation()

    def _on_pick(self, change: dict[str, Any]) -> None:
        self.open_conversation(change["new"] or None)

    def open_conversation(self, conversation_id: int | None) -> None:
        """Show a saved conversation, or an empty form for a new one (None)."""
        self.conversation_id = conversation_id
        with self.quiet():
            self.picker.value = conversation_id or NEW
        self.editor.clear()
        self.show_conversation()

    def show_conversation(self) -> None:
        self.forget_unsaved("details")  # the details shown are now the stored ones
        new = self.conversation_id is None
        self.create.layout.display = "" if new else "none"
        self.details_title.value = "<h3>New conversation</h3>" if new else "<h3>Conversation details</h3>"
        self.details_message.value = ""
        if new:
            self.version = 0
            self.details_saved.value = ""
        else:
            assert self.conversation_id is not None
            row = self.store.conversation(self.conversation_id)
            if row["reviewer"] != self.reviewer:
                raise InvalidInputError("This conversation is not one of yours; pick another from the list.")
            self.version = int(row["version"])
            with self.quiet():
                if row["case_id"] not in [v for _k, v in self.case.options]:
                    self.case.options = [*self.case.options, (row["case_id"], row["case_id"])]
                self.case.value = row["case_id"]
                self.who.value = row["who"]
                self.date.value = parse_date(row["held_on"])
            self.details_saved.value = '<p class="rk-muted">Changes to these details are saved straight away.</p>'
        self.editor.set_enabled(not new)
        if new:
            self.editor.say("info", "Create the conversation first: its notes and quotes go here.")
        self.refresh_notes()

    def _on_details(self, _change: dict[str, Any]) -> None:
        self.save_details()

    def save_details(self) -> None:
        """Save a saved conversation's case, who and date as they change."""
        if self.conversation_id is None:
            return
        held_on = date_text(self.date.value)
        try:
            self.store.update_conversation(self.actor, self.conversation_id, expected_version=self.version,
                                           case_id=self.case.value, who=self.who.value, held_on=held_on)
        except InvalidInputError as exc:
            self.details_message.value = message_html("error", f"Not saved. {exc}")
            self.not_saved("details")
            return
        self.version = int(self.store.conversation(self.conversation_id)["version"])
        self.details_message.value = message_html("ok", "Conversation details saved.")
        self.saved("details")
        self.relabel(self.picker, self.conversation_id,
                     conversation_label({"case_id": self.case.value, "who": self.who.value, "held_on": held_on}))

    def refresh_notes(self) -> None:
        self.notes.show(notes_for(self.store, conversation_id=self.conversation_id if self.conversation_id else -1))

    def create_conversation(self) -> int | None:
        """Store the new conversation and open it; returns its id, or None if refused."""
        if self.case.value is None:
            self.details_message.value = message_html("error", "Pick the case record first.")
            return None
        try:
            cid = self.store.add_conversation(self.actor, self.case.value, self.who.value, self.reviewer,
                                              date_text(self.date.value))
        except InvalidInputError as exc:
            self.details_message.value = message_html("error", f"Not saved. {exc}")
            self.not_saved("details")
            return None
        self.conversation_id = cid
        self.saved("details")
        self.reload()
        self.editor.say("", "")
        return cid


def conversation_form(workspace: Workspace | str | Path, reviewer: str) -> ConversationForm | w.VBox:
    """The notebook's entry point: the form, or a plain-English panel saying why it cannot open."""
    return open_or_explain(lambda: ConversationForm(workspace, reviewer))
