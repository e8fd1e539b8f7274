"""The Easy Read summary and the "What you told us" letter: drafted once, edited by the team, rendered, gated."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from reviewkit import cli
from reviewkit.core.errors import RenderError
from reviewkit.figures.readability import readability, sentences, syllables, words
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.easyread import PICTURES, parse_page, spoken_text
from reviewkit.report.easyrender import render_easy_read
from reviewkit.report.printer import find_chromium

CANARY_NHS = "999 000 0018"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "easy_read"

pytestmark = pytest.mark.slow  # renders, Chromium and LibreOffice


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sample review with its Easy Read pages drafted and rendered once, through the command line."""
    root = tmp_path_factory.mktemp("easy")
    ws = build_sample_workspace(root / "eastvale").path
    out = root / "out"
    assert cli.main(["report", str(ws), "--easy-read", "--to", "html,pdf,docx", "--out", str(out)]) == 0
    return {"ws": ws, "out": out}


def _soffice_pdf(docx_file: Path, tmp: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is installed by scripts/setup.sh"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(tmp / "lo"), str(docx_file)],
                   capture_output=True, timeout=240, check=True)
    return tmp / "lo" / (docx_file.stem + ".pdf")


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


# --------------------------------------------------------------------------- the reading figures

def test_the_syllable_rule_and_the_flesch_formulas() -> None:
    assert [syllables(w) for w in ("cat", "table", "make", "asked", "wanted", "people", "support", "every")] == [
        1, 2, 1, 1, 2, 2, 2, 3]
    assert sentences("We read 20 case records. Staff are proud!\nA new line") == [
        "We read 20 case records.", "Staff are proud!", "A new line"]
    assert words("Staff's work, in 2026.") == ["Staff's", "work", "in", "2026"]
    # By the formula: 6 words, 6 syllables, 1 sentence.
    one = readability("The cat sat on the mat.")
    assert one.sentence_lengths == (6,) and one.syllables == 6
    assert one.reading_ease == pytest.approx(206.835 - 1.015 * 6 - 84.6 * 1)
    assert one.grade == pytest.approx(0.39 * 6 + 11.8 * 1 - 15.59)
    hard = readability("Proportionate documentation facilitates the operationalisation of organisational "
                       "accountability across multidisciplinary partnership arrangements.")
    assert hard.reading_ease < 0 < one.reading_ease - 100 and hard.grade > 18


def test_the_samples_easy_read_is_short_sentences_in_plain_words(rendered: dict) -> None:
    path = rendered["ws"] / "narrative" / "easy_read.md"
    figures = readability(spoken_text(parse_page(path.read_text(encoding="utf-8"), path)))
    lengths = figures.sentence_lengths
    # The figures, as the command prints them (and the report of this change gives them).
    print(f"\nEasy Read: {len(lengths)} sentences; {sum(n <= 15 for n in lengths)} of 15 words or fewer "
          f"({figures.share_at_most(15):.0%}); longest {max(lengths)}; mean {sum(lengths) / len(lengths):.1f}; "
          f"Flesch reading ease {figures.reading_ease:.1f}; Flesch-Kincaid grade {figures.grade:.1f}")
    assert len(lengths) >= 30
    assert figures.share_at_most(15) >= 0.9
    assert max(lengths) <= 20
    assert figures.reading_ease >= 65 and figures.grade <= 7  # plain English or easier; reading age about 12
    # The same page from the team's full narrative reads harder: the draft did simplify it.
    team = "\n".join((rendered["ws"] / "narrative" / f"{n}.md").read_text(encoding="utf-8")
                     for n in ("key_messages", "strengths", "recommendations"))
    plain_team = re.sub(r"(?m)^\s*(\d+\.|-)\s+|[*#>`_]|\(see [^)]*\)|<!--.*?-->", "", team, flags=re.S)
    before = readability(" ".join(plain_team.split()))
    print(f"The team's key messages, strengths and recommendations: {len(before.sentence_lengths)} sentences, "
          f"{before.share_at_most(15):.0%} of 15 words or fewer; reading ease {before.reading_ease:.1f}; "
          f"grade {before.grade:.1f}")
    assert before.share_at_most(15) < 0.5 and before.grade > figures.grade + 4


