"""Writing notes, direct quotes and "one change" items, coded against the review's codebook.

Shared by the meeting and conversation forms. Keyword hints offer codes beside the note,
never tick them: a code is saved only when the person ticks it, and an untouched suggestion
never stops a note being saved, because notes are taken live in a meeting. Quotes are
non-attributable, so a speaker is a role at most, and the role is screened like any other
free text.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ipywidgets as w
import pandas as pd

from reviewkit.core.errors import BlockedTextError, InvalidInputError, WarningTextError
from reviewkit.core.themes import Code, Codebook, suggest_codes
from reviewkit.privacy import screening as privacy
from reviewkit.review.store import Store
from reviewkit.team.widgets.common import FormBase, message_html, show_refused_text, text_html

KINDS = [("Note", "note"), ("Direct quote", "quote"), ("One change or improvement", "one_change")]
KIND_LABEL = {v: k for k, v in KINDS}
STANCE_LABEL = {"strength": "Strength", "concern": "Concern", "mixed": "Mixed", "": "Not set"}
MAX_ROLE = 40
EDITOR_KEY = "note editor"  # the form's record of a refused, unsaved note (see FormBase.not_saved)


# -- plain functions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeChoice:
    """Which codes are ticked, which unticked codes keywords suggest, which the person dismissed."""

    ticked: frozenset[str] = frozenset()
    suggested: frozenset[str] = frozenset()
    rejected: frozenset[str] = frozenset()


def add_suggestions(choice: CodeChoice, suggestions: Sequence[str]) -> CodeChoice:
    """Offer keyword suggestions the person has not already ticked or dismissed; tick none."""
    new = {c for c in suggestions if c not in choice.ticked and c not in choice.rejected}
    return replace(choice, suggested=choice.suggested | new)


def toggle_code(choice: CodeChoice, code: str, ticked: bool) -> CodeChoice:
    """The person ticked or unticked a code: either way it is their decision now."""
    if ticked:
        return replace(choice, ticked=choice.ticked | {code}, suggested=choice.suggested - {code},
                       rejected=choice.rejected - {code})
    return replace(choice, ticked=choice.ticked - {code})


def accept_suggestions(choice: CodeChoice) -> CodeChoice:
    """The person ticks every offered suggestion at once."""
    return replace(choice, ticked=choice.ticked | choice.suggested, suggested=frozenset())


def dismiss_suggestions(choice: CodeChoice) -> CodeChoice:
    """The person sets the suggestions aside: the same keywords never offer them again for this note."""
    return replace(choice, suggested=frozenset(), rejected=choice.rejected | choice.suggested)


def codes_to_save(choice: CodeChoice, codebook: Codebook) -> list[str]:
    """The ticked codes: suggestions nobody ticked are not saved, and never hold the note back."""
    return sorted(c for c in choice.ticked if codebook.parse(c) is not None)


def check_role(role: str, names: Sequence[str] = ()) -> str:
    """A speaker is a role at most ('practitioner', 'carer'): short, and never a name."""
    role = " ".join(role.split())
    if len(role) > MAX_ROLE:
        raise InvalidInputError(f"The speaker's role is too long: write a role of at most {MAX_ROLE} "
                                "characters, e.g. 'practitioner' or 'carer'.")
    if role:
        try:
            privacy.check(role, names, confirm_warnings=False, field="speaker's role")
        except (BlockedTextError, WarningTextError):
            raise InvalidInputError("The speaker's role looks like it could identify someone: write a role "
                                    "only, e.g. 'practitioner', 'manager' or 'carer', never a name.") from None
    return role


def note_summary_html(note: dict[str, Any], codebook: Codebook) -> str:
    """One saved note as a short, escaped summary for the list of notes."""
    bits = [KIND_LABEL.get(note["kind"], note["kind"])]
    if note.get("speaker_role"):
        bits.append(str(note["speaker_role"]))
    if note.get("stance"):
        bits.append(STANCE_LABEL.get(note["stance"], note["stance"]))
    if note.get("use_in_report"):
        bits.append("use in report")
    labels = []
    for c in note.get("codes") or ():
        found = codebook.parse(c)
        labels.append(found.label if found else c)
    codes = f'<br><span class="rk-muted">Codes: {html.escape(", ".join(labels))}</span>' if labels else ""
    text = html.escape(str(note["text"]))
    if note["kind"] == "quote":
        text = f"“{text}”"
    return f'<div><strong>{html.escape(" · ".join(bits))}</strong><br>{text}{codes}</div>'


def notes_for(store: Store, *, meeting_id: int | None = None, conversation_id: int | None = None) -> pd.DataFrame:
    """The saved notes of one meeting or one conversation, oldest first."""
    df = store.notes()
    if meeting_id is not None:
        return df[df["meeting_id"] == meeting_id]
    return df[df["conversation_id"] == conversation_id]


# -- widgets -------------------------------------------------------------------------------------
@dataclass
class _Editing:
    note_id: int | None = None
    version: int = 0
    choice: CodeChoice = field(default_factory=CodeChoice)


class NoteEditor:
    """Write or change one note; `save()` stores it through the store and clears the editor."""

    def __init__(self, form: FormBase, store: Store, codebook: Codebook, codes: Sequence[Code], *,
                 roles: Sequence[str], for_conversation: bool, names: Sequence[str],
                 target: Callable[[], dict[str, int | None]], on_saved: Callable[[], None]) -> None:
        self.form, self.store, self.codebook = form, store, codebook
        self.codes = list(codes)
        self.for_conversation = for_conversation
        self.names = list(names)
        self.target = target  # {"meeting_id": …} or {"conversation_id": …} of the open record
        self.on_saved = on_saved
        self.editing = _Editing()
        g = form.guard
        self.title = text_html("<h3>Add a note or quote</h3>")
        self.kind = w.ToggleButtons(options=KINDS, value="note", description="Kind of entry",
                                    style={"button_width": "auto"})
        self.kind.add_class("rk-stack")
        self.text = w.Textarea(description="What was said", continuous_update=False,
                               placeholder="The note, or the quote word for word. No names: use roles "
                                           "(practitioner, manager, carer) and case references.",
                               layout=w.Layout(width="100%", height="6.5rem"))
        self.text.add_class("rk-note")
        self.role = w.Combobox(description="Speaker's role", options=list(roles), ensure_option=False,
                               placeholder="A role, never a name, e.g. " + roles[0] if roles else "",
                               layout=w.Layout(width="30rem"))
        self.role.add_class("rk-stack")
        self.boxes = {c.id: w.Checkbox(description=c.label, value=False, indent=False, tooltip=c.text,
                                       layout=w.Layout(width="auto", margin="0 0.4rem 0 0"))
                      for c in self.codes}
        self.code_grid = w.GridBox(list(self.boxes.values()),
                                   layout=w.Layout(grid_template_columns="repeat(auto-fill, minmax(16rem, 1fr))",
                                                   width="100%"))
        legend = "Codes (I statements)" if for_conversation else "Codes"
        self.code_head = text_html(f"<p><strong>{legend}</strong> — tick every code the note speaks to. "
                                "Hover over a code to see what it covers.</p>")
        self.suggest_line = text_html("")
        self.accept = w.Button(description="Tick the suggested codes", tooltip="Tick every suggested code",
                               layout=w.Layout(display="none", width="auto"))
        self.dismiss = w.Button(description="Dismiss suggestions", tooltip="Hide the suggestions for this note",
                                layout=w.Layout(display="none", width="auto"))
        self.stance = w.ToggleButtons(options=[(v, k) for k, v in STANCE_LABEL.items()], value="",
                                      description="Stance", style={"button_width": "auto"})
        self.stance.add_class("rk-stack")
        self.use = w.Checkbox(description="Use in the report (quotes only appear in the report when this is ticked)",
                              indent=False, layout=w.Layout(width="auto"))
        self.save_button = w.Button(description="Save note", button_style="primary", layout=w.Layout(width="auto"))
        self.cancel_button = w.Button(description="Clear", tooltip="Empty the form without saving",
                                      layout=w.Layout(width="auto"))
        self.save_anyway = w.Button(description="Save anyway", button_style="warning",
                                    tooltip="Save the note as written: you have checked it identifies no one",
                                    layout=w.Layout(display="none", width="auto"))
        self.message = text_html("")
        self.box = w.VBox([self.title, self.kind, self.text, self.role, self.code_head, self.code_grid,
                           self.suggest_line, w.HBox([self.accept, self.dismiss]), self.stance, self.use, self.message,
                           w.HBox([self.save_button, self.save_anyway, self.cancel_button])])
        self.box.add_class("rk-card")
        self.text.observe(g(self._on_text), names="value")
        for cid, box in self.boxes.items():
            box.observe(g(self._toggle_handler(cid)), names="value")
        self.accept.on_click(g(lambda _b: self.accept_all()))
        self.dismiss.on_click(g(lambda _b: self.dismiss_all()))
        self.save_button.on_click(g(lambda _b: self.save()))
        self.save_anyway.on_click(g(lambda _b: self.save(confirm_warnings=True)))
        self.cancel_button.on_click(g(lambda _b: self.clear()))

    # -- code choice ----------------------------------------------------------------------------
    def _toggle_handler(self, cid: str) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            self.editing.choice = toggle_code(self.editing.choice, cid, bool(change["new"]))
            self._show_choice()
        handler.__name__ = f"toggle_{cid}"
        return handler

    def _on_text(self, change: dict[str, Any]) -> None:
        self.suggest(change["new"])

    def suggest(self, text: str) -> None:
        """Offer codes whose keywords appear in the text, unticked and marked as suggestions."""
        found = suggest_codes(text, self.codebook, for_conversation=self.for_conversation)
        allowed = {c.id for c in self.codes}
        self.editing.choice = add_suggestions(self.editing.choice, [c for c in found if c in allowed])
        self._show_choice()

    def accept_all(self) -> None:
        self.editing.choice = accept_suggestions(self.editing.choice)
        self._show_choice()

    def dismiss_all(self) -> None:
        self.editing.choice = dismiss_suggestions(self.editing.choice)
        self._show_choice()

    def _show_choice(self) -> None:
        choice = self.editing.choice
        with self.form.quiet():
            for cid, box in self.boxes.items():
                box.value = cid in choice.ticked
                label = self.codebook.code(cid).label
                if cid in choice.suggested:
                    box.description = f"{label} (suggested)"
                    box.add_class("rk-suggested")
                else:
                    box.description = label
                    box.remove_class("rk-suggested")
        if choice.suggested:
            labels = ", ".join(sorted(self.codebook.code(c).label for c in choice.suggested))
            self.suggest_line.value = (
                '<div class="rk-alert rk-alert-info" role="status">Suggested from keywords in the text: '
                f"<strong>{html.escape(labels)}</strong>. Tick any that fit; a suggestion is saved only if "
                "you tick it, and you can save the note without them.</div>")
            self.accept.layout.display = ""
            self.dismiss.layout.display = ""
        else:
            self.suggest_line.value = ""
            self.accept.layout.display = "none"
            self.dismiss.layout.display = "none"

    # -- save, edit, clear ----------------------------------------------------------------------------
    def say(self, kind: str, text: str) -> None:
        self.message.value = message_html(kind, text)

    def save(self, *, confirm_warnings: bool = False) -> int | None:
        """Store the note (new, or the one being edited); returns its id, or None if refused."""
        target = self.target()
        if not any(v is not None for v in target.values()):
            self.say("error", "Create or pick the meeting or conversation first (at the top of the form).")
            return None
        try:
            codes = codes_to_save(self.editing.choice, self.codebook)
            role = check_role(self.role.value, self.names)
        except InvalidInputError as exc:
            self.say("error", str(exc))
            self.form.not_saved(EDITOR_KEY)
            return None
        fields = {"kind": self.kind.value, "speaker_role": role, "stance": self.stance.value, "codes": codes,
                  "use_in_report": bool(self.use.value)}
        try:
            if self.editing.note_id is None:
                note_id = self.store.add_note(self.form.actor, self.text.value, confirm_warnings=confirm_warnings,
                                              **target, **fields)
            else:
                note_id = self.editing.note_id
                self.store.update_note(self.form.actor, note_id, expected_version=self.editing.version,
                                       confirm_warnings=confirm_warnings, text=self.text.value, **fields)
        except (BlockedTextError, WarningTextError) as exc:
            show_refused_text(exc, self.message, self.save_anyway)
            self.form.not_saved(EDITOR_KEY)
            return None
        except InvalidInputError as exc:
            self.say("error", f"Not saved. {exc}")
            self.form.not_saved(EDITOR_KEY)
            return None
        self.clear()
        self.say("ok", "Note saved.")
        self.form.saved(EDITOR_KEY)
        self.on_saved()
        return note_id

    def clear(self) -> None:
        """Empty the editor, ready for a new note."""
        self.editing = _Editing()
        self.form.forget_unsaved(EDITOR_KEY)
        with self.form.quiet():
            self.text.value = ""
            self.role.value = ""
            self.stance.value = ""
            self.use.value = False
        self._show_choice()
        self.title.value = "<h3>Add a note or quote</h3>"
        self.save_button.description = "Save note"
        self.save_anyway.layout.display = "none"
        self.say("", "")

    def edit(self, note: dict[str, Any]) -> None:
        """Load a saved note into the editor to change it."""
        self.editing = _Editing(int(note["id"]), int(note["version"]),
                                CodeChoice(ticked=frozenset(c for c in note["codes"] if c in self.boxes)))
        with self.form.quiet():
            self.kind.value = note["kind"]
            self.text.value = note["text"]
            self.role.value = note["speaker_role"]
            self.stance.value = note["stance"]
            self.use.value = bool(note["use_in_report"])
        self._show_choice()
        self.title.value = "<h3>Change a saved note</h3>"
        self.save_button.description = "Save changes"
        self.say("info", "You are changing a saved note. Press 'Save changes' when done, or 'Clear' to leave it as it was.")

    def set_enabled(self, enabled: bool) -> None:
        for widget in (self.kind, self.text, self.role, self.stance, self.use, self.save_button, *self.boxes.values()):
            widget.disabled = not enabled


class NoteList:
    """The saved notes of the open meeting or conversation, each with Change and Delete."""

    def __init__(self, form: FormBase, store: Store, codebook: Codebook, editor: NoteEditor, title: str) -> None:
        self.form, self.store, self.codebook, self.editor = form, store, codebook, editor
        self.heading = text_html(f"<h3>{html.escape(title)}</h3>")
        self.rows = w.VBox([])
        self.box = w.VBox([self.heading, self.rows])
        self.box.add_class("rk-card")
        self.note_ids: list[int] = []
        self.controls: dict[int, dict[str, w.Button]] = {}  # per note: change, delete, confirm, keep

    def show(self, notes: pd.DataFrame) -> None:
        rows: list[w.Widget] = []
        self.note_ids = [int(i) for i in notes["note_id"]]
        self.controls = {}
        groups = (("Notes and quotes", notes[notes["kind"] != "one_change"]),
                  ("One change or improvement, from each participant", notes[notes["kind"] == "one_change"]))
        for title, part in groups:
            rows.append(text_html(f"<h4>{html.escape(title)}</h4>"))
            if part.empty:
                rows.append(text_html('<p class="rk-muted">None yet.</p>'))
            for nid in part["note_id"]:
                rows.append(self._row(self.store.note(int(nid))))
        self.rows.children = rows

    def _row(self, note: dict[str, Any]) -> w.Widget:
        g = self.form.guard
        summary = w.HTML(note_summary_html(note, self.codebook), layout=w.Layout(flex="1 1 auto"))
        change = w.Button(description="Change", tooltip="Load this note into the form above to change it",
                          layout=w.Layout(width="auto", flex="0 0 auto"))
        delete = w.Button(description="Delete", tooltip="Delete this note",
                          layout=w.Layout(width="auto", flex="0 0 auto"))
        confirm = w.Button(description="Yes, delete it", button_style="danger", layout=w.Layout(width="auto"))
        keep = w.Button(description="No, keep it", layout=w.Layout(width="auto"))
        ask = w.HBox([text_html("<strong>Delete this note?</strong>"), confirm, keep],
                     layout=w.Layout(display="none", align_items="center"))
        nid = int(note["id"])
        self.controls[nid] = {"change": change, "delete": delete, "confirm": confirm, "keep": keep}

        def on_change(_b: w.Button) -> None:
            self.editor.edit(self.store.note(nid))

        def on_delete(_b: w.Button) -> None:
            ask.layout.display = ""

        def on_keep(_b: w.Button) -> None:
            ask.layout.display = "none"

        def on_confirm(_b: w.Button) -> None:
            self.store.delete_note(self.form.actor, nid)
            self.form.saved()
            if self.editor.editing.note_id == nid:
                self.editor.clear()
            self.editor.on_saved()

        change.on_click(g(on_change))
        delete.on_click(g(on_delete))
        keep.on_click(g(on_keep))
        confirm.on_click(g(on_confirm))
        row = w.VBox([w.HBox([summary, change, delete], layout=w.Layout(align_items="flex-start")), ask],
                     layout=w.Layout(border_bottom="1px solid #d1d5db", padding="0.4rem 0"))
        row.add_class(f"rk-note-{nid}")
        return row
