"""Atomic rewrites: on a full disk the old file is untouched and the message is plain."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reviewkit.core.atomic import write_atomic, write_bytes, write_text
from reviewkit.core.errors import FileWriteError, ReviewkitError


def run_with_file_size_limit(code: str, limit: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run Python code where no file may grow past ``limit`` bytes: a full disk, safely.

    RLIMIT_FSIZE makes every write beyond the limit fail with EFBIG (SIGXFSZ ignored), the
    way a full disk fails with ENOSPC, without filling any real disk.
    """
    prelude = textwrap.dedent(f"""
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
    """)
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_write_text_replaces_and_keeps_mode(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("old", encoding="utf-8")
    f.chmod(0o600)
    write_text(f, "new\n")
    assert f.read_text(encoding="utf-8") == "new\n"
    assert f.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_new_file_gets_the_requested_mode(tmp_path: Path) -> None:
    write_bytes(tmp_path / "b.bin", b"\x00\x01", mode=0o600)
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.bin").stat().st_mode & 0o777 == 0o600


def test_full_disk_leaves_the_original_and_no_temp_file(tmp_path: Path) -> None:
    f = tmp_path / "narrative.md"
    original = "line\n" * 10_000
    f.write_text(original, encoding="utf-8")
    proc = run_with_file_size_limit(f"""
        from reviewkit.core.atomic import write_text
        from reviewkit.core.errors import FileWriteError
        try:
            write_text({str(f)!r}, "longer line\\n" * 20_000)
        except FileWriteError as exc:
            print(exc)
    """, limit=20_000, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"not enough disk space to write {f}; nothing was changed" in proc.stdout
    assert f.read_text(encoding="utf-8") == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["narrative.md"]


def test_unwritable_folder_is_a_plain_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        folder = tmp_path / "missing" / "deeper"  # root writes anywhere: use a missing folder
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
    with pytest.raises(FileWriteError, match="nothing was changed"):
        write_text(folder / "x.txt", "text")
    assert issubclass(FileWriteError, ReviewkitError)


def test_a_failing_writer_leaves_no_temp_file(tmp_path: Path) -> None:
    f = tmp_path / "out.csv"
    f.write_text("kept", encoding="utf-8")

    def broken(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise ValueError("the writer failed")

    with pytest.raises(ValueError):
        write_atomic(f, broken)
    assert f.read_text(encoding="utf-8") == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
