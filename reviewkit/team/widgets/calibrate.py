"""The calibration form: rate the calibration records, then see the team's ratings side by side.

In: a workspace with calibration records (``reviewkit calibrate WS --record CAL1``) and a
reviewer. Out: calibration ratings saved at once through the store (never case ratings); once
the reviewer has rated every record of the round, the team's ratings side by side (names: for
the team only), most disagreement first, with the tool's descriptors; and for the host, the
agreed rating and a short note per question.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as w

from reviewkit.core.errors import InvalidInputError
from reviewkit.review.calibration import CalibrationRating
from reviewkit.review.calibration_view import agreement_lines
from reviewkit.review.session import current_session
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace
from reviewkit.team.widgets.common import EntryForm, message_html, now_hhmm, open_or_explain, text_html

NOT_RATED = "Not rated yet"


def team_html(ws: Workspace, store: Store, number: int) -> str:
    """The team's ratings of one round side by side, most disagreement first, as an accessible table."""
    from reviewkit.figures.calibration import side_by_side  # start-up: only drawn once a reviewer has finished

    rows = side_by_side(store.calibration_ratings(), ws.tool, number, store.agreed_ratings())
    if not rows:
        return "<p>No calibration ratings yet.</p>"
    names = sorted({n for r in rows for n in r["ratings"]})
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in
                   ["Record and question", *names, "Same rating (pairs)", "Spread", "Descriptors", "Agreed"])
    body = []
    for r in rows:
        cells = [f'<th scope="row">{html.escape(r["record_id"])} {html.escape(r["question"])} '
                 f'{html.escape(r["title"])}{"" if r["all_agree"] else " (talk through)"}</th>']
        cells += [f"<td>{html.escape(r['ratings'].get(n, '–'))}</td>" for n in names]
        cells.append(f"<td>{html.escape(r['agreement'])}</td><td>{r['spread']}</td>")
        desc = "".join(f"<li><strong>{html.escape(k)}</strong>: {html.escape(v)}</li>" for k, v in r["descriptors"].items())
        cells.append(f"<td><ul>{desc}</ul></td>")
        agreed = r["agreed"]
        cells.append("<td>" + (html.escape(f"{agreed[0]}" + (f": {agreed[1]}" if agreed[1] else "")) if agreed else "–")
                     + "</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    summary = "".join(f"<p>{html.escape(line)}</p>" for line in agreement_lines(ws, store))
    return (f'<table class="rk-table"><caption>Calibration round {number}: everyone\'s ratings, most disagreement '
            f"first (names are for the team only)</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{summary}")


class CalibrationForm(EntryForm):
    """Rate each calibration record; see the team's ratings once your own are in; the host records agreement."""

    def __init__(self, workspace: Workspace | str | Path, reviewer: str, *, store: Store | None = None) -> None:
        super().__init__(workspace, reviewer, store=store)
        session = current_session(self.ws.meta)
        self.is_host = session.is_host if session is not None else any(
            m.name == self.reviewer and m.role == "host" for m in self.ws.meta.team)
        self.records = self.store.calibration_records()
        if not self.records:
            raise InvalidInputError("No calibration is set up in this review. The host names the calibration "
                                    "records first: reviewkit calibrate WORKSPACE --record CAL1")
        tool, scale = self.ws.tool, self.ws.tool.scale
        self.round = self.store.calibration_round()
        self.record = w.Dropdown(options=self.records, value=self.records[0], description="Record",
                                 layout=w.Layout(width="auto"))
        self.record.observe(self.guard(lambda _c: self.reload()), names="value")
        self.pickers: dict[str, w.Dropdown] = {}
        rows: list[w.Widget] = []
        for q in (*tool.questions, tool.overall):
            picker = w.Dropdown(options=[NOT_RATED, *scale.labels], value=NOT_RATED,
                                description=q.id, layout=w.Layout(width="auto"))
            picker.observe(self.guard(lambda c, qid=q.id: self._save(qid, c["new"])), names="value")
            picker.add_class(f"rk-cal-{q.id}")
            self.pickers[q.id] = picker
            desc = "".join(f"<li><strong>{html.escape(k)}</strong>: {html.escape(v)}</li>"
                           for k, v in q.descriptors.items())
            rows.append(text_html(f"<h3>{html.escape(q.id)} · {html.escape(q.title)}</h3>"
                               f"<p>{html.escape(q.text)}</p><details><summary>Descriptors</summary>"
                               f"<ul>{desc}</ul></details>"))
            rows.append(picker)
        self.team = text_html("")
        self.team.add_class("rk-cal-team")
        self.refresh_button = w.Button(description="Show the team's ratings", layout=w.Layout(width="auto"))
        self.refresh_button.on_click(self.guard(lambda _b: (self._refresh_records(), self.show_team())))
        body: list[w.Widget] = [w.VBox(rows), text_html("<h3>The team's ratings</h3>"), self.refresh_button, self.team]
        if self.is_host:
            body.append(self._agree_box())
        intro = (f"Round {self.round}. Rate each calibration record on its own, as you would a case record; your "
                 "ratings save as you choose them and are never counted in the review's figures. The team's "
                 "ratings show once you have rated every calibration record, so each rating is your own. A record "
                 "the host names while this page is open is added to the Record list the next time you choose a "
                 "rating or press Show the team's ratings.")
        self.set_view("Calibration", intro, self.top_bar(self.record), *body)
        self.reload()

    def _agree_box(self) -> w.VBox:
        tool = self.ws.tool
        self.agree_record = w.Dropdown(options=self.records, description="Record")
        self.agree_question = w.Dropdown(options=[(f"{q.id} {q.title}", q.id) for q in (*tool.questions, tool.overall)],
                                         description="Question")
        self.agree_rating = w.Dropdown(options=tool.scale.labels, description="Agreed")
        self.agree_note = w.Textarea(description="Note", placeholder="A short note on why (no personal details)")
        self.agree_button = w.Button(description="Save agreed rating", button_style="primary")
        self.agree_message = text_html("")
        self.agree_button.on_click(self.guard(lambda _b: self._save_agreed()))
        return w.VBox([text_html("<h3>Agreed ratings (host)</h3>"), self.agree_record, self.agree_question,
                       self.agree_rating, self.agree_note, self.agree_button, self.agree_message])

    def _save(self, qid: str, value: str) -> None:
        if self.loading:
            return
        rating = None if value == NOT_RATED else value
        try:
            self.store.set_calibration_rating(self.actor, CalibrationRating(self.record.value, self.reviewer, qid,
                                                                            rating, round=self.round))
        except InvalidInputError as exc:
            self.alert.show("error", f"Not saved. {exc}")
            self.not_saved(qid)
            return
        self.alert.clear()
        self.saved(qid)
        self._refresh_records()
        if self._finished():
            self.show_team()

    def _save_agreed(self) -> None:
        try:
            self.store.set_agreed_rating(self.actor, self.agree_record.value, self.agree_question.value,
                                         self.agree_rating.value, self.agree_note.value)
        except InvalidInputError as exc:
            self.agree_message.value = message_html("error", f"Not saved. {exc}")
            return
        self.agree_message.value = message_html("ok", f"Saved the agreed rating for {self.agree_record.value} "
                                                      f"{self.agree_question.value} at {now_hhmm()}.")
        self.show_team()

    def _refresh_records(self) -> None:
        """Take in calibration records the host named (and a round started) since the form opened, and say so."""
        records, number = self.store.calibration_records(), self.store.calibration_round()
        added = [r for r in records if r not in self.records]
        if records == self.records and number == self.round:
            return
        self.records, self.round = records, number
        with self.quiet():
            current = self.record.value
            self.record.options = records
            self.record.value = current if current in records else records[0]
            if self.is_host:
                chosen = self.agree_record.value
                self.agree_record.options = records
                self.agree_record.value = chosen if chosen in records else records[0]
        if added:
            self.alert.show("info", f"The host has named {len(added)} more calibration record"
                            f"{'s' if len(added) > 1 else ''} to rate: {', '.join(added)}. Choose "
                            f"{'each' if len(added) > 1 else 'it'} from the Record list.", title="New to rate")

    def _finished(self) -> bool:
        mine = self.store.calibration_ratings()
        mine = mine[(mine["round"] == self.round) & (mine["reviewer"] == self.reviewer)]
        return len(mine) >= len(self.records) * len(self.pickers)

    def show_team(self) -> None:
        """The side-by-side table, once this reviewer has rated every record of the round (the host: always)."""
        if not (self.is_host or self._finished()):
            self.team.value = ("<p>The team's ratings show here once you have rated every question of every "
                               "calibration record in this round.</p>")
            return
        self.team.value = team_html(self.ws, self.store, self.round)

    def reload(self) -> None:
        """Show this reviewer's saved ratings of the chosen record (and any record named since the form opened)."""
        self._refresh_records()
        with self.quiet():
            for qid, picker in self.pickers.items():
                saved = self.store.calibration_rating(self.record.value, self.reviewer, qid, self.round)
                picker.value = saved["rating"] if saved and saved["rating"] else NOT_RATED
        self.forget_unsaved()
        self.show_team()
        self.set_status(f"Loaded {now_hhmm()}")


def calibration_form(workspace: Workspace | str | Path, reviewer: str) -> CalibrationForm | w.VBox:
    """The notebook's entry point: the form, or a plain-English panel saying why it cannot open."""
    return open_or_explain(lambda: CalibrationForm(workspace, reviewer), title="The calibration form cannot open")
