"""The report's data analysis (section 4): the ratings of the case records audit tool.

Each function takes the report's ``ReportBuilder`` (for its computed figures, tables and
charts, numbered in report order) and returns HTML: what was rated, the pooled ratings and
overall judgements with their 95% intervals, a chart for each question, and the agreement
between reviewers on the moderation case records. ``ReportBuilder`` exposes them as methods so
the notebook stays one line per section.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from reviewkit.figures import analysis as an
from reviewkit.figures import sentences as nv
from reviewkit.figures.concerns import concerns_sentence, referred_cases
from reviewkit.figures.intervals import CLUSTERED_METHOD, SPARSE_LIMIT
from reviewkit.report.findings import trend
from reviewkit.report.markup import bullets, esc, para, section

if TYPE_CHECKING:
    from reviewkit.report.sections import ReportBuilder

__all__ = ["APPENDIX_FIGURES", "consistency", "data_analysis", "figures_appendix", "in_appendix", "question_charts"]

APPENDIX_FIGURES = "Appendix A"  # where the main-and-appendix layout puts every figure of section 4


def in_appendix(b: ReportBuilder) -> bool:
    """True when review.yaml's ``report_layout`` puts the tables, charts and method notes in appendices."""
    return b.meta.report_layout != "classic"


def _rated_sentence(b: ReportBuilder) -> str:
    """'4 of the 5 Principal Social Workers rated 16 of the 20 allocated case records …': what was recorded."""
    rc = an.rated_counts(b.data.ratings, b.data.allocation, b.tool)
    if not rc["allocated_cases"]:
        return ""
    psw = "Principal Social Worker"
    if not rc["rated_cases"]:
        return (f"None of the {nv.count_noun(rc['allocated_reviewers'], psw)} has rated any of the "
                f"{nv.count_noun(rc['allocated_cases'], 'allocated case record')} yet.")
    raters, allocated = len(rc["rating_reviewers"]), rc["allocated_reviewers"]
    who = (f"The {nv.count_noun(raters, psw)}" if raters == allocated and raters > 1 else
           f"The {psw}" if raters == allocated else f"{raters} of the {nv.count_noun(allocated, psw)}")
    host = any(m.role == "host" and m.name in rc["rating_reviewers"] for m in b.meta.team)
    if host:
        who += ", including the host," if raters > 1 else " (the host)"
    cases, planned = rc["rated_cases"], rc["allocated_cases"]
    what = (f"all {planned} allocated case records" if cases == planned and planned > 1 else
            "the 1 allocated case record" if cases == planned else
            f"{cases} of the {nv.count_noun(planned, 'allocated case record')}")
    per = sorted(rc["per_reviewer"].values())
    each = "" if raters < 2 else (f" ({per[0]} each)" if per[0] == per[-1]
                                  else f" (between {per[0]} and {per[-1]} each)")
    complete = rc["complete_cases"]
    if complete == cases:
        tail = ". They completed the audit tool for each" if cases > 1 else ". They completed the audit tool for it"
    elif complete == 0:
        tail = "; none of them has every question and an overall judgement rated yet"
    else:
        tail = (f"; {complete} of them {'has' if complete == 1 else 'have'} every question and an "
                "overall judgement rated")
    return f"{who} rated {what}{each}{tail}."


def _what_was_rated(b: ReportBuilder) -> list[str]:
    """Section 4's opening: what was rated, any case record referred back, any concern raised."""
    body = []
    rated = _rated_sentence(b)
    if rated:
        body.append(para(rated))
    body.append(para(nv.referred_sentence(len(referred_cases(b.data.flags, b.data.concerns)),
                                          council=b.meta.council)))
    if len(b.data.concerns):  # each concern about a person's safety: counted, with the council's response
        body.append(para(concerns_sentence(b.data.concerns, council=b.meta.council)))
    return body


