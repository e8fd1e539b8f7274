"""The report's building blocks, without a kernel: HTML helpers, sections, template, cache key."""

from __future__ import annotations

import base64
import datetime as dt
import re
from pathlib import Path

import nbformat
import pytest

from reviewkit.core.errors import RenderError
from reviewkit.report import render as report
from reviewkit.report.data import load_report_data, narrative_status, unwritten_sections
from reviewkit.report.people import _top_themes
from reviewkit.report.sections import (
    CHARTS_ENV,
    PLACEHOLDER,
    ReportBuilder,
    date_range,
    html_table,
    link_recommendations,
    long_date,
    markdown_html,
    number_list_items,
    prerender_charts,
)
from reviewkit.review.ratings import RatingInput

from .helpers import HOST, REVIEWERS, make_workspace

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


@pytest.fixture
def ws(tmp_path: Path):
    """A small review: 8 cases rated, two meetings, two conversations, notes of each kind."""
    ws = make_workspace(tmp_path / "ws")
    ws.meta.report_layout = "classic"  # every figure in the body; the default layout: test_paged_output
    ws.save_meta()
    rows = []
    for case in ws.meta.cases:
        for rater in case.reviewers:
            for q in ws.tool.all_ids:
                rows.append(RatingInput(case.id, rater, q, "Good" if q != "q1" else "Outstanding",
                                        f"evidence comment for {case.id} {q} by {rater}"))
    with ws.store() as store:
        store.apply_ratings("test", rows)
        big = store.add_meeting("test", "practitioners", "2026-10-08", {"social worker": 5, "occupational therapist": 2})
        small = store.add_meeting("test", "managers", "2026-10-07", {"team manager": 2})
        carer = store.add_conversation("test", "C02", "carer", REVIEWERS[0])
        store.add_conversation("test", "C03", "relative", REVIEWERS[1])
        carer2 = store.add_conversation("test", "C04", "carer", REVIEWERS[1])
        store.add_note("test", "We are listened to here", meeting_id=big, kind="quote",
                       speaker_role="social worker", use_in_report=True, codes=["culture"], stance="strength")
        store.add_note("test", "Panel takes too long", meeting_id=small, kind="quote",
                       speaker_role="team manager", use_in_report=True, codes=["panel"], stance="concern")
        store.add_note("test", "Private remark never published", meeting_id=big, kind="quote",
                       speaker_role="social worker", use_in_report=False)
        store.add_note("test", "Fewer forms", meeting_id=big, kind="one_change", use_in_report=True)
        store.add_note("test", "She listened to me", conversation_id=carer2, kind="quote", use_in_report=True)
        store.add_note("test", "A note about the visit", conversation_id=carer, kind="note")
    (ws.narrative_dir / "recommendations.md").write_text(
        "The team recommends:\n\n1. First thing\n2. Second thing\n   - a detail\n3. Third thing\n", encoding="utf-8")
    (ws.narrative_dir / "observations.md").write_text(
        "Supervision needs work (see Recommendation 2; not Recommendation 9).\n\n<script>alert(1)</script>\n",
        encoding="utf-8")
    return ws


# --------------------------------------------------------------------------- helpers

def test_html_table_has_caption_scoped_headers_and_escapes() -> None:
    import pandas as pd

    out = html_table(pd.DataFrame({"Level": ["<b>Good</b>"], "Number (%)": ["5 (25.0%)"]}), "Table 1: A & B",
                     numeric=["Number (%)"])
    assert "<caption>Table 1: A &amp; B</caption>" in out
    assert '<th scope="col">Level</th>' in out and '<th scope="col" class="num">Number (%)</th>' in out
    assert '<th scope="row">&lt;b&gt;Good&lt;/b&gt;</th>' in out
    assert '<td class="num">5&nbsp;(25.0%)</td>' in out  # the count kept with its share when the column wraps


def test_markdown_is_escaped_and_headings_sit_under_the_section() -> None:
    out = markdown_html("# Theme\n\nText with <script>x</script> and *emphasis*.")
    assert "<h3>Theme</h3>" in out and "<script" not in out and "&lt;script&gt;" in out
    assert "<em>emphasis</em>" in out


def test_recommendation_references_become_links_only_when_they_exist() -> None:
    out = link_recommendations('<p>See Recommendation 2, recommendation 3 and Recommendation 9. '
                               '<a href="#x">Recommendation 1</a></p>', 3)
    assert '<a href="#rec-2">Recommendation 2</a>' in out
    assert '<a href="#rec-3">recommendation 3</a>' in out
    assert "Recommendation 9." in out and "#rec-9" not in out
    assert '<a href="#x">Recommendation 1</a>' in out and "#rec-1" not in out


