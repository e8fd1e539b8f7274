"""Creating and opening workspaces; review.yaml problems are named exactly."""

from __future__ import annotations

import pytest
import yaml

from reviewkit.core.errors import ToolError, UnsafeLocationError, WorkspaceError
from reviewkit.review.workspace import NARRATIVE_SECTIONS, create_workspace, open_workspace

from .helpers import make_workspace


def test_new_workspace_has_everything_and_records_the_tool(tmp_path):
    ws = create_workspace(tmp_path / "ws", council="Eastvale Borough Council", theme="Strengths",
                          reviewers=["A. Visitor", "H. Host"], host="H. Host")
    names = {p.name for p in ws.path.iterdir()}
    assert {"audit_tool.yaml", "narrative", "private", "review.db", "review.yaml"} <= names
    meta = yaml.safe_load((ws.path / "review.yaml").read_text())
    assert (meta["tool"], meta["tool_version"]) == ("strengths-based-practice", ws.tool.version)
    assert [m["role"] for m in meta["team"]] == ["visiting", "host"]
    assert len(list((ws.path / "narrative").glob("*.md"))) == len(NARRATIVE_SECTIONS)
    again = open_workspace(ws.path)
    assert again.tool.question_ids == [f"q{i}" for i in range(1, 13)]


def test_workspace_keeps_its_own_copy_of_the_tool(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    text = (ws.path / "audit_tool.yaml").read_text()
    (ws.path / "audit_tool.yaml").write_text(text.replace("version: '1.0'", "version: '9.9'"))
    with pytest.raises(WorkspaceError, match="version"):
        open_workspace(ws.path)


def test_new_refuses_a_non_empty_folder_and_unknown_tool(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "notes.txt").write_text("x")
    with pytest.raises(WorkspaceError, match="not empty"):
        create_workspace(tmp_path / "ws", council="C", theme="T")
    with pytest.raises(ToolError, match="available: care-act-assessment, strengths-based-practice"):
        create_workspace(tmp_path / "other", council="C", theme="T", tool="nope")
    assert not (tmp_path / "other").exists()


def test_new_refuses_a_synced_folder(tmp_path):
    with pytest.raises(UnsafeLocationError):
        create_workspace(tmp_path / "OneDrive - Council" / "ws", council="C", theme="T")
    assert not (tmp_path / "OneDrive - Council").exists()


@pytest.mark.parametrize("change, message", [
    ({"council": ""}, "'council' is required"),
    ({"team": [{"name": "A", "role": "boss"}]}, "role must be one of visiting, host, associate"),
    ({"team": [{"name": "A"}, {"name": "A"}]}, "listed twice"),
    ({"cases": [{"id": "C01", "reviewer": "Nobody"}]}, "'Nobody' is not a reviewer"),
    ({"cases": [{"id": "943 476 5919", "reviewer": "A. Visitor"}]}, "pseudonymous reference"),
    ({"cases": [{"id": "C01", "reviewer": "A. Visitor"}, {"id": "C01", "reviewer": "A. Visitor"}]}, "listed twice"),
    ({"dates": {"start": "next week"}}, "YYYY-MM-DD"),
    ({"format": "seven"}, "whole number"),
])
def test_invalid_review_yaml_is_named(tmp_path, change, message):
    ws = make_workspace(tmp_path / "ws")
    data = yaml.safe_load((ws.path / "review.yaml").read_text())
    data.update(change)
    (ws.path / "review.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(WorkspaceError, match=message) as info:
        open_workspace(ws.path)
    assert "review.yaml" in str(info.value)


def test_broken_yaml_names_the_line(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "review.yaml").write_text("council: x\ntheme: [unclosed\n")
    with pytest.raises(WorkspaceError, match="line"):
        open_workspace(ws.path)


def test_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match="reviewkit new"):
        open_workspace(tmp_path)
    with pytest.raises(WorkspaceError, match="no such workspace"):
        open_workspace(tmp_path / "missing")


def test_private_names_are_read_without_comments(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "private" / "names.txt").write_text("# people\nZebediah Quokkafeather\n\n")
    assert ws.private_names() == ["Zebediah Quokkafeather"]
    assert ws.rules().names == ("Zebediah Quokkafeather",)
