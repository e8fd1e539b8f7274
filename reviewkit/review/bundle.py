"""The regional bundle: what a council sends its PSW network, de-identified by construction.

A bundle is a zip of a small YAML manifest and four CSV files of counts (format
``reviewkit-regional-bundle``, version 1; the README's "Regional bundle format" documents it):

    manifest.yaml            council, round (YYYY-MM), theme, tool, questions, counts, suppression
    question_ratings.csv     per question: primary ratings per level, and the row total
    overall_judgements.csv   overall judgements per level, and the row total
    themes.csv               per theme code and source (meetings, conversations): notes per stance
    recommendations.csv      the headings of this review's published recommendations

It holds no case id, reviewer name, free text, quote or exact date: only counts, the names of
things from the audit tool and codebook, and the recommendation headings the host publishes.
The bytes are deterministic (fixed member order and timestamps), so the same review always
gives the same bundle and a network can tell at a glance whether a council's figures changed.

With ``suppress_below=N`` every cell with 0 < count < N is hidden (primary suppression), then
more cells of the same row are hidden (secondary suppression) until each row with a hidden
cell has at least two hidden cells whose sum is at least N. The only totals published are the
``total`` of each row, so no hidden cell can be recovered, and none can be shown to be small.

This module holds the format (its dataclasses and names), suppression, and making a bundle:
in, a review workspace; out, a ``Bundle`` and its zip bytes. Reading and validating a bundle
someone sent is ``reviewkit.review.bundleread``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from reviewkit.core.atomic import describe_failure, make_folder, write_bytes
from reviewkit.core.errors import BlockedTextError, RegionalError, ReviewkitError
from reviewkit.core.themes import load_codebook
from reviewkit.figures import analysis
from reviewkit.figures.notes import theme_counts
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.gate import Declared, declared_for, describe_kinds, shape_kinds

FORMAT_NAME = "reviewkit-regional-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.yaml"
RATINGS_FILE = "question_ratings.csv"
OVERALL_FILE = "overall_judgements.csv"
THEMES_FILE = "themes.csv"
RECOMMENDATIONS_FILE = "recommendations.csv"
MEMBERS = (MANIFEST, RATINGS_FILE, OVERALL_FILE, THEMES_FILE, RECOMMENDATIONS_FILE)
STANCES = ("strength", "concern", "mixed", "unspecified")
SOURCES = ("meetings", "conversations")
COUNT_KEYS = ("cases", "meetings", "attendees", "conversations")
SUPPRESSED = "suppressed"
PUBLISHED_TOTALS = ("the 'total' column of each row of question_ratings.csv, overall_judgements.csv "
                    "and themes.csv; no column totals")
MAX_HEADING = 200
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

__all__ = [
    "Bundle",
    "CountRow",
    "ThemeRow",
    "apply_suppression",
    "bundle_bytes",
    "bundle_from_workspace",
    "export_bundle",
    "recommendation_headings",
    "suppress_row",
]


# --------------------------------------------------------------------------- data

@dataclass(frozen=True)
class CountRow:
    """One row of counts: ``cells`` in column order, None where suppressed, and its total."""

    key: str
    cells: tuple[int | None, ...]
    total: int

    @property
    def hidden(self) -> int:
        return sum(c is None for c in self.cells)


@dataclass(frozen=True)
class ThemeRow:
    """Notes coded with one theme, from one source, per stance (None where suppressed)."""

    code: str
    label: str
    source: str
    cells: tuple[int | None, ...]
    total: int


@dataclass(frozen=True)
class Bundle:
    """A council's de-identified figures for one review round."""

    council: str
    round: str
    theme: str
    tool: str
    tool_version: str
    tool_title: str
    scale_id: str
    levels: tuple[tuple[str, int | None], ...]
    questions: tuple[tuple[str, str], ...]
    overall_id: str
    overall_title: str
    codebook: tuple[str, str]
    counts: tuple[tuple[str, int], ...]
    ratings: tuple[CountRow, ...]
    overall: CountRow
    themes: tuple[ThemeRow, ...]
    recommendations: tuple[str, ...]
    threshold: int | None = None
    hidden_cells: int = 0
    name: str = field(default="", compare=False)
    digest: str = field(default="", compare=False)
    raw: bytes = field(default=b"", compare=False, repr=False)  # the bytes it was read from

    @property
    def level_labels(self) -> list[str]:
        return [label for label, _ in self.levels]

    @property
    def scored_labels(self) -> list[str]:
        return [label for label, score in self.levels if score is not None]

    def count(self, key: str) -> int:
        return dict(self.counts)[key]


