"""The host console: everything the host PSW does in a review, as a page with no code.

Upload reviewers' workbooks and CSV files (all or nothing, every problem listed as
``reviewkit import`` lists it), watch progress, confirm a claim in the narrative that the
checker flags but the team knows is true (as ``reviewkit confirm-claim``), render a draft or the final report and
download its files, and write the de-identified regional bundle. JupyterLab, with the
notebooks, is one click away on the review hub. Each action calls the same library
function as the CLI; the page only collects the input and shows the outcome.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from reviewkit.core.atomic import make_folder
from reviewkit.core.errors import ImportFileError, ReviewkitError
from reviewkit.intake.actionplan import action_plan, write_plan
from reviewkit.intake.io import import_files
from reviewkit.review.bundle import export_bundle
from reviewkit.report.easyrender import render_easy_read
from reviewkit.review.claims import confirm_claim, open_claims
from reviewkit.report.render import render_report
from reviewkit.review.readiness import readiness
from reviewkit.review.session import current_session
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace, review_file_problem
from reviewkit.team.widgets.common import (
    FormBase,
    alert_html,
    message_html,
    now_hhmm,
    open_or_explain,
    resolve_workspace,
    text_html,
)
from reviewkit.team.widgets.progress import progress_html

FORMATS = [("Web page (HTML)", "html"), ("PDF", "pdf"), ("Word", "docx")]
MAX_UPLOAD_FILES = 50
# What each card says it is for: the same words here and on the hub's plain console (reviewkit.team.hostpage).
INTRO = {
    "import": ("Reviewers' filled-in workbooks, or CSV files in the README's formats. Everything in them is stored, "
               "or nothing: every problem is listed so it can be put right first."),
    "claim": ('Each claim the figures do not bear out is listed under "Before the final report". Correct it in its '
              "narrative file, or, if it is true, confirm it here with the reason; the team annex lists every "
              "confirmation."),
    "report": ("A draft marks unwritten sections; the final report is refused until the data is complete and every "
               "section is written."),
    "bundle": "Counts only, for the regional PSW network: no case references, names or free text.",
    "plan": ("A row per recommendation, with the finding and quality statement it answers and its starting figure, "
             "and a row per action with owner, by when and status; a target, RAG rating and update to fill in "
             "(Excel). Bring it to the next review."),
}


def host_actor(ws: Workspace) -> str:
    """Who the audit log names for the console's changes: the signed-in host, or the team's host."""
    session = current_session(ws.meta)
    if session is not None:
        return session.reviewer
    hosts = [m.name for m in ws.meta.team if m.role == "host"]
    return hosts[0] if hosts else "host"


def download_link(path: Path, label: str) -> str:
    """A link that saves the file from the page itself: no file server, works on the hub and on one computer."""
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<a class="rk-download" download="{html.escape(path.name)}" href="data:{kind};base64,{data}">'
            f"{html.escape(label)}</a>")


def save_uploads(files: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Write uploaded files to a folder under their own (base) names, for the importer to read."""
    out = []
    for f in files[:MAX_UPLOAD_FILES]:
        name = Path(str(f["name"])).name or "upload"
        target = folder / name
        target.write_bytes(bytes(f["content"]))
        out.append(target)
    return out


def readiness_html(ws: Workspace) -> str:
    """The readiness gap list, as `reviewkit status` prints it: each gap by location, never a typed value."""
    gaps = readiness(ws)
    if not gaps:
        return "<h3>Before the final report</h3><p>Ready for a final report: nothing is missing.</p>"
    items = "".join(f"<li>{html.escape(str(g))}</li>" for g in gaps[:200])
    more = f"<p>… and {len(gaps) - 200} more.</p>" if len(gaps) > 200 else ""
    return (f"<h3>Before the final report</h3><p>{len(gaps)} thing{'s' if len(gaps) != 1 else ''} still missing "
            f"or unfinished:</p><ul>{items}</ul>{more}")


def review_notice_html(ws: Workspace) -> str:
    """Why changes to review.yaml are not used yet, and where the problem is; or nothing."""
    problem = review_file_problem(ws.path)
    return alert_html("error", (
        "<strong>review.yaml has a problem, so changes to it are not used yet.</strong><br>"
        f"{html.escape(problem)}<br>Until it is fixed, sign-in and the forms use the team and cases as they were "
        "when review.yaml last read correctly. Fix it in a text editor, then press Refresh.")) if problem else ""


