"""The report's charts as files: drawn once per chart, keyed by what they show, possibly ahead.

A render draws its charts in worker processes while the kernel starts; the kernel's builder
then picks each one up by its key (``chart_file``) instead of drawing it again. ``DONE``
marks a folder whose charts are all drawn.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reviewkit.figures import charts as chart_kinds

__all__ = ["DONE", "ChartJob", "RenderedChart", "chart_digest", "chart_file", "draw_into", "draw_into_star", "render_chart"]

DONE = "done"  # written in a folder once every chart in it is drawn


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
    """Build one chart with ``reviewkit.figures.charts.<kind>`` and render it (also in a worker process)."""
    chart = getattr(chart_kinds, kind)(*args, **kwargs)
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


def chart_digest(job: ChartJob) -> str:
    """A hash of everything a chart is drawn from, to check a chart drawn elsewhere is this one."""
    text = json.dumps(_canonical(list(job)), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def chart_file(folder: Path, key: str) -> Path:
    return folder / (hashlib.sha256(key.encode()).hexdigest()[:24] + ".chart")


def draw_into(folder: Path, key: str, job: ChartJob) -> None:
    """Draw one chart into the folder, whole or not at all, with the digest of its inputs."""
    blob = pickle.dumps((chart_digest(job), render_chart(*job)), protocol=pickle.HIGHEST_PROTOCOL)
    target = chart_file(folder, key)
    partial = target.with_suffix(".partial")
    partial.write_bytes(blob)
    partial.replace(target)


def draw_into_star(task: tuple[Path, str, ChartJob]) -> None:
    draw_into(*task)
