"""The p-chart of a tracked measure, with Making Data Count's colours and an accessible equivalent of its icons.

In: a ``Measure`` (``reviewkit.figures.tracking``). Out: a ``Chart`` (figure, alt text stating
the range, the centre line, which rule fired where and in which direction, and the reading),
the small table of its latest months, and the variation "icon" as text (``variation_label``).

Colour is never the only cue: a month marked by an improvement signal is a blue triangle
pointing up, a concern an orange triangle pointing down, a signal where neither way is better a
purple diamond; common-cause months are grey dots; the limits are dashed and the centre line
solid, and the legend names them. Pure: no files.
"""

from __future__ import annotations

import pandas as pd

from reviewkit.figures.analysis import format_count, format_percent
from reviewkit.figures.charts import Chart, _figure, _style, finish_percent_chart
from reviewkit.figures.sentences import join_words
from reviewkit.figures.spc import COMMON, CONCERN, IMPROVEMENT, RULES, direction_word
from reviewkit.figures.tracking import Measure, month_label, reading_sentence

__all__ = ["TABLE_MONTHS", "spc_chart", "spc_table", "variation_label"]

TABLE_MONTHS = 12
MARK = {  # colour, marker, legend label
    IMPROVEMENT: ("#0072B2", "^", "Special cause: improvement"),
    CONCERN: ("#D55E00", "v", "Special cause: concern"),
    "higher": ("#7B3294", "D", "Special cause: higher"),
    "lower": ("#7B3294", "D", "Special cause: lower"),
}
COMMON_COLOUR = "#6B6B6B"
SHORT_RULES = {"beyond-limit": "beyond a limit", "shift": "run on one side", "trend": "rising or falling run",
               "two-of-three": "2 of 3 near a limit"}


def variation_label(m: Measure) -> str:
    """The variation icon as words, e.g. 'Special cause: improvement (up)' or 'Common-cause variation'."""
    word = m.reading
    if word == COMMON:
        return "Common-cause variation"
    arrows = {IMPROVEMENT: "up" if m.better != "down" else "down", CONCERN: "down" if m.better != "down" else "up"}
    parts = [f"{w} ({arrows[w]})" if w in arrows else w for w in word.split(" and ")]
    return "Special cause: " + " and ".join(parts)


def _marks(m: Measure) -> dict[int, str]:
    """Each month marked by a signal, with the signal's meaning (improvement wins no tie: concern shown too)."""
    out: dict[int, str] = {}
    for s in m.chart.signals:
        word = direction_word(s.up, m.better)
        for i in s.months:
            out[i] = word if i not in out or out[i] == word else CONCERN
    return out


def spc_chart(m: Measure, title: str | None = None) -> Chart:
    """The measure's p-chart: monthly shares, centre line, 3-sigma limits per month, phases and signals."""
    c = m.chart
    xs = list(range(len(m.months)))
    pct = [None if p is None else 100 * p for p in c.p]
    centre = [None if v is None else 100 * v for v in c.centre]
    upper = [None if v is None else 100 * v for v in c.upper()]
    lower = [None if v is None else 100 * v for v in c.lower()]
    marks = _marks(m)
    title = title or f"{m.label}{' – ' + m.team if m.team else ''}"
    with _style():
        fig = _figure(2.6)
        ax = fig.add_subplot()
        ax.plot(xs, [float("nan") if v is None else v for v in pct], color=COMMON_COLOUR, linewidth=1.0,
                marker="o", markersize=3, label="Monthly share")
        for ph in sorted(set(c.phase)):
            idx = [i for i in xs if c.phase[i] == ph]
            ax.plot(idx, [float("nan") if centre[i] is None else centre[i] for i in idx], color="#000000",
                    linewidth=1.0, label="Centre line" if ph == 0 else None)
            for series, name in ((upper, "Process limits (3 sigma)"), (lower, None)):
                ax.plot(idx, [float("nan") if series[i] is None else series[i] for i in idx], color="#444444",
                        linewidth=0.8, linestyle="--", drawstyle="steps-mid", label=name if ph == 0 else None)
            if ph > 0:
                ax.axvline(idx[0] - 0.5, color="#444444", linewidth=0.8, linestyle=":")
        for word, (colour, marker, label) in MARK.items():
            idx = [i for i, w in marks.items() if w == word and pct[i] is not None]
            if idx:
                ax.plot(idx, [pct[i] for i in idx], linestyle="none", marker=marker, markersize=7, color=colour,
                        markeredgecolor="#000000", markeredgewidth=0.5, label=label)
        step = max(1, -(-len(xs) // 12))
        step = 12 if len(xs) > 36 else 3 if len(xs) > 12 else 1 if step == 1 else step
        ticks = xs[::step]
        ax.set_xticks(ticks, [month_label(m.months[i], short=True) for i in ticks])
        finish_percent_chart(fig, ax, title, "y", "%", ncols=3)
    return Chart(fig, _alt(m, marks), title, spc_table(m))


def _alt(m: Measure, marks: dict[int, str]) -> str:
    c = m.chart
    shown = [i for i, p in enumerate(c.p) if p is not None]
    if not shown:
        return f"p-chart of {m.label}: no audits yet."
    lo = min(shown, key=lambda i: c.p[i] or 0)
    hi = max(shown, key=lambda i: c.p[i] or 0)
    centres = sorted({format_percent(round((v or 0) * 1000), 1000) for v in c.centre if v is not None})
    rules = []
    for s in c.signals:
        a, b = month_label(m.months[s.months[0]]), month_label(m.months[s.months[-1]])
        rules.append(f"{RULES[s.rule]} ({a if a == b else a + ' to ' + b}), {direction_word(s.up, m.better)}")
    who = f" for {m.team}" if m.team else ""
    text = (f"p-chart of {m.label}{who}: the share of {m.unit} each month from {month_label(m.months[0])} to "
            f"{month_label(m.months[-1])}, between {format_percent(c.x[lo], c.n[lo])} ({month_label(m.months[lo])}) "
            f"and {format_percent(c.x[hi], c.n[hi])} ({month_label(m.months[hi])}); centre line "
            f"{join_words(centres)}. ")
    text += ("Rules that fired: " + "; ".join(dict.fromkeys(rules)) + ". ") if rules else "No rule fired. "
    return text + reading_sentence(m)


def spc_table(m: Measure, months: int = TABLE_MONTHS) -> pd.DataFrame:
    """The latest months' figures: count, share, centre line, limits and the signal marking each month."""
    c = m.chart
    upper, lower = c.upper(), c.lower()
    marks = _marks(m)
    rows = []
    for i in range(max(0, len(m.months) - months), len(m.months)):
        rules = sorted({SHORT_RULES[s.rule] for s in c.flagged(i)})
        rows.append({"Month": month_label(m.months[i]),
                     "Audited": c.n[i],
                     "Outstanding or Good" if m.kind != "theme" else "Tagged":
                         "–" if c.p[i] is None else format_count(c.x[i], c.n[i]),
                     "Centre line": "–" if c.centre[i] is None else format_percent(round(c.centre[i] * 1000), 1000),
                     "Limits": ("–" if upper[i] is None or lower[i] is None or c.n[i] == 0 else
                                f"{format_percent(round(lower[i] * 1000), 1000)} to "
                                f"{format_percent(round(upper[i] * 1000), 1000)}"),
                     "Signal": (f"{marks[i]}: {'; '.join(rules)}" if i in marks else "none")})
    return pd.DataFrame(rows)
