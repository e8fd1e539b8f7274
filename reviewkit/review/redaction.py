"""Screening and redaction of everything a workspace holds, and the gate before publishing.

``reviewkit.privacy.screening`` screens one piece of text; this module walks a whole review — the
store, review.yaml and the narrative files — so a host can list what needs attention
(by location, never by value), redact it consistently, and so the report refuses to publish
while an identifier remains in text that would be printed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import write_text
from reviewkit.core.errors import TextFinding, WorkspaceError
from reviewkit.privacy import gate as pagegate
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.reader import reader_blocks
from reviewkit.review.files import REDACTION_MAP_FILE, text_of
from reviewkit.review.narrative import narrative_status
from reviewkit.review.ratings import RatingInput
from reviewkit.review.workspace import REPORT_CACHE, REVIEW_FILE, Workspace

PAGE = "page"  # a Location's level for a publish-gate finding: refused by a final report until fixed or confirmed


@dataclass(frozen=True)
class Location:
    """Where screening found something: table/file, row or key, field, and what kind."""

    table: str
    row: str
    field: str
    kind: str
    level: str
    start: int
    end: int
    published: bool

    def __str__(self) -> str:
        where = f"{self.table}, {self.row}, {self.field}"
        if self.level == PAGE:
            how = ("confirm it is not a name with: reviewkit confirm" if self.kind in pagegate.CONFIRMABLE
                   else "rewrite it")
            return (f"{where}: {pagegate.KINDS[self.kind]} as printed, at characters {self.start + 1}-{self.end} of "
                    f"the printed paragraph ({how})")
        label = "identifier" if self.level == "block" else "possible identifier"
        return f"{where}: {label} ({self.kind.replace('_', ' ')}) at characters {self.start + 1}-{self.end}"


@dataclass(frozen=True)
class _Text:
    table: str
    row: str
    field: str
    text: str
    published: bool


def _store_texts(ws: Workspace) -> Iterator[_Text]:
    """Every piece of free text in the store, marked with whether the report prints it."""
    with ws.store() as s:
        for r in s.all_ratings().itertuples():
            yield _Text("ratings", f"case {r.case_id}, {r.reviewer}, {r.question}", "comment", r.comment, False)
        for r in s.case_flags().itertuples():
            yield _Text("case flags", f"case {r.case_id}, {r.reviewer}", "reason", r.reason, False)
        for r in s.concerns().itertuples():
            for column in ("what", "raised_with", "response"):
                yield _Text("concerns", f"case {r.case_id}, {r.reviewer}", column, getattr(r, column), False)
        for r in s.meetings().itertuples():
            ref = r.ref if isinstance(r.ref, str) and r.ref else r.id
            yield _Text("meetings", f"meeting {ref}", "title", r.title, False)
        for r in s.notes().itertuples():
            # The report prints quotes and "one change" items a reviewer marked for it.
            published = bool(r.use_in_report) and r.kind in ("quote", "one_change")
            ref = r.ref if isinstance(r.ref, str) and r.ref else r.note_id  # a note without a ref (NaN, not "nan"): its id
            yield _Text("notes", f"note {ref}", "text", r.text, published)


def _meta_texts(ws: Workspace) -> Iterator[_Text]:
    meta = ws.meta
    yield _Text(REVIEW_FILE, "theme", "theme", meta.theme, True)
    for i, q in enumerate(meta.review_questions, 1):
        yield _Text(REVIEW_FILE, f"review question {i}", "text", q, True)
    yield _Text(REVIEW_FILE, "case_selection", "description", meta.selection_description, True)
    for i, rec in enumerate(meta.previous_recommendations, 1):
        yield _Text(REVIEW_FILE, f"previous recommendation {i}", "text", rec.text, True)
        yield _Text(REVIEW_FILE, f"previous recommendation {i}", "update", rec.update, True)
        yield _Text(REVIEW_FILE, f"previous recommendation {i}", "target", rec.target, True)
        yield _Text(REVIEW_FILE, f"previous recommendation {i}", "start", rec.start, True)


def _narratives(ws: Workspace) -> dict[Path, str]:
    """Every narrative file's text, all read (and decoded) before anything is changed.

    From a snapshot (``reviewkit.review.snapshot``), the files as it read them.
    """
    held = getattr(ws, "narrative", None)
    if held is not None:
        return {ws.narrative_dir / name: _decoded(held[name], ws.narrative_dir / name) for name in sorted(held)}
    return {f: _read_text(f) for f in sorted(ws.narrative_dir.glob("*.md"))}


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8 text; open it in a text editor and save it as UTF-8") from None


def _decoded(raw: bytes, path: Path) -> str:
    try:
        return text_of(raw)
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8 text; open it in a text editor and save it as UTF-8") from None


def _line_location(text: str, finding: TextFinding, table: str) -> Location:
    """A narrative finding by line: screened as printed (lines joined), shown where it is written."""
    norm = privacy.normalise(text)
    first = norm.count("\n", 0, finding.start) + 1
    last = norm.count("\n", 0, max(finding.start, finding.end - 1)) + 1
    line_start = norm.rfind("\n", 0, finding.start) + 1
    row = f"line {first}" if first == last else f"lines {first}-{last}"
    return Location(table, row, "text", finding.kind, finding.level, finding.start - line_start,
                    finding.end - line_start, True)


def scan_workspace(ws: Workspace, *, published_only: bool = False) -> list[Location]:
    """Findings across the review, by location; `published_only` keeps what the report prints.

    Narrative files are screened whole, as Markdown prints them, so an identifier split over
    two lines is found (and placed at the line where it starts).
    """
    names = ws.private_names()
    narratives = _narratives(ws)  # first: a file that is not UTF-8 is a clear error
    out: list[Location] = []
    for t in (*_store_texts(ws), *_meta_texts(ws)):
        if not t.text or (published_only and not t.published):
            continue
        for f in privacy.screen(t.text, names):
            out.append(Location(t.table, t.row, t.field, f.kind, f.level, f.start, f.end, t.published))
    for path, text in narratives.items():
        out += [_line_location(text, f, f"narrative/{path.name}") for f in privacy.screen(text, names)]
    if not published_only:
        out += _scan_outputs(ws, names)
    return out


def _scan_outputs(ws: Workspace, names: list[str]) -> list[Location]:
    """Findings in rendered reports kept in the workspace: the render cache and report/.

    An earlier render may print text that has since been redacted or a name listed since.
    """
    out: list[Location] = []
    pages = [(f"report cache (an earlier render, cleared by redact) {p.parent.name[:12]}", p)
             for p in sorted((ws.path / REPORT_CACHE).glob("*/report.html"))]
    pages += [("rendered report (render it again)", p) for p in sorted((ws.path / "report").glob("*.html"))]
    for table, page in pages:
        try:
            text = _html_text(page.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        out += [Location(table, page.relative_to(ws.path).as_posix() if table.startswith("rendered") else page.name,
                         "text", f.kind, f.level, f.start, f.end, True)
                for f in privacy.screen(text, names)]
    return out


def _html_text(page: str) -> str:
    """The words of an HTML page as a reader sees them (no tags, scripts or styles)."""
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.skip += tag in ("script", "style")
            if tag in ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "td", "th", "section"):
                self.parts.append("\n\n" if tag != "td" and tag != "th" else " ")

        def handle_endtag(self, tag: str) -> None:
            self.skip -= tag in ("script", "style") and self.skip > 0

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(page)
    parser.close()
    return "".join(parser.parts)


@dataclass(frozen=True)
class LinkLocation:
    """A link or web address in a narrative file, shown by its site only (a path could name someone)."""

    table: str
    row: str
    site: str

    def __str__(self) -> str:
        return f"{self.table}, {self.row}: {self.site}"


_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def _paragraphs(text: str) -> Iterator[tuple[int, int, str]]:
    """A Markdown file's paragraphs (blank-line separated) with their first and last line numbers."""
    pos = 0
    for m in [*_PARAGRAPH.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            first = text.count("\n", 0, pos + lead) + 1
            last = text.count("\n", 0, pos + len(chunk.rstrip())) + 1
            yield first, last, chunk
        pos = m.end() if m else len(text)


def _page_locations(table: str, row: str, field: str, text: str, declared: pagegate.Declared,
                    seen: set[tuple[str, str]] | None = None) -> list[Location]:
    """Publish-gate findings in one published text, read as Markdown renders it and as typed.

    ``seen`` holds (kind, text as printed) already placed: those are not placed again.
    """
    out: list[Location] = []
    seen = set() if seen is None else seen
    for markup in ("markdown", "plain"):
        blocks = reader_blocks(text, markup)
        for i, f in pagegate.screen_blocks(blocks, declared):
            key = (f.kind, blocks[i][f.start:f.end])
            if key not in seen:
                seen.add(key)
                out.append(Location(table, row, field, f.kind, PAGE, f.start, f.end, True))
    return out


def page_findings(ws: Workspace) -> list[Location]:
    """What the publish gate finds in every text the report would publish, by place (never a value).

    Narrative files are read paragraph by paragraph (so a finding names its lines) and then
    whole (a link defined in another paragraph, a table): what only the whole file shows is
    placed at "the whole file".
    """
    declared = pagegate.declared_for(ws)
    narratives = _narratives(ws)
    out: list[Location] = []
    for t in (*_store_texts(ws), *_meta_texts(ws)):
        if t.text and t.published:
            out += _page_locations(t.table, t.row, t.field, t.text, declared)
    for path, text in narratives.items():
        table = f"narrative/{path.name}"
        seen: set[tuple[str, str]] = set()
        # Read as Markdown renders it and as typed: the report escapes raw HTML, so a comment
        # or a tag prints as written.
        for first, last, chunk in _paragraphs(text):
            row = f"line {first}" if first == last else f"lines {first}-{last}"
            placed: set[tuple[str, str]] = set()
            out += _page_locations(table, row, "text", chunk, declared, placed)
            seen |= placed
        out += _page_locations(table, "the whole file", "text", text, declared, seen)
    return out


def confirmable_words(ws: Workspace) -> list[str]:
    """The words behind unconfirmed 'possible name' findings, for the host's eyes only."""
    declared = pagegate.declared_for(ws)
    texts = [t.text for t in (*_store_texts(ws), *_meta_texts(ws)) if t.text and t.published]
    texts += list(_narratives(ws).values())
    words: list[str] = []
    for text in texts:
        words += pagegate.possible_name_words(text, declared)
    return sorted(set(words), key=str.casefold)


# Markdown links and autolinks, and any written address: each prints as a live link (or a
# PDF reader makes it one). Only in-page anchors ("#rec-2") are not outside the report.
_ADDRESS = re.compile(
    r"\]\(\s*<?(?P<link>[^)\s>]+)"  # [text](target)
    r"|^[ \t]{0,3}\[[^\]]+\]:[ \t]*<?(?P<ref>[^\s>]+)"  # [label]: target
    r"|<(?P<auto>[a-z][a-z0-9+.\-]*:[^>\s]+)>"  # <https://…>
    r"|href\s*=\s*[\"']?(?P<href>[^\s\"'>]+)"  # raw HTML (escaped, but still an address)
    r"|(?P<bare>\b(?:[a-z][a-z0-9+.\-]*://|www\.|mailto:)[^\s)<>\]\"']+)",  # written out
    re.IGNORECASE | re.MULTILINE,
)
_SITE = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.\-]*):(?://)?)?(?P<host>[^/?#\s]*)", re.IGNORECASE)


def outside_links(ws: Workspace) -> list[LinkLocation]:
    """Every link or address in the narrative that leads outside the report, by file and line.

    The report turns them into live links in HTML, PDF and Word; the host should see each one
    before publishing.
    """
    out: list[LinkLocation] = []
    for path, text in _narratives(ws).items():
        for n, line in enumerate(text.splitlines(), 1):
            for m in _ADDRESS.finditer(line):
                target = next(t for t in m.groups() if t)
                if target.startswith("#"):
                    continue  # an anchor within the report
                site = _SITE.match(target)
                scheme = (site["scheme"] or "").lower() if site else ""
                host = site["host"] if site else ""
                if scheme == "mailto":
                    shown = "an email link"
                elif scheme or target.lower().startswith("www."):
                    shown = f"{scheme + '://' if scheme else ''}{host}…"
                else:
                    shown = "a link to a file"
                out.append(LinkLocation(f"narrative/{path.name}", f"line {n}", shown))
    return out


def blocking_findings(ws: Workspace) -> list[Location]:
    """What stops a report: block-level findings and every publish-gate finding in text it would publish."""
    return [loc for loc in scan_workspace(ws, published_only=True) if loc.level == "block"] + page_findings(ws)


@dataclass(frozen=True)
class RedactionSummary:
    """How many pieces of text redaction changed, by table or file."""

    changed: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.changed.values())


