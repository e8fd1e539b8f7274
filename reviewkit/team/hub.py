"""Run the review for a team: JupyterHub on a machine in the host council's network.

``reviewkit hub WORKSPACE`` starts JupyterHub (and its proxy, configurable-http-proxy) for one
review workspace on local disk. Each team member signs in with the login ``review.yaml``
gives them; visiting reviewers land on the code-free rating form, the host on the host
console. ``--write-config DIR`` instead writes a ``jupyterhub_config.py`` (mode 0600: it
may hold an OAuth client secret), systemd units and an nginx site (``reviewkit.team.deploy``)
that the council's IT can run as a service themselves.

The hub's database, cookie secret and everyone's server files live in one private temp
folder (0700) that is removed when the hub stops: on Ctrl+C, ``kill`` or the terminal
closing, the hub, the proxy, every person's server and every kernel are stopped first. If
``reviewkit hub`` itself is killed (SIGKILL, out of memory), a guard does the same within
seconds (see ``reviewkit.core.lifecycle``).
With the offline sign-in, the password hashes and the first sign-in codes' hashes (see
``hubcodes``) are kept in the workspace's ``private/`` folder, so they survive a restart and
``reviewkit hub-codes`` can add codes while the hub runs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reviewkit.core.atomic import make_folder
from reviewkit.core.errors import HubError, InvalidInputError
from reviewkit.core.forkserver import FORK_SOCKET, FORK_STARTING
from reviewkit.core.lifecycle import private_dir, remove_dir, start_detached, stop_tree, supervise, write_private
from reviewkit.review.workspace import open_workspace
from reviewkit.team import deploy
from reviewkit.team.codes import CODES_FILE, MIN_PASSWORD, PASSWORDS_FILE
from reviewkit.team.serve import _port_taken, free_port
from reviewkit.team.signin import LAST_GOOD_FILE, RATE_SERVICE

SIGN_IN = ("passwords", "entra")
DEFAULT_PORT = 8000
DEFAULT_HUB_PORT = 8081  # the hub's own port, on 127.0.0.1 (JupyterHub's default)
DEFAULT_PROXY_API_PORT = 8001  # the proxy's API, on 127.0.0.1 (configurable-http-proxy's default)
DEFAULT_FORMS_PORT = 8082  # the rating service (reviewkit.team.rateservice), on 127.0.0.1
CONFIG_FILE = "jupyterhub_config.py"
ENTRA_SECRET_ENV = "REVIEWKIT_ENTRA_CLIENT_SECRET"
FIRST_TIME = ("First time here? Type the login and the first sign-in code the host gave you, and choose a "
              f"password of at least {MIN_PASSWORD} characters: it becomes yours.")
TEMPLATES = Path(__file__).resolve().parent / "hub_templates"
PROXY_NOT_YET = (404, 502, 503, 504)  # what the proxy answers while the hub is still starting
PROXY_ENV = "REVIEWKIT_PROXY"  # where configurable-http-proxy is, when not in the usual places
# What the fork server imports once, so that each person's server and each form's kernel start at once.
PRELOAD = ("jupyter_server.serverapp", "jupyterhub.singleuser", "voila.server_extension", "jupyterlab_server",
           "ipykernel.kernelapp", "ipykernel.ipkernel", "ipywidgets", "pandas", "reviewkit.team.widgets",
           "reviewkit.team.kernels", "reviewkit.team.forms")



@dataclass(frozen=True)
class Entra:
    """The Microsoft Entra ID app registration the council's IT made for the hub."""

    tenant_id: str
    client_id: str
    client_secret: str
    public_url: str  # the address people open, e.g. https://review.eastvale.gov.uk

    @property
    def callback_url(self) -> str:
        return self.public_url.rstrip("/") + "/hub/oauth_callback"


@dataclass
class HubPlan:
    """Everything needed to start the hub; starts nothing."""

    workspace: Path
    ip: str
    port: int
    sign_in: str = "passwords"
    entra: Entra | None = None
    hub_port: int = 0
    proxy_api_port: int = 0
    forms_port: int = 0
    state: Path | None = None  # the private folder start() makes; removed by stop()
    env: dict[str, str] = field(default_factory=dict)
    forker: subprocess.Popen[bytes] | None = None  # the fork server start() runs beside the hub

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.ip in ("", "0.0.0.0") else self.ip  # noqa: S104 - the address to probe
        return f"http://{host}:{self.port}/"


