"""The reviewkit command line: the only module that parses argv, prints or exits.

Each command parses its arguments, calls the library and prints what happened. Exit codes:
0 success, 1 a user error (a clear message, no traceback), 2 a usage error.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ImportFileError, ReviewkitError

if TYPE_CHECKING:  # type hints only: each command imports what it needs when it runs
    from .workspace import Workspace

Handler = Callable[[argparse.Namespace], int]


def _say(message: str) -> None:
    print(message, flush=True)


def _progress(message: str) -> None:
    """Progress lines for long operations go to stderr so stdout stays clean."""
    print(f"  … {message}", file=sys.stderr, flush=True)


class _Stopped(KeyboardInterrupt):
    """The command was asked to stop (SIGTERM, SIGHUP): unwind so temporary folders are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: object) -> None:
    from .report import end_child_processes

    signal.signal(signum, signal.SIG_IGN)  # one stop is enough; a second would cut the clean-up short
    logging.disable(logging.CRITICAL)  # threads still waiting on the processes ended here may log it
    end_child_processes()
    raise _Stopped(signum)


def _stop_on_signals() -> dict[int, Any]:
    """Stop cleanly on SIGTERM and SIGHUP; returns the handlers replaced, to put back afterwards."""
    replaced: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return replaced
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            replaced[signum] = signal.signal(signum, _stop)
    return replaced


class _NoteHandler(logging.Handler):
    """What the library reports through logging (a workspace made private, say), as a line on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr, flush=True)


def _show_library_notes() -> None:
    log = logging.getLogger("reviewkit")
    if not any(isinstance(h, _NoteHandler) for h in log.handlers):
        log.addHandler(_NoteHandler(logging.WARNING))


def _actor(args: argparse.Namespace) -> str:
    """Who is acting, for the audit log: --as, else the login name."""
    if getattr(args, "as_", None):
        return str(args.as_)
    try:
        return getpass.getuser()
    except Exception:  # no login name (e.g. a container): still record something honest
        return "unknown"


def _whole(value: object) -> int | None:
    """A count from a table cell, or None when the cell is empty (None, NaN, NA)."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


# -- commands ---------------------------------------------------------------------------------
def cmd_new(args: argparse.Namespace) -> int:
    from .workspace import create_workspace

    previous = None
    if args.previous:
        from .actionplan import load_previous

        previous = load_previous(args.previous)  # read first: a bad plan leaves no half-made workspace
        previous.check_council(args.council)
    ws = create_workspace(args.workspace, council=args.council, theme=args.theme, tool=args.tool,
                          reviewers=args.reviewer or [], host=args.host, review_questions=args.question or [])
    if previous is not None:
        from .actionplan import apply_previous

        apply_previous(ws, previous)
    _say(f"Created review workspace {ws.path}")
    if previous is not None:
        updates = sum(1 for r in previous.recommendations if r.update)
        _say(f"  previous review: {len(previous.recommendations)} recommendation(s), {updates} with an update"
             + ("; its figures kept for the comparison with this round" if previous.figures else ""))
    _say(f"  council: {ws.meta.council}; theme: {ws.meta.theme}")
    _say(f"  audit tool: {ws.tool.id} version {ws.tool.version} ({len(ws.tool.questions)} questions)")
    _say(f"  team: {', '.join(ws.meta.reviewers) or 'none yet'}")
    _say(f"Next: edit {ws.path / 'review.yaml'} to add councils, dates and the case allocation,")
    _say(f"then send each reviewer a workbook: reviewkit workbook {ws.path} --reviewer NAME --out NAME.xlsx")
    return 0


def cmd_action_plan(args: argparse.Namespace) -> int:
    from .actionplan import action_plan, write_plan
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    plan = action_plan(ws)
    out = write_plan(plan, args.out)
    _say(f"Wrote the action plan ({len(plan.rows)} recommendation(s)) to {out}")
    if out.suffix.lower() in (".xlsx", ".docx"):
        _say("Fill in owner, by when, measure of success, status and update; at the next review:")
        _say(f'  reviewkit new NEW_FOLDER --council "{ws.meta.council}" --theme "…" --previous {out}')
    return 0


