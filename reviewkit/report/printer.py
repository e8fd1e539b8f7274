"""The HTML report printed to a tagged PDF by Debian's Chromium, started early and reused.

In: report.html. Out: report.pdf (with an outline), or a RenderError naming what failed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewkit.core.errors import RenderError
from reviewkit.core.lifecycle import private_dir, sweep_stale
from reviewkit.report.paging import heading_pages, number_contents

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")

# --------------------------------------------------------------------------- PDF

def find_chromium() -> str | None:
    """The Chromium to print with: $REVIEWKIT_CHROMIUM, else the system's chromium."""
    override = os.environ.get("REVIEWKIT_CHROMIUM")
    if override:
        return override if Path(override).is_file() and os.access(override, os.X_OK) else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    found = find_chromium()
    if found is None:
        raise RenderError(
            "PDF output needs Chromium, which was not found. Install it (Debian/Ubuntu: "
            "sudo apt-get install -y chromium), or set REVIEWKIT_CHROMIUM to its path, or leave "
            "pdf out of --to.")
    return found


CHROMIUM_TMP_PREFIX = "rk-"


def _chromium_tmp_root() -> str:
    # Chromium puts a socket in a folder of $TMPDIR and aborts when that path passes the 107 bytes
    # a socket address holds.
    root = tempfile.gettempdir()
    return "/tmp" if len(root) > 40 and os.path.isdir("/tmp") else root


def chromium_tmp() -> Path:
    """A private $TMPDIR for Chromium on a short path, marked with its maker: killed, Chromium leaves its lock
    folder there, and the next render removes it (``sweep_chromium_tmp``)."""
    return private_dir(CHROMIUM_TMP_PREFIX, _chromium_tmp_root())


def sweep_chromium_tmp() -> None:
    """Remove the Chromium temp folders of renders that were killed (their maker gone), PDF or not this time."""
    with contextlib.suppress(OSError):  # no usable temp folder: the render says so where it needs one
        sweep_stale(CHROMIUM_TMP_PREFIX, _chromium_tmp_root())


