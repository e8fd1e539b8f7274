"""The import's row checks, rule by rule, through ``import_files`` on small files.

Each refusal is compared whole and in order: the file, row and column it names, its wording,
and that no cell's value is quoted. Each acceptance is compared by what the store then holds.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from reviewkit.core.errors import ImportFileError
from reviewkit.intake.io import import_files
from reviewkit.review.workspace import Workspace

from .test_io import GOOD, content, make_ws, snapshot

TEAM = "A. Visitor, B. Visitor, C. Visitor, H. Host"
REF = "a short reference such as M1 (letters, digits and - _ . # /, at most 32 characters)"
RATINGS = "case_id,reviewer,question,rating,comment\n"
FLAGS = "case_id,reviewer,referred_back,reason,complete\n"
MEETINGS = "meeting,kind,date,role,attendees,title\n"
CONVERSATIONS = "conversation,case_id,who,reviewer,date\n"
NOTES = "note,meeting,conversation,kind,text,speaker_role,stance,codes,use_in_report\n"
NAME = "Zebediah Quokkafeather"  # on the review's names list: a cell holding it must never be echoed


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A review with cases C01–C04 allocated, a names list and the good files imported."""
    ws = make_ws(tmp_path / "ws")
    import_files(ws, GOOD, actor="H. Host")
    return ws


@pytest.fixture
def bare(tmp_path: Path) -> Workspace:
    """The same review with nothing imported yet."""
    return make_ws(tmp_path / "bare")


def files(tmp_path: Path, **tables: str) -> list[Path]:
    """Write each table (name=text) as a CSV file, in the order given."""
    paths = []
    for name, text in tables.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def refusals(ws: Workspace, paths: list[Path], *, confirm: bool = False, hidden: tuple[str, ...] = ()) -> list[str]:
    """Import that must be refused: nothing stored; the problems as shown, folders left out."""
    before = snapshot(ws)
    with pytest.raises(ImportFileError) as info:
        import_files(ws, paths, actor="H. Host", confirm_warnings=confirm)
    assert snapshot(ws) == before
    shown = [str(p) for p in info.value.problems]
    for value in (NAME, *hidden):
        assert all(value.casefold() not in s.casefold() for s in shown), shown
    return [s.replace(f"{paths[0].parent}/", "") for s in shown]


# -- case, reviewer, allocation -----------------------------------------------------------------
def test_case_reviewer_and_allocation_problems_name_file_row_and_column(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, flags=FLAGS + "C09,A. Visitor,no,,yes\n"
                                          " ,A. Visitor,no,,yes\n"
                                          "C01,,no,,yes\n"
                                          "C01,Q. Nobody,no,,yes\n"
                                          "C04,A. Visitor,no,,yes\n")
    assert refusals(ws, paths, hidden=("C09", "Q. Nobody")) == [
        "flags.csv, row 2, column 'case_id': is not in the case list in review.yaml; use a case reference listed "
        "there (or add the case to review.yaml first)",
        "flags.csv, row 3, column 'case_id': is blank; give the case reference, e.g. C07",
        f"flags.csv, row 4, column 'reviewer': is blank; expected one of {TEAM} (as written in review.yaml)",
        "flags.csv, row 5, column 'reviewer': is not a reviewer on the review team; expected one of "
        f"{TEAM} (as written in review.yaml)",
        "flags.csv, row 6, column 'case_id': this case is not allocated to this reviewer in review.yaml (as "
        "reviewer or moderator); check the case reference or the allocation"]


def test_a_case_accepted_once_is_refused_where_it_is_not_allocated(ws: Workspace, tmp_path: Path) -> None:
    """A case reference already accepted on an earlier row is still checked against each row's reviewer."""
    paths = files(tmp_path, ratings=RATINGS + "c04,C. Visitor,q1,Good,\n"
                                              "c04,A. Visitor,q1,Good,\n"
                                              "c04,b. visitor,q2,Good,\n"
                                              "C04,A. Visitor,q1,Good,\n")
    message = ("column 'case_id': this case is not allocated to this reviewer in review.yaml (as reviewer or "
               "moderator); check the case reference or the allocation")
    # Each unallocated row is named once; a repeat of one is not also called a duplicate.
    assert refusals(ws, paths) == [f"ratings.csv, row {row}, {message}" for row in (3, 4, 5)]


