"""Report charts: matplotlib figures with alt text that states the numbers and a table beside.

Charts are built on ``matplotlib.figure.Figure`` with an Agg canvas, never through pyplot, so
nothing registers in pyplot's global figure list (no memory growth over a long notebook and no
double display) and the notebook's backend does not matter. A fixed style (matplotlib's
bundled DejaVu Sans, 9 pt, default rcParams underneath) and PNGs written without any text
chunk (no "Software" line, no date) make the same data give byte-identical PNGs, so report
renders can be diffed.

Each chart is laid out once when it is built (``_fit``: margins measured from its own texts,
with constrained layout's paddings) and drawn once when saved; a layout engine would lay it
out again, with a full draw, at every save, and a report draws fifteen charts.

Colour is never the only cue: level names sit on the axis or in a legend, every bar carries
its count and percentage, levels keep the same best-to-worst order everywhere, and the
stance chart adds hatching. Fills come from the Okabe–Ito colour-blind-safe palette (blue for
the best levels through orange to vermillion for the worst); label text on a fill is black or
white, whichever contrasts more (each pairing here is at least 4.5:1, WCAG AA), and bars have a
dark outline so light fills still stand out from the white page.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from PIL import Image

from reviewkit.core.tools import RatingScale
from reviewkit.figures.analysis import NOT_COUNTED, format_count, format_percent, question_levels
from reviewkit.figures.sentences import join_words

__all__ = [
    "Chart",
    "contrast_ratio",
    "display_chart",
    "distribution_chart",
    "finish_percent_chart",
    "level_colours",
    "overall_chart",
    "overview_chart",
    "question_chart",
    "text_colour",
    "theme_chart",
]

CM = 1 / 2.54
WIDTH_IN = 16 * CM  # an A4 page's text width
FONT_SIZE = 9
DPI = 150  # the PNGs' resolution; charts are laid out at it, so text measures as it will be drawn
PNG_COMPRESSION = 3  # zlib level: as small as the default (6) within 2%, a quarter faster to write
PAD_IN = 3 / 72  # space at the figure's edges and around the title and legend (as constrained layout)
TICK_GAP_PT = 7.0  # from the axis to its tick labels: tick length 3.5 pt + pad 3.5 pt (the defaults)
LABEL_PAD_PT = 4.0  # from the tick labels to the axis label (the default)
EDGE = "#333333"
NA_COLOUR = "#DDDDDD"
# Okabe–Ito, ordered best to worst: blue, sky blue, orange, vermillion.
OKABE_ITO_LEVELS = ("#0072B2", "#56B4E9", "#E69F00", "#D55E00")
STANCE_STYLE = {  # fill, hatch: hatching keeps stances apart without colour
    "strength": ("#0072B2", ""),
    "mixed": ("#CC79A7", "//"),
    "concern": ("#D55E00", "xx"),
    "unspecified": (NA_COLOUR, ".."),
}
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": FONT_SIZE,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": FONT_SIZE,
    "xtick.labelsize": FONT_SIZE,
    "ytick.labelsize": FONT_SIZE,
    "legend.fontsize": FONT_SIZE,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.color": "#FFFFFF",
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "reviewkit",
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


@contextmanager
def _style() -> Iterator[None]:
    """Matplotlib's defaults plus ours, whatever the user's matplotlibrc says."""
    with mpl.style.context(["default", STYLE]):
        yield


# --------------------------------------------------------------------------- colour

def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(fill: str) -> str:
    """Black or white, whichever reads better on the fill."""
    return "#000000" if contrast_ratio(fill, "#000000") >= contrast_ratio(fill, "#FFFFFF") else "#FFFFFF"


def level_colours(scale: RatingScale) -> dict[str, str]:
    """A colour per level, best to worst; not applicable is light grey."""
    n = len(scale.scored)
    if n == 4:
        fills = list(OKABE_ITO_LEVELS)
    elif n < 4:
        fills = [OKABE_ITO_LEVELS[i] for i in ((0, 3), (0, 1, 3))[n - 2]]
    else:
        cmap = mpl.colormaps["cividis"]  # perceptually uniform and colour-blind-safe
        fills = [mpl.colors.to_hex(cmap(1 - i / (n - 1))) for i in range(n)]
    colours = {lv.label: fill for lv, fill in zip(scale.scored, fills)}
    colours.update({lv.label: NA_COLOUR for lv in scale.levels if not lv.counts})
    return colours


# --------------------------------------------------------------------------- Chart

@dataclass
class Chart:
    """A figure with its alt text, title and the table of the figures it shows."""

    figure: Figure
    alt: str
    title: str
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_png(self, dpi: int = DPI) -> bytes:
        """PNG bytes, identical for identical input (no timestamp or software stamp).

        Drawn once on the Agg canvas and written with Pillow: an opaque chart (all of them:
        the page is white) is saved as RGB, the same pixels as RGBA in a smaller file.
        """
        fig = self.figure
        dpi_before = fig.dpi
        with _style():
            try:
                if dpi != dpi_before:
                    fig.set_dpi(dpi)
                fig.canvas.draw()
                rgba = np.asarray(fig.canvas.buffer_rgba())
            finally:
                if dpi != dpi_before:
                    fig.set_dpi(dpi_before)
        pixels = np.ascontiguousarray(rgba[..., :3]) if (rgba[..., 3] == 255).all() else rgba.copy()
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="png", dpi=(dpi, dpi), compress_level=PNG_COMPRESSION)
        return buf.getvalue()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        # Showing a Chart as a cell's last value still carries the alt text to the report.
        return ({"image/png": self.to_png(), "text/plain": self.title},
                {"image/png": {"alt": self.alt}})


def display_chart(chart: Chart, dpi: int = DPI) -> None:
    """Show a chart in a notebook with its alt text in the output metadata the report reads."""
    from IPython.display import Image, display  # start-up: IPython is there only inside a kernel

    display(Image(data=chart.to_png(dpi=dpi), format="png"),
            metadata={"image/png": {"alt": chart.alt}})


def _figure(height_in: float) -> Figure:
    # No layout engine: ``_fit`` places the axes once, so each chart is drawn once, by to_png.
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="none")
    FigureCanvasAgg(fig)
    return fig


def _title(fig: Figure, title: str) -> Text:
    # At the top left, PAD_IN below the figure's edge (where constrained layout put it).
    y = 1 - PAD_IN / fig.get_figheight()
    return fig.suptitle(title, x=0.01, y=y, ha="left", va="top", fontsize=10, fontweight="bold")


def _fit(fig: Figure, ax: Axes, title: Text, legend: Legend | None = None) -> None:
    """Place the axes so its tick labels, axis label, bar labels, title and legend all fit.

    The margins are measured from the texts themselves, with constrained layout's paddings,
    so a chart looks as it did under constrained layout; but the layout is worked out once
    here, from a handful of text measurements, instead of from full draws at every save.
    """
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    pad, pt = PAD_IN * fig.dpi, fig.dpi / 72

    def extents(texts: list[Text]) -> list[Any]:
        return [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]

    def xticks() -> list[Text]:  # the tick labels inside the view (a locator may give more)
        lo, hi = sorted(ax.get_xlim())
        return [t for t in ax.get_xticklabels() if lo - 1e-9 <= t.get_position()[0] <= hi + 1e-9]

    yticks = ax.get_yticklabels()
    ywidth = max((b.width for b in extents(yticks)), default=0.0)
    xheight = max((b.height for b in extents(xticks())), default=0.0)
    left = pad + (ywidth + TICK_GAP_PT * pt if ywidth else 0.0)
    right = width - pad
    top = height - title.get_window_extent(renderer).height - 3 * pad
    bottom = pad + (xheight + TICK_GAP_PT * pt if xheight else 0.0)
    if ax.get_xlabel():
        bottom += ax.xaxis.label.get_window_extent(renderer).height + LABEL_PAD_PT * pt
    if legend is not None:
        # lower centre of the figure, where matplotlib puts it; the axes sit above it
        bottom += legend.get_window_extent(renderer).height + 2 * pad
    outside = [t for t in ax.texts if t.get_in_layout()]
    for _ in range(3):  # move in whatever still sticks out: labels at the ends of the axes
        ax.set_position([left / width, bottom / height, (right - left) / width, (top - bottom) / height])
        rows = extents(yticks) + extents(outside)
        boxes = extents(xticks()) + rows
        if not boxes:
            break
        over_left = pad - min(b.x0 for b in boxes)
        over_right = max(b.x1 for b in boxes) - (width - pad)
        over_top = max((b.y1 for b in rows), default=top) - top
        if max(over_left, over_right, over_top) <= 0.5:
            break
        left += max(over_left, 0.0)
        right -= max(over_right, 0.0)
        top -= max(over_top, 0.0)


def finish_percent_chart(fig: Figure, ax: Axes, title: str, axis: str, label: str, *, ncols: int) -> None:
    """The kit's finish for a chart of percentages: a 0-100 axis with light grid lines behind the data, the
    legend centred below in ``ncols`` columns, and the title; then fitted to the page width."""
    (ax.set_xlim if axis == "x" else ax.set_ylim)(0, 100)
    (ax.set_xlabel if axis == "x" else ax.set_ylabel)(label)
    ax.grid(axis=axis, color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    legend = fig.legend(loc="lower center", ncols=ncols, frameon=False)
    _fit(fig, ax, _title(fig, title), legend)


def _wrap(text: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


# --------------------------------------------------------------------------- level charts

def _levels_alt(table: pd.DataFrame) -> str:
    """'Outstanding 5 (25.0%), Good 12 (60.0%), …; 0 Not applicable' from a level table."""
    scored = [r for r in table.itertuples() if not str(r.display).endswith(NOT_COUNTED)]
    na = [r for r in table.itertuples() if str(r.display).endswith(NOT_COUNTED)]
    total = sum(int(r.count) for r in scored)
    if total == 0:
        text = "no scored ratings yet"
    else:
        text = ", ".join(f"{r.level} {format_count(int(r.count), total)}" for r in scored)
    if na:
        text += "; " + ", ".join(f"{int(r.count)} {r.level}" for r in na)
    return text


def _level_display_table(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Rating": table["level"], "Number (%)": table["display"]})


def _level_bars(table: pd.DataFrame, scale: RatingScale, title: str, unit: str) -> Figure:
    """Horizontal bars, best level on top, each labelled with its count and percentage."""
    colours = level_colours(scale)
    scored = [lv.label for lv in scale.scored]
    counts = {str(k): int(v) for k, v in zip(table["level"], table["count"])}
    percents = dict(zip(table["level"], table["percent"]))
    total = sum(counts[label] for label in scored)
    na = sum(counts.values()) - total
    with _style():
        fig = _figure(0.45 * len(scored) + 1.1)
        ax = fig.add_subplot()
        ys = list(range(len(scored)))
        widths = [0.0 if total == 0 else float(percents[label]) for label in scored]
        ax.barh(ys, widths, height=0.65, color=[colours[label] for label in scored],
                edgecolor=EDGE, linewidth=0.6)
        for y, label, w in zip(ys, scored, widths):
            ax.text(w + 1.5, y, format_count(counts[label], total),
                    va="center", ha="left", color="#000000")
        ax.set_yticks(ys, scored)
        ax.invert_yaxis()
        ax.set_xlim(0, 118)
        ax.set_xticks(range(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
        note = f" ({na} Not applicable, not counted)" if na else ""
        ax.set_xlabel(f"Percentage of {total} scored {unit}{note}")
        _fit(fig, ax, _title(fig, title))
    return fig


def question_chart(row: Mapping[str, Any] | pd.Series, scale: RatingScale) -> Chart:
    """One question's ratings by level, from a row of ``analysis.question_distribution``."""
    table = question_levels(row, scale)
    number, qtitle = int(row["number"]), str(row["title"])
    title = f"Question {number}: {qtitle}"
    fig = _level_bars(table, scale, _wrap(title, 70), "ratings")
    alt = f"Bar chart of question {number}, {qtitle}: {_levels_alt(table)}."
    return Chart(fig, alt, title, _level_display_table(table))


