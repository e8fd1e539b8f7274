"""Crafted and broken input gets a plain message naming the file and place, never a traceback.

Each file here is built the way an attacker or an unlucky save would build it: a workbook
whose XML is cut short or declares an external entity, a zip bomb of a workbook, a sheet of
hundreds of thousands of rows, a CSV cell over the csv module's limit, hidden sheets, a
names list or narrative in a Windows encoding, a damaged store. Every refusal is one of the
kit's own errors, and nothing reaches the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewkit.errors import ImportFileError, ReviewkitError, StoreError, WorkspaceError
from reviewkit.io import MAX_ROWS, MAX_XLSX_BYTES, import_files
from reviewkit.workspace import open_workspace

from .xlsx_crafting import RATINGS, bomb, rewrite, sheet_xml, with_doctype, workbook

CANARY = "Zebediah Quokkafeather"


def _refusal(ws, path: Path, progress=None) -> str:
    with pytest.raises(ImportFileError) as info:
        import_files(ws, [path], actor="t", progress=progress)
    message = str(info.value)
    assert str(path) in message
    return message


def _stored(ws) -> int:
    with ws.store() as s:
        return len(s.all_ratings())


# -- malformed and hostile XML -----------------------------------------------------------------
@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml",
                                  "[Content_Types].xml", "xl/_rels/workbook.xml.rels"])
def test_a_workbook_with_a_part_cut_short_is_refused_plainly(ws, tmp_path, part):
    bad = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "cut.xlsx", {part: lambda d: d[: len(d) // 2]})
    assert "not a readable XLSX workbook" in _refusal(ws, bad)
    assert _stored(ws) == 0


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
@pytest.mark.parametrize("uses_entity", [True, False])
def test_a_workbook_declaring_an_external_entity_is_refused(ws, tmp_path, part, uses_entity):
    good = workbook(tmp_path / "good.xlsx", {"ratings": [*RATINGS[:1], ["C01", "A. Visitor", "q1", "Good"]]})
    bad = rewrite(good, tmp_path / "xxe.xlsx", {part: lambda d: with_doctype(d or b"<sst/>", uses_entity)})
    message = _refusal(ws, bad)
    assert "declares a document type (DTD)" in message and part in message
    assert _stored(ws) == 0


# -- bombs ------------------------------------------------------------------------------------
def test_a_workbook_inflating_far_beyond_a_review_is_refused_before_it_is_read(ws, tmp_path):
    # 4 MB inflating to 4 GiB in issue 12; here 128 KB to 2 × the bound: the same check decides.
    bad = bomb(workbook(tmp_path / "good.xlsx"), tmp_path / "bomb.xlsx", 2 * MAX_XLSX_BYTES)
    assert bad.stat().st_size < 1_000_000
    message = _refusal(ws, bad)
    assert "unpacks to 128 MB, more than the 64 MB" in message


def test_a_sheet_whose_dimension_declares_too_many_rows_is_refused_unread(ws, tmp_path):
    # 3 million rows in issue 12: the sheet's own <dimension> says so in its first bytes.
    bad = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "rows.xlsx",
                  {"xl/worksheets/sheet1.xml": lambda _d: sheet_xml(10, dimension=3_000_000)})
    assert f"has more than {MAX_ROWS:,} rows" in _refusal(ws, bad)


def test_a_sheet_with_too_many_rows_and_no_dimension_stops_at_the_bound(ws, tmp_path):
    bad = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "rows.xlsx",
                  {"xl/worksheets/sheet1.xml": lambda _d: sheet_xml(MAX_ROWS + 1, dimension=0)})
    assert f"has more than {MAX_ROWS:,} rows" in _refusal(ws, bad)


def test_a_csv_with_too_many_rows_is_refused(ws, tmp_path):
    f = tmp_path / "long.csv"
    f.write_text("case_id,reviewer,question,rating\n" + "C01,A. Visitor,q1,Good\n" * (MAX_ROWS + 1))
    assert f"has more than {MAX_ROWS:,} rows" in _refusal(ws, f)


# -- hidden sheets ------------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_that_is_read_is_named_in_a_warning(ws, tmp_path, state):
    f = workbook(tmp_path / "h.xlsx", {"Instructions": [["Fill in the ratings sheet"]], "ratings": RATINGS},
                 states={"ratings": state})
    said: list[str] = []
    summary = import_files(ws, [f], actor="t", progress=said.append)
    assert summary["ratings"].added == 1
    warnings = [m for m in said if m.startswith("Warning:")]
    assert len(warnings) == 1 and "'ratings' is hidden in Excel" in warnings[0] and str(f) in warnings[0]


def test_a_visible_workbook_gives_no_hidden_sheet_warning(ws, tmp_path):
    said: list[str] = []
    import_files(ws, [workbook(tmp_path / "v.xlsx")], actor="t", progress=said.append)
    assert not [m for m in said if "hidden" in m]


# -- CSV --------------------------------------------------------------------------------------
def test_a_csv_cell_over_the_csv_limit_is_named_as_too_long_not_as_bad_quoting(ws, tmp_path):
    f = tmp_path / "long_cell.csv"
    f.write_text("case_id,reviewer,question,rating,comment\nC01,A. Visitor,q1,Good," + "x" * 140_000 + "\n")
    message = _refusal(ws, f)
    assert "row 2" in message and "has a cell longer than 131,072 characters" in message
    assert "xxxx" not in message


# -- workspace files --------------------------------------------------------------------------
def test_a_names_list_in_a_windows_encoding_is_a_plain_error(ws):
    (ws.path / "private" / "names.txt").write_bytes(CANARY.replace("e", "\xe9").encode("cp1252") + b"\n")
    with pytest.raises(WorkspaceError) as info:
        open_workspace(ws.path).private_names()
    assert "names.txt" in str(info.value) and "UTF-8" in str(info.value)
    assert "Quokka" not in str(info.value)


@pytest.mark.parametrize("damage", [b"this is not a database" * 50, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_damaged_store_is_a_plain_error(ws, damage):
    for extra in ("-wal", "-shm"):
        Path(f"{ws.db_path}{extra}").unlink(missing_ok=True)
    ws.db_path.write_bytes(damage)
    with pytest.raises(StoreError) as info:
        ws.store()
    assert "review.db" in str(info.value) and "restore" in str(info.value)


def test_a_non_utf8_narrative_is_a_plain_error_when_exporting_for_the_region(ws, tmp_path):
    from reviewkit.regional import export_bundle

    (ws.path / "narrative" / "recommendations.md").write_bytes("1. Caf\xe9 practice\n".encode("cp1252"))
    with pytest.raises(ReviewkitError) as info:
        export_bundle(ws, tmp_path / "bundle.zip")
    assert "recommendations.md" in str(info.value) and "UTF-8" in str(info.value)
    assert not (tmp_path / "bundle.zip").exists()


# -- the write phase --------------------------------------------------------------------------
def _content(ws) -> list[tuple]:
    with ws.store() as s:
        return [tuple(r) for table in ("ratings", "meetings", "attendance", "notes")
                for r in s.execute_read(f"SELECT * FROM {table} ORDER BY 1")]


def test_a_refusal_after_rows_are_written_leaves_the_store_as_it_was(ws, tmp_path):
    """Ratings and a meeting are written before the note is refused: all of it rolls back."""
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("case_id,reviewer,question,rating\nC01,A. Visitor,q1,Good\nC01,A. Visitor,q2,Good\n")
    import_files(ws, [ratings], actor="t")
    before = _content(ws)
    ratings.write_text("case_id,reviewer,question,rating\nC01,A. Visitor,q1,Inadequate\nC03,B. Visitor,q1,Good\n")
    meetings = tmp_path / "meetings.csv"
    meetings.write_text("meeting,kind,date,role,attendees\nM1,practitioners,2026-03-02,social worker,4\n")
    notes = tmp_path / "notes.csv"
    notes.write_text("note,meeting,kind,text\nN1,M1,note,Supervision is regular.\n")
    # The store refuses the note when it is inserted, after the ratings and the meeting were
    # written in the same transaction (as a change by another writer would).
    with sqlite3.connect(ws.db_path) as db:
        db.execute("CREATE TRIGGER refuse_notes BEFORE INSERT ON notes "
                   "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(StoreError) as info:
        import_files(ws, [ratings, meetings, notes], actor="t")
    assert "nothing was imported" in str(info.value)
    assert _content(ws) == before


def test_a_full_disk_while_importing_is_named_as_such(tmp_path):
    """Under a file-size limit the store cannot grow: the message says the disk is full."""
    from .test_full_disk import run_with_file_limit

    done = run_with_file_limit(tmp_path, "import", limit_kb=512)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "disk" in done.stderr and "full" in done.stderr
    assert "another import is running" not in done.stderr
