"""The narrative's claims checked against the review's data, and the host's confirmations of them.

In: a workspace or a snapshot of one (its narrative files, review.yaml and the store's tables).
Out: ``narrative_claims`` — every claim in narrative/*.md the figures do not bear out
(``reviewkit.figures.claims``), each with its file, line, words and the true figure, and the
host's reason where confirmed; ``field_problems`` — each ``{{ field }}`` the review does not
have; ``confirm_claim`` writes a confirmation into review.yaml. The readiness list, ``reviewkit
check``, the host console and the team annex all read these, so they cannot disagree.

A claim is quoted by its trigger words only (a figure and its noun: "most records", "strongest
areas … Q1 and Q4"), never a whole sentence, and a quote the privacy screen flags is replaced by
its kind, so a flag can be printed and shown in a draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.errors import NarrativeFieldError, WorkspaceError
from reviewkit.figures.claims import CLAIM_KINDS, check_claims
from reviewkit.figures.facts import ReviewFacts, render_fields, review_facts
from reviewkit.privacy.screening import screen
from reviewkit.review.files import NARRATIVE_SECTIONS, text_of
from reviewkit.review.reviewyaml import ConfirmedClaim
from reviewkit.review.snapshot import ReviewSnapshot, snapshot_of

if TYPE_CHECKING:  # type hints only
    from reviewkit.review.workspace import Workspace

__all__ = ["Claim", "confirm_claim", "facts_of", "field_problems", "narrative_claims", "narrative_texts",
           "open_claims"]

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Claim:
    """A claim in the narrative the figures do not bear out; ``reason`` is the host's, once confirmed."""

    file: str
    line: int
    kind: str
    quote: str
    message: str
    reason: str = ""
    sentence: str = ""  # a digest of the sentence's words (reviewkit.figures.claims.ClaimFlag)

    def __str__(self) -> str:
        return f'{self.file} line {self.line}: "{self.quote}" — {self.message}'


def _allocation(meta: Any) -> pd.DataFrame:
    rows = []
    for case in meta.cases:
        rows.append({"case_id": case.id, "reviewer": case.reviewer, "primary": True})
        rows += [{"case_id": case.id, "reviewer": m, "primary": False} for m in case.moderators]
    return pd.DataFrame(rows, columns=["case_id", "reviewer", "primary"])


def _meetings(raw: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in raw.to_dict("records"):
        by_role = {str(k): int(v) for k, v in (r.get("attendees") or {}).items()}
        rows.append({"kind": r.get("kind", ""), "attendees": sum(by_role.values()), "by_role": by_role})
    return rows


def facts_of(ws: Workspace | ReviewSnapshot) -> ReviewFacts:
    """The review's facts from one snapshot, computed as the report computes them."""
    snap = snapshot_of(ws)
    return review_facts(snap.frame("ratings"), _allocation(snap.meta), snap.tool,
                        meetings=_meetings(snap.frame("meetings")), conversations=snap.frame("conversations"),
                        flags=snap.frame("case_flags"), previous=snap.previous_round())


def narrative_texts(ws: Workspace | ReviewSnapshot) -> dict[str, str]:
    """Each narrative file's text as written, by its path in the workspace ('narrative/key_messages.md').

    HTML comments are blanked but keep their lines, so a line number is the line the team sees.
    """
    snap = snapshot_of(ws)
    out = {}
    for name in NARRATIVE_SECTIONS:
        raw = snap.narrative_bytes(f"{name}.md")
        if raw is None:
            continue
        try:
            text = text_of(raw)
        except UnicodeDecodeError:
            raise WorkspaceError(f"{snap.path / 'narrative' / f'{name}.md'}: not UTF-8 text; save it as UTF-8") from None
        out[f"narrative/{name}.md"] = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return out


def _safe_quote(quote: str, kind: str, names: list[str]) -> str:
    return f"({CLAIM_KINDS[kind]})" if screen(quote, names) else quote


def narrative_claims(ws: Workspace | ReviewSnapshot, facts: ReviewFacts | None = None) -> list[Claim]:
    """Every claim in the narrative the figures do not bear out, confirmed ones with the host's reason."""
    snap = snapshot_of(ws)
    facts = facts if facts is not None else facts_of(snap)
    names = snap.private_names()
    out = []
    for file, text in narrative_texts(snap).items():
        for flag in check_claims(text, facts):
            quote = _safe_quote(flag.quote, flag.kind, names)
            reason = next((c.reason for c in snap.meta.confirmed_claims
                           if c.file == file and c.text.casefold() == quote.casefold()
                           and c.sentence in ("", flag.sentence)), "")
            out.append(Claim(file, flag.line, flag.kind, quote, flag.message, reason, flag.sentence))
    return out


def open_claims(ws: Workspace | ReviewSnapshot, facts: ReviewFacts | None = None) -> list[Claim]:
    """The claims neither fixed nor confirmed: a final report waits for each."""
    return [c for c in narrative_claims(ws, facts) if not c.reason]


def field_problems(ws: Workspace | ReviewSnapshot, facts: ReviewFacts | None = None) -> list[str]:
    """Each unknown {{ field }} in the narrative, by file and line with the nearest field (empty when none)."""
    snap = snapshot_of(ws)
    facts = facts if facts is not None else facts_of(snap)
    problems = []
    for file, text in narrative_texts(snap).items():
        rest = text
        while True:
            try:
                render_fields(rest, facts, file)
                break
            except NarrativeFieldError as exc:
                problems.append(str(exc))
                line = int(re.search(r" line (\d+):", str(exc)).group(1))  # type: ignore[union-attr]
                lines = rest.split("\n")  # blank the line reported, then look for the next one
                lines[line - 1] = ""
                rest = "\n".join(lines)
    return problems


def confirm_claim(ws: Workspace, file: str, line: int, reason: str) -> list[Claim]:
    """Confirm the claims flagged at ``file`` line ``line`` as true, with the host's reason (in review.yaml).

    Returns the claims confirmed. Refused without a reason, or where no open claim is flagged.
    """
    reason = " ".join(reason.split())
    if len(reason) < 10:
        raise WorkspaceError("confirm-claim needs a reason of a few words saying why the claim is true although "
                             "the figures seem to contradict it, e.g. --reason \"the share counts Good or better; "
                             "the sentence means the same\"")
    file = file if file.startswith("narrative/") else f"narrative/{file}"
    file = file if file.endswith(".md") else f"{file}.md"
    flagged = [c for c in open_claims(ws) if c.file == file and c.line == line]
    if not flagged:
        here = sorted({c.line for c in open_claims(ws) if c.file == file})
        where = f" (open claims there are on line{'s' if len(here) != 1 else ''} {', '.join(map(str, here))})" \
            if here else " (it has no open claims)"
        raise WorkspaceError(f"{file} line {line}: no open claim is flagged there{where}; list them with "
                             f"reviewkit check {ws.path}")
    known = {(c.file, c.text.casefold(), c.sentence) for c in ws.meta.confirmed_claims}
    added = [ConfirmedClaim(c.file, c.quote, reason, c.sentence) for c in flagged
             if (c.file, c.quote.casefold(), c.sentence) not in known]
    ws.meta.confirmed_claims = [*ws.meta.confirmed_claims, *dict.fromkeys(added)]
    ws.save_meta()
    ws.purge_report_cache()
    return [Claim(c.file, c.line, c.kind, c.quote, c.message, reason) for c in flagged]
