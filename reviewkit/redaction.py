"""Screening and redaction of everything a workspace holds, and the gate before publishing.

``reviewkit.privacy`` screens one piece of text; this module walks a whole review — the
store, review.yaml and the narrative files — so a host can list what needs attention
(by location, never by value), redact it consistently, and so the report refuses to publish
while an identifier remains in text that would be printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from pathlib import Path

from . import privacy
from .errors import WorkspaceError
from .store import RatingInput
from .workspace import REVIEW_FILE, Workspace

MAP_FILE = "redaction_map.json"


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
        label = "identifier" if self.level == "block" else "possible identifier"
        return f"{where}: {label} ({self.kind.replace('_', ' ')}) at characters {self.start + 1}-{self.end}"


@dataclass(frozen=True)
class _Text:
    table: str
    row: str
    field: str
    text: str
    published: bool


def _texts(ws: Workspace) -> Iterator[_Text]:
    """Every piece of free text in the review, marked with whether the report prints it."""
    with ws.store() as s:
        for r in s.all_ratings().itertuples():
            yield _Text("ratings", f"case {r.case_id}, {r.reviewer}, {r.question}", "comment", r.comment, False)
        for r in s.case_flags().itertuples():
            yield _Text("case flags", f"case {r.case_id}, {r.reviewer}", "reason", r.reason, False)
        for r in s.meetings().itertuples():
            yield _Text("meetings", f"meeting {r.ref or r.id}", "title", r.title, False)
        for r in s.notes().itertuples():
            # The report prints quotes and "one change" items a reviewer marked for it.
            published = bool(r.use_in_report) and r.kind in ("quote", "one_change")
            yield _Text("notes", f"note {r.ref or r.note_id}", "text", r.text, published)
    meta = ws.meta
    yield _Text(REVIEW_FILE, "theme", "theme", meta.theme, True)
    for i, q in enumerate(meta.review_questions, 1):
        yield _Text(REVIEW_FILE, f"review question {i}", "text", q, True)
    for i, rec in enumerate(meta.previous_recommendations, 1):
        yield _Text(REVIEW_FILE, f"previous recommendation {i}", "text", rec.text, True)
        yield _Text(REVIEW_FILE, f"previous recommendation {i}", "update", rec.update, True)
    for f in sorted(ws.narrative_dir.glob("*.md")):
        for n, line in enumerate(_read_text(f).splitlines(), 1):
            yield _Text(f"narrative/{f.name}", f"line {n}", "text", line, True)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{path}: not UTF-8 text; open it in a text editor and save it as UTF-8") from None


def scan_workspace(ws: Workspace, *, published_only: bool = False) -> list[Location]:
    """Findings across the review, by location; `published_only` keeps what the report prints."""
    names = ws.private_names()
    out: list[Location] = []
    for t in _texts(ws):
        if not t.text or (published_only and not t.published):
            continue
        for f in privacy.screen(t.text, names):
            out.append(Location(t.table, t.row, t.field, f.kind, f.level, f.start, f.end, t.published))
    return out


def blocking_findings(ws: Workspace) -> list[Location]:
    """Block-level findings in text the report would publish: the report refuses while any remain."""
    return [loc for loc in scan_workspace(ws, published_only=True) if loc.level == "block"]


@dataclass(frozen=True)
class RedactionSummary:
    """How many pieces of text redaction changed, by table or file."""

    changed: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.changed.values())


def _load_map(ws: Workspace) -> dict[str, str]:
    f = ws.path / "private" / MAP_FILE
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}


def redact_workspace(ws: Workspace, *, actor: str) -> RedactionSummary:
    """Replace identifiers everywhere with typed placeholders, consistently across the review.

    Writes go through the store (each with its audit row, which records text only as a
    digest), so no redacted value is left in the audit log; the name → placeholder map is
    kept in the workspace's private folder so a later run reuses the same placeholders.
    Redacting twice changes nothing.
    """
    names = ws.private_names()
    mapping = _load_map(ws)
    changed: dict[str, int] = {}

    def fix(text: str) -> str | None:
        new = privacy.redact(text, names, mapping)
        return None if new == text or not privacy.screen(text, names) else new

    def bump(key: str) -> None:
        changed[key] = changed.get(key, 0) + 1

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
    meta, dirty = ws.meta, False
    theme = fix(meta.theme)
    if theme is not None:
        meta.theme, dirty = theme, True
    for i, q in enumerate(meta.review_questions):
        new = fix(q)
        if new is not None:
            meta.review_questions[i], dirty = new, True
    for i, rec in enumerate(meta.previous_recommendations):
        text, update = fix(rec.text), fix(rec.update)
        if text is not None or update is not None:
            meta.previous_recommendations[i] = type(rec)(text or rec.text, update or rec.update)
            dirty = True
    if dirty:
        ws.save_meta()
        bump(REVIEW_FILE)
    for f in sorted(ws.narrative_dir.glob("*.md")):
        lines = _read_text(f).splitlines(keepends=True)
        fixed = [fix(line) for line in lines]
        if any(x is not None for x in fixed):
            f.write_text("".join(n if n is not None else o for n, o in zip(fixed, lines)), encoding="utf-8")
            bump(f"narrative/{f.name}")
    if mapping:
        out = ws.path / "private" / MAP_FILE
        out.write_text(json.dumps(mapping, indent=1, sort_keys=True), encoding="utf-8")
    with ws.store() as s:
        # Old text lingers in the WAL until checkpointed; secure_delete zeroes freed pages.
        s.checkpoint()
    return RedactionSummary(changed)
