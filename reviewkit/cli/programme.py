"""The commands that take an in-house audit programme's folder rather than a review's: import, check,
redact and export.

In: the parsed arguments of one command, whose folder holds programme.yaml. Out: lines on stdout and
an exit code, as for a review; errors are raised as ``ReviewkitError`` for ``reviewkit.cli.run.main``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reviewkit.cli.common import _actor, _progress, _say, _say_redacted

PROGRAMME_FILE = "programme.yaml"  # as reviewkit.inhouse.programme (not imported here: pandas loads with it)


def is_programme(folder: str | Path) -> bool:
    """Whether the folder is an in-house audit programme rather than a review workspace."""
    return (Path(folder) / PROGRAMME_FILE).is_file()


def import_audits(args: argparse.Namespace) -> int:
    from reviewkit.inhouse.importer import import_audits  # start-up: pandas
    from reviewkit.inhouse.programme import open_programme  # start-up: pandas

    p = open_programme(args.workspace)
    r = import_audits(p, args.files, actor=_actor(args), confirm_warnings=args.confirm_warnings, progress=_progress)
    _say(f"Imported {len(args.files)} file(s) into {p.path}: {r.audits_added} audit(s) added, {r.audits_changed} "
         f"replaced, {r.moderations} moderation(s), {r.unchanged} unchanged.")
    return 0


def check(args: argparse.Namespace) -> int:
    """What a final tracking report still needs, and possible identifiers by location; 1 while one must go."""
    from reviewkit.inhouse.care import check_programme  # start-up: pandas
    from reviewkit.inhouse.programme import open_programme  # start-up: pandas

    p = open_programme(args.workspace)
    result = check_programme(p)
    if result.gaps:
        _say(f"A final tracking report still needs {len(result.gaps)} thing(s) (a draft lists them up front):")
        for gap in result.gaps:
            _say(f"  {gap}")
    else:
        _say("Every month has audits and a moderation sample: a final tracking report can be rendered.")
    if not result.found:
        _say(f"No personal identifiers found in {p.path}.")
        return 0
    _say(f"Found {len(result.found)} possible identifier(s) ({result.blocks} that must be removed), by location:")
    for loc in result.found:
        _say(f"  {loc}{'  [published in the tracking report]' if loc.published else ''}")
    if any(loc.table == PROGRAMME_FILE for loc in result.found):
        _say(f"Edit {p.path / PROGRAMME_FILE} where it is named: a name never belongs in a title, team, theme or change.")
    if any(loc.table != PROGRAMME_FILE for loc in result.found):
        _say(f"Correct the evidence notes (import the audit again, or in the audit form), or replace identifiers "
             f"with placeholders: reviewkit redact {p.path}")
    return 1 if result.blocks else 0


def redact(args: argparse.Namespace) -> int:
    from reviewkit.inhouse.care import check_programme, redact_programme  # start-up: pandas
    from reviewkit.inhouse.programme import open_programme  # start-up: pandas

    p = open_programme(args.workspace)
    summary = redact_programme(p, actor=_actor(args))
    _say_redacted(summary, len(check_programme(p).found), "evidence note(s)", " (see them with reviewkit check)")
    return 0


def export(args: argparse.Namespace) -> int:
    from reviewkit.core.errors import InvalidInputError  # start-up: only on this path
    from reviewkit.inhouse.care import export_programme  # start-up: pandas
    from reviewkit.inhouse.programme import open_programme  # start-up: pandas

    if args.for_region or args.what not in ("ratings", "all"):
        raise InvalidInputError(f"{args.workspace} is an in-house audit programme: export writes its audits (leave "
                                "out --what and --for-region); a regional bundle comes from a review")
    p = open_programme(args.workspace)
    out = export_programme(p, args.out)
    _say(f"Wrote the programme's audits to {out} (one row per audit and auditor, with the evidence notes: keep it "
         "as private as the programme)")
    return 0
