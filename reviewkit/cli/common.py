"""What every command shares: saying a line, reporting progress, and who is acting.

In: a message, or a command's parsed arguments. Out: a line on stdout (progress on stderr), or
the name the audit log records: ``--as``, else the login name.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any


def _say(message: str) -> None:
    print(message, flush=True)


def _progress(message: str) -> None:
    """Progress lines for long operations go to stderr so stdout stays clean."""
    print(f"  … {message}", file=sys.stderr, flush=True)


def _actor(args: argparse.Namespace) -> str:
    """Who is acting, for the audit log: --as, else the login name."""
    if getattr(args, "as_", None):
        return str(args.as_)
    try:
        return getpass.getuser()
    except Exception:  # no login name (e.g. a container): still record something honest
        return "unknown"


def _say_redacted(summary: Any, left: int, what: str = "piece(s) of text", hint: str = "") -> None:
    """What redaction changed, place by place, and how many findings are left."""
    if not summary.total:
        _say("Nothing to redact.")
    for where, n in summary.changed.items():
        _say(f"Redacted {n} {what} in {where}.")
    _say(f"{left} finding(s) left{hint if left else ''}.")
