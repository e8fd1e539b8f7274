"""Regional bundles and the comparison: the format round-trips byte for byte, holds nothing that
identifies a person or reviewer, suppression leaves no hidden cell recoverable, unlike tools are
never pooled without a mapping, and the comparison's figures are right."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewkit.cli import main
from reviewkit.core.errors import RegionalError
from reviewkit.figures.analysis import wilson_interval
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.region import compare as rg
from reviewkit.region.sources import load_bundles
from reviewkit.review import bundle as bd
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.workspace import open_workspace

REGION = Path(__file__).resolve().parent.parent / "sample_data" / "region"
CANARY = "Zebediah Quokkafeather"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def sample_ws(tmp_path_factory):
    """The sample review with a canary note planted (stored: it has no honorific or listed name)."""
    ws = build_sample_workspace(tmp_path_factory.mktemp("region") / "eastvale")
    with ws.store() as store:
        meeting = int(store.meetings()["id"].iloc[0])
        store.add_note("test", f"{CANARY} said the panel is slow", meeting_id=meeting, kind="quote",
                       stance="concern", codes=["panel"], use_in_report=False)
        case = ws.meta.cases[0]
        store.set_case_flag("test", case.id, case.reviewer, referred_back=True,
                            reason="Carer breakdown risk not followed up by the team")
    return open_workspace(ws.path)


@pytest.fixture(scope="module")
def sample_bytes(sample_ws):
    return bd.bundle_bytes(bd.bundle_from_workspace(sample_ws))


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(files: dict[str, bytes], fix_checksums: bool = True) -> bytes:
    """A bundle's members zipped again, with the manifest's checksums updated unless told not to."""
    files = dict(files)
    if fix_checksums:
        manifest = yaml.safe_load(files["manifest.yaml"])
        manifest["files"] = {n: hashlib.sha256(files[n]).hexdigest() for n in manifest["files"]}
        files["manifest.yaml"] = yaml.safe_dump(manifest, sort_keys=False).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_bundle(council: str = "Testshire Council", round_: str = "2026-03", *, overall=(5, 13, 2, 0, 0),
                questions: list[tuple[int, ...]] | None = None, tool_version: str = "1.0",
                themes: dict[str, tuple[int, int, int, int]] | None = None, cases: int = 20) -> bd.Bundle:
    """A bundle built in memory with the default five-level scale and two questions."""
    rows = questions or [(4, 12, 4, 0, 0), (2, 10, 7, 1, 0)]
    return bd.Bundle(
        council=council, round=round_, theme="Strengths-based practice", tool="strengths-based-practice",
        tool_version=tool_version, tool_title="Strengths audit", scale_id="default",
        levels=(("Outstanding", 4), ("Good", 3), ("Requires Improvement", 2), ("Inadequate", 1),
                ("Not applicable", None)),
        questions=tuple((f"q{i}", f"Question {i}") for i in range(1, len(rows) + 1)),
        overall_id="overall", overall_title="Overall judgement", codebook=("default", "1.0"),
        counts=(("cases", cases), ("meetings", 2), ("attendees", 12), ("conversations", 4)),
        ratings=tuple(bd.CountRow(f"q{i}", tuple(r), sum(r)) for i, r in enumerate(rows, 1)),
        overall=bd.CountRow("overall", tuple(overall), sum(overall)),
        themes=tuple(bd.ThemeRow(code, code.title(), src, cells if src == "meetings" else (0, 0, 0, 0),
                                 sum(cells) if src == "meetings" else 0)
                     for code, cells in (themes or {"supervision": (2, 1, 0, 0)}).items() for src in bd.SOURCES),
        recommendations=("Protecting supervision",),
    )


def roundtrip(b: bd.Bundle, name: str = "x.zip") -> bd.Bundle:
    return read_bundle(bd.bundle_bytes(b), name=name)


# --------------------------------------------------------------------------- the bundle

def test_bundle_round_trip_and_deterministic_bytes(sample_ws, sample_bytes, tmp_path):
    built = bd.bundle_from_workspace(sample_ws)
    assert read_bundle(sample_bytes) == built
    a = bd.export_bundle(sample_ws, tmp_path / "a.zip")
    b = bd.export_bundle(sample_ws, tmp_path / "b" / "b.zip")
    assert a.read_bytes() == b.read_bytes() == sample_bytes
    with zipfile.ZipFile(a) as zf:
        assert zf.namelist() == list(bd.MEMBERS)
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    suppressed = bd.bundle_from_workspace(sample_ws, 5)
    assert read_bundle(bd.bundle_bytes(suppressed)) == suppressed
    assert suppressed.threshold == 5 and suppressed.hidden_cells > 0


def test_sample_bundle_figures_match_the_review(sample_ws):
    b = bd.bundle_from_workspace(sample_ws)
    assert b.council == "Eastvale Borough Council" and b.round == "2026-10"
    assert dict(b.counts) == {"cases": 20, "meetings": 2, "attendees": 13, "conversations": 5}
    assert b.overall.cells == (5, 13, 2, 0, 0) and b.overall.total == 20
    assert [q for q, _ in b.questions] == [f"q{i}" for i in range(1, 13)]
    assert all(r.total == 20 for r in b.ratings)
    assert len(b.recommendations) == 7
    assert b.recommendations[2] == "Making management oversight visible on case records"
    panel = {t.source: t for t in b.themes if t.code == "panel"}
    assert panel["meetings"].total >= 1  # the canary note's code is counted, its text is not kept


def _forbidden(ws) -> dict[str, list[str]]:
    with ws.store() as store:
        ratings, notes, flags = store.ratings(), store.notes(), store.case_flags()
        meetings, conversations = store.meetings(), store.conversations()
    dates = [d for d in [*meetings["held_on"], *conversations["held_on"], ws.meta.start, ws.meta.end,
                         ws.meta.report_date] if d]
    return {
        "case id": [c.id for c in ws.meta.cases],
        "reviewer or team name": [m.name for m in ws.meta.team],
        "screened name": ws.private_names(),
        "evidence comment": sorted({c for c in ratings["comment"] if len(c) >= 12}),
        "note, quote or one change": sorted({t for t in notes["text"] if len(t) >= 12}),
        "referral reason": sorted({r for r in flags["reason"] if r}),
        "exact date": sorted(set(dates)),
        "canary": [CANARY, "Zebediah", "Quokkafeather"],
    }


def test_sample_bundle_holds_no_case_id_name_free_text_or_date(sample_ws, sample_bytes):
    texts = {name: data.decode("utf-8") for name, data in members(sample_bytes).items()}
    texts["(zip bytes)"] = sample_bytes.decode("latin-1")
    found = []
    for kind, values in _forbidden(sample_ws).items():
        assert values, f"the sample should have some {kind} to look for"
        for value in values:
            if kind == "case id":
                pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")
            else:
                pattern = re.compile(re.escape(value), re.IGNORECASE)
            found += [f"{kind} in {name}" for name, text in texts.items() if pattern.search(text)]
    assert found == []
    for text in (texts[n] for n in bd.MEMBERS):
        assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), "no exact date of any kind"


def test_recommendation_headings_are_first_sentences_or_bold_leads():
    md = ("Intro paragraph.\n\n<!-- a stub comment -->\n"
          "1. **Improve supervision.** Make it regular and reflective.\n"
          "2. Examine oversight. Then say more.\n   continued detail\n   - a sub-item\n"
          "3) A third one that wraps\n   onto a second line\n")
    assert bd.recommendation_headings(md) == ["Improve supervision", "Examine oversight",
                                              "A third one that wraps onto a second line"]
    assert bd.recommendation_headings("- First bullet\n- Second bullet, with detail\n") == [
        "First bullet", "Second bullet, with detail"]
    long = "1. " + "Strengthening practice across the teams, " * 6 + "and more.\n"
    (heading,) = bd.recommendation_headings(long)
    assert len(heading) <= bd.LONG_HEADING and heading.startswith("Strengthening practice")


@pytest.mark.parametrize("text, expected", [
    (f"1. Talk again with Mr {CANARY.split()[1]} about the panel\n", "person's name"),
    ("1. Review the record of C03 with the team\n", "case reference"),
    ("1. Call 07700 900123 for advice\n", "phone number"),
])
def test_a_recommendation_heading_with_an_identifier_is_refused(sample_ws, tmp_path, text, expected):
    rec = sample_ws.narrative_dir / "recommendations.md"
    original = rec.read_text(encoding="utf-8")
    try:
        rec.write_text(text, encoding="utf-8")
        with pytest.raises(RegionalError) as info:
            bd.export_bundle(sample_ws, tmp_path / "x.zip")
    finally:
        rec.write_text(original, encoding="utf-8")
    message = str(info.value)
    assert expected in message and "recommendation 1" in message
    assert "Quokkafeather" not in message and "C03" not in message and "07700" not in message
    assert not (tmp_path / "x.zip").exists()


def test_export_needs_review_dates_and_a_zip_name(sample_ws, tmp_path):
    with pytest.raises(RegionalError, match=r"\.zip"):
        bd.export_bundle(sample_ws, tmp_path / "bundle.csv")
    with pytest.raises(RegionalError, match="2 or more"):
        bd.export_bundle(sample_ws, tmp_path / "b.zip", suppress_below=1)
    no_dates = dataclasses.replace(sample_ws.meta, start="", end="", report_date="")
    ws = open_workspace(sample_ws.path)
    ws.meta = no_dates
    with pytest.raises(RegionalError, match="dates.start"):
        bd.bundle_from_workspace(ws)


def test_cli_export_for_region_writes_the_bundle(sample_ws, tmp_path, capsys):
    out = tmp_path / "bundles" / "eastvale.zip"
    assert main(["export", str(sample_ws.path), "--for-region", "--out", str(out), "--suppress-below", "5"]) == 0
    said = capsys.readouterr().out
    assert "no case ids" in said and "Warning" not in said  # the sample's ratings are complete
    assert read_bundle(out).threshold == 5


def test_cli_export_for_region_warns_when_the_ratings_are_not_complete(tmp_path, capsys):
    ws = build_sample_workspace(tmp_path / "eastvale")
    case = ws.meta.cases[0]
    with ws.store() as store:
        store.set_case_flag("test", case.id, case.reviewer, complete=False)
    assert main(["export", str(ws.path), "--for-region", "--out", str(tmp_path / "b.zip")]) == 0
    said = capsys.readouterr().out
    assert "Warning: the review's ratings are not complete (1 gap(s))" in said
    assert f"reviewkit status {ws.path}" in said


# --------------------------------------------------------------------------- reading is strict

def _break(data: bytes, member: str, old: str, new: str, fix: bool = True) -> bytes:
    files = members(data)
    text = files[member].decode()
    assert old in text
    files[member] = text.replace(old, new, 1).encode()
    return rezip(files, fix_checksums=fix)


@pytest.mark.parametrize("change, expected", [
    (lambda d: b"not a zip", "not a zip file"),
    (lambda d: rezip({k: v for k, v in members(d).items() if k != "themes.csv"}, False), "themes.csv: missing"),
    (lambda d: rezip({**members(d), "notes.csv": b"x"}), "notes.csv: unexpected file"),
    (lambda d: _break(d, "question_ratings.csv", "q1,", "q1,9", fix=False), "checksum does not match"),
    (lambda d: _break(d, "question_ratings.csv", "q2,2,", "q2,Zebediah,"),
     "question_ratings.csv row 3, column 'Outstanding': expected a whole number"),
    (lambda d: _break(d, "question_ratings.csv", "q2,2,10,", "q2,2,11,"),
     "question_ratings.csv row 3, column 'total': the total is not the sum"),
    (lambda d: _break(d, "question_ratings.csv", "q2,", "q9,"), "row 3, column 'question': expected 'q2'"),
    (lambda d: _break(d, "manifest.yaml", "round: 2026-03", "round: 2026-13"), "'round' must be the review month"),
    (lambda d: _break(d, "manifest.yaml", "format_version: 1", "format_version: 2"), "upgrade reviewkit"),
    (lambda d: _break(d, "manifest.yaml", "theme:", "notes: Zebediah\ntheme:"), "unexpected key 'notes'"),
    (lambda d: _break(d, "overall_judgements.csv", "overall,5,13,2,0,0,20", "overall,5,13,7,0,0,25"),
     "more judgements than case records"),
])
def test_reading_names_the_file_row_and_column_never_the_value(change, expected):
    data = change(bd.bundle_bytes(make_bundle()))
    with pytest.raises(RegionalError) as info:
        read_bundle(data, name="testshire.zip")
    assert expected in str(info.value)
    assert "testshire.zip" in str(info.value) and "Zebediah" not in str(info.value)


def test_reading_refuses_a_lone_suppressed_cell_or_a_visible_small_one():
    b = bd.apply_suppression(make_bundle(), 3)
    data = bd.bundle_bytes(b)
    text = members(data)["overall_judgements.csv"].decode().splitlines()[1]
    assert text == "overall,suppressed,13,suppressed,0,0,20"
    with pytest.raises(RegionalError, match="only one cell is suppressed"):
        read_bundle(_break(data, "overall_judgements.csv", "overall,suppressed,", "overall,5,"))
    with pytest.raises(RegionalError, match="below the suppression threshold"):
        read_bundle(_break(data, "overall_judgements.csv", "overall,suppressed,13,suppressed",
                              "overall,suppressed,13,2"))


# --------------------------------------------------------------------------- suppression

def _attack(total: int, cells: list[int | None]) -> list[set[int]]:
    """Every value each hidden cell can take given the row's published total and visible cells.

    Exact enumeration (by dynamic programming over the other hidden cells' achievable sums):
    what an attacker holding the bundle can work out.
    """
    hidden = [i for i, c in enumerate(cells) if c is None]
    residual = total - sum(c for c in cells if c is not None)
    out = []
    for h in hidden:
        reachable = {0}
        for _ in (i for i in hidden if i != h):
            reachable = {a + v for a in reachable for v in range(residual + 1) if a + v <= residual}
        out.append({v for v in range(residual + 1) if residual - v in reachable})
    return out


count_tables = st.lists(st.lists(st.integers(0, 14), min_size=5, max_size=5), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=count_tables, threshold=st.integers(2, 10))
def test_no_hidden_cell_is_recoverable_from_the_published_totals(table, threshold):
    b = make_bundle(questions=[tuple(r) for r in table], cases=max(20, *(sum(r) for r in table)))
    published = read_bundle(bd.bundle_bytes(bd.apply_suppression(b, threshold)))
    # The bundle publishes no totals but each row's: its CSV columns are the levels and 'total'.
    with zipfile.ZipFile(io.BytesIO(bd.bundle_bytes(published))) as zf:
        header = zf.read("question_ratings.csv").decode().splitlines()[0].split(",")
    assert header == ["question", *published.level_labels, "total"]
    for original, row in zip(table, published.ratings):
        for value, shown in zip(original, row.cells):
            if 0 < value < threshold:
                assert shown is None, "every small count is hidden"
            if shown is not None:
                assert shown == value
        assert row.hidden != 1
        hidden_sum = sum(v for v, c in zip(original, row.cells) if c is None)
        for feasible, value in zip(_attack(row.total, list(row.cells)),
                                   [v for v, c in zip(original, row.cells) if c is None]):
            assert value in feasible
            assert len(feasible) >= 2, "a hidden cell is pinned by the total"
            assert 0 in feasible, "a hidden cell is known to be non-zero"
            if hidden_sum >= threshold:
                assert max(feasible) >= threshold, "a hidden cell is known to be small"
            else:
                assert row.hidden == len(row.cells), "a row too small to protect is hidden whole"


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.integers(0, 40), min_size=2, max_size=8), threshold=st.integers(2, 12))
def test_suppress_row_hides_zero_or_at_least_two_cells_summing_to_the_threshold(cells, threshold):
    mask = bd.suppress_row(cells, threshold)
    hidden = [c for c, h in zip(cells, mask) if h]
    assert all(h for c, h in zip(cells, mask) if 0 < c < threshold)
    if any(0 < c < threshold for c in cells):
        assert len(hidden) >= 2
        assert sum(hidden) >= threshold or all(mask)
    else:
        assert not hidden


def test_suppressed_counts_show_as_suppressed_never_zero():
    small = bd.apply_suppression(make_bundle("Smallton Council", overall=(1, 15, 4, 0, 0)), 3)
    big = make_bundle("Bigton Council", overall=(6, 10, 4, 0, 0))
    c = rg.compare([roundtrip(small, "s.zip"), roundtrip(big, "b.zip")])
    table = c.council_table().set_index("Council")
    assert table.loc["Smallton Council", "Judged Outstanding or Good"] == "suppressed"
    assert table.loc["Smallton Council", "95% interval"] == "suppressed"
    assert table.loc["Bigton Council", "Judged Outstanding or Good"] == "16 (80.0%)"
    pooled = c.pooled_distribution().set_index("question")
    # Smallton's q1 row (4, 12, 4, 0, 0) has nothing small; its q2 (2, 10, 7, 1, 0) is suppressed.
    assert pooled.loc["q1", "councils"] == 2 and pooled.loc["q2", "councils"] == 1
    assert pooled.loc["q2", "Outstanding"] == 2 and pooled.loc["q2", "of_councils"] == 2
    assert c.pooled_table()["Councils pooled"].tolist() == ["2 of 2", "1 of 2"]
    assert "suppressed" in c.question_matrix().iloc[1].tolist()


def test_a_share_is_shown_when_the_bundle_reveals_it_through_the_total():
    cells = {"Outstanding": None, "Good": None, "Requires Improvement": 4, "Inadequate": 0, "Not applicable": 0}
    assert rg.known_sum(cells, 20, ["Outstanding", "Good"]) == 16
    assert rg.known_sum(cells, 20, ["Outstanding"]) is None
    assert rg.known_sum(cells, 20, ["Requires Improvement", "Inadequate"]) == 4


# --------------------------------------------------------------------------- comparing

def test_mixing_tool_versions_is_refused_with_the_fix():
    a = roundtrip(make_bundle("Ayton Council"), "ayton-2026.zip")
    b = roundtrip(make_bundle("Beeton Council", tool_version="1.1"), "beeton-2026.zip")
    with pytest.raises(RegionalError) as info:
        rg.compare([a, b])
    message = str(info.value)
    for part in ("ayton-2026.zip", "beeton-2026.zip", "version 1.0", "version 1.1", "--map"):
        assert part in message


def test_a_question_mapping_allows_pooling(tmp_path):
    a = roundtrip(make_bundle("Ayton Council", questions=[(4, 12, 4, 0, 0), (2, 10, 7, 1, 0)]), "a.zip")
    b = roundtrip(make_bundle("Beeton Council", tool_version="1.1", questions=[(1, 1, 1, 1, 0), (3, 3, 3, 3, 0)]),
                  "b.zip")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(yaml.safe_dump({
        "format": "reviewkit-question-map", "version": 1,
        "common": [{"id": "voice", "title": "Voice of the person"}, {"id": "oversight", "title": "Oversight"}],
        "tools": [{"tool": "strengths-based-practice", "version": "1.0", "questions": {"q1": "voice", "q2": "oversight"}},
                  {"tool": "strengths-based-practice", "version": "1.1", "questions": {"q2": "voice"}}]}))
    c = rg.compare([a, b], mapping=mapping)
    pooled = c.pooled_distribution().set_index("question")
    assert list(pooled.index) == ["voice", "oversight"]
    assert [pooled.loc["voice", lb] for lb in c.scored] == [4 + 3, 12 + 3, 4 + 3, 0 + 3]
    assert pooled.loc["oversight", "councils"] == 1 and pooled.loc["oversight", "of_councils"] == 1
    assert "mapped to 2 common questions" in c.tool_sentence()
    bad = tmp_path / "bad.yaml"
    bad.write_text(mapping.read_text().replace("q2: voice", "q7: voice"))
    with pytest.raises(RegionalError, match="has no question 'q7'"):
        rg.compare([a, b], mapping=bad)
    partial = tmp_path / "partial.yaml"
    data = yaml.safe_load(mapping.read_text())
    data["tools"] = data["tools"][:1]
    partial.write_text(yaml.safe_dump(data))
    with pytest.raises(RegionalError, match="no entry for tool 'strengths-based-practice' version 1.1"):
        rg.compare([a, b], mapping=partial)


def test_same_council_and_round_twice_and_different_scales_are_refused():
    a = roundtrip(make_bundle(), "a.zip")
    with pytest.raises(RegionalError, match="a.zip and b.zip are both Testshire Council's review of 2026-03"):
        rg.compare([a, roundtrip(make_bundle(), "b.zip")])
    other = dataclasses.replace(make_bundle("Other Council"), scale_id="three",
                                levels=(("Outstanding", 4), ("Good", 3), ("Requires Improvement", 2),
                                        ("Inadequate", 1), ("N/A", None)))
    with pytest.raises(RegionalError, match="different rating scales"):
        rg.compare([a, roundtrip(other, "o.zip")])


def test_council_table_figures_and_intervals():
    c = rg.compare([roundtrip(make_bundle("Zedshire Council", overall=(5, 13, 2, 0, 0))),
                    roundtrip(make_bundle("Ayton Council", overall=(2, 6, 10, 2, 0))),
                    roundtrip(make_bundle("Ayton Council", "2022-05", overall=(9, 9, 2, 0, 0)))])
    f = c.council_figures()
    assert f["council"].tolist() == ["Ayton Council", "Zedshire Council"]  # alphabetical, never ranked
    assert f["round"].tolist() == ["2026-03", "2026-03"]  # the latest round of each
    z = f.iloc[1]
    lo, hi = wilson_interval(18, 20)
    assert (z["good"], z["judged"], z["good_display"]) == (18, 20, "18 (90.0%)")
    assert z["interval"] == f"{100 * lo:.1f}% to {100 * hi:.1f}%" == "69.9% to 97.2%"
    assert f.iloc[0]["weak_display"] == "12 (60.0%)"
    changes = c.changes()
    assert changes["Council"].tolist() == ["Ayton Council"]
    row = changes.iloc[0]
    assert row["Then: judged Outstanding or Good"] == "18 (90.0%)" and row["Now: judged Outstanding or Good"] == "8 (40.0%)"
    assert row["Change"] == "-50.0 points"
    assert re.fullmatch(r"lower: the change's 95% interval \(\u2212\d+\.\d to \u2212\d+\.\d points\) excludes no change",
                        row["Reading"])
    assert "league table" in c.caveat() and "20 case records" in c.caveat()


def test_a_change_whose_interval_includes_no_change_cannot_tell():
    c = rg.compare([roundtrip(make_bundle("Ayton Council", "2022-01", overall=(4, 11, 5, 0, 0))),
                    roundtrip(make_bundle("Ayton Council", "2025-01", overall=(5, 13, 2, 0, 0)))])
    # 15 of 20, then 18 of 20: Newcombe's interval for the change is −9.4 to +38.0 points.
    assert c.changes().iloc[0]["Reading"] == ("cannot tell: the change's 95% interval (\u22129.4 to +38.0 points) "
                                              "includes no change")
    assert c.changes().iloc[0]["Change"] == "+15.0 points"


def test_a_change_the_old_overlap_rule_missed_is_called_higher():
    # 11 of 20, then 18 of 20: the two Wilson intervals overlap, the change's own interval does not include 0.
    c = rg.compare([roundtrip(make_bundle("Ayton Council", "2022-01", overall=(1, 10, 9, 0, 0))),
                    roundtrip(make_bundle("Ayton Council", "2025-01", overall=(5, 13, 2, 0, 0)))])
    assert c.changes().iloc[0]["Reading"].startswith("higher: the change's 95% interval (+")


def test_themes_weakest_questions_and_pooled_distribution():
    a = roundtrip(make_bundle("Ayton Council", questions=[(4, 12, 4, 0, 0), (1, 5, 12, 2, 0)],
                              themes={"supervision": (2, 1, 0, 0), "panel": (0, 0, 0, 0)}))
    b = roundtrip(make_bundle("Beeton Council", questions=[(6, 12, 1, 0, 1), (2, 9, 8, 1, 0)],
                              themes={"supervision": (0, 1, 0, 0), "panel": (0, 2, 0, 0)}))
    c = rg.compare([a, b])
    pooled = c.pooled_distribution().set_index("question")
    assert pooled.loc["q1", "scored"] == 39 and pooled.loc["q1", "Not applicable"] == 1
    assert pooled.loc["q1", "good_or_better"] == 34 and c.pooled_table().iloc[0]["Good"] == "24 (61.5%)"
    weakest = c.weakest_questions(1)
    assert weakest.iloc[0]["Question"] == "2. Question 2" and weakest.iloc[0]["Rated Outstanding or Good"] == "17 (42.5%)"
    reach = c.theme_reach().set_index("code")
    assert reach.loc["supervision", "Raised in either"] == "2 (100.0%)"
    assert reach.loc["panel", "Raised in meetings"] == "1 (50.0%)"
    assert reach.loc["panel", "Raised in conversations"] == "0 (0.0%)"


def test_pseudonyms_hide_names_and_do_not_follow_the_alphabet():
    names = [f"{w} Council" for w in ("Aberdeen", "Bolton", "Carlisle", "Dover", "Exeter", "Fareham")]
    bundles = [roundtrip(make_bundle(n), f"{n}.zip") for n in names]
    c = rg.compare(bundles, pseudonymise=True)
    again = rg.compare(list(reversed(bundles)), pseudonymise=True)
    assert c.labels == again.labels, "deterministic for the same bundles"
    assert sorted(c.labels.values(), key=rg._natural) == [rg.pseudonym(i) for i in range(6)]
    assert rg.compare(bundles, pseudonymise=True, pseudonym_key="network secret").labels != c.labels or \
        rg.compare(bundles, pseudonymise=True, pseudonym_key="another secret").labels != c.labels
    text = " ".join(str(v) for t in (c.council_table(), c.changes(), c.question_matrix(), c.theme_reach())
                    for v in t.to_numpy().ravel())
    text += c.scope_sentence() + c.caveat()
    assert not any(n.split()[0] in text for n in names)
    assert c.council_table()["Round"].tolist() == ["2026"] * 6, "only the year: review months are public"
    assert c.recommendations().empty
    assert rg.pseudonym(0) == "Council A" and rg.pseudonym(25) == "Council Z" and rg.pseudonym(26) == "Council AA"


def test_pseudonymised_text_from_bundles_never_names_a_council():
    a = dataclasses.replace(make_bundle("Eastvale Borough Council", themes={"supervision": (1, 0, 0, 0),
                                                                            "eastvale-way": (2, 0, 0, 0)}),
                            tool_title="Eastvale's own audit tool",
                            questions=(("q1", "Voice of the person in Eastvale"), ("q2", "Oversight")))
    b = make_bundle("Westmoor City Council", themes={"supervision": (0, 1, 0, 0), "eastvale-way": (0, 0, 0, 0)})
    b = dataclasses.replace(b, tool_title="Eastvale's own audit tool")
    named = rg.compare([roundtrip(a), roundtrip(b)])
    assert "Eastvale" in named.tool_sentence() and "eastvale-way" in named.theme_reach()["code"].tolist()
    c = rg.compare([roundtrip(a), roundtrip(b)], pseudonymise=True)
    shown = [c.tool_sentence(), *(t for _, t in c.questions), *c.theme_reach()["Theme"]]
    assert not any(re.search("eastvale|westmoor", t, re.IGNORECASE) for t in shown)
    assert "[council]" in c.tool_sentence() and c.questions[0][1] == "Voice of the person in [council]"
    assert c.theme_reach()["code"].tolist() == ["supervision"], "a theme only one council raised is left out"


def test_workspaces_are_exported_on_the_fly(sample_ws):
    (b,) = load_bundles([sample_ws.path])
    assert b.name == "eastvale (workspace)" and b.council == "Eastvale Borough Council"
    with pytest.raises(RegionalError, match="no bundles given"):
        load_bundles([])


# --------------------------------------------------------------------------- the sample region

def test_sample_region_bundles_are_valid_and_comparable():
    files = sorted((REGION / "bundles").glob("*.zip"))
    assert len(files) == 16
    bundles = load_bundles(files)
    c = rg.compare(bundles)
    assert c.counts()["councils"] == 8 and c.counts()["with_previous"] == 8
    assert {b.council for b in bundles if b.threshold} == {"Saltmere District Council"}
    readings = c.changes()["Reading"].tolist()
    assert any(r.startswith("higher: the change's 95% interval") for r in readings)
    assert any(r.startswith("cannot tell: the change's 95% interval") for r in readings)


def test_sample_region_generator_is_byte_identical(tmp_path):
    done = subprocess.run([sys.executable, str(REGION / "make_region.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    committed = {p.name: p.read_bytes() for p in (REGION / "bundles").glob("*.zip")}
    fresh = {p.name: p.read_bytes() for p in tmp_path.glob("*.zip")}
    assert fresh == committed


def test_cli_compare_refuses_mixed_tools_with_exit_1(tmp_path, capsys):
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    a.write_bytes(bd.bundle_bytes(make_bundle("Ayton Council")))
    b.write_bytes(bd.bundle_bytes(make_bundle("Beeton Council", tool_version="1.1")))
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "error: cannot pool reviews made with different audit tools" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
