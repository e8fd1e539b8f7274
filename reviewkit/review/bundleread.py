"""Reading a regional bundle back: every byte checked before a figure is believed.

In: a bundle's zip bytes (or its path), which may be hand-made, edited or hostile. Out: a
validated ``Bundle`` (``reviewkit.review.bundle``), or a ``RegionalError`` naming the bundle,
member, row and column. Kept apart from making a bundle because it trusts nothing: sizes,
checksums, the manifest's keys, every count and label, suppression, and personal identifiers
are all checked again here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reviewkit.core.errors import RegionalError, ReviewkitError, WorkspaceError
from reviewkit.core.yamlfile import load_yaml
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.gate import describe_kinds, shape_kinds
from reviewkit.review.bundle import (
    COUNT_KEYS,
    FORMAT_NAME,
    FORMAT_VERSION,
    ID_PATTERN,
    MANIFEST,
    MAX_HEADING,
    MEMBERS,
    OVERALL_FILE,
    RATINGS_FILE,
    RECOMMENDATIONS_FILE,
    SOURCES,
    STANCES,
    SUPPRESSED,
    THEMES_FILE,
    Bundle,
    CountRow,
    ThemeRow,
)
from reviewkit.review.files import PREVIOUS_ROUND_FILE

MAX_MEMBER_BYTES = 5_000_000
MAX_MANIFEST_BYTES = 1_000_000  # a manifest of counts for a few hundred questions is tens of KB
_ROUND = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_COUNT = re.compile(r"^[0-9]{1,7}$")
MAX_COUNT = 9_999_999  # the most a count may be, in the manifest as in the tables (seven digits)
MAX_SCORE = 1000
_MANIFEST_KEYS = ("format", "format_version", "council", "round", "theme", "tool", "scale",
                  "questions", "overall", "codebook", "counts", "suppression", "files")

__all__ = [
    "previous_round",
    "read_bundle",
]


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
        if not ID_PATTERN.match(value):
            raise self.fail(where, f"'{key}' must be an id of letters, digits, '.', '_' or '-'")
        return value

    def mapping(self, data: Any, where: str, keys: Sequence[str], required: Sequence[str] | None = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(where, f"expected a mapping with {', '.join(keys)}")
        extra = [k for k in data if k not in keys]
        if extra:
            shown = f"'{extra[0]}'" if isinstance(extra[0], str) and ID_PATTERN.match(extra[0]) else "(not a plain name)"
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
        if not ID_PATTERN.match(code):
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


def previous_round(workspace: str | Path) -> Bundle | None:
    """The previous round's figures kept in the workspace, or None when there are none."""
    path = Path(workspace) / PREVIOUS_ROUND_FILE
    if not path.is_file():
        return None
    try:
        return read_bundle(path)
    except ReviewkitError as exc:
        raise WorkspaceError(f"{path}: the previous round's figures cannot be read ({exc}); replace the file "
                             "with the previous round's regional bundle, or delete it") from None
