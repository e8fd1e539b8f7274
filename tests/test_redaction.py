"""Checking and redacting a whole workspace: by location, consistent, idempotent, no values left."""

from __future__ import annotations

import sqlite3

from reviewkit.cli import main
from reviewkit.review.ratings import RatingInput
from reviewkit.review.redaction import blocking_findings, redact_workspace, scan_workspace
from reviewkit.review.workspace import open_workspace

from .helpers import make_workspace

NAME = "Zebediah Quokkafeather"
NHS = "999 000 0018"


def planted(tmp_path):
    """A workspace holding identifiers that slipped in before the host listed the name."""
    ws = make_workspace(tmp_path / "ws")
    with ws.store() as s:
        s.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Good", f"{NAME} led the plan."))
        mid = s.add_meeting("H", "managers", "2026-10-05", {"manager": 6}, ref="M1")
        s.add_note("H", "Quokkafeather said it helped.", meeting_id=mid, kind="quote",
                   speaker_role="manager", use_in_report=True)
    # Legacy data written before screening existed: straight into the table.
    con = sqlite3.connect(ws.db_path)
    con.execute("UPDATE ratings SET comment = ? WHERE question='q1'", (f"{NAME} led the plan. NHS {NHS}.",))
    con.commit()
    con.close()
    (ws.path / "private" / "names.txt").write_text(NAME + "\n")
    (ws.path / "narrative" / "observations.md").write_text(f"We met {NAME}'s daughter.\n\nAll good.\n")
    return open_workspace(ws.path)


def test_scan_lists_locations_without_values(tmp_path):
    ws = planted(tmp_path)
    found = scan_workspace(ws)
    text = "\n".join(str(f) for f in found)
    assert {f.table for f in found} == {"ratings", "notes", "narrative/observations.md"}
    assert {f.kind for f in found} >= {"nhs_number", "listed_name"}
    assert NAME not in text and "Quokkafeather" not in text and "0018" not in text
    # Only text the report prints blocks rendering: the quote marked for the report and the
    # narrative, not the unpublished evidence note.
    assert {(f.table, f.row) for f in blocking_findings(ws)} == {
        ("notes", "note 1"), ("narrative/observations.md", "line 1")}


def test_redact_is_consistent_idempotent_and_leaves_nothing(tmp_path, capsys):
    ws = planted(tmp_path)
    summary = redact_workspace(ws, actor="host")
    assert summary.changed == {"ratings": 1, "notes": 1, "narrative/observations.md": 1}
    ws = open_workspace(ws.path)
    assert scan_workspace(ws) == []
    with ws.store() as s:
        comment = s.rating("C01", "A. Visitor", "q1").comment
        note = s.notes()["text"][0]
        log = s.audit_log().to_string()
    assert comment == "[PERSON 1] led the plan. NHS [NHS NUMBER]."
    assert note == "[PERSON 1] said it helped."
    assert "[PERSON 1]'s daughter" in (ws.path / "narrative" / "observations.md").read_text()
    assert "Quokkafeather" not in log and "0018" not in log
    # Nothing of the old text is left in the database files either.
    raw = b"".join(p.read_bytes() for p in ws.path.glob("review.db*"))
    assert b"Quokkafeather" not in raw and b"999 000 0018" not in raw
    again = redact_workspace(ws, actor="host")
    assert again.total == 0
    assert main(["check", str(ws.path)]) == 0
    assert "No personal identifiers" in capsys.readouterr().out


def test_check_command_exits_1_while_identifiers_remain(tmp_path, capsys):
    ws = planted(tmp_path)
    assert main(["check", str(ws.path)]) == 1
    out = capsys.readouterr().out
    assert "ratings, case C01, A. Visitor, q1, comment" in out
    assert "Quokkafeather" not in out and "0018" not in out


def test_check_names_a_narrative_file_that_is_not_utf8(tmp_path, capsys):
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "narrative" / "strengths.md").write_bytes("Caf\u00e9 culture".encode("cp1252"))
    assert main(["check", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert "strengths.md" in err and "save it as UTF-8" in err and "Traceback" not in err


def test_unmarked_one_change_items_are_not_counted_as_published(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    with ws.store() as s:
        mid = s.add_meeting("H", "managers", "2026-10-05", {"manager": 6})
        s.add_note("H", "Quokkafeather wants a shorter form.", meeting_id=mid, kind="one_change")
    (ws.path / "private" / "names.txt").write_text(NAME + "\n")
    ws = open_workspace(ws.path)
    assert [f.table for f in scan_workspace(ws)] == ["notes"]
    assert blocking_findings(ws) == []
