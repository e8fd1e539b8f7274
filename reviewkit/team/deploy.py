"""The files council IT needs to run the review hub as a service behind HTTPS.

In: where the hub's configuration goes, the workspace, the address people open and the
machine's choices (service user, ports, TLS certificate). Out: the text of a systemd unit for
the hub (a dedicated user, restarted on failure, the whole process tree stopped with it, the
usual hardening), a daily backup service and timer (``reviewkit backup``), and an nginx site
(Debian's nginx) that terminates TLS and passes websocket upgrades to the hub on 127.0.0.1.
``write_files`` writes them, refusing to overwrite a file unless told to. Nothing here starts,
installs or enables anything: the README's team section lists IT's steps.
"""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reviewkit.core.atomic import write_text
from reviewkit.core.errors import HubError, InvalidInputError

__all__ = ["HUB_UNIT", "BACKUP_UNIT", "BACKUP_TIMER", "NGINX_SITE", "Deployment", "backup_service",
           "backup_timer", "hub_service", "nginx_site", "write_files"]

HUB_UNIT = "reviewkit-hub.service"
BACKUP_UNIT = "reviewkit-backup.service"
BACKUP_TIMER = "reviewkit-backup.timer"
NGINX_SITE = "reviewkit-hub.nginx.conf"
DEFAULT_CERT = "/etc/ssl/certs/reviewkit-hub.pem"
DEFAULT_KEY = "/etc/ssl/private/reviewkit-hub.key"
_HIDDEN_BY_PROTECT_HOME = ("/home", "/root", "/run/user")


@dataclass(frozen=True)
class Deployment:
    """Where everything is on the council's machine."""

    config_dir: Path  # jupyterhub_config.py and the hub's own state (its database, cookie secret)
    workspace: Path
    hub_ip: str
    hub_port: int
    public_url: str = ""  # e.g. https://review.eastvale.gov.uk; '' for any name on port 443
    user: str = "reviewkit"
    tls_cert: str = DEFAULT_CERT
    tls_key: str = DEFAULT_KEY
    backup_keep: int = 14
    python: str = sys.executable

    @property
    def public(self) -> tuple[str, int]:
        """The name and port people open (nginx's server_name and listen port)."""
        if not self.public_url:
            return "_", 443
        parts = urlsplit(self.public_url)
        if parts.scheme != "https" or not parts.hostname:
            raise InvalidInputError("--public-url must be the https:// address people open, e.g. "
                                    "https://review.eastvale.gov.uk")
        return parts.hostname, parts.port or 443

    @property
    def upstream(self) -> str:
        host = "127.0.0.1" if self.hub_ip in ("", "0.0.0.0") else self.hub_ip  # noqa: S104 - where nginx connects
        return f"http://{host}:{self.hub_port}"


def _unit_path(path: str | Path) -> str:
    """A path as a unit file names it ('%' is systemd's specifier sign); one with spaces or quotes is refused."""
    text = str(path)
    if any(ch.isspace() or ch in "\"'\\;" for ch in text):
        raise HubError(f"{text}: the service files cannot name a path holding spaces, quotes or ';'; move it to a "
                       "folder whose path has none (e.g. /srv/reviews/eastvale-2026)")
    return text.replace("%", "%%")


def _protect_home(d: Deployment) -> str:
    """ProtectHome=yes hides /home and /root: read-only instead when the kit or the review lives there."""
    paths = (str(d.workspace), str(d.config_dir), d.python)
    return "read-only" if any(p == h or p.startswith(h + "/") for p in paths for h in _HIDDEN_BY_PROTECT_HOME) \
        else "yes"


_HARDENING = """\
# Hardening: no privileges to gain, the system read-only except the folders above, a private /tmp.
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome={protect_home}
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
CapabilityBoundingSet=
AmbientCapabilities=
UMask=0077
# (MemoryDenyWriteExecute is left off: the proxy runs on Node.js, whose compiler needs it.)
"""


def hub_service(d: Deployment, config: Path) -> str:
    """The hub's systemd unit: its own user, restarted on failure, everything it started stopped with it."""
    return f"""\
# The review hub for {d.workspace} (written by 'reviewkit hub --write-config').
# Install: cp {HUB_UNIT} /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now {HUB_UNIT}
[Unit]
Description=reviewkit review hub ({d.workspace.name})
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User={d.user}
Group={d.user}
WorkingDirectory={_unit_path(d.config_dir)}
Environment=PYTHONUNBUFFERED=1
ExecStart={_unit_path(d.python)} -m jupyterhub -f {_unit_path(config)}
Restart=on-failure
RestartSec=5
# Stopping (or a crash of) the hub stops the proxy, everyone's server and every kernel: the whole group.
KillMode=control-group
TimeoutStopSec=60
# Where the service may write: the hub's own folder and the review workspace.
ReadWritePaths={_unit_path(d.config_dir)} {_unit_path(d.workspace)}
{_HARDENING.format(protect_home=_protect_home(d))}
[Install]
WantedBy=multi-user.target
"""


