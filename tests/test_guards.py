"""The test suite's own guards hold: loopback only, in tests and in every process they start.

pytest-socket refuses connections off this machine (see test_no_network.py), but its
``enable_socket`` marker lifts every restriction, and it cannot see into subprocesses. Here:
a test with that marker still reaches only loopback; a Python subprocess (as every command-line
run is) and a Jupyter kernel started by a test are kept on loopback too; and the canary tests
fail, not skip, where Chromium is missing.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_socket

ROOT = Path(__file__).resolve().parent.parent
_TRY = textwrap.dedent("""
    import socket, sys
    for host in ("127.0.0.2", "192.0.2.1", "::1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((host, 9))
            print(host, "connected")
        except PermissionError as exc:
            print(host, "blocked:", exc)
        except OSError as exc:
            print(host, "allowed, then", type(exc).__name__)
        finally:
            s.close()
""")


def _outcomes(text: str) -> dict[str, str]:
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in text.strip().splitlines()}


@pytest.mark.enable_socket
def test_a_test_marked_to_allow_sockets_still_reaches_only_this_machine() -> None:
    with pytest.raises(pytest_socket.SocketConnectBlockedError), pytest.warns(UserWarning, match="127.0.0.2"):
        socket.create_connection(("127.0.0.2", 9), timeout=1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            server.accept()[0].close()


def test_a_python_subprocess_of_a_test_reaches_only_this_machine() -> None:
    done = subprocess.run([sys.executable, "-c", _TRY], capture_output=True, text=True, timeout=60, check=True)
    seen = _outcomes(done.stdout)
    assert seen["127.0.0.2"].startswith("blocked:") and seen["192.0.2.1"].startswith("blocked:")
    assert "only" in seen["127.0.0.2"]
    assert not seen["::1"].startswith("blocked")  # loopback is allowed (nothing listens on port 9)


@pytest.mark.slow
def test_a_jupyter_kernel_started_by_a_test_reaches_only_this_machine() -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        printed: list[str] = []
        kc.execute_interactive(_TRY, timeout=60, output_hook=lambda msg: printed.append(
            msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
        seen = _outcomes("".join(printed))
        assert seen["127.0.0.2"].startswith("blocked:") and seen["192.0.2.1"].startswith("blocked:")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.slow
def test_the_canary_tests_fail_rather_than_skip_without_chromium(tmp_path: Path) -> None:
    env = {**os.environ, "REVIEWKIT_CHROMIUM": str(tmp_path / "no-chromium-here")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                           str(ROOT / "tests" / "test_canary.py")], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=600, check=False)
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode != 0, summary
    assert "skipped" not in summary and ("error" in summary or "failed" in summary), summary
    assert "Chromium is not installed" in done.stdout
