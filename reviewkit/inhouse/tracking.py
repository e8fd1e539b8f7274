"""What the tracking report is built from: a programme's audits read once, as measures, gaps and signals.

In: an in-house programme (``reviewkit.inhouse.programme``). Out: ``Tracking``: the months
covered, a p-chart per measure for the council (and per team when asked: the overall judgement,
each question and each theme; signals.csv keeps only the team measures whose counts support a chart), the practice themes,
the moderation sample's agreement per month, feedback counts, what is missing before a final
report (``gaps``), the rows of signals.csv and the action plan's measures that name a question.
Only the first auditor's rating of each record counts in the charts; moderators' ratings are
compared with it, never added to it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import pandas as pd

from reviewkit.core.errors import ImportFileError, ProgrammeError
from reviewkit.figures.spc import too_few
from reviewkit.figures.tracking import Measure, measures, month_label, month_span, signal_rows, theme_measures
from reviewkit.inhouse.programme import Programme
from reviewkit.intake.actionplan import read_plan

__all__ = ["PlanMeasure", "Tracking", "load_tracking", "signals_csv"]

SIGNAL_COLUMNS = ("measure", "team", "month", "rule", "direction")


@dataclass(frozen=True)
class PlanMeasure:
    """An action plan row whose measure of success names a question, and that question's measure."""

    number: int
    recommendation: str
    measure_text: str
    status: str
    measure: Measure


@dataclass
class Tracking:
    programme: Programme
    months: list[str]
    council: list[Measure]
    themes: list[Measure]
    teams: dict[str, list[Measure]] = field(default_factory=dict)
    team_themes: dict[str, list[Measure]] = field(default_factory=dict)
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)  # per month: audits, moderated, agreement, feedback
    gaps: list[str] = field(default_factory=list)
    plan: list[PlanMeasure] = field(default_factory=list)

    @property
    def year(self) -> list[str]:
        """The latest twelve months (all of them while there are fewer)."""
        return self.months[-12:]

    def all_measures(self) -> list[Measure]:
        """Every measure read: the council's, and each team's that its counts support (``spc.too_few``)."""
        out = [*self.council, *self.themes]
        for team in self.teams:
            out += [m for m in self.team_measures(team) if not too_few(m.chart)]
        return out

    def team_measures(self, team: str) -> list[Measure]:
        """A team's overall judgement, each question and each theme, in the report's order."""
        return [*self.teams.get(team, []), *self.team_themes.get(team, [])]


def _counts(audits: pd.DataFrame, moderation: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """Per month: audits, moderated audits, agreement on the overall judgement, audits with feedback."""
    per = pd.DataFrame(index=pd.Index(months, name="month"))
    per["audits"] = audits.groupby("month").size().reindex(months, fill_value=0)
    per["feedback"] = audits[audits["feedback_from"] != ""].groupby("month").size().reindex(months, fill_value=0)
    per["positive"] = audits[audits["feedback"] == "positive"].groupby("month").size().reindex(months, fill_value=0)
    mod = moderation.set_index("month")
    per["moderated"] = mod["moderated"].reindex(months, fill_value=0).astype(int)
    per["agreed"] = mod["agreed"].reindex(months, fill_value=0).astype(int)
    return per.reset_index()


def _gaps(counts: pd.DataFrame) -> list[str]:
    gaps = []
    for row in counts.itertuples(index=False):
        if not row.audits:
            gaps.append(f"{month_label(row.month)}: no audits recorded (import them, or record why in the narrative)")
        elif not row.moderated:
            gaps.append(f"{month_label(row.month)}: no moderation sample (a second auditor on some records)")
    return gaps


def _plan(programme: Programme, council: list[Measure]) -> list[PlanMeasure]:
    if not programme.action_plan:
        return []
    path = programme.path / programme.action_plan
    if not path.is_file():
        raise ProgrammeError(f"{programme.path / 'programme.yaml'}: 'action_plan' names a file that is not in the "
                             "programme's folder; put the plan there or remove the key")
    try:
        plan = read_plan(path)
    except ImportFileError as exc:
        raise ProgrammeError(f"{path}: the action plan cannot be read ({exc.problems[0]})") from None
    by_key = {m.key.casefold(): m for m in council}
    titles = {q.title.casefold(): q.id for q in programme.tool.questions}
    out = []
    for row in plan.rows:
        text = row.measure or ""
        named = [by_key[k] for k in re.findall(r"\b(q\d+)\b", text.casefold()) if k in by_key]
        named += [by_key[qid.casefold()] for t, qid in titles.items() if t in text.casefold()]
        if named:
            out.append(PlanMeasure(row.number, row.recommendation, text, row.status, named[0]))
    return out


def load_tracking(programme: Programme, *, by_team: bool = False) -> Tracking:
    """Read the programme's store once and build every measure the report shows."""
    with programme.store() as store:
        audits = store.audits()
        first = store.first_counts()
        moderation = store.moderation_counts(programme.tool.overall.id)
    if audits.empty:
        raise ProgrammeError(f"{programme.path}: no audits yet; import them with reviewkit import {programme.path} "
                             "FILE.xlsx")
    months = month_span(str(audits["month"].min()), str(audits["month"].max()))
    changes = [c.month for c in programme.changes]
    tool = programme.tool
    track = Tracking(programme, months, measures(first, tool, months, changes),
                     theme_measures(audits, programme.themes, months, changes))
    if by_team:
        for team in programme.teams:
            track.teams[team] = measures(first, tool, months, changes, team=team)
            track.team_themes[team] = theme_measures(audits, programme.themes, months, changes, team=team)
    track.counts = _counts(audits, moderation, months)
    track.gaps = _gaps(track.counts)
    track.plan = _plan(programme, track.council)
    return track


def signals_csv(track: Tracking) -> str:
    """signals.csv: one row per month a Making Data Count rule marks (measure, team, month, rule, direction)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, SIGNAL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(signal_rows(track.all_measures()))
    return buf.getvalue()
