"""The wheel carries everything: installed by pip into a fresh virtual environment, reviewkit
builds the sample review and renders its report from a folder that is not the checkout.

Offline: the wheel is built without build isolation, and the fresh environment finds the
dependencies already installed for the tests (through a path file listing a copy of their
folder without reviewkit itself), so pip resolves them against the pinned constraints but
fetches nothing. Nothing of the checkout is importable there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("templates", "notebooks", "sample_data/eastvale-2026")
SKIP_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".cache",
                                     "demo", "reviews", "out", ".pytest_cache", ".hypothesis")

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """This process's environment without pip settings or a Python path that could reach the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{cmd[:4]} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _shipped_files() -> set[str]:
    """What the wheel must hold under reviewkit/shipped/: the data files, not the generator scripts."""
    return {str(p.relative_to(ROOT)) for folder in SHIPPED for p in (ROOT / folder).rglob("*")
            if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = Path(shutil.copytree(ROOT, tmp / "src", ignore=SKIP_SOURCE))  # the build writes beside its source
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (found,) = (tmp / "dist").glob("reviewkit-*.whl")
    return found


def test_the_wheel_holds_the_package_and_its_files_and_nothing_else(wheel: Path) -> None:
    from reviewkit import __version__

    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    stray = [n for n in names if not n.startswith(("reviewkit/", f"reviewkit-{__version__}.dist-info/"))]
    assert stray == []
    shipped = {n.removeprefix("reviewkit/shipped/") for n in names if n.startswith("reviewkit/shipped/")}
    assert _shipped_files() <= shipped
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "reviewkit").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= set(names)


def _fresh_venv(where: Path) -> Path:
    """A new virtual environment whose only extra path is a copy of the test environment's
    site-packages folder listing, minus reviewkit (an editable install of the checkout)."""
    venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=True).create(where)
    python = where / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True, env=_env()).stdout.strip())
    deps = where.parent / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in ours.iterdir():
        if entry.name.startswith(("reviewkit", "__editable__", "_reviewkit")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    (site / "dependencies-of-the-test-environment.pth").write_text(f"{deps}\n", encoding="utf-8")
    # nbconvert finds its base templates under the environment's share/jupyter (no kernelspec:
    # the report must start the environment's own Python as its kernel).
    share = where / "share" / "jupyter"
    share.mkdir(parents=True)
    (share / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    return python


def test_an_installed_wheel_builds_the_sample_and_renders_its_report_from_any_folder(wheel: Path,
                                                                                      tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "fresh")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "-q",
          "-c", str(ROOT / "constraints.txt"), str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([str(python), "-c", "import reviewkit, sys; print(reviewkit.__file__); print(sys.path)"],
                 cwd=elsewhere)
    assert where.splitlines()[0].startswith(str(tmp_path / "fresh"))
    assert str(ROOT) not in where

    cli = str(tmp_path / "fresh" / "bin" / "reviewkit")
    _run([cli, "sample", "demo"], cwd=elsewhere)
    _run([cli, "report", "demo", "--to", "html,pdf,docx", "--out", "out"], cwd=elsewhere)
    html = (elsewhere / "out" / "report.html").read_text(encoding="utf-8")
    assert "Eastvale Borough Council" in html and "<script" not in html
    assert (elsewhere / "out" / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert zipfile.is_zipfile(elsewhere / "out" / "report.docx")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["demo", "out"]
