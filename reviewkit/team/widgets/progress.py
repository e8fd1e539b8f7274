"""The host's progress page: who has rated what, where moderators disagree, what a final report needs.

Read-only: tables built from ``reviewkit.review.progress`` and a Refresh button. Nothing on this
page can change the store.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as w
import pandas as pd

from reviewkit.core.tools import AuditTool
from reviewkit.figures.analysis import format_count
from reviewkit.review.progress import completeness, disagreements
from reviewkit.review.readiness import readiness
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace
from reviewkit.team.widgets.common import FormBase, now_hhmm, open_or_explain, resolve_workspace, text_html


def count_pct(n: int, d: int) -> str:
    """'59 (24.6%)', '0 (–)': the report's own formatter, so both round 1 of 16 to 6.3%."""
    return format_count(n, d)


def question_name(tool: AuditTool, qid: str) -> str:
    """'3. Personal strengths', or 'Overall judgement'."""
    if qid == tool.overall.id:
        return tool.overall.title
    return f"{tool.question_ids.index(qid) + 1}. {tool.question(qid).title}"


def _table(caption: str, headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<h3>{html.escape(caption)}</h3><p class=\"rk-muted\">{html.escape(empty)}</p>"
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join((f'<th scope="row">{html.escape(c)}</th>' if i == 0 else f"<td>{html.escape(c)}</td>")
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return (f'<table class="rk-table"><caption>{html.escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def progress_html(ws: Workspace, store: Store) -> str:
    """The three tables of the progress page as accessible HTML (captions, header cells)."""
    tool = ws.tool
    df = completeness(ws, store)
    per_reviewer = []
    for reviewer, group in df.groupby("reviewer", sort=False):
        rated, total = int(group["rated"].sum()), int(group["total"].sum())
        per_reviewer.append([str(reviewer), f"{int(group['complete'].sum())} of {len(group)}",
                             count_pct(rated, total), str(int((group["overall"] != "").sum())),
                             str(int(group["referred_back"].sum()))])
    cases = []
    for r in df.itertuples(index=False):
        if len(r.missing) == len(tool.question_ids):
            missing = "all"
        else:
            missing = ", ".join(str(tool.question_ids.index(q) + 1) for q in r.missing) or "none"
        notes = ", ".join(question_name(tool, q) for q in r.needs_note) or "none"
        state = "complete" if r.complete else ("marked complete, not finished" if r.marked_complete else "in progress")
        cases.append([str(r.reviewer), r.case_id + (" (moderation)" if r.moderation else ""),
                      f"{r.rated} of {r.total}", missing, r.overall or "not set", notes, state,
                      "yes" if r.referred_back else "no"])
    dis = disagreements(ws, store)
    dis_rows = []
    for r in dis.itertuples(index=False):
        said = "; ".join(f"{who}: {level}" for who, level in r.ratings.items())
        steps = "Not applicable vs a rating" if pd.isna(r.steps) else str(int(r.steps))
        dis_rows.append([r.case_id, question_name(tool, r.question), said, steps])
    total_cases = len(df)
    done = int(df["complete"].sum()) if total_cases else 0
    headline = (f"<p><strong>Complete: {count_pct(done, total_cases)}</strong> of {total_cases} case records "
                "to rate (a moderated case counts once for each of its reviewers).</p>")
    return headline + "".join([
        _table("Progress by reviewer", ["Reviewer", "Cases complete", "Questions rated", "Overall judgements set",
                                        "Referred back"], per_reviewer, "No reviewers have cases allocated yet."),
        _table("Progress by case record", ["Reviewer", "Case", "Questions rated", "Questions not rated",
                                           "Overall judgement", "Evidence notes needed", "State", "Referred back"],
               cases, "No cases are allocated yet: add them under 'cases' in review.yaml."),
        _table("Where moderators disagree", ["Case", "Question", "Ratings", "Scale steps apart"], dis_rows,
               "No disagreements: every question rated by two reviewers has the same rating (or only one "
               "reviewer has rated it so far)."),
        _table("Before the report can be final", ["Where", "What is missing"],
               [[g.where, g.message] for g in readiness(ws)],
               "Nothing is missing: the report can be rendered final."),
    ])


class ProgressView(FormBase):
    """Tables of progress for the host PSW, with a Refresh button; no editing."""

    reload_label = "Refresh"

    def __init__(self, workspace: Workspace | str | Path, *, store: Store | None = None) -> None:
        super().__init__(resolve_workspace(workspace), actor="host", store=store)
        self.tables = text_html("")
        self.refresh_button = w.Button(description="Refresh", button_style="primary",
                                       tooltip="Read the latest ratings from the review store",
                                       layout=w.Layout(width="auto"))
        self.refresh_button.on_click(self.guard(lambda _b: self.reload()))
        sub = f"{self.ws.meta.council} · {self.ws.meta.theme}. This page only reads: nothing here changes the review."
        # Refresh does what Reload does on the entry forms, so the bar has no Reload button.
        self.set_view("Review progress", sub, self.top_bar(self.refresh_button, reload=False), self.tables)
        self.reload()

    def reload(self) -> None:
        """Read the store again and redraw the tables."""
        self.tables.value = progress_html(self.ws, self.store)
        self.set_status(f"Updated {now_hhmm()}")


def progress_view(workspace: Workspace | str | Path) -> ProgressView | w.VBox:
    """The notebook's entry point: the tables, or a plain-English panel saying why they cannot open."""
    return open_or_explain(lambda: ProgressView(workspace), title="The progress page cannot open")
