"""Every file the kit writes is owner-only (0600), and every folder it creates too (0700).

Under the usual umask (022) a plain ``open`` makes files every user of the computer can read,
and the kit's files hold evidence notes, quotes, staff logins and the narrative. Each command
runs here as a person would run it, under that umask, and the trees it wrote are walked: the
sample and a new review, exports of every kind, the audit workbook, the action plan, the
regional bundle, the previous review, the team annex, the backups an upgrade makes and (slow)
a rendered report in all three formats, fresh and from the cache. A folder the user already
had, such as an existing ``--out``, keeps its own mode.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.core.atomic import write_text
from reviewkit.report.annex import write_annex
from reviewkit.review import migrations, workspace
from reviewkit.review.migrations import StoreMigration, WorkspaceMigration
from reviewkit.review.workspace import open_workspace

KINDS = ("ratings", "flags", "meetings", "conversations", "notes")
OLD_WORKSPACE = Path(__file__).parent / "data" / "workspace-0.1.0" / "eastvale-2026"


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual umask, under which new files are readable by everyone (0644 / 0755)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _open_to_others(root: Path, *, with_root: bool = True) -> list[str]:
    """Every file under ``root`` that is not 0600 and every folder that is not 0700."""
    found = []
    for p in ([root] if with_root else []) + sorted(root.rglob("*")):
        want = 0o700 if p.is_dir() else 0o600
        if _mode(p) != want:
            found.append(f"{p.relative_to(root.parent)} {oct(_mode(p))}")
    return found


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample review and everything the commands write from it, under umask 022."""
    old = os.umask(0o022)
    try:
        root = tmp_path_factory.mktemp("modes")
        reviews, out = root / "reviews", root / "out"  # reviews/: the kit makes it
        out.mkdir()  # a folder the user made: 0755
        ws = reviews / "eastvale"
        assert main(["sample", str(ws)]) == 0
        for kind in KINDS:
            for suffix in (".csv", ".xlsx"):
                assert main(["export", str(ws), "--what", kind, "--out", str(out / f"{kind}{suffix}")]) == 0
        assert main(["export", str(ws), "--what", "all", "--out", str(out / "all.xlsx")]) == 0
        reviewer = open_workspace(ws).meta.reviewers[0]
        assert main(["workbook", str(ws), "--reviewer", reviewer, "--out", str(out / "workbook.xlsx")]) == 0
        for suffix in (".xlsx", ".docx"):
            assert main(["action-plan", str(ws), "--out", str(out / f"plan{suffix}")]) == 0
        bundle = out / "bundles" / "eastvale.zip"  # bundles/: the kit makes it
        assert main(["export", str(ws), "--for-region", "--out", str(bundle)]) == 0
        nxt = reviews / "eastvale-next"
        assert main(["new", str(nxt), "--council", "Eastvale Borough Council", "--theme", "Practice",
                     "--reviewer", "A. Visitor", "--host", "H. Host"]) == 0
        assert main(["previous", str(nxt), str(out / "plan.xlsx"), str(bundle)]) == 0
        write_annex(open_workspace(ws), out / "team")  # team/: the kit makes it
        return {"reviews": reviews, "out": out, "ws": ws}
    finally:
        os.umask(old)


def test_a_review_and_everything_written_from_it_is_owner_only(written: dict[str, Path]) -> None:
    reviews, out = written["reviews"], written["out"]
    assert (written["ws"] / "review.yaml").exists() and (reviews / "eastvale-next" / "previous_round.zip").exists()
    assert _open_to_others(reviews) == []  # the workspaces, and the folder the kit made for them
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert {"ratings.csv", "notes.xlsx", "all.xlsx", "workbook.xlsx", "plan.xlsx", "plan.docx",
            "bundles/eastvale.zip", "team/report-annex.html"} <= names
    assert _open_to_others(out, with_root=False) == []
    assert _mode(out) == 0o755  # the user's own folder keeps its mode


def test_a_file_rewritten_in_place_becomes_owner_only(written: dict[str, Path]) -> None:
    ws, out = written["ws"], written["out"]
    (ws / "review.yaml").chmod(0o644)  # as an older kit, or a copy, left it
    (out / "ratings.csv").chmod(0o644)
    open_workspace(ws).save_meta()
    assert main(["export", str(ws), "--what", "ratings", "--out", str(out / "ratings.csv")]) == 0
    assert (_mode(ws / "review.yaml"), _mode(out / "ratings.csv")) == (0o600, 0o600)


def test_make_folder_makes_only_missing_folders_owner_only(tmp_path: Path) -> None:
    from reviewkit.core.atomic import make_folder

    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    assert make_folder(mine / "a" / "b") == mine / "a" / "b"
    assert (_mode(mine), _mode(mine / "a"), _mode(mine / "a" / "b")) == (0o755, 0o700, 0o700)
    assert make_folder(mine, exist_ok=True) == mine and _mode(mine) == 0o755
    with pytest.raises(FileExistsError):
        make_folder(mine / "a")
    os.umask(0o277)  # even a umask that takes the owner's own bits away
    make_folder(mine / "c")
    write_text(mine / "c" / "f.txt", "text")
    os.umask(0o022)
    assert (_mode(mine / "c"), _mode(mine / "c" / "f.txt")) == (0o700, 0o600)


def _add_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE notes ADD COLUMN cqc_statement TEXT NOT NULL DEFAULT ''")


def test_the_backups_an_upgrade_makes_are_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = Path(shutil.copytree(OLD_WORKSPACE, tmp_path / "eastvale-2026"))
    monkeypatch.setattr(migrations, "STORE_MIGRATIONS", (StoreMigration(2, "a new column", _add_column),))
    monkeypatch.setattr(migrations, "STORE_SCHEMA", 2)
    monkeypatch.setattr(migrations, "WORKSPACE_MIGRATIONS", (WorkspaceMigration(2, "nothing", dict),))
    monkeypatch.setattr(migrations, "WORKSPACE_FORMAT", 2)
    monkeypatch.setattr(workspace, "FORMAT", 2)
    with open_workspace(old).store():
        pass
    backups = old / "backups"
    assert sorted(p.name.split("-")[1] for p in backups.iterdir()) == ["format1", "schema1"]
    assert _open_to_others(backups) == []
    assert _mode(old / "review.yaml") == 0o600


@pytest.mark.slow
def test_a_rendered_report_fresh_or_from_the_cache_is_owner_only(written: dict[str, Path], tmp_path: Path) -> None:
    ws = written["ws"]
    assert main(["report", str(ws), "--to", "html,pdf,docx", "--annex"]) == 0  # into ws/report, made here
    report = ws / "report"
    assert sorted(p.name for p in report.iterdir()) == ["report-annex.html", "report.docx", "report.html",
                                                        "report.pdf"]
    mine = tmp_path / "mine"
    mine.mkdir()  # an existing --out of the user's: 0755
    assert main(["report", str(ws), "--to", "html,pdf,docx", "--out", str(mine)]) == 0  # copies from the cache
    assert sorted(p.name for p in mine.iterdir()) == ["report.docx", "report.html", "report.pdf"]
    assert _open_to_others(report) == [] and _open_to_others(ws / ".cache") == []
    assert _open_to_others(mine, with_root=False) == [] and _mode(mine) == 0o755
