"""Charts: alt text that states the figures, level order, determinism, palette, display metadata."""

from __future__ import annotations

import base64

import matplotlib as mpl
import nbformat
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from reviewkit.core.tools import parse_tool
from reviewkit.figures import analysis as a
from reviewkit.figures import charts as c
from reviewkit.figures import notes as nt

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DESCRIPTORS = {"O": "a", "G": "b", "RI": "c", "I": "d"}
SCORED = ["Outstanding", "Good", "Requires Improvement", "Inadequate"]


@pytest.fixture(scope="module")
def tool():
    titles = ["Voice of the person", "Identity, equality, communication", "Management oversight"]
    return parse_tool({"id": "small", "version": "1", "title": "Small", "questions": [
        {"id": f"q{i}", "title": t, "text": "x", "descriptors": DESCRIPTORS}
        for i, t in enumerate(titles, 1)]})


def ratings_for(per_question: dict[str, list[str]], overall: list[str] | None = None) -> pd.DataFrame:
    rows = [(f"C{k:02d}", "Ann", q, level, "") for q, levels in per_question.items()
            for k, level in enumerate(levels)]
    rows += [(f"C{k:02d}", "Ann", "overall", level, "") for k, level in enumerate(overall or [])]
    return pd.DataFrame(rows, columns=["case_id", "reviewer", "question", "rating", "comment"])


@pytest.fixture(scope="module")
def ratings():
    q1 = ["Outstanding"] * 5 + ["Good"] * 12 + ["Requires Improvement"] * 3
    q2 = ["Good"] * 17 + ["Inadequate"] * 1 + ["Not applicable"] * 2
    q3 = ["Outstanding"] * 1 + ["Good"] * 9 + ["Requires Improvement"] * 9 + ["Inadequate"]
    overall = ["Outstanding"] * 5 + ["Good"] * 13 + ["Requires Improvement"] * 2
    return ratings_for({"q1": q1, "q2": q2, "q3": q3}, overall)


@pytest.fixture(scope="module")
def qdist(ratings, tool):
    return a.question_distribution(ratings, tool)


def texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def all_text(fig: Figure) -> str:
    return " | ".join(t.get_text() for t in texts(fig))


# --------------------------------------------------------------------------- question charts

def test_question_chart_alt_states_the_numbers(qdist, tool):
    chart = c.question_chart(qdist.iloc[0], tool.scale)
    assert chart.alt == ("Bar chart of question 1, Voice of the person: Outstanding 5 (25.0%), "
                         "Good 12 (60.0%), Requires Improvement 3 (15.0%), Inadequate 0 (0.0%); "
                         "0 Not applicable.")
    assert chart.title == "Question 1: Voice of the person"
    assert chart.table.values.tolist() == [
        ["Outstanding", "5 (25.0%)"], ["Good", "12 (60.0%)"], ["Requires Improvement", "3 (15.0%)"],
        ["Inadequate", "0 (0.0%)"], ["Not applicable", "0 (not counted)"]]


def test_question_chart_levels_best_first_with_labels_on_the_bars(qdist, tool):
    chart = c.question_chart(qdist.iloc[1], tool.scale)
    ax = chart.figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == SCORED
    assert ax.yaxis_inverted()  # first level drawn at the top
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([0.0, 17 / 18 * 100, 0.0, 1 / 18 * 100])
    bar_labels = [t.get_text() for t in ax.texts]
    assert bar_labels == ["0 (0.0%)", "17 (94.4%)", "0 (0.0%)", "1 (5.6%)"]
    assert "2 Not applicable, not counted" in ax.get_xlabel()
    assert chart.alt.endswith("Inadequate 1 (5.6%); 2 Not applicable.")


def test_each_level_keeps_its_colour(qdist, tool):
    colours = c.level_colours(tool.scale)
    ax = c.question_chart(qdist.iloc[0], tool.scale).figure.axes[0]
    assert [mpl.colors.to_hex(p.get_facecolor()) for p in ax.patches] == [
        colours[level].lower() for level in SCORED]
    assert len(set(colours[level] for level in SCORED)) == 4


