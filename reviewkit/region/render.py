"""Rendering the regional comparison: the notebook's input folder, the notebook run and printing.

In: bundle files or workspaces, an output folder and formats (html, pdf, docx). Out:
out_dir/regional_comparison.{html,pdf,docx}, written only when every step succeeds. The
notebook's only input is a folder (``prepare_inputs`` writes it, ``compare_folder`` reads it),
so no bundle's file name reaches the executed notebook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from reviewkit import __version__
from reviewkit.core.dates import long_date
from reviewkit.core.errors import RegionalError
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


def render_comparison(sources: Sequence[str | Path], out_dir: str | Path, formats: Sequence[str] = ("html",), *,
                      pseudonymise: bool = False, mapping: str | Path | None = None,
                      progress: Progress | None = None, notebook: str | Path | None = None) -> dict[str, Path]:
    """Compare bundles (or workspaces) and render out_dir/regional_comparison.{html,pdf,docx}.

    Rendered like the review report: the same papermill run, template, checks and printing, through
    the render driver (``reviewkit.report.driver``); nothing is written to out_dir when any step fails.
    """
    # start-up: the notebook's kernel imports this module for compare_folder; the render pipeline loads only here
    from reviewkit.report.driver import NotebookRender, render_notebook
    from reviewkit.report.html import css_text
    from reviewkit.report.render import check_formats

    say = progress or (lambda _message: None)
    wanted = check_formats(formats)
    nb_path = Path(notebook) if notebook is not None else NOTEBOOK
    say(f"Reading {len(sources)} bundle(s) or workspace(s)")
    bundles = load_bundles(sources, progress=say)
    say("Checking that the reviews can be compared")
    comparison = compare(bundles, mapping=mapping, pseudonymise=pseudonymise)
    context = comparison.cover(version=__version__, render_date=long_date(dt.date.today().isoformat()))
    context["footer_css"] = css_text(context["footer_css"])
    job = NotebookRender(nb_path, OUTPUT_NAME, context, wanted, "the comparison", "comparison",
                         prefix="reviewkit-compare-")
    return render_notebook(job, out_dir, lambda folder: prepare_inputs(bundles, folder, pseudonymise=pseudonymise,
                                                                       mapping=mapping), progress=say)
