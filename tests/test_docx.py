"""The Word file as a council edits and publishes it: the sample review rendered as a draft.

Tables span the text width with columns fitted to their content, header rows repeat on every
page, rows never split, captions stay with their table or figure, figures keep their alt
text, and a draft says so at the top of every page. The last check opens the file as an
office suite does (LibreOffice, printing to PDF) and reads the pages back with poppler.
"""

from __future__ import annotations

import html as htmllib
import re
import shutil
import subprocess
from pathlib import Path

import docx
import docx.document
import docx.enum.section
import pypdf
import pytest
from docx.oxml.ns import qn

from reviewkit.intake.sample import build_sample_workspace
from reviewkit.region.render import render_comparison
from reviewkit.report.docx import draft_mark, text_width
from reviewkit.report.render import render_report

pytestmark = pytest.mark.slow

MARK = "DRAFT — NOT FOR PUBLICATION"
BUNDLES = sorted((Path(__file__).resolve().parent.parent / "sample_data" / "region" / "bundles").glob("*.zip"))
INSTALL_LIBREOFFICE = "apt-get install -y libreoffice-writer (or run: bash scripts/setup.sh)"


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sample review rendered as a draft, to HTML and Word."""
    root = tmp_path_factory.mktemp("docx")
    ws = build_sample_workspace(root / "eastvale")
    out = root / "out"
    render_report(ws.path, out, ("html", "docx"), use_cache=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    # What the HTML draft says on its pages, said again at the top of every page of the Word file.
    mark = "DRAFT — DATA INCOMPLETE — NOT FOR PUBLICATION" if "DATA INCOMPLETE" in html else MARK
    return {"root": root, "out": out, "docx": out / "report.docx", "document": docx.Document(str(out / "report.docx")),
            "html": html, "mark": mark}


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> docx.document.Document:
    """The sample region's comparison in Word: one of its tables has a column per question."""
    out = render_comparison(BUNDLES, tmp_path_factory.mktemp("regional-docx"), ["docx"])
    return docx.Document(str(out["docx"]))


def _cells(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[tc.text for tc in row.cells] for row in table.rows]


