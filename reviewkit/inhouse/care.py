"""Looking after a programme's data: what check reports, what redact changes, what export writes.

In: an in-house programme (programme.yaml, audits.sqlite, and optionally the private names list
``private/names.txt`` as a review keeps it). Out: ``check_programme``: what a final tracking
report still needs and every possible identifier, by location (table, audit and field, or the
key of programme.yaml), never by value; ``redact_programme``: identifiers in the stored evidence
notes replaced by the same typed placeholders a review's redaction uses ([PERSON 1] …, one map per
folder, kept in ``private/``), in one transaction with an audit-log row per audit changed, the
freed pages zeroed; ``export_programme``: the stored audits as the audit file the import reads
(CSV or XLSX), so it imports back unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from reviewkit.core.atomic import make_folder, write_text
from reviewkit.core.errors import InvalidInputError, ProgrammeError
from reviewkit.inhouse.importer import AUDIT_COLUMNS, note_column
from reviewkit.inhouse.programme import PROGRAMME_FILE, STORE_FILE, Programme
from reviewkit.inhouse.tracking import load_tracking
from reviewkit.intake.io import write_tables
from reviewkit.privacy import screening as privacy
from reviewkit.review import auditlog
from reviewkit.review.files import REDACTION_MAP_FILE
from reviewkit.review.redaction import Location, RedactionSummary, load_redaction_map

__all__ = ["ProgrammeCheck", "check_programme", "export_programme", "redact_programme"]


@dataclass
class ProgrammeCheck:
    """What ``reviewkit check`` says about a programme."""

    gaps: list[str] = field(default_factory=list)  # what a final tracking report still needs
    found: list[Location] = field(default_factory=list)

    @property
    def blocks(self) -> int:
        """Findings that must be removed: anything in text the report prints, and sure identifiers anywhere."""
        return sum(1 for f in self.found if f.level == "block" or f.published)


def _notes(programme: Programme) -> list[tuple[str, str, str, str, str]]:
    """Every stored evidence note: (audit_id, role, auditor, question, note)."""
    with programme.store() as store:
        return list(store.db.execute("SELECT audit_id, role, auditor, question, comment FROM ratings WHERE comment != '' "
                                     "ORDER BY audit_id, role, question"))


def check_programme(programme: Programme) -> ProgrammeCheck:
    """Readiness for a final tracking report, and every possible identifier, by location."""
    names = programme.screening_names()
    try:
        out = ProgrammeCheck(gaps=load_tracking(programme).gaps)
    except ProgrammeError as exc:  # no audits yet, or an action plan it cannot read: a gap to report, not a stop
        out = ProgrammeCheck(gaps=[str(exc)])
    for where, text in programme.published_text().items():
        out.found += [Location(PROGRAMME_FILE, where, "text", f.kind, f.level, f.start, f.end, True)
                      for f in privacy.screen(text, names)]
    for audit_id, role, _auditor, question, note in _notes(programme):
        out.found += [Location(STORE_FILE, f"audit {audit_id} ({role} auditor)", f"{question} evidence note", f.kind,
                               f.level, f.start, f.end, False) for f in privacy.screen(note, names)]
    return out


def redact_programme(programme: Programme, *, actor: str) -> RedactionSummary:
    """Replace identifiers in the stored evidence notes with placeholders; redacting twice changes nothing.

    programme.yaml is the host's own text and is not rewritten: ``check`` names where it needs editing.
    """
    names = programme.screening_names()
    mapping = load_redaction_map(programme.path)
    before = dict(mapping)
    changed: dict[str, dict[str, tuple[str, str]]] = {}  # audit_id/role → question → (old, new)
    for audit_id, role, _auditor, question, note in _notes(programme):
        if privacy.screen(note, names):
            new = privacy.redact(note, names, mapping)
            if new != note:
                changed.setdefault(f"{audit_id}/{role}", {})[question] = (note, new)
    map_file = programme.path / REDACTION_MAP_FILE
    with programme.store() as store:
        db = store.db
        db.execute("PRAGMA secure_delete = ON")  # the old words do not linger in freed pages
        db.execute("BEGIN IMMEDIATE")
        try:
            now = auditlog.now()
            for key, notes in changed.items():
                audit_id, role = key.rsplit("/", 1)
                db.executemany("UPDATE ratings SET comment = ? WHERE audit_id = ? AND role = ? AND question = ?",
                               [(new, audit_id, role, q) for q, (_old, new) in notes.items()])
                digests = [{"notes": {q: auditlog.digest(pair[i]) for q, pair in notes.items()}} for i in (0, 1)]
                db.execute(auditlog.AUDIT_LOG_INSERT, (now, actor, "redact", "audit", key,
                                                       auditlog.for_log(digests[0]), auditlog.for_log(digests[1]),
                                                       "identifiers replaced by placeholders"))
            if mapping != before or (mapping and not map_file.exists()):
                make_folder(map_file.parent, exist_ok=True)
                write_text(map_file, json.dumps(mapping, indent=1, sort_keys=True), mode=0o600)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if changed:
            db.execute("VACUUM")
    return RedactionSummary({STORE_FILE: sum(len(n) for n in changed.values())} if changed else {})


def export_programme(programme: Programme, out: str | Path) -> Path:
    """Write the stored audits as an audit file (one row per audit and auditor) that imports back unchanged."""
    out = Path(out)
    if out.suffix.casefold() not in (".csv", ".xlsx"):
        raise InvalidInputError(f"{out}: the export file name must end in .csv or .xlsx")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out}: the folder {out.parent} does not exist; create it first")
    questions = programme.tool.all_ids
    columns = [*AUDIT_COLUMNS[:5], *questions, *AUDIT_COLUMNS[5:], *(note_column(q) for q in questions)]
    with programme.store() as store:
        meta = {r.audit_id: r for r in store.audits().itertuples()}
        stored = store.stored()
    rows = []
    for (audit_id, role), (month, team, ratings, notes, auditor) in sorted(
            stored.items(), key=lambda kv: (kv[1][0], kv[0][0], kv[0][1] != "first")):
        first = role == "first"
        row = {"audit_id": audit_id, "month": month, "team": team, "auditor": auditor, "role": role,
               "themes": meta[audit_id].themes.replace(";", "; ") if first else "",
               "feedback_from": meta[audit_id].feedback_from if first else "",
               "feedback": meta[audit_id].feedback if first else ""}
        row.update({q: ratings.get(q, "") for q in questions})
        row.update({note_column(q): notes.get(q, "") for q in questions})
        rows.append(row)
    return write_tables(out, {"audits": rows}, {"audits": tuple(columns)})