def find_proxy() -> str:
    """configurable-http-proxy from the project's set-up (next to this Python), the environment or PATH."""
    candidates = [os.environ.get(PROXY_ENV, ""),
                  str(Path(sys.prefix) / "node_modules" / ".bin" / "configurable-http-proxy"),
                  shutil.which("configurable-http-proxy") or ""]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    raise HubError("configurable-http-proxy is not installed: run scripts/setup.sh (it installs it with npm), "
                   f"or set {PROXY_ENV} to its path")


def _check_hub_installed() -> None:
    if importlib.util.find_spec("jupyterhub") is None:
        raise HubError("JupyterHub is not installed: pip install 'reviewkit[hub]' (or run scripts/setup.sh)")


def entra_from(tenant_id: str, client_id: str, public_url: str, secret: str | None = None) -> Entra:
    """Entra ID settings; the client secret comes from the environment, never the command line."""
    secret = secret if secret is not None else os.environ.get(ENTRA_SECRET_ENV, "")
    missing = [name for name, value in (("--entra-tenant", tenant_id), ("--entra-client-id", client_id),
                                        ("--public-url", public_url), (ENTRA_SECRET_ENV, secret)) if not value]
    if missing:
        raise InvalidInputError(f"Microsoft Entra ID sign-in needs {', '.join(missing)} (the client secret goes in "
                                f"the environment variable {ENTRA_SECRET_ENV}, never on the command line)")
    if not public_url.startswith(("https://", "http://")):
        raise InvalidInputError("--public-url must be the address people open, e.g. https://review.eastvale.gov.uk")
    return Entra(tenant_id, client_id, secret, public_url)


def plan(workspace: str | Path, *, port: int | None = None, ip: str = "127.0.0.1", sign_in: str = "passwords",
         entra: Entra | None = None, check_port: bool = True, hub_port: int = 0, proxy_api_port: int = 0,
         forms_port: int = 0) -> HubPlan:
    """Check the workspace, team logins and port before anything starts."""
    if sign_in not in SIGN_IN:
        raise InvalidInputError(f"--sign-in must be one of {', '.join(SIGN_IN)}")
    if sign_in == "entra" and entra is None:
        raise InvalidInputError("Microsoft Entra ID sign-in needs --entra-tenant, --entra-client-id and --public-url")
    ws = open_workspace(workspace)
    if not any(m.login for m in ws.meta.team):
        raise HubError(f"{ws.path / 'review.yaml'}: no team member has a 'login' yet; add each person's sign-in "
                       "(e.g. login: a.visitor@northshire.gov.uk) to the team, then start the hub")
    if port is None:
        port = free_port()
    elif not 1024 <= port <= 65535:
        raise InvalidInputError("port must be a number from 1024 to 65535, e.g. --port 8000")
    elif check_port and _port_taken(port, ip if ip not in ("", "0.0.0.0") else "127.0.0.1"):  # noqa: S104
        raise HubError(f"port {port} is already in use on this computer; choose another with --port")
    for option, value in (("--hub-port", hub_port), ("--proxy-api-port", proxy_api_port),
                          ("--forms-port", forms_port)):
        if value and not 1024 <= value <= 65535:
            raise InvalidInputError(f"{option} must be a number from 1024 to 65535")
    ports = [port, hub_port or DEFAULT_HUB_PORT, proxy_api_port or DEFAULT_PROXY_API_PORT,
             forms_port or DEFAULT_FORMS_PORT]
    if not check_port and len(set(ports)) < 4:  # a written config's fixed ports (a running hub picks free ones)
        raise InvalidInputError("--port, --hub-port, --proxy-api-port and --forms-port must be four different ports")
    return HubPlan(ws.path.resolve(), ip, port, sign_in, entra, hub_port, proxy_api_port, forms_port)


