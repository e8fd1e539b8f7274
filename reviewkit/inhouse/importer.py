"""Importing an in-house programme's audits from CSV or XLSX: every row checked, then all stored or none.

In: CSV or XLSX files, one row per audit and auditor (README "In-house audits"): audit_id,
month, team, auditor, role (first or moderator; blank is first), one column per question of
the programme's audit tool (its ids: q1 … and overall), and optionally themes (theme ids
separated by ';'), feedback_from (person, carer or both), feedback (positive, mixed or
negative) and an evidence note per question (``q1_note`` … ``overall_note``, screened for
identifiers as a review's notes are); or one audit from the entry form (``record_audit``). Out: an ``AuditImport`` (audits and ratings added, changed, unchanged) after one
transaction, each audit logged in the store's audit log; or ``ImportFileError`` listing every problem (file, row, column and the fix,
never a cell's value) with nothing stored. Files are read with the review import's readers
(``reviewkit.intake.tables``), so the same limits and formula guards apply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewkit.core.errors import BlockedTextError, ImportFileError, InvalidInputError, Problem, WarningTextError
from reviewkit.inhouse.programme import Programme
from reviewkit.privacy import screening as privacy
from reviewkit.privacy.gate import reference_shaped
from reviewkit.review import auditlog
from reviewkit.intake.tables import Progress, Table, norm_header, read_file, unescape

__all__ = ["AUDIT_COLUMNS", "AuditImport", "FORM_FILE", "import_audits", "note_column", "record_audit"]

AUDIT_COLUMNS = ("audit_id", "month", "team", "auditor", "role", "themes", "feedback_from", "feedback")
REQUIRED = ("audit_id", "month", "team", "auditor")
ROLES = {"first": "first", "": "first", "auditor": "first", "moderator": "moderator", "second": "moderator",
         "moderation": "moderator"}
FEEDBACK_FROM = {"person": "person", "carer": "carer", "both": "both", "person and carer": "both"}
FEEDBACK = ("positive", "mixed", "negative")
_AUDIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,39}$")
FORM_FILE = "the audit form"  # where a problem is, for an audit entered in the form
_MONTHS = {dt.date(2000, m, 1).strftime(f).casefold(): m for m in range(1, 13) for f in ("%B", "%b")}


@dataclass
class AuditImport:
    """What an import stored; ``warnings`` are the possible identifiers that stop it unless confirmed."""

    audits_added: int = 0
    audits_changed: int = 0
    unchanged: int = 0
    moderations: int = 0


def note_column(question: str) -> str:
    """The column of a question's evidence note: q3 → q3_note."""
    return f"{question}_note"


def _month(value: str) -> str | None:
    """'2027-03', '2027-03-15', '15/03/2027', 'March 2027' or 'Mar-27' → '2027-03'; None if not a month."""
    v = value.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2})(?:[ T].*)?)?", v)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v):
        y, mo = int(m.group(3)), int(m.group(2))
    elif m := re.fullmatch(r"([A-Za-z]+)[ -](\d{2}|\d{4})", v):
        if m.group(1).casefold() not in _MONTHS:
            return None
        y, mo = int(m.group(2)) + (2000 if len(m.group(2)) == 2 else 0), _MONTHS[m.group(1).casefold()]
    else:
        return None
    if not (1 <= mo <= 12 and 2000 <= y <= 2100):
        return None
    return f"{y:04d}-{mo:02d}"


@dataclass
class _Row:
    where: tuple[str, int | None]
    audit_id: str
    role: str
    month: str
    team: str
    auditor: str
    ratings: dict[str, str]
    notes: dict[str, str]
    screened: str
    themes: str
    feedback_from: str
    feedback: str


