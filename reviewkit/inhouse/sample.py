"""The fictional sample in-house audit programme, to try the tracking report.

In: a new folder. Out: a programme of 18 months of audits by four teams (about 60 records a
month, a moderation sample each month, some feedback), imported through the same checked
import a council uses (the file is kept as sample-audits.csv), and an action plan whose
measures of success name questions. Everything is invented and seeded, so the same programme
is built every time: no name, reference or figure is about a real council, team or person.

What is true of it, so the report can be checked against it: question ``IMPROVING`` truly
improves from month 13 (its chance of Outstanding or Good rises from 55% to 82%); team
``WORSENING`` truly worsens from month 13 (its overall judgement's chance falls from 75% to
35%); everything else is stable, month-to-month noise only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from reviewkit.core.atomic import write_text
from reviewkit.figures.tracking import month_span
from reviewkit.inhouse.importer import import_audits
from reviewkit.inhouse.programme import Programme, create_programme, open_programme
from reviewkit.intake.actionplan import ActionPlan, PlanRow, write_plan

__all__ = ["FIRST_MONTH", "IMPROVING", "LAST_MONTH", "SEED", "TEAMS", "WORSENING", "build_sample_programme"]

SEED = 4  # one whose noise raises no false signal at the latest month (see the module docstring)
FIRST_MONTH, LAST_MONTH = "2025-07", "2026-12"
CHANGE_AT = 12  # months 13 onwards differ
COUNCIL = "Eastvale Borough Council"
TEAMS = ("Northgate Locality Team", "Riverside Locality Team", "Hillcrest Hospital Team", "Brookfield Learning Disability Team")
WORSENING = "Riverside Locality Team"
IMPROVING = "q6"
AUDITORS = ("M. Auditor", "N. Auditor", "P. Auditor", "R. Auditor", "S. Auditor", "T. Auditor", "V. Auditor",
            "W. Auditor")
THEMES_YAML = """themes:
  - {id: rationale, title: Rationale for decisions not evidenced, better: down}
  - {id: voice, title: Person's own words recorded, better: up}
  - {id: carers, title: Carer's needs considered, better: up}
changes: []
action_plan: action-plan.xlsx
"""
THEME_RATES = {"rationale": 0.44, "voice": 0.60, "carers": 0.35}
LEVELS_GOOD, LEVELS_NOT = ("Outstanding", "Good"), ("Requires Improvement", "Inadequate")


def _level(rng: np.random.Generator, good: bool) -> str:
    if good:
        return LEVELS_GOOD[0] if rng.random() < 0.2 else LEVELS_GOOD[1]
    return LEVELS_NOT[0] if rng.random() < 0.75 else LEVELS_NOT[1]


def _rows(programme: Programme) -> list[dict[str, str]]:
    rng = np.random.default_rng(SEED)
    tool = programme.tool
    base = {q: 0.62 + 0.02 * (i % 5) for i, q in enumerate(tool.question_ids)}
    base[IMPROVING] = 0.55
    rows: list[dict[str, str]] = []
    number = 0
    for m, month in enumerate(month_span(FIRST_MONTH, LAST_MONTH), 1):
        later = m > CHANGE_AT
        for t, team in enumerate(TEAMS):
            for _ in range(int(rng.integers(12, 21))):
                number += 1
                auditor = AUDITORS[(2 * t + int(rng.integers(0, 2))) % len(AUDITORS)]
                row = {"audit_id": f"IA-{number:05d}", "month": month, "team": team, "auditor": auditor,
                       "role": "first"}
                for q in tool.question_ids:
                    p = 0.82 if (q == IMPROVING and later) else base[q]
                    row[q] = "Not applicable" if rng.random() < 0.03 else _level(rng, rng.random() < p)
                p_overall = 0.35 if (team == WORSENING and later) else 0.75
                row[tool.overall.id] = _level(rng, rng.random() < p_overall)
                row["themes"] = ";".join(k for k, r in THEME_RATES.items() if rng.random() < r)
                if rng.random() < 0.3:
                    row["feedback_from"] = ("person", "carer", "both")[int(rng.integers(0, 3))]
                    row["feedback"] = ("positive", "positive", "mixed", "negative")[int(rng.integers(0, 4))]
                rows.append(row)
                if rng.random() < 0.1:  # the moderation sample: a second auditor rates the same record
                    mod = {k: row[k] for k in ("audit_id", "month", "team")}
                    mod.update(role="moderator", auditor=AUDITORS[(AUDITORS.index(auditor) + 3) % len(AUDITORS)])
                    for q in tool.all_ids:
                        mod[q] = row[q] if rng.random() < 0.8 else _level(rng, row[q] not in LEVELS_GOOD)
                    rows.append(mod)
    return rows


def build_sample_programme(path: str | Path, *, progress: Callable[[str], None] | None = None) -> Programme:
    """Build the fictional sample programme in a new folder (refused if it already holds one)."""
    say = progress or (lambda _m: None)
    programme = create_programme(path, council=COUNCIL, tool="strengths-based-practice", teams=TEAMS,
                                 auditors=AUDITORS, title="Practice quality audit (fictional sample)")
    yaml_file = programme.path / "programme.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    write_text(yaml_file, text + THEMES_YAML)
    programme = open_programme(programme.path)
    tool = programme.tool
    plan = ActionPlan(COUNCIL, "2025-07", (
        PlanRow(1, "Write every record in strengths-based language", "Head of Practice", "2026-12-31",
                f"{tool.question(IMPROVING).title}: 80% of records audited each month rated Outstanding or Good",
                "In progress", "Practice workshops ran from July"),
        PlanRow(2, "Make management oversight visible on every record", "Team managers", "2026-12-31",
                "Question q10 rated Outstanding or Good in 75% of records", "Not started", ""),
    ))
    write_plan(plan, programme.path / "action-plan.xlsx")
    say("Writing 18 months of fictional audits")
    header = ["audit_id", "month", "team", "auditor", "role", *tool.all_ids, "themes", "feedback_from", "feedback"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, header, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows(programme))
    audits = programme.path / "sample-audits.csv"
    write_text(audits, buf.getvalue())
    say("Importing them as a council would")
    import_audits(programme, [audits], progress=say)
    return programme
