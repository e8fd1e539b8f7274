"""The review hub's rating service: one process serves every reviewer's rating form as a plain page.

Why: on the hub a Voila form costs each reviewer a server, a kernel and a 4.9 MB page whose
scripts build hundreds of widgets; eight reviewers signing in together on a 2-core machine
waited 20-28 s for their forms. This service, which JupyterHub starts and stops with itself,
sends one page of tens of kilobytes built on the server and takes each change as a small
JSON request. It knows who is rating from the hub's sign-in (JupyterHub OAuth), never from
the page, and writes through the same store as the widget form, with that person's session:
the store screens notes, refuses stale versions (another tab) and refuses cases not
allocated to them. The other forms (meetings, conversations, calibration) stay on the
person's own server, one link away.

Run by the hub as ``python -m reviewkit.team.rateservice WORKSPACE [LAST_GOOD]``; JupyterHub
gives it its address, prefix and OAuth client in the environment.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import mimetypes
import os
import secrets
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado import httputil, ioloop, web

from reviewkit.core.errors import AccessError, BlockedTextError, ConflictError, ReviewkitError, WarningTextError
from reviewkit.core.lifecycle import die_with_parent, keep_forking
from reviewkit.review.progress import Entry, case_blockers
from reviewkit.review.session import Session
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace, open_workspace
from reviewkit.team import hostpage, ratepage
from reviewkit.team.widgets.common import now_hhmm
from reviewkit.team.widgets.concern import response_html as concern_response
from reviewkit.team.widgets.rating import CaseState, descriptor_html, load_case, note_hint, save_entry

log = logging.getLogger("reviewkit.team.rateservice")
NOT_ON_TEAM = ("This sign-in is not on the review team. If you are a reviewer, ask the host PSW to add your "
               "login to the team in review.yaml, then sign in again.")
MAX_BODY = 1_000_000  # bytes
NOT_UNDERSTOOD = "The form sent something the review hub does not understand. Press Reload and try again."
STATUS = {ConflictError: (409, "conflict"), WarningTextError: (422, "warn"), BlockedTextError: (422, "blocked"),
          AccessError: (403, "error")}


@dataclass(frozen=True)
class Settings:
    """What the service serves: one review workspace, and the hub's last good copy of its review.yaml."""

    workspace: str
    last_good: str = ""


@dataclass
class Ctx:
    """One request's view: the workspace as review.yaml says now, and who signed in."""

    ws: Workspace
    session: Session

    @property
    def reviewer(self) -> str:
        return self.session.reviewer

    def store(self) -> Store:
        return Store(self.ws.db_path, self.ws.rules(), session=self.session)

    def case(self, case_id: object) -> str:
        """A case allocated to this reviewer, or a refusal naming it."""
        ids = [c.id for c in self.ws.meta.cases_for(self.reviewer)]
        if str(case_id) not in ids:
            raise AccessError(f"You are signed in as {self.reviewer}: case {case_id} is not allocated to you. "
                              "Pick one of your cases from the list.")
        return str(case_id)


def context(settings: Settings, login: str) -> Ctx:
    """Read the team afresh (a login the host just added works at once); refuse a login not on it."""
    ws = open_workspace(settings.workspace, last_good=settings.last_good or None)
    member = ws.meta.member_for_login(login)
    if member is None:
        raise AccessError(NOT_ON_TEAM)
    return Ctx(ws, Session(member.login, member.name, member.role))


NOT_HOST = ("The host console is for the review's host PSW. You are signed in as {name}, a visiting reviewer: "
            "your rating form is at the review hub's home page.")


def host_context(settings: Settings, login: str) -> Ctx:
    """The signed-in host's view; anyone else is refused."""
    ctx = context(settings, login)
    if ctx.session.role != "host":
        raise AccessError(NOT_HOST.format(name=ctx.reviewer))
    return ctx


def case_state(ctx: Ctx, case_id: str, state: CaseState, *, unmarked: bool = False,
               refused: list[str] | None = None) -> dict[str, Any]:
    """What the page shows about the whole case after a change."""
    tool = ctx.ws.tool
    cases = ctx.ws.meta.cases_for(ctx.reviewer)
    done = ratepage.completion_html(tool, state, unmarked=unmarked, refused=refused)
    return {"progress_html": ratepage.progress_html(tool, cases, case_id, state), "complete_html": done,
            "complete": bool(state.flag["complete"]), "flag_version": state.flag["version"], "unmarked": unmarked}


