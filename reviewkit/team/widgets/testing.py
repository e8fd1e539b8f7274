"""Make a widget callback error fail a test instead of vanishing into a log.

ipywidgets catches exceptions raised in ``on_click`` callbacks and only logs them (on the
traitlets logger, or through IPython), and the forms' own guard shows them in the form and
logs them on ``reviewkit.team.widgets``. ``CallbackErrorTrap`` listens to both loggers and to
each form's ``unexpected`` list; ``check()`` raises if anything went wrong.
"""

from __future__ import annotations

import logging
from typing import Any

WATCHED = ("reviewkit", "traitlets", "ipywidgets")


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class CallbackErrorTrap:
    """Collect callback errors from the loggers and the forms; ``check()`` fails on any."""

    def __init__(self) -> None:
        self.handler = _Collector()
        self.forms: list[Any] = []
        self._levels: dict[str, int] = {}

    def __enter__(self) -> CallbackErrorTrap:
        for name in WATCHED:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            if logger.level == logging.NOTSET or logger.level > logging.WARNING:
                logger.setLevel(logging.WARNING)
            logger.addHandler(self.handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in WATCHED:
            logger = logging.getLogger(name)
            logger.removeHandler(self.handler)
            logger.setLevel(self._levels.get(name, logging.NOTSET))

    def watch(self, form: Any) -> Any:
        """Also fail on errors the form's guard caught; returns the form for chaining."""
        self.forms.append(form)
        return form

    def problems(self) -> list[str]:
        """Every callback error seen so far, as safe one-line descriptions."""
        found = [f"{r.name}: {r.getMessage().splitlines()[0]}" for r in self.handler.records
                 if r.levelno >= logging.WARNING and ("callback" in r.getMessage().lower() or r.levelno >= logging.ERROR)]
        for form in self.forms:
            found += [f"{type(form).__name__}: unexpected {name}" for name in getattr(form, "unexpected", [])]
        return found

    def check(self) -> None:
        """Raise AssertionError if any callback failed."""
        problems = self.problems()
        if problems:
            raise AssertionError("widget callback error(s):\n" + "\n".join(problems))
