"""The store: one writer path, an audit row for every change, refusals that lose nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest

from reviewkit.core.errors import (
    BlockedTextError,
    ConflictError,
    InvalidInputError,
    UnsafeLocationError,
    WarningTextError,
)
from reviewkit.review.ratings import RatingInput
from reviewkit.review.store import Store, check_location

NHS_CANARY = "999 000 0018"


def test_rating_insert_update_and_unchanged_write_audit_rows(ws):
    with ws.store() as s:
        r = s.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", "q1", "g", "Clear plan."))
        assert (r.rating, r.version) == ("Good", 1)
        r = s.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", "q1", "Outstanding", "Clear plan."))
        assert r.version == 2
        s.set_rating("A. Visitor", RatingInput("C01", "A. Visitor", "q1", "O", "Clear plan."))  # no change
        log = s.audit_log()
    assert list(log["action"]) == ["insert", "update"]
    assert json.loads(log["old"][1])["rating"] == "Good"
    assert json.loads(log["new"][1])["rating"] == "Outstanding"
    assert set(log["actor"]) == {"A. Visitor"}


def test_audit_log_holds_free_text_only_as_a_digest(ws):
    with ws.store() as s:
        s.set_rating("x", RatingInput("C01", "A. Visitor", "q2", "Good", "The person's own words shape the plan."))
        entry = s.audit_log()["new"][0]
    assert "own words" not in entry
    assert "sha256:" in json.loads(entry)["comment"]


def test_audit_log_is_append_only(ws):
    with ws.store() as s:
        s.set_rating("x", RatingInput("C01", "A. Visitor", "q2", "Good"))
        for sql in ("DELETE FROM audit_log", "UPDATE audit_log SET actor='y'"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                s._db.execute(sql)
        assert len(s.audit_log()) == 1


@pytest.mark.parametrize("row, message", [
    (RatingInput("C01", "Nobody", "q1", "Good"), "not a reviewer"),
    (RatingInput("C01", "A. Visitor", "q99", "Good"), "not in this review's audit tool"),
    (RatingInput("C01", "A. Visitor", "q1", "Brilliant"), r"Outstanding \(O\), Good \(G\)"),
    (RatingInput("C99", "A. Visitor", "q1", "Good"), "not in this review's case list"),
    (RatingInput("C03", "A. Visitor", "q1", "Good"), "not allocated"),
])
def test_invalid_ratings_are_refused_and_nothing_is_written(ws, row, message):
    with ws.store() as s:
        with pytest.raises(InvalidInputError, match=message):
            s.set_rating("x", row)
        assert s.all_ratings().empty and s.audit_log().empty


def test_bulk_write_is_all_or_nothing(ws):
    rows = [RatingInput("C01", "A. Visitor", "q1", "Good"), RatingInput("C01", "A. Visitor", "q2", "nope")]
    with ws.store() as s:
        with pytest.raises(InvalidInputError):
            s.apply_ratings("x", rows)
        assert s.all_ratings().empty and s.audit_log().empty


def test_moderator_may_rate_a_moderation_case(ws):
    with ws.store() as s:
        s.set_rating("B. Visitor", RatingInput("C01", "B. Visitor", "overall", "Good"))
        assert len(s.ratings()) == 1


def test_stale_form_gets_a_conflict_not_a_silent_overwrite(ws):
    with ws.store() as tab1, ws.store() as tab2:
        first = tab1.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Good"), expected_version=0)
        tab2.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Outstanding"), expected_version=first.version)
        with pytest.raises(ConflictError, match="changed elsewhere"):
            tab1.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Inadequate"), expected_version=first.version)
        assert tab1.rating("C01", "A. Visitor", "q1").rating == "Outstanding"


def test_blocked_text_is_not_stored_and_message_has_no_value(ws):
    with ws.store() as s:
        with pytest.raises(BlockedTextError) as info:
            s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Good", f"NHS no {NHS_CANARY} seen"))
        assert NHS_CANARY not in str(info.value) and "9990000018" not in str(info.value)
        assert s.all_ratings().empty and s.audit_log().empty


def test_warning_needs_confirmation_and_is_audited_without_value(ws):
    # A full date older than a case review looks back (screening's _EVENT_AGE_YEARS) may be a
    # date of birth: a warning, stored only once the user confirms it.
    text = "Reviewed at the hub on 12/03/1941 with the team."
    with ws.store() as s:
        with pytest.raises(WarningTextError, match="date of birth"):
            s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Good", text))
        assert s.all_ratings().empty and s.audit_log().empty
        s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Good", text), confirm_warnings=True)
        log = s.audit_log()
    assert len(log) == 1 and "confirmed" in log["note"][0]
    assert "1941" not in log.to_string()


def test_case_flags_need_a_reason_to_refer_back(ws):
    with ws.store() as s:
        with pytest.raises(InvalidInputError, match="needs a reason"):
            s.set_case_flag("x", "C01", "A. Visitor", referred_back=True)
        s.set_case_flag("x", "C01", "A. Visitor", referred_back=True, reason="Safeguarding risk not followed up.")
        s.set_case_flag("x", "C01", "A. Visitor", complete=True)
        flags = s.case_flags()
        log = s.audit_log()
    assert flags.loc[0, "referred_back"] and flags.loc[0, "complete"]
    assert list(log["entity"]) == ["case_flag", "case_flag"]


def test_meetings_conversations_and_notes_are_audited(ws):
    with ws.store() as s:
        mid = s.add_meeting("h", "managers", "2026-10-05", {"manager": 6}, ref="M1")
        s.update_meeting("h", mid, attendees={"manager": 5, "team manager": 1})
        nid = s.add_note("h", "Supervision is regular.", meeting_id=mid, kind="quote", speaker_role="manager",
                         stance="strength", codes=["supervision"], use_in_report=True)
        s.update_note("h", nid, codes=["supervision", "culture"])
        cid = s.add_conversation("h", "C01", "carer", "A. Visitor", "2026-10-07")
        s.add_note("h", "Felt listened to.", conversation_id=cid, kind="quote", speaker_role="carer")
        s.delete_note("h", nid)
        notes, meetings, log = s.notes(), s.meetings(), s.audit_log()
    assert meetings.loc[0, "attendee_count"] == 6
    assert list(notes["source"]) == ["conversation"]
    assert list(log["entity"]) == ["meeting", "meeting", "note", "note", "conversation", "note", "note"]
    assert list(log["action"])[-1] == "delete"


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "party"}, "meeting kind"),
    ({"kind": "managers", "held_on": "5th October"}, "YYYY-MM-DD"),
    ({"kind": "managers", "attendees": {"manager": -1}}, "whole number"),
])
def test_bad_meetings_are_refused(ws, kwargs, message):
    with ws.store() as s:
        with pytest.raises(InvalidInputError, match=message):
            s.add_meeting("h", **kwargs)
        assert s.meetings().empty and s.audit_log().empty


@pytest.mark.parametrize("folder", ["OneDrive - Eastvale Council", "SharePoint", "Dropbox", "Google Drive"])
def test_synced_folders_are_refused(tmp_path, folder):
    with pytest.raises(UnsafeLocationError, match="synced folder"):
        check_location(tmp_path / folder / "reviews")
    with pytest.raises(UnsafeLocationError):
        Store(tmp_path / folder / "review.db")
    assert not (tmp_path / folder).exists()


def test_store_uses_wal_and_foreign_keys(ws):
    with ws.store() as s:
        assert s._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s._db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert s.integrity_check() == "ok"


def test_a_confirmed_note_is_not_questioned_again_when_the_rating_changes(ws):
    text = "Seen at the hub on 12/03/1941 with the team."
    with ws.store() as s:
        with pytest.raises(WarningTextError):
            s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Good", text))
        s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Good", text), confirm_warnings=True)
        changed = s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Outstanding", text))
        assert changed.rating == "Outstanding"
        with pytest.raises(WarningTextError):  # new text is screened as ever
            s.set_rating("x", RatingInput("C01", "A. Visitor", "q1", "Good", text + " Again 1/2/1940."))
