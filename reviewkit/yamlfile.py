"""The one YAML loader for every file the kit reads: review.yaml, audit tools, scales,
codebooks, regional bundle manifests and question maps.

These files come from other people (a region's shared tool, a council's bundle, a colleague's
workspace), so they are read as hostile: anchors and aliases are refused (a few hundred bytes
of nested aliases become gigabytes once a value is turned into text), and size, nesting and
node count are bounded before anything is built. The safe loader never builds objects.
Messages name the file and line, never a value.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import ConfigError, ReviewkitError

__all__ = ["MAX_YAML_BYTES", "load_yaml"]

MAX_YAML_BYTES = 2 * 1024 * 1024  # the largest shipped tool is a few KB; a big review.yaml under 100 KB
MAX_DEPTH = 32  # nesting of lists and mappings (real files need 5)
MAX_NODES = 200_000  # scalars, lists and mappings

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where installed: faster


def load_yaml(source: str | bytes, where: str, error: type[ReviewkitError] = ConfigError, *,
              max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse YAML from another person safely; raise ``error`` naming ``where`` (and the line).

    Refuses anchors and aliases, files over ``max_bytes``, nesting deeper than ``MAX_DEPTH``
    and more than ``MAX_NODES`` values, before building any value.
    """
    size = len(source.encode("utf-8")) if isinstance(source, str) else len(source)
    if size > max_bytes:
        raise error(f"{where}: too large for this kind of file ({size:,} bytes; at most {max_bytes:,})")
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError:
            raise error(f"{where}: not UTF-8 text; save it as UTF-8") from None
    else:
        text = source
    try:
        _check_events(text, where, error)
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise error(f"{where}:{line} is not valid YAML ({getattr(exc, 'problem', None) or 'cannot be read'})") from None
    except RecursionError:  # the pure-Python parser, where libyaml is missing
        raise error(f"{where}: nested too deeply (at most {MAX_DEPTH} levels)") from None


def _check_events(text: str, where: str, error: type[ReviewkitError]) -> None:
    """Walk the parser's events: refuse aliases and anchors, deep nesting and too many values."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = f" line {event.start_mark.line + 1}" if event.start_mark is not None else ""
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise error(f"{where}:{line} uses a YAML anchor or alias ('&' or '*'), which reviewkit does not "
                        "accept in files from others; write the values out in full")
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise error(f"{where}:{line} nested too deeply (at most {MAX_DEPTH} levels)")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise error(f"{where}:{line} holds too many values (at most {MAX_NODES:,})")