def test_the_first_list_is_numbered_with_ids_and_nested_items_are_not() -> None:
    out, n = number_list_items(markdown_html("Intro\n\n- one\n- two\n  - nested\n- three\n\nOutro\n\n- other list"))
    assert n == 3
    assert re.findall(r'<li id="rec-(\d)"', out) == ["1", "2", "3"]
    assert out.count('<ol class="recommendations">') == 1 and "<ul>" in out  # nested and later lists kept


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2026-10-05", "2026-10-16", "5 to 16 October 2026"),
    ("2026-09-28", "2026-10-09", "28 September to 9 October 2026"),
    ("2025-12-29", "2026-01-09", "29 December 2025 to 9 January 2026"),
    ("2026-10-05", "", "5 October 2026"),
    ("", "", ""),
])
def test_date_ranges_read_as_a_person_writes_them(start: str, end: str, expected: str) -> None:
    assert date_range(start, end) == expected


def test_long_dates() -> None:
    assert long_date("2022-06") == "June 2022"
    assert long_date("2026-12-04") == "4 December 2026"
    assert long_date("spring 2022") == "spring 2022"


# --------------------------------------------------------------------------- data and sections

def test_loader_drops_evidence_comments_and_unpublished_text(ws) -> None:
    data = load_report_data(ws.path)
    assert "comment" not in data.ratings.columns and "reason" not in data.flags.columns
    texts = set(data.notes["text"])
    assert "Private remark never published" not in texts and "A note about the visit" not in texts
    assert {"We are listened to here", "Fewer forms", "She listened to me"} <= texts


def test_stub_and_missing_narratives_are_unwritten(ws) -> None:
    (ws.narrative_dir / "strengths.md").unlink()
    status = narrative_status(ws.path)
    assert status["recommendations"].written and not status["strengths"].written
    assert not status["introduction"].written  # the workspace's stub is only an HTML comment
    names = {p.name for p in unwritten_sections(ws.path)}
    assert names == {"key_messages.md", "introduction.md", "meetings.md", "case_records.md", "strengths.md"}


def test_sections_publish_only_marked_quotes_attributed_by_role(ws) -> None:
    b = ReportBuilder.load(ws.path)
    meetings = b.meetings()
    assert "We are listened to here" in meetings and "— a social worker" in meetings
    # only 2 team managers attended: the speaker is a participant
    assert "Panel takes too long" in meetings and "— a participant" in meetings and "team manager</p>" not in meetings
    assert "Private remark" not in meetings
    assert "<li>Fewer forms</li>" in meetings
    cases = b.case_records()
    assert "She listened to me" in cases and "— Carer 2" in cases  # the second carer conversation
    assert "A note about the visit" not in cases


def test_missing_narrative_renders_a_visible_placeholder(ws) -> None:
    b = ReportBuilder.load(ws.path)
    assert PLACEHOLDER in b.strengths() and "narrative/strengths.md" in b.strengths()
    assert PLACEHOLDER not in b.recommendations()


def test_recommendations_are_numbered_and_linked_from_findings(ws) -> None:
    b = ReportBuilder.load(ws.path)
    assert b.recommendation_count == 3
    recs = b.recommendations()
    assert re.findall(r'<li id="rec-(\d)"', recs) == ["1", "2", "3"]
    obs = b.observations()
    assert '<a href="#rec-2">Recommendation 2</a>' in obs and "#rec-9" not in obs
    assert "<script" not in obs


def test_data_analysis_figures_and_charts_have_alt_text(ws) -> None:
    b = ReportBuilder.load(ws.path)
    html = b.data_analysis() + b.question_charts()
    assert "8 of the 8 case records (100.0%) were judged Outstanding or Good." in html
    imgs = re.findall(r"<img [^>]*>", html)
    assert len(imgs) == 2 + len(ws.tool.questions)
    assert all(re.search(r'alt="[^"]*\d[^"]*"', i) for i in imgs)
    assert "evidence comment" not in html
    tables = re.findall(r"<caption>Table (\d+):", html)
    assert tables == [str(i) for i in range(1, len(tables) + 1)]  # numbered in order


def test_consistency_names_the_method_and_never_the_reviewers(ws) -> None:
    html = ReportBuilder.load(ws.path).consistency()
    assert "Krippendorff" in html and "Moderation case 1" in html
    for name in [*REVIEWERS, HOST]:
        assert name not in html
    assert "C01" not in html  # case references stay out of the published report


# --------------------------------------------------------------------------- template and notebook cleaning

