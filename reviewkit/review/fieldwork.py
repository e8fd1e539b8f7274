"""Meetings, conversations and notes: what the review team hears beside the case records.

In: a meeting with staff (kind, date, attendance by role), a conversation with a person, relative
or carer about a case, and the notes, quotes and 'one change' said at either. Out: rows in the
store's meetings, attendance, conversations, notes and note_codes tables, checked and screened,
each with its audit row; and those tables read back in the shape the analysis expects.
``FieldworkMixin`` is mixed into ``Store`` (reviewkit.review.store), whose connection,
transactions, screening and audit log it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from reviewkit.core.errors import ConflictError, InvalidInputError, StoreError
from reviewkit.review.datewindow import check_date

MEETING_KINDS = ("practitioners", "managers", "other")
NOTE_KINDS = ("note", "quote", "one_change")
PUBLISHED_KINDS = ("quote", "one_change")  # the kinds the report prints when marked for it
STANCES = ("strength", "concern", "mixed", "")
WHO = ("person", "relative", "carer", "person and relative")
# How many of one role a meeting can count (the meeting form's own bound): a typo such as
# 99999999999999999999999 is refused with this range instead of overflowing SQLite's integer.
MAX_ATTENDEES = 500


class FieldworkMixin:
    """The store's meetings, conversations and notes (part of ``Store``)."""

    # -- meetings, conversations, notes ---------------------------------------------------------
    def add_meeting(self, actor: str, kind: str, held_on: str = "", attendees: dict[str, int] | None = None,
                    title: str = "", ref: str | None = None) -> int:
        """Record a meeting with staff and how many of each role attended."""
        self._check_actor(actor)
        if kind not in MEETING_KINDS:
            raise InvalidInputError(f"meeting kind must be one of {', '.join(MEETING_KINDS)}")
        check_date(held_on, "meeting date")
        counts = _check_attendees(attendees or {})
        note = self._screen(title, "meeting title", False)
        with self.transaction():
            cur = self._db.execute("INSERT INTO meetings (ref, kind, held_on, title) VALUES (?,?,?,?)",
                                   (ref, kind, held_on, title))
            mid = int(cur.lastrowid or 0)
            self._db.executemany("INSERT INTO attendance VALUES (?,?,?)", [(mid, r, n) for r, n in counts.items()])
            self._audit(actor, "insert", "meeting", str(mid), None,
                        {"kind": kind, "held_on": held_on, "title": title, "attendees": counts}, note)
        return mid

    def update_meeting(self, actor: str, meeting_id: int, *, expected_version: int | None = None,
                       kind: str | None = None, held_on: str | None = None,
                       attendees: dict[str, int] | None = None, title: str | None = None) -> None:
        """Change a meeting's details; attendance is replaced when given."""
        self._check_actor(actor)
        old = self.meeting(meeting_id)
        new = dict(old)
        for key, value in (("kind", kind), ("held_on", held_on), ("title", title)):
            if value is not None:
                new[key] = value
        if new["kind"] not in MEETING_KINDS:
            raise InvalidInputError(f"meeting kind must be one of {', '.join(MEETING_KINDS)}")
        check_date(new["held_on"], "meeting date")
        if attendees is not None:
            new["attendees"] = _check_attendees(attendees)
        note = self._screen(new["title"], "meeting title", False)
        with self.transaction():
            cur = self._db.execute(
                "UPDATE meetings SET kind=?, held_on=?, title=?, version=version+1 WHERE id=? AND version=?",
                (new["kind"], new["held_on"], new["title"], meeting_id,
                 expected_version if expected_version is not None else old["version"]))
            if cur.rowcount == 0:
                raise ConflictError("This meeting was changed elsewhere (another tab or window). Reload the form.")
            self._db.execute("DELETE FROM attendance WHERE meeting_id=?", (meeting_id,))
            self._db.executemany("INSERT INTO attendance VALUES (?,?,?)",
                                 [(meeting_id, r, n) for r, n in new["attendees"].items()])
            self._audit(actor, "update", "meeting", str(meeting_id),
                        {k: old[k] for k in ("kind", "held_on", "title", "attendees")},
                        {k: new[k] for k in ("kind", "held_on", "title", "attendees")}, note)

    def meeting(self, meeting_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM meetings WHERE id=?", (meeting_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no meeting {meeting_id}")
        att = self._db.execute("SELECT role, count FROM attendance WHERE meeting_id=? ORDER BY role",
                               (meeting_id,)).fetchall()
        return {"id": row["id"], "ref": row["ref"], "kind": row["kind"], "held_on": row["held_on"], "title": row["title"],
                "version": row["version"], "attendees": {a["role"]: a["count"] for a in att}}

    def find_ref(self, table: str, ref: str) -> int | None:
        """The id of the meeting, conversation or note an import calls `ref`, if stored."""
        if table not in ("meetings", "conversations", "notes"):
            raise StoreError(f"no table {table} has references")
        row = self._db.execute(f"SELECT id FROM {table} WHERE ref=?", (ref,)).fetchone()
        return None if row is None else int(row[0])

    def meetings(self) -> pd.DataFrame:
        """Meetings with total attendees and attendance by role (as a dict)."""
        ids = [r[0] for r in self._db.execute("SELECT id FROM meetings ORDER BY held_on, id")]
        rows = [self.meeting(i) for i in ids]
        for r in rows:
            r["attendee_count"] = sum(r["attendees"].values())
        return pd.DataFrame(rows, columns=["id", "ref", "kind", "held_on", "title", "version", "attendees", "attendee_count"])

    def add_conversation(self, actor: str, case_id: str, who: str, reviewer: str, held_on: str = "",
                         ref: str | None = None) -> int:
        """Record a conversation with a person, relative or carer about a case."""
        self._check_actor(actor)
        self._check_writes_as(reviewer, "a conversation")
        if who not in WHO:
            raise InvalidInputError(f"who must be one of {', '.join(WHO)}")
        check_date(held_on, "conversation date")
        if self.rules is not None:
            if reviewer not in self.rules.reviewers:
                raise InvalidInputError(f"'{reviewer}' is not a reviewer of this review")
            if self.rules.cases and case_id not in self.rules.cases:
                raise InvalidInputError("that case reference is not in this review's case list (review.yaml)")
        self._check_own_case(case_id, "a conversation")
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO conversations (ref, case_id, who, held_on, reviewer) VALUES (?,?,?,?,?)",
                (ref, case_id, who, held_on, reviewer))
            cid = int(cur.lastrowid or 0)
            self._audit(actor, "insert", "conversation", str(cid), None,
                        {"case_id": case_id, "who": who, "held_on": held_on, "reviewer": reviewer})
        return cid

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM conversations WHERE id=?", (conversation_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no conversation {conversation_id}")
        return dict(row)

    def update_conversation(self, actor: str, conversation_id: int, *, expected_version: int | None = None,
                            case_id: str | None = None, who: str | None = None, reviewer: str | None = None,
                            held_on: str | None = None) -> None:
        """Change a conversation's case, who was spoken to, reviewer or date (a re-import, a typo)."""
        self._check_actor(actor)
        old = self.conversation(conversation_id)
        self._check_writes_as(old["reviewer"], "a conversation")
        self._check_writes_as(reviewer if reviewer is not None else old["reviewer"], "a conversation")
        keys = ("case_id", "who", "reviewer", "held_on")
        new = {k: old[k] for k in keys}
        for key, value in zip(keys, (case_id, who, reviewer, held_on)):
            if value is not None:
                new[key] = value
        if new["who"] not in WHO:
            raise InvalidInputError(f"who must be one of {', '.join(WHO)}")
        check_date(new["held_on"], "conversation date")
        if self.rules is not None:
            if new["reviewer"] not in self.rules.reviewers:
                raise InvalidInputError(f"'{new['reviewer']}' is not a reviewer of this review")
            if self.rules.cases and new["case_id"] not in self.rules.cases:
                raise InvalidInputError(f"case '{new['case_id']}' is not in this review's case list (review.yaml)")
        self._check_own_case(old["case_id"], "a conversation")
        self._check_own_case(new["case_id"], "a conversation")
        with self.transaction():
            cur = self._db.execute(
                "UPDATE conversations SET case_id=?, who=?, reviewer=?, held_on=?, version=version+1 "
                "WHERE id=? AND version=?",
                (new["case_id"], new["who"], new["reviewer"], new["held_on"], conversation_id,
                 expected_version if expected_version is not None else old["version"]))
            if cur.rowcount == 0:
                raise ConflictError("This conversation was changed elsewhere (another tab or window). Reload the form.")
            self._audit(actor, "update", "conversation", str(conversation_id), {k: old[k] for k in keys}, new)

    def conversations(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT id, ref, case_id, who, held_on, reviewer, version FROM conversations ORDER BY id",
                                 self._db)

    def add_note(self, actor: str, text: str, *, meeting_id: int | None = None, conversation_id: int | None = None,
                 kind: str = "note", speaker_role: str = "", stance: str = "", codes: Sequence[str] = (),
                 use_in_report: bool = False, confirm_warnings: bool = False, ref: str | None = None) -> int:
        """Add a note, quote or 'one change' to a meeting or a conversation."""
        self._check_actor(actor)
        fields = self._check_note(text, kind, stance, meeting_id, conversation_id)
        note = self._screen(text, "note", confirm_warnings)
        if use_in_report and kind in PUBLISHED_KINDS:
            note = "; ".join(n for n in (note, self.screen_published(text, kind.replace("_", " "),
                                                                     confirm_warnings=confirm_warnings)) if n)
        codes = _clean_codes(codes)
        with self.transaction():
            cur = self._db.execute(
                "INSERT INTO notes (ref, meeting_id, conversation_id, kind, text, speaker_role, stance, use_in_report, "
                "created_by) VALUES (?,?,?,?,?,?,?,?,?)",
                (ref, meeting_id, conversation_id, kind, text, speaker_role, stance, int(use_in_report), actor))
            nid = int(cur.lastrowid or 0)
            self._db.executemany("INSERT INTO note_codes VALUES (?,?)", [(nid, c) for c in codes])
            self._audit(actor, "insert", "note", str(nid), None,
                        {**fields, "speaker_role": speaker_role, "use_in_report": use_in_report, "codes": codes}, note)
        return nid

    def _check_note(self, text: str, kind: str, stance: str, meeting_id: int | None,
                    conversation_id: int | None) -> dict[str, Any]:
        if kind not in NOTE_KINDS:
            raise InvalidInputError(f"note kind must be one of {', '.join(NOTE_KINDS)}")
        if stance not in STANCES:
            raise InvalidInputError("stance must be strength, concern, mixed or left blank")
        if not text.strip():
            raise InvalidInputError("the note is empty; write the note or quote first")
        if (meeting_id is None) == (conversation_id is None):
            raise InvalidInputError("a note belongs to exactly one meeting or one conversation")
        table, ident = ("meetings", meeting_id) if meeting_id is not None else ("conversations", conversation_id)
        if self._db.execute(f"SELECT 1 FROM {table} WHERE id=?", (ident,)).fetchone() is None:
            raise InvalidInputError(f"there is no {table[:-1]} {ident}")
        if conversation_id is not None:
            self._check_conversation_note(conversation_id)
        return {"meeting_id": meeting_id, "conversation_id": conversation_id, "kind": kind, "text": text,
                "stance": stance}

    def _check_conversation_note(self, conversation_id: int) -> None:
        """Under the hub, a visiting reviewer's notes go on their own conversations, about their own cases."""
        held = self.conversation(conversation_id)
        self._check_writes_as(held["reviewer"], "a note on a conversation")
        self._check_own_case(held["case_id"], "a note")

    def note(self, note_id: int) -> dict[str, Any]:
        row = self._db.execute("SELECT * FROM notes WHERE id=?", (note_id,)).fetchone()
        if row is None:
            raise InvalidInputError(f"there is no note {note_id}")
        codes = [c[0] for c in self._db.execute("SELECT code FROM note_codes WHERE note_id=? ORDER BY code",
                                                (note_id,))]
        out = dict(row)
        out["use_in_report"] = bool(out["use_in_report"])
        out["codes"] = tuple(codes)
        return out

    def update_note(self, actor: str, note_id: int, *, expected_version: int | None = None,
                    confirm_warnings: bool = False, **changes: Any) -> dict[str, Any]:
        """Change a note's text, kind, role, stance, codes or 'use in report'."""
        self._check_actor(actor)
        allowed = {"text", "kind", "speaker_role", "stance", "codes", "use_in_report"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInputError(f"a note has no field {', '.join(sorted(unknown))}")
        old = self.note(note_id)
        new = {**old, **{k: v for k, v in changes.items() if v is not None}}
        new["codes"] = tuple(_clean_codes(new["codes"]))
        self._check_note(new["text"], new["kind"], new["stance"], old["meeting_id"], old["conversation_id"])
        note = self._screen_changed(new["text"], old["text"], "note", confirm_warnings)
        newly_published = new["use_in_report"] and new["kind"] in PUBLISHED_KINDS and not (
            old["use_in_report"] and old["kind"] in PUBLISHED_KINDS and old["text"] == new["text"])
        if newly_published:
            note = "; ".join(n for n in (note, self.screen_published(new["text"], new["kind"].replace("_", " "),
                                                                     confirm_warnings=confirm_warnings)) if n)
        keys = ("text", "kind", "speaker_role", "stance", "codes", "use_in_report")
        with self.transaction():
            cur = self._db.execute(
                "UPDATE notes SET text=?, kind=?, speaker_role=?, stance=?, use_in_report=?, version=version+1 "
                "WHERE id=? AND version=?",
                (new["text"], new["kind"], new["speaker_role"], new["stance"], int(bool(new["use_in_report"])),
                 note_id, expected_version if expected_version is not None else old["version"]))
            if cur.rowcount == 0:
                raise ConflictError("This note was changed elsewhere (another tab or window). Reload the form.")
            self._db.execute("DELETE FROM note_codes WHERE note_id=?", (note_id,))
            self._db.executemany("INSERT INTO note_codes VALUES (?,?)", [(note_id, c) for c in new["codes"]])
            self._audit(actor, "update", "note", str(note_id), {k: old[k] for k in keys},
                        {k: new[k] for k in keys}, note)
        return self.note(note_id)

    def delete_note(self, actor: str, note_id: int) -> None:
        self._check_actor(actor)
        old = self.note(note_id)
        if old["conversation_id"] is not None:
            self._check_conversation_note(old["conversation_id"])
        with self.transaction():
            self._db.execute("DELETE FROM notes WHERE id=?", (note_id,))
            self._audit(actor, "delete", "note", str(note_id),
                        {k: old[k] for k in ("text", "kind", "speaker_role", "stance", "codes")}, None)

    def notes(self) -> pd.DataFrame:
        """Notes joined to their meeting or conversation, in the shape the analysis expects."""
        rows = self._db.execute(
            "SELECT n.id AS note_id, n.ref, CASE WHEN n.meeting_id IS NULL THEN 'conversation' ELSE 'meeting' END AS source, "
            "n.meeting_id, n.conversation_id, m.kind AS meeting_kind, c.who, c.case_id, n.kind, n.text, "
            "n.speaker_role, n.stance, n.use_in_report, n.version, "
            "(SELECT group_concat(code, ',') FROM (SELECT code FROM note_codes WHERE note_id = n.id ORDER BY code)) "
            "AS codes FROM notes n LEFT JOIN meetings m ON m.id = n.meeting_id "
            "LEFT JOIN conversations c ON c.id = n.conversation_id ORDER BY n.id").fetchall()
        cols = ["note_id", "ref", "source", "meeting_id", "conversation_id", "meeting_kind", "who", "case_id", "kind",
                "text", "speaker_role", "stance", "use_in_report", "version", "codes"]
        df = pd.DataFrame([dict(r) for r in rows], columns=cols)
        df["use_in_report"] = df["use_in_report"].astype(bool)
        # pandas 3 reads a NULL group_concat as NaN (a float), not None: test for text.
        df["codes"] = [tuple(c.split(",")) if isinstance(c, str) and c else () for c in df["codes"]]
        return df


def _check_attendees(attendees: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for role, count in attendees.items():
        role = str(role).strip()
        if not role:
            raise InvalidInputError("each attendee count needs a role, e.g. practitioner or manager")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_ATTENDEES:
            raise InvalidInputError(f"the number of {role}s must be a whole number from 0 to {MAX_ATTENDEES}")
        out[role] = count
    return dict(sorted(out.items()))


def _clean_codes(codes: Iterable[str]) -> list[str]:
    return sorted({str(c).strip() for c in codes if str(c).strip()})
