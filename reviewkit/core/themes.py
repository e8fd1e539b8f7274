"""Theme codebooks for meeting notes, quotes and conversations, from templates/themes/*.yaml.

A codebook is data so that a host can add a code without touching code; loading validates
the file and names the exact problem. Keyword hints only pre-suggest codes: a person always
confirms, so matching stays simple and predictable rather than clever.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from reviewkit.core.cqc import statement_numbers
from reviewkit.core.errors import CodebookError
from reviewkit.core.tools import TEMPLATES, _read_yaml, check_file_id, shipped_or_path

THEMES_DIR = TEMPLATES / "themes"
DEFAULT_CODEBOOK = "default"
DEFAULT_STANCES = ("strength", "concern", "mixed")

_ID = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_TOP_KEYS = ("id", "version", "title", "stances", "codes", "i_statements", "conversation_codes")
_CODE_KEYS = ("id", "label", "covers", "cqc", "keywords", "aliases")
_I_KEYS = ("id", "label", "text", "cqc", "keywords", "aliases")


@dataclass(frozen=True)
class Code:
    """A code, or an I statement: ``text`` is what the code covers, or the statement's words."""

    id: str
    label: str
    text: str
    cqc: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    i_statement: bool = False


@dataclass(frozen=True)
class Codebook:
    """A versioned codebook: meeting codes, I statements, stances and the conversation codes."""

    id: str
    version: str
    title: str
    stances: tuple[str, ...]
    codes: tuple[Code, ...]
    i_statements: tuple[Code, ...] = ()
    conversation_codes: tuple[str, ...] = ()
    source: Path | None = None

    @property
    def ids(self) -> list[str]:
        """Ids of every code and I statement, in file order."""
        return [c.id for c in (*self.codes, *self.i_statements)]

    def code(self, cid: str) -> Code:
        """The code or I statement with this id."""
        for c in (*self.codes, *self.i_statements):
            if c.id == cid:
                return c
        # The asked-for value is left out: it may come from a cell a person typed.
        raise CodebookError(f"codebook '{self.id}' has no such code; codes are {', '.join(self.ids)}")

    def parse(self, value: str) -> Code | None:
        """The code a typed id, label or alias means (any case, hyphens ignored), or None."""
        key = _norm(str(value))
        for c in (*self.codes, *self.i_statements):
            if key in {_norm(n) for n in (c.id, c.label, *c.aliases)}:
                return c
        return None


def available_codebooks() -> list[str]:
    """Ids of the codebooks shipped under templates/themes/."""
    return sorted(p.stem for p in THEMES_DIR.glob("*.yaml"))


