"""review.yaml: what it says about a review (``ReviewMeta``), checked, and a new one's text.

In: review.yaml's content as YAML loads it (an older format is upgraded first). Out: a
``ReviewMeta`` with its team, case allocation and previous review, or a WorkspaceError that
names the key and the fix; ``to_yaml`` for writing it back, and the text of a new review.yaml
with commented examples of what a host fills in.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from reviewkit.core.errors import WorkspaceError
from reviewkit.review import migrations
from reviewkit.review.datewindow import date_outside_window

FORMAT = migrations.WORKSPACE_FORMAT  # review.yaml's 'format'; see reviewkit.review.migrations
ROLES = ("visiting", "host", "associate")
CASE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,15}$")
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,127}$")


def normal_login(login: str) -> str:
    """A sign-in name as the hub reports it: trimmed and lower case (email addresses ignore case)."""
    return login.strip().casefold()


CQC_PLACEMENTS = ("section", "appendix")
# The report's order: a short main report with the technical tables in appendices after it, or
# the programme's earlier order (every section in the body).
REPORT_LAYOUTS = ("main-and-appendix", "classic")
# How the case records were chosen (review.yaml's case_selection.method), with its plain words.
SELECTIONS = {"random": "chosen at random from a list", "stratified": "chosen at random within each team",
              "council": "chosen by the council", "mixed": "chosen partly at random and partly by the council"}
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
    team: str = ""  # the council team that holds the record (optional; per-team figures go to the team annex)

    @property
    def reviewers(self) -> tuple[str, ...]:
        return (self.reviewer, *self.moderators)


@dataclass(frozen=True)
class Recommendation:
    """A recommendation of the previous review, with the host's update on it."""

    text: str
    update: str = ""
    status: str = ""
    start: str = ""  # the starting figure the action plan kept, e.g. "Q11 Management oversight: 50% …"
    target: str = ""
    rag: str = ""  # Red, Amber or Green, as the council's action plan last rated it


@dataclass(frozen=True)
class ConfirmedClaim:
    """A claim in the narrative the checker flags and the host confirmed is true, with why.

    Kept by file and the claim's words (not its line), so it holds when the text around it moves.
    """

    file: str  # "narrative/review_questions.md"
    text: str  # the claim's words as the checker quotes them
    reason: str
    sentence: str = ""  # a digest of the whole sentence: when its words change, the claim is checked again


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
    report_layout: str = "main-and-appendix"  # one of REPORT_LAYOUTS
    software_credit: bool = False  # "Produced with reviewkit …" at the end of the report
    case_selection: str = ""  # one of SELECTIONS, or "" when not recorded
    selection_description: str = ""  # the host's own words on how the records were chosen (published, screened)
    # Places, teams, services and other words of this review that are not people's names: the
    # publish gate reads them as ordinary (reviewkit.privacy.gate).
    glossary: list[str] = field(default_factory=list)
    # Claims in the narrative the host confirmed with a reason (reviewkit confirm-claim); listed
    # in the team annex, and a final report no longer waits for them.
    confirmed_claims: list[ConfirmedClaim] = field(default_factory=list)

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
                {"id": c.id, "reviewer": c.reviewer, **({"moderators": list(c.moderators)} if c.moderators else {}),
                 **({"team": c.team} if c.team else {})}
                for c in self.cases
            ],
            "previous_review": {
                "date": self.previous_date,
                "recommendations": [{"text": r.text, "update": r.update,
                                     **{k: v for k, v in (("status", r.status), ("start", r.start),
                                                          ("target", r.target), ("rag", r.rag)) if v}}
                                    for r in self.previous_recommendations],
            },
            "codebook": self.codebook,
            "cqc_evidence": self.cqc_evidence,
        }
        if self.report_layout != REPORT_LAYOUTS[0]:
            data["report_layout"] = self.report_layout
        if self.software_credit:
            data["software_credit"] = True
        if self.case_selection or self.selection_description:
            data["case_selection"] = {"method": self.case_selection,
                                      **({"description": self.selection_description}
                                         if self.selection_description else {})}
        if self.glossary:
            data["glossary"] = list(self.glossary)
        if self.confirmed_claims:
            data["confirmed_claims"] = [{"file": c.file, "text": c.text, "reason": c.reason,
                                         **({"sentence": c.sentence} if c.sentence else {})}
                                        for c in self.confirmed_claims]
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


