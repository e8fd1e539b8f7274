"""The tracking report's sections as HTML, so notebooks/tracking_report.ipynb stays thin.

In: the notebook's input folder (``options.yaml``: the programme folder and whether to show
each team), written by ``reviewkit.inhouse.render``. Out: each section's HTML: sentences,
tables with captions and header cells, and p-charts with alt text that names every rule that
fired and its direction. Variation is stated in words beside each figure ("Special cause:
improvement (up)", "Common-cause variation"), the accessible equivalent of Making Data
Count's icons. Built on the review report's markup (``reviewkit.report.markup``).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pandas as pd

from reviewkit.core.errors import ProgrammeError
from reviewkit.core.yamlfile import load_yaml
from reviewkit.figures.analysis import format_count, format_percent
from reviewkit.figures.charts import Chart
from reviewkit.figures.sentences import count_noun
from reviewkit.figures.spc import BASELINE_MONTHS, MIN_MONTH_RECORDS, RULES, too_few, typical_count
from reviewkit.figures.spcchart import spc_chart, variation_label
from reviewkit.figures.tracking import Measure, annual_sentence, month_label, reading_sentence
from reviewkit.inhouse.programme import open_programme
from reviewkit.inhouse.tracking import Tracking, load_tracking
from reviewkit.report.markup import bullets, esc, html_table, para, section, show

__all__ = ["OPTIONS_FILE", "TrackingReport", "show"]

OPTIONS_FILE = "options.yaml"


def _p(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{esc(text)}</p>' if cls else para(text)


class TrackingReport:
    """Builds each section of the tracking report; tables and figures are numbered in order."""

    def __init__(self, track: Tracking) -> None:
        self.t = track
        self._tables = 0
        self._figures = 0

    @classmethod
    def load(cls, folder: str | Path) -> TrackingReport:
        folder = Path(folder)
        options = load_yaml((folder / OPTIONS_FILE).read_bytes(), str(folder / OPTIONS_FILE), ProgrammeError) or {}
        programme = open_programme(options["programme"])
        return cls(load_tracking(programme, by_team=bool(options.get("by_team"))))

    # -- pieces -----------------------------------------------------------------------------
    def _table(self, df: pd.DataFrame, title: str, **kw: Any) -> str:
        self._tables += 1
        return html_table(df, f"Table {self._tables}: {title}", **kw)

    def _figure(self, chart: Chart, before: str = "") -> str:
        self._figures += 1
        n = self._figures
        png = base64.b64encode(chart.to_png()).decode("ascii")
        w, h = chart.figure.get_size_inches()
        return (f'<div class="chart-block">{before}<figure class="chart" id="figure-{n}">'
                f'<img src="data:image/png;base64,{png}" alt="{esc(chart.alt)}" '
                f'width="{round(w * 96)}" height="{round(h * 96)}">'
                f"<figcaption>Figure {n}: {esc(chart.title)}</figcaption></figure></div>")

    def _measure(self, m: Measure, heading: str = "h3") -> str:
        """Heading, the variation in words, the p-chart (kept on one page), then its latest months as a table."""
        label = variation_label(m)
        name = f"{m.label}{' – ' + m.team if m.team else ''}"
        chart = spc_chart(m)
        head = (f"<{heading}>{esc(name)}</{heading}>"
                f'<p class="variation"><strong>Variation: {esc(label)}.</strong> {esc(reading_sentence(m))}</p>')
        return (self._figure(chart, head)
                + self._table(chart.table, f"{name}: the latest {min(12, len(m.months))} months", numeric=["Audited"]))

    # -- sections ---------------------------------------------------------------------------
    def introduction(self) -> str:
        t, p = self.t, self.t.programme
        audits = int(t.counts["audits"].sum())
        body = [_p(f"This report tracks the audits of {p.council}'s {p.title} month by month, from {month_label(t.months[0])} to "
                   f"{month_label(t.months[-1])}: {count_noun(audits, 'case record')} audited by the council's own "
                   f"auditors with the {p.tool.title} (version {p.tool.version}), in "
                   f"{count_noun(len(p.teams), 'team')}.", "headline"),
                _p("Each month's figure is the share of the records audited that month that were rated Outstanding "
                   "or Good (Not applicable is left out). Each record counts once, with the first auditor's rating; "
                   "a moderator's second rating is compared with it in section 5, never added to it."),
                _p("The charts are p-charts, read with NHS England's Making Data Count rules. The centre line is "
                   f"the share over the first {BASELINE_MONTHS} months (or every month while there are fewer), and "
                   "the process limits lie three standard errors either side of it; they are wider in a month with "
                   "fewer records. A rule fires on:"),
                bullets(list(RULES.values())),
                _p("Special-cause variation on a share of records rated Outstanding or Good is an improvement when "
                   "it is upward and a concern when it is downward. Anything else is common-cause variation: a "
                   "month higher or lower than another is then not evidence of change, however far apart the two "
                   "figures look. Each measure's reading is that of its latest month, as Making Data Count's "
                   "variation icons show it; the charts mark every month a rule fired on (a blue triangle pointing "
                   "up for improvement, an orange one pointing down for concern).")]
        if p.changes:
            body.append(_p("New limits start only where the programme recorded a change:"))
            body.append(bullets(f"{month_label(c.month)}: {c.what}" for c in p.changes))
        else:
            body.append(_p("No change to how audits are done has been recorded, so one set of limits covers every "
                           "month."))
        return section(1, "About this report", "about", body)

    def year(self) -> str:
        t = self.t
        year = t.year
        span = f"{month_label(year[0])} to {month_label(year[-1])}"
        body = [_p(f"The year's figures, {span}, as the annual report states them, each with what the Making Data "
                   "Count rules say beside it. Figures for two months side by side are not a change unless the rules "
                   "say so.")]
        rows = []
        for m in t.council:
            body.append(f"<p>{esc(annual_sentence(m, year))} <strong>{esc(variation_label(m))}.</strong></p>")
            c = m.chart
            last = max(i for i, p in enumerate(c.p) if p is not None)
            rows.append({"Measure": m.label, "Latest month": month_label(m.months[last]),
                         "Outstanding or Good": format_count(c.x[last], c.n[last]), "Reading": variation_label(m)})
        body.append(self._table(pd.DataFrame(rows), f"Outstanding or Good, {span}: the latest month and its reading",
                                numeric=["Outstanding or Good"]))
        if t.themes:
            body.append(_p("Practice themes, as shares of the audits tagged with each:"))
            body += [f"<p>{esc(annual_sentence(m, year))} <strong>{esc(variation_label(m))}.</strong></p>"
                     for m in t.themes]
        return section(2, "The year's figures", "year", body)

    def action_plan(self) -> str:
        t = self.t
        if not t.plan:
            return section(3, "Action plan measures", "plan", [_p(
                "No action plan measure of success names a question of the audit tool, so none is tracked here. "
                "Name the question (such as q5 or its title) in the plan's measure of success to track it.")],
                flow=True)
        rows = []
        latest, year = t.months[-1], t.year
        for pm in t.plan:
            m = pm.measure
            c = m.chart
            i = m.months.index(latest)
            idx = [m.months.index(mo) for mo in year]
            n, x = sum(c.n[k] for k in idx), sum(c.x[k] for k in idx)
            rows.append({"Recommendation": f"{pm.number}. {pm.recommendation}", "Status": pm.status or "–",
                         "Measure of success": pm.measure_text,
                         month_label(latest): format_count(c.x[i], c.n[i]) if c.n[i] else "–",
                         f"The {len(year)} months": format_count(x, n) if n else "–",
                         "Reading": variation_label(m)})
        body = [_p("Each action plan row whose measure of success names a question, with that question's figure for "
                   "the latest month and the year, and what the rules say about them (the question's chart is in "
                   "section 4)."),
                self._table(pd.DataFrame(rows), "The action plan's measures, tracked: records rated Outstanding or "
                            "Good", row_headers=False, numeric=[month_label(latest), f"The {len(year)} months"])]
        return section(3, "Action plan measures", "plan", body, flow=True)

    def council(self) -> str:
        body = [_p("The overall judgement first, then each question of the audit tool, for the whole council.")]
        body += [self._measure(m) for m in self.t.council]
        return section(4, "Month by month: the overall judgement and each question", "questions", body)

    def moderation(self) -> str:
        df = self.t.counts.tail(12)
        table = pd.DataFrame({
            "Month": [month_label(m) for m in df["month"]], "Audits": df["audits"],
            "Moderated": df["moderated"],
            "Same overall judgement": [format_count(a, n) if n else "–" for a, n in zip(df["agreed"], df["moderated"])],
            "With feedback": df["feedback"],
            "Feedback positive": [format_count(a, n) if n else "–" for a, n in zip(df["positive"], df["feedback"])]})
        total = self.t.counts
        body = [_p(f"Over the whole programme a second auditor rated {int(total['moderated'].sum())} of the "
                   f"{int(total['audits'].sum())} records again; they gave the same overall judgement in "
                   f"{format_percent(int(total['agreed'].sum()), int(total['moderated'].sum()))} of them. The person "
                   f"or their carer gave feedback on {int(total['feedback'].sum())} audits (who gave it, and whether "
                   "it was positive, mixed or negative; what they said stays in the case record)."),
                self._table(table, "The moderation sample and feedback, the latest 12 months",
                            numeric=["Audits", "Moderated", "Same overall judgement", "With feedback",
                                     "Feedback positive"])]
        return section(5, "Moderation and feedback", "moderation", body)

    def themes(self) -> str:
        t = self.t
        if not t.themes:
            return section(6, "Practice themes", "themes", [_p("The programme tags no practice themes (add them under "
                                                                 "themes: in programme.yaml).")], flow=True)
        body = [_p("Each theme's share of the audits tagged with it, month by month. Whether up is better is set "
                   "for each theme in programme.yaml; where neither way is, a signal is called higher or lower.")]
        body += [self._measure(m) for m in t.themes]
        return section(6, "Practice themes", "themes", body)

    def teams(self) -> str:
        t = self.t
        if not t.teams:
            return ""
        body = [_p("For each team, the overall judgement, every question of the audit tool and each practice theme, "
                   "as p-charts read in the same way as the council's. A team has fewer records each month than the "
                   "council, so its limits are wider. A measure is charted only where the team's counts support it: "
                   f"at least {MIN_MONTH_RECORDS} records in a typical month, and enough of them going the less "
                   "common way for the limits to mean something. The others are listed after the team's charts "
                   "with the reason, and are not read.")]
        for team in t.teams:
            body.append(f"<h3>{esc(team)}</h3>")
            items = t.team_measures(team)
            skipped = [(m, why) for m in items if (why := too_few(m.chart))]
            charted = [m for m in items if not too_few(m.chart)]
            if not charted:
                body.append(_p(f"{team}: no measure has enough records a month for a chart (see the table below)."))
            body += [self._measure(m, "h4") for m in charted]
            if skipped:
                year = set(t.year)
                rows = []
                for m, why in skipped:
                    idx = [i for i, mo in enumerate(m.months) if mo in year]
                    n, x = sum(m.chart.n[i] for i in idx), sum(m.chart.x[i] for i in idx)
                    rows.append({"Measure": m.label, "Records in a typical month": f"{typical_count(m.chart):g}",
                                 f"The latest {len(idx)} months": format_count(x, n) if n else "–",
                                 "Why it is not charted": why[0].upper() + why[1:]})
                body.append(self._table(pd.DataFrame(rows), f"{team}: measures with too few records a month to chart "
                                        "(shares of records rated Outstanding or Good, or of audits tagged with a "
                                        "theme)", numeric=["Records in a typical month"]))
        return section(7, "By team", "teams", body)
