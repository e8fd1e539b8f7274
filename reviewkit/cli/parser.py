"""The command line's parser: every command, its arguments, help and example, and its handler.

In: nothing (``build_parser`` builds it). Out: an ``argparse.ArgumentParser`` whose parsed
arguments carry the command's handler (``reviewkit.cli.commands``). Building it imports nothing
heavy (pandas, papermill), so ``reviewkit --help`` is quick.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from reviewkit import __version__
from reviewkit.core.tools import available_tools
from reviewkit.cli.commands import (
    cmd_action_plan,
    cmd_backup,
    cmd_calibrate,
    cmd_check,
    cmd_compare,
    cmd_concern,
    cmd_confirm,
    cmd_confirm_claim,
    cmd_export,
    cmd_hub,
    cmd_hub_codes,
    cmd_import,
    cmd_new,
    cmd_previous,
    cmd_redact,
    cmd_report,
    cmd_restore,
    cmd_sample,
    cmd_serve,
    cmd_status,
    cmd_tracking,
    cmd_workbook,
)

Handler = Callable[[argparse.Namespace], int]


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
    p.add_argument("--theme", help="what the review looks at (required for a review)")
    p.add_argument("--tool", default="strengths-based-practice",
                   help="a shipped audit tool's id (listed below) or a tool file's path (default: %(default)s)")
    p.epilog = f"{p.epilog}\naudit tools shipped (--tool):\n" + "".join(f"  {t}\n" for t in available_tools())
    p.add_argument("--reviewer", action="append", metavar="NAME", help="a reviewer who rates cases (repeat)")
    p.add_argument("--host", metavar="NAME", help="the host PSW (also rates cases)")
    p.add_argument("--question", action="append", metavar="TEXT",
                   help="a review question the council asked (repeat); narrative/review_questions.md gets a "
                        "heading for each")
    p.add_argument("--previous", action="append", metavar="PLAN_OR_BUNDLE_OR_WORKSPACE",
                   help="the previous review: its filled-in action plan (.xlsx or .docx) for the recommendations and "
                        "updates, and/or its regional bundle (.zip) or workspace folder for its figures (repeat)")
    p.add_argument("--in-house", action="store_true",
                   help="create an in-house audit programme instead of a review: the council's own auditors audit "
                        "records month by month (with --council, --tool, --team and --auditor)")
    p.add_argument("--team", action="append", metavar="NAME", help="with --in-house: a team whose work is audited "
                   "(repeat)")
    p.add_argument("--auditor", action="append", metavar="NAME",
                   help="with --in-house: one of the council's auditors, such as a team manager (repeat)")
    p.add_argument("--title", default="Practice quality audit", help="with --in-house: the programme's title "
                   "(default: %(default)s)")

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
    p.add_argument("--what", default="ratings",
                   choices=["ratings", "flags", "meetings", "conversations", "notes", "concerns", "calibration",
                            "all"],
                   help="what to export (default: %(default)s; 'all' needs .xlsx)")
    p.add_argument("--for-region", action="store_true", help="write a de-identified regional bundle (counts only)")
    p.add_argument("--suppress-below", type=int, default=None, metavar="N",
                   help="with --for-region: hide counts below N (with secondary suppression)")

    p = _command(sub, "calibrate", "Hold a calibration round: everyone rates the same fictional records first, the "
                 "team compares the ratings side by side, and the host records the agreed ratings.",
                 "reviewkit calibrate reviews/eastvale-2026 --record CAL1 --record CAL2", cmd_calibrate)
    p.add_argument("workspace")
    p.add_argument("--record", action="append", metavar="REF", default=[],
                   help="name a calibration record (fictional or anonymised, not one of the review's cases); "
                        "repeat for more")
    p.add_argument("--show", action="store_true",
                   help="everyone's ratings side by side, most disagreement first, with the descriptors (names: "
                        "for the team only)")
    p.add_argument("--agree", nargs=3, metavar=("REF", "QUESTION", "RATING"),
                   help="record the rating the team agreed for one question of a calibration record")
    p.add_argument("--note", default="", help="with --agree: a short note on why (no personal details)")
    p.add_argument("--round", type=int, metavar="N",
                   help="start calibration round N (2 after the discussion): everyone rates the same records again")
    p.add_argument("--open-cases", nargs="?", const="*", metavar="NAME",
                   help="let a reviewer (or, with no name, everyone) rate their case records before the calibration")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who is acting, for the audit log")

    p = _command(sub, "workbook", "Write a blank offline audit workbook for one reviewer (or, for an in-house "
                 "audit programme, the blank monthly audit workbook).",
                 'reviewkit workbook reviews/eastvale-2026 --reviewer "A. Visitor" --out a.xlsx', cmd_workbook)
    p.add_argument("workspace")
    p.add_argument("--reviewer", help="the reviewer whose cases it holds (required for a review)")
    p.add_argument("--out", required=True, help="the .xlsx file to write")

    p = _command(sub, "sample", "Build the fictional sample review (or, with --in-house, the sample in-house audit "
                 "programme), to try the kit.", "reviewkit sample demo/eastvale-2026", cmd_sample)
    p.add_argument("workspace", help="the new folder")
    p.add_argument("--in-house", action="store_true",
                   help="build the fictional in-house audit programme: 18 months, 4 teams")

    p = _command(sub, "check", "List claims in the narrative the review's figures do not bear out, and possible "
                 "personal identifiers in the review, by location (never by value).",
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

    p = _command(sub, "confirm-claim", "Confirm a claim in the narrative that 'check' flags is true, with your "
                 "reason (kept in review.yaml and listed in the team annex), so a final report may print it.",
                 'reviewkit confirm-claim reviews/eastvale-2026 --file narrative/review_questions.md --line 14 '
                 '--reason "the team means the questions it rated, not the audit tool\'s order"', cmd_confirm_claim)
    p.add_argument("workspace")
    p.add_argument("--file", required=True, help="the narrative file, as check names it (narrative/NAME.md)")
    p.add_argument("--line", required=True, type=int, metavar="N", help="the line check names")
    p.add_argument("--reason", required=True, help="why the claim is true although the figures seem to contradict it")

    p = _command(sub, "redact", "Replace personal identifiers with placeholders such as [NHS NUMBER] and [PERSON 1].",
                 "reviewkit redact reviews/eastvale-2026", cmd_redact)
    p.add_argument("workspace")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who is redacting, for the audit log")

    p = _command(sub, "concern", "List the concerns about a person's safety raised during the review, log one, or "
                                 "record the council's response to one (the text is private: never published).",
                 'reviewkit concern reviews/eastvale-2026 --case C17 --outcome acted --response "The team manager '
                 'visited the next day and a safety plan is in place"', cmd_concern)
    p.add_argument("workspace")
    p.add_argument("--case", metavar="CASE", help="the case record's reference, e.g. C17")
    p.add_argument("--reviewer", metavar="NAME", help="the reviewer who raised it (needed to log one, or when "
                   "more than one reviewer raised a concern on the case)")
    p.add_argument("--response", metavar="TEXT", help="the council's response (private: the report gives only "
                   "how long it took and the outcome)")
    p.add_argument("--outcome", choices=["acted", "already-in-hand", "no-further-action"],
                   help="what the council's response came to, as the report words it")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the date of the council's response (default: today)")
    p.add_argument("--what", metavar="TEXT", help="to log a concern: the risk to the person (no names)")
    p.add_argument("--raised-on", metavar="YYYY-MM-DD", help="to log a concern: when it was raised")
    p.add_argument("--raised-with", metavar="ROLE", help="to log a concern: the role it was raised with, e.g. "
                   "'team manager'")
    p.add_argument("--confirm-warnings", action="store_true",
                   help="store text that screening flags as a POSSIBLE identifier (after you have checked it)")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who is recording it, for the audit log")

    p = _command(sub, "status", "Show what each reviewer has rated, moderation differences, and everything a "
                                "final report still needs.",
                 "reviewkit status reviews/eastvale-2026", cmd_status)
    p.add_argument("workspace")

    p = _command(sub, "serve", "Open an entry form as a web page with no code, on this computer only.",
                 'reviewkit serve reviews/eastvale-2026 --reviewer "A. Visitor" --form rate', cmd_serve)
    p.add_argument("workspace")
    p.add_argument("--reviewer", metavar="NAME",
                   help="your name as review.yaml spells it (not needed for progress or host); for --form audit, "
                        "the auditor's name as programme.yaml lists it")
    p.add_argument("--form", default="rate",
                   choices=["rate", "meeting", "conversation", "progress", "host", "calibrate", "audit"],
                   help="which form (default: %(default)s); an in-house audit programme's form is audit")
    p.add_argument("--port", type=int, default=None, metavar="N", help="port to serve on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the address; do not open a browser")

    p = _command(sub, "hub", "Run the review for a team: JupyterHub, each member signing in with their own login.",
                 "reviewkit hub reviews/eastvale-2026 --ip 0.0.0.0 --port 8000\n"
                 "  reviewkit hub reviews/eastvale-2026 --write-config /srv/review-hub --public-url "
                 "https://review.eastvale.gov.uk", cmd_hub)
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
    p.add_argument("--public-url", metavar="URL", help="the https:// address people open, e.g. "
                   "https://review.eastvale.gov.uk: for --sign-in entra (the client secret goes in "
                   "REVIEWKIT_ENTRA_CLIENT_SECRET) and for the nginx site --write-config writes")
    p.add_argument("--hub-port", type=int, default=0, metavar="N",
                   help="with --write-config: the hub's own port on 127.0.0.1 (default: 8081)")
    p.add_argument("--proxy-api-port", type=int, default=0, metavar="N",
                   help="with --write-config: the proxy's API port on 127.0.0.1 (default: 8001)")
    p.add_argument("--forms-port", type=int, default=0, metavar="N",
                   help="with --write-config: the rating service's port on 127.0.0.1 (default: 8082)")
    p.add_argument("--service-user", default="reviewkit", metavar="NAME",
                   help="with --write-config: the dedicated user the systemd service runs as (default: %(default)s)")
    p.add_argument("--tls-cert", default="/etc/ssl/certs/reviewkit-hub.pem", metavar="PATH",
                   help="with --write-config: the certificate (chain) nginx serves (default: %(default)s)")
    p.add_argument("--tls-key", default="/etc/ssl/private/reviewkit-hub.key", metavar="PATH",
                   help="with --write-config: its private key (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="with --write-config: replace files already there")

    p = _command(sub, "hub-codes", "Make one-time first sign-in codes for the hub's logins that have no password "
                                   "yet (or reset one person's password); shown once, never saved.",
                 "reviewkit hub-codes reviews/eastvale-2026", cmd_hub_codes)
    p.add_argument("workspace")
    p.add_argument("--login", metavar="LOGIN", default=None,
                   help="only this login (as in review.yaml); its password, if it has one, is removed: a reset")
    p.add_argument("--days", type=int, default=14, metavar="N", help="how long the codes work (default: %(default)s)")

    p = _command(sub, "backup", "Take a consistent copy of the review store (safe while the hub runs); keep the "
                                "newest N.",
                 "reviewkit backup reviews/eastvale-2026 --to /var/backups/eastvale-2026 --keep 14", cmd_backup)
    p.add_argument("workspace")
    p.add_argument("--to", metavar="DIR", default=None, help="folder for the backups (default: WORKSPACE/backups)")
    p.add_argument("--keep", type=int, default=14, metavar="N",
                   help="keep the newest N dated backups in that folder, removing older ones (default: %(default)s)")

    p = _command(sub, "restore", "Check a backup of the review store and put it back (the current store is copied "
                                 "aside first).",
                 "reviewkit restore reviews/eastvale-2026 reviews/eastvale-2026/backups/review-2026-03-04T020000Z.db",
                 cmd_restore)
    p.add_argument("workspace")
    p.add_argument("backup", help="a backup file written by 'reviewkit backup'")
    p.add_argument("--as", dest="as_", metavar="NAME", help="who is restoring, for the audit log (default: your login)")

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
    p.add_argument("--easy-read", action="store_true",
                   help="write the Easy Read summary (easy-read.*) and the 'What you told us' letter template "
                        "(what-you-told-us.*) instead of the report, from narrative/easy_read.md and "
                        "narrative/what_you_told_us.md (drafted the first time; the team edits them)")
    p.add_argument("--regenerate", action="store_true",
                   help="with --easy-read: draft both files afresh from the review (the old ones are kept in backups/)")
    p.add_argument("--annex", action="store_true",
                   help="also write report-annex.html: ratings by reviewer under random labels, for the "
                        "review team only (never part of the published report)")
    p.add_argument("--withhold-identifiers", action="store_true",
                   help="while text to be published holds a personal identifier, render a DRAFT watermarked "
                        "'not for publication' with that text redacted, instead of refusing (never with --final)")

    p = _command(sub, "tracking", "Render an in-house audit programme's tracking report: monthly p-charts read with "
                 "Making Data Count's rules, and signals.csv.",
                 "reviewkit tracking audits/eastvale-pqa --to html,pdf,docx --by-team", cmd_tracking)
    p.add_argument("workspace", metavar="PROGRAMME")
    p.add_argument("--to", default="html", help="formats, comma-separated: html, pdf, docx (default: %(default)s)")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default: PROGRAMME/tracking)")
    p.add_argument("--by-team", action="store_true", help="also chart each team")
    p.add_argument("--final", action="store_true",
                   help="refuse while a month has no audits or no moderation sample, and leave out the DRAFT marks")
    return parser


def _version() -> str:
    return __version__