def _selection(value: Any, where: str) -> tuple[str, str]:
    """review.yaml's case_selection: a method alone ('council') or {method, description}."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, str):
        value = {"method": value}
    if not isinstance(value, dict):
        raise WorkspaceError(f"{where}: 'case_selection' must have 'method' (one of {', '.join(SELECTIONS)}) "
                             "and, if you like, 'description'")
    at = f"{where}: case_selection"
    method = _str(value, "method", at).lower()
    if method and method not in SELECTIONS:
        raise WorkspaceError(f"{at}: 'method' must be one of {', '.join(SELECTIONS)} "
                             "(random from a list, stratified by team, chosen by the council, or mixed)")
    return method, " ".join(_str(value, "description", at).split())


def _check_window(day: dt.date, where: str) -> None:
    """Refuse a review date typed with the wrong year (0001, 2206): it would print in the report."""
    outside = date_outside_window(day)
    if outside:
        raise WorkspaceError(f"{where} {outside} (written YYYY-MM-DD)")


def item_lines(text: str | bytes) -> dict[tuple[str, int], int]:
    """The line (from 1) each team member, case and previous recommendation starts on, by (list, number).

    For messages only: ``text`` has already been read safely (``load_yaml``), so composing it
    again is bounded; a file that cannot be composed gives no lines.
    """
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str, int], int] = {}

    def items(name: str, node: Any) -> None:
        if isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value, 1):
                lines[(name, i)] = item.start_mark.line + 1

    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value in ("team", "cases"):
                items(key.value, value)
            elif isinstance(key, yaml.ScalarNode) and key.value == "previous_review" and \
                    isinstance(value, yaml.MappingNode):
                for k, v in value.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == "recommendations":
                        items("recommendations", v)
    return lines


def _line(lines: dict[tuple[str, int], int] | None, name: str, i: int) -> str:
    n = (lines or {}).get((name, i))
    return f"line {n}, " if n else ""


def parse_meta(data: Any, where: str, lines: dict[tuple[str, int], int] | None = None) -> ReviewMeta:
    """Validate review.yaml content; each message names the key and the fix (and the line, given ``lines``
    from ``item_lines``)."""
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
        at = f"{where}: {_line(lines, 'team', i)}team member {i}"
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
        second = [i for i, m in enumerate(team, 1) if m.login == dupes[0]][1]
        raise WorkspaceError(f"{where}: {_line(lines, 'team', second)}the login '{dupes[0]}' is given to two team "
                             "members; each person signs in with their own")
    reviewers = {m.name for m in team if m.rates}
    cases: list[Case] = []
    raw_cases = data.get("cases") or []
    if not isinstance(raw_cases, list):
        raise WorkspaceError(f"{where}: 'cases' must be a list of cases with id and reviewer")
    for i, c in enumerate(raw_cases, 1):
        at = f"{where}: {_line(lines, 'cases', i)}case {i}"
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
        cases.append(Case(cid, reviewer, tuple(str(m) for m in mods), " ".join(_str(c, "team", at).split())))
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
        at = f"{where}: {_line(lines, 'recommendations', i)}previous_review recommendation {i}"
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
        recs.append(Recommendation(_str(r, "text", at, True), _str(r, "update", at), status,
                                   _str(r, "start", at), _str(r, "target", at), _str(r, "rag", at)))
    questions = data.get("review_questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise WorkspaceError(f"{where}: 'review_questions' must be a list of text")
    glossary = data.get("glossary") or []
    if not isinstance(glossary, list) or not all(isinstance(g, str) for g in glossary):
        raise WorkspaceError(f"{where}: 'glossary' must be a list of words or phrases (places, teams, services) "
                             "that are not people's names")
    confirmed = _confirmed_claims(data.get("confirmed_claims"), where)
    placement = _str(data, "cqc_evidence", where) or "section"
    if placement not in CQC_PLACEMENTS:
        raise WorkspaceError(f"{where}: 'cqc_evidence' must be 'section' (in the report's body) or 'appendix' "
                             "(after the signatories)")
    layout = _str(data, "report_layout", where) or REPORT_LAYOUTS[0]
    if layout not in REPORT_LAYOUTS:
        raise WorkspaceError(f"{where}: 'report_layout' must be 'main-and-appendix' (a short main report, the "
                             "technical tables in appendices) or 'classic' (every section in the body)")
    credit = data.get("software_credit", False)
    if not isinstance(credit, bool):
        raise WorkspaceError(f"{where}: 'software_credit' must be true (end the report with the line 'Produced "
                             "with reviewkit') or false")
    selection, described = _selection(data.get("case_selection"), where)
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
        report_layout=layout,
        software_credit=credit,
        case_selection=selection,
        selection_description=described,
        glossary=[" ".join(g.split()) for g in glossary if g.strip()],
        confirmed_claims=confirmed,
    )


def _confirmed_claims(raw: Any, where: str) -> list[ConfirmedClaim]:
    """review.yaml's confirmed_claims: each a file, the claim's words and the host's reason."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise WorkspaceError(f"{where}: 'confirmed_claims' must be a list, each with file, text and reason "
                             "(reviewkit confirm-claim writes them)")
    out = []
    for i, c in enumerate(raw, 1):
        at = f"{where}: confirmed_claims entry {i}"
        if not isinstance(c, dict):
            raise WorkspaceError(f"{at}: expected file, text and reason")
        claim = ConfirmedClaim(_str(c, "file", at, True), " ".join(_str(c, "text", at, True).split()),
                               _str(c, "reason", at), _str(c, "sentence", at))
        if not claim.reason:
            raise WorkspaceError(f"{at}: 'reason' is required: say why the claim is true although the figures "
                                 "seem to contradict it")
        out.append(claim)
    return out



