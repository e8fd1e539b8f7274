"""Sign-in to the review hub: one typo in review.yaml locks nobody out, and a guesser learns nothing.

The authenticator is built from the configuration `reviewkit hub --write-config` writes, as
JupyterHub builds it, and called as JupyterHub's sign-in page calls it (real password files,
real scrypt hashes, real review.yaml). The forms are opened as they open in a signed-in
person's server (the hub's environment), on the same workspace.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from tornado import web
from traitlets.config.loader import PyFileConfigLoader

from reviewkit.review.session import HUB_USER
from reviewkit.review.workspace import LAST_GOOD_ENV
from reviewkit.team import hub
from reviewkit.team.codes import make_codes

from .helpers import HOST, LOGINS, make_workspace, with_logins

pytestmark = pytest.mark.enable_socket  # planning the hub binds a loopback socket to check the port

A, B, C = "A. Visitor", "B. Visitor", "C. Visitor"
PASSWORD = "a long first password"


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.delenv(HUB_USER, raising=False)
    monkeypatch.delenv(LAST_GOOD_ENV, raising=False)
    ws = with_logins(make_workspace(tmp_path / "ws"))
    config = hub.write_config(hub.plan(ws.path), tmp_path / "it")[0]
    c = PyFileConfigLoader(config.name, path=str(config.parent)).load_config()
    return ws, c


def authenticator(c, **limits: int):  # noqa: ANN001, ANN201
    from reviewkit.team.auth import ReviewTeamAuthenticator

    for name, value in limits.items():
        setattr(c.ReviewTeamAuthenticator, name, value)
    return ReviewTeamAuthenticator(config=c)


def sign_in(auth, login: str, password: str = PASSWORD, code: str = "", address: str = "192.0.2.10") -> str:  # noqa: ANN001
    handler = SimpleNamespace(request=SimpleNamespace(remote_ip=address))  # what the login page's handler carries
    return asyncio.run(auth.authenticate(handler, {"username": login, "password": password, "first_code": code}))


def refused(auth, *args: str, **kwargs: str) -> web.HTTPError:  # noqa: ANN001
    with pytest.raises(web.HTTPError) as info:
        sign_in(auth, *args, **kwargs)
    return info.value


def test_a_typo_in_review_yaml_keeps_the_last_good_team_logs_its_line_and_shows_in_the_host_console(
        setup, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from reviewkit.team.widgets import HostConsole, RatingForm

    ws, c = setup
    codes = make_codes(ws)[0]
    auth = authenticator(c)
    assert sign_in(auth, LOGINS[A], code=codes[LOGINS[A]]) == LOGINS[A]
    review = ws.path / "review.yaml"
    good = review.read_text(encoding="utf-8")
    lines = good.splitlines(keepends=True)
    at = lines.index("team:\n") + 1
    lines.insert(at, "- {name: D. Visitor, council: Southshire Council, role: visiting, login: d visitor@south}\n")
    review.write_text("".join(lines), encoding="utf-8")  # the host's typo: a space in a login
    caplog.set_level(logging.WARNING)

    assert sign_in(auth, LOGINS[A]) == LOGINS[A]  # the others still sign in
    assert sign_in(auth, LOGINS[B], code=codes[LOGINS[B]]) == LOGINS[B]
    logged = [r.getMessage() for r in caplog.records if "review.yaml" in r.getMessage()]
    assert len(logged) == 1, logged  # once, not at every sign-in
    assert f"{review}: line {at + 1}, team member 1: login must be the name or email address" in logged[0]
    assert "until it is fixed, sign-in and the forms use the team as it was" in logged[0]

    # The forms in a signed-in person's server open with the same last good review.yaml...
    monkeypatch.setenv(LAST_GOOD_ENV, c.ReviewTeamAuthenticator.last_good_file)
    monkeypatch.setenv(HUB_USER, LOGINS[A])
    assert [case.id for case in RatingForm(ws.path, A).cases] == ["C01", "C02"]
    # ...and the host console says what is wrong, and where.
    monkeypatch.setenv(HUB_USER, LOGINS[HOST])
    console = HostConsole(ws.path)
    notice = re.sub(r"<[^>]+>", " ", console.review_notice.value)
    assert "review.yaml has a problem" in notice and f"line {at + 1}, team member 1: login must be" in notice
    assert 'role="alert"' in console.review_notice.value

    # Fixed: the new member is on the team at the next sign-in, the log says so, the notice goes.
    review.write_text(good.replace("team:\n", "team:\n- {name: D. Visitor, role: visiting, login: d.visitor@south}\n",
                                   1), encoding="utf-8")
    caplog.clear()
    assert auth.team.member("d.visitor@south").name == "D. Visitor"
    assert any("reads correctly again" in r.getMessage() for r in caplog.records)
    console.refresh_button.click()
    assert console.review_notice.value == ""


def test_a_hub_started_after_the_typo_still_signs_in_the_team_it_read_at_start(setup) -> None:
    ws, c = setup
    codes = make_codes(ws)[0]
    auth = authenticator(c)  # reads the team when the hub starts
    review = ws.path / "review.yaml"
    review.write_text(review.read_text(encoding="utf-8").replace("team:\n", "team:\n  - [unclosed\n", 1),
                      encoding="utf-8")
    assert sign_in(auth, LOGINS[C], code=codes[LOGINS[C]]) == LOGINS[C]


def _scrypt_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count scrypt hashes (the real function still runs): the cost of each sign-in attempt."""
    calls: list[int] = []
    real = hashlib.scrypt

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(kwargs.get("n", 0))
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


