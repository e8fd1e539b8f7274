"""Checking every imported row against the contracts and the review's rules, before any write.

``RowChecker`` collects every problem (file, row, column, what was expected; never a cell's
value, which could hold personal data) and the checked records the import then writes in one
transaction. Kept apart from reading and writing so each rule can be read, and tested, alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reviewkit.core import themes
from reviewkit.core.errors import BlockedTextError, Problem, WarningTextError
from reviewkit.intake.concernrows import ConcernChecks, ConcernRow
from reviewkit.intake.tables import CONTRACTS, Table, column_letter, norm_header, recognise, unescape
from reviewkit.review.datewindow import date_outside_window
from reviewkit.review.fieldwork import MAX_ATTENDEES, MEETING_KINDS, NOTE_KINDS, PUBLISHED_KINDS, STANCES, WHO
from reviewkit.review.progress import needs_evidence
from reviewkit.review.calibration import CalibrationRating
from reviewkit.review.ratings import RatingInput
from reviewkit.review.reviewyaml import CASE_ID
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace

__all__ = ["ConcernRow", "RowChecker", "fold", "stored_id"]

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.#/-]{0,31}$")
_REF_HELP = "a short reference such as M1 (letters, digits and - _ . # /, at most 32 characters)"
_GENERATED_REF = {"meetings": "M", "conversations": "V", "notes": "N"}  # exported for rows stored without one
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_COUNT = re.compile(r"[0-9]{1,9}")  # ASCII digits: str.isdigit() also passes '²', which int() refuses
_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


# -- checking rows ----------------------------------------------------------------------------
@dataclass
class MeetingRow:
    source: str
    row: int
    ref: str
    kind: str
    held_on: str
    title: str
    attendees: dict[str, int] = field(default_factory=dict)
    role_rows: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass
class ConversationRow:
    source: str
    row: int
    ref: str
    case_id: str
    who: str
    reviewer: str
    held_on: str


@dataclass
class NoteRow:
    source: str
    row: int
    ref: str
    parent: str  # "meetings" or "conversations"
    parent_ref: str
    kind: str
    text: str
    speaker_role: str
    stance: str
    codes: tuple[str, ...]
    use_in_report: bool


@dataclass
class FlagRow:
    source: str
    row: int
    case_id: str
    reviewer: str
    referred_back: bool
    reason: str
    complete: bool | None


class RowChecker(ConcernChecks):
    """Checks every row of every table against the contracts and the review's rules."""

    def __init__(self, ws: Workspace, store: Store, confirm_warnings: bool) -> None:
        self.ws, self.store, self.confirm = ws, store, confirm_warnings
        rules = ws.rules()
        self.rules = rules
        self.names = rules.names
        self.scale = rules.scale
        self.reviewers = {fold(r): r for r in rules.reviewers}
        self.questions = {q.casefold(): q for q in rules.questions}
        self.cases = {c.casefold(): c for c in rules.cases}
        self.problems: list[Problem] = []
        self.ratings: list[RatingInput] = []
        self.rating_sources: list[str] = []
        self.rating_seen: dict[tuple[str, str, str], tuple[str, int]] = {}
        self.flags: list[FlagRow] = []
        self.calibration: list[CalibrationRating] = []
        self.flag_seen: dict[tuple[str, str], tuple[str, int]] = {}
        self.concerns: list[ConcernRow] = []
        self.concern_seen: dict[tuple[str, str], tuple[str, int]] = {}
        self.meetings: dict[str, MeetingRow] = {}
        self.conversations: dict[str, ConversationRow] = {}
        self.notes: dict[str, NoteRow] = {}
        self.kinds: list[str] = []
        self.warnings: list[Problem] = []
        self._codebook: Any = _load_codebook(ws)
        self._good_cases: dict[str, str] = {}  # as typed -> accepted reference (see case())
        self._good_reviewers: dict[str, str] = {}  # as typed -> the team member's name

    # -- helpers --------------------------------------------------------------------------
    def problem(self, source: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(source, row, column, message))

    def case(self, src: str, row: int, value: str, column: str = "case_id") -> str | None:
        known = self._good_cases.get(value)  # a case reference already accepted: thousands of rows repeat it
        if known is not None:
            return known
        v = value.strip()
        if not v:
            self.problem(src, row, column, "is blank; give the case reference, e.g. C07")
            return None
        if self.cases:
            found = self.cases.get(v.casefold())
            if found is None:
                self.problem(src, row, column, "is not in the case list in review.yaml; use a case reference "
                             "listed there (or add the case to review.yaml first)")
            else:
                self._good_cases[value] = found
            return found
        if not CASE_ID.match(v):
            self.problem(src, row, column, "must be a short pseudonymous case reference such as C07 (a letter, "
                         "then up to 15 letters, digits, - or _), never a name or NHS number")
            return None
        self._good_cases[value] = v
        return v

    def reviewer(self, src: str, row: int, value: str) -> str | None:
        found = self._good_reviewers.get(value)
        if found is not None:
            return found
        found = self.reviewers.get(fold(value))
        if found is not None:
            self._good_reviewers[value] = found
        else:
            what = "is blank" if not value.strip() else "is not a reviewer on the review team"
            self.problem(src, row, "reviewer", f"{what}; expected one of {', '.join(self.rules.reviewers)} "
                         "(as written in review.yaml)")
        return found

    def allocated(self, src: str, row: int, case: str | None, reviewer: str | None) -> bool:
        if case is None or reviewer is None or not self.cases:
            return case is not None and reviewer is not None
        if reviewer not in self.rules.cases[case]:
            self.problem(src, row, "case_id", "this case is not allocated to this reviewer in review.yaml "
                         "(as reviewer or moderator); check the case reference or the allocation")
            return False
        return True

    def yes_no(self, src: str, row: int, column: str, value: str, *, blank: bool | None) -> bool | None:
        v = value.strip().casefold()
        if not v:
            if blank is None and column == "referred_back":
                self.problem(src, row, column, "is blank; expected yes or no")
            return blank
        if v in _YES:
            return True
        if v in _NO:
            return False
        self.problem(src, row, column, "expected yes or no")
        return blank

    def date(self, src: str, row: int, value: str, *, required: bool, column: str = "date") -> str | None:
        v = value.strip()
        if not v:
            if required:
                self.problem(src, row, column, "is blank; expected a date written YYYY-MM-DD, e.g. 2026-03-14")
                return None
            return ""
        if _DATE.fullmatch(v):
            try:
                day = dt.date.fromisoformat(v)
            except ValueError:
                pass
            else:
                outside = date_outside_window(day)
                if outside is None:
                    return v
                self.problem(src, row, column, f"{outside} (written YYYY-MM-DD, e.g. 2026-03-14)")
                return None
        self.problem(src, row, column, "expected a real date written YYYY-MM-DD, e.g. 2026-03-14")
        return None

    def ref(self, src: str, row: int, column: str, value: str) -> str | None:
        v = value.strip()
        if not v:
            self.problem(src, row, column, f"is blank; expected {_REF_HELP}")
            return None
        if not _REF.match(v):
            self.problem(src, row, column, f"expected {_REF_HELP}")
            return None
        return v

    def screen(self, src: str, row: int, column: str, text: str, what: str, *, warnings_allowed: bool) -> bool:
        """Screen as the store will (it remembers passing text); a finding names its kind and place only."""
        if not text.strip():
            return True
        try:
            self.store.screen(text, what, confirm_warnings=warnings_allowed)
            return True
        except BlockedTextError as exc:
            message = str(exc)
        except WarningTextError as exc:  # only raised when warnings are not confirmed
            message = str(exc) + (" A meeting title cannot keep one: reword it." if what == "meeting title"
                                  else " To keep it as it is, import again confirming the warnings "
                                  "(--confirm-warnings).")
        self.problem(src, row, column, message)
        return False

    # -- tables ---------------------------------------------------------------------------
    def columns(self, t: Table) -> tuple[str, dict[str, int]] | None:
        """The table's kind and column positions, or None after recording header problems."""
        src, hrow = t.source, t.header_row
        names = [norm_header(h) for h in t.header]
        kind = t.sheet_kind or recognise({n for n in names if n})
        if kind is None:
            kinds = "; ".join(f"{c.kind}: {', '.join(c.columns)}" for c in CONTRACTS.values())
            self.problem(src, hrow, None, "cannot tell what kind of table this is from its column names; the "
                         f"first row must hold the column names of one contract ({kinds})")
            return None
        contract = CONTRACTS[kind]
        positions: dict[str, int] = {}
        ok = True
        # Unknown columns are named by letter: a header cell may be a data row typed without a header.
        for i, name in enumerate(names):
            if not name:
                if any(i < len(cells) and cells[i].strip() for _, cells in t.rows):
                    self.problem(src, hrow, column_letter(i), "this column holds data but has no name; give it one "
                                 f"of {', '.join(contract.columns)} or delete it")
            elif name in contract.informational:
                continue
            elif name not in contract.columns and name not in contract.extra:
                self.problem(src, hrow, column_letter(i), f"this column's name is not a column of the {kind} contract "
                             f"({', '.join(contract.columns)}); rename or remove the column")
            elif name in positions:
                self.problem(src, hrow, name, f"appears twice (columns {column_letter(positions[name])} and "
                             f"{column_letter(i)}); keep one")
                ok = False
            else:
                positions[name] = i
        for name in contract.required:
            if name not in positions:
                self.problem(src, hrow, name, f"is missing; a {kind} table needs the columns "
                             f"{', '.join(contract.required)}")
                ok = False
        if kind == "notes" and "meeting" not in positions and "conversation" not in positions:
            self.problem(src, hrow, "meeting", "a notes table needs a 'meeting' or a 'conversation' column "
                         "saying where each note was made")
            ok = False
        return (kind, positions) if ok else None

    def rows(self, t: Table, positions: dict[str, int], kind: str) -> Iterable[tuple[int, dict[str, str]]]:
        width = len(t.header)
        where = [(name, positions.get(name)) for name in (*CONTRACTS[kind].columns, *CONTRACTS[kind].extra)]
        for number, cells in t.rows:
            if len(cells) > width and any(c.strip() for c in cells[width:]):
                self.problem(t.source, number, None, "has more cells than the header has columns; remove them "
                             "or give their column a name")
            n = len(cells)
            yield number, {name: unescape(cells[i]) if i is not None and i < n else "" for name, i in where}

    def check(self, tables: list[Table]) -> None:
        notes: list[tuple[Table, dict[str, int]]] = []
        for t in tables:
            found = self.columns(t)
            if found is None:
                continue
            kind, positions = found
            if kind not in self.kinds:
                self.kinds.append(kind)
            if kind == "notes":
                notes.append((t, positions))  # after meetings and conversations, which they refer to
            else:
                getattr(self, f"check_{kind}")(t, positions)
        for t, positions in notes:
            self.check_notes(t, positions)

    def check_ratings(self, t: Table, positions: dict[str, int]) -> None:
        src, seen = t.source, self.rating_seen
        levels: dict[str, Any] = {}
        questions: dict[str, str | None] = {}  # as typed -> question id (None: not one)
        self.rating_sources.append(src)
        # Bound once: this loop runs once per rating, 100,000 times in a large import.
        case_of, reviewer_of, allocated, screen = self.case, self.reviewer, self.allocated, self.screen
        add, confirm = self.ratings.append, self.confirm
        for row, c in self.rows(t, positions, "ratings"):
            raw, comment = c["rating"].strip(), c["comment"]
            if not comment.strip():
                comment = ""
            if not raw:
                if comment:  # an unfilled workbook row is "not rated yet"; a lone comment is a slip
                    self.problem(src, row, "rating", "is blank but a comment is written; choose a rating")
                continue
            case = case_of(src, row, c["case_id"])
            reviewer = reviewer_of(src, row, c["reviewer"])
            typed = c["question"]
            question = questions[typed] if typed in questions else questions.setdefault(
                typed, self.questions.get(typed.strip().casefold()))
            if question is None:
                self.problem(src, row, "question", "is not a question of the review's audit tool; expected one "
                             f"of {', '.join(self.rules.questions)}")
            level = levels[raw] if raw in levels else levels.setdefault(raw, self.scale.parse(raw))
            if level is None:
                self.problem(src, row, "rating", f"expected one of {self.scale.describe()} (any case)")
            ok = allocated(src, row, case, reviewer)
            ok = screen(src, row, "comment", comment, "evidence note", warnings_allowed=confirm) and ok
            if not (ok and question is not None and level is not None):
                continue
            key = (case, reviewer, question)
            assert case is not None and reviewer is not None
            if key in seen:
                other = seen[key]
                self.problem(src, row, "question", f"duplicate rating: {other[0]} row {other[1]} already rates the "
                             "same case, reviewer and question; keep one of the two rows")
                continue
            seen[key] = (src, row)
            add(RatingInput(case, reviewer, question, level.label, comment))
            if not comment and needs_evidence(self.scale, level.label):
                self.warnings.append(Problem(src, row, "comment", f"{case} {question} is rated {level.label} with "
                                             "no evidence note; the report cannot be final until one is written"))

    def check_calibration(self, t: Table, positions: dict[str, int]) -> None:
        """Ratings of the calibration records: never case ratings, never in the review's figures."""
        src = t.source
        records = set(self.store.calibration_records())
        seen: dict[tuple[int | None, str, str, str], int] = {}
        for row, c in self.rows(t, positions, "calibration"):
            raw, comment = c["rating"].strip(), c["comment"].strip()
            if not raw:
                if comment:
                    self.problem(src, row, "rating", "is blank but a comment is written; choose a rating")
                continue
            record = c["calibration_record"].strip()
            if record not in records:
                self.problem(src, row, "calibration_record", "is not a calibration record of this review; they are "
                             f"{', '.join(sorted(records)) or 'none yet (reviewkit calibrate WS --record CAL1)'}")
            reviewer = self.reviewer(src, row, c["reviewer"])
            question = self.questions.get(c["question"].strip().casefold())
            if question is None:
                self.problem(src, row, "question", "is not a question of the review's audit tool; expected one "
                             f"of {', '.join(self.rules.questions)}")
            level = self.scale.parse(raw)
            if level is None:
                self.problem(src, row, "rating", f"expected one of {self.scale.describe()} (any case)")
            number: int | None = None
            if c["round"].strip():
                try:
                    number = int(c["round"].strip())
                except ValueError:
                    self.problem(src, row, "round", "must be a whole number such as 1 or 2, or blank for the current "
                                 "calibration round")
                    continue
            ok = self.screen(src, row, "comment", comment, "calibration note", warnings_allowed=self.confirm)
            if not (ok and record in records and reviewer and question and level):
                continue
            key = (number, record, reviewer, question)
            if key in seen:
                self.problem(src, row, "question", f"duplicate rating: row {seen[key]} already rates the same "
                             "calibration record, reviewer and question; keep one of the two rows")
                continue
            seen[key] = row
            self.calibration.append(CalibrationRating(record, reviewer, question, level.label, comment, number))

    def check_flags(self, t: Table, positions: dict[str, int]) -> None:
        src = t.source
        has_reason = "reason" in positions
        for row, c in self.rows(t, positions, "flags"):
            concern = any(c[k].strip() for k in ("concern", "concern_raised_on", "concern_raised_with"))
            if concern:
                self.concern_row(src, row, c["case_id"], c["reviewer"], c["concern"], c["concern_raised_on"],
                                 c["concern_raised_with"], prefix="concern_")
            if not any(c[k].strip() for k in ("referred_back", "reason", "complete")):
                continue  # a case not finished yet (an audit workbook's Cases row left blank)
            case = self.case(src, row, c["case_id"])
            reviewer = self.reviewer(src, row, c["reviewer"])
            ok = self.allocated(src, row, case, reviewer)
            referred = self.yes_no(src, row, "referred_back", c["referred_back"], blank=None)
            complete = self.yes_no(src, row, "complete", c["complete"], blank=None)
            reason = c["reason"] if c["reason"].strip() else ""
            if referred and not reason:
                self.problem(src, row, "reason", "a case referred back needs a reason: say what the significant "
                             "concern is (no names)" + ("" if has_reason else "; add a 'reason' column"))
                ok = False
            ok = self.screen(src, row, "reason", reason, "referral reason", warnings_allowed=self.confirm) and ok
            if not ok or referred is None or (c["complete"].strip() and complete is None):
                continue
            assert case is not None and reviewer is not None
            key = (case, reviewer)
            if key in self.flag_seen:
                other = self.flag_seen[key]
                self.problem(src, row, "case_id", f"duplicate: {other[0]} row {other[1]} already gives this "
                             "reviewer's flags for the same case; keep one of the two rows")
                continue
            self.flag_seen[key] = (src, row)
            self.flags.append(FlagRow(src, row, case, reviewer, referred, reason, complete))

    def check_meetings(self, t: Table, positions: dict[str, int]) -> None:
        src = t.source
        for row, c in self.rows(t, positions, "meetings"):
            ref = self.ref(src, row, "meeting", c["meeting"])
            kind = c["kind"].strip().casefold()
            if kind not in MEETING_KINDS:
                self.problem(src, row, "kind", f"expected one of {', '.join(MEETING_KINDS)}")
            held_on = self.date(src, row, c["date"], required=True)
            title = c["title"] if c["title"].strip() else ""
            ok = self.screen(src, row, "title", title, "meeting title", warnings_allowed=False)
            role = " ".join(c["role"].split())
            raw_count = c["attendees"].strip()
            count: int | None = None
            if role or raw_count:
                if not role:
                    self.problem(src, row, "role", "is blank; say which role attended, e.g. practitioner")
                    ok = False
                ok = self.screen(src, row, "role", role, "role", warnings_allowed=self.confirm) and ok
                if _COUNT.fullmatch(raw_count) and int(raw_count) <= MAX_ATTENDEES:
                    count = int(raw_count)
                else:
                    self.problem(src, row, "attendees", "expected how many of that role attended, as a whole "
                                 f"number from 0 to {MAX_ATTENDEES}")
                    ok = False
            if not ok or ref is None or kind not in MEETING_KINDS or held_on is None:
                continue
            meeting = self.meetings.get(ref)
            if meeting is None:
                meeting = self.meetings[ref] = MeetingRow(src, row, ref, kind, held_on, title)
            else:
                for column, mine, theirs in (("kind", kind, meeting.kind), ("date", held_on, meeting.held_on),
                                             ("title", title, meeting.title)):
                    if mine != theirs:
                        self.problem(src, row, column, f"differs from {meeting.source} row {meeting.row} for the "
                                     "same meeting; a meeting has one kind, date and title")
            if role and count is not None:
                if role in meeting.role_rows:
                    other = meeting.role_rows[role]
                    self.problem(src, row, "role", f"this role is already counted for the same meeting in "
                                 f"{other[0]} row {other[1]}; give one row per role")
                    continue
                meeting.role_rows[role] = (src, row)
                meeting.attendees[role] = count

    def check_conversations(self, t: Table, positions: dict[str, int]) -> None:
        src = t.source
        for row, c in self.rows(t, positions, "conversations"):
            ref = self.ref(src, row, "conversation", c["conversation"])
            case = self.case(src, row, c["case_id"])
            who = " ".join(c["who"].split()).casefold()
            if who not in WHO:
                self.problem(src, row, "who", f"expected one of {', '.join(WHO)}")
            reviewer = self.reviewer(src, row, c["reviewer"])
            held_on = self.date(src, row, c["date"], required=False)
            if ref is None or case is None or who not in WHO or reviewer is None or held_on is None:
                continue
            if ref in self.conversations:
                other = self.conversations[ref]
                self.problem(src, row, "conversation", f"the same reference is used in {other.source} row "
                             f"{other.row}; give each conversation its own reference")
                continue
            self.conversations[ref] = ConversationRow(src, row, ref, case, who, reviewer, held_on)

    def check_notes(self, t: Table, positions: dict[str, int]) -> None:
        src = t.source
        for row, c in self.rows(t, positions, "notes"):
            ref = self.ref(src, row, "note", c["note"])
            parent = self.note_parent(src, row, c["meeting"].strip(), c["conversation"].strip())
            kind = "_".join(c["kind"].replace("-", " ").casefold().split())
            if kind not in NOTE_KINDS:
                self.problem(src, row, "kind", f"expected one of {', '.join(NOTE_KINDS)}")
            stance = c["stance"].strip().casefold()
            if stance not in STANCES:
                self.problem(src, row, "stance", "expected strength, concern, mixed or blank")
            text = c["text"]
            ok = True
            if not text.strip():
                self.problem(src, row, "text", "is blank; write the note or quote (no names)")
                ok = False
            ok = self.screen(src, row, "text", text, "note", warnings_allowed=self.confirm) and ok
            speaker = " ".join(c["speaker_role"].split())
            ok = self.screen(src, row, "speaker_role", speaker, "speaker's role", warnings_allowed=self.confirm) and ok
            codes = self.codes(src, row, c["codes"])
            use = self.yes_no(src, row, "use_in_report", c["use_in_report"], blank=False)
            if c["use_in_report"].strip() and c["use_in_report"].strip().casefold() not in _YES | _NO:
                ok = False
            if ok and use and kind in PUBLISHED_KINDS:  # what the report will print: screened as it prints
                try:
                    self.store.screen_published(text, kind.replace("_", " "), confirm_warnings=self.confirm)
                except WarningTextError as exc:
                    self.problem(src, row, "text", str(exc) + " To keep it for now, import again confirming the "
                                 "warnings (--confirm-warnings).")
                    ok = False
            if not ok or ref is None or parent is None or kind not in NOTE_KINDS or stance not in STANCES \
                    or codes is None:
                continue
            if ref in self.notes:
                other = self.notes[ref]
                self.problem(src, row, "note", f"the same reference is used in {other.source} row {other.row}; "
                             "give each note its own reference")
                continue
            if not self.note_stays(src, row, ref, parent):
                continue
            self.notes[ref] = NoteRow(src, row, ref, parent[0], parent[1], kind, text, speaker, stance, codes,
                                    bool(use))

    def note_parent(self, src: str, row: int, meeting: str, conversation: str) -> tuple[str, str] | None:
        if bool(meeting) == bool(conversation):
            self.problem(src, row, "meeting", "give either a meeting or a conversation reference (exactly one) "
                         "saying where the note was made")
            return None
        table, column, ref = ("meetings", "meeting", meeting) if meeting else ("conversations", "conversation",
                                                                            conversation)
        known = self.meetings if table == "meetings" else self.conversations
        if ref not in known and stored_id(self.store, table, ref) is None:
            self.problem(src, row, column, f"no {column} with this reference is in this import or already stored; "
                         f"import the {table} file together with the notes")
            return None
        return table, ref

    def note_stays(self, src: str, row: int, ref: str, parent: tuple[str, str]) -> bool:
        """A stored note cannot move to another meeting or conversation on re-import."""
        nid = stored_id(self.store, "notes", ref)
        if nid is None:
            return True
        old = self.store.note(nid)
        pid = stored_id(self.store, parent[0], parent[1])
        same = (pid is not None and old["meeting_id" if parent[0] == "meetings" else "conversation_id"] == pid)
        if not same:
            column = "meeting" if parent[0] == "meetings" else "conversation"
            self.problem(src, row, column, "this note is already stored under another meeting or conversation; a "
                         "note cannot move: give it a new reference")
        return same

    def codes(self, src: str, row: int, value: str) -> tuple[str, ...] | None:
        typed = [p.strip() for p in re.split(r"[;,]", value) if p.strip()]
        if self._codebook is None:
            return tuple(sorted(set(typed)))
        found = [self._codebook.parse(code) for code in typed]
        bad = [str(i) for i, code in enumerate(found, 1) if code is None]
        if bad:
            self.problem(src, row, "codes", f"code {' and '.join(bad)} of {len(typed)} is not in the codebook "
                         f"'{self._codebook.id}'; expected codes from: {', '.join(self._codebook.ids)} "
                         "(separated by ;)")
            return None
        return tuple(sorted({code.id for code in found}))


def fold(value: str) -> str:
    return " ".join(value.split()).casefold()


def _load_codebook(ws: Workspace) -> Any:
    """The review's codebook (codes are then checked against it)."""
    return themes.load_codebook(ws.meta.codebook or themes.DEFAULT_CODEBOOK)


def stored_id(store: Store, table: str, ref: str) -> int | None:
    """The stored id for an import reference, including the M#12 form export gives unnamed rows."""
    found = store.find_ref(table, ref)
    if found is not None:
        return found
    m = re.fullmatch(rf"{_GENERATED_REF[table]}#(\d+)", ref)
    if m:
        rows = store.execute_read(f"SELECT id FROM {table} WHERE id=? AND ref IS NULL", (int(m.group(1)),))
        if rows:
            return int(rows[0][0])
    return None

