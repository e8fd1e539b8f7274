"""The regional comparison's sections as HTML, and its two charts, so the notebook stays thin.

``ComparisonReport`` turns a ``regional.Comparison`` into the sections of the regional report:
generated sentences, tables with captions and header cells, and charts with alt text that
states the figures. It follows the review report's conventions (``reportsections``): the same
table and figure markup, the same template, the same house style for numbers.

Up to ``PANEL_ROWS`` councils, a council × question heatmap and a dot chart of each council's
two rounds show every council. At national scale (150 councils) those would be unreadable, so
the charts summarise instead (each question's spread across councils; latest against previous
round as a scatter) and the full tables beside them carry every council's figures. Councils
stay in alphabetical (or pseudonym) order throughout.
"""

from __future__ import annotations

import base64
import math
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from reviewkit.core.tools import Level, RatingScale
from reviewkit.figures.charts import STYLE, WIDTH_IN, Chart, overview_chart, text_colour
from reviewkit.figures.sentences import count_noun, join_words
from reviewkit.region.compare import SUPPRESSED, Comparison, Share
from reviewkit.region.render import compare_folder
from reviewkit.report.markup import esc, html_table, show

__all__ = ["ComparisonReport", "change_chart", "change_scatter", "heatmap_chart", "show", "spread_chart"]

PANEL_ROWS = 30
HEAT_CMAP = "cividis"  # sequential, perceptually uniform and readable with colour-vision deficiency
SUPPRESSED_FILL = "#D9D9D9"
PREVIOUS, LATEST = "#E69F00", "#0072B2"  # Okabe–Ito orange and blue, also told apart by marker
NO_MATH = {"text.parse_math": False}  # a '$' in a council's name is text, not mathtext


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


# --------------------------------------------------------------------------- charts

def heatmap_chart(names: Sequence[str], questions: Sequence[tuple[str, str]], grid: Sequence[Sequence[Share]],
                  *, top_words: str = "Outstanding or Good", title: str = "") -> Chart:
    """Council × question heatmap of the share rated in the top levels, the value in every cell."""
    n_rows, n_cols = len(names), len(questions)
    values = np.array([[s.percent for s in row] for row in grid], dtype=float).reshape(n_rows, n_cols)
    title = title or f"Share of ratings {top_words}, by council and question"
    cmap = mpl.colormaps[HEAT_CMAP]
    with mpl.style.context(["default", STYLE, NO_MATH]):
        fig = _figure(0.3 * max(n_rows, 1) + 1.9)
        ax = fig.add_subplot()
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=100, aspect="auto")
        for r, row in enumerate(grid):
            for c, share in enumerate(row):
                if share.known:
                    fill = mpl.colors.to_hex(cmap(share.percent / 100))
                    ax.text(c, r, f"{share.percent:.1f}", ha="center", va="center", fontsize=7,
                            color=text_colour(fill))
                else:
                    hidden = share.k is None or share.n is None
                    ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=SUPPRESSED_FILL if hidden else "#FFFFFF",
                                           hatch="///" if hidden else "", edgecolor="#FFFFFF", linewidth=0))
                    ax.text(c, r, "supp." if hidden else "–", ha="center", va="center", fontsize=6.5,
                            color="#000000", bbox={"facecolor": SUPPRESSED_FILL if hidden else "#FFFFFF",
                                                   "edgecolor": "none", "pad": 0.5})
        ax.set_xticks(range(n_cols), [f"Q{i}" for i in range(1, n_cols + 1)])
        ax.xaxis.tick_top()
        ax.set_yticks(range(n_rows), [_wrap(n, 30) for n in names], fontsize=7.5)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, orientation="horizontal", location="bottom", fraction=0.05,
                           aspect=40, pad=0.02)
        bar.set_label(_wrap(f"Percentage of scored ratings that were {top_words} (supp. = suppressed)", 70))
        fig.suptitle(_wrap(title, 80), x=0.01, ha="left", fontsize=10, fontweight="bold")
    known = [(s.percent, names[r], c) for r, row in enumerate(grid) for c, s in enumerate(row) if s.known]
    hidden = sum(1 for row in grid for s in row if s.k is None or s.n is None)
    parts = []
    for c, (_, qtitle) in enumerate(questions):
        col = [grid[r][c].percent for r in range(n_rows) if grid[r][c].known]
        if col:
            parts.append(f"Q{c + 1} {qtitle} {min(col):.1f}% to {max(col):.1f}%")
    alt = (f"Heatmap of the percentage of scored ratings that were {top_words}, for {count_noun(n_rows, 'council')} "
           f"(rows, in the order of the table) and {n_cols} questions (columns Q1 to Q{n_cols}); darker cells are "
           "lower percentages, and each cell shows its value.")
    if known:
        lo, hi = min(known), max(known)
        alt += (f" Lowest: {lo[1]}, Q{lo[2] + 1}, {lo[0]:.1f}%. Highest: {hi[1]}, Q{hi[2] + 1}, {hi[0]:.1f}%. "
                f"Range across councils by question: {'; '.join(parts)}.")
    if hidden:
        alt += f" {count_noun(hidden, 'cell')} {'is' if hidden == 1 else 'are'} suppressed."
    alt += " Every value is in the table that follows."
    return Chart(fig, alt, title)


