"""The Easy Read summary and the "What you told us" letter: the team's text, drafted once, as pages.

In: the review (its council, dates and counts; the team's key messages, strengths and
recommendations) for a first draft; the team's ``narrative/easy_read.md`` and
``narrative/what_you_told_us.md`` afterwards.
Out: the draft Markdown (written once; the team edits it), and each file read into sections of
points, every point with a picture, as HTML for the page and for Word.

The draft follows the Easy Read conventions councils use: one idea on a line, sentences of
about 15 words or fewer, everyday words (the review's own words explained in a word list),
and a picture beside every point. It is a draft: it shortens the team's sentences by rule and
the team puts them right. The letter is a template with ``[fill in: …]`` places: it is never
filled in with anything about a person.

A file's format, as the team edits it::

    # Title
    ## A section
    - [picture] One idea, in a short sentence.
    ## Words we use
    - **Case record**: what social workers write about a person.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewkit.core.dates import date_range, long_date
from reviewkit.core.errors import WorkspaceError
from reviewkit.core.tools import TEMPLATES
from reviewkit.review.bundle import _items, _plain

__all__ = ["EASY_READ_FILE", "LETTER_FILE", "PICTURES", "Page", "Point", "draft_easy_read", "draft_letter",
           "page_html", "parse_page", "picture_svg", "spoken_text", "word_html"]

EASY_READ_FILE = "easy_read.md"
LETTER_FILE = "what_you_told_us.md"
ICONS = TEMPLATES / "easy_read" / "icons"
CSS = TEMPLATES / "easy_read" / "easy_read.css"
PICTURES = tuple(sorted(p.stem for p in ICONS.glob("*.svg")))
MAX_WORDS = 15
_POINT = re.compile(r"^\s*[-*]\s+\[([a-z0-9-]+)\]\s+(.+?)\s*$")
_WORD_ENTRY = re.compile(r"^\s*[-*]\s+\*\*(.+?)\*\*\s*[:–-]\s*(.+?)\s*$")
_FILL = re.compile(r"\[fill in:\s*([^\]]+)\]")

# The review's words, in everyday words (applied to the team's text in the draft).
PLAIN_WORDS: tuple[tuple[str, str], ...] = (
    (r"\bmanagement oversight\b", "managers checking the work"),
    (r"\bcommunity assets and prevention\b", "local help"),
    (r"\bcommunity assets\b", "local help"),
    (r"\bdocumentation\b", "paperwork"),
    (r",?\s*\breflective\b", ""),
    (r"\boversight\b", "checks by managers"),
    (r"\bpractitioners\b", "staff"),
    (r"\bpractitioner\b", "worker"),
    (r"\bconsistently\b", "in the same way"),
    (r"\bvoluntary sector\b", "charities and community groups"),
    (r"\bcontingency planning\b", "planning for emergencies"),
    (r"\bapproachable\b", "easy to talk to"),
    (r"\bpartnership working\b", "working together"),
    (r"\bframework\b", "way of working"),
    (r"\bensure\b", "make sure"),
    (r"\butilise\b", "use"),
    (r"\bfacilitate\b", "help"),
)
# The word list: each term with its meaning; a term is listed when the page uses it (the first three always).
WORD_LIST: tuple[tuple[str, str], ...] = (
    ("Case record", "what social workers write about a person and their support."),
    ("Audit", "a careful check of work, with the same questions each time."),
    ("Principal Social Worker", "a senior social worker who leads good practice in a council."),
    ("Review", "a visit to look at how well the work is done."),
    ("Carer", "someone who helps a family member or friend, without being paid."),
    ("Strengths-based", "starting from what a person can do and what matters to them."),
    ("Supervision", "a regular meeting where a worker talks about their work with a manager."),
    ("Assessment", "talking with a person to find out what help they need."),
    ("Support plan", "a written plan of the help a person will get."),
    ("Recommendation", "something the review team says the council should do."),
)
# A picture for a point, by the first word it names; otherwise the section's own picture.
_TOPICS: tuple[tuple[str, str], ...] = (
    (r"\bcase records?\b|\bforms?\b|\brecords?\b", "folder2-open"),
    (r"\bmanagers?\b", "person-badge"),
    (r"\bcarers?\b|\bfamil(y|ies)\b|\brelatives\b", "heart"),
    (r"\btrain(ing)?\b|\blearn(ing|ed)?\b|\bcourse\b", "mortarboard"),
    (r"\bsupervision\b|\btalk(ed|ing)?\b|\bconversations?\b", "chat-dots"),
    (r"\bcommunity\b|\blocal\b|\bcharities\b", "house"),
    (r"\bhealth\b", "hospital"),
    (r"\bplans?\b", "file-earmark-text"),
    (r"\bstaff\b|\bteams?\b|\bworkers?\b", "people"),
)
_GERUND_VERBS = {"embedding": "embed", "making": "make", "closing": "close", "reviewing": "review",
                 "protecting": "protect", "strengthening": "strengthen", "improving": "improve",
                 "developing": "develop", "ensuring": "make sure of", "providing": "provide", "using": "use",
                 "sharing": "share", "creating": "create", "involving": "involve", "increasing": "increase",
                 "reducing": "reduce", "offering": "offer", "building": "build", "extending": "extend",
                 "introducing": "introduce", "continuing": "continue", "establishing": "set up",
                 "agreeing": "agree", "recording": "record", "supporting": "support", "working": "work"}
# Where a long sentence is cut, best first: a clause break, then any comma, then before "by", "with"….
_CUTS = (("; ", " — ", " – ", ": ", ", but ", ", and ", ", with ", ", so that ", ", so ", ", using ", ", by ",
          ", including ", ", which ", ", as ", ", while "), (", ",), (" by ", " so that ", " with ", " using "))


@dataclass(frozen=True)
class Point:
    picture: str
    text: str


@dataclass(frozen=True)
class Page:
    """An Easy Read file as read: its title, sections of points, and its word list."""

    title: str
    sections: tuple[tuple[str, tuple[Point, ...]], ...]
    words: tuple[tuple[str, str], ...]


# --------------------------------------------------------------------------- the draft

def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip(" ,;:-")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _short(text: str, most: int = MAX_WORDS) -> str:
    """The first idea of a piece of the team's text, in everyday words, cut to about ``most`` words."""
    text = re.sub(r"\([^)]*\)", "", _plain(text))  # "(see Recommendation 3)", "(section 4)"
    text = re.split(r"(?<=[.!?])\s+", " ".join(text.split()), maxsplit=1)[0].rstrip(".!?")
    for pattern, plain in PLAIN_WORDS:
        text = re.sub(pattern, lambda m, p=plain: p[:1].upper() + p[1:] if m.group(0)[:1].isupper() else p, text,
                      flags=re.I)
    for tier in _CUTS:
        while len(text.split()) > most:
            cuts = [i for i in (text.find(c) for c in tier) if i > 0 and len(text[:i].split()) >= 5]
            if not cuts:
                break
            text = text[:min(cuts)]
    return _sentence(text)


