"""The measures of an in-house audit programme, month by month, and the sentences that state them.

In: the first auditor's ratings (one row per audit and question: audit_id, month, team,
question, rating), the audits (audit_id, month, team, themes), the audit tool, the months to
cover and the months where the host recorded a change. Out: ``Measure`` objects (a p-chart per
measure: the overall judgement, each question, each theme; for the council or one team), the
rows of signals.csv, and plain-English sentences. A sentence says "improvement", "concern" or
"common-cause variation" only from the Making Data Count rules (``reviewkit.figures.spc``),
never from comparing two months' figures. Pure: DataFrames in, numbers and text out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reviewkit.core.tools import AuditTool
from reviewkit.figures.analysis import format_percent
from reviewkit.figures.sentences import join_words
from reviewkit.figures.spc import COMMON, RULES, PChart, direction_word, p_chart, reading

__all__ = ["GOOD_LEVELS", "Measure", "Theme", "annual_sentence", "measure_sentence", "measures", "month_label",
           "month_span", "reading_sentence", "signal_rows", "theme_measures"]

GOOD_LEVELS = ("Outstanding", "Good")


@dataclass(frozen=True)
class Theme:
    """A practice theme auditors tag; ``better`` says which way is better: up, down or neither."""

    id: str
    title: str
    better: str = "neither"


@dataclass(frozen=True)
class Measure:
    """One tracked measure: what it counts, for whom, its months and its p-chart."""

    key: str  # overall, q1 … or theme:<id>
    label: str
    kind: str  # overall, question or theme
    team: str  # "" for the whole council
    better: str
    months: tuple[str, ...]
    chart: PChart

    @property
    def reading(self) -> str:
        return reading(self.chart, self.better)

    @property
    def unit(self) -> str:
        return "audits tagged with the theme" if self.kind == "theme" else "records rated Outstanding or Good"


def month_label(month: str, short: bool = False) -> str:
    """'2027-03' → 'March 2027' (or 'Mar 2027')."""
    d = dt.date(int(month[:4]), int(month[5:7]), 1)
    return f"{d:%b %Y}" if short else f"{d:%B %Y}"


def month_span(first: str, last: str) -> list[str]:
    """Every month from first to last ('YYYY-MM'), months without audits included."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _breaks(months: Sequence[str], changes: Iterable[str]) -> list[int]:
    return sorted({months.index(c) for c in changes if c in months})


def _charts(counts: pd.DataFrame, keys: Sequence[str], months: Sequence[str], breaks: Sequence[int]) -> dict[str, PChart]:
    """One p-chart per key from a frame indexed by (key, month) with columns n and x."""
    out = {}
    full = pd.MultiIndex.from_product([list(keys), list(months)], names=["key", "month"])
    counts = counts.reindex(full, fill_value=0)
    n = counts["n"].to_numpy().reshape(len(keys), len(months))
    x = counts["x"].to_numpy().reshape(len(keys), len(months))
    for i, k in enumerate(keys):
        out[k] = p_chart(n[i].tolist(), x[i].tolist(), breaks)
    return out


def measures(first: pd.DataFrame, tool: AuditTool, months: Sequence[str], changes: Iterable[str] = (),
             team: str = "") -> list[Measure]:
    """The overall judgement's and each question's measure: the share rated Outstanding or Good.

    ``first`` holds the first auditor's ratings only (never the moderator's): one rating per
    record, as rows of month, team, question and rating, with an optional ``count`` column when
    the rows are already counted. Not applicable is left out of each month's count.
    """
    scale = tool.scale
    counted = {lv.label for lv in scale.scored}
    good = {lv.label for lv in scale.scored if lv.label in GOOD_LEVELS} or {scale.scored[0].label}
    df = first if not team else first[first["team"] == team]
    keys = [tool.overall.id, *tool.question_ids]
    if len(df):
        ratings = df["rating"].to_numpy()
        weight = df["count"].to_numpy() if "count" in df else np.ones(len(df), dtype=int)
        frame = pd.DataFrame({"key": df["question"].to_numpy(), "month": df["month"].to_numpy(),
                              "n": np.isin(ratings, list(counted)) * weight,
                              "x": np.isin(ratings, list(good)) * weight})
        counts = frame.groupby(["key", "month"])[["n", "x"]].sum()
    else:
        counts = pd.DataFrame({"n": [], "x": []}, index=pd.MultiIndex.from_tuples([], names=["key", "month"]))
    charts = _charts(counts, keys, months, _breaks(months, changes))
    out = [Measure(tool.overall.id, "Overall judgement", "overall", team, "up", tuple(months), charts[tool.overall.id])]
    for i, q in enumerate(tool.questions, 1):
        out.append(Measure(q.id, f"Q{i} {q.title}", "question", team, "up", tuple(months), charts[q.id]))
    return out


