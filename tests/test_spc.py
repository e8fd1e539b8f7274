"""The p-chart and Making Data Count's rules: each rule on series built to fire it (and to just miss
it), limits that vary with each month's count, new limits only at a recorded change, readings from
the rules alone, and a seeded simulation of the false-signal rate and the months to detect a shift."""

from __future__ import annotations

import numpy as np
import pytest

from reviewkit.figures import spc

N = 100


def chart(shares, n=N, breaks=()):
    ns = [n] * len(shares) if isinstance(n, int) else list(n)
    return spc.p_chart(ns, [round(s * k) for s, k in zip(shares, ns)], breaks)


def rules(c, up=None):
    return {s.rule for s in c.signals if up is None or s.up == up}


def test_limits_are_wider_in_a_month_with_fewer_records():
    c = spc.p_chart([100, 25, 100], [70, 17, 70])
    width = [u - lo for u, lo in zip(c.upper(), c.lower())]
    assert width[1] == pytest.approx(2 * width[0])  # sigma goes with 1/sqrt(n): a quarter of the records, twice as wide
    assert c.centre[0] == c.centre[1] == pytest.approx(157 / 225)


def test_stable_series_fires_nothing_and_reads_common_cause():
    c = chart([0.70, 0.72, 0.69, 0.71, 0.68, 0.73, 0.70, 0.69, 0.71, 0.70, 0.72, 0.68])
    assert c.signals == ()
    assert spc.reading(c) == spc.COMMON


def test_a_point_beyond_the_upper_limit_is_an_improvement_and_below_the_lower_a_concern():
    base = [0.70] * 12
    up = chart([*base, 0.90])  # 0.90 is 4.4 sigma above 0.70 at n=100
    down = chart([*base, 0.50])
    assert rules(up, up=True) == {"beyond-limit"} and spc.reading(up) == spc.IMPROVEMENT
    assert rules(down, up=False) == {"beyond-limit"} and spc.reading(down) == spc.CONCERN


def test_a_run_of_seven_on_one_side_is_a_shift_but_six_is_not():
    base = [0.70, 0.68, 0.72, 0.69, 0.71, 0.70, 0.69, 0.71, 0.70, 0.72, 0.68, 0.70]
    seven = chart([*base, *[0.73] * 7])
    six = chart([*base, *[0.73] * 6])
    assert "shift" in rules(seven, up=True)
    assert "shift" not in rules(six)
    assert spc.reading(seven) == spc.IMPROVEMENT and spc.reading(six) == spc.COMMON


def test_six_rising_in_a_row_is_a_trend_but_five_is_not():
    base = [0.70, 0.68, 0.72, 0.69, 0.71, 0.70, 0.69, 0.71, 0.70, 0.72, 0.68, 0.70]
    six = chart([*base, 0.60, 0.62, 0.64, 0.66, 0.68, 0.70])
    five = chart([*base, 0.71, 0.62, 0.64, 0.66, 0.68, 0.70])
    assert "trend" in rules(six, up=True)
    assert "trend" not in rules(five)
    falling = chart([*base, 0.76, 0.74, 0.72, 0.70, 0.68, 0.66])
    assert "trend" in rules(falling, up=False)


def test_two_of_three_beyond_two_sigma_on_the_same_side():
    base = [0.70, 0.68, 0.72, 0.69, 0.71, 0.70, 0.69, 0.71, 0.70, 0.72, 0.68, 0.70]  # sigma about 4.6 points
    two = chart([*base, 0.80, 0.70, 0.80])  # 2.2 sigma, the centre, 2.2 sigma: within the limits
    split = chart([*base, 0.80, 0.70, 0.60])  # one above, one below: not the same side
    assert rules(two) == {"two-of-three"} and spc.reading(two) == spc.IMPROVEMENT
    assert "two-of-three" not in rules(split)


def test_a_big_difference_between_two_months_is_not_a_change_unless_a_rule_fires():
    # 62% then 78%: sixteen points apart, yet both inside the limits at n=40 (sigma about 7 points)
    c = chart([0.70, 0.72, 0.68, 0.70, 0.71, 0.69, 0.70, 0.72, 0.68, 0.70, 0.62, 0.78], n=40)
    assert c.signals == ()
    assert spc.reading(c) == spc.COMMON


def test_new_limits_start_only_at_a_recorded_change():
    shares = [0.60, 0.61, 0.59, 0.60, 0.62, 0.58, 0.60, 0.80, 0.81, 0.79, 0.80, 0.82, 0.78, 0.80]
    single = chart(shares)
    phased = chart(shares, breaks=[7])
    assert single.phase == (0,) * 14 and rules(single, up=True)  # the step reads as special cause
    assert phased.phase == (0,) * 7 + (1,) * 7
    assert phased.centre[0] == pytest.approx(0.60, abs=0.01) and phased.centre[13] == pytest.approx(0.80, abs=0.01)
    assert phased.signals == ()


def test_a_theme_where_lower_is_better_reads_a_fall_as_improvement():
    c = chart([0.44] * 12 + [0.20])
    assert spc.reading(c, better="down") == spc.IMPROVEMENT
    assert spc.reading(c, better="neither") == spc.LOWER


def test_only_the_latest_month_sets_the_reading():
    c = chart([0.70] * 6 + [0.95] + [0.70] * 6)  # one month far above, long ago
    assert "beyond-limit" in rules(c)
    assert spc.reading(c) == spc.COMMON


