"""What still stands between a review and a report the council can publish: one list.

``readiness(ws)`` is the single answer to "can this report be final?". ``reviewkit status``
prints it, ``reviewkit report --final`` refuses while it is not empty, and a draft shows a
short summary of it up front ("What is still missing") with a banner on every page. Each gap
names where it is (case id, question, meeting reference, file) and never a value a person
typed, so the list is safe to print and to show in a draft.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewkit.core.errors import InvalidInputError, ToolError, WorkspaceError

if TYPE_CHECKING:  # type hints only
    from reviewkit.review.workspace import Workspace

__all__ = ["DRAFT_INCOMPLETE", "GAP_KINDS", "Gap", "missing_summary", "readiness"]

DRAFT_INCOMPLETE = "DRAFT — DATA INCOMPLETE"

# Every kind of gap, in the order they are listed, with the heading the draft's box gives it.
GAP_KINDS: dict[str, str] = {
    "no_cases": "No case records allocated",
    "selection": "How the case records were chosen not recorded",
    "unrated": "Case records with no ratings yet",
    "missing_questions": "Case records with questions not rated",
    "no_overall": "Case records with no overall judgement",
    "not_complete": "Case records not marked complete",
    "evidence": "Low ratings without an evidence note",
    "moderation": "Moderation cases not rated by all their reviewers",
    "attendance": "Meetings with no attendance recorded",
    "fieldwork": "No meetings or no conversations recorded",
    "narrative": "Narrative sections not written",
    "cqc": "CQC quality statements with nothing written by the team",
    "concerns": "Concerns about a person's safety with no council response recorded",
    "identifiers": "Published text holding a possible personal identifier",
    "fields": "Narrative fields the review does not have",
    "claims": "Claims in the narrative the figures do not bear out",
}


@dataclass(frozen=True)
class Gap:
    """One thing missing before the report can be final: its kind, where it is and the fix."""

    kind: str
    where: str
    message: str
    case_id: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _title(ws: Workspace, qid: str) -> str:
    """A question's title ('Personal strengths'), so no one has to look its id up."""
    if qid == ws.tool.overall.id:
        return "Overall judgement"
    try:
        return ws.tool.question(qid).title
    except ToolError:
        return qid


def _rating_gaps(ws: Workspace) -> list[Gap]:
    """Gaps in each reviewer's allocated cases, from the same completeness table as the forms."""
    from reviewkit.review.progress import completeness  # start-up: the package imports this module eagerly (pandas)
    with ws.store() as store:
        table = completeness(ws, store)
        stored = {(r.case_id, r.reviewer, r.question): r.rating
                  for r in store.all_ratings().itertuples(index=False)}
    gaps: list[Gap] = []
    total = len(ws.tool.question_ids)
    moderator_gaps: set[str] = set()
    for row in table.itertuples(index=False):
        where = f"{row.case_id} ({row.reviewer})"
        if row.moderation and (row.missing or not row.overall):
            # A moderator's copy: the case itself may be fully rated by its reviewer, so this is
            # a moderation gap, never "case record with no ratings" in the draft's box.
            left = ("no ratings yet" if row.rated == 0 and not row.overall else
                    "; ".join(filter(None, [
                        f"{len(row.missing)} of {total} questions not rated: {', '.join(row.missing)}"
                        if row.missing else "", "" if row.overall else "no overall judgement"])))
            gaps.append(Gap("moderation", where, f"moderation ratings: {left}; agreement needs every "
                            "reviewer's ratings", row.case_id))
            moderator_gaps.add(row.case_id)
            if row.rated == 0 and not row.overall:
                continue
        elif row.rated == 0 and not row.overall:
            gaps.append(Gap("unrated", where, "no ratings yet; every question and the overall judgement "
                            "need rating", row.case_id))
            continue
        elif row.missing:
            gaps.append(Gap("missing_questions", where, f"{len(row.missing)} of {total} questions not rated: "
                            f"{', '.join(row.missing)}", row.case_id))
        if not row.overall and not row.moderation:
            gaps.append(Gap("no_overall", where, "no overall judgement", row.case_id))
        for qid in row.needs_note:
            level = stored.get((row.case_id, row.reviewer, qid)) or "a low rating"
            gaps.append(Gap("evidence", f"{row.case_id} {qid} ({row.reviewer})",
                            f"{_title(ws, qid)}: rated {level} with no evidence note; write what the "
                            "record lacked", row.case_id))
        if not row.marked_complete:
            gaps.append(Gap("not_complete", where, "not marked complete by its reviewer", row.case_id))
    by_case: dict[str, list[bool]] = {}
    for row in table.itertuples(index=False):
        by_case.setdefault(row.case_id, []).append(not row.missing and bool(row.overall))
    for case in ws.meta.cases:
        if case.moderators and case.id not in moderator_gaps and not all(by_case.get(case.id, [False])):
            done = sum(by_case.get(case.id, []))
            gaps.append(Gap("moderation", case.id, f"moderation case rated in full by {done} of its "
                            f"{len(case.reviewers)} reviewers; agreement needs every one", case.id))
    return gaps