def test_case_and_reviewer_are_stored_as_written_in_review_yaml(bare: Workspace, tmp_path: Path) -> None:
    """Any case and spacing of a listed case or reviewer is stored under its review.yaml spelling; a
    moderator may rate a case allocated to another reviewer."""
    paths = files(tmp_path, ratings=RATINGS + " c01 ,a.  visitor,q1,Good,\n"
                                              "C01,A. VISITOR,q2,good,\n"
                                              "c03, A. Visitor ,q1,Good,\n"
                                              "c03,b. visitor,Q1 ,GOOD,\n")
    import_files(bare, paths, actor="H. Host")
    stored = [(r["case_id"], r["reviewer"], r["question"], r["rating"]) for r in content(bare)["ratings"]]
    assert sorted(stored) == [("C01", "A. Visitor", "q1", "Good"), ("C01", "A. Visitor", "q2", "Good"),
                              ("C03", "A. Visitor", "q1", "Good"), ("C03", "B. Visitor", "q1", "Good")]


def test_without_a_case_list_any_pseudonymous_reference_is_stored_trimmed(tmp_path: Path) -> None:
    ws = make_ws(tmp_path / "ws", cases=False)
    paths = files(tmp_path, ratings=RATINGS + " C77 ,A. Visitor,q1,Good,\n"
                                              " C77 ,B. Visitor,q1,Good,\n"
                                              "X-1_b,C. Visitor,q1,Good,\n")
    import_files(ws, paths, actor="H. Host")
    stored = sorted((r["case_id"], r["reviewer"]) for r in content(ws)["ratings"])
    assert stored == [("C77", "A. Visitor"), ("C77", "B. Visitor"), ("X-1_b", "C. Visitor")]


def test_without_a_case_list_a_bad_reference_is_refused_on_every_row(tmp_path: Path) -> None:
    ws = make_ws(tmp_path / "ws", cases=False)
    paths = files(tmp_path, flags=FLAGS + "9 Main St,A. Visitor,no,,\n"
                                          "9 Main St,B. Visitor,no,,\n"
                                          ",C. Visitor,no,,\n")
    expected = ("column 'case_id': must be a short pseudonymous case reference such as C07 (a letter, then up to "
                "15 letters, digits, - or _), never a name or NHS number")
    assert refusals(ws, paths, hidden=("Main St",)) == [
        f"flags.csv, row 2, {expected}", f"flags.csv, row 3, {expected}",
        "flags.csv, row 4, column 'case_id': is blank; give the case reference, e.g. C07"]


# -- screening ---------------------------------------------------------------------------------
def test_a_possible_identifier_in_a_meeting_title_is_refused_even_when_confirmed(ws: Workspace,
                                                                                 tmp_path: Path) -> None:
    paths = files(tmp_path, meetings=MEETINGS + "M5,managers,2026-03-11,team manager,4,First met on 12/03/1950 in the office\n")
    assert refusals(ws, paths, confirm=True, hidden=("1950",)) == [
        "meetings.csv, row 2, column 'title': The meeting title may contain a date of birth (characters 14-23). "
        "Check it: remove anything that could identify a person, or confirm to save the text as it is. A meeting "
        "title cannot keep one: reword it."]


def test_a_possible_identifier_elsewhere_names_the_flag_that_keeps_it(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, flags=FLAGS + "C01,A. Visitor,yes,First assessed on 12/03/1950 according to the file,no\n")
    assert refusals(ws, paths, hidden=("1950",)) == [
        "flags.csv, row 2, column 'reason': The referral reason may contain a date of birth (characters 19-28). "
        "Check it: remove anything that could identify a person, or confirm to save the text as it is. To keep it "
        "as it is, import again confirming the warnings (--confirm-warnings)."]
    import_files(ws, paths, actor="H. Host", confirm_warnings=True)
    assert {"case_id": "C01", "reviewer": "A. Visitor", "referred_back": True,
            "reason": "First assessed on 12/03/1950 according to the file", "complete": False} in content(ws)["flags"]


def test_a_blocked_identifier_is_refused_in_every_screened_column(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path,
                  ratings=RATINGS + f"C01,A. Visitor,q3,Good,Met {NAME}\n",
                  flags=FLAGS + f"C01,A. Visitor,yes,{NAME} says so,no\n",
                  meetings=MEETINGS + f"M6,managers,2026-03-11,{NAME},4,Managers\n"
                                      f"M7,managers,2026-03-11,team manager,4,{NAME}\n",
                  notes=NOTES + f"N9,M1,,note,{NAME} agreed,{NAME},,,\n")
    assert [s.split(":")[0] for s in refusals(ws, paths, confirm=True)] == [
        "ratings.csv, row 2, column 'comment'", "flags.csv, row 2, column 'reason'",
        "meetings.csv, row 2, column 'role'", "meetings.csv, row 3, column 'title'",
        "notes.csv, row 2, column 'text'", "notes.csv, row 2, column 'speaker_role'"]


