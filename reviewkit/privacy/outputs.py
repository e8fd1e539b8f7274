"""The last gate: screen each finished output (HTML, PDF, Word) as a reader gets it, before publishing.

The publish gate (``reviewkit.privacy.gate``) screens what the team wrote; this module reads what
the render made of it — the HTML's text, ``pdftotext`` of the PDF, the Word file's XML (body,
headers, footers, properties) — with the same shapes, so a conversion that joins, splits or
reveals text cannot publish what the first gate never saw. The kit's own figures (numeric
table cells, read across a row) are declared: their digits may stand side by side.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from lxml import etree

from reviewkit.core.errors import RenderError
from reviewkit.privacy.gate import KINDS, Declared, screen_blocks
from reviewkit.privacy.reader import figure_cell, html_blocks, reader_blocks

__all__ = ["screen_outputs"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PDFTOTEXT_SECONDS = 120
_PROPERTIES = {"title", "subject", "creator", "keywords", "description", "lastModifiedBy", "category"}
# Words the kit's own generated text uses that are also surnames: declared for finished outputs only.
KIT_WORDS = frozenset({"wilson"})
_HYPHENATED = re.compile(r"\b\w+(?:-\w+)+\b")


def _html_text(path: Path) -> tuple[list[str], list[str]]:
    page = path.read_text(encoding="utf-8", errors="replace")
    page = re.sub(r'src="data:[^"]*"', 'src=""', page)  # embedded charts: pictures, not text
    return html_blocks(page, declared_figures=True)


def _pdf_blocks(path: Path) -> list[str]:
    tool = shutil.which("pdftotext")
    if tool is None:
        raise RenderError("the finished PDF cannot be checked: pdftotext is missing (Debian package poppler-utils; "
                          "scripts/setup.sh installs it)")
    try:
        run = subprocess.run([tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=False,
                             timeout=_PDFTOTEXT_SECONDS)
    except subprocess.TimeoutExpired:
        raise RenderError("the finished PDF could not be checked: pdftotext did not finish") from None
    if run.returncode != 0:
        raise RenderError("the finished PDF could not be read back to check it (pdftotext failed)")
    text = run.stdout.decode("utf-8", errors="replace").replace("\f", "\n\n")
    return reader_blocks(text, "plain")


def _docx_blocks(path: Path) -> list[str]:
    """Paragraphs, table rows (read across) and cells of every XML part a Word reader shows."""
    blocks: list[str] = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if re.fullmatch(
            r"word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml|docProps/core\.xml", n)]
        for name in parts:
            root = etree.fromstring(z.read(name), parser)
            if name.startswith("docProps/"):  # what a reader sees in File > Properties (not its dates)
                blocks += [el.text or "" for el in root if etree.QName(el).localname in _PROPERTIES]
                continue
            for el in root.iter(f"{_W}p", f"{_W}tr"):
                if el.tag == f"{_W}tr":
                    cells = ["".join(t.text or "" for t in tc.iter(f"{_W}t")) for tc in el.iter(f"{_W}tc")]
                    blocks += [*cells, " ".join(c for c in cells if not figure_cell(c))]
                else:
                    blocks.append("".join(t.text or "" for t in el.iter(f"{_W}t")))
    return reader_blocks("\n\n".join(b.replace("\n", " ") for b in blocks if b.strip()), "plain")


def screen_outputs(files: dict[str, Path], declared: Declared) -> list[str]:
    """Findings in each finished output, as "report.pdf: a title and a name (1)"; no values.

    The HTML is read first: its numeric table cells are the kit's own figures, declared for
    the PDF and Word files made from it.
    """
    figures: list[str] = []
    readings: dict[str, list[str]] = {}
    if "html" in files:
        blocks, figures = _html_text(files["html"])
        readings["html"] = [b for b in (" ".join(x.split()) for x in blocks) if b]
    # A PDF reader joins a word broken at its hyphen at a line end ("Strengths-" + "based" ->
    # "Strengthsbased"): the joined form of a word the page itself holds is not new text.
    joined = {h.replace("-", "").casefold() for b in readings.get("html", []) for h in _HYPHENATED.findall(b)}
    declared = dataclasses.replace(declared, words=declared.words | KIT_WORDS | joined,
                                   figures=frozenset({"".join(figures), *figures}))
    if "pdf" in files:
        readings["pdf"] = _pdf_blocks(files["pdf"])
    if "docx" in files:
        readings["docx"] = _docx_blocks(files["docx"])
    out: list[str] = []
    for fmt, blocks in readings.items():
        counts: dict[str, int] = {}
        for _, f in screen_blocks(blocks, declared):
            counts[f.kind] = counts.get(f.kind, 0) + 1
        if counts:
            what = "; ".join(f"{KINDS[k].split(' (')[0]} ({n})" for k, n in counts.items())
            out.append(f"{files[fmt].name}: {what}")
    return out
