"""The hub's plain host console, below HTTP: each action on a real workspace and store, as the signed-in host.

The browser path (sign-in, the page's script, uploads, downloads) is tested in
``test_hub_host_page.py``; here the rules: who may open it, all-or-nothing imports, claims,
jobs one at a time with the library's own refusals, and which files may be downloaded.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewkit.core.errors import AccessError, ConflictError
from reviewkit.team import hostpage
from reviewkit.team.rateservice import Settings, host_context

from .helpers import HOST, LOGINS, make_workspace, wait_for, with_logins

GOOD = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q1,Good,\nC03,B. Visitor,q2,RI,Plans lack detail\n"
BAD = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q1,Superb,\nC99,Z. Nobody,q2,Good,\n"
INFO = hostpage.HostInfo("H. Host", "/s/host/api/", "/s/host/files/", "tok", "/hub/spawn?next=lab", "n0nce")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(str(with_logins(make_workspace(tmp_path / "ws")).path))


def test_only_the_host_opens_the_console(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    assert ctx.reviewer == HOST
    with pytest.raises(AccessError, match="The host console is for the review's host PSW. You are signed in as "
                                          "A. Visitor, a visiting reviewer"):
        host_context(settings, LOGINS["A. Visitor"])
    with pytest.raises(AccessError, match="not on the review team"):
        host_context(settings, "someone@elsewhere.example")


def test_the_page_shows_progress_the_gaps_and_every_action(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    page = hostpage.page_html(INFO, ctx.ws)
    assert page.startswith("<!DOCTYPE html>") and "<h1>Host console</h1>" in page
    assert "Signed in as H. Host" in page and 'href="/hub/spawn?next=lab"' in page
    assert '<table class="rk-table">' in page and "Before the final report" in page
    for label in ("Import the chosen files", "Render a draft report", "Render the final report",
                  "Render the Easy Read summary", "Write the regional bundle", "Write the action plan", "Refresh"):
        assert label in page, label
    assert '<script nonce="n0nce">' in page and "http" not in page.split("<script", 1)[1].split("</script>")[0]
    assert len(page.encode()) < 100_000


def test_an_import_with_problems_stores_nothing_and_lists_every_problem(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    out = hostpage.import_uploads(ctx.ws, [("good.csv", GOOD), ("bad.csv", BAD)], ctx.reviewer)
    assert out["kind"] == "error" and "Nothing was imported: 3 problem(s) found." in out["html"]
    assert "bad.csv, row 2, column &#x27;rating&#x27;" in out["html"] and "sections" not in out
    with ctx.ws.store() as store:
        assert store.all_ratings().empty
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("reviewkit-upload-*"))  # the uploads are removed


def test_a_good_import_is_stored_in_the_hosts_name_and_the_tables_are_sent_again(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    out = hostpage.import_uploads(ctx.ws, [("../../b.csv", GOOD)], ctx.reviewer)  # a path is reduced to its name
    assert out["kind"] == "ok" and "Imported 1 file(s). ratings: 2 added" in out["html"]
    assert "B. Visitor" in out["sections"]["rk-tables"]
    with ctx.ws.store() as store:
        assert set(store.audit_log()["actor"]) == {HOST}
    assert hostpage.import_uploads(ctx.ws, [], HOST)["kind"] == "warn"
    too_many = hostpage.import_uploads(ctx.ws, [(f"{i}.csv", GOOD) for i in range(51)], HOST)
    assert "at most 50 files" in too_many["html"]


def test_a_claim_needs_one_waiting_and_a_reason(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    assert "No claim is waiting" in hostpage.claims_section(ctx.ws)
    assert hostpage.confirm(ctx.ws, {"claim": "", "reason": "x"})["kind"] == "warn"
    refused = hostpage.confirm(ctx.ws, {"claim": "narrative/summary.md:3", "reason": "it is true, as the team knows"})
    assert refused["kind"] == "error" and "no open claim is flagged there" in refused["html"]


def test_jobs_run_one_at_a_time_and_a_library_refusal_is_its_answer(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    jobs = hostpage.Jobs()
    release = threading.Event()

    def slow(say):  # noqa: ANN001, ANN202
        say("step one")
        release.wait(30)
        return hostpage.answer("ok", "done")

    first = jobs.start(slow)
    with pytest.raises(ConflictError, match="Another report or file is being made"):
        jobs.start(slow)
    release.set()
    _wait(lambda: jobs.get(first.ident).result is not None)
    assert jobs.get(first.ident).view()["steps"] == ["step one"]
    # The bundle before the review's dates are set: the library's own sentence, not "something went wrong".
    job = jobs.start(lambda _say: hostpage.bundle(ctx.ws, base="/f/"))
    _wait(lambda: job.result is not None)
    assert job.result["kind"] == "error" and "add dates.start" in job.result["html"]
    # An unexpected failure: its type only, never its message.
    boom = jobs.start(lambda _say: (_ for _ in ()).throw(RuntimeError("C03 Mrs Zebediah")))
    _wait(lambda: boom.result is not None)
    assert "RuntimeError" in boom.result["html"] and "Zebediah" not in boom.result["html"]
    assert jobs.get("999") is None


def test_the_action_plan_is_offered_from_the_report_folder(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    (ctx.ws.narrative_dir / "recommendations.md").write_text(
        "# Recommendations\n\n1. Make supervision reflective.\n", encoding="utf-8")
    out = hostpage.plan(ctx.ws, base="/s/host/files/")
    assert out["kind"] == "ok" and 'href="/s/host/files/action_plan.xlsx"' in out["html"]
    assert hostpage.report_file(ctx.ws, "action_plan.xlsx") == (ctx.ws.path / "report" / "action_plan.xlsx").resolve()


def test_only_a_plain_file_of_the_report_folder_can_be_downloaded(settings: Settings, tmp_path: Path) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    folder = ctx.ws.path / "report"
    folder.mkdir(exist_ok=True)
    (folder / "report.html").write_text("<p>ok</p>")
    (folder / ".hidden").write_text("x")
    (folder / "sub").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the page")
    (folder / "link.txt").symlink_to(secret)
    assert hostpage.report_file(ctx.ws, "report.html") is not None
    for name in ("../review.yaml", "..", ".hidden", "sub", "link.txt", "review.db", "", "a/b", "report.html/"):
        assert hostpage.report_file(ctx.ws, name) is None, name


def _wait(done) -> None:  # noqa: ANN001
    wait_for(done, "the job", 120)


def _command(p) -> str:  # noqa: ANN001
    """A process's command line, or '' once it has ended."""
    import psutil

    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return ""


