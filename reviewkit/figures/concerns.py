"""The concerns log as the report gives it: counts, how long the council took to respond, and its outcome.

In: the concerns a report may show (``case_id``, ``raised_on``, ``responded_on``, ``outcome``;
never what a reviewer wrote about the person or the council's words), and the case flags.
Out: the sentences of the key messages, section 4 and the Safeguarding statement, and the
count of case records referred back (flags and concerns together, each case once).
Pure: DataFrames in, text out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from reviewkit.figures.notes import referred_back
from reviewkit.figures.sentences import referred_sentence

__all__ = ["OUTCOME_WORDS", "PUBLIC_COLUMNS", "concerns_sentence", "referred_cases", "referred_text", "response_days"]

PUBLIC_COLUMNS = ["case_id", "raised_on", "responded_on", "outcome", "open"]
# The council's response outcomes as stored, and how the report words each after "the council".
OUTCOME_WORDS = {"acted": "took action", "already-in-hand": "was already acting on it",
                 "no-further-action": "found no further action was needed"}


def _frame(concerns: pd.DataFrame | None) -> pd.DataFrame:
    if concerns is None or not len(concerns):
        return pd.DataFrame(columns=PUBLIC_COLUMNS)
    return concerns


def referred_cases(flags: pd.DataFrame | None, concerns: pd.DataFrame | None) -> list[str]:
    """The case records referred back to the council: by a reviewer's flag or with a concern logged."""
    cases = set(referred_back(flags)["case_id"]) | set(_frame(concerns)["case_id"])
    return sorted(str(c) for c in cases)


def response_days(row: dict[str, Any]) -> int | None:
    """Whole days from a concern being raised to the council's response; None while it is open."""
    try:
        return (dt.date.fromisoformat(str(row["responded_on"])) - dt.date.fromisoformat(str(row["raised_on"]))).days
    except ValueError:
        return None


def _within(days: int) -> str:
    return "on the same day" if days == 0 else f"within {days} day{'s' if days != 1 else ''}"


def concerns_sentence(concerns: pd.DataFrame | None, *, council: str = "the council") -> str:
    """How many concerns about a person's safety were raised during the review and how the council responded.

    Counts, the longest time to a response and the outcomes only: never which case, what the
    concern was or what the council said.
    """
    df = _frame(concerns)
    n = len(df)
    if n == 0:
        return f"No concern about a person’s safety was raised with {council} during the review."
    lead = (f"{n} concern{'s' if n != 1 else ''} about a person’s safety {'was' if n == 1 else 'were'} raised "
            f"with {council} during the review")
    rows = df.to_dict("records")
    answered = [r for r in rows if not bool(r["open"])]
    days = [d for d in (response_days(r) for r in answered) if d is not None]
    if not answered:
        return lead + (". No response from the council is recorded yet." if n == 1 else
                       ". No response from the council to any of them is recorded yet.")
    when = f" {_within(max(days))}" if len(days) == len(answered) else ""
    outcomes = [str(r.get("outcome") or "") for r in answered]
    said = [o for o in outcomes if o in OUTCOME_WORDS]
    if n == 1:
        text = f"{lead}. The council responded{when}"
        if said:
            text += f" and {OUTCOME_WORDS[said[0]]}"
    else:
        who = "to each" if len(answered) == n else f"to {len(answered)} of them"
        text = f"{lead}. The council responded {who}{when}"
        if said:
            counts = {o: said.count(o) for o in OUTCOME_WORDS if o in said}
            text += " (" + "; ".join(f"{k}: {OUTCOME_WORDS[o]}" for o, k in counts.items()) + ")"
        if len(answered) < n:
            text += f", and {n - len(answered)} {'has' if n - len(answered) == 1 else 'have'} no response recorded yet"
    return text + "."


def referred_text(flags: pd.DataFrame | None, concerns: pd.DataFrame | None, *, council: str = "the council") -> str:
    """The "referred back" sentence, counting concerns logged as well as flags, then the concerns sentence.

    Never "no case records were referred back" while a concern is logged.
    """
    text = referred_sentence(len(referred_cases(flags, concerns)), council=council)
    if len(_frame(concerns)):
        text += " " + concerns_sentence(concerns, council=council)
    return text