def _recommendation(text: str) -> str:
    lead = _plain(text).split(" ", 1)
    verb = _GERUND_VERBS.get(lead[0].casefold()) if len(lead) == 2 else None
    if verb is None:
        return _short(text)
    return _short(f"The council should {verb} {lead[1]}", MAX_WORDS)


def _picture(text: str, default: str) -> str:
    folded = text.casefold()
    hits = [(m.start(), picture) for pattern, picture in _TOPICS if (m := re.search(pattern, folded))]
    return min(hits)[1] if hits else default


def _lead(item: str) -> str:
    """A key message's bold lead-in, else the message."""
    bold = re.match(r"^\s*(\*\*|__)(.+?)\1", item)
    return bold.group(2) if bold else item


def _list_items(markdown: str) -> list[str]:
    text = re.sub(r"<!--.*?-->", "", markdown, flags=re.S)
    items = _items(text.splitlines())
    if items:
        return items
    return [p for p in re.split(r"\n\s*\n", text) if p.strip() and not p.lstrip().startswith("#")]


def _points(lines: list[str], default: str) -> list[str]:
    return [f"- [{_picture(t, default)}] {t}" for t in dict.fromkeys(lines) if t]


def draft_easy_read(*, council: str, start: str, end: str, cases: int, conversations: int, meetings: int,
                    narrative: dict[str, str]) -> str:
    """The first draft of narrative/easy_read.md, from the review's counts and the team's narrative."""
    about = [f"- [people] Social workers from other councils looked at the work of {council}."]
    when = date_range(start, end) if start and end else long_date(start or end)
    if when:
        about.append(f"- [calendar-event] They visited {'from' if ' to ' in when else 'in'} {when}.")
    about.append("- [search] They looked at how staff help adults who need care and support.")
    if cases:
        about.append(f"- [folder2-open] They read {cases} case record{'s' if cases != 1 else ''}.")
    if conversations:
        about.append(f"- [chat-dots] They talked to {conversations} people who get support, or their carers.")
    if meetings:
        about.append(f"- [people] They had {meetings} meeting{'s' if meetings != 1 else ''} with staff.")
    found = _points([_short(_lead(i)) for i in _list_items(narrative.get("key_messages", ""))], "lightbulb")
    good = _points([_short(i) for i in _list_items(narrative.get("strengths", ""))], "hand-thumbs-up")
    recs = _points([_recommendation(i) for i in _list_items(narrative.get("recommendations", ""))],
                   "arrow-right-circle")
    nxt = [f"- [building] {council} will write a plan to make these changes.",
           "- [clipboard-check] The council will check how the plan is going.",
           "- [chat-quote] The council will tell people what has changed."]
    body = "\n".join([f"# What our review of {council} found", "", "## About this review", "", *about, "",
                      "## What we found", "", *(found or ["- [lightbulb] [fill in: what the review found]"]), "",
                      "## What is working well", "", *(good or ["- [hand-thumbs-up] [fill in: what works well]"]),
                      "", "## What the council should do next", "",
                      *(recs or ["- [arrow-right-circle] [fill in: what the council should do]"]), "",
                      "## What happens next", "", *nxt, ""])
    words = [(t, m) for i, (t, m) in enumerate(WORD_LIST) if i < 3 or re.search(rf"\b{re.escape(t)}", body, re.I)]
    return (_HEAD.format(file=EASY_READ_FILE, pictures=", ".join(PICTURES)) + body + "\n## Words we use\n\n"
            + "\n".join(f"- **{t}**: {m}" for t, m in words) + "\n")