def _unmark_if_blocked(ctx: Ctx, store: Store, case_id: str, state: CaseState) -> bool:
    """A case marked complete that no longer meets the rules is unmarked (as the widget form does)."""
    if state.flag["complete"] and case_blockers(ctx.ws.tool, state.entries):
        state.flag = store.set_case_flag(ctx.reviewer, case_id, ctx.reviewer, complete=False,
                                         expected_version=state.flag["version"])
        return True
    return False


def save_rating(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    """A level chosen, or an evidence note written, for one question; the other half kept as stored."""
    tool = ctx.ws.tool
    case_id = ctx.case(body["case"])
    qid = str(body["question"])
    if qid not in tool.all_ids:
        raise ValueError(qid)
    part, version = str(body["part"]), int(body["version"])
    with ctx.store() as store:
        stored = store.rating(case_id, ctx.reviewer, qid)
        if part == "rating":
            entry = Entry(str(body["rating"]), stored.comment if stored else "")
        elif part == "note":
            entry = Entry(stored.rating if stored else None, str(body["comment"]))
        else:
            raise ValueError(part)
        r = save_entry(store, ctx.reviewer, case_id, qid, entry, version, confirm_warnings=bool(body.get("confirm")))
        state = load_case(store, tool, case_id, ctx.reviewer)
        unmarked = _unmark_if_blocked(ctx, store, case_id, state)
    question = tool.overall if qid == tool.overall.id else next(q for q in tool.questions if q.id == qid)
    return {"ok": True, "version": r.version, "rating": r.rating, "saved_at": now_hhmm(), "unmarked": unmarked,
            "descriptors_html": descriptor_html(question, tool, r.rating),
            "hint": note_hint(tool, Entry(r.rating, r.comment)),
            "case_state": case_state(ctx, case_id, state, unmarked=unmarked)}


def save_flag(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    """Referred back (once a reason is written), its reason, or complete (unless something is left)."""
    tool = ctx.ws.tool
    case_id = ctx.case(body["case"])
    action, version = str(body["action"]), int(body["version"])
    confirm = bool(body.get("confirm"))
    with ctx.store() as store:
        state = load_case(store, tool, case_id, ctx.reviewer)
        answer: dict[str, Any] = {"ok": True, "stored": False, "saved_at": now_hhmm()}
        refused: list[str] | None = None

        def set_flag(**changes: Any) -> None:
            state.flag = store.set_case_flag(ctx.reviewer, case_id, ctx.reviewer, expected_version=version,
                                             confirm_warnings=confirm, **changes)
            answer["stored"] = True

        reason = str(body.get("reason", ""))
        if action == "complete":
            if bool(body["complete"]) and case_blockers(tool, state.entries):
                refused = case_blockers(tool, state.entries)
            else:
                set_flag(complete=bool(body["complete"]))
        elif action in ("referred", "reason"):
            referred = bool(body.get("referred", True))
            if referred and not reason.strip():
                answer.update(message_kind="warn", message=(
                    "Write the reason in the box above: the referral is saved once the reason is written."
                    if action == "referred" else
                    "A case referred back needs a reason: say what the significant concern is."))
            elif referred:
                set_flag(referred_back=True, reason=reason)
                answer.update(message_kind="ok", message="Referral saved.")
            elif state.flag["referred_back"]:
                set_flag(referred_back=False)
        else:
            raise ValueError(action)
    answer["case_state"] = case_state(ctx, case_id, state, refused=refused)
    return answer


def save_concern(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    """The reviewer's concern about a risk to a person on this case; all three parts are needed."""
    case_id = ctx.case(body["case"])
    what, on, with_ = (str(body.get(k, "")) for k in ("what", "raised_on", "raised_with"))
    missing = [label for label, value in (("what the risk is", what.strip()), ("the date you raised it", on),
                                          ("the role you raised it with", with_.strip())) if not value]
    if missing:
        return {"kind": "incomplete", "message": "Not saved yet: give " + ", ".join(missing) + "."}
    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        return {"kind": "incomplete", "message": "Not saved yet: the date you raised it is not a date."}
    if day > dt.date.today():
        return {"kind": "incomplete", "message": "Not saved yet: the date you raised it is in the future."}
    with ctx.store() as store:
        found = store.set_concern(ctx.reviewer, case_id, ctx.reviewer, what=what, raised_on=day.isoformat(),
                                  raised_with=with_, confirm_warnings=bool(body.get("confirm")))
    return {"ok": True, "saved_at": now_hhmm(), "response_html": concern_response(found)}


ACTIONS: dict[str, Callable[[Ctx, dict[str, Any]], dict[str, Any]]] = {
    "rating": save_rating, "flag": save_flag, "concern": save_concern}


def answer_for(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """A refusal as the page shows it: a plain message, never a traceback or what was typed."""
    for kind, (status, name) in STATUS.items():
        if isinstance(exc, kind):
            return status, {"kind": name, "message": str(exc)}
    if isinstance(exc, ReviewkitError):
        return 400, {"kind": "error", "message": str(exc)}
    if isinstance(exc, (KeyError, ValueError, TypeError)):
        return 400, {"kind": "error", "message": NOT_UNDERSTOOD, "reload": True}
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s in the rating service\n%s", type(exc).__name__, frames)  # never the message
    return 500, {"kind": "error", "title": "Sorry, something went wrong", "reload": True, "message": (
        "Something went wrong and your last change may not have been saved. Press Reload to see what is saved. "
        f"If it happens again, tell the host PSW (technical detail for them: {type(exc).__name__}).")}


class _Handler(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    nonce = ""

    def initialize(self, settings: Settings) -> None:
        self.rk = settings

    def set_default_headers(self) -> None:  # called before initialize(), and again after an error
        if not self.nonce:
            self.nonce = secrets.token_urlsafe(16)
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Content-Security-Policy", (
            f"default-src 'none'; script-src 'nonce-{self.nonce}'; style-src 'unsafe-inline'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"))

    def login(self) -> str:
        user = self.current_user
        return str(user["name"]) if isinstance(user, dict) else ""

    def json_body(self) -> dict[str, Any]:
        """The request's JSON object; anything else is refused as not understood (see answer_for)."""
        body = json.loads(self.request.body or b"{}")
        if not isinstance(body, dict):
            raise TypeError("body")
        return body


class PageHandler(_Handler):
    """GET: the rating form for the signed-in reviewer, on the case asked for (else their first)."""

    @web.authenticated
    async def get(self) -> None:
        info = ratepage.PageInfo("", self.request.path.rstrip("/") + "/api/", self.xsrf_token.decode(),
                                 f"{self.hub_auth.hub_prefix}spawn?next={quote(self.hub_auth.hub_prefix, safe='')}", self.nonce)
        try:
            page = await asyncio.to_thread(self._page, self.login(), info, self.get_argument("case", ""))
        except ReviewkitError as exc:
            self.set_status(403 if isinstance(exc, AccessError) else 400)
            page = ratepage.error_page("This form cannot open", str(exc))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)

    def _page(self, login: str, info: ratepage.PageInfo, asked: str) -> str:
        ctx = context(self.rk, login)
        info = dataclasses.replace(info, reviewer=ctx.reviewer)
        cases = ctx.ws.meta.cases_for(ctx.reviewer)
        message = ("", "")
        if not cases:
            return ratepage.page_html(info, ctx.ws.tool, [], None, None, None, (
                "info", f"No case records are allocated to {ctx.reviewer} yet. Ask the host PSW to add them to the "
                        "review's case list."))
        case_id = cases[0].id
        if asked:
            try:
                case_id = ctx.case(asked)
            except AccessError as exc:
                message = ("error", str(exc))
        with ctx.store() as store:
            state = load_case(store, ctx.ws.tool, case_id, ctx.reviewer)
            concern = store.concern(case_id, ctx.reviewer)
        return ratepage.page_html(info, ctx.ws.tool, cases, case_id, state, concern, message)


class ApiHandler(_Handler):
    """POST api/rating, api/flag, api/concern: one change, answered as JSON."""

    @web.authenticated
    async def post(self, action: str) -> None:
        try:
            body = self.json_body()
            reply = await asyncio.to_thread(self._run, self.login(), action, body)
            status = 200
        except Exception as exc:  # noqa: BLE001 - every failure becomes a plain answer (see answer_for)
            status, reply = answer_for(exc)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(reply))

    def _run(self, login: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return ACTIONS[action](context(self.rk, login), body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:  # signed out, a bad token
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"kind": "error", "reload": True, "message": (
            "You are signed out of the review hub (or the page is out of date): your change was not saved. "
            "Press Reload, and sign in again if asked.")}))


