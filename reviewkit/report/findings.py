"""The report's findings sections beyond the programme's own: key messages, the review questions
answered, the evidence against the CQC quality statements, what people told us against the
I statements, and this round beside the previous one.

Each function takes the report's ``ReportBuilder`` (for its figures, tables and charts, numbered
in report order) and returns one section's HTML; ``ReportBuilder`` exposes them as methods so
the notebook stays one line per section.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.core.dates import long_date
from reviewkit.figures import analysis as an
from reviewkit.figures import cqc
from reviewkit.figures import sentences as nv
from reviewkit.figures.concerns import concerns_sentence, referred_text
from reviewkit.figures.notes import previous_recommendations, report_quotes
from reviewkit.figures.trend import trend_summary
from reviewkit.report.markup import (
    PLACEHOLDER,
    esc,
    markdown_html,
    para,
    quote,
    section,
    sub_outside_links,
)
from reviewkit.report.startfigures import start_and_now
from reviewkit.review.narrative import split_answers

if TYPE_CHECKING:
    from reviewkit.report.sections import ReportBuilder

__all__ = ["SECTION_IDS", "chart_jobs", "cqc_evidence", "i_statements", "key_messages", "link_references",
           "review_answers", "trend"]

# The report's numbered sections by number, for "see section 4" in the team's prose.
SECTION_IDS = {1: "introduction", 2: "previous-review", 3: "meetings", 4: "data-analysis", 5: "case-records",
               6: "observations", 7: "strengths", 8: "recommendations", 9: "cqc-evidence"}
APPENDIX_PREVIOUS = "Appendix C"  # where the main-and-appendix layout puts the previous recommendations
SAFEGUARDING = 7  # the quality statement under which the concerns raised during the review are counted
# In the key messages, beside the headline share: what the review's figures are not.
NOT_A_RATING = ("This peer review is not a CQC assessment and does not grade the council. Its figures show "
                "what the reviewers found in the case records they read.")
COUNTS_ONLY_BELOW = 10  # fewer people heard than this and the figures are counts, never percentages
_REFS = re.compile(r"\b(?P<appendix>Appendix A)\b|\b(?P<section>[Ss]ections?\s+(?P<sn>\d))\b"
                   r"|\b(?P<qs>(?:[Qq]uality [Ss]tatements?\s+|QS\s?)(?P<qn>\d))\b")


def link_references(fragment: str, *, cqc_section: bool = True) -> str:
    """Link 'section 4' and 'quality statement 8' (or 'QS8') in text, never inside tags or links."""

    def repl(m: re.Match[str]) -> str:
        if m.group("appendix"):
            return f'<a href="#appendix-figures">{m.group("appendix")}</a>'
        if m.group("section"):
            target = SECTION_IDS.get(int(m.group("sn")))
            if target is None or (target == "cqc-evidence" and not cqc_section):
                return m.group(0)
            return f'<a href="#{target}">{m.group("section")}</a>'
        n = int(m.group("qn"))
        return f'<a href="#qs-{n}">{m.group("qs")}</a>' if 1 <= n <= 9 else m.group(0)

    return sub_outside_links(fragment, _REFS, repl)


def _prose(b: ReportBuilder, text: str) -> str:
    html = markdown_html(text, recommendations=b.recommendation_count)
    return link_references(html, cqc_section=b.meta.cqc_evidence == "section")


def _placeholder(where: str, what: str = "") -> str:
    return (f'<div class="placeholder" role="note"><p><strong>{esc(PLACEHOLDER)}</strong></p>'
            f"<p>{esc(what or 'Write this section in')} <code>{esc(where)}</code>.</p></div>")


def _leanings(r: dict[str, Any]) -> str:
    """'strength 2, concern 1': how the conversations counted for an I statement leaned."""
    return ", ".join(f"{k} {int(r[k])}" for k in ("strength", "concern", "mixed", "unspecified") if r[k])


def _interval(lo: float, hi: float) -> str:
    return "–" if math.isnan(lo) else f"{lo:.1f}% to {hi:.1f}%"


# --------------------------------------------------------------------------- key messages

def _examined_sentence(b: ReportBuilder) -> str:
    """'20 case records examined by 4 Principal Social Workers, each rated on the 12 questions …'.

    Counts who rated, not who was allocated (with 2 of 4 reviewers' ratings in, "by 2 of the 4"),
    and says "each rated" only when every record has every question and an overall judgement.
    """
    rc = an.rated_counts(b.data.ratings, b.data.allocation, b.tool)
    psw = "Principal Social Worker"
    cases, raters, allocated = rc["rated_cases"], len(rc["rating_reviewers"]), rc["allocated_reviewers"]
    who = (nv.count_noun(raters, psw) if raters == allocated else
           f"{raters} of the {nv.count_noun(allocated, psw)}")
    n_q = nv.count_noun(len(b.tool.questions), "question")
    complete = rc["complete_cases"]
    if complete == cases:
        tail = (f", each rated on the {n_q} of the audit tool" if cases > 1 else
                f", rated on the {n_q} of the audit tool")
    elif complete == 0:
        tail = (f"; none of them has yet been rated on all the {n_q} of the audit tool with an overall "
                "judgement" if cases > 1 else f"; it has not yet been rated on all the {n_q} of the audit tool "
                "with an overall judgement")
    else:
        tail = (f"; {complete} of them {'has' if complete == 1 else 'have'} been rated on all the {n_q} of "
                "the audit tool with an overall judgement")
    return f"{nv.count_noun(cases, 'case record')} examined by {who}{tail}."


def key_messages(b: ReportBuilder) -> str:
    """Key messages: the headline figures, generated, then the team's key messages."""
    c = b.counts
    share = an.share_good_or_better(b.primary, b.scale, question=b.tool.overall.id)
    glance = []
    if c["cases"]:
        glance.append(_examined_sentence(b))
    if b.meta.report_layout == "classic":
        glance.append(nv.headline_sentence(share, with_interval=share["total"] > 0))
    else:  # the main report: whole percentages, and the interval once, in words
        glance.append(" ".join(s for s in (
            nv.headline_sentence(share, whole=True),
            nv.plain_interval_sentence(share, b.meta.case_selection, council=b.meta.council)) if s))
    glance.append(NOT_A_RATING)
    glance.append(referred_text(b.data.flags, b.data.concerns, council=b.meta.council))
    heard = []
    if c["meetings"]:
        unrecorded = int(c.get("meetings_unrecorded", 0))
        staffed = c["meetings"] - unrecorded
        more = (f" ({nv.count_noun(unrecorded, 'more meeting')} {'has' if unrecorded == 1 else 'have'} no "
                "attendance recorded yet)" if unrecorded and staffed else "")
        heard.append(f"{nv.count_noun(c['meetings'], 'meeting')} with staff, with no attendance recorded yet"
                     if not staffed else
                     f"{nv.count_noun(staffed, 'meeting')} with {nv.count_noun(c['attendees'], 'member')} "
                     f"of staff{more}")
    if c["conversations"]:
        heard.append(f"{nv.count_noun(c['conversations'], 'conversation')} with people whose case records were "
                     "examined, or their families and carers")
    if heard:
        glance.append("The team also held " + nv.join_words(heard) + ".")
    body = ['<h3 id="at-a-glance">The review at a glance</h3>',
            '<ul class="at-a-glance">' + "".join(f"<li>{esc(g)}</li>" for g in glance) + "</ul>",
            link_references(para("Section 4 sets out every figure with its table; the percentages come with a "
                                 "95% confidence interval because a small number of case records moves a "
                                 "percentage noticeably." if b.meta.report_layout == "classic" else
                                 "Appendix A gives every figure in full, with how far each could be off by "
                                 "chance.")),
            '<h3 id="team-key-messages">The review team’s key messages</h3>']
    item = b.data.narrative.get("key_messages")
    body.append(f'<div class="narrative">{_prose(b, item.text)}</div>' if item is not None and item.written
                else _placeholder("narrative/key_messages.md"))
    return section(None, "Key messages", "key-messages", body)


def review_answers(b: ReportBuilder) -> str:
    """The review questions answered: each question with the team's answer and links to the evidence."""
    questions = b.meta.review_questions
    if not questions:
        return ""
    item = b.data.narrative.get("review_questions")
    answers = split_answers(item.text if item is not None else "", questions)
    n = len(questions)
    body = [para(f"{b.meta.council} asked the review to answer {nv.count_noun(n, 'question')}. "
               f"{'Each is' if n > 1 else 'It is'} answered briefly here; the sections named in "
               "each answer hold the evidence.")]
    for i, (question, answer) in enumerate(zip(questions, answers), 1):
        text = (f'<div class="narrative">{_prose(b, answer)}</div>' if answer else
                _placeholder("narrative/review_questions.md",
                             f"Write the answer to question {i} under the heading ‘## {i}. …’ in"))
        body.append(f'<div class="review-answer" id="answer-{i}"><h3>Question {i}: {esc(" ".join(question.split()))}'
                    f"</h3>{text}</div>")
    return section(None, "The review questions answered", "review-answers", body)


# --------------------------------------------------------------------------- I statements (section 5)

def _i_label(code: str, label: str) -> str:
    m = re.fullmatch(r"i(\d+)", code)
    return f"I{m.group(1)} {label}" if m else label


def i_statements(b: ReportBuilder) -> tuple[str, set[int]]:
    """What people told us, against the I statements: counts, a chart, a quote for each.

    Returns the HTML and the notes whose quotes it showed (the section shows other quotes after).
    """
    counts = b.i_statement_counts
    if not len(counts) or not int(counts["conversations"].sum()):
        return "", set()
    heard = len(b.data.conversations)
    # A conversation with a person and their relative heard two people.
    people = sum(2 if str(w) == "person and relative" else 1 for w in b.data.conversations["who"])
    coded = int((counts["conversations"] > 0).sum())
    lead = (f"The review team coded what was said in the {nv.count_noun(heard, 'conversation')} against the "
            f"CQC’s I statements, the expectations people have of their care and support. "
            f"{nv.count_noun(coded, 'I statement')} of {len(counts)} came up. A conversation counts once for "
            "each I statement it touched, under how what was said leaned: a strength, a concern, or mixed.")
    missing = [_i_label(r["code"], r["label"]) for r in counts.to_dict("records") if not r["conversations"]]
    if missing:
        lead += f" No conversation touched {nv.join_words(missing, 'or')}."
    if people < COUNTS_ONLY_BELOW:
        lead += (f" With fewer than {COUNTS_ONLY_BELOW} people heard ({people}), the figures are counts, not "
                 "percentages.")
    lead += (" Each quote’s speaker is given a label such as ‘Carer 1’ so that their words can be followed "
             "without identifying them.")
    parts = ['<h3 id="i-statements">What people told us, against the I statements</h3>', para(lead)]
    if people >= COUNTS_ONLY_BELOW:
        shares = [f"{r['label']} {an.format_count(int(r['conversations']), heard)}"
                  for r in counts.to_dict("records") if r["conversations"]]
        parts.append(para("Share of conversations touching each I statement: " + "; ".join(shares) + "."))
    if b.meta.report_layout == "classic":
        body = [b.figure("i-statements", lead="".join(parts))]
    else:  # the chart is in Appendix A (``i_statement_chart``); each statement's counts follow here
        body = ["".join(parts) + para("Appendix A charts these counts.")]
    quotes = report_quotes(b.data.notes)
    quotes = quotes[quotes["source"] == "conversation"]
    # Printed once: a quote the team's narrative already quotes is not repeated.
    quotes = quotes[quotes["text"].map(lambda t: not b.quoted_in_narrative(str(t))).astype(bool)]
    labels = b.conversation_labels()
    notes = b.data.notes.set_index("note_id")
    shown: set[int] = set()
    for r in counts.to_dict("records"):
        if not r["conversations"]:
            continue
        block = [f'<h4 id="i-statement-{esc(r["code"])}">{esc(_i_label(r["code"], r["label"]))}</h4>',
                 f'<p class="i-statement">“{esc(r["text"].strip("“”"))}”</p>']
        block.append(para(f"{nv.count_noun(int(r['conversations']), 'conversation')}: {_leanings(r)}."))
        for q in quotes.itertuples():
            if r["code"] in q.codes and int(q.note_id) not in shown:
                block.append(quote(q.text, "— " + b.conversation_quote_label(notes.loc[q.note_id].to_dict(), labels)))
                shown.add(int(q.note_id))
                break
        body.append('<div class="keep">' + "".join(block) + "</div>")
    return "".join(body), shown


# --------------------------------------------------------------------------- CQC quality statements

def cqc_evidence(b: ReportBuilder, placement: str) -> str:
    """The evidence the review holds against each CQC quality statement (never a score).

    Shown where review.yaml's ``cqc_evidence`` says: "section" (numbered 9, after the
    recommendations) or "appendix" (after the signatories); '' from the other call. In the
    main-and-appendix layout (``report_layout``) a section 9 holds the team's words on each
    statement, and Appendix B the evidence, statement by statement, with its tables.
    """
    split = b.meta.report_layout != "classic" and b.meta.cqc_evidence == "section"
    if split and placement == "section":
        return _cqc_in_words(b)
    if b.meta.cqc_evidence != placement and not (split and placement == "appendix"):
        return ""
    questions, codes, i_ev = b.cqc_questions, b.cqc_codes, b.cqc_i_statements
    item = b.data.narrative.get("quality_statements")
    commentary, unplaced = cqc.split_commentary(item.text if item is not None else "")
    book = b.data.codebook
    summary = cqc.statement_summary(questions, codes, i_ev, b.data.notes, commentary, book)
    totals = cqc.distinct_totals(b.data.notes, book)
    evidenced = summary[summary["evidence"]]
    kinds = nv.join_words(list(cqc.EVIDENCE_KINDS.values()))
    intro = ("The CQC assesses how a council meets its Care Act duties under four themes and nine quality "
             "statements. Each question of the audit tool and each code the team used for notes and "
             "conversations names the quality statements it gives evidence for; this section gathers that "
             f"evidence statement by statement, in four kinds: {kinds}. A statement counts as evidenced here "
             f"only where the review holds at least {cqc.MIN_KINDS} of these kinds: "
             f"{len(evidenced)} of the 9 statements are. ")
    thin = summary[~summary["evidence"]]
    if len(thin):
        intro += ("For " + nv.join_words([f"QS{int(r['statement'])}" for r in thin.to_dict("records")])
                  + " the review holds one kind of evidence or none, which is too little to rely on. ")
    intro += ("Percentages are the share of a question’s ratings that reviewers rated Outstanding or Good, with a "
              "95% confidence interval; counts of notes and conversations are counts, not percentages.")
    body = [f'<p class="notice"><strong>{esc(cqc.NOT_AN_ASSESSMENT)}</strong></p>', para(intro)]
    if totals["meeting_notes"] or totals["conversations"]:
        said = (f"In all, {nv.count_noun(totals['meeting_notes'], 'note')} from the meetings and "
                f"{nv.count_noun(totals['conversations'], 'conversation')} give evidence for a statement.")
        if totals["note_links"] > totals["meeting_notes"] or totals["conversation_links"] > totals["conversations"]:
            said += (" A note or conversation can give evidence for more than one statement: it is counted once "
                     "under each statement it gives evidence for, so the rows of the table below add up to more "
                     "than these totals.")
        body.append(para(said))
    rows = []
    for r in summary.to_dict("records"):
        rows.append({"Quality statement": f"QS{r['statement']} {r['label']}",
                     "Audit questions (ratings)": f"{r['questions']} ({r['ratings']})",
                     "Notes from meetings": str(r["meeting_notes"]),
                     "Conversations": str(r["conversations"]), "Review team’s view": _view(r),
                     "Kinds of evidence": f"{r['kinds']} of {len(cqc.EVIDENCE_KINDS)}"})
    rows.append({"Quality statement": "Different notes and conversations in all",
                 "Audit questions (ratings)": "", "Notes from meetings": str(totals["meeting_notes"]),
                 "Conversations": str(totals["conversations"]), "Review team’s view": "", "Kinds of evidence": ""})
    body.append(b.table(pd.DataFrame(rows), "The evidence held for each CQC quality statement",
                        numeric=["Audit questions (ratings)", "Notes from meetings", "Conversations",
                                 "Kinds of evidence"], css_class="compact"))
    if unplaced:
        where = "narrative/quality_statements.md"
        named = nv.join_words([f"‘{h}’" for h in unplaced if h]) or "its opening text"
        body.append(f'<div class="placeholder" role="note"><p>In <code>{esc(where)}</code>, {esc(named)} '
                    "names no quality statement, so the text under it is not shown. Put it under a heading "
                    "such as ‘## 7. Safeguarding’.</p></div>")
    theme = ""
    for s in cqc.STATEMENTS:
        if s.theme != theme:
            theme = s.theme
            ident = f"cqc-{'evidence-' if split else ''}theme-{list(cqc.THEMES).index(theme) + 1}"
            body.append(f'<h3 id="{ident}">Theme: {esc(theme)}</h3>')
        body.append(_statement(b, s, summary, questions, codes, i_ev, commentary.get(s.number, {}),
                               part="evidence" if split else "all"))
    if placement == "section":
        return section(9, "Evidence against the CQC quality statements", "cqc-evidence", body)
    title = "Appendix B: the evidence against each CQC quality statement" if split else \
        "Appendix: evidence against the CQC quality statements"
    return section(None, title, "cqc-evidence", body, new_page=True)


def _cqc_in_words(b: ReportBuilder) -> str:
    """Section 9 of the main-and-appendix layout: the team's words on each quality statement, by theme."""
    questions, codes, i_ev = b.cqc_questions, b.cqc_codes, b.cqc_i_statements
    item = b.data.narrative.get("quality_statements")
    commentary, _ = cqc.split_commentary(item.text if item is not None else "")
    summary = cqc.statement_summary(questions, codes, i_ev, b.data.notes, commentary, b.data.codebook)
    evidenced = int(summary["evidence"].sum())
    body = [f'<p class="notice"><strong>{esc(cqc.NOT_AN_ASSESSMENT)}</strong></p>',
            para("The CQC assesses how a council meets its Care Act duties under four themes and nine quality "
                 f"statements. The review holds enough evidence to rely on for {evidenced} of the 9. This section "
                 "gives the review team’s view of each; Appendix B sets out the evidence behind it, statement by "
                 "statement.")]
    theme = ""
    for s in cqc.STATEMENTS:
        if s.theme != theme:
            theme = s.theme
            body.append(f'<h3 id="cqc-theme-{list(cqc.THEMES).index(theme) + 1}">Theme: {esc(theme)}</h3>')
        body.append(_statement(b, s, summary, questions, codes, i_ev, commentary.get(s.number, {}),
                               part="commentary"))
    return section(9, "The CQC quality statements", "cqc-themes", body)


def _view(r: dict[str, Any]) -> str:
    """The summary table's cell for what the team wrote about a statement (never blank)."""
    if isinstance(r["out_of_scope"], str):
        return "outside the scope of this review"
    parts = [w for w, k in (("strengths", "strengths"), ("areas for consideration", "considerations")) if r[k]]
    if parts:
        return nv.join_words(parts)
    return "points written" if r["written"] else "not written yet"


def _statement(b: ReportBuilder, s: cqc.QualityStatement, summary: pd.DataFrame, questions: pd.DataFrame,
               codes: pd.DataFrame, i_ev: pd.DataFrame, said: dict[str, str], part: str = "all") -> str:
    """One statement: its evidence and the team's words ("all"), or only one of them ("evidence",
    "commentary")."""
    anchor = s.anchor + ("-evidence" if part == "evidence" else "")
    out = [f'<h4 id="{anchor}">QS{s.number} {esc(s.label)}</h4>']
    row = summary[summary["statement"] == s.number].iloc[0]
    scope = row["out_of_scope"] if isinstance(row["out_of_scope"], str) else None
    if scope is not None:
        reason = f" {scope[0].upper()}{scope[1:].rstrip('.')}." if scope else ""
        scope_html = para(f"The review team records this statement as {cqc.OUT_OF_SCOPE}.{reason}")
    else:
        scope_html = ""
    if part == "commentary":
        words = _commentary(b, s, row, said, scope_html)
        return '<div class="keep">' + out[0] + words[0] + "</div>" + "".join(words[1:])
    held = list(row["kind_names"])
    # Safeguarding: the concerns about a person's safety raised during the review (a count, never the detail).
    concerns_html = (para(concerns_sentence(b.data.concerns, council=b.meta.council))
                     if s.number == SAFEGUARDING else "")
    if not row["any_evidence"]:
        out.append(para("This review holds no evidence for this quality statement: no audit question or code "
                        "used in the review maps to it, or nothing was recorded against it."))
        out.append(concerns_html + (scope_html or ("" if part == "evidence" else _statement_placeholder(s))))
        return '<div class="keep">' + "".join(out) + "</div>"
    out.append(para(f"Evidence held: {nv.join_words(held)} ({len(held)} of the {len(cqc.EVIDENCE_KINDS)} kinds"
                    + ("" if row["evidence"] else "; too little to count as evidenced") + ")."))
    out[0] = '<div class="keep">' + out[0]  # the heading stays with what follows it
    q = questions[questions["statement"] == s.number]
    audit = bool(len(q) and int(q["scored"].sum()))
    if audit:
        table = pd.DataFrame([{"Audit question": f"{r['number']}. {r['title']}", "Rated": str(r["scored"]),
                               "Outstanding or Good": r["display"],
                               "95% confidence interval": _interval(r["ci_low"], r["ci_high"])}
                              for r in q.to_dict("records")])
        out.append(b.table(table, f"QS{s.number} {s.label}: audit questions mapped to it",
                           numeric=["Rated", "Outstanding or Good", "95% confidence interval"], css_class="compact"))
    else:
        out.append(para("No audit question of this review maps to this statement."))
    if audit:
        out[2] += "</div>"
    c = codes[codes["statement"] == s.number]
    if len(c):
        table = pd.DataFrame([{"Theme from the meetings": r["label"], "Strength": str(r["strength"]),
                               "Concern": str(r["concern"]), "Mixed": str(r["mixed"]),
                               "Unspecified": str(r["unspecified"]), "Notes": str(r["total"])}
                              for r in c.to_dict("records")])
        out.append(b.table(table, f"QS{s.number} {s.label}: notes from the meetings by stance",
                           numeric=["Strength", "Concern", "Mixed", "Unspecified", "Notes"], css_class="compact"))
        if int(c["total"].sum()) > int(row["meeting_notes"]):
            out.append(para(f"These are {nv.count_noun(int(row['meeting_notes']), 'different note')}: a note coded "
                            "to more than one of these themes is counted under each."))
    else:
        out.append(para("No notes from the meetings were coded to a theme that maps to this statement."))
    if not audit:  # no table of audit questions: the heading stays with the table of notes instead
        out[3] += "</div>"
    heard = [f"{_i_label(r['code'], r['label'])}, {nv.count_noun(int(r['conversations']), 'conversation')} "
             f"({_leanings(r)})" for r in i_ev[i_ev["statement"] == s.number].to_dict("records")]
    conv_codes = cqc.conversation_code_evidence(b.data.notes, b.data.codebook)
    heard += [f"the theme ‘{r['label']}’, {nv.count_noun(int(r['conversations']), 'conversation')}"
              for r in conv_codes[conv_codes["statement"] == s.number].to_dict("records")]
    if heard:
        heard_in = nv.count_noun(int(row["conversations"]), "conversation")
        out.append(para(f"What people told us (section 5), from {heard_in} in all: " + "; ".join(heard) + "."))
    if concerns_html:
        out.append(concerns_html)
    if part != "evidence":
        out.extend(_commentary(b, s, row, said, scope_html))
    return "".join(out)


def _commentary(b: ReportBuilder, s: cqc.QualityStatement, row: Any, said: dict[str, str],
                scope_html: str) -> list[str]:
    """The team's strengths and areas for consideration for a statement (or why it is out of scope)."""
    out = []
    for key, title in (("strengths", "Strengths"), ("considerations", "Areas for consideration")):
        if said.get(key):
            out.append(f'<div class="keep"><h5>{title}</h5><div class="narrative">{_prose(b, said[key])}</div></div>')
    if scope_html:
        out.append(scope_html)
    elif said.get("notes"):
        out.append(f'<div class="narrative">{_prose(b, said["notes"])}</div>')
    if not row["written"] and not scope_html:
        out.append(_statement_placeholder(s))
    return out or [""]


def _statement_placeholder(s: cqc.QualityStatement) -> str:
    """A draft's marker where the team has written nothing for a statement (a final report refuses it)."""
    return (f'<div class="placeholder" role="note"><p><strong>{esc(PLACEHOLDER)}</strong></p>'
            f"<p>Write the review team’s strengths and areas for consideration for QS{s.number} {esc(s.label)} in "
            "<code>narrative/quality_statements.md</code>, or write ‘Outside the scope of this review’ under its "
            "heading.</p></div>")


# --------------------------------------------------------------------------- trend (section 4)

def trend(b: ReportBuilder) -> str:
    """4 (cont.): this round beside the previous one: each shared question, both shares and the change."""
    prev = b.data.previous_round
    if prev is None:
        return ""
    table = b.trend_table
    shared = table.attrs["shared"]
    when = long_date(prev.round)
    cases = dict(prev.counts).get("cases", 0)
    heading = '<h3 id="previous-round">Compared with the previous review</h3>'
    tool = (f"the same audit tool (‘{prev.tool_title}’)" if shared.same_tool
            else f"another audit tool (‘{prev.tool_title}’)")
    first = (f"The previous practice review of {b.meta.council} ({when}) rated "
             f"{nv.count_noun(int(cases), 'case record')} on {tool}.")
    if not shared.any:
        why = ("rated on another scale" if not shared.same_scale else "asked none of this review’s questions")
        return heading + para(f"{first} That tool {why}, so the two rounds cannot be compared and no comparison "
                              "is shown.")
    compared = [f"Q{n} {t}" for n, _, t in shared.shared] + (["the overall judgement"] if shared.overall else [])
    if shared.same_tool:
        which = "Every question and the overall judgement are compared."
    else:
        which = f"Only what both tools ask is compared: {nv.join_words(compared)}."
        if shared.only_now:
            which += (" This review’s " + nv.join_words([f"Q{n} {t}" for n, _, t in shared.only_now])
                      + " " + ("was" if len(shared.only_now) == 1 else "were") + " not asked in the previous round.")
        if shared.only_then:
            which += (" The previous round also asked " + nv.join_words([f"‘{t}’" for t in shared.only_then])
                      + ", which this review did not.")
    top = nv.join_words([lv.label for lv in b.scale.scored[:2]], "or")
    lead = (heading
            + para(f"{first} {which}")
            + para(f"The chart and table set the two rounds side by side: for each comparison, the share of "
                   f"ratings that were {top} in each round with its 95% confidence interval, and the change in "
                   "percentage points with a 95% interval for the change itself (Newcombe’s hybrid score "
                   "method; for all question ratings pooled, on an effective number of ratings that allows for "
                   "ratings of the same case record resembling each other, using this round’s estimate of that "
                   "for both rounds). The two rounds looked at different people’s case records with different "
                   "reviewers, so a change can come from the sample rather than from practice. Where the "
                   "interval for a change includes no change, these figures cannot tell whether practice "
                   "changed; that is not evidence that it stayed the same.")
            + "".join(para(text) for text in trend_summary(table, top)))
    return b.figure("trend", lead=lead)


def chart_jobs(b: ReportBuilder) -> dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]]:
    """The charts of these sections, in report order (trend in section 4, I statements in 5)."""
    jobs: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {}
    prev = b.data.previous_round
    if prev is not None and len(b.trend_table):
        jobs["trend"] = ("trend_chart", (b.trend_table, long_date(prev.round)), {})
    heard = b.i_statement_counts
    if len(heard) and int(heard["conversations"].sum()):
        table = pd.DataFrame([{"code": r["code"], "label": _i_label(r["code"], r["label"]),
                               "meeting_kind": "conversation", "stance": st, "count": int(r[st])}
                              for r in heard.to_dict("records") if r["conversations"]
                              for st in ("strength", "concern", "mixed", "unspecified") if r[st]])
        jobs["i-statements"] = ("theme_chart", (table,), {
            "title": "Conversations by I statement and stance", "unit": "conversations",
            "row_name": "I statement", "keep_order": True})
    return jobs


