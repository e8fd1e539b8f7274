"""First sign-in codes: nobody can claim an unused hub login without the code its owner was given.

The authenticator is built from the configuration ``reviewkit hub --write-config`` writes, as
JupyterHub builds it, and called as JupyterHub calls it on a sign-in. Codes are made by the
library the ``hub-codes`` command calls; an expired one is made with a creation time in the
past, not by changing the clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tornado import web
from traitlets.config.loader import PyFileConfigLoader

from reviewkit.core.errors import InvalidInputError
from reviewkit.team import hub
from reviewkit.team.codes import (
    ALPHABET,
    SignInFiles,
    check_password,
    make_codes,
    new_code,
    normal_code,
    set_password_with_code,
    waiting,
)

from .helpers import LOGINS, make_workspace, with_logins

pytestmark = pytest.mark.enable_socket  # planning binds a loopback socket to check the port

A, B = LOGINS["A. Visitor"], LOGINS["B. Visitor"]
FIRST = "a long first password"
SECOND = "another long password"


@pytest.fixture
def team(tmp_path: Path):
    return with_logins(make_workspace(tmp_path / "ws"))


@pytest.fixture
def auth(team, tmp_path: Path):  # noqa: ANN201
    """The offline authenticator as JupyterHub builds it from the config IT would run."""
    out = hub.write_config(hub.plan(team.path, port=None), tmp_path / "it")[0]
    config = PyFileConfigLoader(out.name, path=str(out.parent)).load_config()
    from reviewkit.team.auth import ReviewTeamAuthenticator

    return ReviewTeamAuthenticator(config=config)


def sign_in(auth, login: str, password: str, code: str | None = None) -> str | None:  # noqa: ANN001
    data = {"username": login, "password": password}
    if code is not None:
        data["first_code"] = code
    return asyncio.run(auth.authenticate(None, data))


def refused(auth, login: str, password: str, code: str | None = None) -> web.HTTPError:  # noqa: ANN001
    with pytest.raises(web.HTTPError) as info:
        sign_in(auth, login, password, code)
    return info.value


def stored(team) -> tuple[dict, dict]:  # noqa: ANN001
    files = SignInFiles.of(team.path)
    return files.read_passwords(), files.read_codes()


def test_codes_are_twelve_unambiguous_characters_in_groups_and_typed_loosely() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", code)
    assert not set("0O1IL2Z5S8B") & set(ALPHABET)
    assert normal_code(" km4f txra-9cwe ") == "KM4FTXRA9CWE"


def test_the_config_points_the_sign_in_at_the_workspaces_private_files(auth, team) -> None:
    files = SignInFiles.of(team.path)
    assert (Path(auth.password_file), Path(auth.codes_file)) == (files.passwords, files.codes)
    assert files.codes.parent == team.path.resolve() / "private"


def test_a_first_sign_in_without_the_code_is_refused_and_claims_nothing(auth, team) -> None:
    error = refused(auth, A, FIRST)
    assert error.status_code == 403 and "first sign-in code" in error.log_message
    make_codes(team)
    error = refused(auth, A, FIRST, "")
    assert error.status_code == 403
    assert stored(team)[0] == {}


def test_a_wrong_expired_or_used_code_is_refused_with_one_plain_message(auth, team) -> None:
    made, _ = make_codes(team)
    wrong = next(c for c in (new_code() for _ in range(10)) if c != made[A])
    assert refused(auth, A, FIRST, wrong).log_message == refused(auth, A, FIRST, made[B]).log_message  # B's code

    long_ago = datetime.now(timezone.utc) - timedelta(days=30)
    old, _ = make_codes(team, A, days=14, now=long_ago)  # made 30 days ago, for 14 days
    assert waiting(team).expired == (A,)
    expired = refused(auth, A, FIRST, old[A])
    assert expired.log_message == refused(auth, A, FIRST, wrong).log_message
    assert stored(team)[0] == {}

    fresh, _ = make_codes(team, A)
    assert sign_in(auth, A, FIRST, fresh[A]) == A
    files = SignInFiles.of(team.path)
    assert not set_password_with_code(files, A, fresh[A], SECOND)  # used up
    assert refused(auth, A, SECOND, fresh[A]).status_code == 403  # the used code sets no new password
    assert check_password(FIRST, stored(team)[0][A])


def test_the_right_code_sets_the_password_and_is_used_up_then_the_password_alone_signs_in(auth, team) -> None:
    made, expires = make_codes(team)
    assert set(made) == {m.login for m in team.meta.team}
    assert timedelta(days=13) < expires - datetime.now(timezone.utc) <= timedelta(days=14)
    short = refused(auth, A, "too short", made[A])
    assert "at least 10 characters" in short.log_message
    assert A in stored(team)[1]  # a too-short password does not spend the code

    assert sign_in(auth, A.upper(), FIRST, made[A].lower().replace("-", " ")) == A
    passwords, codes = stored(team)
    assert check_password(FIRST, passwords[A]) and A not in codes and B in codes
    assert sign_in(auth, A, FIRST) == A  # the second sign-in: the password alone
    assert sign_in(auth, A, FIRST, "anything at all") == A  # a code typed then is ignored
    assert refused(auth, A, "someone else's guess").status_code == 403
    assert waiting(team).count == 3 and A not in waiting(team).with_code


def test_reset_with_login_removes_the_password_and_a_new_code_sets_a_new_one(auth, team) -> None:
    made, _ = make_codes(team)
    assert sign_in(auth, A, FIRST, made[A]) == A
    assert sign_in(auth, B, SECOND, made[B]) == B
    again, _ = make_codes(team)  # only the logins without a password get codes
    assert A not in again and B not in again
    reset, _ = make_codes(team, A.upper())
    assert list(reset) == [A]
    refused(auth, A, FIRST)  # the old password no longer works
    refused(auth, A, FIRST, made[A])  # nor the first code
    assert sign_in(auth, A, SECOND, reset[A]) == A
    assert sign_in(auth, A, SECOND) == A and sign_in(auth, B, SECOND) == B  # B is untouched
    with pytest.raises(InvalidInputError, match="not a login on the review team"):
        make_codes(team, "someone@elsewhere.example")
    with pytest.raises(InvalidInputError, match="--days"):
        make_codes(team, days=0)


def test_refusals_are_logged_without_what_was_typed_and_a_login_is_paused_after_many(auth, team) -> None:
    made, _ = make_codes(team)
    auth.max_failures = 3
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    auth.log.addHandler(handler)
    try:
        guesses = [f"guess number {i}" for i in range(3)]
        for guess in guesses:
            refused(auth, A, guess, made[B])
        paused = refused(auth, A, FIRST, made[A])  # the right code, but too late
        assert paused.status_code == 429 and "Too many refused sign-ins" in paused.log_message
        assert sign_in(auth, B, SECOND, made[B]) == B  # other logins are not paused
        auth.pause_seconds = 0  # the pause is over
        assert sign_in(auth, A, FIRST, made[A]) == A
    finally:
        auth.log.removeHandler(handler)
    logged = "\n".join(r.getMessage() for r in records)
    assert "refused for a team login" in logged and "paused" in logged
    for secret in [*guesses, FIRST, SECOND, *made.values(), *(normal_code(c) for c in made.values())]:
        assert secret not in logged


def test_the_files_are_private_and_no_code_or_password_is_in_any_workspace_file(auth, team, tmp_path) -> None:
    made, _ = make_codes(team)
    sign_in(auth, A, FIRST, made[A])
    reset, _ = make_codes(team, B)
    files = SignInFiles.of(team.path)
    for f in (files.passwords, files.codes, files.lock):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.codes.parent.stat().st_mode) == 0o700
    secrets = [FIRST, *made.values(), *reset.values()]
    secrets += [normal_code(c) for c in secrets[1:]]
    for folder in (team.path, tmp_path / "it"):
        for root, _dirs, names in os.walk(folder):
            for name in names:
                data = (Path(root) / name).read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, (name, "holds a code or password")
    assert set(json.loads(files.codes.read_text())[B]) == {"hash", "expires"}


def test_the_hub_at_start_says_who_still_waits_for_a_first_sign_in(team, tmp_path, capsys) -> None:
    from reviewkit.cli import main

    assert main(["hub", str(team.path), "--write-config", str(tmp_path / "it")]) == 0
    out = capsys.readouterr().out
    assert "4 of 4 login(s) on the team have not signed in yet" in out
    assert f"reviewkit hub-codes {team.path}" in out
    make_codes(team)
    assert main(["hub", str(team.path), "--write-config", str(tmp_path / "it2")]) == 0  # (files already written are kept)
    out = capsys.readouterr().out
    assert "(4 have one that still works)" in out and "reviewkit hub-codes" not in out


def test_one_code_used_in_two_places_at_once_sets_one_password(auth, team) -> None:
    # The hashing runs outside the files' lock (first sign-ins together hash at the same time), so two
    # sign-ins with the same code at the same moment must still leave exactly one password, the winner's.
    import threading

    made, _ = make_codes(team)
    files = auth.files
    results: dict[str, bool] = {}
    start = threading.Barrier(4)

    def claim(password: str) -> None:
        start.wait()
        results[password] = set_password_with_code(files, A, made[A], password)

    tries = [f"password number {i} of four" for i in range(4)]
    threads = [threading.Thread(target=claim, args=(p,)) for p in tries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [p for p, ok in results.items() if ok]
    assert len(results) == 4 and len(winners) == 1, results
    passwords, codes = stored(team)
    assert check_password(winners[0], passwords[A]) and A not in codes
    assert all(not check_password(p, passwords[A]) for p in tries if p != winners[0])
