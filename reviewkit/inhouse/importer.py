"""Importing an in-house programme's audits from CSV or XLSX: every row checked, then all stored or none.

In: CSV or XLSX files, one row per audit and auditor (README "In-house audits"): audit_id,
month, team, auditor, role (first or moderator; blank is first), one column per question of
the programme's audit tool (its ids: q1 … and overall), and optionally themes (theme ids
separated by ';'), feedback_from (person, carer or both) and feedback (positive, mixed or
negative). Out: an ``AuditImport`` (audits and ratings added, changed, unchanged) after one
transaction; or ``ImportFileError`` listing every problem (file, row, column and the fix,
never a cell's value) with nothing stored. Files are read with the review import's readers
(``reviewkit.intake.tables``), so the same limits and formula guards apply.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewkit.core.errors import ImportFileError, InvalidInputError, Problem
from reviewkit.inhouse.programme import Programme
from reviewkit.intake.tables import Progress, Table, norm_header, read_file, unescape

__all__ = ["AUDIT_COLUMNS", "AuditImport", "import_audits"]

AUDIT_COLUMNS = ("audit_id", "month", "team", "auditor", "role", "themes", "feedback_from", "feedback")
REQUIRED = ("audit_id", "month", "team", "auditor")
ROLES = {"first": "first", "": "first", "auditor": "first", "moderator": "moderator", "second": "moderator",
         "moderation": "moderator"}
FEEDBACK_FROM = {"person": "person", "carer": "carer", "both": "both", "person and carer": "both"}
FEEDBACK = ("positive", "mixed", "negative")
_AUDIT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,39}$")
_MONTHS = {dt.date(2000, m, 1).strftime(f).casefold(): m for m in range(1, 13) for f in ("%B", "%b")}


@dataclass
class AuditImport:
    """What an import stored."""

    audits_added: int = 0
    audits_changed: int = 0
    unchanged: int = 0
    moderations: int = 0


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
    where: tuple[str, int]
    audit_id: str
    role: str
    month: str
    team: str
    auditor: str
    ratings: dict[str, str]
    themes: str
    feedback_from: str
    feedback: str


class _Checker:
    def __init__(self, programme: Programme) -> None:
        self.p = programme
        self.tool = programme.tool
        self.questions = self.tool.all_ids
        self.problems: list[Problem] = []
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
        unknown = [t.header[i] for i, h in enumerate(header) if h and h not in (*AUDIT_COLUMNS, *self.questions)]
        for name in unknown:
            self.problem(t.source, t.header_row, name, "is not a column of an audit file; delete the column or "
                         "correct its name (questions are named by their ids, such as q1 and overall)")
        for number, cells in t.rows:
            self.row(t.source, number, {h: unescape(cells[i]).strip() if i < len(cells) else ""
                                        for h, i in index.items()}, t.header)

    def row(self, file: str, number: int, cell: dict[str, str], header: Sequence[str]) -> None:
        bad = len(self.problems)

        def need(col: str, message: str) -> None:
            self.problem(file, number, col, message)

        for col in REQUIRED:
            if not cell[col]:
                need(col, f"is empty; fill in the {col.replace('_', ' ')}")
        audit_id = cell["audit_id"]
        if audit_id and not _AUDIT_ID.match(audit_id):
            need("audit_id", "must be the audit's own reference (up to 40 letters, digits, spaces, '.', '/', '-' "
                 "or '_'), never a person's name or NHS number")
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
        if len(self.problems) > bad or role is None:
            return
        key = (audit_id, role)
        if key in self.rows:
            first = self.rows[key].where
            need("audit_id", f"repeats the {role} row of an audit at {first[0]} row {first[1]}; give each audit "
                 "one row per auditor")
            return
        self.rows[key] = _Row((file, number), audit_id, role, str(month), str(team), str(auditor), ratings,
                              ";".join(themes), str(fb_from or ""), feedback)

    def cross_check(self, stored: dict[tuple[str, str], tuple[str, str, dict[str, str]]]) -> None:
        for (audit_id, role), r in self.rows.items():
            if role != "moderator":
                continue
            first = self.rows.get((audit_id, "first"))
            base = (first.month, first.team) if first else stored.get((audit_id, "first"), (None, None, {}))[:2]
            file, number = r.where
            if base[0] is None:
                self.problem(file, number, "audit_id", "has a moderator's row but no first auditor's row, here or "
                             "imported before; import the first auditor's row too")
            elif (r.month, r.team) != base:
                self.problem(file, number, "month" if r.month != base[0] else "team",
                             "differs from the first auditor's row of this audit; a moderation rates the same "
                             "record, in the same month and team")
            elif first is not None and first.auditor == r.auditor:
                self.problem(file, number, "auditor", "is the first auditor of this audit; a moderation needs a "
                             "second auditor")


def import_audits(programme: Programme, paths: Sequence[str | Path], *, progress: Progress | None = None) -> AuditImport:
    """Check every row of every file, then store them in one transaction, or nothing."""
    say = progress or (lambda _m: None)
    if not paths:
        raise InvalidInputError("no files to import; give one or more CSV or XLSX files")
    checker = _Checker(programme)
    problems: list[Problem] = []
    for p in paths:
        say(f"Reading {p}")
        for table in read_file(Path(p), str(p), problems, say):
            checker.table(table)
    with programme.store() as store:
        stored = store.existing()
        checker.cross_check(stored)
        problems += checker.problems
        if problems:
            raise ImportFileError(problems)
        result = AuditImport()
        audits, ratings, replace = [], [], []
        for (audit_id, role), r in checker.rows.items():
            before = stored.get((audit_id, role))
            if before is not None and before[:2] == (r.month, r.team) and before[2] == r.ratings and role == "moderator":
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
            ratings += [(audit_id, role, r.auditor, q, v) for q, v in r.ratings.items()]
        say(f"Storing {len(audits)} audit(s) and {len(ratings)} rating(s)")
        store.write(audits, ratings, replace)
    return result