def _attendance_gaps(ws: Workspace) -> list[Gap]:
    """Meetings with no attendance by role: the report counts who the team met from it."""
    with ws.store() as store:
        meetings = store.meetings()
        conversations = store.conversations()
    gaps = []
    # The report's method counts both; a final report saying "held no meetings with staff" (or
    # "no conversations") is far more often a missing import than a review without them.
    if not len(meetings):
        gaps.append(Gap("fieldwork", "meetings", "no meetings with staff are recorded; record each meeting "
                        "(its kind, date and who attended) in the meeting form or import them"))
    if not len(conversations):
        gaps.append(Gap("fieldwork", "conversations", "no conversations with people or their families are "
                        "recorded; record each in the conversation form or import them"))
    for m in meetings.itertuples(index=False):
        if int(m.attendee_count or 0) > 0:
            continue
        name = f"meeting {m.ref}" if isinstance(m.ref, str) and m.ref else f"meeting #{int(m.id)}"
        when = f" held {m.held_on}" if m.held_on else ""
        gaps.append(Gap("attendance", name, f"the meeting with {m.kind}{when} has no attendance recorded; give how "
                        "many of each role attended"))
    return gaps


def _text_gaps(ws: Workspace, identifiers: Sequence[str] | None) -> list[Gap]:
    """Unwritten narrative files, then published text holding an identifier (by location only)."""
    from reviewkit.review.narrative import narrative_status  # start-up: the package imports this module eagerly
    from reviewkit.review.redaction import published_identifiers  # start-up: it brings in the store and pandas

    try:
        held = ws if hasattr(ws, "narrative_bytes") else ws.path  # a snapshot: the files as it read them
        unwritten = [n for n in narrative_status(held).values() if not n.written and not n.optional]
        found = list(identifiers) if identifiers is not None else published_identifiers(ws)
    except WorkspaceError as exc:  # a narrative file that is not UTF-8: its message names the file
        return [Gap("narrative", "narrative", str(exc))]
    # A file written in part says what is still to write ("an answer to review question 2").
    gaps = [Gap("narrative", n.path.relative_to(ws.path).as_posix(),
                "still needs " + "; ".join(n.gaps) if n.gaps else "not written yet (missing or only the stub)")
            for n in unwritten]
    for item in found:
        where, _, what = item.partition(": ")
        gaps.append(Gap("identifiers", where, f"{what}; remove it (reviewkit check lists it, reviewkit redact "
                        "replaces it with a placeholder)"))
    return gaps


def _claim_gaps(ws: Workspace) -> list[Gap]:
    """Each {{ field }} the review lacks, and each claim in the narrative neither fixed nor confirmed."""
    from reviewkit.review.claims import facts_of, field_problems, open_claims  # start-up: pandas, the figures
    from reviewkit.review.snapshot import snapshot_of  # start-up: as above

    try:
        snap = snapshot_of(ws)  # one read of the review for the three
        facts = facts_of(snap)
        problems = field_problems(snap, facts)
        claims = open_claims(snap, facts)
    except WorkspaceError as exc:  # a narrative file that is not UTF-8: the narrative gap says so
        return [] if "UTF-8" in str(exc) else [Gap("claims", "narrative", str(exc))]
    except InvalidInputError as exc:  # ratings the figures cannot read: the report says so too
        return [Gap("claims", "narrative", f"its figures and comparisons cannot be checked: {exc}")]
    gaps = []
    for problem in problems:
        where, _, what = problem.partition(": ")
        gaps.append(Gap("fields", where, what))
    for c in claims:
        gaps.append(Gap("claims", f"{c.file} line {c.line}",
                        f'"{c.quote}" — {c.message}. Correct it, or confirm it with a reason (reviewkit confirm-claim)'))
    return gaps


