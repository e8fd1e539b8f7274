"""What a visiting reviewer's server allows: the code-free forms, and nothing else.

Loaded by a visiting reviewer's single-user server (see ``reviewkit.team.auth``). JupyterLab,
the terminal and the file browser are switched off there, and three layers keep the rest shut:

- ``FormsOnlyAuthorizer`` (``ServerApp.authorizer_class``) allows the REST resources the forms'
  page uses, its kernel's model and websocket, and refuses every other (contents and files,
  config, kernelspecs, sessions, nbconvert, terminals, shutting the server down…);
- this module, loaded as a server extension, answers 404 for any address that is not the forms'
  (Voila's page and its assets, the kernel's model and websocket, the hub's sign-in callback),
  including Voila's own file list and file server, which do not ask the authorizer;
- ``PlainErrorsConnection`` (``ServerApp.kernel_websocket_connection_class``) turns any error the
  kernel sends to the page (a traceback, text written to stderr) into one plain line, so a crafted
  widget message learns nothing about the server (paths, code, versions).

The kernel connection passes only the widget messages the forms need, never a request to run code.
"""

from __future__ import annotations

import re
from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from tornado import web
from tornado.routing import PathMatches, Rule

# What the forms' page sends to its kernel: widget traffic and the kernel's hello, no code.
WIDGET_MESSAGES = ["comm_open", "comm_msg", "comm_close", "comm_info_request", "kernel_info_request"]
# The REST resources and actions the forms' page uses: its kernel's model (read) and websocket (execute).
ALLOWED = {("kernels", "read"), ("kernels", "execute")}
_KERNEL = r"api/kernels/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The addresses under a visitor's server the forms need; every other answers 404.
FORM_PATHS = (r"$", r"oauth_callback$", r"logout$", r"voila/render/", r"voila/static/", r"voila/templates/",
              r"voila/labextensions/", r"voila/api/shutdown/", r"voila/api/themes/", r"static/",
              _KERNEL + r"(?:/channels)?$")
PLAIN_ERROR = ("The form could not do that. Reload the page; if it happens again, tell the host PSW "
               "(the details are in the review hub's log).\n")


class FormsOnlyAuthorizer(Authorizer):
    """Let the signed-in visiting reviewer use the forms' kernel and nothing else of the server's API."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        if (resource, action) in ALLOWED:
            return True
        self.log.info("refused %s on %s for a visiting reviewer", action, resource)
        return False


class _NotHere(web.RequestHandler):
    """Every address outside the forms: 404, whatever the method."""

    def prepare(self) -> None:
        raise web.HTTPError(404)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "reviewkit.team.forms"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Put a rule before every other handler: outside the forms' addresses, nothing answers."""
    web_app = serverapp.web_app
    base = re.escape(web_app.settings.get("base_url", "/"))
    pattern = base + r"(?!" + "|".join(FORM_PATHS) + r").*"
    rule = Rule(PathMatches(pattern), _NotHere)
    web_app.default_router.rules.insert(0, rule)
    serverapp.log.info("reviewkit: a visiting reviewer's server answers the forms' addresses only")


def plain_content(msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """A kernel message's content with any error or stream text replaced by one plain line."""
    if msg_type == "stream":
        return {**content, "text": PLAIN_ERROR}
    if msg_type == "error" or content.get("status") == "error":
        return {**content, "ename": "Error", "evalue": PLAIN_ERROR.strip(), "traceback": [PLAIN_ERROR.strip()]}
    return content


class PlainErrorsConnection(ZMQChannelsWebsocketConnection):
    """The forms' kernel websocket, with errors and stderr shown to a visitor as one plain line."""

    def handle_outgoing_message(self, stream: str, outgoing_msg: list[Any]) -> None:
        idents, parts = self.session.feed_identities(outgoing_msg)
        try:
            header = self.session.unpack(parts[1])
            msg_type = str(header.get("msg_type", ""))
        except Exception:  # noqa: BLE001 - not a message this can read: pass it on untouched
            msg_type = ""
        if msg_type in ("stream", "error") or msg_type.endswith("_reply"):
            content = self.session.unpack(parts[4])  # read only: the signature is checked once, below or after
            cleaned = plain_content(msg_type, content)
            if cleaned is not content:
                msg = self.session.deserialize(parts)  # checks the kernel's signature
                msg["content"] = cleaned
                outgoing_msg = list(idents) + self.session.serialize(msg)  # signed again, as the kernel would
                self.log.info("a kernel's %s message to a visiting reviewer's page was replaced by a plain line",
                              msg_type)
        super().handle_outgoing_message(stream, outgoing_msg)