class HostPageHandler(_Handler):
    """GET host: the host console, for the review's host alone."""

    def initialize(self, settings: Settings, jobs: hostpage.Jobs | None = None, prefix: str = "/") -> None:
        self.rk = settings
        self.jobs = jobs or hostpage.Jobs()
        self.prefix = prefix

    def base(self) -> str:
        """The console's own address (…/host/), from which its actions and files hang."""
        return self.prefix + "host/"

    @web.authenticated
    async def get(self) -> None:
        hub = self.hub_auth.hub_prefix
        info = hostpage.HostInfo("", self.base() + "api/", self.base() + "files/", self.xsrf_token.decode(),
                                 f"{hub}spawn?next={quote(hub + 'user-redirect/lab', safe='')}", self.nonce)
        try:
            page = await asyncio.to_thread(self._page, self.login(), info)
        except ReviewkitError as exc:
            self.set_status(403 if isinstance(exc, AccessError) else 400)
            page = ratepage.error_page("The host console cannot open", str(exc))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page)

    def _page(self, login: str, info: hostpage.HostInfo) -> str:
        ctx = host_context(self.rk, login)
        return hostpage.page_html(dataclasses.replace(info, host=ctx.reviewer), ctx.ws)

    def reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def refusal(self, exc: BaseException) -> None:
        status, body = answer_for(exc)
        self.reply(status, hostpage.answer("error", body["message"], body.get("title", "")))


