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
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .atomic import make_folder, write_bytes
from .errors import BlockedTextError, RegionalError, ReviewkitError
from .yamlfile import load_yaml

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
MAX_MEMBER_BYTES = 5_000_000
MAX_MANIFEST_BYTES = 1_000_000  # a manifest of counts for a few hundred questions is tens of KB
MAX_HEADING = 200
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ROUND = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_COUNT = re.compile(r"^[0-9]{1,7}$")
MAX_COUNT = 9_999_999  # the most a count may be, in the manifest as in the tables (seven digits)
MAX_SCORE = 1000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MANIFEST_KEYS = ("format", "format_version", "council", "round", "theme", "tool", "scale",
                  "questions", "overall", "codebook", "counts", "suppression", "files")

__all__ = [
    "Bundle",
    "CountRow",
    "ThemeRow",
    "apply_suppression",
    "bundle_bytes",
    "bundle_from_workspace",
    "export_bundle",
    "read_bundle",
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
    from . import privacy
    from .pagegate import Declared, describe_kinds, shape_kinds

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
    from .themes import load_codebook

    try:
        book = load_codebook(ws.meta.codebook)
    except ReviewkitError:
        name = Path(str(ws.meta.codebook)).stem
        return (name if _ID.match(name) else "", ""), []
    pairs = [(c.id, c.label) for c in (*book.codes, *book.i_statements)]
    return (book.id, book.version), pairs


def bundle_from_workspace(ws: Any, suppress_below: int | None = None) -> Bundle:
    """The de-identified figures of a review: counts of primary ratings, themes and headings."""
    from . import analysis

    from .pagegate import declared_for

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
        table = analysis.theme_counts(notes, label_of, source=src)
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
        from .store import describe_failure

        raise RegionalError(f"{out}: cannot write the bundle there ({describe_failure(exc)})") from None
    return write_bytes(out, data)


# --------------------------------------------------------------------------- reading

class _Reader:
    """Validates one bundle; every message names the bundle, the member, row and column."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, message: str) -> RegionalError:
        return RegionalError(f"bundle {self.name}, {where}: {message}")

    def text(self, data: dict[str, Any], key: str, where: str, limit: int = 300) -> str:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip() or len(value) > limit or "\n" in value:
            raise self.fail(where, f"'{key}' must be one line of text (at most {limit} characters)")
        return value.strip()

    def ident(self, data: dict[str, Any], key: str, where: str) -> str:
        value = self.text(data, key, where, 64)
        if not _ID.match(value):
            raise self.fail(where, f"'{key}' must be an id of letters, digits, '.', '_' or '-'")
        return value

    def mapping(self, data: Any, where: str, keys: Sequence[str], required: Sequence[str] | None = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where, f"expected a mapping with {', '.join(keys)}")
        extra = [k for k in data if k not in keys]
        if extra:
            shown = f"'{extra[0]}'" if isinstance(extra[0], str) and _ID.match(extra[0]) else "(not a plain name)"
            raise self.fail(where, f"unexpected key {shown}; a bundle holds only {', '.join(keys)}")
        missing = [k for k in (keys if required is None else required) if k not in data]
        if missing:
            raise self.fail(where, f"missing '{missing[0]}'")
        return data

    def count(self, value: Any, where: str, most: int = MAX_COUNT) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            raise self.fail(where, f"expected a whole number from 0 to {most:,}")
        return value

    def optional(self, data: dict[str, Any], key: str, where: str, limit: int, ident: bool = True) -> str:
        """An optional id (letters, digits, '.', '_', '-') or short line of text: empty when missing."""
        value = data.get(key)
        if value is None or value == "":
            return ""
        return self.ident(data, key, where) if ident else self.text(data, key, where, limit)

    def rows(self, data: bytes, member: str, header: Sequence[str]) -> list[list[str]]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(member, "not UTF-8 text") from None
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            raise self.fail(member, "not valid CSV (a cell too long, or a quote never closed); "
                                    "re-export the bundle") from None
        if not rows or rows[0] != list(header):
            raise self.fail(f"{member} row 1", f"expected the header {','.join(header)}")
        for i, r in enumerate(rows[1:], 2):
            if len(r) != len(header):
                raise self.fail(f"{member} row {i}", f"expected {len(header)} columns, found {len(r)}")
        return rows[1:]

    def cells(self, values: Sequence[str], columns: Sequence[str], member: str, row: int,
              threshold: int | None) -> tuple[tuple[int | None, ...], int]:
        out: list[int | None] = []
        for value, column in zip(values[:-1], columns[:-1]):
            at = f"{member} row {row}, column '{column}'"
            if value == SUPPRESSED:
                if threshold is None:
                    raise self.fail(at, "a cell is marked suppressed but the manifest's suppression "
                                        "threshold is null; re-export the bundle")
                out.append(None)
            elif _COUNT.match(value):
                n = int(value)
                if threshold is not None and 0 < n < threshold:
                    raise self.fail(at, f"a count below the suppression threshold ({threshold}) is "
                                        "shown; re-export the bundle")
                out.append(n)
            else:
                raise self.fail(at, f"expected a whole number, 0 or more, or '{SUPPRESSED}'")
        total_value = values[-1]
        at = f"{member} row {row}, column 'total'"
        if not _COUNT.match(total_value):
            raise self.fail(at, "expected a whole number, 0 or more")
        total = int(total_value)
        visible = sum(c for c in out if c is not None)
        hidden = sum(c is None for c in out)
        if hidden == 0 and visible != total:
            raise self.fail(at, "the total is not the sum of the row's counts")
        if visible > total:
            raise self.fail(at, "the row's counts add up to more than its total")
        if hidden == 1:
            raise self.fail(f"{member} row {row}", "only one cell is suppressed, so it can be "
                                                   "recovered from the total; re-export the bundle")
        return tuple(out), total


def _load_yaml(data: bytes, reader: _Reader) -> Any:
    return load_yaml(data, f"bundle {reader.name}, {MANIFEST}", RegionalError, max_bytes=MAX_MANIFEST_BYTES)


def _open_zip(source: bytes, reader: _Reader) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(source))
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise RegionalError(f"bundle {reader.name}: not a zip file; a regional bundle is the .zip "
                            "that 'reviewkit export WORKSPACE --for-region' writes") from None
    with zf:
        names = [i.filename for i in zf.infolist()]
        extra = sorted(set(names) - set(MEMBERS))
        if extra:
            raise reader.fail(extra[0], f"unexpected file in the bundle; a bundle holds only {', '.join(MEMBERS)}")
        if len(set(names)) != len(names):
            raise reader.fail("zip", "a file appears twice in the zip")
        missing = [m for m in MEMBERS if m not in names]
        if missing:
            raise reader.fail(missing[0], "missing from the bundle")
        out = {}
        for info in zf.infolist():
            if info.file_size > MAX_MEMBER_BYTES:
                raise reader.fail(info.filename, "too large for a bundle of counts")
            try:
                out[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, ValueError, EOFError,
                    NotImplementedError):
                raise reader.fail(info.filename, "cannot be read (the zip is damaged)") from None
        return out


def _screen_read(r: _Reader, texts: Sequence[tuple[str, str, str]]) -> None:
    """Refuse a bundle whose headings or labels hold a personal identifier: compare would print them.

    A bundle the kit exports was screened when written; a hand-made or edited one was not.
    """
    from . import privacy

    from .pagegate import describe_kinds, shape_kinds

    for where, key, text in texts:
        found = [f for f in privacy.screen(text) if f.level == privacy.BLOCK]
        if found:
            raise r.fail(f"{where}, '{key}'", f"holds what looks like a personal identifier "
                                              f"({privacy.describe(found)}); a regional bundle must not hold "
                                              "any: correct the review and export the bundle again")
        kinds = shape_kinds(text, names=False)
        if kinds:
            raise r.fail(f"{where}, '{key}'", f"holds {describe_kinds(kinds)} as it would print; a regional bundle "
                                              "must not hold any: correct the review and export the bundle again")


def read_bundle(source: str | Path | bytes, name: str | None = None) -> Bundle:
    """Read and validate a bundle (a path or its bytes); errors name member, row and column."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        name = name or "<bytes>"
    else:
        path = Path(source)
        name = name or path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RegionalError(f"{path}: no such bundle file") from None
        except IsADirectoryError:
            raise RegionalError(f"{path}: is a folder, not a bundle .zip (a review workspace needs review.yaml)") from None
    r = _Reader(name)
    members = _open_zip(data, r)
    m = r.mapping(_load_yaml(members[MANIFEST], r), MANIFEST, _MANIFEST_KEYS)
    if m["format"] != FORMAT_NAME:
        raise r.fail(MANIFEST, f"'format' must be {FORMAT_NAME}")
    if m["format_version"] != FORMAT_VERSION:
        raise r.fail(MANIFEST, f"format_version is not supported (this reviewkit reads version "
                               f"{FORMAT_VERSION}); upgrade reviewkit or re-export the bundle")
    files = r.mapping(m["files"], f"{MANIFEST} files", MEMBERS[1:])
    for member in MEMBERS[1:]:
        if hashlib.sha256(members[member]).hexdigest() != files[member]:
            raise r.fail(member, "its checksum does not match manifest.yaml; the file was changed "
                                 "after export: re-export the bundle")
    council = r.text(m, "council", MANIFEST, 200)
    round_ = r.text(m, "round", MANIFEST, 7)
    if not _ROUND.match(round_):
        raise r.fail(MANIFEST, "'round' must be the review month written YYYY-MM")
    theme = r.text(m, "theme", MANIFEST, 300)
    tool = r.mapping(m["tool"], f"{MANIFEST} tool", ("id", "version", "title"))
    tool_id, tool_version = r.ident(tool, "id", f"{MANIFEST} tool"), r.text(tool, "version", f"{MANIFEST} tool", 32)
    tool_title = r.text(tool, "title", f"{MANIFEST} tool")
    scale = r.mapping(m["scale"], f"{MANIFEST} scale", ("id", "levels"))
    raw_levels = scale["levels"]
    if not isinstance(raw_levels, list) or len(raw_levels) < 2:
        raise r.fail(f"{MANIFEST} scale", "'levels' must list at least two levels")
    levels = []
    for i, lv in enumerate(raw_levels, 1):
        at = f"{MANIFEST} scale level {i}"
        lv = r.mapping(lv, at, ("label", "score"))
        score = lv["score"]
        if score is not None and (isinstance(score, bool) or not isinstance(score, int) or abs(score) > MAX_SCORE):
            raise r.fail(at, f"'score' must be a whole number (-{MAX_SCORE} to {MAX_SCORE}), or null for not applicable")
        levels.append((r.text(lv, "label", at, 64), score))
    labels = [lb for lb, _ in levels]
    if len(set(labels)) != len(labels) or set(labels) & {"question", "total"}:
        raise r.fail(f"{MANIFEST} scale", "level labels must be distinct and not 'question' or 'total'")
    if sum(s is not None for _, s in levels) < 2:
        raise r.fail(f"{MANIFEST} scale", "at least two levels need a score")
    raw_q = m["questions"]
    if not isinstance(raw_q, list) or not raw_q:
        raise r.fail(MANIFEST, "'questions' must list the audit tool's questions")
    questions = []
    for i, q in enumerate(raw_q, 1):
        at = f"{MANIFEST} question {i}"
        q = r.mapping(q, at, ("id", "title"))
        questions.append((r.ident(q, "id", at), r.text(q, "title", at)))
    overall = r.mapping(m["overall"], f"{MANIFEST} overall", ("id", "title"))
    overall_id = r.ident(overall, "id", f"{MANIFEST} overall")
    ids = [q for q, _ in questions] + [overall_id]
    if len(set(ids)) != len(ids):
        raise r.fail(MANIFEST, "question ids (and the overall id) must be distinct")
    codebook = r.mapping(m["codebook"], f"{MANIFEST} codebook", ("id", "version"))
    codebook_ids = (r.optional(codebook, "id", f"{MANIFEST} codebook", 64),
                    r.optional(codebook, "version", f"{MANIFEST} codebook", 32, ident=False))
    counts_raw = r.mapping(m["counts"], f"{MANIFEST} counts", COUNT_KEYS)
    counts = tuple((k, r.count(counts_raw[k], f"{MANIFEST} counts, '{k}'")) for k in COUNT_KEYS)
    sup = r.mapping(m["suppression"], f"{MANIFEST} suppression", ("threshold", "hidden_cells", "published_totals"))
    threshold = sup["threshold"]
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)
                                  or not 2 <= threshold <= MAX_COUNT):
        raise r.fail(f"{MANIFEST} suppression", "'threshold' must be null or a whole number of 2 or more")
    hidden_declared = r.count(sup["hidden_cells"], f"{MANIFEST} suppression, 'hidden_cells'")

    scale_id = r.ident(scale, "id", f"{MANIFEST} scale")
    overall_title = r.text(overall, "title", f"{MANIFEST} overall")
    _screen_read(r, [  # before the tables: their messages name the manifest's labels
        (MANIFEST, "council", council), (MANIFEST, "theme", theme), (f"{MANIFEST} tool", "id", tool_id),
        (f"{MANIFEST} tool", "version", tool_version), (f"{MANIFEST} tool", "title", tool_title),
        (f"{MANIFEST} scale", "id", scale_id),
        *((f"{MANIFEST} scale level {i}", "label", lb) for i, (lb, _) in enumerate(levels, 1)),
        *((f"{MANIFEST} question {i}", "id", q) for i, (q, _) in enumerate(questions, 1)),
        *((f"{MANIFEST} question {i}", "title", t) for i, (_, t) in enumerate(questions, 1)),
        (f"{MANIFEST} overall", "id", overall_id), (f"{MANIFEST} overall", "title", overall_title),
        (f"{MANIFEST} codebook", "id", codebook_ids[0]), (f"{MANIFEST} codebook", "version", codebook_ids[1]),
    ])
    cases = dict(counts)["cases"]
    header = ["question", *labels, "total"]
    rating_rows = []
    body = r.rows(members[RATINGS_FILE], RATINGS_FILE, header)
    if len(body) != len(questions):
        raise r.fail(RATINGS_FILE, f"expected one row per question of the manifest ({len(questions)}), found {len(body)}")
    for i, (values, (qid, _)) in enumerate(zip(body, questions), 2):
        if values[0] != qid:
            raise r.fail(f"{RATINGS_FILE} row {i}, column 'question'", f"expected '{qid}' (the manifest's question order)")
        cells, total = r.cells(values[1:], header[1:], RATINGS_FILE, i, threshold)
        if total > cases:
            raise r.fail(f"{RATINGS_FILE} row {i}, column 'total'", "more ratings than case records (counts.cases)")
        rating_rows.append(CountRow(qid, cells, total))
    body = r.rows(members[OVERALL_FILE], OVERALL_FILE, header)
    if len(body) != 1 or body[0][0] != overall_id:
        raise r.fail(OVERALL_FILE, f"expected one row, for '{overall_id}'")
    cells, total = r.cells(body[0][1:], header[1:], OVERALL_FILE, 2, threshold)
    if total > cases:
        raise r.fail(f"{OVERALL_FILE} row 2, column 'total'", "more judgements than case records (counts.cases)")
    overall_row = CountRow(overall_id, cells, total)
    theme_header = ["code", "label", "source", *STANCES, "total"]
    theme_rows, seen = [], set()
    for i, values in enumerate(r.rows(members[THEMES_FILE], THEMES_FILE, theme_header), 2):
        code, label, source = values[:3]
        if not _ID.match(code):
            raise r.fail(f"{THEMES_FILE} row {i}, column 'code'", "expected a code id of letters, digits, '.', '_' or '-'")
        if not label.strip() or len(label) > 200 or "\n" in label:
            raise r.fail(f"{THEMES_FILE} row {i}, column 'label'", "expected one line of text (at most 200 characters)")
        if source not in SOURCES:
            raise r.fail(f"{THEMES_FILE} row {i}, column 'source'", f"expected {' or '.join(SOURCES)}")
        if (code, source) in seen:
            raise r.fail(f"{THEMES_FILE} row {i}", "this code and source appear twice")
        seen.add((code, source))
        cells, total = r.cells(values[3:], theme_header[3:], THEMES_FILE, i, threshold)
        theme_rows.append(ThemeRow(code, label.strip(), source, cells, total))
    headings = []
    for i, (number, heading) in enumerate(r.rows(members[RECOMMENDATIONS_FILE], RECOMMENDATIONS_FILE,
                                                 ["number", "heading"]), 2):
        if number != str(i - 1):
            raise r.fail(f"{RECOMMENDATIONS_FILE} row {i}, column 'number'", f"expected {i - 1}")
        if not heading.strip() or len(heading) > MAX_HEADING or "\n" in heading:
            raise r.fail(f"{RECOMMENDATIONS_FILE} row {i}, column 'heading'",
                         f"expected one line of text (at most {MAX_HEADING} characters)")
        headings.append(heading.strip())
    hidden = (sum(row.hidden for row in rating_rows) + overall_row.hidden
              + sum(sum(c is None for c in t.cells) for t in theme_rows))
    if hidden != hidden_declared:
        raise r.fail(f"{MANIFEST} suppression", "'hidden_cells' does not match the cells marked suppressed")
    _screen_read(r, [
        *((f"{THEMES_FILE} row {i}", "code", t.code) for i, t in enumerate(theme_rows, 2)),
        *((f"{THEMES_FILE} row {i}", "label", t.label) for i, t in enumerate(theme_rows, 2)),
        *((f"{RECOMMENDATIONS_FILE} row {i}", "heading", h) for i, h in enumerate(headings, 2)),
    ])
    return Bundle(
        council=council, round=round_, theme=theme, tool=tool_id, tool_version=tool_version,
        tool_title=tool_title, scale_id=scale_id, levels=tuple(levels),
        questions=tuple(questions), overall_id=overall_id,
        overall_title=overall_title,
        codebook=codebook_ids, counts=counts,
        ratings=tuple(rating_rows), overall=overall_row, themes=tuple(theme_rows),
        recommendations=tuple(headings), threshold=threshold, hidden_cells=hidden,
        name=name, digest=hashlib.sha256(data).hexdigest(), raw=data,
    )