# -- headers and rows --------------------------------------------------------------------------
def test_header_problems_are_named_by_column_letter_or_name(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path,
                  unknown="case_id,reviewer,,referred_back,,reason,complete,extra\n"
                          "C01,A. Visitor,,no,,,yes,\nC03,B. Visitor,x,no,,,yes,\n",
                  twice="case_id,reviewer,question,rating,Rating\nC01,A. Visitor,q1,Good,Good\n",
                  missing="case_id,question,comment\nC01,q1,fine\n",
                  notes="note,kind,text\nN1,note,Said so.\n",
                  what="person,visit\nC01,yes\n")
    kinds = ("ratings: case_id, reviewer, question, rating, comment; flags: case_id, reviewer, referred_back, "
             "reason, complete; meetings: meeting, kind, date, role, attendees, title; conversations: "
             "conversation, case_id, who, reviewer, date; notes: note, meeting, conversation, kind, text, "
             "speaker_role, stance, codes, use_in_report; concerns: case_id, reviewer, concern, raised_on, "
             "raised_with, response, outcome, responded_on; calibration: calibration_record, reviewer, question, "
             "rating, comment, round")
    assert refusals(ws, paths) == [
        "unknown.csv, row 1, column 'C': this column holds data but has no name; give it one of case_id, "
        "reviewer, referred_back, reason, complete or delete it",
        "unknown.csv, row 1, column 'H': this column's name is not a column of the flags contract (case_id, "
        "reviewer, referred_back, reason, complete); rename or remove the column",
        "twice.csv, row 1, column 'rating': appears twice (columns D and E); keep one",
        "missing.csv, row 1, column 'reviewer': is missing; a ratings table needs the columns case_id, reviewer, "
        "question, rating",
        "missing.csv, row 1, column 'rating': is missing; a ratings table needs the columns case_id, reviewer, "
        "question, rating",
        "notes.csv, row 1, column 'meeting': a notes table needs a 'meeting' or a 'conversation' column saying "
        "where each note was made",
        "what.csv, row 1: cannot tell what kind of table this is from its column names; the first row must hold "
        f"the column names of one contract ({kinds})"]


def test_a_nameless_column_beyond_z_is_named_by_two_letters(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, wide="case_id" + "," * 28 + "reviewer,referred_back\n"
                                 "C01" + "," * 27 + "x,A. Visitor,no\n")
    assert refusals(ws, paths) == [
        "wide.csv, row 1, column 'AB': this column holds data but has no name; give it one of case_id, "
        "reviewer, referred_back, reason, complete or delete it"]


def test_informational_blank_and_short_columns_are_accepted(bare: Workspace, tmp_path: Path) -> None:
    """A question_title column, a nameless empty column and rows cut short (a missing comment) import."""
    paths = files(tmp_path, ratings="case_id,question_title,reviewer,question,rating,,comment\n"
                                    "C01,Voice,A. Visitor,q1,Good,,Quoted well.\n"
                                    "C01,Outcomes,A. Visitor,q2,Good\n"
                                    "C01,,A. Visitor,q3,Good,,\n")
    result = import_files(bare, paths, actor="H. Host")
    assert result["ratings"].added == 3
    stored = sorted((r["question"], r["comment"]) for r in content(bare)["ratings"])
    assert stored == [("q1", "Quoted well."), ("q2", ""), ("q3", "")]


def test_cells_beyond_the_header_are_refused_only_when_they_hold_something(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, ratings=RATINGS + "C01,A. Visitor,q3,Good,Fine.,, \n"
                                              "C01,A. Visitor,q4,Good,Fine.,,x\n"
                                              "C01,A. Visitor,q5,Good,Fine.,y\n")
    assert refusals(ws, paths) == [
        "ratings.csv, row 3: has more cells than the header has columns; remove them or give their column a name",
        "ratings.csv, row 4: has more cells than the header has columns; remove them or give their column a name"]


def test_notes_are_checked_after_the_meetings_and_conversations_they_refer_to(bare: Workspace,
                                                                              tmp_path: Path) -> None:
    """Notes given before their meetings still find them; a table with a header problem is left out."""
    paths = files(tmp_path, notes=NOTES + "M9-1,M9,,quote,Time to reflect.,manager,strength,,yes\n"
                                          "V9-1,,V9,note,Clear plan.,,,,\n",
                  meetings=MEETINGS + "M9,managers,2026-03-11,team manager,4,Managers\n",
                  conversations=CONVERSATIONS + "V9,C01,person,A. Visitor,\n")
    result = import_files(bare, paths, actor="H. Host")
    assert list(result) == ["meetings", "conversations", "notes"]
    assert sorted((n["ref"], n["kind"]) for n in content(bare)["notes"]) == [("M9-1", "quote"), ("V9-1", "note")]