# --------------------------------------------------------------------------- the pages

@pytest.mark.browser
def test_the_html_page_has_a_picture_beside_every_point_large_text_and_passes_axe(rendered: dict) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    page_file = rendered["out"] / "easy-read.html"
    body = page_file.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', body)  # nothing loaded from the web
    source = rendered["ws"] / "narrative" / "easy_read.md"
    points = sum(len(p) for _, p in parse_page(source.read_text(encoding="utf-8"), source).sections)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            rows = page.eval_on_selector_all("ul.points li", "els => els.map(li => [li.querySelector('svg') !== null, "
                                             "parseFloat(getComputedStyle(li.querySelector('p')).fontSize)])")
            heading = page.eval_on_selector("h2", "h => parseFloat(getComputedStyle(h).fontSize)")
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
                "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
            letter = browser.new_page()
            letter.goto((rendered["out"] / "what-you-told-us.html").as_uri())
            letter_results = Axe().run(letter, options={"runOnly": {"type": "tag", "values": [
                "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
        finally:
            browser.close()
    assert len(rows) == points
    assert all(has_picture for has_picture, _ in rows)
    assert min(size for _, size in rows) >= 14 * 96 / 72  # at least 14 pt (in CSS pixels)
    assert heading > max(size for _, size in rows)
    assert results.violations_count == 0, results.generate_report()
    assert letter_results.violations_count == 0, letter_results.generate_report()


def test_the_pdf_holds_every_point_and_the_word_list(rendered: dict) -> None:
    source = rendered["ws"] / "narrative" / "easy_read.md"
    page = parse_page(source.read_text(encoding="utf-8"), source)
    text = " ".join(_pdf_text(rendered["out"] / "easy-read.pdf").split())
    for _, points in page.sections:
        for point in points:
            assert " ".join(point.text.split()) in text
    assert "Words we use" in text and "Principal Social Worker:" in text and "Case record:" in text
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(rendered["out"] / "easy-read.pdf")], capture_output=True, text=True).stdout).group(1))
    assert 2 <= pages <= 8


