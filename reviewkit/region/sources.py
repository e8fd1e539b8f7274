"""Reading what a regional comparison is made from: bundles, review workspaces and a question mapping.

In: bundle .zip files or review workspaces (exported on the fly), and a question-mapping YAML.
Out: ``Bundle`` objects and a checked ``QuestionMap``. Kept apart from the comparison so every
file the network sends is read and refused, with the key or file to fix, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reviewkit.core.errors import RegionalError
from reviewkit.core.yamlfile import load_yaml
from reviewkit.review.bundle import Bundle, bundle_bytes, bundle_from_workspace
from reviewkit.review.bundleread import read_bundle
from reviewkit.review.workspace import open_workspace

__all__ = ["MAP_FORMAT", "Progress", "QuestionMap", "load_bundles", "load_question_map"]

MAP_FORMAT = "reviewkit-question-map"
MAX_MAP_BYTES = 256 * 1024  # a question map lists a few tools of a few dozen questions
Progress = Callable[[str], None]


# --------------------------------------------------------------------------- loading

def _is_workspace(path: Path) -> bool:
    return path.is_dir() and (path / "review.yaml").exists()


def load_bundles(sources: Iterable[str | Path], *, progress: Progress | None = None) -> list[Bundle]:
    """Read bundles, exporting any review workspace among the sources on the fly."""
    bundles = []
    paths = [Path(s) for s in sources]
    if not paths:
        raise RegionalError("no bundles given: pass the bundle .zip files (or review workspaces) to compare")
    for i, path in enumerate(paths, 1):
        if _is_workspace(path):
            ws = open_workspace(path)
            data = bundle_bytes(bundle_from_workspace(ws))
            bundles.append(read_bundle(data, name=f"{path.name} (workspace)"))
        elif path.is_dir():
            raise RegionalError(f"{path}: a folder that is not a review workspace (no review.yaml); "
                                "pass bundle .zip files or review workspaces")
        else:
            bundles.append(read_bundle(path))
        if progress and (i == len(paths) or i % 50 == 0):
            progress(f"read {i} of {len(paths)} bundle(s)")
    return bundles


# --------------------------------------------------------------------------- question mapping

@dataclass(frozen=True)
class QuestionMap:
    """Common questions, and for each (tool, version) which of its question ids maps to which."""

    common: tuple[tuple[str, str], ...]
    tools: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    source: str = ""


def load_question_map(path: str | Path) -> QuestionMap:
    """Read a question mapping YAML (see the README); errors name the key to fix."""
    path = Path(path)
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RegionalError(f"{where}: no such mapping file") from None
    except IsADirectoryError:
        raise RegionalError(f"{where}: is a folder, not a mapping file") from None
    data = load_yaml(raw, where, RegionalError, max_bytes=MAX_MAP_BYTES)
    if not isinstance(data, dict) or data.get("format") != MAP_FORMAT:
        raise RegionalError(f"{where}: expected a mapping with 'format: {MAP_FORMAT}', 'common' and 'tools'")
    extra = sorted(str(k) for k in data if k not in ("format", "version", "common", "tools"))
    if extra:
        raise RegionalError(f"{where}: unexpected key '{extra[0]}'; expected format, version, common, tools")
    if data.get("version", 1) != 1:
        raise RegionalError(f"{where}: mapping version is not supported (expected 1)")
    common_raw = data.get("common")
    if not isinstance(common_raw, list) or not common_raw:
        raise RegionalError(f"{where}: 'common' must list the common questions, each with id and title")
    common = []
    for i, c in enumerate(common_raw, 1):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not isinstance(c.get("title"), str):
            raise RegionalError(f"{where}: common question {i}: expected id and title (text)")
        common.append((c["id"].strip(), c["title"].strip()))
    ids = [c for c, _ in common]
    if len(set(ids)) != len(ids):
        raise RegionalError(f"{where}: 'common' lists a question id twice")
    tools_raw = data.get("tools")
    if not isinstance(tools_raw, list) or not tools_raw:
        raise RegionalError(f"{where}: 'tools' must list each tool and version with its 'questions' mapping")
    tools: dict[tuple[str, str], dict[str, str]] = {}
    for i, t in enumerate(tools_raw, 1):
        at = f"{where}: tools entry {i}"
        if not isinstance(t, dict) or set(t) != {"tool", "version", "questions"}:
            raise RegionalError(f"{at}: expected tool, version and questions")
        key = (str(t["tool"]).strip(), str(t["version"]).strip())
        if key in tools:
            raise RegionalError(f"{at}: tool '{key[0]}' version {key[1]} is listed twice")
        qs = t["questions"]
        if not isinstance(qs, dict) or not qs:
            raise RegionalError(f"{at}: 'questions' must map this tool's question ids to common ids")
        mapping = {}
        for qid, cid in qs.items():
            if str(cid) not in ids:
                raise RegionalError(f"{at}: question '{qid}' maps to '{cid}', which is not in 'common'")
            mapping[str(qid)] = str(cid)
        if len(set(mapping.values())) != len(mapping):
            raise RegionalError(f"{at}: two questions map to the same common id")
        tools[key] = mapping
    return QuestionMap(tuple(common), tools, where)
