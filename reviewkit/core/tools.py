"""Audit tools and rating scales, loaded from YAML under ``templates/audit_tools/``.

Tools are data so that a region can add or reword one without touching code; loading
validates the file and names the exact problem, because a broken tool would otherwise
surface as a confusing error halfway through a review.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewkit.core.cqc import statement_numbers
from reviewkit.core.errors import ConfigError, ToolError
from reviewkit.core.resources import shipped
from reviewkit.core.yamlfile import load_yaml as _load_yaml

TEMPLATES = shipped("templates")
REFERENCE_DOCX = TEMPLATES / "reference.docx"  # the Word styles of the report and the action plan
TOOLS_DIR = TEMPLATES / "audit_tools"
SCALES_DIR = TEMPLATES / "scales"
DEFAULT_TOOL = "strengths-based-practice"
OVERALL = "overall"


@dataclass(frozen=True)
class Level:
    """One rating level: its label, short code and score (None = not applicable)."""

    label: str
    code: str
    score: int | None

    @property
    def counts(self) -> bool:
        """Whether the level counts in denominators (Not applicable does not)."""
        return self.score is not None


@dataclass(frozen=True)
class RatingScale:
    """An ordered rating scale, best level first, not-applicable levels last."""

    id: str
    levels: tuple[Level, ...]

    @property
    def labels(self) -> list[str]:
        return [lv.label for lv in self.levels]

    @property
    def scored(self) -> list[Level]:
        """Levels that count in denominators, best first."""
        return [lv for lv in self.levels if lv.counts]

    def parse(self, value: str) -> Level | None:
        """The level a typed value means (label or code, any case), or None."""
        key = " ".join(str(value).split()).casefold()
        for lv in self.levels:
            if key in (lv.label.casefold(), lv.code.casefold()):
                return lv
        return None

    def level(self, label: str) -> Level:
        found = self.parse(label)
        if found is None:
            raise ToolError(f"'{label}' is not a level of rating scale '{self.id}'")
        return found

    def describe(self) -> str:
        """The accepted values, for error messages."""
        return ", ".join(f"{lv.label} ({lv.code})" for lv in self.levels)


@dataclass(frozen=True)
class Question:
    """One question of an audit tool, with a descriptor per rating level."""

    id: str
    title: str
    text: str
    descriptors: dict[str, str]
    cqc: tuple[int, ...] = ()


@dataclass(frozen=True)
class AuditTool:
    """A versioned audit tool: its questions, the overall judgement and its scale."""

    id: str
    version: str
    title: str
    description: str
    scale: RatingScale
    questions: tuple[Question, ...]
    overall: Question
    source: Path | None = None

    @property
    def question_ids(self) -> list[str]:
        """Ids of the rated questions, in order, without the overall judgement."""
        return [q.id for q in self.questions]

    @property
    def all_ids(self) -> list[str]:
        """Question ids plus the overall judgement id."""
        return self.question_ids + [self.overall.id]

    def question(self, qid: str) -> Question:
        for q in (*self.questions, self.overall):
            if q.id == qid:
                return q
        raise ToolError(f"tool '{self.id}' has no question '{qid}'")


def shipped_or_path(name_or_path: str | Path, folder: Path, what: str, error: type[Exception]) -> Path:
    """A YAML file given by path, or a shipped one by id; an unknown id lists what is shipped."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        return path
    path = folder / f"{name_or_path}.yaml"
    if not path.exists():
        shipped = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise error(f"no {what} named '{name_or_path}'; available: {shipped}")
    return path


def check_file_id(path: Path, folder: Path, file_id: str, error: type[Exception]) -> None:
    """A shipped file's id must match its name, or loading it by id would find another."""
    if path.parent == folder and file_id != path.stem:
        raise error(f"{path}: id '{file_id}' does not match the file name; make them the same")


def available_tools() -> list[str]:
    """Ids of the audit tools shipped under templates/audit_tools/."""
    return sorted(p.stem for p in TOOLS_DIR.glob("*.yaml"))


def available_scales() -> list[str]:
    """Ids of the rating scales shipped under templates/scales/."""
    return sorted(p.stem for p in SCALES_DIR.glob("*.yaml"))


def load_yaml(text: str | bytes, where: str = "YAML", error: type[ConfigError] = ToolError) -> Any:
    """Parse YAML with the kit's one hardened loader (see ``reviewkit.core.yamlfile``)."""
    return _load_yaml(text, where, error)


