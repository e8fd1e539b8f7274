"""What the reviewers wrote, as figures: notes by theme, quotes and "one change" lists, flags and past recommendations.

In: the notes, case flags and previous recommendations as tables or records. Out: theme
counts, the quotes and "one change" entries marked for the report (attributed by role only,
never a name), the cases referred back, and the previous recommendations numbered. Kept
apart from the ratings' figures (``reviewkit.figures.analysis``), whose checks it shares.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from reviewkit.core.errors import InvalidInputError
from reviewkit.figures.analysis import as_bools, checked_frame
from reviewkit.figures.sentences import join_words

FLAG_COLUMNS = ("case_id", "reviewer", "referred_back")
NOTE_COLUMNS = ("note_id", "source", "meeting_kind", "who", "kind", "text", "speaker_role",
                "stance", "use_in_report", "codes")

__all__ = [
    "THEME_COLUMNS",
    "THEME_ROWS",
    "cut_note",
    "one_change_lists",
    "previous_recommendations",
    "referred_back",
    "report_quotes",
    "theme_counts",
    "top_with_ties",
]


# --------------------------------------------------------------------------- flags, notes

def referred_back(flags: pd.DataFrame | None) -> pd.DataFrame:
    """Case records referred back to the council, one row per case: count them with len()."""
    df = checked_frame(flags, FLAG_COLUMNS, "flags")
    df = df[as_bools(df["referred_back"])]
    rows = []
    for case_id, group in df.groupby("case_id", sort=True):
        reasons = [str(r) for r in group["reason"] if isinstance(r, str) and r.strip()] \
            if "reason" in group else []
        rows.append({"case_id": case_id,
                     "reviewers": ", ".join(sorted({str(r) for r in group["reviewer"]})),
                     "reasons": reasons})
    return pd.DataFrame(rows, columns=["case_id", "reviewers", "reasons"])


def notes_frame(notes: pd.DataFrame | None) -> pd.DataFrame:
    df = checked_frame(notes, NOTE_COLUMNS, "notes").copy()
    df["use_in_report"] = as_bools(df["use_in_report"])
    return df


def note_codes(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(c.strip() for c in value.replace(";", ",").split(",") if c.strip())
    return tuple(str(c) for c in value)


def _group(row: Mapping[str, Any]) -> str:
    if row.get("source") == "conversation":
        return "conversation"
    kind = row.get("meeting_kind")
    return str(kind) if isinstance(kind, str) and kind.strip() else "meeting"


THEME_COLUMNS = ["code", "label", "meeting_kind", "stance", "count"]


def theme_counts(notes: pd.DataFrame | None, codebook_labels: Mapping[str, str] | None = None, *,
                 source: str | None = "meeting") -> pd.DataFrame:
    """Notes per code × meeting kind × stance, most-mentioned code first.

    ``source`` filters to "meeting" (default) or "conversation"; None counts both, with
    conversations under meeting kind "conversation". Empty stance counts as "unspecified".
    """
    df = notes_frame(notes)
    if source is not None:
        df = df[df["source"] == source]
    labels = dict(codebook_labels or {})
    counts: dict[tuple[str, str, str], int] = {}
    for row in df.to_dict("records"):
        stance = row.get("stance")
        stance = stance if isinstance(stance, str) and stance.strip() else "unspecified"
        for code in note_codes(row.get("codes")):
            key = (code, _group(row), stance)
            counts[key] = counts.get(key, 0) + 1
    rows = [{"code": c, "label": labels.get(c, c), "meeting_kind": k, "stance": s, "count": n}
            for (c, k, s), n in counts.items()]
    table = pd.DataFrame(rows, columns=THEME_COLUMNS)
    if len(table):
        totals = table.groupby("code")["count"].transform("sum")
        table = (table.assign(_total=-totals)
                 .sort_values(["_total", "code", "meeting_kind", "stance"], kind="mergesort")
                 .drop(columns="_total").reset_index(drop=True))
    table["count"] = table["count"].astype(int)
    return table


THEME_ROWS = 10  # rows of the report's theme chart and table, before ties with the last are added


def top_with_ties(themes: pd.DataFrame, top: int) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """(shown, left out): themes by total notes, most first, code order among ties.

    A table cut at ``top`` rows keeps every theme tied with the last one kept: cutting a tie
    would pick themes by their code alone. ``themes`` is ``theme_counts``' output; each item is
    (code, label, total).
    """
    if not len(themes):
        return [], []
    totals = themes.groupby(["code", "label"], sort=False)["count"].sum().reset_index()
    totals = totals.sort_values(["count", "code"], ascending=[False, True], kind="mergesort")
    items = [(str(c), str(lb), int(n)) for c, lb, n in zip(totals["code"], totals["label"], totals["count"])]
    if len(items) <= top:
        return items, []
    cut = items[top - 1][2]
    return [i for i in items if i[2] >= cut], [i for i in items if i[2] < cut]


def cut_note(shown: list[tuple[str, str, int]], left_out: list[tuple[str, str, int]], top: int) -> str:
    """The note under a cut theme table: how many it shows of how many, and the others by name ('' if none)."""
    if not left_out:
        return ""
    kept = (f"the {len(shown)} raised most often" if len(shown) == top else
            f"the {top} raised most often and every theme tied with the last of them ({len(shown)} in all)")
    others = join_words([f"{label} ({n})" for _, label, n in left_out])
    return (f"The chart and table show {kept}, of the {len(shown) + len(left_out)} themes coded. "
            f"The other {len(left_out)}, raised less often: {others}.")


def one_change_lists(notes: pd.DataFrame | None) -> dict[str, list[str]]:
    """Each meeting's "one change or improvement" entries marked for the report, in note order."""
    df = notes_frame(notes)
    df = df[(df["kind"] == "one_change") & df["use_in_report"]]
    df = df.sort_values("note_id", kind="mergesort")
    out: dict[str, list[str]] = {}
    for row in df.to_dict("records"):
        out.setdefault(_group(row), []).append(str(row["text"]).strip())
    return out