def _page(sect_pr) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Page width and height and the width between the margins, in twips."""
    size, margins = sect_pr.find(qn("w:pgSz")), sect_pr.find(qn("w:pgMar"))
    width = int(size.get(qn("w:w")))
    return width, int(size.get(qn("w:h"))), width - int(margins.get(qn("w:left"))) - int(margins.get(qn("w:right")))


def _tables_and_pages(document) -> list[tuple[object, tuple[int, int, int]]]:  # type: ignore[no-untyped-def]
    """Each table with the page it is printed on (the section properties that follow it)."""
    found, pending = [], []
    for el in document.element.body:
        sect_pr = el if el.tag == qn("w:sectPr") else el.find(f"{qn('w:pPr')}/{qn('w:sectPr')}")
        if el.tag == qn("w:tbl"):
            pending.append(el)
        elif sect_pr is not None:
            found += [(t, _page(sect_pr)) for t in pending]
            pending = []
    return found


def _check_tables(document) -> None:  # type: ignore[no-untyped-def]
    tables = _tables_and_pages(document)
    assert len(tables) == len(document.tables)
    for n, (tbl, (_, _, width)) in enumerate(tables, 1):
        tbl_pr = tbl.tblPr
        tbl_w = tbl_pr.find(qn("w:tblW"))
        assert tbl_w.get(qn("w:type")) == "dxa" and int(tbl_w.get(qn("w:w"))) >= width, f"table {n} too narrow"
        assert tbl_pr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed", f"table {n}"
        grid = [int(col.get(qn("w:w"))) for col in tbl.tblGrid.findall(qn("w:gridCol"))]
        assert sum(grid) >= width, f"table {n}: columns add up to {sum(grid)} of {width}"
        rows = tbl.findall(qn("w:tr"))
        assert rows[0].find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None, f"table {n}: header does not repeat"
        for i, tr in enumerate(rows):
            assert tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None, f"table {n}, row {i + 1} may split"


def test_every_table_spans_the_text_width_with_header_rows_that_repeat_and_rows_kept_whole(draft: dict) -> None:
    document = draft["document"]
    assert text_width(document.sections[-1]._sectPr) == 9638  # A4 less two 2 cm margins, in twips
    assert len(document.tables) >= 17
    _check_tables(document)
    assert all(page[0] < page[1] for _, page in _tables_and_pages(document))  # all fit on portrait pages


def test_a_table_too_wide_for_a_portrait_page_gets_a_landscape_page(regional) -> None:  # type: ignore[no-untyped-def]
    _check_tables(regional)
    pages = {tuple(c.strip() for c in _cells(t)[0][:3]): page
             for t, page in zip(regional.tables, (p for _, p in _tables_and_pages(regional)), strict=True)}
    by_question = pages[("Council", "Q1", "Q2")]
    assert by_question[0] > by_question[1]  # landscape
    assert sum(1 for w, h, _ in pages.values() if w > h) == 1  # the others stay portrait
    orientations = [s.orientation for s in regional.sections]
    assert orientations[0] == orientations[-1] == docx.enum.section.WD_ORIENT.PORTRAIT


def test_columns_are_fitted_to_content_not_equal(draft: dict) -> None:
    by_question = next(t for t in draft["document"].tables if _cells(t)[0][:2] == ["Question", "Outstanding"])
    grid = [int(col.get(qn("w:w"))) for col in by_question._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert grid[0] == max(grid)  # the question titles get the room; the counts stay narrow
    assert grid[-1] < grid[0] / 1.5


def test_captions_keep_with_their_table_and_figures_with_their_caption_and_alt_text(draft: dict) -> None:
    body = draft["document"].element.body
    blocks = list(body)
    captions = figures = 0
    for i, el in enumerate(blocks):
        if el.tag != qn("w:p"):
            continue
        ppr = el.find(qn("w:pPr"))
        style = ppr.find(qn("w:pStyle")).get(qn("w:val")) if ppr is not None and ppr.find(qn("w:pStyle")) is not None \
            else ""
        if style == "TableCaption":
            captions += 1
            assert ppr.find(qn("w:keepNext")) is not None
            assert blocks[i + 1].tag == qn("w:tbl")
        if el.findall(".//" + qn("wp:docPr")):
            figures += 1
            assert ppr is not None and ppr.find(qn("w:keepNext")) is not None
            nxt = blocks[i + 1]
            assert nxt.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val")) == "ImageCaption"
    assert captions == len(draft["document"].tables) and figures >= 15
    xml = (draft["document"].element.xml)
    described = re.findall(r'<wp:docPr [^>]*descr="([^"]+)"', xml)
    alts = [htmllib.unescape(a) for a in re.findall(r'<img\b[^>]*\balt="([^"]+)"', draft["html"])]
    assert [htmllib.unescape(d) for d in described] == alts
    assert not re.search(r'descr="media/', xml)  # the picture's own description is the alt text too


def test_a_draft_has_its_mark_in_every_section_header(draft: dict) -> None:
    document = draft["document"]
    for n, section in enumerate(document.sections, 1):
        headers = [section.header] + ([section.first_page_header] if section.different_first_page_header_footer else [])
        for header in headers:
            assert not header.is_linked_to_previous, f"section {n} has no header of its own"
            assert draft["mark"] in "\n".join(p.text for p in header.paragraphs), f"section {n}"
            watermark = header._element.xml
            assert 'string="DRAFT"' in watermark and "PowerPlusWaterMarkObject" in watermark, f"section {n}"


def test_the_mark_says_what_the_html_draft_says() -> None:
    assert draft_mark({"draft": False}) is None
    assert draft_mark({"draft": True}) == MARK
    assert draft_mark({"draft": True, "withheld": 3}) == MARK + " (identifiers withheld)"
    assert draft_mark({"draft": True, "incomplete": True}) == "DRAFT — DATA INCOMPLETE — NOT FOR PUBLICATION"


def _office_pdf(source: Path, folder: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail(f"LibreOffice is needed to check the Word file as an office suite opens it: {INSTALL_LIBREOFFICE}")
    profile = folder / "lo-profile"  # a throwaway profile: nothing lands in the home folder
    done = subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(folder), str(source)], capture_output=True, text=True, timeout=300,
                          check=False)
    pdf = folder / (source.stem + ".pdf")
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-500:]
    return pdf


def test_opened_in_libreoffice_no_word_breaks_mid_word_and_every_page_is_marked(draft: dict) -> None:
    pdf = _office_pdf(draft["docx"], draft["root"])
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    lines = [line.split() for line in text.splitlines()]
    words = {w for t in draft["document"].tables for row in _cells(t) for cell in row for w in cell.split()
             if len(w) > 3}
    broken = sorted({a[-1] + b[0] for a, b in zip(lines, lines[1:], strict=False)
                     if a and b and not a[-1].endswith("-") and a[-1] + b[0] in words})
    assert broken == [], f"words broken across lines in the tables: {broken}"
    for label in ("Outstanding", "Improvement", "Inadequate", "applicable", "Unspecified", "Supervision"):
        assert not any(label.startswith(line[-1]) and line[-1] != label for line in lines if len(line) == 1
                       and len(line[-1]) > 3), label
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) > 10
    for number, page in enumerate(reader.pages, 1):
        assert draft["mark"] in " ".join((page.extract_text() or "").split()), f"page {number} is not marked as a draft"


def test_nothing_keeps_with_a_new_page_and_the_signature_block_keeps_whole(draft: dict) -> None:
    blocks = [el for el in draft["document"].element.body if el.tag in (qn("w:p"), qn("w:tbl"))]

    def keeps(p) -> bool:  # type: ignore[no-untyped-def]  # the paragraph's own keep-with-next
        return p.find(f"{qn('w:pPr')}/{qn('w:keepNext')}") is not None

    breaks = 0
    for before, el in zip(blocks, blocks[1:], strict=False):
        br = el.find(f"{qn('w:pPr')}/{qn('w:pageBreakBefore')}")
        if br is None or br.get(qn("w:val")) in ("0", "false"):
            continue
        breaks += 1  # an appendix starts a page; nothing before it keeps with it
        last = [before] if before.tag == qn("w:p") else list(before.findall(qn("w:tr"))[-1].iter(qn("w:p")))
        assert not any(keeps(p) for p in last), "".join(before.itertext())[:80]
    assert breaks == 3  # the three appendices (the Contents heading is inside its field's block)
    texts = ["".join(t.text or "" for t in p.iter(qn("w:t"))).strip() for p in blocks]
    signed = texts.index("Signatories")
    date = next(i for i in range(signed, len(texts)) if re.fullmatch(r"\d{1,2} \w+ \d{4}", texts[i]))
    assert date - signed >= 2  # the names come between
    assert all(keeps(blocks[i]) for i in range(signed, date)) and not keeps(blocks[date])
    assert keeps(blocks[texts.index("Contacts")])  # the short section before goes with them, as in the PDF