class _Checker:
    def __init__(self, programme: Programme, confirm_warnings: bool = False) -> None:
        self.p = programme
        self.tool = programme.tool
        self.questions = self.tool.all_ids
        self.notes = tuple(note_column(q) for q in self.questions)
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # possible identifiers: refused unless confirmed
        self.confirm = confirm_warnings
        self.names = programme.screening_names()
        self.seen_first: set[str] = set()  # audits with a first auditor's row, whether or not it passed
        self.rows: dict[tuple[str, str], _Row] = {}

    def problem(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(file, row, column, message))

    def table(self, t: Table) -> None:
        header = [norm_header(h) for h in t.header]
        index = {h: i for i, h in enumerate(header) if h}
        missing = [c for c in (*REQUIRED, *self.questions) if c not in index]
        if missing:
            self.problem(t.source, t.header_row, None,
                         f"the header has no column {', '.join(repr(c) for c in missing)}; an audit file needs "
                         f"{', '.join(REQUIRED)}, one column per question ({', '.join(self.questions)}) and may "
                         f"have role, themes, feedback_from and feedback")
            return
        unknown = [t.header[i] for i, h in enumerate(header)
                   if h and h not in (*AUDIT_COLUMNS, *self.questions, *self.notes)]
        for name in unknown:
            self.problem(t.source, t.header_row, name, "is not a column of an audit file; delete the column or "
                         "correct its name (questions are named by their ids, such as q1 and overall)")
        for number, cells in t.rows:
            self.row(t.source, number, {h: unescape(cells[i]).strip() if i < len(cells) else ""
                                        for h, i in index.items()})

    def screen(self, file: str, number: int | None, question: str, text: str) -> str:
        """Screen an evidence note as a review's notes are; returns the audit log's note for a confirmed warning."""
        try:
            found = privacy.check(text, self.names, confirm_warnings=self.confirm,
                                  field=f"evidence note for {question}")
        except WarningTextError as exc:
            self.warnings.append(Problem(file, number, note_column(question), str(exc)))
            self.problem(file, number, note_column(question), str(exc))
            return ""
        except BlockedTextError as exc:
            self.problem(file, number, note_column(question), str(exc))
            return ""
        kinds = sorted({f.kind for f in found if f.level == "warn"})
        return f"confirmed possible identifier(s) in the evidence note for {question}: {', '.join(kinds)}" if kinds else ""

    def row(self, file: str, number: int | None, cell: dict[str, str]) -> None:
        bad = len(self.problems)

        def need(col: str, message: str) -> None:
            self.problem(file, number, col, message)

        for col in REQUIRED:
            if not cell[col]:
                need(col, f"is empty; fill in the {col.replace('_', ' ')}")
        audit_id = cell["audit_id"]
        if audit_id and not (_AUDIT_ID.match(audit_id) and reference_shaped(audit_id)):
            need("audit_id", "must be the audit's own reference, such as IA-0042 (up to 40 letters, digits, spaces, "
                 "'.', '/', '-' or '_', with a digit, never six digits in a row), never a person's name or NHS number")
        elif re.search(r"\d{3}\D?\d{3}\D?\d{4}", audit_id):
            need("audit_id", "looks like an NHS number; use the audit's own reference instead")
        month = _month(cell["month"]) if cell["month"] else ""
        if cell["month"] and month is None:
            need("month", "is not a month; write it as 2027-03 (or a date in that month)")
        team = self.p.team(cell["team"]) if cell["team"] else ""
        if cell["team"] and team is None:
            need("team", "is not one of the programme's teams; use a team listed in programme.yaml, or add it "
                 "under teams:")
        auditor = self.p.auditor(cell["auditor"]) if cell["auditor"] else ""
        if cell["auditor"] and auditor is None:
            need("auditor", "is not one of the programme's auditors; add them under auditors: in programme.yaml")
        role = ROLES.get(cell.get("role", "").casefold())
        if role is None:
            need("role", "must be first (the auditor) or moderator (the second auditor of a moderation sample)")
        ratings: dict[str, str] = {}
        for q in self.questions:
            value = cell[q]
            level = self.tool.scale.parse(value) if value else None
            if level is None:
                need(q, ("is empty" if not value else "is not a rating") +
                     f"; use one of {self.tool.scale.describe()}")
            else:
                ratings[q] = level.label
        notes: dict[str, str] = {}
        screened = []
        for q in self.questions:
            note = " ".join(cell.get(note_column(q), "").split())
            if len(note) > 2000:
                need(note_column(q), "is longer than 2000 characters; shorten the evidence note")
            elif note:
                notes[q] = note
                screened.append(self.screen(file, number, q, note))
        themes = []
        for part in (x for x in cell.get("themes", "").split(";") if x.strip()):
            theme = self.p.theme(part)
            if theme is None:
                need("themes", "names a theme that programme.yaml does not list; use the themes' ids, separated "
                     "by ';', or add the theme under themes:")
            elif theme.id not in themes:
                themes.append(theme.id)
        fb_from = FEEDBACK_FROM.get(cell.get("feedback_from", "").casefold(), None) if cell.get("feedback_from") else ""
        if fb_from is None:
            need("feedback_from", "must be person, carer or both (or left empty when nobody gave feedback)")
        feedback = cell.get("feedback", "").casefold()
        if feedback and feedback not in FEEDBACK:
            need("feedback", "must be positive, mixed or negative; what the person or carer said stays in the "
                 "case record")
        elif feedback and not fb_from:
            need("feedback_from", "is empty but feedback is given; say whether the person, the carer or both gave it")
        if role == "moderator" and (themes or fb_from or feedback):
            need("themes" if themes else "feedback", "belongs on the first auditor's row; leave it empty on the "
                 "moderator's row")
        if role == "first":
            self.seen_first.add(audit_id)
        if len(self.problems) > bad or role is None:
            return
        key = (audit_id, role)
        if key in self.rows:
            first = self.rows[key].where
            need("audit_id", f"repeats the {role} row of an audit at {first[0]} row {first[1]}; give each audit "
                 "one row per auditor")
            return
        self.rows[key] = _Row((file, number), audit_id, role, str(month), str(team), str(auditor), ratings, notes,
                              "; ".join(x for x in screened if x), ";".join(themes), str(fb_from or ""), feedback)

    def cross_check(self, stored: dict[tuple[str, str], tuple[str, str, dict[str, str], dict[str, str], str]]) -> None:
        for (audit_id, role), r in self.rows.items():
            if role != "moderator":
                continue
            first = self.rows.get((audit_id, "first"))
            before = stored.get((audit_id, "first"))
            base = (first.month, first.team, first.auditor) if first else (
                (before[0], before[1], before[4]) if before else (None, None, None))
            file, number = r.where
            if base[0] is None and audit_id in self.seen_first:
                continue  # its first auditor's row has its own problems, listed above
            if base[0] is None:
                self.problem(file, number, "audit_id", "has a moderator's row but no first auditor's row, here or "
                             "imported before; import the first auditor's row too")
            elif (r.month, r.team) != base[:2]:
                self.problem(file, number, "month" if r.month != base[0] else "team",
                             "differs from the first auditor's row of this audit; a moderation rates the same "
                             "record, in the same month and team")
            elif base[2] == r.auditor:
                self.problem(file, number, "auditor", "is the first auditor of this audit; a moderation needs a "
                             "second auditor")


