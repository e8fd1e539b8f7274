"""The wheel carries everything: installed by pip into a fresh virtual environment, reviewkit
builds the sample review, renders its report and writes a Word action plan from a folder that
is not the checkout.

Offline: the wheel is built without build isolation, and the fresh environment finds the
dependencies already installed for the tests (through a path file listing a folder of links
to them), so pip resolves them against the pinned constraints but fetches nothing. Only the
wheel's runtime dependencies and theirs are linked, none of the development or hub extras:
a package the kit imports but declares only for development is missing there, as it is for a
council's ``pip install``. Nothing of the checkout is importable there.
"""

from __future__ import annotations

import importlib.metadata
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
    # The package's own data files (the hub's page templates, the rating page's script): each is read at run time.
    tracked = subprocess.run(["git", "ls-files", "reviewkit"], cwd=ROOT, capture_output=True, text=True, check=True)
    data = {n for n in tracked.stdout.split() if not n.endswith(".py")}
    assert "reviewkit/team/ratepage.js" in data and data <= set(names), sorted(data - set(names))


def _runtime_closure(wheel: Path) -> set[str]:
    """The distributions a plain ``pip install`` of the wheel brings: its requirements without
    extras, and theirs (with the extras each asks for), as this environment has them installed."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        text = zf.read(meta).decode("utf-8")
    todo = [(line.removeprefix("Requires-Dist:").strip(), "") for line in text.splitlines()
            if line.startswith("Requires-Dist:")]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        line, extra = todo.pop()
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({**default_environment(), "extra": extra}):
            continue
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in importlib.metadata.distribution(req.name).requires or []:
            todo += [(line, e) for e in ("", *sorted(req.extras))]
    return {name for name, _ in seen}


def _fresh_venv(where: Path, wheel: Path) -> Path:
    """A new virtual environment whose only extra path is a folder of links to the installed
    files of the wheel's runtime dependencies (nothing of reviewkit, the tests or the extras)."""
    venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=True).create(where)
    python = where / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True, env=_env()).stdout.strip())
    deps = where.parent / "deps"
    deps.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for name in _runtime_closure(wheel):
        files = importlib.metadata.distribution(name).files
        assert files is not None, f"{name} was installed without a RECORD: reinstall it with pip"
        # Each package folder, module and .dist-info; not the shared __pycache__, nor files
        # installed outside site-packages (scripts, share/).
        for top in {f.parts[0] for f in files} - {"..", "__pycache__"}:
            if not (deps / top).exists() and not top.endswith(".pth"):
                (deps / top).symlink_to(ours / top)
    (site / "dependencies-of-the-test-environment.pth").write_text(f"{deps}\n", encoding="utf-8")
    # nbconvert finds its base templates under the environment's share/jupyter (no kernelspec:
    # the report must start the environment's own Python as its kernel).
    share = where / "share" / "jupyter"
    share.mkdir(parents=True)
    (share / "nbconvert").symlink_to(Path(sys.prefix) / "share" / "jupyter" / "nbconvert")
    return python


def test_an_installed_wheel_builds_the_sample_and_renders_its_report_from_any_folder(wheel: Path,
                                                                                      tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "fresh", wheel)
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "-q",
          "-c", str(ROOT / "constraints.txt"), str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = _run([str(python), "-c", "import reviewkit, sys; print(reviewkit.__file__); print(sys.path)"],
                 cwd=elsewhere)
    assert where.splitlines()[0].startswith(str(tmp_path / "fresh"))
    assert str(ROOT) not in where
    development = ("pytest", "hypothesis", "playwright", "textstat", "jupyterhub")  # the dev and hub extras (pypdf is a runtime need: the Contents page numbers)
    found = _run([str(python), "-c", f"import importlib.util as u; print([m for m in {development!r} "
                                     "if u.find_spec(m)])"], cwd=elsewhere)
    assert found.strip() == "[]"

    cli = str(tmp_path / "fresh" / "bin" / "reviewkit")
    _run([cli, "sample", "demo"], cwd=elsewhere)
    _run([cli, "report", "demo", "--to", "html,pdf,docx", "--out", "out"], cwd=elsewhere)
    html = (elsewhere / "out" / "report.html").read_text(encoding="utf-8")
    assert "Eastvale Borough Council" in html and "<script" not in html
    assert (elsewhere / "out" / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert zipfile.is_zipfile(elsewhere / "out" / "report.docx")
    _run([cli, "action-plan", "demo", "--out", "plan.docx"], cwd=elsewhere)  # python-docx, at run time
    assert zipfile.is_zipfile(elsewhere / "plan.docx")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["demo", "out", "plan.docx"]
