"""The rating form as one plain page: the HTML the review hub's rating service sends.

The same form as ``reviewkit.team.widgets.rating`` (the same questions, descriptors, hints,
progress line and "what is left" list, built by the same functions), written out as HTML
once per page load instead of built from widgets in a kernel. The page's small script only
sends each change to the service and shows what the service answers; every rule (screening,
versions, allocation, what blocks "complete") runs on the server, in the store.

Everything a person typed is escaped; the page loads nothing from elsewhere.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote

from reviewkit.core.tools import AuditTool, Question
from reviewkit.review.progress import case_blockers, progress_line
from reviewkit.review.reviewyaml import Case
from reviewkit.team.widgets.common import level_css
from reviewkit.team.widgets.concern import response_html as concern_response
from reviewkit.team.widgets.rating import CaseState, case_label, descriptor_html, note_hint

NOTE_PLACEHOLDER = "What in the record supports this rating? (no names or identifiers: use the case reference)"
URL_SAFE = "-_.!~*'()"  # as ipywidgets writes data-value (encodeURIComponent): level_css's rules then apply
ACTIVE = ' class="mod-active"'
OTHER_FORMS = (("record_meeting.ipynb", "Record a meeting"), ("record_conversation.ipynb", "Record a conversation"),
               ("calibration.ipynb", "Calibration"))

PAGE_CSS = """
body { margin: 0; background: #f9fafb; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.rk-form { max-width: 64rem; margin: 0 auto; padding: 0 1rem 3rem; font-size: 16px; line-height: 1.5; color: #111827; }
.rk-form h1 { font-size: 1.7rem; margin: 0.8rem 0 0.2rem; }
.rk-form h2 { font-size: 1.4rem; margin: 1.2rem 0 0.4rem; }
.rk-form h3 { font-size: 1.2rem; margin: 0.1rem 0 0.3rem; }
.rk-form p { margin: 0.2rem 0 0.4rem; }
.rk-muted { color: #4b5563; }
.rk-card { border: 1px solid #9ca3af; border-radius: 8px; padding: 0.75rem 1rem; margin: 0 0 1rem; background: #fff; }
/* The browser lays out and draws a card only as it nears the screen (the page opens faster; what is off
   screen stays in the accessibility tree and find-in-page). */
section.rk-card { content-visibility: auto; contain-intrinsic-size: auto 30rem; }
.rk-bar { position: sticky; top: 0; z-index: 10; background: #f3f4f6; border-bottom: 2px solid #9ca3af;
  padding: 0.5rem 1rem; margin: 0 -1rem 1rem; max-height: min(11rem, 40vh); overflow-y: auto; }
html { scroll-padding-top: calc(min(11rem, 40vh) + 1rem); }
.rk-row { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; }
.rk-status { font-weight: 600; }
.rk-alert { border-radius: 6px; padding: 0.6rem 0.9rem; margin: 0.3rem 0; }
.rk-alert-error { background: #fef2f2; border: 2px solid #b91c1c; color: #7f1d1d; }
.rk-alert-warn { background: #fffbeb; border: 2px solid #b45309; color: #78350f; }
.rk-alert-ok { background: #f0fdf4; border: 2px solid #15803d; color: #14532d; }
.rk-alert-info { background: #eff6ff; border: 2px solid #1d4ed8; color: #1e3a8a; }
.rk-form button { font: inherit; border-radius: 6px; min-height: 2.4rem; padding: 0 0.8rem; cursor: pointer;
  background: #fff; border: 1px solid #4b5563; color: #111827; }
.rk-form button:hover { background: #e5e7eb; }
.rk-form button.rk-primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
.rk-form button.rk-warning { background: #b45309; border-color: #b45309; color: #fff; }
.rk-form button:focus-visible, .rk-form input:focus-visible, .rk-form textarea:focus-visible,
.rk-form select:focus-visible, .rk-form a:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px;
  box-shadow: 0 0 0 6px #bfdbfe; }
.rk-form label { font-weight: 600; display: block; margin: 0.5rem 0 0.2rem; }
.rk-form label.rk-check { display: flex; gap: 0.5rem; align-items: center; font-weight: 400; }
.rk-form input[type="checkbox"] { width: 1.3rem; height: 1.3rem; }
.rk-form textarea { width: 100%; box-sizing: border-box; min-height: 5rem; font: inherit; border: 1px solid #4b5563;
  border-radius: 4px; padding: 0.4rem; }
.rk-form input[type="text"], .rk-form input[type="date"], .rk-form select { font: inherit; min-height: 2.2rem;
  border: 1px solid #4b5563; border-radius: 4px; }
.rk-form input[type="text"] { width: 100%; box-sizing: border-box; }
.rk-form .rk-picker { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
.rk-form .rk-picker label { display: inline; margin: 0; }
.rk-form .rk-levels > div { display: grid; grid-template-columns: repeat(var(--rk-levels, 5), minmax(0, 1fr));
  gap: 0.4rem; width: 100%; padding: 3px 0; }
.rk-form .rk-levels button { margin: 0; width: 100%; white-space: normal; line-height: 1.2; min-height: 2.6rem; }
.rk-form .rk-levels button.mod-active { font-weight: 700; }
.rk-form .rk-levels button.mod-active::before { content: "\\2713\\00a0"; }
.rk-form .rk-descriptors { display: grid; grid-template-columns: repeat(var(--rk-levels, 5), minmax(0, 1fr));
  gap: 0.4rem; margin: 0.4rem 0 0.3rem; }
.rk-form .rk-descriptor { border: 1px solid #d1d5db; border-left-width: 6px; border-radius: 6px;
  padding: 0.35rem 0.55rem; font-size: 15px; line-height: 1.4; color: #374151; background: #fafafa; }
.rk-form .rk-descriptor.rk-selected { border-width: 3px; border-left-width: 8px; color: #111827; background: #fff;
  box-shadow: 0 0 0 1px #111827; }
.rk-form .rk-descriptor strong { display: block; color: #111827; }
.rk-form .rk-tag { display: inline-block; font-size: 13px; font-weight: 700; padding: 0 0.4rem; border-radius: 4px;
  background: #111827; color: #fff; margin-left: 0.3rem; }
.rk-form ul { margin: 0.2rem 0 0.4rem 1.2rem; padding: 0; }
.rk-form a { color: #1d4ed8; }
.rk-hidden { display: none !important; }
@media (max-width: 40rem) { .rk-form .rk-levels > div, .rk-form .rk-descriptors { grid-template-columns: 1fr; } }
"""


@dataclass(frozen=True)
class PageInfo:
    """Who the page is for and where it sends changes."""

    reviewer: str
    api: str  # the service's address for saves, ending in /
    xsrf: str
    user_forms: str  # opens the person's own server (for the other forms): the hub's spawn address, ending in next=<hub>
    nonce: str = ""  # the page's one script runs under this nonce (the service's Content-Security-Policy)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _box(kind: str, inner: str) -> str:
    role = "alert" if kind in ("error", "warn") else "status"
    return f'<div class="rk-alert rk-alert-{kind}" role="{role}">{inner}</div>'


def alert_html(kind: str, text: str, title: str = "") -> str:
    """A message box (plain text, escaped); errors and warnings are announced at once."""
    if not text:
        return ""
    head = f"<strong>{_e(title)}</strong><br>" if title else ""
    return _box(kind, head + "<br>".join(_e(line) for line in text.splitlines()))


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in items) + "</ul>"


def progress_html(tool: AuditTool, cases: list[Case], case_id: str, state: CaseState) -> str:
    """The progress line at the top: case k of n, questions rated, overall judgement, complete."""
    ids = [c.id for c in cases]
    entries = state.entries
    rated = sum(1 for q in tool.question_ids if entries.get(q) and entries[q].rating)
    line = progress_line(ids.index(case_id) + 1 if case_id in ids else 0, len(ids), rated, len(tool.question_ids))
    overall = entries.get(tool.overall.id)
    tail = f" · overall: {overall.rating}" if overall and overall.rating else " · overall judgement not set"
    done = " · marked complete" if state.flag["complete"] else ""
    return f"<strong>{_e(line)}</strong>{_e(tail + done)}"


def completion_html(tool: AuditTool, state: CaseState, *, unmarked: bool = False,
                    refused: list[str] | None = None) -> str:
    """Under the completion box: complete, what is left before it can be, or that everything is rated."""
    blockers = case_blockers(tool, state.entries)
    if refused:
        return _box("warn", f"<strong>This case record cannot be marked complete yet:</strong>{_list(refused)}")
    if state.flag["complete"]:
        return alert_html("ok", "This case record is marked complete.")
    if unmarked and blockers:
        return _box("warn", "<strong>This case record is no longer marked complete. Before you can mark it complete "
                            f"again:</strong>{_list(blockers)}")
    if blockers:
        return f'<div class="rk-muted">Before you can mark it complete:{_list(blockers)}</div>'
    return '<div class="rk-muted">Everything is rated: tick the box when you have finished.</div>'


def _level_buttons(tool: AuditTool, question: Question, selected: str | None, title_id: str) -> str:
    buttons = []
    for lv in tool.scale.levels:
        tip = question.descriptors.get(lv.label, "The question does not apply to this case record.")
        on = lv.label == selected
        value = quote(lv.label, safe=URL_SAFE)
        buttons.append(f'<button type="button" data-value="{_e(value)}" '
                       f'data-label="{_e(lv.label)}" aria-pressed="{"true" if on else "false"}" title="{_e(tip)}"'
                       f'{ACTIVE if on else ""}>{_e(lv.label)}</button>')
    return (f'<div class="rk-levels" role="group" aria-labelledby="{title_id}"><div>{"".join(buttons)}</div></div>')


def question_html(tool: AuditTool, number: int | None, question: Question, state: CaseState) -> str:
    """One question's card: heading, text, level buttons, descriptors, evidence note, its messages."""
    entry = state.entries[question.id]
    qid = _e(question.id)
    title = f"{number}. {question.title}" if number else question.title
    label = "Summary of your judgement" if number is None else "Evidence note"
    hint = note_hint(tool, entry)
    return (
        f'<section class="rk-card rk-q-{qid}" data-q="{qid}" data-version="{state.versions[question.id]}">'
        f'<h3 id="t-{qid}">{_e(title)}</h3><p>{_e(question.text)}</p>'
        f"{_level_buttons(tool, question, entry.rating, f't-{qid}')}"
        f'<div class="rk-desc">{descriptor_html(question, tool, entry.rating)}</div>'
        f'<label for="note-{qid}">{label}</label>'
        f'<textarea id="note-{qid}" class="rk-note" placeholder="{_e(NOTE_PLACEHOLDER)}">{_e(entry.comment)}</textarea>'
        f'<div class="rk-message" aria-live="polite">{alert_html("warn", hint)}</div>'
        f'<button type="button" class="rk-warning rk-anyway rk-hidden" '
        f'title="Save the note as written: you have checked it identifies no one">Save anyway</button></section>')


def _finish_html(tool: AuditTool, state: CaseState) -> str:
    flag = state.flag
    ticked = " checked" if flag["referred_back"] else ""
    done = " checked" if flag["complete"] else ""
    hidden = "" if flag["referred_back"] else " rk-hidden"
    return (
        f'<section class="rk-card rk-finish" data-version="{flag["version"]}"><h3>Referral and completion</h3>'
        f'<label class="rk-check"><input type="checkbox" id="referred"{ticked}>Refer this case back to the council '
        f"for a significant concern</label>"
        f'<div class="rk-reason{hidden}"><label for="reason">Reason for referring it back</label>'
        f'<textarea id="reason" placeholder="What is the significant concern? (no names or identifiers)">'
        f'{_e(flag["reason"])}</textarea></div>'
        f'<div id="referral-message" aria-live="polite"></div>'
        f'<button type="button" id="reason-anyway" class="rk-warning rk-hidden">Save anyway</button>'
        f'<label class="rk-check"><input type="checkbox" id="complete"{done}>I have finished rating this case '
        f"record</label>"
        f'<div id="complete-message" aria-live="polite">{completion_html(tool, state)}</div></section>')


def concern_html(found: dict[str, object] | None) -> str:
    """The panel for a risk to a person found in the record; its text is private to the review."""
    what = _e(found["what"]) if found else ""
    raised_on = _e(found["raised_on"]) if found else ""
    raised_with = _e(found["raised_with"]) if found else ""
    return (
        '<section class="rk-card rk-concern"><h3>A risk to a person</h3>'
        '<p class="rk-muted">If you find a risk to a person\'s safety, raise it with the council at once as your '
        "safeguarding duties require, then record it here. What you write is private: the report gives only how "
        "many concerns were raised and how the council responded.</p>"
        f'<label for="concern-what">What the risk is</label><textarea id="concern-what" '
        f'placeholder="The risk to the person you raised (no names or identifiers)">{what}</textarea>'
        f'<label for="concern-on">Date you raised it</label><input type="date" id="concern-on" value="{raised_on}">'
        f'<label for="concern-with">Raised with (role)</label><input type="text" id="concern-with" '
        f'placeholder="e.g. team manager, host Principal Social Worker" value="{raised_with}">'
        '<p><button type="button" id="concern-save" class="rk-primary">Save the concern</button> '
        '<button type="button" id="concern-anyway" class="rk-warning rk-hidden">Save anyway</button></p>'
        f'<div id="concern-message" aria-live="polite">{concern_response(found)}</div></section>')


def _picker(cases: list[Case], reviewer: str, case_id: str | None) -> str:
    options = "".join(f'<option value="{_e(c.id)}"{" selected" if c.id == case_id else ""}>'
                      f"{_e(case_label(c, reviewer))}</option>" for c in cases)
    return ('<form class="rk-picker" method="get" action=""><label for="case">Case record</label>'
            f'<select id="case" name="case">{options}</select><button type="submit">Open</button></form>')


def page_html(info: PageInfo, tool: AuditTool, cases: list[Case], case_id: str | None, state: CaseState | None,
              concern: dict[str, object] | None, message: tuple[str, str] = ("", "")) -> str:
    """The whole page for one reviewer and case; with no case, the page says why."""
    forms = " · ".join(f'<a href="{_e(info.user_forms + quote("user-redirect/voila/render/" + nb, safe=""))}">'
                       f"{_e(name)}</a>" for nb, name in OTHER_FORMS)
    intro = (f"Rating as {info.reviewer}. Pick a case record, then choose a rating for each question and write your "
             "evidence. Every change is saved straight away.")
    progress = progress_html(tool, cases, case_id, state) if case_id and state else ""
    bar = (f'<div class="rk-bar"><div class="rk-row">{_picker(cases, info.reviewer, case_id) if cases else ""}'
           f'<span id="rk-status" class="rk-status" role="status" aria-live="polite">Nothing changed yet</span></div>'
           f'<p id="rk-progress" aria-live="polite">{progress}</p>'
           f'<div id="rk-alert">{alert_html(message[0], message[1])}</div>'
           '<button type="button" id="rk-reload" class="rk-warning rk-hidden">Reload</button></div>')
    body = ""
    if case_id and state:
        questions = "".join(question_html(tool, i, q, state) for i, q in enumerate(tool.questions, 1))
        body = (f'<h2>Questions</h2><p class="rk-muted">{_e(tool.title)}</p>{questions}'
                '<h2>Overall judgement and flags</h2><p class="rk-muted">Your judgement of the record as a whole: '
                "not an average of the ratings above.</p>"
                f"{question_html(tool, None, tool.overall, state)}{_finish_html(tool, state)}{concern_html(concern)}")
    data = {"api": info.api, "xsrf": info.xsrf, "case": case_id or ""}
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Rate case records — reviewkit</title>"
        f"<style>{PAGE_CSS}\n{level_css(tool.scale)}</style></head><body>"
        f'<main class="rk-form" data-rk="{_e(json.dumps(data))}"><h1>Rate case records</h1>'
        f'<p class="rk-muted">{_e(intro)}</p><p class="rk-muted">Other forms: {forms}</p>{bar}{body}</main>'
        f'<script nonce="{_e(info.nonce)}">{SCRIPT}</script></body></html>')


def error_page(title: str, message: str) -> str:
    """What the service shows instead of a form it cannot open (plain English, no traceback)."""
    return ('<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>Rate case records — reviewkit'
            f'</title><style>{PAGE_CSS}</style></head><body><main class="rk-form"><h1>Rate case records</h1>'
            f"{alert_html('error', message, title)}</main></body></html>")


SCRIPT = resources.files("reviewkit.team").joinpath("ratepage.js").read_text(encoding="utf-8")
