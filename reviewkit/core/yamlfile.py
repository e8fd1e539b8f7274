"""The one YAML loader for every file the kit reads: review.yaml, audit tools, scales,
codebooks, regional bundle manifests and question maps.

These files come from other people (a region's shared tool, a council's bundle, a colleague's
workspace), so they are read as hostile: anchors and aliases are refused (a few hundred bytes
of nested aliases become gigabytes once a value is turned into text), and size, nesting and
node count are bounded before anything is built. The safe loader never builds objects.
A key given twice is refused (YAML would silently keep the last value), and a value YAML
cannot build (an unquoted date that does not exist, such as 2026-02-30) is named by line
and key instead of escaping as a ValueError. Messages name the file and line, never a value.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from reviewkit.core.errors import ConfigError, ReviewkitError

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
        loader = _LOADER(text)
        try:
            node = loader.get_single_node()
            if node is None:  # an empty file
                return None
            _check_nodes(loader, node, where, error)
            return loader.construct_document(node)
        finally:
            loader.dispose()
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


_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_KEY = re.compile(r"[a-z0-9_][a-z0-9_.-]{0,39}")
_WHAT = {"tag:yaml.org,2002:timestamp": "not a real date; write a date that exists, as YYYY-MM-DD (e.g. 2026-03-14)",
         "tag:yaml.org,2002:int": "a number too long to read; shorten it, or put it in quotes if it is text"}


def _check_nodes(loader: Any, root: yaml.Node, where: str, error: type[ReviewkitError]) -> None:
    """Refuse a key given twice in one mapping, and any value YAML cannot build, by line and key.

    Each scalar is built here once (the loader keeps what it built for the document), so the
    ValueError PyYAML raises for ``start: 2026-02-30`` becomes a message naming the key.
    """
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:  # '<<': merged keys are meant to be overridden
                    stack.append((value_node, path))
                    continue
                if not isinstance(key_node, yaml.ScalarNode):  # a complex key: the constructor refuses it
                    continue
                key = _built(loader, key_node, path or "(top level)", where, error)
                name = _key_name(key_node.value)  # as written: 'yes', not True
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                    seen.setdefault(key, line)
                except TypeError:  # an unhashable key: the constructor refuses it
                    continue
                child = f"{path}.{name}" if path else name
                if first is not None:
                    raise error(f"{where}: line {line}, key '{child}': given twice (first on line {first}); YAML "
                                "would keep only the last value without saying so; remove or rename one of them")
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value, 1))
        elif isinstance(node, yaml.ScalarNode):
            _built(loader, node, path or "(top level)", where, error)


def _built(loader: Any, node: yaml.ScalarNode, path: str, where: str, error: type[ReviewkitError]) -> Any:
    try:
        return loader.construct_object(node)
    except (ValueError, OverflowError):
        what = _WHAT.get(node.tag, "a value YAML cannot read; correct it, or put it in quotes if it is text")
        raise error(f"{where}: line {node.start_mark.line + 1}, key '{path}': {what}") from None


def _key_name(text: str) -> str:
    """A key as written when it is the kind the kit's files use (start, report_date, q1); any other
    key, which could be someone's name in a file from elsewhere, is not repeated in a message."""
    return text if _PLAIN_KEY.fullmatch(text) else "…"
