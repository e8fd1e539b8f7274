"""Readiness: every gap between a review and a publishable report, in one list.

Each kind of gap is planted in a copy of the (complete) sample review and must then be listed
by ``readiness``, printed by ``reviewkit status`` and refuse ``reviewkit report --final``
with nothing written. One draft of a review with every kind of gap is rendered to HTML and
PDF: the "What is still missing" box lists each kind by case id (never a reviewer's name)
and every printed page carries the DRAFT — DATA INCOMPLETE banner.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from reviewkit import cli
from reviewkit.intake.io import import_files
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.printer import find_chromium
from reviewkit.review.ratings import RatingInput
from reviewkit.review.readiness import DRAFT_INCOMPLETE, GAP_KINDS, missing_summary, readiness
from reviewkit.review.reviewyaml import Case
from reviewkit.review.workspace import Workspace, create_workspace, open_workspace

NHS = "999 000 0018"


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_workspace(tmp_path_factory.mktemp("readiness") / "eastvale").path


def _copy(src: Path, dest: Path) -> Workspace:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".cache"))
    return open_workspace(dest)


def _single(ws: Workspace) -> Case:
    """A case with one reviewer (not a moderation case)."""
    return next(c for c in ws.meta.cases if not c.moderators)


def _moderated(ws: Workspace) -> Case:
    return next(c for c in ws.meta.cases if c.moderators)


# Each planting changes one thing and returns the kinds it must cause and a location to find.
def _unrated(ws: Workspace) -> tuple[set[str], str]:
    ws.meta.cases.append(Case("C98", ws.meta.reviewers[0]))
    ws.save_meta()
    return {"unrated"}, f"C98 ({ws.meta.reviewers[0]})"


def _missing_question(ws: Workspace) -> tuple[set[str], str]:
    case = _single(ws)
    with ws.store() as store:
        store.set_rating("test", RatingInput(case.id, case.reviewer, "q5", None, ""))
    return {"missing_questions"}, f"{case.id} ({case.reviewer}): 1 of 12 questions not rated: q5"


def _no_overall(ws: Workspace) -> tuple[set[str], str]:
    case = _single(ws)
    with ws.store() as store:
        store.set_rating("test", RatingInput(case.id, case.reviewer, "overall", None, ""))
    return {"no_overall"}, f"{case.id} ({case.reviewer}): no overall judgement"


def _not_complete(ws: Workspace) -> tuple[set[str], str]:
    case = _single(ws)
    with ws.store() as store:
        store.set_case_flag("test", case.id, case.reviewer, complete=False)
    return {"not_complete"}, f"{case.id} ({case.reviewer}): not marked complete"


def _no_evidence(ws: Workspace) -> tuple[set[str], str]:
    case = _single(ws)
    with ws.store() as store:
        store.set_rating("test", RatingInput(case.id, case.reviewer, "q4", "Inadequate", ""))
    return {"evidence"}, f"{case.id} q4 ({case.reviewer}): Relationships and networks: rated Inadequate"


def _moderator_missing(ws: Workspace) -> tuple[set[str], str]:
    case = _moderated(ws)
    with ws.store() as store:
        store.set_rating("test", RatingInput(case.id, case.moderators[0], "q2", None, ""))
    return {"moderation"}, f"{case.id} ({case.moderators[0]}): moderation ratings: 1 of 12 questions not rated: q2"


def _no_attendance(ws: Workspace) -> tuple[set[str], str]:
    with ws.store() as store:
        store.add_meeting("test", "practitioners", "2026-10-09", {}, ref="M9")
    return {"attendance"}, "meeting M9: the meeting with practitioners held 2026-10-09 has no attendance"


def _stub(ws: Workspace) -> tuple[set[str], str]:
    (ws.path / "narrative" / "strengths.md").write_text("<!-- Key strengths: write this. -->\n", encoding="utf-8")
    return {"narrative"}, "narrative/strengths.md: not written yet"


def _cqc_unwritten(ws: Workspace) -> tuple[set[str], str]:
    path = ws.path / "narrative" / "quality_statements.md"
    text = path.read_text(encoding="utf-8")
    start = text.index("## 7. Safeguarding")
    path.write_text(text[:start] + text[text.index("## 8. ", start):], encoding="utf-8")
    return {"cqc"}, "narrative/quality_statements.md: QS7 Safeguarding: nothing written"


def _open_concern(ws: Workspace) -> tuple[set[str], str]:
    case = _single(ws)
    with ws.store() as store:
        store.set_concern("test", case.id, case.reviewer, what="Risk of falls not followed up", raised_on="2026-10-08",
                          raised_with="team manager")
    return {"concerns"}, f"{case.id} ({case.reviewer}): a concern raised on 2026-10-08 has no response"


def _identifier(ws: Workspace) -> tuple[set[str], str]:
    story = ws.path / "narrative" / "observations.md"
    story.write_text(story.read_text(encoding="utf-8") + f"\nNHS number {NHS} was copied here.\n", encoding="utf-8")
    return {"identifiers"}, "narrative/observations.md"


def _claim(ws: Workspace) -> tuple[set[str], str]:
    story = ws.path / "narrative" / "observations.md"
    text = story.read_text(encoding="utf-8")
    story.write_text(text + "\nManagement oversight was the strongest area of the audit tool.\n", encoding="utf-8")
    return {"claims"}, f"narrative/observations.md line {text.count(chr(10)) + 2}: \"strongest area … Q11\""


def _field(ws: Workspace) -> tuple[set[str], str]:
    story = ws.path / "narrative" / "introduction.md"
    text = story.read_text(encoding="utf-8")
    story.write_text(text + "\n{{ Q7.outstanding_or_goood }} were rated well.\n", encoding="utf-8")
    return {"fields"}, (f"narrative/introduction.md line {text.count(chr(10)) + 2}: unknown field "
                        "{{ Q7.outstanding_or_goood }}; did you mean {{ Q7.outstanding_or_good }}?")


def _no_selection(ws: Workspace) -> tuple[set[str], str]:
    ws.meta.case_selection = ""
    ws.save_meta()
    return {"selection"}, "review.yaml: how the case records were chosen is not recorded"


def _no_conversations(ws: Workspace) -> tuple[set[str], str]:
    # A review whose conversations were never imported: the report would say "held no conversations".
    with sqlite3.connect(ws.path / "review.db") as db:
        db.execute("DELETE FROM note_codes WHERE note_id IN (SELECT id FROM notes WHERE conversation_id IS NOT NULL)")
        db.execute("DELETE FROM notes WHERE conversation_id IS NOT NULL")
        db.execute("DELETE FROM conversations")
    return {"fieldwork"}, "conversations: no conversations with people or their families are recorded"


PLANTS: dict[str, Callable[[Workspace], tuple[set[str], str]]] = {  # in GAP_KINDS order
    "selection": _no_selection, "unrated": _unrated, "missing_questions": _missing_question, "no_overall": _no_overall,
    "not_complete": _not_complete, "evidence": _no_evidence, "moderation": _moderator_missing,
    "attendance": _no_attendance, "fieldwork": _no_conversations, "narrative": _stub, "cqc": _cqc_unwritten,
    "concerns": _open_concern, "identifiers": _identifier, "fields": _field, "claims": _claim,
}


def test_every_gap_kind_has_a_planting() -> None:
    assert set(PLANTS) | {"no_cases"} == set(GAP_KINDS)


def test_the_sample_review_is_ready(sample_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert readiness(open_workspace(sample_path)) == []
    assert cli.main(["status", str(sample_path)]) == 0
    # The command it suggests names this workspace, ready to paste.
    assert f"Ready for a final report: nothing is missing (reviewkit report {sample_path} --final)." \
        in capsys.readouterr().out


@pytest.mark.parametrize("kind", list(PLANTS))
def test_each_gap_is_listed_and_refuses_a_final_report(kind: str, sample_path: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    ws = _copy(sample_path, tmp_path / "ws")
    kinds, where = PLANTS[kind](ws)
    gaps = readiness(open_workspace(ws.path))
    assert {g.kind for g in gaps} == kinds
    assert any(where in str(g) for g in gaps), [str(g) for g in gaps]

    assert cli.main(["status", str(ws.path)]) == 0
    printed = capsys.readouterr().out
    assert f"Not ready for a final report: {len(gaps)} thing" in printed and where in printed

    out = tmp_path / "out"
    assert cli.main(["report", str(ws.path), "--to", "html,pdf,docx", "--final", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "The final report was not rendered" in err and where in err
    assert "Traceback" not in err and NHS not in err and "9990000018" not in err
    assert not out.exists()  # nothing written
    assert not (ws.path / ".cache").exists()


def test_a_review_with_no_cases_is_not_ready(tmp_path: Path) -> None:
    ws = create_workspace(tmp_path / "ws", council="Testshire Council", theme="Strengths-based practice",
                          reviewers=["A. Visitor"], host="H. Host")
    gaps = readiness(ws)
    assert gaps[0].kind == "no_cases" and str(gaps[0]).startswith("review.yaml: no case records")
    # A new review has not recorded how its cases were chosen, nor any meeting or conversation.
    assert {g.kind for g in gaps} == {"no_cases", "selection", "fieldwork", "narrative", "cqc"}
    # Every narrative file but the optional CQC commentary (and no review questions were asked).
    assert len([g for g in gaps if g.kind == "narrative"]) == 7
    # The CQC commentary is optional as a file, but each statement needs the team's view or "out of scope".
    assert len([g for g in gaps if g.kind == "cqc"]) == 9


def test_the_missing_box_counts_by_kind_and_names_cases_not_reviewers(sample_path: Path, tmp_path: Path) -> None:
    ws = _copy(sample_path, tmp_path / "ws")
    for plant in PLANTS.values():
        plant(ws)
    ws = open_workspace(ws.path)
    summary = missing_summary(readiness(ws))
    assert [row["kind"] for row in summary] == list(PLANTS)
    text = " ".join(" ".join(row.values()) for row in summary)
    for member in ws.meta.team:
        assert member.name not in text
    rows = {row["kind"]: row for row in summary}
    assert rows["unrated"] == {"kind": "unrated", "what": GAP_KINDS["unrated"], "count": "1 case record",
                               "where": "C98"}
    assert rows["attendance"]["where"] == "meeting M9"
    assert rows["evidence"]["count"] == "1 rating"


def test_a_moderators_unrated_copy_is_a_moderation_gap_not_an_unrated_case(sample_path: Path,
                                                                          tmp_path: Path) -> None:
    # The case is rated in full by its own reviewer: the box must not call it a case record
    # with no ratings or with questions missing, only a moderation case not yet rated by all.
    ws = _copy(sample_path, tmp_path / "ws")
    case = _moderated(ws)
    with ws.store() as store:
        store.apply_ratings("test", [RatingInput(case.id, case.moderators[0], q, None) for q in ws.tool.all_ids])
    gaps = readiness(open_workspace(ws.path))
    assert [(g.kind, str(g)) for g in gaps] == [
        ("moderation", f"{case.id} ({case.moderators[0]}): moderation ratings: no ratings yet; agreement "
                       "needs every reviewer's ratings")]
    assert missing_summary(gaps) == [{"kind": "moderation", "what": GAP_KINDS["moderation"],
                                      "count": "1 case record", "where": case.id}]


# --------------------------------------------------------------------------- the draft, rendered

@pytest.mark.slow
@pytest.mark.browser
def test_draft_of_an_incomplete_review_is_marked_on_every_page(sample_path: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    if find_chromium() is None:
        pytest.skip("Chromium is not installed (PDF output)")
    ws = _copy(sample_path, tmp_path / "ws")
    expected = {kind: plant(ws) for kind, plant in PLANTS.items()}
    n = len(readiness(open_workspace(ws.path)))
    out = tmp_path / "draft"
    assert cli.main(["report", str(ws.path), "--to", "html,pdf", "--withhold-identifiers", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"It is marked DRAFT — DATA INCOMPLETE: {n} things are still missing" in printed
    assert "NOT FOR PUBLICATION: 1 piece(s) of text" in printed
    page = (out / "report.html").read_text(encoding="utf-8")
    head, body = page.split("<body", 1)
    meta = re.search(r'<meta\b[^>]*name="reviewkit-draft"[^>]*>', head)  # for the Word conversion
    assert meta and f'content="{DRAFT_INCOMPLETE}"' in htmllib.unescape(meta.group(0))
    cover = htmllib.unescape(body.split("</header>")[0])
    assert DRAFT_INCOMPLETE in cover
    found = re.search(r'<section\b[^>]*class="missing".*?</section>', body, re.DOTALL)
    assert found and found.start() < body.index("<nav")  # up front: before the contents
    box = htmllib.unescape(found.group(0))
    assert "What is still missing" in box
    for kind in PLANTS:
        assert GAP_KINDS[kind] in box
    assert "C98" in box and "meeting M9" in box and "narrative/strengths.md" in box
    for member in open_workspace(ws.path).meta.team:
        assert member.name not in box
    assert NHS not in page
    # Every printed page, the cover included, carries the banner.
    reader = pypdf.PdfReader(out / "report.pdf")
    assert len(reader.pages) > 10
    for number in range(1, len(reader.pages) + 1):
        text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), "-layout",
                               str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
        assert DRAFT_INCOMPLETE in text, f"page {number} has no banner"
    assert expected  # (every planting ran)
    _axe_clean(out / "report.html")


def _axe_clean(page: Path) -> None:
    """The draft, banner and box included, meets WCAG 2.2 AA (axe-core in Debian's Chromium)."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            tab = browser.new_page()
            tab.goto(page.as_uri())
            results = Axe().run(tab, options={"runOnly": {"type": "tag", "values": [
                "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
        finally:
            browser.close()
    assert results.violations_count == 0, results.generate_report()


# --------------------------------------------------------------------------- import warnings

def test_import_warns_on_low_ratings_without_evidence(sample_path: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ws = _copy(sample_path, tmp_path / "ws")
    case = _single(ws)
    ratings = tmp_path / "late.csv"
    ratings.write_text("case_id,reviewer,question,rating,comment\n"
                       f"{case.id},{case.reviewer},q3,Requires Improvement,\n"
                       f"{case.id},{case.reviewer},q4,Inadequate,The plan has no contingency.\n"
                       f"{case.id},{case.reviewer},overall,RI,\n", encoding="utf-8")
    result = import_files(ws, [ratings], actor="H. Host")
    assert result["ratings"].changed == 3  # stored: a warning never refuses
    assert [(w.file, w.row, w.column) for w in result.warnings] == [(str(ratings), 2, "comment"),
                                                                     (str(ratings), 4, "comment")]
    assert f"{case.id} q3 is rated Requires Improvement with no evidence note" in str(result.warnings[0])
    assert f"{case.id} overall is rated Requires Improvement" in str(result.warnings[1])
    assert cli.main(["import", str(ws.path), str(ratings)]) == 0
    out = capsys.readouterr().out
    assert "Warning: 2 ratings of Requires Improvement or Inadequate have no evidence note" in out
    assert f"late.csv, row 2, column 'comment': {case.id} q3" in out
    kinds = [g.kind for g in readiness(open_workspace(ws.path))]
    assert kinds == ["evidence", "evidence"]


def test_gap_text_never_quotes_what_a_person_typed(sample_path: Path, tmp_path: Path) -> None:
    ws = _copy(sample_path, tmp_path / "ws")
    with ws.store() as store:
        store.add_meeting("test", "managers", "2026-10-09", {}, title="Meeting about Zebediah Quokkafeather",
                          ref="M9")
    ws = open_workspace(ws.path)
    names = ws.path / "private" / "names.txt"
    names.write_text(names.read_text(encoding="utf-8") + "\nZebediah Quokkafeather\n", encoding="utf-8")
    gaps = readiness(open_workspace(ws.path))
    assert [dataclasses.astuple(g)[:2] for g in gaps] == [("attendance", "meeting M9")]
    assert "Zebediah" not in " ".join(str(g) for g in gaps)


def test_the_hosts_progress_page_shows_the_same_list(sample_path: Path, tmp_path: Path) -> None:
    from reviewkit.team.widgets.progress import progress_html

    ws = _copy(sample_path, tmp_path / "ws")
    with ws.store() as store:
        assert "Nothing is missing: the report can be rendered final." in progress_html(ws, store)
    _no_attendance(ws)
    ws = open_workspace(ws.path)
    with ws.store() as store:
        page = htmllib.unescape(progress_html(ws, store))
    assert "Before the report can be final" in page and "meeting M9" in page
    assert "has no attendance recorded" in page


def test_a_review_with_no_meetings_and_no_conversations_is_not_ready(tmp_path: Path) -> None:
    ws = create_workspace(tmp_path / "ws", council="Testshire Council", theme="Strengths-based practice",
                          reviewers=["A. Visitor"], host="H. Host")
    found = {g.where: str(g) for g in readiness(ws) if g.kind == "fieldwork"}
    assert set(found) == {"meetings", "conversations"}
    assert "no meetings with staff are recorded" in found["meetings"]
    with ws.store() as store:
        store.add_meeting("test", "practitioners", "2026-10-09", {"social worker": 5}, ref="M1")
    assert [g.where for g in readiness(open_workspace(ws.path)) if g.kind == "fieldwork"] == ["conversations"]
