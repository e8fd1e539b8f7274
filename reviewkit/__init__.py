"""reviewkit: run a regional peer practice review of adult social care.

The public API is the handful of names a notebook or script needs; everything else lives in
its stage's subpackage (core, privacy, figures, review, intake, report, region, team; see
docs/architecture.md).
Each name is imported when first used, so ``reviewkit --help`` and the light commands do
not pay for pandas, papermill and nbconvert.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from reviewkit.core.errors import ReviewkitError
from reviewkit.review.readiness import (
    readiness,  # light; and eager, or importing the module of the same name would hide it
)

if _typing.TYPE_CHECKING:
    from reviewkit.core.tools import AuditTool, load_tool
    from reviewkit.intake.io import export, import_files
    from reviewkit.report.render import render_report
    from reviewkit.review.ratings import RatingInput
    from reviewkit.review.redaction import redact_workspace, scan_workspace
    from reviewkit.review.store import Store
    from reviewkit.review.workspace import Workspace, create_workspace, open_workspace

__version__ = "0.1.0"

__all__ = [
    "AuditTool",
    "RatingInput",
    "ReviewkitError",
    "Store",
    "Workspace",
    "__version__",
    "create_workspace",
    "export",
    "import_files",
    "load_tool",
    "open_workspace",
    "readiness",
    "redact_workspace",
    "render_report",
    "scan_workspace",
]

_WHERE = {
    "AuditTool": ".core.tools", "load_tool": ".core.tools",
    "RatingInput": ".review.ratings", "Store": ".review.store",
    "Workspace": ".review.workspace", "create_workspace": ".review.workspace", "open_workspace": ".review.workspace",
    "export": ".intake.io", "import_files": ".intake.io",
    "redact_workspace": ".review.redaction", "scan_workspace": ".review.redaction",
    "render_report": ".report.render",
}


def __getattr__(name: str) -> _typing.Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'reviewkit' has no attribute '{name}'")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
