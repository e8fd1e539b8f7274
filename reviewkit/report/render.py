"""Render a review's report: papermill runs the notebook, nbconvert makes HTML, then PDF and Word.

    workspace ─► papermill (notebooks/review_report.ipynb, parameter: the workspace path only)
              ─► strip papermill metadata, check outputs
              ─► nbconvert HTML with templates/nbconvert/reviewkit ─► report.html
              ─► Chromium --print-to-pdf (tagged, with an outline)  ─► report.pdf   } in parallel
              ─► pandoc with templates/reference.docx, then docx.py ─► report.docx  }

A failed run is never rendered: ``RenderError`` names the cell and the error's type (and its
message only when it is a ``ReviewkitError``, whose messages never carry personal data). Work
happens in a temporary folder that is removed afterwards; the kernel gets a throwaway
IPYTHONDIR with history off, so nothing typed or shown lands anywhere else. Outputs are
cached in ``<workspace>/.cache/report/`` under a hash of every input's content, so rendering
again with nothing changed only copies files.

The review is read once, into a snapshot (``reviewkit.review.snapshot``): the publish gate, the
cache digest, the charts drawn ahead and the notebook's sections (handed the snapshot as a
private file in the render's staging folder) all build on it, so the report publishes
exactly the text the gate screened, whatever is saved meanwhile.

Before anything runs, the text the report would publish is screened again: while an
identifier remains, the render is refused, naming where (never what). With
``withhold_identifiers`` a DRAFT is rendered instead, each such piece of text redacted on the
fly and every page watermarked "not for publication"; a final report always refuses.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from reviewkit import __version__
from reviewkit.core.dates import long_date
from reviewkit.core.errors import NotReadyError, RenderError
from reviewkit.privacy.gate import declared_for
from reviewkit.privacy.outputs import screen_outputs
from reviewkit.report.data import withheld_meta
from reviewkit.report.docx import to_docx
from reviewkit.report.html import css_text, to_html
from reviewkit.report.inputs import (
    CACHE_DIR,
    NOTEBOOK,
    cache_lookup,
    cache_store,
    input_digest,
)
from reviewkit.report.kernel import (
    PRELOAD,
    ChartsAhead,
    clean_notebook,
    kernel_env,
    run_notebook,
    start_kernel,
)
from reviewkit.report.printer import PrinterAfterCharts, print_pdf, require_chromium, sweep_chromium_tmp
from reviewkit.report.sections import cover_context
from reviewkit.report.staging import (
    os_errors,
    publish,
    staging_folder,
    stopping_children_on_interrupt,
    temporary_folder,
)
from reviewkit.review.readiness import DRAFT_INCOMPLETE, missing_summary
from reviewkit.review.snapshot import take_snapshot, write_snapshot
from reviewkit.review.workspace import NAMES_FILE, open_workspace

FORMATS = ("html", "pdf", "docx")


Progress = Callable[[str], None]


class RenderResult(dict):  # type: ignore[type-arg]
    """Output paths by format; ``cached`` says the notebook was not run (inputs unchanged)."""

    cached: bool = False
    notebook: Path | None = None
    withheld: int = 0  # pieces of published text redacted on the fly (a draft with identifiers withheld)
    gaps: int = 0  # things still missing before the report can be final (a draft marked DATA INCOMPLETE)


# --------------------------------------------------------------------------- the pipeline

def check_formats(formats: Iterable[str]) -> list[str]:
    wanted = []
    for fmt in formats:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise RenderError(f"unknown output format '{fmt}'; choose from {', '.join(FORMATS)}")
        if fmt not in wanted:
            wanted.append(fmt)
    if not wanted:
        raise RenderError(f"no output format given; choose from {', '.join(FORMATS)}")
    return wanted


_SHOW_LOCATIONS = 10


def _pieces(n: int) -> str:
    return "1 piece of text" if n == 1 else f"{n} pieces of text"


def _refusal(found: list[str], path: Path, final: bool) -> str:
    """Why the render was refused and how to fix it: locations and kinds only, never a value."""
    n = len(found)
    shown = "; ".join(found[:_SHOW_LOCATIONS]) + (f"; and {n - _SHOW_LOCATIONS} more" if n > _SHOW_LOCATIONS else "")
    message = (f"The report was not rendered: {_pieces(n)} that the report would publish "
               f"{'holds' if n == 1 else 'hold'} what looks like a personal identifier: {shown}. "
               f"List them with: reviewkit check {path}; replace them with placeholders with: "
               f"reviewkit redact {path}")
    if final:
        return message + ". A final report never withholds identifiers: remove them first."
    return message + (f"; or render a watermarked draft with them withheld: "
                      f"reviewkit report {path} --withhold-identifiers")


def _output_refusal(found: list[str], path: Path) -> str:
    """Why a finished final report was not published: which file holds which shape, never a value."""
    return ("The final report was not published: the finished files, read back as a reader gets them, hold "
            f"what could identify a person: {'; '.join(found)}. Nothing was written. Find the text with: "
            f"reviewkit check {path}; if check lists nothing, the text came from a conversion (a table or a "
            "link): rewrite the nearby text and render again.")


def _not_ready(gaps: Sequence[Any], path: Path) -> str:
    """Why a final report was refused: every gap by location (never a value), and the way on."""
    lines = "\n".join(f"  {g}" for g in gaps)
    n = len(gaps)
    message = (f"The final report was not rendered: {n} thing{'s are' if n != 1 else ' is'} still missing or "
               f"unfinished:\n{lines}\nSee this list at any time with: reviewkit status {path}. Finish them, or "
               "render a draft without --final (it lists them up front).")
    if any(g.kind == "identifiers" for g in gaps):
        message += " A final report never withholds identifiers: remove them first."
    if any(g.kind == "claims" for g in gaps):
        message += (f" A claim the figures do not bear out is corrected in its file (a field such as "
                    f"{{{{ overall.outstanding_or_good }}}} stays true), or confirmed as true with a reason: "
                    f"reviewkit confirm-claim {path} --file FILE --line N --reason \"…\".")
    return message


def _page_dates(snapshot: Any, render_date: dt.date) -> str:
    """The report's date and the render's date as the page prints them (``_context``): both in the cache key."""
    return long_date(snapshot.meta.report_date or render_date.isoformat()) + long_date(render_date.isoformat())


def _context(ws: Any, final: bool, render_date: dt.date, withheld: int = 0,
             gaps: Sequence[Any] = ()) -> dict[str, Any]:
    """What the template shows besides the notebook: cover, draft state, footer, missing-data box.

    ``draft`` and ``draft_label`` ("DRAFT — DATA INCOMPLETE" while anything is missing, else
    "DRAFT"; empty when final) say how every page must be marked, in any output format.
    """
    report_date = ws.meta.report_date or render_date.isoformat()
    ctx = cover_context(withheld_meta(ws) if withheld else ws.meta, report_date)
    incomplete = bool(gaps) and not final
    label = "" if final else DRAFT_INCOMPLETE if incomplete else "DRAFT"
    ctx.update(incomplete=incomplete, draft_label=label, draft_label_css=css_text(label),
               missing=missing_summary(gaps) if incomplete else [], gap_count=len(gaps))
    footer = f"Practice review of {ws.meta.council}" + ("" if final else f" – {label}")
    if withheld:
        footer += " – NOT FOR PUBLICATION (identifiers withheld)"
        ctx["withheld"] = withheld
        ctx["withheld_notice"] = (f"{_pieces(withheld)} held possible personal identifiers and "
                                  f"{'was' if withheld == 1 else 'were'} withheld; run reviewkit check "
                                  "on the review to find them.")
    try:
        report_iso = dt.date.fromisoformat(report_date).isoformat()
    except ValueError:
        report_iso = ""  # a date written as text ("December 2026") has no machine-readable form
    ctx.update(draft=not final, version=__version__, render_date=long_date(render_date.isoformat()),
               render_date_iso=render_date.isoformat(), report_date_iso=report_iso,
               footer_css=css_text(footer), credit=bool(ws.meta.software_credit))
    return ctx


def render_report(workspace_path: str | Path, out_dir: str | Path, formats: Sequence[str] = ("html",), *,
                  final: bool = False, progress: Progress | None = None, keep_notebook: bool = False,
                  use_cache: bool = True, notebook: str | Path | None = None,
                  today: dt.date | None = None, withhold_identifiers: bool = False) -> RenderResult:
    """Render the workspace's report to out_dir/report.{html,pdf,docx}; nothing is written on error.

    Refuses while text the report would publish holds an identifier, unless
    ``withhold_identifiers`` (never with ``final``): then a watermarked DRAFT is rendered with
    each such piece of text redacted on the fly. ``final`` refuses while ``readiness`` lists
    any gap (NotReadyError, every gap named) and drops the draft markers; a draft with gaps is
    marked "DRAFT — DATA INCOMPLETE" on every page and lists what is missing up front; ``use_cache`` False always runs the notebook;
    ``notebook`` replaces the kit's report notebook.
    """
    say = progress or (lambda _message: None)
    wanted = check_formats(formats)
    nb_path = Path(notebook).resolve() if notebook is not None else NOTEBOOK
    if not nb_path.is_file():
        raise RenderError(f"{nb_path}: the report notebook is missing")
    # If the notebook builds on reviewkit.report.sections (the kit's does; a custom one may
    # not), its kernel imports that module while it starts, and the charts are drawn ahead.
    builds = PRELOAD in nb_path.read_text(encoding="utf-8", errors="replace")
    out = Path(out_dir).resolve()  # papermill changes the working folder while the notebook runs
    result = RenderResult()
    sweep_chromium_tmp()  # as temporary_folder sweeps the render's own
    # Outputs are made in a staging folder inside `out` and published together once all are
    # made; the kernel's sockets and IPython folder (nothing of the report) go in $TMPDIR.
    # (The cleanup stack closes first: the kernel and Chromium started ahead are gone before
    # their folders are removed.)
    with stopping_children_on_interrupt(), staging_folder(out) as work, \
            temporary_folder("reviewkit-report-") as runtime, contextlib.ExitStack() as cleanup:
        # The notebook's kernel starts first, and takes a second or so to, while this process
        # reads and checks the review: it is handed the snapshot (a file in the staging folder,
        # never in $TMPDIR, as it holds the review's text) only once the gate has passed, and is
        # ended, whole, if the render is refused or its outputs come from the cache.
        handed = work / "review-snapshot.json"
        charts = work / "charts" if builds and ChartsAhead.possible() else None
        kernel = start_kernel(kernel_env(Path(runtime), withhold_identifiers, charts,
                                           PRELOAD if builds else None, handed), Path(runtime))
        if kernel is not None:
            cleanup.callback(kernel.stop)
        # start-up: imported once the kernel is starting (pandas)
        from reviewkit.review.readiness import readiness

        # start-up: as above
        from reviewkit.review.redaction import published_identifiers
        say("Checking the workspace")
        ws = open_workspace(workspace_path)
        workspace = ws.path.resolve()
        # The review is read once, here: the gate, the cache digest, the charts and the
        # notebook's sections all take this snapshot, so the report publishes exactly the text
        # the gate saw.
        snapshot = take_snapshot(ws)
        render_date = today or dt.date.today()
        entry = workspace / CACHE_DIR / input_digest(snapshot, notebook=nb_path, final=final,
                                                      report_date=_page_dates(snapshot, render_date),
                                                      withhold_identifiers=withhold_identifiers)
        with os_errors(out):
            cached = cache_lookup(entry, wanted, work) if use_cache and not keep_notebook else {}
        runs = "html" not in cached and set(cached) != set(wanted)  # the notebook must run
        if not runs and kernel is not None:
            kernel.stop()  # not needed after all
        # The charts are drawn from the snapshot while it is checked, and the kernel starts;
        # like everything made before the gate has passed, they are removed if it refuses.
        ahead = ChartsAhead(snapshot, charts if runs else None, withhold_identifiers)
        cleanup.callback(ahead.stop)
        found = published_identifiers(snapshot)
        if found and not final and not withhold_identifiers:
            raise RenderError(_refusal(found, ws.path, final))
        withheld = len(found) if withhold_identifiers and not final else 0
        gaps = readiness(snapshot, identifiers=found)
        if final and gaps:
            raise NotReadyError(_not_ready(gaps, ws.path), tuple(gaps))
        chromium = require_chromium() if "pdf" in wanted else ""
        context = _context(snapshot, final, render_date, withheld, gaps)
        if withheld:
            say(f"Withholding {_pieces(withheld)} that may identify someone: this draft is not for publication")
        result.withheld = withheld
        result.gaps = len(gaps)
        with os_errors(out):
            starting: PrinterAfterCharts | None = None
            files: dict[str, Path] = {}
            if set(cached) == set(wanted):
                say("Inputs unchanged since the last render: reusing it")
                result.cached = True
                files = dict(cached)
            else:
                body = None
                if "html" in cached:
                    say("Inputs unchanged since the last HTML render: reusing its HTML")
                    body = cached["html"].read_text(encoding="utf-8")
                else:
                    say("Running the report notebook")
                    write_snapshot(snapshot, handed)  # the gate has passed: the kernel may read it
                    if "pdf" in wanted and "pdf" not in cached:  # Chromium starts while the notebook runs
                        starting = PrinterAfterCharts(chromium, work,
                                                       ahead.folder if (os.cpu_count() or 1) <= 2 else None)
                        cleanup.callback(starting.stop)
                    try:
                        nb = clean_notebook(run_notebook(nb_path, workspace, Path(runtime), withhold_identifiers,
                                                         charts=charts, preload=PRELOAD if builds else None,
                                                         snapshot=handed, kernel=kernel))
                    finally:
                        ahead.stop()
                        if kernel is not None:
                            kernel.stop()
                    if keep_notebook:
                        import nbformat  # start-up: nbformat loads only for a render

                        files["ipynb"] = work / "report.ipynb"
                        nbformat.write(nb, str(files["ipynb"]))
                    say("Converting to HTML")
                    body = to_html(nb, context)
                html_file = work / "report.html"
                html_file.write_text(body, encoding="utf-8")
                files["html"] = html_file
                jobs = {}
                with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                    if "pdf" in wanted:
                        say("Printing to PDF with Chromium")
                        printer = starting.get() if starting is not None else None
                        jobs["pdf"] = pool.submit(print_pdf, printer, html_file, work / "report.pdf", work, chromium)
                    if "docx" in wanted:
                        say("Converting to Word with pandoc")
                        jobs["docx"] = pool.submit(to_docx, body, work / "report.docx", work, context)
                    for fmt, job in jobs.items():
                        files[fmt] = job.result()
                if use_cache:  # stamped first: another process opening the workspace meanwhile keeps the cache
                    ws.stamp_report_cache(snapshot.files.get(NAMES_FILE, b""))
                    cache_store(entry, {k: v for k, v in files.items() if k in FORMATS})
            if final:  # the reader's copy, read back as a reader gets it, before anything is published
                say("Checking the finished files for anything that could identify a person")
                found_out = screen_outputs({k: v for k, v in files.items() if k in FORMATS}, declared_for(snapshot))
                if found_out:
                    raise RenderError(_output_refusal(found_out, ws.path))
            order = [*wanted, *(["ipynb"] if keep_notebook else [])]
            for fmt, target in publish({fmt: files[fmt] for fmt in order}, out).items():
                if fmt == "ipynb":
                    result.notebook = target
                else:
                    result[fmt] = target
    return result