def data_analysis(b: ReportBuilder) -> str:
    """4. Data analysis: in the classic layout every figure; else what the figures say, in words,
    with a pointer to Appendix A (``figures_appendix``), which has them all."""
    if not in_appendix(b):
        return section(4, "Data analysis from the case records audit tool", "data-analysis", _analysis(b))
    c = b.counts
    body = _what_was_rated(b)
    share = an.share_good_or_better(b.primary, b.scale, question=b.tool.overall.id)
    # Whole percentages in the main report ("18 of the 20 case records (90%)"); Appendix A has tenths.
    body.append(f'<p class="headline">{esc(nv.headline_sentence(share, whole=True))}</p>')
    body.append(para(nv.overall_sentence(b.overall, whole=True)))
    body.append(para(nv.pooled_sentence(b.pooled, c["cases"], len(b.tool.questions),
                                        across=int(b.pooled.attrs.get("records", c["cases"])), whole=True)))
    weakest = an.weakest_questions(b.primary, b.tool, n=3)
    lead, items, ties = nv.weakest_list(weakest, [lv.label for lv in b.scale.scored[:2]], whole=True)
    body += [para(lead), bullets(items, "weakest") if items else "", para(ties) if ties else ""]
    body.append(para(f"{APPENDIX_FIGURES} sets out every figure with its table and chart. It also shows how the "
                     "figures were worked out, "
                     + ("this review beside the previous one, " if b.data.previous_round is not None else "")
                     + "and how consistently the reviewers rated."))
    return section(4, "What the case records showed", "data-analysis", body)


def figures_appendix(b: ReportBuilder, more: Sequence[str] = ()) -> str:
    """Appendix A (main-and-appendix layout): section 4's tables, charts and method notes, the chart
    of each question, the comparison with the previous round and the agreement between reviewers, then
    ``more`` (the charts of the meetings' themes and of the conversations by I statement)."""
    if not in_appendix(b):
        return ""
    body = [*_analysis(b, opening=False), _question_charts(b), trend(b), _consistency(b), *more]
    return section(None, f"{APPENDIX_FIGURES}: the figures in full", "appendix-figures",
                   body, new_page=True)


def _analysis(b: ReportBuilder, opening: bool = True) -> list[str]:
    """Section 4's figures: pooled ratings, overall judgements, headline, overview chart."""
    c, meta = b.counts, b.meta
    body = _what_was_rated(b) if opening else []
    levels = nv.join_words([lv.label for lv in b.scale.scored], "or")
    na = [lv.label for lv in b.scale.levels if not lv.counts]
    body.append(para(
        f"The audit tool comprised {nv.count_noun(len(b.tool.questions), 'question')}, each "
        f"rated {levels}" + (f" (or {nv.join_words(na, 'or')}, which is shown but left out of "
                              "every percentage)" if na else "")
        + ". Principal Social Workers rated each question against the descriptors of good practice "
          "in the tool and their professional experience. The tables of all question ratings, of the "
          "overall judgements and of each question give every percentage with a 95% confidence "
          "interval, because with a small number of case records a single rating moves a percentage "
          "noticeably; the summary table of ratings by question repeats those percentages without "
          "them."))
    body.append('<h3 id="all-ratings">All question ratings</h3>')
    body.append(para(nv.pooled_sentence(b.pooled, c["cases"], len(b.tool.questions),
                                      across=int(b.pooled.attrs.get("records", c["cases"])))))
    body.append(b.level_table(b.pooled, "All question ratings by level"))
    if int(b.pooled.attrs.get("scored", 0)):
        note = CLUSTERED_METHOD.format(questions=len(b.tool.questions),
                                       ratings=int(b.pooled.attrs["scored"]))
        if int(b.pooled.attrs.get("clusters", 0)) < 2:
            note += (" Only one case record has questions rated on the scale, so how far its ratings "
                     "resemble each other cannot be estimated: the intervals for all question ratings "
                     "are as wide as a single rating would give.")
        note += _sparse_note(b.pooled)
        note += " " + nv.interval_scope(meta.case_selection, council=meta.council)
        body.append(f'<p class="method"><strong>Method.</strong> {esc(note)}</p>')
    share = an.share_good_or_better(b.primary, b.scale, question=b.tool.overall.id)
    lead = ('<h3 id="overall-judgements">Overall judgements</h3>'
            f'<p class="headline">{esc(nv.headline_sentence(share))}</p>'
            + para(nv.overall_sentence(b.overall)))
    body.append(b.figure("overall", lead=lead, levels=b.overall))
    weakest = an.weakest_questions(b.primary, b.tool, n=3)
    lead = ('<h3 id="ratings-by-question">Ratings by question</h3>'
            + para(nv.weakest_sentence(weakest, [lv.label for lv in b.scale.scored[:2]])))
    body.append(b.figure("overview", lead=lead))
    note = _rounding_rows(b)
    if note:
        body.append(f'<p class="table-note">{esc(note)}</p>')
    return body


