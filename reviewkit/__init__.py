"""reviewkit: run a regional peer practice review of adult social care.

The public API is the handful of names a notebook or script needs; everything else lives in
its stage's module (tools, workspace, store, io, analysis, charts, narrative, report, …).
"""

from __future__ import annotations

from .errors import ReviewkitError
from .io import export, import_files
from .readiness import readiness
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
