"""The report pipeline end to end: the sample review rendered to HTML, PDF and Word.

Rendering runs a real kernel, Chromium and pandoc, so the sample is built and rendered once
per module and every check reads those files; only the scenarios that need their own input
(a stub narrative, a broken notebook, a canary NHS number) render again.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import docx
import docx.text.paragraph
import nbformat
import pypdf
import pytest
from docx.oxml.ns import qn

from reviewkit import cli
from reviewkit.core.errors import RenderError
from reviewkit.figures import analysis as an
from reviewkit.figures import sentences as nv
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.printer import find_chromium
from reviewkit.report.render import render_report
from reviewkit.report.sections import PLACEHOLDER, ReportBuilder
from reviewkit.review.ratings import RatingInput

pytestmark = pytest.mark.slow

CANARY_NAME = "Zebediah Quokkafeather"
CANARY_NHS = "999 000 0018"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RENDER_DATE = re.compile(r'(<time class="render-date")[^>]*>[^<]*(</time>)')


def _copy_workspace(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".cache"))
    return dest


def _text(html: str) -> str:
    """Visible text of an HTML page with whitespace collapsed."""
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The sample review with two unpublished canaries, rendered final to all three formats."""
    root = tmp_path_factory.mktemp("report")
    ws = build_sample_workspace(root / "eastvale")
    with ws.store() as store:
        case = ws.meta.cases[0]
        old = store.rating(case.id, case.reviewer, "q1")
        store.set_rating("test", RatingInput(case.id, case.reviewer, "q1", old.rating if old else "Good",
                                             f"Evidence note naming {CANARY_NAME} (never published)"))
        meeting_id = int(store.meetings()["id"].iloc[0])
        store.add_note("test", f"Unpublished note about {CANARY_NAME}", meeting_id=meeting_id, kind="quote",
                       speaker_role="practitioner", use_in_report=False)
        comments = [c for c in store.all_ratings()["comment"] if isinstance(c, str) and len(c) > 30]
    messages: list[str] = []
    out = root / "out"
    result = render_report(ws.path, out, ("html", "pdf", "docx"), final=True, progress=messages.append)
    return {"ws": ws, "root": root, "out": out, "result": result, "messages": messages,
            "html": (out / "report.html").read_text(encoding="utf-8"), "comments": comments}


@pytest.fixture(scope="module")
def builder(sample: dict) -> ReportBuilder:
    """The same figures, computed in this process, to check the outputs against."""
    return ReportBuilder.load(sample["ws"].path)


