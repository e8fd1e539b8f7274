"""Hostile YAML and hand-made bundles: alias bombs, wrong types, identifiers in headings,
keys given twice, dates that do not exist or fall outside a review's years.

Every YAML the kit reads from others goes through ``reviewkit.core.yamlfile.load_yaml``; each
refusal names the file (and line) and never quotes a value.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from reviewkit.cli import main
from reviewkit.core.errors import ConfigError, RegionalError, ReviewkitError, WorkspaceError
from reviewkit.core.themes import load_codebook
from reviewkit.core.yamlfile import MAX_DEPTH, load_yaml
from reviewkit.region import compare as rg
from reviewkit.region.sources import MAP_FORMAT
from reviewkit.review import bundle as bd
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.workspace import open_workspace

from .helpers import make_workspace
from .test_regional import _break, make_bundle, members, rezip


def alias_bomb(levels: int = 5, width: int = 10, indent: str = "  ") -> str:
    """Nested aliases: a few hundred bytes that stand for width**levels strings."""
    lines = [f"{indent}- &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"{indent}- &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines)


# -- the loader -------------------------------------------------------------------------------

def test_the_loader_refuses_anchors_and_aliases_naming_the_file_and_line():
    with pytest.raises(ConfigError, match=r"^x\.yaml: line 2 uses a YAML anchor or alias"):
        load_yaml("a: 1\nb: &b [1]\nc: *b\n", "x.yaml")
    with pytest.raises(RegionalError, match=r"^m\.yaml: line 1 uses a YAML anchor"):
        load_yaml(b"base: &b {x: 1}\n", "m.yaml", RegionalError)


def test_the_loader_bounds_size_nesting_and_values():
    with pytest.raises(ConfigError, match="too large"):
        load_yaml("a: " + "x" * 2000 + "\n", "big.yaml", max_bytes=1000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_yaml("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "deep.yaml")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_yaml("a: café".encode("cp1252"), "latin.yaml")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line 2 is not valid YAML"):
        load_yaml("a: [1\nb: }", "bad.yaml")
    assert load_yaml("a: [1, {b: c}]\n", "ok.yaml") == {"a": [1, {"b": "c"}]}


@pytest.mark.parametrize("text, expected", [
    ("a: 1\nb: 2\na: 3\n", r"^x\.yaml: line 3, key 'a': given twice \(first on line 1\); YAML would keep only the "
                           r"last value without saying so; remove or rename one of them$"),
    ("a:\n  - {k: 1}\n  - {k: 2, k: 3}\n", r"^x\.yaml: line 3, key 'a\[2\]\.k': given twice \(first on line 3\)"),
    ("yes: 1\ntrue: 2\n", r"^x\.yaml: line 2, key 'true': given twice"),
    ("Zebediah Quokkafeather: 1\nZebediah Quokkafeather: 2\n", r"^x\.yaml: line 2, key '…': given twice"),
    ("dates:\n  start: 2026-02-30\n", r"^x\.yaml: line 2, key 'dates\.start': not a real date; write a date that "
                                     r"exists, as YYYY-MM-DD \(e\.g\. 2026-03-14\)$"),
    ("days: [2026-01-01, 2026-13-01]\n", r"^x\.yaml: line 1, key 'days\[2\]': not a real date"),
    ("at: 2026-01-01 10:00:00 +99:00\n", r"^x\.yaml: line 1, key 'at': not a real date"),
    ("n: " + "9" * 5000 + "\n", r"^x\.yaml: line 1, key 'n': a number too long to read"),
])
def test_the_loader_refuses_repeated_keys_and_values_yaml_cannot_build(text, expected):
    with pytest.raises(ConfigError, match=expected) as info:
        load_yaml(text, "x.yaml")
    assert "Quokkafeather" not in str(info.value) and "2026-02-30" not in str(info.value)


def test_the_loader_still_reads_merged_keys_real_dates_and_empty_files():
    assert load_yaml("<<: {a: 1, b: 1}\na: 2\nwhen: 2026-02-28\n", "ok.yaml") == \
        {"a": 2, "b": 1, "when": __import__("datetime").date(2026, 2, 28)}
    assert load_yaml("", "empty.yaml") is None


# -- review.yaml, audit tool, codebook ----------------------------------------------------------
@pytest.mark.parametrize("old, new, expected", [
    ("  start: ''", "  start: 2026-02-30", "line 8, key 'dates.start': not a real date"),
    ("council: Testshire Council", "council: Testshire Council\ncouncil: Otherton Council",
     "line 4, key 'council': given twice (first on line 3)"),
    ("  start: ''", "  start: '0001-01-01'", "dates.start is outside the dates a review can have (2000-01-01 to "),
    ("report_date: ''", "report_date: '1999-12-31'", "report_date is outside the dates a review can have"),
    ("report_date: ''", "report_date: '2026-02-30'", "report_date is not a real date; write one that exists"),
    ("previous_review:\n  date: ''", "previous_review:\n  date: 0001-06", "previous_review.date is outside the dates"),
])
def test_review_yaml_with_a_repeated_key_or_an_impossible_date_is_a_message(ws, capsys, old, new, expected):
    f = ws.path / "review.yaml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert main(["status", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert expected in err and str(f) in err and "Traceback" not in err and "Otherton" not in err


def test_review_dates_within_the_window_are_accepted(ws):
    import datetime as dt

    f = ws.path / "review.yaml"
    soon = dt.date.today().replace(day=1) + dt.timedelta(days=400)
    text = f.read_text(encoding="utf-8").replace("  start: ''", "  start: 2000-01-01")
    f.write_text(text.replace("report_date: ''", f"report_date: {soon.isoformat()}"), encoding="utf-8")
    assert open_workspace(ws.path).meta.start == "2000-01-01"


def test_an_audit_tool_with_an_impossible_date_or_a_repeated_key_is_a_message(ws, capsys):
    tool = ws.path / "audit_tool.yaml"
    original = tool.read_text(encoding="utf-8")
    tool.write_text("released: 2026-02-30\n" + original, encoding="utf-8")
    assert main(["status", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert "audit_tool.yaml: line 1, key 'released': not a real date" in err and "Traceback" not in err
    tool.write_text(original.replace("\nid:", "\nid: other\nid:", 1) if "\nid:" in original
                    else "id: other\n" + original, encoding="utf-8")
    assert main(["status", str(ws.path)]) == 1
    assert "key 'id': given twice" in capsys.readouterr().err




def test_status_refuses_a_review_yaml_alias_bomb(ws, capsys):
    f = ws.path / "review.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("format: 1\n", "format:\n" + alias_bomb() + "\n"),
                 encoding="utf-8")
    assert main(["status", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert f"{f}: line 2 uses a YAML anchor or alias" in err and "Traceback" not in err and "lol" not in err


def test_an_audit_tool_or_codebook_with_aliases_is_refused(ws, tmp_path):
    tool = ws.path / "audit_tool.yaml"
    tool.write_text("x-common: &c {weight: 1}\n" + tool.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(WorkspaceError, match=r"audit_tool\.yaml: line 1 uses a YAML anchor"):
        open_workspace(ws.path)
    book = tmp_path / "mine.yaml"
    book.write_text("id: mine\nlabels: &l [a]\nmore: *l\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine\.yaml: line 2 uses a YAML anchor"):
        load_codebook(book)


@pytest.mark.parametrize("old, new, expected", [
    ("reviewer: A. Visitor\n  moderators:\n  - B. Visitor", "reviewer: A. Visitor\n  moderators:\n  - [B. Visitor]",
     "case 1: 'moderators' must be a list of reviewer names"),
    ("recommendations: []", "recommendations: 5", "'recommendations' must be a list"),
    ("format: 1", "format: [1, 2]", "'format' must be a whole number"),
])
def test_wrong_types_in_review_yaml_are_a_message_not_a_traceback(ws, capsys, old, new, expected):
    f = ws.path / "review.yaml"
    text = f.read_text(encoding="utf-8")
    assert old in text
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert main(["status", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert expected in err and str(f) in err and "Traceback" not in err


@pytest.mark.parametrize("content, expected", [
    ("questions: [\n", "line 2 is not valid YAML"),
    ("- just\n- a list\n", "audit_tool.yaml"),
    ("id: x\nquestions: 5\n", "audit_tool.yaml"),
])
def test_a_broken_audit_tool_is_a_message(ws, capsys, content, expected):
    (ws.path / "audit_tool.yaml").write_text(content, encoding="utf-8")
    assert main(["status", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


# -- a seeded fuzz: any value of any type anywhere gives the kit's own error or works ----------

ODD_VALUES: list[Any] = [None, 0, -1, 10**20, 1.5, True, "", "x", [], {}, [[1, 2]], {"a": {"b": [1]}},
                         [{"x": 1}], "2026-13-45", {"1": 2}, ["a", ["b"]]]


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in items:
        out += _paths(value, (*prefix, key))
    return out


def _replaced(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    obj = copy.deepcopy(obj)
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return obj


def _fuzz(base: Any, attempt: Any, runs: int, seed: int) -> None:
    rng = random.Random(seed)
    paths = _paths(base)
    for _ in range(runs):
        path, value = rng.choice(paths), rng.choice(ODD_VALUES)
        try:
            attempt(_replaced(base, path, value))
        except ReviewkitError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point: anything else is a bug
            pytest.fail(f"{type(exc).__name__} with {value!r} at {path}")


def test_fuzz_review_yaml_and_audit_tool(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    review, tool_file = ws.path / "review.yaml", ws.path / "audit_tool.yaml"
    meta = yaml.safe_load(review.read_text(encoding="utf-8"))
    meta["previous_review"] = {"date": "2025-01-01", "recommendations": [{"text": "a", "update": "b"}]}
    meta["review_questions"] = ["How well?"]
    tool = yaml.safe_load(tool_file.read_text(encoding="utf-8"))
    good_review = yaml.safe_dump(meta)

    def with_review(data: Any) -> None:
        review.write_text(yaml.safe_dump(data), encoding="utf-8")
        open_workspace(ws.path).rules()

    def with_tool(data: Any) -> None:
        review.write_text(good_review, encoding="utf-8")
        tool_file.write_text(yaml.safe_dump(data), encoding="utf-8")
        open_workspace(ws.path).rules()

    _fuzz(meta, with_review, 250, seed=12)
    _fuzz(tool, with_tool, 250, seed=13)


def test_fuzz_bundle_manifest_and_question_map(tmp_path):
    files = members(bd.bundle_bytes(make_bundle()))
    manifest = yaml.safe_load(files["manifest.yaml"])
    other = read_bundle(bd.bundle_bytes(make_bundle("Otherton Council")), name="o.zip")

    def with_manifest(data: Any) -> None:
        raw = rezip({**files, "manifest.yaml": yaml.safe_dump(data).encode()}, fix_checksums=False)
        rg.compare([read_bundle(raw, name="x.zip"), other])

    qmap = {"format": MAP_FORMAT, "version": 1, "common": [{"id": "c1", "title": "Common 1"}],
            "tools": [{"tool": "strengths-based-practice", "version": "1.0", "questions": {"q1": "c1"}}]}
    map_file = tmp_path / "map.yaml"

    def with_map(data: Any) -> None:
        map_file.write_text(yaml.safe_dump(data), encoding="utf-8")
        rg.compare([other], mapping=map_file)

    _fuzz(manifest, with_manifest, 300, seed=14)
    _fuzz(qmap, with_map, 200, seed=15)


# -- bundles: aliases, a strict schema, identifiers in what compare prints ------------------------

def _manifest_with(replace_from: str, replace_to: str) -> bytes:
    return _break(bd.bundle_bytes(make_bundle()), "manifest.yaml", replace_from, replace_to)


def test_compare_refuses_a_manifest_alias_bomb(tmp_path, capsys):
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(_manifest_with("codebook:\n  id: default", "codebook:\n  id:\n" + alias_bomb(indent="  ")))
    assert main(["compare", str(bomb), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "bundle bomb.zip, manifest.yaml: line" in err and "uses a YAML anchor or alias" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_compare_refuses_a_map_alias_bomb(tmp_path, capsys):
    ok = tmp_path / "ok.zip"
    ok.write_bytes(bd.bundle_bytes(make_bundle()))
    qmap = tmp_path / "map.yaml"
    qmap.write_text(f"format: {MAP_FORMAT}\nversion: 1\ncommon:\n  - {{id: c1, title: C}}\ntools:\n"
                    f"  - tool:\n{alias_bomb(indent='      ')}\n    version: '1'\n    questions: {{q1: c1}}\n",
                    encoding="utf-8")
    assert main(["compare", str(ok), "--out", str(tmp_path / "out"), "--map", str(qmap)]) == 1
    err = capsys.readouterr().err
    assert f"{qmap}: line 7 uses a YAML anchor or alias" in err and "Traceback" not in err


@pytest.mark.parametrize("old, new, expected", [
    ("codebook:\n  id: default", "codebook:\n  id: {a: 1}", "codebook: 'id' must be"),
    ("codebook:\n  id: default", "codebook:\n  id: [default]", "codebook: 'id' must be"),
    ("  version: '1.0'\ncounts", "  version: {x: 1}\ncounts", "codebook: 'version' must be"),
    ("cases: 20", "cases: 12345678901234567890", "counts, 'cases': expected a whole number from 0 to"),
    ("hidden_cells: 0", "hidden_cells: 100000000000", "'hidden_cells': expected a whole number"),
    ("score: 4", "score: 100000000000000000000", "'score' must be a whole number"),
    ("threshold: null", "threshold: 100000000000", "'threshold' must be null or a whole number"),
])
def test_bundle_schema_is_strict(old, new, expected):
    with pytest.raises(RegionalError) as info:
        read_bundle(_manifest_with(old, new), name="hand.zip")
    assert expected in str(info.value) and "bundle hand.zip" in str(info.value)


@pytest.mark.parametrize("member, old, new, where", [
    ("manifest.yaml", "council: Testshire Council", "council: Mrs Quokkafeather", "manifest.yaml, 'council'"),
    ("manifest.yaml", "title: Question 1", "title: Question about 999 000 0018", "manifest.yaml question 1, 'title'"),
    ("manifest.yaml", "label: Good", "label: Call 07700 900123", "manifest.yaml scale level 2, 'label'"),
    ("recommendations.csv", "Protecting supervision", "Visit Mr Zebediah Quokkafeather",
     "recommendations.csv row 2, 'heading'"),
    ("themes.csv", "Supervision", "Lives at SW1A 1AA", "themes.csv row 2, 'label'"),
])
def test_compare_refuses_identifiers_in_a_hand_made_bundle(tmp_path, capsys, member, old, new, where):
    data = _break(bd.bundle_bytes(make_bundle()), member, old, new)
    with pytest.raises(RegionalError) as info:
        read_bundle(data, name="hand.zip")
    message = str(info.value)
    assert f"bundle hand.zip, {where}: holds what looks like a personal identifier" in message
    for value in ("Quokkafeather", "0018", "900123", "Acacia", "SW1A"):
        assert value not in message
    path = tmp_path / "hand.zip"
    path.write_bytes(data)
    assert main(["compare", str(path), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("old, new, expected", [
    ("round: 2026-03", "round: 2026-02-30", "bundle hand.zip, manifest.yaml: line 4, key 'round': not a real date"),
    ("council: Testshire Council", "council: Testshire Council\ncouncil: Otherton Council",
     "bundle hand.zip, manifest.yaml: line 4, key 'council': given twice (first on line 3)"),
    ("  cases: 20", "  cases: 20\n  cases: 30", "manifest.yaml: line 36, key 'counts.cases': given twice"),
])
def test_a_manifest_with_an_impossible_date_or_a_repeated_key_is_refused(old, new, expected):
    with pytest.raises(RegionalError) as info:
        # (the checksums are left as they are: the other files did not change, and the manifest is hashed by none)
        read_bundle(_break(bd.bundle_bytes(make_bundle()), "manifest.yaml", old, new, fix=False), name="hand.zip")
    assert expected in str(info.value) and "Otherton" not in str(info.value)


def test_a_question_map_with_a_repeated_key_is_refused(tmp_path):
    other = read_bundle(bd.bundle_bytes(make_bundle("Otherton Council")), name="o.zip")
    qmap = tmp_path / "map.yaml"
    qmap.write_text(f"format: {MAP_FORMAT}\nversion: 1\ncommon:\n  - {{id: c1, title: C}}\ntools:\n"
                    "  - tool: strengths-based-practice\n    version: '1.0'\n    questions: {q1: c1, q1: c2}\n",
                    encoding="utf-8")
    with pytest.raises(RegionalError, match=r"map\.yaml: line 8, key 'tools\[1\]\.questions\.q1': given twice"):
        rg.compare([other], mapping=qmap)


def test_the_kits_own_bundles_still_read(tmp_path):
    assert read_bundle(bd.bundle_bytes(make_bundle()), name="ok.zip").codebook == ("default", "1.0")
    assert isinstance(Path(tmp_path), Path)
