"""The concerns log: a risk to a person found during the review, logged, answered by the council and counted.

Real store (SQLite), real imports, the real CLI and the report's own sentences; the rating
form's panel is in tests/test_widgets_rating.py. What a reviewer writes about a person stays
private: it is never printed by the CLI, never in the report and never in a regional bundle.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from reviewkit import cli
from reviewkit.core.errors import AccessError, ImportFileError, InvalidInputError
from reviewkit.figures.concerns import concerns_sentence, referred_text
from reviewkit.intake.io import export, import_files
from reviewkit.intake.workbook import write_workbook
from reviewkit.report.sections import ReportBuilder
from reviewkit.review import bundle as bd
from reviewkit.review.concerns import OUTCOMES
from reviewkit.review.migrations import STORE_SCHEMA
from reviewkit.review.readiness import readiness
from reviewkit.review.session import HUB_USER
from reviewkit.review.workspace import open_workspace

from .helpers import HOST, LOGINS, with_logins

A, B = "A. Visitor", "B. Visitor"
WHAT = "Unexplained bruising not followed up by the team"
HEADER = "case_id,reviewer,concern,raised_on,raised_with,response,outcome,responded_on\n"


def _log(ws, case: str = "C02", who: str = A, day: str = "2026-10-06") -> None:
    with ws.store() as store:
        store.set_concern(who, case, who, what=WHAT, raised_on=day, raised_with="team manager")


# --------------------------------------------------------------------------- the store

def test_a_concern_is_stored_screened_logged_as_a_digest_and_answered_by_the_host(ws) -> None:
    _log(ws)
    with ws.store() as store:
        row = store.concern("C02", A)
        assert (row["what"], row["raised_on"], row["raised_with"], row["response"]) == (
            WHAT, "2026-10-06", "team manager", "")
        assert store.concerns()["open"].tolist() == [True]
        answered = store.record_response(HOST, "C02", response="A social worker visited the same week",
                                         outcome="acted", responded_on="2026-10-08")
        assert (answered["outcome"], answered["responded_on"]) == ("acted", "2026-10-08")
        assert store.concerns()["open"].tolist() == [False]
        log = store.audit_log()
        with pytest.raises(InvalidInputError, match="dated before the concern was raised"):
            store.record_response(HOST, "C02", response="x", responded_on="2026-10-01")
        with pytest.raises(InvalidInputError, match="must be one of acted, already-in-hand, no-further-action"):
            store.record_response(HOST, "C02", response="x", outcome="sorted")
        with pytest.raises(InvalidInputError, match="no concern is logged on case C03"):
            store.record_response(HOST, "C03", response="x")
        with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
            store.set_concern(A, "C02", A, what=WHAT, raised_on="6/10/2026", raised_with="team manager")
        with pytest.raises(InvalidInputError, match="needs a description"):
            store.set_concern(A, "C02", A, what="  ", raised_on="2026-10-06", raised_with="team manager")
        with pytest.raises(InvalidInputError, match="not allocated to 'A. Visitor'"):
            store.set_concern(A, "C03", A, what=WHAT, raised_on="2026-10-06", raised_with="team manager")
        with pytest.raises(InvalidInputError):  # an NHS number is refused before anything is stored
            store.set_concern(A, "C01", A, what="NHS 999 000 0018 at risk", raised_on="2026-10-06",
                              raised_with="team manager")
    rows = log[log["entity"].isin(["concern", "concern_response"])]
    assert list(rows["action"]) == ["insert", "update"]
    assert WHAT not in " ".join(log["new"].astype(str)) and "social worker visited" not in " ".join(
        log["new"].astype(str))
    assert set(OUTCOMES) == {"acted", "already-in-hand", "no-further-action"}


def test_under_the_hub_a_visitor_logs_only_on_their_own_cases_and_only_the_host_answers(ws, monkeypatch) -> None:
    team = with_logins(ws)
    monkeypatch.setenv(HUB_USER, LOGINS[A])
    with team.store() as store:
        store.set_concern(A, "C02", A, what=WHAT, raised_on="2026-10-06", raised_with="team manager")
        with pytest.raises(AccessError):
            store.set_concern(A, "C03", B, what=WHAT, raised_on="2026-10-06", raised_with="team manager")
        with pytest.raises(InvalidInputError, match="not allocated"):
            store.set_concern(A, "C03", A, what=WHAT, raised_on="2026-10-06", raised_with="team manager")
        with pytest.raises(AccessError, match="Only the host"):
            store.record_response(A, "C02", response="done")
    monkeypatch.setenv(HUB_USER, LOGINS[HOST])
    with team.store() as store:
        assert store.record_response(HOST, "C02", response="A visit was made")["response"] == "A visit was made"


def test_an_older_store_gains_the_concerns_table(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    src = Path(__file__).parent / "data" / "workspace-0.1.0" / "eastvale-2026"
    path = Path(shutil.copytree(src, tmp_path / "old"))
    with sqlite3.connect(path / "review.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] < STORE_SCHEMA
    ws = open_workspace(path)
    with ws.store() as store:
        assert store.concerns().empty
        case = ws.meta.cases[0]
        store.set_concern("host", case.id, case.reviewer, what=WHAT, raised_on="2026-10-06", raised_with="manager")
        assert len(store.concerns()) == 1


# --------------------------------------------------------------------------- imports

def test_a_concerns_file_imports_and_its_response_with_it(ws, tmp_path: Path) -> None:
    path = tmp_path / "concerns.csv"
    path.write_text(HEADER + f"C02,A. Visitor,{WHAT},2026-10-06,team manager,,,\n"
                    "C03,B. Visitor,Falls risk not assessed,2026-10-07,duty manager,A visit was made,"
                    "already in hand,2026-10-08\n", encoding="utf-8")
    result = import_files(ws, [path], actor=HOST)
    assert (result["concerns"].added, result["concerns"].changed) == (2, 0)
    with ws.store() as store:
        table = store.concerns().set_index("case_id")
    assert table.loc["C02", "open"] and not table.loc["C03", "open"]
    assert table.loc["C03", "outcome"] == "already-in-hand"
    assert import_files(ws, [path], actor=HOST)["concerns"].unchanged == 2
    # Exported with the private data (never in a regional bundle), it imports back unchanged.
    out = export(ws, tmp_path / "concerns-out.csv", what="concerns")
    assert import_files(ws, [out], actor=HOST)["concerns"].unchanged == 2


def test_a_bad_concerns_row_stops_the_whole_import_and_names_each_problem(ws, tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("case_id,reviewer,question,rating,comment\nC02,A. Visitor,q1,Good,Fine\n", encoding="utf-8")
    bad = tmp_path / "concerns.csv"
    bad.write_text(HEADER
                   + ",A. Visitor,,2026-10-06,team manager,,,\n"              # row 2: no case, no concern
                   + "C03,A. Visitor,Risk,2026-10-06,team manager,,,\n"       # row 3: not A's case
                   + "C02,A. Visitor,Risk,06/10/2026,,,,\n"                   # row 4: date, no raised_with
                   + "C04,B. Visitor,Risk,2026-10-06,manager,Done,sorted,\n"  # row 5: outcome, no response date
                   + "C03,B. Visitor,Risk,2026-10-06,manager,Done,,2026-10-01\n"  # row 6: answered before raised
                   + "C05,C. Visitor,NHS 999 000 0018,2026-10-06,manager,,,\n",   # row 7: an identifier
                   encoding="utf-8")
    with pytest.raises(ImportFileError) as info:
        import_files(ws, [ratings, bad], actor=HOST)
    text = str(info.value)
    for expected in ("row 2, column 'case_id': is blank", "row 2, column 'concern': is blank",
                     "row 3, column 'case_id': this case is not allocated to this reviewer",
                     "row 4, column 'raised_on': expected a real date", "row 4, column 'raised_with': is blank",
                     "row 5, column 'outcome': expected one of acted", "row 5, column 'responded_on': is blank",
                     "row 6, column 'responded_on': is before the date the concern was raised",
                     "row 7, column 'concern'"):
        assert expected in text, expected
    assert "999 000 0018" not in text
    with ws.store() as store:  # all or nothing: the good ratings file was not imported either
        assert store.concerns().empty and store.ratings().empty


def test_the_workbooks_cases_sheet_carries_a_concern(ws, tmp_path: Path) -> None:
    book = write_workbook(ws, A, tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(book)
    sheet = wb["Cases"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "C02")
    row[header.index("concern")].value = WHAT
    row[header.index("concern_raised_on")].value = "2026-10-06"
    row[header.index("concern_raised_with")].value = "team manager"
    wb.save(book)
    result = import_files(ws, [book], actor=HOST)
    assert result["concerns"].added == 1 and result["flags"].added == 0  # the case is not finished yet
    with ws.store() as store:
        assert store.concern("C02", A)["what"] == WHAT
    row[header.index("concern_raised_on")].value = None
    wb.save(book)
    with pytest.raises(ImportFileError, match="row 3, column 'concern_raised_on': is blank"):
        import_files(ws, [book], actor=HOST)


# --------------------------------------------------------------------------- the CLI and readiness

def test_the_host_records_the_response_from_the_command_line(ws, capsys: pytest.CaptureFixture[str]) -> None:
    _log(ws)
    assert any(g.kind == "concerns" and g.case_id == "C02" for g in readiness(open_workspace(ws.path)))
    assert cli.main(["concern", str(ws.path)]) == 0
    out = capsys.readouterr().out
    assert "C02 (A. Visitor): raised 2026-10-06; open: no response from the council recorded yet" in out
    assert WHAT not in out
    assert cli.main(["concern", str(ws.path), "--case", "C02", "--outcome", "acted", "--date", "2026-10-08",
                     "--response", "A social worker visited the same week", "--as", HOST]) == 0
    out = capsys.readouterr().out
    assert "Recorded the council's response to the concern on case C02" in out and "visited" not in out
    assert "council responded 2026-10-08 (acted)" in out
    assert not [g for g in readiness(open_workspace(ws.path)) if g.kind == "concerns"]
    assert cli.main(["concern", str(ws.path), "--case", "C05", "--response", "x"]) == 1
    err = capsys.readouterr().err
    assert "no concern is logged on case C05" in err and "Traceback" not in err


# --------------------------------------------------------------------------- what is published

def test_the_sentences_count_concerns_and_never_say_none_were_referred_back() -> None:
    flags = pd.DataFrame({"case_id": ["C01"], "reviewer": [A], "referred_back": [False]})
    one = pd.DataFrame([{"case_id": "C02", "raised_on": "2026-10-06", "responded_on": "", "outcome": "",
                         "open": True}])
    text = referred_text(flags, one, council="Testshire Council")
    assert text.startswith("1 case record was referred back to Testshire Council for a significant concern.")
    assert "1 concern about a person’s safety was raised with Testshire Council during the review. No response " \
           "from the council is recorded yet." in text
    assert "No case records" not in text
    two = pd.DataFrame([{"case_id": "C02", "raised_on": "2026-10-06", "responded_on": "2026-10-06",
                         "outcome": "acted", "open": False},
                        {"case_id": "C03", "raised_on": "2026-10-06", "responded_on": "", "outcome": "",
                         "open": True}])
    assert concerns_sentence(two) == (
        "2 concerns about a person’s safety were raised with the council during the review. The council responded "
        "to 1 of them on the same day (1: took action), and 1 has no response recorded yet.")
    assert referred_text(flags, None).startswith("No case records were referred back")


def test_the_report_gives_counts_and_the_response_never_the_concern(ws, tmp_path: Path) -> None:
    _log(ws)
    with ws.store() as store:
        store.record_response(HOST, "C02", response="A social worker visited the same week", outcome="acted",
                              responded_on="2026-10-08")
    b = ReportBuilder.load(ws.path)
    assert set(b.data.concerns.columns) == {"case_id", "raised_on", "responded_on", "outcome", "open"}
    sentence = ("1 concern about a person’s safety was raised with Testshire Council during the review. The council "
                "responded within 2 days and took action.")
    # Safeguarding's evidence is in Appendix B (the default layout), with the other statements.
    for part in (b.key_messages(), b.data_analysis(), b.cqc_section() + b.cqc_appendix()):
        assert sentence in part.replace("&#x27;", "'")
        assert WHAT not in part and "visited the same week" not in part and "team manager" not in part
    assert "No case records were referred back" not in b.key_messages() + b.data_analysis()
    # The regional bundle carries counts only: nothing of the concern.
    ws.meta.start, ws.meta.end = "2026-10-05", "2026-10-16"
    ws.save_meta()
    data = bd.bundle_bytes(bd.bundle_from_workspace(open_workspace(ws.path)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        everything = b"".join(z.read(n) for n in z.namelist())
    assert WHAT.encode() not in everything and b"visited" not in everything
    # An export of everything for the council's own records carries it (private data allowed there).
    wb = openpyxl.load_workbook(export(ws, tmp_path / "all.xlsx", what="all"))
    assert [c.value for c in wb["concerns"][2]][:3] == ["C02", A, WHAT]


def test_check_lists_and_redact_replaces_an_identifier_kept_in_a_concern(ws) -> None:
    from reviewkit.review.redaction import redact_workspace, scan_workspace

    with ws.store() as store:
        store.set_concern(A, "C02", A, what="Falls since 03/04/1941 not followed up", raised_on="2026-10-06",
                          raised_with="team manager", confirm_warnings=True)
    found = [str(x) for x in scan_workspace(open_workspace(ws.path))]
    assert any(f.startswith("concerns, case C02, A. Visitor, what: possible identifier (date of birth)")
               for f in found), found
    summary = redact_workspace(open_workspace(ws.path), actor=HOST)
    assert summary.changed.get("concerns") == 1
    with ws.store() as store:
        assert "03/04/1941" not in store.concern("C02", A)["what"]
    assert not [f for f in map(str, scan_workspace(open_workspace(ws.path))) if f.startswith("concerns")]
