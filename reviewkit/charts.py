"""Report charts: matplotlib figures with alt text that states the numbers and a table beside.

Charts are built on ``matplotlib.figure.Figure`` with an Agg canvas, never through pyplot, so
nothing registers in pyplot's global figure list (no memory growth over a long notebook and no
double display) and the notebook's backend does not matter. A fixed style (matplotlib's
bundled DejaVu Sans, 9 pt, default rcParams underneath) and PNG metadata without a
"Software" line make the same data give byte-identical PNGs, so report renders can be diffed.

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
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from .analysis import NOT_COUNTED, format_count, format_percent, question_levels
from .narrative import join_words
from .tools import RatingScale

__all__ = [
    "Chart",
    "contrast_ratio",
    "display_chart",
    "distribution_chart",
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

    def to_png(self, dpi: int = 150) -> bytes:
        """PNG bytes, identical for identical input (no timestamp or software stamp)."""
        buf = io.BytesIO()
        with _style():
            self.figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        # Showing a Chart as a cell's last value still carries the alt text to the report.
        return ({"image/png": self.to_png(), "text/plain": self.title},
                {"image/png": {"alt": self.alt}})


def display_chart(chart: Chart, dpi: int = 150) -> None:
    """Show a chart in a notebook with its alt text in the output metadata the report reads."""
    from IPython.display import Image, display

    display(Image(data=chart.to_png(dpi=dpi), format="png"),
            metadata={"image/png": {"alt": chart.alt}})


def _figure(height_in: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _title(fig: Figure, title: str) -> None:
    fig.suptitle(title, x=0.01, ha="left", fontsize=10, fontweight="bold")


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
    rows = table.set_index("level")
    total = int(sum(int(rows.loc[label, "count"]) for label in scored))
    na = int(table["count"].sum()) - total
    with _style():
        fig = _figure(0.45 * len(scored) + 1.1)
        ax = fig.add_subplot()
        ys = list(range(len(scored)))
        widths = [0.0 if total == 0 else float(rows.loc[label, "percent"]) for label in scored]
        ax.barh(ys, widths, height=0.65, color=[colours[label] for label in scored],
                edgecolor=EDGE, linewidth=0.6)
        for y, label, w in zip(ys, scored, widths):
            ax.text(w + 1.5, y, format_count(int(rows.loc[label, "count"]), total),
                    va="center", ha="left", color="#000000")
        ax.set_yticks(ys, scored)
        ax.invert_yaxis()
        ax.set_xlim(0, 118)
        ax.set_xticks(range(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
        note = f" ({na} Not applicable, not counted)" if na else ""
        ax.set_xlabel(f"Percentage of {total} scored {unit}{note}")
        _title(fig, title)
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
    """Write each label centred in its segment, then drop those that would not fit inside.

    Each label is (left, width, y, text, fill); the text sits on a patch of the plain fill so
    hatching never runs through it.
    """
    texts = []
    for left, width, y, text, fill in labels:
        t = ax.text(left + width / 2, y, text, ha="center", va="center", color=text_colour(fill),
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": fill, "edgecolor": "none"})
        t.set_in_layout(False)
        texts.append((t, left, width, y))
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for t, left, width, y in texts:
        x0, _ = ax.transData.transform((left, y))
        x1, _ = ax.transData.transform((left + width, y))
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
        _title(fig, title)
        if n:
            fig.legend(loc="outside lower center", ncols=len(scored), frameon=False)
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
                title: str = "Themes from the meetings by stance", top: int | None = None) -> Chart:
    """Notes per theme code stacked by stance, from ``analysis.theme_counts``.

    ``meeting_kind`` keeps one meeting's notes; ``top`` keeps the most-mentioned codes.
    """
    df = themes if meeting_kind is None else themes[themes["meeting_kind"] == meeting_kind]
    stances = [s for s in STANCE_STYLE if s in set(df["stance"])]
    stances += sorted(set(df["stance"]) - set(stances))
    pivot = (df.groupby(["code", "label", "stance"])["count"].sum().unstack("stance", fill_value=0)
             .reindex(columns=stances, fill_value=0)) if len(df) else pd.DataFrame()
    if len(pivot):
        pivot["Total"] = pivot.sum(axis=1)
        pivot = pivot.reset_index().sort_values(["Total", "code"], ascending=[False, True],
                                                kind="mergesort")
        if top is not None:
            pivot = pivot.head(top)
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
        ax.set_xlabel("Number of notes")
        _title(fig, title)
        if n:
            fig.legend(loc="outside lower center", ncols=len(stances), frameon=False)
        else:
            ax.text(0.5, 0.5, "No coded notes yet", ha="center", va="center", transform=ax.transAxes)
        _label_segments(fig, ax, segments)
    parts = []
    rows = []
    for r in (pivot.to_dict("records") if n else []):
        detail = join_words([f"{int(r[s])} {s}" for s in stances if int(r[s])])
        parts.append(f"{r['label']} {int(r['Total'])} ({detail})")
        rows.append({"Theme": r["label"], **{s.capitalize(): int(r[s]) for s in stances},
                     "Total": int(r["Total"])})
    scope = f" ({meeting_kind})" if meeting_kind else ""
    alt = (f"Bar chart of notes per theme{scope} by stance: " + "; ".join(parts) + "."
           if parts else f"Bar chart of notes per theme{scope}: no coded notes yet.")
    table = pd.DataFrame(rows, columns=["Theme"] + [s.capitalize() for s in stances] + ["Total"])
    return Chart(fig, alt, title, table)