# --------------------------------------------------------------------------- suppression

def suppress_row(cells: Sequence[int], threshold: int) -> tuple[bool, ...]:
    """Which cells of a row to hide so that no hidden cell is recoverable from the row total.

    Primary: every cell with 0 < count < threshold. Secondary: while the row has fewer than
    two hidden cells, or their sum is below the threshold, hide one more cell: the smallest
    cell big enough to lift the sum to the threshold, else the largest cell left. Hidden
    cells then each range over 0…(their sum), which always includes 0 and, unless the whole
    row is below the threshold (and so wholly hidden), a value at or above the threshold.
    """
    counts = [int(c) for c in cells]
    hidden = [0 < c < threshold for c in counts]
    if not any(hidden):
        return tuple(hidden)
    while True:
        n_hidden = sum(hidden)
        total_hidden = sum(c for c, h in zip(counts, hidden) if h)
        if n_hidden >= 2 and total_hidden >= threshold:
            break
        visible = [i for i, h in enumerate(hidden) if not h]
        if not visible:
            break
        need = threshold - total_hidden
        big_enough = [i for i in visible if counts[i] >= need]
        if need > 0 and big_enough:
            pick = min(big_enough, key=lambda i: (counts[i], i))
        elif need > 0:
            pick = max(visible, key=lambda i: (counts[i], -i))
        else:
            pick = min(visible, key=lambda i: (counts[i], i))
        hidden[pick] = True
    return tuple(hidden)


def _suppress(cells: Sequence[int | None], threshold: int | None) -> tuple[int | None, ...]:
    if threshold is None:
        return tuple(cells)
    if any(c is None for c in cells):
        raise RegionalError("this bundle is already suppressed; export it again from the workspace")
    mask = suppress_row([int(c) for c in cells if c is not None], threshold)
    return tuple(None if h else c for c, h in zip(cells, mask))


def _check_threshold(n: int | None) -> int | None:
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 2):
        raise RegionalError("--suppress-below must be a whole number of 2 or more (e.g. 5)")
    return n


def apply_suppression(bundle: Bundle, suppress_below: int | None) -> Bundle:
    """The bundle with small counts hidden (primary and secondary suppression), or unchanged."""
    if suppress_below is None:
        return bundle
    n = _check_threshold(suppress_below)
    ratings = tuple(replace(r, cells=_suppress(r.cells, n)) for r in bundle.ratings)
    overall = replace(bundle.overall, cells=_suppress(bundle.overall.cells, n))
    themes = tuple(replace(t, cells=_suppress(t.cells, n)) for t in bundle.themes)
    hidden = sum(sum(c is None for c in r.cells) for r in (*ratings, overall, *themes))
    return replace(bundle, ratings=ratings, overall=overall, themes=themes, threshold=n, hidden_cells=hidden)


# --------------------------------------------------------------------------- from a workspace

_ITEM = re.compile(r"^ {0,3}(?:\d{1,3}[.)]|[-*+])\s+(.*\S)\s*$")
_NUMBERED = re.compile(r"^ {0,3}\d{1,3}[.)]\s")
_NESTED = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*+])\s")
_BOLD_LEAD = re.compile(r"^(\*\*|__)(.+?)\1")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]’'\"][.!?])\s+(?=[A-Z0-9“\"‘'(])")
_CLAUSE = re.compile(r"[,;:]\s|\s[–—-]\s")
LONG_HEADING = 160


