"""The regional comparison rendered like the review report: HTML and PDF through the kit's
template, accessible (axe-core, WCAG 2.2 A/AA), offline, and naming no council when
pseudonymised."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from reviewkit.core.errors import RegionalError
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.region import render as rg
from reviewkit.region.sections import ComparisonReport
from reviewkit.review import bundle as bd
from reviewkit.review.bundleread import read_bundle

REGION = Path(__file__).resolve().parent.parent / "sample_data" / "region"
BUNDLES = sorted((REGION / "bundles").glob("*.zip"))
COUNCILS = ("Brackenfell", "Eastvale", "Greyhaven", "Harrowdale", "Kingsbrook", "Northmere", "Oakhollow",
            "Saltmere")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def named(tmp_path_factory):
    """The sample region, Eastvale's latest round exported on the fly from the sample workspace."""
    root = tmp_path_factory.mktemp("regional")
    ws = build_sample_workspace(root / "eastvale-2026")
    sources = [p for p in BUNDLES if p.name != "eastvale-borough-2026-10.zip"] + [ws.path]
    messages: list[str] = []
    out = rg.render_comparison(sources, root / "named", ["html", "pdf"], progress=messages.append)
    return out, messages


@pytest.fixture(scope="module")
def pseudonymised(tmp_path_factory):
    return rg.render_comparison(BUNDLES, tmp_path_factory.mktemp("regional") / "pseudo", ["html", "pdf"],
                                pseudonymise=True)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_renders_html_and_pdf_with_every_section(named):
    out, messages = named
    assert set(out) == {"html", "pdf"} and out["html"].name == "regional_comparison.html"
    html = out["html"].read_text(encoding="utf-8")
    for heading in ("1. About this comparison", "2. Councils at a glance", "3. Practice by question and council",
                    "4. Region-wide ratings", "5. Change since each council", "6. Themes across the region",
                    "7. Recommendations made"):
        assert heading in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)=["']https?:""", html), "nothing loads from the network"
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) == 3 and all(re.search(r'alt="[^"]{40,}"', i) for i in images)
    assert "Saltmere District Council" in html and "suppressed" in html
    assert "Greyhaven Borough Council" in html
    assert "higher: the change's 95% interval" in html.replace("&#x27;", "'")
    assert "not a ranking" in html and "not a league table" in html
    assert "bundle-0" not in html and "reviewkit-compare-" not in html, "no input file name or temp path"
    assert any("Running the comparison notebook" in m for m in messages)
    text = pdf_text(out["pdf"])
    assert "Regional comparison of practice reviews" in text and "Councils at a glance" in text


def test_pseudonymised_output_names_no_council(pseudonymised):
    html = pseudonymised["html"].read_text(encoding="utf-8")
    text = pdf_text(pseudonymised["pdf"])
    assert "Council A" in html and "Council H" in html and "Council A" in text
    for name in COUNCILS:
        assert name.casefold() not in html.casefold(), name
        assert name.casefold() not in text.casefold(), name
    for b in BUNDLES:
        assert b.stem not in html
    assert not re.search(r"\b20\d\d-\d\d\b", html), "rounds are shown by year only"
    assert "Recommendation headings are left out" in html


def test_national_scale_summarises_instead_of_an_unreadable_heatmap():
    spec = importlib.util.spec_from_file_location("make_region", REGION / "make_region.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    bundles = [read_bundle(bd.bundle_bytes(b), name=f"{i}.zip") for i, b in enumerate(module.make_bundles(65, 2))]
    report = ComparisonReport(rg.compare(bundles))
    section = report.by_question()
    assert section.count("<figure") == 1 and "Box plot, one row per question" in section
    assert section.count('<th scope="row">') == 65, "the table beside it still gives every council"
    changes = report.changes()
    assert changes.count("<figure") == 1 and "Scatter plot of 65 councils" in changes
    small = ComparisonReport(rg.compare(bundles[:20]))
    assert "Heatmap of the percentage" in small.by_question() and "Dot chart" in small.changes()


def test_a_notebook_error_renders_nothing(tmp_path):
    broken = tmp_path / "broken.ipynb"
    source = rg.NOTEBOOK.read_text(encoding="utf-8").replace(
        "report = ComparisonReport.load(workspace)", "report = ComparisonReport.load(workspace + '-missing')")
    broken.write_text(source, encoding="utf-8")
    with pytest.raises(Exception) as info:
        rg.render_comparison(BUNDLES[:2], tmp_path / "out", ["html"], notebook=broken)
    assert "was not rendered" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_mixed_tools_are_refused_before_any_render(tmp_path):
    import dataclasses

    other = dataclasses.replace(read_bundle(BUNDLES[0]), tool_version="2.0", council="Elsewhere Council")
    odd = tmp_path / "elsewhere.zip"
    odd.write_bytes(bd.bundle_bytes(other))
    with pytest.raises(RegionalError, match="different audit tools"):
        rg.render_comparison([*BUNDLES[:2], odd], tmp_path / "out", ["html"])
    assert not (tmp_path / "out").exists()


def _axe(html_file: Path) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(("file:", "data:")) else route.abort())
            page.goto(html_file.as_uri())
            result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG},
                                              "resultTypes": ["violations"]})
        finally:
            browser.close()
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result.response["violations"]]


@pytest.mark.browser
def test_named_comparison_has_no_axe_violations(named):
    assert _axe(named[0]["html"]) == []


@pytest.mark.browser
def test_pseudonymised_comparison_has_no_axe_violations(pseudonymised):
    assert _axe(pseudonymised["html"]) == []
