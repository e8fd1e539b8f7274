"""Build a workspace from the shipped, wholly fictional Eastvale sample review.

The sample lets a new user (and ``make demo``) see every part of the kit with realistic data
before they hold a real review. It is built through the same public paths a host uses
(create the workspace, name the calibration record, then import the team's files and record
the agreed calibration ratings), so the demo also proves those paths. Its calibration round
(one fictional record, every reviewer's ratings, the agreed ratings and notes) shows in the
team annex and never in the report's figures.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from reviewkit.core.atomic import write_bytes
from reviewkit.core.errors import WorkspaceError
from reviewkit.core.resources import shipped
from reviewkit.core.yamlfile import load_yaml
from reviewkit.intake.io import import_files
from reviewkit.review.files import PREVIOUS_ROUND_FILE
from reviewkit.review.workspace import REVIEW_FILE, Workspace, create_workspace, open_workspace, parse_meta

__all__ = ["SAMPLE_DIR", "build_sample_workspace", "previous_round_bundle", "sample_files"]

SAMPLE_DIR = shipped("sample_data", "eastvale-2026")
ACTOR = "sample data"
# The non-ratings files, in the order they are imported (meetings before the notes about them).
_DATA_FILES = ("case_flags.csv", "meetings.csv", "conversations.csv", "notes.csv", "concerns.csv", "calibration.csv")
AGREED_FILE = "calibration_agreed.csv"  # the calibration ratings the team agreed, with their notes


def sample_files(source: Path = SAMPLE_DIR) -> list[Path]:
    """The sample's files to import: every reviewer's ratings (CSV or XLSX), then the rest."""
    ratings = sorted(p for p in (source / "ratings").iterdir() if p.suffix.lower() in (".csv", ".xlsx"))
    return [*ratings, *(source / name for name in _DATA_FILES)]


def previous_round_bundle(source: Path = SAMPLE_DIR) -> Path:
    """Eastvale's previous round (June 2022), as the region's sample bundles hold it."""
    return source.parent / "region" / "bundles" / "eastvale-borough-2022-06.zip"


def build_sample_workspace(dest: str | Path, *, progress: Callable[[str], None] | None = None) -> Workspace:
    """Create a workspace at `dest` holding the whole sample review; `dest` must be new or empty."""
    say = progress or (lambda _msg: None)
    source = SAMPLE_DIR
    review_file = source / REVIEW_FILE
    if not review_file.is_file():
        raise WorkspaceError(f"{review_file}: the sample review is missing; reinstall reviewkit (pip install --force-reinstall reviewkit)")
    meta = parse_meta(load_yaml(review_file.read_bytes(), str(review_file), WorkspaceError), str(review_file))
    host = next((m.name for m in meta.team if m.role == "host"), None)
    say(f"Creating the sample workspace in {dest}")
    ws = create_workspace(dest, council=meta.council, theme=meta.theme, tool=meta.tool,
                          reviewers=meta.reviewers, host=host)
    if (ws.tool.id, ws.tool.version) != (meta.tool, meta.tool_version):
        raise WorkspaceError(
            f"{review_file}: the sample uses tool '{meta.tool}' version {meta.tool_version} but the shipped "
            f"tool is version {ws.tool.version}; regenerate the sample (sample_data/make_sample.py)")
    ws.meta = meta
    ws.save_meta()
    say("Copying the narrative sections and the names to screen")
    for md in sorted((source / "narrative").glob("*.md")):
        write_bytes(ws.narrative_dir / md.name, md.read_bytes())  # written, not copied: owner-only
    write_bytes(ws.path / "private" / "names.txt", (source / "private" / "names.txt").read_bytes())
    previous = previous_round_bundle(source)
    if previous.is_file():  # the previous round's figures, for the comparison with it
        write_bytes(ws.path / PREVIOUS_ROUND_FILE, previous.read_bytes())
    ws = open_workspace(ws.path)  # re-read: the store's rules come from review.yaml and names.txt
    with (source / AGREED_FILE).open(encoding="utf-8", newline="") as f:
        agreed = list(csv.DictReader(f))
    with ws.store() as store:  # the calibration record is named before anyone rates a case
        for record in dict.fromkeys(row["calibration_record"] for row in agreed):
            store.add_calibration_record(ACTOR, record)
    say("Importing the team's calibration and case ratings, case flags, meetings, conversations, notes and concerns")
    import_files(ws, sample_files(source), actor=ACTOR, progress=say)
    with ws.store() as store:
        for row in agreed:
            store.set_agreed_rating(ACTOR, row["calibration_record"], row["question"], row["rating"], row["note"])
    return ws
