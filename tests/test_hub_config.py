"""The hub's configuration, checked without starting anything and without the network.

The generated ``jupyterhub_config.py`` is loaded by traitlets as JupyterHub loads it, and the
authenticator and spawner it names are built from it: the offline passwords (set at the first
sign-in with a one-time code) and the Microsoft Entra ID option (whose settings IT copies from
their app registration).
"""

from __future__ import annotations

import asyncio
import json
import re
import stat
import sys
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
    out = hub.write_config(hub.plan(team.path, port=None), tmp_path / "it")[0]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and stat.S_IMODE(out.parent.stat().st_mode) == 0o700
    c = load(out)
    assert c.JupyterHub.authenticator_class == "reviewkit.team.auth.ReviewTeamAuthenticator"
    assert c.JupyterHub.spawner_class == "reviewkit.team.auth.ReviewSpawner"
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.cleanup_servers is True
    assert c.ReviewTeamAuthenticator.password_file == str(team.path.resolve() / "private" / "hub_passwords.json")

    assert c.ReviewTeamAuthenticator.codes_file == str(team.path.resolve() / "private" / "hub_first_codes.json")
    # The hub run as a service starts the fork server too, its socket in the hub's own folder.
    (fork,) = [s for s in c.JupyterHub.services if s["name"] == "reviewkit-forms"]
    assert fork["command"][1:3] == ["-m", "reviewkit.core.forkserver"]
    assert fork["command"][3] == str(out.parent / "fork.sock") == str(Path(c.ReviewSpawner.state_dir) / "fork.sock")

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
    # A visitor's server answers the forms' addresses only, and shows kernel errors as one plain line.
    assert visitor["ServerApp"]["jpserver_extensions"]["reviewkit.team.forms"] is True
    assert "reviewkit.team.forms" not in host["ServerApp"]["jpserver_extensions"]
    assert visitor["ServerApp"]["kernel_websocket_connection_class"].endswith("PlainErrorsConnection")
    # Everyone lands on the rating service's plain pages: a server (started for another form, or the host's Lab)
    # runs nothing ahead, so no kernel waits for a page never opened.
    assert "preheat_form" not in host["FormsKernelManager"] and "preheat_form" not in visitor["FormsKernelManager"]
    assert "reviewkit.team.kernels" not in host["ServerApp"]["jpserver_extensions"]
    for c in (visitor, host):
        assert c["MappingKernelManager"]["cull_idle_timeout"] > 0 and c["ServerApp"]["shutdown_no_activity_timeout"] > 0
        assert c["ServerApp"]["tornado_settings"] == {"mathjax_url": None, "mathjax_config": None}  # no CDN


def test_write_config_writes_the_service_timer_and_nginx_site_without_the_writers_path(team, tmp_path: Path,
                                                                                       monkeypatch, capsys) -> None:
    import os
    import shutil
    import subprocess

    monkeypatch.setenv("PATH", "/opt/someones-own-tools/bin:" + os.environ["PATH"])
    it = tmp_path / "srv"
    it.mkdir(mode=0o755)
    it.chmod(0o755)  # IT's folder, as they made it
    argv = ["hub", str(team.path), "--write-config", str(it), "--public-url", "https://review.eastvale.example",
            "--port", "8100", "--hub-port", "8181", "--proxy-api-port", "8101", "--forms-port", "8102",
            "--service-user", "psw-review"]
    assert main(argv) == 0
    said = capsys.readouterr().out
    names = ["jupyterhub_config.py", "reviewkit-hub.service", "reviewkit-backup.service", "reviewkit-backup.timer",
             "reviewkit-hub.nginx.conf"]
    assert sorted(p.name for p in it.iterdir()) == sorted(names)
    assert all(str(it / n) in said for n in names)
    assert stat.S_IMODE(it.stat().st_mode) == 0o755  # an existing folder keeps its mode
    assert {stat.S_IMODE((it / n).stat().st_mode) for n in names} == {0o600}
    config = (it / "jupyterhub_config.py").read_text()
    assert "someones-own-tools" not in config and "PATH" not in config  # the writer's PATH is not baked in
    c = load(it / "jupyterhub_config.py")
    assert (c.JupyterHub.ip, c.JupyterHub.port, c.JupyterHub.hub_port) == ("127.0.0.1", 8100, 8181)
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8101"
    assert c.ReviewSpawner.state_dir == str(it) and "environment" not in c.Spawner
    # The rating service runs beside the hub, on its own port, for everyone on the team; visitors land on it.
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert sorted(services) == ["reviewkit-forms", "reviewkit-rate"]
    rate = services["reviewkit-rate"]
    assert rate["url"] == "http://127.0.0.1:8102" and rate["oauth_no_confirm"] is True
    assert rate["command"][1:] == ["-m", "reviewkit.team.rateservice", str(team.path.resolve()),
                                   str(it / "review_last_good.yaml")]
    assert c.JupyterHub.load_roles == [{"name": "user", "scopes": ["self", "access:services!service=reviewkit-rate"]}]
    assert c.JupyterHub.default_url.__name__ == "landing"
    with pytest.raises(InvalidInputError, match="four different ports"):
        hub.plan(team.path, port=8100, check_port=False, forms_port=8100)

    unit = (it / "reviewkit-hub.service").read_text()
    for line in ("User=psw-review", "Restart=on-failure", "KillMode=control-group", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "PrivateTmp=yes", f"ReadWritePaths={it} {team.path.resolve()}",
                 f"ExecStart={sys.executable} -m jupyterhub -f {it / 'jupyterhub_config.py'}"):
        assert line in unit.splitlines(), line
    assert re.search(r"^ProtectHome=(yes|read-only)$", unit, re.M)
    backup = (it / "reviewkit-backup.service").read_text()
    assert f"ExecStart={sys.executable} -m reviewkit backup {team.path.resolve()} --keep 14" in backup
    assert "Type=oneshot" in backup and "OnCalendar=" in (it / "reviewkit-backup.timer").read_text()
    if shutil.which("systemd-analyze"):  # systemd's own check of the three units
        checked = subprocess.run(["systemd-analyze", "verify", *(str(it / n) for n in names[1:4])],
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0 and "Unknown" not in checked.stderr, checked.stderr
    site = (it / "reviewkit-hub.nginx.conf").read_text()
    for line in ("listen 443 ssl;", "server_name review.eastvale.example;", "proxy_pass http://127.0.0.1:8100;",
                 "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $reviewkit_connection_upgrade;",
                 "proxy_set_header X-Real-IP $remote_addr;", "return 301 https://$host$request_uri;"):
        assert line in [x.strip() for x in site.splitlines()], line

    # Written again: refused without --force, and nothing is changed; with --force, replaced.
    (it / "reviewkit-hub.service").write_text("# IT's own edits\n")
    assert main([*argv[:-2], "--service-user", "someone-else"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (it / "reviewkit-hub.service").read_text() == "# IT's own edits\n"
    assert "someone-else" not in (it / "reviewkit-backup.service").read_text()
    assert main([*argv, "--force"]) == 0 and "User=psw-review" in (it / "reviewkit-hub.service").read_text()
    assert main([*argv[:3], str(tmp_path / "x"), "--public-url", "http://plain.example"]) == 1
    assert not (tmp_path / "x" / "jupyterhub_config.py").exists()
