"""Who is signed in: the review hub's login, mapped to a member of the review team.

Under the review hub each person's server runs with ``JUPYTERHUB_USER`` set by the hub from
the sign-in (the person cannot choose it), and ``review.yaml`` gives each team member a
``login``. The reviewer is the member with that login: never a name typed into a form. A
visiting reviewer's session may write only their own ratings, flags and conversations, on
cases allocated to them; the host's session may write for anyone (imports, corrections).
Outside the hub (one person on one computer, the CLI) there is no session and no such check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewkit.core.errors import AccessError

if TYPE_CHECKING:
    from reviewkit.review.reviewyaml import ReviewMeta

HUB_USER = "JUPYTERHUB_USER"


@dataclass(frozen=True)
class Session:
    """The signed-in person: their login, their name on the team and their role."""

    login: str
    reviewer: str
    role: str

    @property
    def is_host(self) -> bool:
        return self.role == "host"

    def check_writes_as(self, reviewer: str, what: str = "a rating") -> None:
        """Refuse a visiting reviewer writing `what` as someone else."""
        if not self.is_host and reviewer != self.reviewer:
            raise AccessError(f"You are signed in as {self.reviewer}: you cannot write {what} for another "
                              "reviewer.")

    def check_actor(self, actor: str) -> None:
        """The audit log names the signed-in person, never someone else."""
        if actor != self.reviewer:
            raise AccessError(f"You are signed in as {self.reviewer}: changes are recorded in your name only.")


def session_for(meta: ReviewMeta, login: str) -> Session:
    """The session of a login, or a plain refusal for a login not on the team."""
    member = meta.member_for_login(login)
    if member is None:
        raise AccessError("This sign-in is not on the review team. Ask the host PSW to add your login to the "
                          "team in review.yaml.")
    return Session(member.login, member.name, member.role)


def current_session(meta: ReviewMeta) -> Session | None:
    """The session of the person the review hub signed in, or None outside the hub."""
    login = os.environ.get(HUB_USER, "")
    return session_for(meta, login) if login else None