def _plain(markdown: str) -> str:
    """Markdown inline text as plain words: links, emphasis, code and HTML tags stripped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(\*\*|__|\*|_|`)", "", text)
    return " ".join(text.split())


def _items(lines: list[str]) -> list[str]:
    """The first paragraph of each top-level list item, continuation lines joined."""
    numbered = any(_NUMBERED.match(ln) for ln in lines)
    items: list[str] = []
    open_item = False
    for line in lines:
        top = _ITEM.match(line) if not line.startswith((" " * 4, "\t")) else None
        if top and (not numbered or _NUMBERED.match(line)):
            items.append(top.group(1))
            open_item = True
        elif top or not line.strip() or _NESTED.match(line) or not line[:1].isspace():
            open_item = False
        elif open_item:
            items[-1] += " " + line.strip()
    return items


def _heading(item: str) -> str:
    bold = _BOLD_LEAD.match(item)
    if bold:
        return _plain(bold.group(2)).rstrip(" .:;-–—")
    heading = _SENTENCE_END.split(_plain(item), maxsplit=1)[0]
    if len(heading) > LONG_HEADING:
        cuts = [m.start() for m in _CLAUSE.finditer(heading[:LONG_HEADING]) if m.start() >= 30]
        heading = heading[:cuts[-1]] if cuts else heading[:heading.rfind(" ", 0, LONG_HEADING)] + " …"
    return heading.rstrip(" .")


def recommendation_headings(markdown: str) -> list[str]:
    """The heading of each top-level recommendation: its bold lead-in, else its first sentence.

    Numbered items are taken when there are any, otherwise top-level bullets (the programme's
    reports use either). A long first sentence is cut at its last clause break within 160
    characters. Further paragraphs and sub-items are the detail, left out.
    """
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    headings = [_heading(item) for item in _items(text.splitlines())]
    return [h[:MAX_HEADING] for h in headings if h]


def _round_of(meta: Any, where: str) -> str:
    for value in (meta.start, meta.end, meta.report_date):
        if isinstance(value, str) and re.match(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", value):
            return value[:7]
    raise RegionalError(
        f"{where}: review.yaml has no review dates, so the bundle cannot say which round it is; "
        "add dates.start (YYYY-MM-DD) to review.yaml (the bundle keeps only the month)")


def _screen(text: str, names: Sequence[str], what: str, case_ids: Sequence[str], declared: Any = None) -> None:
    """Refuse text that holds an identifier, a listed or team name, a case id, or a shape the publish gate denies."""
    try:
        privacy.check(text, names, confirm_warnings=True, field=what)
    except BlockedTextError as exc:
        raise RegionalError(
            f"{exc} Nothing was written: a regional bundle must not hold personal identifiers."
        ) from None
    kinds = shape_kinds(text, declared if declared is not None else Declared(), names=declared is not None)
    if kinds:
        raise RegionalError(f"The {what} holds {describe_kinds(kinds)} as it would print. Nothing was written: rewrite "
                            "it (a word that is not a name can be confirmed: reviewkit check WORKSPACE --show-words).")
    folded = text.casefold()
    for cid in case_ids:
        if re.search(rf"(?<![\w]){re.escape(cid.casefold())}(?![\w])", folded):
            raise RegionalError(
                f"The {what} mentions a case reference. Nothing was written: remove the case "
                "reference from it (a regional bundle holds no case ids).")


def _codebook_labels(ws: Any) -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """The review's codebook id and version and its (code, label) pairs, in file order."""
    try:
        book = load_codebook(ws.meta.codebook)
    except ReviewkitError:
        name = Path(str(ws.meta.codebook)).stem
        return (name if ID_PATTERN.match(name) else "", ""), []
    pairs = [(c.id, c.label) for c in (*book.codes, *book.i_statements)]
    return (book.id, book.version), pairs


