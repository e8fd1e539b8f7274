"""The host console's actions, called as its buttons call them, on a real workspace and store."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from reviewkit.team.widgets import HostConsole, host_console
from reviewkit.team.widgets.host import download_link, lab_link

GOOD = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q1,Good,\nC03,B. Visitor,q2,RI,Plans lack detail\n"
BAD = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q1,Superb,\nC99,Z. Nobody,q2,Good,\n"


def upload(console: HostConsole, *files: tuple[str, bytes]) -> None:
    console.upload.value = tuple({"name": n, "type": "text/csv", "size": len(b), "content": memoryview(b),
                                  "last_modified": dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)} for n, b in files)


def test_an_upload_with_problems_stores_nothing_and_lists_every_problem(ws, trap) -> None:
    console = trap.watch(HostConsole(ws))
    upload(console, ("good.csv", GOOD), ("bad.csv", BAD))
    console.import_button.click()
    shown = console.import_message.value
    assert "Nothing was imported: 3 problem(s) found." in shown
    assert "bad.csv, row 2, column &#x27;rating&#x27;" in shown and "row 3" in shown
    assert console.status_text.startswith("Not saved")
    with ws.store() as store:
        assert store.all_ratings().empty


def test_a_good_upload_is_imported_in_the_hosts_name_and_progress_updates(ws, trap) -> None:
    console = trap.watch(HostConsole(ws))
    upload(console, ("b.csv", GOOD))
    console.import_button.click()
    assert "ratings: 2 added" in console.import_message.value and console.upload.value == ()
    assert "B. Visitor" in console.tables.value
    assert "Before the final report" in console.tables.value and "still missing" in console.tables.value
    with ws.store() as store:
        log = store.audit_log()
    assert set(log["actor"]) == {"H. Host"}  # the team's host, on one computer


def test_the_regional_bundle_is_offered_as_a_download(ws, trap) -> None:
    console = trap.watch(HostConsole(ws))
    console.bundle_button.click()
    assert "add dates.start" in console.alert.message  # the library's message, shown in the page
    ws.meta.start, ws.meta.end = "2026-03-02", "2026-03-06"
    ws.save_meta()
    console.bundle_button.click()
    assert 'download="regional_bundle.zip"' in console.bundle_files.value
    bundle = ws.path / "report" / "regional_bundle.zip"
    assert zipfile.ZipFile(io.BytesIO(bundle.read_bytes())).namelist()


def test_the_action_plan_is_offered_as_a_download(ws, trap) -> None:
    console = trap.watch(HostConsole(ws))
    console.plan_button.click()
    assert "no recommendations yet" in console.alert.message  # the library's message, shown in the page
    (ws.narrative_dir / "recommendations.md").write_text(
        "# Recommendations\n\n1. Make supervision reflective.\n2. Record management oversight.\n", encoding="utf-8")
    console.plan_button.click()
    assert 'download="action_plan.xlsx"' in console.plan_files.value
    from openpyxl import load_workbook

    sheet = load_workbook(ws.path / "report" / "action_plan.xlsx").active
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert any("Make supervision reflective" in t for t in texts)
    assert any("Record management oversight" in t for t in texts)


def test_the_easy_read_summary_is_drafted_once_and_offered_as_a_download(ws, trap) -> None:
    console = trap.watch(HostConsole(ws))
    console.easy_button.click()
    shown = console.report_files.value
    assert 'download="easy-read.html"' in shown and 'download="what-you-told-us.html"' in shown
    assert "narrative/easy_read.md" in shown  # drafted for the host to edit
    draft = ws.narrative_dir / "easy_read.md"
    edited = draft.read_text(encoding="utf-8").replace("## What happens next",
                                                       "## What happens next\n\n- [star] We will come back next year.")
    draft.write_text(edited, encoding="utf-8")
    console.easy_button.click()
    assert "Drafted" not in console.report_files.value and draft.read_text(encoding="utf-8") == edited
    assert "We will come back next year." in (ws.path / "report" / "easy-read.html").read_text(encoding="utf-8")


def test_jupyterlab_is_linked_only_on_the_hub(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert lab_link() == ""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/h.host@eastvale.example/")
    assert lab_link() == "/user/h.host@eastvale.example/lab"
    f = tmp_path / "report.html"
    f.write_text("<p>hi</p>", encoding="utf-8")
    assert download_link(f, "Download").startswith('<a class="rk-download" download="report.html" href="data:text/html;base64,')


def test_a_wrong_workspace_shows_a_plain_panel(tmp_path) -> None:
    panel = host_console(tmp_path / "missing")
    assert "The host console cannot open" in panel.children[1].value


def test_a_flagged_claim_is_listed_and_confirmed_with_a_reason(ws, trap) -> None:
    (ws.path / "narrative" / "introduction.md").write_text("Intro.\n\nThe team examined 24 case records.\n",
                                                          encoding="utf-8")
    console = trap.watch(HostConsole(ws))
    [(label, value)] = console.claims.options
    assert label.startswith('narrative/introduction.md line 3: "24 case records"') and value == ("narrative/introduction.md", 3)
    assert "narrative/introduction.md line 3" in console.tables.value  # and in the list before the final report
    console.claim_reason.value = "no"
    console.confirm_button.click()
    assert "needs a reason" in console.claim_message.value and console.claims.options
    console.claim_reason.value = "24 were examined; the 8 allocated here were rated on the audit tool"
    console.confirm_button.click()
    assert "Confirmed as true" in console.claim_message.value
    assert console.claims.options == () and console.confirm_button.disabled
    from reviewkit.review.workspace import open_workspace

    [kept] = open_workspace(ws.path).meta.confirmed_claims
    assert kept.file == "narrative/introduction.md" and kept.text == "24 case records" and kept.reason.startswith("24 were")
