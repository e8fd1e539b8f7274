"""The meeting form: record a staff meeting (kind, date, who came by role), its notes and
direct quotes coded against the codebook, and each participant's "one change or improvement".

Meetings are shared by the review team: every reviewer sees every meeting. Details of a
saved meeting are saved as they change, with the version the form loaded, so a second tab
gets "Changed elsewhere — reload" rather than overwriting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from reviewkit.core.errors import InvalidInputError
from reviewkit.core.themes import load_codebook
from reviewkit.review.fieldwork import MAX_ATTENDEES, MEETING_KINDS
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace
from reviewkit.team.widgets.common import EntryForm, date_text, message_html, open_or_explain, parse_date, text_html
from reviewkit.team.widgets.notes import NoteEditor, NoteList, notes_for

KIND_LABELS = {"practitioners": "Meeting with practitioners", "managers": "Meeting with managers",
               "other": "Other meeting"}
ROLES = ["practitioner", "social worker", "occupational therapist", "senior practitioner", "team manager",
         "manager", "senior manager", "participant"]
NEW = 0  # the meeting picker's value for "start a new meeting"


# -- plain functions --------------------------------------------------------------------------------
def attendees_from_rows(rows: Sequence[tuple[str, int | None]]) -> dict[str, int]:
    """Attendance by role from the form's rows; blank rows are skipped, a role twice is refused."""
    out: dict[str, int] = {}
    for role, count in rows:
        role = " ".join(str(role).split())
        if not role:
            continue
        if role.casefold() in {r.casefold() for r in out}:
            raise InvalidInputError(f"The role '{role}' is listed twice under attendees: give each role once, "
                                    "with how many came.")
        if count is None or count < 0:
            raise InvalidInputError(f"Say how many {role}s came (a whole number, 0 or more).")
        out[role] = int(count)
    return out


def meeting_label(row: dict[str, Any]) -> str:
    """How a saved meeting appears in the meeting list."""
    bits = [KIND_LABELS.get(row["kind"], row["kind"])]
    if row.get("held_on"):
        bits.append(str(row["held_on"]))
    if row.get("title"):
        bits.append(str(row["title"]))
    return " · ".join(bits)


# -- widgets ------------------------------------------------------------------------------------------
class AttendeeRow:
    """One role and how many of that role came."""

    def __init__(self, form: MeetingForm, role: str = "", count: int = 1) -> None:
        self.role = w.Combobox(value=role, options=ROLES, ensure_option=False, placeholder="role, e.g. practitioner",
                               description="Role", style={"description_width": "3rem"}, layout=w.Layout(width="20rem"))
        self.count = w.BoundedIntText(value=count, min=0, max=MAX_ATTENDEES, description="Number",
                                      style={"description_width": "4.5rem"}, layout=w.Layout(width="10rem"))
        self.remove = w.Button(description="Remove", tooltip="Remove this role", layout=w.Layout(width="auto"))
        self.box = w.HBox([self.role, self.count, self.remove], layout=w.Layout(align_items="center"))
        self.role.observe(form.guard(form._on_attendees), names="value")
        self.count.observe(form.guard(form._on_attendees), names="value")
        self.remove.on_click(form.guard(lambda _b: form.remove_attendee(self)))


