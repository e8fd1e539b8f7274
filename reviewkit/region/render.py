"""Rendering the regional comparison: the notebook's input folder, the notebook run and printing.

In: bundle files or workspaces, an output folder and formats (html, pdf, docx). Out:
out_dir/regional_comparison.{html,pdf,docx}, written only when every step succeeds. The
notebook's only input is a folder (``prepare_inputs`` writes it, ``compare_folder`` reads it),
so no bundle's file name reaches the executed notebook.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from reviewkit import __version__
from reviewkit.core.atomic import describe_failure, make_folder, write_atomic
from reviewkit.core.dates import long_date
from reviewkit.core.errors import RegionalError, RenderError
from reviewkit.core.resources import shipped
from reviewkit.core.yamlfile import load_yaml
from reviewkit.region.compare import Comparison, compare
from reviewkit.region.sources import Progress, load_bundles
from reviewkit.review.bundle import Bundle, bundle_bytes

__all__ = ["compare_folder", "prepare_inputs", "render_comparison"]

NOTEBOOK = shipped("notebooks", "regional_comparison.ipynb")
OPTIONS_FILE = "options.yaml"
MAPPING_FILE = "mapping.yaml"
OUTPUT_NAME = "regional_comparison"


def prepare_inputs(bundles: Sequence[Bundle], folder: Path, *, pseudonymise: bool = False,
                   mapping: str | Path | None = None) -> Path:
    """Write the notebook's input folder: bundles under neutral names, the mapping and options.

    The notebook's only parameter is this folder, so no bundle's file name (which often names
    the council) reaches the executed notebook, even when councils are pseudonymised.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for i, b in enumerate(sorted(bundles, key=lambda b: b.digest), 1):
        (folder / f"bundle-{i:04d}.zip").write_bytes(b.raw or bundle_bytes(b))
    if mapping is not None:
        (folder / MAPPING_FILE).write_bytes(Path(mapping).read_bytes())
    options = {"pseudonymise": bool(pseudonymise), "mapping": MAPPING_FILE if mapping is not None else None}
    (folder / OPTIONS_FILE).write_text(yaml.safe_dump(options, sort_keys=True), encoding="utf-8")
    return folder


def compare_folder(folder: str | Path) -> Comparison:
    """The comparison of a folder written by ``prepare_inputs`` (what the notebook loads)."""
    folder = Path(folder)
    options_file = folder / OPTIONS_FILE
    options: dict[str, Any] = {}
    if options_file.exists():
        loaded = load_yaml(options_file.read_bytes(), str(options_file), RegionalError) or {}
        if not isinstance(loaded, dict):
            raise RegionalError(f"{options_file}: expected pseudonymise and mapping")
        options = loaded
    mapping = folder / str(options["mapping"]) if options.get("mapping") else None
    bundles = load_bundles(sorted(folder.glob("*.zip")))
    return compare(bundles, mapping=mapping, pseudonymise=bool(options.get("pseudonymise", False)))


@contextlib.contextmanager
def _os_errors(out: Path) -> Iterator[None]:
    """A write that fails while the comparison is made (a full disk): a RenderError, nothing written to ``out``."""
    try:
        yield
    except OSError as exc:
        raise RenderError(f"cannot write the comparison ({describe_failure(exc)}); nothing was written to "
                          f"{out}") from None


def render_comparison(sources: Sequence[str | Path], out_dir: str | Path, formats: Sequence[str] = ("html",), *,
                      pseudonymise: bool = False, mapping: str | Path | None = None,
                      progress: Progress | None = None, notebook: str | Path | None = None) -> dict[str, Path]:
    """Compare bundles (or workspaces) and render out_dir/regional_comparison.{html,pdf,docx}.

    Rendered like the review report: the same papermill run, template, checks and printing
    (``reviewkit.report.render``); nothing is written to out_dir when any step fails.
    """
    # start-up: the notebook's kernel imports this module for compare_folder; the render pipeline loads only here
    from reviewkit.report.docx import to_docx
    from reviewkit.report.html import css_text, to_html
    from reviewkit.report.kernel import clean_notebook, run_notebook
    from reviewkit.report.printer import require_chromium, to_pdf
    from reviewkit.report.render import check_formats
    from reviewkit.report.staging import temporary_folder

    say = progress or (lambda _message: None)
    wanted = check_formats(formats)
    nb_path = Path(notebook) if notebook is not None else NOTEBOOK
    if not nb_path.is_file():
        raise RenderError(f"{nb_path}: the regional comparison notebook is missing")
    say(f"Reading {len(sources)} bundle(s) or workspace(s)")
    bundles = load_bundles(sources, progress=say)
    say("Checking that the reviews can be compared")
    comparison = compare(bundles, mapping=mapping, pseudonymise=pseudonymise)
    chromium = require_chromium() if "pdf" in wanted else ""
    context = comparison.cover(version=__version__, render_date=long_date(dt.date.today().isoformat()))
    context["footer_css"] = css_text(context["footer_css"])
    out = Path(out_dir)
    result: dict[str, Path] = {}
    with temporary_folder("reviewkit-compare-") as work, _os_errors(out):
        inputs = prepare_inputs(bundles, work / "inputs", pseudonymise=pseudonymise, mapping=mapping)
        say("Running the comparison notebook")
        nb = clean_notebook(run_notebook(nb_path, inputs, work))
        say("Converting to HTML")
        body = to_html(nb, context)
        html_file = work / f"{OUTPUT_NAME}.html"
        html_file.write_text(body, encoding="utf-8")
        files = {"html": html_file}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            jobs = {}
            if "pdf" in wanted:
                say("Printing to PDF with Chromium")
                jobs["pdf"] = pool.submit(to_pdf, html_file, work / f"{OUTPUT_NAME}.pdf", work, chromium)
            if "docx" in wanted:
                say("Converting to Word with pandoc")
                jobs["docx"] = pool.submit(to_docx, body, work / f"{OUTPUT_NAME}.docx", work)
            for fmt, job in jobs.items():
                files[fmt] = job.result()
        try:
            make_folder(out, exist_ok=True)
        except OSError as exc:
            raise RenderError(f"{out}: cannot create the output folder ({exc.strerror or type(exc).__name__}); "
                              "choose another --out folder") from None
        for fmt in wanted:
            target = out / f"{OUTPUT_NAME}.{fmt}"
            write_atomic(target, lambda tmp, src=files[fmt]: shutil.copyfile(src, tmp))
            result[fmt] = target
    say(f"Wrote {', '.join(str(p) for p in result.values())}")
    return result