_CASES_EXAMPLE = """\
# The case allocation. Replace the line 'cases: []' above with one entry per case record, like
# these (without the #): 'id' is the council's pseudonymous reference (never a name or NHS
# number), 'reviewer' rates it, and a moderation case lists 'moderators' who also rate it on
# their own so the ratings can be compared. Every name must be in 'team'.
# 'team' (optional) is the council team that holds the record: the team annex gives figures
# per team, the published report never does.
# cases:
# - id: C01
#   reviewer: {first}
#   moderators: [{second}]
#   team: Long-term support
# - id: C02
#   reviewer: {first}
#   team: Hospital discharge
# - id: C03
#   reviewer: {second}
#   team: Long-term support
"""

_DATES_COMMENT = """\
# Dates are written YYYY-MM-DD, e.g. start: 2026-10-05 (report_date too); the previous
# review's date may be a month, YYYY-MM, e.g. 2022-06.
"""

_SELECTION_EXAMPLE = """\
# How the case records were chosen (the report says what its figures can stand for; a final
# report needs it): 'method' is one of random (at random from a list of the council's records),
# stratified (at random within each team), council (the council chose them) or mixed (some of
# each); 'description' (optional) says more, in words that name no one. E.g. (without the #):
# case_selection:
#   method: random
#   description: 20 drawn at random from the 240 assessments completed April to June 2026.
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


def new_review_yaml(meta: ReviewMeta) -> str:
    """A new review.yaml with commented examples of a case allocation and a previous review."""
    text = yaml.safe_dump(meta.to_yaml(), sort_keys=False, allow_unicode=True, width=100)
    names = [_plain(n) for n in (meta.reviewers or ["A. Visitor"])]
    example = _CASES_EXAMPLE.format(first=names[0], second=names[1] if len(names) > 1 else "B. Visitor")
    if "\ncases: []\n" in text:
        text = text.replace("\ncases: []\n", "\ncases: []\n" + example, 1)
    if "\n  recommendations: []\n" in text:
        text = text.replace("\n  recommendations: []\n", "\n  recommendations: []\n" + _PREVIOUS_EXAMPLE, 1)
    if "\ndates:" in text:
        text = text.replace("\ndates:", "\n" + _DATES_COMMENT + "dates:", 1)
    if "case_selection:" not in text:
        text += _SELECTION_EXAMPLE
    if "glossary:" not in text:
        text += _GLOSSARY_EXAMPLE
    return text