def _read_yaml(path: Path, error: type[ConfigError] = ToolError) -> Any:
    """Parsed YAML of a configuration file, or ``error`` naming the file and line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a YAML file") from None
    return _load_yaml(data, str(path), error)


def _need(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ToolError(f"{where}: missing key '{key}'; add it")
    value = data[key]
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise ToolError(f"{where}: '{key}' must be a non-empty {kind.__name__}")
    return value


def load_scale(spec: str | list[Any], where: str = "scale") -> RatingScale:
    """A rating scale from a scale id (templates/scales/ID.yaml) or an inline list."""
    if isinstance(spec, str):
        path = SCALES_DIR / f"{spec}.yaml"
        if not path.exists():
            raise ToolError(
                f"{where}: no rating scale named '{spec}'; available: {', '.join(available_scales())}"
            )
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise ToolError(f"{path}: expected a mapping with 'id' and 'levels'")
        return _parse_levels(str(data.get("id", spec)), data.get("levels"), str(path))
    return _parse_levels("inline", spec, where)


def _parse_levels(sid: str, raw: Any, where: str) -> RatingScale:
    if not isinstance(raw, list) or len(raw) < 2:
        raise ToolError(f"{where}: 'levels' must list at least two rating levels")
    levels: list[Level] = []
    seen: set[str] = set()
    for i, item in enumerate(raw, 1):
        at = f"{where}: level {i}"
        if not isinstance(item, dict):
            raise ToolError(f"{at}: expected a mapping with label, code and score")
        label = _need(item, "label", str, at).strip()
        code = _need(item, "code", str, at).strip()
        score = item.get("score")
        if score is not None and (not isinstance(score, int) or isinstance(score, bool)):
            raise ToolError(f"{at}: 'score' must be a whole number, or null for not applicable")
        for name in (label, code) if label.casefold() != code.casefold() else (label,):
            if name.casefold() in seen:
                raise ToolError(f"{at}: label or code '{name}' is used twice; each must be unique")
            seen.add(name.casefold())
        levels.append(Level(label, code, score))
    scored = [lv.score for lv in levels if lv.score is not None]
    if len(scored) < 2:
        raise ToolError(f"{where}: at least two levels need a score")
    if scored != sorted(scored, reverse=True) or len(set(scored)) != len(scored):
        raise ToolError(f"{where}: scored levels must be listed best first with distinct scores")
    if any(lv.score is not None for lv in levels[len(scored):]):
        raise ToolError(f"{where}: not-applicable levels (score null) must come last")
    return RatingScale(sid, tuple(levels))


def _parse_question(raw: Any, where: str, scale: RatingScale, need_descriptors: bool) -> Question:
    if not isinstance(raw, dict):
        raise ToolError(f"{where}: expected a mapping with id, title and text")
    qid = _need(raw, "id", str, where).strip()
    where = f"{where} ('{qid}')"
    title = _need(raw, "title", str, where).strip()
    text = _need(raw, "text", str, where).strip()
    descriptors = raw.get("descriptors") or {}
    if not isinstance(descriptors, dict):
        raise ToolError(f"{where}: 'descriptors' must map each rating level to its descriptor")
    clean: dict[str, str] = {}
    for key, value in descriptors.items():
        level = scale.parse(str(key))
        if level is None:
            raise ToolError(f"{where}: descriptor for unknown level '{key}'; levels are {scale.describe()}")
        if not isinstance(value, str) or not value.strip():
            raise ToolError(f"{where}: descriptor for '{level.label}' must be non-empty text")
        clean[level.label] = value.strip()
    if need_descriptors:
        missing = [lv.label for lv in scale.scored if lv.label not in clean]
        if missing:
            raise ToolError(f"{where}: missing descriptor for {', '.join(missing)}")

    return Question(qid, title, text, clean, statement_numbers(raw.get("cqc", []), where, ToolError))


def parse_tool(data: Any, source: str = "<tool>") -> AuditTool:
    """Validate and build an audit tool from parsed YAML; errors name the exact problem."""
    if not isinstance(data, dict):
        raise ToolError(f"{source}: expected a mapping with id, version, title, questions")
    tid = _need(data, "id", str, source).strip()
    version = _need(data, "version", str, source).strip()
    title = _need(data, "title", str, source).strip()
    description = str(data.get("description", "")).strip()
    scale = load_scale(data.get("scale", "default"), f"{source}: scale")
    raw_questions = _need(data, "questions", list, source)
    if not raw_questions:
        raise ToolError(f"{source}: 'questions' is empty; list at least one question")
    questions = tuple(
        _parse_question(q, f"{source}: question {i}", scale, True) for i, q in enumerate(raw_questions, 1)
    )
    overall_raw = data.get("overall", {"id": OVERALL, "title": "Overall judgement",
                                       "text": "Your professional judgement of the case record as a whole."})
    overall = _parse_question(overall_raw, f"{source}: overall", scale, False)
    ids = [q.id for q in questions] + [overall.id]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if overall.id in dupes:
        raise ToolError(
            f"{source}: question id '{overall.id}' is kept for the overall judgement; rename the question"
        )
    if dupes:
        raise ToolError(f"{source}: question id '{dupes[0]}' is used more than once")
    return AuditTool(tid, version, title, description, scale, questions, overall)


def load_tool(name_or_path: str | Path) -> AuditTool:
    """Load a shipped tool by id, or a tool file by path, validating it."""
    path = shipped_or_path(name_or_path, TOOLS_DIR, "audit tool", ToolError)
    tool = parse_tool(_read_yaml(path), str(path))
    check_file_id(path, TOOLS_DIR, tool.id, ToolError)
    return AuditTool(**{**tool.__dict__, "source": path})
