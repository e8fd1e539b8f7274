"""The report's sections as HTML, built from a workspace's data so the notebook stays thin.

Each ``ReportBuilder`` method returns one section's HTML: generated sentences (every figure
computed, never typed), tables with captions and header cells, charts as figures with alt
text, and the PSWs' narrative files rendered from Markdown. The notebook calls one method per
cell and ``show``s the result; nbconvert then wraps the outputs in the kit's template.

The builder holds what every section shares — the review's data, the figures computed from it,
the charts (drawn ahead, in workers or here) and the numbering of tables and figures — and
builds the short sections itself. The longer ones are functions of the builder, so that each
module does one job: the meetings and the conversations in ``reviewkit.report.people``, the
data analysis in ``reviewkit.report.ratings``, and the findings beyond the programme's own in
``reviewkit.report.findings``; the builder's method for each is one line.

Only published material reaches the HTML: aggregate figures, the narrative files, and quotes
and "one change" entries a reviewer marked for the report (``reportdata`` drops the rest).
"""

from __future__ import annotations

import base64
import logging
import math
import multiprocessing
import os
import pickle
import re
import sys
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from reviewkit.core.dates import date_range, long_date
from reviewkit.figures import analysis as an
from reviewkit.figures import cqc
from reviewkit.figures import sentences as nv
from reviewkit.figures.agreement import moderation_agreement
from reviewkit.figures.calibration import calibration_sentence
from reviewkit.figures.notes import (
    THEME_ROWS,
    theme_counts,
    top_with_ties,
)
from reviewkit.figures.trend import compare_rounds
from reviewkit.report import findings, people, ratings
from reviewkit.report.charts import (
    DONE,
    RenderedChart,
    chart_digest,
    chart_file,
    draw_into,
    draw_into_star,
    render_chart,
)
from reviewkit.report.data import Narrative, ReportData, load_report_data
from reviewkit.report.markup import (
    PLACEHOLDER,
    esc,
    html_table,
    link_recommendations,
    markdown_html,
    number_list_items,
    para,
    section,
    show,
)
from reviewkit.review.snapshot import ReviewSnapshot

__all__ = [
    "PLACEHOLDER",
    "RenderedChart",
    "ReportBuilder",
    "cover_context",
    "date_range",
    "html_table",
    "long_date",
    "markdown_html",
    "prerender_charts",
    "render_chart",
    "show",
]

_log = logging.getLogger(__name__)
ROLE_TITLES = {"visiting": "Principal Social Worker", "host": "Principal Social Worker",
               "associate": "Programme associate"}
# Set by render_report in the kernel's environment: a private folder where the render is putting
# this report's charts, drawn ahead in the parent process while the kernel starts.
CHARTS_ENV = "REVIEWKIT_CHARTS"
CHART_WAIT = 30  # seconds to wait for a chart drawn ahead before drawing it (and the rest) here


def cover_context(data: ReportData | Any, report_date: str = "") -> dict[str, Any]:
    """What the template's cover shows: programme, council, theme, dates and the team."""
    meta = data.meta if hasattr(data, "meta") else data
    return {
        "programme": meta.programme,
        "council": meta.council,
        "title": f"Report following the practice review of {meta.council}",
        "theme": meta.theme,
        "dates": date_range(meta.start, meta.end),
        "report_date": long_date(report_date or getattr(data, "report_date", "") or meta.report_date),
        "team": [{"name": m.name, "council": m.council,
                  "role": ROLE_TITLES.get(m.role, "") + (" (host)" if m.role == "host" else "")}
                 for m in meta.team],
    }