# -- flags -------------------------------------------------------------------------------------
def test_a_referral_without_a_reason_column_asks_for_the_column(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, with_column=FLAGS + "C01,A. Visitor,yes, ,no\n",
                  without_column="case_id,reviewer,referred_back,complete\nC01,A. Visitor,yes,no\n")
    assert refusals(ws, paths) == [
        "with_column.csv, row 2, column 'reason': a case referred back needs a reason: say what the significant "
        "concern is (no names)",
        "without_column.csv, row 2, column 'reason': a case referred back needs a reason: say what the "
        "significant concern is (no names); add a 'reason' column"]


def test_blank_flag_rows_are_skipped_and_later_rows_still_checked(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, flags=FLAGS + "C01,A. Visitor,,,\n"
                                          "C03,B. Visitor,yes,The plan is overdue.,\n"
                                          "C04,C. Visitor,no, ,yes\n")
    import_files(bare, paths, actor="H. Host")
    assert content(bare)["flags"] == [
        {"case_id": "C03", "reviewer": "B. Visitor", "referred_back": True, "reason": "The plan is overdue.",
         "complete": False},
        {"case_id": "C04", "reviewer": "C. Visitor", "referred_back": False, "reason": "", "complete": True}]
    bad = files(tmp_path, again=FLAGS + "C01,A. Visitor,,,\nC09,A. Visitor,no,,\n")
    assert refusals(bare, bad) == [
        "again.csv, row 3, column 'case_id': is not in the case list in review.yaml; use a case reference listed "
        "there (or add the case to review.yaml first)"]


def test_flag_rows_with_a_bad_value_or_a_duplicate_are_refused(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, flags=FLAGS + "C01,A. Visitor,no,,maybe\n"
                                          "C02,A. Visitor,no,,yes\n"
                                          "c02,a. visitor,no,,no\n")
    assert refusals(ws, paths, hidden=("maybe",)) == [
        "flags.csv, row 2, column 'complete': expected yes or no",
        "flags.csv, row 4, column 'case_id': duplicate: flags.csv row 3 already gives this reviewer's flags for "
        "the same case; keep one of the two rows"]


# -- notes: where each was made, codes ---------------------------------------------------------
def test_a_note_needs_exactly_one_known_meeting_or_conversation(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, notes=NOTES + "N1,M1,V1,note,Both given.,,,,\n"
                                          "N2, , ,note,Neither given.,,,,\n"
                                          "N3,M9,,note,Unknown meeting.,,,,\n"
                                          "N4,,V9,note,Unknown conversation.,,,,\n")
    assert refusals(ws, paths) == [
        "notes.csv, row 2, column 'meeting': give either a meeting or a conversation reference (exactly one) "
        "saying where the note was made",
        "notes.csv, row 3, column 'meeting': give either a meeting or a conversation reference (exactly one) "
        "saying where the note was made",
        "notes.csv, row 4, column 'meeting': no meeting with this reference is in this import or already stored; "
        "import the meetings file together with the notes",
        "notes.csv, row 5, column 'conversation': no conversation with this reference is in this import or "
        "already stored; import the conversations file together with the notes"]


def test_a_stored_note_cannot_move_to_another_meeting_or_conversation(ws: Workspace, tmp_path: Path) -> None:
    message = ("this note is already stored under another meeting or conversation; a note cannot move: give it "
               "a new reference")
    paths = files(tmp_path, notes=NOTES + "M1-01,,V1,quote,Supervision is regular and reflective.,,,,\n"
                                          "V1-01,M1,,quote,They listened to what I wanted.,,,,\n"
                                          "M1-02,M2,,note,Caseloads are high in the hospital team.,,,,\n")
    assert refusals(ws, paths) == [f"notes.csv, row 2, column 'conversation': {message}",
                                   f"notes.csv, row 3, column 'meeting': {message}",
                                   f"notes.csv, row 4, column 'meeting': {message}"]


