"""A review workspace: one folder holding everything about one review.

    review.yaml       council, theme, dates, team, case allocation, previous review
    audit_tool.yaml   a frozen copy of the audit tool the review uses, scale included
    codebook.yaml     a frozen copy of the theme codebook
    review.db         the SQLite store (ratings, notes, conversations, audit log)
    narrative/*.md    prose sections written by the PSWs
    private/names.txt names screened out of free text; never exported

Copying the folder copies the review; every path inside is relative. The tool is copied in at
creation so that later edits to the shipped tool never change a review already under way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import migrations
from .atomic import make_folder, write_bytes, write_text
from .errors import ReviewkitError, ToolError, WorkspaceError
from .store import Rules, Store, check_location, date_outside_window, describe_failure
from .themes import Codebook, load_codebook
from .tools import AuditTool, load_tool, load_yaml, parse_tool

FORMAT = migrations.WORKSPACE_FORMAT  # review.yaml's 'format'; see reviewkit.migrations
REVIEW_FILE = "review.yaml"
TOOL_FILE = "audit_tool.yaml"
CODEBOOK_FILE = "codebook.yaml"
DB_FILE = "review.db"
PRIVATE_DIR = "private"
NAMES_FILE = "private/names.txt"
CONFIRMED_FILE = "private/confirmed_words.txt"  # words the host confirmed are not names (reviewkit confirm)
REDACTION_MAP_FILE = "private/redaction_map.json"  # each redacted piece of text and its placeholder
PREVIOUS_ROUND_FILE = "previous_round.zip"  # the previous round's figures, for the trend
ROLES = ("visiting", "host", "associate")
NARRATIVE_SECTIONS = {
    "key_messages": "Key messages",
    "review_questions": "The review questions answered",
    "introduction": "Introduction",
    "meetings": "Areas discussed and recurrent themes from the meetings",
    "case_records": "Principal Social Workers' analysis of case records and conversations",
    "observations": "Observations of the review team",
    "strengths": "Key strengths",
    "recommendations": "Recommendations for practice improvement",
    "quality_statements": "Strengths and areas for consideration by CQC quality statement",
}
REPORT_CACHE = Path(".cache") / "report"
_NAMES_STAMP = ".names-digest"  # in the report cache: the names.txt its renders were screened with
_log = logging.getLogger(__name__)
CASE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,15}$")
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,127}$")


def normal_login(login: str) -> str:
    """A sign-in name as the hub reports it: trimmed and lower case (email addresses ignore case)."""
    return login.strip().casefold()

# Narrative the team writes where it has something to say; a final report does not wait for it.
OPTIONAL_NARRATIVE = frozenset({"quality_statements"})
CQC_PLACEMENTS = ("section", "appendix")
STATUSES = ("Not started", "In progress", "Done", "Not going ahead")


@dataclass(frozen=True)
class Member:
    """A member of the review team; reviewers rate cases, an associate only signs."""

    name: str
    council: str = ""
    role: str = "visiting"
    login: str = ""  # the hub sign-in (e.g. a council email address) that is this member; optional

    @property
    def rates(self) -> bool:
        return self.role in ("visiting", "host")


@dataclass(frozen=True)
class Case:
    """A case record by its pseudonymous reference, its reviewer and any moderators."""

    id: str
    reviewer: str
    moderators: tuple[str, ...] = ()

    @property
    def reviewers(self) -> tuple[str, ...]:
        return (self.reviewer, *self.moderators)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation of the previous review, with the host's update on it."""

    text: str
    update: str = ""
    status: str = ""