def test_overall_and_distribution_charts(ratings, tool):
    overall = c.overall_chart(a.overall_distribution(ratings, tool.scale), tool.scale)
    assert overall.alt == ("Bar chart of the overall judgements of 20 case records: Outstanding "
                           "5 (25.0%), Good 13 (65.0%), Requires Improvement 2 (10.0%), "
                           "Inadequate 0 (0.0%); 0 Not applicable.")
    pooled = c.distribution_chart(a.rating_distribution(ratings, tool.scale), tool.scale)
    assert pooled.alt.startswith("Bar chart of all 58 scored question ratings by level: "
                                 "Outstanding 6 (10.3%), Good 38 (65.5%)")
    assert "2 Not applicable" in pooled.alt


# --------------------------------------------------------------------------- overview

def test_overview_chart_alt_legend_and_table(qdist, tool):
    chart = c.overview_chart(qdist, tool.scale)
    for fragment in ["1. Voice of the person: Outstanding 5 (25.0%), Good 12 (60.0%), "
                     "Requires Improvement 3 (15.0%), Inadequate 0 (0.0%)",
                     "2. Identity, equality, communication: Outstanding 0 (0.0%), Good 17 (94.4%), "
                     "Requires Improvement 0 (0.0%), Inadequate 1 (5.6%); 2 Not applicable",
                     "3. Management oversight: Outstanding 1 (5.0%), Good 9 (45.0%), "
                     "Requires Improvement 9 (45.0%), Inadequate 1 (5.0%)"]:
        assert fragment in chart.alt
    legend = chart.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == SCORED
    ax = chart.figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "1. Voice of the person", "2. Identity, equality,\ncommunication", "3. Management oversight"]
    assert chart.table.loc[1].tolist() == ["2. Identity, equality, communication", "0 (0.0%)",
                                           "17 (94.4%)", "0 (0.0%)", "1 (5.6%)", "2"]


def test_overview_segment_labels_only_where_they_fit(qdist, tool):
    ax = c.overview_chart(qdist, tool.scale).figure.axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert {"25.0%", "60.0%", "15.0%", "94.4%", "45.0%"} <= set(labels)
    assert "5.0%" not in labels and "5.6%" not in labels  # too narrow to hold their text
    # every kept label is inside its bar segment
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    for t in ax.texts:
        x0, x1 = t.get_window_extent(renderer).x0, t.get_window_extent(renderer).x1
        assert any(p.get_window_extent(renderer).x0 <= x0 and x1 <= p.get_window_extent(renderer).x1
                   for p in ax.patches)


def test_segment_text_contrasts_with_its_fill(qdist, tool):
    colours = c.level_colours(tool.scale)
    ax = c.overview_chart(qdist, tool.scale).figure.axes[0]
    for t in ax.texts:
        fill = mpl.colors.to_hex(t.get_bbox_patch().get_facecolor())
        assert fill in {v.lower() for v in colours.values()}
        assert c.contrast_ratio(fill, mpl.colors.to_hex(t.get_color())) >= 4.5


# --------------------------------------------------------------------------- themes

@pytest.fixture
def themes():
    def note(i, code, stance, kind="managers"):
        return {"note_id": i, "source": "meeting", "meeting_kind": kind, "who": None, "kind": "note",
                "text": "t", "speaker_role": "", "stance": stance, "use_in_report": False,
                "codes": (code,)}
    rows = ([note(i, "supervision", "concern") for i in range(5)]
            + [note(10 + i, "supervision", "strength", "practitioners") for i in range(3)]
            + [note(20, "supervision", "mixed"), note(21, "workload", "concern"),
               note(22, "workload", "")])
    return nt.theme_counts(pd.DataFrame(rows), {"supervision": "Supervision", "workload": "Workload"})