def change_chart(rows: Sequence[tuple[str, Share, Share, str, str]], *, top_words: str = "Outstanding or Good",
                 title: str = "") -> Chart:
    """Each council's share judged in the top levels in its previous and latest round, with intervals.

    ``rows`` holds (council, previous share, latest share, previous round, latest round).
    """
    title = title or f"Case records judged {top_words}: previous and latest round"
    n = len(rows)
    with mpl.style.context(["default", STYLE, NO_MATH]):
        fig = _figure(0.42 * max(n, 1) + 1.4)
        ax = fig.add_subplot()
        for y, (_, a, b, _, _) in enumerate(rows):
            for share, dy, colour, marker, face in ((a, -0.17, PREVIOUS, "o", "white"), (b, 0.17, LATEST, "s", LATEST)):
                if share.known:
                    lo, hi = share.interval
                    ax.errorbar(share.percent, y + dy, xerr=[[max(0.0, share.percent - lo)], [max(0.0, hi - share.percent)]], fmt=marker,
                                color=colour, markerfacecolor=face, markeredgecolor=colour, markersize=5,
                                capsize=2.5, linewidth=1.2)
                else:
                    ax.text(1.5, y + dy, SUPPRESSED if (share.k is None or share.n is None) else "no judgements",
                            va="center", fontsize=7, color="#000000")
        ax.errorbar([], [], xerr=[], fmt="o", color=PREVIOUS, markerfacecolor="white", label="Previous round")
        ax.errorbar([], [], xerr=[], fmt="s", color=LATEST, label="Latest round")
        ax.set_yticks(range(n), [_wrap(r[0], 30) for r in rows], fontsize=7.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 20), [f"{t}%" for t in range(0, 101, 20)])
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel(f"Percentage of case records judged {top_words}, with 95% interval")
        if n:
            fig.legend(loc="outside lower center", ncols=2, frameon=False)
        fig.suptitle(_wrap(title, 80), x=0.01, ha="left", fontsize=10, fontweight="bold")
    parts = [f"{name}: {a.display} ({a.interval_display}) in {ra}, {b.display} ({b.interval_display}) in {rb}"
             for name, a, b, ra, rb in rows]
    alt = (f"Dot chart of the percentage of case records judged {top_words} in each council's previous round "
           f"(hollow orange circles) and latest round (filled blue squares), each with its 95% interval as a line. "
           + "; ".join(parts) + ".")
    return Chart(fig, alt, title)