def test_the_word_file_has_large_text_a_picture_per_point_and_opens_in_libreoffice(rendered: dict,
                                                                                   tmp_path: Path) -> None:
    source = rendered["ws"] / "narrative" / "easy_read.md"
    page = parse_page(source.read_text(encoding="utf-8"), source)
    document = docx.Document(str(rendered["out"] / "easy-read.docx"))
    assert document.core_properties.title == page.title
    sizes = [r.font.size for p in document.paragraphs for r in p.runs if r.text.strip()]
    sizes += [r.font.size for t in document.tables for row in t.rows for c in row.cells for p in c.paragraphs
              for r in p.runs if r.text.strip()]
    assert sizes and min(sizes) >= Pt(14)
    headings = [p for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {p.text for p in headings} >= {h for h, _ in page.sections}
    assert all(r.font.size >= Pt(22) for p in headings for r in p.runs if r.text.strip())
    rows = [row for t in document.tables for row in t.rows]
    points = sum(len(p) for _, p in page.sections) + len(page.words)
    assert len(rows) == points
    assert all(row.cells[0]._tc.xpath(".//pic:pic") for row in rows)  # a picture in every row
    text = " ".join(_pdf_text(_soffice_pdf(rendered["out"] / "easy-read.docx", tmp_path)).split())
    assert all(" ".join(p.text.split()) in text for _, pts in page.sections for p in pts)


def test_the_letter_is_a_template_with_places_to_fill_in_and_nothing_about_a_person(rendered: dict) -> None:
    letter = (rendered["ws"] / "narrative" / "what_you_told_us.md").read_text(encoding="utf-8")
    assert letter.count("[fill in:") >= 4
    names = [n.strip() for n in (rendered["ws"] / "private" / "names.txt").read_text(encoding="utf-8").splitlines()
             if n.strip() and not n.startswith("#")]
    assert names and not any(n in letter for n in names)
    text = " ".join(_pdf_text(rendered["out"] / "what-you-told-us.pdf").split())
    assert "What you told us" in text and "[fill in: the date]" in text
    assert "Thank you for talking to us about your care and support." in text


def test_the_shipped_pictures_carry_their_licence() -> None:
    licence = (TEMPLATES / "LICENSE-bootstrap-icons.txt").read_text(encoding="utf-8")
    assert "The MIT License" in licence and "Permission is hereby granted" in licence
    assert len(PICTURES) >= 20
    assert all((TEMPLATES / "icons" / "png" / f"{name}.png").is_file() for name in PICTURES)


# --------------------------------------------------------------------------- the team's file and the gate

def test_the_teams_edits_are_kept_and_regenerate_keeps_a_copy(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    ws = build_sample_workspace(tmp_path / "eastvale").path
    out = tmp_path / "out"
    assert cli.main(["report", str(ws), "--easy-read", "--to", "html", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Drafted" in said and "Easy Read:" in said and "sentences have 15 words or fewer" in said
    path = ws / "narrative" / "easy_read.md"
    edited = path.read_text(encoding="utf-8").replace(
        "## What happens next", "## What happens next\n\n- [star] We will visit again next year to see the changes.")
    path.write_text(edited, encoding="utf-8")
    assert cli.main(["report", str(ws), "--easy-read", "--to", "html", "--out", str(out)]) == 0
    assert "Drafted" not in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == edited
    assert "We will visit again next year to see the changes." in (out / "easy-read.html").read_text(encoding="utf-8")
    assert cli.main(["report", str(ws), "--easy-read", "--regenerate", "--to", "html", "--out", str(out)]) == 0
    assert "We will visit again" not in path.read_text(encoding="utf-8")
    kept = list((ws / "backups").glob("easy_read-*.md"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == edited
    assert cli.main(["report", str(ws), "--regenerate", "--out", str(out)]) == 2  # only with --easy-read


def test_a_personal_identifier_typed_into_easy_read_is_refused_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = build_sample_workspace(tmp_path / "eastvale").path
    out = tmp_path / "out"
    render_easy_read(ws, out, ["html"])
    for made in out.glob("*.html"):
        made.unlink()
    path = ws / "narrative" / "easy_read.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("## What happens next") + 2
    lines.insert(at, f"- [heart] We spoke to the person with NHS number {CANARY_NHS} about this.")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = cli.main(["report", str(ws), "--easy-read", "--to", "html,pdf,docx", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"narrative/easy_read.md, line {at + 1}" in err and "NHS number" in err
    assert CANARY_NHS not in err
    assert not list(out.glob("easy-read.*")) and not list(out.glob("what-you-told-us.*"))
    # A name from the review's list of names is refused the same way, in the letter too.
    name = next(n.strip() for n in (ws / "private" / "names.txt").read_text(encoding="utf-8").splitlines()
                if n.strip() and not n.startswith("#"))
    path.write_text("\n".join(lines[:at] + lines[at + 1:]) + "\n", encoding="utf-8")
    letter = ws / "narrative" / "what_you_told_us.md"
    letter.write_text(letter.read_text(encoding="utf-8").replace("[fill in: the name of the person or carer]", name),
                      encoding="utf-8")
    with pytest.raises(RenderError, match=r"narrative/what_you_told_us\.md, line \d+") as refused:
        render_easy_read(ws, out, ["html"])
    assert name not in str(refused.value)
    assert not list(out.glob("*.html"))


def test_a_point_without_a_known_picture_is_named_by_line(tmp_path: Path) -> None:
    ws = build_sample_workspace(tmp_path / "eastvale").path
    render_easy_read(ws, tmp_path / "out", ["html"])
    path = ws / "narrative" / "easy_read.md"
    text = path.read_text(encoding="utf-8").replace("- [search] ", "- [magnifier] ", 1)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("- [magnifier]"))) + 1
    with pytest.raises(Exception, match=rf"easy_read\.md:{line}: there is no picture called 'magnifier'; use one of"):
        render_easy_read(ws, tmp_path / "out", ["html"])
