"""The team annex: each reviewer's ratings, for the review team only, never in the report.

Reviewers rate different case records, so a table of their ratings mixes how strictly each
applied the tool with how good the practice in their cases was: published, it would rank
people on evidence that cannot separate the two. The table is written only when asked for
(``reviewkit report --annex``), beside the report as ``report-annex.html``.

Reviewers are labelled by random letters ("Reviewer K"), drawn once and kept in the
workspace's ``private/`` folder (owner-only), so the labels are the same at every render and
cannot be decoded from the order of any list of names in the report.
"""

from __future__ import annotations

import html
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from reviewkit.core.atomic import make_folder, owner_only
from reviewkit.core.errors import RenderError, WorkspaceError
from reviewkit.core.tools import RatingScale
from reviewkit.figures import analysis as an
from reviewkit.figures.calibration import round_agreement
from reviewkit.figures.sentences import join_words
from reviewkit.report.data import load_report_data
from reviewkit.report.sections import html_table
from reviewkit.review.claims import narrative_claims
from reviewkit.review.workspace import Workspace

__all__ = ["ANNEX_FILE", "LABELS_FILE", "annex_html", "calibration_html", "confirmed_claims_html",
           "median_level", "reviewer_labels", "reviewer_table", "team_table", "write_annex"]

LABELS_FILE = "reviewer_labels.json"
ANNEX_FILE = "report-annex.html"

CASE_MIX = (
    "Reviewers rated different case records, so a difference between two reviewers mixes how "
    "strictly each applied the audit tool with how good the practice was in the case records "
    "they happened to rate; this table cannot tell the two apart. The moderation case records, "
    "rated independently by more than one reviewer, are the only direct comparison of how "
    "reviewers apply the tool. Use the table to start a conversation in the team, not to rank "
    "reviewers."
)


def _labels_path(ws: Workspace) -> Path:
    return ws.path / "private" / LABELS_FILE