def test_months_without_records_are_skipped_not_counted_as_zero():
    c = spc.p_chart([100, 0, 100, 100], [70, 0, 71, 69])
    assert c.p[1] is None and c.signals == ()


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        spc.p_chart([10, 10], [11, 3])
    with pytest.raises(ValueError):
        spc.p_chart([10], [3, 4])


# --------------------------------------------------------------------------- the seeded simulation

RUNS = 2000


def _stable_rates(rng: np.random.Generator, months: int = 24, p: float = 0.7) -> tuple[float, float]:
    """Over stable charts: the share with any signal anywhere, and with a signal at the latest month."""
    anywhere = latest = 0
    for _ in range(RUNS):
        n = rng.integers(40, 101, months)
        c = spc.p_chart(n.tolist(), rng.binomial(n, p).tolist())
        anywhere += bool(c.signals)
        latest += spc.reading(c) != spc.COMMON
    return anywhere / RUNS, latest / RUNS


def _months_to_detect(rng: np.random.Generator, shift: float = 0.15, p: float = 0.6, n: int = 70) -> list[int]:
    """Months after a true rise of ``shift`` (after a 12-month baseline) until the latest month reads improvement."""
    out = []
    for _ in range(RUNS // 4):
        ns = [n] * 12
        xs = rng.binomial(n, p, 12).tolist()
        for k in range(1, 25):
            ns.append(n)
            xs.append(int(rng.binomial(n, p + shift)))
            if spc.reading(spc.p_chart(ns, xs)) == spc.IMPROVEMENT:
                out.append(k)
                break
        else:
            out.append(25)
    return out


def test_simulated_false_signal_rate_and_months_to_detect_a_15_point_shift():
    rng = np.random.default_rng(2107)
    anywhere, latest = _stable_rates(rng)
    detect = _months_to_detect(rng)
    median = float(np.median(detect))
    within3 = sum(k <= 3 for k in detect) / len(detect)
    summary = (f"stable 24 months, 40-100 records a month, p=0.70: a rule fires somewhere on {anywhere:.1%} of "
               f"charts; the latest month reads special cause on {latest:.1%}; a 15-point rise from 60% at 70 "
               f"records a month is read as improvement after a median {median:g} month(s), within 3 months in "
               f"{within3:.0%} of runs")
    # The four rules together fire somewhere on a fair share of stable charts (the price of catching a
    # shift early); the reading, from the latest month only, is wrong far less often.
    assert 0.05 < anywhere < 0.45, summary
    assert latest < 0.08, summary
    assert latest < anywhere / 2, summary
    assert median <= 3 and within3 >= 0.8, summary


def test_the_variation_label_words_each_direction():
    from reviewkit.figures.spcchart import variation_label
    from reviewkit.figures.tracking import Measure

    def label(shares, better):
        c = chart(shares)
        return variation_label(Measure("theme:x", "X", "theme", "", better, tuple(f"2027-{i:02d}" for i in
                                                                                   range(1, 14)), c))

    rise = [0.44] * 12 + [0.70]
    assert label(rise, "up") == "Special cause: improvement (up)"
    assert label(rise, "down") == "Special cause: concern (up)"
    assert label(rise, "neither") == "Special cause: higher"
    assert label([0.44] * 13, "up") == "Common-cause variation"


def test_too_few_says_why_a_chart_is_not_read_and_passes_one_the_counts_support():
    assert spc.too_few(spc.p_chart([16] * 12, [10] * 12)) == ""
    assert "4 records in a typical month, fewer than 5" == spc.too_few(spc.p_chart([4] * 12, [3] * 12))
    assert "about 1 go the less common way" in spc.too_few(spc.p_chart([16] * 12, [15] * 12))
    assert "no limits" in spc.too_few(spc.p_chart([16] * 12, [16] * 12))
    assert spc.typical_count(spc.p_chart([0, 9, 3, 0, 5], [0, 4, 1, 0, 2])) == 5  # months with no records skipped


def test_simulated_false_readings_where_the_counts_do_and_do_not_support_a_chart():
    """Stable teams of every size: the latest month's false special-cause reading, charts read vs. not read."""
    rng = np.random.default_rng(3119)
    read = [0, 0]  # charts too_few passes: false readings, charts
    skipped = [0, 0]
    for p in (0.6, 0.75, 0.9, 0.97):
        for n in (2, 3, 5, 8, 12, 20, 40):
            for _ in range(RUNS // 10):
                ns = rng.integers(max(1, n - 1), n + 2, 24)
                c = spc.p_chart(ns.tolist(), rng.binomial(ns, p).tolist())
                tally = skipped if spc.too_few(c) else read
                tally[0] += spc.reading(c) != spc.COMMON
                tally[1] += 1
    read_rate, skipped_rate = read[0] / read[1], skipped[0] / skipped[1]
    summary = (f"stable 24 months, 1-41 records a month, p 0.60-0.97: of {read[1]} charts the counts support, the "
               f"latest month reads special cause on {read_rate:.1%}; of the {skipped[1]} too_few sets aside, on "
               f"{skipped_rate:.1%}")
    assert read_rate < 0.065, summary  # about what large counts give (test above)
    assert skipped_rate > 1.5 * read_rate, summary  # the charts left unread would mislead more often
