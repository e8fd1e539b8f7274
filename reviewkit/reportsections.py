"""The report's sections as HTML, built from a workspace's data so the notebook stays thin.

Each ``ReportBuilder`` method returns one section's HTML: generated sentences (every figure
computed, never typed), tables with captions and header cells, charts as figures with alt
text, and the PSWs' narrative files rendered from Markdown. The notebook calls one method per
cell and ``show``s the result; nbconvert then wraps the outputs in the kit's template.

Only published material reaches the HTML: aggregate figures, the narrative files, and quotes
and "one change" entries a reviewer marked for the report (``reportdata`` drops the rest).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import html
import json
import logging
import math
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import mistune
import pandas as pd

from . import analysis as an
from . import narrative as nv
from .intervals import CLUSTERED_METHOD
from .reportdata import Narrative, ReportData, load_report_data
from .snapshot import ReviewSnapshot

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
PLACEHOLDER = "[Draft: the review team has not yet written this section]"
MIN_ROLE_COUNT = 3  # fewer attendees of a role than this and a quote says "participant"
ROLE_TITLES = {"visiting": "Principal Social Worker", "host": "Principal Social Worker",
               "associate": "Programme associate"}
GROUP_ORDER = ("practitioners", "managers", "other", "meeting")
# Set by render_report in the kernel's environment: a private folder where the render is putting
# this report's charts, drawn ahead in the parent process while the kernel starts.
CHARTS_ENV = "REVIEWKIT_CHARTS"
CHART_WAIT = 30  # seconds to wait for a chart drawn ahead before drawing it (and the rest) here
_DONE = "done"


def esc(value: Any) -> str:
    """Text escaped for HTML content and attributes."""
    return html.escape(str(value), quote=True)


def show(section_html: str) -> None:
    """Display a section in the notebook (and so in the rendered report)."""
    from IPython.display import HTML, display

    display(HTML(section_html))


# --------------------------------------------------------------------------- dates

def long_date(value: str) -> str:
    """'2026-10-05' → '5 October 2026'; '2022-06' → 'June 2022'; other text unchanged."""
    value = (value or "").strip()
    try:
        d = dt.date.fromisoformat(value)
        return f"{d.day} {d:%B %Y}"
    except ValueError:
        pass
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})", value)
    if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1:  # year 0000 does not exist
        return f"{dt.date(int(m.group(1)), int(m.group(2)), 1):%B %Y}"
    return value


def date_range(start: str, end: str) -> str:
    """'5 to 16 October 2026', '28 September to 9 October 2026', or one date."""
    if not start or not end or start == end:
        return long_date(start or end)
    try:
        a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return f"{long_date(start)} to {long_date(end)}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day} to {b.day} {b:%B %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%B} to {b.day} {b:%B %Y}"
    return f"{long_date(start)} to {long_date(end)}"


# --------------------------------------------------------------------------- HTML helpers

def html_table(df: pd.DataFrame, caption: str, *, row_headers: bool = True,
               numeric: Sequence[str] = (), css_class: str = "") -> str:
    """A table with a caption and header cells (``th scope``), escaped, from a DataFrame.

    The first column is a row header when ``row_headers``; columns named in ``numeric`` are
    right-aligned.
    """
    cls = f' class="{esc(css_class)}"' if css_class else ""
    head = "".join(f'<th scope="col"{_num(c, numeric)}>{esc(c)}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for i, (col, value) in enumerate(zip(df.columns, row)):
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else esc(value)
            if i == 0 and row_headers:
                cells.append(f'<th scope="row">{text}</th>')
            else:
                cells.append(f"<td{_num(col, numeric)}>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table{cls}><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _num(col: Any, numeric: Sequence[str]) -> str:
    return ' class="num"' if col in numeric else ""


class _Renderer(mistune.HTMLRenderer):
    """Narrative headings sit under the section's own heading: '#' becomes h3."""

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        level = min(level + 2, 6)
        return f"<h{level}>{text}</h{level}>\n"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        # A narrative cannot pull in files: the report is self-contained and every image it
        # shows is a chart with alt text, so an image in the Markdown shows its alt text only.
        return text


_MARKDOWN = mistune.create_markdown(escape=True, renderer=_Renderer(escape=True),
                                    plugins=["strikethrough", "table"])
_REC_LINK = re.compile(r"\b([Rr]ecommendations?)\s+(\d+)\b")
_TAG = re.compile(r"(<[^>]+>)")


def markdown_html(text: str, *, recommendations: int = 0) -> str:
    """Narrative Markdown as HTML (raw HTML escaped); 'Recommendation 3' links to #rec-3."""
    out = str(_MARKDOWN(text))
    return link_recommendations(out, recommendations) if recommendations else out


