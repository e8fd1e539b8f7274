"""The executed notebook as one HTML page, with nbconvert and the kit's template.

In: the executed notebook and the render context (cover, draft marks). Out: report.html's text.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from typing import Any

from reviewkit.core.errors import RenderError
from reviewkit.report.inputs import TEMPLATE_DIRS, TEMPLATE_NAME, files_under
from reviewkit.report.paging import TOC_PAGE

# --------------------------------------------------------------------------- HTML

_H2 = re.compile(r"<h2\b([^>]*)>(.*?)</h2>", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_CELL_ID = re.compile(r'\s+id="cell-id=[^"]*"')
_TOC_MARK = "<!-- reviewkit:toc -->"


def css_text(value: str) -> str:
    """Text safe inside a CSS string in a <style> element."""
    return re.sub(r'["\\<>\n\r]', "", value)


_EXPORTER: tuple[Any, Any] = (None, None)  # (the template files' stamp, the exporter made from them)
_EXPORTER_LOCK = threading.Lock()


def _exporter() -> Any:
    """The kit's HTML exporter, made once per process so its templates compile once (0.08 s of
    every render otherwise), and made again if a template file has changed since."""
    global _EXPORTER
    with without_iri_grammars():
        from nbconvert import HTMLExporter  # start-up: nbconvert loads only for a render

    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files_under(TEMPLATE_DIRS))
    if _EXPORTER[0] != stamp:
        _EXPORTER = (stamp, HTMLExporter(
            template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIRS)],
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True))
    return _EXPORTER[1]


def warm_exporter() -> None:
    """Import nbconvert, compile the templates and make the page's style sheet while the
    kernel runs the notebook (this process only waits then), by converting an empty notebook:
    the real conversion afterwards starts at once."""
    with contextlib.suppress(Exception), _EXPORTER_LOCK:  # to_html reports any problem itself
        import nbformat  # start-up: nbformat loads only for a render

        _exporter().from_notebook_node(nbformat.v4.new_notebook(), resources={"reviewkit": {}})


def to_html(nb: Any, context: dict[str, Any]) -> str:
    """The executed notebook as the kit's HTML: template, contents list, stable ids."""
    with _EXPORTER_LOCK:  # one conversion at a time through the shared exporter
        body, _ = _exporter().from_notebook_node(nb, resources={"reviewkit": context})
    body = _CELL_ID.sub("", body)
    entries = []
    for m in _H2.finditer(body):
        ident = _ID.search(m.group(1))
        if ident and "section-heading" in m.group(1):
            page_box = TOC_PAGE.format(ident=ident.group(1))
            entries.append(f'<li><a href="#{ident.group(1)}">{m.group(2).strip()}</a>{page_box}</li>')
    body = body.replace(_TOC_MARK, f"<ol>{''.join(entries)}</ol>", 1)
    if "<script" in body.lower():
        raise RenderError("the rendered HTML contains a <script>; check templates/nbconvert/reviewkit")
    return body


@contextlib.contextmanager
def without_iri_grammars() -> Any:
    """Import nbformat (papermill, nbconvert) without jsonschema compiling its IRI grammars.

    When ``rfc3987_syntax`` is installed (jupyter-events asks for it), importing jsonschema
    builds 38 parsers for the 'iri' string format: about a second of every render's critical
    path, before the kernel even starts. Notebook validation never checks formats, so the
    import is skipped while jsonschema loads, which then simply has no 'iri' checker.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        yield
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes `import` raise ImportError
    try:
        yield
    finally:
        if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]
