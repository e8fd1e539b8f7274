"""reviewkit: run a regional peer practice review of adult social care.

The public API is the handful of names a notebook or script needs; everything else lives in
its stage's module (tools, workspace, store, io, analysis, charts, narrative, report, …).
Each name is imported when first used, so ``reviewkit --help`` and the light commands do
not pay for pandas, papermill and nbconvert.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from .errors import ReviewkitError
from .readiness import readiness  # light; and eager, or importing the module of the same name would hide it

if _typing.TYPE_CHECKING:
    from .io import export, import_files
    from .redaction import redact_workspace, scan_workspace
    from .report import render_report
    from .store import RatingInput, Store
    from .tools import AuditTool, load_tool
    from .workspace import Workspace, create_workspace, open_workspace

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
    "AuditTool": ".tools", "load_tool": ".tools",
    "RatingInput": ".store", "Store": ".store",
    "Workspace": ".workspace", "create_workspace": ".workspace", "open_workspace": ".workspace",
    "export": ".io", "import_files": ".io",
    "redact_workspace": ".redaction", "scan_workspace": ".redaction",
    "render_report": ".report",
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