def test_an_unknown_login_gets_the_same_refusal_at_the_same_cost_as_a_wrong_password(setup, monkeypatch) -> None:
    ws, c = setup
    codes = make_codes(ws)[0]
    make_codes(ws, LOGINS[C], now=datetime.now(timezone.utc) - timedelta(days=30), days=1)  # C's code expired
    auth = authenticator(c)
    sign_in(auth, LOGINS[A], code=codes[LOGINS[A]])
    calls = _scrypt_counter(monkeypatch)
    attempts = {
        "a login not on the team": dict(login="someone@elsewhere.example"),
        "a wrong password": dict(login=LOGINS[A], password="someone's guess at it"),
        "a first sign-in without a code": dict(login=LOGINS[B]),
        "a first sign-in with a wrong code": dict(login=LOGINS[B], code="KM4F-TXRA-9CWE"),
        "a first sign-in with an expired code": dict(login=LOGINS[C], code="ACDE-FGHJ-KMNP"),
        "a first sign-in with another's code": dict(login=LOGINS[B], code=codes[LOGINS[HOST]]),
    }
    pages = {}
    for what, kw in attempts.items():
        calls.clear()
        error = refused(auth, kw.pop("login"), **kw)
        pages[what] = (error.status_code, error.log_message)
        assert calls == [2**14], f"{what}: {len(calls)} hash(es)"  # one scrypt each: the same time
    assert len(set(pages.values())) == 1, pages  # the same page whatever was wrong
    assert pages["a login not on the team"][0] == 403 and "Sign-in refused" in pages["a login not on the team"][1]
    assert "not on the review team" not in pages["a login not on the team"][1]


def test_refusals_are_counted_per_address_as_well_as_per_login(setup) -> None:
    ws, c = setup
    codes = make_codes(ws)[0]
    auth = authenticator(c, max_failures=3, max_address_failures=5, max_login_failures=8)
    sign_in(auth, LOGINS[A], code=codes[LOGINS[A]], address="198.51.100.1")
    attacker, home, others = "203.0.113.66", "198.51.100.1", [f"203.0.113.{i}" for i in range(1, 4)]

    for _ in range(3):  # someone keeps guessing A's password from one address
        assert refused(auth, LOGINS[A], password="a wrong guess at it", address=attacker).status_code == 403
    assert refused(auth, LOGINS[A], address=attacker).status_code == 429  # paused there...
    assert sign_in(auth, LOGINS[A], address=home) == LOGINS[A]  # ...but A signs in from their own address

    for login in ("x1@elsewhere.example", "x2@elsewhere.example"):  # the same address tries other logins
        assert refused(auth, login, password="another guess here", address=attacker).status_code == 403
    paused = refused(auth, "x3@elsewhere.example", password="another guess here", address=attacker)
    assert paused.status_code == 429 and "Too many refused sign-ins" in paused.log_message  # the address is slowed
    assert "for this login" not in paused.log_message  # says nothing about whether a login exists
    assert sign_in(auth, LOGINS[A], address=home) == LOGINS[A]

    # Many addresses guessing one login pause it for everyone, after more refusals than one address may make.
    for address in others:
        for _ in range(3):
            refused(auth, LOGINS[B], password="a distributed guess", address=address)
    assert refused(auth, LOGINS[B], code=codes[LOGINS[B]], address=home).status_code == 429
    assert sign_in(auth, LOGINS[A], address=home) == LOGINS[A]  # other logins are untouched


def test_people_signing_in_together_hash_at_most_one_at_a_time_per_core(setup, monkeypatch) -> None:
    """Each scrypt hash holds 16 MiB: with more hashing threads than cores, eight first sign-ins held (and the hub
    kept) 65 MiB more, and all of them finished late; in turn, first come first served, the first finish first."""
    import os
    import threading

    from reviewkit.team.auth import HASHERS

    ws, c = setup
    codes = make_codes(ws)[0]
    auth = authenticator(c)
    running, most = [0], [0]
    lock = threading.Lock()
    real = hashlib.scrypt

    def watched(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return real(*args, **kwargs)  # ~50 ms: every other sign-in has asked for its hash meanwhile
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(hashlib, "scrypt", watched)
    logins = list(LOGINS.values())

    async def together() -> list[str]:
        handler = SimpleNamespace(request=SimpleNamespace(remote_ip="192.0.2.10"))
        return await asyncio.gather(*(auth.authenticate(handler, {"username": login, "password": PASSWORD,
                                                                  "first_code": codes[login]}) for login in logins))

    assert asyncio.run(together()) == logins  # everyone signed in
    cores = len(os.sched_getaffinity(0))
    assert most[0] == min(cores, len(logins)), (most[0], cores)
    assert HASHERS._max_workers == cores  # noqa: SLF001 - the limit under test


def test_the_team_has_accounts_from_the_start_and_a_login_added_later_still_signs_in(setup) -> None:
    """JupyterHub makes an account for each allowed user when it starts; the team's logins are those, so the
    first sign-in does not wait on making one. The team as review.yaml says at sign-in time still decides."""
    ws, c = setup
    auth = authenticator(c)
    assert auth.allowed_users == set(LOGINS.values())
    review = ws.path / "review.yaml"
    text = review.read_text(encoding="utf-8")
    review.write_text(text.replace(f"login: {LOGINS[C]}", "login: c.new@eastshire.example"), encoding="utf-8")
    assert asyncio.run(auth.check_allowed("c.new@eastshire.example")) is True  # added after the start
    with pytest.raises(web.HTTPError) as info:  # taken off the team after the start: refused
        asyncio.run(auth.check_allowed(LOGINS[C]))
    assert info.value.status_code == 403
