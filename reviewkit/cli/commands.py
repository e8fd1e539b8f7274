"""The commands of the command line: each takes its parsed arguments, calls the library and prints.

In: the parsed arguments of one command (``argparse.Namespace``). Out: lines on stdout
(progress on stderr) and an exit code; errors are raised as ``ReviewkitError`` for
``reviewkit.cli.run.main`` to print. Each command imports what it needs when it runs, so
``reviewkit --help`` stays quick.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reviewkit.cli import programme
from reviewkit.cli.common import _actor, _progress, _say, _say_redacted
from reviewkit.review.readiness import readiness

if TYPE_CHECKING:  # type hints only: each command imports what it needs when it runs
    from reviewkit.review.workspace import Workspace


def _whole(value: object) -> int | None:
    """A count from a table cell, or None when the cell is empty (None, NaN, NA)."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def cmd_new(args: argparse.Namespace) -> int:
    if args.in_house:
        return _new_programme(args)
    from reviewkit.review.workspace import create_workspace  # start-up: pandas

    if not args.theme:
        from reviewkit.core.errors import InvalidInputError  # start-up: only on this error

        raise InvalidInputError("a review needs --theme (what it looks at); or add --in-house for an in-house "
                                "audit programme")

    previous = None
    if args.previous:
        from reviewkit.intake.actionplan import load_previous  # start-up: pandas

        previous = load_previous(args.previous)  # read first: a bad plan leaves no half-made workspace
        previous.check_council(args.council)
    ws = create_workspace(args.workspace, council=args.council, theme=args.theme, tool=args.tool,
                          reviewers=args.reviewer or [], host=args.host, review_questions=args.question or [])
    if previous is not None:
        from reviewkit.intake.actionplan import apply_previous  # start-up: pandas

        apply_previous(ws, previous)
    _say(f"Created review workspace {ws.path}")
    if previous is not None:
        updates = sum(1 for r in previous.recommendations if r.update)
        _say(f"  previous review: {len(previous.recommendations)} recommendation(s), {updates} with an update"
             + ("; its figures kept for the comparison with this round" if previous.figures else ""))
    if previous is not None and previous.figures:
        _warn_other_tool(ws)
    _say(f"  council: {ws.meta.council}; theme: {ws.meta.theme}")
    _say(f"  audit tool: {ws.tool.id} version {ws.tool.version} ({len(ws.tool.questions)} questions)")
    _say(f"  team: {', '.join(ws.meta.reviewers) or 'none yet'}")
    _say(f"Next: edit {ws.path / 'review.yaml'} to add councils, dates and the case allocation,")
    _say(f"then send each reviewer a workbook: reviewkit workbook {ws.path} --reviewer NAME --out NAME.xlsx")
    return 0


def _new_programme(args: argparse.Namespace) -> int:
    from reviewkit.inhouse.programme import create_programme  # start-up: pandas

    p = create_programme(args.workspace, council=args.council, tool=args.tool, teams=args.team or [],
                         auditors=args.auditor or [], title=args.title)
    _say(f"Created in-house audit programme {p.path}")
    _say(f"  council: {p.council}; audit tool: {p.tool.id} version {p.tool.version}")
    _say(f"  {len(p.teams)} team(s), {len(p.auditors)} auditor(s)")
    _say(f"Next: edit {p.path / 'programme.yaml'} for themes and recorded changes, then import each month's audits:")
    _say(f"  reviewkit import {p.path} audits.xlsx   and   reviewkit tracking {p.path} --to html,pdf")
    return 0


def cmd_action_plan(args: argparse.Namespace) -> int:
    from reviewkit.intake.actionplan import action_plan, write_plan  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    plan = action_plan(ws)
    out = write_plan(plan, args.out)
    _say(f"Wrote the action plan ({len(plan.rows)} recommendation(s)) to {out}")
    if out.suffix.lower() in (".xlsx", ".docx"):
        _say("Fill in each action (what, owner, by when, status) and each recommendation's target, RAG, last "
             "updated and update; at the next review:")
        _say(f'  reviewkit new NEW_FOLDER --council "{ws.meta.council}" --theme "…" --previous {out}')
    return 0


def cmd_previous(args: argparse.Namespace) -> int:
    from reviewkit.intake.actionplan import apply_previous, load_previous  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    previous = load_previous(args.sources, ws.private_names())
    apply_previous(ws, previous)
    updates = sum(1 for r in previous.recommendations if r.update)
    _say(f"Previous review recorded in {ws.path / 'review.yaml'}: {len(previous.recommendations)} "
         f"recommendation(s), {updates} with an update"
         + ("; its figures kept for the comparison with this round" if previous.figures else ""))
    if previous.figures:
        _warn_other_tool(ws)
    return 0


