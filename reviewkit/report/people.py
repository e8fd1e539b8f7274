"""The report's sections on what people said: the meetings (section 3) and the case records
and conversations (section 5).

Each section function takes the report's ``ReportBuilder`` (for its figures, narrative files
and charts, numbered in report order) and returns the section's HTML: the team's narrative,
the quotes a reviewer chose for the report (attributed by role, or "participant" where few of
a role attended; people and carers by a label such as 'Carer 1'), the theme counts and the
one-change lists. ``ReportBuilder`` exposes them as methods so the notebook stays one line per
section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from reviewkit.figures import sentences as nv
from reviewkit.figures.notes import THEME_ROWS, cut_note, one_change_lists, report_quotes, top_with_ties
from reviewkit.report.findings import i_statements
from reviewkit.report.markup import bullets, esc, para, quote, section

if TYPE_CHECKING:
    from reviewkit.report.sections import ReportBuilder

__all__ = ["GROUP_ORDER", "MIN_ROLE_COUNT", "case_records", "meetings"]

MIN_ROLE_COUNT = 3  # fewer attendees of a role than this and a quote says "participant"
GROUP_ORDER = ("practitioners", "managers", "other", "meeting")


def _top_themes(totals: pd.Series, n: int = 3) -> str:
    """The n themes raised most often, most first, with every theme tied with the nth named too.

    Cutting a tie at n would pick themes by their name alone; when every theme ties, none is
    "raised most often".
    """
    def name(label: str) -> str:
        return label.lower() if label[:1].isupper() and not label.isupper() else label

    totals = totals.sort_values(ascending=False, kind="mergesort")
    if len(totals) > 1 and totals.nunique() == 1:
        return (f"Each of the {len(totals)} themes was raised the same number of times "
                f"({int(totals.iloc[0])}).")
    cut = totals.iloc[min(n, len(totals)) - 1]
    top = [f"{name(str(label))} ({int(k)})" for label, k in totals[totals >= cut].items()]
    if len(top) == 1:
        return f"The theme raised most often was {top[0]}."
    return f"The themes raised most often were {nv.join_words(top)}."


def _conversation_phrase(b: ReportBuilder) -> str:
    conv = b.data.conversations
    if not len(conv):
        return ""
    by_who = conv["who"].value_counts().reindex(conv["who"].drop_duplicates()).to_dict()
    # "1 was with a carer, 2 with relatives": the verb once, with the first count.
    parts = [f"{n} {('was ' if n == 1 else 'were ') if i == 0 else ''}with {nv.who_phrase(str(who), int(n))}"
             for i, (who, n) in enumerate(by_who.items())]
    # Two sentences: one of 43 words was the main report's longest once the weakest questions became a list.
    return (f"talked with people whose case records were examined, or with their families and carers, about "
            f"{b.conversation_cases()}. Of these conversations, {nv.join_words(parts)}")


def _role_label(b: ReportBuilder, note: dict[str, Any]) -> str:
    """A quote's attribution: its role, or 'participant' if few of that role were there."""
    role = str(note.get("speaker_role") or "").strip().lower()
    meetings = {int(m["id"]): m for m in b.data.meetings.to_dict("records")}
    mid = note.get("meeting_id")
    meeting = meetings.get(int(mid)) if mid is not None and not pd.isna(mid) else None
    if not role or meeting is None:
        return "a participant"
    by_role = {k.strip().lower(): v for k, v in meeting["by_role"].items()}
    count = by_role.get(role, by_role.get(role + "s", 0))
    if not count and role in (str(meeting["kind"]), str(meeting["kind"]).rstrip("s")):
        count = int(meeting["attendees"])
    if count < MIN_ROLE_COUNT:
        return "a participant"
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


def _quotes(b: ReportBuilder, source: str, skip: set[int] | frozenset[int] = frozenset()) -> list[str]:
    quotes = report_quotes(b.data.notes)
    quotes = quotes[(quotes["source"] == source) & ~quotes["note_id"].astype(int).isin(skip)]
    # Printed once: a quote the team's narrative already quotes is not repeated.
    quotes = quotes[quotes["text"].map(lambda t: not b.quoted_in_narrative(str(t))).astype(bool)]
    notes = b.data.notes.set_index("note_id")
    out = []
    if source == "meeting":
        order = {g: i for i, g in enumerate(GROUP_ORDER)}
        quotes = quotes.assign(_o=[order.get(g, 99) for g in quotes["group"]]).sort_values(
            ["_o", "note_id"], kind="mergesort")
        for q in quotes.itertuples():
            note = notes.loc[q.note_id].to_dict()
            out.append(quote(q.text, "— " + _role_label(b, note)))
    else:
        labels = b.conversation_labels()
        for q in quotes.itertuples():
            out.append(quote(q.text, "— " + b.conversation_quote_label(notes.loc[q.note_id].to_dict(), labels)))
    return out