# --------------------------------------------------------------------------- previous review (section 2)

def _on_or_in(when: str) -> str:
    """'on 5 October 2022' for a day, 'in June 2022' for a month (or a date written as text)."""
    return f"on {long_date(when)}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", when) else f"in {long_date(when)}"


def previous_review(b: ReportBuilder) -> str:
    """2. The previous review's recommendations with the host's update on each (in the main-and-appendix
    layout, what they came to here and each in full in Appendix C, ``previous_appendix``)."""
    recs = previous_recommendations(
        [{"text": r.text, "update": r.update} for r in b.meta.previous_recommendations])
    body = []
    figures = b.data.previous_round
    classic = b.meta.report_layout == "classic"
    compared = (f" {'Section 4' if classic else 'Appendix A'} compares this review’s ratings with the previous "
                "review’s." if figures is not None else "")
    if not len(recs) and figures is None and not b.meta.previous_date:
        body.append(para("No previous practice review is recorded for this council."))
    elif not len(recs):
        # Recorded by its figures (a regional bundle) or its date only: never "no previous review".
        when = _on_or_in(b.meta.previous_date or figures.round)
        body.append(para(f"The previous practice review of {b.meta.council} was undertaken {when}. Its "
                         "recommendations, and the council’s updates on them, are not recorded for this "
                         f"review.{compared}"))
    else:
        when = f" {_on_or_in(b.meta.previous_date)}" if b.meta.previous_date else ""
        where = (", shown below the recommendation" if classic else
                 f". {APPENDIX_PREVIOUS} sets out each recommendation with its update")
        body.append(para(f"The previous practice review was undertaken{when} and made "
                         f"{nv.count_noun(len(recs), 'recommendation')}. "
                         f"{_updates_sentence(recs, where, classic)}{_status_sentence(b)}{compared}"))
        if classic:
            body.extend(_previous_items(b, recs))
    return section(2, "Previous practice review", "previous-review", body)


