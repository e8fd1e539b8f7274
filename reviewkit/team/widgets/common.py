"""What every form shares: the style sheet, the alert area, the "Saved 14:02" line, and the
guard that turns any error inside a widget callback into a message the person can read.

ipywidgets only logs an exception raised in a callback, so a broken form would look fine to
a naive test and lose a PSW's work in silence. Every callback here runs through
``FormBase.guard``: an expected error (a ``ReviewkitError``, whose message is safe to show)
appears in the form in plain English; anything else appears as "something went wrong",
is logged on the ``reviewkit.team.widgets`` logger with its traceback frames (never the
exception's message, which could quote what a person typed), and is kept in
``FormBase.unexpected`` so tests fail on it.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import ipywidgets as w
from ipywidgets.widgets.widget_string import HTMLStyle

from reviewkit.core.errors import BlockedTextError, ConflictError, InvalidInputError, ReviewkitError, WarningTextError
from reviewkit.core.tools import RatingScale
from reviewkit.review.session import current_session
from reviewkit.review.store import Store
from reviewkit.review.workspace import LAST_GOOD_ENV, Workspace, open_workspace

log = logging.getLogger("reviewkit.team.widgets")
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

CHANGED_ELSEWHERE = "Changed elsewhere — reload"
ALERT_KEY = "alert"  # the change refused with a message in the alert area at the top

# Fill colour and text colour per scored level position (best first), then not applicable.
# Every pair meets WCAG AA contrast (4.5:1 or better) for the button text.
LEVEL_COLOURS = [("#14532d", "#ffffff"), ("#15803d", "#ffffff"), ("#fbbf24", "#111827"),
                 ("#b91c1c", "#ffffff"), ("#7f1d1d", "#ffffff")]
NOT_APPLICABLE_COLOUR = ("#4b5563", "#ffffff")

BASE_CSS = """
/* Let the form's top bar stick to the top of the page while scrolling: no box between the
   bar and the page's scroller may clip (overflow) it. */
