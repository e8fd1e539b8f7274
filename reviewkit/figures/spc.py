"""Statistical process control for monthly shares: p-charts read with NHS England's "Making Data Count" rules.

In: per month, how many records were audited (n) and how many met the measure (x, such as
rated Outstanding or Good), in month order, with the months after which the host recorded a
change. Out: a ``PChart`` (each month's share, centre line and 3-sigma limits that vary with
that month's count), the ``Signal`` list (which rule fired at which months, in which direction)
and the reading a sentence may state: "improvement", "concern" or "common-cause variation".

The rules (Making Data Count, "SPC rules"):

* a point beyond a process limit (above the upper or below the lower 3-sigma limit);
* a shift: a run of ``SHIFT_RUN`` (7) or more months on the same side of the centre line;
* a trend: ``TREND_RUN`` (6) or more months each higher (or each lower) than the one before;
* two of three consecutive months beyond 2 sigma on the same side (close to a limit).

Limits are computed per phase: a new phase starts only at a change the host recorded (new
limits, "re-phasing"), never because the figures moved. Within a phase the centre line is the
pooled share of its first ``BASELINE_MONTHS`` months (all of them while it has fewer), then
held, so later months are judged against the baseline rather than pulling the line towards
themselves. A run or trend never spans two phases.

A p-chart's limits rest on each month's count: with few records a month, or almost all of them
going one way, the limits mislead (a single record moves the share past them). ``too_few`` says
when the counts do not support reading a chart: a typical (median) month with fewer than
``MIN_MONTH_RECORDS`` records, or fewer than ``MIN_RARER_RECORDS`` records expected a month to go
the less common way (median count times the smaller of the centre line and one minus it). In a
seeded simulation of stable processes (tests/test_spc.py: 1 to 41 records a month, shares from
0.60 to 0.97, 24 months) the latest month of a chart these floors pass read special cause on 4.9%
of them, as at large counts; of the charts they set aside, on 13.7%.

The reading of a measure is that of its latest month, as Making Data Count's variation icons
show it: special-cause improvement or concern when the latest month is part of a signal, else
common-cause variation. It is never drawn from comparing two months' figures. Pure: numbers
in, numbers out; no files.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["BASELINE_MONTHS", "IMPROVEMENT", "CONCERN", "COMMON", "HIGHER", "LOWER", "MIN_MONTH_RECORDS",
           "MIN_RARER_RECORDS", "RULES", "SHIFT_RUN", "TREND_RUN", "PChart", "Signal", "direction_word", "p_chart",
           "reading", "signals", "too_few", "typical_count"]

BASELINE_MONTHS = 12
SHIFT_RUN = 7
TREND_RUN = 6
SIGMA_LIMIT = 3.0
SIGMA_NEAR = 2.0
MIN_MONTH_RECORDS = 5  # a typical month with fewer records than this: too few for a p-chart
MIN_RARER_RECORDS = 1.5  # records a typical month is expected to go the less common way

# Rule ids (as written to signals.csv) and how a sentence names them.
RULES = {
    "beyond-limit": "a month beyond the process limits",
    "shift": f"a run of {SHIFT_RUN} or more months on one side of the centre line",
    "trend": f"{TREND_RUN} or more months in a row each rising or each falling",
    "two-of-three": "two of three months close to a process limit (beyond 2 sigma) on the same side",
}
IMPROVEMENT, CONCERN, COMMON = "improvement", "concern", "common-cause variation"
HIGHER, LOWER = "higher", "lower"  # the direction of a signal when neither way is better


@dataclass(frozen=True)
class Signal:
    """A rule that fired: the rule id, the months (0-based positions) it marks, and which way (up or down)."""

    rule: str
    months: tuple[int, ...]
    up: bool


@dataclass(frozen=True)
class PChart:
    """A p-chart: per month its count, share, centre line, limits and phase."""

    n: tuple[int, ...]
    x: tuple[int, ...]
    p: tuple[float | None, ...]  # None for a month with no records
    centre: tuple[float | None, ...]
    sigma: tuple[float | None, ...]
    phase: tuple[int, ...]
    signals: tuple[Signal, ...] = field(default=())

    def upper(self, k: float = SIGMA_LIMIT) -> list[float | None]:
        return [None if c is None or s is None else min(1.0, c + k * s) for c, s in zip(self.centre, self.sigma)]

    def lower(self, k: float = SIGMA_LIMIT) -> list[float | None]:
        return [None if c is None or s is None else max(0.0, c - k * s) for c, s in zip(self.centre, self.sigma)]

    def flagged(self, month: int) -> list[Signal]:
        """The signals that mark this month."""
        return [s for s in self.signals if month in s.months]


def _phases(count: int, breaks: Sequence[int]) -> list[int]:
    """Each month's phase number: a new phase starts at each break (a month position)."""
    starts = sorted({b for b in breaks if 0 < b < count})
    out, phase = [], 0
    for i in range(count):
        while phase < len(starts) and i >= starts[phase]:
            phase += 1
        out.append(phase)
    return out


