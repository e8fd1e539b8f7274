"""The public API stays small, sorted and complete."""

from __future__ import annotations

import reviewkit
import reviewkit.team.widgets


def test_all_is_sorted_and_every_name_exists():
    for module in (reviewkit, reviewkit.team.widgets):
        assert module.__all__ == sorted(module.__all__)
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert missing == []


def test_public_names_are_exactly_all():
    public = {n for n in dir(reviewkit) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if type(getattr(reviewkit, n)).__name__ == "module"}
    assert public - modules == set(reviewkit.__all__) - {"__version__"}


def test_every_public_callable_has_a_docstring():
    for name in reviewkit.__all__:
        obj = getattr(reviewkit, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), name


def test_the_command_line_imports_little_until_a_command_needs_it():
    import subprocess
    import sys

    code = ("import sys, reviewkit.cli; reviewkit.cli.build_parser().format_help(); "
            "print(sorted(m for m in ('pandas', 'papermill', 'nbconvert', 'nbformat', 'jsonschema', 'matplotlib') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
