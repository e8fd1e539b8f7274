"""Crafted and broken input gets a plain message naming the file and place, never a traceback.

Each file here is built the way an attacker or an unlucky save would build it: a workbook
whose XML is cut short or declares an external entity, a zip bomb of a workbook, a sheet of
hundreds of thousands of rows or one row of a million cells, a cell over the one cell-size
limit (CSV or XLSX), a CSV quote left open, hidden sheets, a names list or narrative in a
Windows encoding, a damaged store, counts and dates that once overflowed or slipped through.
Every refusal is one of the kit's own errors, and nothing reaches the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reviewkit.core.errors import ImportFileError, InvalidInputError, ReviewkitError, StoreError, WorkspaceError
from reviewkit.intake.io import MAX_ROWS, MAX_XLSX_BYTES, import_files
from reviewkit.review.workspace import open_workspace

from .xlsx_crafting import RATINGS, bomb, rewrite, sheet_xml, wide_row_xml, with_doctype, workbook

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


def _unloaded(monkeypatch) -> None:
    """Fail the test if openpyxl is asked to open the workbook: the refusal must come first."""
    import openpyxl

    def refuse(*_args, **_kwargs):
        raise AssertionError("openpyxl.load_workbook was called")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def test_one_row_of_a_million_cells_is_refused_before_openpyxl_reads_it(ws, tmp_path, monkeypatch):
    # Issue 17: 137 KB holding one row of 1.2 million cells took 120 s and 1.15 GB to be refused.
    bad = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "wide.xlsx",
                  {"xl/worksheets/sheet1.xml": lambda _d: wide_row_xml(1_200_000)})
    assert bad.stat().st_size < 200_000
    _unloaded(monkeypatch)
    message = _refusal(ws, bad)
    assert "part xl/worksheets/sheet1.xml has a row of more than 256 cells" in message
    assert _stored(ws) == 0


def test_a_sheet_whose_dimension_declares_too_many_columns_is_refused_unread(ws, tmp_path, monkeypatch):
    bad = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "cols.xlsx",
                  {"xl/worksheets/sheet1.xml": lambda _d: wide_row_xml(3, dimension="A1:XFD1")})
    _unloaded(monkeypatch)
    assert "declares rows of more than 256 cells" in _refusal(ws, bad)


@pytest.mark.parametrize("column, rows, expected", [
    ("XFD", 10, "row 1: has more than 256 cells"),
    ("IV", 4_000, "holds more than 1,000,000 cells"),
])
def test_cells_far_to_the_right_are_counted_as_the_blanks_openpyxl_fills_rows_with(ws, tmp_path, column, rows,
                                                                                   expected):
    # Two cells a row, the second far to the right: openpyxl hands over rows padded to that column.
    bad = rewrite(workbook(tmp_path / "good.xlsx"), tmp_path / "far.xlsx",
                  {"xl/worksheets/sheet1.xml": lambda _d: wide_row_xml(0, column=column, rows=rows)})
    assert expected in _refusal(ws, bad)


# -- one cell-size limit ------------------------------------------------------------------------
def _long_cell(tmp_path: Path, suffix: str, chars: int) -> Path:
    header, row = "case_id,reviewer,question,rating,comment", ["C01", "A. Visitor", "q1", "Good", "MARK"]
    filler = ("Strengths recorded " * (chars // 19 + 1))[:chars]
    if suffix == ".csv":
        path = tmp_path / "long.csv"
        path.write_text(f"{header}\n{','.join(row)}\n".replace("MARK", filler), encoding="utf-8")
        return path
    # openpyxl cuts what it writes at Excel's 32,767 characters; another program need not.
    good = workbook(tmp_path / "short.xlsx", {"ratings": [header.split(","), row]})
    return rewrite(good, tmp_path / "long.xlsx",
                   {"xl/worksheets/sheet1.xml": lambda d: d.replace(b"MARK", filler.encode())})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_cell_over_the_one_limit_is_refused_from_csv_and_xlsx_alike(ws, tmp_path, suffix):
    message = _refusal(ws, _long_cell(tmp_path, suffix, 1_000_000))
    assert "row 2" in message and "longer than 131,072 characters, the most a cell may hold" in message
    assert "Strengths recorded" not in message
    assert _stored(ws) == 0


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_cell_at_the_limit_is_stored_from_csv_and_xlsx_alike(ws, tmp_path, suffix):
    assert import_files(ws, [_long_cell(tmp_path, suffix, 131_072)], actor="t")["ratings"].added == 1


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


# Issue 17: one comment opened a quote and never closed it; the three rows after it were read
# into that one comment, and the import said "1 changed".
SWALLOWED = ("case_id,reviewer,question,rating,comment\n"
             'C01,A. Visitor,q1,Good,"Plans are reviewed with the person\n'
             "C01,A. Visitor,q2,Good,Carers are heard\n"
             "C01,A. Visitor,q3,Inadequate,Risks are not recorded\n"
             "C01,A. Visitor,q4,Good,Outcomes are clear\n")


def test_a_quote_left_open_refuses_the_file_naming_its_row_and_column(ws, tmp_path):
    f = tmp_path / "open_quote.csv"
    f.write_text(SWALLOWED, encoding="utf-8")
    message = _refusal(ws, f)
    assert "row 2, column 'comment': a quote (\") opens this cell and is not closed" in message
    assert "the 3 line(s) after it were read into this one cell" in message
    assert "close the quote in row 2, column 'comment', or remove it" in message
    assert "Plans are" not in message and "Risks" not in message
    assert _stored(ws) == 0


def test_a_quote_closed_only_by_a_later_cells_quote_is_refused_too(ws, tmp_path):
    f = tmp_path / "stray_quote.csv"
    f.write_text(SWALLOWED.replace("Risks are not recorded", '"Risks" are not recorded'), encoding="utf-8")
    message = _refusal(ws, f)
    assert "row 2, column 'comment': a quote" in message and _stored(ws) == 0


def test_a_quoted_cell_closing_into_a_row_narrower_than_the_header_is_refused(ws, tmp_path):
    f = tmp_path / "narrow.csv"
    f.write_text('case_id,reviewer,question,rating,comment\nC01,A. Visitor,"q1,Good,Fine\n'
                 'C01,A. Visitor,q2,Good",Fine\n', encoding="utf-8")
    message = _refusal(ws, f)
    assert "row 2, column 'question': a quoted cell here runs over 1 line break(s) and its row then has 4 cells " \
           "where the header has 5" in message


def test_an_open_quote_after_a_real_multi_line_cell_names_its_line_and_spreadsheet_row(ws, tmp_path):
    f = tmp_path / "later.csv"
    f.write_text('case_id,reviewer,question,rating,comment\nC01,A. Visitor,q1,Good,"Two\nlines"\n'
                 'C01,A. Visitor,q2,Good,"Open\nC01,A. Visitor,q3,Good,Fine\n', encoding="utf-8")
    message = _refusal(ws, f)
    assert "row 4, column 'comment'" in message and "(row 3 when the file is opened in a spreadsheet)" in message


def test_an_open_quote_running_past_the_cell_limit_is_named_as_a_quote(ws, tmp_path):
    f = tmp_path / "long_open.csv"
    f.write_text(SWALLOWED + "C01,A. Visitor,q5,Good,Fine\n" * 8000, encoding="utf-8")
    message = _refusal(ws, f)
    assert "row 2, column 'comment': a quote (\") opens this cell" in message and "longer than" not in message


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_real_multi_line_comments_as_excel_exports_them_are_kept(ws, tmp_path, newline):
    comment = f"Strengths are recorded.{newline}Carers say: ""heard"", and, valued.{newline}{newline}Next: review."
    text = newline.join(["case_id,reviewer,question,rating,comment",
                         f'C01,A. Visitor,q1,Good,"{comment}"', "C01,A. Visitor,q2,Good,Fine", ""])
    f = tmp_path / "multi.csv"
    f.write_bytes(text.encode("utf-8-sig"))
    assert import_files(ws, [f], actor="t")["ratings"].added == 2
    with ws.store() as s:
        stored = dict(zip(s.all_ratings()["question"], s.all_ratings()["comment"]))
    assert stored == {"q1": comment.replace('""', '"'), "q2": "Fine"}


# -- counts and dates that overflowed or slipped through ----------------------------------------
@pytest.mark.parametrize("count", ["99999999999999999999999", "1e300", "501", "²", "-1"])
def test_an_attendee_count_out_of_range_is_refused_with_the_range(ws, tmp_path, count):
    f = tmp_path / "meetings.csv"
    f.write_text(f"meeting,kind,date,role,attendees\nM1,practitioners,2026-03-02,social worker,{count}\n",
                 encoding="utf-8")
    message = _refusal(ws, f)
    assert "row 2, column 'attendees': expected how many of that role attended, as a whole number from 0 to 500" \
        in message


def test_an_attendee_count_of_1e300_in_a_workbook_is_refused(ws, tmp_path):
    f = workbook(tmp_path / "m.xlsx", {"meetings": [["meeting", "kind", "date", "role", "attendees"],
                                                    ["M1", "practitioners", "2026-03-02", "social worker", 1e300]]})
    assert "row 2, column 'attendees': expected how many" in _refusal(ws, f)


def test_the_store_refuses_an_attendee_count_sqlite_cannot_hold(ws):
    with ws.store() as s, pytest.raises(InvalidInputError, match="whole number from 0 to 500"):
        s.add_meeting("t", "practitioners", "2026-03-02", {"practitioner": 99999999999999999999999})


def test_a_meeting_table_with_a_huge_count_is_an_error_not_an_overflow():
    from reviewkit.figures.analysis import review_counts

    with pytest.raises(InvalidInputError, match="meetings row 1, column 'attendees'"):
        review_counts(None, meetings=[{"kind": "practitioners", "attendees": 10**400}])


def _years_ahead(years: int) -> str:
    import datetime as dt

    today = dt.date.today()
    return today.replace(year=today.year + years, day=min(today.day, 28)).isoformat()


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31", "later"])
def test_meeting_and_conversation_dates_outside_a_reviews_window_are_refused(ws, tmp_path, day):
    day = _years_ahead(3) if day == "later" else day
    meetings, conversations = tmp_path / "meetings.csv", tmp_path / "conversations.csv"
    meetings.write_text(f"meeting,kind,date,role,attendees\nM1,practitioners,{day},social worker,3\n")
    conversations.write_text(f"conversation,case_id,who,reviewer,date\nV1,C01,person,A. Visitor,{day}\n")
    with pytest.raises(ImportFileError) as info:
        import_files(ws, [meetings, conversations], actor="t")
    shown = [str(p) for p in info.value.problems]
    assert len(shown) == 2 and all("row 2, column 'date': is outside the dates a review can have (2000-01-01 to "
                                   in m and "check the year" in m for m in shown), shown
    with ws.store() as s:
        assert s.execute_read("SELECT count(*) FROM meetings")[0][0] == 0
        with pytest.raises(InvalidInputError, match="meeting date is outside the dates a review can have"):
            s.add_meeting("t", "practitioners", day, {"practitioner": 3})
        with pytest.raises(InvalidInputError, match="conversation date is outside"):
            s.add_conversation("t", "C01", "person", "A. Visitor", day)


def test_dates_at_the_edges_of_the_window_are_stored(ws, tmp_path):
    f = tmp_path / "meetings.csv"
    f.write_text(f"meeting,kind,date,role,attendees\nM1,practitioners,2000-01-01,social worker,3\n"
                 f"M2,practitioners,{_years_ahead(1)},social worker,3\n")
    assert import_files(ws, [f], actor="t")["meetings"].added == 2


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
    from reviewkit.review.bundle import export_bundle

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
