"""The host console as one plain page, served by the review hub's rating service.

Why: on the hub the widget console (``reviewkit.team.widgets.host``) costs the host a server,
a kernel and a 4.9 MB page, and took 3.6-5.6 s to open; this page, about 1 s. It is built on
the server in one request; its small script sends each action as one request and shows the
answer. Each action calls the same library function as the CLI and the widget console
(``import``, ``confirm-claim``, ``report``, ``report --easy-read``, ``export --for-region``,
``action-plan``), so the rules live in one place. Files are offered from the review's report
folder, to the host alone.

A render takes ten seconds or more (the sample's three formats: 9.9 s on 2 cores), so it runs
as a job the page polls: one at a time, its steps shown as they happen. A job runs in a process
of its own (``python -m reviewkit.team.hostpage``), so the renderer's memory is given back when
it ends and the reviewers' saves, served meanwhile by the service, do not wait on it.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

from reviewkit.core.atomic import make_folder
from reviewkit.core.errors import ConflictError, ImportFileError, ReviewkitError
from reviewkit.core.lifecycle import descendants, die_with_parent
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace, open_workspace
from reviewkit.team.ratepage import PAGE_CSS, alert_html
from reviewkit.team.widgets.host import FORMATS, INTRO, MAX_UPLOAD_FILES, readiness_html, review_notice_html

log = logging.getLogger("reviewkit.team.hostpage")
MAX_UPLOAD_BYTES = 50_000_000  # fifty workbooks of a megabyte each
REPORT_FOLDER = "report"
FILE_NAME = re.compile(r"^[\w][\w.-]{0,120}$")  # a file the page may offer: no folder, no hidden file

HOST_CSS = """
.rk-form table.rk-table { border-collapse: collapse; margin: 0.3rem 0 1rem; font-size: 15px; }
.rk-form table.rk-table caption { text-align: left; font-weight: 700; padding: 0.3rem 0; }
.rk-form table.rk-table th, .rk-form table.rk-table td { border: 1px solid #9ca3af; padding: 0.3rem 0.6rem;
  text-align: left; vertical-align: top; }
