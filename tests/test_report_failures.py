"""A report that fails or is stopped publishes nothing, leaves nothing and no process behind.

``reviewkit report`` runs in a subprocess of its own session, with its own TMPDIR and a marker
in its environment that every process it starts inherits (the kernel starts a session of its
own, so the marker, not the process group alone, finds it). Stopped by SIGTERM or SIGHUP at
each stage, killed outright, or run out of disk space: the output folder holds no new or
half-written report, $TMPDIR holds nothing of the report, and no process carrying the marker
outlives the command.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from reviewkit.core.lifecycle import OWNER_FILE
from reviewkit.report.printer import find_chromium
from reviewkit.report.staging import STAGING_PREFIX

from .helpers import wait_for

pytestmark = pytest.mark.slow

_LIMITED = """
import resource, sys
limit = int(sys.argv[1])
from reviewkit.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reviewkit.intake.sample import build_sample_workspace

    return build_sample_workspace(tmp_path_factory.mktemp("failures") / "eastvale").path


class Render:
    """One `reviewkit report` in its own session, TMPDIR and environment marker."""

    def __init__(self, root: Path, workspace: Path, formats: str, *, limit: int | None = None) -> None:
        self.root, self.out, self.tmp = root, root / "out", root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.mark = f"reviewkit-test-{uuid.uuid4().hex}"
        env = {**os.environ, "TMPDIR": str(self.tmp), "REVIEWKIT_TEST_MARK": self.mark,
               "PYTHONDONTWRITEBYTECODE": "1"}
        args = ["report", str(workspace), "--to", formats, "--no-cache", "--out", str(self.out)]
        cmd = [sys.executable, "-c", _LIMITED, str(limit), *args] if limit else [sys.executable, "-m", "reviewkit",
                                                                               *args]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.stderr = ""

    def wait_for(self, stage: str) -> None:
        """Read progress lines until `stage` begins."""
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode()
            self.stderr += line
            if stage in line:
                return
        pytest.fail(f"the render ended before '{stage}': {self.stderr}")

    def wait_until_running(self, program: str) -> None:
        """Wait until a process of this render other than the command runs `program` (matched in
        its command line): the stage has really begun, with the process it starts to clean up."""
        def started() -> bool:
            return self.proc.poll() is not None or any(
                program in cmdline for pid, cmdline in self.running() if pid != self.proc.pid)

        wait_for(started, f"the render to run {program}", timeout=120)
        assert self.proc.poll() is None, f"the render ended before it ran {program}: {self.stderr}"

    def finish(self) -> int:
        _, err = self.proc.communicate(timeout=300)
        self.stderr += err.decode()
        return self.proc.returncode

    def running(self) -> list[tuple[int, str]]:
        """Processes still running that this render started (by session/group, or by the marker),
        each with its command line."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
                environ = (entry / "environ").read_bytes()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if fields[0] == b"Z":
                continue
            if self.proc.pid in (int(fields[2]), int(fields[3])) or self.mark.encode() in environ:
                found.append((int(entry.name), cmdline))
        return found

    def processes(self) -> list[str]:
        """Processes still running that this render started, as 'pid: command line' (its start)."""
        return [f"{pid}: {cmdline[:100]}" for pid, cmdline in self.running()]

    def settle(self) -> list[str]:
        """Processes left 10 seconds after the command ended (a kernel notices in ~1 s)."""
        with contextlib.suppress(AssertionError):  # then they are named by the caller's assertion
            wait_for(lambda: not self.processes(), "the render's processes to end", timeout=10)
        return self.processes()

    def kill_leftovers(self) -> None:
        for line in self.processes():
            try:
                os.kill(int(line.split(":")[0]), signal.SIGKILL)
            except OSError:
                pass

    def report_files_in_tmp(self) -> list[str]:
        """Anything in $TMPDIR that is (part of) the report: outputs, pages, charts, the notebook."""
        hits = []
        for f in self.tmp.rglob("*"):
            if f.is_file() and (f.suffix in (".html", ".pdf", ".docx", ".ipynb", ".png", ".chart")
                                or b"Eastvale" in f.read_bytes()[:2_000_000]):
                hits.append(str(f.relative_to(self.tmp)))
        return hits

    def published(self) -> list[str]:
        return sorted(p.name for p in self.out.iterdir()) if self.out.exists() else []


# Each stage, with the process it has running when the signal arrives.
@pytest.mark.parametrize("stage, running, signum", [
    ("Checking the workspace", "ipykernel", signal.SIGTERM),  # the kernel is starting meanwhile
    ("Running the report notebook", "ipykernel", signal.SIGTERM),
    ("Printing to PDF", "chromium", signal.SIGTERM),
    ("Converting to HTML", "chromium", signal.SIGHUP),  # Chromium started ahead, waiting for the page
])
def test_a_stopped_render_leaves_nothing_and_no_process(sample, tmp_path, stage, running, signum):
    assert find_chromium(), "Chromium is needed for PDF output: run scripts/setup.sh"
    render = Render(tmp_path, sample, "html,pdf,docx")
    try:
        render.wait_for(stage)
        render.wait_until_running(running)
        os.kill(render.proc.pid, signum)
        code = render.finish()
        assert code == 128 + signum, render.stderr
        assert "Traceback" not in render.stderr and f"stopped ({signum.name})" in render.stderr
        assert render.settle() == []
        assert render.published() == []
        assert list(render.tmp.iterdir()) == []
    finally:
        render.kill_leftovers()


def _chromium_folders() -> set[Path]:
    """Chromium's singleton folders (a socket and a lock) straight in the system's temp folder, where
    nothing of reviewkit's would ever remove them."""
    return set(Path("/tmp").glob("org.chromium.Chromium.*"))