def load_redaction_map(folder: Path) -> dict[str, str]:
    """The name -> placeholder map of earlier runs in a review's (or programme's) folder; a damaged one stops
    redaction before any change."""
    f = folder / REDACTION_MAP_FILE
    if not f.exists():
        return {}
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise WorkspaceError(f"{f}: damaged (expected names mapped to placeholders such as [PERSON 1]); restore "
                             "it from a backup, so that each person keeps their placeholder")
    return data


def redact_workspace(ws: Workspace, *, actor: str) -> RedactionSummary:
    """Replace identifiers everywhere with typed placeholders, consistently across the review.

    Every input is read and checked first (narrative encodings, the placeholder map), so a bad
    file stops the run before anything changes. The name → placeholder map, kept in the
    workspace's private folder so a later run reuses the same placeholders, is saved inside
    the store's transaction before it commits: a store change never lands without its map.
    Store writes carry their audit rows (text recorded only as a digest), review.yaml and the
    narrative files are replaced atomically, and the report cache, which may hold the old
    text, is cleared. Redacting twice changes nothing.
    """
    names = ws.private_names()
    mapping = load_redaction_map(ws.path)
    before = dict(mapping)  # as saved: anyone added by this run, in any file, is saved below
    narratives = _narratives(ws)
    changed: dict[str, int] = {}

    def fix(text: str) -> str | None:
        new = privacy.redact(text, names, mapping)
        return None if new == text or not privacy.screen(text, names) else new

    def bump(key: str) -> None:
        changed[key] = changed.get(key, 0) + 1

    # Everything outside the store is worked out first, so its people are in the map too.
    meta, dirty = ws.meta, False
    theme = fix(meta.theme)
    if theme is not None:
        meta.theme, dirty = theme, True
    for i, q in enumerate(meta.review_questions):
        new = fix(q)
        if new is not None:
            meta.review_questions[i], dirty = new, True
    described = fix(meta.selection_description)
    if described is not None:
        meta.selection_description, dirty = described, True
    for i, rec in enumerate(meta.previous_recommendations):
        fixed = {key: new for key in ("text", "update", "target", "start") if (new := fix(getattr(rec, key)))}
        if fixed:
            meta.previous_recommendations[i] = dataclasses.replace(rec, **fixed)
            dirty = True
    new_narrative = {f: new for f, text in narratives.items() if (new := fix(text)) is not None}
    map_file = ws.path / REDACTION_MAP_FILE

    with ws.store() as s, s.transaction():
        for r in s.all_ratings().itertuples():
            new = fix(r.comment)
            if new is not None:
                s.set_rating(actor, RatingInput(r.case_id, r.reviewer, r.question, r.rating, new),
                             confirm_warnings=True)
                bump("ratings")
        for r in s.case_flags().itertuples():
            new = fix(r.reason)
            if new is not None:
                s.set_case_flag(actor, r.case_id, r.reviewer, reason=new, confirm_warnings=True)
                bump("case flags")
        for r in s.concerns().itertuples():
            what, raised_with, response = fix(r.what), fix(r.raised_with), fix(r.response)
            if what is not None or raised_with is not None:
                s.set_concern(actor, r.case_id, r.reviewer, what=what or r.what, raised_on=r.raised_on,
                              raised_with=raised_with or r.raised_with, confirm_warnings=True)
            if response is not None:
                s.record_response(actor, r.case_id, reviewer=r.reviewer, response=response, outcome=r.outcome,
                                  responded_on=r.responded_on, confirm_warnings=True)
            if what is not None or raised_with is not None or response is not None:
                bump("concerns")
        for r in s.meetings().itertuples():
            new = fix(r.title)
            if new is not None:
                s.update_meeting(actor, int(r.id), title=new)
                bump("meetings")
        for r in s.notes().itertuples():
            new = fix(r.text)
            if new is not None:
                s.update_note(actor, int(r.note_id), text=new, confirm_warnings=True)
                bump("notes")
        if mapping != before or (mapping and not map_file.exists()):
            write_text(map_file, json.dumps(mapping, indent=1, sort_keys=True), mode=0o600)
    if dirty:
        ws.save_meta()
        bump(REVIEW_FILE)
    for f, text in new_narrative.items():
        write_text(f, text)
        bump(f"narrative/{f.name}")
    if changed:
        ws.purge_report_cache()
    with ws.store() as s:
        # Old text lingers in the WAL until checkpointed; secure_delete zeroes freed pages.
        s.checkpoint()
    return RedactionSummary(changed)


