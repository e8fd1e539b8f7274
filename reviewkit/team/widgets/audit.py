"""The in-house audit form: a council's auditor records one audit of a case record, with no code.

In: an in-house programme folder (``reviewkit new DIR --in-house``) and the auditor's name as
programme.yaml lists it. Out: one audit (month, team, the record's own reference, a rating and
an evidence note per question of the audit tool, the overall judgement, practice themes and
closed answers on the person's or carer's feedback) saved to the programme's audit store through
the same checks as an imported audit file (``reviewkit.inhouse.importer.record_audit``), and
logged in its audit log as the auditor's. A second auditor moderating an audit opens the same
form under their own name and records their own ratings of the same record as a moderation.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import ipywidgets as w

from reviewkit.core.errors import ImportFileError, InvalidInputError
from reviewkit.inhouse.importer import note_column, record_audit
from reviewkit.inhouse.programme import Programme, open_programme
from reviewkit.review.progress import needs_evidence
from reviewkit.team.widgets.common import FormBase, level_css, now_hhmm, open_or_explain

FIRST, MODERATOR = "first", "moderator"
NOBODY = ""
FEEDBACK_FROM = [("Nobody gave feedback", NOBODY), ("The person", "person"), ("A carer", "carer"),
                 ("The person and a carer", "both")]
FEEDBACK = [("Not asked or not given", ""), ("Positive", "positive"), ("Mixed", "mixed"), ("Negative", "negative")]
NOTE_PLACEHOLDER = "What the record shows or lacks (no names, dates of birth or NHS numbers)"


def check_auditor(programme: Programme, name: str) -> str:
    """The auditor's name as programme.yaml spells it, or a plain-English error."""
    found = programme.auditor(name) if str(name).strip() else None
    listed = ", ".join(programme.auditors) or "none yet"
    if found is None:
        said = "No auditor name was given" if not str(name).strip() else f"'{' '.join(str(name).split())}' is not " \
            "one of the programme's auditors"
        raise InvalidInputError(f"{said}. Auditors are: {listed}. Check the spelling, or ask whoever runs the "
                                "programme to add you under auditors: in programme.yaml.")
    return found


def resolve_programme(folder: Programme | str | Path) -> Programme:
    if isinstance(folder, Programme):
        return folder
    if not str(folder).strip():
        raise InvalidInputError("No programme folder was given. Start the form with "
                                "'reviewkit serve PROGRAMME --form audit --reviewer NAME'.")
    return open_programme(folder)


class _Question:
    """One question of the tool: heading, level buttons and an evidence note."""

    def __init__(self, programme: Programme, qid: str) -> None:
        q = programme.tool.question(qid)
        self.qid = qid
        title = "Overall judgement" if qid == programme.tool.overall.id else f"{q.id} · {q.title}"
        self.title = title
        desc = "".join(f"<li><strong>{html.escape(k)}</strong>: {html.escape(v)}</li>" for k, v in q.descriptors.items())
        self.head = w.HTML(f"<h3>{html.escape(title)}</h3><p>{html.escape(q.text)}</p>"
                           + (f"<details><summary>Descriptors</summary><ul>{desc}</ul></details>" if desc else ""))
        self.buttons = w.ToggleButtons(options=programme.tool.scale.labels, index=None, style={"button_width": "auto"})
        self.buttons.add_class("rk-levels")
        self.note = w.Textarea(description=f"Evidence note for {qid}", placeholder=NOTE_PLACEHOLDER)
        self.note.add_class("rk-note")
        self.box = w.VBox([self.head, self.buttons, self.note])
        self.box.add_class("rk-card")
        self.box.add_class(f"rk-q-{qid}")

    def set(self, rating: str | None, note: str) -> None:
        self.buttons.index = None if rating is None else self.buttons.options.index(rating)
        self.note.value = note


