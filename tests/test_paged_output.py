"""The printed report as pages: Contents with page numbers, headings kept with their text, the
signatories whole, and a Word file with a Contents field, its properties and about the PDF's length."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pypdf
import pytest

from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.printer import find_chromium
from reviewkit.report.render import render_report

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(find_chromium() is None, reason="printing to PDF needs Chromium")]


FIGURE = "[figure]"  # marks a page's picture in its text: a page holding a chart is not an empty page


def _pages(pdf: Path) -> list[str]:
    return [" ".join([*(p.extract_text() or "").split(), *[FIGURE] * len(p.images)])
            for p in pypdf.PdfReader(str(pdf)).pages]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("paged")
    ws = build_sample_workspace(root / "eastvale")
    out = render_report(ws.path, root / "out", ("html", "pdf", "docx"), final=True, use_cache=False)
    return {"pdf": out["pdf"], "docx": out["docx"], "html": out["html"].read_text(encoding="utf-8"),
            "pages": _pages(out["pdf"]), "root": root, "ws": ws}


def test_the_pdf_contents_gives_the_page_each_section_starts_on(printed: dict) -> None:
    pages = printed["pages"]
    contents = next(i for i, text in enumerate(pages) if "Contents Key messages" in text)
    entries = re.findall(r'<li><a href="#([^"]+)">(.*?)</a><span class="toc-page"', printed["html"])
    assert len(entries) >= 8
    reader = pypdf.PdfReader(str(printed["pdf"]))
    outline: dict[str, int] = {}

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                outline.setdefault(re.sub(r"\s+", "", str(item.title)), reader.get_destination_page_number(item) + 1)

    walk(reader.outline)
    listed = pages[contents]
    for _, title in entries:
        title = re.sub(r"<[^>]+>", "", title).replace("&#x27;", "'").replace("&amp;", "&")
        # Each entry's line ends with the page its heading is printed on, and that page shows it.
        found = re.search(re.escape(title) + r"\s*(\d+)", listed)
        assert found, f"no page number for {title!r} in the Contents"
        page = int(found.group(1))
        assert outline[re.sub(r"\s+", "", title)] == page
        assert re.sub(r"\s+", "", title) in re.sub(r"\s+", "", pages[page - 1])
    # The screen's HTML shows no numbers: a web page has none.
    assert re.search(r'<span class="toc-page" data-for="[^"]+">\d', printed["html"]) is None


def test_no_page_holds_only_a_heading_or_a_line(printed: dict) -> None:
    footer = re.compile(r"Practice review of .*? Page \d+ of \d+$")
    for n, text in enumerate(printed["pages"][1:], 2):
        body = footer.sub("", text.replace(FIGURE, "").strip()).strip()
        assert FIGURE in text or len(body.split()) >= 25, f"page {n} holds almost nothing: {body[:80]!r}"
    signed = [text for text in printed["pages"] if "Signatories" in text and "4 December 2026" in text]
    assert len(signed) == 1 and "Contacts" in signed[0]  # the date with the names, and the section before
    assert "Produced with reviewkit" not in " ".join(printed["pages"])  # the credit is off by default


def test_the_main_report_is_short_and_the_figures_are_in_the_appendices(printed: dict) -> None:
    pages, html = printed["pages"], printed["html"]
    first_appendix = next(i for i, text in enumerate(pages) if "Appendix A: the figures" in text and i > 2)
    assert first_appendix <= 15  # the main report: at most 15 A4 pages
    main = html[:html.index('id="appendix-figures"')]
    assert "<table" not in main.split('id="data-analysis"')[1].split('id="case-records"')[0]
    assert "Appendix A sets out every figure" in main
    assert 'id="cqc-themes"' in main and "Appendix B sets out the evidence" in main
    appendix = html[html.index('id="appendix-figures"'):]
    for ident in ("all-ratings", "question-charts", "previous-round", "moderation"):
        assert f'id="{ident}"' in appendix
    assert appendix.count("<table") >= 20
    for text in re.findall(r'<blockquote class="quote"><p>(.*?)</p>', html):  # each quote printed once
        assert html.count(text) == 1


@pytest.fixture(scope="module")
def word_pages(printed: dict) -> list[str]:
    """The Word file's pages, as LibreOffice prints it to PDF."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is needed to count the Word file's pages")
    out = printed["root"] / "word"
    subprocess.run([soffice, f"-env:UserInstallation=file://{printed['root'] / 'lo'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(printed["docx"])],
                   capture_output=True, timeout=240, check=True)
    return _pages(out / "report.pdf")


# The running footer (PDF: "Practice review of <council> ... Page n of m"; Word: "Page n").
_RUNNING = re.compile(r"Page \d+( of \d+)?|Practice review of [A-Z][\w ]*?Council")
# Characters (not counting spaces) a page holds at the least: about five lines of text. On the
# sample the fullest page holds over 3,000; a page of two charts and their tables about 580; a
# page with only a table of a few rows and its note, or a heading and a line, under 400.
LEAST_TEXT = 400


def _thin_pages(pages: list[str]) -> list[tuple[int, str]]:
    """The pages after the cover that hold less than ``LEAST_TEXT`` characters of their own."""
    thin = []
    for n, text in enumerate(pages[1:], 2):
        body = _RUNNING.sub("", text).strip()
        if FIGURE not in body and len(body.replace(" ", "")) < LEAST_TEXT:
            thin.append((n, body[:80]))
    return thin


def test_no_page_of_the_pdf_or_the_word_file_is_nearly_empty_and_word_is_about_as_long(
        printed: dict, word_pages: list[str]) -> None:
    pdf_pages = printed["pages"]
    assert len(word_pages) <= 1.3 * len(pdf_pages), f"Word {len(word_pages)} pages, PDF {len(pdf_pages)}"
    assert _thin_pages(pdf_pages) == []
    assert _thin_pages(word_pages) == []
    # In Word too the date is printed with the signatories and the section before them.
    signed = [text for text in word_pages[2:] if "Signatories" in text and "4 December 2026" in text]
    assert len(signed) == 1 and "Contacts" in signed[0] and "Graham Pettifer" in signed[0]
    # The appendices start a page each, in both.
    for pages in (pdf_pages, word_pages):
        for title in ("Appendix A: the figures", "Appendix B: the evidence"):
            assert sum(title in text for text in pages) >= 2  # the Contents and the page it starts
            assert any(re.match(r"(Page \d+ of \d+\s*Practice review of [\w ]+?Council\s*)?" + title, text)
                       for text in pages), f"{title} does not start a page"


def test_the_word_file_has_a_contents_field_its_properties_and_about_the_pdf_length(
        printed: dict, word_pages: list[str]) -> None:
    with zipfile.ZipFile(printed["docx"]) as z:
        document = z.read("word/document.xml").decode()
        core = z.read("docProps/core.xml").decode()
        settings = z.read("word/settings.xml").decode()
    assert 'w:docPartGallery w:val="Table of Contents"' in document
    assert re.search(r"<w:instrText[^>]*> TOC \\o (&quot;|\")1-1(&quot;|\") \\h", document)
    assert "w:updateFields" in settings  # Word fills in the page numbers when the file opens
    assert "<dc:title>Report following the practice review of Eastvale Borough Council</dc:title>" in core
    assert f"<dc:creator>{printed['ws'].meta.programme}</dc:creator>" in core
    assert len(word_pages) <= 1.4 * len(printed["pages"])
    contents = next(text for text in word_pages if "Contents" in text)
    assert "Key messages" in contents and "Signatories" in contents


def test_the_pdf_prints_its_body_text_at_the_size_the_stylesheet_sets(printed: dict) -> None:
    """A table wider than the page made Chromium shrink every page to fit it: body text printed at
    7 pt instead of 10.5 pt. Measured from the PDF: the size most of the text is drawn at."""
    sizes: dict[float, int] = {}
    for page in pypdf.PdfReader(str(printed["pdf"])).pages[1:]:
        def visit(text, cm, tm, font, size) -> None:  # type: ignore[no-untyped-def]
            if text.strip() and tm[0] and cm[0]:
                drawn = round(size * abs(tm[0]) * abs(cm[0]), 1)
                sizes[drawn] = sizes.get(drawn, 0) + len(text.strip())
        page.extract_text(visitor_text=visit)
    body = max(sizes, key=sizes.get)
    assert body == 10.5, sorted(sizes.items(), key=lambda kv: -kv[1])[:4]
    assert sum(n for s, n in sizes.items() if s < 8) < 0.02 * sum(sizes.values())  # (the footer is 8.5 pt)