def draft_letter(*, council: str) -> str:
    """The "What you told us" letter template: places to fill in, never anything about a person."""
    return _HEAD.format(file=LETTER_FILE, pictures=", ".join(PICTURES)) + "\n".join([
        "# What you told us", "",
        "## Thank you", "",
        "- [envelope] Dear [fill in: the name of the person or carer],",
        "- [hand-thumbs-up] Thank you for talking to us about your care and support.",
        "- [calendar-event] We talked with you on [fill in: the date].", "",
        "## What you told us", "",
        "- [chat-dots] You told us [fill in: what the person said, in a few short sentences].", "",
        "## What we did", "",
        f"- [building] We told {council} what people and carers said to us.",
        "- [arrow-right-circle] The council will use what you said to make things better.", "",
        "## Talk to us", "",
        "- [telephone] Please call [fill in: a telephone number at the council].",
        "- [pencil-square] From [fill in: your name and role], for the review team.", ""])


_HEAD = """<!-- Easy Read: edit the words here. The kit wrote this draft once and never changes it again
(the report command with --easy-read --regenerate writes a new draft, keeping this one in backups/).
Keep to the Easy Read way of writing:
- one idea on each line, in a sentence of 15 words or fewer;
- everyday words; the review's own words are explained under "Words we use";
- each point starts with a picture in square brackets. The pictures are: {pictures}.
- [fill in: …] marks a place to fill in before the page is used.
Nothing about a person goes in this file ({file}): it is screened like the rest of the report. -->

"""


# --------------------------------------------------------------------------- reading the team's file

def parse_page(text: str, path: Path) -> Page:
    """The team's Easy Read file as sections of points; a line that is not a point is named, with the fix."""
    title, sections, words = "", [], []
    current: list[Point] | None = None
    in_words = False
    for n, line in enumerate(re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text,
                                    flags=re.S).splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("# "):
            title = line[2:].strip()
            continue
        if line.startswith("## "):
            heading = line[3:].strip()
            in_words = heading.casefold() == "words we use"
            if not in_words:
                current = []
                sections.append((heading, current))
            continue
        if in_words:
            entry = _WORD_ENTRY.match(line)
            if not entry:
                raise WorkspaceError(f"{path}:{n}: write each word as '- **Word**: what it means'")
            words.append((entry.group(1).strip(), entry.group(2).strip()))
            continue
        point = _POINT.match(line)
        if point is None or current is None:
            raise WorkspaceError(f"{path}:{n}: write each point under a '## ' heading as '- [picture] a short "
                                 "sentence'")
        if point.group(1) not in PICTURES:
            raise WorkspaceError(f"{path}:{n}: there is no picture called '{point.group(1)}'; use one of "
                                 + ", ".join(PICTURES))
        current.append(Point(point.group(1), point.group(2)))
    if not title:
        raise WorkspaceError(f"{path}: the page needs a title, on a line starting '# '")
    return Page(title, tuple((h, tuple(p)) for h, p in sections if p), tuple(words))


