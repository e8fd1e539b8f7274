"""Load a review workspace into the tables the report needs, and nothing more.

The report notebook calls ``load_report_data(workspace)`` once; everything it shows is computed
from what this returns. Free text a person typed is dropped here unless a reviewer published
it: evidence comments on ratings and referral reasons never leave the loader, and the text of
notes is kept only for quotes and "one change" entries marked for the report. So no section of
the report can show raw evidence, whatever a later edit to the notebook does.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import CodebookError, WorkspaceError
from .tools import AuditTool, RatingScale
from .workspace import NARRATIVE_SECTIONS, ReviewMeta, Workspace, open_workspace

__all__ = [
    "Narrative",
    "ReportData",
    "load_report_data",
    "narrative_status",
    "unwritten_sections",
]

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Narrative:
    """One prose section from narrative/NAME.md; ``text`` is '' when unwritten."""

    name: str
    title: str
    path: Path
    text: str

    @property
    def written(self) -> bool:
        return bool(self.text.strip())


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

    @property
    def scale(self) -> RatingScale:
        return self.tool.scale


def _strip_stub(text: str) -> str:
    """The narrative without HTML comments (the workspace's stubs are a single comment)."""
    return _COMMENT.sub("", text).strip()


def narrative_status(workspace: str | Path) -> dict[str, Narrative]:
    """Each narrative section of the workspace: its file and its text ('' if missing or a stub)."""
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
        out[name] = Narrative(name, title, path, text)
    return out


def unwritten_sections(workspace: str | Path) -> list[Path]:
    """Narrative files still missing or only a stub, which a final report may not have."""
    return [n.path for n in narrative_status(workspace).values() if not n.written]


def _allocation(meta: ReviewMeta) -> pd.DataFrame:
    rows = []
    for case in meta.cases:
        rows.append({"case_id": case.id, "reviewer": case.reviewer, "primary": True})
        rows += [{"case_id": case.id, "reviewer": m, "primary": False} for m in case.moderators]
    return pd.DataFrame(rows, columns=["case_id", "reviewer", "primary"])


def _codebook_labels(ws: Workspace) -> dict[str, str]:
    from .themes import load_codebook

    local = ws.path / "codebook.yaml"
    try:
        book = load_codebook(local if local.exists() else ws.meta.codebook)
    except CodebookError:
        return {}
    return {c.id: c.label for c in (*book.codes, *book.i_statements)}


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


def _screen_published(ws: Workspace, narrative: dict[str, Narrative], notes: pd.DataFrame) -> None:
    """Screen everything the report will publish again (the names list may have grown)."""
    from .privacy import check

    names = ws.private_names()
    for item in narrative.values():
        if item.written:
            check(item.text, names, confirm_warnings=True, field=f"narrative/{item.name}.md")
    for note_id, text in zip(notes["note_id"], notes["text"]):
        if text:
            check(text, names, confirm_warnings=True, field=f"note {note_id} (marked for the report)")


def load_report_data(workspace: str | Path | Workspace, *, today: dt.date | None = None) -> ReportData:
    """Open the workspace and load the report's tables (published text only, screened)."""
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    with ws.store() as store:
        ratings = store.ratings().drop(columns=["comment"])
        flags = store.case_flags().drop(columns=["reason"])
        meetings = _meetings(store.meetings())
        conversations = store.conversations().drop(columns=["ref", "version"], errors="ignore")
        notes = _published_notes(store.notes())
    narrative = narrative_status(ws.path)
    _screen_published(ws, narrative, notes)
    report_date = ws.meta.report_date or (today or dt.date.today()).isoformat()
    return ReportData(
        path=ws.path, meta=ws.meta, tool=ws.tool, ratings=ratings, allocation=_allocation(ws.meta),
        flags=flags, meetings=meetings, conversations=conversations, notes=notes,
        narrative=narrative, codebook_labels=_codebook_labels(ws),
        report_date=report_date,
    )
