"""What a reader reads: Markdown, HTML or plain text in, blocks of reader text out.

The publish gate (``reviewkit.privacy.gate``) and the output gate (``reviewkit.privacy.outputs``)
screen the words a reader sees, not the markup: ``reader_blocks`` renders Markdown, walks HTML
(paragraphs, table rows read across and cell by cell, link targets) and normalises each block
(NFKC, invisible characters gone, look-alike letters folded), so no shape hides in markup.
``html_blocks`` also returns the kit's figure rows, which a finished output declares.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import mistune
from lxml import etree
from lxml import html as lxml_html

from reviewkit.privacy import screening as privacy

__all__ = ["figure_cell", "html_blocks", "reader_blocks", "reader_text"]

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")
_SPACES = re.compile(r"[^\S\n]+")
_MARKDOWN = mistune.create_markdown(escape=False, plugins=["strikethrough", "table", "url"])
_BLOCK_TAGS = frozenset("""address article aside blockquote body caption dd details dialog div dl dt fieldset
figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table
tbody thead tfoot tr ul""".split())
_SKIP_TAGS = frozenset({"script", "style", "template", "head", "title", "noscript"})
# A cell that is one of the kit's figures: a count or share, an interval, "10 (83.3%)".
_FIGURE_CELL = re.compile(r"\s*[-–—]?\s*\d{1,4}(?:[.,]\d+)?\s*%?\s*(?:(?:to|–|-)\s*\d{1,4}(?:[.,]\d+)?\s*%?"
                          r"|\(\s*\d{1,3}(?:[.,]\d+)?\s*%\s*\))?\s*")


def figure_cell(text: str) -> bool:
    """True for a table cell that is one of the kit's figures ("12", "83.3%", "10 (83.3%)", "70% to 97%")."""
    return bool(_FIGURE_CELL.fullmatch(text))


def _clean(text: str) -> str:
    """NFKC, invisible characters gone, look-alike letters folded, spaces collapsed (lines kept)."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = _INVISIBLE.sub("", text).translate(privacy.CONFUSABLES)
    return _SPACES.sub(" ", text)


@dataclass
class _Walk:
    """Blocks of reader text from an HTML tree: paragraphs, table rows and cells, link targets."""

    declared_figures: bool
    blocks: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # digit strings of figure rows (kit tables)
    current: list[str] = field(default_factory=list)

    def flush(self) -> None:
        text = "".join(self.current)
        if text.strip():
            self.blocks.append(text)
        self.current = []

    def inline(self, el: etree._Element) -> str:
        """An element's text as read, tags gone; links' targets become blocks of their own."""
        parts: list[str] = [el.text or ""]
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _SKIP_TAGS or not tag:
                parts.append(child.tail or "")
                continue
            if tag == "br":
                parts.append(" ")
            elif tag == "img":
                parts.append(child.get("alt") or "")
            else:
                parts.append(self.inline(child))
                if tag in _BLOCK_TAGS or tag in ("td", "th"):
                    parts.append(" ")
            parts.append(child.tail or "")
        for attr in ("href", "src", "title", "alt", "aria-label"):
            value = el.get(attr)
            if value and not value.startswith("#") and not value.startswith("data:") and el.tag != "img":
                self.blocks.append(value)
        return "".join(parts)

    def table_row(self, tr: etree._Element) -> None:
        """A row read across (every typed cell joined) and each cell alone; kit figures apart."""
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        texts = [self.inline(c) for c in cells]
        joined: list[str] = []
        run: list[str] = []
        for cell, text in zip(cells, texts):
            self.blocks.append(text)
            figure = self.declared_figures and "num" in (cell.get("class") or "").split()
            if figure or (self.declared_figures and _FIGURE_CELL.fullmatch(text)):
                run.append(re.sub(r"\D", "", text))
                continue
            if run:
                self.figures.append("".join(run))
                run = []
            joined.append(text)
        if run:
            self.figures.append("".join(run))
        self.blocks.append(" ".join(joined))

    def walk(self, el: etree._Element) -> None:
        # A comment's tag is not a string: its text is read too (the report escapes raw HTML, so
        # a comment typed in the narrative prints as written).
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS:
            return
        if tag == "tr":
            self.flush()
            self.table_row(el)
            return
        if tag in _BLOCK_TAGS or tag in ("body", "html", "div", ""):
            has_block = any(isinstance(c.tag, str) and (c.tag in _BLOCK_TAGS or c.tag == "tr") for c in el)
            if not has_block:
                self.flush()
                self.current.append(self.inline(el))
                self.flush()
                return
            self.flush()
            self.current.append(el.text or "")
            for child in el:
                ctag = child.tag if isinstance(child.tag, str) else ""
                if ctag in _SKIP_TAGS or not ctag:
                    self.current.append(child.tail or "")
                    continue
                if ctag in _BLOCK_TAGS or ctag == "tr":
                    self.walk(child)
                    self.flush()
                elif ctag == "br":
                    self.current.append(" ")
                elif ctag == "img":
                    self.current.append(child.get("alt") or "")
                else:
                    self.current.append(self.inline(child))
                self.current.append(child.tail or "")
            self.flush()
            return
        self.current.append(self.inline(el))


def html_blocks(page: str, *, declared_figures: bool = False) -> tuple[list[str], list[str]]:
    """Blocks of an HTML page or fragment as a reader reads them, and the kit's figure rows."""
    walk = _Walk(declared_figures)
    if page.strip():
        try:
            root = lxml_html.fragment_fromstring(page, create_parent="div") if not re.match(
                r"\s*(?:<!DOCTYPE|<html)", page, re.I) else lxml_html.document_fromstring(page)
        except (etree.ParserError, ValueError):
            root = None
        if root is None:
            walk.blocks.append(page)
        else:
            walk.walk(root)
            walk.flush()
    return walk.blocks, walk.figures


def reader_blocks(source: str, markup: str = "markdown", *, declared_figures: bool = False) -> list[str]:
    """The text a reader reads, as blocks (paragraphs, list items, table rows and cells, links).

    ``markup``: "markdown" (rendered, escapes resolved, raw HTML read as HTML), "html" or
    "plain" (printed as typed). Each block is NFKC-normalised, invisible characters removed and
    whitespace collapsed; a block never holds a paragraph break, so no shape runs across two.
    """
    if markup == "plain":
        blocks = [b for b in re.split(r"\n[ \t]*\n", source) if b.strip()]
    else:
        page = str(_MARKDOWN(source)) if markup == "markdown" else source
        blocks, _ = html_blocks(page, declared_figures=declared_figures)
    return [t for t in (_clean(b.replace("\n", " ")).strip() for b in blocks) if t]


def reader_text(source: str, markup: str = "markdown") -> str:
    """The words a reader reads, one block a line (see ``reader_blocks``)."""
    return "\n".join(reader_blocks(source, markup))