def test_notes_stay_under_a_parent_stored_earlier(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, notes=NOTES + "M1-01,M1,,note,Supervision is regular.,,,,\n"
                                          "V1-01,,V1,note,They listened.,,,,\n"
                                          "V1-02,,V1,note,They came back.,,,,\n")
    result = import_files(ws, paths, actor="H. Host")
    assert (result["notes"].added, result["notes"].changed) == (1, 2)
    notes = {n["ref"]: (n["source"], n["case_id"], n["text"]) for n in content(ws)["notes"]}
    assert {k: notes[k] for k in ("M1-01", "V1-01", "V1-02")} == {
        "M1-01": ("meeting", None, "Supervision is regular."), "V1-01": ("conversation", "C01", "They listened."),
        "V1-02": ("conversation", "C01", "They came back.")}


def test_unknown_codes_are_counted_and_known_codes_stored_once_in_order(ws: Workspace, tmp_path: Path) -> None:
    codes = ("supervision, workload, panel, learning, oversight, leadership, culture, recording, workforce, "
             "practice-model, partnership, resources, quality-assurance, equality, carers, safeguarding, i1, i2, "
             "i3, i4, i5, i6")
    paths = files(tmp_path, notes=NOTES + "N1,M1,,note,One.,,,workload; nope,\n"
                                          "N2,M1,,note,Two.,,,nope;supervision;nada,\n")
    assert refusals(ws, paths, hidden=("nope", "nada")) == [
        f"notes.csv, row 2, column 'codes': code 2 of 2 is not in the codebook 'default'; expected codes from: "
        f"{codes} (separated by ;)",
        f"notes.csv, row 3, column 'codes': code 1 and 3 of 3 is not in the codebook 'default'; expected codes "
        f"from: {codes} (separated by ;)"]
    good = files(tmp_path, good=NOTES + "N3,M1,,note,Three.,,,\"Workload;  supervision ,workload;;\",\n")
    import_files(ws, good, actor="H. Host")
    stored = [n for n in content(ws)["notes"] if n["ref"] == "N3"]
    assert stored[0]["codes"] == ["supervision", "workload"]


# -- ratings -----------------------------------------------------------------------------------
SCALE = "Outstanding (O), Good (G), Requires Improvement (RI), Inadequate (I), Not applicable (NA)"


def test_rating_rows_are_refused_for_each_problem_in_order(ws: Workspace, tmp_path: Path) -> None:
    question = ("column 'question': is not a question of the review's audit tool; expected one of q1, q2, q3, q4, "
                "q5, q6, q7, q8, q9, q10, q11, q12, overall")
    paths = files(tmp_path, ratings=RATINGS + "C01,A. Visitor,q3,,A comment without a rating.\n"
                                              "C01,A. Visitor,q99,Goodish,\n"
                                              "C01,A. Visitor,q99,Good,\n"
                                              "C01,A. Visitor,q4,Goodish,\n"
                                              "C01,A. Visitor,q5,Good,\n"
                                              "c01,a. visitor,Q5,g,\n")
    assert refusals(ws, paths, hidden=("Goodish", "q99")) == [
        "ratings.csv, row 2, column 'rating': is blank but a comment is written; choose a rating",
        f"ratings.csv, row 3, {question}",
        f"ratings.csv, row 3, column 'rating': expected one of {SCALE} (any case)",
        f"ratings.csv, row 4, {question}",
        f"ratings.csv, row 5, column 'rating': expected one of {SCALE} (any case)",
        "ratings.csv, row 7, column 'question': duplicate rating: ratings.csv row 6 already rates the same case, "
        "reviewer and question; keep one of the two rows"]


def test_unrated_rows_are_skipped_and_blank_comments_stored_empty(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, ratings=RATINGS + "C01,A. Visitor,q1, ,  \n"
                                              "C01,A. Visitor,q2,Good,   \n"
                                              "C01,A. Visitor,q3, good ,Quoted well.\n")
    result = import_files(bare, paths, actor="H. Host")
    assert result["ratings"].added == 2 and result.warnings == []
    stored = sorted((r["question"], r["rating"], r["comment"]) for r in content(bare)["ratings"])
    assert stored == [("q2", "Good", ""), ("q3", "Good", "Quoted well.")]


def test_a_low_rating_without_evidence_is_stored_with_a_warning(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, ratings=RATINGS + "C01,A. Visitor,q1,RI,\n"
                                              "C01,A. Visitor,q2,Inadequate,The plan is not the person's.\n"
                                              "C01,A. Visitor,q3,Good,\n"
                                              "C03,B. Visitor,overall,inadequate, \n")
    result = import_files(bare, paths, actor="H. Host")
    assert result["ratings"].added == 4
    assert [str(w).replace(f"{tmp_path}/", "") for w in result.warnings] == [
        "ratings.csv, row 2, column 'comment': C01 q1 is rated Requires Improvement with no evidence note; the "
        "report cannot be final until one is written",
        "ratings.csv, row 5, column 'comment': C03 overall is rated Inadequate with no evidence note; the report "
        "cannot be final until one is written"]