def _tree(pid: int) -> list:
    """The process and what it started, as far as it is still running."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


@pytest.mark.slow
def test_a_render_succeeds_while_every_save_opens_the_workspace(settings: Settings) -> None:
    """Found on the hub: the console polls its job, and each reviewer's save opens the workspace; an open
    that saw the render's new cache before its stamp purged it, and the render failed."""
    from reviewkit.report.render import render_report
    from reviewkit.review.workspace import REPORT_CACHE, open_workspace

    ws = host_context(settings, LOGINS[HOST]).ws
    stop = threading.Event()
    opened = [0]

    def saves() -> None:
        while not stop.is_set():
            open_workspace(ws.path)
            opened[0] += 1

    other = threading.Thread(target=saves)
    other.start()
    try:
        result = render_report(ws.path, ws.path / "report", ["html"])
    finally:
        stop.set()
        other.join(30)
    assert result["html"].read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert opened[0] > 10
    assert (ws.path / REPORT_CACHE / ".names-digest").exists() and open_workspace(ws.path)
    assert list((ws.path / REPORT_CACHE).glob("*/report.html"))  # the render is kept for the next time


def test_a_job_runs_in_a_process_of_its_own_and_passes_on_its_answer(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    jobs = hostpage.Jobs()
    refused = jobs.start(hostpage.in_process("bundle", ctx.ws.path, [], "/f/"))
    _wait(lambda: refused.result is not None)
    assert refused.result["kind"] == "error" and "add dates.start" in refused.result["html"]
    (ctx.ws.narrative_dir / "recommendations.md").write_text("1. Make supervision reflective.\n", encoding="utf-8")
    made = jobs.start(hostpage.in_process("plan", ctx.ws.path, [], "/f/"))
    _wait(lambda: made.result is not None)
    assert made.result["kind"] == "ok" and 'href="/f/action_plan.xlsx"' in made.result["html"]
    assert (ctx.ws.path / "report" / "action_plan.xlsx").stat().st_size > 0
    with pytest.raises(ValueError):
        hostpage.in_process("rm", ctx.ws.path, [], "/f/")


@pytest.fixture
def job_tmp(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """A short $TMPDIR of the test's own for the job's process (a job killed outright leaves its temp folder)."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="rkj")
    monkeypatch.setenv("TMPDIR", folder)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_a_job_whose_process_is_killed_says_it_did_not_finish(settings: Settings, job_tmp: Path) -> None:
    import signal

    import psutil

    ctx = host_context(settings, LOGINS[HOST])
    jobs = hostpage.Jobs()
    job = jobs.start(hostpage.in_process("draft", ctx.ws.path, ["html"], "/f/"))
    _wait(lambda: bool(job.steps))  # the render has started
    child = next(p for p in psutil.Process().children() if "reviewkit.team.hostpage" in _command(p))
    os.kill(child.pid, signal.SIGKILL)
    _wait(lambda: job.result is not None)
    assert job.result["kind"] == "error" and "stopped before it finished (exit code -9)" in job.result["html"]
    again = jobs.start(hostpage.in_process("draft", ctx.ws.path, ["html"], "/f/"))  # the next job may run
    _wait(lambda: again.result is not None)
    assert again.result["kind"] == "ok" and "report.html" in again.result["html"]
    assert "Converting to HTML" in again.steps


def test_two_files_of_one_name_are_both_imported(settings: Settings) -> None:
    ctx = host_context(settings, LOGINS[HOST])
    other = b"case_id,reviewer,question,rating,comment\nC03,B. Visitor,q3,Good,\n"
    out = hostpage.import_uploads(ctx.ws, [("b.csv", GOOD), ("b.csv", other)], ctx.reviewer)
    assert out["kind"] == "ok" and "Imported 2 file(s). ratings: 3 added" in out["html"], out["html"]


@pytest.mark.slow
def test_a_job_ends_with_the_service_that_started_it_even_when_that_is_killed(settings: Settings, tmp_path: Path,
                                                                                job_tmp: Path) -> None:
    """SIGKILL of the service mid-render: the kernel and Chromium the job started end within 10 s, and the
    job's process once it has removed the render's temp folder."""
    import signal
    import subprocess
    import sys
    import time

    import psutil

    ws = host_context(settings, LOGINS[HOST]).ws
    steps = tmp_path / "steps"
    service = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from reviewkit.team import hostpage\n"
        f"job = hostpage.Jobs().start(hostpage.in_process('draft', Path({str(ws.path)!r}), ['html', 'pdf'], '/f/'))\n"
        f"while not job.steps: time.sleep(0.05)\n"
        f"Path({str(steps)!r}).write_text('started')\n"
        "time.sleep(600)\n")])
    try:
        deadline = time.monotonic() + 120
        while not steps.exists():
            assert service.poll() is None and time.monotonic() < deadline, "the job did not start"
            time.sleep(0.05)
        wait_for(lambda: any("ipykernel" in _command(p) for p in _tree(service.pid)),
                 "the render's kernel to run", 120)
        tree = _tree(service.pid)
        assert any("reviewkit.team.hostpage" in _command(p) for p in tree)
        os.kill(service.pid, signal.SIGKILL)
        service.wait(30)
        job = [p for p in tree if "reviewkit.team.hostpage" in _command(p)]
        started = [p for p in tree if p not in job]  # the render's kernel, Chromium, chart workers
        gone, alive = psutil.wait_procs(started, timeout=10)
        assert alive == [], [_command(p)[:120] for p in alive]
        # The job itself ends once it has removed its temp folders (a few seconds; longer on a busy machine).
        gone, alive = psutil.wait_procs(job, timeout=hostpage.STOP_GRACE_SECONDS + 10)
        assert alive == [], "the job outlived the stop's deadline"
        assert list(job_tmp.iterdir()) == []  # the job unwound: nothing of the render is left in its $TMPDIR
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(30)


@contextlib.contextmanager
def _job_running(folder: Path, grace: float, run_body: str) -> Iterator[subprocess.Popen[str]]:
    """A job's process (``hostpage.main``) whose action is `run_body`, the body of ``run(kind, ws, formats, base,
    say)`` (``ws`` is `folder`), with a stop deadline of `grace` seconds; killed at the end if still running."""
    body = "".join(f"    {line}\n" for line in run_body.strip("\n").splitlines())
    job = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "from pathlib import Path\n"
        "from reviewkit.team import hostpage\n"
        f"hostpage.STOP_GRACE_SECONDS = {grace}\n"
        f"def run(kind, ws, formats, base, say):\n{body}"
        "hostpage.run = run\n"
        "hostpage.open_workspace = lambda path: path\n"
        f"sys.exit(hostpage.main(['draft', {str(folder)!r}, '/f/', 'html']))\n")],
        stdout=subprocess.PIPE, text=True)
    try:
        yield job
    finally:
        if job.poll() is None:
            job.kill()
        job.communicate(timeout=30)  # and its pipe closed


def test_a_stopped_job_whose_clean_up_hangs_still_ends_with_what_it_started(tmp_path: Path) -> None:
    """A library that swallows the stop (or waits for ever on a browser) meets the stop's deadline: the job
    and every process it started end, and nothing waits on a second signal."""
    import psutil

    ready = tmp_path / "ready"
    with _job_running(tmp_path, 2, f"""
child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])
say('Rendering')
Path({str(ready)!r}).write_text(str(child.pid))
while True:
    try:
        time.sleep(600)
    except KeyboardInterrupt:
        pass  # swallowed, as a library might