def to_pdf(html_file: Path, out: Path, work: Path, chromium: str) -> Path:
    """Print the finished HTML with headless Chromium: tagged PDF with a document outline."""
    profile = work / "chromium"
    profile.mkdir(exist_ok=True)
    try:
        tmp = chromium_tmp()
    except OSError:
        raise RenderError("cannot make a temporary folder for Chromium to print in (the disk holding it may be "
                          "full); nothing was published. Free some space and try again") from None
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
           "XDG_CACHE_HOME": str(profile / "cache"), "DBUS_SESSION_BUS_ADDRESS": "disabled:", "TMPDIR": str(tmp)}
    # No crash reporter: its handler process outlives Chromium when Chromium is stopped. Any web
    # request goes to a proxy on this machine where nothing listens: the report must not need one.
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-crash-reporter", "--disable-breakpad", "--proxy-server=127.0.0.1:9",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           "--disable-default-apps", "--no-default-browser-check", f"--user-data-dir={profile}",
           "--no-pdf-header-footer", "--generate-pdf-document-outline", f"--print-to-pdf={out}",
           html_file.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=180, env=env, cwd=work, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError("Chromium did not finish printing the report to PDF within 180 seconds") from None
    except OSError as exc:
        raise RenderError(f"Chromium ({chromium}) could not be started: {exc.strerror}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        raise RenderError(f"Chromium ({chromium}) could not print the report to PDF (exit code {done.returncode})")
    return out


class _EarlyPrinter:
    """Headless Chromium started while the notebook runs, then asked over its DevTools pipe to
    print the finished HTML: the same PDF as ``to_pdf`` (tagged, with an outline, CSS page
    size), without the second or so Chromium takes to start on the render's critical path.

    Chromium reads DevTools commands from its descriptor 3 and answers on 4, each message
    JSON ending in a NUL byte. It runs in a session of its own and is killed with it by
    ``stop``. Where processes cannot be spawned this way, or anything fails, the render
    prints with ``to_pdf`` instead.
    """

    def __init__(self, chromium: str, work: Path) -> None:
        profile = work / "chromium"
        profile.mkdir(exist_ok=True)
        self._tmp = chromium_tmp()  # removed by stop()
        env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
               "XDG_CACHE_HOME": str(profile / "cache"), "DBUS_SESSION_BUS_ADDRESS": "disabled:",
               "TMPDIR": str(self._tmp)}
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-crash-reporter", "--disable-breakpad", "--proxy-server=127.0.0.1:9",  # as to_pdf
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                "--disable-default-apps", "--no-default-browser-check", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        # Chromium's ends are moved above 9 first, so that placing them at 3 and 4 cannot
        # overwrite one with the other.
        raw = os.pipe() + os.pipe()
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in raw]
        for fd in raw:
            os.close(fd)
        command_in, command_out, answer_in, answer_out = ends
        self._write = os.fdopen(command_out, "wb", buffering=0)
        self._read = os.fdopen(answer_in, "rb", buffering=0)
        self.pid = 0
        self._next = 0
        self._session = ""
        self._failure = "no answer"
        self._messages: list[Any] = []
        self._arrived = threading.Condition()
        try:
            self.pid = os.posix_spawn(chromium, args, env, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, command_in, 3), (os.POSIX_SPAWN_DUP2, answer_out, 4)])
        except OSError:
            self.stop()
            raise
        finally:
            os.close(command_in)
            os.close(answer_out)
        threading.Thread(target=self._listen, name="reviewkit-chromium", daemon=True).start()
        self._ready = threading.Thread(target=self._open_page, name="reviewkit-chromium-page", daemon=True)
        self._ready.start()

    def _listen(self) -> None:
        pending = b""
        while chunk := self._read.read(1 << 16):
            pending += chunk
            *done, pending = pending.split(b"\0")
            with self._arrived:
                self._messages.extend(json.loads(d) for d in done)
                self._arrived.notify_all()
        with self._arrived:
            self._messages.append(None)  # Chromium has gone
            self._arrived.notify_all()

    def _wait(self, wanted: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        with self._arrived:
            while True:
                for i, m in enumerate(self._messages):
                    if m is None:
                        raise RuntimeError("Chromium stopped")
                    if wanted(m):
                        return self._messages.pop(i)
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("Chromium did not answer")
                self._arrived.wait(left)

    def _call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 60) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        message = {"id": ident, "method": method, "params": params or {}}
        if self._session:
            message["sessionId"] = self._session
        self._write.write(json.dumps(message).encode() + b"\0")
        answer = self._wait(lambda m: m.get("id") == ident, timeout)
        if "error" in answer:
            raise RuntimeError(f"Chromium refused {method}")
        return dict(answer.get("result", {}))

    def _open_page(self) -> None:
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._session = session
            self._call("Page.enable")
        except Exception as exc:  # noqa: BLE001 (print() reports it and the render falls back)
            self._session = ""
            self._failure = f"{type(exc).__name__}: {exc}"

    def print(self, html_file: Path, out: Path) -> Path:
        """Load the finished HTML and print it to ``out``."""
        self._ready.join(60)
        if not self._session:
            raise RuntimeError(f"Chromium did not open a page ({self._failure})")
        self._call("Page.navigate", {"url": html_file.as_uri()})
        self._wait(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == self._session, 180)
        pdf = self._call("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True,
                                              "displayHeaderFooter": False, "generateTaggedPDF": True,
                                              "generateDocumentOutline": True}, timeout=180)
        out.write_bytes(base64.b64decode(pdf["data"]))
        return out

    def stop(self, timeout: float = 10) -> None:
        """Close Chromium and wait for it to end; kill its whole session if it does not.

        Asked to close, Chromium ends its own helper processes and collects them; killed, they
        would be left for the system to collect, which not every container's first process does.
        """
        if self.pid:
            with contextlib.suppress(OSError, ValueError):
                self._write.write(json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                try:
                    if os.waitpid(self.pid, os.WNOHANG)[0]:
                        break
                except ChildProcessError:
                    break
                time.sleep(0.01)
            with contextlib.suppress(OSError):  # whatever of its session is still running
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(self.pid, 0)
            self.pid = 0
        for f in (self._write, self._read):
            with contextlib.suppress(OSError):
                f.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _start_printer(chromium: str, work: Path) -> _EarlyPrinter | None:
    """Chromium started ahead for the PDF, where this platform can hand it the DevTools pipe."""
    if not chromium or not hasattr(os, "posix_spawn") or not hasattr(os, "POSIX_SPAWN_DUP2"):
        return None
    try:
        return _EarlyPrinter(chromium, work)
    except OSError:
        return None


class PrinterAfterCharts:
    """Chromium started once the charts drawn ahead are done, not with them.

    On two cores the kernel's start and the chart drawing already take both; Chromium's own
    start (about half a second of CPU) then only slows them: measured on the sample, starting
    it once the charts are done brings the notebook in 0.6 s sooner and the PDF 0.3 s later.
    With more cores (or no charts drawn ahead, ``charts`` None) it starts at once.
    """

    def __init__(self, chromium: str, work: Path, charts: Path | None) -> None:
        self._lock = threading.Lock()
        self._printer: _EarlyPrinter | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._start, args=(chromium, work, charts),
                                        name="reviewkit-chromium-start", daemon=True)
        self._thread.start()

    def _start(self, chromium: str, work: Path, charts: Path | None) -> None:
        if charts is not None:
            deadline = time.monotonic() + 30
            while not (charts / "done").exists() and time.monotonic() < deadline and not self._stopped:
                time.sleep(0.02)
        with self._lock:
            if not self._stopped:
                self._printer = _start_printer(chromium, work)

    def get(self) -> _EarlyPrinter | None:
        """The printer, once started (None where it could not be)."""
        self._thread.join()
        return self._printer

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            printer = self._printer
        if printer is not None:
            printer.stop()


def _print_once(printer: _EarlyPrinter | None, html_file: Path, out: Path, work: Path,
                chromium: str) -> tuple[Path, _EarlyPrinter | None]:
    """One print: with the Chromium started ahead, or (if it failed, now stopped) one of its own."""
    if printer is not None:
        try:
            return printer.print(html_file, out), printer
        except (RuntimeError, TimeoutError, OSError, KeyError, ValueError):
            printer.stop()
    return to_pdf(html_file, out, work, chromium), None


def print_pdf(printer: _EarlyPrinter | None, html_file: Path, out: Path, work: Path, chromium: str) -> Path:
    """The PDF, its Contents numbered: printed once, each section's page read from the outline,
    then printed again with the numbers in (``reviewkit.report.paging``)."""
    try:
        pdf, printer = _print_once(printer, html_file, out, work, chromium)
        page = html_file.read_text(encoding="utf-8")
        numbered = number_contents(page, heading_pages(pdf))
        if numbered != page:
            paged = work / "report-paged.html"
            paged.write_text(numbered, encoding="utf-8")
            pdf, printer = _print_once(printer, paged, out, work, chromium)
        return pdf
    finally:
        if printer is not None:
            printer.stop()  # now, while Word is still being written