def spread_chart(questions: Sequence[tuple[str, str]], grid: Sequence[Sequence[Share]],
                 pooled: Sequence[float], *, top_words: str = "Outstanding or Good", title: str = "") -> Chart:
    """Per question, the spread of councils' shares (box of the middle half, a dot per council), for many councils."""
    title = title or f"Councils' share of ratings {top_words}, by question"
    n_q = len(questions)
    columns = [[row[c].percent for row in grid if row[c].known] for c in range(n_q)]
    with mpl.style.context(["default", STYLE, NO_MATH]):
        fig = _figure(0.42 * max(n_q, 1) + 1.5)
        ax = fig.add_subplot()
        filled = [i for i, col in enumerate(columns) if col]
        if filled:
            ax.boxplot([columns[i] for i in filled], positions=filled, orientation="horizontal", widths=0.6,
                       showfliers=False, whis=(0, 100), patch_artist=True,
                       boxprops={"facecolor": "#DCEAF5", "edgecolor": "#333333"},
                       medianprops={"color": "#000000", "linewidth": 1.5})
        for i, col in enumerate(columns):
            jitter = [((k * 0.618034) % 1 - 0.5) * 0.45 for k in range(len(col))]
            ax.scatter(col, [i + j for j in jitter], s=5, color=LATEST, alpha=0.55, linewidths=0, zorder=3)
            if not math.isnan(pooled[i]):
                ax.scatter([pooled[i]], [i], marker="D", s=28, color="#000000", zorder=4,
                           label="Region-wide (pooled)" if i == 0 else None)
        ax.set_yticks(range(n_q), [_wrap(f"{i}. {t}", 34) for i, (_, t) in enumerate(questions, 1)], fontsize=7.5)
        ax.set_ylim(n_q - 0.5, -0.5)
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 20), [f"{t}%" for t in range(0, 101, 20)])
        ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel(f"A council's percentage of scored ratings {top_words}")
        fig.legend(loc="outside lower center", frameon=False)
        fig.suptitle(_wrap(title, 80), x=0.01, ha="left", fontsize=10, fontweight="bold")
    parts = []
    for i, ((_, qtitle), col) in enumerate(zip(questions, columns), 1):
        if col:
            q1, med, q3 = np.percentile(col, [25, 50, 75])
            parts.append(f"Q{i} {qtitle}: median {med:.1f}%, middle half {q1:.1f}% to {q3:.1f}%, range "
                         f"{min(col):.1f}% to {max(col):.1f}%, region-wide {pooled[i - 1]:.1f}%")
    alt = (f"Box plot, one row per question, of the percentage of scored ratings that were {top_words} in each of "
           f"{count_noun(len(grid), 'council')} (a dot per council; the box spans the middle half; a diamond marks "
           "the region-wide pooled percentage). " + "; ".join(parts) + ". Every council's value is in the table "
           "that follows.")
    return Chart(fig, alt, title)


def change_scatter(rows: Sequence[tuple[str, Share, Share, str, str]], readings: Sequence[str], *,
                   top_words: str = "Outstanding or Good", title: str = "") -> Chart:
    """Latest against previous share for many councils: above the diagonal is higher than before."""
    title = title or f"Case records judged {top_words}: latest against previous round"
    styles = {"higher": ("^", LATEST, "Higher: the change's interval excludes no change"),
              "lower": ("v", "#D55E00", "Lower: the change's interval excludes no change"),
              "cannot": ("o", "#777777", "Cannot tell: the change's interval includes no change")}
    groups: dict[str, list[tuple[float, float]]] = {k: [] for k in styles}
    for (_, a, b, _, _), reading in zip(rows, readings):
        key = reading.split()[0].rstrip(":") if reading else ""
        if a.known and b.known and key in groups:
            groups[key].append((a.percent, b.percent))
    with mpl.style.context(["default", STYLE, NO_MATH]):
        fig = _figure(WIDTH_IN * 0.75)
        ax = fig.add_subplot()
        ax.plot([0, 100], [0, 100], color="#999999", linewidth=0.8, linestyle="--", zorder=1)
        for key, (marker, colour, label) in styles.items():
            pts = groups[key]
            if pts:
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker=marker, s=22, color=colour,
                           alpha=0.75, linewidths=0, label=f"{label} ({len(pts)})", zorder=3)
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        ax.set_aspect("equal")
        ticks = range(0, 101, 20)
        ax.set_xticks(ticks, [f"{t}%" for t in ticks])
        ax.set_yticks(ticks, [f"{t}%" for t in ticks])
        ax.set_xlabel("Previous round")
        ax.set_ylabel("Latest round")
        ax.legend(loc="lower right", frameon=True, fontsize=7.5)
        fig.suptitle(_wrap(title, 80), x=0.01, ha="left", fontsize=10, fontweight="bold")
    unknown = len(rows) - sum(len(v) for v in groups.values())
    counts = [f"{len(groups[k])} {styles[k][2].lower()}" for k in styles]
    alt = (f"Scatter plot of {count_noun(len(rows), 'council')}: the percentage of case records judged {top_words} "
           "in the latest round (up) against the previous round (across); points above the dashed diagonal are "
           f"higher than before. {join_words(counts)}" + (f"; {unknown} cannot be compared" if unknown else "")
           + ". Every council's figures, with both intervals, are in the table that follows.")
    return Chart(fig, alt, title)