""") as job:
        wait_for(ready.exists, "the job to start its child", 60)
        child = psutil.Process(int(ready.read_text()))
        job.terminate()  # what the job gets when its service dies (see die_with_parent)
        assert job.wait(30) == 128 + 15
        gone, alive = psutil.wait_procs([child], timeout=10)
        assert alive == [], "the job's child outlived the stop's deadline"
        assert job.stdout is not None and '"step": "Rendering"' in job.stdout.read()


def test_a_job_stopped_between_steps_stops_at_the_next_step_even_if_the_interrupt_was_swallowed(
        tmp_path: Path) -> None:
    """The stop is remembered: a step announced after it ends the job there, well before the deadline."""
    ready = tmp_path / "ready"
    with _job_running(tmp_path, 600, f"""
Path({str(ready)!r}).write_text('x')
try:
    time.sleep(600)
except KeyboardInterrupt:
    pass  # swallowed
say('Printing to PDF')
Path(ws, 'printed').write_text('the job went on after its stop')
""") as job:
        wait_for(ready.exists, "the job to start", 60)
        job.terminate()
        assert job.wait(30) == 1  # stopped at the step, by the interrupt's own path
        assert not (tmp_path / "printed").exists()
        assert job.stdout is not None and "Printing to PDF" not in job.stdout.read()


def test_an_upload_onto_a_full_disk_is_a_plain_refusal_and_nothing_is_imported(settings: Settings) -> None:
    """A full disk, simulated by a file-size limit in a process of its own (a write past it fails as ENOSPC does)."""
    import json
    import subprocess
    import sys

    child = (
        "import json, resource, sys\n"
        "from reviewkit.team import hostpage\n"
        "from reviewkit.review.workspace import open_workspace\n"
        "ws = open_workspace(sys.argv[1])\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
        "big = b'case_id,reviewer,question,rating,comment\\n' + b'C03,B. Visitor,q1,Good,' + b'x' * 200_000 + b'\\n'\n"
        "out = hostpage.import_uploads(ws, [('big.csv', big)], 'H. Host')\n"
        "sys.stdout.write(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", child, settings.workspace], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    out = json.loads(done.stdout)
    assert out["kind"] == "error" and "Nothing was imported: the chosen files could not be saved" in out["html"]
    with host_context(settings, LOGINS[HOST]).ws.store() as store:
        assert store.all_ratings().empty


def test_a_typo_in_review_yaml_is_shown_at_the_top_until_it_is_fixed(settings: Settings) -> None:
    ws = host_context(settings, LOGINS[HOST]).ws
    review = ws.path / "review.yaml"
    good = review.read_text(encoding="utf-8")
    review.write_text(good.replace("team:\n", "team:\n  - [unclosed\n", 1), encoding="utf-8")
    notice = hostpage.sections(ws)["rk-notice"]
    assert 'role="alert"' in notice and "review.yaml has a problem, so changes to it are not used yet" in notice
    assert "line" in notice
    review.write_text(good, encoding="utf-8")
    assert hostpage.sections(ws)["rk-notice"] == ""
