"""The review hub's sign-in and servers, loaded by JupyterHub from the generated configuration.

Who may sign in is read from the workspace's ``review.yaml`` at every sign-in, so a login
the host adds there works at once, without restarting the hub; while a typo breaks the file,
the last team that read correctly still signs in (``reviewkit.team.signin``). A login not on
the team gets the same refusal as a wrong password. Each person's server runs on this machine (so everyone reaches the
one workspace on local disk) with the workspace and the hub's user name in its environment:
the forms take the reviewer from that sign-in, never from a typed name.

Visiting reviewers get the code-free forms only (no JupyterLab, file browser, terminal or
code run from the page); the host gets the host console with JupyterLab one click away.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from jupyterhub.spawner import SimpleLocalProcessSpawner
from jupyterhub.utils import random_port
from tornado import web
from traitlets import HasTraits, Integer, Unicode, default

from reviewkit.core.errors import ReviewkitError
from reviewkit.core.forkserver import FORK_SOCKET, FORK_STARTING, FORKSERVER_ENV, spawn
from reviewkit.core.lifecycle import write_private
from reviewkit.core.resources import shipped
from reviewkit.review.reviewyaml import Member, normal_login
from reviewkit.review.workspace import LAST_GOOD_ENV, open_workspace
from reviewkit.team.codes import (
    CODES_FILE,
    MIN_PASSWORD,
    SignInFiles,
    check_password,
    dummy_hash,
    set_password_with_code,
)
from reviewkit.team.forms import WIDGET_MESSAGES
from reviewkit.team.kernels import MAX_KERNELS
from reviewkit.team.signin import LAST_GOOD_FILE, RATE_SERVICE, TeamReader, Throttle, client_address

NOTEBOOKS = shipped("notebooks")
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter"
VISITING_FORMS = ("rate_case_records.ipynb", "record_meeting.ipynb", "record_conversation.ipynb", "calibration.ipynb")
HOST_FORMS = ("host_console.ipynb", *VISITING_FORMS, "review_progress.ipynb")
NOT_ON_TEAM = ("This sign-in is not on the review team. If you are a reviewer, ask the host PSW to add your "
               "login to the team in review.yaml, then sign in again.")
REFUSED = ("Sign-in refused: check your login and password. The first time you sign in, also type the first "
           "sign-in code the host gave you; a code works once, and only until the date the host told you. "
           "If it still fails, ask the host to check your login is on the review team and to make you a new code.")
TOO_SHORT = (f"Passwords are at least {MIN_PASSWORD} characters long. The first time you sign in, choose one of "
             f"{MIN_PASSWORD} characters or more and type your first sign-in code too.")
PAUSED = "Too many refused sign-ins: wait {minutes} minutes and try again, or ask the host for help."
KERNEL_IDLE_SECONDS = 20 * 60
SERVER_IDLE_SECONDS = 60 * 60
HOST_KERNELS = MAX_KERNELS  # the host too: the console and one more page (a form, or a notebook in JupyterLab)
FORK_WAIT_SECONDS = 60  # how long a first sign-in waits for the fork server to finish importing


def team_member(workspace: str, login: str, last_good: str = "") -> Member | None:
    """The team member who signs in as `login`, read afresh from review.yaml (or its last good copy)."""
    try:
        return open_workspace(workspace, last_good=last_good or None).meta.member_for_login(login)
    except ReviewkitError:
        return None


class ReviewTeamMixin(HasTraits):
    """Only logins on the review team may sign in; the rest get a plain refusal."""

    workspace = Unicode("", config=True, help="The review workspace whose review.yaml lists the team's logins.")
    last_good_file = Unicode("", config=True, help="Where the hub keeps the last review.yaml that read correctly "
                                                   "(in its private folder), for when a typo breaks the file.")
    _team_reader: TeamReader | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.workspace:  # read the team now: the kept copy exists before anyone signs in
            self.team.read()

    @property
    def team(self) -> TeamReader:
        if self._team_reader is None:
            self._team_reader = TeamReader(self.workspace, self.last_good_file, self.log)
        return self._team_reader

    @default("allowed_users")
    def _team_logins(self) -> set[str]:
        """The team's logins when the hub starts: JupyterHub makes their accounts then, so that the first
        sign-in (often the whole team at once, in the opening meeting) does not wait on it (about 0.1 s
        of the hub's one thread each). Who may sign in is still decided by ``check_allowed``, against
        review.yaml as it is at that moment."""
        meta = self.team.read() if self.workspace else None
        return {m.login for m in meta.team if m.login} if meta is not None else set()

    def normalize_username(self, username: str) -> str:
        return normal_login(username)

    async def check_allowed(self, username: str, authentication: Any = None) -> bool:
        if self.team.member(username) is None:
            raise web.HTTPError(403, NOT_ON_TEAM)
        return True


class ReviewTeamAuthenticator(ReviewTeamMixin, Authenticator):
    """Offline sign-in for a small team: a password each, set at the first sign-in with a one-time code.

    The host makes the codes (``reviewkit hub-codes``) and gives each person theirs; the first
    sign-in needs the login, that code and the new password (10 characters or more), and uses
    the code up. Later sign-ins need the login and password only; a code typed then is ignored.
    Passwords and codes are kept only as salted scrypt hashes, in files only the hub's user can
    read. Every refusal says the same thing and costs the same single hash, whether the login is
    not on the team, the password is wrong or the code is, so nobody can find out which logins
    are on the team; refusals are logged without what was typed and throttled (``Throttle``).
    """

    password_file = Unicode("", config=True, help="Where the salted password hashes are kept (mode 0600).")
    codes_file = Unicode("", config=True, help="Where the first sign-in codes' salted hashes are kept (mode 0600); "
                                                "by default hub_first_codes.json beside the password file.")
    max_failures = Integer(10, config=True, help="Refused sign-ins in a row for one login from one address after "
                                                 "which that login is paused for that address.")
    max_address_failures = Integer(30, config=True, help="Refused sign-ins from one address, whatever the logins, "
                                                         "after which the address is paused.")
    max_login_failures = Integer(50, config=True, help="Refused sign-ins for one login from all addresses after "
                                                       "which the login is paused for everyone.")
    pause_seconds = Integer(300, config=True, help="How long a pause lasts; counts are forgotten after as long "
                                                   "without a refusal.")
    min_password_length = MIN_PASSWORD

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._throttle = Throttle(self.max_failures, self.max_address_failures, self.max_login_failures,
                                  self.pause_seconds)
        dummy_hash()  # made now, so that no refusal pays for making it

    @property
    def throttle(self) -> Throttle:
        """The refusal counts, with the limits as configured now."""
        t = self._throttle
        t.limits = {"pair": self.max_failures, "address": self.max_address_failures, "login": self.max_login_failures}
        t.pause = self.pause_seconds
        return t

    @property
    def files(self) -> SignInFiles:
        passwords = Path(self.password_file)
        codes = Path(self.codes_file) if self.codes_file else passwords.with_name(Path(CODES_FILE).name)
        return SignInFiles(passwords, codes)

    def _refuse(self, login: str, address: str, why: str, message: str = REFUSED) -> web.HTTPError:
        """Count and log a refusal (what was wrong, never what was typed); the error to raise."""
        for kind in self.throttle.refused(login, address):
            self.log.warning("sign-in paused for %d seconds: too many refusals %s", self.pause_seconds,
                             {"pair": "for one login from one address", "address": "from one address",
                              "login": "for one login from several addresses"}[kind])
        self.log.warning("sign-in refused%s", why if why.startswith(":") else " " + why)
        return web.HTTPError(403, message)

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        hashed = _hashing
        login = normal_login(data.get("username", ""))
        password = data.get("password", "")
        code = data.get("first_code", "")
        address = client_address(handler)
        paused = self.throttle.paused(login, address)
        if paused:
            self.log.warning("sign-in refused: paused after too many refusals (%s)", paused)
            raise web.HTTPError(429, PAUSED.format(minutes=max(1, round(self.pause_seconds / 60))))
        if len(password) < self.min_password_length:  # no password, old or new, is shorter: this reveals nothing
            raise self._refuse(login, address, ": password too short", TOO_SHORT)
        member = self.team.member(login)
        files = self.files
        stored = files.read_passwords().get(login)
        # The hashing runs off the hub's event loop (scrypt lets other threads run meanwhile): eight
        # people signing in at once would otherwise wait in turn, and so would every page the hub serves.
        if member is None:
            await hashed(check_password, password, dummy_hash())  # as long as a wrong password takes
            raise self._refuse(login, address, ": not a login on the review team")
        if stored is not None:
            if not await hashed(check_password, password, stored):
                raise self._refuse(login, address, "for a team login: wrong password")
        elif not await hashed(set_password_with_code, files, login, code, password):
            raise self._refuse(login, address, "for a team login: first sign-in with a wrong, expired or used code"
                               if code.strip() else "for a team login: first sign-in without a code")
        else:
            self.log.info("first sign-in: a team login set its password; its code is used up")
        self.throttle.succeeded(login, address)
        return login

    async def check_allowed(self, username: str, authentication: Any = None) -> bool:
        # authenticate() has refused logins not on the team, with the same page as a wrong password.
        if self.team.member(username) is None:
            raise web.HTTPError(403, REFUSED)
        return True


# One thread per core for the password hashes, first come first served: with more threads than cores,
# eight people signing in together all hash at once and all finish late; in turn, the first finish first.
HASHERS = ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0)) or 1, thread_name_prefix="reviewkit-hash")


async def _hashing(fn: Any, *args: Any) -> Any:
    """Run one sign-in's hashing off the hub's event loop, in the hashing threads' queue."""
    return await asyncio.get_running_loop().run_in_executor(HASHERS, fn, *args)


def __getattr__(name: str) -> Any:
    """ReviewTeamEntraAuthenticator, made only when asked for: oauthenticator is needed for Entra ID alone."""
    if name != "ReviewTeamEntraAuthenticator":
        raise AttributeError(name)
    from oauthenticator.azuread import AzureAdOAuthenticator  # start-up: oauthenticator loads only when this runs

    class ReviewTeamEntraAuthenticator(ReviewTeamMixin, AzureAdOAuthenticator):
        """Council staff sign in with Microsoft 365; only logins on the review team are let in."""

    globals()[name] = ReviewTeamEntraAuthenticator
    return ReviewTeamEntraAuthenticator


class ReviewSpawner(SimpleLocalProcessSpawner):
    """Each person's server on this machine, as this machine's user, with the forms their role allows."""

    workspace = Unicode("", config=True, help="The review workspace every server works on.")
    state_dir = Unicode("", config=True, help="The hub's private folder; each person's server files go under it.")

    @default("home_dir")
    def _short_home_dir(self) -> str:
        # Short on purpose: kernels talk over socket files under this folder, and a socket's path
        # may not exceed about 100 characters (a long email login would break report rendering).
        key = hashlib.sha256(self.user.name.encode()).hexdigest()[:12]
        return str(Path(self.state_dir) / "u" / key)

    @property
    def last_good(self) -> str:
        return str(Path(self.state_dir) / LAST_GOOD_FILE) if self.state_dir else ""

    def _member(self) -> Member:
        member = team_member(self.workspace, self.user.name, self.last_good)
        if member is None:
            raise web.HTTPError(403, NOT_ON_TEAM)
        return member

    def _prepare_home(self, role: str) -> Path:
        home = Path(self.home_dir)
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        forms = home / "forms"
        if forms.exists():
            shutil.rmtree(forms)
        forms.mkdir(mode=0o700)
        for name in HOST_FORMS if role == "host" else VISITING_FORMS:
            shutil.copyfile(NOTEBOOKS / name, forms / name)
        return forms

    async def start(self) -> Any:
        member = self._member()
        host = member.role == "host"
        forms = self._prepare_home(member.role)
        self.notebook_dir = str(forms)
        first = first_form(host)
        self.default_url = f"/voila/render/{first}"
        config_dir = Path(self.home_dir) / "config"
        config_dir.mkdir(exist_ok=True, mode=0o700)
        write_private(config_dir / "jupyter_server_config.json", json.dumps(server_config(host), indent=1))
        sock = self._fork_socket()
        if sock is None:
            return await super().start()
        return await self._fork(sock)

    def _fork_socket(self) -> Path | None:
        sock = Path(self.state_dir) / FORK_SOCKET if self.state_dir else None
        return sock if sock is not None and (sock.exists() or (Path(self.state_dir) / FORK_STARTING).exists()) else None

    async def _fork(self, sock: Path) -> Any:
        """Start the server as a fork of the fork server: no seconds of imports, and shared memory."""
        deadline = time.monotonic() + FORK_WAIT_SECONDS
        while not sock.exists() and time.monotonic() < deadline:  # the hub has just started
            await asyncio.sleep(0.1)
        if self.port == 0:
            self.port = random_port()
        cmd = [*self.cmd, *self.get_args()]
        try:
            proc = await asyncio.to_thread(spawn, sock, cmd, self.get_env(), self.home_dir)
        except OSError as e:
            self.log.warning("fork server unavailable (%s); starting the server as usual", e)
            return await super().start()
        self.proc = None  # not the hub's child: polled and stopped by its process number
        self.pid = proc.pid
        self.log.info("started %s's server as process %d (forked)", self.user.name, proc.pid)
        return (self.ip or "127.0.0.1", self.port)

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        home = Path(self.home_dir)
        ours = str(Path(sys.prefix) / "share" / "jupyter")
        env.update({
            "REVIEWKIT_WORKSPACE": str(Path(self.workspace).resolve()),
            "JUPYTER_PATH": os.pathsep.join([ours, str(JUPYTER_DATA)]),
            "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "MPLCONFIGDIR": str(home / "mpl"),
            "TMPDIR": str(home),
            "PYTHONUNBUFFERED": "1",
        })
        if self.state_dir:
            env[FORKSERVER_ENV] = str(Path(self.state_dir) / FORK_SOCKET)
        env.pop("REVIEWKIT_REVIEWER", None)  # the sign-in decides who is rating
        if self.last_good:  # the forms keep working with the last good review.yaml while it has a typo
            env[LAST_GOOD_ENV] = self.last_good
        return env


def quick_hub_db() -> None:
    """JupyterHub's own database (its users, sessions and tokens) in WAL mode with normal syncing.

    Why: by default each of the hub's many small commits waits for the disk (several fsyncs) on the
    hub's one thread; over a capacity run for eight (their sign-ins, again with passwords, and the
    host's) those waits added up to 2.0 s, and to 0.03 s with this.
    WAL with normal syncing survives a killed hub intact (a power cut may lose the last sign-ins,
    which only means signing in again). Call from the hub's configuration, before it starts.
    """
    import sqlite3  # start-up: only the hub's configuration calls this

    from sqlalchemy import event  # start-up: the hub has already loaded SQLAlchemy
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")


def landing(handler: Any) -> str:
    """Where a signed-in person lands (JupyterHub's default_url): a visiting reviewer on the rating service's
    plain rating page, the host on its plain host console; neither needs a server of their own (anyone
    unknown goes where JupyterHub sends them)."""
    user = handler.current_user
    auth = handler.authenticator
    if user is None or not isinstance(auth, ReviewTeamMixin):
        return ""
    member = auth.team.member(user.name)
    if member is None:
        return ""
    return f"{handler.base_url.rstrip('/')}/services/{RATE_SERVICE}/{'host' if member.role == 'host' else ''}"


def first_form(host: bool) -> str:
    """The form a person lands on after signing in: the host console, or the rating form."""
    return "host_console.ipynb" if host else "rate_case_records.ipynb"


def server_config(host: bool) -> dict[str, Any]:
    """The single-user server's settings: Voila's code-free page, culling, and for visitors no Lab or code."""
    config: dict[str, Any] = {
        "ServerApp": {
            "jpserver_extensions": {"voila": True, "jupyterlab": host, "notebook": False, "jupyter_lsp": host,
                                    "jupyter_server_terminals": host, "notebook_shim": host},
            "shutdown_no_activity_timeout": SERVER_IDLE_SECONDS,
            # Everyone's server runs as the hub's own user; when that is root (a container), say so.
            "allow_root": os.geteuid() == 0,
            # No MathJax from a public CDN: the forms show no formulas (Voila's own server passes None too).
            "tornado_settings": {"mathjax_url": None, "mathjax_config": None},
            # At most two kernels a person, unconnected ones shut down soon, each forked ready-made.
            "kernel_manager_class": "reviewkit.team.kernels.FormsKernelManager",
        },
        "MappingKernelManager": {"cull_idle_timeout": KERNEL_IDLE_SECONDS, "cull_interval": 60,
                                 "cull_connected": False,
                                 "kernel_manager_class": "reviewkit.team.kernels.ForkedKernelManager"},
        # Nobody's server runs a form ahead: the host and the visitors land on the rating service's plain pages,
        # and a server starts only for another form (or, for the host, JupyterLab).
        "FormsKernelManager": {"max_kernels": HOST_KERNELS if host else MAX_KERNELS},
        "VoilaConfiguration": {"template": "reviewkit", "strip_sources": True, "show_tracebacks": False,
                               "theme": "light"},
    }
    if not host:
        config["ServerApp"].update({"terminals_enabled": False,
                                    "authorizer_class": "reviewkit.team.forms.FormsOnlyAuthorizer",
                                    "kernel_websocket_connection_class": "reviewkit.team.forms.PlainErrorsConnection"})
        config["ServerApp"]["jpserver_extensions"]["reviewkit.team.forms"] = True  # the forms' addresses only
        config["MappingKernelManager"]["allowed_message_types"] = WIDGET_MESSAGES
    return config
