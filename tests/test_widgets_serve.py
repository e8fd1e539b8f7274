"""Planning the code-free server: checks before anything starts, loopback only, values via env."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.core.errors import InvalidInputError, WorkspaceError
from reviewkit.team import serve

pytestmark = pytest.mark.enable_socket  # planning binds a loopback socket to find or check the port


def test_the_plan_serves_the_form_on_loopback_with_sources_stripped(ws, tmp_path: Path) -> None:
    p = serve.plan(ws.path, "a. visitor", form="rate", port=None, history_dir=tmp_path / "hist")
    assert p.notebook.name == "rate_case_records.ipynb" and p.notebook.exists()
    assert "--Voila.ip=127.0.0.1" in p.argv and "--strip_sources=True" in p.argv
    assert "--show_tracebacks=False" in p.argv and "--no-browser" in p.argv
    assert p.env["REVIEWKIT_WORKSPACE"] == str(ws.path.resolve())
    assert p.env["REVIEWKIT_REVIEWER"] == "A. Visitor"  # spelled as review.yaml spells it
    assert p.env["IPYTHONDIR"] == str(tmp_path / "hist")
    assert p.env["JUPYTER_PATH"].split(os.pathsep)[0].endswith(os.path.join("share", "jupyter"))
    assert p.url == f"http://127.0.0.1:{p.port}/?token={p.token}" and len(p.token) >= 24
    assert p.env["JUPYTER_TOKEN"] == p.token and not any(p.token in a for a in p.argv)  # never on a command line
    assert "--template=reviewkit" in p.argv  # Voila's page without its CDN link


@pytest.mark.parametrize("form,notebook", [("meeting", "record_meeting.ipynb"),
                                           ("conversation", "record_conversation.ipynb"),
                                           ("progress", "review_progress.ipynb"),
                                           ("calibrate", "calibration.ipynb")])
def test_each_form_has_its_notebook(ws, form: str, notebook: str) -> None:
    reviewer = "" if form == "progress" else "B. Visitor"
    assert serve.plan(ws.path, reviewer, form=form, port=None).notebook.name == notebook


def test_bad_requests_fail_before_anything_starts(ws, tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no such workspace folder"):
        serve.plan(tmp_path / "missing", "A. Visitor")
    with pytest.raises(InvalidInputError, match="is not a reviewer of this review"):
        serve.plan(ws.path, "Z. Nobody")
    with pytest.raises(InvalidInputError, match="No reviewer name was given"):
        serve.plan(ws.path, "", form="meeting")
    with pytest.raises(InvalidInputError, match="form must be one of rate, meeting, conversation, progress, host"):
        serve.plan(ws.path, "A. Visitor", form="report")
    with pytest.raises(InvalidInputError, match="port must be a number from 1024 to 65535"):
        serve.plan(ws.path, "A. Visitor", port=80)


def test_a_port_in_use_is_refused_with_the_fix(ws) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        taken = s.getsockname()[1]
        with pytest.raises(serve.ServeError, match=f"port {taken} is already in use"):
            serve.plan(ws.path, "A. Visitor", port=taken)


def test_the_cli_serve_command_reports_errors_plainly(ws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", str(ws.path), "--reviewer", "Z. Nobody"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 'Z. Nobody' is not a reviewer") and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "-h"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and "--form {rate,meeting,conversation,progress,host,calibrate,audit}" in out and "--no-browser" in out


def test_no_browser_is_started_without_a_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    # A text browser would otherwise take over the terminal the server prints to.
    assert serve.open_in_browser("http://127.0.0.1:1/") is False
