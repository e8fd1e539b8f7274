"""Key messages and the review questions answered: the answers file, the gaps it leaves, --final."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reviewkit import cli
from reviewkit.core.errors import RenderError
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.data import narrative_status, unwritten_sections
from reviewkit.report.findings import link_references
from reviewkit.report.render import render_report
from reviewkit.report.sections import PLACEHOLDER, ReportBuilder
from reviewkit.review.narrative import answers_stub, split_answers, unanswered
from reviewkit.review.workspace import create_workspace, open_workspace

QUESTIONS = ["How consistent is practice?", "Do records show the person's voice?", "What next?"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_workspace(tmp_path_factory.mktemp("findings") / "eastvale").path


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


# --------------------------------------------------------------------------- the answers file

def test_a_new_answers_file_has_one_heading_per_question_and_no_answers() -> None:
    stub = answers_stub(QUESTIONS)
    assert re.findall(r"^## (\d)\. (.*)$", stub, flags=re.M) == [(str(i), q) for i, q in enumerate(QUESTIONS, 1)]
    assert split_answers(stub, QUESTIONS) == ["", "", ""]
    assert unanswered(stub, QUESTIONS) == [1, 2, 3]


def test_answers_are_matched_by_number_or_by_the_questions_words() -> None:
    text = ("Opening words outside any question.\n\n"
            "## Question 2: shortened heading\n\nThe voice came through.\n\n### Detail\n\nStill question 2.\n\n"
            "## What next?\n\nEmbed the framework. <!-- a note to ourselves -->\n\n"
            "## Something else\n\nNot an answer.\n")
    answers = split_answers(text, QUESTIONS)
    assert answers[0] == ""
    assert answers[1].startswith("The voice came through.") and "Still question 2." in answers[1]
    assert answers[2] == "Embed the framework."
    assert "Not an answer" not in " ".join(answers) and "Opening" not in " ".join(answers)
    assert unanswered(text, QUESTIONS) == [1]


def test_new_with_questions_writes_their_headings(tmp_path: Path) -> None:
    code = cli.main(["new", str(tmp_path / "ws"), "--council", "Testshire Council", "--theme", "Practice",
                     "--question", QUESTIONS[0], "--question", QUESTIONS[1]])
    assert code == 0
    ws = open_workspace(tmp_path / "ws")
    assert ws.meta.review_questions == QUESTIONS[:2]
    text = (ws.narrative_dir / "review_questions.md").read_text(encoding="utf-8")
    assert f"## 1. {QUESTIONS[0]}" in text and f"## 2. {QUESTIONS[1]}" in text
    status = narrative_status(ws.path)
    assert status["review_questions"].gaps == ("an answer to review question 1", "an answer to review question 2")
    assert not status["review_questions"].written
    assert ws.narrative_dir / "review_questions.md" in unwritten_sections(ws.path)
    assert ws.narrative_dir / "key_messages.md" in unwritten_sections(ws.path)
    html = ReportBuilder.load(ws.path).key_messages()
    assert PLACEHOLDER in html and "narrative/key_messages.md" in html
    # The team's view by quality statement is optional: a final report does not wait for it.
    assert ws.narrative_dir / "quality_statements.md" not in unwritten_sections(ws.path)


def test_with_no_review_questions_there_is_nothing_to_answer(tmp_path: Path) -> None:
    ws = create_workspace(tmp_path / "ws", council="Testshire Council", theme="Practice")
    assert ws.narrative_dir / "review_questions.md" not in unwritten_sections(ws.path)
    assert ReportBuilder.load(ws.path).review_answers() == ""


# --------------------------------------------------------------------------- the sections

def test_key_messages_lead_with_generated_figures_and_the_teams_messages(sample: Path) -> None:
    b = ReportBuilder.load(sample)
    html = b.key_messages()
    assert html.startswith('<h2 id="key-messages" class="section-heading">Key messages</h2>')
    text = re.sub(r"<[^>]+>", " ", html)
    assert "20 case records examined by 4 Principal Social Workers" in text
    assert ("18 of the 20 case records (90%) were judged Outstanding or Good. Eastvale Borough Council chose these "
            "case records" in text and "lies between 70% and 97%." in text)
    # The sample logs one concern about a person's safety: it counts as referred back, and is never "none".
    assert "No case records were referred back" not in text
    assert "1 case record was referred back to Eastvale Borough Council for a significant concern." in text
    assert "This peer review is not a CQC assessment and does not grade the council" in text
    assert "2 meetings with 13 members of staff and 5 conversations" in text
    assert "Good Lives framework has not yet reached every team" in text
    assert '<a href="#rec-1">Recommendation 1</a>' in html and '<a href="#data-analysis">section 4</a>' in html


def test_each_review_question_is_printed_with_its_answer_and_links(sample: Path) -> None:
    b = ReportBuilder.load(sample)
    html = b.review_answers()
    questions = open_workspace(sample).meta.review_questions
    for i, q in enumerate(questions, 1):
        block = re.search(rf'<div class="review-answer" id="answer-{i}">(.*?)</div></div>', html, flags=re.S)
        assert block, i
        assert f"Question {i}: {' '.join(q.split())}".replace("'", "&#x27;") in block.group(1)
        assert '<div class="narrative">' in block.group(1)
    assert '<a href="#meetings">sections 3</a>' in html or '<a href="#meetings">section' in html
    assert '<a href="#qs-8">quality statement 8</a>' in html
    assert '<a href="#previous-review">section 2</a>' in html
    intro = b.introduction()
    assert all(f'<a href="#answer-{i}">' in intro for i in range(1, len(questions) + 1))


def test_a_draft_shows_where_to_write_a_missing_answer(sample: Path, tmp_path: Path) -> None:
    ws = _copy(sample, tmp_path / "ws")
    path = ws / "narrative" / "review_questions.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(## 3\..*?\n)(.*?)(?=\n## 4\.)", r"\1\n", text, flags=re.S), encoding="utf-8")
    html = ReportBuilder.load(ws).review_answers()
    third = re.search(r'id="answer-3">(.*?)</div></div>', html, flags=re.S).group(1)
    assert PLACEHOLDER in third and "Write the answer to question 3 under the heading ‘## 3. …’" in third
    assert narrative_status(ws)["review_questions"].gaps == ("an answer to review question 3",)


@pytest.mark.parametrize("what", ["key messages", "an answer"])
def test_final_refuses_without_key_messages_or_an_answer(sample: Path, tmp_path: Path, what: str) -> None:
    ws = _copy(sample, tmp_path / "ws")
    if what == "key messages":
        (ws / "narrative" / "key_messages.md").write_text("<!-- Key messages: write them. -->\n", encoding="utf-8")
        wanted = "narrative/key_messages.md"
    else:
        path = ws / "narrative" / "review_questions.md"
        path.write_text(re.sub(r"(## 2\..*?\n).*?(?=\n## 3\.)", r"\1\n<!-- Answer question 2 here. -->\n",
                               path.read_text(encoding="utf-8"), flags=re.S), encoding="utf-8")
        wanted = "narrative/review_questions.md"
    with pytest.raises(RenderError, match=re.escape(wanted)):
        render_report(ws, tmp_path / "out", ("html",), final=True)
    assert not (tmp_path / "out").exists()


def test_references_are_linked_outside_tags_and_links_only() -> None:
    html = '<p>See section 4, QS7 and quality statement 12 <a href="#x">section 3</a>; Section 9.</p>'
    out = link_references(html)
    assert '<a href="#data-analysis">section 4</a>' in out and '<a href="#qs-7">QS7</a>' in out
    assert "quality statement 12" in out and 'href="#qs-12"' not in out
    assert '<a href="#x">section 3</a>' in out and out.count("<a ") == 4
    assert "Section 9." in link_references(html, cqc_section=False)


def test_status_and_final_name_the_unanswered_question(sample: Path, tmp_path: Path) -> None:
    from reviewkit.review.readiness import readiness

    ws = _copy(sample, tmp_path / "ws")
    path = ws / "narrative" / "review_questions.md"
    path.write_text(re.sub(r"(## 2\..*?\n).*?(?=\n## 3\.)", r"\1\n", path.read_text(encoding="utf-8"), flags=re.S),
                    encoding="utf-8")
    gaps = [g for g in readiness(open_workspace(ws)) if g.kind == "narrative"]
    assert [str(g) for g in gaps] == ["narrative/review_questions.md: still needs an answer to review question 2"]