class _HostJson(HostPageHandler):
    """The console's actions answer in JSON, refusals included."""

    why = ""  # a refusal's sentence, when it is not that the person is signed out

    def write_error(self, status_code: int, **kwargs: Any) -> None:  # signed out, a bad token, not the host
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(hostpage.answer("error", self.why or (
            "You are signed out of the review hub, or the page is out of date: nothing was done. Reload the page, "
            "and sign in again if asked."))))


class HostApiHandler(_HostJson):
    """POST host/api/refresh|claim|job, GET host/api/job/N: one action, answered as JSON."""

    @web.authenticated
    async def post(self, action: str) -> None:
        try:
            body = self.json_body()
            ctx = await asyncio.to_thread(host_context, self.rk, self.login())
            if action == "refresh":
                reply = {"kind": "ok", "html": "", "sections": await asyncio.to_thread(hostpage.sections, ctx.ws)}
            elif action == "claim":
                reply = await asyncio.to_thread(hostpage.confirm, ctx.ws, body)
            else:
                reply = self._start(ctx, body).view()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a plain answer (see answer_for)
            self.refusal(exc)
            return
        self.reply(200, reply)

    def _start(self, ctx: Ctx, body: dict[str, Any]) -> hostpage.Job:
        formats = [str(f) for f in body.get("formats", []) if f in dict(hostpage.FORMATS).values()]
        return self.jobs.start(hostpage.in_process(str(body["job"]), ctx.ws.path, formats, self.base() + "files/"))

    @web.authenticated
    async def get(self, ident: str) -> None:  # type: ignore[override]
        try:
            await asyncio.to_thread(host_context, self.rk, self.login())
        except ReviewkitError as exc:
            self.refusal(exc)
            return
        job = self.jobs.get(ident)
        if job is None:
            self.reply(404, hostpage.answer("error", "That job is no longer known (the review hub restarted): "
                                                     "reload the page and start it again."))
            return
        self.reply(200, job.view())


