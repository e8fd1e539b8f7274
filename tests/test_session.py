"""Who may write what under the review hub: the sign-in decides, and the store refuses the rest.

Each test sets ``JUPYTERHUB_USER`` as the hub sets it for a signed-in person's server, then
calls the real store (real SQLite) the way that person's forms would.
"""

from __future__ import annotations

import pytest

from reviewkit.core.errors import AccessError, InvalidInputError, WorkspaceError
from reviewkit.review.ratings import RatingInput
from reviewkit.review.session import HUB_USER, current_session
from reviewkit.review.workspace import open_workspace
from reviewkit.team.widgets import RatingForm, rating_form

from .helpers import HOST, LOGINS, with_logins

A, B = "A. Visitor", "B. Visitor"


@pytest.fixture
def team(ws, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(HUB_USER, raising=False)
    return with_logins(ws)


def sign_in(monkeypatch: pytest.MonkeyPatch, who: str) -> None:
    monkeypatch.setenv(HUB_USER, LOGINS[who])


def test_logins_live_in_review_yaml_and_each_is_one_persons(team) -> None:
    assert team.meta.member_for_login("A.Visitor@Northshire.example").name == A  # email addresses ignore case
    assert "login: a.visitor@northshire.example" in (team.path / "review.yaml").read_text(encoding="utf-8")
    from dataclasses import replace

    team.meta.team = [replace(m, login=LOGINS[A]) if m.name == B else m for m in team.meta.team]
    with pytest.raises(WorkspaceError, match="is given to two team members"):
        team.save_meta()
    team.meta.team = [replace(m, login="Mrs Quokka feather") if m.name == B else m for m in team.meta.team]
    with pytest.raises(WorkspaceError, match="login must be the name or email address"):
        team.save_meta()


def test_outside_the_hub_there_is_no_session(team) -> None:
    assert current_session(team.meta) is None
    with team.store() as store:
        store.set_rating("anyone", RatingInput("C03", B, "q1", "Good"))  # the CLI and one computer: no sign-in


def test_an_unknown_login_is_refused_plainly(team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HUB_USER, "someone@elsewhere.example")
    with pytest.raises(AccessError, match="not on the review team") as info:
        team.store()
    assert "someone" not in str(info.value)
    panel = rating_form(team.path, A)
    assert "not on the review team" in panel.children[1].value


def test_a_visiting_reviewer_cannot_write_for_another_or_for_a_case_not_theirs(team, monkeypatch) -> None:
    sign_in(monkeypatch, A)
    with open_workspace(team.path).store() as store:
        assert store.session is not None and store.session.reviewer == A
        store.set_rating(A, RatingInput("C02", A, "q1", "Good"))  # their own case: fine
        with pytest.raises(AccessError, match="signed in as A. Visitor: you cannot write a rating for another"):
            store.set_rating(A, RatingInput("C03", B, "q1", "Inadequate"))
        with pytest.raises(AccessError, match="recorded in your name only"):
            store.set_rating(B, RatingInput("C02", A, "q1", "Good"))  # writing as B
        with pytest.raises(InvalidInputError, match="not allocated to 'A. Visitor'"):
            store.set_rating(A, RatingInput("C05", A, "q1", "Good"))  # a case that is not theirs
        with pytest.raises(AccessError):
            store.apply_ratings(A, [RatingInput("C02", A, "q2", "Good"), RatingInput("C03", B, "q2", "Good")])
        with pytest.raises(AccessError):
            store.set_case_flag(A, "C03", B, complete=True)
        with pytest.raises(AccessError):
            store.add_conversation(A, "C03", "person", B)
        with pytest.raises(AccessError):
            store.add_meeting(B, "practitioners")
        ratings = store.all_ratings()
        log = store.audit_log()
    assert list(zip(ratings["case_id"], ratings["reviewer"], ratings["question"])) == [("C02", A, "q1")]
    assert set(log["actor"]) == {A}


def test_the_host_may_write_for_the_team_but_only_in_their_own_name(team, monkeypatch) -> None:
    sign_in(monkeypatch, HOST)
    with team.store() as store:
        store.apply_ratings(HOST, [RatingInput("C03", B, "q1", "Good")], source="b.xlsx")  # importing B's workbook
        with pytest.raises(AccessError, match="recorded in your name only"):
            store.set_rating(B, RatingInput("C03", B, "q2", "Good"))
        assert store.rating("C03", B, "q1").rating == "Good"


def test_the_rating_form_takes_the_reviewer_from_the_sign_in_not_the_page(team, monkeypatch, trap) -> None:
    sign_in(monkeypatch, A)
    form = trap.watch(RatingForm(team.path, B))  # a page asking for B still opens as A
    assert form.reviewer == A and [c.id for c in form.cases] == ["C01", "C02"]
    with pytest.raises(InvalidInputError, match="not allocated"):
        form.open_case("C03")


def test_a_visiting_reviewer_records_conversations_and_notes_on_their_own_cases_only(team, monkeypatch) -> None:
    sign_in(monkeypatch, B)
    with team.store() as store:
        b_conversation = store.add_conversation(B, "C03", "carer", B)  # one of B's cases
    sign_in(monkeypatch, A)
    with team.store() as store:
        with pytest.raises(AccessError, match="case C05 is not allocated to you"):
            store.add_conversation(A, "C05", "person", A)  # H. Host's case, in A's own name
        mine = store.add_conversation(A, "C02", "person", A)
        with pytest.raises(AccessError, match="case C05 is not allocated to you"):
            store.update_conversation(A, mine, case_id="C05")
        with pytest.raises(AccessError, match="cannot write a note on a conversation for another"):
            store.add_note(A, "They felt listened to", conversation_id=b_conversation)
        note = store.add_note(A, "They felt listened to", conversation_id=mine)
        meeting_note = store.add_note(A, "Supervision is monthly", meeting_id=store.add_meeting(A, "practitioners"))
        assert store.note(note)["conversation_id"] == mine and store.note(meeting_note)["meeting_id"]
    sign_in(monkeypatch, B)
    with team.store() as store:
        with pytest.raises(AccessError):
            store.update_note(B, note, text="Changed by someone else")
        with pytest.raises(AccessError):
            store.delete_note(B, note)
    sign_in(monkeypatch, HOST)
    with team.store() as store:  # the host records for the team (an import), on any listed case
        store.add_conversation(HOST, "C05", "relative", A)
        conversations = store.conversations()
        notes = store.notes()
    assert sorted(zip(conversations["case_id"], conversations["reviewer"])) == [
        ("C02", A), ("C03", B), ("C05", A)]
    assert list(notes["text"]) == ["They felt listened to", "Supervision is monthly"]


def test_the_conversation_form_offers_a_visitor_their_own_cases_and_refuses_another(team, monkeypatch, trap) -> None:
    from reviewkit.team.widgets import ConversationForm

    sign_in(monkeypatch, A)
    form = trap.watch(ConversationForm(team.path, A))
    assert [v for _, v in form.case.options] == ["C01", "C02"]
    form.case.options = [("C05", "C05")]  # what a page altered in the browser could send
    form.create.click()
    assert "case C05 is not allocated to you" in form.alert.message and form.conversation_id is None
    with team.store() as store:
        assert store.conversations().empty
