"""The house's rooms stay as drawn in docs/architecture.md: layers, no cycles, small modules, one CLI.

import-linter holds the layers (pyproject.toml's contracts); the rest are read from the source
itself, so a change that breaks them fails here, named.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import reviewkit

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reviewkit"
MAX_LINES = 650  # "no module over about 600 lines"
STAGES = ("core", "privacy", "figures", "review", "intake", "report", "region", "team")
# The public API: a notebook or a script needs these, and they stay exactly as they are.
PUBLIC = ["AuditTool", "RatingInput", "ReviewkitError", "Store", "Workspace", "__version__", "create_workspace",
          "export", "import_files", "load_tool", "open_workspace", "readiness", "redact_workspace", "render_report",
          "scan_workspace"]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_public_api_is_pinned() -> None:
    assert reviewkit.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(reviewkit, name) is not None


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), imports inside functions included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_cycle() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    graph = grimp.build_graph("reviewkit", exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_a_deferred_import_says_it_is_for_start_up_time() -> None:
    """An import inside a function hides a dependency; it is kept only to keep start-up light."""
    unexplained = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    # the import's own lines, the imports grouped above it and the comment over the group
                    top = node.lineno - 1
                    while top > 0 and lines[top - 1].strip().startswith(("from ", "import ")):
                        top -= 1
                    said = " ".join(lines[max(0, top - 1):node.end_lineno])
                    if "start-up" not in said:
                        unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert sorted(set(unexplained)) == []


def test_every_module_is_small_enough_to_read_whole() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_each_stage_says_what_comes_in_and_what_goes_out() -> None:
    for stage in STAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / stage / "__init__.py").read_text(encoding="utf-8"))) or ""
        assert "In:" in doc and "Out:" in doc, stage


def test_nothing_below_the_command_line_prints() -> None:
    """The library reports through return values, exceptions, logging and progress callbacks."""
    printing = []
    for path in _modules():
        if path.parent.name == "cli" or path.name in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert printing == []


def test_one_exception_module() -> None:
    defining = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and (b.id.endswith("Error") or b.id == "Exception") for b in node.bases):
                defining.add(str(path.relative_to(ROOT)))
    assert defining == {"reviewkit/core/errors.py"}


@pytest.mark.parametrize("stage", STAGES)
def test_the_architecture_page_names_each_stage(stage: str) -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"reviewkit.{stage}" in page


def test_the_picture_draws_the_layers_in_the_contracts_order() -> None:
    """docs/architecture.md's picture and pyproject.toml's layers contract say the same thing."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    picture = page[page.index("```"):page.index("```", page.index("```") + 3)]
    drawn = [line.split("reviewkit.")[1].split()[0] for line in picture.splitlines() if "reviewkit." in line]
    assert drawn == [name.removeprefix("reviewkit.") for name in layers]


def test_the_wheel_lists_every_subpackage() -> None:
    """A subpackage missing from pyproject.toml's list is missing from every install."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert packages <= listed