.jp-OutputArea:has(.rk-form), .jp-OutputArea-child:has(.rk-form), .jp-OutputArea-output:has(.rk-form),
.rk-form, .rk-form .widget-box { overflow: visible !important; }
.rk-form { max-width: 64rem; margin: 0 auto; font-size: 16px; line-height: 1.5; color: #111827; }
.rk-form .widget-html-content, .rk-form .widget-label, .rk-form .widget-label-basic,
.rk-form input, .rk-form textarea, .rk-form select, .rk-form button { font-size: 16px; }
.rk-form .widget-html-content { line-height: 1.5; }
.rk-form h2 { font-size: 1.6rem; margin: 0.2rem 0 0.4rem; }
.rk-form h3 { font-size: 1.2rem; margin: 0.1rem 0 0.3rem; }
.rk-form p { margin: 0.2rem 0 0.4rem; }
.rk-form .rk-muted { color: #4b5563; }
.rk-form .rk-card { border: 1px solid #9ca3af; border-radius: 8px; padding: 0.75rem 1rem;
  margin: 0 0 1rem 0; background: #ffffff; overflow: visible; }
/* The bar never grows past --rk-bar-max (a long message scrolls inside it), and whatever the
   browser scrolls to (a focused rating, a note) stops below that height: the bar can never
   cover the rating a person has just chosen. */
.rk-form { --rk-bar-max: min(11rem, 40vh); }
#rendered_cells, html, body { scroll-padding-top: calc(min(11rem, 40vh) + 1rem); }
.rk-form .rk-bar { position: sticky; top: 0; z-index: 10; background: #f3f4f6;
  border-bottom: 2px solid #9ca3af; padding: 0.5rem 1rem; margin-bottom: 1rem;
  max-height: var(--rk-bar-max); overflow-y: auto !important; box-sizing: border-box; }
.rk-form .rk-status { font-weight: 600; }
.rk-form .rk-alert { border-radius: 6px; padding: 0.6rem 0.9rem; margin: 0.3rem 0; }
.rk-form .rk-alert-error { background: #fef2f2; border: 2px solid #b91c1c; color: #7f1d1d; }
.rk-form .rk-alert-warn { background: #fffbeb; border: 2px solid #b45309; color: #78350f; }
.rk-form .rk-alert-ok { background: #f0fdf4; border: 2px solid #15803d; color: #14532d; }
.rk-form .rk-alert-info { background: #eff6ff; border: 2px solid #1d4ed8; color: #1e3a8a; }
.rk-form button.jupyter-button { border-radius: 6px; min-height: 2.4rem; }
.rk-form button.jupyter-button:not(.mod-primary):not(.mod-danger):not(.mod-warning):not(.mod-active) {
  background: #ffffff; border: 1px solid #4b5563; color: #111827; }
.rk-form button.jupyter-button:not(.mod-active):hover { background: #e5e7eb; }
.rk-form button.mod-primary { background: #1d4ed8; color: #ffffff; }
.rk-form button.mod-warning { background: #b45309; color: #ffffff; }
.rk-form button.mod-danger { background: #b91c1c; color: #ffffff; }
.rk-form button:focus-visible, .rk-form input:focus-visible, .rk-form textarea:focus-visible,
.rk-form select:focus-visible, .rk-form summary:focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px; box-shadow: 0 0 0 6px #bfdbfe !important; }
.rk-form .rk-note, .rk-form .rk-stack { flex-direction: column; align-items: stretch; }
.rk-form .rk-note { width: 100%; }
.rk-form .rk-note > .widget-label, .rk-form .rk-stack > .widget-label { width: auto !important; max-width: none;
  text-align: left; margin: 0.5rem 0 0.2rem 0; }
.rk-form .widget-vbox > .jupyter-button { align-self: flex-start; }
.rk-form .widget-hbox { gap: 0.5rem; }
.rk-form .widget-checkbox .widget-label-basic, .rk-form .widget-checkbox label { font-weight: 400;
  white-space: normal; overflow: visible; text-overflow: clip; }
.rk-form .widget-checkbox { height: auto; min-height: 2rem; align-items: center; }
.rk-form .widget-toggle-buttons .widget-toggle-button.mod-active { background: #1d4ed8; color: #ffffff;
  border-color: #1d4ed8; }
.rk-form .rk-note textarea { width: 100%; }
.rk-form textarea, .rk-form input { font-family: inherit; }
.rk-form textarea { min-height: 4.5rem; border: 1px solid #4b5563; border-radius: 4px; padding: 0.4rem; }
.rk-form input[type="text"], .rk-form input[type="date"], .rk-form input[type="number"], .rk-form select {
  border: 1px solid #4b5563; border-radius: 4px; min-height: 2.2rem; }
.rk-form .widget-label, .rk-form .widget-label-basic { color: #111827; font-weight: 600; }
.rk-form .rk-levels > div { display: grid; grid-template-columns: repeat(var(--rk-levels, 5), minmax(0, 1fr));
  gap: 0.4rem; width: 100%; }
.rk-form .rk-levels { width: 100%; }
.rk-form .rk-levels, .rk-form .rk-levels > div { overflow: visible !important; padding: 3px 0; }
.rk-form button, .rk-form input, .rk-form textarea, .rk-form select, .rk-form .rk-descriptors {
  scroll-margin-top: calc(var(--rk-bar-max) + 1rem); }
.rk-form .rk-levels .widget-toggle-button { margin: 0; padding: 0 0.5rem; width: 100% !important;
  white-space: normal; line-height: 1.2; min-height: 2.6rem; }
.rk-form .rk-levels .widget-toggle-button.mod-active::before { content: "\\2713\\00a0"; font-weight: 700; }
.rk-form .rk-levels .widget-toggle-button.mod-active { font-weight: 700; }
.rk-form .rk-descriptors { display: grid; grid-template-columns: repeat(var(--rk-levels, 5), minmax(0, 1fr));
  gap: 0.4rem; margin: 0.4rem 0 0.3rem; }
.rk-form .rk-descriptor { border: 1px solid #d1d5db; border-left-width: 6px; border-radius: 6px;
  padding: 0.35rem 0.55rem; font-size: 15px; line-height: 1.4; color: #374151; background: #fafafa; }
.rk-form .rk-descriptor.rk-selected { border-width: 3px; border-left-width: 8px; color: #111827;
  background: #ffffff; box-shadow: 0 0 0 1px #111827; }
.rk-form .rk-descriptor strong { display: block; color: #111827; }
.rk-form .rk-tag { display: inline-block; font-size: 13px; font-weight: 700; padding: 0 0.4rem;
  border-radius: 4px; background: #111827; color: #ffffff; margin-left: 0.3rem; }
.rk-form .rk-suggested label, .rk-form .rk-suggested .widget-label-basic { font-style: italic; }
.rk-form .rk-suggested { background: #fffbeb; border: 2px dashed #b45309; border-radius: 6px; }
.rk-form table.rk-table { border-collapse: collapse; margin: 0.3rem 0 1rem; font-size: 15px; }
.rk-form table.rk-table caption { text-align: left; font-weight: 700; padding: 0.3rem 0; }
.rk-form table.rk-table th, .rk-form table.rk-table td { border: 1px solid #9ca3af; padding: 0.3rem 0.6rem;
  text-align: left; vertical-align: top; }
.rk-form table.rk-table th { background: #f3f4f6; }
.rk-form ul { margin: 0.2rem 0 0.4rem 1.2rem; padding: 0; }
"""


def level_css(scale: RatingScale) -> str:
    """Colours for each level's button and descriptor, keyed by label so order never matters."""
    rules = [f".rk-form {{ --rk-levels: {len(scale.levels)}; }}"]
    scored = scale.scored
    for lv in scale.levels:
        if lv.score is None:
            fill, ink = NOT_APPLICABLE_COLOUR
        else:
            pos = scored.index(lv)
            # Spread the palette over the scale: the worst level always gets the red.
            idx = 0 if len(scored) == 1 else round(pos * 3 / (len(scored) - 1))
            fill, ink = LEVEL_COLOURS[idx]
        key = _url_quote(lv.label)
        rules.append(
            f'.rk-form .rk-levels button[data-value="{key}"] {{ border-left: 8px solid {fill} !important; }}\n'
            f'.rk-form .rk-levels button[data-value="{key}"].mod-active {{ background: {fill} !important; '
            f"color: {ink} !important; border: 2px solid #111827 !important; border-left: 8px solid #111827 !important; }}\n"
            f'.rk-form .rk-descriptor[data-level="{html.escape(lv.label)}"] {{ border-left-color: {fill}; }}'
        )
    return "\n".join(rules)


def _url_quote(label: str) -> str:
    """The label as ipywidgets writes it in data-value (JavaScript's encodeURIComponent)."""
    return quote(label, safe="-_.!~*'()")


def style_widget(extra: str = "") -> w.HTML:
    """A style sheet carried inside the form, so the page needs no file or network to look right."""
    return w.HTML(f"<style>{BASE_CSS}\n{extra}</style>", layout=w.Layout(height="0px", margin="0"))


_SHARED: dict[tuple[Any, ...], Any] = {}
W = TypeVar("W", bound=w.Widget)


def shared(kind: type[W], **traits: Any) -> W:
    """One layout or style model for all the widgets that never change theirs.

    Each widget otherwise brings a layout and a style model of its own, and the browser builds
    every model before the form shows: the rating form had 387, most of them these. Only for
    widgets whose layout or style no code changes (a ``.layout.display`` switched on one would
    switch all).
    """
    key = (kind, tuple(sorted(traits.items())))
    model = _SHARED.get(key)
    if model is None or getattr(model, "comm", None) is None:  # none yet, or closed since
        model = _SHARED[key] = kind(**traits)
    return model  # type: ignore[no-any-return]


def text_html(value: str = "") -> w.HTML:
    """An HTML widget (text, a message) with the shared layout and style: one model, not three."""
    return w.HTML(value, layout=shared(w.Layout), style=shared(HTMLStyle))


def heading(text: str, level: int = 2, sub: str = "") -> w.HTML:
    """A heading (and an optional line under it), escaped."""
    body = f"<h{level}>{html.escape(text)}</h{level}>"
    if sub:
        body += f'<p class="rk-muted">{html.escape(sub)}</p>'
    return text_html(body)


def now_hhmm() -> str:
    """Local time as a person reads a clock: 14:02."""
    return dt.datetime.now().strftime("%H:%M")


def date_text(value: dt.date | None) -> str:
    """A date picker's value as the store keeps it: ISO 8601, or '' when no date is set."""
    return value.isoformat() if value else ""


def parse_date(text: str) -> dt.date | None:
    """A stored date for a date picker: None when no date was given."""
    return dt.date.fromisoformat(text) if text else None


def alert_html(kind: str, body: str) -> str:
    """An alert box around HTML that is already escaped; errors and warnings are announced at once."""
    role = "alert" if kind in ("error", "warn") else "status"
    return f'<div class="rk-alert rk-alert-{kind}" role="{role}">{body}</div>'


def message_html(kind: str, text: str) -> str:
    """A plain-text message in an alert box, escaped; no text, no box."""
    return alert_html(kind, html.escape(text)) if text else ""


def show_refused_text(exc: BlockedTextError | WarningTextError, message: w.HTML, save_anyway: w.Button) -> None:
    """Say why typed text was not saved; offer "Save anyway" for a possible identifier, never for a sure one."""
    if isinstance(exc, WarningTextError):
        message.value = message_html("warn", f"Not saved yet. {exc}")
        save_anyway.layout.display = ""
    else:
        message.value = message_html("error", f"Not saved. {exc}")
        save_anyway.layout.display = "none"


def resolve_workspace(workspace: Workspace | str | Path) -> Workspace:
    """Accept an open workspace or a path to one."""
    if isinstance(workspace, Workspace):
        return workspace
    if not str(workspace).strip():
        raise InvalidInputError(
            "No review workspace was given. Ask the host PSW for the workspace folder, or start "
            "the form with 'reviewkit serve WORKSPACE --reviewer NAME'.")
    # On the review hub, a typo in review.yaml must not close everyone's forms: the hub keeps the last
    # good copy and names it in the environment; the host console says what is wrong (review_problem).
    return open_workspace(workspace, last_good=os.environ.get(LAST_GOOD_ENV) or None)


def check_reviewer(ws: Workspace, reviewer: str) -> str:
    """The reviewer's name as review.yaml spells it, or a plain-English error."""
    names = ws.meta.reviewers
    clean = " ".join(str(reviewer).split())
    for name in names:
        if name.casefold() == clean.casefold():
            return name
    if not clean:
        raise InvalidInputError(
            f"No reviewer name was given. Reviewers of this review are: {', '.join(names)}.")
    raise InvalidInputError(
        f"'{clean}' is not a reviewer of this review. Reviewers are: {', '.join(names)}. "
        "Check the spelling, or ask the host PSW to add you to the team in review.yaml.")


class Alert:
    """The message area at the top of a form: one message at a time, announced to screen readers."""

    def __init__(self) -> None:
        self.html = text_html("")
        self.message = ""

    def show(self, kind: str, message: str, *, title: str = "") -> None:
        """Show an error, warning, info or ok message (plain text, escaped)."""
        self.message = message
        head = f"<strong>{html.escape(title)}</strong><br>" if title else ""
        body = "<br>".join(html.escape(line) for line in message.splitlines())
        self.html.value = alert_html(kind, head + body)

    def clear(self) -> None:
        self.message = ""
        self.html.value = ""


class FormBase:
    """Shared plumbing: workspace and store, alert area, status line, reload button, callback guard."""

    reload_label = "Reload"  # the button that shows what is saved; the progress page calls it Refresh

    def __init__(self, ws: Workspace, *, actor: str, store: Store | None = None) -> None:
        self.ws = ws
        self.actor = actor  # who the audit log names for every change made through this form
        self.store = store if store is not None else ws.store()
        self.alert = Alert()
        self.status = text_html("")
        self.pending: set[str] = set()  # what the person changed but the store refused (see not_saved)
        self.last_saved = ""
        self.set_status("Nothing changed yet")
        self.unexpected: list[str] = []  # type names of unexpected callback errors (tests assert empty)
        self.reload_button = w.Button(description="Reload", tooltip="Load the latest saved version from the review store",
                                      button_style="warning", layout=w.Layout(display="none", width="auto"))
        self.reload_button.on_click(self.guard(lambda _b: self.reload()))
        self._quiet = 0
        self.view: w.Box = w.VBox()

    # -- layout -------------------------------------------------------------------------------
    def top_bar(self, control: w.Widget, *below: w.Widget, reload: bool = True) -> w.VBox:
        """The sticky bar: the form's main control beside the status line, then the alert area."""
        row = w.HBox([control, self.status], layout=w.Layout(justify_content="space-between", align_items="center"))
        bar = w.VBox([row, *below, self.alert.html, *([self.reload_button] if reload else [])])
        bar.add_class("rk-bar")
        return bar

    def set_view(self, title: str, intro: str, *body: w.Widget, css: str = "") -> None:
        """Lay the form out under its own style sheet and heading; the style sheet applies only inside it."""
        self.view = w.VBox([style_widget(css), heading(title, 2, intro), *body])
        self.view.add_class("rk-form")

    # -- display ------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display the form; the plain-text fallback names the form and never its contents.

        A widget's default text repr lists every child's value, so a saved notebook would
        otherwise carry the evidence notes the form loaded.
        """
        bundle = self.view._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = (f"{type(self).__name__}: an interactive form. Open it in JupyterLab, "
                                    "or with 'reviewkit serve', to use it.")
        return bundle

    def set_status(self, text: str) -> None:
        """Change the status line beside the form's main control; screen readers hear it politely."""
        self.status_text = text
        self.status.value = f'<span class="rk-status" role="status" aria-live="polite">{html.escape(text)}</span>'

    def saved(self, key: str | None = None) -> None:
        """Say when the last change reached the store, in local time; `key` is no longer unsaved."""
        self.last_saved = now_hhmm()
        if key is not None:
            self.pending.discard(key)
        self._show_saved_state()

    def not_saved(self, key: str) -> None:
        """Something the person typed was refused: the status line must not say "Saved" meanwhile."""
        self.pending.add(key)
        self._show_saved_state()

    def forget_unsaved(self, key: str | None = None) -> None:
        """The refused change was withdrawn (cleared, reloaded): it no longer waits to be saved."""
        if key is None:
            self.pending.clear()
        else:
            self.pending.discard(key)
        self._show_saved_state()

    def _show_saved_state(self) -> None:
        if self.pending:
            n = len(self.pending)
            self.set_status(f"Not saved: {n} change{'s' if n > 1 else ''} — see the message{'s' if n > 1 else ''} "
                            "in the form")
        elif self.last_saved:
            self.set_status(f"Saved {self.last_saved}")
        else:
            self.set_status("Nothing changed yet")

    def reload(self) -> None:  # overridden by each form
        """Read everything again from the store."""

    # -- guarding callbacks -------------------------------------------------------------------
    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Set widget values from the store without their observers saving them back."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @property
    def loading(self) -> bool:
        return self._quiet > 0

    def guard(self, fn: F) -> F:
        """Wrap a callback: skip while loading; show any error in the form; log the unexpected."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.loading:
                return None
            try:
                return fn(*args, **kwargs)
            except ConflictError as exc:
                self.show_conflict(str(exc))
                self.not_saved(ALERT_KEY)
            except WarningTextError as exc:  # a form that offers "Save anyway" catches this itself
                log.info("text needs confirmation in %s", fn.__name__)
                self.alert.show("warn", str(exc), title="Please check before saving")
                self.not_saved(ALERT_KEY)
            except ReviewkitError as exc:
                log.info("%s refused in %s: %s", type(exc).__name__, fn.__name__, exc)
                self.alert.show("error", str(exc), title="Not saved")
                self.not_saved(ALERT_KEY)
            except Exception as exc:  # noqa: BLE001 - shown in the form, logged, kept for tests
                self.unexpected.append(type(exc).__name__)
                frames = "".join(traceback.format_tb(exc.__traceback__))
                log.error("unexpected %s in form callback %s\n%s", type(exc).__name__, fn.__name__, frames)
                self.alert.show(
                    "error",
                    "Something went wrong and your last change may not have been saved. "
                    f"Press {self.reload_label} to see what is saved. If it happens again, tell the host PSW "
                    f"(technical detail for them: {type(exc).__name__} in {fn.__name__}).",
                    title="Sorry, something went wrong")
                self.reload_button.layout.display = ""
            return None

        return wrapper  # type: ignore[return-value]

    def show_conflict(self, detail: str) -> None:
        """Another tab or window changed the record: never overwrite, offer a reload instead."""
        log.info("conflict: %s", detail)
        self.alert.show("error", f"{detail}\nYour last change was not saved.", title=CHANGED_ELSEWHERE)
        self.reload_button.layout.display = ""

    def clear_alert(self) -> None:
        self.alert.clear()
        self.reload_button.layout.display = "none"
        self.forget_unsaved(ALERT_KEY)

    def relabel(self, picker: w.Dropdown, value: Any, label: str) -> None:
        """Rename a picker's entry for a record whose details changed, keeping it selected."""
        with self.quiet():
            picker.options = [(label if v == value else k, v) for k, v in picker.options]
            picker.value = value


class EntryForm(FormBase):
    """A form a reviewer fills in: it opens only for a reviewer of the review, and logs changes as theirs."""

    def __init__(self, workspace: Workspace | str | Path, reviewer: str, *, store: Store | None = None) -> None:
        ws = resolve_workspace(workspace)
        session = current_session(ws.meta)
        # Under the review hub the sign-in decides who is rating, whatever name the page was given.
        self.reviewer = session.reviewer if session is not None else check_reviewer(ws, reviewer)
        super().__init__(ws, actor=self.reviewer, store=store)


def error_panel(message: str, title: str = "This form cannot open") -> w.VBox:
    """What a notebook shows instead of a traceback when the form cannot start."""
    alert = Alert()
    alert.show("error", message, title=title)
    box = w.VBox([style_widget(), alert.html])
    box.add_class("rk-form")
    return box


def listen_for_pages() -> None:
    """Let the page fetch every widget of the form in one message (ipywidgets' control channel).

    ipywidgets sets this up when it is first imported inside a kernel. A kernel forked from the
    fork server inherits ipywidgets already imported, before any kernel existed, so nothing was
    set up: the page then fell back to asking for each of the form's widgets one at a time,
    which took seconds, and under load sometimes never finished. Outside a kernel this does
    nothing; doing it twice is harmless.
    """
    from IPython import get_ipython  # start-up: IPython is loaded by then in a kernel; only asked here

    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        w.register_comm_target()


def open_or_explain(make: Callable[[], T], title: str = "This form cannot open") -> T | w.VBox:
    """What a notebook's entry point returns: the form, or a plain-English panel saying why it cannot open."""
    listen_for_pages()
    try:
        return make()
    except ReviewkitError as exc:
        return error_panel(str(exc), title)
