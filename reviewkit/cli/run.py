"""Running the command line: parse argv, run the command, and turn what happens into an exit code.

In: argv. Out: the exit code (0 success, 1 a user error with a clear message and no
traceback, 2 a usage error, 128 + N when stopped by signal N), with the library's notes on
stderr. Stops cleanly on SIGTERM and SIGHUP, so temporary folders are removed.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from reviewkit.cli.parser import build_parser
from reviewkit.core.errors import ImportFileError, ReviewkitError


class _Stopped(KeyboardInterrupt):
    """The command was asked to stop (SIGTERM, SIGHUP): unwind so temporary folders are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_HANDLER_PID: list[int] = []


def _stop(signum: int, _frame: object) -> None:
    if _HANDLER_PID and os.getpid() != _HANDLER_PID[0]:
        # A worker forked from this command inherited the handler: end it quietly; the command
        # itself unwinds and reports the stop once.
        os._exit(128 + signum)
    from reviewkit.report.staging import (
        end_child_processes,  # start-up: the render pipeline, needed only once a signal comes
    )

    signal.signal(signum, signal.SIG_IGN)  # one stop is enough; a second would cut the clean-up short
    logging.disable(logging.CRITICAL)  # threads still waiting on the processes ended here may log it
    end_child_processes()
    raise _Stopped(signum)


def _stop_on_signals() -> dict[int, Any]:
    """Stop cleanly on SIGTERM and SIGHUP; returns the handlers replaced, to put back afterwards."""
    replaced: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return replaced
    _HANDLER_PID[:] = [os.getpid()]
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            replaced[signum] = signal.signal(signum, _stop)
    return replaced


class _NoteHandler(logging.Handler):
    """What the library reports through logging (a workspace made private, say), as a line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr, flush=True)


def _show_library_notes() -> None:
    log = logging.getLogger("reviewkit")
    if not any(isinstance(h, _NoteHandler) for h in log.handlers):
        log.addHandler(_NoteHandler(logging.WARNING))


class _PlainNotes(logging.Handler):
    """Notices that a workspace was upgraded for this version, as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr, flush=True)


def _show_notices() -> None:
    logger = logging.getLogger("reviewkit.review.migrations")
    if not any(isinstance(h, _PlainNotes) for h in logger.handlers):
        logger.addHandler(_PlainNotes(logging.INFO))
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_notices()
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    _show_library_notes()
    replaced = _stop_on_signals()
    try:
        return int(args.handler(args))
    except ImportFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ReviewkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _Stopped as exc:
        logging.disable(logging.NOTSET)
        print(f"stopped ({signal.Signals(exc.signum).name}); nothing more was written", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)
