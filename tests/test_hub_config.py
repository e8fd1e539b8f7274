"""The hub's configuration, checked without starting anything and without the network.

The generated ``jupyterhub_config.py`` is loaded by traitlets as JupyterHub loads it, and the
authenticator and spawner it names are built from it: the offline passwords (set at the first
sign-in with a one-time code) and the Microsoft Entra ID option (whose settings IT copies from
their app registration).
"""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest
from tornado import web
from traitlets.config.loader import PyFileConfigLoader

from reviewkit.cli import main
from reviewkit.core.errors import InvalidInputError
from reviewkit.team import hub

from .helpers import LOGINS, make_workspace, with_logins

pytestmark = pytest.mark.enable_socket  # planning binds a loopback socket to check the port

SECRET = "not-a-real-secret-0123456789"


@pytest.fixture
def team(tmp_path: Path):
    return with_logins(make_workspace(tmp_path / "ws"))


def load(path: Path):  # noqa: ANN201
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def test_a_workspace_without_logins_is_refused_before_anything_starts(ws) -> None:
    with pytest.raises(hub.HubError, match="no team member has a 'login' yet"):
        hub.plan(ws.path)


def test_entra_needs_its_settings_and_never_takes_the_secret_from_the_command_line(team, monkeypatch) -> None:
    monkeypatch.delenv(hub.ENTRA_SECRET_ENV, raising=False)
    with pytest.raises(InvalidInputError, match=f"needs {hub.ENTRA_SECRET_ENV}"):
        hub.entra_from("tenant", "client", "https://review.example.gov.uk")
    with pytest.raises(InvalidInputError, match="--entra-tenant"):
        hub.entra_from("", "client", "https://review.example.gov.uk", secret=SECRET)


def test_the_written_config_is_private_and_loads_the_passwords_sign_in(team, tmp_path: Path) -> None:
    out = hub.write_config(hub.plan(team.path, port=None), tmp_path / "it")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    c = load(out)
    assert c.JupyterHub.authenticator_class == "reviewkit.team.auth.ReviewTeamAuthenticator"
    assert c.JupyterHub.spawner_class == "reviewkit.team.auth.ReviewSpawner"
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.cleanup_servers is True
    assert c.ReviewTeamAuthenticator.password_file == str(team.path.resolve() / "private" / "hub_passwords.json")

    assert c.ReviewTeamAuthenticator.codes_file == str(team.path.resolve() / "private" / "hub_first_codes.json")

    from reviewkit.team.auth import ReviewTeamAuthenticator, check_password
    from reviewkit.team.codes import make_codes

    auth = ReviewTeamAuthenticator(config=c)
    code = make_codes(team, LOGINS["A. Visitor"])[0][LOGINS["A. Visitor"]]
    with pytest.raises(web.HTTPError):
        asyncio.run(auth.authenticate(None, {"username": LOGINS["A. Visitor"], "password": "short", "first_code": code}))
    first = {"username": LOGINS["A. Visitor"].upper(), "password": "a long first password", "first_code": code}
    assert asyncio.run(auth.authenticate(None, first)) == LOGINS["A. Visitor"]  # the first sign-in sets it
    with pytest.raises(web.HTTPError):
        asyncio.run(auth.authenticate(None, {**first, "password": "someone else's guess"}))
    stored = Path(c.ReviewTeamAuthenticator.password_file)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and "a long first password" not in stored.read_text()
    assert check_password("a long first password", json.loads(stored.read_text())[LOGINS["A. Visitor"]])
    with pytest.raises(web.HTTPError) as refused:
        asyncio.run(auth.authenticate(None, {"username": "someone@elsewhere.example", "password": "x" * 12}))
    # The same refusal as a wrong password: the page never tells a guesser which logins are on the team.
    assert refused.value.status_code == 403 and refused.value.log_message.startswith("Sign-in refused")


def test_the_entra_id_config_names_the_tenant_app_and_callback_and_admits_only_the_team(team, tmp_path: Path,
                                                                                       monkeypatch) -> None:
    monkeypatch.setenv(hub.ENTRA_SECRET_ENV, SECRET)
    assert main(["hub", str(team.path), "--write-config", str(tmp_path / "it"), "--sign-in", "entra",
                 "--entra-tenant", "11111111-2222-3333-4444-555555555555", "--entra-client-id", "abcdef",
                 "--public-url", "https://review.eastvale.example/", "--ip", "0.0.0.0", "--port", "8443"]) == 0
    out = tmp_path / "it" / "jupyterhub_config.py"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds the client secret
    c = load(out)
    assert c.JupyterHub.authenticator_class == "reviewkit.team.auth.ReviewTeamEntraAuthenticator"
    assert (c.JupyterHub.ip, c.JupyterHub.port) == ("0.0.0.0", 8443)

    from reviewkit.team import auth as hubauth

    auth = hubauth.ReviewTeamEntraAuthenticator(config=c)
    assert auth.tenant_id == "11111111-2222-3333-4444-555555555555" and auth.client_id == "abcdef"
    assert auth.client_secret == SECRET
    assert auth.oauth_callback_url == "https://review.eastvale.example/hub/oauth_callback"
    assert auth.authorize_url.startswith("https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/")
    assert auth.username_claim == "preferred_username"
    assert asyncio.run(auth.check_allowed(LOGINS["B. Visitor"], {})) is True
    with pytest.raises(web.HTTPError) as refused:
        asyncio.run(auth.check_allowed("someone@elsewhere.example", {}))
    assert refused.value.status_code == 403


def test_visitors_servers_run_the_forms_only_and_the_hosts_have_lab() -> None:
    from reviewkit.team.auth import server_config

    visitor, host = server_config(host=False), server_config(host=True)
    assert visitor["ServerApp"]["jpserver_extensions"]["jupyterlab"] is False
    assert visitor["ServerApp"]["terminals_enabled"] is False
    assert "execute_request" not in visitor["MappingKernelManager"]["allowed_message_types"]
    assert host["ServerApp"]["jpserver_extensions"]["jupyterlab"] is True
    for c in (visitor, host):
        assert c["MappingKernelManager"]["cull_idle_timeout"] > 0 and c["ServerApp"]["shutdown_no_activity_timeout"] > 0
        assert c["ServerApp"]["tornado_settings"] == {"mathjax_url": None, "mathjax_config": None}  # no CDN