def test_ratings_from_two_files_are_stored_with_both_sources(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, first=RATINGS + "C01,A. Visitor,q1,Good,\n", second=RATINGS + "C03,B. Visitor,q1,Good,\n")
    import_files(bare, paths, actor="H. Host")
    with bare.store() as s:
        log = s.audit_log()
    assert log[log["action"] == "import"]["key"].tolist() == [f"{paths[0]}; {paths[1]}"]


# -- meetings and conversations ----------------------------------------------------------------
def test_meeting_rows_are_refused_for_each_problem_in_order(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, meetings=MEETINGS + "M5,huddle,2026-03-11,team manager,4,Managers\n"
                                                "M5,managers,2026-02-30,team manager,4,Managers\n"
                                                "M6,managers,2026-03-11, ,4,Managers\n"
                                                "M6,managers,2026-03-11,team manager,four,Managers\n"
                                                "M6,managers,2026-03-11,team manager,-1,Managers\n"
                                                "M7,other,2026-03-11,team manager,2,Managers\n"
                                                "M7,managers,2026-03-12,team  manager,3,Leads\n"
                                                "M7,Other,2026-03-11,Team manager,1,Managers\n")
    assert refusals(ws, paths, hidden=("huddle", "four")) == [
        "meetings.csv, row 2, column 'kind': expected one of practitioners, managers, other",
        "meetings.csv, row 3, column 'date': expected a real date written YYYY-MM-DD, e.g. 2026-03-14",
        "meetings.csv, row 4, column 'role': is blank; say which role attended, e.g. practitioner",
        "meetings.csv, row 5, column 'attendees': expected how many of that role attended, as a whole number "
        "from 0 to 500",
        "meetings.csv, row 6, column 'attendees': expected how many of that role attended, as a whole number "
        "from 0 to 500",
        "meetings.csv, row 8, column 'kind': differs from meetings.csv row 7 for the same meeting; a meeting has "
        "one kind, date and title",
        "meetings.csv, row 8, column 'date': differs from meetings.csv row 7 for the same meeting; a meeting has "
        "one kind, date and title",
        "meetings.csv, row 8, column 'title': differs from meetings.csv row 7 for the same meeting; a meeting has "
        "one kind, date and title",
        "meetings.csv, row 8, column 'role': this role is already counted for the same meeting in meetings.csv "
        "row 7; give one row per role"]


def test_meetings_are_stored_with_their_roles_and_counts(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, meetings=MEETINGS + "M5, Managers ,2026-03-11,team  manager ,4,\n"
                                                "M5,managers,2026-03-11,,,\n"
                                                "M5,managers,2026-03-11,senior practitioner,0,  \n"
                                                "M6,practitioners,2026-03-12,,,Focus group\n")
    import_files(bare, paths, actor="H. Host")
    assert content(bare)["meetings"] == [
        {"ref": "M5", "kind": "managers", "held_on": "2026-03-11", "title": "",
         "attendees": {"senior practitioner": 0, "team manager": 4}, "attendee_count": 4},
        {"ref": "M6", "kind": "practitioners", "held_on": "2026-03-12", "title": "Focus group", "attendees": {},
         "attendee_count": 0}]


def test_conversation_rows_are_refused_for_each_problem_in_order(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, conversations=CONVERSATIONS + "V5,C01,neighbour,A. Visitor,2026-03-12\n"
                                                          "V6,C01,person,A. Visitor,12/03/2026\n"
                                                          "V7,C01,person,A. Visitor,\n"
                                                          "V7,C02,carer,A. Visitor,\n"
                                                          "V1,C01,person,A. Visitor,2026-03-12\n")
    assert refusals(ws, paths, hidden=("neighbour", "12/03")) == [
        "conversations.csv, row 2, column 'who': expected one of person, relative, carer, person and relative",
        "conversations.csv, row 3, column 'date': expected a real date written YYYY-MM-DD, e.g. 2026-03-14",
        "conversations.csv, row 5, column 'conversation': the same reference is used in conversations.csv row 4; "
        "give each conversation its own reference"]


def test_conversations_are_stored_with_who_and_an_optional_date(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, conversations=CONVERSATIONS + " V5 ,c01,Person   and  Relative,a. visitor,\n"
                                                          "V6,C03,CARER,B. Visitor, 2026-03-12 \n")
    import_files(bare, paths, actor="H. Host")
    assert content(bare)["conversations"] == [
        {"ref": "V5", "case_id": "C01", "who": "person and relative", "held_on": "", "reviewer": "A. Visitor"},
        {"ref": "V6", "case_id": "C03", "who": "carer", "held_on": "2026-03-12", "reviewer": "B. Visitor"}]


