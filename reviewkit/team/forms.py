"""What a visiting reviewer's server allows: the code-free forms, and nothing that runs code.

Loaded by a visiting reviewer's single-user server (see ``reviewkit.team.auth``). JupyterLab,
the terminal and the file browser are switched off there; this authoriser also refuses the
REST calls behind them (writing files, starting kernels or terminals), and the kernel
connection passes only the widget messages the forms need, never a request to run code.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.authorizer import Authorizer

# What the forms' page sends to its kernel: widget traffic and the kernel's hello, no code.
WIDGET_MESSAGES = ["comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request"]
REFUSED = {("contents", "write"), ("kernels", "write"), ("sessions", "write"), ("terminals", "read"),
           ("terminals", "write"), ("terminals", "execute"), ("kernelspecs", "write")}


class FormsOnlyAuthorizer(Authorizer):
    """Let the signed-in reviewer use the forms and nothing that edits files or starts code."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if (resource, action) in REFUSED:
            self.log.info("refused %s on %s for a visiting reviewer", action, resource)
            return False
        return True