@pytest.fixture(scope="module")
def pdf_text(sample: dict) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(sample["out"] / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


# --------------------------------------------------------------------------- outputs exist

def test_renders_all_three_formats_and_nothing_else(sample: dict) -> None:
    result = sample["result"]
    assert set(result) == {"html", "pdf", "docx"}
    assert not result.cached
    assert sorted(p.name for p in sample["out"].iterdir()) == ["report.docx", "report.html", "report.pdf"]
    assert (sample["out"] / "report.pdf").read_bytes().startswith(b"%PDF")
    assert any("Running the report notebook" in m for m in sample["messages"])


# --------------------------------------------------------------------------- HTML

def test_html_has_no_script_code_or_prompts(sample: dict) -> None:
    html = sample["html"]
    assert "<script" not in html.lower()
    assert 'src="http' not in html and "href=\"http" not in html.split("<main")[0]
    for code in ("ReportBuilder", "show(report", "import ", "In&nbsp;[", "jp-InputArea", "Out["):
        assert code not in html
    assert "No description has been provided" not in html
    assert "application/vnd.jupyter.widget" not in html


def test_html_is_one_self_contained_accessible_page(sample: dict) -> None:
    html = sample["html"]
    assert '<html lang="en-GB">' in html
    assert '<main id="main"' in html and 'href="#main"' in html
    assert html.count("<main") == 1
    assert "<link " not in html  # CSS is inline, images are data URIs
    imgs = re.findall(r"<img\b[^>]*>", html)
    assert len(imgs) >= 15  # themes, overall, overview and one per question
    for img in imgs:
        assert 'src="data:image/png;base64,' in img
        alt = re.search(r'alt="([^"]*)"', img)
        assert alt and alt.group(1).strip() and re.search(r"\d", alt.group(1)), img[:200]


def test_every_table_has_a_caption_and_header_cells(sample: dict) -> None:
    tables = re.findall(r"<table\b.*?</table>", sample["html"], flags=re.DOTALL)
    assert len(tables) >= 17
    for table in tables:
        assert "<caption>" in table
        assert '<th scope="col"' in table


def test_html_has_cover_contents_and_sections_in_programme_order(sample: dict) -> None:
    html, meta = sample["html"], sample["ws"].meta
    text = _text(html)
    assert meta.council in text and meta.theme in text and meta.programme in text
    for member in meta.team:
        assert f"{member.name}" in text and member.council in text
    assert "DRAFT" not in text  # a final render
    order = ["introduction", "previous-review", "meetings", "data-analysis", "case-records",
             "observations", "strengths", "recommendations", "signatories"]
    positions = [html.index(f'id="{ident}"') for ident in order]
    assert positions == sorted(positions)
    toc = html[html.index('<nav class="toc"') if '<nav class="toc"' in html else html.index("<nav"):
               html.index("</nav>")]
    for ident in order:
        assert f'href="#{ident}"' in toc


def test_recommendations_are_numbered_and_findings_link_to_them(sample: dict) -> None:
    html = sample["html"]
    recs = re.findall(r'<li id="rec-(\d+)"', html)
    assert recs == [str(i) for i in range(1, len(recs) + 1)] and len(recs) >= 3
    assert re.search(r'<a href="#rec-\d+">Recommendation \d+</a>', html)


def test_figures_in_the_html_are_computed_from_the_data(sample: dict, builder: ReportBuilder) -> None:
    text = _text(sample["html"])
    share = an.share_good_or_better(builder.primary, builder.scale, question=builder.tool.overall.id)
    assert nv.headline_sentence(share) in text
    assert nv.pooled_sentence(builder.pooled, builder.counts["cases"], len(builder.tool.questions)) in text
    assert nv.method_sentence(builder.counts) in text
    for row in builder.pooled.itertuples():
        assert row.display in text


def test_quotes_are_attributed_by_role_or_label_only(sample: dict, builder: ReportBuilder) -> None:
    html = sample["html"]
    attributions = re.findall(r'<p class="attribution">— ([^<]+)</p>', html)
    # Each quote is printed once: where the team's narrative quotes it, there only.
    shown = len(re.findall(r'<blockquote class="quote">', html))
    assert len(attributions) == shown
    marked = builder.data.notes[builder.data.notes["use_in_report"].astype(bool)
                                & (builder.data.notes["kind"] == "quote")]["text"]
    assert len(marked) and shown == sum(not builder.quoted_in_narrative(str(t)) for t in marked)
    allowed = re.compile(r"^(a|an) [a-z ]+$|^(Person|Carer|Relative|Person and relative) \d+$")
    assert all(allowed.match(a) for a in attributions), attributions
    staff = [m.name for m in builder.meta.team]
    for name in staff:
        assert name not in " ".join(attributions)


def test_unpublished_text_never_reaches_any_output(sample: dict) -> None:
    docx_xml = zipfile.ZipFile(sample["out"] / "report.docx").read("word/document.xml").decode()
    pdf = " ".join(page.extract_text() for page in pypdf.PdfReader(sample["out"] / "report.pdf").pages)
    outputs = {"html": sample["html"], "docx": docx_xml, "pdf": " ".join(pdf.split())}
    for where, text in outputs.items():
        assert CANARY_NAME not in text, where
        for comment in sample["comments"]:  # raw evidence comments are never rendered
            assert comment not in text, where


def test_no_papermill_or_parameter_traces_in_outputs(sample: dict) -> None:
    docx_xml = zipfile.ZipFile(sample["out"] / "report.docx").read("word/document.xml").decode()
    for text in (sample["html"], docx_xml):
        assert "papermill" not in text and "injected-parameters" not in text
        assert str(sample["ws"].path) not in text
    assert not list(sample["out"].glob("*.ipynb"))


# --------------------------------------------------------------------------- PDF and Word

# CQC's rating words used as a verdict on the council or its practice (never in generated text). A reviewer's
# rating of a case record ("judged Outstanding or Good", "rated Outstanding or Good") is not a verdict.
_RATING = r"(?:outstanding|good|requires improvement|inadequate)"
_SUBJECT = r"(?:practice|council|local authority|authority|services?|adult social care|social care|eastvale)"
VERDICTS = (
    re.compile(_SUBJECT + r"(?:\s+[\w’'-]+){0,4}?\s+(?:is|was|are|were|remains|has been|have been)\s+"
               r"(?:rated\s+|judged\s+|assessed\s+as\s+|found\s+to\s+be\s+)?(?:an?\s+)?" + _RATING + r"\b", re.I),
    re.compile(_SUBJECT + r"(?:\s+[\w’'-]+){0,3}?\s+requires\s+improvement\b", re.I),
    re.compile(r"\b(?:an?|the)\s+" + _RATING + r"\s+(?:council|local authority|authority|service)\b", re.I),
    re.compile(r"\b(?:overall|cqc)\s+(?:rating|grade|verdict)\s+(?:of|is|was)\b", re.I),
)


def generated_text(page: str) -> str:
    """The report's visible text without what the team wrote or chose (narrative, quotes, typed answers)."""
    import lxml.html

    root = lxml.html.fromstring(page)
    for el in root.xpath('//style|//script|//*[contains(concat(" ", normalize-space(@class), " "), " narrative ")]'
                         '|//blockquote|//*[contains(concat(" ", normalize-space(@class), " "), " quote ")]'):
        el.getparent().remove(el)
    return " ".join(root.text_content().split())


def verdicts(text: str) -> list[str]:
    return [m.group(0) for pattern in VERDICTS for m in pattern.finditer(text)]


@pytest.mark.parametrize(("text", "found"), [
    ("Taking all of this into account, adult social care practice in Eastvale is good.", True),
    ("Eastvale is an outstanding council", True), ("The council requires improvement in recording.", True),
    ("Practice was judged Inadequate.", True), ("The overall rating is Good.", True),
    ("18 of the 20 case records (90.0%) were judged Outstanding or Good", False),
    ("the share of a question’s ratings that reviewers rated Outstanding or Good", False),
    ("against the descriptors of good practice in the tool", False),
])
def test_the_verdict_scan_tells_a_verdict_from_a_rating_of_a_record(text: str, found: bool) -> None:
    assert bool(verdicts(text)) is found


def test_generated_text_never_gives_the_council_a_cqc_rating(sample: dict) -> None:
    text = generated_text(sample["html"])
    assert "A peer review is not a CQC assessment" in text  # the scan reads the generated sections
    assert verdicts(text) == []
    key = text.split("The review at a glance")[1].split("The review team’s key messages")[0]
    assert "This peer review is not a CQC assessment and does not grade the council" in key


def test_pdf_text_holds_the_headline_figures(pdf_text: str, builder: ReportBuilder) -> None:
    share = an.share_good_or_better(builder.primary, builder.scale, question=builder.tool.overall.id)
    assert nv.headline_sentence(share) in pdf_text
    for row in builder.overall.itertuples():
        assert row.display in pdf_text
    assert f"{builder.pooled.attrs['scored']} questions rated across {builder.counts['cases']} case records" in pdf_text


def test_pdf_is_tagged_a4_with_an_outline(sample: dict) -> None:
    reader = pypdf.PdfReader(sample["out"] / "report.pdf")
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    titles = [item["/Title"] for item in reader.outline if isinstance(item, dict)]
    assert titles
    assert len(reader.pages) > 10


def test_docx_keeps_headings_tables_captions_and_alt_text(sample: dict, builder: ReportBuilder) -> None:
    document = docx.Document(str(sample["out"] / "report.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    for title in ("1. Introduction", "4. What the case records showed",
                  "Appendix A: the figures in full",
                  "8. Recommendations for practice improvement", "Signatories"):
        assert title in headings
    assert document.paragraphs[0].style.name == "Title"
    assert len(document.tables) >= 17
    pooled = next(t for t in document.tables if t.rows[1].cells[0].text == builder.pooled["level"].iloc[0]
                  and "confidence" in t.rows[0].cells[-1].text)
    assert [r.cells[1].text for r in pooled.rows[1:]] == list(builder.pooled["display"])
    xml = zipfile.ZipFile(sample["out"] / "report.docx").read("word/document.xml").decode()
    assert xml.count("<w:tblCaption") == len(document.tables)
    descr = re.findall(r'<wp:docPr [^>]*descr="([^"]+)"', xml)
    assert len(descr) >= 15 and all(re.search(r"\d", d) for d in descr)
    assert round(document.sections[0].page_width.mm) == 210
    assert not any("DRAFT" in p.text for s in document.sections for p in s.header.paragraphs)  # final: unmarked
    # The contents list is plain lines (inside Word's contents field): the headings carry their
    # numbers ("1. 1. Introduction" is wrong).
    every = [docx.text.paragraph.Paragraph(p, document) for p in document.element.body.iter(qn("w:p"))]
    contents = [p for p in every if p.text == "1. Introduction" and p.style.name != "Heading 1"]
    assert len(contents) == 1
    assert contents[0]._p.pPr is None or contents[0]._p.pPr.numPr is None


# --------------------------------------------------------------------------- cache, determinism

def test_second_render_with_unchanged_inputs_reuses_the_cache(sample: dict, tmp_path: Path) -> None:
    messages: list[str] = []
    result = render_report(sample["ws"].path, tmp_path, ("html", "pdf", "docx"), final=True,
                           progress=messages.append)
    assert result.cached
    assert not any("Running the report notebook" in m for m in messages)
    for fmt in ("html", "pdf", "docx"):
        assert (tmp_path / f"report.{fmt}").read_bytes() == (sample["out"] / f"report.{fmt}").read_bytes()


def test_same_workspace_renders_the_same_html(sample: dict, tmp_path: Path) -> None:
    again = render_report(sample["ws"].path, tmp_path, ("html",), final=True, use_cache=False,
                          keep_notebook=True)
    assert not again.cached
    first = RENDER_DATE.sub(r"\1\2", sample["html"])
    second = RENDER_DATE.sub(r"\1\2", (tmp_path / "report.html").read_text(encoding="utf-8"))
    assert first == second
    nb = nbformat.read(str(again.notebook), as_version=4)  # kept on request, without papermill's traces
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata
    assert all("papermill" not in c.metadata for c in nb.cells)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert str(sample["ws"].path) not in nbformat.writes(nb)


# --------------------------------------------------------------------------- drafts and errors

def test_unwritten_narrative_is_a_placeholder_in_a_draft_and_an_error_when_final(
        sample: dict, tmp_path: Path) -> None:
    ws = _copy_workspace(sample["ws"].path, tmp_path / "ws")
    (ws / "narrative" / "observations.md").write_text("<!-- Observations: write this. -->\n", encoding="utf-8")
    (ws / "narrative" / "strengths.md").unlink()
    with pytest.raises(RenderError) as err:
        render_report(ws, tmp_path / "final", ("html",), final=True)
    assert "narrative/observations.md" in str(err.value) and "narrative/strengths.md" in str(err.value)
    assert not (tmp_path / "final").exists()
    render_report(ws, tmp_path / "draft", ("html",))
    html = (tmp_path / "draft" / "report.html").read_text(encoding="utf-8")
    assert _text(html).count(PLACEHOLDER) == 2
    assert "DRAFT" in _text(html)


def _notebook(path: Path, *cells: str, params: str = 'workspace = ""') -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(src) for src in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


def test_a_failed_run_is_not_rendered_and_the_error_names_the_cell(
        sample: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = _notebook(tmp_path / "broken_report.ipynb",
                   "# 1. A section that works\nx = 1",
                   f"# 2. A section that fails\nsecret = '{CANARY_NAME}'\nraise ValueError(secret)")
    ipython, temp = tmp_path / "user-ipython", tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("IPYTHONDIR", str(ipython))  # where a careless kernel would keep its history
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stale = tmp_path / "jupyter" / "kernels" / "python3"  # a stale user kernelspec must not shadow ours
    stale.mkdir(parents=True)
    (stale / "kernel.json").write_text(json.dumps({"argv": ["/no/such/python", "-m", "ipykernel_launcher", "-f",
                                                            "{connection_file}"],
                                                   "display_name": "stale", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    with pytest.raises(RenderError) as err:
        render_report(sample["ws"].path, tmp_path / "out", ("html", "pdf"), notebook=nb, use_cache=False)
    message = str(err.value)
    assert "cell 3" in message and "# 2. A section that fails" in message and "ValueError" in message
    assert CANARY_NAME not in message  # the exception's message could hold personal data
    assert not (tmp_path / "out").exists()
    assert not ipython.exists()  # the kernel had its own IPYTHONDIR, with history off
    assert list(temp.iterdir()) == []  # the working folder (kernel files, IPython dir) is gone


def test_a_reviewkit_error_in_the_notebook_shows_its_safe_message(sample: dict, tmp_path: Path) -> None:
    ws = _copy_workspace(sample["ws"].path, tmp_path / "ws")
    path = ws / "narrative" / "observations.md"
    path.write_text(path.read_text(encoding="utf-8") + f"\nThe person's NHS number is {CANARY_NHS}.\n",
                    encoding="utf-8")
    with pytest.raises(RenderError) as err:
        render_report(ws, tmp_path / "out", ("html",))
    message = str(err.value)
    assert "not rendered" in message and "narrative/observations.md" in message and "NHS number" in message
    assert CANARY_NHS not in message and CANARY_NHS.replace(" ", "") not in message
    assert not (tmp_path / "out").exists()


def test_a_notebook_with_other_parameters_is_refused(sample: dict, tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "extra_parameter.ipynb", "x = 1", params='workspace = ""\nsecret = ""')
    with pytest.raises(RenderError, match="exactly workspace"):
        render_report(sample["ws"].path, tmp_path / "out", notebook=nb, use_cache=False)


def test_missing_chromium_says_how_to_install_it(sample: dict, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWKIT_CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert find_chromium() is None
    with pytest.raises(RenderError, match="apt-get install -y chromium"):
        render_report(sample["ws"].path, tmp_path / "out", ("html", "pdf"))
    assert not (tmp_path / "out").exists()


def test_unknown_format_is_refused(sample: dict, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="unknown output format 'odt'"):
        render_report(sample["ws"].path, tmp_path, ("html", "odt"))


# --------------------------------------------------------------------------- CLI

def test_cli_report_reuses_the_render_and_exits_1_on_a_render_error(
        sample: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(sample["ws"].path), "--to", "html,pdf", "--out", str(tmp_path), "--final"]) == 0
    captured = capsys.readouterr()
    assert "reused the last render" in captured.out and "Checking the workspace" in captured.err
    assert (tmp_path / "report.pdf").is_file()
    assert cli.main(["report", str(sample["ws"].path), "--to", "odt", "--out", str(tmp_path)]) == 1
    assert "unknown output format" in capsys.readouterr().err


def test_final_sample_report_has_one_change_lists_and_a_true_footer(sample: dict) -> None:
    text = _text(sample["html"])
    assert "One change or improvement" in text
    assert "Practitioners were asked to identify one change or improvement" in text
    assert "Managers were also asked to identify one change or improvement" in text
    assert "Supervision that is protected and not cancelled when the team is busy." in text
    assert "A higher delegated funding limit" not in text  # not marked for the report
    assert "none is typed by hand" not in text
    assert "Produced with reviewkit" not in text  # the software credit is off unless review.yaml asks for it
    assert "DATA INCOMPLETE" not in text and "What is still missing" not in text  # complete: no banner


# --------------------------------------------------------------------------- accessibility

@pytest.mark.browser
def test_axe_finds_no_wcag_22_aa_violations(sample: dict) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto((sample["out"] / "report.html").as_uri())
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        finally:
            browser.close()
    assert results.violations_count == 0, results.generate_report()
