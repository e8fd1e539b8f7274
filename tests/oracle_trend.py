"""The oracle's recount of 'Compared with the previous review' (section 4), from the previous round's bundle.

Like ``tests/oracle.py`` it imports nothing from reviewkit: the previous round's counts come from the
bundle's own CSV files and manifest, this round's from the export, and each change, its Newcombe
interval, the size of change the case records can show and the chance of a false change are
computed afresh.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path

import numpy as np
import yaml

from .oracle import LEVELS, NA, SCORE, TOP, Review, noun, wilson

# --------------------------------------------------------------------------- change since the previous round

def _icc(hits: np.ndarray, sizes: np.ndarray) -> float:
    """ANOVA intra-class correlation of a share counted in clusters, truncated to 0–1."""
    k, big_n = len(sizes), sizes.sum()
    share = hits.sum() / big_n
    p_i = hits / sizes
    msb = (sizes * (p_i - share) ** 2).sum() / (k - 1)
    msw = (hits * (1 - p_i)).sum() / (big_n - k)
    n0 = (big_n - (sizes ** 2).sum() / big_n) / (k - 1)
    denom = msb + (n0 - 1) * msw
    return 0.0 if denom <= 0 else float(np.clip((msb - msw) / denom, 0, 1))


def newcombe(k1: float, n1: float, k2: float, n2: float, z1: float = 1.96, z2: float = 1.96) -> tuple[float, ...]:
    """p2 − p1 and its hybrid score limits (Newcombe 1998, method 10), in points."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, z1), wilson(k2, n2, z2)
    d = p2 - p1
    return (100 * d, 100 * max(-1.0, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)),
            100 * min(1.0, d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)))


def _t(df: int) -> float:
    return {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646, 8: 2.3060,
            9: 2.2622, 10: 2.2281, 11: 2.2010, 12: 2.1788, 13: 2.1604, 14: 2.1448, 15: 2.1314,
            16: 2.1199, 17: 2.1098, 18: 2.1009, 19: 2.0930, 20: 2.0860}[max(df, 1)]


def _pts(x: float, signed: bool = True) -> str:
    shown = f"{abs(x):.1f}" if 0 < abs(x) < 0.5 else f"{abs(x):.0f}"
    if not signed:
        return shown
    return "0" if float(shown) == 0 else ("+" if x > 0 else "−") + shown