def _executed(outputs: list) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('workspace = ""', metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell('workspace = "/home/someone/review"',
                                         metadata={"tags": ["injected-parameters"], "papermill": {"duration": 1}})
    cell = nbformat.v4.new_code_cell("show(x)", metadata={"papermill": {"duration": 0.5}, "execution": {"iopub.status.busy": "2026-01-01T00:00:00Z"}})
    cell.outputs = outputs
    nb.cells = [params, injected, cell]
    nb.metadata["papermill"] = {"parameters": {"workspace": "/home/someone/review"}}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def _png_output(alt: str | None) -> nbformat.NotebookNode:
    meta = {"image/png": {"alt": alt}} if alt is not None else {}
    return nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(PNG).decode(),
                                                        "text/plain": "<Figure>"}, metadata=meta)


def test_cleaning_strips_papermill_traces_widgets_and_printed_text() -> None:
    nb = report.clean_notebook(_executed([
        nbformat.v4.new_output("stream", name="stderr", text="a warning with a path /home/someone"),
        _png_output("Bar chart: Good 5 (25.0%)")]))
    text = nbformat.writes(nb)
    assert "papermill" not in text and "injected-parameters" not in text and "/home/someone" not in text
    assert "widgets" not in nb.metadata
    assert [o.output_type for o in nb.cells[-1].outputs] == ["display_data"]


def test_an_image_without_alt_text_is_refused() -> None:
    with pytest.raises(RenderError, match="without alt text"):
        report.clean_notebook(_executed([_png_output(None)]))


def test_a_widget_output_is_refused() -> None:
    out = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"})
    with pytest.raises(RenderError, match="widget or script"):
        report.clean_notebook(_executed([out]))


def test_template_honours_alt_text_and_adds_cover_and_contents(ws) -> None:
    html_out = nbformat.v4.new_output("display_data", data={
        "text/html": '<h2 id="one" class="section-heading">1. One</h2><p>Body</p>', "text/plain": "x"})
    nb = report.clean_notebook(_executed([html_out, _png_output("Bar chart: Good 5 (25.0%)")]))
    ctx = report._context(ws, False, dt.date(2026, 12, 1))
    page = report.to_html(nb, ctx)
    assert 'alt="Bar chart: Good 5 (25.0%)"' in page
    assert "No description has been provided" not in page and "<script" not in page
    assert '<html lang="en-GB">' in page and "DRAFT" in page and "Testshire Council" in page
    assert '<li><a href="#one">1. One</a><span class="toc-page" data-for="one"></span></li>' in page
    assert "Produced with reviewkit" not in page  # the software credit is off unless review.yaml asks for it
    assert "cell-id=" not in page
    ws.meta.software_credit = True
    page = report.to_html(nb, report._context(ws, False, dt.date(2026, 12, 1)))
    assert "Produced with reviewkit" in page
    assert '<time class="render-date" datetime="2026-12-01">1 December 2026</time>' in page


# --------------------------------------------------------------------------- cache key

def test_cache_key_follows_content_not_timestamps(ws) -> None:
    first = report.input_digest(ws)
    with ws.store() as store:  # saving the same rating again changes only its timestamp
        r = store.rating("C02", REVIEWERS[0], "q2")
        store.set_rating("someone else", RatingInput(r.case_id, r.reviewer, r.question, "Outstanding", r.comment))
        store.set_rating("test", RatingInput(r.case_id, r.reviewer, r.question, r.rating, r.comment))
    assert report.input_digest(ws) == first
    (ws.narrative_dir / "strengths.md").write_text("- Good supervision\n", encoding="utf-8")
    assert report.input_digest(ws) != first
    assert report.input_digest(ws, final=True) != report.input_digest(ws)


def test_charts_rendered_in_worker_processes_are_the_same_as_rendered_here(ws) -> None:
    here = ReportBuilder.load(ws.path)
    there = ReportBuilder.load(ws.path)
    there.start_charts(processes=2)
    assert there.meetings() + there.data_analysis() + there.question_charts() == \
        here.meetings() + here.data_analysis() + here.question_charts()
    assert there._pool is None and not there._pending  # workers stopped once every chart was collected


# --------------------------------------------------------------------------- charts drawn ahead

def _sections(builder: ReportBuilder) -> str:
    return builder.meetings() + builder.data_analysis() + builder.question_charts()


