"""The entry notebooks: thin, parameterised for papermill, and run top to bottom without edits."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from reviewkit.review.ratings import RatingInput

from .helpers import make_workspace

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ENTRY = {
    "rate_case_records.ipynb": ("RatingForm", {"workspace", "reviewer"}),
    "record_meeting.ipynb": ("MeetingForm", {"workspace", "reviewer"}),
    "record_conversation.ipynb": ("ConversationForm", {"workspace", "reviewer"}),
    "review_progress.ipynb": ("ProgressView", {"workspace"}),
    "host_console.ipynb": ("HostConsole", {"workspace"}),
}
CANARY_NOTE = "Canary evidence note Zq9"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample review when it is shipped, else a small built one; a canary note is stored."""
    root = tmp_path_factory.mktemp("nb") / "ws"
    try:
        from reviewkit.intake.sample import build_sample_workspace
    except ImportError:  # the sample is optional for these tests
        ws = make_workspace(root)
    else:
        ws = build_sample_workspace(root)
    case = ws.meta.cases[0]
    with ws.store() as store:
        store.set_rating(case.reviewer, RatingInput(case.id, case.reviewer, "q1", "Good", CANARY_NOTE))
    return root


def _reviewer(workspace: Path) -> str:
    from reviewkit.review.workspace import open_workspace

    return open_workspace(workspace).meta.cases[0].reviewer


def _run(name: str, tmp_path: Path, parameters: dict[str, str] | None) -> nbformat.NotebookNode:
    out = tmp_path / name
    pm.execute_notebook(str(NOTEBOOKS / name), str(out), parameters=parameters or {}, kernel_name="python3",
                        cwd=str(NOTEBOOKS), progress_bar=False, log_output=False, execution_timeout=120,
                        store_widget_state=False)
    return nbformat.read(out, as_version=4)


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("name", sorted(ENTRY))
def test_notebooks_are_thin_stored_without_outputs_and_have_a_parameters_cell(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) <= 3
    for cell in code:
        lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        assert len(lines) <= 4, f"{name}: a cell this long belongs in the library"
        assert cell.outputs == [] and cell.execution_count is None
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert nb.metadata.kernelspec.name == "python3"
    params = pm.inspect_notebook(str(NOTEBOOKS / name))
    assert set(params) == ENTRY[name][1]
    assert "REVIEWKIT_WORKSPACE" in tagged[0].source  # 'reviewkit serve' passes values through the environment


@pytest.mark.slow
@pytest.mark.enable_socket
@pytest.mark.parametrize("name", sorted(ENTRY))
def test_each_notebook_runs_top_to_bottom_and_shows_its_form(name: str, workspace: Path, tmp_path: Path) -> None:
    params = {"workspace": str(workspace)}
    if "reviewer" in ENTRY[name][1]:
        params["reviewer"] = _reviewer(workspace)
    nb = _run(name, tmp_path, params)
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = [o for o in outputs if WIDGET_MIME in o.get("data", {})]
    assert len(shown) == 1
    assert shown[0]["data"]["text/plain"].startswith(ENTRY[name][0] + ":")  # the form, not an error panel
    # The saved notebook carries no evidence note, in its outputs or its metadata.
    assert CANARY_NOTE not in json.dumps(nb)


@pytest.mark.slow
@pytest.mark.enable_socket
def test_the_rating_notebook_reads_its_parameters_from_the_environment(workspace: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWKIT_WORKSPACE", str(workspace))
    monkeypatch.setenv("REVIEWKIT_REVIEWER", _reviewer(workspace))
    nb = _run("rate_case_records.ipynb", tmp_path, None)
    shown = [o for o in _outputs(nb) if WIDGET_MIME in o.get("data", {})]
    assert shown[0]["data"]["text/plain"].startswith("RatingForm:")


@pytest.mark.slow
@pytest.mark.enable_socket
def test_a_wrong_workspace_runs_cleanly_and_shows_a_plain_panel(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWKIT_WORKSPACE", raising=False)
    nb = _run("record_meeting.ipynb", tmp_path, {"workspace": str(tmp_path / "missing"), "reviewer": "A. Visitor"})
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = [o for o in outputs if WIDGET_MIME in o.get("data", {})]
    assert len(shown) == 1 and not shown[0]["data"]["text/plain"].startswith("MeetingForm:")
