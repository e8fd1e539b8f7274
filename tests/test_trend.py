"""This review beside the previous round, against figures computed here from the raw files."""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from reviewkit.core.errors import WorkspaceError
from reviewkit.core.tools import load_tool
from reviewkit.figures import trend
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.sections import ReportBuilder
from reviewkit.review import bundleread
from reviewkit.review.bundle import Bundle, CountRow
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.files import PREVIOUS_ROUND_FILE

TOP = ("Outstanding", "Good")
SCORED = (*TOP, "Requires Improvement", "Inadequate")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    ws = build_sample_workspace(tmp_path_factory.mktemp("trend") / "eastvale")
    b = ReportBuilder.load(ws.path)
    return {"ws": ws, "builder": b, "html": b.trend()}


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's interval from its definition: the p whose score statistic is ±1.96, by bisection."""
    z, ph = 1.959963984540054, k / n

    def f(p: float) -> float:
        return abs(ph - p) - z * math.sqrt(p * (1 - p) / n)

    def root(a: float, b: float) -> float:
        for _ in range(200):
            m = (a + b) / 2
            a, b = (m, b) if (f(a) > 0) == (f(m) > 0) else (a, m)
        return (a + b) / 2

    return 100 * (0.0 if k == 0 else root(1e-12, ph)), 100 * (1.0 if k == n else root(1 - 1e-12, ph))


def _previous_counts(ws_path: Path) -> dict[str, tuple[int, int]]:
    """Question → (Outstanding or Good, scored) read straight from the bundle's CSV files."""
    with zipfile.ZipFile(ws_path / PREVIOUS_ROUND_FILE) as z:
        out = {}
        for member in ("question_ratings.csv", "overall_judgements.csv"):
            for row in csv.DictReader(io.StringIO(z.read(member).decode("utf-8"))):
                out[row["question"]] = (sum(int(row[k]) for k in TOP), sum(int(row[k]) for k in SCORED))
    return out


def _current_counts(ws) -> dict[str, tuple[int, int]]:
    primary = {(c.id, c.reviewer) for c in ws.meta.cases}
    with ws.store() as store:
        ratings = store.ratings()
    out = {}
    for q, group in ratings.groupby("question"):
        levels = [r for c, who, r in zip(group["case_id"], group["reviewer"], group["rating"]) if (c, who) in primary]
        out[q] = (sum(lv in TOP for lv in levels), sum(lv in SCORED for lv in levels))
    return out