def _warn_other_tool(ws: Workspace) -> None:
    """Say plainly when the previous round's audit tool differs, and which questions can be compared."""
    from reviewkit.figures.trend import tool_difference_warning  # start-up: pandas
    from reviewkit.review.bundleread import previous_round  # start-up: pandas

    prev = previous_round(ws.path)
    warning = tool_difference_warning(ws.tool, prev) if prev is not None else ""
    if warning:
        print(warning, file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    if (Path(args.workspace) / "programme.yaml").is_file():  # an in-house audit programme, not a review
        return programme.import_audits(args)
    from reviewkit.intake.io import import_files  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

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
    if programme.is_programme(args.workspace):
        return programme.export(args)
    from reviewkit.intake.io import export  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    if args.for_region:
        from reviewkit.review.bundle import export_bundle  # start-up: pandas

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
    if (Path(args.workspace) / "programme.yaml").is_file():  # an in-house audit programme, not a review
        from reviewkit.inhouse.programme import open_programme  # start-up: pandas
        from reviewkit.inhouse.workbook import write_audit_workbook  # start-up: openpyxl

        p = open_programme(args.workspace)
        out = write_audit_workbook(p, args.out)
        _say(f"Wrote the blank audit workbook to {out} (teams, auditors and ratings as drop-down lists)")
        _say(f"When it is filled in: reviewkit import {p.path} {out}")
        return 0
    if not args.reviewer:
        from reviewkit.core.errors import InvalidInputError  # start-up: only on this error

        raise InvalidInputError("give the reviewer whose cases the workbook holds: --reviewer NAME")
    from reviewkit.intake.workbook import write_workbook  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    out = write_workbook(ws, args.reviewer, args.out)
    cases = ws.meta.cases_for(args.reviewer)
    _say(f"Wrote the audit workbook for {args.reviewer} ({len(cases)} case(s)) to {out}")
    _say(f"When it is filled in: reviewkit import {ws.path} {out}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from reviewkit.review.calibration_view import show_lines, status_lines  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    actor = _actor(args)
    acted = False
    with ws.store() as store:
        for ref in args.record:
            added = store.add_calibration_record(actor, ref)
            _say(f"Calibration record {ref} {'named' if added else 'was already named'}.")
            acted = True
        if args.round is not None:
            number = store.start_calibration_round(actor, args.round)
            _say(f"Calibration round {number} is open: everyone rates the same records again "
                 f"(the calibration form and import now take round-{number} ratings).")
            acted = True
        if args.agree:
            ref, question, rating = args.agree
            store.set_agreed_rating(actor, ref, question, rating, args.note)
            _say(f"Agreed rating recorded for {ref} {question}.")
            acted = True
        elif args.note:
            _say("--note goes with --agree REF QUESTION RATING; nothing was recorded for it.")
        if args.open_cases is not None:
            store.open_cases(actor, args.open_cases)
            who = "every reviewer" if args.open_cases == "*" else args.open_cases
            _say(f"Case records opened for {who} before the calibration is finished.")
            acted = True
        if args.show:
            for line in show_lines(ws, store):
                _say(line)
        elif not acted or args.record:
            for line in status_lines(ws, store):
                _say(line)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    from reviewkit.review.progress import completeness, disagreements, summary_lines  # start-up: pandas

    from reviewkit.review.calibration_view import status_lines  # start-up: pandas

    with ws.store() as store:
        table = completeness(ws, store)
        moderation = disagreements(ws, store)
        calibration = status_lines(ws, store) if store.calibration_records() else []
    _say(f"Review of {ws.meta.council}: {ws.meta.theme}")
    for line in calibration:
        _say(line)
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
    for line in readiness_lines(ws, args.workspace):
        _say(line)
    return 0


def readiness_lines(ws: Workspace, typed: str | Path | None = None) -> list[str]:
    """The gaps before a final report, as `status` prints them; the command it suggests names the workspace."""
    gaps = readiness(ws)
    if not gaps:
        where = shlex.quote(str(typed if typed is not None else ws.path))
        return [f"Ready for a final report: nothing is missing (reviewkit report {where} --final)."]
    n = len(gaps)
    return [f"Not ready for a final report: {n} thing{'s' if n != 1 else ''} still missing or unfinished:",
            *(f"  {gap}" for gap in gaps)]


def cmd_check(args: argparse.Namespace) -> int:
    if programme.is_programme(args.workspace):
        return programme.check(args)
    from reviewkit.review.redaction import (  # start-up: pandas
        PAGE,
        confirmable_words,
        outside_links,
        page_findings,
        scan_workspace,
    )
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    claims_open = _say_claims(ws)
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
        return 1 if claims_open else 0
    blocks = sum(1 for f in found if f.level in ("block", PAGE))
    _say(f"Found {len(found)} possible identifier(s) ({blocks} that must be removed or confirmed), by location:")
    for loc in found:
        _say(f"  {loc}{'  [published in the report]' if loc.published and loc.level != PAGE else ''}")
    _say(f"Edit them, or replace identifiers with placeholders: reviewkit redact {ws.path}")
    if any(f.level == PAGE for f in found):
        _say(f"A word that is not a person's name (a place, team or product) is confirmed once: see them with "
             f"reviewkit check {ws.path} --show-words, then reviewkit confirm {ws.path} WORD [WORD ...]; "
             "places, teams and services can also go in review.yaml's glossary.")
    return 1 if blocks or claims_open else 0


def _say_claims(ws: Workspace) -> int:
    """Print the narrative's unknown fields and the claims its figures do not bear out; how many are open."""
    from reviewkit.review.claims import facts_of, field_problems, narrative_claims  # start-up: pandas

    facts = facts_of(ws)
    problems = field_problems(ws, facts)
    claims = narrative_claims(ws, facts)
    if problems:
        _say(f"{len(problems)} field(s) in the narrative are not fields of this review (the README lists them all):")
        for problem in problems:
            _say(f"  {problem}")
    still = [c for c in claims if not c.reason]
    if not claims:
        _say("The narrative's figures and comparisons agree with the review's data.")
    else:
        _say(f"{len(still)} claim(s) in the narrative the figures do not bear out"
             + (f" ({len(claims) - len(still)} more confirmed by the host)" if len(still) != len(claims) else "")
             + ":" if still else f"Every flagged claim ({len(claims)}) is confirmed by the host with a reason.")
        for c in still:
            _say(f"  {c}")
        if still:
            _say("Correct each in its file (write a figure as a field, e.g. {{ overall.outstanding_or_good }}, and "
                 "it stays true), or, if it is true, confirm it with a reason: reviewkit confirm-claim "
                 f"{_quoted(str(ws.path))} --file FILE --line N --reason \"why it is true\"")
    return len(still) + len(problems)


def cmd_confirm_claim(args: argparse.Namespace) -> int:
    from reviewkit.review.claims import confirm_claim  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    for c in confirm_claim(ws, args.file, args.line, args.reason):
        _say(f"Confirmed as true: {c}")
    _say(f"Kept in {ws.path / 'review.yaml'} (confirmed_claims) and listed in the team annex; a final report no "
         "longer waits for it. If the words change, the claim is checked again.")
    return 0


def cmd_concern(args: argparse.Namespace) -> int:
    from reviewkit.core.errors import InvalidInputError  # start-up: kept with the command that raises it
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    logging_one = any(v is not None for v in (args.what, args.raised_on, args.raised_with))
    if (logging_one or args.response is not None) and not args.case:
        raise InvalidInputError("say which case record with --case, e.g. --case C17")
    with ws.store() as store:
        if logging_one:
            if not (args.reviewer and args.what and args.raised_on and args.raised_with):
                raise InvalidInputError("to log a concern give --reviewer, --what, --raised-on and --raised-with")
            store.set_concern(_actor(args), args.case, args.reviewer, what=args.what, raised_on=args.raised_on,
                              raised_with=args.raised_with, confirm_warnings=args.confirm_warnings)
            _say(f"Logged the concern on case {args.case} raised by {args.reviewer}.")
        if args.response is not None:
            row = store.record_response(_actor(args), args.case, response=args.response, reviewer=args.reviewer,
                                        outcome=args.outcome, responded_on=args.date,
                                        confirm_warnings=args.confirm_warnings)
            _say(f"Recorded the council's response to the concern on case {args.case} (raised by {row['reviewer']} "
                 f"on {row['raised_on']}, response dated {row['responded_on']}).")
        elif args.outcome or args.date:
            raise InvalidInputError("--outcome and --date go with --response (the council's response)")
        concerns = store.concerns()
    if not len(concerns):
        _say("No concern about a person's safety is logged in this review.")
        return 0
    _say(f"{len(concerns)} concern(s) logged (what was written is private and not shown here):")
    for r in concerns.itertuples(index=False):
        state = (f"council responded {r.responded_on}" + (f" ({r.outcome})" if r.outcome else "")) if not r.open \
            else "open: no response from the council recorded yet"
        _say(f"  {r.case_id} ({r.reviewer}): raised {r.raised_on}; {state}")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    added = ws.confirm_words(args.words)
    _say(f"Confirmed {added} word(s) as not a person's name (kept in the workspace's private folder); "
         f"{len(args.words) - added} already confirmed." if added != len(args.words) else
         f"Confirmed {added} word(s) as not a person's name (kept in the workspace's private folder).")
    return 0


def cmd_redact(args: argparse.Namespace) -> int:
    if programme.is_programme(args.workspace):
        return programme.redact(args)
    from reviewkit.review.redaction import redact_workspace, scan_workspace  # start-up: pandas
    from reviewkit.review.workspace import open_workspace  # start-up: pandas

    ws = open_workspace(args.workspace)
    summary = redact_workspace(ws, actor=_actor(args))
    _say_redacted(summary, len(scan_workspace(open_workspace(ws.path))))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    if args.in_house:
        from reviewkit.inhouse.sample import build_sample_programme  # start-up: pandas

        p = build_sample_programme(args.workspace, progress=_progress)
        _say(f"Built the sample in-house audit programme {p.path} (wholly fictional: {p.council}).")
        _say(f"Render its tracking report: reviewkit tracking {p.path} --to html,pdf --by-team")
        return 0
    from reviewkit.intake.sample import build_sample_workspace  # start-up: pandas

    ws = build_sample_workspace(args.workspace, progress=_progress)
    _say(f"Built the sample review workspace {ws.path} (wholly fictional: {ws.meta.council}).")
    _say(f"Render its report: reviewkit report {ws.path} --to html,pdf,docx --out {ws.path / 'report'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from reviewkit.team.serve import open_in_browser, plan, run  # start-up: pandas

    p = plan(args.workspace, args.reviewer or "", form=args.form, port=args.port)

    def ready(url: str) -> None:
        opened = not args.no_browser and open_in_browser(url)
        _say(f"The {args.form} form is ready{' in your web browser' if opened else ''}. "
             "Its address (this computer only):")
        _say(f"  {url}")
        _say("Keep this window open while you work; press Ctrl+C here to stop.")

    return run(p, on_ready=ready)


def cmd_hub(args: argparse.Namespace) -> int:
    from reviewkit.team import hub  # start-up: pandas

    entra = (hub.entra_from(args.entra_tenant or "", args.entra_client_id or "", args.public_url or "")
             if args.sign_in == "entra" else None)
    port = args.port if args.port or not args.write_config else hub.DEFAULT_PORT  # IT's config: a fixed port
    p = hub.plan(args.workspace, port=port, ip=args.ip, sign_in=args.sign_in, entra=entra,
                 check_port=not args.write_config, hub_port=args.hub_port, proxy_api_port=args.proxy_api_port,
                 forms_port=args.forms_port)
    if args.sign_in == "passwords":
        _say_waiting(args.workspace)
    if args.write_config:
        written = hub.write_config(p, args.write_config, force=args.force, user=args.service_user,
                                   public_url=args.public_url or "", tls_cert=args.tls_cert, tls_key=args.tls_key)
        _say("Wrote these files for IT (each readable only by you; the configuration may hold a client secret):")
        for path in written:
            _say(f"  {path}")
        _say(f"Run the hub with: {_quoted(sys.executable)} -m jupyterhub -f {_quoted(str(written[0]))}")
        _say("or install the service, backup timer and nginx site as each file's first lines say (README: "
             "'Running the review for a team').")
        return 0

    def ready(url: str) -> None:
        _say(f"The review hub is running for {p.workspace}. Team members sign in at:")
        _say(f"  {url}")
        _say("Keep this window open; press Ctrl+C here to stop the hub and everyone's forms.")

    return hub.run(p, on_ready=ready)


def _say_waiting(workspace: str) -> None:
    """How many logins still wait for their first sign-in, and how to make their codes."""
    from reviewkit.team.codes import waiting  # start-up: pandas

    w = waiting(workspace)
    if not w.count:
        return
    _say(f"{w.count} of {w.team} login(s) on the team have not signed in yet; each needs a first sign-in code "
         f"from the host ({len(w.with_code)} have one that still works).")
    if w.need_codes:
        _say(f"Make codes for the {len(w.need_codes)} without one (codes are shown once, to you only): "
             f"reviewkit hub-codes {_quoted(workspace)}")


def _quoted(text: str) -> str:
    return shlex.quote(str(text))


def cmd_hub_codes(args: argparse.Namespace) -> int:
    from reviewkit.review.workspace import open_workspace  # start-up: pandas
    from reviewkit.team.codes import make_codes, waiting  # start-up: pandas

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


def cmd_backup(args: argparse.Namespace) -> int:
    from reviewkit.review.backup import backup_store  # start-up: pandas

    done = backup_store(args.workspace, args.to, keep=args.keep)
    _say(f"Backed up the review store to {done.path} ({done.ratings} rating(s), {done.audit_rows} audit log "
         "row(s)); readable only by you.")
    if done.removed:
        _say(f"Removed {len(done.removed)} older backup(s), keeping the newest {args.keep}.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from reviewkit.review.backup import restore_store  # start-up: pandas

    checked, saved = restore_store(args.workspace, args.backup, actor=_actor(args))
    if saved is not None:
        _say(f"Copied the store as it was to {saved}.")
    _say(f"Restored the review store from {checked.path} (taken {checked.taken or 'at an unknown time'}; "
         f"{checked.ratings} rating(s)). It passed SQLite's integrity check and is this review's.")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from reviewkit.region.render import render_comparison  # start-up: pandas

    formats = [f for f in args.to.split(",") if f.strip()]
    out = render_comparison(args.sources, args.out, formats, pseudonymise=args.pseudonymise,
                            mapping=args.map, progress=_progress)
    _say(f"Compared {len(args.sources)} bundle(s){' (councils pseudonymised)' if args.pseudonymise else ''}; "
         f"wrote {', '.join(str(p) for p in out.values())}")
    return 0


def _easy_read(args: argparse.Namespace) -> int:
    from reviewkit.report.easyrender import render_easy_read  # start-up: the render pipeline

    formats = [f for f in args.to.split(",") if f.strip()]
    out_dir = Path(args.out) if args.out else Path(args.workspace) / "report"
    result = render_easy_read(args.workspace, out_dir, formats, regenerate=args.regenerate, progress=_progress)
    for path in result.kept:
        _say(f"Kept the earlier version in {path}")
    for path in result.drafted:
        _say(f"Drafted {path}: read it and put it right; it is never overwritten (--regenerate drafts it again)")
    for files in result.files.values():
        _say(f"Wrote {', '.join(str(p) for p in files.values())}")
    fig = result.figures
    if fig is not None and fig.sentence_lengths:
        short = sum(1 for n in fig.sentence_lengths if n <= 15)
        _say(f"Easy Read: {short} of {len(fig.sentence_lengths)} sentences have 15 words or fewer; reading ease "
             f"{fig.reading_ease:.0f} (Flesch), grade {fig.grade:.1f} (Flesch-Kincaid)")
        if result.long_sentences:
            _say(f"Shorten {len(result.long_sentences)} sentence(s) of more than 15 words in narrative/easy_read.md")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    if args.easy_read:
        return _easy_read(args)
    if args.regenerate:
        print("reviewkit report: --regenerate goes with --easy-read: reviewkit report WORKSPACE --easy-read "
              "--regenerate", file=sys.stderr)
        return 2
    from reviewkit.report.render import render_report  # start-up: the YAML and render pipeline

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
        from reviewkit.report.annex import write_annex  # start-up: pandas
        from reviewkit.review.workspace import open_workspace  # start-up: pandas

        annex = write_annex(open_workspace(args.workspace), out_dir)
        _say(f"Wrote the team annex (ratings by reviewer; for the team only, do not publish it): {annex}")
    if result.withheld:
        _say(f"NOT FOR PUBLICATION: {result.withheld} piece(s) of text held possible personal identifiers and "
             f"were withheld (the report is watermarked). Find them with: reviewkit check {args.workspace}")
    return 0


def cmd_tracking(args: argparse.Namespace) -> int:
    from reviewkit.inhouse.render import render_tracking  # start-up: pandas and the render pipeline

    formats = [f for f in args.to.split(",") if f.strip()]
    out_dir = Path(args.out) if args.out else Path(args.workspace) / "tracking"
    out = render_tracking(args.workspace, out_dir, formats, by_team=args.by_team, final=args.final,
                          progress=_progress)
    _say(f"Wrote the {'final' if args.final else 'draft'} tracking report: "
         f"{', '.join(str(p) for p in out.values())}")
    return 0