def test_theme_chart_alt_table_and_hatching(themes):
    chart = c.theme_chart(themes)
    assert chart.alt == ("Bar chart of notes per theme by stance: Supervision 9 (3 strength, "
                         "1 mixed and 5 concern); Workload 2 (1 concern and 1 unspecified).")
    assert chart.table.values.tolist() == [["Supervision", 3, 1, 5, 0, 9], ["Workload", 0, 0, 1, 1, 2]]
    assert list(chart.table.columns) == ["Theme", "Strength", "Mixed", "Concern", "Unspecified", "Total"]
    ax = chart.figure.axes[0]
    hatches = {mpl.colors.to_hex(p.get_facecolor()): p.get_hatch()
               for p in ax.patches if p.get_width() > 0}
    assert len(set(hatches.values())) == len(hatches) == 4  # each stance its own pattern
    assert [t.get_text() for t in chart.figure.legends[0].get_texts()] == [
        "Strength", "Mixed", "Concern", "Unspecified"]


def test_theme_chart_one_meeting_and_top(themes):
    chart = c.theme_chart(themes, meeting_kind="practitioners")
    assert chart.alt == "Bar chart of notes per theme (practitioners) by stance: Supervision 3 (3 strength)."
    assert len(c.theme_chart(themes, top=1).table) == 1


def test_a_cut_theme_chart_keeps_every_theme_tied_with_the_last_and_the_note_names_the_rest():
    totals = {"a": 4, "b": 3, "c": 3, "d": 3, "e": 1}
    themes = pd.DataFrame([{"code": k, "label": k.upper(), "meeting_kind": "practitioners", "stance": "strength",
                            "count": n} for k, n in totals.items()], columns=nt.THEME_COLUMNS)
    chart = c.theme_chart(themes, top=2)
    assert chart.table["Theme"].tolist() == ["A", "B", "C", "D"]  # b, c and d tie for second: none is dropped
    shown, left_out = nt.top_with_ties(themes, 2)
    assert [s[0] for s in shown] == ["a", "b", "c", "d"] and left_out == [("e", "E", 1)]
    assert nt.cut_note(shown, left_out, 2) == (
        "The chart and table show the 2 raised most often and every theme tied with the last of them (4 in all), "
        "of the 5 themes coded. The other 1, raised less often: E (1).")
    shown, left_out = nt.top_with_ties(themes, 4)
    assert nt.cut_note(shown, left_out, 4) == ("The chart and table show the 4 raised most often, of the 5 themes "
                                               "coded. The other 1, raised less often: E (1).")
    assert nt.top_with_ties(themes, 5) == (shown + left_out, []) and nt.cut_note(shown + left_out, [], 5) == ""


# --------------------------------------------------------------------------- empty review

def test_charts_of_an_empty_review(tool):
    qdist = a.question_distribution(None, tool)
    q = c.question_chart(qdist.iloc[0], tool.scale)
    assert q.alt == "Bar chart of question 1, Voice of the person: no scored ratings yet; 0 Not applicable."
    o = c.overview_chart(qdist, tool.scale)
    assert "1. Voice of the person: no scored ratings yet" in o.alt
    assert "no scored ratings yet" in all_text(o.figure)
    ov = c.overall_chart(a.overall_distribution(None, tool.scale), tool.scale)
    assert "of 0 case records: no scored ratings yet" in ov.alt
    t = c.theme_chart(nt.theme_counts(None))
    assert t.alt == "Bar chart of notes per theme: no coded notes yet."
    for chart in (q, o, ov, t):
        assert chart.to_png().startswith(PNG_SIGNATURE)


# --------------------------------------------------------------------------- rendering

def every_chart(ratings, tool, qdist, themes=None):
    charts = [c.question_chart(qdist.iloc[0], tool.scale), c.overview_chart(qdist, tool.scale),
              c.overall_chart(a.overall_distribution(ratings, tool.scale), tool.scale)]
    if themes is not None:
        charts.append(c.theme_chart(themes))
    return charts


