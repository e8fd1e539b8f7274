"""What the code imports is what pyproject.toml declares, and what it declares is pinned.

A module that arrives only because another package happens to depend on it today (numpy
through pandas, traitlets through Jupyter) can vanish with that package's next release, and
a package declared only for development (python-docx, once) is missing from a plain
``pip install``, where ``reviewkit action-plan --out plan.docx`` then fails. So every
third-party import in reviewkit/ must be a runtime dependency, except in the review hub's
modules (reviewkit/team/hub.py, auth.py, codes.py, forms.py, rateservice.py), which may also use the ``[hub]`` extra; the tests may also use
the ``[dev]`` extra. Import names are mapped to distributions through the installed
packages' metadata (``importlib.metadata.packages_distributions``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# Runtime dependencies reviewkit runs without importing them, and why.
RUN_NOT_IMPORTED = {
    "ipykernel": "the notebooks' kernel, started as python -m ipykernel_launcher",
    "voila": "the forms' server, started as python -m voila",
    "jupyterlab": "the host's JupyterLab, in the review hub and beside the forms",
}


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised as pip compares names (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _declared(*extras: str) -> set[str]:
    names = {_name(r) for r in PROJECT["dependencies"]}
    for extra in extras:
        names |= {_name(r) for r in PROJECT["optional-dependencies"][extra]}
    return names


def _imports(path: Path) -> set[str]:
    """The top-level names of the absolute imports in a file (relative ones are reviewkit's own)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"reviewkit", "tests"}


def _undeclared(folder: str, allowed_for: dict[str, set[str]], default: set[str]) -> list[str]:
    """Each third-party import under `folder` whose distribution is not among those allowed there."""
    distributions = importlib.metadata.packages_distributions()
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        where = str(path.relative_to(ROOT))
        allowed = allowed_for.get(where, default)
        for module in sorted(_imports(path)):
            names = {_name(d) for d in distributions.get(module, [])}
            if not names:
                out.append(f"{where}: {module} (no installed distribution provides it)")
            elif not names & allowed:
                out.append(f"{where}: {module} (from {', '.join(sorted(names))}) is not declared for it")
    return out


def test_every_third_party_import_in_reviewkit_is_a_declared_dependency() -> None:
    hub_modules = {str(p.relative_to(ROOT)): _declared("hub")
                   for p in (ROOT / "reviewkit" / "team").glob("*.py") if p.stem in ("hub", "auth", "codes", "forms", "rateservice")}
    assert hub_modules  # the review hub's modules are where the [hub] extra may be imported
    assert _undeclared("reviewkit", hub_modules, _declared()) == []


def test_every_third_party_import_in_the_tests_is_declared_for_development() -> None:
    assert _undeclared("tests", {}, _declared("dev", "hub")) == []


def test_every_runtime_dependency_is_imported_or_run() -> None:
    """A runtime dependency nothing uses (playwright, once, which only the tests drive) is a
    download and an attack surface for every council that installs the kit."""
    imported = set().union(*(_imports(p) for p in (ROOT / "reviewkit").rglob("*.py")))
    used = {_name(d) for module, dists in importlib.metadata.packages_distributions().items()
            if module in imported for d in dists}
    assert sorted(_declared() - used - set(RUN_NOT_IMPORTED)) == []
    assert set(RUN_NOT_IMPORTED) <= _declared()


def test_every_declared_dependency_is_pinned_in_the_constraints() -> None:
    """scripts/setup.sh installs with -c constraints.txt: a declared package without a pin there
    would install whatever version is newest that day."""
    pins = {_name(line) for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")}
    assert sorted(_declared(*PROJECT["optional-dependencies"]) - pins) == []