def _read_labels(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise WorkspaceError(f"{path}: cannot read the reviewer labels; delete the file to draw new "
                             "ones (the annex's labels will then change)") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise WorkspaceError(f"{path}: not a reviewer → label map; delete the file to draw new ones")
    return {str(k): v for k, v in data.items()}


def _write_private(path: Path, text: str) -> None:
    """Write owner-only (0600), whole or not at all."""
    make_folder(path.parent, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _label_order(labels: dict[str, str], names: list[str]) -> tuple[str, ...]:
    """The names as they appear when the annex is read in label order."""
    return tuple(sorted(names, key=lambda n: (len(labels[n]), labels[n])))


def _name_orders(ws: Workspace, names: list[str]) -> set[tuple[str, ...]]:
    """Orders of these names a reader could find in the report (alphabetical, the team list)."""
    if len(names) < 3:
        return set()  # with 2 reviewers every order is one of these: nothing can be avoided
    chosen = set(names)
    orders = {tuple(sorted(names)), tuple(sorted(names, key=lambda n: n.split()[-1] if n.split() else n))}
    orders.add(tuple(m.name for m in ws.meta.team if m.name in chosen))
    orders.add(tuple(r for r in ws.meta.reviewers if r in chosen))
    return {o for o in orders if len(o) == len(names)}


def reviewer_labels(ws: Workspace, reviewers: Iterable[str] | None = None, *,
                    rng: random.Random | None = None) -> dict[str, str]:
    """Each reviewer's annex label ('Reviewer K'): drawn at random once, then kept and reused.

    A reviewer new to the team gets a letter no one else has; the file is written only when
    a label is added. A draw whose labels would list the reviewers in the order of a list of
    names in the report (alphabetical by first or last name, the team on the cover) is drawn
    again. ``rng`` is for tests; by default the letters come from the system's secure random
    source.
    """
    path = _labels_path(ws)
    labels = _read_labels(path)
    names = sorted({str(r) for r in (reviewers if reviewers is not None else ws.meta.reviewers)})
    new = [n for n in names if n not in labels]
    if new:
        taken = set(labels.values())
        size = 26
        while size - len(taken) < len(new):
            size *= 2
        free = [f"Reviewer {an.letters(i)}" for i in range(size)]
        free = [label for label in free if label not in taken]
        source = rng or random.SystemRandom()
        forbidden = _name_orders(ws, names)
        for _ in range(100):  # redraw while the labels would follow a printed order of names
            trial = {**labels, **dict(zip(new, source.sample(free, len(new))))}
            if _label_order(trial, names) not in forbidden:
                break
        labels = trial
        try:
            _write_private(path, json.dumps(labels, indent=1, sort_keys=True) + "\n")
        except OSError as exc:
            raise WorkspaceError(f"{path}: cannot keep the reviewer labels there "
                                 f"({exc.strerror or type(exc).__name__}); check the workspace's "
                                 "private folder can be written") from None
    return {n: labels[n] for n in names}


def median_level(scores: Iterable[float], scale: RatingScale) -> str:
    """The median rating as a level ('Good'), or 'Good to Requires Improvement' between two."""
    values = sorted(float(s) for s in scores)
    if not values:
        return "–"
    by_score = {float(lv.score): lv.label for lv in scale.scored if lv.score is not None}
    mid = len(values) // 2
    low, high = (values[mid], values[mid]) if len(values) % 2 else (values[mid - 1], values[mid])
    if low == high:
        return by_score[low]
    return f"{by_score[high]} to {by_score[low]}"


def reviewer_table(ratings: pd.DataFrame, allocation: pd.DataFrame, scale: RatingScale,
                   labels: dict[str, str], *, overall_id: str) -> pd.DataFrame:
    """Per reviewer (by label, in label order): case records, each level's count and %, median."""
    primary = an.primary_ratings(ratings, allocation)
    spread = an.reviewer_spread(primary, scale, overall_id=overall_id)
    questions = primary[primary["question"].astype(str) != overall_id]
    rows = []
    off: dict[str, str] = {}  # label -> the sum of its rounded percentages, where not 100
    for r in spread.to_dict("records"):
        name = str(r["reviewer"])
        mine = questions[questions["reviewer"].astype(str) == name]
        scores = [lv.score for lv in (scale.parse(v) for v in mine["rating"]) if lv is not None and lv.score is not None]
        row: dict[str, Any] = {"Reviewer": labels.get(name, "Reviewer ?"), "Case records": str(r["cases"])}
        for lv in scale.levels:
            row[lv.label] = (an.format_count(int(r[lv.label]), int(r["scored"])) if lv.counts
                             else str(int(r[lv.label])))
        row["Median rating"] = median_level(scores, scale)
        total = an.rounded_total([int(r[lv.label]) for lv in scale.levels if lv.counts], int(r["scored"]))
        if total and total != "100.0":
            off[row["Reviewer"]] = total
        rows.append(row)
    table = pd.DataFrame(rows, columns=["Reviewer", "Case records", *scale.labels, "Median rating"])
    order = sorted(range(len(table)), key=lambda i: (len(table["Reviewer"][i]), table["Reviewer"][i]))
    table = table.iloc[order].reset_index(drop=True)
    table.attrs["rounding"] = {label: off[label] for label in table["Reviewer"] if label in off}
    return table


NO_TEAM = "Team not recorded"
TEAM_CAVEAT = (
    "Figures by team, for the review team only. Each rests on a handful of case records, chosen as "
    "review.yaml's case_selection says: a single different judgement moves a team's share a lot, so read "
    "the counts, not only the percentages, and do not rank teams on them."
)


def _of(k: int, n: int) -> str:
    """'4 of 5 (80.0%)'; '–' when nothing was rated."""
    return f"{k} of {n} ({an.format_percent(k, n)})" if n else "–"


def team_table(ratings: pd.DataFrame, allocation: pd.DataFrame, cases: Iterable[Any], scale: RatingScale, *,
               overall_id: str) -> pd.DataFrame:
    """Per team (``team:`` on each case in review.yaml): records examined, overall judgements and
    question ratings in the top two levels, as counts with their percentages ('' when no case has a team)."""
    team_of = {str(c.id): (c.team or NO_TEAM) for c in cases}
    if not any(t != NO_TEAM for t in team_of.values()):
        return pd.DataFrame()
    primary = an.primary_ratings(ratings, allocation)
    top = {lv.label for lv in scale.scored[:2]}
    scored = {lv.label for lv in scale.scored}
    rows = []
    teams = sorted({t for t in team_of.values() if t != NO_TEAM}, key=str.casefold)
    teams += [NO_TEAM] if NO_TEAM in team_of.values() else []
    for team in teams:
        mine = primary[primary["case_id"].astype(str).map(lambda c, t=team: team_of.get(c) == t)]
        overall = mine[mine["question"].astype(str) == overall_id]
        questions = mine[mine["question"].astype(str) != overall_id]
        judged = [str(v) for v in overall["rating"] if str(v) in scored]
        rated = [str(v) for v in questions["rating"] if str(v) in scored]
        rows.append({"Team": team,
                     "Case records allocated": str(sum(1 for t in team_of.values() if t == team)),
                     "Case records examined": str(mine["case_id"].nunique()),
                     "Overall judgement " + " or ".join(lv.label for lv in scale.scored[:2]):
                         _of(sum(v in top for v in judged), len(judged)),
                     "Question ratings " + " or ".join(lv.label for lv in scale.scored[:2]):
                         _of(sum(v in top for v in rated), len(rated))})
    return pd.DataFrame(rows)


def rounding_rows_note(off: dict[str, str]) -> str:
    """A note naming the rows whose rounded percentages do not add up to 100 ('' when all do)."""
    if not off:
        return ""
    which = join_words([f"{label} ({total}%)" for label, total in off.items()])
    return (f"Percentages are rounded to one decimal place, so in the {'row' if len(off) == 1 else 'rows'} "
            f"for {which} they do not add up to exactly 100%.")


def confirmed_claims_html(ws: Workspace) -> str:
    """The claims the host confirmed as true although the figures seem to contradict them, with their reasons."""
    esc = html.escape
    if not ws.meta.confirmed_claims:
        return ("<h2>Claims confirmed by the host</h2>\n<p>The host has confirmed no claim in the narrative that "
                "the figures seem to contradict.</p>")
    flagged = [c for c in narrative_claims(ws) if c.reason]
    rows = []
    for c in ws.meta.confirmed_claims:
        now = next((f for f in flagged if f.file == c.file and f.quote.casefold() == c.text.casefold()
                    and c.sentence in ("", f.sentence)), None)
        where = f"{c.file} line {now.line}" if now is not None else c.file
        figures = now.message if now is not None else "no longer flagged (the words changed or the figures agree)"
        rows.append(f"<tr><td>{esc(where)}</td><td>{esc(c.text)}</td><td>{esc(figures)}</td>"
                    f"<td>{esc(c.reason)}</td></tr>")
    return ("<h2>Claims confirmed by the host</h2>\n<p>Each claim below is one the figures seem to contradict; "
            "the host confirmed it is true, for the reason given (reviewkit confirm-claim). Check the reasons "
            "before the report is published.</p>\n<table><caption>Confirmed claims</caption><thead><tr>"
            '<th scope="col">Where</th><th scope="col">Claim</th><th scope="col">What the figures show</th>'
            '<th scope="col">Host\'s reason</th></tr></thead>\n<tbody>' + "\n".join(rows) + "</tbody></table>")


def calibration_html(ws: Workspace, data: Any) -> str:
    """The calibration round for the team: agreement per round and the agreed ratings with their notes."""
    with ws.store() as store:
        agreed = store.agreed_ratings()
        records = store.calibration_records()
    ratings = data.calibration
    if not records:
        return ""
    esc = html.escape
    parts = ['<h2 id="calibration">Calibration</h2>',
             f"<p>Calibration records: {esc(', '.join(records))}. Their ratings are not counted in any "
             "figure of the report.</p>"]
    rounds = sorted({int(r) for r in ratings["round"]}) if len(ratings) else []
    if rounds:
        rows = []
        for number in rounds:
            _, s = round_agreement(ratings, data.tool, number)
            rows.append({"Round": str(number), "Reviewers": str(s["reviewers"]),
                         "Pairs giving the same rating": s["raw_display"] if s["pairs"] else "–",
                         "Krippendorff's alpha": "–" if s["alpha"] is None else f"{s['alpha']:.2f}"})
        parts.append(html_table(pd.DataFrame(rows), "Agreement on the calibration records, by round (questions "
                                "only; the same method as moderation)", numeric=["Reviewers"]))
    if len(agreed):
        titles = {q.id: q.title for q in (*data.tool.questions, data.tool.overall)}
        table = pd.DataFrame([{"Record": r["record_id"], "Question": f"{r['question']} {titles.get(r['question'], '')}",
                               "Agreed rating": r["rating"], "Note": r["note"]} for r in agreed.to_dict("records")])
        parts.append(html_table(table, "Agreed ratings of the calibration records, with the team's notes"))
    else:
        parts.append("<p>No agreed ratings have been recorded yet (reviewkit calibrate WS --agree RECORD "
                     "QUESTION RATING --note \"…\").</p>")
    return "\n".join(parts)


def annex_html(ws: Workspace, *, rng: random.Random | None = None) -> str:
    """The annex as one self-contained HTML page (labels only: no names, no free text)."""
    data = load_report_data(ws)
    labels = reviewer_labels(ws, data.allocation["reviewer"].astype(str).tolist()
                             + data.ratings["reviewer"].astype(str).tolist(), rng=rng)
    table = reviewer_table(data.ratings, data.allocation, data.scale, labels, overall_id=data.tool.overall.id)
    esc = html.escape
    council = esc(ws.meta.council)
    body = (html_table(table, "Question ratings by reviewer (primary ratings; Not applicable not counted)",
                       numeric=list(table.columns[1:-1]))
            if len(table) else "<p>No case records have been rated yet.</p>")
    note = rounding_rows_note(table.attrs.get("rounding", {}))
    if note:
        body += f'\n<p class="table-note">{esc(note)}</p>'
    teams = team_table(data.ratings, data.allocation, ws.meta.cases, data.scale, overall_id=data.tool.overall.id)
    by_team = ("\n<h2>Figures by team</h2>\n" f"<p>{esc(TEAM_CAVEAT)}</p>\n"
               + html_table(teams, "Case records and ratings by team (primary ratings; Not applicable not counted)",
                            numeric=list(teams.columns[1:]))) if len(teams) else ""
    body += calibration_html(ws, data)
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>Team annex: ratings by reviewer – {council}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; }}
.banner {{ border: 2px solid #a00; color: #a00; padding: .5rem 1rem; font-weight: bold; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #888; padding: .3rem .5rem; }}
td, th.num {{ text-align: right; }}
caption {{ text-align: left; font-weight: bold; margin-bottom: .3rem; }}
</style></head>
<body>
<p class="banner">For the review team only: not part of the published report.</p>
<h1>Team annex: ratings by reviewer</h1>
<p>Practice review of {council}. Each reviewer is shown by a label drawn at random for this
review; the host Principal Social Worker keeps the key in the review's private folder.</p>
<p>{esc(CASE_MIX)}</p>
{body}
<p>The median rating is the middle one of a reviewer's question ratings when put in order;
where it falls between two levels, both are named.</p>
{by_team}
{confirmed_claims_html(ws)}
</body></html>
"""


def write_annex(ws: Workspace, out_dir: str | Path, *, rng: random.Random | None = None) -> Path:
    """Write ``report-annex.html`` into out_dir (whole or not at all) and return its path."""
    out = Path(out_dir)
    text = annex_html(ws, rng=rng)
    target = out / ANNEX_FILE
    tmp = out / f".{ANNEX_FILE}.{os.getpid()}.partial"
    try:
        make_folder(out, exist_ok=True)
        owner_only(tmp).write_text(text, encoding="utf-8")  # private before it holds anything
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RenderError(f"{out}: cannot write the team annex there "
                             f"({exc.strerror or type(exc).__name__}); choose another --out folder") from None
    return target