def theme_measures(audits: pd.DataFrame, themes: Sequence[Theme], months: Sequence[str],
                   changes: Iterable[str] = (), team: str = "") -> list[Measure]:
    """Each theme's share of audits tagged with it, per month (every audit counts in n)."""
    if not themes:
        return []
    df = audits if not team else audits[audits["team"] == team]
    rows = []
    tags = (";" + df["themes"].fillna("").astype(str) + ";") if len(df) else pd.Series([], dtype=str)
    month_of = df["month"].to_numpy() if len(df) else []
    for t in themes:
        tagged = tags.str.contains(f";{t.id};", regex=False).to_numpy().astype(int)
        rows.append(pd.DataFrame({"key": t.id, "month": month_of, "n": 1, "x": tagged}))
    counts = pd.concat(rows).groupby(["key", "month"])[["n", "x"]].sum()
    charts = _charts(counts, [t.id for t in themes], months, _breaks(months, changes))
    return [Measure(f"theme:{t.id}", t.title, "theme", team, t.better, tuple(months), charts[t.id]) for t in themes]


def signal_rows(items: Iterable[Measure]) -> list[dict[str, str]]:
    """signals.csv's rows: measure, team, month, rule, direction; one per month a rule marks."""
    out = []
    for m in items:
        for s in m.chart.signals:
            for i in s.months:
                out.append({"measure": m.key, "team": m.team, "month": m.months[i], "rule": s.rule,
                            "direction": direction_word(s.up, m.better)})
    return out


def _latest(m: Measure) -> int | None:
    return max((i for i, p in enumerate(m.chart.p) if p is not None), default=None)


def _share(m: Measure, i: int) -> str:
    c = m.chart
    return f"{format_percent(c.x[i], c.n[i])} ({c.x[i]} of {c.n[i]})"


def _rule_phrases(m: Measure, only: int | None = None) -> list[str]:
    phrases = []
    for s in m.chart.signals:
        if only is not None and only not in s.months:
            continue
        span = [month_label(m.months[i]) for i in (s.months[0], s.months[-1])]
        when = span[0] if span[0] == span[1] else f"{span[0]} to {span[1]}"
        phrases.append(f"{RULES[s.rule]}, {'upward' if s.up else 'downward'} ({when})")
    return list(dict.fromkeys(phrases))


def reading_sentence(m: Measure) -> str:
    """What the rules say at the latest month, and which rule fired, in plain English."""
    latest = _latest(m)
    word = m.reading
    if latest is None:
        return "No audits yet: nothing to read."
    if word == COMMON:
        earlier = _rule_phrases(m)
        tail = (f" Earlier months showed special-cause variation ({join_words(earlier)}); the latest month is "
                "not part of it.") if earlier else ""
        return ("Common-cause variation: no Making Data Count rule marks the latest month, so its difference from "
                "other months is within what chance variation alone produces." + tail)
    return (f"Special-cause variation, {word}: the latest month is part of "
            f"{join_words(_rule_phrases(m, latest))}.")


def measure_sentence(m: Measure) -> str:
    """'Overall judgement: 88.0% (61 of 69) of the records audited in March 2027 were rated Outstanding or Good.'"""
    latest = _latest(m)
    if latest is None:
        return f"{m.label}: no audits yet."
    return (f"{m.label}: {_share(m, latest)} of the {m.unit.split(' ', 1)[0]} in {month_label(m.months[latest])} "
            f"{'were tagged with this theme' if m.kind == 'theme' else 'were rated Outstanding or Good'}.")


def annual_sentence(m: Measure, year: Sequence[str]) -> str:
    """The PSW annual report's way: the latest month, the year's first month and the whole year, with the reading.

    The figures are stated side by side; whether they differ is said only by the rules.
    """
    idx = [i for i, mo in enumerate(m.months) if mo in set(year) and m.chart.p[i] is not None]
    if not idx:
        return f"{m.label}: no audits in the year."
    last, first = idx[-1], idx[0]
    what = "were tagged with this theme" if m.kind == "theme" else "were scored as Good or better"
    noun = "audits" if m.kind == "theme" else "pieces of work audited"
    text = f"{m.label}: {format_percent(m.chart.x[last], m.chart.n[last])} of the {noun} in {month_label(m.months[last])} {what}"
    if first != last:
        text += f", against {format_percent(m.chart.x[first], m.chart.n[first])} in {month_label(m.months[first])}"
    n = sum(m.chart.n[i] for i in idx)
    x = sum(m.chart.x[i] for i in idx)
    text += f"; over the {len(idx)} months, {format_percent(x, n)} ({x} of {n})."
    return text
