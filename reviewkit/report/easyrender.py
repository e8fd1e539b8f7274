"""Render the Easy Read summary and the "What you told us" letter as HTML, PDF and Word.

In: a workspace; its ``narrative/easy_read.md`` and ``narrative/what_you_told_us.md`` (drafted
here the first time, from the review, and never overwritten unless asked).
Out: ``easy-read.{html,pdf,docx}`` and ``what-you-told-us.{html,pdf,docx}`` in the output
folder, and the Easy Read page's reading figures (sentence lengths, Flesch reading ease and
Flesch–Kincaid grade).

The privacy gate applies as to the report: both files are screened as typed (they are in
``narrative/``, with every narrative file), then the page as a reader gets it, then each
finished file; while anything could identify a person nothing is written. The pages load
nothing from the web: pictures are the kit's own, inline in the HTML.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import io
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewkit.core.atomic import make_folder, write_text
from reviewkit.core.dates import long_date
from reviewkit.core.errors import RenderError
from reviewkit.core.tools import REFERENCE_DOCX
from reviewkit.figures.readability import Readability, readability
from reviewkit.privacy.gate import KINDS, declared_for, screen_page
from reviewkit.privacy.outputs import screen_outputs
from reviewkit.report.easyread import (
    EASY_READ_FILE,
    ICONS,
    LETTER_FILE,
    Page,
    counts_of,
    draft_easy_read,
    draft_letter,
    page_html,
    parse_page,
    spoken_text,
    word_html,
)
from reviewkit.report.printer import require_chromium, to_pdf
from reviewkit.report.render import check_formats
from reviewkit.report.staging import os_errors, publish, staging_folder
from reviewkit.review.narrative import text_of
from reviewkit.review.snapshot import ReviewSnapshot, take_snapshot
from reviewkit.review.workspace import Workspace, open_workspace

__all__ = ["EasyReadResult", "easy_read_drafts", "render_easy_read"]

BACKUP_DIR = "backups"
OUTPUT_NAMES = {EASY_READ_FILE: "easy-read", LETTER_FILE: "what-you-told-us"}


@dataclass
class EasyReadResult:
    """What was written: the files by name and format, which drafts were made, the page's reading figures."""

    files: dict[str, dict[str, Path]] = field(default_factory=dict)
    drafted: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # earlier versions copied to backups/ on --regenerate
    figures: Readability | None = None
    long_sentences: list[str] = field(default_factory=list)


def easy_read_drafts(ws: Workspace, *, regenerate: bool = False) -> tuple[list[Path], list[Path]]:
    """Write the Easy Read and letter drafts where missing (or, with ``regenerate``, afresh, keeping the old
    ones in backups/). Returns (drafted, kept). A file the team has is never changed otherwise."""
    snap = take_snapshot(ws)
    narrative = {name[:-3]: text_of(raw) for name, raw in snap.narrative.items() if name.endswith(".md")}
    drafts = {EASY_READ_FILE: lambda: draft_easy_read(council=ws.meta.council, start=ws.meta.start, end=ws.meta.end,
                                                      narrative=narrative, **counts_of(snap)),
              LETTER_FILE: lambda: draft_letter(council=ws.meta.council)}
    drafted, kept = [], []
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for name, make in drafts.items():
        path = ws.narrative_dir / name
        if path.exists() and not regenerate:
            continue
        if path.exists():
            folder = make_folder(ws.path / BACKUP_DIR, exist_ok=True)
            backup = folder / f"{path.stem}-{stamp}.md"
            write_text(backup, path.read_text(encoding="utf-8", errors="replace"))
            kept.append(backup)
        write_text(path, make())
        drafted.append(path)
    return drafted, kept


def _pages(snap: ReviewSnapshot) -> dict[str, Page]:
    out = {}
    for name in OUTPUT_NAMES:
        raw = snap.narrative_bytes(name)
        if raw is None:
            raise RenderError(f"{snap.narrative_dir / name}: missing; run reviewkit report {snap.path} --easy-read "
                              "--regenerate to draft it again")
        try:
            out[name] = parse_page(text_of(raw), snap.narrative_dir / name)
        except UnicodeDecodeError:
            raise RenderError(f"{snap.narrative_dir / name}: not UTF-8 text; save it as UTF-8") from None
    return out


def _gate_typed(snap: ReviewSnapshot) -> None:
    """Refuse while either file holds an identifier or an unconfirmed shape, as typed (by line, never the value)."""
    # start-up: the redaction module reads the whole store's shapes; loaded only for a render
    from reviewkit.review.redaction import published_identifiers

    mine = tuple(f"narrative/{name}" for name in OUTPUT_NAMES)
    found = [f for f in published_identifiers(snap) if f.startswith(mine)]
    if found:
        raise RenderError("The Easy Read pages were not written: " + "; ".join(found) + ". Rewrite those lines "
                          f"(or confirm a word that is not a name: reviewkit check {snap.path} --show-words).")


def _subtitle(snap: ReviewSnapshot, letter: bool) -> str:
    if letter:  # a letter: its first lines say who it is from and why
        return ""
    when = long_date(snap.meta.report_date or snap.meta.end or snap.meta.start)
    return f"An Easy Read summary of the practice review of {snap.meta.council}" + (f", {when}." if when else ".")


