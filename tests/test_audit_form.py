"""The in-house audit form: an auditor records one audit (or a moderation) with no code, checked as an
imported audit row is, logged in the programme's audit log; its notebook runs top to bottom."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from reviewkit.inhouse.importer import import_audits
from reviewkit.inhouse.store import STORE_VERSION, AuditStore
from reviewkit.inhouse.tracking import load_tracking
from reviewkit.team import serve
from reviewkit.team.widgets.audit import AuditForm

from .test_notebooks_entry import WIDGET_MIME, _outputs, _run
from .test_tracking import TOOL_IDS, _audit_csv, _programme, _row

NOTE = "No contingency plan although the carer is unwell"


def _fill(form: AuditForm, ref: str, rating: str = "Good", team: str = "North Team", month: str = "2027-01") -> None:
    form.audit_id.value, form.team.value, form.month.value = ref, team, month
    for q in form.questions.values():
        q.buttons.value = rating


def _stored(p, ref: str, role: str = "first") -> tuple:
    with p.store() as store:
        return store.stored().get((ref, role))


def test_an_audit_saved_in_the_form_is_stored_counted_and_logged(tmp_path, trap):
    p = _programme(tmp_path)
    form = trap.watch(AuditForm(p.path, "a. auditor"))  # the name as programme.yaml spells it
    _fill(form, "A-1")
    form.questions["q5"].buttons.value = "Inadequate"
    form.questions["q5"].note.value = NOTE
    form.feedback_from.value, form.feedback.value = "carer", "mixed"
    form.save()
    assert form.status_text.startswith("Saved")
    month, team, ratings, notes, auditor = _stored(p, "A-1")
    assert (month, team, auditor, ratings["q5"], notes) == ("2027-01", "North Team", "A. Auditor", "Inadequate",
                                                           {"q5": NOTE})
    with p.store() as store:
        assert store.audit("A-1")["feedback_from"] == "carer"
        log = store.audit_log()
    assert log[["actor", "action", "key", "note"]].values.tolist() == [
        ["A. Auditor", "insert", "A-1/first", "entered in the audit form"]]
    assert NOTE not in log.to_json() and "sha256" in log["new"][0]  # the note only as a digest
    chart = load_tracking(p).council[0].chart
    assert (chart.n, chart.x) == ((1,), (1,))


def test_the_form_refuses_what_the_import_refuses_naming_the_field_and_saves_nothing(tmp_path, trap):
    p = _programme(tmp_path)
    form = trap.watch(AuditForm(p.path, "A. Auditor"))
    _fill(form, "Jane Smith 943 476 5919", month="sometime")
    form.questions["q2"].buttons.value = None
    form.save()
    message = form.alert.message
    assert "Record reference" in message and "Month audited" in message and "q2 · " in message
    assert "943" not in message and "Jane" not in message  # says where, never what was typed
    assert form.status_text.startswith("Not saved")
    with p.store() as store:
        assert store.audits().empty and store.audit_log().empty


def test_a_name_in_a_note_is_refused_and_a_possible_one_needs_save_anyway(tmp_path, trap):
    p = _programme(tmp_path)
    form = trap.watch(AuditForm(p.path, "A. Auditor"))
    _fill(form, "A-2")
    form.questions["q1"].note.value = "Mrs Jane Smith was not asked what matters to her"
    form.save()
    assert "q1 · " in form.alert.message and form.save_anyway.layout.display == "none"
    assert _stored(p, "A-2") is None
    form.questions["q1"].note.value = "Assessment dated 12/03/1950 not signed off"  # could be a date of birth
    form.save()
    assert form.save_anyway.layout.display == "" and _stored(p, "A-2") is None
    form.save_anyway.click()
    assert _stored(p, "A-2")[3]["q1"].startswith("Assessment dated")
    with p.store() as store:
        assert "confirmed possible identifier(s)" in store.audit_log()["note"][0]


def test_a_moderation_is_a_second_auditors_own_ratings_never_counted(tmp_path, trap):
    p = _programme(tmp_path)
    first = trap.watch(AuditForm(p.path, "A. Auditor"))
    _fill(first, "A-3", team="South Team", month="2027-02")
    first.save()
    self_moderated = trap.watch(AuditForm(p.path, "A. Auditor"))
    self_moderated.role.value = "moderator"
    _fill(self_moderated, "A-3", team="South Team", month="2027-02")
    self_moderated.save()
    assert "Auditor" in self_moderated.alert.message and _stored(p, "A-3", "moderator") is None
    mod = trap.watch(AuditForm(p.path, "B. Auditor"))
    mod.role.value = "moderator"
    mod.audit_id.value = "A-3"
    mod.load_button.click()  # the first audit's month and team, none of its ratings
    assert (mod.month.value, mod.team.value) == ("2027-02", "South Team")
    assert all(q.buttons.value is None for q in mod.questions.values())
    for q in mod.questions.values():
        q.buttons.value = "Requires Improvement"
        q.note.value = "Plan does not say who does what"
    mod.save()
    assert _stored(p, "A-3", "moderator")[4] == "B. Auditor"
    track = load_tracking(p)
    assert track.council[0].chart.n == (1,)  # the record counts once, with the first auditor's rating
    assert track.counts[["moderated", "agreed"]].iloc[0].tolist() == [1, 0]


def test_load_shows_a_saved_audit_and_saving_again_replaces_it(tmp_path, trap):
    p = _programme(tmp_path)
    import_audits(p, [_audit_csv(tmp_path / "a.csv", [_row("A-4", rating="Good")])], actor="host")
    form = trap.watch(AuditForm(p.path, "B. Auditor"))
    form.audit_id.value = "A-4"
    form.reload()
    assert form.questions["q1"].buttons.value == "Good" and "another auditor" in form.alert.message
    form.questions["overall"].buttons.value = "Outstanding"
    form.save()
    assert "replaced" in form.alert.message
    with p.store() as store:
        log = store.audit_log()
    assert log[["actor", "action"]].values.tolist() == [["host", "insert"], ["B. Auditor", "update"]]
    assert log["note"].tolist() == [f"imported from {tmp_path / 'a.csv'}", "entered in the audit form"]
    assert '"overall": "Good"' in log["old"][1] and '"overall": "Outstanding"' in log["new"][1]
    assert _stored(p, "A-4")[2]["overall"] == "Outstanding"


def test_an_import_is_logged_once_per_audit_and_an_unchanged_reimport_not_at_all(tmp_path, capsys):
    from reviewkit.cli import main

    p = _programme(tmp_path)
    rows = [_row("A-7"), _row("A-7", role="moderator", auditor="B. Auditor"), _row("A-8", team="South Team")]
    audits = _audit_csv(tmp_path / "march.csv", rows)
    assert main(["import", str(p.path), str(audits), "--as", "Q. Lead"]) == 0
    assert main(["import", str(p.path), str(audits), "--as", "Q. Lead"]) == 0
    assert "0 audit(s) added, 0 replaced, 0 moderation(s), 3 unchanged" in capsys.readouterr().out
    with p.store() as store:
        log = store.audit_log()
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.db.execute("DELETE FROM audit_log")
    assert sorted(log["key"]) == ["A-7/first", "A-7/moderator", "A-8/first"]
    assert set(log["actor"]) == {"Q. Lead"} and set(log["action"]) == {"insert"}


def test_an_unknown_auditor_or_folder_gets_a_plain_panel_not_a_form(tmp_path):
    p = _programme(tmp_path)
    from reviewkit.team.widgets import audit_form

    panel = audit_form(p.path, "Z. Stranger")
    assert not isinstance(panel, AuditForm) and "A. Auditor, B. Auditor" in panel.children[1].value
    assert not isinstance(audit_form(tmp_path / "missing", "A. Auditor"), AuditForm)


def test_serve_offers_the_audit_form_for_a_programme_only(tmp_path, ws):
    p = _programme(tmp_path)
    plan = serve.plan(p.path, "b. auditor", form="audit")
    assert plan.notebook.name == "record_audit.ipynb"
    assert plan.env["REVIEWKIT_WORKSPACE"] == str(p.path.resolve()) and plan.env["REVIEWKIT_REVIEWER"] == "B. Auditor"
    with pytest.raises(Exception, match="audit programme"):
        serve.plan(p.path, "A. Auditor", form="rate")
    with pytest.raises(Exception, match="programme"):
        serve.plan(ws.path, "A. Visitor", form="audit")
    with pytest.raises(Exception, match="not one of the programme's auditors"):
        serve.plan(p.path, "A. Visitor", form="audit")


def test_a_version_1_audit_store_is_upgraded_keeping_its_audits(tmp_path):
    p = _programme(tmp_path)
    p.store_path.unlink()
    with sqlite3.connect(p.store_path) as db:  # as reviewkit made it before evidence notes and the log
        db.executescript("CREATE TABLE audits (audit_id TEXT PRIMARY KEY, month TEXT NOT NULL, team TEXT NOT NULL, "
                         "themes TEXT NOT NULL DEFAULT '', feedback_from TEXT NOT NULL DEFAULT '', feedback TEXT NOT "
                         "NULL DEFAULT ''); CREATE TABLE ratings (audit_id TEXT NOT NULL, role TEXT NOT NULL, auditor "
                         "TEXT NOT NULL, question TEXT NOT NULL, rating TEXT NOT NULL, PRIMARY KEY (audit_id, role, "
                         "question)); INSERT INTO audits VALUES ('A-5', '2027-01', 'North Team', '', '', '');"
                         "PRAGMA user_version = 1;")
        db.executemany("INSERT INTO ratings VALUES ('A-5', 'first', 'A. Auditor', ?, 'Good')", [(q,) for q in TOOL_IDS])
    with AuditStore(p.store_path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == STORE_VERSION
        assert store.stored()[("A-5", "first")][2]["q1"] == "Good" and store.audit_log().empty


@pytest.mark.slow
@pytest.mark.enable_socket
def test_the_audit_notebook_runs_top_to_bottom_and_shows_the_form(tmp_path: Path) -> None:
    p = _programme(tmp_path)
    import_audits(p, [_audit_csv(tmp_path / "a.csv", [_row("A-6")])])
    nb = _run("record_audit.ipynb", tmp_path, {"workspace": str(p.path), "reviewer": "A. Auditor"})
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    [shown] = [o for o in outputs if WIDGET_MIME in o.get("data", {})]
    assert shown["data"]["text/plain"].startswith("AuditForm:")
    assert "North Team" not in json.dumps(shown)  # the saved notebook carries nothing typed into the form
    nb = _run("record_audit.ipynb", tmp_path, {"workspace": str(p.path), "reviewer": "Z. Stranger"})
    [shown] = [o for o in _outputs(nb) if WIDGET_MIME in o.get("data", {})]
    assert not shown["data"]["text/plain"].startswith("AuditForm:")


def test_serve_on_the_command_line_names_the_programmes_auditors_when_the_name_is_wrong(tmp_path, capsys):
    from reviewkit.cli import main

    p = _programme(tmp_path)
    assert main(["serve", str(p.path), "--form", "audit", "--reviewer", "Z. Stranger", "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 'Z. Stranger' is not one of the programme's auditors") and "A. Auditor" in err
    assert "Traceback" not in err
    assert main(["serve", str(p.path), "--reviewer", "A. Auditor", "--no-browser"]) == 1  # the default rating form
    assert "its form is --form audit" in capsys.readouterr().err