@dataclass
class ReviewMeta:
    """What review.yaml says about the review."""

    council: str
    theme: str
    tool: str
    tool_version: str
    start: str = ""
    end: str = ""
    programme: str = "Practice Review Programme"
    review_questions: list[str] = field(default_factory=list)
    team: list[Member] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    previous_date: str = ""
    previous_recommendations: list[Recommendation] = field(default_factory=list)
    codebook: str = "default"
    report_date: str = ""
    cqc_evidence: str = "section"
    # Places, teams, services and other words of this review that are not people's names: the
    # publish gate reads them as ordinary (reviewkit.pagegate).
    glossary: list[str] = field(default_factory=list)

    @property
    def reviewers(self) -> list[str]:
        return [m.name for m in self.team if m.rates]

    @property
    def moderation_cases(self) -> list[str]:
        return [c.id for c in self.cases if c.moderators]

    def member_for_login(self, login: str) -> Member | None:
        """The team member who signs in as `login`, if any."""
        wanted = normal_login(login)
        return next((m for m in self.team if m.login and m.login == wanted), None)

    def cases_for(self, reviewer: str) -> list[Case]:
        """Cases a reviewer rates, as primary reviewer or moderator."""
        return [c for c in self.cases if reviewer in c.reviewers]

    def to_yaml(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "programme": self.programme,
            "council": self.council,
            "theme": self.theme,
            "tool": self.tool,
            "tool_version": self.tool_version,
            "dates": {"start": self.start, "end": self.end},
            "report_date": self.report_date,
            "review_questions": list(self.review_questions),
            "team": [{"name": m.name, "council": m.council, "role": m.role, **({"login": m.login} if m.login else {})}
                     for m in self.team],
            "cases": [
                {"id": c.id, "reviewer": c.reviewer, **({"moderators": list(c.moderators)} if c.moderators else {})}
                for c in self.cases
            ],
            "previous_review": {
                "date": self.previous_date,
                "recommendations": [{"text": r.text, "update": r.update, **({"status": r.status} if r.status else {})}
                                    for r in self.previous_recommendations],
            },
            "codebook": self.codebook,
            "cqc_evidence": self.cqc_evidence,
        }
        if self.glossary:
            data["glossary"] = list(self.glossary)
        return data


def _str(data: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise WorkspaceError(f"{where}: '{key}' must be text")
    if required and not value.strip():
        raise WorkspaceError(f"{where}: '{key}' is required")
    return value.strip()


def _written_date(value: str, where: str) -> dt.date | None:
    """A date written YYYY-MM-DD, or a month written YYYY-MM (its first day); None for other text."""
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?", value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise WorkspaceError(f"{where} is not a real date; write one that exists, as YYYY-MM-DD "
                             "(or as text, such as December 2026)") from None


def _check_window(day: dt.date, where: str) -> None:
    """Refuse a review date typed with the wrong year (0001, 2206): it would print in the report."""
    outside = date_outside_window(day)
    if outside:
        raise WorkspaceError(f"{where} {outside} (written YYYY-MM-DD)")


