"""Audit tools and rating scales: the shipped tools load, and every broken file is named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reviewkit.core.errors import ConfigError, ToolError
from reviewkit.core.tools import (
    DEFAULT_TOOL,
    AuditTool,
    available_tools,
    load_scale,
    load_tool,
    parse_tool,
)

DATA = Path(__file__).parent / "data" / "tools"
SHIPPED = ["care-act-assessment", "strengths-based-practice"]
SCORED = ["Outstanding", "Good", "Requires Improvement", "Inadequate"]
# A few American spellings that would slip into British English wording.
AMERICAN = re.compile(r"\b\w*(?:iz(?:e|es|ed|ing|ation)|behavior|color|center|program\b|judgment|favor)\w*", re.I)


# --- the shipped tools -------------------------------------------------------------------

def test_available_tools_lists_both_shipped_tools() -> None:
    assert available_tools() == SHIPPED
    assert DEFAULT_TOOL in available_tools()


@pytest.mark.parametrize("tool_id", SHIPPED)
def test_shipped_tool_has_twelve_questions_and_overall(tool_id: str) -> None:
    tool = load_tool(tool_id)
    assert isinstance(tool, AuditTool)
    assert tool.id == tool_id
    assert tool.version == "1.0"
    assert tool.question_ids == [f"q{n}" for n in range(1, 13)]
    assert tool.all_ids[-1] == "overall"
    assert tool.source is not None and tool.source.name == f"{tool_id}.yaml"
    assert tool.title and tool.description


@pytest.mark.parametrize("tool_id", SHIPPED)
def test_shipped_tool_describes_every_scored_level(tool_id: str) -> None:
    tool = load_tool(tool_id)
    assert [lv.label for lv in tool.scale.scored] == SCORED
    for q in (*tool.questions, tool.overall):
        assert list(q.descriptors) == SCORED, q.id
        assert q.title and q.text, q.id


@pytest.mark.parametrize("tool_id", SHIPPED)
def test_shipped_descriptors_are_full_british_sentences(tool_id: str) -> None:
    tool = load_tool(tool_id)
    for q in (*tool.questions, tool.overall):
        for level, text in q.descriptors.items():
            assert text[0].isupper() and text.endswith("."), (q.id, level)
            assert "\n" not in text and "  " not in text, (q.id, level)
            sentences = re.split(r"(?<=\.) (?=[A-Z])", text)
            assert 1 <= len(sentences) <= 2, (q.id, level)
            assert not AMERICAN.search(text), (q.id, level)
        assert not AMERICAN.search(q.text), q.id


@pytest.mark.parametrize("tool_id", SHIPPED)
def test_shipped_questions_map_to_valid_cqc_statements(tool_id: str) -> None:
    tool = load_tool(tool_id)
    for q in tool.questions:
        assert q.cqc, q.id
        assert all(1 <= n <= 9 for n in q.cqc), q.id
        assert len(set(q.cqc)) == len(q.cqc), q.id
    assert tool.overall.cqc == ()


def test_default_tool_matches_the_domain_table() -> None:
    tool = load_tool("strengths-based-practice")
    assert tool.question("q1").title == "Voice of the person"
    assert tool.question("q11").title == "Management oversight"
    assert tool.question("q1").cqc == (1, 3)
    assert tool.question("q8").cqc == (6, 7)
    assert tool.question("q11").cqc == (8,)
    assert tool.question("overall").title == "Overall judgement"


def test_care_act_tool_allows_not_applicable_where_the_table_says() -> None:
    tool = load_tool("care-act-assessment")
    assert "Not applicable" in tool.question("q6").text
    assert "Not applicable" in tool.question("q5").text


def test_unknown_question_id_is_an_error() -> None:
    with pytest.raises(ToolError, match="tool 'strengths-based-practice' has no question 'q13'"):
        load_tool("strengths-based-practice").question("q13")


# --- rating scales -----------------------------------------------------------------------

def test_default_scale_levels_codes_and_scores() -> None:
    scale = load_scale("default")
    assert scale.labels == [*SCORED, "Not applicable"]
    assert [lv.code for lv in scale.levels] == ["O", "G", "RI", "I", "NA"]
    assert [lv.score for lv in scale.levels] == [4, 3, 2, 1, None]
    assert [lv.label for lv in scale.scored] == SCORED
    assert not scale.level("NA").counts


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("Outstanding", "Outstanding"),
        ("outstanding", "Outstanding"),
        ("GOOD", "Good"),
        ("  requires   improvement ", "Requires Improvement"),
        ("Requires\timprovement", "Requires Improvement"),
        ("o", "Outstanding"),
        ("G", "Good"),
        ("ri", "Requires Improvement"),
        ("I", "Inadequate"),
        ("na", "Not applicable"),
        (" NOT APPLICABLE", "Not applicable"),
    ],
)
def test_scale_parses_labels_and_codes_in_any_case(typed: str, label: str) -> None:
    level = load_scale("default").parse(typed)
    assert level is not None and level.label == label


@pytest.mark.parametrize("typed", ["", "Excellent", "Requires", "R I", "5", "N/A x"])
def test_scale_rejects_other_values(typed: str) -> None:
    scale = load_scale("default")
    assert scale.parse(typed) is None
    with pytest.raises(ToolError, match="is not a level of rating scale 'default'"):
        scale.level(typed)


def test_inline_scale_is_accepted() -> None:
    scale = load_scale([
        {"label": "Met", "code": "M", "score": 2},
        {"label": "Not met", "code": "NM", "score": 1},
        {"label": "Not applicable", "code": "NA", "score": None},
    ])
    assert scale.id == "inline"
    assert scale.parse("not met").score == 1
    assert scale.describe() == "Met (M), Not met (NM), Not applicable (NA)"


def test_unknown_scale_id_lists_available_scales() -> None:
    with pytest.raises(ToolError, match=r"no rating scale named 'seven-point'; available: default"):
        load_scale("seven-point")


# --- a valid custom tool -----------------------------------------------------------------

def test_minimal_tool_file_loads_with_descriptors_keyed_by_code() -> None:
    tool = load_tool(DATA / "valid_minimal.yaml")
    assert (tool.id, tool.version) == ("minimal", "2.1")
    assert tool.question_ids == ["a1", "a2"]
    assert tool.question("a1").descriptors == {
        "Outstanding": "Best.", "Good": "Fine.", "Requires Improvement": "Patchy.", "Inadequate": "Absent.",
    }
    assert tool.question("a2").descriptors == tool.question("a1").descriptors
    # No overall section: the overall judgement is still there, without descriptors.
    assert tool.overall.id == "overall" and tool.overall.descriptors == {}
    assert tool.source == DATA / "valid_minimal.yaml"


def test_parse_tool_accepts_an_unquoted_numeric_version() -> None:
    data = yaml.safe_load((DATA / "valid_minimal.yaml").read_text(encoding="utf-8"))
    data["version"] = 3
    assert parse_tool(data).version == "3"


# --- broken tool files -------------------------------------------------------------------

BROKEN = [
    ("not_yaml.yaml", r"not_yaml\.yaml: line 3 is not valid YAML"),
    ("not_mapping.yaml", r"not_mapping\.yaml: expected a mapping with id, version, title, questions"),
    ("missing_id.yaml", r"missing_id\.yaml: missing key 'id'; add it"),
    ("missing_version.yaml", r"missing_version\.yaml: missing key 'version'"),
    ("missing_title.yaml", r"missing_title\.yaml: missing key 'title'"),
    ("missing_questions.yaml", r"missing_questions\.yaml: missing key 'questions'"),
    ("empty_questions.yaml", r"empty_questions\.yaml: 'questions' is empty; list at least one question"),
    ("duplicate_question_id.yaml", r"duplicate_question_id\.yaml: question id 'q1' is used more than once"),
    ("question_id_overall.yaml", r"question id 'overall' is kept for the overall judgement; rename"),
    ("descriptor_unknown_level.yaml",
     r"question 1 \('q1'\): descriptor for unknown level 'Excellent'; levels are Outstanding \(O\), Good \(G\)"),
    ("missing_descriptor.yaml",
     r"question 2 \('q2'\): missing descriptor for Requires Improvement, Inadequate$"),
    ("bad_cqc_number.yaml",
     r"question 1 \('q1'\): 'cqc' must list CQC quality statement numbers 1 to 9"),
    ("scale_unordered_scores.yaml", r"scale: scored levels must be listed best first with distinct scores"),
    ("scale_duplicate_code.yaml", r"scale: level 3: label or code 'g' is used twice"),
    ("scale_na_not_last.yaml", r"scale: not-applicable levels \(score null\) must come last"),
    ("scale_one_level.yaml", r"scale: 'levels' must list at least two rating levels"),
    ("scale_one_scored_level.yaml", r"scale: at least two levels need a score"),
    ("unknown_scale.yaml", r"scale: no rating scale named 'seven-point'; available: default"),
]


@pytest.mark.parametrize(("name", "message"), BROKEN, ids=[b[0].removesuffix(".yaml") for b in BROKEN])
def test_broken_tool_file_names_the_problem(name: str, message: str) -> None:
    with pytest.raises(ToolError, match=message) as info:
        load_tool(DATA / name)
    assert str(info.value).startswith(str(DATA / name))
    assert isinstance(info.value, ConfigError)


def test_unknown_tool_id_lists_available_tools() -> None:
    with pytest.raises(
        ToolError,
        match=r"no audit tool named 'strengths'; available: care-act-assessment, strengths-based-practice",
    ):
        load_tool("strengths")


def test_missing_tool_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(ToolError, match=re.escape(f"{missing}: file not found")):
        load_tool(missing)


def test_tool_file_not_utf8_says_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: caf\u00e9\nversion: '1'\ntitle: T\nquestions: []\n".encode("latin-1"))
    with pytest.raises(ToolError, match=re.escape(f"{path}: not UTF-8 text; save it as UTF-8")):
        load_tool(path)


def test_tool_file_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "valid_minimal.yaml").read_bytes())
    assert load_tool(path).id == "minimal"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cqc": [True]}, r"'cqc' must list CQC quality statement numbers 1 to 9"),
        ({"cqc": [0]}, r"'cqc' must list CQC quality statement numbers 1 to 9"),
        ({"cqc": 3}, r"'cqc' must list CQC quality statement numbers 1 to 9"),
        ({"title": "  "}, r"question 1 \('a1'\): 'title' must be a non-empty str"),
        ({"descriptors": ["Best."]}, r"'descriptors' must map each rating level to its descriptor"),
        ({"descriptors": {"O": "", "G": "b", "RI": "c", "I": "d"}},
         r"descriptor for 'Outstanding' must be non-empty text"),
    ],
)
def test_bad_question_fields_are_named(change: dict, message: str) -> None:
    data = yaml.safe_load((DATA / "valid_minimal.yaml").read_text(encoding="utf-8"))
    data["questions"][0].update(change)
    with pytest.raises(ToolError, match=message):
        parse_tool(data, "custom.yaml")


def test_question_that_is_not_a_mapping_is_named() -> None:
    data = yaml.safe_load((DATA / "valid_minimal.yaml").read_text(encoding="utf-8"))
    data["questions"].append("q3")
    with pytest.raises(ToolError, match=r"custom\.yaml: question 3: expected a mapping with id, title and text"):
        parse_tool(data, "custom.yaml")


def test_scale_level_may_share_its_label_and_code() -> None:
    scale = load_scale([{"label": "Yes", "code": "yes", "score": 1}, {"label": "No", "code": "NO", "score": 0}])
    assert scale.parse("YES").score == 1


def test_shipped_tool_id_must_match_its_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reviewkit.core.tools as tools

    folder = tmp_path / "audit_tools"
    folder.mkdir()
    (folder / "renamed.yaml").write_text((DATA / "valid_minimal.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(tools, "TOOLS_DIR", folder)
    assert available_tools() == ["renamed"]
    with pytest.raises(ToolError, match=r"renamed\.yaml: id 'minimal' does not match the file name"):
        load_tool("renamed")