def distribution_chart(dist: pd.DataFrame, scale: RatingScale,
                       title: str = "All question ratings") -> Chart:
    """All question ratings pooled by level, from ``analysis.rating_distribution``."""
    total = int(dist.attrs.get("scored", 0))
    fig = _level_bars(dist, scale, title, "ratings")
    alt = f"Bar chart of all {total} scored question ratings by level: {_levels_alt(dist)}."
    return Chart(fig, alt, title, _level_display_table(dist))


def overall_chart(dist: pd.DataFrame, scale: RatingScale,
                  title: str = "Overall judgements of the case records") -> Chart:
    """Overall judgements by level, from ``analysis.overall_distribution``."""
    total = int(dist.attrs.get("scored", 0))
    fig = _level_bars(dist, scale, title, "case records")
    alt = f"Bar chart of the overall judgements of {total} case records: {_levels_alt(dist)}."
    return Chart(fig, alt, title, _level_display_table(dist))


# --------------------------------------------------------------------------- stacked charts

def _label_segments(fig: Figure, ax: Any,
                    labels: list[tuple[float, float, float, str, str]]) -> None:
    """Write each label centred in its segment, leaving out those that would not fit inside.

    Each label is (left, width, y, text, fill); the text sits on a patch of the plain fill so
    hatching never runs through it. Call after ``_fit``: the segments' widths on the page are
    known then, so each label is measured once, without drawing the figure.
    """
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    for left, width, y, text, fill in labels:
        t = ax.text(left + width / 2, y, text, ha="center", va="center", color=text_colour(fill),
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": fill, "edgecolor": "none"})
        t.set_in_layout(False)
        x0, x1 = to_px((left, y))[0], to_px((left + width, y))[0]
        if t.get_window_extent(renderer).width > (x1 - x0) - 4:
            t.remove()


def overview_chart(qdist: pd.DataFrame, scale: RatingScale,
                   title: str = "Ratings by question") -> Chart:
    """One 100% stacked bar per question, levels best to worst left to right, with legend."""
    colours = level_colours(scale)
    scored = [lv.label for lv in scale.scored]
    na_labels = [lv.label for lv in scale.levels if not lv.counts]
    n = len(qdist)
    alt_parts, table_rows = [], []
    with _style():
        fig = _figure(0.42 * max(n, 1) + 1.3)
        ax = fig.add_subplot()
        names = [_wrap(f"{int(r['number'])}. {r['title']}", 32) for _, r in qdist.iterrows()]
        ys = list(range(n))
        lefts = [0.0] * n
        segments = []
        for label in scored:
            widths = [float(r[f"{label} %"]) if r["scored"] else 0.0 for _, r in qdist.iterrows()]
            ax.barh(ys, widths, left=lefts, height=0.7, color=colours[label], edgecolor=EDGE,
                    linewidth=0.6, label=label)
            for y, (_, r), left, w in zip(ys, qdist.iterrows(), lefts, widths):
                if w > 0:
                    segments.append((left, w, y, format_percent(int(r[label]), int(r["scored"])),
                                     colours[label]))
            lefts = [a + b for a, b in zip(lefts, widths)]
        for y, (_, r) in zip(ys, qdist.iterrows()):
            if not r["scored"]:
                ax.text(1, y, "no scored ratings yet", va="center", ha="left")
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xticks(range(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
        ax.set_xlabel("Percentage of scored ratings (Not applicable not counted)")
        legend = fig.legend(loc="lower center", ncols=len(scored), frameon=False) if n else None
        _fit(fig, ax, _title(fig, title), legend)
        _label_segments(fig, ax, segments)
    for _, r in qdist.iterrows():
        total = int(r["scored"])
        parts = ", ".join(f"{label} {format_count(int(r[label]), total)}" for label in scored)
        if total == 0:
            parts = "no scored ratings yet"
        nas = [f"{int(r[label])} {label}" for label in na_labels if int(r[label])]
        alt_parts.append(f"{int(r['number'])}. {r['title']}: {parts}" + (f"; {', '.join(nas)}" if nas else ""))
        row = {"Question": f"{int(r['number'])}. {r['title']}"}
        row.update({label: format_count(int(r[label]), total) for label in scored})
        row.update({label: str(int(r[label])) for label in na_labels})
        table_rows.append(row)
    alt = (f"Stacked bar chart of the share of scored ratings at each level for each of the "
           f"{n} questions, levels ordered {', '.join(scored)} from left to right. "
           + ". ".join(alt_parts) + ("." if alt_parts else ""))
    table = pd.DataFrame(table_rows, columns=["Question"] + scored + na_labels)
    return Chart(fig, alt, title, table)


def theme_chart(themes: pd.DataFrame, *, meeting_kind: str | None = None,
                title: str = "Themes from the meetings by stance", top: int | None = None,
                unit: str = "notes", row_name: str = "Theme", keep_order: bool = False) -> Chart:
    """Notes per theme code stacked by stance, from ``analysis.theme_counts``.

    ``meeting_kind`` keeps one meeting's notes; ``top`` keeps the most-mentioned codes, and every
    code tied with the last one kept (``notes.top_with_ties`` names what is left out). ``unit``
    and ``row_name`` name what is counted and per what (conversations per I statement, say);
    ``keep_order`` keeps the table's order instead of putting the most-mentioned first.
    """
    df = themes if meeting_kind is None else themes[themes["meeting_kind"] == meeting_kind]
    stances = [s for s in STANCE_STYLE if s in set(df["stance"])]
    stances += sorted(set(df["stance"]) - set(stances))
    pivot = (df.groupby(["code", "label", "stance"])["count"].sum().unstack("stance", fill_value=0)
             .reindex(columns=stances, fill_value=0)) if len(df) else pd.DataFrame()
    if len(pivot):
        pivot["Total"] = pivot.sum(axis=1)
        pivot = pivot.reset_index()
        if keep_order:
            order = {c: i for i, c in enumerate(dict.fromkeys(df["code"]))}
            pivot = pivot.sort_values("code", key=lambda col: col.map(order), kind="mergesort")
        else:
            pivot = pivot.sort_values(["Total", "code"], ascending=[False, True], kind="mergesort")
        if top is not None and len(pivot) > top:  # every theme tied with the last one kept stays
            pivot = pivot[pivot["Total"] >= pivot["Total"].iloc[top - 1]]
    n = len(pivot)
    with _style():
        fig = _figure(0.38 * max(n, 1) + 1.3)
        ax = fig.add_subplot()
        ys = list(range(n))
        lefts = [0.0] * n
        segments = []
        for stance in stances:
            fill, hatch = STANCE_STYLE.get(stance, (NA_COLOUR, ".."))
            widths = [float(v) for v in pivot[stance]] if n else []
            ax.barh(ys, widths, left=lefts, height=0.7, color=fill, hatch=hatch, edgecolor=EDGE,
                    linewidth=0.6, label=stance.capitalize())
            segments += [(left, w, y, str(int(w)), fill)
                         for y, left, w in zip(ys, lefts, widths) if w > 0]
            lefts = [a + b for a, b in zip(lefts, widths)]
        for y, total in zip(ys, lefts):
            ax.text(total + 0.1, y, f"{int(total)}", va="center", ha="left")
        ax.set_yticks(ys, [_wrap(str(lbl), 32) for lbl in (pivot["label"] if n else [])])
        ax.invert_yaxis()
        ax.set_xlim(0, (max(lefts) if lefts else 1) * 1.12 + 0.5)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel(f"Number of {unit}")
        legend = fig.legend(loc="lower center", ncols=len(stances), frameon=False) if n else None
        if not n:
            ax.text(0.5, 0.5, f"No coded {unit} yet", ha="center", va="center", transform=ax.transAxes)
        _fit(fig, ax, _title(fig, title), legend)
        _label_segments(fig, ax, segments)
    parts = []
    rows = []
    for r in (pivot.to_dict("records") if n else []):
        detail = join_words([f"{int(r[s])} {s}" for s in stances if int(r[s])])
        parts.append(f"{r['label']} {int(r['Total'])} ({detail})")
        rows.append({row_name: r["label"], **{s.capitalize(): int(r[s]) for s in stances},
                     "Total": int(r["Total"])})
    scope = f" ({meeting_kind})" if meeting_kind else ""
    per = "theme" if row_name == "Theme" else row_name
    alt = (f"Bar chart of {unit} per {per}{scope} by stance: " + "; ".join(parts) + "."
           if parts else f"Bar chart of {unit} per {per}{scope}: no coded {unit} yet.")
    table = pd.DataFrame(rows, columns=[row_name] + [s.capitalize() for s in stances] + ["Total"])
    return Chart(fig, alt, title, table)



def trend_chart(table: pd.DataFrame, previous: str, title: str = "Outstanding or Good: this review and the previous one"
                ) -> Chart:
    """Each question's share Outstanding or Good in two rounds, each with its 95% interval.

    ``table`` is ``trend.compare_rounds``' output; ``previous`` names the previous round ("June
    2022"). The table beside it gives each change with its own 95% interval: whether two
    intervals overlap is not the test of a change (see ``reviewkit.figures.trend``).
    """
    rows = table.to_dict("records")
    labels = [(f"Q{int(r['number'])} " if r["number"] == r["number"] and r["number"] is not None else "")
              + str(r["title"]) + (" (pooled)" if r.get("kind") == "pooled" else "") for r in rows]
    n = len(rows)
    with _style():
        fig = _figure(0.42 * max(n, 1) + 1.3)
        ax = fig.add_subplot()
        # Vermillion and blue, both at least 3:1 against the page, and a circle beside a square:
        # the two rounds stay apart without colour.
        for offset, prefix, marker, colour, name in ((-0.17, "prev_", "o", OKABE_ITO_LEVELS[3], f"Previous review ({previous})"),
                                                     (0.17, "", "s", OKABE_ITO_LEVELS[0], "This review")):
            ys, xs, lo, hi = [], [], [], []
            for y, r in enumerate(rows):
                if r[prefix + "percent"] == r[prefix + "percent"]:  # not NaN
                    ys.append(y + offset)
                    xs.append(r[prefix + "percent"])
                    lo.append(r[prefix + "percent"] - r[prefix + "low"])
                    hi.append(r[prefix + "high"] - r[prefix + "percent"])
            ax.errorbar(xs, ys, xerr=[lo, hi], fmt=marker, color=colour, ecolor=colour, elinewidth=1.4,
                        capsize=2.5, markersize=5, label=name)
        ax.set_yticks(range(n), [_wrap(lbl, 34) for lbl in labels])
        ax.invert_yaxis()
        finish_percent_chart(fig, ax, title, "x", "Outstanding or Good (%), with 95% confidence interval", ncols=2)

    def share(k: Any, total: Any, pc: float, lo_: float, hi_: float) -> tuple[str, str]:
        if total is None or total != total or not total:
            return "–", "–"
        return f"{int(k)} of {int(total)} ({pc:.1f}%)", f"{lo_:.1f}% to {hi_:.1f}%"

    def change(r: dict[str, Any]) -> str:
        if r["verdict"] == "unavailable":
            return "–"
        return f"{r['change']:+.1f} ({r['change_low']:+.1f} to {r['change_high']:+.1f})".replace("-", "\u2212")

    out, parts = [], []
    verdicts = {"rose": "rose", "fell": "fell", "unclear": "cannot tell", "unavailable": "–"}
    for label, r in zip(labels, rows):
        p_share, p_ci = share(r["prev_count"], r["prev_total"], r["prev_percent"], r["prev_low"], r["prev_high"])
        c_share, c_ci = share(r["count"], r["total"], r["percent"], r["low"], r["high"])
        out.append({"Question": label, f"Previous ({previous})": p_share, "Previous 95% interval": p_ci,
                    "This review": c_share, "This review's 95% interval": c_ci,
                    "Change in points (95% interval)": change(r), "Reading": verdicts.get(r["verdict"], "–")})
        parts.append(f"{label}: previous {p_share.split(' (')[-1].rstrip(')')} ({p_ci}), this review "
                     f"{c_share.split(' (')[-1].rstrip(')')} ({c_ci}), change {change(r)} points, "
                     f"{verdicts.get(r['verdict'], '–')}")
    alt = ("Dot chart of the share of ratings Outstanding or Good in the previous review and this one, each with "
           "its 95% confidence interval: " + "; ".join(parts) + ".")
    return Chart(fig, alt, title, pd.DataFrame(out))