def render_easy_read(workspace: str | Path, out_dir: str | Path, formats: Sequence[str] = ("html", "pdf", "docx"),
                     *, regenerate: bool = False, progress: Callable[[str], None] | None = None) -> EasyReadResult:
    """Draft (once) and render the Easy Read summary and the letter template; nothing is written on refusal."""
    say = progress or (lambda _m: None)
    wanted = check_formats(formats)
    ws = open_workspace(workspace)
    result = EasyReadResult()
    result.drafted, result.kept = easy_read_drafts(ws, regenerate=regenerate)
    snap = take_snapshot(ws)
    say("Checking the Easy Read text for anything that could identify a person")
    _gate_typed(snap)
    pages = _pages(snap)
    text = spoken_text(pages[EASY_READ_FILE])
    result.figures = readability(text)
    result.long_sentences = [s for s in text.splitlines() if len(s.split()) > 15]
    declared = declared_for(snap)
    footer = "Pictures from Bootstrap Icons."
    htmls = {name: page_html(page, subtitle=_subtitle(snap, name == LETTER_FILE),
                             footer="" if name == LETTER_FILE else footer) for name, page in pages.items()}
    for name, body in htmls.items():  # the page as a reader gets it
        kinds = sorted({KINDS[f.kind].split(" (")[0] for f in screen_page(body, declared, markup="html")})
        if kinds:
            raise RenderError(f"{snap.narrative_dir / name}: the page would print {', '.join(kinds)}; rewrite it "
                              f"(or confirm a word that is not a name: reviewkit check {snap.path} --show-words). "
                              "Nothing was written.")
    out = Path(out_dir).resolve()
    chromium = require_chromium() if "pdf" in wanted else ""
    with staging_folder(out) as work, os_errors(out):
        staged: dict[str, dict[str, Path]] = {}
        for name, page in pages.items():
            stem = OUTPUT_NAMES[name]
            folder = make_folder(work / stem)
            files: dict[str, Path] = {}
            html_file = folder / f"{stem}.html"
            html_file.write_text(htmls[name], encoding="utf-8")
            files["html"] = html_file
            jobs = {}
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                if "pdf" in wanted:
                    say(f"Printing {stem}.pdf with Chromium")
                    jobs["pdf"] = pool.submit(to_pdf, html_file, folder / f"{stem}.pdf", folder, chromium)
                if "docx" in wanted:
                    say(f"Converting {stem}.docx with pandoc")
                    jobs["docx"] = pool.submit(_to_docx, page, folder, stem, _subtitle(snap, name == LETTER_FILE),
                                               "" if name == LETTER_FILE else footer, snap.meta.council)
                for fmt, job in jobs.items():
                    files[fmt] = job.result()
            found = screen_outputs(files, declared)  # the finished files, read back as a reader gets them
            if found:
                raise RenderError(f"The Easy Read pages were not written: {'; '.join(found)}. Find it with: "
                                  f"reviewkit check {snap.path}")
            staged[stem] = {fmt: files[fmt] for fmt in wanted}
        for stem, files in staged.items():
            result.files[stem] = publish(files, out, name=stem)
    return result


def _to_docx(page: Page, work: Path, stem: str, subtitle: str, footer: str, council: str) -> Path:
    """Word through pandoc: a table of picture and sentence per section, 16 pt text, larger headings."""
    import pypandoc  # start-up: pandoc runs only for a Word file

    media = make_folder(work / "media", exist_ok=True)
    used = {p.picture for _, pts in page.sections for p in pts} | {"book"}
    pictures = {}
    for name in used:
        shutil.copyfile(ICONS / "png" / f"{name}.png", media / f"{name}.png")
        pictures[name] = f"media/{name}.png"
    src = work / f"{stem}-for-word.html"
    src.write_text(word_html(page, pictures, subtitle=subtitle, footer=footer), encoding="utf-8")
    out = work / f"{stem}.docx"
    args = [f"--resource-path={work}"] + (["--reference-doc", str(REFERENCE_DOCX)] if REFERENCE_DOCX.exists() else [])
    try:
        pypandoc.convert_file(str(src), "docx", format="html", outputfile=str(out), extra_args=args,
                              cworkdir=str(work))
    except (RuntimeError, OSError) as exc:
        raise RenderError(f"pandoc could not write {stem}.docx ({type(exc).__name__})") from None
    _finish_docx(out, page.title, council)
    return out


def _finish_docx(path: Path, title: str, council: str) -> None:
    """Text at 16 pt and headings at 28 and 22 pt; the picture tables without borders, pictures 2 cm wide."""
    import docx  # start-up: python-docx loads only for a Word file
    from docx.oxml import OxmlElement  # start-up: python-docx loads only for a Word file
    from docx.oxml.ns import qn  # start-up: python-docx loads only for a Word file
    from docx.shared import Cm, Pt  # start-up: python-docx loads only for a Word file

    document = docx.Document(str(path))
    sizes = {"Title": 28, "Heading 1": 28, "Heading 2": 22}

    def size(paragraph: object) -> None:
        points = sizes.get(paragraph.style.name, 16)  # type: ignore[attr-defined]
        for run in paragraph.runs:  # type: ignore[attr-defined]
            run.font.size = Pt(points)

    for paragraph in document.paragraphs:
        size(paragraph)
    section = document.sections[0]
    usable = section.page_width - section.left_margin - section.right_margin
    for table in document.tables:
        table.autofit = False
        borders = table._tbl.tblPr.find(qn("w:tblBorders"))
        if borders is not None:
            table._tbl.tblPr.remove(borders)
        none = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), "nil")
            none.append(el)
        table._tbl.tblPr.append(none)
        widths = [Cm(2.6), usable - Cm(2.6)]
        for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=False):
            col.set(qn("w:w"), str(int(width) // 635))
        for row in table.rows:
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width
                for paragraph in cell.paragraphs:
                    size(paragraph)
                    for run in paragraph.runs:
                        for shape in run._r.iter(qn("wp:extent")):
                            shape.set("cx", str(int(Cm(1.8))))
                            shape.set("cy", str(int(Cm(1.8))))
    props = document.core_properties
    props.title = title
    props.author = f"Practice review team, {council}"
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())