class AuditForm(FormBase):
    """Record one audit of a case record (or a moderation of one) in an in-house audit programme."""

    reload_label = "Load saved audit"

    def __init__(self, programme: Programme | str | Path, auditor: str) -> None:
        self.programme = resolve_programme(programme)
        self.auditor = check_auditor(self.programme, auditor)
        super().__init__(self.programme, actor=self.auditor, store=self.programme.store())  # type: ignore[arg-type]
        p, tool = self.programme, self.programme.tool
        self.audit_id = w.Text(description="Record reference", placeholder="the audit's own reference, never a name",
                               layout=w.Layout(width="24rem"), style={"description_width": "initial"})
        self.load_button = w.Button(description="Load saved audit", layout=w.Layout(width="auto"))
        self.load_button.on_click(self.guard(lambda _b: self.reload()))
        self.role = w.ToggleButtons(options=[("My own audit (first auditor)", FIRST),
                                             ("A moderation (second auditor)", MODERATOR)], value=FIRST,
                                    description="This is", style={"button_width": "auto"})
        self.role.observe(self.guard(lambda _c: self._show_first_only()), names="value")
        self.month = w.Text(value=dt.date.today().strftime("%Y-%m"), description="Month audited",
                            placeholder="YYYY-MM", style={"description_width": "initial"})
        self.team = w.Dropdown(options=[("Choose the team", "")] + [(t, t) for t in p.teams], value="",
                               description="Team", style={"description_width": "initial"})
        for widget, name in ((self.audit_id, "rk-ref"), (self.month, "rk-month"), (self.team, "rk-team"),
                             (self.role, "rk-role")):
            widget.add_class(name)
        self.questions = {qid: _Question(p, qid) for qid in tool.all_ids}
        self.themes = {t.id: w.Checkbox(description=t.title, indent=False) for t in p.themes}
        self.feedback_from = w.Dropdown(options=FEEDBACK_FROM, value=NOBODY, description="Feedback from",
                                        style={"description_width": "initial"})
        self.feedback = w.Dropdown(options=FEEDBACK, value="", description="Their feedback was",
                                   style={"description_width": "initial"})
        first_only: list[w.Widget] = []
        if self.themes:
            first_only.append(w.VBox([w.HTML("<h3>Practice themes seen in this record</h3>"),
                                      *self.themes.values()]))
        first_only.append(w.VBox([w.HTML("<h3>Feedback from the person or carer</h3><p class=\"rk-muted\">Closed "
                                         "answers only: what they said stays in the case record.</p>"),
                                  self.feedback_from, self.feedback]))
        self.first_only = w.VBox(first_only)
        self.first_only.add_class("rk-card")
        self.save_button = w.Button(description="Save audit", button_style="primary", layout=w.Layout(width="auto"))
        self.save_button.on_click(self.guard(lambda _b: self.save()))
        self.save_anyway = w.Button(description="Save anyway", button_style="warning",
                                    layout=w.Layout(display="none", width="auto"),
                                    tooltip="Save although a note may hold something that identifies a person")
        self.save_anyway.on_click(self.guard(lambda _b: self.save(confirm_warnings=True)))
        self.clear_button = w.Button(description="Start the next audit", layout=w.Layout(width="auto"))
        self.clear_button.on_click(self.guard(lambda _b: self.clear()))
        intro = (f"{p.council}: {p.title}. You are recording as {self.auditor}. Rate the record on every question, "
                 "add an evidence note where the rating needs one, and press Save audit. Saving an audit again "
                 "replaces it. A moderator opens this form under their own name and rates the same record.")
        self.set_view("In-house audit", intro,
                      self.top_bar(w.HBox([self.audit_id, self.load_button]), reload=False),
                      w.VBox([self.role, self.month, self.team]),
                      *[q.box for q in self.questions.values()], self.first_only,
                      w.HBox([self.save_button, self.save_anyway, self.clear_button]),
                      css=level_css(tool.scale))

    # -- what the person typed, as an audit file's row --------------------------------------------
    def cells(self) -> dict[str, str]:
        cells = {"audit_id": self.audit_id.value.strip(), "month": self.month.value.strip(), "team": self.team.value,
                 "auditor": self.auditor, "role": self.role.value}
        for qid, q in self.questions.items():
            cells[qid] = q.buttons.value or ""
            cells[note_column(qid)] = q.note.value
        if self.role.value == FIRST:
            cells["themes"] = ";".join(tid for tid, box in self.themes.items() if box.value)
            cells["feedback_from"] = self.feedback_from.value
            cells["feedback"] = self.feedback.value
        return cells

    def _where(self, column: str | None) -> str:
        """A problem's column as the form names it."""
        for qid, q in self.questions.items():
            if column == qid:
                return q.title
            if column == note_column(qid):
                return f"{q.title}, evidence note"
        return {"audit_id": "Record reference", "month": "Month audited", "team": "Team", "auditor": "Auditor",
                "themes": "Practice themes", "feedback_from": "Feedback from", "feedback": "Their feedback was"
                }.get(column or "", "The audit")

    def save(self, *, confirm_warnings: bool = False) -> None:
        self.save_anyway.layout.display = "none"
        try:
            result = record_audit(self.programme, self.cells(), actor=self.auditor, confirm_warnings=confirm_warnings)
        except ImportFileError as exc:
            only_warnings = all("may contain" in pr.message for pr in exc.problems)
            lines = [f"{self._where(pr.column)}: {pr.message}" for pr in exc.problems]
            self.alert.show("warn" if only_warnings else "error", "\n".join(lines),
                            title="Not saved yet: please check" if only_warnings else
                            f"Not saved: {len(lines)} thing{'s' if len(lines) != 1 else ''} to put right")
            if only_warnings:
                self.save_anyway.layout.display = ""
            self.not_saved("audit")
            return
        what = "moderation" if self.role.value == MODERATOR else "audit"
        done = ("unchanged (it was saved already)" if result.unchanged else
                "replaced" if result.audits_changed else "saved")
        missing = [q.title for q in self.questions.values()
                   if needs_evidence(self.programme.tool.scale, q.buttons.value) and not q.note.value.strip()]
        message = f"The {what} of {self.audit_id.value.strip()} is {done} ({now_hhmm()})."
        if missing:
            self.alert.show("warn", message + " These low ratings have no evidence note yet; add one and save "
                            "again: " + "; ".join(missing) + ".", title="Saved")
        else:
            self.alert.show("ok", message + " Press Start the next audit for another record.", title="Saved")
        self.saved("audit")

    def clear(self) -> None:
        """Empty the form for the next record, keeping the month, team and role."""
        with self.quiet():
            self.audit_id.value = ""
            for q in self.questions.values():
                q.set(None, "")
            for box in self.themes.values():
                box.value = False
            self.feedback_from.value, self.feedback.value = NOBODY, ""
        self.clear_alert()
        self.save_anyway.layout.display = "none"
        self.set_status("Ready for the next audit")

    def _show_first_only(self) -> None:
        self.first_only.layout.display = "" if self.role.value == FIRST else "none"

    def reload(self) -> None:
        """Show what is saved for this record reference and role (a moderation: the first audit's month and team)."""
        ref = self.audit_id.value.strip()
        if not ref:
            self.alert.show("info", "Type the record reference first, then press Load saved audit.")
            return
        with self.programme.store() as store:
            stored = store.stored()
            meta = store.audit(ref)
        mine = stored.get((ref, self.role.value))
        with self.quiet():
            if meta is not None:
                self.month.value, self.team.value = meta["month"], meta["team"]
            for qid, q in self.questions.items():
                q.set(mine[2].get(qid) if mine else None, mine[3].get(qid, "") if mine else "")
            if self.role.value == FIRST and meta is not None:
                chosen = set(filter(None, meta["themes"].split(";")))
                for tid, box in self.themes.items():
                    box.value = tid in chosen
                self.feedback_from.value, self.feedback.value = meta["feedback_from"], meta["feedback"]
        self.forget_unsaved()
        if mine is None:
            what = ("no moderation of it is saved yet" if meta is not None and self.role.value == MODERATOR
                    else "nothing is saved for it yet")
            self.alert.show("info", f"{ref}: {what}.")
        elif mine[4] != self.auditor:
            self.alert.show("info", f"{ref} was saved by another auditor; saving it again records it as yours.")
        else:
            self.clear_alert()
        self.set_status(f"Loaded {now_hhmm()}")


def audit_form(programme: Programme | str | Path, auditor: str) -> AuditForm | w.VBox:
    """The notebook's entry point: the form, or a plain-English panel saying why it cannot open."""
    return open_or_explain(lambda: AuditForm(programme, auditor), title="The audit form cannot open")
