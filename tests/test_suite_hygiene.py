"""The suite's own settings: repeatable on CI, never timed by the clock, and it says where its time goes.

A test that sleeps a fixed time and then looks is either slow or, on a machine busy with other
work, wrong; a Hypothesis deadline failed that way once. So waits poll real state (see
``tests/helpers.wait_for``), Hypothesis has no deadline and is derandomised on CI, and
``make test`` (what CI runs) ends with the 20 slowest tests.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest
from hypothesis import settings

from .conftest import hypothesis_profile

ROOT = Path(__file__).resolve().parent.parent


def test_hypothesis_has_no_deadline_and_is_derandomised_on_ci(request: pytest.FixtureRequest) -> None:
    assert hypothesis_profile({"CI": "true"}) == hypothesis_profile({"CI": "1"}) == "ci"
    assert hypothesis_profile({}) == hypothesis_profile({"CI": "false"}) == hypothesis_profile({"CI": ""}) == "dev"
    ci, dev = settings.get_profile("ci"), settings.get_profile("dev")
    assert ci.derandomize and ci.database is None and ci.deadline is None
    assert dev.deadline is None
    if not request.config.getoption("hypothesis_profile"):  # unless chosen on the command line
        assert settings.default.deadline is None
        assert settings.default.derandomize == (hypothesis_profile(os.environ) == "ci")


def _fixed_sleeps(path: Path) -> list[str]:
    """Each sleep not inside a while loop: a wait for a fixed time rather than for a state."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    polled = {id(n) for loop in ast.walk(tree) if isinstance(loop, ast.While) for n in ast.walk(loop)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in polled:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "sleep":
                out.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return out


def test_no_test_sleeps_a_fixed_time() -> None:
    found = [hit for path in sorted((ROOT / "tests").rglob("*.py")) for hit in _fixed_sleeps(path)]
    assert found == [], "wait for the state instead, with tests/helpers.wait_for"


def test_make_test_prints_the_20_slowest_tests() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    assert "pytest" in recipe.group(1) and "--durations=20" in recipe.group(1)
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")  # the README's command
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("make test")  # and CI's