def backup_service(d: Deployment) -> str:
    """A one-off service taking a backup of the review store (safe while the hub runs)."""
    return f"""\
# A backup of the review store for {d.workspace} (see {BACKUP_TIMER}); 'reviewkit restore' puts one back.
[Unit]
Description=reviewkit backup of the review store ({d.workspace.name})

[Service]
Type=oneshot
User={d.user}
Group={d.user}
ExecStart={_unit_path(d.python)} -m reviewkit backup {_unit_path(d.workspace)} --keep {d.backup_keep}
ReadWritePaths={_unit_path(d.workspace)}
{_HARDENING.format(protect_home=_protect_home(d))}"""


def backup_timer(d: Deployment) -> str:
    """Once a day, and at the next start after a day the machine was off."""
    return f"""\
# Install: cp {BACKUP_UNIT} {BACKUP_TIMER} /etc/systemd/system/ && systemctl daemon-reload
#          && systemctl enable --now {BACKUP_TIMER}
[Unit]
Description=Daily backup of the review store ({d.workspace.name})

[Timer]
OnCalendar=*-*-* 02:00:00
RandomizedDelaySec=15min
Persistent=true
Unit={BACKUP_UNIT}

[Install]
WantedBy=timers.target
"""


def nginx_site(d: Deployment) -> str:
    """An nginx site (Debian: /etc/nginx/sites-available/) terminating TLS in front of the hub."""
    name, port = d.public
    try:  # an address rather than a name: listen on that address alone
        ipaddress.ip_address(name)
        listen = f"    listen {name}:{port} ssl;"
    except ValueError:
        listen = f"    listen {port} ssl;\n    listen [::]:{port} ssl;"
    redirect = "" if port != 443 else f"""\
server {{
    listen 80;
    listen [::]:80;
    server_name {name};
    return 301 https://$host$request_uri;
}}

"""
    return f"""\
# The review hub behind HTTPS (written by 'reviewkit hub --write-config').
# Install: cp {NGINX_SITE} /etc/nginx/sites-available/reviewkit-hub
#          && ln -s ../sites-available/reviewkit-hub /etc/nginx/sites-enabled/ && nginx -t && systemctl reload nginx
map $http_upgrade $reviewkit_connection_upgrade {{
    default upgrade;
    ''      close;
}}

{redirect}server {{
{listen}
    server_name {name};

    ssl_certificate     {d.tls_cert};
    ssl_certificate_key {d.tls_key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:reviewkit:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    add_header Strict-Transport-Security "max-age=63072000" always;

    # Reviewers' workbooks come through the host console's uploads.
    client_max_body_size 50m;

    # Every form's page loads about 4.9 MB of scripts and style sheets from these folders of the
    # person's server; compressed, 1.4 MB crosses the network. Only these are
    # compressed: pages that carry a sign-in's tokens are not (the BREACH attack on TLS).
    location ~ ^/user/[^/]+/voila/(static|labextensions|templates)/ {{
        proxy_pass {d.upstream};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        gzip on;
        gzip_proxied any;
        gzip_comp_level 5;
        gzip_min_length 1024;
        gzip_types text/css application/javascript text/javascript application/json;
    }}

    location / {{
        proxy_pass {d.upstream};
        proxy_http_version 1.1;
        # The address as typed, with its port: the forms' websocket is refused when Host and Origin differ.
        proxy_set_header Host $http_host;
        # The hub throttles refused sign-ins per client address: it reads the address from here.
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Scheme $scheme;
        # The forms talk to their kernel over a websocket: pass the upgrade on, and keep it open.
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $reviewkit_connection_upgrade;
        proxy_read_timeout 1h;
        proxy_send_timeout 1h;
        proxy_buffering off;
    }}
}}
"""


def write_files(files: dict[Path, str], *, force: bool) -> list[Path]:
    """Write each file (0600) unless one exists already and ``force`` is not given; then write none."""
    existing = [p for p in files if p.exists()]
    if existing and not force:
        raise HubError(f"{existing[0]}: already exists ({len(existing)} of the files to write do); nothing was "
                       "written. Add --force to replace them, or choose another folder.")
    return [write_text(path, text, mode=0o600) for path, text in files.items()]