def test_charts_drawn_ahead_are_picked_up_and_are_the_same_as_drawn_here(ws, tmp_path, monkeypatch) -> None:
    here = _sections(ReportBuilder.load(ws.path))
    folder = tmp_path / "charts"
    folder.mkdir()
    prerender_charts(ws.path, folder)
    assert (folder / "done").exists()
    monkeypatch.setenv(CHARTS_ENV, str(folder))
    there = ReportBuilder.load(ws.path)
    there.start_charts(processes=2)
    assert there._pool is None  # drawn ahead: no workers of its own
    assert all(there._drawn_ahead(key) is not None for key in there._chart_jobs)
    assert _sections(there) == here


def test_a_chart_drawn_ahead_from_other_data_is_drawn_again(ws, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "charts"
    folder.mkdir()
    prerender_charts(ws.path, folder)
    with ws.store() as store:  # the data changes after the charts were drawn
        store.set_rating("test", RatingInput("C01", REVIEWERS[0], "q2", "Inadequate", "changed"))
    monkeypatch.setenv(CHARTS_ENV, str(folder))
    there = ReportBuilder.load(ws.path)
    assert there._drawn_ahead("question-q2") is None
    assert there._drawn_ahead("question-q3") is not None  # unchanged: still used
    drawn_there = _sections(there)
    monkeypatch.delenv(CHARTS_ENV)
    assert drawn_there == _sections(ReportBuilder.load(ws.path))


def test_charts_the_drawing_process_did_not_make_are_drawn_here(ws, tmp_path, monkeypatch) -> None:
    import reviewkit.report.sections as rs

    here = _sections(ReportBuilder.load(ws.path))
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "done").touch()  # it ended (failed) without drawing anything
    monkeypatch.setenv(CHARTS_ENV, str(finished))
    assert _sections(ReportBuilder.load(ws.path)) == here
    stalled = tmp_path / "stalled"
    stalled.mkdir()  # nothing drawn and not done: wait CHART_WAIT, then draw everything here
    monkeypatch.setenv(CHARTS_ENV, str(stalled))
    monkeypatch.setattr(rs, "CHART_WAIT", 0.05)
    builder = ReportBuilder.load(ws.path)
    assert _sections(builder) == here
    assert builder._ahead is None  # stopped waiting after the first chart


def test_kernel_environment_names_the_charts_folder_only_when_given(tmp_path, monkeypatch) -> None:
    from reviewkit.report.data import WITHHOLD_ENV

    monkeypatch.setenv(CHARTS_ENV, "/somewhere/else")  # never taken from the caller's environment
    monkeypatch.setenv(WITHHOLD_ENV, "1")
    env = report.kernel_env(tmp_path)
    assert CHARTS_ENV not in env and WITHHOLD_ENV not in env
    assert not (tmp_path / "ipython" / "profile_default" / "startup").exists()
    env = report.kernel_env(tmp_path, charts=tmp_path / "charts", preload="reviewkit.report.sections")
    assert env[CHARTS_ENV] == str(tmp_path / "charts")
    startup = (tmp_path / "ipython" / "profile_default" / "startup" / "00-reviewkit-preload.py").read_text()
    assert "'reviewkit.report.sections'" in startup and "Thread" in startup


def test_top_themes_keep_ties_at_the_cut_off() -> None:
    import pandas as pd

    totals = pd.Series({"Practice model": 12, "Funding panels": 10, "Recording": 7, "Supervision": 7,
                        "Workload": 7, "Partnerships": 4})
    assert _top_themes(totals) == ("The themes raised most often were practice model (12), funding panels "
                                   "(10), recording (7), supervision (7) and workload (7).")
    assert _top_themes(totals.head(1)) == "The theme raised most often was practice model (12)."
    assert _top_themes(pd.Series({"Recording": 2, "Supervision": 2})) == (
        "Each of the 2 themes was raised the same number of times (2).")


def test_method_note_says_when_one_case_record_cannot_show_clustering(tmp_path: Path) -> None:
    # With one case record the t distribution has no degrees of freedom: the note must say what
    # is done instead of describing a design effect that cannot be estimated.
    ws = make_workspace(tmp_path / "ws")
    case = ws.meta.cases[2]
    with ws.store() as store:
        store.apply_ratings("test", [RatingInput(case.id, case.reviewer, q, "Good") for q in ws.tool.all_ids])
    html = ReportBuilder.load(ws.path).figures_appendix()  # the method note is in Appendix A
    assert "Only one case record has questions rated on the scale" in html
    assert "0.6% to 100.0%" in html  # Good, 12 of 12: as wide as one rating allows


# --------------------------------------------------------------------------- tables that never drop rows silently

