"""The team annex: ratings by reviewer under random labels, never in the published report."""

from __future__ import annotations

import json
import random
import stat
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.core.errors import WorkspaceError
from reviewkit.core.tools import load_scale
from reviewkit.report.annex import (
    ANNEX_FILE,
    CASE_MIX,
    LABELS_FILE,
    median_level,
    reviewer_labels,
    write_annex,
)
from reviewkit.review.ratings import RatingInput
from reviewkit.review.workspace import open_workspace

from .helpers import HOST, REVIEWERS, make_workspace

SCALE = load_scale("default")
EVERYONE = sorted([*REVIEWERS, HOST])


@pytest.fixture
def rated(tmp_path: Path):
    """The helper workspace with every allocated case rated; the host rates lowest."""
    ws = make_workspace(tmp_path / "ws")
    rows = [RatingInput(c.id, r, q, "Requires Improvement" if r == HOST else "Good", "evidence noted")
            for c in ws.meta.cases for r in c.reviewers for q in ws.tool.all_ids]
    with ws.store() as store:
        store.apply_ratings("test", rows)
    return ws


def _order(labels: dict[str, str]) -> list[str]:
    return sorted(labels, key=lambda n: (len(labels[n]), labels[n]))


def test_labels_are_kept_private_owner_only_and_stable(rated):
    first = reviewer_labels(rated)
    path = rated.path / "private" / LABELS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8")) == first
    assert sorted(first) == EVERYONE and len(set(first.values())) == len(first)
    assert reviewer_labels(open_workspace(rated.path)) == first  # every later render
    before = path.stat().st_mtime_ns
    reviewer_labels(rated)
    assert path.stat().st_mtime_ns == before  # nothing new: not rewritten


def test_a_new_reviewer_gets_an_unused_label_and_the_others_keep_theirs(rated):
    first = reviewer_labels(rated)
    both = reviewer_labels(rated, [*EVERYONE, "D. Newcomer"])
    assert {k: both[k] for k in first} == first
    assert both["D. Newcomer"] not in first.values()


def test_labels_cannot_be_decoded_from_any_list_of_names_in_the_report(tmp_path):
    # Many fresh workspaces, seeded: the labels never list the reviewers alphabetically (by first
    # or last name) or in the order of the team on the cover, and the draws really differ.
    seen = set()
    for seed in range(40):
        ws = make_workspace(tmp_path / f"ws{seed}")
        labels = reviewer_labels(ws, rng=random.Random(seed))
        order = _order(labels)
        assert order != sorted(labels)
        assert order != sorted(labels, key=lambda n: n.split()[-1])
        assert order != [m.name for m in ws.meta.team if m.name in labels]
        seen.add(tuple(labels[n] for n in EVERYONE))
    assert len(seen) > 30


def test_unreadable_labels_file_is_a_clear_error(rated):
    path = rated.path / "private" / LABELS_FILE
    path.parent.mkdir(exist_ok=True)
    path.write_text("[not a map", encoding="utf-8")
    with pytest.raises(WorkspaceError, match=LABELS_FILE):
        reviewer_labels(rated)


def test_annex_shows_labels_the_case_mix_caveat_and_medians_never_names(rated, tmp_path):
    out = write_annex(rated, tmp_path / "out")
    assert out.name == ANNEX_FILE
    text = out.read_text(encoding="utf-8")
    labels = reviewer_labels(rated)
    for name in EVERYONE:
        assert name not in text
        assert labels[name] in text
    assert CASE_MIX in text and "not part of the published report" in text
    assert "Requires Improvement</td></tr>" in text  # the host's median, as a level
    assert "Average" not in text and ".00" not in text  # no decimal averages of an ordinal scale


@pytest.mark.parametrize("scores, expected", [
    ([4, 3, 3], "Good"), ([4, 3], "Outstanding to Good"), ([2, 2, 3, 3], "Good to Requires Improvement"),
    ([], "–"),
])
def test_median_level(scores, expected):
    assert median_level(scores, SCALE) == expected


def test_report_writes_the_annex_only_when_asked(rated, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["report", str(rated.path), "--out", str(out)]) == 0
    assert not (out / ANNEX_FILE).exists()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Reviewer " not in report and "by reviewer" not in report.lower()
    assert main(["report", str(rated.path), "--out", str(out), "--annex"]) == 0
    assert (out / ANNEX_FILE).exists()
    assert "for the team only" in capsys.readouterr().out


def test_annex_notes_rows_whose_rounded_percentages_miss_100(tmp_path):
    # 15 Good and 1 Requires Improvement of 16 print as 93.8% and 6.3%: 100.1%.
    ws = make_workspace(tmp_path / "ws")
    case = ws.meta.cases[2]  # C03, one reviewer
    values = ["Good"] * 11 + ["Requires Improvement"]
    other = ws.meta.cases[3]  # C04, the same reviewer: 4 more Good, 8 Not applicable
    rows = [RatingInput(case.id, case.reviewer, q, v, "evidence noted") for q, v in zip(ws.tool.question_ids, values)]
    rows += [RatingInput(other.id, other.reviewer, q, "Good" if i < 4 else "Not applicable")
             for i, q in enumerate(ws.tool.question_ids)]
    with ws.store() as store:
        store.apply_ratings("test", rows)
    text = write_annex(ws, tmp_path / "out").read_text(encoding="utf-8").replace("\xa0", " ").replace("&nbsp;", " ")  # (a count kept with its share)
    label = reviewer_labels(ws)[case.reviewer]
    assert "15 (93.8%)" in text and "1 (6.3%)" in text
    assert (f"Percentages are rounded to one decimal place, so in the row for {label} (100.1%) they do not "
            "add up to exactly 100%.") in text