def spoken_text(page: Page) -> str:
    """The page's sentences as a reader reads them, one point a line (for the reading figures)."""
    lines = [page.title] + [h for h, _ in page.sections] + [_FILL.sub(r"\1", p.text) for _, pts in page.sections
                                                          for p in pts]
    lines += [f"{t}: {m}" for t, m in page.words]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

def picture_svg(name: str) -> str:
    """A shipped picture as inline SVG, hidden from screen readers (the words beside it say it all)."""
    svg = (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    svg = re.sub(r'\s(width|height|class)="[^"]*"', "", svg)
    return svg.replace("<svg ", '<svg class="picture" aria-hidden="true" focusable="false" ', 1)


def _inline(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return _FILL.sub(lambda m: f'<span class="fill-in">[fill in: {m.group(1)}]</span>', out)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "section"


def page_html(page: Page, *, subtitle: str, footer: str) -> str:
    """The page: each point a row of picture and sentence, text at 16 pt, headings larger."""
    e = html.escape
    sub = f'<p class="subtitle">{e(subtitle)}</p>' if subtitle else ""
    parts = [f"<header><h1>{e(page.title)}</h1>{sub}</header>", "<main>"]
    for heading, points in page.sections:
        sid = _slug(heading)
        parts.append(f'<section aria-labelledby="{sid}"><h2 id="{sid}">{e(heading)}</h2><ul class="points">')
        parts += [f"<li>{picture_svg(p.picture)}<p>{_inline(p.text)}</p></li>" for p in points]
        parts.append("</ul></section>")
    if page.words:
        parts.append('<section aria-labelledby="words-we-use"><h2 id="words-we-use">Words we use</h2>'
                     f'<div class="words">{picture_svg("book")}<dl>')
        parts += [f"<div><dt>{e(t)}</dt><dd>{_inline(m)}</dd></div>" for t, m in page.words]
        parts.append("</dl></div></section>")
    parts.append("</main>" + (f"<footer><p>{e(footer)}</p></footer>" if footer else ""))
    css = CSS.read_text(encoding="utf-8")
    return (f'<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{e(page.title)}</title><style>{css}</style>'
            f'</head><body>{"".join(parts)}</body></html>\n')


def word_html(page: Page, pictures: dict[str, str], *, subtitle: str, footer: str) -> str:
    """The page for pandoc: each section a table of picture and sentence (Word has no flex rows).

    ``pictures`` maps a picture's name to the image file pandoc reads.
    """
    e = html.escape
    parts = [f"<h1>{e(page.title)}</h1>" + (f"<p>{e(subtitle)}</p>" if subtitle else "")]

    def rows(items: list[tuple[str, str]]) -> str:
        return ("<table><tbody>" + "".join(
            f'<tr><td><img src="{e(pictures[pic])}" alt="" width="56" height="56"></td><td><p>{text}</p></td></tr>'
            for pic, text in items) + "</tbody></table>")

    for heading, points in page.sections:
        parts.append(f"<h2>{e(heading)}</h2>" + rows([(p.picture, _inline(p.text)) for p in points]))
    if page.words:
        parts.append("<h2>Words we use</h2>" + rows(
            [("book", f"<strong>{e(t)}</strong>: {_inline(m)}") for t, m in page.words]))
    parts.append(f"<p>{e(footer)}</p>" if footer else "")
    return ('<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"></head>'  # no <title>: no title page
            f'<body>{"".join(parts)}</body></html>')


def counts_of(snapshot: Any) -> dict[str, int]:
    """How many case records, conversations and meetings the review had (for the draft's first section)."""
    return {"cases": len(snapshot.meta.cases), "conversations": len(snapshot.frame("conversations")),
            "meetings": len(snapshot.frame("meetings"))}
