"""The calibration round: store, the rule that calibration comes first, the CLI, the report and the annex."""

from __future__ import annotations

import sqlite3

import pytest

from reviewkit.cli import main
from reviewkit.core.errors import AccessError, CalibrationPendingError, InvalidInputError
from reviewkit.figures.agreement import moderation_agreement
from reviewkit.figures.calibration import calibration_sentence, compare_rounds, round_agreement, side_by_side
from reviewkit.report.annex import annex_html
from reviewkit.review.calibration import CalibrationRating
from reviewkit.review.migrations import STORE_SCHEMA
from reviewkit.review.ratings import RatingInput
from reviewkit.review.session import Session

from .helpers import HOST, REVIEWERS, make_workspace

LEVELS = ["Outstanding", "Good", "Requires Improvement", "Inadequate"]


def _round_rows(ws, number: int, record: str, settle: bool) -> list[CalibrationRating]:
    """Each reviewer's ratings of one record: spread out in round 1, mostly 'Good' once settled."""
    rows = []
    for i, reviewer in enumerate(ws.meta.reviewers):
        for j, q in enumerate(ws.tool.all_ids):
            if settle:
                level = "Good" if (i + j) % 5 else "Requires Improvement"
            else:
                level = LEVELS[(i * (j + 1) + j) % 3]
            rows.append(CalibrationRating(record, reviewer, q, level, round=number))
    return rows