def test_a_render_killed_outright_publishes_nothing_and_keeps_the_report_out_of_tmpdir(sample, tmp_path):
    chromium_before = _chromium_folders()
    render = Render(tmp_path, sample, "html,pdf")
    try:
        render.wait_for("Printing to PDF")
        render.wait_until_running("chromium")
        os.kill(render.proc.pid, signal.SIGKILL)
        render.finish()
        assert [name for name in render.published() if not name.startswith(STAGING_PREFIX)] == []
        assert render.report_files_in_tmp() == []
    finally:
        render.kill_leftovers()

    def printers_tmp() -> list[Path]:  # Chromium's own $TMPDIR, in a short path: here /tmp, as TMPDIR is long
        return [d for root in (render.tmp, Path("/tmp")) for d in root.glob("rk-*")
                if (d / OWNER_FILE).is_file() and (d / OWNER_FILE).read_text().split()[0] == str(render.proc.pid)]

    # Its private temp folders (the kernel's connection file and key, the work in progress, Chromium's lock
    # folder) stay until the next render, which clears them and the staging folder the killed one left.
    left = sorted(p.name for p in render.tmp.glob("reviewkit-re*"))
    assert any(name.startswith("reviewkit-report-") for name in left), left
    assert printers_tmp(), "the printing Chromium's own temp folder, marked with its maker"
    again = Render(tmp_path, sample, "html")
    assert again.finish() == 0, again.stderr
    assert render.published() == ["report.html"]
    assert [p.name for p in render.tmp.glob("reviewkit-re*")] == []
    assert printers_tmp() == []
    assert _chromium_folders() - chromium_before == set()


def test_a_render_on_a_full_disk_publishes_nothing_and_says_so(sample, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("<p>the last report</p>", encoding="utf-8")
    # The sample's HTML is about 0.9 MB: under a 600 KB file-size limit it cannot be written.
    render = Render(tmp_path, sample, "html,docx", limit=600 * 1024)
    try:
        assert render.finish() == 1, render.stderr
        assert "Traceback" not in render.stderr
        assert "the disk is full" in render.stderr and "nothing was published" in render.stderr
        assert render.published() == ["report.html"]
        assert (out / "report.html").read_text(encoding="utf-8") == "<p>the last report</p>"
        assert render.report_files_in_tmp() == []
        assert render.settle() == []
    finally:
        render.kill_leftovers()


def test_a_refused_render_leaves_nothing_and_no_process(sample, tmp_path):
    import shutil

    refused = tmp_path / "refused"
    shutil.copytree(sample, refused)
    with (refused / "narrative" / "strengths.md").open("a", encoding="utf-8") as f:
        f.write("\nThe record of NHS number 943 476 5919 showed this.\n")
    render = Render(tmp_path, refused, "html,pdf,docx")
    try:
        assert render.finish() == 1, render.stderr
        assert "was not rendered" in render.stderr and "narrative/strengths.md" in render.stderr
        assert render.settle() == []
        assert render.published() == [] and not render.out.exists()
        assert list(render.tmp.iterdir()) == []
    finally:
        render.kill_leftovers()


def test_a_finished_render_leaves_no_process_behind(sample, tmp_path):
    assert find_chromium(), "Chromium is needed for PDF output: run scripts/setup.sh"
    render = Render(tmp_path, sample, "html,pdf,docx")
    try:
        assert render.finish() == 0, render.stderr
        assert render.settle() == []
        assert render.published() == ["report.docx", "report.html", "report.pdf"]
        assert list(render.tmp.iterdir()) == []
    finally:
        render.kill_leftovers()


# The worker says it runs before it is sent SIGTERM: a signal that arrives while fork() is still
# returning in the child is dropped by Python (it clears signals caught then), and the worker would
# sleep on.
_WORKER_STOPPED = """
import multiprocessing, os, signal, sys, time
from reviewkit.cli import run
run._stop_on_signals()
ctx = multiprocessing.get_context("fork")
running = ctx.Event()
def work():
    running.set()
    time.sleep(30)
child = ctx.Process(target=work)
child.start()
running.wait(30)
os.kill(child.pid, signal.SIGTERM)
child.join(30)
print(child.exitcode, os.getpid() == run._HANDLER_PID[0])
"""


def test_a_forked_worker_stopped_by_sigterm_ends_quietly_without_stopping_the_command():
    """A pool closing its workers sends SIGTERM; the command's handler must not unwind them as the command."""
    result = subprocess.run([sys.executable, "-c", _WORKER_STOPPED], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(128 + signal.SIGTERM), "True"]
    assert "Traceback" not in result.stderr and "_Stopped" not in result.stderr