def test_png_is_deterministic(ratings, tool, qdist, themes):
    first = [ch.to_png() for ch in every_chart(ratings, tool, qdist, themes)]
    again = [ch.to_png() for ch in every_chart(ratings, tool, qdist, themes)]
    assert first == again
    chart = c.overview_chart(qdist, tool.scale)
    assert chart.to_png() == chart.to_png()
    for png in first:
        assert png.startswith(PNG_SIGNATURE)
        assert b"matplotlib" not in png.lower() and b"Software" not in png


def test_png_ignores_the_users_matplotlib_settings(ratings, tool, qdist):
    expected = c.question_chart(qdist.iloc[0], tool.scale).to_png()
    with mpl.rc_context({"font.size": 20, "axes.facecolor": "#FF00FF", "font.family": "serif"}):
        assert c.question_chart(qdist.iloc[0], tool.scale).to_png() == expected


def test_sized_for_an_a4_page_with_readable_fonts(ratings, tool, qdist, themes):
    for chart in every_chart(ratings, tool, qdist, themes):
        width, height = chart.figure.get_size_inches()
        assert width * 2.54 == pytest.approx(16.0)
        assert 1.5 < height < 9
        sizes = [t.get_fontsize() for t in texts(chart.figure)]
        assert sizes and min(sizes) >= 9
        assert chart.alt and chart.title


def test_every_label_is_on_the_page_and_clear_of_the_bars(ratings, tool, qdist, themes):
    """The margins are computed, not left to a layout engine: check nothing is cut off or overlaps."""
    long_tool = parse_tool({"id": "long", "version": "1", "title": "Long", "questions": [
        {"id": "q1", "title": "How well the record shows the person's own words, wishes, feelings, "
                              "beliefs and values throughout", "text": "x", "descriptors": DESCRIPTORS}]})
    long_q = a.question_distribution(ratings_for({"q1": ["Good"] * 20}), long_tool)
    charts = every_chart(ratings, tool, qdist, themes) + [
        c.question_chart(long_q.iloc[0], long_tool.scale), c.overview_chart(long_q, long_tool.scale),
        c.theme_chart(nt.theme_counts(None)), c.overview_chart(a.question_distribution(None, tool), tool.scale)]
    assert "\n" in charts[4].figure._suptitle.get_text()  # a title long enough to wrap
    for chart in charts:
        chart.to_png()  # draw it: the axis label finds its place below the tick labels when drawn
        fig = chart.figure
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        ax = fig.axes[0]
        axes = ax.get_window_extent(renderer)
        lo, hi = ax.get_xlim()
        xticks = [t for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi and t.get_text()]
        drawn = [t for t in texts(fig) if t not in ax.get_xticklabels() or t in xticks]
        for t in drawn:
            box = t.get_window_extent(renderer)
            assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, \
                (chart.title, t.get_text())
        for t in ax.get_yticklabels():
            if t.get_text():
                assert t.get_window_extent(renderer).x1 < axes.x0
        for t in xticks:
            assert t.get_window_extent(renderer).y1 < axes.y0
        title = fig._suptitle.get_window_extent(renderer)
        assert title.y0 > axes.y1
        xlabel = ax.xaxis.label.get_window_extent(renderer)
        assert xlabel.y1 < min(t.get_window_extent(renderer).y0 for t in xticks)
        for legend in fig.legends:
            assert legend.get_window_extent(renderer).y1 < xlabel.y0


def test_charts_do_not_touch_pyplot(ratings, tool, qdist):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    every_chart(ratings, tool, qdist)
    assert plt.get_fignums() == before


def test_to_png_dpi_changes_the_pixel_size(qdist, tool):
    import struct

    chart = c.question_chart(qdist.iloc[0], tool.scale)
    def width(png: bytes) -> int:
        return struct.unpack(">I", png[16:20])[0]
    assert width(chart.to_png(dpi=200)) == pytest.approx(2 * width(chart.to_png(dpi=100)), abs=1)


# --------------------------------------------------------------------------- palette