def _norm(text: str) -> str:
    """Text folded for matching: NFKC, any case, straight apostrophes, no joining hyphens."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    text = re.sub(r"(?<=\w)[-\u2010\u2011](?=\w)", "", text)
    return " ".join(text.split())


@lru_cache(maxsize=4096)
def _pattern(keyword: str) -> re.Pattern[str]:
    """Regex for a validated keyword: whole words, a trailing * matches any ending."""
    parts = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "") for w in _norm(keyword).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")


def _text(data: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    if key not in data or data[key] is None:
        if required:
            raise CodebookError(f"{where}: missing key '{key}'; add it")
        return ""
    value = data[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise CodebookError(f"{where}: '{key}' must be non-empty text")
    return " ".join(value.split())


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CodebookError(
            f"{where}: '{key}' must be a list of non-empty words or phrases; "
            "put quotes around any that YAML reads as a number or yes/no"
        )
    return tuple(v.strip() for v in value)


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = [str(k) for k in data if k not in allowed]
    if unknown:
        raise CodebookError(f"{where}: unknown key '{unknown[0]}'; expected {', '.join(allowed)}")


def _check_keyword(keyword: str, where: str) -> str:
    words = _norm(keyword).split()
    for w in words:
        if "*" in w[:-1] or not re.search(r"\w", w):
            raise CodebookError(f"{where}: keyword '{keyword}': * may only end a word")
        if w.endswith("*") and len(w) < 4:
            raise CodebookError(
                f"{where}: keyword '{keyword}': put at least three letters before *, "
                "or it matches too many words"
            )
    return keyword


def _parse_code(raw: Any, where: str, i_statement: bool) -> Code:
    text_key = "text" if i_statement else "covers"
    if not isinstance(raw, dict):
        raise CodebookError(f"{where}: expected a mapping with id, label and {text_key}")
    cid = _text(raw, "id", where)
    if not _ID.match(cid):
        raise CodebookError(
            f"{where}: id '{cid}' must be lowercase letters, digits and hyphens, e.g. 'peer-support'"
        )
    where = f"{where} ('{cid}')"
    _check_keys(raw, _I_KEYS if i_statement else _CODE_KEYS, where)

    cqc = statement_numbers(raw.get("cqc", []), where, CodebookError)
    keywords = tuple(_check_keyword(k, where) for k in _strings(raw, "keywords", where))
    return Code(
        id=cid,
        label=_text(raw, "label", where),
        text=_text(raw, text_key, where, required=i_statement),
        cqc=cqc,
        keywords=keywords,
        aliases=_strings(raw, "aliases", where),
        i_statement=i_statement,
    )


def _parse_list(data: dict[str, Any], key: str, source: str, required: bool) -> list[Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise CodebookError(f"{source}: missing key '{key}'; add it")
        return []
    if not isinstance(value, list) or (required and not value):
        raise CodebookError(f"{source}: '{key}' must be a non-empty list")
    return value


def parse_codebook(data: Any, source: str = "<codebook>") -> Codebook:
    """Validate and build a codebook from parsed YAML; errors name the exact problem."""
    if not isinstance(data, dict):
        raise CodebookError(f"{source}: expected a mapping with id, version and codes")
    _check_keys(data, _TOP_KEYS, source)
    book_id = _text(data, "id", source)
    version = _text(data, "version", source)
    title = _text(data, "title", source, required=False)

    stances = tuple(_strings(data, "stances", source)) if "stances" in data else DEFAULT_STANCES
    if not stances or any(not _ID.match(s) for s in stances) or len(set(stances)) != len(stances):
        raise CodebookError(
            f"{source}: 'stances' must list distinct lowercase words, e.g. [strength, concern, mixed]"
        )

    raw_codes = _parse_list(data, "codes", source, required=True)
    codes = tuple(_parse_code(c, f"{source}: code {i}", False) for i, c in enumerate(raw_codes, 1))
    raw_i = _parse_list(data, "i_statements", source, required=False)
    i_statements = tuple(_parse_code(c, f"{source}: I statement {i}", True) for i, c in enumerate(raw_i, 1))

    known: set[str] = set()
    for c in (*codes, *i_statements):
        if c.id in known:
            raise CodebookError(f"{source}: code id '{c.id}' is used more than once")
        known.add(c.id)
    names: dict[str, str] = {}
    for c in (*codes, *i_statements):
        for name in {_norm(n) for n in (c.id, c.label, *c.aliases)}:
            if names.setdefault(name, c.id) != c.id:
                raise CodebookError(
                    f"{source}: the name '{name}' is used by both '{names[name]}' and '{c.id}'; "
                    "labels and aliases must be unique"
                )

    if "conversation_codes" in data:
        conv = _strings(data, "conversation_codes", source)
        if not conv:
            raise CodebookError(f"{source}: 'conversation_codes' must list at least one code id")
    else:
        conv = tuple(c.id for c in i_statements)
    for cid in conv:
        if cid not in known:
            raise CodebookError(
                f"{source}: 'conversation_codes' names '{cid}', which is not a code or I statement id"
            )
    if len(set(conv)) != len(conv):
        raise CodebookError(f"{source}: 'conversation_codes' lists a code twice")
    return Codebook(book_id, version, title, stances, codes, i_statements, conv)


def load_codebook(id_or_path: str | Path = DEFAULT_CODEBOOK) -> Codebook:
    """Load a shipped codebook by id, or a codebook file by path, validating it."""
    path = shipped_or_path(id_or_path, THEMES_DIR, "codebook", CodebookError)
    book = parse_codebook(_read_yaml(path, CodebookError), str(path))
    check_file_id(path, THEMES_DIR, book.id, CodebookError)
    return replace(book, source=path)


def suggest_codes(text: str, codebook: Codebook, for_conversation: bool = False) -> list[str]:
    """Code ids whose keyword hints occur in the text, most hits first, to save a click."""
    if for_conversation:
        candidates = [codebook.code(cid) for cid in codebook.conversation_codes]
    else:
        candidates = list(codebook.codes)
    folded = _norm(text)
    hits = []
    for order, c in enumerate(candidates):
        n = sum(len(_pattern(k).findall(folded)) for k in c.keywords)
        if n:
            hits.append((-n, order, c.id))
    return [cid for _, _, cid in sorted(hits)]