def trend_paragraphs(rv: Review, workspace: Path) -> list[str]:
    """The paragraphs of 'Compared with the previous review' after its method paragraph, from the bundle's CSVs."""
    with zipfile.ZipFile(workspace / "previous_round.zip") as z:
        manifest = yaml.safe_load(z.read("manifest.yaml"))
        then = {r["question"]: r for name in ("question_ratings.csv", "overall_judgements.csv")
                for r in csv.DictReader(io.StringIO(z.read(name).decode("utf-8")))}
    assert all(v != "" for r in then.values() for v in r.values()), "the oracle knows unsuppressed bundles only"
    titles = {q["id"]: " ".join(q["title"].split()).casefold() for q in manifest["questions"]}
    shared = [(i, qid, title) for i, (qid, title) in enumerate(rv.questions, 1)
              if titles.get(qid) == " ".join(title.split()).casefold()]
    prev_cases = int(manifest["counts"]["cases"])

    def prev(qid: str) -> tuple[int, int]:
        r = then[qid]
        return int(r["Outstanding"]) + int(r["Good"]), sum(int(r[lv]) for lv, _ in LEVELS)

    def now(rows: list[dict[str, str]]) -> tuple[int, int]:
        scored = [r for r in rows if r["rating"] in SCORE]
        return sum(r["rating"] in TOP for r in scored), len(scored)

    comparisons = []  # (label, change, low, high, previous share)
    for number, qid, title in shared:
        (pk, pn), (k, n) = prev(qid), now([r for r in rv.question_ratings() if r["question"] == qid])
        comparisons.append((f"Q{number} {title}", *newcombe(pk, pn, k, n), 100 * pk / pn))
    if len(shared) > 1:
        ids = {qid for _, qid, _ in shared}
        scored = [r for r in rv.question_ratings() if r["question"] in ids and r["rating"] in SCORE]
        cases = sorted({r["case_id"] for r in scored})
        hits = np.array([sum(r["rating"] in TOP for r in scored if r["case_id"] == c) for c in cases], dtype=float)
        sizes = np.array([sum(1 for r in scored if r["case_id"] == c) for c in cases], dtype=float)
        k, n = hits.sum(), sizes.sum()
        if min(k, n - k) <= 1:
            icc, deff = 1.0, sizes.max()
        else:
            icc = _icc(hits, sizes)
            deff = 1 + ((sizes ** 2).sum() / n - 1) * icc
        pk, pn = map(sum, zip(*(prev(q) for _, q, _ in shared)))
        pdeff = 1 + (pn / prev_cases - 1) * icc if pn > prev_cases else 1.0
        comparisons.append(("all question ratings pooled", *newcombe(pk / pdeff, pn / pdeff, k / deff, n / deff,
                                                                     _t(prev_cases - 1), _t(len(cases) - 1)), 0.0))
    (pk, pn), (k, n) = prev(rv.overall), now(rv.overall_ratings())
    comparisons.append(("the overall judgements", *newcombe(pk, pn, k, n), 100 * pk / pn))

    n_now = len({r["case_id"] for r in rv.primary if r["rating"] in SCORE or r["rating"] == NA})
    questions = comparisons[:len(shared)]
    base = sum(c[4] for c in questions) / len(questions) / 100
    sizes_seen = []
    for sign in (1, -1):
        for d in range(1, 101):
            q = base + sign * d / 100
            if not 0 <= q <= 1:
                break
            _, lo, hi = newcombe(base * prev_cases, prev_cases, q * n_now, n_now)
            if lo > 0 or hi < 0:
                sizes_seen.append(d)
                break
    each = (f"With {noun(n_now, 'case record')} in each round" if n_now == prev_cases else
            f"With {noun(prev_cases, 'case record')} in the previous round and {n_now} in this one")
    chance = len(comparisons) * 0.05
    expect = ("fewer than one is likely to" if chance < 0.5 else "about one may" if chance < 1.5
              else f"about {round(chance)} may")
    out = [f"{each}, only a change in one question’s share of about {max(sizes_seen)} points or more would be "
           "clear; smaller real changes can go unseen. Each comparison has a 1 in 20 chance of showing a clear "
           f"change where there was none, so of these {noun(len(comparisons), 'comparison')} {expect} cross that "
           "line by chance alone."]
    clear = [c for c in comparisons if c[2] > 0 or c[3] < 0]
    for label, d, lo, hi, _ in clear:
        out.append(f"For {label}, the share rated Outstanding or Good {'rose' if d > 0 else 'fell'} by "
                   f"{_pts(d, False)} points (95% interval {_pts(lo)} to {_pts(hi)}).")
    unclear = [c for c in comparisons if c not in clear]
    if len(unclear) == 1:
        label, d, lo, hi, _ = unclear[0]
        out.append(f"For {label}, the share rated Outstanding or Good changed by {_pts(d)} points; the 95% interval "
                   f"({_pts(lo)} to {_pts(hi)}) includes no change, so these figures cannot tell whether practice "
                   "changed.")
    elif unclear:
        items = [f"{label} ({_pts(d)} points; {_pts(lo)} to {_pts(hi)})" for label, d, lo, hi, _ in unclear]
        out.append(f"For {'the other' if clear else 'all'} {noun(len(unclear), 'comparison')}, the 95% interval of "
                   "the change includes no change, so these figures cannot tell whether practice changed: "
                   f"{'; '.join(items)}.")
    return out
