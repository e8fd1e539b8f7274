"""The rating form's concern panel: a risk to a person found in a case record, raised with the council.

In: what the reviewer types (what the risk is, when and with whom they raised it) for the case
the rating form shows. Out: the reviewer's concern on that case in the store's concerns log
(``Store.set_concern``), screened first; "Save anyway" for a possible identifier, never for a
sure one. The text is private: the report gives only how many concerns were raised and how the
council responded. The host records the council's response (``reviewkit concern``).
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from reviewkit.core.errors import BlockedTextError, WarningTextError
from reviewkit.team.widgets.common import date_text, heading, message_html, parse_date, show_refused_text, text_html

if TYPE_CHECKING:
    from reviewkit.team.widgets.rating import RatingForm

__all__ = ["ConcernPanel", "response_html"]


def response_html(found: dict[str, Any] | None) -> str:
    """Under a saved concern: open until the host records the council's response (also the hub's rating page's)."""
    if not found:
        return ""
    if not str(found["response"]).strip():
        return ('<div class="rk-muted">Saved. The host records the council’s response; until then it shows as '
                "open.</div>")
    return f'<div class="rk-muted">The council’s response was recorded on {html.escape(str(found["responded_on"]))}.</div>'


class ConcernPanel:
    """The concern fields and their Save button, inside the rating form (one concern per case and reviewer)."""

    def __init__(self, form: RatingForm) -> None:
        self.form = form
        wide = {"description_width": "12rem"}
        self.what = w.Textarea(description="What the risk is", continuous_update=False, style=wide,
                               placeholder="The risk to the person you raised (no names or identifiers)",
                               layout=w.Layout(width="100%", height="5rem"))
        self.what.add_class("rk-note")
        self.raised_on = w.DatePicker(description="Date you raised it", style=wide)
        self.raised_with = w.Text(description="Raised with (role)", style=wide, continuous_update=False,
                                  placeholder="e.g. team manager, host Principal Social Worker",
                                  layout=w.Layout(width="100%"))
        self.save = w.Button(description="Save the concern", button_style="primary", layout=w.Layout(width="auto"))
        self.save_anyway = w.Button(description="Save anyway", button_style="warning",
                                    layout=w.Layout(display="none", width="auto"))
        self.message = text_html("")
        self.response = text_html("")
        self.save.on_click(form.guard(lambda _b: self.store_concern()))
        self.save_anyway.on_click(form.guard(lambda _b: self.store_concern(confirm_warnings=True)))
        self.box = w.VBox([
            heading("A risk to a person", 3, "If you find a risk to a person's safety, raise it with the council at "
                    "once as your safeguarding duties require, then record it here. What you write is private: the "
                    "report gives only how many concerns were raised and how the council responded."),
            self.what, self.raised_on, self.raised_with, w.HBox([self.save, self.save_anyway]), self.message,
            self.response])
        self.box.add_class("rk-card")

    def show(self, case_id: str | None) -> None:
        """Show the reviewer's concern on this case as stored (blank when none)."""
        found = self.form.store.concern(case_id, self.form.reviewer) if case_id else None
        self.what.value = found["what"] if found else ""
        self.raised_on.value = parse_date(found["raised_on"]) if found else None
        self.raised_with.value = found["raised_with"] if found else ""
        self.message.value = ""
        self.save_anyway.layout.display = "none"
        self.response.value = response_html(found)


    def store_concern(self, *, confirm_warnings: bool = False) -> None:
        """Save the concern typed in the panel for the form's case; screen it first."""
        form = self.form
        if form.case_id is None:
            return
        missing = [label for label, value in (("what the risk is", self.what.value.strip()),
                                              ("the date you raised it", self.raised_on.value),
                                              ("the role you raised it with", self.raised_with.value.strip()))
                   if not value]
        if missing:
            self.message.value = message_html("warn", "Not saved yet: give " + ", ".join(missing) + ".")
            return
        day = self.raised_on.value
        if isinstance(day, dt.date) and day > dt.date.today():
            self.message.value = message_html("warn", "Not saved yet: the date you raised it is in the future.")
            return
        try:
            found = form.store.set_concern(form.reviewer, form.case_id, form.reviewer, what=self.what.value,
                                           raised_on=date_text(day), raised_with=self.raised_with.value,
                                           confirm_warnings=confirm_warnings)
        except (BlockedTextError, WarningTextError) as exc:
            show_refused_text(exc, self.message, self.save_anyway)
            form.not_saved("concern")
            return
        form.saved("concern")
        self.save_anyway.layout.display = "none"
        self.message.value = message_html("ok", "Concern saved.")
        self.response.value = response_html(found)
