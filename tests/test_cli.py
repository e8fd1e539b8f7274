"""The command line: thin, exit codes 0 / 1 / 2, no traceback for an expected error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewkit.cli import build_parser, main

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def run(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewkit", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "-h"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"reviewkit {command}" in out


def test_new_then_status_via_python_m(tmp_path):
    ws = tmp_path / "eastvale"
    done = run("new", str(ws), "--council", "Eastvale Borough Council", "--theme", "Strengths-based practice",
               "--tool", "strengths-based-practice", "--reviewer", "A. Visitor", "--reviewer", "H. Host")
    assert done.returncode == 0, done.stderr
    assert "Created review workspace" in done.stdout
    assert (ws / "review.yaml").exists()


def test_user_error_exits_1_without_traceback(tmp_path):
    done = run("status", str(tmp_path / "missing"))
    assert done.returncode == 1
    assert "error:" in done.stderr and "Traceback" not in done.stderr


def test_usage_error_exits_2(tmp_path):
    assert run("new", str(tmp_path / "x")).returncode == 2  # --council and --theme missing
    assert run().returncode == 2


def test_status_lists_progress_and_moderation_differences(tmp_path, capsys):
    from reviewkit.intake.sample import build_sample_workspace

    ws = build_sample_workspace(tmp_path / "ws")
    assert main(["status", str(ws.path)]) == 0
    out = capsys.readouterr().out
    assert "Case 1 of 5 · C01 · 12 of 12 questions rated" in out
    assert "Moderation: 4 question(s) rated differently by the reviewers of the same case:" in out
    assert "C13 q11 Management oversight — " in out and "(1 level apart)" in out
    assert "{" not in out  # no Python reprs for a PSW to decode
