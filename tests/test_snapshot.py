"""One read of the review per render: the snapshot the gate, the digest and the sections all take.

The report must publish exactly what its gate screened: a save made between the gate and the
kernel's read (a reviewer still typing while the host renders) must not reach the report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html as htmllib
import re
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from reviewkit.core.errors import WorkspaceError
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.inputs import input_digest
from reviewkit.report.render import render_report
from reviewkit.report.sections import ReportBuilder
from reviewkit.report.staging import STAGING_PREFIX
from reviewkit.review.snapshot import (DIGEST_EXCLUDED, SNAPSHOT_ENV, TABLES, digest_tables, read_snapshot, take_snapshot,
                                       write_snapshot)
from reviewkit.review.workspace import open_workspace

AFTER_GATE = "Pumpkin parsnip consortium"  # text saved after the gate: never in the report (English words: it passes the gate)


def _text(page: str) -> str:
    body = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_workspace(tmp_path_factory.mktemp("snapshot") / "eastvale").path


def _published_quote(ws_path: Path) -> tuple[int, str]:
    with open_workspace(ws_path).store() as store:
        notes = store.notes()
    quote = notes[notes["use_in_report"] & (notes["kind"] == "quote")].iloc[0]
    return int(quote["note_id"]), str(quote["text"])


def _save_after_gate(ws_path: Path, note_id: int) -> None:
    """What a reviewer saving meanwhile does: a narrative file and a published quote change."""
    key = ws_path / "narrative" / "key_messages.md"
    key.write_text(f"1. **{AFTER_GATE}.** Written after the check.\n", encoding="utf-8")
    ws = open_workspace(ws_path)
    with ws.store() as store:
        store.update_note("test", note_id, text=f"{AFTER_GATE} said this after the check.")


def test_a_snapshot_holds_the_store_as_its_read_methods_return_it(sample: Path) -> None:
    ws = open_workspace(sample)
    snap = take_snapshot(ws)
    with ws.store() as store:
        for table in TABLES:
            pd.testing.assert_frame_equal(snap.frame(table), getattr(store, table)())
    # and the same again from the file a render hands its kernel
    with tempfile.TemporaryDirectory() as tmp:
        again = read_snapshot(write_snapshot(snap, Path(tmp) / "s.json"), sample)
    for table in TABLES:
        pd.testing.assert_frame_equal(again.frame(table), snap.frame(table))
    assert again.meta == snap.meta and again.tool == snap.tool
    assert dict(again.files) == dict(snap.files) and dict(again.narrative) == dict(snap.narrative)
    assert input_digest(again) == input_digest(snap) == input_digest(ws)


def test_a_snapshot_cannot_be_changed(sample: Path) -> None:
    snap = take_snapshot(sample)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.meta.theme = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.store_digest = ""  # type: ignore[misc]
    with pytest.raises(TypeError):
        snap.files["review.yaml"] = b""  # type: ignore[index]
    with pytest.raises(TypeError):
        snap.tables["notes"] = None  # type: ignore[index]
    assert isinstance(snap.meta.cases, tuple) and isinstance(snap.meta.review_questions, tuple)
    frame = snap.frame("meetings")
    frame.loc[0, "kind"] = "changed"
    frame["attendees"].iloc[0]["changed"] = 1
    assert snap.frame("meetings")["kind"].iloc[0] != "changed"  # each frame is a copy
    assert "changed" not in snap.frame("meetings")["attendees"].iloc[0]


def test_the_notebook_builds_on_the_snapshot_it_is_handed_not_the_workspace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws_path = build_sample_workspace(tmp_path / "eastvale").path
    note_id, quote = _published_quote(ws_path)
    handed = write_snapshot(take_snapshot(ws_path), tmp_path / "snapshot.json")
    assert stat.S_IMODE(handed.stat().st_mode) == 0o600
    _save_after_gate(ws_path, note_id)
    (ws_path / "review.db").rename(tmp_path / "elsewhere.db")  # and the store cannot be opened at all
    monkeypatch.setenv(SNAPSHOT_ENV, str(handed))
    report = ReportBuilder.load(str(ws_path))
    page = _text(report.key_messages() + report.meetings())
    assert AFTER_GATE not in page and quote in page
    assert "Strengths-based practice is well established" in page
    other = build_sample_workspace(tmp_path / "other").path
    with pytest.raises(WorkspaceError, match="another workspace"):
        ReportBuilder.load(str(other))
    monkeypatch.delenv(SNAPSHOT_ENV)
    (tmp_path / "elsewhere.db").rename(ws_path / "review.db")
    assert AFTER_GATE in _text(ReportBuilder.load(str(ws_path)).key_messages())  # by hand: the review as it is


@pytest.mark.slow
def test_the_report_publishes_exactly_what_the_gate_saw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws_path = build_sample_workspace(tmp_path / "eastvale").path
    note_id, quote = _published_quote(ws_path)
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    out = tmp_path / "out"
    seen: dict[str, object] = {}

    def meanwhile(message: str) -> None:
        if message.startswith("Running the report notebook"):  # the gate has passed; the kernel starts
            _save_after_gate(ws_path, note_id)
        if message.startswith("Converting to HTML"):  # the kernel has read what it was handed
            # in the render's private staging folder (owner-only), never in $TMPDIR
            seen["handed"] = [(p.name, stat.S_IMODE(p.stat().st_mode), stat.S_IMODE(p.parent.stat().st_mode))
                              for p in out.glob(f"{STAGING_PREFIX}*/review-snapshot.json")]
            seen["tmp"] = [p.name for p in private.rglob("*snapshot*")]

    render_report(ws_path, out, ("html",), progress=meanwhile)
    page = _text((out / "report.html").read_text(encoding="utf-8"))
    assert AFTER_GATE not in page
    assert quote in page and "Strengths-based practice is well established" in page
    assert seen == {"handed": [("review-snapshot.json", 0o600, 0o700)], "tmp": []}
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]  # removed with the staging folder
    # The next render takes a new snapshot, gated again, and shows the change.
    render_report(ws_path, out, ("html",))
    assert AFTER_GATE in _text((out / "report.html").read_text(encoding="utf-8"))


def test_the_kernel_is_told_the_names_its_modules_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewkit.report import data as reportdata
    from reviewkit.report import kernel as report
    from reviewkit.report import sections as reportsections
    from reviewkit.review import snapshot

    assert (report.WITHHOLD_ENV, report.CHARTS_ENV, report.SNAPSHOT_ENV) == (
        reportdata.WITHHOLD_ENV, reportsections.CHARTS_ENV, snapshot.SNAPSHOT_ENV)
    monkeypatch.setenv(SNAPSHOT_ENV, "/somewhere/else")  # never taken from the caller's environment
    assert SNAPSHOT_ENV not in report.kernel_env(tmp_path)
    assert report.kernel_env(tmp_path, snapshot=tmp_path / "s.json")[SNAPSHOT_ENV] == str(tmp_path / "s.json")


def test_the_cache_key_dates_are_those_the_page_prints(sample: Path) -> None:
    import datetime as dt

    from reviewkit.report import render as report

    snap = take_snapshot(sample)
    for day in (dt.date(2026, 12, 1), dt.date(2027, 1, 31)):
        context = report._context(snap, False, day)
        assert report._page_dates(snap, day) == context["report_date"] + context["render_date"]


# One row of each table the cache digest hashes, edited through SQL behind the store's back.
# A table a migration adds must get a line here (the test below says so).
DIGEST_EDITS = {
    "meta": "UPDATE meta SET value = value || ' edited' WHERE rowid = (SELECT min(rowid) FROM meta)",
    "ratings": "UPDATE ratings SET comment = comment || ' edited' WHERE rowid = (SELECT min(rowid) FROM ratings)",
    "case_flags": "UPDATE case_flags SET reason = reason || ' edited' "
                  "WHERE rowid = (SELECT min(rowid) FROM case_flags)",
    "meetings": "UPDATE meetings SET title = title || ' edited' WHERE rowid = (SELECT min(rowid) FROM meetings)",
    "attendance": "UPDATE attendance SET count = count + 1 WHERE rowid = (SELECT min(rowid) FROM attendance)",
    "conversations": "UPDATE conversations SET held_on = '2026-01-02' "
                     "WHERE rowid = (SELECT min(rowid) FROM conversations WHERE held_on <> '2026-01-02')",
    "notes": "UPDATE notes SET text = text || ' edited' WHERE rowid = (SELECT min(rowid) FROM notes)",
    "note_codes": "UPDATE note_codes SET code = code || '-edited' WHERE rowid = (SELECT min(rowid) FROM note_codes)",
    "concerns": "UPDATE concerns SET outcome = 'no-further-action' WHERE rowid = (SELECT min(rowid) FROM concerns)",
    # The sample holds a calibration round (CAL1): a record and a round added, a rating and an agreed one edited.
    "calibration_records": "INSERT INTO calibration_records VALUES ('CAL2', 'now', 'host')",
    "calibration_rounds": "INSERT INTO calibration_rounds VALUES (2, 'now', 'host')",
    "calibration_ratings": "UPDATE calibration_ratings SET rating = 'Inadequate' "
                           "WHERE rowid = (SELECT min(rowid) FROM calibration_ratings)",
    "calibration_agreed": "UPDATE calibration_agreed SET note = note || ' (edited)' "
                          "WHERE rowid = (SELECT min(rowid) FROM calibration_agreed)",
    "calibration_open": "INSERT INTO calibration_open VALUES ('*', 'now', 'host')",
}


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_editing_any_table_of_the_store_changes_the_cache_digest(sample: Path, tmp_path: Path) -> None:
    """A stale report is never reused: the digest covers every table the schema has, read from the
    schema, so one edited row anywhere (an attendance count too) means a fresh render."""
    ws = Path(shutil.copytree(sample, tmp_path / "ws"))
    with contextlib.closing(sqlite3.connect(ws / "review.db")) as db:
        tables = _tables(db)
        internal = {t for t in tables if t.startswith("sqlite_")}
        assert set(DIGEST_EXCLUDED) <= tables
        assert tables - internal - set(DIGEST_EXCLUDED) == set(DIGEST_EDITS), "give a new table an edit here"
    with open_workspace(ws).store() as store:
        assert digest_tables(store) == tuple(sorted(DIGEST_EDITS))
    digest = take_snapshot(ws).store_digest
    for table, edit in DIGEST_EDITS.items():
        with contextlib.closing(sqlite3.connect(ws / "review.db")) as db, db:
            assert db.execute(edit).rowcount == 1, table
        before, digest = digest, take_snapshot(ws).store_digest
        assert digest != before, f"an edit of {table} left the digest as it was"


def test_the_audit_log_and_timestamps_leave_the_cache_digest_as_it_was(sample: Path, tmp_path: Path) -> None:
    """An edit undone hashes the same: the audit log (and the row count SQLite keeps for it),
    timestamps, authors and versions are left out."""
    ws = Path(shutil.copytree(sample, tmp_path / "ws"))
    digest = take_snapshot(ws).store_digest
    with contextlib.closing(sqlite3.connect(ws / "review.db")) as db, db:
        db.execute("INSERT INTO audit_log (at, actor, action, entity, key) VALUES ('now', 'x', 'read', 'report', '-')")
        db.execute("UPDATE ratings SET updated_at = 'later', updated_by = 'someone', version = version + 1")
    assert take_snapshot(ws).store_digest == digest