def _updates_sentence(recs: pd.DataFrame, where: str, classic: bool) -> str:
    """Whether the host gave an update on each previous recommendation, some or none: never 'each' when one is blank."""
    given = int((recs["update"] != "").sum())
    if given == len(recs):
        return f"The host Principal Social Worker has provided an update on each{where}."
    if given:
        return f"The host Principal Social Worker has provided an update on {given} of them{where}."
    return ("The host Principal Social Worker has not provided an update on them"
            + ("." if classic else f"; {APPENDIX_PREVIOUS} sets out each recommendation."))


def _status_sentence(b: ReportBuilder) -> str:
    """' Their status, as the council reports it: 5 in progress and 3 done.', counting those with none."""
    statuses = [r.status.strip().lower() for r in b.meta.previous_recommendations]
    said = Counter(s for s in statuses if s)
    if not said:
        return ""
    blank = len(statuses) - sum(said.values())
    rest = f"; {blank} {'has' if blank == 1 else 'have'} no status recorded" if blank else ""
    return " Their status, as the council reports it: " + nv.join_words([f"{n} {s}" for s, n in said.items()]) + rest + "."


def previous_appendix(b: ReportBuilder) -> str:
    """Appendix C (main-and-appendix layout): each previous recommendation, the council's update on it and
    its starting figure beside this round's."""
    recs = previous_recommendations(
        [{"text": r.text, "update": r.update} for r in b.meta.previous_recommendations])
    if b.meta.report_layout == "classic" or not len(recs):
        return ""
    return section(None, f"{APPENDIX_PREVIOUS}: the previous review’s recommendations and the council’s updates",
                   "appendix-previous", _previous_items(b, recs), new_page=True)