def sub_outside_links(fragment: str, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> str:
    """``pattern.sub(repl, …)`` over the text of an HTML fragment, never inside tags or existing links."""
    parts = _TAG.split(fragment)
    in_link = 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            low = part.lower()
            in_link += low.startswith("<a ") or low == "<a>"
            in_link -= low.startswith("</a")
        elif not in_link:
            parts[i] = pattern.sub(repl, part)
    return "".join(parts)


def link_recommendations(fragment: str, count: int) -> str:
    """Link 'Recommendation N' in text (never inside tags or existing links) to #rec-N."""

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(2))
        if not 1 <= n <= count:
            return m.group(0)
        return f'<a href="#rec-{n}">{m.group(1)} {n}</a>'

    return sub_outside_links(fragment, _REC_LINK, repl)


_LIST_TAG = re.compile(r"<(/?)(ol|ul|li)\b([^>]*)>")


def number_list_items(fragment: str, prefix: str = "rec") -> tuple[str, int]:
    """Make the first top-level list an ordered list whose items have ids prefix-1, prefix-2…"""
    out, pos, depth, found, n, done = [], 0, 0, False, 0, False
    for m in _LIST_TAG.finditer(fragment):
        closing, tag = m.group(1) == "/", m.group(2)
        out.append(fragment[pos:m.start()])
        pos = m.end()
        text = m.group(0)
        if tag in ("ol", "ul"):
            if not closing:
                if depth == 0 and not found and not done:
                    found = True
                    text = f'<ol class="recommendations"{m.group(3)}>'
                depth += 1
            else:
                depth -= 1
                if depth == 0 and found and not done:
                    text, done = "</ol>", True
        elif tag == "li" and not closing and found and not done and depth == 1:
            n += 1
            text = f'<li id="{prefix}-{n}"{m.group(3)}>'
        out.append(text)
    out.append(fragment[pos:])
    return "".join(out), n


def _section(number: int | None, title: str, ident: str, body: Iterable[str], *, flow: bool = False) -> str:
    """A numbered section; printed on a new page unless ``flow`` (short closing sections)."""
    label = f"{number}. {title}" if number is not None else title
    cls = "section-heading flow" if flow else "section-heading"
    return f'<h2 id="{ident}" class="{cls}">{esc(label)}</h2>' + "".join(body)