def config_text(p: HubPlan, state: Path, proxy: str, *, fork_service: bool = False) -> str:
    """The hub's configuration as Python for ``jupyterhub -f``; every value is written with repr().

    With ``fork_service`` (a configuration IT runs as a service) the hub starts the fork server
    itself, as a managed service; ``reviewkit hub`` starts it beside the hub instead.
    """
    ws = p.workspace
    lines = [
        "# JupyterHub configuration for a reviewkit practice review, written by 'reviewkit hub'.",
        "# It may hold an OAuth client secret: keep it readable only by the hub's user (mode 0600).",
        "c = get_config()  # noqa: F821 - provided by JupyterHub",
        f"c.JupyterHub.ip = {p.ip!r}",
        f"c.JupyterHub.port = {p.port!r}",
        "c.JupyterHub.hub_ip = '127.0.0.1'",
        f"c.JupyterHub.hub_port = {p.hub_port or DEFAULT_HUB_PORT!r}",
        f"c.JupyterHub.db_url = {'sqlite:///' + str(state / 'jupyterhub.sqlite')!r}",
        f"c.JupyterHub.cookie_secret_file = {str(state / 'jupyterhub_cookie_secret')!r}",
        f"c.JupyterHub.pid_file = {str(state / 'jupyterhub.pid')!r}",
        "c.JupyterHub.cleanup_servers = True  # stopping the hub stops everyone's server",
        "c.JupyterHub.cleanup_proxy = True",
        f"c.ConfigurableHTTPProxy.command = [{proxy!r}]",
        f"c.ConfigurableHTTPProxy.api_url = {f'http://127.0.0.1:{p.proxy_api_port or DEFAULT_PROXY_API_PORT}'!r}",
        f"c.ConfigurableHTTPProxy.pid_file = {str(state / 'proxy.pid')!r}",
        "c.JupyterHub.spawner_class = 'reviewkit.team.auth.ReviewSpawner'",
        f"c.ReviewSpawner.workspace = {str(ws)!r}",
        f"c.ReviewSpawner.state_dir = {str(state)!r}",
        f"c.Spawner.cmd = [{sys.executable!r}, '-m', 'jupyterhub.singleuser']",
        "c.Spawner.start_timeout = 180",
        "c.Spawner.http_timeout = 180",
        f"c.JupyterHub.template_paths = [{str(TEMPLATES)!r}]  # sign-in and error pages with AA contrast",
        "# Visiting reviewers land on the rating service's page; the host on the host console (their server).",
        "from reviewkit.team.auth import landing, quick_hub_db  # noqa: E402",
        "quick_hub_db()  # the hub's own small commits do not each wait for the disk",
        "c.JupyterHub.default_url = landing",
        "c.JupyterHub.implicit_spawn_seconds = 1  # a bookmarked form starts its person's server by itself",
    ]
    rate = [sys.executable, "-m", "reviewkit.team.rateservice", str(ws), str(state / LAST_GOOD_FILE)]
    services = [{"name": RATE_SERVICE, "url": f"http://127.0.0.1:{p.forms_port or DEFAULT_FORMS_PORT}",
                 "command": rate, "cwd": str(state), "oauth_no_confirm": True, "environment": {"TMPDIR": str(state)}}]
    lines += [
        "# The rating service: one process serves every reviewer's rating form as a plain page (no server or",
        "# kernel per person); it knows who is rating from the hub's sign-in. Everyone on the team may open it.",
        "c.JupyterHub.load_roles = [{'name': 'user', 'scopes': ['self', " + repr(f"access:services!service={RATE_SERVICE}")
        + "]}]",
    ]
    if fork_service:
        fork = [sys.executable, "-m", "reviewkit.core.forkserver", str(state / FORK_SOCKET), *PRELOAD]
        services.append({"name": "reviewkit-forms", "command": fork, "cwd": str(state)})
        lines += [
            "# The fork server: it imports the forms once, and each person's server and kernels start as forks of it",
            "# (in a fraction of a second, sharing its memory). The hub starts and stops it with itself.",
        ]
    lines.append(f"c.JupyterHub.services = {services!r}")
    if p.sign_in == "entra":
        assert p.entra is not None
        e = p.entra
        lines += [
            "# Microsoft Entra ID (Azure AD): the app registration's redirect URI must be the callback URL below.",
            "c.JupyterHub.authenticator_class = 'reviewkit.team.auth.ReviewTeamEntraAuthenticator'",
            f"c.ReviewTeamEntraAuthenticator.workspace = {str(ws)!r}",
            f"c.ReviewTeamEntraAuthenticator.last_good_file = {str(state / LAST_GOOD_FILE)!r}",
            f"c.ReviewTeamEntraAuthenticator.tenant_id = {e.tenant_id!r}",
            f"c.ReviewTeamEntraAuthenticator.client_id = {e.client_id!r}",
            f"c.ReviewTeamEntraAuthenticator.client_secret = {e.client_secret!r}",
            f"c.ReviewTeamEntraAuthenticator.oauth_callback_url = {e.callback_url!r}",
            "c.ReviewTeamEntraAuthenticator.username_claim = 'preferred_username'  # the council email address",
            "c.ReviewTeamEntraAuthenticator.scope = ['openid', 'email', 'profile']",
        ]
    else:
        lines += [
            "# Offline sign-in: each team member sets a password the first time they sign in, with the one-time",
            "# first sign-in code the host made for them ('reviewkit hub-codes'). Only hashes are kept (mode 0600).",
            "c.JupyterHub.authenticator_class = 'reviewkit.team.auth.ReviewTeamAuthenticator'",
            f"c.JupyterHub.template_vars = {{'announcement_login': {FIRST_TIME!r}}}",
            f"c.ReviewTeamAuthenticator.workspace = {str(ws)!r}",
            f"c.ReviewTeamAuthenticator.last_good_file = {str(state / LAST_GOOD_FILE)!r}",
            f"c.ReviewTeamAuthenticator.password_file = {str(ws / PASSWORDS_FILE)!r}",
            f"c.ReviewTeamAuthenticator.codes_file = {str(ws / CODES_FILE)!r}",
        ]
    return "\n".join(lines) + "\n"