.rk-form table.rk-table th { background: #f3f4f6; }
.rk-form .rk-buttons { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.4rem 0; }
.rk-form .rk-formats { display: flex; flex-wrap: wrap; gap: 0.3rem 1.5rem; border: 0; padding: 0; margin: 0.3rem 0; }
.rk-form .rk-formats legend { font-weight: 600; padding: 0; }
.rk-form input[type="file"] { font: inherit; }
.rk-form a.rk-download { font-weight: 600; }
"""


@dataclass(frozen=True)
class HostInfo:
    """Who the page is for and where it sends actions."""

    host: str
    api: str  # the service's host actions, ending in /
    files: str  # where the report folder's files are offered, ending in /
    xsrf: str
    lab: str  # JupyterLab on the host's own server (started by the hub when opened)
    nonce: str = ""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def progress_section(ws: Workspace) -> str:
    """Progress tables and what stands between the review and a final report."""
    from reviewkit.team.widgets.progress import progress_html  # start-up: pandas loads when the host first looks

    with Store(ws.db_path, ws.rules()) as store:
        return progress_html(ws, store) + readiness_html(ws)


def claims_section(ws: Workspace) -> str:
    """The claims waiting for a confirmation, as a list to pick from; or that none is waiting."""
    from reviewkit.review.claims import open_claims  # start-up: the claim checker loads when the host first looks

    claims = open_claims(ws)
    if not claims:
        return '<p id="claims-none" class="rk-muted">No claim is waiting for a confirmation.</p>'
    options = "".join(f'<option value="{_e(c.file)}:{c.line}">{_e(c)}</option>' for c in claims)
    return (f'<label for="claim">Claim</label><select id="claim">{options}</select>'
            '<label for="claim-reason">Reason</label><textarea id="claim-reason" placeholder="Why the claim is '
            'true although the figures seem to contradict it"></textarea>'
            '<div class="rk-buttons"><button type="button" id="claim-confirm">Confirm the claim as true</button></div>')


def sections(ws: Workspace) -> dict[str, str]:
    """What the page shows about the review now, by the id of the element it fills."""
    return {"rk-notice": review_notice_html(ws), "rk-tables": progress_section(ws), "rk-claims": claims_section(ws)}


def _card(title: str, intro: str, inner: str, ident: str) -> str:
    return (f'<section class="rk-card" aria-labelledby="h-{ident}"><h2 id="h-{ident}">{_e(title)}</h2>'
            f'<p class="rk-muted">{_e(intro)}</p>{inner}<div id="{ident}-message" aria-live="polite"></div></section>')


def page_html(info: HostInfo, ws: Workspace) -> str:
    """The whole console for the host: every card, filled with the review as it is now."""
    now = sections(ws)
    formats = "".join(f'<label class="rk-check"><input type="checkbox" name="format" value="{fmt}"'
                      f'{" checked" if fmt == "html" else ""}>{_e(label)}</label>' for label, fmt in FORMATS)
    cards = [
        _card("Import workbooks and CSV files", INTRO["import"], '<label for="files">Files to import</label>'
              '<input type="file" id="files" multiple accept=".csv,.xlsx"><div class="rk-buttons">'
              '<button type="button" id="import" class="rk-primary">Import the chosen files</button></div>', "import"),
        _card("Progress", "Who has rated what, where moderators disagree, and what a final report still needs.",
              '<div class="rk-buttons"><button type="button" id="refresh">Refresh</button></div>'
              f'<div id="rk-tables">{now["rk-tables"]}</div>', "progress"),
        _card("Claims in the narrative", INTRO["claim"], f'<div id="rk-claims">{now["rk-claims"]}</div>', "claim"),
        _card("Report", INTRO["report"], f'<fieldset class="rk-formats"><legend>Formats</legend>{formats}'
              '</fieldset><div class="rk-buttons"><button type="button" class="rk-primary rk-job" data-job="draft">'
              'Render a draft report</button><button type="button" class="rk-job" data-job="final">Render the final '
              'report</button><button type="button" class="rk-job" data-job="easy">Render the Easy Read summary'
              '</button></div><div id="report-steps" class="rk-muted" role="status"></div>', "report"),
        _card("Regional bundle", INTRO["bundle"], '<div class="rk-buttons"><button type="button" class="rk-job" '
              'data-job="bundle">Write the regional bundle</button></div>', "bundle"),
        _card("Action plan", INTRO["plan"], '<div class="rk-buttons"><button type="button" class="rk-job" '
              'data-job="plan">Write the action plan</button></div>', "plan"),
    ]
    data = {"api": info.api, "xsrf": info.xsrf}
    sub = f"{ws.meta.council} · {ws.meta.theme}. Signed in as {info.host}."
    lab = (f'<p><a href="{_e(info.lab)}" target="_blank" rel="noopener">Open JupyterLab</a> for the notebooks and '
           "the workspace files (it starts your own server, which takes a few seconds).</p>")

    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Host console — reviewkit</title><style>{PAGE_CSS}{HOST_CSS}</style></head><body>"
        f'<main class="rk-form" data-rk="{_e(json.dumps(data))}"><h1>Host console</h1>'
        f'<p class="rk-muted">{_e(sub)}</p>{lab}'
        f'<div class="rk-bar"><span id="rk-status" class="rk-status" role="status" aria-live="polite">Ready</span>'
        f'<div id="rk-notice">{now["rk-notice"]}</div></div>{"".join(cards)}</main>'
        f'<script nonce="{_e(info.nonce)}">{SCRIPT}</script></body></html>')


# -- actions ---------------------------------------------------------------------------------------

def answer(kind: str, text: str, title: str = "", **more: Any) -> dict[str, Any]:
    """An action's outcome as the page shows it: a message box (escaped) and anything else it updates."""
    return {"kind": kind, "html": alert_html(kind, text, title), **more}


def import_uploads(ws: Workspace, files: list[tuple[str, bytes]], actor: str) -> dict[str, Any]:
    """Import every chosen file at once: all of it, or nothing with every problem listed."""
    from reviewkit.intake.io import import_files  # start-up: the importers load when the host first imports

    if not files:
        return answer("warn", "Choose one or more files first.")
    if len(files) > MAX_UPLOAD_FILES:
        return answer("error", f"Choose at most {MAX_UPLOAD_FILES} files at once: {len(files)} were chosen.")
    folder = Path(tempfile.mkdtemp(prefix="reviewkit-upload-"))
    try:
        paths = []
        for i, (name, content) in enumerate(files, 1):
            base = Path(name).name or "upload"
            target = folder / base if not (folder / base).exists() else folder / f"{i}-{base}"  # two of one name
            try:
                target.write_bytes(content)
            except OSError as exc:
                return answer("error", f"Nothing was imported: the chosen files could not be saved for reading "
                                       f"({exc.strerror or exc}). Free some space on the review hub, then try again.")
            paths.append(target)
        summaries = import_files(ws, paths, actor=actor)
    except ImportFileError as exc:
        items = "".join(f"<li>{_e(p)}</li>" for p in exc.problems)
        return {"kind": "error", "html": ('<div class="rk-alert rk-alert-error" role="alert"><strong>Nothing was '
                                          f"imported: {len(exc.problems)} problem(s) found.</strong><ul>{items}</ul>"
                                          "</div>")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = [f"{kind}: {s.added} added, {s.changed} changed, {s.unchanged} unchanged" for kind, s in summaries.items()]
    return answer("ok", f"Imported {len(paths)} file(s). " + "; ".join(lines) + ".", sections=sections(ws))


def confirm(ws: Workspace, body: dict[str, Any]) -> dict[str, Any]:
    """Confirm the chosen claim with the reason typed (kept in review.yaml), as ``reviewkit confirm-claim``."""
    from reviewkit.review.claims import confirm_claim  # start-up: see claims_section

    file, _, line = str(body.get("claim", "")).rpartition(":")
    if not file or not line.isdigit():
        return answer("warn", "No claim is waiting for a confirmation.")
    try:
        done = confirm_claim(ws, file, int(line), str(body.get("reason", "")))
    except ReviewkitError as exc:
        return answer("error", str(exc))
    return answer("ok", f"Confirmed as true: {done[0]}", sections=sections(ws))


def file_links(files: list[Path], base: str) -> str:
    """Links that download the files the page offers (from the report folder)."""
    return " · ".join(f'<a class="rk-download" href="{_e(base + quote(p.name))}" download="{_e(p.name)}">'
                      f"Download {_e(p.name)}</a>" for p in files)


def report_file(ws: Workspace, name: str) -> Path | None:
    """A file in the review's report folder the host may download, by its bare name; None for anything else."""
    if not FILE_NAME.match(name):
        return None
    folder = (ws.path / REPORT_FOLDER).resolve()
    path = folder / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != folder:
        return None
    return path


def _ready(what: str, files: list[Path], base: str, **more: Any) -> dict[str, Any]:
    return {"kind": "ok", "html": ('<div class="rk-alert rk-alert-ok" role="status">'
                                   f"{_e(what)} is ready: {file_links(files, base)}</div>"), **more}


def render(ws: Workspace, formats: list[str], *, final: bool, base: str, say: Callable[[str], None]) -> dict[str, Any]:
    """Render the report into the report folder, as ``reviewkit report``; its files to download."""
    from reviewkit.report.render import render_report  # start-up: the renderer loads when the host first renders

    kind = "final report" if final else "draft report"
    try:
        result = render_report(ws.path, ws.path / REPORT_FOLDER, formats or ["html"], final=final, progress=say)
    except ReviewkitError as exc:
        return answer("error", f"The {kind} was not rendered. {exc}")
    return _ready(f"The {kind}", [Path(p) for p in result.values()], base)


def easy_read(ws: Workspace, formats: list[str], *, base: str, say: Callable[[str], None]) -> dict[str, Any]:
    """Draft (once) and render the Easy Read summary and the letter template, as ``reviewkit report --easy-read``."""
    from reviewkit.report.easyrender import render_easy_read  # start-up: see render

    try:
        result = render_easy_read(ws.path, ws.path / REPORT_FOLDER, formats or ["html"], progress=say)
    except ReviewkitError as exc:
        return answer("error", f"The Easy Read summary was not rendered. {exc}")
    out = _ready("The Easy Read summary", [Path(p) for files in result.files.values() for p in files.values()], base)
    if result.drafted:
        out["html"] = out["html"].replace("</div>", "<br>Drafted for you to edit: " + ", ".join(
            _e(f"narrative/{p.name}") for p in result.drafted) + "</div>")
    return out


def bundle(ws: Workspace, *, base: str) -> dict[str, Any]:
    """The de-identified regional bundle, as ``reviewkit export --for-region``."""
    from reviewkit.review.bundle import export_bundle  # start-up: see render

    return _ready("The regional bundle", [Path(export_bundle(ws, ws.path / REPORT_FOLDER / "regional_bundle.zip"))],
                  base)


def plan(ws: Workspace, *, base: str) -> dict[str, Any]:
    """The action plan workbook, as ``reviewkit action-plan``."""
    from reviewkit.intake.actionplan import action_plan, write_plan  # start-up: see render

    folder = make_folder(ws.path / REPORT_FOLDER, exist_ok=True)
    return _ready("The action plan", [write_plan(action_plan(ws), folder / "action_plan.xlsx")], base)


# -- jobs: a render takes a minute, so the page asks how it is going ------------------------------

JOBS = ("draft", "final", "easy", "bundle", "plan")
UNEXPECTED = ("Something went wrong and nothing may have been written. If it happens again, tell whoever runs the "
              "review hub (technical detail: {kind}).")


def outcome(act: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What an action answers; a refusal is the library's sentence, an unexpected failure its type alone."""
    try:
        return act()
    except ReviewkitError as exc:  # e.g. the bundle before the review's dates are set
        return answer("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - the page gets a plain line; the log the frames, never a message
        log.error("unexpected %s in a host job\n%s", type(exc).__name__,
                  "".join(traceback.format_tb(exc.__traceback__)))
        return answer("error", UNEXPECTED.format(kind=type(exc).__name__), "Sorry, something went wrong")


def run(kind: str, ws: Workspace, formats: list[str], base: str, say: Callable[[str], None]) -> dict[str, Any]:
    """One job's action, by the name the page gives it."""
    if kind in ("draft", "final"):
        return render(ws, formats, final=kind == "final", base=base, say=say)
    if kind == "easy":
        return easy_read(ws, formats, base=base, say=say)
    return bundle(ws, base=base) if kind == "bundle" else plan(ws, base=base)


def in_process(kind: str, workspace: Path, formats: list[str], base: str) -> Callable[[Callable[[str], None]],
                                                                                       dict[str, Any]]:
    """The job as ``Jobs`` runs it: the action in a process of its own, its steps passed on as they come."""
    if kind not in JOBS:
        raise ValueError(kind)

    def work(say: Callable[[str], None]) -> dict[str, Any]:
        cmd = [sys.executable, "-m", "reviewkit.team.hostpage", kind, str(workspace), base, ",".join(formats)]
        result = None
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, encoding="utf-8",
                              env=dict(os.environ, PYTHONUNBUFFERED="1")) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    said = json.loads(line)
                except ValueError:
                    continue  # not ours (a library writing to stdout)
                if isinstance(said, dict) and "step" in said:
                    say(str(said["step"]))
                elif isinstance(said, dict) and isinstance(said.get("result"), dict):
                    result = said["result"]
        if result is None:
            return answer("error", f"The job stopped before it finished (exit code {proc.returncode}), so nothing "
                                   "may have been written. Try again; if it happens again, tell whoever runs the "
                                   "review hub.", "Not finished")
        return result
    return work


_MAIN_PID: list[int] = []
_STOPPED: list[int] = []
STOP_GRACE_SECONDS = 20.0  # a stopped render normally unwinds in 2-12 s on 2 cores


def _stop(signum: int, _frame: object) -> None:
    """Stopped: unwind, so the render ends the kernel and Chromium it started and removes its temp folders.

    Unwinding has a deadline (``_end_after``): a library that swallows the interrupt, or waits on a
    browser that no longer answers, must not keep the job and its Chromium running for ever.
    """
    if _MAIN_PID and os.getpid() != _MAIN_PID[0]:
        os._exit(128 + signum)  # a worker forked from the job inherited this: the job itself unwinds
    signal.signal(signum, signal.SIG_IGN)  # one stop is enough; a second would cut the clean-up short
    if not _STOPPED:
        _STOPPED.append(signum)
        threading.Thread(target=_end_after, args=(signum, STOP_GRACE_SECONDS), daemon=True).start()
    raise KeyboardInterrupt(signum)


def _end_after(signum: int, seconds: float) -> None:
    """The stop's deadline: kill whatever the job started that is still running, then end the job."""
    time.sleep(seconds)
    log.warning("the stopped job did not end within %.0f s: ending it and what it started", seconds)
    started = descendants(os.getpid())
    for proc in started:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(started, timeout=5)
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    """A job's process: one action; each step, then the answer, written as a JSON line for the service."""
    _MAIN_PID[:] = [os.getpid()]
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    die_with_parent()  # a service that dies takes its job with it (SIGTERM: see _stop)

    def tell(**what: Any) -> None:
        if _STOPPED and "step" in what:  # stopped, but the interrupt was swallowed: stop at the next step
            raise KeyboardInterrupt(_STOPPED[0])
        try:
            sys.stdout.write(json.dumps(what) + "\n")
            sys.stdout.flush()
        except OSError:  # the service is gone: nobody to tell
            pass

    kind, workspace, base, formats = argv
    try:
        result = outcome(lambda: run(kind, open_workspace(workspace), [f for f in formats.split(",") if f], base,
                                     lambda step: tell(step=step)))
    except KeyboardInterrupt:  # stopped (see _stop): what it started is ended, its temp folders removed
        return 1
    tell(result=result)
    return 0


@dataclass
class Job:
    """One action running in the background: its steps so far, then its answer."""

    ident: str
    steps: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        return {"job": self.ident, "steps": self.steps[-8:], "done": self.result is not None,
                "result": self.result}


class Jobs:
    """At most one job at a time for the review: two renders would write the same report folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: Job | None = None
        self._count = 0

    def start(self, work: Callable[[Callable[[str], None]], dict[str, Any]]) -> Job:
        """Run ``work(say)`` in a thread; refused while another job runs."""
        with self._lock:
            if self._running is not None:
                raise ConflictError("Another report or file is being made: wait for it to finish (its steps show "
                                    "under Report), then try again.")
            self._count += 1
            job = self._running = self._jobs[str(self._count)] = Job(str(self._count))
            for old in list(self._jobs)[:-20]:  # keep the last twenty answers
                del self._jobs[old]
        threading.Thread(target=self._run, args=(job, work), name=f"reviewkit-job-{job.ident}", daemon=True).start()
        return job

    def _run(self, job: Job, work: Callable[[Callable[[str], None]], dict[str, Any]]) -> None:
        result = outcome(lambda: work(job.steps.append))
        with self._lock:
            job.result = result
            self._running = None

    def get(self, ident: str) -> Job | None:
        with self._lock:
            return self._jobs.get(ident)


SCRIPT = resources.files("reviewkit.team").joinpath("hostpage.js").read_text(encoding="utf-8")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="[reviewkit-host-job %(levelname)s] %(message)s")
    raise SystemExit(main(sys.argv[1:]))
