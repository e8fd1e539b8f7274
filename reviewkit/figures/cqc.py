"""The CQC's local authority assessment framework, and the evidence a review holds against it.

Councils use a peer review to prepare for the CQC's assessment, which looks at four themes and
nine quality statements. The audit tool's questions and the codebook's codes and I statements
already say which statements they give evidence for (``cqc: [..]`` in their YAML, validated
when loaded); this module gathers that evidence per statement. It never scores a statement:
a peer review is not a CQC assessment, and a score from a handful of case records would
claim more than the evidence can bear.

Every function here is pure: DataFrames in, DataFrames out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pandas as pd

from reviewkit.core.cqc import (
    NOT_AN_ASSESSMENT,
    STANCES,
    STATEMENTS,
    THEMES,
    QualityStatement,
    fold,
    parse_statement,
    parse_theme,
    quality_statements_stub,
)
from reviewkit.core.themes import Codebook
from reviewkit.core.tools import AuditTool
from reviewkit.figures import analysis as an
from reviewkit.figures.notes import note_codes, notes_frame

__all__ = [
    "NOT_AN_ASSESSMENT",
    "QualityStatement",
    "STATEMENTS",
    "THEMES",
    "EVIDENCE_KINDS",
    "MIN_KINDS",
    "OUT_OF_SCOPE",
    "code_evidence",
    "conversation_code_evidence",
    "distinct_totals",
    "evidence_links",
    "i_statement_counts",
    "i_statement_evidence",
    "out_of_scope",
    "parse_statement",
    "quality_statements_stub",
    "question_evidence",
    "split_commentary",
    "statement_summary",
]

# --------------------------------------------------------------------------- evidence

QUESTION_EVIDENCE_COLUMNS = ["statement", "question", "number", "title", "scored", "good_or_better",
                             "percent", "display", "ci_low", "ci_high"]


def question_evidence(ratings: pd.DataFrame | None, tool: AuditTool) -> pd.DataFrame:
    """Per statement, each audit question mapped to it: ratings counted and share in the top two levels.

    ``ratings`` are the primary ratings (``analysis.primary_ratings``). The interval is Wilson's,
    on the question's scored ratings (Not applicable left out).
    """
    by_q = an.question_distribution(ratings, tool).set_index("question")
    rows = []
    for s in STATEMENTS:
        for q in tool.questions:
            if s.number not in q.cqc:
                continue
            r = by_q.loc[q.id]
            k, n = int(r["good_or_better"]), int(r["scored"])
            lo, hi = an.wilson_interval(k, n)
            rows.append({"statement": s.number, "question": q.id, "number": int(r["number"]), "title": q.title,
                         "scored": n, "good_or_better": k, "percent": an.pct(k, n),
                         "display": an.format_count(k, n), "ci_low": 100 * lo, "ci_high": 100 * hi})
    return pd.DataFrame(rows, columns=QUESTION_EVIDENCE_COLUMNS)


def _stance(value: Any) -> str:
    return value if isinstance(value, str) and value in STANCES[:3] else "unspecified"


CODE_EVIDENCE_COLUMNS = ["statement", "code", "label", *STANCES, "total"]


def code_evidence(notes: pd.DataFrame | None, codebook: Codebook) -> pd.DataFrame:
    """Per statement, each meeting code mapped to it: notes from the meetings by stance.

    Only codes with at least one note are listed; a note with two codes counts under each.
    """
    df = notes_frame(notes)
    df = df[df["source"] == "meeting"]
    counts: dict[str, dict[str, int]] = {}
    for row in df.to_dict("records"):
        for code in note_codes(row.get("codes")):
            tally = counts.setdefault(code, dict.fromkeys(STANCES, 0))
            tally[_stance(row.get("stance"))] += 1
    rows = []
    for s in STATEMENTS:
        for c in codebook.codes:
            if s.number in c.cqc and c.id in counts:
                tally = counts[c.id]
                rows.append({"statement": s.number, "code": c.id, "label": c.label, **tally,
                             "total": sum(tally.values())})
    return pd.DataFrame(rows, columns=CODE_EVIDENCE_COLUMNS)


I_COUNT_COLUMNS = ["code", "label", "text", "cqc", "conversations", *STANCES, "quotes"]


def i_statement_counts(notes: pd.DataFrame | None, codebook: Codebook) -> pd.DataFrame:
    """Each I statement: the conversations with a note coded to it, by how the person's words leaned.

    The unit is the conversation (one person, or a person with their relative), not the note,
    so that one talkative conversation does not count many times. A conversation whose notes on
    the statement all lean one way is counted under that stance; one with notes both ways is
    "mixed"; notes with no stance leave it "unspecified" unless another note has one.
    ``quotes`` counts the quotes coded to it that a reviewer marked for the report.
    """
    df = notes_frame(notes)
    df = df[df["source"] == "conversation"]
    seen: dict[str, dict[Any, set[str]]] = {}
    quotes: dict[str, int] = {}
    for row in df.to_dict("records"):
        conv = row.get("conversation_id")
        for code in note_codes(row.get("codes")):
            seen.setdefault(code, {}).setdefault(conv, set()).add(_stance(row.get("stance")))
            if row.get("kind") == "quote" and bool(row.get("use_in_report")):
                quotes[code] = quotes.get(code, 0) + 1
    rows = []
    for c in codebook.i_statements:
        tally = dict.fromkeys(STANCES, 0)
        for stances in seen.get(c.id, {}).values():
            leaning = stances - {"unspecified"}
            if not leaning:
                tally["unspecified"] += 1
            elif len(leaning) == 1:
                tally[next(iter(leaning))] += 1
            else:
                tally["mixed"] += 1
        rows.append({"code": c.id, "label": c.label, "text": c.text, "cqc": tuple(c.cqc),
                     "conversations": len(seen.get(c.id, {})), **tally, "quotes": quotes.get(c.id, 0)})
    return pd.DataFrame(rows, columns=I_COUNT_COLUMNS)


def i_statement_evidence(counts: pd.DataFrame) -> pd.DataFrame:
    """``i_statement_counts`` spread over the statements each I statement maps to (heard ones only)."""
    rows = [{"statement": s.number, **r} for s in STATEMENTS for r in counts.to_dict("records")
            if s.number in r["cqc"] and r["conversations"]]
    return pd.DataFrame(rows, columns=["statement", *I_COUNT_COLUMNS])


EVIDENCE_KINDS = {"ratings": "audit ratings", "meeting_notes": "notes from meetings",
                  "conversations": "conversations", "written": "the team's written points"}
MIN_KINDS = 2  # a statement counts as evidenced only with at least this many kinds of evidence


def _code_map(codebook: Codebook | None, attr: str) -> dict[str, tuple[int, ...]]:
    return {c.id: tuple(c.cqc) for c in getattr(codebook, attr, ())} if codebook is not None else {}


def evidence_links(notes: pd.DataFrame | None, codebook: Codebook | None
                   ) -> tuple[dict[int, set[Any]], dict[int, set[Any]]]:
    """Per statement, the distinct meeting notes and the distinct conversations that give evidence for it.

    A meeting note counts when one of its codes maps to the statement; a conversation counts
    when any of its notes carries a code or an I statement that maps to it (so a carer's note
    coded ``carers`` counts under every statement ``carers`` names). Each note and each
    conversation is counted once per statement, however many of its codes map there.
    """
    df = notes_frame(notes)
    codes, i_codes = _code_map(codebook, "codes"), _code_map(codebook, "i_statements")
    notes_for: dict[int, set[Any]] = {}
    convs_for: dict[int, set[Any]] = {}
    for row in df.to_dict("records"):
        source = row.get("source")
        for code in note_codes(row.get("codes")):
            if source == "meeting":
                for n in codes.get(code, ()):
                    notes_for.setdefault(n, set()).add(row.get("note_id"))
            elif source == "conversation":
                for n in (*codes.get(code, ()), *i_codes.get(code, ())):
                    convs_for.setdefault(n, set()).add(row.get("conversation_id"))
    return notes_for, convs_for


def distinct_totals(notes: pd.DataFrame | None, codebook: Codebook | None) -> dict[str, int]:
    """How many different meeting notes and conversations give evidence for any statement (each once)."""
    notes_for, convs_for = evidence_links(notes, codebook)
    return {"meeting_notes": len(set().union(*notes_for.values())) if notes_for else 0,
            "conversations": len(set().union(*convs_for.values())) if convs_for else 0,
            "note_links": sum(len(v) for v in notes_for.values()),
            "conversation_links": sum(len(v) for v in convs_for.values())}


OUT_OF_SCOPE = "outside the scope of this review"


def out_of_scope(said: Mapping[str, str]) -> str | None:
    """The team's reason when it marks a statement outside the review's scope; None when it does not.

    The team says so in ``narrative/quality_statements.md`` by writing, under the statement's
    heading, a line that begins "Outside the scope of this review" (anything after it, such as
    ": the review looked at …", is the reason, shown in the report). '' means no reason given.
    """
    text = _COMMENT.sub("", said.get("notes", "")).strip()
    folded = text.lstrip("-*_ ").casefold()
    if not folded.startswith(OUT_OF_SCOPE):
        return None
    return text.lstrip("-*_ ")[len(OUT_OF_SCOPE):].lstrip("*_ :;.,–—-").strip().rstrip("*_ ")


def statement_summary(questions: pd.DataFrame, codes: pd.DataFrame, i_statements: pd.DataFrame,
                      notes: pd.DataFrame | None, commentary: Mapping[int, Mapping[str, str]] | None = None,
                      codebook: Codebook | None = None) -> pd.DataFrame:
    """One row per statement: how much evidence of each kind the review holds for it.

    ``ratings`` is the number of scored question ratings on the questions mapped to it;
    ``meeting_notes`` the notes from meetings with a code mapped to it (each note once);
    ``conversations`` the conversations with a note coded to a code or I statement mapped to it
    (each conversation once); ``written`` whether the team wrote strengths, areas for
    consideration or other points for it; ``kinds`` how many of these four kinds it has, and
    ``evidence`` whether that is at least ``MIN_KINDS``. ``out_of_scope`` is the team's reason
    (or '') when it marked the statement outside the review's scope, else None. Without a
    ``codebook``, the code mappings are read from ``codes`` and ``i_statements`` (codes seen there only).
    """
    commentary = commentary or {}
    if codebook is None:
        def ids(frame: pd.DataFrame) -> list[Any]:
            grouped: dict[str, set[int]] = {}
            for r in frame.to_dict("records"):
                grouped.setdefault(r["code"], set()).add(int(r["statement"]))
            return [SimpleNamespace(id=k, cqc=tuple(v)) for k, v in grouped.items()]

        codebook = SimpleNamespace(codes=ids(codes), i_statements=ids(i_statements))  # type: ignore[assignment]
    notes_for, convs_for = evidence_links(notes, codebook)
    rows = []
    for s in STATEMENTS:
        q = questions[questions["statement"] == s.number]
        said = commentary.get(s.number, {})
        scope = out_of_scope(said)
        written = scope is None and any(str(said.get(k, "")).strip() for k in ("strengths", "considerations", "notes"))
        row = {"statement": s.number, "theme": s.theme, "label": s.label,
               "questions": len(q), "ratings": int(q["scored"].sum()) if len(q) else 0,
               "meeting_notes": len(notes_for.get(s.number, ())),
               "conversations": len(convs_for.get(s.number, ())),
               "strengths": bool(said.get("strengths")), "considerations": bool(said.get("considerations")),
               "written": written, "out_of_scope": scope}
        held = [k for k in EVIDENCE_KINDS if (row[k] > 0 if k != "written" else row[k])]
        row["kinds"] = len(held)
        row["kind_names"] = tuple(EVIDENCE_KINDS[k] for k in held)
        row["evidence"] = len(held) >= MIN_KINDS
        row["any_evidence"] = bool(held)
        rows.append(row)
    return pd.DataFrame(rows)


def conversation_code_evidence(notes: pd.DataFrame | None, codebook: Codebook | None) -> pd.DataFrame:
    """Per statement, each codebook code (not an I statement) used on conversation notes: conversations by code."""
    df = notes_frame(notes)
    df = df[df["source"] == "conversation"]
    seen: dict[str, set[Any]] = {}
    for row in df.to_dict("records"):
        for code in note_codes(row.get("codes")):
            seen.setdefault(code, set()).add(row.get("conversation_id"))
    rows = [{"statement": s.number, "code": c.id, "label": c.label, "conversations": len(seen[c.id])}
            for s in STATEMENTS for c in (codebook.codes if codebook is not None else ())
            if s.number in c.cqc and c.id in seen]
    return pd.DataFrame(rows, columns=["statement", "code", "label", "conversations"])


# --------------------------------------------------------------------------- the team's commentary

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
PARTS = {"strengths": ("strengths", "strength", "what is working well", "what works well"),
         "considerations": ("areas for consideration", "considerations", "areas for development",
                            "areas for improvement", "consideration")}


def _part(heading: str) -> str | None:
    folded = fold(heading)
    for part, names in PARTS.items():
        if folded in names:
            return part
    return None


def split_commentary(text: str) -> tuple[dict[int, dict[str, str]], list[str]]:
    """The team's strengths and areas for consideration per statement, and headings it could not place.

    Returns ``{statement number: {"strengths": md, "considerations": md, "notes": md}}`` (text
    under the statement but outside both parts is "notes") and the headings that name neither
    a statement, a theme nor a part, whose text is therefore not shown.
    """
    out: dict[int, dict[str, list[str]]] = {}
    unplaced: list[str] = []
    current: int | None = None
    level = 0
    part = "notes"
    for line in _COMMENT.sub("", text).splitlines():
        m = _HEADING.match(line)
        if m:
            heading, depth = m.group(2), len(m.group(1))
            statement = parse_statement(heading)
            if statement is not None:
                current, level, part = statement.number, depth, "notes"
                continue
            named = _part(heading)
            if named is not None and current is not None and depth > level:
                part = named
                continue
            if parse_theme(heading) is not None:
                current = None
                continue
            if current is None or depth <= level:
                unplaced.append(" ".join(heading.split()))
                current = None
                continue
        if current is not None:
            out.setdefault(current, {}).setdefault(part, []).append(line)
        elif line.strip() and not unplaced:
            unplaced.append("")  # text before any statement's heading
    result = {n: {k: "\n".join(v).strip() for k, v in parts.items() if "\n".join(v).strip()}
              for n, parts in out.items()}
    return {n: p for n, p in result.items() if p}, unplaced