@web.stream_request_body
class HostUploadHandler(_HostJson):
    """POST host/api/import: the chosen files, imported all or nothing. Only the host may send more than the
    service's usual limit, and that is checked before the files are read."""

    async def prepare(self) -> None:
        self.chunks: list[bytes] = []
        if not self.current_user:
            raise web.HTTPError(403)
        try:
            self.ctx = await asyncio.to_thread(host_context, self.rk, self.login())
        except ReviewkitError as exc:
            self.why = str(exc)
            raise web.HTTPError(403) from None
        self.request.connection.set_max_body_size(hostpage.MAX_UPLOAD_BYTES)

    def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    async def post(self) -> None:
        try:
            args: dict[str, list[bytes]] = {}
            files: dict[str, list[httputil.HTTPFile]] = {}
            httputil.parse_body_arguments(self.request.headers.get("Content-Type", ""), b"".join(self.chunks),
                                          args, files)
            chosen = [(f.filename, f.body) for f in files.get("files", [])]
            reply = await asyncio.to_thread(hostpage.import_uploads, self.ctx.ws, chosen, self.ctx.reviewer)
        except Exception as exc:  # noqa: BLE001 - see answer_for
            self.refusal(exc)
            return
        self.reply(200, reply)


class HostFileHandler(HostPageHandler):
    """GET host/files/NAME: a file from the review's report folder, to the host alone."""

    @web.authenticated
    async def get(self, name: str) -> None:  # type: ignore[override]
        try:
            ctx = await asyncio.to_thread(host_context, self.rk, self.login())
        except ReviewkitError as exc:
            self.set_status(403)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(ratepage.error_page("This file cannot be downloaded", str(exc)))
            return
        path = hostpage.report_file(ctx.ws, name)
        if path is None:
            self.set_status(404)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(ratepage.error_page("No such file", "The review's report folder has no file by that name: "
                                                            "make it again from the host console."))
            return
        self.set_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(path.name)}")
        self.finish(await asyncio.to_thread(path.read_bytes))


def _quiet_log(handler: web.RequestHandler) -> None:
    """Log method, path and status only: never a query (the hub's OAuth code travels in one)."""
    status = handler.get_status()
    if status >= 400:
        log.warning("%s %s %d", handler.request.method, handler.request.path, status)


def make_app(settings: Settings, prefix: str) -> web.Application:
    """The service's addresses under the prefix the hub gives it (e.g. /services/reviewkit-rate/)."""
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    host = {"settings": settings, "jobs": hostpage.Jobs(), "prefix": prefix}
    return web.Application([
        (prefix, PageHandler, {"settings": settings}),
        (prefix + "oauth_callback", HubOAuthCallbackHandler),
        (prefix + r"api/(rating|flag|concern)", ApiHandler, {"settings": settings}),
        (prefix + "host/?", HostPageHandler, host),
        (prefix + "host/api/import", HostUploadHandler, host),
        (prefix + r"host/api/(refresh|claim|job)", HostApiHandler, host),
        (prefix + r"host/api/job/(\d+)", HostApiHandler, host),
        (prefix + r"host/files/([^/]+)", HostFileHandler, host),
    ], cookie_secret=secrets.token_bytes(32), log_function=_quiet_log)


def main(argv: list[str]) -> int:
    """Serve until the hub stops the service; the hub passes the address and OAuth client in the environment.

    The serving process is a fork, made again at once if it dies (``keep_forking``).
    """
    logging.basicConfig(level=logging.INFO, format="[reviewkit-rate %(levelname)s] %(message)s")
    if not argv or len(argv) > 2:
        log.error("usage: python -m reviewkit.team.rateservice WORKSPACE [LAST_GOOD] (the hub starts it)")
        return 2
    die_with_parent()  # a hub that dies (killed, or failing while it starts) takes the service with it
    return keep_forking(lambda: _serve(argv), log.error)


def _serve(argv: list[str]) -> int:
    settings = Settings(argv[0], argv[1] if len(argv) > 1 else "")
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = make_app(settings, os.environ["JUPYTERHUB_SERVICE_PREFIX"])
    # A change is a note of a few kilobytes: a body bigger than this is refused before it is read.
    app.listen(url.port or 80, url.hostname or "127.0.0.1", xheaders=True, max_body_size=MAX_BODY)
    log.info("serving the rating form at %s", os.environ["JUPYTERHUB_SERVICE_PREFIX"])
    loop = ioloop.IOLoop.current()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # the hub stops its services with one of these
        signal.signal(sig, lambda *_: loop.add_callback_from_signal(loop.stop))
    loop.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