def _role(row: Mapping[str, Any]) -> str:
    role = row.get("speaker_role")
    if isinstance(role, str) and role.strip():
        return role.strip()
    who = row.get("who")
    if row.get("source") == "conversation" and isinstance(who, str) and who.strip():
        return who.strip()
    return "participant"


def report_quotes(notes: pd.DataFrame | None) -> pd.DataFrame:
    """Quotes a reviewer marked for the report, attributed by role only (never a name)."""
    df = notes_frame(notes)
    df = df[(df["kind"] == "quote") & df["use_in_report"]].sort_values("note_id", kind="mergesort")
    rows = [{"note_id": r["note_id"], "source": r["source"], "group": _group(r), "role": _role(r),
             "stance": r["stance"] if isinstance(r["stance"], str) else "",
             "codes": note_codes(r["codes"]), "text": str(r["text"]).strip()}
            for r in df.to_dict("records")]
    return pd.DataFrame(rows, columns=["note_id", "source", "group", "role", "stance", "codes", "text"])


def previous_recommendations(recs: Iterable[Mapping[str, Any]] | None) -> pd.DataFrame:
    """The last review's recommendations numbered 1…n beside the host's update on each."""
    rows = []
    for i, rec in enumerate(recs or [], 1):
        if not isinstance(rec, Mapping):
            raise InvalidInputError(
                f"previous recommendation {i}: expected a mapping with 'text' and 'update'")
        text = rec.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(
                f"previous recommendation {i}: 'text' is missing or empty; add the recommendation")
        update = rec.get("update")
        rows.append({"number": i, "recommendation": text.strip(),
                     "update": update.strip() if isinstance(update, str) else ""})
    return pd.DataFrame(rows, columns=["number", "recommendation", "update"])
