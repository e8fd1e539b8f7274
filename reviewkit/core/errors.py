"""The one exception tree of reviewkit.

Every error a user can cause is a ``ReviewkitError``; the CLI prints its message and exits 1
without a traceback. Messages name the file, row, column and the fix, and never carry a
value a person typed (it could be personal data).

    ReviewkitError
    ├── ConfigError             a YAML file (audit tool, codebook, review.yaml) is invalid
    │   ├── ToolError           an audit tool or rating scale
    │   ├── CodebookError       a theme codebook for notes, quotes and conversations
    │   ├── WorkspaceError      a workspace folder or its review.yaml
    │   └── ProgrammeError      an in-house audit programme folder or its programme.yaml
    ├── StoreError              the SQLite store
    │   ├── UnsafeLocationError synced or network folder
    │   └── ConflictError       a record changed elsewhere since it was read
    ├── InvalidInputError       a value a person entered breaks a rule
    │   ├── BlockedTextError    free text holds a personal identifier
    │   ├── WarningTextError    free text may hold one: confirm to save
    │   ├── ImportFileError     one or more problems in an imported file
    │   └── CalibrationPendingError  case ratings before the reviewer has rated the calibration records
    ├── FileWriteError          a file could not be written (full disk, no permission)
    ├── AccessError             the signed-in person may not do this (hub logins and roles)
    ├── RenderError             a report could not be rendered
    │   └── NotReadyError       a final report while data or narrative is still missing
    ├── RegionalError           a regional bundle or comparison
    ├── ServeError              the local form server could not start
    ├── HubError                the review hub could not be set up or started
    └── MigrationError          a workspace could not be upgraded to this version
        └── NewerVersionError   a workspace written by a newer reviewkit (left untouched)

Two signals are not errors a user sees: ``Stopped`` (a stop signal arrived while the kit waits
for its child processes) and ``LimitReached`` (a workbook holds more rows or cells than any
review, raised and caught while it is read).
"""

from __future__ import annotations

from dataclasses import dataclass


class ReviewkitError(Exception):
    """Root of every error a user can cause; its message is safe to show."""


class ConfigError(ReviewkitError):
    """A configuration file is missing or invalid."""


class ToolError(ConfigError):
    """An audit tool or rating scale file is invalid."""


class CodebookError(ConfigError):
    """A theme codebook file is invalid, or a code is not in it."""


class WorkspaceError(ConfigError):
    """A review workspace or its review.yaml is missing or invalid."""


class ProgrammeError(ConfigError):
    """An in-house audit programme folder or its programme.yaml is missing or invalid."""


class NarrativeFieldError(WorkspaceError):
    """A narrative file names a field ({{ … }}) the review does not have; the message names the nearest."""


class StoreError(ReviewkitError):
    """The review store cannot be opened or written."""


class UnsafeLocationError(StoreError):
    """The store would sit in a synced or network folder, which corrupts SQLite."""


class ConflictError(StoreError):
    """The record changed elsewhere (another tab or process) since it was read."""


class InvalidInputError(ReviewkitError):
    """A value entered by a person breaks a rule of the review."""


@dataclass(frozen=True)
class TextFinding:
    """Where screening found a possible identifier: kind, level and position, never the value."""

    kind: str
    level: str  # "block" or "warn"
    start: int
    end: int


class BlockedTextError(InvalidInputError):
    """Free text holds a personal identifier and must not be stored."""

    def __init__(self, message: str, findings: tuple[TextFinding, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


class WarningTextError(InvalidInputError):
    """Free text may hold a personal identifier; saving needs explicit confirmation."""

    def __init__(self, message: str, findings: tuple[TextFinding, ...] = ()) -> None:
        super().__init__(message)
        self.findings = findings


@dataclass(frozen=True)
class Problem:
    """One problem in an input file, located without quoting the cell's value."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


class ImportFileError(InvalidInputError):
    """An import found problems; nothing from it was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  … and {more} more" if more > 0 else ""
        super().__init__(
            f"Nothing was imported: {len(self.problems)} problem(s) found.\n{shown}{tail}"
        )


class FileWriteError(ReviewkitError):
    """A file could not be written (full disk, no permission); the old file is untouched."""


class CalibrationPendingError(InvalidInputError):
    """A reviewer's case ratings while the review's calibration records are not all rated by them."""


class AccessError(ReviewkitError):
    """The signed-in person may not do this: an unknown login, or another reviewer's work."""


class RenderError(ReviewkitError):
    """A report could not be rendered; nothing was written."""


class NotReadyError(RenderError):
    """A final report was asked for while the review still has gaps; ``gaps`` lists each one."""

    def __init__(self, message: str, gaps: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.gaps = gaps


class RegionalError(ReviewkitError):
    """A regional bundle is invalid or bundles cannot be compared."""


class MigrationError(ReviewkitError):
    """A workspace from an older version could not be upgraded; the failed step was undone."""


class NewerVersionError(MigrationError):
    """The workspace was written by a newer reviewkit; it is refused and left untouched."""


class ServeError(ReviewkitError):
    """The form server could not start."""


class HubError(ReviewkitError):
    """The review hub could not be set up or started."""


class Stopped(Exception):
    """A stop signal arrived: leave the wait and clean up (``signum`` says which)."""

    def __init__(self, signum: int) -> None:
        import signal  # start-up: only a stopped wait needs the signal names

        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class TooManyRows(Exception):
    """A sheet has more rows than any review holds (a file made to exhaust memory, or the wrong file)."""


class TooManyCells(Exception):
    """A workbook has more cells than any review holds, counting the blanks openpyxl pads rows with."""
