"""Import, export and the offline audit workbook: the public data contracts, end to end."""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from reviewkit.core.errors import ImportFileError, InvalidInputError, Problem
from reviewkit.intake.io import export, import_files
from reviewkit.intake.workbook import write_workbook
from reviewkit.review.ratings import RatingInput
from reviewkit.review.reviewyaml import Case
from reviewkit.review.workspace import Workspace, create_workspace, open_workspace

DATA = Path(__file__).parent / "data" / "import"
TEAM = ["A. Visitor", "B. Visitor", "C. Visitor"]
CANARIES = ("Zebediah", "Quokkafeather", "999 000 0018")
GOOD = [DATA / f"good_{kind}.csv" for kind in ("ratings", "flags", "meetings", "conversations", "notes")]
KINDS = ("ratings", "flags", "meetings", "conversations", "notes", "concerns", "calibration")


def make_ws(root: Path, *, cases: bool = True) -> Workspace:
    ws = create_workspace(root, council="Eastvale Borough Council", theme="Strengths-based practice",
                          reviewers=TEAM, host="H. Host")
    if cases:
        ws.meta.cases = [Case("C01", "A. Visitor"), Case("C02", "A. Visitor"),
                         Case("C03", "B. Visitor", ("A. Visitor",)), Case("C04", "C. Visitor")]
        ws.save_meta()
    (root / "private" / "names.txt").write_text("# names to screen\nZebediah Quokkafeather\n", encoding="utf-8")
    return open_workspace(root)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A review with a case list, a names list and the good files imported."""
    ws = make_ws(tmp_path / "ws")
    import_files(ws, GOOD, actor="H. Host")
    return ws


def fresh_copy(ws: Workspace, dest: Path) -> Workspace:
    """The same review (review.yaml, tool, names) with an empty store."""
    shutil.copytree(ws.path, dest, ignore=shutil.ignore_patterns("review.db*"))
    return open_workspace(dest)


def snapshot(ws: Workspace) -> dict[str, str | int]:
    """Everything the store holds, as text, to compare before and after."""
    with ws.store() as s:
        return {
            "ratings": s.all_ratings().to_json(orient="records"),
            "flags": s.case_flags().to_json(orient="records"),
            "meetings": s.meetings().to_json(orient="records"),
            "conversations": s.conversations().to_json(orient="records"),
            "notes": s.notes().to_json(orient="records"),
            "audit": len(s.audit_log()),
        }


def content(ws: Workspace) -> dict[str, list[dict[str, object]]]:
    """What the store holds without ids, versions and timestamps, keyed by references."""
    with ws.store() as s:
        ratings = s.all_ratings().drop(columns=["version", "updated_at", "updated_by"])
        meetings = s.meetings().drop(columns=["id", "version"]).sort_values("ref")
        conversations = s.conversations().drop(columns=["id", "version"]).sort_values("ref")
        notes = s.notes().drop(columns=["note_id", "meeting_id", "conversation_id", "version"]).sort_values("ref")
        notes["codes"] = notes["codes"].map(list)
        frames = {"ratings": ratings, "flags": s.case_flags(), "meetings": meetings,
                  "conversations": conversations, "notes": notes}
        return {k: json.loads(df.to_json(orient="records")) for k, df in frames.items()}


def audit_rows(ws: Workspace):
    with ws.store() as s:
        return s.audit_log()


def refused(ws: Workspace, names: list[str | Path], **kwargs: object) -> list[Problem]:
    """Import that must fail: nothing stored, and no cell value in any message."""
    before = snapshot(ws)
    with pytest.raises(ImportFileError) as info:
        import_files(ws, [DATA / n for n in names], actor="H. Host", **kwargs)
    assert snapshot(ws) == before
    shown = (str(info.value) + "\n".join(str(p) for p in info.value.problems)).casefold()
    for canary in CANARIES:
        assert canary.casefold() not in shown
    return info.value.problems


def where(problems: list[Problem]) -> set[tuple[str, int | None, str | None]]:
    return {(Path(p.file).name.split(" ")[0], p.row, p.column) for p in problems}


# -- every kind of import error --------------------------------------------------------------
ERRORS = [
    # files, expected (file, row, column) set, a fragment of what was expected
    (["unknown_reviewer.csv"], {("unknown_reviewer.csv", 3, "reviewer")}, "A. Visitor, B. Visitor, C. Visitor, H. Host"),
    (["unknown_question.csv"], {("unknown_question.csv", 2, "question"), ("unknown_question.csv", 3, "question")},
     "q1, q2, q3"),
    (["bad_rating.csv"], {("bad_rating.csv", 2, "rating"), ("bad_rating.csv", 3, "rating")},
     "expected one of Outstanding (O), Good (G), Requires Improvement (RI), Inadequate (I), Not applicable (NA)"),
    (["duplicate_rating.csv"], {("duplicate_rating.csv", 4, "question")}, "duplicate_rating.csv row 2"),
    (["duplicate_rating.xlsx"], {("duplicate_rating.xlsx", 4, "question")}, "row 2 already rates"),
    (["good_ratings.csv", "duplicate_of_good.csv"], {("duplicate_of_good.csv", 3, "question")},
     "good_ratings.csv row 3"),
    (["missing_column.csv"], {("missing_column.csv", 1, "rating")}, "is missing"),
    (["unknown_column.csv"], {("unknown_column.csv", 1, "F"), ("unknown_column.csv", 3, "rating")},
     "not a column of the ratings contract"),
    (["unrecognised_table.csv"], {("unrecognised_table.csv", 1, None)}, "cannot tell what kind of table"),
    (["no_header_row.csv"], {("no_header_row.csv", 1, None)}, "first row must hold the column names"),
    (["extra_cells.csv"], {("extra_cells.csv", 2, None)}, "more cells than the header has columns"),
    (["latin1.csv"], {("latin1.csv", 2, None)}, "CSV UTF-8"),
    (["utf16.csv"], {("utf16.csv", None, None)}, "CSV UTF-8"),
    (["empty.csv"], {("empty.csv", None, None)}, "is empty"),
    (["not_a_spreadsheet.xlsx"], {("not_a_spreadsheet.xlsx", None, None)}, "not a readable XLSX workbook"),
    (["no_such_file.csv"], {("no_such_file.csv", None, None)}, "no such file"),
    (["make_fixtures.py"], {("make_fixtures.py", None, None)}, "not a CSV or XLSX file"),
    (["case_not_in_list.csv"], {("case_not_in_list.csv", 2, "case_id"), ("case_not_in_list.csv", 3, "case_id")},
     "not in the case list in review.yaml"),
    (["case_not_allocated.csv"], {("case_not_allocated.csv", 3, "case_id")}, "not allocated to this reviewer"),
    (["bad_yes_no.csv"], {("bad_yes_no.csv", 2, "referred_back"), ("bad_yes_no.csv", 3, "complete")},
     "expected yes or no"),
    (["referred_back_without_reason.csv"], {("referred_back_without_reason.csv", 2, "reason")}, "needs a reason"),
    (["bad_date.csv"], {("bad_date.csv", 2, "date"), ("bad_date.csv", 3, "date")}, "YYYY-MM-DD"),
    (["bad_meeting_kind.csv"], {("bad_meeting_kind.csv", 2, "kind"), ("bad_meeting_kind.csv", 3, "attendees")},
     "practitioners, managers, other"),
    (["inconsistent_meeting.csv"], {("inconsistent_meeting.csv", 3, "date"), ("inconsistent_meeting.csv", 4, "role")},
     "differs from"),
    (["bad_who.csv"], {("bad_who.csv", 2, "who"), ("bad_who.csv", 3, "who")},
     "person, relative, carer, person and relative"),
    (["bad_stance.csv"], {("bad_stance.csv", 2, "stance"), ("bad_stance.csv", 3, "kind"),
                          ("bad_stance.csv", 3, "use_in_report")}, "strength, concern, mixed or blank"),
    (["unknown_note_parent.csv"], {("unknown_note_parent.csv", 2, "meeting"),
                                   ("unknown_note_parent.csv", 3, "conversation"),
                                   ("unknown_note_parent.csv", 4, "meeting")}, "no meeting with this reference"),
    (["unknown_code.csv"], {("unknown_code.csv", 2, "codes")}, "supervision, workload"),
    (["blocked_comment.csv"], {("blocked_comment.csv", 2, "comment"), ("blocked_comment.csv", 3, "comment")},
     "NHS number"),
    (["blocked_note.csv"], {("blocked_note.csv", 2, "text"), ("blocked_note.csv", 2, "speaker_role")},
     "name from this review's list of names"),
    (["warning_comment.csv"], {("warning_comment.csv", 2, "comment")}, "--confirm-warnings"),
]


@pytest.mark.parametrize(("files", "expected", "fragment"), ERRORS, ids=[e[0][-1] for e in ERRORS])
def test_import_error_names_file_row_column_and_stores_nothing(ws: Workspace, files: list[str],
                                                               expected: set[tuple[str, int | None, str | None]],
                                                               fragment: str) -> None:
    problems = refused(ws, files)
    assert where(problems) == expected
    assert any(fragment in p.message or fragment in p.file for p in problems), [str(p) for p in problems]


def test_every_problem_of_every_file_is_listed_at_once(ws: Workspace) -> None:
    files = ["unknown_reviewer.csv", "bad_rating.csv", "latin1.csv", "missing_column.csv", "bad_who.csv"]
    problems = refused(ws, files)
    assert {p[0] for p in where(problems)} == set(files)
    assert len(problems) == 1 + 2 + 1 + 1 + 2


def test_bad_rating_message_lists_accepted_values_and_never_the_typed_one(ws: Workspace) -> None:
    problems = refused(ws, ["bad_rating.csv"])
    assert all("Goodish" not in str(p) for p in problems)
    assert str(problems[0]).startswith(str(DATA / "bad_rating.csv") + ", row 2, column 'rating': expected one of")


def test_case_reference_must_be_pseudonymous_without_a_case_list(tmp_path: Path) -> None:
    ws = make_ws(tmp_path / "ws", cases=False)
    problems = refused(ws, ["case_id_not_pseudonymous.csv"])
    assert where(problems) == {("case_id_not_pseudonymous.csv", 2, "case_id")}
    assert "never a name or NHS number" in problems[0].message


def test_blank_referred_back_is_refused_but_blank_complete_is_not(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "blank_flags.csv"
    path.write_text("case_id,reviewer,referred_back,reason,complete\n"
                    "C01,A. Visitor,,,yes\nC03,B. Visitor,no,,\n", encoding="utf-8")
    problems = refused(ws, [path])
    assert where(problems) == {("blank_flags.csv", 2, "referred_back")}
    assert str(problems[0]) == f"{path}, row 2, column 'referred_back': is blank; expected yes or no"


def test_blank_meeting_date_and_bad_references_are_refused_by_row(ws: Workspace, tmp_path: Path) -> None:
    meetings = tmp_path / "refs_meetings.csv"
    meetings.write_text("meeting,kind,date,role,attendees,title\n"
                        "M7,managers,,team manager,3,Managers\n"
                        " ,managers,2026-03-11,team manager,3,Managers\n"
                        "M 9!,managers,2026-03-11,team manager,3,Managers\n", encoding="utf-8")
    problems = refused(ws, [meetings])
    assert [str(p) for p in sorted(problems, key=lambda p: p.row or 0)] == [
        f"{meetings}, row 2, column 'date': is blank; expected a date written YYYY-MM-DD, e.g. 2026-03-14",
        f"{meetings}, row 3, column 'meeting': is blank; expected a short reference such as M1 "
        "(letters, digits and - _ . # /, at most 32 characters)",
        f"{meetings}, row 4, column 'meeting': expected a short reference such as M1 "
        "(letters, digits and - _ . # /, at most 32 characters)"]


def test_possible_identifier_passes_only_when_confirmed(ws: Workspace) -> None:
    refused(ws, ["warning_comment.csv"])
    summary = import_files(ws, [DATA / "warning_comment.csv"], actor="H. Host", confirm_warnings=True)
    assert summary["ratings"].added == 1
    log = audit_rows(ws)
    row = log[log["key"] == "C01/A. Visitor/q3"].iloc[-1]
    assert "confirmed possible identifier" in row["note"] and "date_of_birth" in row["note"]
    assert "1950" not in row["new"] and "1950" not in row["note"]


def test_blocked_text_is_refused_even_when_warnings_are_confirmed(ws: Workspace) -> None:
    problems = refused(ws, ["blocked_comment.csv"], confirm_warnings=True)
    assert len(problems) == 2


# -- good imports -------------------------------------------------------------------------------
def test_good_files_are_stored_with_an_audit_row_for_every_change(tmp_path: Path) -> None:
    ws = make_ws(tmp_path / "ws")
    messages: list[str] = []
    summary = import_files(ws, GOOD, actor="H. Host", progress=messages.append)
    assert {k: (s.added, s.changed, s.unchanged) for k, s in summary.items()} == {
        "ratings": (5, 0, 0), "flags": (2, 0, 0), "meetings": (2, 0, 0), "conversations": (2, 0, 0),
        "notes": (4, 0, 0)}
    assert any(m.startswith("Writing") for m in messages)
    with ws.store() as s:
        ratings = s.ratings()
        assert len(ratings) == 5
        row = ratings[(ratings.case_id == "C03") & (ratings.reviewer == "B. Visitor")].iloc[0]
        assert row["comment"] == "Voice is clear;\nthe plan reflects it."
        assert s.ratings().set_index(["case_id", "reviewer", "question"]).loc[("C01", "A. Visitor", "overall"),
                                                                              "comment"] == ""
        flags = s.case_flags().set_index(["case_id", "reviewer"])
        assert bool(flags.loc[("C03", "B. Visitor"), "referred_back"]) is True
        assert bool(flags.loc[("C01", "A. Visitor"), "complete"]) is True
        meetings = s.meetings().set_index("ref")
        assert meetings.loc["M1", "attendees"] == {"occupational therapist": 2, "social worker": 6}
        assert meetings.loc["M1", "title"] == "Practitioners' focus group"
        assert set(s.conversations()["ref"]) == {"V1", "V2"}
        notes = s.notes().set_index("ref")
        assert notes.loc["M1-02", "codes"] == ("partnership", "workload")
        assert notes.loc["V1-01", "source"] == "conversation" and bool(notes.loc["V1-01", "use_in_report"])
        assert notes.loc["M2-01", "kind"] == "one_change" and not notes.loc["M2-01", "use_in_report"]
        log = s.audit_log()
    counts = log["entity"].value_counts().to_dict()
    assert counts == {"rating": 5, "ratings": 1, "case_flag": 2, "meeting": 2, "conversation": 2, "note": 4}


def test_reimport_is_idempotent(ws: Workspace) -> None:
    before = snapshot(ws)
    summary = import_files(ws, GOOD, actor="H. Host")
    assert all(s.added == 0 and s.changed == 0 for s in summary.values())
    assert sum(s.unchanged for s in summary.values()) == 5 + 2 + 2 + 2 + 4
    assert snapshot(ws) == before


def test_changed_rating_updates_with_one_audit_row(ws: Workspace, tmp_path: Path) -> None:
    text = (DATA / "good_ratings.csv").read_text(encoding="utf-8")
    changed = tmp_path / "changed.csv"
    changed.write_text(text.replace("C01,A. Visitor,q1,Good,", "C01,A. Visitor,q1,Outstanding,"), encoding="utf-8")
    before = audit_rows(ws)
    summary = import_files(ws, [changed], actor="B. Visitor")
    assert (summary["ratings"].added, summary["ratings"].changed, summary["ratings"].unchanged) == (0, 1, 4)
    new = audit_rows(ws).iloc[len(before):]
    rating_rows = new[new["entity"] == "rating"]
    assert len(rating_rows) == 1
    row = rating_rows.iloc[0]
    assert (row["action"], row["key"], row["actor"]) == ("update", "C01/A. Visitor/q1", "B. Visitor")
    assert json.loads(row["old"])["rating"] == "Good" and json.loads(row["new"])["rating"] == "Outstanding"
    assert set(new["entity"]) == {"rating", "ratings"}  # plus the import's one summary row
    with ws.store() as s:
        assert s.rating("C01", "A. Visitor", "q1").rating == "Outstanding"


def test_changed_meeting_conversation_note_and_flag_update_in_place(ws: Workspace, tmp_path: Path) -> None:
    edits = {
        "good_meetings.csv": ("occupational therapist,2", "occupational therapist,3"),
        "good_conversations.csv": ("V2,C03,carer", "V2,C03,relative"),
        "good_notes.csv": ("Caseloads are high in the hospital team.", "Caseloads are high in two teams."),
        "good_flags.csv": ("C01,A. Visitor,no,,yes", "C01,A. Visitor,no,,no"),
    }
    files = []
    for name, (old, new) in edits.items():
        text = (DATA / name).read_text(encoding="utf-8")
        assert old in text
        files.append(tmp_path / name)
        files[-1].write_text(text.replace(old, new), encoding="utf-8")
    before = audit_rows(ws)
    summary = import_files(ws, files, actor="H. Host")
    assert {k: s.changed for k, s in summary.items()} == {"flags": 1, "meetings": 1, "conversations": 1, "notes": 1}
    assert summary["notes"].added == 0 and summary["meetings"].added == 0
    new = audit_rows(ws).iloc[len(before):]
    assert sorted(new["entity"]) == ["case_flag", "conversation", "meeting", "note"]
    assert set(new["action"]) == {"update"}
    with ws.store() as s:
        assert s.meetings().set_index("ref").loc["M1", "attendees"]["occupational therapist"] == 3
        assert s.conversations().set_index("ref").loc["V2", "who"] == "relative"
        assert s.notes().set_index("ref").loc["M1-02", "text"] == "Caseloads are high in two teams."
        assert len(s.notes()) == 4 and len(s.meetings()) == 2


def test_a_store_refusal_while_meetings_are_written_undoes_the_ratings_written_before(
        ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """All or nothing: ratings are written first, so only the import's one transaction can take
    them back when the store refuses a later row (here a meeting's attendance, refused by a
    trigger as a constraint would refuse it, only at write time)."""
    from reviewkit.cli import main

    edits = {"good_ratings.csv": ("C01,A. Visitor,q1,Good,", "C01,A. Visitor,q1,Outstanding,"),
             "good_meetings.csv": ("occupational therapist,2", "occupational therapist,3")}
    files = []
    for name, (old, new) in edits.items():
        text = (DATA / name).read_text(encoding="utf-8")
        assert old in text
        files.append(tmp_path / name)
        files[-1].write_text(text.replace(old, new), encoding="utf-8")
    before = snapshot(ws)
    with contextlib.closing(sqlite3.connect(ws.db_path)) as db, db:
        db.execute("CREATE TRIGGER refuse_attendance BEFORE INSERT ON attendance "
                   "BEGIN SELECT RAISE(ABORT, 'attendance refused'); END")

    assert main(["import", str(ws.path), *map(str, files)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert errors == [f"error: {ws.db_path}: the review store refused the import (IntegrityError); "
                      "nothing was imported"]
    assert snapshot(ws) == before  # the changed rating too, and no audit row
    with ws.store() as s:
        assert s.rating("C01", "A. Visitor", "q1").rating == "Good"

    with contextlib.closing(sqlite3.connect(ws.db_path)) as db, db:
        db.execute("DROP TRIGGER refuse_attendance")
    said: list[str] = []  # once the store accepts them, all of it, and it says so
    summary = import_files(ws, files, actor="H. Host", progress=said.append)
    assert (summary["ratings"].changed, summary["meetings"].changed) == (1, 1)
    assert said[-1] == "Saved: 2 record(s) added or changed"
    log = audit_rows(ws)
    assert list(log[log["entity"] == "ratings"]["key"])[-1] == str(files[0])  # the import's row names its file


def test_note_cannot_move_to_another_meeting(ws: Workspace, tmp_path: Path) -> None:
    moved = tmp_path / "moved.csv"
    moved.write_text("note,meeting,kind,text\nM1-01,M2,quote,Supervision is regular and reflective.\n",
                     encoding="utf-8")
    problems = refused(ws, [moved])
    assert where(problems) == {("moved.csv", 2, "meeting")}


def test_labels_codes_and_headers_are_case_and_space_insensitive(ws: Workspace) -> None:
    summary = import_files(ws, [DATA / "headers_and_labels.csv"], actor="H. Host")
    assert summary["ratings"].added == 7
    with ws.store() as s:
        got = {q: s.rating("C01", "A. Visitor", q).rating for q in ("q4", "q5", "q6", "q7", "q8", "q9", "q10")}
    assert got == {"q4": "Good", "q5": "Outstanding", "q6": "Requires Improvement", "q7": "Inadequate",
                   "q8": "Not applicable", "q9": "Not applicable", "q10": "Requires Improvement"}


def test_utf8_with_bom(ws: Workspace) -> None:
    import_files(ws, [DATA / "bom.csv"], actor="H. Host")
    with ws.store() as s:
        assert s.rating("C01", "A. Visitor", "q6").comment == "Caf\u00e9 visit \u2013 \u00a3 noted."


def test_semicolon_csv_from_a_european_excel(ws: Workspace, tmp_path: Path) -> None:
    f = tmp_path / "semi.csv"
    f.write_text("case_id;reviewer;question;rating;comment\nC02;A. Visitor;q1;Good;Clear, well written.\n",
                 encoding="utf-8")
    import_files(ws, [f], actor="H. Host")
    with ws.store() as s:
        assert s.rating("C02", "A. Visitor", "q1").comment == "Clear, well written."


def test_xlsx_first_sheet_is_read_when_no_sheet_is_named_after_a_kind(ws: Workspace) -> None:
    summary = import_files(ws, [DATA / "first_sheet_meetings.xlsx"], actor="H. Host")
    assert summary == {"meetings": summary["meetings"]} and summary["meetings"].added == 1
    with ws.store() as s:
        m = s.meetings().set_index("ref").loc["M5"]
    assert (m["kind"], m["held_on"], m["attendees"], m["title"]) == ("other", "2026-03-20", {"carer": 3},
                                                                    "Carers' forum")


def test_import_needs_files(ws: Workspace) -> None:
    with pytest.raises(InvalidInputError):
        import_files(ws, [], actor="H. Host")


# -- export ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_imports_back_unchanged_for_every_kind(ws: Workspace, tmp_path: Path, suffix: str) -> None:
    files = [export(ws, tmp_path / f"{kind}{suffix}", what=kind) for kind in KINDS]
    before = snapshot(ws)
    summary = import_files(ws, files, actor="H. Host")
    assert all(s.added == 0 and s.changed == 0 for s in summary.values())
    assert snapshot(ws) == before
    copy = fresh_copy(ws, tmp_path / "copy")
    import_files(copy, files, actor="H. Host")
    assert content(copy) == content(ws)


def test_export_all_to_one_workbook_round_trips(ws: Workspace, tmp_path: Path) -> None:
    out = export(ws, tmp_path / "all.xlsx", what="all")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == list(KINDS)
    assert [c.value for c in wb["meetings"][1]] == ["meeting", "kind", "date", "role", "attendees", "title"]
    assert wb["ratings"].freeze_panes == "A2"
    copy = fresh_copy(ws, tmp_path / "copy")
    summary = import_files(copy, [out], actor="H. Host")
    assert set(summary) == set(KINDS)
    assert content(copy) == content(ws)


def test_export_refuses_all_to_csv_and_unknown_formats(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="one kind of table"):
        export(ws, tmp_path / "all.csv", what="all")
    with pytest.raises(InvalidInputError, match=r"\.csv or \.xlsx"):
        export(ws, tmp_path / "ratings.ods")
    with pytest.raises(InvalidInputError, match="choose one of"):
        export(ws, tmp_path / "x.csv", what="everything")
    assert list(tmp_path.glob("*.csv")) == []


def test_export_of_rows_stored_without_a_reference_reimports_without_duplicates(ws: Workspace,
                                                                               tmp_path: Path) -> None:
    with ws.store() as s:
        mid = s.add_meeting("H. Host", "other", "2026-03-21", {"carer": 2}, "Carers' coffee morning")
        s.add_note("H. Host", "Respite is hard to find.", meeting_id=mid, kind="note", stance="concern")
    out = export(ws, tmp_path / "all.xlsx", what="all")
    before = snapshot(ws)
    summary = import_files(ws, [out], actor="H. Host")
    assert summary["meetings"].added == 0 and summary["notes"].added == 0
    assert snapshot(ws) == before


FORMULAS = ['=HYPERLINK("http://evil.example/x","Click for more")', "+SUM(1,2)", "-2+3 looked odd",
            "@SUM(1)", "'=already quoted", "\tTabbed start"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_formula_cells_are_neutralised_and_round_trip(ws: Workspace, tmp_path: Path, suffix: str) -> None:
    with ws.store() as s:
        s.apply_ratings("H. Host", [RatingInput("C02", "A. Visitor", f"q{i}", "Good", text)
                                    for i, text in enumerate(FORMULAS, 1)])
    out = export(ws, tmp_path / f"ratings{suffix}", what="ratings")
    if suffix == ".csv":
        with out.open(encoding="utf-8-sig", newline="") as f:
            cells = {r["question"]: r["comment"] for r in csv.DictReader(f) if r["case_id"] == "C02"}
    else:
        sheet = openpyxl.load_workbook(out)["ratings"]
        rows = list(sheet.iter_rows(min_row=2))
        assert all(row[4].data_type == "s" for row in rows if row[4].value)
        cells = {row[2].value: row[4].value for row in rows if row[0].value == "C02"}
    for i, text in enumerate(FORMULAS, 1):
        assert cells[f"q{i}"] == "'" + text
    before = snapshot(ws)
    assert import_files(ws, [out], actor="H. Host")["ratings"].changed == 0
    assert snapshot(ws) == before
    copy = fresh_copy(ws, tmp_path / "copy")
    import_files(copy, [out], actor="H. Host")
    with copy.store() as s:
        assert [s.rating("C02", "A. Visitor", f"q{i}").comment for i in range(1, 7)] == FORMULAS


# -- the offline audit workbook -------------------------------------------------------------------
def test_workbook_layout(ws: Workspace, tmp_path: Path) -> None:
    out = write_workbook(ws, "a. visitor", tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Instructions", "Ratings", "Cases", "Questions"]
    sheet = wb["Ratings"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["case_id", "reviewer", "question", "question_title", "rating", "comment"]
    ids = ws.tool.all_ids
    assert len(ids) == 13 and ids[-1] == "overall"
    assert rows[1:] == [[case, "A. Visitor", q, ws.tool.question(q).title, None, None]
                        for case in ("C01", "C02", "C03") for q in ids]
    assert sheet.freeze_panes == "E2"
    assert sheet.protection.sheet and not sheet["E2"].protection.locked and sheet["A2"].protection.locked
    assert sheet["D2"].protection.locked
    assert ws.tool.question("q1").title in sheet["C2"].comment.text
    [dv] = sheet.data_validations.dataValidation
    assert dv.type == "list" and str(dv.sqref) == f"E2:E{len(rows)}"
    info = wb["Instructions"]
    ref = dv.formula1.split("!")[1].replace("$", "")
    listed = [c.value for row in info[ref] for c in row]
    assert listed == ws.tool.scale.labels
    text = " ".join(str(c.value) for row in info.iter_rows() for c in row if c.value)
    assert "moderation case: also rated by B. Visitor" in text and "C03" in text
    questions = [[c.value for c in row] for row in wb["Questions"].iter_rows()]
    assert questions[0] == ["id", "title", "question text", "Outstanding", "Good", "Requires Improvement",
                            "Inadequate"]
    q1 = ws.tool.question("q1")
    assert questions[1][:4] == ["q1", q1.title, q1.text, q1.descriptors["Outstanding"]]
    assert len(questions) == 14


def test_filled_workbook_imports_back_without_layout_edits(ws: Workspace, tmp_path: Path) -> None:
    out = write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
    blank = import_files(ws, [out], actor="H. Host")
    assert blank["ratings"] == type(blank["ratings"])(0, 0, 0)  # an untouched workbook adds nothing
    wb = openpyxl.load_workbook(out)  # as a PSW would, in Excel
    sheet = wb["Ratings"]
    filled = {}
    for row in sheet.iter_rows(min_row=2):
        case, question = row[0].value, row[2].value
        if case == "C02":
            row[4].value = "Requires Improvement" if question == "overall" else "Good"
            row[5].value = f"Evidence for {question}."
            filled[question] = row[4].value
    wb.save(out)
    summary = import_files(ws, [out], actor="A. Visitor")
    assert (summary["ratings"].added, summary["ratings"].changed) == (13, 0)
    with ws.store() as s:
        got = s.ratings()
    c02 = got[got.case_id == "C02"]
    assert dict(zip(c02.question, c02.rating)) == filled
    assert set(c02.comment) == {f"Evidence for {q}." for q in ws.tool.all_ids}
    assert import_files(ws, [out], actor="A. Visitor")["ratings"].unchanged == 13


def test_workbook_comment_without_rating_is_a_problem(ws: Workspace, tmp_path: Path) -> None:
    out = write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(out)
    wb["Ratings"]["F5"] = "Started writing but no rating yet."
    wb["Ratings"]["E6"] = "Zebediah Quokkafeather"
    wb.save(out)
    problems = refused(ws, [out])
    assert where(problems) == {("a.xlsx", 5, "rating"), ("a.xlsx", 6, "rating")}
    assert "comment is written; choose a rating" in problems[0].message
    assert "sheet 'Ratings'" in problems[0].file


def test_workbook_for_unknown_reviewer_or_one_without_cases(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="A. Visitor, B. Visitor, C. Visitor, H. Host") as info:
        write_workbook(ws, "Zebediah Quokkafeather", tmp_path / "z.xlsx")
    assert "Zebediah" not in str(info.value)
    with pytest.raises(InvalidInputError, match="no cases are allocated to H. Host"):
        write_workbook(ws, "H. Host", tmp_path / "h.xlsx")
    with pytest.raises(InvalidInputError, match=r"\.xlsx"):
        write_workbook(ws, "A. Visitor", tmp_path / "a.csv")
    assert not list(tmp_path.glob("*.xlsx"))


def test_workbook_needs_a_case_list(tmp_path: Path) -> None:
    ws = make_ws(tmp_path / "ws", cases=False)
    with pytest.raises(InvalidInputError, match="review.yaml"):
        write_workbook(ws, "A. Visitor", tmp_path / "a.xlsx")