def cmd_previous(args: argparse.Namespace) -> int:
    from .actionplan import apply_previous, load_previous
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    previous = load_previous(args.sources, ws.private_names())
    apply_previous(ws, previous)
    updates = sum(1 for r in previous.recommendations if r.update)
    _say(f"Previous review recorded in {ws.path / 'review.yaml'}: {len(previous.recommendations)} "
         f"recommendation(s), {updates} with an update"
         + ("; its figures kept for the comparison with this round" if previous.figures else ""))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .io import import_files
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    summaries = import_files(ws, args.files, actor=_actor(args), confirm_warnings=args.confirm_warnings,
                             progress=_progress)
    total = {"added": 0, "changed": 0, "unchanged": 0}
    for kind, s in summaries.items():
        _say(f"{kind}: {s.added} added, {s.changed} changed, {s.unchanged} unchanged")
        total["added"] += s.added
        total["changed"] += s.changed
        total["unchanged"] += s.unchanged
    _say(f"Imported {len(args.files)} file(s) into {ws.path}: {total['added']} added, "
         f"{total['changed']} changed, {total['unchanged']} unchanged.")
    if summaries.warnings:
        n = len(summaries.warnings)
        _say(f"Warning: {n} rating{'s' if n != 1 else ''} of Requires Improvement or Inadequate "
             f"{'have' if n != 1 else 'has'} no evidence note (imported; ask the reviewer for the note):")
        for problem in summaries.warnings:
            _say(f"  {problem}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .io import export
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    if args.for_region:
        from .regional import export_bundle

        from .readiness import readiness

        out = export_bundle(ws, args.out, suppress_below=args.suppress_below)
        _say(f"Wrote the regional bundle {out} (counts only: no case ids, names or free text).")
        data_gaps = [g for g in readiness(ws, identifiers=[]) if g.kind not in ("narrative", "identifiers")]
        if data_gaps:
            _say(f"Warning: the review's ratings are not complete ({len(data_gaps)} gap(s)), so the region "
                 f"would compare figures that may still change. List them with: reviewkit status {args.workspace}")
        return 0
    out = export(ws, args.out, what=args.what)
    _say(f"Wrote {args.what} to {out}")
    return 0


def cmd_workbook(args: argparse.Namespace) -> int:
    from .workbook import write_workbook
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    out = write_workbook(ws, args.reviewer, args.out)
    cases = ws.meta.cases_for(args.reviewer)
    _say(f"Wrote the audit workbook for {args.reviewer} ({len(cases)} case(s)) to {out}")
    _say(f"When it is filled in: reviewkit import {ws.path} {out}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    from .progress import completeness, disagreements, summary_lines

    with ws.store() as store:
        table = completeness(ws, store)
        moderation = disagreements(ws, store)
    _say(f"Review of {ws.meta.council}: {ws.meta.theme}")
    for line in summary_lines(table):
        _say(line)
    if len(moderation):
        _say("")
        _say(f"Moderation: {len(moderation)} question(s) rated differently by the reviewers of the same case:")
        for row in moderation.itertuples():
            ratings = " · ".join(f"{who}: {level}" for who, level in row.ratings.items())
            steps = _whole(row.steps)
            apart = f" ({steps} level{'s' if steps != 1 else ''} apart)" if steps is not None else ""
            _say(f"  {row.case_id} {row.question} {row.title} — {ratings}{apart}")
    _say("")
    for line in readiness_lines(ws):
        _say(line)
    return 0


def readiness_lines(ws: Workspace) -> list[str]:
    """The gaps before a final report, as `status` prints them."""
    from .readiness import readiness

    gaps = readiness(ws)
    if not gaps:
        return ["Ready for a final report: nothing is missing (reviewkit report WORKSPACE --final)."]
    n = len(gaps)
    return [f"Not ready for a final report: {n} thing{'s' if n != 1 else ''} still missing or unfinished:",
            *(f"  {gap}" for gap in gaps)]


def cmd_check(args: argparse.Namespace) -> int:
    from .redaction import PAGE, confirmable_words, outside_links, page_findings, scan_workspace
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    found = scan_workspace(ws) + page_findings(ws)
    links = outside_links(ws)
    if links:
        _say(f"The narrative links to {len(links)} outside address(es); each becomes a live link in the "
             "HTML, PDF and Word report. Check each is meant to be published:")
        for link in links:
            _say(f"  {link}")
    if args.show_words:
        words = confirmable_words(ws)
        _say(f"{len(words)} word(s) the report would print that are neither ordinary English nor declared "
             "(shown here only, on request):" if words else "No unconfirmed words.")
        for word in words:
            _say(f"  {word}")
    if not found:
        _say(f"No personal identifiers found in {ws.path}.")
        return 0
    blocks = sum(1 for f in found if f.level in ("block", PAGE))
    _say(f"Found {len(found)} possible identifier(s) ({blocks} that must be removed or confirmed), by location:")
    for loc in found:
        _say(f"  {loc}{'  [published in the report]' if loc.published and loc.level != PAGE else ''}")
    _say(f"Edit them, or replace identifiers with placeholders: reviewkit redact {ws.path}")
    if any(f.level == PAGE for f in found):
        _say(f"A word that is not a person's name (a place, team or product) is confirmed once: see them with "
             f"reviewkit check {ws.path} --show-words, then reviewkit confirm {ws.path} WORD [WORD ...]; "
             "places, teams and services can also go in review.yaml's glossary.")
    return 1 if blocks else 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    added = ws.confirm_words(args.words)
    _say(f"Confirmed {added} word(s) as not a person's name (kept in the workspace's private folder); "
         f"{len(args.words) - added} already confirmed." if added != len(args.words) else
         f"Confirmed {added} word(s) as not a person's name (kept in the workspace's private folder).")
    return 0


def cmd_redact(args: argparse.Namespace) -> int:
    from .redaction import redact_workspace, scan_workspace
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    summary = redact_workspace(ws, actor=_actor(args))
    if not summary.total:
        _say("Nothing to redact.")
    for where, n in summary.changed.items():
        _say(f"Redacted {n} piece(s) of text in {where}.")
    left = scan_workspace(open_workspace(ws.path))
    _say(f"{len(left)} finding(s) left.")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from .sample import build_sample_workspace

    ws = build_sample_workspace(args.workspace, progress=_progress)
    _say(f"Built the sample review workspace {ws.path} (wholly fictional: {ws.meta.council}).")
    _say(f"Render its report: reviewkit report {ws.path} --to html,pdf,docx --out {ws.path / 'report'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import open_in_browser, plan, run

    p = plan(args.workspace, args.reviewer or "", form=args.form, port=args.port)

    def ready(url: str) -> None:
        opened = not args.no_browser and open_in_browser(url)
        _say(f"The {args.form} form is ready{' in your web browser' if opened else ''}. "
             "Its address (this computer only):")
        _say(f"  {url}")
        _say("Keep this window open while you work; press Ctrl+C here to stop.")

    return run(p, on_ready=ready)


def cmd_hub(args: argparse.Namespace) -> int:
    from . import hub

    entra = (hub.entra_from(args.entra_tenant or "", args.entra_client_id or "", args.public_url or "")
             if args.sign_in == "entra" else None)
    port = args.port if args.port or not args.write_config else hub.DEFAULT_PORT  # IT's config: a fixed port
    p = hub.plan(args.workspace, port=port, ip=args.ip, sign_in=args.sign_in, entra=entra, check_port=not args.write_config)
    if args.sign_in == "passwords":
        _say_waiting(args.workspace)
    if args.write_config:
        out = hub.write_config(p, args.write_config)
        _say(f"Wrote {out} (readable only by you: it may hold a client secret).")
        _say(f"Start the hub with: jupyterhub -f {out}")
        return 0

    def ready(url: str) -> None:
        _say(f"The review hub is running for {p.workspace}. Team members sign in at:")
        _say(f"  {url}")
        _say("Keep this window open; press Ctrl+C here to stop the hub and everyone's forms.")

    return hub.run(p, on_ready=ready)


def _say_waiting(workspace: str) -> None:
    """How many logins still wait for their first sign-in, and how to make their codes."""
    from .hubcodes import waiting

    w = waiting(workspace)
    if not w.count:
        return
    _say(f"{w.count} of {w.team} login(s) on the team have not signed in yet; each needs a first sign-in code "
         f"from the host ({len(w.with_code)} have one that still works).")
    if w.need_codes:
        _say(f"Make codes for the {len(w.need_codes)} without one (codes are shown once, to you only): "
             f"reviewkit hub-codes {_quoted(workspace)}")


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(str(text))


def cmd_hub_codes(args: argparse.Namespace) -> int:
    from .hubcodes import make_codes, waiting
    from .workspace import open_workspace

    ws = open_workspace(args.workspace)
    made, expires = make_codes(ws, args.login, days=args.days)
    if not made:
        _say("Every login on the team has set its password: no codes needed.")
        _say(f"To reset one person's password: reviewkit hub-codes {_quoted(args.workspace)} --login LOGIN")
        return 0
    names = {m.login: m.name for m in ws.meta.team if m.login}
    until = expires.astimezone().strftime("%d %B %Y, %H:%M")
    if args.login:
        _say(f"{next(iter(made))}'s password is removed (if it had one); they set a new one with this code.")
    _say(f"First sign-in codes for {ws.meta.council} (each works once, until {until}):")
    width = max(len(x) for x in made)
    for login, code in made.items():
        _say(f"  {login:<{width}}  {code}   {names.get(login, '')}")
    _say("Give each person their own code, by phone or in person (not in the email that gives them the "
         "address). They sign in with their login and the code, and choose a password of at least 10 characters.")
    _say("The codes are shown only now and kept nowhere; any earlier code for these logins no longer works.")
    w = waiting(ws)
    if w.count > len(made):
        _say(f"{w.count} login(s) in all still wait for their first sign-in.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .regional import render_comparison

    formats = [f for f in args.to.split(",") if f.strip()]
    out = render_comparison(args.sources, args.out, formats, pseudonymise=args.pseudonymise,
                            mapping=args.map, progress=_progress)
    _say(f"Compared {len(args.sources)} bundle(s){' (councils pseudonymised)' if args.pseudonymise else ''}; "
         f"wrote {', '.join(str(p) for p in out.values())}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import render_report

    formats = [f for f in args.to.split(",") if f.strip()]
    out_dir = Path(args.out) if args.out else Path(args.workspace) / "report"
    result = render_report(args.workspace, out_dir, formats, final=args.final, progress=_progress,
                           keep_notebook=args.keep_notebook, use_cache=not args.no_cache,
                           withhold_identifiers=args.withhold_identifiers)
    kind = "final report" if args.final else "draft report"
    reused = " (inputs unchanged: reused the last render)" if result.cached else ""
    _say(f"Wrote the {kind}{reused}: {', '.join(str(p) for p in result.values())}")
    if result.gaps:
        _say(f"It is marked DRAFT — DATA INCOMPLETE: {result.gaps} thing{'s are' if result.gaps != 1 else ' is'} "
             f"still missing before it can be final. List them with: reviewkit status {args.workspace}")
    if args.annex:
        from .annex import write_annex
        from .workspace import open_workspace

        annex = write_annex(open_workspace(args.workspace), out_dir)
        _say(f"Wrote the team annex (ratings by reviewer; for the team only, do not publish it): {annex}")
    if result.withheld:
        _say(f"NOT FOR PUBLICATION: {result.withheld} piece(s) of text held possible personal identifiers and "
             f"were withheld (the report is watermarked). Find them with: reviewkit check {args.workspace}")
    return 0


# -- parser -----------------------------------------------------------------------------------
def _command(sub: argparse._SubParsersAction, name: str, help_: str, example: str,
             handler: Handler) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=help_, epilog=f"example:\n  {example}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(handler=handler)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewkit",
        description="Run a regional peer practice review of adult social care.",
        epilog="example:\n  reviewkit new reviews/eastvale-2026 --council \"Eastvale Borough Council\" "
               "--theme \"Strengths-based practice\" --reviewer \"A. Visitor\" --host \"H. Host\"\n"
               "Run 'reviewkit COMMAND -h' for help on a command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"reviewkit {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _command(sub, "new", "Create a review workspace folder.",
                 'reviewkit new reviews/eastvale-2026 --council "Eastvale Borough Council" '
                 '--theme "Strengths-based practice" --tool strengths-based-practice '
                 '--reviewer "A. Visitor" --reviewer "B. Visitor" --reviewer "C. Visitor" --host "H. Host"',
                 cmd_new)
    p.add_argument("workspace", help="the new folder")
    p.add_argument("--council", required=True, help="the host council's name")
    p.add_argument("--theme", required=True, help="what the review looks at")
    p.add_argument("--tool", default="strengths-based-practice", help="audit tool id (default: %(default)s)")
    p.add_argument("--reviewer", action="append", metavar="NAME", help="a reviewer who rates cases (repeat)")
    p.add_argument("--host", metavar="NAME", help="the host PSW (also rates cases)")
    p.add_argument("--question", action="append", metavar="TEXT",
                   help="a review question the council asked (repeat); narrative/review_questions.md gets a "
                        "heading for each")
    p.add_argument("--previous", action="append", metavar="PLAN_OR_BUNDLE_OR_WORKSPACE",
                   help="the previous review: its filled-in action plan (.xlsx or .docx) for the recommendations and "
                        "updates, and/or its regional bundle (.zip) or workspace folder for its figures (repeat)")

    p = _command(sub, "previous", "Record the previous review in an existing workspace: its action plan's "
                 "recommendations and updates, and its figures for the comparison.",
                 "reviewkit previous reviews/eastvale-2030 eastvale-action-plan.xlsx bundles/eastvale-2026-10.zip",
                 cmd_previous)
    p.add_argument("workspace")
    p.add_argument("sources", nargs="+", metavar="PLAN_OR_BUNDLE_OR_WORKSPACE",
                   help="the filled-in action plan (.xlsx or .docx), and/or the previous round's regional bundle (.zip) "
                        "or workspace folder")

    p = _command(sub, "action-plan", "Write the review's recommendations as an action plan to fill in, in Excel "
                 "(.xlsx) or Word (.docx).",
                 "reviewkit action-plan reviews/eastvale-2026 --out eastvale-action-plan.xlsx", cmd_action_plan)
    p.add_argument("workspace")
    p.add_argument("--out", required=True, help="the .xlsx (with data validation) or .docx file to write")

    p = _command(sub, "import", "Import ratings, case flags, meetings, conversations or notes (CSV or XLSX).",
                 "reviewkit import reviews/eastvale-2026 ratings_from_a.xlsx ratings_from_b.csv", cmd_import)
    p.add_argument("workspace")
    p.add_argument("files", nargs="+", help="CSV or XLSX files (see the README's data contracts)")
    p.add_argument("--confirm-warnings", action="store_true",
                   help="store text that screening flags as a POSSIBLE identifier (after you have checked it)")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who is importing, for the audit log")

    p = _command(sub, "export", "Export the review's data (CSV or XLSX), or a regional bundle.",
                 "reviewkit export reviews/eastvale-2026 --out ratings.xlsx", cmd_export)
    p.add_argument("workspace")
    p.add_argument("--out", required=True, help="output file (.csv or .xlsx; .zip with --for-region)")
    p.add_argument("--what", default="ratings", choices=["ratings", "flags", "meetings", "conversations", "notes", "all"],
                   help="what to export (default: %(default)s; 'all' needs .xlsx)")
    p.add_argument("--for-region", action="store_true", help="write a de-identified regional bundle (counts only)")
    p.add_argument("--suppress-below", type=int, default=None, metavar="N",
                   help="with --for-region: hide counts below N (with secondary suppression)")

    p = _command(sub, "workbook", "Write a blank offline audit workbook for one reviewer.",
                 'reviewkit workbook reviews/eastvale-2026 --reviewer "A. Visitor" --out a.xlsx', cmd_workbook)
    p.add_argument("workspace")
    p.add_argument("--reviewer", required=True)
    p.add_argument("--out", required=True, help="the .xlsx file to write")

    p = _command(sub, "sample", "Build the fictional sample review, to try the kit.",
                 "reviewkit sample demo/eastvale-2026", cmd_sample)
    p.add_argument("workspace", help="the new folder")

    p = _command(sub, "check", "List possible personal identifiers in the review, by location (never by value).",
                 "reviewkit check reviews/eastvale-2026", cmd_check)
    p.add_argument("workspace")
    p.add_argument("--show-words", action="store_true",
                   help="also print the words the report would publish that are neither English nor declared, to "
                        "confirm with reviewkit confirm (they may be names: shown only on this screen)")

    p = _command(sub, "confirm", "Confirm words the publish gate lists as possible names are not names (a place, a "
                 "team, a product), so a final report may print them.",
                 "reviewkit confirm reviews/eastvale-2026 Brightwater Ashcombe", cmd_confirm)
    p.add_argument("workspace")
    p.add_argument("words", nargs="+", metavar="WORD", help="a word as check --show-words lists it")

    p = _command(sub, "redact", "Replace personal identifiers with placeholders such as [NHS NUMBER] and [PERSON 1].",
                 "reviewkit redact reviews/eastvale-2026", cmd_redact)
    p.add_argument("workspace")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who is redacting, for the audit log")

    p = _command(sub, "status", "Show what each reviewer has rated, moderation differences, and everything a "
                                "final report still needs.",
                 "reviewkit status reviews/eastvale-2026", cmd_status)
    p.add_argument("workspace")

    p = _command(sub, "serve", "Open an entry form as a web page with no code, on this computer only.",
                 'reviewkit serve reviews/eastvale-2026 --reviewer "A. Visitor" --form rate', cmd_serve)
    p.add_argument("workspace")
    p.add_argument("--reviewer", metavar="NAME",
                   help="your name as review.yaml spells it (not needed for progress or host)")
    p.add_argument("--form", default="rate", choices=["rate", "meeting", "conversation", "progress", "host"],
                   help="which form (default: %(default)s)")
    p.add_argument("--port", type=int, default=None, metavar="N", help="port to serve on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the address; do not open a browser")

    p = _command(sub, "hub", "Run the review for a team: JupyterHub, each member signing in with their own login.",
                 "reviewkit hub reviews/eastvale-2026 --ip 0.0.0.0 --port 8000", cmd_hub)
    p.add_argument("workspace")
    p.add_argument("--port", type=int, default=None, metavar="N", help="port to serve on (default: a free one)")
    p.add_argument("--ip", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default: %(default)s, this computer only; 0.0.0.0 for the network)")
    p.add_argument("--write-config", metavar="DIR", default=None,
                   help="write jupyterhub_config.py (mode 0600) into DIR for IT to run, instead of starting the hub")
    p.add_argument("--sign-in", default="passwords", choices=["passwords", "entra"],
                   help="passwords: each member sets one at first sign-in (offline); entra: Microsoft Entra ID "
                        "(default: %(default)s)")
    p.add_argument("--entra-tenant", metavar="ID", help="with --sign-in entra: the directory (tenant) ID")
    p.add_argument("--entra-client-id", metavar="ID", help="with --sign-in entra: the application (client) ID")
    p.add_argument("--public-url", metavar="URL", help="with --sign-in entra: the address people open, "
                   "e.g. https://review.eastvale.gov.uk (the client secret goes in REVIEWKIT_ENTRA_CLIENT_SECRET)")

    p = _command(sub, "hub-codes", "Make one-time first sign-in codes for the hub's logins that have no password "
                                   "yet (or reset one person's password); shown once, never saved.",
                 "reviewkit hub-codes reviews/eastvale-2026", cmd_hub_codes)
    p.add_argument("workspace")
    p.add_argument("--login", metavar="LOGIN", default=None,
                   help="only this login (as in review.yaml); its password, if it has one, is removed: a reset")
    p.add_argument("--days", type=int, default=14, metavar="N", help="how long the codes work (default: %(default)s)")

    p = _command(sub, "compare", "Compare councils and review rounds from regional bundles; render the comparison.",
                 "reviewkit compare bundles/*.zip --out regional/ --to html,pdf --pseudonymise", cmd_compare)
    p.add_argument("sources", nargs="+", metavar="BUNDLE_OR_WORKSPACE",
                   help="regional bundles (.zip from 'export --for-region') or review workspaces")
    p.add_argument("--out", required=True, help="folder for regional_comparison.html (and .pdf, .docx)")
    p.add_argument("--to", default="html", help="formats, comma-separated: html, pdf, docx (default: %(default)s)")
    p.add_argument("--pseudonymise", action="store_true", help="show councils as Council A, B, … (for publication)")
    p.add_argument("--map", metavar="MAPPING.yaml", default=None,
                   help="question mapping, to pool reviews made with different audit tools or versions")

    p = _command(sub, "report", "Render the review's report as HTML, PDF (Chromium) and Word (pandoc).",
                 "reviewkit report reviews/eastvale-2026 --to html,pdf,docx --out reviews/eastvale-2026/report",
                 cmd_report)
    p.add_argument("workspace")
    p.add_argument("--to", default="html", help="formats, comma-separated: html, pdf, docx (default: %(default)s)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default: WORKSPACE/report)")
    stage = p.add_mutually_exclusive_group()
    stage.add_argument("--final", action="store_true",
                       help="refuse while anything is missing (as 'status' lists it) and leave out the DRAFT "
                            "markings")
    stage.add_argument("--draft", action="store_true",
                       help="mark the report DRAFT, with a placeholder for each unwritten section (the default)")
    p.add_argument("--keep-notebook", action="store_true",
                   help="also write the executed notebook (report.ipynb), without papermill's metadata")
    p.add_argument("--no-cache", action="store_true", help="render again even if nothing has changed")
    p.add_argument("--annex", action="store_true",
                   help="also write report-annex.html: ratings by reviewer under random labels, for the "
                        "review team only (never part of the published report)")
    p.add_argument("--withhold-identifiers", action="store_true",
                   help="while text to be published holds a personal identifier, render a DRAFT watermarked "
                        "'not for publication' with that text redacted, instead of refusing (never with --final)")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


class _PlainNotes(logging.Handler):
    """Notices that a workspace was upgraded for this version, as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"note: {record.getMessage()}", file=sys.stderr, flush=True)


def _show_notices() -> None:
    logger = logging.getLogger("reviewkit.migrations")
    if not any(isinstance(h, _PlainNotes) for h in logger.handlers):
        logger.addHandler(_PlainNotes(logging.INFO))
        logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_notices()
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    _show_library_notes()
    replaced = _stop_on_signals()
    try:
        return int(args.handler(args))
    except ImportFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ReviewkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _Stopped as exc:
        logging.disable(logging.NOTSET)
        print(f"stopped ({signal.Signals(exc.signum).name}); nothing more was written", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stderr.close()
        return 0
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