def p_chart(n: Sequence[int], x: Sequence[int], breaks: Sequence[int] = (),
            baseline: int = BASELINE_MONTHS) -> PChart:
    """The p-chart of monthly counts ``x`` of ``n``; ``breaks`` are the months where a recorded change starts a phase."""
    if len(n) != len(x):
        raise ValueError("n and x must have one value per month")
    if any(xi < 0 or ni < 0 or xi > ni for ni, xi in zip(n, x)):
        raise ValueError("each month needs 0 <= x <= n")
    phase = _phases(len(n), breaks)
    centre: list[float | None] = [None] * len(n)
    sigma: list[float | None] = [None] * len(n)
    for ph in sorted(set(phase)):
        months = [i for i in range(len(n)) if phase[i] == ph]
        base = [i for i in months if n[i] > 0][:baseline]
        total = sum(n[i] for i in base)
        if not total:
            continue
        pbar = sum(x[i] for i in base) / total
        for i in months:
            centre[i] = pbar
            if n[i] > 0:
                sigma[i] = math.sqrt(pbar * (1 - pbar) / n[i])
    p = tuple(x[i] / n[i] if n[i] > 0 else None for i in range(len(n)))
    chart = PChart(tuple(int(v) for v in n), tuple(int(v) for v in x), p, tuple(centre), tuple(sigma), tuple(phase))
    return PChart(chart.n, chart.x, chart.p, chart.centre, chart.sigma, chart.phase, tuple(signals(chart)))


def _z(chart: PChart, i: int) -> float | None:
    p, c, s = chart.p[i], chart.centre[i], chart.sigma[i]
    if p is None or c is None or s is None:
        return None
    if s == 0:  # a centre line of 0% or 100%: any other share is beyond it
        return 0.0 if p == c else math.copysign(math.inf, p - c)
    return (p - c) / s


def signals(chart: PChart) -> list[Signal]:
    """Every rule that fires on the chart, phase by phase (months without records are skipped)."""
    found: list[Signal] = []
    for ph in sorted(set(chart.phase)):
        months = [i for i in range(len(chart.n)) if chart.phase[i] == ph and _z(chart, i) is not None]
        z = {i: _z(chart, i) for i in months}
        for i in months:  # beyond a limit
            zi = z[i]
            assert zi is not None
            if abs(zi) > SIGMA_LIMIT:
                found.append(Signal("beyond-limit", (i,), zi > 0))
        found += _runs(months, lambda i: (z[i] or 0) > 0, lambda i: (z[i] or 0) < 0, SHIFT_RUN, "shift")
        found += _trends(chart, months)
        for k in range(len(months) - 2):  # two of three beyond 2 sigma, same side
            window = months[k:k + 3]
            for up in (True, False):
                near = [i for i in window if ((z[i] or 0) > SIGMA_NEAR if up else (z[i] or 0) < -SIGMA_NEAR)]
                if len(near) >= 2:
                    found.append(Signal("two-of-three", tuple(near), up))
    return _merged(found)


def _runs(months: list[int], above: object, below: object, length: int, rule: str) -> list[Signal]:
    out: list[Signal] = []
    for up, test in ((True, above), (False, below)):
        run: list[int] = []
        for i in [*months, None]:
            if i is not None and test(i):  # type: ignore[operator]
                run.append(i)
                continue
            if len(run) >= length:
                out.append(Signal(rule, tuple(run), up))
            run = []
    return out


def _trends(chart: PChart, months: list[int]) -> list[Signal]:
    out: list[Signal] = []
    for up in (True, False):
        run: list[int] = []
        for i in months:
            p = chart.p[i]
            prev = chart.p[run[-1]] if run else None
            if run and p is not None and prev is not None and ((p > prev) if up else (p < prev)):
                run.append(i)
                continue
            if len(run) >= TREND_RUN:
                out.append(Signal("trend", tuple(run), up))
            run = [i]
        if len(run) >= TREND_RUN:
            out.append(Signal("trend", tuple(run), up))
    return out


def _merged(found: list[Signal]) -> list[Signal]:
    """Overlapping two-of-three windows of one direction become one signal; others stay as found."""
    out: list[Signal] = []
    for s in found:
        last = out[-1] if out else None
        if (last is not None and s.rule == "two-of-three" and last.rule == s.rule and last.up == s.up
                and set(s.months) & set(last.months)):
            out[-1] = Signal(s.rule, tuple(sorted(set(last.months) | set(s.months))), s.up)
        else:
            out.append(s)
    return out


def direction_word(up: bool, better: str = "up") -> str:
    """What a signal in this direction means: improvement or concern, or higher/lower when neither way is better."""
    if better == "up":
        return IMPROVEMENT if up else CONCERN
    if better == "down":
        return CONCERN if up else IMPROVEMENT
    return HIGHER if up else LOWER


def reading(chart: PChart, better: str = "up") -> str:
    """The measure's reading at its latest month: improvement, concern, both, or common-cause variation.

    From the rules alone: the latest month with records is part of a signal, or it is not.
    """
    latest = max((i for i, p in enumerate(chart.p) if p is not None), default=None)
    if latest is None:
        return COMMON
    words = sorted({direction_word(s.up, better) for s in chart.flagged(latest)})
    if not words:
        return COMMON
    return " and ".join(words)


def typical_count(chart: PChart) -> float:
    """The median count of the months with records (0 when no month has any)."""
    counted = [n for n in chart.n if n > 0]
    return float(statistics.median(counted)) if counted else 0.0


def too_few(chart: PChart) -> str:
    """Why the counts do not support reading this chart, in plain English, or "" when they do."""
    typical = typical_count(chart)
    if typical < MIN_MONTH_RECORDS:
        return (f"{_number(typical)} record{'s' if typical != 1 else ''} in a typical month, fewer than "
                f"{MIN_MONTH_RECORDS}")
    centre = next((c for c in reversed(chart.centre) if c is not None), None)
    rarer = typical * min(centre, 1 - centre) if centre is not None else 0.0
    if rarer == 0:
        return "every record goes the same way, so the chart has no limits to read"
    if rarer < MIN_RARER_RECORDS:
        return (f"of {_number(typical)} records in a typical month, about {_number(rarer)} go the less common way: "
                f"fewer than {_number(MIN_RARER_RECORDS)}, so one record moves the share past the limits")
    return ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