def _cqc_gaps(ws: Workspace) -> list[Gap]:
    """Quality statements the team wrote nothing for and did not mark outside the review's scope."""
    from reviewkit.core.cqc import STATEMENTS  # start-up: the package imports this module eagerly
    from reviewkit.figures.cqc import out_of_scope, split_commentary  # start-up: it brings in pandas
    from reviewkit.review.narrative import narrative_status  # start-up: the package imports this module eagerly

    held = ws if hasattr(ws, "narrative_bytes") else ws.path
    try:
        item = narrative_status(held).get("quality_statements")
    except WorkspaceError:
        return []  # a file that is not UTF-8 is already a narrative gap
    said, _ = split_commentary(item.text if item is not None else "")
    where = "narrative/quality_statements.md"
    gaps = []
    for s in STATEMENTS:
        parts = said.get(s.number, {})
        if out_of_scope(parts) is None and not any(v.strip() for v in parts.values()):
            gaps.append(Gap("cqc", where, f"QS{s.number} {s.label}: nothing written; write the team's strengths "
                            "and areas for consideration under its heading, or the line 'Outside the scope of this "
                            "review' (with the reason after a colon)"))
    return gaps


def _concern_gaps(ws: Workspace) -> list[Gap]:
    """Concerns raised with the council whose response the host has not recorded yet."""
    with ws.store() as store:
        concerns = store.concerns()
    import shlex  # start-up: only a review with a concern logged needs it

    folder = shlex.quote(str(ws.path))
    return [Gap("concerns", f"{r.case_id} ({r.reviewer})", f"a concern raised on {r.raised_on} has no response from "
                f"the council recorded; record it with: reviewkit concern {folder} --case "
                f"{r.case_id} --response \"what the council did\"", r.case_id)
            for r in concerns.itertuples(index=False) if r.open]


def readiness(ws: Workspace, *, identifiers: Sequence[str] | None = None) -> list[Gap]:
    """Every gap between the review and a final report, in GAP_KINDS order; empty when ready.

    ``identifiers`` is ``redaction.published_identifiers(ws)`` when the caller has it already.
    """
    gaps: list[Gap] = []
    if not ws.meta.cases:
        gaps.append(Gap("no_cases", "review.yaml", "no case records are allocated; list them under 'cases'"))
    if not ws.meta.case_selection:
        gaps.append(Gap("selection", "review.yaml", "how the case records were chosen is not recorded; add "
                        "'case_selection' with 'method' (random, stratified, council or mixed) so the report "
                        "can say what its figures stand for"))
    gaps += _rating_gaps(ws)
    gaps += _attendance_gaps(ws)
    gaps += _text_gaps(ws, identifiers)
    gaps += _claim_gaps(ws)
    gaps += _cqc_gaps(ws)
    gaps += _concern_gaps(ws)
    order = list(GAP_KINDS)
    return sorted(gaps, key=lambda g: order.index(g.kind))


def missing_summary(gaps: Sequence[Gap]) -> list[dict[str, str]]:
    """The draft's "What is still missing" box: per kind a count and where, never a reviewer's name.

    Case gaps are counted in case records (or ratings, for evidence notes) and located by case
    id only, so the box cannot be read as a league table of reviewers.
    """
    rows = []
    for kind, heading in GAP_KINDS.items():
        mine = [g for g in gaps if g.kind == kind]
        if not mine:
            continue
        cases = list(dict.fromkeys(g.case_id for g in mine if g.case_id))
        if kind == "evidence":
            count = f"{len(mine)} rating{'s' if len(mine) != 1 else ''}"
        elif cases:
            count = f"{len(cases)} case record{'s' if len(cases) != 1 else ''}"
        else:
            count = str(len(mine))
        where = cases or list(dict.fromkeys(g.where.split(",")[0] for g in mine))
        rows.append({"kind": kind, "what": heading, "count": count, "where": ", ".join(where)})
    return rows