def prerender_charts(workspace: str | Path | ReviewSnapshot, folder: str | Path, *,
                     withhold_identifiers: bool = False, processes: int = 1) -> None:
    """Draw every chart of the report into ``folder``, in report order, for the notebook to pick up.

    render_report runs this in a process of its own while the kernel starts, and names the
    folder in the kernel's environment (``CHARTS_ENV``), drawing from the same snapshot of
    the review as the kernel (``reviewkit.review.snapshot``). Each chart is written whole, with a
    digest of its inputs, and ``done`` is written last, even on an error: the notebook then
    draws for itself any chart that is missing or was drawn from other data. With
    ``processes`` > 1 (Linux only) the charts are shared between that many forked workers.
    """
    folder = Path(folder)
    try:
        data = load_report_data(workspace, withhold_identifiers=withhold_identifiers)
        tasks = [(folder, key, job) for key, job in ReportBuilder(data)._chart_jobs.items()]
        from reviewkit.figures import charts  # noqa: F401  start-up: matplotlib, imported before any fork so workers start warm

        if processes > 1 and sys.platform == "linux":
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                for _ in pool.imap(draw_into_star, tasks):
                    pass
        else:
            for task in tasks:
                draw_into(*task)
    finally:
        (folder / DONE).touch()


def _plain_words(text: str) -> str:
    """Text as lower-case words and digits only, one space apart (quote marks and punctuation gone)."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower().replace("’", "").replace("'", "")).split())


def _others(n: int) -> str:
    """'a second Principal Social Worker' (1 other), '2 other Principal Social Workers'."""
    return "a second Principal Social Worker" if n == 1 else f"{n} other Principal Social Workers"


def _others_phrase(raters_count: dict[int, int], rated: int) -> str:
    """Who else rated the moderation cases, true of each: '2 other …', or '… (1 by a second, 1 by 2 others)'."""
    groups = {int(k) - 1: int(v) for k, v in raters_count.items() if int(k) >= 2}
    if len(groups) <= 1:
        return _others(next(iter(groups), 1))
    parts = [f"{v} by {'a second' if k == 1 else f'{k} others'}" for k, v in sorted(groups.items())]
    return f"other Principal Social Workers ({nv.join_words(parts)})"


# --------------------------------------------------------------------------- the builder

class ReportBuilder:
    """Builds each section of one review's report; tables and figures are numbered in order."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.meta = data.meta
        self.tool = data.tool
        self.scale = data.tool.scale
        self._tables = 0
        self._figures = 0
        self._pool: Any = None
        self._pending: dict[str, Any] = {}
        recs = data.narrative.get("recommendations")
        self.recommendation_count = (
            number_list_items(markdown_html(recs.text))[1] if recs is not None and recs.written else 0)

    @classmethod
    def load(cls, workspace: str | Path | ReviewSnapshot) -> ReportBuilder:
        """Load the review's data (in a render's kernel, the render's snapshot) and make a builder for it."""
        return cls(load_report_data(workspace))

    # -- computed figures ---------------------------------------------------------------
    @cached_property
    def primary(self) -> pd.DataFrame:
        return an.primary_ratings(self.data.ratings, self.data.allocation)

    @cached_property
    def _primary_allocation(self) -> pd.DataFrame:
        alloc = self.data.allocation
        return alloc[alloc["primary"].astype(bool)]

    @cached_property
    def counts(self) -> dict[str, Any]:
        return an.review_counts(self.data.ratings, self.data.allocation,
                                meetings=self.data.meetings[["kind", "attendees", "by_role"]],
                                conversations=self.data.conversations, overall_id=self.tool.overall.id)

    @cached_property
    def pooled(self) -> pd.DataFrame:
        return an.rating_distribution(self.primary, self.scale, overall_id=self.tool.overall.id)

    @cached_property
    def overall(self) -> pd.DataFrame:
        return an.overall_distribution(self.primary, self.scale, overall_id=self.tool.overall.id)

    @cached_property
    def by_question(self) -> pd.DataFrame:
        return an.question_distribution(self.primary, self.tool)

    @cached_property
    def themes(self) -> pd.DataFrame:
        return theme_counts(self.data.notes, self.data.codebook_labels)

    @cached_property
    def i_statement_counts(self) -> pd.DataFrame:
        book = self.data.codebook
        return (cqc.i_statement_counts(self.data.notes, book) if book is not None
                else pd.DataFrame(columns=cqc.I_COUNT_COLUMNS))

    @cached_property
    def cqc_questions(self) -> pd.DataFrame:
        return cqc.question_evidence(self.primary, self.tool)

    @cached_property
    def cqc_codes(self) -> pd.DataFrame:
        book = self.data.codebook
        return (cqc.code_evidence(self.data.notes, book) if book is not None
                else pd.DataFrame(columns=cqc.CODE_EVIDENCE_COLUMNS))

    @cached_property
    def trend_table(self) -> pd.DataFrame:
        prev = self.data.previous_round
        return compare_rounds(self.primary, self.tool, prev) if prev is not None else pd.DataFrame()

    @cached_property
    def cqc_i_statements(self) -> pd.DataFrame:
        return cqc.i_statement_evidence(self.i_statement_counts)

    # -- charts, optionally rendered in parallel ----------------------------------------
    @cached_property
    def _chart_jobs(self) -> dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]]:
        """Every chart of the report, in the order the report shows them."""
        jobs: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {}
        if len(self.themes):
            shown, left_out = top_with_ties(self.themes, THEME_ROWS)
            title = "Themes from the meetings by stance"
            if left_out:
                title += f": the {len(shown)} raised most often, of {len(shown) + len(left_out)}"
            jobs["themes"] = ("theme_chart", (self.themes,), {"top": THEME_ROWS, "title": title})
        jobs["overall"] = ("overall_chart", (self.overall, self.scale), {})
        jobs["overview"] = ("overview_chart", (self.by_question, self.scale), {})
        for _, row in self.by_question.iterrows():
            jobs[f"question-{row['question']}"] = ("question_chart", (row, self.scale), {})
        jobs.update(findings.chart_jobs(self))
        return jobs

    def start_charts(self, processes: int | None = None) -> None:
        """Render the charts in worker processes now, while the text sections are built.

        Charts are most of a render's time; on a machine with two or more cores this takes
        them off the critical path. Where processes cannot be forked (Windows, macOS' spawn
        default) the charts are simply rendered one by one when each section needs them.
        Under ``reviewkit report`` this does nothing: the render is drawing them already, in a
        process of its own that started with the kernel (``prerender_charts``).
        """
        workers = processes or min(2, os.cpu_count() or 1)
        if workers < 2 or sys.platform != "linux" or self._pool is not None or self._ahead is not None:
            return  # (or the render is drawing them ahead, in its own process)
        from reviewkit.figures import charts  # noqa: F401  start-up: matplotlib, imported once here so the workers start warm

        try:
            self._pool = multiprocessing.get_context("fork").Pool(workers)
        except (OSError, ValueError):
            self._pool = None
            return
        self._pending = {key: self._pool.apply_async(render_chart, job)
                         for key, job in self._chart_jobs.items()}
        self._pool.close()

    @cached_property
    def _ahead(self) -> Path | None:
        """The folder where the render is drawing the charts ahead, if it is."""
        folder = os.environ.get(CHARTS_ENV, "")
        return Path(folder) if folder and Path(folder).is_dir() else None

    def _drawn_ahead(self, key: str) -> RenderedChart | None:
        """The chart drawn ahead by the render, once it is ready, if it was drawn from this data.

        None (draw it here) if the drawing process finished or failed without it, or produced
        nothing for ``CHART_WAIT`` seconds (then no later chart is waited for either).
        """
        if self._ahead is None:
            return None
        path, done = chart_file(self._ahead, key), self._ahead / DONE
        deadline = time.monotonic() + CHART_WAIT
        while not path.exists() and not done.exists():
            if time.monotonic() > deadline:
                _log.warning("no chart was drawn ahead for %s seconds; drawing them here", CHART_WAIT)
                self._ahead = None
                return None
            time.sleep(0.005)
        try:
            digest, chart = pickle.loads(path.read_bytes())  # our own file, in the render's private folder
        except Exception:  # noqa: BLE001  not drawn (the drawing process failed): draw it here
            return None
        if digest != chart_digest(self._chart_jobs[key]) or not isinstance(chart, RenderedChart):
            _log.warning("chart %s was drawn ahead from other data; drawing it again", key)
            return None
        return chart

    def _chart(self, key: str) -> RenderedChart:
        ahead = self._drawn_ahead(key)
        if ahead is not None:
            return ahead
        pending = self._pending.pop(key, None)
        if pending is not None:
            try:
                return pending.get(timeout=60)
            except Exception as exc:  # noqa: BLE001  worker failed, hung or died: render here instead,
                # where the chart's own error (if any) is raised in this cell with its traceback
                _log.warning("chart %s could not be rendered in a worker (%s); rendering it here",
                             key, type(exc).__name__)
            finally:
                if not self._pending and self._pool is not None:
                    self._pool.terminate()  # every result is in: stop the idle workers
                    self._pool = None
        kind, args, kwargs = self._chart_jobs[key]
        return render_chart(kind, args, kwargs)

    # -- quotes printed once -------------------------------------------------------------
    @cached_property
    def _narrative_words(self) -> str:
        return _plain_words(" ".join(n.text for n in self.data.narrative.values() if n.written))

    def quoted_in_narrative(self, text: str) -> bool:
        """True when the team's narrative already quotes these words: the report prints a quote once."""
        words = _plain_words(text)
        return len(words) >= 12 and f" {words} " in f" {self._narrative_words} "

    # -- pieces -------------------------------------------------------------------------
    def _next_table(self) -> int:
        self._tables += 1
        return self._tables

    def table(self, df: pd.DataFrame, title: str, **kw: Any) -> str:
        return html_table(df, f"Table {self._next_table()}: {title}", **kw)

    def figure(self, key: str, table_title: str | None = None, *, lead: str = "",
               levels: pd.DataFrame | None = None) -> str:
        """A chart as a figure (PNG embedded, alt text, caption) followed by its table.

        ``lead`` (a heading and its sentence) is kept on the same printed page as the chart.
        ``levels`` (a level table) replaces the chart's own table by one with 95% intervals.
        """
        chart = self._chart(key)
        self._figures += 1
        n = self._figures
        png = base64.b64encode(chart.png).decode("ascii")
        fig = (f'<figure class="chart" id="figure-{n}">'
               f'<img src="data:image/png;base64,{png}" alt="{esc(chart.alt)}" '
               f'width="{round(chart.width_in * 96)}" height="{round(chart.height_in * 96)}">'
               f"<figcaption>Figure {n}: {esc(chart.title)}</figcaption></figure>")
        table = ""
        if levels is not None:
            table = self.level_table(levels, table_title or f"{chart.title} (the figures in Figure {n})")
        elif len(chart.table):
            numeric = [c for c in chart.table.columns[1:]]
            wide = "" if len(chart.table.columns) > 2 else "narrow"
            table = self.table(chart.table, table_title or f"{chart.title} (the figures in Figure {n})",
                               numeric=numeric, css_class=wide)
        return f'<div class="chart-block">{lead}{fig}{table}</div>'

    def level_table(self, dist: pd.DataFrame, title: str) -> str:
        """A level table with its 95% intervals, and a note if its rounded percentages miss 100."""
        rows = []
        scored = int(dist.attrs.get("scored", 0))
        for r in dist.itertuples():
            interval = ("" if math.isnan(r.ci_low) else f"{r.ci_low:.1f}% to {r.ci_high:.1f}%")
            if not interval and not str(r.display).endswith(an.NOT_COUNTED):
                interval = "–"  # nothing rated yet
            rows.append({"Rating": r.level, "Number (%)": r.display,
                         "95% confidence interval": interval or "not counted"})
        df = pd.DataFrame(rows, columns=["Rating", "Number (%)", "95% confidence interval"])
        counts = [int(r.count) for r in dist.itertuples() if not str(r.display).endswith(an.NOT_COUNTED)]
        note = nv.rounding_note(an.rounded_total(counts, scored))
        return (self.table(df, title, numeric=["Number (%)", "95% confidence interval"], css_class="levels")
                + (f'<p class="table-note">{esc(note)}</p>' if note else ""))

    def narrative(self, name: str) -> str:
        item: Narrative | None = self.data.narrative.get(name)
        if item is None or not item.written:
            where = f"narrative/{name}.md"
            return (f'<div class="placeholder" role="note"><p><strong>{esc(PLACEHOLDER)}</strong></p>'
                    f"<p>Write this section in <code>{esc(where)}</code>.</p></div>")
        return f'<div class="narrative">{markdown_html(item.text, recommendations=self.recommendation_count)}</div>'

    def _meeting_phrase(self, m: dict[str, Any]) -> str:
        """'The meeting with managers on 7 October 2026 was attended by 4 assistant team managers…'."""
        kind = str(m["kind"])
        who = {"practitioners": "practitioners", "managers": "managers"}.get(kind, "staff")
        when = f" on {long_date(m['held_on'])}" if m["held_on"] else ""
        roles = an.attendance_by_role([m])
        head = "The meeting"
        if roles:
            attended = nv.attendance_phrase(roles)
        elif int(m["attendees"] or 0):
            attended = nv.count_noun(int(m["attendees"]), "member") + " of staff"
        else:  # not "attended by 0 members of staff": nobody has recorded who came
            return f"{head} with {who}{when} has no attendance recorded yet"
        return f"{head} with {who}{when} was attended by {attended}"

    def _moderation_phrase(self) -> str:
        """' 2 case records were also rated independently by a second …' counting what was rated."""
        planned, rated = int(self.counts["moderation_cases"]), int(self.counts["moderation_rated"])
        if not planned:
            return ""
        _, summary = self.moderation
        if not rated:
            return (f" {nv.count_noun(planned, 'case record')} {'was' if planned == 1 else 'were'} chosen "
                    "to be rated independently by a second Principal Social Worker as well; none has "
                    "been rated by more than one yet.")
        head = (nv.count_noun(rated, "case record") if rated == planned
                else f"{rated} of the {planned} case records chosen for moderation")
        return (f" {head} {'was' if rated == 1 else 'were'} also rated independently by "
                f"{_others_phrase(summary.get('raters_count') or {2: rated}, rated)}. "
                "This checks how consistently the team used the audit tool.")

    @cached_property
    def moderation(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        return moderation_agreement(self.data.ratings, self.data.allocation, self.scale,
                                       overall_id=self.tool.overall.id)

    def conversation_cases(self) -> str:
        """'5 of the 20 case records examined', or what is true when some were not examined."""
        conv = self.data.conversations
        if not len(conv):
            return ""
        about = {str(c) for c in conv["case_id"]}
        examined = {str(c) for c in self.primary["case_id"]}
        n, cases = len(about), self.counts["cases"]
        if about <= examined:
            return f"{n} of the {nv.count_noun(cases, 'case record')} examined"
        inside = len(about & examined)
        among = "none is" if not inside else f"{inside} {'is' if inside == 1 else 'are'}"
        return (f"{nv.count_noun(n, 'case record')}, of which {among} among the "
                f"{nv.count_noun(cases, 'case record')} examined")

    def conversation_labels(self) -> dict[int, str]:
        """'Carer 1', 'Relative 2': numbered within each kind, in the order they were held."""
        labels, seen = {}, {}
        for r in self.data.conversations.sort_values("id", kind="mergesort").itertuples():
            who = str(r.who)
            seen[who] = seen.get(who, 0) + 1
            labels[int(r.id)] = f"{who[:1].upper()}{who[1:]} {seen[who]}"
        return labels

    def conversation_quote_label(self, note: dict[str, Any], labels: dict[int, str] | None = None) -> str:
        """A conversation quote's attribution: 'Carer 1', or 'a relative' when the note says who spoke.

        A note whose ``speaker_role`` names one person of a joint conversation (the relative in a
        conversation with a person and their relative) is attributed to that role, never to the
        pair's label ('Person and relative 1').
        """
        labels = labels if labels is not None else self.conversation_labels()
        cid = note.get("conversation_id")
        label = labels.get(int(cid), "a person") if cid is not None and not pd.isna(cid) else "a person"
        role = " ".join(str(note.get("speaker_role") or "").split()).lower()
        conv = self.data.conversations
        who = ""
        if cid is not None and not pd.isna(cid) and len(conv):
            match = conv.loc[conv["id"].astype(int) == int(cid), "who"]
            who = str(match.iloc[0]) if len(match) else ""
        if role in ("person", "relative", "carer") and role != who.lower():
            return nv.who_phrase(role, 1)
        return label

    # -- sections -----------------------------------------------------------------------
    def key_messages(self) -> str:
        """Key messages, straight after the contents: headline figures and the team's messages."""
        return findings.key_messages(self)

    def review_answers(self) -> str:
        """Each review question with the team's answer, linked to the evidence ('' if none asked)."""
        return findings.review_answers(self)

    def trend(self) -> str:
        """4 (cont.): this round beside the previous round ('' when there is none, or it is in Appendix A)."""
        return "" if ratings.in_appendix(self) else findings.trend(self)

    def figures_appendix(self) -> str:
        """Appendix A: every table, chart and method note of section 4 ('' in the classic layout)."""
        return ratings.figures_appendix(self, [people.meeting_theme_chart(self), findings.i_statement_chart(self)])

    def cqc_section(self) -> str:
        """9. Evidence against the CQC quality statements, when review.yaml puts it in the body."""
        return findings.cqc_evidence(self, "section")

    def cqc_appendix(self) -> str:
        """Appendix: the same evidence, when review.yaml puts it after the signatories."""
        return findings.cqc_evidence(self, "appendix")

    def introduction(self) -> str:
        """1. Introduction: dates, theme, the elements of the review with counts, aims."""
        meta, c = self.meta, self.counts
        body = []
        when = date_range(meta.start, meta.end)
        body.append(para(f"The practice review of {meta.council} took place "
                       + (f"from {when}." if meta.start and meta.end and meta.start != meta.end
                          else f"on {when}." if when else "in the period set out in this report.")))
        body.append(para(f"The council identified the theme for the review as ‘{meta.theme}’."))
        body.append(para(nv.method_sentence(c)))
        calibration = self.data.calibration
        held = calibration_sentence(calibration, int(calibration["record_id"].nunique()), self.tool)
        if held:
            body.append(para(held))
        meetings = self.data.meetings.to_dict("records")
        if meetings:
            body.append(para(" ".join(self._meeting_phrase(m) + "." for m in meetings)))  # a sentence each
        if c["cases"]:
            rc = an.rated_counts(self.data.ratings, self.data.allocation, self.tool)
            every = "Each case record was" if rc["complete_cases"] == rc["rated_cases"] else "Case records were"
            text = (f"{every} rated on the {len(self.tool.questions)} questions of the audit "
                    f"tool ‘{self.tool.title}’, with an overall judgement.")
            body.append(para(text + self._moderation_phrase()))
        if c["cases"]:
            body.append(para(nv.selection_sentence(meta.case_selection, meta.selection_description,
                                                   council=meta.council)))
            examined = {str(case) for case in self.primary["case_id"]}
            teams = nv.teams_sentence([str(case.team or "") for case in meta.cases if str(case.id) in examined])
            if teams:
                body.append(para(teams))
        about = self.conversation_cases()
        if about:
            body.append(para(f"The conversations were about {about}."))
        body.append(self.narrative("introduction"))
        if meta.review_questions:
            body.append('<h3 id="review-questions">Review questions</h3>')
            body.append(para(f"{meta.council} asked the review to answer these questions:"))
            body.append('<ol class="review-questions">'
                        + "".join(f'<li><a href="#answer-{i}">{esc(" ".join(q.split()))}</a></li>'
                                  for i, q in enumerate(meta.review_questions, 1))
                        + "</ol>")
        return section(1, "Introduction", "introduction", body)

    def previous_review(self) -> str:
        """2. The previous review's recommendations with the host's update on each."""
        return findings.previous_review(self)

    def previous_appendix(self) -> str:
        """Appendix C: each previous recommendation with its update ('' in the classic layout)."""
        return findings.previous_appendix(self)

    def meetings(self) -> str:
        """3. Themes from the meetings: narrative, chosen quotes, theme counts, one-change lists."""
        return people.meetings(self)

    def data_analysis(self) -> str:
        """4. Data analysis: pooled ratings, overall judgements, headline, overview chart."""
        return ratings.data_analysis(self)

    def question_charts(self) -> str:
        """4 (cont.): one chart per question with its table, as the programme's reports have."""
        return ratings.question_charts(self)

    def consistency(self) -> str:
        """4 (cont.): moderation agreement, with the method named (no ratings by reviewer)."""
        return ratings.consistency(self)

    def case_records(self) -> str:
        """5. The PSWs' analysis of case records and conversations, with people's words."""
        return people.case_records(self)

    def observations(self) -> str:
        """6. Observations of the review team."""
        return section(6, "Observations of the review team", "observations", [self.narrative("observations")])

    def strengths(self) -> str:
        """7. Key strengths."""
        return section(7, "Key strengths", "strengths", [self.narrative("strengths")])

    def recommendations(self) -> str:
        """8. Recommendations, numbered with ids rec-1… so findings can link to them."""
        item = self.data.narrative.get("recommendations")
        if item is None or not item.written:
            return section(8, "Recommendations for practice improvement", "recommendations",
                            [self.narrative("recommendations")], flow=True)
        fragment, _ = number_list_items(markdown_html(item.text))
        fragment = link_recommendations(fragment, self.recommendation_count)
        return section(8, "Recommendations for practice improvement", "recommendations",
                        [f'<div class="narrative">{fragment}</div>'], flow=True)

    def _response_parts(self) -> list[str]:
        """The council's management response, the next steps and whom to contact: each written in its
        own narrative file, all optional (none shown when none is written)."""
        body = []
        for name, title in (("management_response", "Management response"), ("next_steps", "Next steps"),
                            ("contacts", "Contacts")):
            item = self.data.narrative.get(name)
            if item is not None and item.written:
                body.append(f'<div class="keep"><h3 id="{name.replace("_", "-")}">{esc(title)}</h3>'
                            f"{self.narrative(name)}</div>")
        return body

    def signatories(self) -> str:
        """The management response, next steps and contacts (when written), then the signatories: the
        team with their councils, and the report's date, printed on one page with the section before."""
        items = []
        for m in self.meta.team:
            role = ROLE_TITLES.get(m.role, "")
            parts = [p for p in (m.name, role, m.council) if p]
            items.append(f"<li>{esc(', '.join(parts))}</li>")
        when = long_date(self.data.report_date)
        iso = when != self.data.report_date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.data.report_date)
        date = (f'<time datetime="{esc(self.data.report_date)}">{esc(when)}</time>' if iso else esc(when))
        body = [f'<ul class="signatories">{"".join(items)}</ul>', f'<p class="report-date">{date}</p>']
        # One block, printed whole with the last short section before it: the date never sits alone.
        signed = section(None, "Signatories", "signatories", body, flow=True)
        parts = self._response_parts()
        if not parts:
            return f'<div class="signature-block">{signed}</div>'
        return (section(None, "Management response, next steps and contacts", "response", parts[:-1], flow=True)
                + f'<div class="signature-block">{parts[-1]}{signed}</div>')

