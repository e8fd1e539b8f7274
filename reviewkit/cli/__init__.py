"""The reviewkit command line: the only package that parses argv, prints or exits.

Each command parses its arguments, calls the library and prints what happened. Exit codes:
0 success, 1 a user error (a clear message, no traceback), 2 a usage error.

In: argv. Out: printed lines and an exit code. ``main`` (``reviewkit.cli.run``) is the
``reviewkit`` console script; ``build_parser`` (``reviewkit.cli.parser``) lists the commands,
whose code is in ``reviewkit.cli.commands``.
"""

from __future__ import annotations

from reviewkit.cli.parser import build_parser
from reviewkit.cli.run import main

__all__ = ["build_parser", "main"]
