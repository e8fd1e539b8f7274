"""Upgrades never strand a review: a 0.1.0 workspace opens, reports and exports the same, and a
newer one is refused untouched."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
import yaml

from reviewkit.cli import main
from reviewkit.core.errors import MigrationError, NewerVersionError
from reviewkit.intake.io import export
from reviewkit.review import migrations, workspace
from reviewkit.review.bundle import export_bundle
from reviewkit.review.migrations import StoreMigration, WorkspaceMigration
from reviewkit.review.workspace import open_workspace

FIXTURE = Path(__file__).parent / "data" / "workspace-0.1.0"
EXPORTS = ("ratings", "flags", "meetings", "conversations", "notes")


@pytest.fixture
def old_ws(tmp_path: Path) -> Path:
    """A fresh copy of the workspace reviewkit 0.1.0 made (the fixture itself is never opened)."""
    return Path(shutil.copytree(FIXTURE / "eastvale-2026", tmp_path / "eastvale-2026"))


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _user_version(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def _add_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE notes ADD COLUMN cqc_statement TEXT NOT NULL DEFAULT ''")


def test_the_0_1_0_workspace_exports_the_same_after_upgrading(old_ws: Path, tmp_path: Path) -> None:
    ws = open_workspace(old_ws)
    with ws.store():
        pass
    assert _user_version(old_ws / "review.db") == migrations.STORE_SCHEMA
    for kind in EXPORTS:
        out = export(ws, tmp_path / f"{kind}.csv", what=kind)
        assert out.read_bytes() == (FIXTURE / "expected" / f"{kind}.csv").read_bytes(), kind
    bundle = export_bundle(ws, tmp_path / "bundle.zip")
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            assert zf.read(name) == (FIXTURE / "expected" / "bundle" / name).read_bytes(), name


@pytest.mark.slow
def test_the_0_1_0_workspace_reports_the_same_figures(old_ws: Path, tmp_path: Path) -> None:
    from reviewkit.report.annex import write_annex
    from reviewkit.report.render import render_report
    from reviewkit.review.workspace import open_workspace

    result = render_report(old_ws, tmp_path / "report", ["html"], use_cache=False)
    # Ratings by reviewer moved from the report to the team annex: both together hold every figure.
    annex = write_annex(open_workspace(old_ws), tmp_path / "report")
    html = result["html"].read_text(encoding="utf-8") + annex.read_text(encoding="utf-8")
    html = html.replace("\xa0", " ").replace("&nbsp;", " ")  # a table keeps a count with its share (no-break space)
    expected = (FIXTURE / "expected" / "report_figures.txt").read_text(encoding="utf-8").split("\n")
    missing = [figure for figure in expected if figure and figure not in html]
    assert missing == []


def test_a_0_1_0_store_is_upgraded_step_by_step_after_a_backup(old_ws: Path, monkeypatch, caplog) -> None:
    before = _rows(old_ws / "review.db")
    monkeypatch.setattr(migrations, "STORE_MIGRATIONS", (StoreMigration(2, "notes get a CQC statement", _add_column),))
    monkeypatch.setattr(migrations, "STORE_SCHEMA", 2)
    ws = open_workspace(old_ws)
    with caplog.at_level(logging.INFO, logger="reviewkit.review.migrations"), ws.store() as store:
        assert sorted(store.notes()["note_id"]) == sorted(r[0] for r in before["notes"])
    assert _user_version(old_ws / "review.db") == 2
    after = _rows(old_ws / "review.db")
    assert [r[:-1] for r in after["notes"]] == before["notes"]  # the new column, empty
    assert {r[-1] for r in after["notes"]} == {""}
    assert after["audit_log"] == before["audit_log"]
    backups = list((old_ws / "backups").iterdir())
    assert len(backups) == 1 and backups[0].name.startswith("review-schema1-")
    assert _rows(backups[0]) == before and _user_version(backups[0]) == 0
    assert "from schema 1 to 2" in caplog.text and str(backups[0]) in caplog.text
    with ws.store():  # opening again changes nothing
        pass
    assert len(list((old_ws / "backups").iterdir())) == 1


def test_a_failed_step_is_undone_and_the_next_open_carries_on(old_ws: Path, monkeypatch) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE ratings ADD COLUMN half_done TEXT")
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    steps = (StoreMigration(2, "notes get a CQC statement", _add_column), StoreMigration(3, "a broken step", broken))
    monkeypatch.setattr(migrations, "STORE_MIGRATIONS", steps)
    monkeypatch.setattr(migrations, "STORE_SCHEMA", 3)
    ws = open_workspace(old_ws)
    with pytest.raises(MigrationError, match="to schema 3 \\(a broken step\\).*undone.*backups"):
        ws.store()
    assert _user_version(old_ws / "review.db") == 2
    with contextlib.closing(sqlite3.connect(old_ws / "review.db")) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(ratings)")]
    assert "half_done" not in columns

    monkeypatch.setattr(migrations, "STORE_MIGRATIONS", (steps[0], StoreMigration(3, "fixed", lambda conn: None)))
    with ws.store():
        pass
    assert _user_version(old_ws / "review.db") == 3


def test_a_new_store_is_schema_1_plus_every_migration(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(migrations, "STORE_MIGRATIONS", (StoreMigration(2, "notes get a CQC statement", _add_column),))
    monkeypatch.setattr(migrations, "STORE_SCHEMA", 2)
    ws = workspace.create_workspace(tmp_path / "new", council="Testshire", theme="Testing", reviewers=["A"])
    assert _user_version(ws.db_path) == 2
    with contextlib.closing(sqlite3.connect(ws.db_path)) as conn:
        assert "cqc_statement" in [r[1] for r in conn.execute("PRAGMA table_info(notes)")]
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)
    assert not (ws.path / "backups").exists()


def test_a_store_from_a_newer_version_is_refused_untouched(old_ws: Path) -> None:
    with contextlib.closing(sqlite3.connect(old_ws / "review.db")) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.STORE_SCHEMA + 1}")
    before = _digests(old_ws)
    with pytest.raises(NewerVersionError, match="newer version of reviewkit.*Nothing was changed"):
        open_workspace(old_ws)
    with pytest.raises(NewerVersionError):
        from reviewkit.review.store import Store

        Store(old_ws / "review.db")
    assert _digests(old_ws) == before


def test_review_yaml_from_a_newer_version_is_refused_untouched(old_ws: Path, capsys) -> None:
    f = old_ws / "review.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("format: 1", f"format: {workspace.FORMAT + 1}"),
                 encoding="utf-8")
    before = _digests(old_ws)
    assert main(["status", str(old_ws)]) == 1
    err = capsys.readouterr().err
    assert "newer version of reviewkit" in err and "pip install --upgrade reviewkit" in err
    assert "Traceback" not in err
    assert _digests(old_ws) == before


def test_an_older_review_yaml_is_upgraded_after_a_backup(old_ws: Path, monkeypatch, capsys) -> None:
    def rename_programme(data: dict) -> dict:
        data["programme_name"] = data.pop("programme")
        return data

    def back(data: dict) -> dict:  # format 2 reads 'programme_name'; the kit still writes 'programme'
        data["programme"] = data.pop("programme_name")
        return data

    steps = (WorkspaceMigration(2, "rename a key", rename_programme), WorkspaceMigration(3, "rename it back", back))
    monkeypatch.setattr(migrations, "WORKSPACE_MIGRATIONS", steps)
    monkeypatch.setattr(migrations, "WORKSPACE_FORMAT", 3)
    monkeypatch.setattr(workspace, "FORMAT", 3)
    original = (old_ws / "review.yaml").read_bytes()
    assert main(["status", str(old_ws)]) == 0
    err = capsys.readouterr().err
    assert "note: Upgraded review.yaml from format 1 to 3" in err
    data = yaml.safe_load((old_ws / "review.yaml").read_text(encoding="utf-8"))
    assert data["format"] == 3 and data["programme"] == yaml.safe_load(original)["programme"]
    backups = sorted((old_ws / "backups").iterdir())
    yaml_backups = [p for p in backups if p.suffix == ".yaml"]  # (a store migration may add a store backup)
    assert [p.name.startswith("review-format1-") for p in yaml_backups] == [True]
    assert yaml_backups[0].read_bytes() == original
    assert open_workspace(old_ws).meta.council == "Eastvale Borough Council"
    assert len(list((old_ws / "backups").iterdir())) == len(backups)  # opening again backs up nothing more


def test_a_file_that_is_not_a_store_gets_a_plain_error(tmp_path: Path) -> None:
    from reviewkit.core.errors import StoreError
    from reviewkit.review.store import Store

    (tmp_path / "review.db").write_bytes(b"not a database at all, just some text " * 50)
    with pytest.raises(StoreError, match="not a review store"):
        Store(tmp_path / "review.db")


def test_run_script_runs_triggers_and_statements_without_committing(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    conn.execute("BEGIN")
    migrations.run_script(conn, "CREATE TABLE t (x);\nCREATE TRIGGER t_no_delete BEFORE DELETE ON t\n"
                                "BEGIN SELECT RAISE(ABORT, 'no; never'); END;\nINSERT INTO t VALUES (1);")
    assert conn.in_transaction
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
