"""Rendering an in-house programme's tracking report, its signals.csv and the data behind its charts.

    programme ─► privacy screen of the text it prints, readiness (months missing, moderation)
              ─► the render driver (reviewkit.report.driver), as the regional comparison:
                 papermill (notebooks/tracking_report.ipynb, parameter: an input folder only),
                 nbconvert HTML, Chromium PDF, pandoc Word ─► tracking.html, .pdf, .docx
              ─► signals.csv (measure, team, month, rule, direction)

In: a programme folder, an output folder, formats, whether to show each team, final or draft.
Out: out_dir/tracking.{html,pdf,docx} and out_dir/signals.csv, written only when every step
succeeds. As for the review report: text the report would print that holds a personal
identifier refuses the render (naming where in programme.yaml, never the value); a final
report refuses while anything is missing and its finished files are screened as a reader gets
them; a draft with gaps is marked "DRAFT — DATA INCOMPLETE" and lists them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from reviewkit import __version__
from reviewkit.core.dates import long_date
from reviewkit.core.errors import NotReadyError, RenderError
from reviewkit.core.resources import shipped
from reviewkit.figures.tracking import month_label
from reviewkit.inhouse.programme import Programme, open_programme
from reviewkit.inhouse.sections import OPTIONS_FILE
from reviewkit.inhouse.tracking import Tracking, load_tracking, signals_csv
from reviewkit.privacy.gate import Declared, declared_phrases, shape_kinds
from reviewkit.privacy.screening import screen
from reviewkit.review.readiness import DRAFT_INCOMPLETE

__all__ = ["NOTEBOOK", "OUTPUT_NAME", "SIGNALS_FILE", "declared_for_programme", "render_tracking"]

NOTEBOOK = shipped("notebooks", "tracking_report.ipynb")
OUTPUT_NAME = "tracking"
SIGNALS_FILE = "signals.csv"
Progress = Callable[[str], None]
KIT_PHRASES = "Common-cause variation, special-cause variation, Making Data Count, p-chart"


def declared_for_programme(programme: Programme) -> Declared:
    """What the programme declares publishable: council, title, teams, themes and question ids.

    Not what a recorded change says ("new audit tool from April"): that is a sentence the host
    typed, and declaring its words would let a name typed in it through to the page.
    """
    phrases = [programme.council, programme.title, *programme.teams, *(t.title for t in programme.themes),
               programme.tool.title,
               *(q.title for q in programme.tool.questions), KIT_PHRASES]
    ids = {q.casefold() for q in programme.tool.all_ids}
    year = int(programme.changes[-1].month[:4]) if programme.changes else None
    return declared_phrases(phrases, ids, year)


def _screen(programme: Programme) -> None:
    """Refuse the render while text it would print holds what looks like an identifier (where, never what)."""
    declared = declared_for_programme(programme)
    found = [where for where, text in programme.published_text().items()
             if screen(text, programme.auditors) or shape_kinds(text, declared)]
    if found:
        raise RenderError(f"The tracking report was not rendered: {programme.path / 'programme.yaml'} holds what "
                          f"looks like a personal identifier at {'; '.join(found)}. Rewrite it (an auditor's name "
                          "or a person's details never belong there) and render again.")


def _missing(track: Tracking) -> list[dict[str, str]]:
    """The cover's "What is still missing" box: per kind, how many months and which."""
    rows = []
    counts = track.counts
    for what, months in (("Months with no audits", counts[counts["audits"] == 0]["month"]),
                         ("Months with no moderation sample",
                          counts[(counts["audits"] > 0) & (counts["moderated"] == 0)]["month"])):
        if len(months):
            rows.append({"what": what, "count": str(len(months)),
                         "where": ", ".join(month_label(m) for m in months)})  # "Jan" is also a name
    return rows


def _context(track: Tracking, final: bool, today: dt.date) -> dict[str, object]:
    p = track.programme
    incomplete = bool(track.gaps) and not final
    label = "" if final else DRAFT_INCOMPLETE if incomplete else "DRAFT"
    footer = f"{p.title}, {p.council}" + ("" if final else f" – {label}")
    clean = re.sub(r'["\\<>\n\r]', "", footer)
    return {"title": f"{p.title}: tracking report, {month_label(track.months[0])} to {month_label(track.months[-1])}",
            "programme": p.council, "theme": "", "dates": "", "report_date": long_date(today.isoformat()), "report_date_iso": today.isoformat(),
            "team": [], "draft": not final, "draft_label": label, "draft_label_css": re.sub(r'["\\<>\n\r]', "", label),
            "incomplete": incomplete, "missing": _missing(track) if incomplete else [], "gap_count": len(track.gaps),
            "version": __version__, "render_date": long_date(today.isoformat()),
            "render_date_iso": today.isoformat(), "footer_css": clean,
            "colophon": "Every figure, table, chart and sentence in this report is computed from the audits recorded "
                        "in the programme; the statements about change come from the Making Data Count rules alone."}


def render_tracking(programme_path: str | Path, out_dir: str | Path, formats: Sequence[str] = ("html",), *,
                    by_team: bool = False, final: bool = False, progress: Progress | None = None,
                    notebook: str | Path | None = None, today: dt.date | None = None) -> dict[str, Path]:
    """Render out_dir/tracking.{html,pdf,docx} and out_dir/signals.csv; nothing is written on error."""
    # start-up: the render pipeline (nbconvert, papermill, Chromium) loads only for a render
    from reviewkit.privacy.outputs import screen_outputs
    from reviewkit.report.driver import NotebookRender, render_notebook
    from reviewkit.report.render import check_formats

    say = progress or (lambda _m: None)
    wanted = check_formats(formats)
    nb_path = Path(notebook) if notebook is not None else NOTEBOOK
    say("Checking the programme")
    programme = open_programme(programme_path)
    _screen(programme)
    track = load_tracking(programme, by_team=by_team)
    if final and track.gaps:
        lines = "\n".join(f"  {g}" for g in track.gaps)
        raise NotReadyError(f"The final tracking report was not rendered: {len(track.gaps)} thing(s) are missing:\n"
                            f"{lines}\nFinish them, or render a draft without --final (it lists them up front).",
                            tuple(track.gaps))

    def prepare(inputs: Path) -> Path:
        inputs.mkdir()
        (inputs / OPTIONS_FILE).write_text(yaml.safe_dump(
            {"programme": str(programme.path.resolve()), "by_team": bool(by_team)}), encoding="utf-8")
        return inputs

    def check(files: dict[str, Path]) -> None:
        # A draft too: drafts go to managers every month, so they are published as much as the final one.
        say("Checking the finished files for anything that could identify a person")
        found = screen_outputs(files, declared_for_programme(programme))
        if found:
            raise RenderError(f"The {'final ' if final else ''}tracking report was not published: the finished files "
                              f"hold what could identify a person: {'; '.join(found)}. Rewrite it in programme.yaml "
                              "(a change is described in general words, never with a person's name). Nothing was "
                              "written.")

    job = NotebookRender(nb_path, OUTPUT_NAME, _context(track, final, today or dt.date.today()), wanted,
                         "the tracking report", "tracking", docx_context=True, prefix="reviewkit-tracking-",
                         extras={SIGNALS_FILE: lambda path: path.write_text(signals_csv(track), encoding="utf-8")})
    result = render_notebook(job, out_dir, prepare, check=check, progress=say)
    result["signals"] = result.pop(SIGNALS_FILE)
    return result
