"""A bulk write of ratings stores the same rows and audit rows as saving each rating in turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewkit.core.errors import InvalidInputError
from reviewkit.review.auditlog import for_log, rating_log
from reviewkit.review.ratings import RatingInput
from reviewkit.review.store import Store

from .helpers import make_workspace

SEED = [RatingInput("C01", "A. Visitor", "q1", "Good", "Kept as it was."),
        RatingInput("C01", "A. Visitor", "q2", "Good", "Will change."),
        RatingInput("C01", "A. Visitor", "q3", "G", ""),
        RatingInput("C01", "A. Visitor", "q4", None, "Typed before a rating.")]
BATCH = [RatingInput("C01", "A. Visitor", "q1", "good", "Kept as it was."),  # unchanged (code, any case)
         RatingInput("C01", "A. Visitor", "q2", "RI", "Changed: one point missing."),  # changed
         RatingInput("C01", "A. Visitor", "q3", "Outstanding", "Now with a note."),  # changed
         RatingInput("C01", "A. Visitor", "q4", "Good", "Typed before a rating."),  # rated now
         RatingInput("C01", "A. Visitor", "q5", "NA", ""),  # new
         RatingInput("C01", "B. Visitor", "q1", "Inadequate", "The moderator's view."),  # new
         RatingInput("C01", "B. Visitor", "q1", "Inadequate", "The moderator's second thought."),  # again: changed
         RatingInput("C03", "B. Visitor", "overall", "Good", "")]  # new, no comment


def _tables(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    ratings = [tuple(r) for r in store.execute_read(
        "SELECT case_id, reviewer, question, rating, comment, version, updated_by FROM ratings "
        "ORDER BY case_id, reviewer, question")]
    audit = [tuple(r) for r in store.execute_read(
        "SELECT actor, action, entity, key, old, new, note FROM audit_log WHERE action != 'import' ORDER BY id")]
    return ratings, audit


def test_a_batch_writes_what_saving_one_by_one_writes(tmp_path: Path) -> None:
    stores = []
    for name in ("batch", "one-by-one"):
        ws = make_workspace(tmp_path / name)
        store = ws.store()
        for r in SEED:
            store.set_rating("seed", r)
        stores.append(store)
    batch, single = stores
    summary = batch.apply_ratings("importer", BATCH, source="ratings.csv")
    for r in BATCH:
        single.set_rating("importer", r)
    assert _tables(batch) == _tables(single)
    assert (summary.added, summary.changed, summary.unchanged) == (3, 4, 1)
    last = batch.execute_read("SELECT action, entity, key, new FROM audit_log ORDER BY id DESC LIMIT 1")[0]
    assert tuple(last)[:3] == ("import", "ratings", "ratings.csv")
    for store in stores:
        store.close()


def test_a_batch_with_one_bad_row_stores_nothing(tmp_path: Path) -> None:
    with make_workspace(tmp_path / "ws").store() as store:
        before = _tables(store)
        with pytest.raises(InvalidInputError):
            store.apply_ratings("importer", [BATCH[4], RatingInput("C01", "A. Visitor", "q6", "Brilliant", "")])
        assert _tables(store) == before


@pytest.mark.parametrize("rating", ["Good", "Requires Improvement", None])
@pytest.mark.parametrize("comment", ["", "plain", "quoted \"words\" and a \\ backslash", "ünïcödé ✓"])
def test_the_audit_text_of_a_rating_is_built_as_the_general_one(rating: str | None, comment: str) -> None:
    assert rating_log(rating, comment) == for_log({"rating": rating, "comment": comment})