def _theme_figure(b: ReportBuilder, lead: str) -> str:
    """The chart and table of themes from the meetings, with the note naming any cut."""
    note = cut_note(*top_with_ties(b.themes, THEME_ROWS), THEME_ROWS)
    return b.figure("themes", lead=lead) + (f'<p class="table-note">{esc(note)}</p>' if note else "")


def meeting_theme_chart(b: ReportBuilder) -> str:
    """Appendix A (main-and-appendix layout): the themes from the meetings, charted by stance."""
    if b.meta.report_layout == "classic" or not len(b.themes):
        return ""
    return _theme_figure(b, '<h3 id="meeting-themes-chart">Themes from the meetings</h3>'
                         + para("The notes from the meetings coded by theme (section 3), by how what was said "
                                "leaned."))


def meetings(b: ReportBuilder) -> str:
    """3. Themes from the meetings: narrative, chosen quotes, theme counts, one-change lists."""
    body = [b.narrative("meetings")]
    quotes = _quotes(b, "meeting")
    if quotes:
        body.append('<div class="keep"><h3 id="meeting-quotes">In their own words</h3>'
                    + para("Quotes chosen by the review team from the meetings. They are not "
                         "attributed to anyone by name; where fewer than "
                         f"{MIN_ROLE_COUNT} people of a role attended, the speaker is called a participant.")
                    + quotes[0] + "</div>")
        body.extend(quotes[1:])
    themes = b.themes
    heading = '<h3 id="meeting-themes">Themes raised in the meetings</h3>'
    if len(themes):
        totals = themes.groupby("label", sort=False)["count"].sum()
        notes = b.data.notes
        coded = int(sum(1 for s, c in zip(notes["source"], notes["codes"]) if s == "meeting" and len(c)))
        said = f"The review team coded {nv.count_noun(coded, 'note')} from the meetings by theme. {_top_themes(totals)}"
        if b.meta.report_layout != "classic":  # the chart and its table: Appendix A (``meeting_theme_chart``)
            body.append(heading + para(f"{said} Appendix A charts every theme by how it leaned."))
        else:
            body.append(_theme_figure(b, heading + para(said)))
    else:
        body.append(heading + para("No notes from the meetings have been coded by theme yet."))
    changes = one_change_lists(b.data.notes)
    if changes:
        body.append('<h3 id="one-change">One change or improvement</h3>')
        intro = {
            "practitioners": "Practitioners were asked to identify one change or improvement and "
                             "made the following comments:",
            "managers": "Managers were also asked to identify one change or improvement that "
                        "would help them in their work and made the following comments:",
        }
        for group in sorted(changes, key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else 99):
            body.append(para(intro.get(group, "Staff were asked to identify one change or improvement "
                                            "and made the following comments:")))
            body.append(bullets(changes[group], "one-change"))
    return section(3, "Areas discussed and recurrent themes from the meetings", "meetings", body)


def case_records(b: ReportBuilder) -> str:
    """5. The PSWs' analysis of case records and conversations, with people's words."""
    body = []
    conv = _conversation_phrase(b)
    cases = b.counts["cases"]
    lead = f"Principal Social Workers examined {nv.count_noun(cases, 'case record') if cases else 'no case records'}"
    body.append(para(lead + (f". They also {conv}." if conv else
                           "; no conversations with people or their families took place.")))
    body.append(b.narrative("case_records"))
    heard, shown = i_statements(b)
    body.append(heard)
    quotes = _quotes(b, "conversation", shown)
    if quotes:
        title = "More of what people and carers told us" if shown else "What people and carers told us"
        body.append(f'<div class="keep"><h3 id="conversation-quotes">{title}</h3>'
                    + para("Each person is given a label such as ‘Carer 1’ so that their words can be "
                         "followed without identifying them.") + quotes[0] + "</div>")
        body.extend(quotes[1:])
    return section(5, "Principal Social Workers’ analysis of the case records and conversations",
                    "case-records", body)
