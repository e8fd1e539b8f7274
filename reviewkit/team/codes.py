"""One-time first sign-in codes for the review hub's offline sign-in.

With offline sign-in each team member chooses their own password the first time they sign
in. So that nobody who merely knows (or guesses) a login can claim it first, that first
sign-in also needs a code the host hands to its owner: ``reviewkit hub-codes`` makes one for
each login that has no password yet (or for one login, resetting its password). A code is
12 characters from an alphabet without look-alike or sound-alike characters, shown in
groups of four (``KM4F-TXRA-9CWE``), random from ``secrets``, and printed once: only a
salted scrypt hash is kept, with its expiry, beside the password hashes in the workspace's
``private/`` folder (files 0600, each rewritten whole or not at all). The code is used up
when its owner sets their password.

The hub's sign-in (``hubauth.ReviewTeamAuthenticator``) and the ``hub-codes`` command may
run at the same time: every change to the two files is made under a lock on a third file
there, so neither undoes the other's change. Nothing here needs JupyterHub.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import write_text
from reviewkit.core.errors import InvalidInputError, ReviewkitError, WorkspaceError
from reviewkit.review.reviewyaml import normal_login
from reviewkit.review.workspace import Workspace, open_workspace

try:
    import fcntl
except ImportError:  # not on Windows: see Passwords.locked
    fcntl = None  # type: ignore[assignment]

__all__ = ["ALPHABET", "CODES_FILE", "DEFAULT_DAYS", "MIN_PASSWORD", "PASSWORDS_FILE", "SignInFiles",
           "Waiting", "check_password", "dummy_hash", "hash_password", "make_codes", "new_code", "normal_code",
           "set_password_with_code", "waiting"]

PASSWORDS_FILE = "private/hub_passwords.json"
CODES_FILE = "private/hub_first_codes.json"
LOCK_FILE = "private/hub_sign_in.lock"
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: nothing to mistake when read off a screen or out over the phone.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 12
GROUP = 4
DEFAULT_DAYS = 14
MAX_DAYS = 60
MIN_PASSWORD = 10


def new_code() -> str:
    """A fresh random code, in groups of four: ``KM4F-TXRA-9CWE`` (about 56 bits)."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normal_code(typed: str) -> str:
    """A code as typed, in the form it was hashed: upper case, without spaces or dashes."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def hash_password(secret: str) -> str:
    """A salted scrypt hash of a password or code, as ``scrypt$salt$digest`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(secret: str, stored: str) -> bool:
    """Whether ``secret`` is the one ``stored`` was made from (in constant time)."""
    try:
        _kind, salt, digest = stored.split("$")
        mine = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    except ValueError:
        return False
    return hmac.compare_digest(mine.hex(), digest)


_DUMMY: list[str] = []


def dummy_hash() -> str:
    """A hash of a random secret nobody knows: checking anything against it costs what a real check costs."""
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(24)))
    return _DUMMY[0]


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


@dataclass(frozen=True)
class SignInFiles:
    """The two private files of the offline sign-in: password hashes, and first sign-in code hashes."""

    passwords: Path
    codes: Path

    @classmethod
    def of(cls, workspace: str | Path) -> SignInFiles:
        root = Path(workspace).resolve()
        return cls(root / PASSWORDS_FILE, root / CODES_FILE)

    @property
    def lock(self) -> Path:
        return self.passwords.with_name(Path(LOCK_FILE).name)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the sign-in lock: one change to the files at a time, across processes."""
        self.passwords.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is None:  # no POSIX locks here: one process at a time is the host's to arrange
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def read_passwords(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in _read(self.passwords).items()}

    def read_codes(self) -> dict[str, dict[str, str]]:
        return {str(k): dict(v) for k, v in _read(self.codes).items() if isinstance(v, dict)}

    def write_passwords(self, hashes: dict[str, str]) -> None:
        _write(self.passwords, hashes)

    def write_codes(self, codes: dict[str, dict[str, str]]) -> None:
        _write(self.codes, codes)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise WorkspaceError(f"{path}: cannot read the hub's sign-in file; make first sign-in codes again with "
                             "'reviewkit hub-codes' after moving it aside") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path}: not the hub's sign-in file; move it aside and make codes with "
                             "'reviewkit hub-codes'")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n", mode=0o600)


def _expired(entry: dict[str, str], now: datetime) -> bool:
    try:
        return datetime.fromisoformat(entry["expires"]) <= now
    except (KeyError, TypeError, ValueError):
        return True


@dataclass(frozen=True)
class Waiting:
    """The team's logins that have not set a password yet, by the state of their first sign-in code."""

    team: int  # logins on the team
    with_code: tuple[str, ...]  # a code that still works
    expired: tuple[str, ...]  # a code that has run out
    without_code: tuple[str, ...]  # no code made yet

    @property
    def count(self) -> int:
        return len(self.with_code) + len(self.expired) + len(self.without_code)

    @property
    def need_codes(self) -> tuple[str, ...]:
        return self.expired + self.without_code


def waiting(workspace: str | Path | Workspace, *, now: datetime | None = None) -> Waiting:
    """Which logins still wait for their first sign-in, and whether each has a working code."""
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    files, moment = SignInFiles.of(ws.path), _utc(now)
    logins = [m.login for m in ws.meta.team if m.login]
    passwords, codes = files.read_passwords(), files.read_codes()
    pending = [login for login in logins if login not in passwords]
    with_code = tuple(x for x in pending if x in codes and not _expired(codes[x], moment))
    expired = tuple(x for x in pending if x in codes and _expired(codes[x], moment))
    without = tuple(x for x in pending if x not in codes)
    return Waiting(len(logins), with_code, expired, without)


def make_codes(workspace: str | Path | Workspace, login: str | None = None, *, days: int = DEFAULT_DAYS,
               now: datetime | None = None) -> tuple[dict[str, str], datetime]:
    """New first sign-in codes, as {login: code}, and when they stop working.

    Without ``login``: one for every team login that has no password yet (a code made earlier
    for any of them stops working). With ``login``: one for that login alone, and its password,
    if it has one, is removed, so its owner sets a new one with the code (a reset). Only the
    codes' hashes are kept; the codes themselves exist only in what this returns.
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"--days must be a number from 1 to {MAX_DAYS}, e.g. --days {DEFAULT_DAYS}")
    ws = workspace if isinstance(workspace, Workspace) else open_workspace(workspace)
    logins = [m.login for m in ws.meta.team if m.login]
    if not logins:
        raise ReviewkitError(f"{ws.path / 'review.yaml'}: no team member has a 'login' yet; add each person's "
                             "sign-in (e.g. login: a.visitor@northshire.gov.uk) to the team first")
    wanted = normal_login(login) if login is not None else None
    if wanted is not None and wanted not in logins:
        raise InvalidInputError(f"{login!r} is not a login on the review team; the team's logins (review.yaml): "
                                + ", ".join(logins))
    expires = _utc(now) + timedelta(days=days)
    files = SignInFiles.of(ws.path)
    with files.locked():
        passwords, codes = files.read_passwords(), files.read_codes()
        targets = [wanted] if wanted is not None else [x for x in logins if x not in passwords]
        made = {x: new_code() for x in targets}
        for x, code in made.items():
            codes[x] = {"hash": hash_password(normal_code(code)), "expires": expires.isoformat(timespec="seconds")}
        for gone in [x for x in codes if x not in logins]:  # logins taken off the team
            del codes[gone]
        if made:
            files.write_codes(codes)
        if wanted is not None and wanted in passwords:
            del passwords[wanted]
            files.write_passwords(passwords)
    return made, expires


def set_password_with_code(files: SignInFiles, login: str, code: str, password: str, *,
                           now: datetime | None = None) -> bool:
    """A first sign-in: if ``code`` is the login's working code, ``password`` becomes theirs and the code is used up.

    False, and nothing changed, when the login already has a password, has no code, or the
    code is wrong or expired. The caller checks the password's length first.
    """
    typed, moment = normal_code(code), _utc(now)
    # The hashing happens outside the lock, so people signing in for the first time together hash at
    # the same time (on as many cores as there are); under the lock the files are read again and
    # written only if the code is still the one checked and no password was set meanwhile.
    entry = files.read_codes().get(login)
    usable = (bool(typed) and login not in files.read_passwords() and entry is not None
              and not _expired(entry, moment))
    # Every refusal costs one hash, as a wrong password does: how long a refusal takes says
    # nothing about whether the login exists, has a password or has a code.
    if not check_password(typed, entry.get("hash", "") if usable and entry else dummy_hash()) or not usable:
        return False
    new_hash = hash_password(password)
    with files.locked():
        passwords, codes = files.read_passwords(), files.read_codes()
        if login in passwords or codes.get(login) != entry:  # used or replaced while we hashed
            return False
        passwords[login] = new_hash
        files.write_passwords(passwords)  # first: a crash before the next line leaves a spent code, harmlessly
        del codes[login]
        files.write_codes(codes)
    return True
