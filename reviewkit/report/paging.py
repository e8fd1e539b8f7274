"""Page numbers for the printed report's Contents, read back from a first print.

Chromium cannot number a contents list itself (CSS ``target-counter`` is not supported), so the
report is printed twice: the first PDF's outline says on which page each section's heading
landed, those numbers are written into the Contents (whose number boxes have the same width
in both prints, so nothing moves), and the page is printed again.

In: the report's HTML and its first PDF. Out: the HTML with the Contents' page numbers filled
in, or the HTML unchanged when the PDF's outline cannot be read.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

__all__ = ["heading_pages", "number_contents", "TOC_PAGE"]

# The empty number box after each Contents entry (html.to_html writes it).
TOC_PAGE = '<span class="toc-page" data-for="{ident}"></span>'
_TOC_PAGE = re.compile(r'<span class="toc-page" data-for="([^"]+)"></span>')
_TOC_ENTRY = re.compile(r'<a href="#([^"]+)">(.*?)</a>(?=<span class="toc-page")', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _key(text: str) -> str:
    """A heading's text as it can be matched to the outline: no tags, no white space at all
    (Chromium's outline runs together the words either side of a line break)."""
    return re.sub(r"\s+", "", html.unescape(_TAG.sub("", text)))


def heading_pages(pdf: Path) -> dict[str, int]:
    """Each outline entry's text (as ``_key`` makes it) and the page it points to, first one kept."""
    import pypdf  # start-up: read only after a PDF is printed

    try:
        reader = pypdf.PdfReader(str(pdf))
        pages: dict[str, int] = {}

        def walk(items: list[Any]) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item)
                    continue
                page = reader.get_destination_page_number(item)
                if page is not None and page >= 0:
                    pages.setdefault(_key(str(item.title or "")), page + 1)

        walk(reader.outline)
    except Exception:  # noqa: BLE001  an unreadable outline leaves the Contents without numbers
        return {}
    return pages


def number_contents(page: str, pages: dict[str, int]) -> str:
    """The report's HTML with each Contents entry's page number in its box (unknown ones left empty)."""
    if not pages:
        return page
    titles = {ident: _key(text) for ident, text in _TOC_ENTRY.findall(page)}

    def fill(m: re.Match[str]) -> str:
        number = pages.get(titles.get(m.group(1), ""))
        return m.group(0) if number is None else m.group(0).replace("></span>", f">{number}</span>")

    return _TOC_PAGE.sub(fill, page)