# --------------------------------------------------------------------------- HTML pieces

def _p(text: str, cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<p{c}>{esc(text)}</p>"


def _section(number: int, title: str, ident: str, body: Iterable[str]) -> str:
    return f'<h2 id="{ident}" class="section-heading">{esc(f"{number}. {title}")}</h2>' + "".join(body)


class ComparisonReport:
    """Builds each section of the regional report; tables and figures are numbered in order."""

    def __init__(self, comparison: Comparison) -> None:
        self.c = comparison
        self._tables = 0
        self._figures = 0

    @classmethod
    def load(cls, folder: str | Path) -> ComparisonReport:
        """Compare the bundles of a folder written by ``regional.prepare_inputs``."""
        return cls(compare_folder(folder))

    # -- pieces -----------------------------------------------------------------------------
    def _table(self, df: pd.DataFrame, title: str, *, compact: bool = False, **kw: Any) -> str:
        self._tables += 1
        out = html_table(df, f"Table {self._tables}: {title}", **kw)
        return out.replace("<table", '<table style="font-size:.8rem"', 1) if compact else out

    def _compact_changes(self, table: pd.DataFrame) -> pd.DataFrame:
        """The change table in 7 columns (an A4 page's width): each share beside its interval."""
        top = self.c.top_words
        def both(share: str, interval: str) -> str:
            return share if interval in (SUPPRESSED, "–") else f"{share}; 95% interval {interval}"
        return pd.DataFrame({
            "Council": table["Council"], "Previous round": table["Previous round"],
            f"Then: judged {top}": [both(a, b) for a, b in zip(table[f"Then: judged {top}"], table["Then: 95% interval"])],
            "Latest round": table["Latest round"],
            f"Now: judged {top}": [both(a, b) for a, b in zip(table[f"Now: judged {top}"], table["Now: 95% interval"])],
            "Change": table["Change"], "Reading": table["Reading"]})

    def _figure(self, chart: Chart, after: str = "") -> str:
        self._figures += 1
        n = self._figures
        png = base64.b64encode(chart.to_png()).decode("ascii")
        w, h = chart.figure.get_size_inches()
        return (f'<div class="chart-block"><figure class="chart" id="figure-{n}">'
                f'<img src="data:image/png;base64,{png}" alt="{esc(chart.alt)}" '
                f'width="{round(w * 96)}" height="{round(h * 96)}">'
                f"<figcaption>Figure {n}: {esc(chart.title)}</figcaption></figure>{after}</div>")

    def _matrix(self, names: Sequence[str], grid: Sequence[Sequence[Share]], title: str) -> str:
        """Council × question table in a compact layout (13 columns must fit an A4 page)."""
        self._tables += 1
        head = "".join(f'<th scope="col">Q{i}</th>' for i in range(1, len(self.c.questions) + 1))
        body = []
        for name, row in zip(names, grid):
            cells = "".join(f'<td style="text-align:right">{esc(s.display)}</td>' for s in row)
            body.append(f'<tr><th scope="row">{esc(name)}</th>{cells}</tr>')
        return (f'<table class="matrix" style="font-size:.72rem"><caption>Table {self._tables}: {esc(title)}'
                f'</caption><thead><tr><th scope="col">Council</th>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table>")

    def _scale(self) -> RatingScale:
        scores = dict(self.c.bundles[0].levels)
        return RatingScale("comparison", tuple(Level(lb, lb, scores[lb]) for lb in self.c.levels))

    def cover(self, version: str = "", render_date: str = "") -> dict[str, Any]:
        """What the template's cover shows (no council is named when pseudonymised)."""
        return self.c.cover(version, render_date)

    # -- sections ---------------------------------------------------------------------------
    def introduction(self) -> str:
        c = self.c
        body = [_p(c.scope_sentence()), _p(c.tool_sentence()), _p(c.caveat(), "headline"),
                _p(c.suppression_sentence())]
        if c.pseudonymised:
            body.append(_p("Councils are shown as pseudonyms (Council A, Council B, …) assigned in an order that "
                           "does not follow their names, and rounds are shown by year only. A council's own "
                           "published report shows some of the same figures, so pseudonyms deter casual "
                           "identification rather than prevent a determined reader matching them."))
        body.append(_p(f"Each council sent a de-identified bundle of counts: no case references, reviewer names, "
                       f"notes, quotes or exact dates. “{c.top_words}” counts the top two levels of the rating "
                       "scale; every percentage is of scored ratings (Not applicable is left out) and is shown "
                       "beside its count with a 95% Wilson interval where it stands alone.", "method"))
        return _section(1, "About this comparison", "about", body)

    def councils(self) -> str:
        c = self.c
        f = c.council_figures()
        known = f[f["judged"].notna() & (f["judged"] > 0)]
        body = [_p(f"The table gives each council's latest round: how many case records it examined and how many "
                   f"of them were judged {c.top_words} overall, with the 95% interval of that share, and how many "
                   f"were judged {c.bottom_words}.")]
        if len(known):
            body.append(_p(f"Across the councils the share judged {c.top_words} ranges from "
                           f"{known['good %'].min():.1f}% to {known['good %'].max():.1f}%; the intervals show how "
                           "far each figure could move by chance with so few case records."))
        order = "pseudonym" if c.pseudonymised else "alphabetical"
        body.append(self._table(c.council_table(), f"Overall judgements in each council's latest round ({order} "
                                "order, not a ranking)", numeric=list(c.council_table().columns[2:])))
        return _section(2, "Councils at a glance", "councils", body)

    def by_question(self) -> str:
        c = self.c
        names, grid = c.question_shares()
        key = "; ".join(f"Q{i} {t}" for i, (_, t) in enumerate(c.questions, 1))
        body = [_p(f"For each council's latest round and each question: the number of scored ratings that were "
                   f"{c.top_words}, and that number as a percentage of the question's scored ratings. Questions: "
                   f"{key}.")]
        table = self._matrix(names, grid, f"Ratings {c.top_words} by council and question: number (percentage "
                             "of scored ratings)")
        if len(names) <= PANEL_ROWS:
            chart = heatmap_chart(names, c.questions, grid, top_words=c.top_words)
        else:
            # A heatmap of every council would be unreadable: show each question's spread instead.
            pooled = c.pooled_distribution()["good_or_better %"].tolist()
            chart = spread_chart(c.questions, grid, pooled, top_words=c.top_words)
        body.append(self._figure(chart, table))
        return _section(3, "Practice by question and council", "by-question", body)

    def region_wide(self) -> str:
        c = self.c
        pooled = c.pooled_distribution()
        weakest = c.weakest_questions()
        scale = self._scale()
        body = [_p("All councils' latest rounds pooled, question by question. A council is left out of a "
                   "question's pooled figures when any of its counts for that question is suppressed; the last "
                   "column says how many councils each row pools.")]
        chart = overview_chart(pooled, scale, title="Region-wide ratings by question")
        body.append(self._figure(chart, self._table(c.pooled_table(), "Region-wide ratings by question: number "
                                                    "(percentage of scored ratings)",
                                                    numeric=list(c.pooled_table().columns[1:]))))
        if len(weakest):
            items = [f"question {r}" for r in weakest["Question"]]
            body.append(_p(f"The questions least often rated {c.top_words} across the region were "
                           f"{join_words(items)}.", "headline"))
            body.append(self._table(weakest, f"The questions least often rated {c.top_words} region-wide",
                                    numeric=list(weakest.columns[1:])))
        return _section(4, "Region-wide ratings", "region-wide", body)

    def changes(self) -> str:
        c = self.c
        table = c.changes()
        body = []
        if not len(table):
            body.append(_p("No council has a previous round in these bundles, so change cannot be shown yet."))
            return _section(5, "Change since each council's previous review", "changes", body)
        readings = table["Reading"].tolist()
        noise = sum(r.startswith("cannot tell") for r in readings)
        higher = sum(r.startswith("higher") for r in readings)
        lower = sum(r.startswith("lower") for r in readings)
        unknown = len(readings) - noise - higher - lower
        parts = []
        if noise:
            parts.append(f"for {noise} the 95% interval of the change includes no change, so these figures cannot "
                         "tell whether practice changed")
        if higher:
            parts.append(f"{higher} {'was' if higher == 1 else 'were'} higher, with the whole interval above no change")
        if lower:
            parts.append(f"{lower} {'was' if lower == 1 else 'were'} lower, with the whole interval below no change")
        if unknown:
            parts.append(f"{unknown} cannot be compared")
        chance = len(readings) * 0.05
        by_chance = "fewer than one is likely to" if chance < 0.5 else f"about {max(1, round(chance))} may"
        body.append(_p(f"Of the {count_noun(len(table), 'council')} with a previous round, {join_words(parts)}. "
                       "Each change has its own 95% interval (Newcombe's hybrid score method). An interval that "
                       "includes no change means the data cannot tell a real change from chance; it does not show "
                       "that nothing changed. Each comparison has a 1 in 20 chance of showing a change where there "
                       f"was none: of these {len(readings)}, {by_chance} do so by chance alone."))
        rows = []
        latest_names = dict(zip(table["Council"], table.index))
        for bundles in c.rounds().values():
            if len(bundles) > 1 and c.council(bundles[-1]) in latest_names:
                prev, last = bundles[-2], bundles[-1]
                rows.append((c.council(last), c.share(prev.overall, c.top), c.share(last.overall, c.top),
                             c.round_label(prev), c.round_label(last)))
        chart = (change_chart(rows, top_words=c.top_words) if len(rows) <= PANEL_ROWS
                 else change_scatter(rows, table["Reading"].tolist(), top_words=c.top_words))
        body.append(self._figure(chart, self._table(self._compact_changes(table), "Change since the previous round",
                                                    numeric=["Change"], compact=True)))
        return _section(5, "Change since each council's previous review", "changes", body)

    def themes(self) -> str:
        c = self.c
        reach = c.theme_reach().drop(columns="code")
        n = len(c.latest())
        body = [_p(f"How many of the {count_noun(n, 'council')}' latest reviews recorded notes on each theme, in "
                   "meetings with staff, in conversations with people and carers, or in either. A theme counts "
                   "as raised when at least one note was coded with it.")]
        if c.pseudonymised:
            body.append(_p("Themes only one council raised are left out, as they could identify it."))
        if len(reach):
            body.append(self._table(reach, "Themes raised across the region (most widely raised first)",
                                    numeric=list(reach.columns[1:])))
        else:
            body.append(_p("No theme to show."))
        return _section(6, "Themes across the region", "themes", body)

    def recommendations(self) -> str:
        c = self.c
        if c.pseudonymised:
            body = [_p("Recommendation headings are left out of a pseudonymised comparison: they are published in "
                       "each council's own report, so they would identify the council.")]
            return _section(7, "Recommendations made", "recommendations", body)
        recs = c.recommendations()
        body = [_p("The headings of the recommendations each council's latest review made, as published in its "
                   "report.")]
        for row in recs.itertuples(index=False):
            body.append(f"<h3>{esc(row.Council)} ({esc(row.Round)})</h3>")
            if row.Recommendations:
                body.append("<ol>" + "".join(f"<li>{esc(h)}</li>" for h in row.Recommendations) + "</ol>")
            else:
                body.append(_p("No recommendation headings were included in the bundle."))
        return _section(7, "Recommendations made", "recommendations", body)


