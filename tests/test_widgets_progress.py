"""The host's read-only progress page."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as w

from reviewkit.review.ratings import RatingInput
from reviewkit.team.widgets import ProgressView, progress_view
from reviewkit.team.widgets.progress import count_pct, progress_html, question_name


def _widgets(widget: w.Widget) -> list[w.Widget]:
    out = [widget]
    for child in getattr(widget, "children", ()):
        out += _widgets(child)
    return out


def test_count_and_percentage_are_written_one_decimal_beside_the_count() -> None:
    assert count_pct(59, 240) == "59 (24.6%)"
    assert count_pct(0, 0) == "0 (–)"  # as the report writes it


def test_the_tables_say_who_rated_what_what_is_missing_and_disagreements(ws) -> None:
    with ws.store() as store:
        for qid in ws.tool.all_ids:
            store.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", qid, "Good", ""))
        store.set_case_flag("A. Visitor", "C01", "A. Visitor", complete=True)
        store.set_rating("B. Visitor", RatingInput("C01", "B. Visitor", "q3", "Inadequate", ""))
        html = progress_html(ws, store)
    assert "<caption>Progress by reviewer</caption>" in html and '<th scope="col">Reviewer</th>' in html
    assert "Complete: 1 (11.1%)" in html
    assert "<td>13 (9.0%)</td>" not in html  # the overall judgement is not a question
    assert "<td>12 (50.0%)</td>" in html  # A. Visitor: 12 of 24 questions over two cases
    assert "C01 (moderation)" in html
    assert "<td>1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12</td>" in html  # B. Visitor's blanks on C01
    assert "<td>all</td>" in html
    assert "<caption>Where moderators disagree</caption>" in html
    assert f"<td>{question_name(ws.tool, 'q3')}</td>" in html
    assert "<td>A. Visitor: Good; B. Visitor: Inadequate</td><td>2</td>" in html


def test_the_page_reads_only_and_refreshes(ws, trap) -> None:
    view = trap.watch(ProgressView(ws))
    buttons = [x for x in _widgets(view.view) if isinstance(x, w.Button)]
    inputs = [x for x in _widgets(view.view) if isinstance(x, (w.Text, w.Textarea, w.Checkbox, w.ToggleButtons,
                                                                    w.Dropdown))]
    assert [b.description for b in buttons if b.layout.display != "none"] == ["Refresh"]
    assert inputs == []
    assert "No disagreements" in view.tables.value
    with ws.store() as store:
        store.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", "q1", "Good", ""))
        store.set_rating("B. Visitor", RatingInput("C01", "B. Visitor", "q1", "Outstanding", ""))
        before = len(store.audit_log())
    view.refresh_button.click()
    assert "A. Visitor: Good; B. Visitor: Outstanding" in view.tables.value
    with ws.store() as store:
        assert len(store.audit_log()) == before  # reading wrote nothing


def test_the_entry_point_explains_a_wrong_folder(tmp_path: Path) -> None:
    panel = progress_view(tmp_path / "nowhere")
    text = " ".join(getattr(c, "value", "") for c in panel.children)
    assert "The progress page cannot open" in text and "no such workspace folder" in text


def test_the_progress_page_formats_percentages_as_the_report_does():
    from reviewkit.figures.analysis import format_count
    from reviewkit.team.widgets.progress import count_pct

    assert count_pct(1, 16) == format_count(1, 16) == "1 (6.3%)"
    assert count_pct(0, 0) == format_count(0, 0) == "0 (–)"
    assert all(count_pct(n, d) == format_count(n, d) for d in range(1, 41) for n in range(d + 1))