def lab_link() -> str:
    """JupyterLab's address on the review hub, or '' on one computer (where the notebooks open in Jupyter)."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
    return f"{prefix}lab" if prefix else ""


class HostConsole(FormBase):
    """The host PSW's page: import, progress, report, regional bundle, action plan."""

    reload_label = "Refresh"

    def __init__(self, workspace: Workspace | str | Path, *, store: Store | None = None) -> None:
        ws = resolve_workspace(workspace)
        super().__init__(ws, actor=host_actor(ws), store=store)
        g = self.guard
        # import
        self.upload = w.FileUpload(accept=".csv,.xlsx", multiple=True, description="Choose files",
                                   layout=w.Layout(width="auto"))
        self.import_button = w.Button(description="Import the chosen files", button_style="primary",
                                      layout=w.Layout(width="auto"))
        self.import_message = text_html("")
        imports = w.VBox([text_html(f"<h3>Import workbooks and CSV files</h3><p>{html.escape(INTRO['import'])}</p>"),
                          w.HBox([self.upload, self.import_button]), self.import_message])
        imports.add_class("rk-card")
        # progress
        self.tables = text_html("")
        self.refresh_button = w.Button(description="Refresh", tooltip="Read the latest ratings from the review store",
                                       layout=w.Layout(width="auto"))
        progress = w.VBox([text_html("<h3>Progress</h3>"), self.refresh_button, self.tables])
        progress.add_class("rk-card")
        # claims in the narrative the figures do not bear out
        self.claims = w.Dropdown(options=[], description="Claim", layout=w.Layout(width="auto"))
        self.claim_reason = w.Textarea(placeholder="Why the claim is true although the figures seem to contradict it",
                                       description="Reason", layout=w.Layout(width="auto"))
        self.confirm_button = w.Button(description="Confirm the claim as true", layout=w.Layout(width="auto"))
        self.claim_message = text_html("")
        claims = w.VBox([text_html(f"<h3>Claims in the narrative</h3><p>{html.escape(INTRO['claim'])}</p>"),
                         self.claims, self.claim_reason, self.confirm_button, self.claim_message])
        claims.add_class("rk-card")
        # report
        self.formats = {fmt: w.Checkbox(description=label, value=fmt == "html", indent=False,
                                        layout=w.Layout(width="auto")) for label, fmt in FORMATS}
        self.draft_button = w.Button(description="Render a draft report", button_style="primary",
                                     layout=w.Layout(width="auto"))
        self.final_button = w.Button(description="Render the final report", layout=w.Layout(width="auto"))
        self.easy_button = w.Button(description="Render the Easy Read summary", layout=w.Layout(width="auto"),
                                    tooltip="From narrative/easy_read.md (drafted the first time), with the "
                                            "'What you told us' letter template")
        self.report_progress = text_html("")
        self.report_files = text_html("")
        report = w.VBox([text_html(f"<h3>Report</h3><p>{html.escape(INTRO['report'])}</p>"),
                         w.HBox(list(self.formats.values())),
                         w.HBox([self.draft_button, self.final_button, self.easy_button]),
                         self.report_progress, self.report_files])
        report.add_class("rk-card")
        # regional bundle
        self.bundle_button = w.Button(description="Write the regional bundle", layout=w.Layout(width="auto"))
        self.bundle_files = text_html("")
        bundle = w.VBox([text_html(f"<h3>Regional bundle</h3><p>{html.escape(INTRO['bundle'])}</p>"),
                         self.bundle_button, self.bundle_files])
        bundle.add_class("rk-card")
        # action plan
        self.plan_button = w.Button(description="Write the action plan", layout=w.Layout(width="auto"))
        self.plan_files = text_html("")
        plan = w.VBox([text_html(f"<h3>Action plan</h3><p>{html.escape(INTRO['plan'])}</p>"),
                       self.plan_button, self.plan_files])
        plan.add_class("rk-card")
        lab = lab_link()
        lab_html = (f'<p><a href="{html.escape(lab)}" target="_blank" rel="noopener">Open JupyterLab</a> for the '
                    "notebooks and the workspace files.</p>" if lab else "")

        self.upload.observe(g(lambda _c: self._say_import("", "")), names="value")
        self.import_button.on_click(g(lambda _b: self.import_uploads()))
        self.refresh_button.on_click(g(lambda _b: self.reload()))
        self.confirm_button.on_click(g(lambda _b: self.confirm_claim()))
        self.draft_button.on_click(g(lambda _b: self.render(final=False)))
        self.final_button.on_click(g(lambda _b: self.render(final=True)))
        self.easy_button.on_click(g(lambda _b: self.render_easy_read()))
        self.bundle_button.on_click(g(lambda _b: self.write_bundle()))
        self.plan_button.on_click(g(lambda _b: self.write_action_plan()))
        sub = f"{ws.meta.council} · {ws.meta.theme}. Signed in as {self.actor}."
        self.review_notice = text_html("")
        self.set_view("Host console", sub, self.top_bar(text_html(lab_html), reload=False), self.review_notice, imports,
                      progress, claims, report, bundle, plan)
        self.reload()

    def reload(self) -> None:
        """Read the store again: progress tables, then what stands between the review and a final report."""
        self.review_notice.value = review_notice_html(self.ws)
        self.tables.value = progress_html(self.ws, self.store) + readiness_html(self.ws)
        with self.quiet():
            self.claims.options = [(str(c), (c.file, c.line)) for c in open_claims(self.ws)]
            self.claims.index = 0 if self.claims.options else None
        self.confirm_button.disabled = not self.claims.options
        self.set_status(f"Updated {now_hhmm()}")

    def confirm_claim(self) -> None:
        """Confirm the chosen claim with the reason typed (kept in review.yaml), then list the rest."""
        if self.claims.value is None:
            self.claim_message.value = message_html("warn", "No claim is waiting for a confirmation.")
            return
        file, line = self.claims.value
        try:
            done = confirm_claim(self.ws, file, line, self.claim_reason.value)
        except ReviewkitError as exc:
            self.claim_message.value = message_html("error", str(exc))
            return
        self.claim_reason.value = ""
        self.claim_message.value = message_html("ok", f"Confirmed as true: {done[0]}")
        self.reload()

    # -- import -------------------------------------------------------------------------------
    def _say_import(self, kind: str, text: str) -> None:
        self.import_message.value = message_html(kind, text)

    def import_uploads(self) -> None:
        """Import every chosen file at once: all of it, or nothing with every problem listed."""
        files = list(self.upload.value)
        if not files:
            self._say_import("warn", "Choose one or more files first.")
            return
        folder = Path(tempfile.mkdtemp(prefix="reviewkit-upload-"))
        try:
            paths = save_uploads(files, folder)
            summaries = import_files(self.ws, paths, actor=self.actor)
        except ImportFileError as exc:
            items = "".join(f"<li>{html.escape(str(p))}</li>" for p in exc.problems)
            self.import_message.value = alert_html(
                "error", f"<strong>Nothing was imported: {len(exc.problems)} problem(s) found.</strong><ul>{items}</ul>")
            self.not_saved("import")
            return
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        lines = [f"{kind}: {s.added} added, {s.changed} changed, {s.unchanged} unchanged" for kind, s in summaries.items()]
        with self.quiet():  # emptying the chooser must not clear the message below
            self.upload.value = ()
        self._say_import("ok", f"Imported {len(paths)} file(s). " + "; ".join(lines) + ".")
        self.saved("import")
        self.reload()

    # -- report and bundle --------------------------------------------------------------------------
    def _formats(self) -> list[str]:
        return [fmt for fmt, box in self.formats.items() if box.value] or ["html"]

    def _progress(self) -> Callable[[str], None]:
        steps: list[str] = []

        def say(message: str) -> None:
            steps.append(message)
            body = "".join(f"<li>{html.escape(s)}</li>" for s in steps[-8:])
            self.report_progress.value = f'<div class="rk-muted" role="status"><ul>{body}</ul></div>'
        return say

    def render(self, *, final: bool) -> None:
        """Render the report into the workspace's report folder and offer its files for download."""
        kind = "final report" if final else "draft report"
        self.report_files.value = ""
        for b in (self.draft_button, self.final_button):
            b.disabled = True
        try:
            result = render_report(self.ws.path, self.ws.path / "report", self._formats(), final=final,
                                   progress=self._progress())
        except ReviewkitError as exc:
            self.report_files.value = message_html("error", f"The {kind} was not rendered. {exc}")
            return
        finally:
            for b in (self.draft_button, self.final_button):
                b.disabled = False
        links = " · ".join(download_link(Path(p), f"Download {Path(p).name}") for p in result.values())
        self.report_files.value = alert_html("ok", f"The {html.escape(kind)} is ready: {links}")

    def render_easy_read(self) -> None:
        """Draft (once) and render the Easy Read summary and the letter template, and offer their files."""
        self.report_files.value = ""
        self.easy_button.disabled = True
        try:
            result = render_easy_read(self.ws.path, self.ws.path / "report", self._formats(),
                                      progress=self._progress())
        except ReviewkitError as exc:
            self.report_files.value = message_html("error", f"The Easy Read summary was not rendered. {exc}")
            return
        finally:
            self.easy_button.disabled = False
        links = " · ".join(download_link(Path(p), f"Download {Path(p).name}")
                           for files in result.files.values() for p in files.values())
        drafted = ("<br>Drafted for you to edit: " + ", ".join(html.escape(f"narrative/{p.name}")
                                                               for p in result.drafted) if result.drafted else "")
        self.report_files.value = alert_html("ok", f"The Easy Read summary is ready: {links}{drafted}")

    def write_bundle(self) -> None:
        out = export_bundle(self.ws, self.ws.path / "report" / "regional_bundle.zip")
        self.bundle_files.value = alert_html("ok", "The regional bundle is ready: "
                                                   + download_link(Path(out), f"Download {Path(out).name}"))

    def write_action_plan(self) -> None:
        folder = make_folder(self.ws.path / "report", exist_ok=True)
        out = write_plan(action_plan(self.ws), folder / "action_plan.xlsx")
        self.plan_files.value = alert_html("ok", "The action plan is ready: "
                                                 + download_link(out, f"Download {out.name}"))


def host_console(workspace: Workspace | str | Path) -> HostConsole | w.VBox:
    """The notebook's entry point: the console, or a plain-English panel saying why it cannot open."""
    return open_or_explain(lambda: HostConsole(workspace), title="The host console cannot open")