# -- notes -------------------------------------------------------------------------------------
def test_note_rows_are_refused_for_each_problem_in_order(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, notes=NOTES + "N1,M1,,remark,Said so.,,hopeful,,\n"
                                          "N2,M1,,note, ,,,,\n"
                                          "N3,M1,,note,Said so.,,,,perhaps\n"
                                          "N4,M1,,note,Said so.,,,,\n"
                                          "N4,M2,,quote,Said again.,,,,\n")
    assert refusals(ws, paths, hidden=("remark", "hopeful", "perhaps")) == [
        "notes.csv, row 2, column 'kind': expected one of note, quote, one_change",
        "notes.csv, row 2, column 'stance': expected strength, concern, mixed or blank",
        "notes.csv, row 3, column 'text': is blank; write the note or quote (no names)",
        "notes.csv, row 4, column 'use_in_report': expected yes or no",
        "notes.csv, row 6, column 'note': the same reference is used in notes.csv row 5; give each note its own "
        "reference"]


def test_notes_are_stored_with_normalised_kind_stance_role_and_use(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path,
                  meetings=MEETINGS + "M5,managers,2026-03-11,,,\n",
                  notes=NOTES + "N1,M5,,One - Change,Fewer forms.,  team   manager ,Concern ,,YES\n"
                                "N2,M5,,QUOTE,We talk.,,,panel,\n"
                                "N3,M5,,note,Noted.,,mixed,,no\n")
    import_files(bare, paths, actor="H. Host")
    notes = [{k: n[k] for k in ("ref", "kind", "text", "speaker_role", "stance", "use_in_report", "codes")}
             for n in content(bare)["notes"]]
    assert notes == [
        {"ref": "N1", "kind": "one_change", "text": "Fewer forms.", "speaker_role": "team manager",
         "stance": "concern", "use_in_report": True, "codes": []},
        {"ref": "N2", "kind": "quote", "text": "We talk.", "speaker_role": "", "stance": "", "use_in_report": False,
         "codes": ["panel"]},
        {"ref": "N3", "kind": "note", "text": "Noted.", "speaker_role": "", "stance": "mixed", "use_in_report": False,
         "codes": []}]


def test_problems_in_a_workbook_name_each_sheet_in_sheet_order(ws: Workspace, tmp_path: Path) -> None:
    """A workbook's sheets are checked as tables of their own: notes after the meetings they refer to."""
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "notes"
    for row in (NOTES.strip().split(","), ["N1", "M8", None, "note", "Said so.", None, None, None, "maybe"]):
        notes.append(row)
    meetings = book.create_sheet("meetings")
    for row in (MEETINGS.strip().split(","), ["M8", "managers", "2026-03-11", "team manager", 4, "Managers"],
                ["M8", "managers", "2026-03-11", "team manager", 5, "Managers"]):
        meetings.append(row)
    path = tmp_path / "visit.xlsx"
    book.save(path)
    assert refusals(ws, [path], hidden=("maybe",)) == [
        "visit.xlsx (sheet 'notes'), row 2, column 'use_in_report': expected yes or no",
        "visit.xlsx (sheet 'meetings'), row 3, column 'role': this role is already counted for the same meeting "
        "in visit.xlsx (sheet 'meetings') row 2; give one row per role"]


# -- further rules: a notes table by conversation, refused rows left out, screened roles --------
def test_a_notes_table_with_a_conversation_column_and_no_meeting_column_is_accepted(bare: Workspace,
                                                                                     tmp_path: Path) -> None:
    paths = files(tmp_path, conversations=CONVERSATIONS + "V9,C01,person,A. Visitor,\n",
                  notes="note,conversation,kind,text\nV9-1,V9,note,Clear plan.\n")
    result = import_files(bare, paths, actor="H. Host")
    assert result["notes"].added == 1
    assert [(n["ref"], n["source"], n["case_id"]) for n in content(bare)["notes"]] == [
        ("V9-1", "conversation", "C01")]