def _sparse_note(pooled: pd.DataFrame) -> str:
    """What the interval of a level with 0 or 1 ratings (or all but 0 or 1) assumes, and why."""
    sparse = pooled.attrs.get("sparse_levels") or []
    if not sparse:
        return ""
    scored = int(pooled.attrs.get("scored", 0))

    def given(label: str, k: int) -> str:
        if k == 0:
            return f"{label} has no ratings"
        if k <= SPARSE_LIMIT:
            return f"{label} has only {nv.count_noun(k, 'rating')}"
        return f"{label} has all the ratings but {scored - k}"

    one = len(sparse) == 1
    return (f" {nv.join_words([given(lb, k) for lb, k in sparse])}: too few to estimate how far ratings of the "
            "same case record resemble each other (the estimate would be no resemblance at all, whatever the "
            f"truth), so {'its interval assumes' if one else 'their intervals assume'} the most there could be: "
            "the number of ratings is divided by the most questions rated on any one case record "
            f"({int(pooled.attrs.get('largest_cluster', 0))}), as if each case record gave a single rating.")


def _rounding_rows(b: ReportBuilder) -> str:
    """A note naming the questions whose rounded percentages do not add up to 100."""
    off = []
    for _, row in b.by_question.iterrows():
        counts = [int(row[lv.label]) for lv in b.scale.scored]
        total = an.rounded_total(counts, int(row["scored"]))
        if total and total != "100.0":
            off.append((int(row["number"]), total))
    if not off:
        return ""
    which = nv.join_words([f"question {n} ({t}%)" for n, t in off])
    rows = "row" if len(off) == 1 else "rows"
    return (f"Percentages are rounded to one decimal place, so in the {rows} for {which} they do not "
            "add up to exactly 100%.")


def question_charts(b: ReportBuilder) -> str:
    """4 (cont.): one chart per question with its table (in Appendix A unless the layout is classic)."""
    return "" if in_appendix(b) else _question_charts(b)


def _question_charts(b: ReportBuilder) -> str:
    lead = ('<h3 id="question-charts">Charts for each question</h3>'
            + para(f"The charts below show the ratings for each of the {len(b.tool.questions)} "
                 "questions of the audit tool, each with its table."))
    body = []
    for i, (_, row) in enumerate(b.by_question.iterrows()):
        body.append(b.figure(f"question-{row['question']}", lead=lead if i == 0 else "",
                             levels=an.question_levels(row, b.scale)))
    if not body:
        body.append(lead)
    return "".join(body)


def consistency(b: ReportBuilder) -> str:
    """4 (cont.): moderation agreement (in Appendix A unless the layout is classic)."""
    return "" if in_appendix(b) else _consistency(b)


def _consistency(b: ReportBuilder) -> str:
    """Moderation agreement, with the method named.

    Ratings by reviewer are not published: reviewers rated different case records, so a
    table of them would rank people on a mix of their severity and their cases. That table
    is in the team annex (``reviewkit.report.annex``), written only when asked for.
    """
    body = []
    table, summary = b.moderation
    body.append('<div class="keep"><h3 id="moderation">Agreement between reviewers</h3>')
    body.append(para(nv.agreement_sentence(summary)))
    if summary["cases"]:
        body.append(f'<p class="method"><strong>Method.</strong> {esc(summary["method"])}</p>')
    if len(table):
        # Counted in pairs of ratings, the unit of the sentence above, so the totals row repeats its figures.
        numeric = ["Questions compared", "Pairs of ratings", "Same rating (pairs)", "At most one level apart (pairs)"]

        def row(name: str, group: pd.DataFrame) -> dict[str, str]:
            pairs = int(group["pairs"].sum())
            return {"Moderation case": name, "Questions compared": str(len(group)), "Pairs of ratings": str(pairs),
                    "Same rating (pairs)": an.format_count(int(group["agreeing_pairs"].sum()), pairs),
                    "At most one level apart (pairs)": an.format_count(int(group["near_pairs"].sum()), pairs)}

        groups = list(table.groupby("case_id", sort=True))
        rows = [row(f"Moderation case {i}", group) for i, (_, group) in enumerate(groups, 1)]
        if len(groups) > 1:
            rows.append(row("All moderation cases", table))
        most = int(table["raters"].max())
        per = ("a question rated by 2 reviewers gives 1 pair" if most == 2 else
               f"a question rated by {most} reviewers gives {most * (most - 1) // 2} pairs, one for each two of them")
        body.append(b.table(pd.DataFrame(rows), "Agreement on the moderation case records, in pairs of ratings",
                            numeric=numeric))
        note = f"Each count is of pairs of ratings of the same question, as in the sentence above: {per}."
        body.append(f'<p class="table-note">{esc(note)}</p>')
    body.append("</div>")
    return "".join(body)
