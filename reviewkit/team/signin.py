"""Sign-in to the review hub that one typo cannot break and that says nothing to a guesser.

In: review.yaml read afresh at each sign-in, and each refused sign-in's login and client
address. Out: the team member for a login (``TeamReader``: while review.yaml is broken, the
team as it last read correctly, the problem logged once with its file and line), and whether
an attempt is paused (``Throttle``: counts per login from one address, per address and per
login). Used by the hub's authenticator (``reviewkit.team.auth``); nothing here needs JupyterHub.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from reviewkit.core.errors import ReviewkitError
from reviewkit.review.reviewyaml import Member, ReviewMeta
from reviewkit.review.workspace import REVIEW_FILE, open_workspace

__all__ = ["LAST_GOOD_FILE", "TeamReader", "Throttle", "client_address"]

LAST_GOOD_FILE = "review_last_good.yaml"  # in the hub's private folder: the last review.yaml that read correctly
RATE_SERVICE = "reviewkit-rate"  # the hub-managed service that serves the rating form (reviewkit.team.rateservice)


class TeamReader:
    """review.yaml's team, read afresh at every sign-in; while the file is broken, the last team that read correctly.

    A problem is logged once (file, line and fix) when it appears and once when it is fixed, so a
    typo added while the hub runs never locks out the rest of the team and the log says why.
    """

    def __init__(self, workspace: str, last_good: str, log: logging.Logger) -> None:
        self.workspace, self.last_good, self.log = workspace, last_good, log
        self.meta: ReviewMeta | None = None
        self.problem = ""
        self._stamp: tuple[int, ...] | None = None  # review.yaml as it was when it last read correctly

    def read(self) -> ReviewMeta | None:
        # A sign-in asks three times (password, allowed, landing page); eight people signing in at once
        # would read the same unchanged file two dozen times on the hub's one thread.
        stamp = _stamp(Path(self.workspace) / REVIEW_FILE)
        if stamp is not None and stamp == self._stamp and self.meta is not None:
            return self.meta
        try:
            ws = open_workspace(self.workspace, last_good=self.last_good or None)
        except ReviewkitError as exc:
            self._say(str(exc))
            return self.meta  # no kept copy on disk: the team as this process last read it
        self.meta = ws.meta
        self._say(ws.review_problem)
        self._stamp = None if ws.review_problem else stamp
        return self.meta

    def member(self, login: str) -> Member | None:
        meta = self.read()
        return meta.member_for_login(login) if meta is not None else None

    def _say(self, problem: str) -> None:
        if problem and problem != self.problem:
            kept = ("the team as it was when review.yaml last read correctly" if self.meta is not None
                    else "no team (review.yaml has not read correctly since the hub started)")
            self.log.error("%s -- until it is fixed, sign-in and the forms use %s", problem, kept)
        elif not problem and self.problem:
            self.log.warning("review.yaml reads correctly again: sign-in uses its team")
        self.problem = problem


def _stamp(path: Path) -> tuple[int, ...] | None:
    """What changes when a file is edited or replaced: its inode, size and modification time."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class Throttle:
    """Refused sign-ins, counted per login from one address, per address and per login.

    A login is paused for one address after ``pair_limit`` refusals in a row from there, so
    nobody can keep someone else's login paused from their own address; an address trying many
    logins is paused after ``address_limit``; and a login guessed at from many addresses is paused
    for everyone after ``login_limit``. Counts are kept in memory and forgotten after a quiet
    ``pause`` seconds.
    """

    MAX_KEYS = 20_000

    def __init__(self, pair_limit: int, address_limit: int, login_limit: int, pause: float) -> None:
        self.limits = {"pair": pair_limit, "address": address_limit, "login": login_limit}
        self.pause = pause
        self._counts: dict[tuple[str, ...], tuple[int, float]] = {}

    def _keys(self, login: str, address: str) -> dict[str, tuple[str, ...]]:
        return {"pair": ("pair", login, address), "address": ("address", address), "login": ("login", login)}

    def _count(self, key: tuple[str, ...], now: float) -> int:
        count, last = self._counts.get(key, (0, 0.0))
        if count and now - last >= self.pause:
            del self._counts[key]
            return 0
        return count

    def paused(self, login: str, address: str) -> str:
        """Which count pauses this attempt ('pair', 'address' or 'login'), or ''."""
        now = time.monotonic()
        for kind, key in self._keys(login, address).items():
            if self._count(key, now) >= self.limits[kind]:
                return kind
        return ""

    def refused(self, login: str, address: str) -> list[str]:
        """Count a refusal; the counts it brought to their limit."""
        now = time.monotonic()
        reached = []
        for kind, key in self._keys(login, address).items():
            count = self._count(key, now) + 1
            self._counts[key] = (count, now)
            if count == self.limits[kind]:
                reached.append(kind)
        if len(self._counts) > self.MAX_KEYS:
            self._forget(now)
        return reached

    def succeeded(self, login: str, address: str) -> None:
        keys = self._keys(login, address)
        for kind in ("pair", "login"):
            self._counts.pop(keys[kind], None)

    def _forget(self, now: float) -> None:
        for key in [k for k, (_, last) in self._counts.items() if now - last >= self.pause]:
            del self._counts[key]
        if len(self._counts) > self.MAX_KEYS:  # many addresses at once: keep the newest half
            newest = sorted(self._counts.items(), key=lambda kv: kv[1][1])[len(self._counts) // 2:]
            self._counts = dict(newest)


def client_address(handler: Any) -> str:
    """The address a sign-in came from, as the hub's web server saw it (X-Real-IP from the reverse proxy)."""
    request = getattr(handler, "request", None)
    return str(getattr(request, "remote_ip", "") or "")