def _p(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def _ul(items: Iterable[str], cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<ul{c}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def _quote(text: str, attribution: str) -> str:
    body = text.strip().strip("\"“”'‘’").strip()
    return (f'<blockquote class="quote"><p>“{esc(body)}”</p>'
            f'<p class="attribution">{esc(attribution)}</p></blockquote>')


def _top_themes(totals: pd.Series, n: int = 3) -> str:
    """The n themes raised most often, most first, with every theme tied with the nth named too.

    Cutting a tie at n would pick themes by their name alone; when every theme ties, none is
    "raised most often".
    """
    def name(label: str) -> str:
        return label.lower() if label[:1].isupper() and not label.isupper() else label

    totals = totals.sort_values(ascending=False, kind="mergesort")
    if len(totals) > 1 and totals.nunique() == 1:
        return (f"Each of the {len(totals)} themes was raised the same number of times "
                f"({int(totals.iloc[0])}).")
    cut = totals.iloc[min(n, len(totals)) - 1]
    top = [f"{name(str(label))} ({int(k)})" for label, k in totals[totals >= cut].items()]
    if len(top) == 1:
        return f"The theme raised most often was {top[0]}."
    return f"The themes raised most often were {nv.join_words(top)}."


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


# --------------------------------------------------------------------------- charts

@dataclass(frozen=True)
class RenderedChart:
    """A chart as the report embeds it: PNG bytes, alt text, title, table and size in inches."""

    png: bytes
    alt: str
    title: str
    table: pd.DataFrame
    width_in: float
    height_in: float


def render_chart(kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> RenderedChart:
    """Build one chart with ``reviewkit.charts.<kind>`` and render it (also in a worker process)."""
    from . import charts

    chart = getattr(charts, kind)(*args, **kwargs)
    w, h = chart.figure.get_size_inches()
    return RenderedChart(chart.to_png(), chart.alt, chart.title, chart.table, float(w), float(h))


ChartJob = tuple[str, tuple[Any, ...], dict[str, Any]]


def _canonical(value: Any) -> Any:
    """A JSON-able form of a chart's inputs that is the same in any process for the same data."""
    if isinstance(value, pd.DataFrame):
        return {"frame": [str(c) for c in value.columns], "dtypes": [str(d) for d in value.dtypes],
                "index": _canonical(value.index.tolist()), "rows": _canonical(value.values.tolist()),
                "attrs": _canonical(value.attrs)}
    if isinstance(value, pd.Series):
        return {"series": str(value.name), "index": _canonical(value.index.tolist()),
                "values": _canonical(value.tolist()), "dtype": str(value.dtype)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if dataclasses.is_dataclass(value):
        return repr(value)
    if hasattr(value, "item"):  # a numpy scalar
        return _canonical(value.item())
    return repr(value)


def _chart_digest(job: ChartJob) -> str:
    """A hash of everything a chart is drawn from, to check a chart drawn elsewhere is this one."""
    text = json.dumps(_canonical(list(job)), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _chart_file(folder: Path, key: str) -> Path:
    return folder / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".chart")


def _draw_into(folder: Path, key: str, job: ChartJob) -> None:
    """Draw one chart into the folder, whole or not at all, with the digest of its inputs."""
    blob = pickle.dumps((_chart_digest(job), render_chart(*job)), protocol=pickle.HIGHEST_PROTOCOL)
    target = _chart_file(folder, key)
    partial = target.with_suffix(".partial")
    partial.write_bytes(blob)
    partial.replace(target)


def _draw_into_star(task: tuple[Path, str, ChartJob]) -> None:
    _draw_into(*task)


def prerender_charts(workspace: str | Path | ReviewSnapshot, folder: str | Path, *,
                     withhold_identifiers: bool = False, processes: int = 1) -> None:
    """Draw every chart of the report into ``folder``, in report order, for the notebook to pick up.

    render_report runs this in a process of its own while the kernel starts, and names the
    folder in the kernel's environment (``CHARTS_ENV``), drawing from the same snapshot of
    the review as the kernel (``reviewkit.snapshot``). Each chart is written whole, with a
    digest of its inputs, and ``done`` is written last, even on an error: the notebook then
    draws for itself any chart that is missing or was drawn from other data. With
    ``processes`` > 1 (Linux only) the charts are shared between that many forked workers.
    """
    import multiprocessing

    folder = Path(folder)
    try:
        data = load_report_data(workspace, withhold_identifiers=withhold_identifiers)
        tasks = [(folder, key, job) for key, job in ReportBuilder(data)._chart_jobs.items()]
        from . import charts  # noqa: F401  imported before any fork, so workers start warm

        if processes > 1 and sys.platform == "linux":
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                for _ in pool.imap(_draw_into_star, tasks):
                    pass
        else:
            for task in tasks:
                _draw_into(*task)
    finally:
        (folder / _DONE).touch()


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
        return an.theme_counts(self.data.notes, self.data.codebook_labels)

    @cached_property
    def i_statement_counts(self) -> pd.DataFrame:
        from . import cqc

        book = self.data.codebook
        return (cqc.i_statement_counts(self.data.notes, book) if book is not None
                else pd.DataFrame(columns=cqc.I_COUNT_COLUMNS))

    @cached_property
    def cqc_questions(self) -> pd.DataFrame:
        from . import cqc

        return cqc.question_evidence(self.primary, self.tool)

    @cached_property
    def cqc_codes(self) -> pd.DataFrame:
        from . import cqc

        book = self.data.codebook
        return (cqc.code_evidence(self.data.notes, book) if book is not None
                else pd.DataFrame(columns=cqc.CODE_EVIDENCE_COLUMNS))

    @cached_property
    def trend_table(self) -> pd.DataFrame:
        from .trend import compare_rounds

        prev = self.data.previous_round
        return compare_rounds(self.primary, self.tool, prev) if prev is not None else pd.DataFrame()

    @cached_property
    def cqc_i_statements(self) -> pd.DataFrame:
        from . import cqc

        return cqc.i_statement_evidence(self.i_statement_counts)

    # -- charts, optionally rendered in parallel ----------------------------------------
    @cached_property
    def _chart_jobs(self) -> dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]]:
        """Every chart of the report, in the order the report shows them."""
        jobs: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {}
        if len(self.themes):
            jobs["themes"] = ("theme_chart", (self.themes,), {"top": 10})
        jobs["overall"] = ("overall_chart", (self.overall, self.scale), {})
        jobs["overview"] = ("overview_chart", (self.by_question, self.scale), {})
        for _, row in self.by_question.iterrows():
            jobs[f"question-{row['question']}"] = ("question_chart", (row, self.scale), {})
        from .findingsections import chart_jobs

        jobs.update(chart_jobs(self))
        return jobs

    def start_charts(self, processes: int | None = None) -> None:
        """Render the charts in worker processes now, while the text sections are built.

        Charts are most of a render's time; on a machine with two or more cores this takes
        them off the critical path. Where processes cannot be forked (Windows, macOS' spawn
        default) the charts are simply rendered one by one when each section needs them.
        Under ``reviewkit report`` this does nothing: the render is drawing them already, in a
        process of its own that started with the kernel (``prerender_charts``).
        """
        import multiprocessing

        workers = processes or min(2, os.cpu_count() or 1)
        if workers < 2 or sys.platform != "linux" or self._pool is not None or self._ahead is not None:
            return  # (or the render is drawing them ahead, in its own process)
        from . import charts  # noqa: F401  imported once here, so the workers start warm

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
        path, done = _chart_file(self._ahead, key), self._ahead / _DONE
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
        if digest != _chart_digest(self._chart_jobs[key]) or not isinstance(chart, RenderedChart):
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

    # -- pieces -------------------------------------------------------------------------
    def _next_table(self) -> int:
        self._tables += 1
        return self._tables

    def _table(self, df: pd.DataFrame, title: str, **kw: Any) -> str:
        return html_table(df, f"Table {self._next_table()}: {title}", **kw)

    def _figure(self, key: str, table_title: str | None = None, *, lead: str = "",
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
            table = self._level_table(levels, table_title or f"{chart.title} (the figures in Figure {n})")
        elif len(chart.table):
            numeric = [c for c in chart.table.columns[1:]]
            wide = "" if len(chart.table.columns) > 2 else "narrow"
            table = self._table(chart.table, table_title or f"{chart.title} (the figures in Figure {n})",
                                numeric=numeric, css_class=wide)
        return f'<div class="chart-block">{lead}{fig}{table}</div>'

    def _level_table(self, dist: pd.DataFrame, title: str) -> str:
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
        return (self._table(df, title, numeric=["Number (%)", "95% confidence interval"], css_class="levels")
                + (f'<p class="table-note">{esc(note)}</p>' if note else ""))

    def _narrative(self, name: str) -> str:
        item: Narrative | None = self.data.narrative.get(name)
        if item is None or not item.written:
            where = f"narrative/{name}.md"
            return (f'<div class="placeholder" role="note"><p><strong>{esc(PLACEHOLDER)}</strong></p>'
                    f"<p>Write this section in <code>{esc(where)}</code>.</p></div>")
        return f'<div class="narrative">{markdown_html(item.text, recommendations=self.recommendation_count)}</div>'

    def _meeting_phrase(self, m: dict[str, Any], first: bool = True) -> str:
        """'The meeting with managers on 7 October 2026 was attended by 4 assistant team managers…'."""
        kind = str(m["kind"])
        who = {"practitioners": "practitioners", "managers": "managers"}.get(kind, "staff")
        when = f" on {long_date(m['held_on'])}" if m["held_on"] else ""
        roles = an.attendance_by_role([m])
        head = "The meeting" if first else "the meeting"
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
        _, summary = self._moderation
        if not rated:
            return (f" {nv.count_noun(planned, 'case record')} {'was' if planned == 1 else 'were'} chosen "
                    "to be rated independently by a second Principal Social Worker as well; none has "
                    "been rated by more than one yet.")
        high = int(summary["raters_max"]) or 2
        by = "a second Principal Social Worker" if high <= 2 else "more than one other Principal Social Worker"
        head = (nv.count_noun(rated, "case record") if rated == planned
                else f"{rated} of the {planned} case records chosen for moderation")
        return (f" {head} {'was' if rated == 1 else 'were'} also rated independently by {by}, "
                "to check how consistently the team applied the audit tool.")

    @cached_property
    def _moderation(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        return an.moderation_agreement(self.data.ratings, self.data.allocation, self.scale,
                                       overall_id=self.tool.overall.id)

    def _conversation_cases(self) -> str:
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

    def _conversation_phrase(self) -> str:
        conv = self.data.conversations
        if not len(conv):
            return ""
        by_who = conv["who"].value_counts().reindex(conv["who"].drop_duplicates()).to_dict()
        parts = [f"{n} with {nv.who_phrase(str(who), int(n))}" for who, n in by_who.items()]
        return (f"conversations with people whose case records were examined, or their families "
                f"and carers, about {self._conversation_cases()} ({nv.join_words(parts)})")

    # -- sections -----------------------------------------------------------------------
    def key_messages(self) -> str:
        """Key messages, straight after the contents: headline figures and the team's messages."""
        from .findingsections import key_messages

        return key_messages(self)

    def review_answers(self) -> str:
        """Each review question with the team's answer, linked to the evidence ('' if none asked)."""
        from .findingsections import review_answers

        return review_answers(self)

    def trend(self) -> str:
        """4 (cont.): this round beside the previous round ('' when there is none)."""
        from .findingsections import trend

        return trend(self)

    def cqc_section(self) -> str:
        """9. Evidence against the CQC quality statements, when review.yaml puts it in the body."""
        from .findingsections import cqc_evidence

        return cqc_evidence(self, "section")

    def cqc_appendix(self) -> str:
        """Appendix: the same evidence, when review.yaml puts it after the signatories."""
        from .findingsections import cqc_evidence

        return cqc_evidence(self, "appendix")

    def introduction(self) -> str:
        """1. Introduction: dates, theme, the elements of the review with counts, aims."""
        meta, c = self.meta, self.counts
        body = []
        when = date_range(meta.start, meta.end)
        body.append(_p(f"The practice review of {meta.council} took place "
                       + (f"from {when}." if meta.start and meta.end and meta.start != meta.end
                          else f"on {when}." if when else "in the period set out in this report.")))
        body.append(_p(f"The council identified the theme for the review as ‘{meta.theme}’."))
        body.append(_p(nv.method_sentence(c)))
        meetings = self.data.meetings.to_dict("records")
        if meetings:
            body.append(_p("; ".join(self._meeting_phrase(m, i == 0) for i, m in enumerate(meetings)) + "."))
        if c["cases"]:
            rc = an.rated_counts(self.data.ratings, self.data.allocation, self.tool)
            every = "Each case record was" if rc["complete_cases"] == rc["rated_cases"] else "Case records were"
            text = (f"{every} rated on the {len(self.tool.questions)} questions of the audit "
                    f"tool ‘{self.tool.title}’, with an overall judgement.")
            body.append(_p(text + self._moderation_phrase()))
        about = self._conversation_cases()
        if about:
            body.append(_p(f"The conversations were about {about}."))
        body.append(self._narrative("introduction"))
        if meta.review_questions:
            body.append('<h3 id="review-questions">Review questions</h3>')
            body.append(_p(f"{meta.council} asked the review to answer these questions:"))
            body.append('<ol class="review-questions">'
                        + "".join(f'<li><a href="#answer-{i}">{esc(" ".join(q.split()))}</a></li>'
                                  for i, q in enumerate(meta.review_questions, 1))
                        + "</ol>")
        return _section(1, "Introduction", "introduction", body)

    def previous_review(self) -> str:
        """2. The previous review's recommendations with the host's update on each."""
        recs = an.previous_recommendations(
            [{"text": r.text, "update": r.update} for r in self.meta.previous_recommendations])
        body = []
        if not len(recs):
            body.append(_p("No previous practice review is recorded for this council."))
        else:
            when = f" in {long_date(self.meta.previous_date)}" if self.meta.previous_date else ""
            body.append(_p(f"The previous practice review was undertaken{when} and made "
                           f"{nv.count_noun(len(recs), 'recommendation')}. The host Principal Social "
                           "Worker has provided an update on each, shown below the recommendation."))
            items = []
            statuses = [rec.status for rec in self.meta.previous_recommendations]
            for r in recs.itertuples():
                status = statuses[r.number - 1] if r.number <= len(statuses) else ""
                status = f' <span class="status">(status: {esc(status.lower())})</span>' if status else ""
                update = (f'<p class="update"><strong>Update from {esc(self.meta.council)}</strong>{status}'
                          f"<strong>:</strong> {esc(' '.join(r.update.split()))}</p>" if r.update else
                          f'<p class="update"><strong>Update</strong>{status}<strong>:</strong> none provided.</p>')
                items.append(f'<li id="previous-{r.number}"><p class="previous-rec">'
                             f"{esc(' '.join(r.recommendation.split()))}</p>{update}</li>")
            body.append(f'<ol class="previous">{"".join(items)}</ol>')
        return _section(2, "Previous practice review", "previous-review", body)

    def _role_label(self, note: dict[str, Any]) -> str:
        """A quote's attribution: its role, or 'participant' if few of that role were there."""
        role = str(note.get("speaker_role") or "").strip().lower()
        meetings = {int(m["id"]): m for m in self.data.meetings.to_dict("records")}
        mid = note.get("meeting_id")
        meeting = meetings.get(int(mid)) if mid is not None and not pd.isna(mid) else None
        if not role or meeting is None:
            return "a participant"
        by_role = {k.strip().lower(): v for k, v in meeting["by_role"].items()}
        count = by_role.get(role, by_role.get(role + "s", 0))
        if not count and role in (str(meeting["kind"]), str(meeting["kind"]).rstrip("s")):
            count = int(meeting["attendees"])
        if count < MIN_ROLE_COUNT:
            return "a participant"
        return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"

    def _conversation_labels(self) -> dict[int, str]:
        """'Carer 1', 'Relative 2': numbered within each kind, in the order they were held."""
        labels, seen = {}, {}
        for r in self.data.conversations.sort_values("id", kind="mergesort").itertuples():
            who = str(r.who)
            seen[who] = seen.get(who, 0) + 1
            labels[int(r.id)] = f"{who[:1].upper()}{who[1:]} {seen[who]}"
        return labels

    def _quotes(self, source: str, skip: set[int] | frozenset[int] = frozenset()) -> list[str]:
        quotes = an.report_quotes(self.data.notes)
        quotes = quotes[(quotes["source"] == source) & ~quotes["note_id"].astype(int).isin(skip)]
        notes = self.data.notes.set_index("note_id")
        out = []
        if source == "meeting":
            order = {g: i for i, g in enumerate(GROUP_ORDER)}
            quotes = quotes.assign(_o=[order.get(g, 99) for g in quotes["group"]]).sort_values(
                ["_o", "note_id"], kind="mergesort")
            for q in quotes.itertuples():
                note = notes.loc[q.note_id].to_dict()
                out.append(_quote(q.text, "— " + self._role_label(note)))
        else:
            labels = self._conversation_labels()
            for q in quotes.itertuples():
                cid = notes.loc[q.note_id]["conversation_id"]
                out.append(_quote(q.text, "— " + labels.get(int(cid), "a person")))
        return out

    def meetings(self) -> str:
        """3. Themes from the meetings: narrative, chosen quotes, theme counts, one-change lists."""
        body = [self._narrative("meetings")]
        quotes = self._quotes("meeting")
        if quotes:
            body.append('<div class="keep"><h3 id="meeting-quotes">In their own words</h3>'
                        + _p("Quotes chosen by the review team from the meetings. They are not "
                             "attributed to anyone by name; where fewer than "
                             f"{MIN_ROLE_COUNT} people of a role attended, the speaker is called a participant.")
                        + quotes[0] + "</div>")
            body.extend(quotes[1:])
        themes = self.themes
        heading = '<h3 id="meeting-themes">Themes raised in the meetings</h3>'
        if len(themes):
            totals = themes.groupby("label", sort=False)["count"].sum()
            notes = self.data.notes
            coded = int(sum(1 for s, c in zip(notes["source"], notes["codes"]) if s == "meeting" and len(c)))
            lead = heading + _p(f"The review team coded {nv.count_noun(coded, 'note')} from the meetings "
                                f"by theme. {_top_themes(totals)}")
            body.append(self._figure("themes", lead=lead))
        else:
            body.append(heading + _p("No notes from the meetings have been coded by theme yet."))
        changes = an.one_change_lists(self.data.notes)
        if changes:
            body.append('<h3 id="one-change">One change or improvement</h3>')
            intro = {
                "practitioners": "Practitioners were asked to identify one change or improvement and "
                                 "made the following comments:",
                "managers": "Managers were also asked to identify one change or improvement that "
                            "would help them in their work and made the following comments:",
            }
            for group in sorted(changes, key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else 99):
                body.append(_p(intro.get(group, "Staff were asked to identify one change or improvement "
                                                "and made the following comments:")))
                body.append(_ul(changes[group], "one-change"))
        return _section(3, "Areas discussed and recurrent themes from the meetings", "meetings", body)

    def _rated_sentence(self) -> str:
        """'4 of the 5 Principal Social Workers rated 16 of the 20 allocated case records …': what was recorded."""
        rc = an.rated_counts(self.data.ratings, self.data.allocation, self.tool)
        if not rc["allocated_cases"]:
            return ""
        psw = "Principal Social Worker"
        if not rc["rated_cases"]:
            return (f"None of the {nv.count_noun(rc['allocated_reviewers'], psw)} has rated any of the "
                    f"{nv.count_noun(rc['allocated_cases'], 'allocated case record')} yet.")
        raters, allocated = len(rc["rating_reviewers"]), rc["allocated_reviewers"]
        who = (f"The {nv.count_noun(raters, psw)}" if raters == allocated and raters > 1 else
               f"The {psw}" if raters == allocated else f"{raters} of the {nv.count_noun(allocated, psw)}")
        host = any(m.role == "host" and m.name in rc["rating_reviewers"] for m in self.meta.team)
        if host:
            who += " (including the host Principal Social Worker)" if raters > 1 else " (the host)"
        cases, planned = rc["rated_cases"], rc["allocated_cases"]
        what = (f"all {planned} allocated case records" if cases == planned and planned > 1 else
                "the 1 allocated case record" if cases == planned else
                f"{cases} of the {nv.count_noun(planned, 'allocated case record')}")
        per = sorted(rc["per_reviewer"].values())
        each = "" if raters < 2 else (f" ({per[0]} each)" if per[0] == per[-1]
                                      else f" (between {per[0]} and {per[-1]} each)")
        complete = rc["complete_cases"]
        if complete == cases:
            tail = ", completing the audit tool for each" if cases > 1 else ", completing the audit tool for it"
        elif complete == 0:
            tail = "; none of them has every question and an overall judgement rated yet"
        else:
            tail = (f"; {complete} of them {'has' if complete == 1 else 'have'} every question and an "
                    "overall judgement rated")
        return f"{who} rated {what}{each}{tail}."

    def data_analysis(self) -> str:
        """4. Data analysis: pooled ratings, overall judgements, headline, overview chart."""
        c, meta = self.counts, self.meta
        body = []
        rated = self._rated_sentence()
        if rated:
            body.append(_p(rated))
        body.append(_p(nv.referred_sentence(len(an.referred_back(self.data.flags)), council=meta.council)))
        levels = nv.join_words([lv.label for lv in self.scale.scored], "or")
        na = [lv.label for lv in self.scale.levels if not lv.counts]
        body.append(_p(
            f"The audit tool comprised {nv.count_noun(len(self.tool.questions), 'question')}, each "
            f"rated {levels}" + (f" (or {nv.join_words(na, 'or')}, which is shown but left out of "
                                  "every percentage)" if na else "")
            + ". Principal Social Workers rated each question against the descriptors of good practice "
              "in the tool and their professional experience. The tables of all question ratings, of the "
              "overall judgements and of each question give every percentage with a 95% confidence "
              "interval, because with a small number of case records a single rating moves a percentage "
              "noticeably; the summary table of ratings by question repeats those percentages without "
              "them."))
        body.append('<h3 id="all-ratings">All question ratings</h3>')
        body.append(_p(nv.pooled_sentence(self.pooled, c["cases"], len(self.tool.questions),
                                          across=int(self.pooled.attrs.get("records", c["cases"])))))
        body.append(self._level_table(self.pooled, "All question ratings by level"))
        if int(self.pooled.attrs.get("scored", 0)):
            note = CLUSTERED_METHOD.format(questions=len(self.tool.questions),
                                           ratings=int(self.pooled.attrs["scored"]))
            if int(self.pooled.attrs.get("clusters", 0)) < 2:
                note += (" Only one case record has questions rated on the scale, so how far its ratings "
                         "resemble each other cannot be estimated: the intervals for all question ratings "
                         "are as wide as a single rating would give.")
            body.append(f'<p class="method"><strong>Method.</strong> {esc(note)}</p>')
        share = an.share_good_or_better(self.primary, self.scale, question=self.tool.overall.id)
        lead = ('<h3 id="overall-judgements">Overall judgements</h3>'
                f'<p class="headline">{esc(nv.headline_sentence(share))}</p>'
                + _p(nv.overall_sentence(self.overall)))
        body.append(self._figure("overall", lead=lead, levels=self.overall))
        weakest = an.weakest_questions(self.primary, self.tool, n=3)
        lead = ('<h3 id="ratings-by-question">Ratings by question</h3>'
                + _p(nv.weakest_sentence(weakest, [lv.label for lv in self.scale.scored[:2]])))
        body.append(self._figure("overview", lead=lead))
        note = self._rounding_rows()
        if note:
            body.append(f'<p class="table-note">{esc(note)}</p>')
        return _section(4, "Data analysis from the case records audit tool", "data-analysis", body)

    def _rounding_rows(self) -> str:
        """A note naming the questions whose rounded percentages do not add up to 100."""
        off = []
        for _, row in self.by_question.iterrows():
            counts = [int(row[lv.label]) for lv in self.scale.scored]
            total = an.rounded_total(counts, int(row["scored"]))
            if total and total != "100.0":
                off.append((int(row["number"]), total))
        if not off:
            return ""
        which = nv.join_words([f"question {n} ({t}%)" for n, t in off])
        rows = "row" if len(off) == 1 else "rows"
        return (f"Percentages are rounded to one decimal place, so in the {rows} for {which} they do not "
                "add up to exactly 100%.")

    def question_charts(self) -> str:
        """4 (cont.): one chart per question with its table, as the programme's reports have."""
        lead = ('<h3 id="question-charts">Charts for each question</h3>'
                + _p(f"The charts below show the ratings for each of the {len(self.tool.questions)} "
                     "questions of the audit tool, each with its table."))
        body = []
        for i, (_, row) in enumerate(self.by_question.iterrows()):
            body.append(self._figure(f"question-{row['question']}", lead=lead if i == 0 else "",
                                     levels=an.question_levels(row, self.scale)))
        if not body:
            body.append(lead)
        return "".join(body)

    def consistency(self) -> str:
        """4 (cont.): moderation agreement, with the method named.

        Ratings by reviewer are not published: reviewers rated different case records, so a
        table of them would rank people on a mix of their severity and their cases. That table
        is in the team annex (``reviewkit.annex``), written only when asked for.
        """
        body = []
        table, summary = self._moderation
        body.append('<div class="keep"><h3 id="moderation">Agreement between reviewers</h3>')
        body.append(_p(nv.agreement_sentence(summary)))
        if summary["cases"]:
            body.append(f'<p class="method"><strong>Method.</strong> {esc(summary["method"])}</p>')
        if len(table):
            rows = []
            for i, (_, group) in enumerate(table.groupby("case_id", sort=True), 1):
                items = len(group)
                rows.append({"Moderation case": f"Moderation case {i}",
                             "Questions compared": str(items),
                             "Same rating": an.format_count(int(group["agree"].sum()), items),
                             "At most one level apart": an.format_count(int((group["spread"] <= 1).sum()), items)})
            body.append(self._table(pd.DataFrame(rows), "Agreement on the moderation case records",
                                    numeric=["Questions compared", "Same rating", "At most one level apart"]))
        body.append("</div>")
        return "".join(body)

    def case_records(self) -> str:
        """5. The PSWs' analysis of case records and conversations, with people's words."""
        body = []
        conv = self._conversation_phrase()
        cases = self.counts["cases"]
        lead = f"Principal Social Workers examined {nv.count_noun(cases, 'case record') if cases else 'no case records'}"
        body.append(_p(lead + (f" and held {conv}." if conv else
                               "; no conversations with people or their families took place.")))
        body.append(self._narrative("case_records"))
        from .findingsections import i_statements

        heard, shown = i_statements(self)
        body.append(heard)
        quotes = self._quotes("conversation", shown)
        if quotes:
            title = "More of what people and carers told us" if shown else "What people and carers told us"
            body.append(f'<div class="keep"><h3 id="conversation-quotes">{title}</h3>'
                        + _p("Each person is given a label such as ‘Carer 1’ so that their words can be "
                             "followed without identifying them.") + quotes[0] + "</div>")
            body.extend(quotes[1:])
        return _section(5, "Principal Social Workers’ analysis of the case records and conversations",
                        "case-records", body)

    def observations(self) -> str:
        """6. Observations of the review team."""
        return _section(6, "Observations of the review team", "observations", [self._narrative("observations")])

    def strengths(self) -> str:
        """7. Key strengths."""
        return _section(7, "Key strengths", "strengths", [self._narrative("strengths")])

    def recommendations(self) -> str:
        """8. Recommendations, numbered with ids rec-1… so findings can link to them."""
        item = self.data.narrative.get("recommendations")
        if item is None or not item.written:
            return _section(8, "Recommendations for practice improvement", "recommendations",
                            [self._narrative("recommendations")], flow=True)
        fragment, _ = number_list_items(markdown_html(item.text))
        fragment = link_recommendations(fragment, self.recommendation_count)
        return _section(8, "Recommendations for practice improvement", "recommendations",
                        [f'<div class="narrative">{fragment}</div>'], flow=True)

    def signatories(self) -> str:
        """Signatories: the team with their councils, and the report's date."""
        items = []
        for m in self.meta.team:
            role = ROLE_TITLES.get(m.role, "")
            parts = [p for p in (m.name, role, m.council) if p]
            items.append(f"<li>{esc(', '.join(parts))}</li>")
        when = long_date(self.data.report_date)
        iso = when != self.data.report_date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.data.report_date)
        date = (f'<time datetime="{esc(self.data.report_date)}">{esc(when)}</time>' if iso else esc(when))
        body = [f'<ul class="signatories">{"".join(items)}</ul>', f'<p class="report-date">{date}</p>']
        return _section(None, "Signatories", "signatories", body, flow=True)
