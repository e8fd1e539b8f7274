"""One render driver for the reports made from a notebook and an input folder: the regional
comparison and an in-house programme's tracking report.

    input folder ─► papermill (the notebook's one parameter: the folder) ─► nbconvert HTML
                 ─► Chromium PDF, pandoc Word (in parallel) ─► optional check of the finished files
                 ─► every file copied into the output folder, each written atomically

In: a ``NotebookRender`` (the notebook, the output file name, the cover's context, the formats
wanted, what the report is called in messages) and a function that writes the notebook's input
folder. Out: out_dir/NAME.{html,pdf,docx} and any extra files the caller adds, written only
when every step succeeds; a full disk or a folder that cannot be made is a ``RenderError``
saying nothing was written there.
"""

from __future__ import annotations

import concurrent.futures
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import describe_failure, make_folder, write_atomic
from reviewkit.core.errors import RenderError
from reviewkit.report.docx import to_docx
from reviewkit.report.html import to_html
from reviewkit.report.kernel import clean_notebook, run_notebook
from reviewkit.report.printer import require_chromium, to_pdf
from reviewkit.report.staging import temporary_folder

__all__ = ["NotebookRender", "render_notebook"]

Progress = Callable[[str], None]


@dataclass
class NotebookRender:
    """What to render: the notebook, the output's file name and cover, the formats (checked), how to name it."""

    notebook: Path
    output_name: str  # out_dir/<output_name>.html …
    context: dict[str, Any]  # the cover and page template's values
    formats: Sequence[str]
    what: str  # "the comparison", "the tracking report": for messages
    kind: str  # "comparison", "tracking": "Running the comparison notebook"
    docx_context: bool = False  # Word takes the cover's context too (its title page and footer)
    prefix: str = "reviewkit-render-"  # the temporary folder's name
    extras: dict[str, Callable[[Path], None]] = field(default_factory=dict)  # file name → writes it


def render_notebook(job: NotebookRender, out_dir: str | Path, prepare: Callable[[Path], Path], *,
                    check: Callable[[dict[str, Path]], None] | None = None,
                    progress: Progress | None = None) -> dict[str, Path]:
    """Run the notebook on the folder ``prepare`` writes, convert, check, then write every file to ``out_dir``.

    ``check`` sees the finished files (format → path) before anything is written and may raise to stop.
    """
    say = progress or (lambda _m: None)
    if not job.notebook.is_file():
        raise RenderError(f"{job.notebook}: the {job.kind} notebook is missing; reinstall reviewkit")
    chromium = require_chromium() if "pdf" in job.formats else ""
    out = Path(out_dir)
    result: dict[str, Path] = {}
    with temporary_folder(job.prefix) as work:
        try:
            files = _convert(job, prepare(work / "inputs"), work, chromium, say)
            if check is not None:
                check({k: v for k, v in files.items() if k in job.formats})
            for name, write in job.extras.items():
                write(work / name)
                files[name] = work / name
            try:
                make_folder(out, exist_ok=True)
            except OSError as exc:
                raise RenderError(f"{out}: cannot create the output folder ({exc.strerror or type(exc).__name__}); "
                                  "choose another --out folder") from None
            for key in [*job.formats, *job.extras]:
                target = out / (f"{job.output_name}.{key}" if key in job.formats else key)
                result[key] = write_atomic(target, lambda tmp, src=files[key]: shutil.copyfile(src, tmp))
        except OSError as exc:  # a full disk while converting or copying: nothing half-written in out_dir
            raise RenderError(f"cannot write {job.what} ({describe_failure(exc)}); nothing was written to "
                              f"{out}") from None
    say(f"Wrote {', '.join(str(p) for p in result.values())}")
    return result


def _convert(job: NotebookRender, inputs: Path, work: Path, chromium: str, say: Progress) -> dict[str, Path]:
    say(f"Running the {job.kind} notebook")
    nb = clean_notebook(run_notebook(job.notebook, inputs, work))
    say("Converting to HTML")
    body = to_html(nb, job.context)
    html_file = work / f"{job.output_name}.html"
    html_file.write_text(body, encoding="utf-8")
    files = {"html": html_file}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {}
        if "pdf" in job.formats:
            say("Printing to PDF with Chromium")
            jobs["pdf"] = pool.submit(to_pdf, html_file, work / f"{job.output_name}.pdf", work, chromium)
        if "docx" in job.formats:
            say("Converting to Word with pandoc")
            jobs["docx"] = pool.submit(to_docx, body, work / f"{job.output_name}.docx", work,
                                       job.context if job.docx_context else None)
        for fmt, future in jobs.items():
            files[fmt] = future.result()
    return files
