"""HTML pieces of the report: escaped text, tables with captions, the team's Markdown, sections.

Every part of the report (its sections, the findings, the regional comparison, the annex)
builds its HTML from these, so escaping and the Markdown rules live in one place.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import mistune
import pandas as pd

__all__ = ["PLACEHOLDER", "bullets", "esc", "html_table", "link_recommendations", "markdown_html",
           "number_list_items", "para", "quote", "section", "show", "sub_outside_links"]

PLACEHOLDER = "[Draft: the review team has not yet written this section]"


def esc(value: Any) -> str:
    """Text escaped for HTML content and attributes."""
    return html.escape(str(value), quote=True)


def show(section_html: str) -> None:
    """Display a section in the notebook (and so in the rendered report)."""
    from IPython.display import HTML, display  # start-up: IPython is there only inside a kernel

    display(HTML(section_html))


# --------------------------------------------------------------------------- HTML helpers

def html_table(df: pd.DataFrame, caption: str, *, row_headers: bool = True,
               numeric: Sequence[str] = (), css_class: str = "") -> str:
    """A table with a caption and header cells (``th scope``), escaped, from a DataFrame.

    The first column is a row header when ``row_headers``; columns named in ``numeric`` are
    right-aligned.
    """
    cls = f' class="{esc(css_class)}"' if css_class else ""
    head = "".join(f'<th scope="col"{_num(c, numeric)}>{esc(c)}</th>' for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for i, (col, value) in enumerate(zip(df.columns, row)):
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else esc(value)
            if i == 0 and row_headers:
                cells.append(f'<th scope="row">{text}</th>')
            elif col in numeric:  # a count stays with its share when a narrow column wraps: "11 (55.0%)"
                cells.append(f'<td class="num">{_COUNT_SHARE.sub("&nbsp;(", text)}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f"<table{cls}><caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


_COUNT_SHARE = re.compile(r"(?<=\d) \(")  # "11 (55.0%)": the space between a count and its share


def _num(col: Any, numeric: Sequence[str]) -> str:
    return ' class="num"' if col in numeric else ""


class _Renderer(mistune.HTMLRenderer):
    """Narrative headings sit under the section's own heading: '#' becomes h3."""

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        level = min(level + 2, 6)
        return f"<h{level}>{text}</h{level}>\n"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        # A narrative cannot pull in files: the report is self-contained and every image it
        # shows is a chart with alt text, so an image in the Markdown shows its alt text only.
        return text


_MARKDOWN = mistune.create_markdown(escape=True, renderer=_Renderer(escape=True),
                                    plugins=["strikethrough", "table"])
_REC_LINK = re.compile(r"\b([Rr]ecommendations?)\s+(\d+)\b")
_TAG = re.compile(r"(<[^>]+>)")


def markdown_html(text: str, *, recommendations: int = 0) -> str:
    """Narrative Markdown as HTML (raw HTML escaped); 'Recommendation 3' links to #rec-3."""
    out = str(_MARKDOWN(text))
    return link_recommendations(out, recommendations) if recommendations else out


def sub_outside_links(fragment: str, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> str:
    """``pattern.sub(repl, …)`` over the text of an HTML fragment, never inside tags or existing links."""
    parts = _TAG.split(fragment)
    in_link = 0
    for i, part in enumerate(parts):
        if part.startswith("<"):
            low = part.lower()
            in_link += low.startswith("<a ") or low == "<a>"
            in_link -= low.startswith("</a")
        elif not in_link:
            parts[i] = pattern.sub(repl, part)
    return "".join(parts)


def link_recommendations(fragment: str, count: int) -> str:
    """Link 'Recommendation N' in text (never inside tags or existing links) to #rec-N."""

    def repl(m: re.Match[str]) -> str:
        n = int(m.group(2))
        if not 1 <= n <= count:
            return m.group(0)
        return f'<a href="#rec-{n}">{m.group(1)} {n}</a>'

    return sub_outside_links(fragment, _REC_LINK, repl)


_LIST_TAG = re.compile(r"<(/?)(ol|ul|li)\b([^>]*)>")


def number_list_items(fragment: str, prefix: str = "rec") -> tuple[str, int]:
    """Make the first top-level list an ordered list whose items have ids prefix-1, prefix-2…"""
    out, pos, depth, found, n, done = [], 0, 0, False, 0, False
    for m in _LIST_TAG.finditer(fragment):
        closing, tag = m.group(1) == "/", m.group(2)
        out.append(fragment[pos:m.start()])
        pos = m.end()
        text = m.group(0)
        if tag in ("ol", "ul"):
            if not closing:
                if depth == 0 and not found and not done:
                    found = True
                    text = f'<ol class="recommendations"{m.group(3)}>'
                depth += 1
            else:
                depth -= 1
                if depth == 0 and found and not done:
                    text, done = "</ol>", True
        elif tag == "li" and not closing and found and not done and depth == 1:
            n += 1
            text = f'<li id="{prefix}-{n}"{m.group(3)}>'
        out.append(text)
    out.append(fragment[pos:])
    return "".join(out), n


def section(number: int | None, title: str, ident: str, body: Iterable[str], *, flow: bool = False,
            new_page: bool = False) -> str:
    """A numbered section; printed straight after the one before (``flow`` says it is a short closing
    one), or on a new page when ``new_page`` (an appendix)."""
    label = f"{number}. {title}" if number is not None else title
    cls = "section-heading" + (" flow" if flow else "") + (" new-page" if new_page else "")
    return f'<h2 id="{ident}" class="{cls}">{esc(label)}</h2>' + "".join(body)


def para(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def bullets(items: Iterable[str], cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<ul{c}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def quote(text: str, attribution: str) -> str:
    body = text.strip().strip("\"“”'‘’").strip()
    return (f'<blockquote class="quote"><p>“{esc(body)}”</p>'
            f'<p class="attribution">{esc(attribution)}</p></blockquote>')
