"""Test settings that keep every test off the home directory and the network, and Hypothesis's profile."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_SANDBOX = Path(tempfile.mkdtemp(prefix="reviewkit-tests-"))

# Hypothesis never times an example: a deadline flaked on a machine busy with other work, and
# the tests that care about speed measure it themselves. On CI (`make test` with CI=true) the
# examples are derandomised too, so a run is repeatable and a failure reproduces from its log,
# no example database is written, and a slow generator is not an error (as in Hypothesis's
# own CI profile, which older versions lack). Registered here, before any test module is
# imported, so every @settings(...) inherits the profile; --hypothesis-profile still overrides.
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])


def hypothesis_profile(environ: Mapping[str, str]) -> str:
    """'ci' where the CI variable is set (to anything but false, no or 0), else 'dev'."""
    return "dev" if environ.get("CI", "").strip().lower() in ("", "0", "false", "no") else "ci"


settings.load_profile(hypothesis_profile(os.environ))


def pytest_configure(config: pytest.Config) -> None:
    # Kernels, matplotlib, Jupyter and Chromium all write under $HOME unless told otherwise;
    # point them at a throwaway folder (subprocesses inherit it).
    home = _SANDBOX / "home"
    home.mkdir(parents=True, exist_ok=True)  # again after an earlier in-process run removed it (mutmut)
    for var, sub in (("HOME", "home"), ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl"),
                     ("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"),
                     ("JUPYTER_DATA_DIR", "jupyter-data"), ("XDG_CACHE_HOME", "cache"),
                     ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data")):
        path = _SANDBOX / sub
        path.mkdir(exist_ok=True)
        os.environ[var] = str(path)
    os.environ["MPLBACKEND"] = "Agg"
    # Every Python process a test starts (CLI runs, kernels, Voila) may connect to loopback only.
    guard = str(Path(__file__).resolve().parent / "netguard")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (guard, os.environ.get("PYTHONPATH", "")) if p)
    os.environ["REVIEWKIT_TEST_NETGUARD"] = "1"
    os.environ["PYTHONHASHSEED"] = os.environ.get("PYTHONHASHSEED", "0")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SANDBOX, ignore_errors=True)


@pytest.fixture
def sandbox() -> Path:
    """The session's throwaway home folder."""
    return _SANDBOX


@pytest.fixture
def ws(tmp_path: Path):
    """A workspace with cases C01–C08 allocated (see make_workspace in tests/helpers.py)."""
    from .helpers import make_workspace

    return make_workspace(tmp_path / "ws")


@pytest.fixture
def trap():
    """Fails the test on any widget callback error, logged by ipywidgets or caught by a form's guard."""
    from reviewkit.team.widgets.testing import CallbackErrorTrap

    with CallbackErrorTrap() as t:
        yield t
        t.check()


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``enable_socket`` (a server it starts, Playwright's pipes) gets loopback only.

    pytest-socket's marker lifts every restriction, so the allowed hosts are put back here,
    after it, with local socket files allowed.
    """
    if item.get_closest_marker("enable_socket"):
        import pytest_socket

        hosts = item.config.getoption("--allow-hosts")
        if hosts:
            pytest_socket.socket_allow_hosts(str(hosts).split(","), allow_unix_socket=True)