def parse_meta(data: Any, where: str) -> ReviewMeta:
    """Validate review.yaml content; each message names the key and the fix."""
    if not isinstance(data, dict):
        raise WorkspaceError(f"{where}: expected a mapping of keys such as council, theme, team")
    data, _ = migrations.upgrade_review_data(data, where)  # an older format is read as the current one
    dates = data.get("dates") or {}
    if not isinstance(dates, dict):
        raise WorkspaceError(f"{where}: 'dates' must have 'start' and 'end' (YYYY-MM-DD)")
    start, end = _str(dates, "start", f"{where}: dates"), _str(dates, "end", f"{where}: dates")
    for key, value in (("start", start), ("end", end)):
        if value:
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                raise WorkspaceError(f"{where}: dates.{key} must be a date written YYYY-MM-DD") from None
            _check_window(day, f"{where}: dates.{key}")
    team: list[Member] = []
    raw_team = data.get("team") or []
    if not isinstance(raw_team, list):
        raise WorkspaceError(f"{where}: 'team' must be a list of members with name, council and role")
    for i, m in enumerate(raw_team, 1):
        at = f"{where}: team member {i}"
        if isinstance(m, str):
            m = {"name": m}
        if not isinstance(m, dict):
            raise WorkspaceError(f"{at}: expected name, council and role")
        role = _str(m, "role", at) or "visiting"
        if role not in ROLES:
            raise WorkspaceError(f"{at}: role must be one of {', '.join(ROLES)}")
        login = normal_login(_str(m, "login", at))
        if login and not LOGIN.match(login):
            raise WorkspaceError(f"{at}: login must be the name or email address the person signs in with, "
                                 "e.g. a.visitor@eastvale.gov.uk (letters, digits, and . _ @ + -)")
        team.append(Member(_str(m, "name", at, True), _str(m, "council", at), role, login))
    names = [m.name for m in team]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise WorkspaceError(f"{where}: team member '{dupes[0]}' is listed twice")
    logins = [m.login for m in team if m.login]
    dupes = sorted({n for n in logins if logins.count(n) > 1})
    if dupes:
        raise WorkspaceError(f"{where}: the login '{dupes[0]}' is given to two team members; each person signs in "
                             "with their own")
    reviewers = {m.name for m in team if m.rates}
    cases: list[Case] = []
    raw_cases = data.get("cases") or []
    if not isinstance(raw_cases, list):
        raise WorkspaceError(f"{where}: 'cases' must be a list of cases with id and reviewer")
    for i, c in enumerate(raw_cases, 1):
        at = f"{where}: case {i}"
        if not isinstance(c, dict):
            raise WorkspaceError(f"{at}: expected id and reviewer")
        cid = _str(c, "id", at, True)
        if not CASE_ID.match(cid):
            raise WorkspaceError(
                f"{at}: case id must be a short pseudonymous reference such as C07 "
                "(a letter, then up to 15 letters, digits, - or _), never a name or NHS number"
            )
        reviewer = _str(c, "reviewer", at, True)
        mods = c.get("moderators") or []
        if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
            raise WorkspaceError(f"{at}: 'moderators' must be a list of reviewer names")
        for who in [reviewer, *mods]:
            if who not in reviewers:
                raise WorkspaceError(f"{at}: '{who}' is not a reviewer in 'team'; add them to the team first")
        cases.append(Case(cid, reviewer, tuple(str(m) for m in mods)))
    ids = [c.id for c in cases]
    dupes = sorted({n for n in ids if ids.count(n) > 1})
    if dupes:
        raise WorkspaceError(f"{where}: case '{dupes[0]}' is listed twice")
    prev = data.get("previous_review") or {}
    if not isinstance(prev, dict):
        raise WorkspaceError(f"{where}: 'previous_review' must have 'date' and 'recommendations'")
    recs: list[Recommendation] = []
    raw_recs = prev.get("recommendations") or []
    if not isinstance(raw_recs, list):
        raise WorkspaceError(f"{where}: previous_review 'recommendations' must be a list, each with text and update")
    for i, r in enumerate(raw_recs, 1):
        at = f"{where}: previous_review recommendation {i}"
        if isinstance(r, str):
            r = {"text": r}
        if not isinstance(r, dict):
            raise WorkspaceError(f"{at}: expected text and update")
        status = _str(r, "status", at)
        if status:
            known = {st.casefold(): st for st in STATUSES}
            if status.casefold() not in known:
                raise WorkspaceError(f"{at}: status must be one of {', '.join(STATUSES)} (or left out)")
            status = known[status.casefold()]
        recs.append(Recommendation(_str(r, "text", at, True), _str(r, "update", at), status))
    questions = data.get("review_questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise WorkspaceError(f"{where}: 'review_questions' must be a list of text")
    glossary = data.get("glossary") or []
    if not isinstance(glossary, list) or not all(isinstance(g, str) for g in glossary):
        raise WorkspaceError(f"{where}: 'glossary' must be a list of words or phrases (places, teams, services) "
                             "that are not people's names")
    placement = _str(data, "cqc_evidence", where) or "section"
    if placement not in CQC_PLACEMENTS:
        raise WorkspaceError(f"{where}: 'cqc_evidence' must be 'section' (in the report's body) or 'appendix' "
                             "(after the signatories)")
    report_date = _str(data, "report_date", where)
    previous_date = _str(prev, "date", f"{where}: previous_review")
    for key, value in (("report_date", report_date), ("previous_review.date", previous_date)):
        day = _written_date(value, f"{where}: {key}")
        if day is not None:  # a date written as text ("December 2026") is printed as it is
            _check_window(day, f"{where}: {key}")
    return ReviewMeta(
        council=_str(data, "council", where, True),
        theme=_str(data, "theme", where, True),
        tool=_str(data, "tool", where, True),
        tool_version=_str(data, "tool_version", where, True),
        start=start,
        end=end,
        programme=_str(data, "programme", where) or "Practice Review Programme",
        review_questions=list(questions),
        team=team,
        cases=cases,
        previous_date=previous_date,
        previous_recommendations=recs,
        codebook=_str(data, "codebook", where) or "default",
        report_date=report_date,
        cqc_evidence=placement,
        glossary=[" ".join(g.split()) for g in glossary if g.strip()],
    )


def parse_names(raw: bytes, f: Path) -> list[str]:
    """The names of private/names.txt (file ``f``): one a line, blank lines and # comments skipped."""
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise WorkspaceError(f"{f}: not UTF-8 text; open it in a text editor and save it as UTF-8") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


class Workspace:
    """An open review workspace: its metadata, audit tool and store."""

    def __init__(self, path: Path, meta: ReviewMeta, tool: AuditTool,
                 sources: dict[str, bytes] | None = None) -> None:
        self.path = path
        self.meta = meta
        self.tool = tool
        # The bytes review.yaml and audit_tool.yaml held when they were parsed into meta and tool,
        # so a snapshot of the review (reviewkit.snapshot) holds the very text they came from.
        self.sources: dict[str, bytes] = dict(sources or {})

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    @property
    def narrative_dir(self) -> Path:
        return self.path / "narrative"

    def private_names(self) -> list[str]:
        """Names the host listed for screening; kept in the workspace, never exported."""
        f = self.path / NAMES_FILE
        if not f.exists():
            return []
        try:
            raw = f.read_bytes()
        except OSError as exc:
            raise WorkspaceError(f"{f}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        return parse_names(raw, f)

    def confirmed_words(self) -> list[str]:
        """Words the host confirmed are not names (private/confirmed_words.txt), for the publish gate."""
        f = self.path / CONFIRMED_FILE
        try:
            raw = f.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise WorkspaceError(f"{f}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        return parse_names(raw, f)

    def confirm_words(self, words: list[str]) -> int:
        """Add words to private/confirmed_words.txt (owner-only); returns how many were new.

        A word holding a digit run, an '@' or a space is refused: only single words and
        references are confirmed, never a number, an address or a phrase.
        """
        from .atomic import write_text

        for word in words:
            if not word.strip() or any(c.isspace() for c in word.strip()) or "@" in word or \
                    sum(c.isdigit() for c in word) >= 6:
                raise WorkspaceError("confirm takes single words or references, as 'reviewkit check --show-words' "
                                     "lists them; a number, an email address or a phrase cannot be confirmed: "
                                     "rewrite it instead")
        known = self.confirmed_words()
        folded = {w.casefold() for w in known}
        new = [w.strip() for w in dict.fromkeys(words) if w.strip().casefold() not in folded]
        if new:
            f = self.path / CONFIRMED_FILE
            header = "# Words the host confirmed are not people's names (reviewkit confirm); one a line.\n"
            write_text(f, header + "".join(f"{w}\n" for w in [*known, *new]), mode=0o600)
            self.purge_report_cache()
        return len(new)

    def purge_report_cache(self) -> None:
        """Delete earlier renders: after a redaction or a change to names.txt they may hold old text."""
        shutil.rmtree(self.path / REPORT_CACHE, ignore_errors=True)

    def stamp_report_cache(self, names: bytes | None = None) -> None:
        """Record which names.txt the cached renders were made with (see ``open_workspace``).

        ``names``: the bytes of names.txt the render screened with (default: the file as it is now).
        """
        cache = self.path / REPORT_CACHE
        if cache.is_dir():
            write_text(cache / _NAMES_STAMP, _names_digest(self.path) if names is None
                       else hashlib.sha256(names).hexdigest(), mode=0o600)

    def rules(self) -> Rules:
        return Rules(
            questions=tuple(self.tool.all_ids),
            scale=self.tool.scale,
            reviewers=tuple(self.meta.reviewers),
            cases={c.id: c.reviewers for c in self.meta.cases},
            names=tuple(self.private_names()),
        )

    def codebook(self) -> Codebook:
        """The review's frozen codebook (or the shipped one named in review.yaml)."""
        frozen = self.path / CODEBOOK_FILE
        return load_codebook(frozen if frozen.exists() else self.meta.codebook)

    def store(self) -> Store:
        """Open the store with this review's rules; close it (or use `with`) when done.

        Under the review hub the store also knows who signed in, and refuses a visiting
        reviewer's writes as anyone else or to a case not allocated to them.
        """
        from .session import current_session

        return Store(self.db_path, self.rules(), session=current_session(self.meta))

    def save_meta(self) -> None:
        """Write review.yaml back (after validating it round-trips)."""
        data = self.meta.to_yaml()
        parse_meta(data, str(self.path / REVIEW_FILE))
        _write_yaml(self.path / REVIEW_FILE, data)


def _dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _write_yaml(path: Path, data: Any) -> None:
    write_text(path, _dump_yaml(data))


def _names_digest(root: Path) -> str:
    f = root / "private" / "names.txt"
    return hashlib.sha256(f.read_bytes() if f.exists() else b"").hexdigest()


def _purge_stale_cache(ws: Workspace) -> None:
    """A names.txt changed since the cached renders (or unknown to them): clear the cache.

    Names are edited in a text editor, so the kit learns of a change only when it next opens
    the workspace; renders made before it may print a name now listed.
    """
    stamp = ws.path / REPORT_CACHE / _NAMES_STAMP
    if not (ws.path / REPORT_CACHE).is_dir():
        return
    try:
        recorded = stamp.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        recorded = ""
    if recorded != _names_digest(ws.path):
        ws.purge_report_cache()


_CASES_EXAMPLE = """\
# The case allocation. Replace the line 'cases: []' above with one entry per case record, like
# these (without the #): 'id' is the council's pseudonymous reference (never a name or NHS
# number), 'reviewer' rates it, and a moderation case lists 'moderators' who also rate it on
# their own so the ratings can be compared. Every name must be in 'team'.
# cases:
# - id: C01
#   reviewer: {first}
#   moderators: [{second}]
# - id: C02
#   reviewer: {first}
# - id: C03
#   reviewer: {second}
"""

_PREVIOUS_EXAMPLE = """\
  # The previous review, if there was one: its month and each recommendation with the host's
  # update on what has changed since (the report prints both). Replace the two lines above,
  # e.g. (without the #):
  # date: 2022-06
  # recommendations:
  # - text: Embed strengths-based conversations in every assessment.
  #   update: A new assessment form follows the conversation; audits show it used in 8 of 10 records.
  # - text: Make supervision reflective and regular.
  #   update: Monthly reflective supervision is recorded for every social worker.
"""


_GLOSSARY_EXAMPLE = """\
# Places, teams and services the narrative names that are not people (the publish gate reads
# them as ordinary words; anything else capitalised and not English is listed by
# 'reviewkit check' as a possible name to confirm), e.g. (without the #):
# glossary: [Brightwater Hub, Ashcombe Reablement Team, Millbrook]
"""


def _plain(name: str) -> str:
    """A name as YAML reads it back unchanged: bare if it can be, else quoted."""
    try:
        bare = yaml.safe_load(f"k: [{name}]") == {"k": [name]}
    except yaml.YAMLError:
        bare = False
    return name if bare else json.dumps(name, ensure_ascii=False)


def _new_review_yaml(meta: ReviewMeta) -> str:
    """A new review.yaml with commented examples of a case allocation and a previous review."""
    text = yaml.safe_dump(meta.to_yaml(), sort_keys=False, allow_unicode=True, width=100)
    names = [_plain(n) for n in (meta.reviewers or ["A. Visitor"])]
    example = _CASES_EXAMPLE.format(first=names[0], second=names[1] if len(names) > 1 else "B. Visitor")
    if "\ncases: []\n" in text:
        text = text.replace("\ncases: []\n", "\ncases: []\n" + example, 1)
    if "\n  recommendations: []\n" in text:
        text = text.replace("\n  recommendations: []\n", "\n  recommendations: []\n" + _PREVIOUS_EXAMPLE, 1)
    if "glossary:" not in text:
        text += _GLOSSARY_EXAMPLE
    return text


def _frozen_tool(tool: AuditTool) -> dict[str, Any]:
    """The tool's YAML with its rating scale written in, so later template edits change nothing."""
    assert tool.source is not None
    data = load_yaml(tool.source.read_bytes(), str(tool.source))
    data["scale"] = [{"label": lv.label, "code": lv.code, "score": lv.score} for lv in tool.scale.levels]
    return data


# The parts of a workspace that hold personal data or text not yet screened: only their owner
# may read them (other people on the same machine, a shared server above all, may not).
PRIVATE_FILES = (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm")
PRIVATE_TREES = (PRIVATE_DIR, ".cache")


def tighten_private_parts(root: Path) -> list[str]:
    """Make the store, private/ and the report cache owner-only; the names of those changed."""
    changed: list[str] = []

    def tighten(path: Path, mode: int) -> None:
        try:
            st = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or not st.st_mode & 0o077:
            return
        try:
            path.chmod(stat.S_IMODE(st.st_mode) & mode)
        except OSError:
            return
        top = path.relative_to(root).parts[0].split("-")[0]  # review.db-wal, -shm: the store
        if top not in changed:
            changed.append(top)

    for name in PRIVATE_FILES:
        tighten(root / name, 0o700)
    for name in PRIVATE_TREES:
        tree = root / name
        if not tree.is_dir() or tree.is_symlink():
            continue
        tighten(tree, 0o700)
        for folder, dirs, files in os.walk(tree):
            for d in dirs:
                tighten(Path(folder) / d, 0o700)
            for f in files:
                tighten(Path(folder) / f, 0o700)
    return changed


def open_workspace(path: str | Path) -> Workspace:
    """Open and validate a workspace folder."""
    root = Path(path)
    f = root / REVIEW_FILE
    if not root.is_dir():
        raise WorkspaceError(f"{root}: no such workspace folder; create one with 'reviewkit new {root}'")
    if not f.exists():
        raise WorkspaceError(f"{root}: not a review workspace (no {REVIEW_FILE}); create one with 'reviewkit new'")
    raw_review = f.read_bytes()
    data = load_yaml(raw_review, str(f), WorkspaceError)
    old_format = FORMAT
    if isinstance(data, dict):  # (anything else: parse_meta says what is wrong)
        data, old_format = migrations.upgrade_review_data(data, str(f))  # a newer format is refused here
    migrations.check_store_not_newer(root / DB_FILE)
    meta = parse_meta(data, str(f))
    tightened = tighten_private_parts(root)
    if tightened:
        _log.warning("%s: %s could be read by other users of this computer; made private to you",
                     root, ", ".join(tightened))
    tool_file = root / TOOL_FILE
    try:
        raw_tool = tool_file.read_bytes()
        tool = parse_tool(load_yaml(raw_tool, str(tool_file)), str(tool_file))
    except FileNotFoundError:
        raise WorkspaceError(f"{tool_file}: missing; copy the audit tool '{meta.tool}' there") from None
    except UnicodeDecodeError:
        raise WorkspaceError(f"{tool_file}: not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise WorkspaceError(f"{tool_file}:{line} is not valid YAML; restore it from the review's backup "
                             "or a copy of the audit tool") from None
    except ToolError as exc:
        raise WorkspaceError(str(exc)) from None
    if (tool.id, tool.version) != (meta.tool, meta.tool_version):
        raise WorkspaceError(
            f"{f}: says tool '{meta.tool}' version {meta.tool_version} but {TOOL_FILE} is "
            f"'{tool.id}' version {tool.version}"
        )
    if old_format != FORMAT:  # valid in the current format: now write it so
        migrations.save_upgraded_review_file(f, data, old_format, _dump_yaml)
    ws = Workspace(root, meta, tool, {REVIEW_FILE: raw_review, TOOL_FILE: raw_tool})
    _purge_stale_cache(ws)
    return ws


def create_workspace(
    path: str | Path,
    *,
    council: str,
    theme: str,
    tool: str = "strengths-based-practice",
    reviewers: list[str] | None = None,
    host: str | None = None,
    review_questions: list[str] | None = None,
) -> Workspace:
    """Create a new workspace folder with review.yaml, the tool copy, narrative stubs and store."""
    root = Path(path)
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root}: folder exists and is not empty; choose a new folder")
    check_location(root)
    audit_tool = load_tool(tool)
    team = [Member(n, "", "host" if n == host else "visiting") for n in (reviewers or [])]
    if host and host not in (reviewers or []):
        team.append(Member(host, "", "host"))
    meta = ReviewMeta(council=council, theme=theme, tool=audit_tool.id, tool_version=audit_tool.version, team=team,
                      review_questions=[" ".join(q.split()) for q in (review_questions or []) if q.strip()])
    parse_meta(meta.to_yaml(), str(root / REVIEW_FILE))  # fail before writing anything
    codebook = load_codebook(meta.codebook)
    existed = root.exists()
    try:
        make_folder(root, exist_ok=True)  # (an empty folder the user chose keeps its mode)
        return _fill_workspace(root, meta, audit_tool, codebook)
    except (OSError, ReviewkitError) as exc:  # a full disk: FileWriteError, StoreError or OSError
        # Half a workspace would be refused as "not empty" next time: leave none.
        if existed:
            for child in list(root.iterdir()):
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
        reason = describe_failure(exc) if isinstance(exc, OSError) else str(exc)
        raise WorkspaceError(f"{root}: cannot create the workspace there ({reason})") from None


def _fill_workspace(root: Path, meta: ReviewMeta, audit_tool: AuditTool, codebook: Codebook) -> Workspace:
    _write_yaml(root / TOOL_FILE, _frozen_tool(audit_tool))
    assert codebook.source is not None
    write_bytes(root / CODEBOOK_FILE, codebook.source.read_bytes())
    write_text(root / REVIEW_FILE, _new_review_yaml(meta))
    make_folder(root / "narrative")
    from .findings import narrative_stub  # (here: it brings in the CQC framework, for its stub)

    for name, title in NARRATIVE_SECTIONS.items():
        write_text(root / "narrative" / f"{name}.md", narrative_stub(name, title, meta.review_questions))
    make_folder(root / PRIVATE_DIR)
    write_text(root / PRIVATE_DIR / "names.txt",
               "# Names to screen out of every note and quote, one per line (people, carers, staff).\n"
               "# This file never leaves the workspace.\n")
    ws = Workspace(root, meta, audit_tool)
    ws.store().close()
    return ws
