"""How the audit log records a change: when, and free text only as a length and digest.

In: a row's fields (a dict), or a rating and its evidence note. Out: the JSON the audit log
stores, each free-text field replaced by its digest, so redacting a note never leaves the old
words behind in the log; and the UTC time stamp each row and audit row carries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from typing import Any

# The append-only history of every change a store takes: the review store's and an in-house
# programme's audit store's (the same table, so one reading of it serves both).
AUDIT_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, entity TEXT NOT NULL, key TEXT NOT NULL,
    old TEXT, new TEXT, note TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
AUDIT_LOG_INSERT = "INSERT INTO audit_log (at, actor, action, entity, key, old, new, note) VALUES (?,?,?,?,?,?,?,?)"

# Fields holding free text: screened on save, and logged only as length + digest.
FREE_TEXT = {"comment", "reason", "text", "title", "what", "raised_with", "response"}


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def digest(value: str) -> str:
    """How the audit log records free text: enough to see it changed, nothing to read back."""
    if not value:
        return ""
    return f"<{len(value)} chars sha256:{hashlib.sha256(value.encode()).hexdigest()[:12]}>"


def for_log(row: dict[str, Any] | None) -> str | None:
    if row is None:
        return None
    safe = {k: (digest(v) if k in FREE_TEXT and isinstance(v, str) else v) for k, v in row.items()}
    return json.dumps(safe, sort_keys=True, ensure_ascii=False)


_json_str = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=64)
def _json_label(rating: str | None) -> str:
    return _json_str(rating)


def rating_log(rating: str | None, comment: str) -> str:
    """``for_log({"rating": rating, "comment": comment})``, built directly: an import writes one per row.

    A digest is plain ASCII with no quote or backslash, so it needs no JSON escaping.
    """
    return f'{{"comment": "{digest(comment)}", "rating": {_json_label(rating)}}}'
