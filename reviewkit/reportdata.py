"""Load a review workspace into the tables the report needs, and nothing more.

The report notebook calls ``load_report_data(workspace)`` once; everything it shows is computed
from what this returns. Free text a person typed is dropped here unless a reviewer published
it: evidence comments on ratings and referral reasons never leave the loader, and the text of
notes is kept only for quotes and "one change" entries marked for the report. So no section of
the report can show raw evidence, whatever a later edit to the notebook does.

What is published is screened again here. A draft rendered with identifiers withheld
(``render_report(..., withhold_identifiers=True)``, which sets ``REVIEWKIT_WITHHOLD_IDENTIFIERS``
for its kernel only) has every published piece of text that holds an identifier redacted
on the fly, with the review's placeholders; the workspace itself is left unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .bundle import Bundle
from .errors import CodebookError, WorkspaceError
from .themes import Codebook
from .trend import previous_round
from .tools import AuditTool, RatingScale
from .workspace import (
    NARRATIVE_SECTIONS,
    OPTIONAL_NARRATIVE,
    REVIEW_FILE,
    ReviewMeta,
    Workspace,
    open_workspace,
)

__all__ = [
    "Narrative",
    "ReportData",
    "load_report_data",
    "narrative_status",
    "unwritten_sections",
    "withheld_meta",
    "withholding",
]

WITHHOLD_ENV = "REVIEWKIT_WITHHOLD_IDENTIFIERS"

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Narrative:
    """One prose section from narrative/NAME.md; ``text`` is '' when unwritten."""

    name: str
    title: str
    path: Path
    text: str
    gaps: tuple[str, ...] = ()  # parts still to write, e.g. "an answer to review question 2"
    optional: bool = False  # a final report does not wait for it

    @property
    def written(self) -> bool:
        return bool(self.text.strip()) and not self.gaps


@dataclass
class ReportData:
    """Everything the report shows, loaded once from a workspace."""

    path: Path
    meta: ReviewMeta
    tool: AuditTool
    ratings: pd.DataFrame
    allocation: pd.DataFrame
    flags: pd.DataFrame
    meetings: pd.DataFrame
    conversations: pd.DataFrame
    notes: pd.DataFrame
    narrative: dict[str, Narrative] = field(default_factory=dict)
    codebook_labels: dict[str, str] = field(default_factory=dict)
    report_date: str = ""
    codebook: Codebook | None = None
    previous_round: Bundle | None = None  # the previous round's counts, for the trend

    @property
    def scale(self) -> RatingScale:
        return self.tool.scale


def _strip_stub(text: str) -> str:
    """The narrative without HTML comments (the workspace's stubs are a single comment)."""
    return _COMMENT.sub("", text).strip()


def _review_questions(workspace: Path) -> list[str]:
    """review.yaml's review questions, or none if it cannot be read (opening it reports why)."""
    from .tools import load_yaml

    try:
        data = load_yaml((workspace / REVIEW_FILE).read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001  an unreadable review.yaml is reported by open_workspace
        return []
    questions = data.get("review_questions") if isinstance(data, dict) else None
    return [q for q in questions if isinstance(q, str)] if isinstance(questions, list) else []


def narrative_status(workspace: str | Path, questions: list[str] | None = None) -> dict[str, Narrative]:
    """Each narrative section of the workspace: its file and its text ('' if missing or a stub).

    The answers to the review questions count as written only when every question of
    review.yaml (or ``questions``) has one; with no questions there is nothing to answer.
    """
    from .findings import unanswered

    folder = Path(workspace) / "narrative"
    out: dict[str, Narrative] = {}
    for name, title in NARRATIVE_SECTIONS.items():
        path = folder / f"{name}.md"
        try:
            text = _strip_stub(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            text = ""
        except UnicodeDecodeError:
            raise WorkspaceError(f"{path}: not UTF-8 text; save it as UTF-8") from None
        gaps: tuple[str, ...] = ()
        optional = name in OPTIONAL_NARRATIVE
        if name == "review_questions":
            asked = _review_questions(Path(workspace)) if questions is None else questions
            optional = not asked
            gaps = tuple(f"an answer to review question {i}" for i in unanswered(text, asked))
        out[name] = Narrative(name, title, path, text, gaps, optional)
    return out


def unwritten_sections(workspace: str | Path) -> list[Path]:
    """Narrative files still missing, a stub or with a gap, which a final report may not have."""
    return [n.path for n in narrative_status(workspace).values() if not n.written and not n.optional]


def _allocation(meta: ReviewMeta) -> pd.DataFrame:
    rows = []
    for case in meta.cases:
        rows.append({"case_id": case.id, "reviewer": case.reviewer, "primary": True})
        rows += [{"case_id": case.id, "reviewer": m, "primary": False} for m in case.moderators]
    return pd.DataFrame(rows, columns=["case_id", "reviewer", "primary"])


def _codebook(ws: Workspace) -> Codebook | None:
    from .themes import load_codebook

    local = ws.path / "codebook.yaml"
    try:
        return load_codebook(local if local.exists() else ws.meta.codebook)
    except CodebookError:
        return None


def _codebook_labels(book: Codebook | None) -> dict[str, str]:
    return {c.id: c.label for c in (*book.codes, *book.i_statements)} if book is not None else {}


def _meetings(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per meeting: kind, date, total attendees and attendance by role."""
    rows = []
    for r in raw.to_dict("records"):
        by_role = {str(k): int(v) for k, v in (r.get("attendees") or {}).items()}
        rows.append({"id": int(r["id"]), "kind": r["kind"], "held_on": r["held_on"] or "",
                     "attendees": sum(by_role.values()), "by_role": by_role})
    return pd.DataFrame(rows, columns=["id", "kind", "held_on", "attendees", "by_role"])


def _published_notes(raw: pd.DataFrame) -> pd.DataFrame:
    """Notes with their text kept only where a reviewer marked it for the report."""
    df = raw.copy()
    keep = df["use_in_report"].astype(bool) & df["kind"].isin(["quote", "one_change"])
    df["text"] = [t if k else "" for t, k in zip(df["text"], keep)]
    return df.drop(columns=["ref", "version"], errors="ignore")


def withholding() -> bool:
    """True in the kernel of a draft rendered with identifiers withheld (set by render_report)."""
    return os.environ.get(WITHHOLD_ENV) == "1"


def _redaction_map(ws: Workspace) -> dict[str, str]:
    """The review's name → placeholder map (read only), so a withheld name gets its usual [PERSON n]."""
    from .redaction import MAP_FILE

    try:
        data = json.loads((ws.path / "private" / MAP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _withhold(text: str, names: list[str], mapping: dict[str, str]) -> str:
    """The text redacted if it holds a block-level finding, else unchanged."""
    from .privacy import redact, screen

    if text and any(f.level == "block" for f in screen(text, names)):
        return redact(text, names, mapping)
    return text


def withheld_meta(ws: Workspace, mapping: dict[str, str] | None = None) -> ReviewMeta:
    """review.yaml's published text (theme, review questions, previous recommendations) with identifiers withheld."""
    names = ws.private_names()
    mapping = _redaction_map(ws) if mapping is None else mapping
    meta = ws.meta
    theme = _withhold(meta.theme, names, mapping)  # first, so the cover (rendered apart) numbers alike
    return dataclasses.replace(
        meta, theme=theme,
        review_questions=[_withhold(q, names, mapping) for q in meta.review_questions],
        previous_recommendations=[dataclasses.replace(r, text=_withhold(r.text, names, mapping),
                                                      update=_withhold(r.update, names, mapping))
                                  for r in meta.previous_recommendations])


def _screen_published(ws: Workspace, meta: ReviewMeta, narrative: dict[str, Narrative],
                      notes: pd.DataFrame) -> None:
    """Screen everything the report will publish again (the names list may have grown)."""
    from .privacy import check

    names = ws.private_names()
    check(meta.theme, names, confirm_warnings=True, field="theme in review.yaml")
    for i, q in enumerate(meta.review_questions, 1):
        check(q, names, confirm_warnings=True, field=f"review question {i} in review.yaml")
    for i, rec in enumerate(meta.previous_recommendations, 1):
        check(rec.text, names, confirm_warnings=True, field=f"previous recommendation {i} in review.yaml")
        check(rec.update, names, confirm_warnings=True, field=f"update on previous recommendation {i} in review.yaml")
    for item in narrative.values():
        if item.written:
            check(item.text, names, confirm_warnings=True, field=f"narrative/{item.name}.md")
    for note_id, text in zip(notes["note_id"], notes["text"]):
        if text:
            check(text, names, confirm_warnings=True, field=f"note {note_id} (marked for the report)")


def load_report_data(workspace: str | Path | Workspace, *, today: dt.date | None = None,
                     withhold_identifiers: bool | None = None) -> ReportData:
    """Open the workspace and load the report's tables (published text only, screened).

    ``withhold_identifiers`` (default: ``withholding()``) redacts published text holding an
    identifier instead of refusing it: for a watermarked draft only.
    """
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    with ws.store() as store:
        ratings = store.ratings().drop(columns=["comment"])
        flags = store.case_flags().drop(columns=["reason"])
        meetings = _meetings(store.meetings())
        conversations = store.conversations().drop(columns=["ref", "version"], errors="ignore")
        notes = _published_notes(store.notes())
    narrative = narrative_status(ws.path, ws.meta.review_questions)
    meta = ws.meta
    if withholding() if withhold_identifiers is None else withhold_identifiers:
        names, mapping = ws.private_names(), _redaction_map(ws)
        meta = withheld_meta(ws, mapping)
        narrative = {k: dataclasses.replace(n, text=_withhold(n.text, names, mapping)) for k, n in narrative.items()}
        notes["text"] = [_withhold(t, names, mapping) for t in notes["text"]]
    _screen_published(ws, meta, narrative, notes)
    report_date = ws.meta.report_date or (today or dt.date.today()).isoformat()
    book = _codebook(ws)
    return ReportData(
        path=ws.path, meta=meta, tool=ws.tool, ratings=ratings, allocation=_allocation(ws.meta),
        flags=flags, meetings=meetings, conversations=conversations, notes=notes,
        narrative=narrative, codebook_labels=_codebook_labels(book), report_date=report_date,
        codebook=book, previous_round=previous_round(ws.path),
    )