@pytest.fixture
def cal(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    with ws.store() as store:
        store.add_calibration_record(HOST, "CAL1")
        store.add_calibration_record(HOST, "CAL2")
    return ws


def test_store_keeps_calibration_apart_from_case_ratings(cal):
    with cal.store() as store:
        assert store.calibration_records() == ["CAL1", "CAL2"] and store.calibration_round() == 1
        counts = store.apply_calibration_ratings(HOST, _round_rows(cal, 1, "CAL1", False))
        assert counts["added"] == len(cal.meta.reviewers) * len(cal.tool.all_ids)
        assert len(store.ratings()) == 0  # nothing reached the case ratings
        assert len(store.calibration_ratings()) == counts["added"]
        assert store.execute_read("SELECT value FROM meta WHERE key = 'schema_version'")[0][0] == str(STORE_SCHEMA)
        log = store.audit_log()
        assert (log["entity"] == "calibration_rating").sum() == counts["added"]


def test_calibration_record_must_not_be_a_case_and_must_look_like_a_reference(cal):
    with cal.store() as store:
        with pytest.raises(InvalidInputError, match="one of the review's case records"):
            store.add_calibration_record(HOST, "C03")
        with pytest.raises(InvalidInputError, match="short code such as CAL1"):
            store.add_calibration_record(HOST, "Mrs Smith's file")
        with pytest.raises(InvalidInputError, match="not a calibration record"):
            store.set_calibration_rating(HOST, CalibrationRating("CAL9", REVIEWERS[0], "q1", "Good"))
        with pytest.raises(InvalidInputError, match="rating must be one of"):
            store.set_calibration_rating(HOST, CalibrationRating("CAL1", REVIEWERS[0], "q1", "Great"))
        with pytest.raises(InvalidInputError, match="round 2 has not been started"):
            store.set_calibration_rating(HOST, CalibrationRating("CAL1", REVIEWERS[0], "q1", "Good", round=2))


def test_case_ratings_wait_until_the_reviewer_has_rated_every_calibration_record(cal):
    a, b = REVIEWERS[0], REVIEWERS[1]
    with cal.store() as store:
        with pytest.raises(CalibrationPendingError, match=r"has not yet rated the calibration records.*--open-cases"):
            store.set_rating(a, RatingInput("C01", a, "q1", "Good"))
        # An import is refused whole, too.
        with pytest.raises(CalibrationPendingError):
            store.apply_ratings(HOST, [RatingInput("C01", a, "q1", "Good")])
        mine = [r for r in _round_rows(cal, 1, "CAL1", False) + _round_rows(cal, 1, "CAL2", False) if r.reviewer == a]
        store.apply_calibration_ratings(a, mine[:-1])
        assert store.calibration_missing(a) == 1
        with pytest.raises(CalibrationPendingError, match=r"\(1 rating\(s\) to go\)"):
            store.set_rating(a, RatingInput("C01", a, "q1", "Good"))
        store.apply_calibration_ratings(a, mine[-1:])
        store.set_rating(a, RatingInput("C01", a, "q1", "Good"))  # now open
        with pytest.raises(CalibrationPendingError):
            store.set_rating(b, RatingInput("C01", b, "q1", "Good"))
        store.open_cases(HOST, b)  # the host's override for one reviewer
        store.set_rating(b, RatingInput("C01", b, "q1", "Good"))
    with cal.store() as store:  # a new store (another process) keeps both decisions
        store.set_rating(a, RatingInput("C01", a, "q2", "Good"))
        store.set_rating(b, RatingInput("C01", b, "q2", "Good"))
        with pytest.raises(CalibrationPendingError):
            store.set_rating(REVIEWERS[2], RatingInput("C05", REVIEWERS[2], "q1", "Good"))


def test_a_review_without_calibration_rates_cases_as_before(ws):
    with ws.store() as store:
        store.set_rating(REVIEWERS[0], RatingInput("C01", REVIEWERS[0], "q1", "Good"))
        assert store.calibration_round() == 0


def test_only_the_host_sets_up_calibration_under_the_hub(cal):
    visitor = Session(login="a", reviewer=REVIEWERS[0], role="reviewer")
    with cal.store() as store:
        store.session = visitor
        with pytest.raises(AccessError, match="Only the host"):
            store.add_calibration_record(REVIEWERS[0], "CAL3")
        with pytest.raises(AccessError, match="Only the host"):
            store.set_agreed_rating(REVIEWERS[0], "CAL1", "q1", "Good")
        with pytest.raises(AccessError, match="Only the host"):
            store.open_cases(REVIEWERS[0])
        with pytest.raises(AccessError):  # a visitor rates only as themselves
            store.set_calibration_rating(REVIEWERS[0], CalibrationRating("CAL1", REVIEWERS[1], "q1", "Good"))
        store.set_calibration_rating(REVIEWERS[0], CalibrationRating("CAL1", REVIEWERS[0], "q1", "Good"))


def _two_rounds(ws):
    with ws.store() as store:
        for rec in ("CAL1", "CAL2"):
            store.apply_calibration_ratings(HOST, _round_rows(ws, 1, rec, False))
        store.start_calibration_round(HOST, 2)
        for rec in ("CAL1", "CAL2"):
            store.apply_calibration_ratings(HOST, _round_rows(ws, 2, rec, True))
        return store.calibration_ratings()


def test_agreement_is_moderation_agreement_and_rounds_compare(cal):
    ratings = _two_rounds(cal)
    _, first = round_agreement(ratings, cal.tool, 1)
    frame = ratings[ratings["round"] == 1].rename(columns={"record_id": "case_id"})
    _, same = moderation_agreement(frame[["case_id", "reviewer", "question", "rating"]], None, cal.tool.scale)
    assert first == same
    c = compare_rounds(ratings, cal.tool)
    n = len(cal.meta.reviewers)
    assert c["before"]["pairs"] == c["after"]["pairs"] == 2 * len(cal.tool.questions) * n * (n - 1) // 2
    assert c["after"]["agreeing_pairs"] > c["before"]["agreeing_pairs"]
    assert c["after"]["alpha"] is not None and c["before"]["alpha"] is not None


def test_side_by_side_puts_most_disagreement_first_with_descriptors(cal):
    ratings = _two_rounds(cal)
    rows = side_by_side(ratings, cal.tool, 1)
    shares = [r["agreeing_pairs"] / r["pairs"] for r in rows]
    assert shares == sorted(shares)
    top = rows[0]
    assert set(top["ratings"]) == set(cal.meta.reviewers)
    q = cal.tool.question(top["question"])
    assert top["descriptors"] and all(q.descriptors[level] == text for level, text in top["descriptors"].items())


def test_cli_calibration_round_step_by_step(cal, capsys):
    ws = str(cal.path)
    assert main(["calibrate", ws, "--record", "CAL3", "--as", HOST]) == 0
    out = capsys.readouterr().out
    assert "Calibration record CAL3 named." in out and "case ratings wait until then" in out
    _two_rounds(cal)
    assert main(["calibrate", ws, "--show"]) == 0
    out = capsys.readouterr().out
    assert "Calibration round 2" in out and "Talk through first:" in out and REVIEWERS[0] in out
    assert "Round 1: reviewers gave the same rating in" in out and "Before the discussion" in out
    assert main(["calibrate", ws, "--agree", "CAL1", "q3", "good", "--note", "Strengths were named but not used",
                 "--as", HOST]) == 0
    assert "Agreed rating recorded for CAL1 q3." in capsys.readouterr().out
    with cal.store() as store:
        agreed = store.agreed_ratings()
    assert agreed.to_dict("records") == [{"record_id": "CAL1", "question": "q3", "rating": "Good",
                                          "note": "Strengths were named but not used"}]
    assert main(["calibrate", ws, "--agree", "CAL1", "q99", "Good"]) == 1
    err = capsys.readouterr().err
    assert "question 'q99' is not in this review's audit tool" in err and "Traceback" not in err
    assert main(["calibrate", ws, "--round", "4"]) == 1
    assert "the next round is 3" in capsys.readouterr().err
    assert main(["calibrate", ws, "--open-cases"]) == 0
    with cal.store() as store:
        store.set_rating(REVIEWERS[2], RatingInput("C05", REVIEWERS[2], "q1", "Good"))


def _strip_calibration(ws) -> None:
    """The workspace as it would be had no calibration been held (straight to the store's file)."""
    with sqlite3.connect(ws.path / "review.db") as db:
        for table in ("calibration_agreed", "calibration_ratings", "calibration_open", "calibration_rounds",
                      "calibration_records"):
            db.execute(f"DELETE FROM {table}")


def test_the_sample_holds_a_calibration_round_shown_in_the_annex_never_in_the_figures(tmp_path):
    from reviewkit.intake.sample import build_sample_workspace
    from reviewkit.review.bundle import export_bundle

    ws = build_sample_workspace(tmp_path / "eastvale")
    with ws.store() as store:
        ratings, agreed = store.calibration_ratings(), store.agreed_ratings()
        assert store.calibration_records() == ["CAL1"]
        assert all(store.calibration_missing(r) == 0 for r in ws.meta.reviewers)  # every reviewer rated it all
    assert set(ratings["reviewer"]) == set(ws.meta.reviewers) and len(ratings) == 13 * len(ws.meta.reviewers)
    assert len(agreed) >= 3 and all(agreed["note"].str.len() > 0)
    page = annex_html(ws)
    assert 'id="calibration"' in page and "Agreed ratings of the calibration records" in page
    assert agreed["note"].iloc[0].replace("'", "&#x27;") in page
    with_calibration = _published_figures(ws)
    bundle = export_bundle(ws, tmp_path / "with.zip").read_bytes()
    _strip_calibration(ws)
    assert _published_figures(ws) == with_calibration  # not one figure of the report moves
    assert export_bundle(ws, tmp_path / "without.zip").read_bytes() == bundle  # nor the region's counts


def _published_figures(ws) -> dict[str, str]:
    from reviewkit.report.sections import ReportBuilder

    b = ReportBuilder.load(ws.path)
    return {"data_analysis": b.data_analysis(), "question_charts": b.question_charts(),
            "consistency": b.consistency(), "key_messages": b.key_messages(),
            "counts": repr(b.counts), "by_question": b.by_question.to_csv()}


def test_report_figures_are_identical_with_and_without_a_calibration(tmp_path):
    from reviewkit.intake.sample import build_sample_workspace
    from reviewkit.report.sections import ReportBuilder

    ws = build_sample_workspace(tmp_path / "eastvale")
    _strip_calibration(ws)  # the sample's own calibration round out: this test holds its own
    before = _published_figures(ws)
    intro_before = ReportBuilder.load(ws.path).introduction()
    with ws.store() as store:
        store.add_calibration_record("host", "CAL1")
        store.add_calibration_record("host", "CAL2")
    ratings = _two_rounds(ws)
    assert _published_figures(ws) == before
    intro = ReportBuilder.load(ws.path).introduction()
    assert intro != intro_before
    n = len(ws.meta.reviewers)
    _, first = round_agreement(ratings, ws.tool, 1)
    expected = (f"reviewers gave the same rating in {first['agreeing_pairs']} of {first['pairs']} pairs of ratings")
    assert expected in intro and "2 fictional or anonymised case records" in intro
    assert f"{len(ws.tool.questions)} questions" in intro and "not counted in any figure" in intro
    added = intro[intro.index("Before rating their case records"):]
    added = added[:added.index("</p>")]
    assert intro.replace(added, "").replace("<p></p>", "") == intro_before  # one paragraph more, nothing else
    assert not any(name in added for name in ws.meta.reviewers) and "CAL1" not in added and n > 1


def test_methods_sentence_counts_only_and_is_empty_without_calibration(cal):
    ratings = _two_rounds(cal)
    text = calibration_sentence(ratings, 2, cal.tool)
    assert text.startswith("Before rating their case records")
    assert "When they rated the same records again" in text
    assert not any(name in text for name in cal.meta.reviewers) and "CAL" not in text
    assert calibration_sentence(ratings.iloc[0:0], 0, cal.tool) == ""
    one = calibration_sentence(ratings, 1, cal.tool)
    assert "Each rated the same fictional or anonymised case record on the" in one and "same 1 " not in one


def test_annex_holds_the_agreed_ratings_and_notes_and_agreement_by_round(cal):
    _two_rounds(cal)
    with cal.store() as store:
        store.set_agreed_rating(HOST, "CAL2", "q5", "Requires Improvement", "Risks were listed, not weighed")
    page = annex_html(cal)
    assert 'id="calibration"' in page and "Risks were listed, not weighed" in page
    assert "Agreement on the calibration records, by round" in page and "Requires Improvement" in page
    assert not any(name in page for name in cal.meta.reviewers)


def test_workbook_calibration_sheet_imports_apart_from_case_ratings(cal, tmp_path):
    import openpyxl

    from reviewkit.core.errors import ImportFileError
    from reviewkit.intake.io import import_files
    from reviewkit.intake.workbook import write_workbook

    a = REVIEWERS[0]
    out = write_workbook(cal, a, tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["Instructions", "Calibration", "Ratings"]
    sheet = wb["Calibration"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["calibration_record", "reviewer", "question"] and "case_id" not in header
    assert sheet.max_row - 1 == 2 * len(cal.tool.all_ids)  # CAL1 and CAL2, every question
    wb["Ratings"].cell(2, 5).value = "Good"  # one case rating too
    wb.save(out)
    with pytest.raises(ImportFileError, match="has not yet rated the calibration records"):
        import_files(cal, [out], actor=HOST)  # calibration rows blank: the case rating waits
    wb = openpyxl.load_workbook(out)
    for row in range(2, wb["Calibration"].max_row + 1):
        wb["Calibration"].cell(row, 5).value = "Requires Improvement" if row % 4 else "Good"
    wb.save(out)
    result = import_files(cal, [out], actor=HOST)
    assert result["calibration"].added == 2 * len(cal.tool.all_ids) and result["ratings"].added == 1
    with cal.store() as store:
        assert len(store.calibration_ratings()) == 2 * len(cal.tool.all_ids)
        assert len(store.ratings()) == 1  # only the case rating counts as a rating
