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

from reviewkit.core.errors import CodebookError
from reviewkit.core.themes import Codebook
from reviewkit.core.tools import AuditTool, RatingScale
from reviewkit.figures.concerns import PUBLIC_COLUMNS
from reviewkit.privacy.gate import Declared, declared_for, screen_page
from reviewkit.privacy.screening import check, redact, screen
from reviewkit.review.bundle import Bundle
from reviewkit.review.claims import facts_of
from reviewkit.review.files import REDACTION_MAP_FILE
from reviewkit.review.narrative import Narrative, narrative_status, unwritten_sections
from reviewkit.review.reviewyaml import ReviewMeta
from reviewkit.review.snapshot import ReviewSnapshot, snapshot_of
from reviewkit.review.workspace import Workspace

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
    # The concerns log without its private text: case, dates and outcome (figures.concerns.PUBLIC_COLUMNS).
    concerns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PUBLIC_COLUMNS))
    # The calibration round's ratings (never in a figure: only counted in the methods sentence).
    calibration: pd.DataFrame = field(default_factory=lambda: _no_calibration())

    @property
    def scale(self) -> RatingScale:
        return self.tool.scale


def _no_calibration() -> pd.DataFrame:
    return pd.DataFrame(columns=["round", "record_id", "reviewer", "question", "rating"])


def _allocation(meta: ReviewMeta) -> pd.DataFrame:
    rows = []
    for case in meta.cases:
        rows.append({"case_id": case.id, "reviewer": case.reviewer, "primary": True})
        rows += [{"case_id": case.id, "reviewer": m, "primary": False} for m in case.moderators]
    return pd.DataFrame(rows, columns=["case_id", "reviewer", "primary"])


def _codebook(snapshot: ReviewSnapshot) -> Codebook | None:
    try:
        return snapshot.codebook()  # type: ignore[no-any-return]
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