def write_config(p: HubPlan, out_dir: str | Path, *, force: bool = False, user: str = "reviewkit",
                 public_url: str = "", tls_cert: str = deploy.DEFAULT_CERT, tls_key: str = deploy.DEFAULT_KEY,
                 backup_keep: int = 14) -> list[Path]:
    """Write what IT needs to run the hub as a service: jupyterhub_config.py, systemd units and an nginx site.

    Every file is 0600 (the config may hold a client secret). A folder made here is 0700; an
    existing one keeps its mode. Existing files are replaced only with ``force``. The hub keeps
    its own state (database, cookie secret, people's server files) in that folder.
    """
    out = make_folder(Path(out_dir).resolve(), exist_ok=True)
    d = deploy.Deployment(out, p.workspace, p.ip, p.port, public_url or (p.entra.public_url if p.entra else ""),
                          user, tls_cert, tls_key, backup_keep)
    d.public  # noqa: B018 - checks the address before anything is written
    config = out / CONFIG_FILE
    files = {config: config_text(p, out, find_proxy(), fork_service=True), out / deploy.HUB_UNIT: deploy.hub_service(d, config),
             out / deploy.BACKUP_UNIT: deploy.backup_service(d), out / deploy.BACKUP_TIMER: deploy.backup_timer(d),
             out / deploy.NGINX_SITE: deploy.nginx_site(d)}
    return deploy.write_files(files, force=force)


def start(p: HubPlan) -> subprocess.Popen[bytes]:
    """Start the hub in a session of its own, its state in a new private folder."""
    _check_hub_installed()
    proxy = find_proxy()
    p.state = private_dir("reviewkit-hub-")
    p.hub_port = free_port()
    p.proxy_api_port = free_port()
    p.forms_port = free_port()
    config = write_private(p.state / CONFIG_FILE, config_text(p, p.state, proxy))
    env = dict(os.environ)
    for var in ("JUPYTERHUB_USER", "REVIEWKIT_REVIEWER", "JUPYTER_TOKEN", "CONFIGPROXY_AUTH_TOKEN"):
        env.pop(var, None)
    env.update({"PYTHONUNBUFFERED": "1", "TMPDIR": str(p.state)})
    p.env = env
    write_private(p.state / FORK_STARTING, "")
    p.forker = start_detached([sys.executable, "-m", "reviewkit.core.forkserver", str(p.state / FORK_SOCKET),
                               *PRELOAD], env, cwd=p.state, guard_folder=p.state)
    return start_detached([sys.executable, "-m", "jupyterhub", "-f", str(config)], env, cwd=p.state,
                          guard_folder=p.state)


def wait_ready(p: HubPlan, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """Wait until the hub answers through its proxy, or raise if it stopped or took too long."""
    deadline = time.monotonic() + timeout
    probe = p.url + "hub/health"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HubError(f"the hub stopped while starting (exit code {proc.returncode}); see the messages above")
        try:
            with urllib.request.urlopen(probe, timeout=2):  # noqa: S310 - this machine's own hub
                return
        except urllib.error.HTTPError as e:
            # The proxy answers before the hub does: 404 until it has the hub's route, 503 while the
            # hub is not listening yet. Saying "ready" then sends people to an error page.
            if e.code not in PROXY_NOT_YET:
                return
            time.sleep(0.3)
        except OSError:
            time.sleep(0.3)
    raise HubError(f"the hub did not answer within {timeout:.0f} seconds")


def stop(proc: subprocess.Popen[bytes], p: HubPlan, timeout: float = 30.0) -> int:
    """Stop the hub, which stops the proxy and everyone's server; sweep up; remove the private folder."""
    try:
        return stop_tree(proc, timeout)
    finally:
        if p.forker is not None:  # after the hub: it stops everyone's server first
            stop_tree(p.forker, timeout)
            p.forker = None
        remove_dir(p.state)
        p.state = None


def run(p: HubPlan, on_ready: Callable[[str], None] | None = None) -> int:
    """Run the hub until it exits or a stop signal arrives; everything it started stops with it."""
    return supervise(lambda: start(p), lambda proc: wait_ready(p, proc), lambda proc: stop(proc, p),
                     None if on_ready is None else lambda: on_ready(p.url))