def test_a_cut_theme_table_keeps_ties_and_names_the_rest_and_agreement_counts_pairs(tmp_path: Path) -> None:
    from reviewkit.review.reviewyaml import Case

    ws = make_workspace(tmp_path / "ws")
    ws.meta.report_layout = "classic"  # the agreement in section 4, on its own
    ws.save_meta()
    # C01 rated by three reviewers, C02 by two: the agreement table's unit is pairs, as its sentence's is.
    ws.meta.cases[0] = Case("C01", "A. Visitor", ("B. Visitor", "C. Visitor"))
    ws.meta.cases[1] = Case("C02", "A. Visitor", ("H. Host",))
    ws.save_meta()
    level = {"A. Visitor": "Good", "B. Visitor": "Good", "C. Visitor": "Requires Improvement", "H. Host": "Good"}
    rows = [RatingInput(case.id, rater, q, level[rater] if q in ("q1", "q2") and case.id == "C01" else "Good", "")
            for case in ws.meta.cases for rater in case.reviewers for q in ws.tool.all_ids]
    # Themes: t01 raised 9 times, t02–t12 5 times each (tied across the tenth place), t13 twice, t14 once.
    counts = {"t01": 9, **{f"t{i:02d}": 5 for i in range(2, 13)}, "t13": 2, "t14": 1}
    with ws.store() as store:
        store.apply_ratings("test", rows)
        meeting = store.add_meeting("test", "practitioners", "2026-10-08", {"social worker": 5})
        for code, n in counts.items():
            for i in range(n):
                store.add_note("test", f"Point {i} about {code}", meeting_id=meeting, codes=[code], stance="strength")
    b = ReportBuilder.load(ws.path)
    section = b.meetings()
    assert "Themes from the meetings by stance: the 12 raised most often, of 14" in section
    note = re.search(r'<p class="table-note">(The chart and table show.*?)</p>', section).group(1)
    assert note == ("The chart and table show the 10 raised most often and every theme tied with the last of them "
                    "(12 in all), of the 14 themes coded. The other 2, raised less often: t13 (2) and t14 (1).")
    table = re.search(r"<caption>Table \d+: Themes.*?</table>", section, flags=re.S).group(0)
    assert all(f">t{i:02d}<" in table for i in range(1, 13)) and ">t13<" not in table

    html = b.consistency()
    # C01: 12 questions × 3 pairs; q1 and q2 agree in 1 pair of 3 (Good, Good, Requires Improvement).
    # C02: 12 questions × 1 pair, all agreeing. In all 48 pairs, 44 the same: the sentence's figures.
    assert "they gave the same rating in 44 of 48 pairs of ratings (91.7%)" in html
    cells = [re.sub(r"<[^>]+>", "", c).replace("&nbsp;", " ") for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html)]
    assert cells[:5] == ["Moderation case", "Questions compared", "Pairs of ratings", "Same rating (pairs)",
                         "At most one level apart (pairs)"]
    assert cells[5:] == ["Moderation case 1", "12", "36", "32 (88.9%)", "36 (100.0%)",
                         "Moderation case 2", "12", "12", "12 (100.0%)", "12 (100.0%)",
                         "All moderation cases", "24", "48", "44 (91.7%)", "48 (100.0%)"]
    assert ("a question rated by 3 reviewers gives 3 pairs, one for each two of them" in html
            and "in pairs of ratings</caption>" in html)


def test_report_layout_puts_the_figures_in_appendix_a_or_keeps_them_in_section_4(tmp_path: Path) -> None:
    from reviewkit.core.errors import WorkspaceError
    from reviewkit.review.workspace import open_workspace

    ws = make_workspace(tmp_path / "ws")
    case = ws.meta.cases[2]
    with ws.store() as store:
        store.apply_ratings("test", [RatingInput(case.id, case.reviewer, q, "Good") for q in ws.tool.all_ids])
    short = ReportBuilder.load(ws.path)  # the default: main-and-appendix
    assert "<table" not in short.data_analysis() and "Appendix A sets out every figure" in short.data_analysis()
    assert short.question_charts() == "" and short.consistency() == ""
    appendix = short.figures_appendix()
    assert 'class="section-heading new-page">Appendix A' in appendix and "<table" in appendix
    ws.meta.report_layout = "classic"
    ws.save_meta()
    classic = ReportBuilder.load(ws.path)
    assert "<table" in classic.data_analysis() and classic.figures_appendix() == ""
    review = ws.path / "review.yaml"
    review.write_text(review.read_text(encoding="utf-8").replace("report_layout: classic", "report_layout: short"),
                      encoding="utf-8")
    with pytest.raises(WorkspaceError, match="'report_layout' must be 'main-and-appendix'"):
        open_workspace(ws.path)
