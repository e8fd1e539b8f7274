"""The new findings sections in the rendered sample report: where they sit, and what Word keeps of them."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest

from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.render import render_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("findings-render")
    ws = build_sample_workspace(root / "eastvale")
    ws.meta.report_layout = "classic"  # every figure in the body; the default layout: test_paged_output
    ws.save_meta()
    render_report(ws.path, root / "out", ("html", "docx"), final=True)
    return root / "out"


def test_key_messages_come_straight_after_the_contents_and_the_cqc_section_before_the_signatories(
        rendered: Path) -> None:
    html = (rendered / "report.html").read_text(encoding="utf-8")
    ids = [re.search(r'\bid="([^"]+)"', m.group(0)).group(1) for m in re.finditer(r"<h2\b[^>]*>", html)
           if "section-heading" in m.group(0)]
    assert ids[:4] == ["key-messages", "review-answers", "introduction", "previous-review"]
    assert ids[-4:] == ["recommendations", "cqc-evidence", "response", "signatories"]
    contents = re.search(r'<nav[^>]*>.*?</nav>', html, flags=re.S).group(0)
    for title in ("Key messages", "The review questions answered", "9. Evidence against the CQC quality statements"):
        assert title in contents
    assert (html.index('id="data-analysis"') < html.index('id="previous-round"') < html.index('id="moderation"')
            < html.index('id="case-records"'))
    assert html.index('id="i-statements"') < html.index('id="observations"')


def test_word_carries_the_new_sections_with_headings_captions_and_alt_text(rendered: Path) -> None:
    document = docx.Document(str(rendered / "report.docx"))
    by_style: dict[str, list[str]] = {}
    for p in document.paragraphs:
        by_style.setdefault(p.style.name, []).append(p.text)
    for title in ("Key messages", "The review questions answered", "9. Evidence against the CQC quality statements"):
        assert title in by_style["Heading 1"], title
    for title in ("The review at a glance", "What people told us, against the I statements",
                  "Compared with the previous review", "Theme: Working with people"):
        assert title in by_style["Heading 2"], title
    assert any(t.startswith("Question 1: How consistently") for t in by_style["Heading 2"])
    assert "QS7 Safeguarding" in by_style["Heading 3"]
    xml = zipfile.ZipFile(rendered / "report.docx").read("word/document.xml").decode()
    assert xml.count("<w:tblCaption") == len(document.tables)
    captions = re.findall(r'<w:tblCaption w:val="([^"]+)"', xml)
    assert any("The evidence held for each CQC quality statement" in c for c in captions)
    assert any("Outstanding or Good: this review and the previous one" in c for c in captions)
    assert any("Conversations by I statement and stance" in c for c in captions)
    descr = re.findall(r'<wp:docPr [^>]*descr="([^"]+)"', xml)
    assert any(d.startswith("Dot chart of the share of ratings Outstanding or Good") for d in descr)
    assert any(d.startswith("Bar chart of conversations per I statement by stance") for d in descr)