def bundle_from_workspace(ws: Any, suppress_below: int | None = None) -> Bundle:
    """The de-identified figures of a review: counts of primary ratings, themes and headings."""
    where = str(ws.path)
    _check_threshold(suppress_below)  # before any work
    declared = declared_for(ws)
    meta, tool = ws.meta, ws.tool
    scale = tool.scale
    allocation = pd.DataFrame(
        [{"case_id": c.id, "reviewer": r, "primary": r == c.reviewer}
         for c in meta.cases for r in c.reviewers],
        columns=["case_id", "reviewer", "primary"])
    with ws.store() as store:
        ratings = store.ratings()
        meetings = store.meetings()
        conversations = store.conversations()
        notes = store.notes()
    primary = analysis.primary_ratings(ratings[list(analysis.RATING_COLUMNS)], allocation)
    counts = analysis.review_counts(
        primary, allocation,
        meetings=[{"kind": k, "attendees": int(n)} for k, n in zip(meetings["kind"], meetings["attendee_count"])],
        conversations=conversations[["who"]])
    qdist = analysis.question_distribution(primary, tool)
    odist = analysis.overall_distribution(primary, scale, overall_id=tool.overall.id)
    labels = scale.labels

    def row(key: str, values: Sequence[int]) -> CountRow:
        return CountRow(key, tuple(int(v) for v in values), int(sum(values)))

    rating_rows = tuple(row(str(r["question"]), [int(r[lb]) for lb in labels]) for _, r in qdist.iterrows())
    ocounts = dict(zip(odist["level"], odist["count"]))
    overall_row = row(tool.overall.id, [int(ocounts.get(lb, 0)) for lb in labels])

    codebook, pairs = _codebook_labels(ws)
    names = [*ws.private_names(), *(m.name for m in meta.team)]
    case_ids = [c.id for c in meta.cases]
    label_of = dict(pairs)
    per: dict[tuple[str, str], dict[str, int]] = {}
    for source, src in (("meetings", "meeting"), ("conversations", "conversation")):
        table = theme_counts(notes, label_of, source=src)
        for code, stance, n in zip(table["code"], table["stance"], table["count"]):
            cell = per.setdefault((str(code), source), {})
            cell[str(stance)] = cell.get(str(stance), 0) + int(n)
    codes = [c for c, _ in pairs] + sorted({c for c, _ in per} - set(label_of))
    theme_rows = []
    for code in codes:
        label = label_of.get(code, code)
        _screen(label, names, f"label of theme code '{code}'", case_ids, declared)
        for source in SOURCES:
            values = [per.get((code, source), {}).get(s, 0) for s in STANCES]
            theme_rows.append(ThemeRow(code, label, source, tuple(values), int(sum(values))))

    rec_file = ws.narrative_dir / "recommendations.md"
    try:
        headings = recommendation_headings(rec_file.read_text(encoding="utf-8")) if rec_file.exists() else []
    except UnicodeDecodeError:
        raise RegionalError(f"{rec_file}: not UTF-8 text; open it in a text editor and save it as UTF-8") from None
    for i, heading in enumerate(headings, 1):
        _screen(heading, names, f"heading of recommendation {i} (narrative/recommendations.md)", case_ids, declared)
    _screen(meta.theme, names, "review theme (review.yaml)", case_ids, declared)

    bundle = Bundle(
        council=meta.council, round=_round_of(meta, where), theme=meta.theme,
        tool=tool.id, tool_version=tool.version, tool_title=tool.title, scale_id=scale.id,
        levels=tuple((lv.label, lv.score) for lv in scale.levels),
        questions=tuple((q.id, q.title) for q in tool.questions),
        overall_id=tool.overall.id, overall_title=tool.overall.title, codebook=codebook,
        counts=(("cases", int(counts["cases"])), ("meetings", int(counts["meetings"])),
                ("attendees", int(counts["attendees"])), ("conversations", int(counts["conversations"]))),
        ratings=rating_rows, overall=overall_row, themes=tuple(theme_rows),
        recommendations=tuple(headings), name=Path(where).name,
    )
    return apply_suppression(bundle, suppress_below)


# --------------------------------------------------------------------------- writing

def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([SUPPRESSED if v is None else v for v in r])
    return buf.getvalue().encode("utf-8")


def _members(b: Bundle) -> dict[str, bytes]:
    labels = b.level_labels
    files = {
        RATINGS_FILE: _csv(["question", *labels, "total"], [[r.key, *r.cells, r.total] for r in b.ratings]),
        OVERALL_FILE: _csv(["question", *labels, "total"], [[b.overall.key, *b.overall.cells, b.overall.total]]),
        THEMES_FILE: _csv(["code", "label", "source", *STANCES, "total"],
                          [[t.code, t.label, t.source, *t.cells, t.total] for t in b.themes]),
        RECOMMENDATIONS_FILE: _csv(["number", "heading"], [[i, h] for i, h in enumerate(b.recommendations, 1)]),
    }
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "council": b.council,
        "round": b.round,
        "theme": b.theme,
        "tool": {"id": b.tool, "version": b.tool_version, "title": b.tool_title},
        "scale": {"id": b.scale_id, "levels": [{"label": lb, "score": s} for lb, s in b.levels]},
        "questions": [{"id": q, "title": t} for q, t in b.questions],
        "overall": {"id": b.overall_id, "title": b.overall_title},
        "codebook": {"id": b.codebook[0], "version": b.codebook[1]},
        "counts": dict(b.counts),
        "suppression": {"threshold": b.threshold, "hidden_cells": b.hidden_cells,
                        "published_totals": PUBLISHED_TOTALS},
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    text = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    return {MANIFEST: text.encode("utf-8"), **files}


def bundle_bytes(bundle: Bundle) -> bytes:
    """The zip bytes of a bundle: same bundle, same bytes (fixed order, times and modes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in _members(bundle).items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def export_bundle(ws: Any, out: str | Path, suppress_below: int | None = None) -> Path:
    """Write a review's regional bundle (a .zip of counts only) and return its path."""
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise RegionalError(f"{out}: a regional bundle is a .zip file; give --out a name ending in .zip")
    data = bundle_bytes(bundle_from_workspace(ws, suppress_below))
    try:
        make_folder(out.parent, exist_ok=True)
    except OSError as exc:

        raise RegionalError(f"{out}: cannot write the bundle there ({describe_failure(exc)})") from None
    return write_bytes(out, data)