def test_a_refused_meeting_row_is_not_what_later_rows_are_compared_with(ws: Workspace, tmp_path: Path) -> None:
    """A row refused for its role does not fix the meeting's date or title: only its own problem is named."""
    paths = files(tmp_path, meetings=MEETINGS + "M8,managers,2026-03-11, ,4,Managers\n"
                                                "M8,managers,2026-03-12,team manager,4,Managers\n"
                                                f"M9,managers,2026-03-11,{NAME},4,Managers\n"
                                                "M9,managers,2026-03-11,team manager,4,Leads\n"
                                                "M10,managers,2026-03-11,team manager,four,Managers\n"
                                                "M10,managers,2026-03-12,team manager,4,Managers\n")
    shown = refusals(ws, paths, confirm=True, hidden=("four",))
    assert [s.split(":")[0] for s in shown] == ["meetings.csv, row 2, column 'role'",
                                                "meetings.csv, row 4, column 'role'",
                                                "meetings.csv, row 6, column 'attendees'"]
    assert shown[0] == "meetings.csv, row 2, column 'role': is blank; say which role attended, e.g. practitioner"


def test_a_possible_identifier_in_a_role_is_named_as_a_role_and_kept_when_confirmed(bare: Workspace,
                                                                                    tmp_path: Path) -> None:
    paths = files(tmp_path, meetings=MEETINGS + "M5,managers,2026-03-11,manager met on 12/03/1950,4,Managers\n")
    assert refusals(bare, paths, hidden=("1950",)) == [
        "meetings.csv, row 2, column 'role': The role may contain a date of birth (characters 16-25). Check it: "
        "remove anything that could identify a person, or confirm to save the text as it is. To keep it as it "
        "is, import again confirming the warnings (--confirm-warnings)."]
    import_files(bare, paths, actor="H. Host", confirm_warnings=True)
    assert content(bare)["meetings"][0]["attendees"] == {"manager met on 12/03/1950": 4}


def test_a_possible_identifier_in_a_speaker_role_is_kept_when_confirmed(bare: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, meetings=MEETINGS + "M5,managers,2026-03-11,,,\n",
                  notes=NOTES + "N1,M5,,note,Fewer forms.,manager met on 12/03/1950,,,\n")
    assert refusals(bare, paths, hidden=("1950",)) == [
        "notes.csv, row 2, column 'speaker_role': The speaker's role may contain a date of birth (characters "
        "16-25). Check it: remove anything that could identify a person, or confirm to save the text as it is. "
        "To keep it as it is, import again confirming the warnings (--confirm-warnings)."]
    import_files(bare, paths, actor="H. Host", confirm_warnings=True)
    assert [(n["ref"], n["speaker_role"]) for n in content(bare)["notes"]] == [("N1", "manager met on 12/03/1950")]


def test_a_blank_or_malformed_conversation_reference_is_refused_in_its_column(ws: Workspace,
                                                                              tmp_path: Path) -> None:
    paths = files(tmp_path, conversations=CONVERSATIONS + " ,C01,person,A. Visitor,\n"
                                                          "V 1!,C01,person,A. Visitor,\n")
    assert refusals(ws, paths, hidden=("V 1!",)) == [
        f"conversations.csv, row 2, column 'conversation': is blank; expected {REF}",
        f"conversations.csv, row 3, column 'conversation': expected {REF}"]


def test_a_refused_note_row_is_not_what_a_repeated_reference_is_compared_with(ws: Workspace,
                                                                              tmp_path: Path) -> None:
    """A note row refused for its text, use, codes or stance does not claim its reference."""
    paths = files(tmp_path, notes=NOTES + "N5,M1,,note, ,,,,\n"
                                          "N5,M1,,note,Said so.,,,,\n"
                                          "N6,M1,,note,Said so.,,,,perhaps\n"
                                          "N6,M1,,note,Said so.,,,,yes\n"
                                          "N7,M1,,note,Said so.,,,nope,\n"
                                          "N7,M1,,note,Said so.,,,workload,\n"
                                          "N8,M1,,note,Said so.,,hopeful,,\n"
                                          "N8,M1,,note,Said so.,,concern,,\n")
    shown = refusals(ws, paths, hidden=("perhaps", "nope", "hopeful"))
    assert [s.split(":")[0] for s in shown] == [
        "notes.csv, row 2, column 'text'", "notes.csv, row 4, column 'use_in_report'",
        "notes.csv, row 6, column 'codes'", "notes.csv, row 8, column 'stance'"]


def test_a_conversation_with_an_unknown_case_names_its_row(ws: Workspace, tmp_path: Path) -> None:
    paths = files(tmp_path, conversations=CONVERSATIONS + "V5,C01,person,A. Visitor,\n"
                                                          "V6,C09,person,A. Visitor,\n")
    assert refusals(ws, paths, hidden=("C09",)) == [
        "conversations.csv, row 3, column 'case_id': is not in the case list in review.yaml; use a case "
        "reference listed there (or add the case to review.yaml first)"]
