"""The names of a workspace's files and narrative sections, and how a file's text is read.

Every stage that reads a workspace names its files from here, so the workspace, its
snapshot, the narrative and the bundle agree without importing one another.
"""

from __future__ import annotations

__all__ = ["CODEBOOK_FILE", "CONFIRMED_FILE", "DB_FILE", "NAMES_FILE", "NARRATIVE_SECTIONS", "OPTIONAL_NARRATIVE",
           "PREVIOUS_ROUND_FILE", "PRIVATE_DIR", "REDACTION_MAP_FILE", "REVIEW_FILE", "TOOL_FILE", "text_of"]

REVIEW_FILE = "review.yaml"
TOOL_FILE = "audit_tool.yaml"
CODEBOOK_FILE = "codebook.yaml"
DB_FILE = "review.db"
PRIVATE_DIR = "private"
NAMES_FILE = "private/names.txt"
CONFIRMED_FILE = "private/confirmed_words.txt"  # words the host confirmed are not names (reviewkit confirm)
REDACTION_MAP_FILE = "private/redaction_map.json"  # each redacted piece of text and its placeholder
PREVIOUS_ROUND_FILE = "previous_round.zip"  # the previous round's figures, for the trend
NARRATIVE_SECTIONS = {
    "key_messages": "Key messages",
    "review_questions": "The review questions answered",
    "introduction": "Introduction",
    "meetings": "Areas discussed and recurrent themes from the meetings",
    "case_records": "Principal Social Workers' analysis of case records and conversations",
    "observations": "Observations of the review team",
    "strengths": "Key strengths",
    "recommendations": "Recommendations for practice improvement",
    "quality_statements": "Strengths and areas for consideration by CQC quality statement",
    "management_response": "Management response",
    "next_steps": "Next steps",
    "contacts": "Contacts",
}
OPTIONAL_NARRATIVE = frozenset({"quality_statements", "management_response", "next_steps", "contacts"})


def text_of(raw: bytes) -> str:
    """A file's bytes as ``Path.read_text(encoding="utf-8")`` reads them (newlines made \\n)."""
    return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