def _previous_items(b: ReportBuilder, recs: pd.DataFrame) -> list[str]:
    """The numbered recommendations, each with its update, and a starting figure's table after its item."""
    body, items = [], []
    statuses = [rec.status for rec in b.meta.previous_recommendations]
    for r in recs.itertuples():
        status = statuses[r.number - 1] if r.number <= len(statuses) else ""
        status = f' <span class="status">(status: {esc(status.lower())})</span>' if status else ""
        update = (f'<p class="update"><strong>Update from {esc(b.meta.council)}</strong>{status}'
                  f"<strong>:</strong> {esc(' '.join(r.update.split()))}</p>" if r.update else
                  f'<p class="update"><strong>Update</strong>{status}<strong>:</strong> none provided.</p>')
        figures = start_and_now(b, b.meta.previous_recommendations[r.number - 1], r.number)
        items.append(f'<li id="previous-{r.number}"><p class="previous-rec">'
                     f"{esc(' '.join(r.recommendation.split()))}</p>{update}</li>")
        if figures:  # a table after its list item, not in it: Word keeps its caption a caption
            body.append(f'<ol class="previous" start="{r.number - len(items) + 1}">{"".join(items)}</ol>' + figures)
            items = []
    if items:
        body.append(f'<ol class="previous" start="{len(recs) - len(items) + 1}">{"".join(items)}</ol>')
    return body


def i_statement_chart(b: ReportBuilder) -> str:
    """Appendix A (main-and-appendix layout): the chart of conversations by I statement and stance."""
    counts = b.i_statement_counts
    if b.meta.report_layout == "classic" or not len(counts) or not int(counts["conversations"].sum()):
        return ""
    heard = len(b.data.conversations)
    lead = ('<h3 id="i-statements-chart">Conversations by I statement</h3>'
            + para(f"What was said in the {nv.count_noun(heard, 'conversation')}, coded against the CQC’s I "
                   "statements (section 5): a conversation counts once for each I statement it touched, under "
                   "how what was said leaned."))
    return b.figure("i-statements", lead=lead)