def test_contrast_ratio_known_values():
    assert c.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert c.contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert c.contrast_ratio("#0072B2", "#FFFFFF") == pytest.approx(5.2, abs=0.05)


def test_every_fill_has_a_label_colour_meeting_wcag_aa(tool):
    fills = list(c.level_colours(tool.scale).values()) + [f for f, _ in c.STANCE_STYLE.values()]
    for fill in fills:
        assert c.contrast_ratio(fill, c.text_colour(fill)) >= 4.5, fill
    assert c.text_colour("#0072B2") == "#FFFFFF"
    assert c.text_colour("#E69F00") == "#000000"


def test_level_colours_for_other_scales():
    three = [{"label": x, "code": x[:1], "score": s} for x, s in (("High", 3), ("Mid", 2), ("Low", 1))]
    six = [{"label": f"L{s}", "code": f"L{s}", "score": s} for s in range(6, 0, -1)]
    for levels in (three, six):
        t = parse_tool({"id": "x", "version": "1", "title": "X", "scale": levels, "questions": [
            {"id": "q1", "title": "T", "text": "x",
             "descriptors": {lv["label"]: "d" for lv in levels}}]})
        colours = c.level_colours(t.scale)
        assert len(set(colours.values())) == len(levels)
        assert all(c.contrast_ratio(f, c.text_colour(f)) >= 4.5 for f in colours.values())


# --------------------------------------------------------------------------- notebook display

def test_repr_mimebundle_carries_the_alt(qdist, tool):
    chart = c.question_chart(qdist.iloc[0], tool.scale)
    data, metadata = chart._repr_mimebundle_()
    assert data["image/png"] == chart.to_png()
    assert metadata == {"image/png": {"alt": chart.alt}}


@pytest.mark.slow
def test_display_chart_sets_alt_metadata_in_a_real_notebook(tmp_path):
    """Run a notebook in a real kernel; the saved outputs carry the alt where nbconvert reads it."""
    from nbclient import NotebookClient

    setup = "\n".join([
        "import pandas as pd",
        "from reviewkit.figures import analysis as a, charts as c",
        "from reviewkit.core.tools import parse_tool",
        "tool = parse_tool({'id': 't', 'version': '1', 'title': 'T', 'questions': [",
        "    {'id': 'q1', 'title': 'Voice of the person', 'text': 'x',",
        "     'descriptors': {'O': 'a', 'G': 'b', 'RI': 'c', 'I': 'd'}}]})",
        "r = pd.DataFrame([('C1', 'A', 'q1', 'Good', ''), ('C2', 'A', 'q1', 'Inadequate', '')],",
        "                 columns=['case_id', 'reviewer', 'question', 'rating', 'comment'])",
        "chart = c.question_chart(a.question_distribution(r, tool).iloc[0], tool.scale)",
    ])
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(setup),
        nbformat.v4.new_code_cell("c.display_chart(chart)"),
        nbformat.v4.new_code_cell("chart"),
        nbformat.v4.new_code_cell("open('expected.png', 'wb').write(chart.to_png())"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    expected_alt = ("Bar chart of question 1, Voice of the person: Outstanding 0 (0.0%), Good 1 "
                    "(50.0%), Requires Improvement 0 (0.0%), Inadequate 1 (50.0%); 0 Not applicable.")
    expected_png = (tmp_path / "expected.png").read_bytes()
    for cell, output_type in ((nb.cells[1], "display_data"), (nb.cells[2], "execute_result")):
        (output,) = cell.outputs
        assert output.output_type == output_type
        assert output.metadata["image/png"]["alt"] == expected_alt
        assert base64.b64decode(output.data["image/png"]) == expected_png
    # the saved notebook keeps it too (what nbconvert's template reads)
    path = tmp_path / "out.ipynb"
    nbformat.write(nb, path)
    reread = nbformat.read(path, as_version=4)
    assert reread.cells[1].outputs[0].metadata["image/png"]["alt"] == expected_alt
