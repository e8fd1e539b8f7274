"""An in-house audit programme: its folder, programme.yaml and its audit store.

In: a folder path (and, for a new programme, the council, the audit tool, the teams and the
auditors). Out: a checked ``Programme``: council, title, tool, teams, auditors, practice
themes, the changes the host recorded (each starts new control limits) and the action plan to
track, with ``store()`` to read and write its audits.

A programme is a sibling of a review workspace, not a review: it runs for years, each audit is
dated to a month and a team, and it is rated by the council's own auditors. It has its own
small store (``reviewkit.inhouse.store``) rather than extra tables in a review's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import make_folder, write_text
from reviewkit.core.errors import ProgrammeError, ToolError
from reviewkit.core.tools import AuditTool, load_tool
from reviewkit.core.yamlfile import load_yaml
from reviewkit.figures.tracking import Theme
from reviewkit.inhouse.store import AuditStore
from reviewkit.review.files import NAMES_FILE
from reviewkit.review.workspace import parse_names

__all__ = ["PROGRAMME_FILE", "Change", "Programme", "create_programme", "is_programme", "open_programme"]

PROGRAMME_FILE = "programme.yaml"
STORE_FILE = "audits.sqlite"
FORMAT = "reviewkit-programme"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_KEYS = {"format", "version", "council", "title", "tool", "teams", "auditors", "themes", "changes", "action_plan"}
BETTER = ("up", "down", "neither")


@dataclass(frozen=True)
class Change:
    """A change the host recorded: from this month the control limits are worked out afresh."""

    month: str
    what: str


@dataclass
class Programme:
    """A checked in-house audit programme."""

    path: Path
    council: str
    title: str
    tool: AuditTool
    teams: tuple[str, ...]
    auditors: tuple[str, ...]
    themes: tuple[Theme, ...] = ()
    changes: tuple[Change, ...] = ()
    action_plan: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def store_path(self) -> Path:
        return self.path / STORE_FILE

    def store(self) -> AuditStore:
        return AuditStore(self.store_path)

    def team(self, name: str) -> str | None:
        """The team as programme.yaml spells it, matched without regard to case and spacing."""
        key = " ".join(name.split()).casefold()
        return next((t for t in self.teams if t.casefold() == key), None)

    def auditor(self, name: str) -> str | None:
        key = " ".join(name.split()).casefold()
        return next((a for a in self.auditors if a.casefold() == key), None)

    def theme(self, text: str) -> Theme | None:
        key = " ".join(text.split()).casefold()
        return next((t for t in self.themes if key in (t.id.casefold(), t.title.casefold())), None)

    def screening_names(self) -> list[str]:
        """The names screening looks for: the auditors, and the private names list (private/names.txt) if any."""
        f = self.path / NAMES_FILE
        return [*self.auditors, *(parse_names(f.read_bytes(), f) if f.is_file() else [])]

    def published_text(self) -> dict[str, str]:
        """Every piece of typed text the tracking report prints, by where it is in programme.yaml."""
        out = {"council": self.council, "title": self.title}
        out.update({f"teams entry {i}": t for i, t in enumerate(self.teams, 1)})
        out.update({f"themes entry {i}": t.title for i, t in enumerate(self.themes, 1)})
        out.update({f"changes entry {i}": c.what for i, c in enumerate(self.changes, 1)})
        return out


def is_programme(path: str | Path) -> bool:
    return (Path(path) / PROGRAMME_FILE).is_file()


def _text(value: Any, where: str, what: str, *, required: bool = True, limit: int = 200) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ProgrammeError(f"{where}: '{what}' is missing; add it")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ProgrammeError(f"{where}: '{what}' must be text")
    text = " ".join(str(value).split())
    if len(text) > limit:
        raise ProgrammeError(f"{where}: '{what}' is longer than {limit} characters; shorten it")
    return text


def _names(raw: Any, where: str, key: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProgrammeError(f"{where}: '{key}' must be a list")
    out: list[str] = []
    for i, item in enumerate(raw, 1):
        value = item.get("name") if isinstance(item, dict) else item
        name = _text(value, where, f"{key} entry {i}" + (" name" if isinstance(item, dict) else ""))
        if name.casefold() in {n.casefold() for n in out}:
            raise ProgrammeError(f"{where}: {key} entry {i} repeats an earlier one; list each once")
        out.append(name)
    return tuple(out)


def _themes(raw: Any, where: str) -> tuple[Theme, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProgrammeError(f"{where}: 'themes' must be a list of {{id, title, better}}")
    out: list[Theme] = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise ProgrammeError(f"{where}: themes entry {i}: expected id, title and better (up, down or neither)")
        tid = _text(item.get("id"), where, f"themes entry {i} id", limit=40)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", tid):
            raise ProgrammeError(f"{where}: themes entry {i}: the id may hold only letters, digits, - and _")
        better = _text(item.get("better", "neither"), where, f"themes entry {i} better")
        if better not in BETTER:
            raise ProgrammeError(f"{where}: themes entry {i}: 'better' must be up, down or neither")
        if tid.casefold() in {t.id.casefold() for t in out}:
            raise ProgrammeError(f"{where}: themes entry {i}: the id is used twice")
        out.append(Theme(tid, _text(item.get("title"), where, f"themes entry {i} title"), better))
    return tuple(out)


def _changes(raw: Any, where: str) -> tuple[Change, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProgrammeError(f"{where}: 'changes' must be a list of {{month: YYYY-MM, what: …}}")
    out = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise ProgrammeError(f"{where}: changes entry {i}: expected month (YYYY-MM) and what changed")
        month = str(item.get("month", "")).strip()
        if not _MONTH.match(month):
            raise ProgrammeError(f"{where}: changes entry {i}: 'month' must be a month such as 2027-04 (quote it)")
        out.append(Change(month, _text(item.get("what"), where, f"changes entry {i} what")))
    return tuple(sorted(out, key=lambda c: c.month))


def open_programme(path: str | Path) -> Programme:
    """Read and check a programme folder; errors name the key in programme.yaml to fix."""
    folder = Path(path)
    file = folder / PROGRAMME_FILE
    if not file.is_file():
        raise ProgrammeError(f"{folder}: not an in-house audit programme (no {PROGRAMME_FILE}); create one with "
                             f"reviewkit new {folder} --in-house --council … --team … --auditor …")
    where = str(file)
    data = load_yaml(file.read_bytes(), where, ProgrammeError)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProgrammeError(f"{where}: expected 'format: {FORMAT}' and the programme's keys")
    extra = sorted(str(k) for k in data if k not in _KEYS)
    if extra:
        raise ProgrammeError(f"{where}: unexpected key '{extra[0]}'; expected {', '.join(sorted(_KEYS))}")
    if data.get("version", 1) != 1:
        raise ProgrammeError(f"{where}: programme version is not supported (expected 1)")
    try:
        tool = load_tool(_text(data.get("tool"), where, "tool"))
    except ToolError as exc:
        raise ProgrammeError(f"{where}: 'tool': {exc}") from None
    teams = _names(data.get("teams"), where, "teams")
    if not teams:
        raise ProgrammeError(f"{where}: 'teams' lists no team; add the teams whose work is audited")
    plan = _text(data.get("action_plan"), where, "action_plan", required=False)
    return Programme(folder, _text(data.get("council"), where, "council"),
                     _text(data.get("title") or "Practice quality audit", where, "title"), tool, teams,
                     _names(data.get("auditors"), where, "auditors"), _themes(data.get("themes"), where),
                     _changes(data.get("changes"), where), plan, data)


_TEMPLATE = """\
# An in-house practice audit programme (reviewkit). Audits are imported with
#   reviewkit import {path} audits.xlsx
# and tracked month by month with
#   reviewkit tracking {path} --to html,pdf,docx
format: reviewkit-programme
version: 1
council: {council}
title: {title}
# The audit tool every auditor uses (a shipped tool id or a path to a tool YAML file).
tool: {tool}
# The teams whose work is audited: each audit names one of them.
teams:
{teams}
# The council's own auditors (team managers, leads): each audit names the auditor, and a
# moderation sample names a second one. These names are never printed in the tracking report.
auditors:
{auditors}
# Practice themes auditors may tag on an audit (the 'themes' column, ids separated by ';').
# 'better' says which way is better for the share of audits tagged: up, down or neither.
# themes:
#   - {{id: rationale, title: Rationale for decisions not evidenced, better: down}}
#   - {{id: voice, title: Person's own words recorded, better: up}}
# A change to how audits are done starts new control limits from its month; nothing else does.
# changes:
#   - {{month: "2027-04", what: new audit tool from April}}
# The action plan whose measures of success name a question (an .xlsx or .docx file from
# reviewkit action-plan, in this folder): each such measure's monthly figure is tracked.
# action_plan: action-plan.xlsx
"""


def _yaml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_programme(path: str | Path, *, council: str, tool: str, teams: Sequence[str], auditors: Sequence[str],
                     title: str = "Practice quality audit") -> Programme:
    """Make a new programme folder with programme.yaml and an empty store; refuses an existing folder's programme."""
    folder = Path(path)
    if (folder / PROGRAMME_FILE).exists() or (folder / "review.yaml").exists():
        raise ProgrammeError(f"{folder}: already holds a programme or a review; choose a new folder")
    if not teams:
        raise ProgrammeError("name at least one team whose work is audited: --team NAME (repeat)")
    try:
        load_tool(tool)
    except ToolError as exc:
        raise ProgrammeError(f"--tool: {exc}") from None
    text = _TEMPLATE.format(path=folder, council=_yaml_text(council), title=_yaml_text(title),
                            tool=_yaml_text(tool),
                            teams="\n".join(f"  - {_yaml_text(t)}" for t in teams),
                            auditors="\n".join(f"  - {_yaml_text(a)}" for a in auditors) or "  []")
    make_folder(folder, exist_ok=True)
    write_text(folder / PROGRAMME_FILE, text)
    programme = open_programme(folder)
    with programme.store():
        pass
    return programme