def _redaction_map(ws: Workspace | ReviewSnapshot) -> dict[str, str]:
    """The review's name → placeholder map (read only), so a withheld name gets its usual [PERSON n]."""
    if isinstance(ws, ReviewSnapshot):
        return ws.redaction_map()
    try:
        data = json.loads((ws.path / REDACTION_MAP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


WITHHELD_PARAGRAPH = "[Withheld from this draft: this paragraph may identify someone.]"


def _withhold(text: str, names: list[str], mapping: dict[str, str], declared: Declared | None = None) -> str:
    """The text redacted if it holds a block-level finding; a paragraph the publish gate flags, withheld whole.

    Redaction names what it replaces; a shape the gate finds (a digit run, a possible name) may
    be anything, so the whole paragraph is withheld rather than guessed at.
    """
    if not text:
        return text
    if any(f.level == "block" for f in screen(text, names)):
        text = redact(text, names, mapping)
    if declared is None:
        return text
    parts = re.split(r"(\n[ \t]*\n)", text)
    for i in range(0, len(parts), 2):
        if parts[i].strip() and (screen_page(parts[i], declared) or screen_page(parts[i], declared, markup="plain")):
            parts[i] = WITHHELD_PARAGRAPH
    out = "".join(parts)
    if out != text and (screen_page(out, declared) or screen_page(out, declared, markup="plain")):
        return WITHHELD_PARAGRAPH  # a shape read across paragraphs (a table, a link defined elsewhere)
    return out


def withheld_meta(ws: Workspace | ReviewSnapshot, mapping: dict[str, str] | None = None) -> ReviewMeta:
    """review.yaml's published text (theme, review questions, previous recommendations) with identifiers withheld."""
    names = ws.private_names()
    mapping = _redaction_map(ws) if mapping is None else mapping
    meta = ws.meta
    declared = declared_for(ws)
    theme = _withhold(meta.theme, names, mapping, declared)  # first, so the cover (rendered apart) numbers alike
    return dataclasses.replace(
        meta, theme=theme,
        selection_description=_withhold(meta.selection_description, names, mapping, declared),
        review_questions=[_withhold(q, names, mapping, declared) for q in meta.review_questions],
        previous_recommendations=[dataclasses.replace(r, text=_withhold(r.text, names, mapping, declared),
                                                      update=_withhold(r.update, names, mapping, declared),
                                                      target=_withhold(r.target, names, mapping, declared),
                                                      start=_withhold(r.start, names, mapping, declared))
                                  for r in meta.previous_recommendations])


def _screen_published(ws: ReviewSnapshot, meta: ReviewMeta, narrative: dict[str, Narrative],
                      notes: pd.DataFrame) -> None:
    """Screen everything the report will publish again (the names list may have grown)."""
    names = ws.private_names()
    check(meta.theme, names, confirm_warnings=True, field="theme in review.yaml")
    for i, q in enumerate(meta.review_questions, 1):
        check(q, names, confirm_warnings=True, field=f"review question {i} in review.yaml")
    if meta.selection_description:
        check(meta.selection_description, names, confirm_warnings=True,
              field="case_selection description in review.yaml")
    for i, rec in enumerate(meta.previous_recommendations, 1):
        check(rec.text, names, confirm_warnings=True, field=f"previous recommendation {i} in review.yaml")
        check(rec.update, names, confirm_warnings=True, field=f"update on previous recommendation {i} in review.yaml")
        for key in ("target", "start"):
            check(getattr(rec, key), names, confirm_warnings=True,
                  field=f"{key} of previous recommendation {i} in review.yaml")
    for item in narrative.values():
        if item.written:
            check(item.text, names, confirm_warnings=True, field=f"narrative/{item.name}.md")
    for note_id, text in zip(notes["note_id"], notes["text"]):
        if text:
            check(text, names, confirm_warnings=True, field=f"note {note_id} (marked for the report)")


def load_report_data(workspace: str | Path | Workspace | ReviewSnapshot, *, today: dt.date | None = None,
                     withhold_identifiers: bool | None = None) -> ReportData:
    """Load the report's tables from one snapshot of the review (published text only, screened).

    The snapshot is the one given; in the kernel of ``render_report``, the one that render
    gated (``snapshot.snapshot_of``); otherwise one taken now. ``withhold_identifiers``
    (default: ``withholding()``) redacts published text holding an identifier instead of
    refusing it: for a watermarked draft only.
    """
    snap = snapshot_of(workspace)
    ratings = snap.frame("ratings").drop(columns=["comment"])
    flags = snap.frame("case_flags").drop(columns=["reason"])
    concerns = snap.frame("concerns")[PUBLIC_COLUMNS] if "concerns" in snap.tables else None
    meetings = _meetings(snap.frame("meetings"))
    conversations = snap.frame("conversations").drop(columns=["ref", "version"], errors="ignore")
    notes = _published_notes(snap.frame("notes"))
    facts = facts_of(snap)
    if snap.meta.report_layout != "classic":  # the main report's fields in whole percentages
        facts = dataclasses.replace(facts, whole_percents=True)
    narrative = narrative_status(snap, facts=facts)  # each {{ field }} filled in from the data
    meta = snap.meta
    if withholding() if withhold_identifiers is None else withhold_identifiers:
        names, mapping, declared = snap.private_names(), snap.redaction_map(), declared_for(snap)
        meta = withheld_meta(snap, mapping)
        narrative = {k: dataclasses.replace(n, text=_withhold(n.text, names, mapping, declared))
                     for k, n in narrative.items()}
        notes["text"] = [_withhold(t, names, mapping, declared) for t in notes["text"]]
    _screen_published(snap, meta, narrative, notes)
    report_date = snap.meta.report_date or (today or dt.date.today()).isoformat()
    book = _codebook(snap)
    return ReportData(
        path=snap.path, meta=meta, tool=snap.tool, ratings=ratings, allocation=_allocation(snap.meta),
        flags=flags, meetings=meetings, conversations=conversations, notes=notes,
        narrative=narrative, codebook_labels=_codebook_labels(book), report_date=report_date,
        codebook=book, previous_round=snap.previous_round(),
        concerns=concerns if concerns is not None else pd.DataFrame(columns=PUBLIC_COLUMNS),
        calibration=snap.frame("calibration_ratings") if "calibration_ratings" in snap.tables else _no_calibration(),
    )