def test_each_question_both_rounds_and_both_intervals_match_an_independent_computation(sample: dict) -> None:
    ws, html = sample["ws"], sample["html"]
    prev, cur = _previous_counts(ws.path), _current_counts(ws)
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)[1:]
    cells = [[re.sub(r"<[^>]+>", "", c).replace("&#x27;", "'") for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
             for r in rows]
    ids = [*ws.tool.question_ids, "overall"]
    assert len(cells) == len(ids)
    for qid, row in zip(ids, cells):
        for (k, n), shown, interval in ((prev[qid], row[1], row[2]), (cur[qid], row[3], row[4])):
            lo, hi = _wilson(k, n)
            assert shown == f"{k} of {n} ({100 * k / n:.1f}%)", qid
            assert interval == f"{lo:.1f}% to {hi:.1f}%", qid
        plo, phi = _wilson(*prev[qid])
        clo, chi = _wilson(*cur[qid])
        overlap = not (clo > phi or chi < plo)
        assert row[5] == ("overlap" if overlap else "apart: higher now" if clo > phi else "apart: lower now"), qid
    assert "this review cannot tell whether practice changed" in html and "does not prove it" in html
    assert '<img src="data:image/png;base64,' in html and 'alt="Dot chart of the share of ratings' in html
    assert "June 2022" in html and "rated 20 case records on the same audit tool" in html


def _bundle(cells: dict[str, tuple[int | None, ...]], total: int = 20) -> Bundle:
    levels = (("Outstanding", 4), ("Good", 3), ("Requires Improvement", 2), ("Inadequate", 1), ("Not applicable", None))
    tool = load_tool("strengths-based-practice")
    rows = tuple(CountRow(q, cells.get(q, (5, 10, 5, 0, 0)), total) for q in tool.question_ids)
    return Bundle("Testshire Council", "2022-01", "Theme", tool.id, tool.version, tool.title, "default", levels,
                  tuple((q.id, q.title) for q in tool.questions), "overall", "Overall judgement", ("default", "1.0"),
                  (("cases", 20),), rows, CountRow("overall", (2, 8, 10, 0, 0), 20), (), ())


def _ratings(share: dict[str, int], n: int = 20) -> pd.DataFrame:
    """n cases, each question rated Good for the first share[q] cases and Requires Improvement after."""
    tool = load_tool("strengths-based-practice")
    rows = [{"case_id": f"C{i:02d}", "reviewer": "A", "question": q,
             "rating": "Good" if i < share.get(q, 15) else "Requires Improvement"}
            for i in range(n) for q in [*tool.question_ids, "overall"]]
    return pd.DataFrame(rows)


def test_wording_claims_a_difference_only_when_the_intervals_do_not_overlap() -> None:
    tool = load_tool("strengths-based-practice")
    table = trend.compare_rounds(_ratings({"q1": 20, "q2": 0, "overall": 20}), tool,
                                 _bundle({"q1": (0, 2, 18, 0, 0), "q2": (10, 10, 0, 0, 0)}))
    verdicts = dict(zip(table["question"], table["verdict"]))
    assert verdicts["q1"] == "higher" and verdicts["q2"] == "lower" and verdicts["q3"] == "overlap"
    assert verdicts["overall"] == "higher"


def test_not_applicable_is_left_out_and_suppressed_cells_make_a_round_unavailable() -> None:
    tool = load_tool("strengths-based-practice")
    table = trend.compare_rounds(_ratings({}), tool, _bundle({"q1": (3, 12, 3, 0, 2), "q2": (None, 12, 3, None, 2),
                                                              "q3": (3, 12, 3, None, None)}))
    row = table.set_index("question")
    assert (row.loc["q1", "prev_count"], row.loc["q1", "prev_total"]) == (15, 18)
    assert row.loc["q2", "verdict"] == "unavailable"
    # A suppressed Inadequate and Not applicable: the scored total is unknown.
    assert row.loc["q3", "verdict"] == "unavailable"


def test_questions_whose_wording_changed_are_not_compared() -> None:
    tool = load_tool("strengths-based-practice")
    bundle = _bundle({})
    renamed = Bundle(**{**bundle.__dict__, "questions": (("q1", "Something else"), *bundle.questions[1:])})
    table = trend.compare_rounds(_ratings({}), tool, renamed)
    assert "q1" not in set(table["question"]) and len(table) == len(tool.questions)


def test_no_previous_round_no_comparison_and_a_broken_file_is_named(sample: dict, tmp_path: Path) -> None:
    from tests.helpers import make_workspace

    ws = make_workspace(tmp_path / "ws")
    assert ReportBuilder.load(ws.path).trend() == ""
    (ws.path / PREVIOUS_ROUND_FILE).write_bytes(b"not a zip")
    with pytest.raises(WorkspaceError, match="previous round's figures cannot be read"):
        bundleread.previous_round(ws.path)
    assert read_bundle(sample["ws"].path / PREVIOUS_ROUND_FILE).council == "Eastvale Borough Council"


def test_the_trend_chart_has_alt_text_and_a_table_with_every_figure(sample: dict) -> None:
    from reviewkit.figures.charts import trend_chart

    table = sample["builder"].trend_table
    chart = trend_chart(table, "June 2022")
    assert list(chart.table.columns) == ["Question", "Previous (June 2022)", "Previous 95% interval", "This review",
                                         "This review's 95% interval", "Intervals"]
    assert len(chart.table) == len(table) and chart.table["Question"].iloc[0] == "Q1 Voice of the person"
    for r in table.to_dict("records"):
        assert f"previous {r['prev_percent']:.1f}% ({r['prev_low']:.1f}% to {r['prev_high']:.1f}%)" in chart.alt
        assert f"this review {r['percent']:.1f}% ({r['low']:.1f}% to {r['high']:.1f}%)" in chart.alt
    assert chart.to_png().startswith(b"\x89PNG")