def _logged(month: str, team: str, auditor: str, ratings: dict[str, str], notes: dict[str, str],
            extra: dict[str, str]) -> str | None:
    """An audit as the audit log keeps it: evidence notes only as a length and digest."""
    return auditlog.for_log({"month": month, "team": team, "auditor": auditor, "ratings": ratings, **extra,
                             "notes": {q: auditlog.digest(n) for q, n in notes.items()}})


def _store(programme: Programme, checker: _Checker, problems: list[Problem], actor: str,
           say: Progress) -> AuditImport:
    """Cross-check against what is stored, then write every checked row in one transaction (and log it)."""
    with programme.store() as store:
        stored = store.stored()
        meta = {r.audit_id: (r.themes, r.feedback_from, r.feedback) for r in store.audits().itertuples()}
        checker.cross_check(stored)
        problems += checker.problems
        if problems:
            raise ImportFileError(problems)
        result = AuditImport()
        audits, ratings, replace, log = [], [], [], []
        for (audit_id, role), r in checker.rows.items():
            before = stored.get((audit_id, role))
            extra = ({"themes": r.themes, "feedback_from": r.feedback_from, "feedback": r.feedback}
                     if role == "first" else {})
            old_extra = dict(zip(("themes", "feedback_from", "feedback"), meta.get(audit_id, ("", "", ""))))
            if before is not None and before[:4] == (r.month, r.team, r.ratings, r.notes) and before[4] == r.auditor \
                    and (role == "moderator" or extra == old_extra):
                result.unchanged += 1
                continue
            if role == "first":
                audits.append((audit_id, r.month, r.team, r.themes, r.feedback_from, r.feedback))
                if before is None:
                    result.audits_added += 1
                else:
                    result.audits_changed += 1
            else:
                result.moderations += 1
            replace.append((audit_id, role))
            ratings += [(audit_id, role, r.auditor, q, v, r.notes.get(q, "")) for q, v in r.ratings.items()]
            source = "entered in the audit form" if r.where[0] == FORM_FILE else f"imported from {r.where[0]}"
            old = None if before is None else _logged(*before[:2], before[4], before[2], before[3],
                                                      old_extra if role == "first" else {})
            log.append(("insert" if before is None else "update", f"{audit_id}/{role}", old,
                        _logged(r.month, r.team, r.auditor, r.ratings, r.notes, extra),
                        "; ".join(x for x in (source, r.screened) if x)))
        say(f"Storing {len(audits)} audit(s) and {len(ratings)} rating(s)")
        store.write(audits, ratings, replace, actor=actor, log=log)
    return result


def import_audits(programme: Programme, paths: Sequence[str | Path], *, actor: str = "",
                  confirm_warnings: bool = False, progress: Progress | None = None) -> AuditImport:
    """Check every row of every file, then store them in one transaction, or nothing."""
    say = progress or (lambda _m: None)
    if not paths:
        raise InvalidInputError("no files to import; give one or more CSV or XLSX files")
    checker = _Checker(programme, confirm_warnings)
    problems: list[Problem] = []
    for p in paths:
        say(f"Reading {p}")
        for table in read_file(Path(p), str(p), problems, say):
            checker.table(table)
    return _store(programme, checker, problems, actor or "import", say)


def record_audit(programme: Programme, cells: dict[str, str], *, actor: str,
                 confirm_warnings: bool = False) -> AuditImport:
    """Store one audit entered in the form (one auditor's row: the columns of an audit file), checked as an
    imported row is; ``ImportFileError`` lists every problem by column, with ``FORM_FILE`` as the file."""
    unknown = sorted(set(cells) - {*AUDIT_COLUMNS, *programme.tool.all_ids,
                                   *(note_column(q) for q in programme.tool.all_ids)})
    if unknown:
        raise InvalidInputError(f"the audit form sent an unknown field '{unknown[0]}'; reload the form")
    checker = _Checker(programme, confirm_warnings)
    checker.row(FORM_FILE, None, {c: str(cells.get(c, "")).strip() for c in
                               (*AUDIT_COLUMNS, *programme.tool.all_ids,
                                *(note_column(q) for q in programme.tool.all_ids))})
    return _store(programme, checker, [], actor, lambda _m: None)
