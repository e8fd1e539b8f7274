"""No test and no render opens a network connection.

pytest-socket runs with ``--allow-hosts=127.0.0.1,::1,localhost`` (pyproject.toml): a test may
talk to a server it started on this machine, and nothing else. These tests prove the guard is
really on (a connection to another loopback address, 127.0.0.2, is refused before any packet
is sent; even with the guard off it would never leave the machine), and that the rendered
report loads nothing from the web: no script, style sheet or image from an http(s) address.
"""

from __future__ import annotations

import html
import re
import socket
import tomllib
from pathlib import Path

import pytest
import pytest_socket

from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.render import render_report

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"127.0.0.1", "::1", "localhost"}


def test_pytest_socket_is_configured_to_allow_only_this_machine(pytestconfig: pytest.Config) -> None:
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    configured = re.search(r"--allow-hosts=(\S+)", ini["addopts"])
    assert configured and set(configured.group(1).split(",")) == ALLOWED
    option = pytestconfig.getoption("--allow-hosts")
    assert option is not None, "run the tests with pytest-socket's --allow-hosts (see pyproject.toml)"
    assert set(str(option).split(",")) == ALLOWED
    assert not pytestconfig.getoption("--force-enable-socket")


def test_a_connection_to_another_address_is_refused_by_the_guard() -> None:
    with pytest.raises((pytest_socket.SocketConnectBlockedError, pytest_socket.SocketBlockedError)) as blocked, \
            pytest.warns(UserWarning, match="127.0.0.2"):
        socket.create_connection(("127.0.0.2", 9), timeout=1)
    assert isinstance(blocked.value, RuntimeError)  # the base of both of pytest-socket's errors
    assert "127.0.0.2" in str(blocked.value)


def test_a_connection_to_this_machine_is_allowed() -> None:
    """The guard tells the addresses apart: a server the test started on 127.0.0.1 is reachable."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            peer, _ = server.accept()
            with peer:
                client.sendall(b"ping")
                assert peer.recv(4) == b"ping"


_TAG = re.compile(r"<(script|link|img|iframe|source|embed|object|audio|video)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""\b(src|href|srcset|data|poster)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


@pytest.mark.slow
def test_the_rendered_sample_report_loads_nothing_from_the_web(tmp_path: Path) -> None:
    ws = build_sample_workspace(tmp_path / "eastvale")
    result = render_report(ws.path, tmp_path / "out", ("html",), use_cache=False)
    page = result["html"].read_text(encoding="utf-8")
    resources = [(m.group(1).lower(), html.unescape(a.group(3)).strip())
                 for m in _TAG.finditer(page) for a in _ATTR.finditer(m.group(2))]
    assert any(tag == "img" for tag, _ in resources)  # the charts: embedded, so found and checked
    remote = [(tag, url[:80]) for tag, url in resources if re.match(r"(?i)(https?:)?//", url)]
    assert remote == []
    styles = " ".join(re.findall(r"<style\b[^>]*>(.*?)</style>", page, re.DOTALL | re.IGNORECASE))
    assert not re.search(r"(?i)@import|url\(\s*['\"]?(https?:)?//", styles)
    # The sample's narrative links to no public site either.
    links = [html.unescape(u) for u in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', page)]
    assert [u for u in links if re.match(r"(?i)(https?:)?//", u)] == []
    assert all(u.startswith("#") for u in links), links