class MeetingForm(EntryForm):
    """Set up a meeting and record its notes, quotes and 'one change' items."""

    def __init__(self, workspace: Workspace | str | Path, reviewer: str, *, store: Store | None = None) -> None:
        super().__init__(workspace, reviewer, store=store)
        self.codebook = load_codebook(self.ws.meta.codebook)
        self.meeting_id: int | None = None
        self.version = 0
        g = self.guard

        self.picker = w.Dropdown(options=[("Start a new meeting", NEW)], value=NEW, description="Meeting",
                                 style={"description_width": "initial"}, layout=w.Layout(width="42rem"))
        self.kind = w.Dropdown(options=[(KIND_LABELS[k], k) for k in MEETING_KINDS], value="practitioners",
                               description="Kind of meeting", style={"description_width": "9.5rem"},
                               layout=w.Layout(width="30rem"))
        self.date = w.DatePicker(description="Date", style={"description_width": "9.5rem"},
                                 layout=w.Layout(width="20rem"))
        self.title = w.Text(description="Title (optional)", continuous_update=False,
                            placeholder="e.g. Practitioners' focus group", style={"description_width": "9.5rem"},
                            layout=w.Layout(width="40rem"))
        self.attendee_rows: list[AttendeeRow] = []
        self.attendee_box = w.VBox([])
        self.add_role = w.Button(description="Add a role", tooltip="Add another role that attended",
                                 layout=w.Layout(width="auto"))
        self.create = w.Button(description="Create meeting", button_style="primary", layout=w.Layout(width="auto"))
        self.details_message = text_html("")
        self.details_title = text_html("<h3>Meeting details</h3>")
        details = w.VBox([self.details_title, self.kind, self.date, self.title,
                          text_html("<p><strong>Who came</strong> — by role, never by name.</p>"),
                          self.attendee_box, self.add_role, self.details_message, self.create])
        details.add_class("rk-card")

        roles = sorted(set(ROLES))
        self.editor = NoteEditor(self, self.store, self.codebook, self.codebook.codes, roles=roles,
                                 for_conversation=False, names=self.ws.private_names(),
                                 target=lambda: {"meeting_id": self.meeting_id}, on_saved=self.refresh_notes)
        self.notes = NoteList(self, self.store, self.codebook, self.editor, "Saved notes for this meeting")

        self.picker.observe(g(self._on_pick), names="value")
        for widget in (self.kind, self.date, self.title):
            widget.observe(g(self._on_details), names="value")
        self.add_role.on_click(g(lambda _b: self.add_attendee()))
        self.create.on_click(g(lambda _b: self.create_meeting()))

        intro = (f"Recording as {self.reviewer}. Set up the meeting, then add what was said. Quotes are "
                 "non-attributable: give a role at most, never a name.")
        self.set_view("Record a meeting", intro, self.top_bar(self.picker), details, self.editor.box, self.notes.box)
        self.reload()

    # -- loading -----------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the meeting list and the open meeting again from the store."""
        self.clear_alert()
        meetings = self.store.meetings()
        options = [("Start a new meeting", NEW)] + [(meeting_label(r), int(r["id"]))
                                                    for r in meetings.to_dict("records")]
        with self.quiet():
            self.picker.options = options
            self.picker.value = self.meeting_id if self.meeting_id is not None else NEW
        self.show_meeting(self.meeting_id)

    def _on_pick(self, change: dict[str, Any]) -> None:
        self.open_meeting(change["new"] or None)

    def open_meeting(self, meeting_id: int | None) -> None:
        """Show a saved meeting, or an empty form for a new one (None)."""
        self.meeting_id = meeting_id
        with self.quiet():
            self.picker.value = meeting_id or NEW
        self.editor.clear()
        self.show_meeting(meeting_id)

    def show_meeting(self, meeting_id: int | None) -> None:
        self.forget_unsaved("details")  # the details shown are now the stored ones
        if meeting_id is None:
            data: dict[str, Any] = {"kind": "practitioners", "held_on": "", "title": "",
                                    "attendees": {"practitioner": 0}, "version": 0}
        else:
            data = self.store.meeting(meeting_id)
        self.version = int(data["version"])
        with self.quiet():
            self.kind.value = data["kind"]
            self.date.value = parse_date(data["held_on"])
            self.title.value = data["title"]
            self.attendee_rows = []
            for role, count in data["attendees"].items():
                self.attendee_rows.append(AttendeeRow(self, role, count))
            if not self.attendee_rows:
                self.attendee_rows.append(AttendeeRow(self))
            self.attendee_box.children = [r.box for r in self.attendee_rows]
        new = meeting_id is None
        self.create.layout.display = "" if new else "none"
        self.details_title.value = "<h3>New meeting</h3>" if new else "<h3>Meeting details</h3>"
        self.details_message.value = ("" if new else
                                      '<p class="rk-muted">Changes to these details are saved straight away.</p>')
        self.editor.set_enabled(not new)
        if new:
            self.editor.say("info", "Create the meeting first: its notes and quotes go here.")
        self.refresh_notes()

    def refresh_notes(self) -> None:
        self.notes.show(notes_for(self.store, meeting_id=self.meeting_id if self.meeting_id is not None else -1))

    # -- changes ----------------------------------------------------------------------------------------
    def _details(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "held_on": date_text(self.date.value), "title": self.title.value,
                "attendees": attendees_from_rows([(r.role.value, r.count.value) for r in self.attendee_rows])}

    def _say_details(self, kind: str, text: str) -> None:
        self.details_message.value = message_html(kind, text)

    def create_meeting(self) -> int | None:
        """Store the new meeting and open it; returns its id, or None if refused."""
        try:
            details = self._details()
            mid = self.store.add_meeting(self.actor, details["kind"], details["held_on"], details["attendees"],
                                         details["title"])
        except InvalidInputError as exc:  # also text refused as identifying (BlockedTextError, WarningTextError)
            self._say_details("error", f"Not saved. {exc}")
            self.not_saved("details")
            return None
        self.meeting_id = mid
        self.saved("details")
        self.reload()
        self.editor.say("", "")
        return mid

    def _on_details(self, _change: dict[str, Any]) -> None:
        self.save_details()

    def _on_attendees(self, _change: dict[str, Any]) -> None:
        self.save_details()

    def save_details(self) -> None:
        """Save a saved meeting's details as they change (a new meeting waits for 'Create')."""
        if self.meeting_id is None:
            return
        try:
            details = self._details()
            self.store.update_meeting(self.actor, self.meeting_id, expected_version=self.version, **details)
        except InvalidInputError as exc:  # also text refused as identifying (BlockedTextError, WarningTextError)
            self._say_details("error", f"Not saved. {exc}")
            self.not_saved("details")
            return
        self.version = int(self.store.meeting(self.meeting_id)["version"])
        self._say_details("ok", "Meeting details saved.")
        self.saved("details")
        self.relabel(self.picker, self.meeting_id, meeting_label(details))

    def add_attendee(self) -> None:
        row = AttendeeRow(self, "", 0)
        self.attendee_rows.append(row)
        self.attendee_box.children = [r.box for r in self.attendee_rows]

    def remove_attendee(self, row: AttendeeRow) -> None:
        self.attendee_rows = [r for r in self.attendee_rows if r is not row]
        self.attendee_box.children = [r.box for r in self.attendee_rows]
        self.save_details()


def meeting_form(workspace: Workspace | str | Path, reviewer: str) -> MeetingForm | w.VBox:
    """The notebook's entry point: the form, or a plain-English panel saying why it cannot open."""
    return open_or_explain(lambda: MeetingForm(workspace, reviewer))