def published_identifiers(ws: Any) -> list[str]:
    """Where text the report would publish holds an identifier or an unconfirmed shape: one entry per piece, no values."""
    # First: a file that is not UTF-8 is a clear WorkspaceError. (A snapshot: the files it read.)
    narrative = narrative_status(ws if hasattr(ws, "narrative_bytes") else ws.path)
    located = blocking_findings(ws)
    pieces: dict[tuple[str, str, str], list[TextFinding]] = {}
    shapes: dict[tuple[str, str, str], list[str]] = {}
    for loc in located:
        if loc.level == PAGE:
            shapes.setdefault((loc.table, loc.row, loc.field), []).append(
                f"{pagegate.KINDS[loc.kind].split(' (')[0]} at {loc.start + 1}-{loc.end} as printed")
        else:
            pieces.setdefault((loc.table, loc.row, loc.field), []).append(
                TextFinding(loc.kind, loc.level, loc.start, loc.end))
    names = ws.private_names()
    for item in narrative.values():  # a finding spanning two lines shows only in the whole text
        table = f"narrative/{item.path.name}"
        if item.written and not any(key[0] == table for key in pieces):
            found = [f for f in privacy.screen(item.text, names) if f.level == privacy.BLOCK]
            if found:
                pieces[(table, "the whole file", "text")] = found
    out = [f"{table}, {row}, {field}: {privacy.describe(found)}" for (table, row, field), found in pieces.items()]
    keys = list(pieces)
    for key, what in shapes.items():
        # A paragraph's shapes join a screening finding that starts inside it: one piece to fix.
        same = next((i for i, k in enumerate(keys) if k == key or (k[0] == key[0] and k[2] == key[2]
                                                                  and _within(k[1], key[1]))), None)
        if same is not None:
            out[same] += "; " + "; ".join(what)
        else:
            out.append(f"{key[0]}, {key[1]}, {key[2]}: {'; '.join(what)}")
    return out


def _lines(row: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"lines? (\d+)(?:-(\d+))?", row)
    return (int(m[1]), int(m[2] or m[1])) if m else None


def _within(inner: str, outer: str) -> bool:
    """True when a finding's row ("line 2") lies inside a paragraph's rows ("lines 1-2")."""
    a, b = _lines(inner), _lines(outer)
    return a is not None and b is not None and b[0] <= a[0] <= b[1]
