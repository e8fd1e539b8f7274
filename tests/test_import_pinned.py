"""What an import stores, row for row and audit row for audit row, written out in full.

Pins the content a small import leaves in the store (new, unchanged, changed and re-rated
ratings, a confirmed warning's audit note, free text logged only as length and digest), so a
faster import cannot change a byte of what is stored or logged.
"""

from __future__ import annotations

from pathlib import Path

from reviewkit.intake.io import import_files

from .helpers import make_workspace

FIRST = """case_id,reviewer,question,rating,comment
C01,A. Visitor,q1,Good,The plan uses the person's own words.
C01,A. Visitor,q2,RI,Seen at the LS6 office.
C01,B. Visitor,q1,outstanding,
C02,A. Visitor,q1,Inadequate,Reviewed on 12/03/1990 at home; 3 visits.
C02,A. Visitor,q3,NA,Note 12345.
"""
SECOND = """case_id,reviewer,question,rating,comment
C01,A. Visitor,q1,good,The plan uses the person's own words.
C01,A. Visitor,q2,Good,Seen at the LS6 office.
C01,B. Visitor,q1,Outstanding,Strengths recorded first.
C02,A. Visitor,q3,NA,Note 12346.
C02,A. Visitor,q4,Good,Café visit — 2 carers.
"""
RATINGS = [
    ("C01", "A. Visitor", "q1", "Good", "The plan uses the person's own words.", 1, "host"),
    ("C01", "A. Visitor", "q2", "Good", "Seen at the LS6 office.", 2, "A. Visitor"),
    ("C01", "B. Visitor", "q1", "Outstanding", "Strengths recorded first.", 2, "A. Visitor"),
    ("C02", "A. Visitor", "q1", "Inadequate", "Reviewed on 12/03/1990 at home; 3 visits.", 1, "host"),
    ("C02", "A. Visitor", "q3", "Not applicable", "Note 12346.", 2, "A. Visitor"),
    ("C02", "A. Visitor", "q4", "Good", "Café visit — 2 carers.", 1, "A. Visitor"),
]


def _log(chars: int, digest: str, rating: str) -> str:
    comment = f"<{chars} chars sha256:{digest}>" if chars else ""
    return f'{{"comment": "{comment}", "rating": "{rating}"}}'


def test_an_import_and_a_re_import_store_exactly_these_rows_and_audit_rows(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "private" / "names.txt").parent.mkdir(exist_ok=True)
    (ws.path / "private" / "names.txt").write_text("Jane Orchard-Smith\n", encoding="utf-8")
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(FIRST, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    one = import_files(ws, [first], actor="host", confirm_warnings=True)
    two = import_files(ws, [second], actor="A. Visitor", confirm_warnings=True)
    assert (one["ratings"].added, one["ratings"].changed, one["ratings"].unchanged) == (5, 0, 0)
    assert (two["ratings"].added, two["ratings"].changed, two["ratings"].unchanged) == (1, 3, 1)
    with ws.store() as store:
        ratings = [tuple(r) for r in store.execute_read(
            "SELECT case_id, reviewer, question, rating, comment, version, updated_by FROM ratings "
            "ORDER BY case_id, reviewer, question")]
        audit = [tuple(r) for r in store.execute_read(
            "SELECT actor, action, entity, key, old, new, note FROM audit_log "
            "WHERE entity IN ('rating', 'ratings') ORDER BY id")]
        stamps = [r[0] for r in store.execute_read(
            "SELECT count(DISTINCT at) FROM audit_log WHERE entity = 'rating' GROUP BY actor")]
    assert ratings == RATINGS
    postcode = "confirmed possible identifier(s) in evidence note: postcode"
    birth = "confirmed possible identifier(s) in evidence note: date_of_birth"
    assert audit == [
        ("host", "insert", "rating", "C01/A. Visitor/q1", None, _log(37, "89e9242c5a3d", "Good"), ""),
        ("host", "insert", "rating", "C01/A. Visitor/q2", None, _log(23, "61e34023e928", "Requires Improvement"),
         postcode),
        ("host", "insert", "rating", "C01/B. Visitor/q1", None, _log(0, "", "Outstanding"), ""),
        ("host", "insert", "rating", "C02/A. Visitor/q1", None, _log(41, "a39217490b40", "Inadequate"), birth),
        ("host", "insert", "rating", "C02/A. Visitor/q3", None, _log(11, "85bd53cbbb47", "Not applicable"), ""),
        ("host", "import", "ratings", str(first), None, '{"added": 5, "changed": 0, "unchanged": 0}', ""),
        # the warned note is stored already: a new rating beside it is not asked about again
        ("A. Visitor", "update", "rating", "C01/A. Visitor/q2", _log(23, "61e34023e928", "Requires Improvement"),
         _log(23, "61e34023e928", "Good"), ""),
        ("A. Visitor", "update", "rating", "C01/B. Visitor/q1", _log(0, "", "Outstanding"),
         _log(25, "371af157bb41", "Outstanding"), ""),
        ("A. Visitor", "update", "rating", "C02/A. Visitor/q3", _log(11, "85bd53cbbb47", "Not applicable"),
         _log(11, "b62ca882a9ea", "Not applicable"), ""),
        ("A. Visitor", "insert", "rating", "C02/A. Visitor/q4", None, _log(22, "778f2bc26d45", "Good"), ""),
        ("A. Visitor", "import", "ratings", str(second), None, '{"added": 1, "changed": 3, "unchanged": 1}', ""),
    ]
    assert stamps == [1, 1]  # one timestamp for all the ratings of one import
