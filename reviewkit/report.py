"""Render a review's report: papermill runs the notebook, nbconvert makes HTML, then PDF and Word.

    workspace ─► papermill (notebooks/review_report.ipynb, parameter: the workspace path only)
              ─► strip papermill metadata, check outputs
              ─► nbconvert HTML with templates/nbconvert/reviewkit ─► report.html
              ─► Chromium --print-to-pdf (tagged, with an outline)  ─► report.pdf   } in parallel
              ─► pandoc with templates/reference.docx, then docx.py ─► report.docx  }

A failed run is never rendered: ``RenderError`` names the cell and the error's type (and its
message only when it is a ``ReviewkitError``, whose messages never carry personal data). Work
happens in a temporary folder that is removed afterwards; the kernel gets a throwaway
IPYTHONDIR with history off, so nothing typed or shown lands anywhere else. Outputs are
cached in ``<workspace>/.cache/report/`` under a hash of every input's content, so rendering
again with nothing changed only copies files.

The review is read once, into a snapshot (``reviewkit.snapshot``): the publish gate, the
cache digest, the charts drawn ahead and the notebook's sections (handed the snapshot as a
private file in the render's staging folder) all build on it, so the report publishes
exactly the text the gate screened, whatever is saved meanwhile.

Before anything runs, the text the report would publish is screened again: while an
identifier remains, the render is refused, naming where (never what). With
``withhold_identifiers`` a DRAFT is rendered instead, each such piece of text redacted on the
fly and every page watermarked "not for publication"; a final report always refuses.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .atomic import make_folder, owner_only, write_atomic
from .errors import NotReadyError, RenderError, ReviewkitError
from .resources import shipped
from .tools import TEMPLATES

__all__ = [
    "FORMATS",
    "NOTEBOOK",
    "RenderResult",
    "find_chromium",
    "input_digest",
    "published_identifiers",
    "render_report",
]

NOTEBOOK = shipped("notebooks", "review_report.ipynb")
TEMPLATE_DIRS = TEMPLATES / "nbconvert"
TEMPLATE_NAME = "reviewkit"
REFERENCE_DOCX = TEMPLATES / "reference.docx"
FORMATS = ("html", "pdf", "docx")
PARAMETERS = {"workspace"}
PRELOAD = "reviewkit.reportsections"  # what the report notebook imports first
CHART_PROCESSES = 2  # processes drawing the charts while the kernel starts (more gain nothing on 2 cores)
CELL_TIMEOUT = 300  # seconds per cell: generous, but a hung cell never hangs the CLI
CACHE_DIR = Path(".cache") / "report"  # the same folder as workspace.REPORT_CACHE
CACHE_KEEP = 3
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")

Progress = Callable[[str], None]


class RenderResult(dict):  # type: ignore[type-arg]
    """Output paths by format; ``cached`` says the notebook was not run (inputs unchanged)."""

    cached: bool = False
    notebook: Path | None = None
    withheld: int = 0  # pieces of published text redacted on the fly (a draft with identifiers withheld)
    gaps: int = 0  # things still missing before the report can be final (a draft marked DATA INCOMPLETE)


# --------------------------------------------------------------------------- inputs and cache

def _add(h: Any, label: str, data: bytes) -> None:
    h.update(label.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)


def _files(root: Path, pattern: str = "**/*") -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def input_digest(ws: Any, *, notebook: Path = NOTEBOOK, final: bool = False, report_date: str = "",
                 withhold_identifiers: bool = False) -> str:
    """A hash of everything a render depends on: workspace files, store content, kit code, mode.

    ``ws`` is a snapshot of the review (``reviewkit.snapshot``), or a workspace to take one of.
    """
    from . import __version__
    from .snapshot import iter_files, snapshot_of

    snapshot = snapshot_of(ws)
    h = hashlib.sha256()
    _add(h, "version", __version__.encode())
    _add(h, "final", b"1" if final else b"0")
    _add(h, "withhold", b"1" if withhold_identifiers else b"0")
    _add(h, "date", report_date.encode())
    for name, data in iter_files(snapshot):
        _add(h, name, data)
    _add(h, "store", snapshot.store_digest.encode())
    _add(h, "notebook", notebook.read_bytes())
    for f in [*_files(TEMPLATE_DIRS), *_files(TEMPLATES / "themes", "*.yaml"), *_files(TEMPLATES / "scales", "*.yaml")]:
        _add(h, str(f.relative_to(TEMPLATES)), f.read_bytes())
    if REFERENCE_DOCX.exists():
        _add(h, "reference.docx", REFERENCE_DOCX.read_bytes())
    for f in _files(Path(__file__).resolve().parent, "*.py"):
        _add(h, "reviewkit/" + f.name, f.read_bytes())
    return h.hexdigest()


def _cache_lookup(entry: Path, formats: Sequence[str], work: Path) -> dict[str, Path]:
    """Copies of the cached outputs in ``work`` (a copy, so a concurrent prune cannot break them)."""
    found = {}
    for fmt in formats:
        try:
            found[fmt] = Path(shutil.copyfile(entry / f"report.{fmt}", work / f"cached.{fmt}"))
        except OSError:
            continue
    if found:
        try:
            os.utime(entry)
        except OSError:
            pass  # pruned meanwhile by another render: the copies are still good
    return found


def _cache_store(entry: Path, files: dict[str, Path]) -> None:
    make_folder(entry, exist_ok=True)  # .cache/report/<digest>: owner only
    for fmt, path in files.items():
        tmp = entry / f".report.{fmt}.{os.getpid()}.tmp"
        shutil.copyfile(path, owner_only(tmp))  # (copyfile keeps the mode of a file it writes into)
        tmp.replace(entry / f"report.{fmt}")
    os.utime(entry)
    entries = sorted((p for p in entry.parent.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime,
                     reverse=True)
    for old in entries[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- staging and children

STAGING_PREFIX = ".reviewkit-render-"


def _descendants() -> set[int]:
    """Process ids started under this process, kernels in sessions of their own included."""
    from .lifecycle import descendants

    return {p.pid for p in descendants(os.getpid())}


def end_child_processes(among: set[int] | None = None) -> None:
    """End every process this one started (or those of ``among`` still running), with their children.

    For a command that is being stopped (SIGTERM, SIGHUP): the kernel, chart workers, Chromium
    and pandoc would otherwise run on, and hold the render's folders open, after it has gone.
    """
    for _ in range(2):  # a second pass for any started while the first was ending their parents
        for pid in _descendants() if among is None else _descendants() & among:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def stopping_children_on_interrupt() -> Iterator[None]:
    """If the render is interrupted (Ctrl+C, SIGTERM, SIGHUP), end every process it started.

    The kernel, the chart workers, Chromium and pandoc would otherwise run on after the command
    has gone. Only processes started inside the block are ended, never the caller's others.
    """
    before = _descendants()
    try:
        yield
    except BaseException as exc:
        if not isinstance(exc, Exception):  # an interruption, not an error the render reports
            end_child_processes(_descendants() - before)
        raise


def _clear_stale_staging(out: Path) -> None:
    """Remove staging folders left by a render that was killed outright (its process is gone)."""
    for folder in out.glob(f"{STAGING_PREFIX}*"):
        pid = folder.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still rendering
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


@contextlib.contextmanager
def staging_folder(out: Path) -> Iterator[Path]:
    """A private folder inside ``out`` where every output is written before any is published.

    Beside the outputs (not in $TMPDIR), so publishing is a rename that cannot run out of space,
    and a render killed outright leaves nothing in the temporary folder; removed however the
    render ends (a folder ``out`` this made is removed too if it is left empty).
    """
    made = not out.exists()
    try:
        make_folder(out, exist_ok=True)  # owner-only if made here; a folder the user has keeps its mode
        _clear_stale_staging(out)
        stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    except OSError as exc:
        raise RenderError(f"{out}: cannot write the report there ({_why(exc)}); choose another --out "
                          "folder") from None
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if made:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty: a published report stays


def publish(files: dict[str, Path], out: Path, name: str = "report") -> dict[str, Path]:
    """Move every staged output into ``out`` at once: renames in one folder, which need no space.

    Each is made owner-only first: Chromium, pandoc, nbformat and the cache's copies write
    files as the umask says, which the private staging folder hid until now.
    """
    published = {}
    for fmt, path in files.items():
        target = out / f"{name}.{fmt}"
        try:
            owner_only(path)
            os.replace(path, target)
        except OSError as exc:
            raise RenderError(f"{out}: cannot write the report there ({_why(exc)}); choose another --out "
                              "folder") from None
        published[fmt] = target
    return published


@contextlib.contextmanager
def _os_errors(out: Path) -> Iterator[None]:
    """A write that fails while the outputs are made (a full disk): a RenderError, nothing published."""
    try:
        yield
    except OSError as exc:
        raise RenderError(f"{out}: cannot write the report there ({_why(exc)}); nothing was published. "
                          "Free some space or choose another --out folder") from None


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A folder in $TMPDIR, removed afterwards; one that cannot be made (a full disk) is a RenderError.

    Python's tempfile reports a full temporary folder as "No usable temporary directory found"
    (a FileNotFoundError), so the message says what it means instead.
    """
    try:
        made = tempfile.TemporaryDirectory(prefix=prefix)
    except OSError:
        raise RenderError("cannot make a temporary folder to render in (the disk holding it may be full); nothing "
                          "was written. Free some space and try again") from None
    with made as name:
        yield Path(name)


def _why(exc: OSError) -> str:
    from .store import describe_failure

    return describe_failure(exc)


# --------------------------------------------------------------------------- the kernel

def _kernel_manager_class() -> type:
    """A kernel manager that always starts this venv's Python, with a private environment."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Dict, Unicode, default

    class ReportKernelManager(AsyncKernelManager):
        """Uses only this Python's kernelspec (or ipykernel's own), never a stale user one."""

        kernel_env = Dict(config=True, help="environment of the kernel process")
        early_kernel = Unicode("", config=True, help="connection file of a kernel started ahead (_EarlyKernel)")

        @default("kernel_spec_manager")
        def _default_ksm(self) -> KernelSpecManager:
            return KernelSpecManager(parent=self,
                                     kernel_dirs=[str(Path(sys.prefix) / "share" / "jupyter" / "kernels")])

        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"  # a socket file in the temporary folder, not a TCP port

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # After the kill, check every 10 ms (not 100 ms) that the kernel has gone.
            await super()._async_wait(pollinterval=min(pollinterval, 0.01))

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            early = _EARLY_KERNELS.get(self.early_kernel)
            if early is not None:  # take on its connection, never write another
                self.transport_encryption, self.cache_ports = "disabled", False
                self.connection_file = str(early.connection_file)
                self.load_connection_file()
                self._connection_file_written = True
            kw.setdefault("env", dict(self.kernel_env))
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_pre_start_kernel(**kw)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            early = _EARLY_KERNELS.pop(self.early_kernel, None)
            if early is None:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            if early.process.poll() is not None:
                raise RuntimeError("the kernel started ahead has stopped")
            provisioner: Any = self.provisioner
            provisioner.process, provisioner.pid = early.process, early.process.pid
            provisioner.pgid = early.process.pid  # it leads a session of its own
            provisioner.cwd = kw.get("cwd", os.getcwd())
            self._reconcile_connection_info(provisioner.connection_info)

    return ReportKernelManager


KERNEL_ARGUMENTS = ("--HistoryManager.enabled=False",)  # and --ipython-dir: see _kernel_arguments
_EARLY_KERNELS: dict[str, _EarlyKernel] = {}  # by connection file, until papermill takes them on


def _kernel_arguments(work: Path) -> list[str]:
    return [*KERNEL_ARGUMENTS, f"--ipython-dir={work / 'ipython'}"]


class _EarlyKernel:
    """The report notebook's kernel, started before anything else of the render.

    A kernel takes a second or so to start and import what the notebook needs; started here,
    as jupyter_client would start it (this Python's kernelspec, a session of its own, the
    private environment of ``_kernel_env``, IPC sockets in the render's temporary folder), it
    starts while the render reads and checks the review and imports papermill. The kernel
    manager of ``run_notebook`` then takes it on instead of starting one (``early_kernel``).
    ``stop`` ends it with its process group if it was not needed after all.
    """

    def __init__(self, env: dict[str, str], work: Path) -> None:
        import secrets

        self.connection_file = work / "kernel-connection.json"
        info = {"transport": "ipc", "ip": str(work / "kernel"), "shell_port": 1, "iopub_port": 2,
                "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": secrets.token_hex(32),
                "signature_scheme": "hmac-sha256", "kernel_name": "python3"}
        fd = os.open(self.connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(info, f)
        argv = [a.replace("{connection_file}", str(self.connection_file)) for a in _kernelspec_argv()]
        env = {**env, "JPY_PARENT_PID": str(os.getpid())}  # the kernel ends if this process dies
        env.pop("PYTHONEXECUTABLE", None)
        self.process = subprocess.Popen([*argv, *_kernel_arguments(work)], env=env, cwd=work,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        _EARLY_KERNELS[str(self.connection_file)] = self

    def stop(self) -> None:
        """End the kernel (its whole session) unless papermill has already; wait for it."""
        _EARLY_KERNELS.pop(str(self.connection_file), None)
        if self.process.poll() is None:  # (not yet collected, so its group id is still its own)
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.process.wait(10)


def _kernelspec_argv() -> list[str]:
    """The command of this Python's kernelspec, as ``ReportKernelManager`` would run it."""
    spec = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    try:
        argv = json.loads(spec.read_text(encoding="utf-8"))["argv"]
        if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
            return argv
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def _start_kernel(env: dict[str, str], work: Path) -> _EarlyKernel | None:
    """The kernel started ahead, or None (then papermill starts it as usual)."""
    try:
        return _EarlyKernel(env, work)
    except OSError:
        return None


# What render_report tells its kernel, by environment variable: reportdata.WITHHOLD_ENV,
# reportsections.CHARTS_ENV and snapshot.SNAPSHOT_ENV (named here too, so that the kernel can
# start before this process imports those modules, and pandas with them; a test keeps them equal).
WITHHOLD_ENV = "REVIEWKIT_WITHHOLD_IDENTIFIERS"
CHARTS_ENV = "REVIEWKIT_CHARTS"
SNAPSHOT_ENV = "REVIEWKIT_SNAPSHOT"


def _kernel_env(work: Path, withhold: bool = False, charts: Path | None = None,
                preload: str | None = None, snapshot: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    ipython = work / "ipython"
    ipython.mkdir(exist_ok=True)
    if preload:
        # The kernel idles about 0.2 s between starting and its first cell, while papermill
        # connects: import the notebook's module (pandas above all) in a thread meanwhile. The
        # notebook's own import of it then waits for that import to finish, or repeats it if
        # it failed, so the cell raises the error as it would have.
        startup = ipython / "profile_default" / "startup"
        startup.mkdir(parents=True, exist_ok=True)
        (startup / "00-reviewkit-preload.py").write_text(
            f'__import__("threading").Thread(target=__import__, args=({preload!r},), '
            f'name="reviewkit-preload", daemon=True).start()\n', encoding="utf-8")
    env.update({"IPYTHONDIR": str(ipython), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
                "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    for name in (WITHHOLD_ENV, CHARTS_ENV, SNAPSHOT_ENV):
        env.pop(name, None)  # this render decides, never the caller's environment
    if withhold:
        env[WITHHOLD_ENV] = "1"
    if charts is not None:
        env[CHARTS_ENV] = str(charts)
    if snapshot is not None:
        env[SNAPSHOT_ENV] = str(snapshot)  # the notebook builds on the review the render gated
    return env


def _draw_charts(workspace: Any, folder: Path, withhold: bool) -> None:
    """In the forked process: draw the charts; any error is left for the notebook to raise."""
    from .reportsections import prerender_charts

    for name in ("SIGTERM", "SIGHUP"):  # forked: end quietly when stopped, whatever the parent set
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    with contextlib.suppress(BaseException):  # the notebook draws what is missing and raises its error
        prerender_charts(workspace, folder, withhold_identifiers=withhold, processes=CHART_PROCESSES)


class _ChartsAhead:
    """The report's charts drawn in a process of this one while the kernel starts and loads.

    Starting the kernel and importing pandas there take one core for most of a second; the
    charts, which depend only on the review, use the other meanwhile, drawn from the render's
    snapshot of it (inherited by the fork). The kernel picks each one up from a private folder
    in the render's staging folder (see ``reportsections.prerender_charts``), checking it
    was drawn from the data it loaded, and draws for itself any that is missing. Only where
    processes fork (Linux) and with 2+ cores.
    """

    @staticmethod
    def possible() -> bool:
        return sys.platform == "linux" and (os.cpu_count() or 1) >= 2

    def __init__(self, snapshot: Any, folder: Path | None, withhold: bool) -> None:
        import multiprocessing

        self.folder: Path | None = None
        self._process: Any = None
        self._watcher: Any = None
        if folder is None:
            return
        folder.mkdir()  # the kernel, told of this folder, waits for its charts: say when none will come
        try:
            process = multiprocessing.get_context("fork").Process(
                target=_draw_charts, args=(snapshot, folder, withhold))
            process.start()
        except (OSError, ValueError):
            (folder / "done").touch()
            return
        self.folder, self._process = folder, process

        def done_when_it_ends() -> None:  # however it ends, the kernel stops waiting for it
            process.join()
            with contextlib.suppress(OSError):  # (unless the render is over and its folder gone)
                (folder / "done").touch()

        self._watcher = threading.Thread(target=done_when_it_ends, name="reviewkit-charts", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """End the drawing process if it is still running (the notebook failed or finished)."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._watcher.join(5)


_REVIEWKIT_ERRORS: set[str] | None = None


def _safe_error_names() -> set[str]:
    """Names of reviewkit's own exceptions: their messages are safe to show."""
    global _REVIEWKIT_ERRORS
    if _REVIEWKIT_ERRORS is None:
        names, todo = set(), [ReviewkitError]
        while todo:
            cls = todo.pop()
            names.add(cls.__name__)
            todo.extend(cls.__subclasses__())
        _REVIEWKIT_ERRORS = names
    return _REVIEWKIT_ERRORS


def _describe_cell(nb_path: Path, cells: list[Any], source: str) -> str:
    """'cell 6 (# 4. Data analysis …)': 1-based position in the notebook file and first line."""
    index = next((i for i, c in enumerate(cells) if c.source == source), None)
    lines = [ln.strip() for ln in source.splitlines() if ln.strip()]
    first = lines[0] if lines else "(empty)"
    if len(first) > 80:
        first = first[:77] + "…"
    where = f"cell {index + 1}" if index is not None else "a cell"
    return f"{where} of {nb_path.name} ({first})"


@contextlib.contextmanager
def _without_iri_grammars() -> Any:
    """Import nbformat (papermill, nbconvert) without jsonschema compiling its IRI grammars.

    When ``rfc3987_syntax`` is installed (jupyter-events asks for it), importing jsonschema
    builds 38 parsers for the 'iri' string format: about a second of every render's critical
    path, before the kernel even starts. Notebook validation never checks formats, so the
    import is skipped while jsonschema loads, which then simply has no 'iri' checker.
    """
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        yield
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes `import` raise ImportError
    try:
        yield
    finally:
        if "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]


def run_notebook(nb_path: Path, workspace: Path, work: Path, withhold: bool = False,
                 charts: Path | None = None, preload: str | None = None, snapshot: Path | None = None,
                 kernel: _EarlyKernel | None = None) -> Any:
    """Execute the report notebook; RenderError naming the cell if any cell fails.

    ``charts`` names a folder where the charts are being drawn ahead (``_ChartsAhead``);
    ``preload`` a module the kernel imports while papermill connects to it; ``snapshot`` the
    file of the review's snapshot the kernel builds the report from (``snapshot.write_snapshot``);
    ``kernel`` a kernel started ahead with that environment (``_EarlyKernel``) to use.
    """
    with _without_iri_grammars():
        import nbformat
        import papermill
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from papermill.exceptions import PapermillException, PapermillExecutionError
        from traitlets.config import Config

    try:
        params = set(papermill.inspect_notebook(str(nb_path)))
    except (OSError, ValueError, KeyError, PapermillException) as exc:  # not a readable notebook
        raise RenderError(f"{nb_path}: cannot read the report notebook ({type(exc).__name__})") from None
    if params != PARAMETERS:
        raise RenderError(
            f"{nb_path}: the cell tagged 'parameters' must define exactly "
            f"{', '.join(sorted(PARAMETERS))} (found: {', '.join(sorted(params)) or 'none'})")
    original = nbformat.read(str(nb_path), as_version=4).cells
    threading.Thread(target=_warm_exporter, name="reviewkit-exporter", daemon=True).start()
    early = str(kernel.connection_file) if kernel is not None and kernel.process.poll() is None else ""
    env = dict(os.environ) if early else _kernel_env(work, withhold, charts, preload, snapshot)
    config = Config({"ReportKernelManager": {"kernel_env": env, "ip": str(work / "kernel"), "early_kernel": early}})
    try:
        # The kernel is killed (with its process group) once every output is in, rather than asked
        # to shut down: that takes 0.2 s with pandas loaded, and now and then ipykernel's shutdown
        # stalls until jupyter_client sends SIGTERM 2.5 s later. Nothing in it needs saving.
        return papermill.execute_notebook(
            str(nb_path), None, parameters={"workspace": str(workspace)}, kernel_name="python3",
            progress_bar=False, log_output=False, cwd=str(work), start_timeout=60,
            execution_timeout=CELL_TIMEOUT, request_save_on_cell_execute=False, shutdown_kernel="immediate",
            kernel_manager_class=_kernel_manager_class(), config=config,
            extra_arguments=_kernel_arguments(work),
        )
    except PapermillExecutionError as exc:
        where = _describe_cell(nb_path, original, exc.source)
        if exc.ename in _safe_error_names():
            raise RenderError(f"The report was not rendered: {where} failed with {exc.ename}: {exc.evalue}") from None
        raise RenderError(
            f"The report was not rendered: {where} failed with {exc.ename}. Run the notebook by hand "
            "on this workspace to see the traceback.") from None
    except CellTimeoutError:
        raise RenderError(f"The report was not rendered: a cell of {nb_path.name} ran for more than "
                          f"{CELL_TIMEOUT} seconds and was stopped.") from None
    except DeadKernelError:
        raise RenderError("The report was not rendered: the notebook's Python kernel stopped "
                          "unexpectedly (out of memory?).") from None
    except (RuntimeError, TimeoutError) as exc:
        raise RenderError(f"The report was not rendered: the notebook's Python kernel did not start "
                          f"({type(exc).__name__}); check that ipykernel is installed in {sys.prefix}.") from None


def clean_notebook(nb: Any) -> Any:
    """Drop papermill's traces (parameters, timings), widget state and anything printed."""
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    for i, cell in enumerate(nb.cells, 1):
        for key in ("papermill", "execution", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.outputs:
            if out.output_type in ("stream", "error"):
                continue
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data or "application/javascript" in data:
                raise RenderError(f"cell {i} of the report notebook shows a widget or script; "
                                  "a report must only display HTML and images")
            for mime in ("image/png", "image/jpeg"):
                if mime in data and not str(out.get("metadata", {}).get(mime, {}).get("alt", "")).strip():
                    raise RenderError(f"cell {i} of the report notebook shows an image without alt text; "
                                      "show charts with reviewkit.charts.display_chart")
            if "<script" in str(data.get("text/html", "")).lower():
                raise RenderError(f"cell {i} of the report notebook outputs a <script>; a report must not run code")
            outputs.append(out)
        cell.outputs = outputs
    return nb


# --------------------------------------------------------------------------- HTML

_H2 = re.compile(r"<h2\b([^>]*)>(.*?)</h2>", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_CELL_ID = re.compile(r'\s+id="cell-id=[^"]*"')
_TOC_MARK = "<!-- reviewkit:toc -->"


def css_text(value: str) -> str:
    """Text safe inside a CSS string in a <style> element."""
    return re.sub(r'["\\<>\n\r]', "", value)


_EXPORTER: tuple[Any, Any] = (None, None)  # (the template files' stamp, the exporter made from them)
_EXPORTER_LOCK = threading.Lock()


def _exporter() -> Any:
    """The kit's HTML exporter, made once per process so its templates compile once (0.08 s of
    every render otherwise), and made again if a template file has changed since."""
    global _EXPORTER
    with _without_iri_grammars():
        from nbconvert import HTMLExporter

    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in _files(TEMPLATE_DIRS))
    if _EXPORTER[0] != stamp:
        _EXPORTER = (stamp, HTMLExporter(
            template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIRS)],
            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True))
    return _EXPORTER[1]


def _warm_exporter() -> None:
    """Import nbconvert, compile the templates and make the page's style sheet while the
    kernel runs the notebook (this process only waits then), by converting an empty notebook:
    the real conversion afterwards starts at once."""
    with contextlib.suppress(Exception), _EXPORTER_LOCK:  # to_html reports any problem itself
        import nbformat

        _exporter().from_notebook_node(nbformat.v4.new_notebook(), resources={"reviewkit": {}})


def to_html(nb: Any, context: dict[str, Any]) -> str:
    """The executed notebook as the kit's HTML: template, contents list, stable ids."""
    with _EXPORTER_LOCK:  # one conversion at a time through the shared exporter
        body, _ = _exporter().from_notebook_node(nb, resources={"reviewkit": context})
    body = _CELL_ID.sub("", body)
    entries = []
    for m in _H2.finditer(body):
        ident = _ID.search(m.group(1))
        if ident and "section-heading" in m.group(1):
            entries.append(f'<li><a href="#{ident.group(1)}">{m.group(2).strip()}</a></li>')
    body = body.replace(_TOC_MARK, f"<ol>{''.join(entries)}</ol>", 1)
    if "<script" in body.lower():
        raise RenderError("the rendered HTML contains a <script>; check templates/nbconvert/reviewkit")
    return body


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


def to_pdf(html_file: Path, out: Path, work: Path, chromium: str) -> Path:
    """Print the finished HTML with headless Chromium: tagged PDF with a document outline."""
    profile = work / "chromium"
    profile.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
           "XDG_CACHE_HOME": str(profile / "cache"), "DBUS_SESSION_BUS_ADDRESS": "disabled:"}
    if len(tempfile.gettempdir()) > 40 and os.path.isdir("/tmp"):
        # Chromium puts a socket in a folder of $TMPDIR and aborts when that path passes the
        # 107 bytes a socket address holds; the folder holds only the socket and a lock.
        env["TMPDIR"] = "/tmp"
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
        # A TMPDIR of its own, removed by stop(): killed, Chromium leaves its lock folder (with a
        # socket, whose path must stay short) behind.
        self._tmp = tempfile.mkdtemp(prefix="rk-")
        env = {**os.environ, "HOME": str(profile), "XDG_CONFIG_HOME": str(profile / "config"),
               "XDG_CACHE_HOME": str(profile / "cache"), "DBUS_SESSION_BUS_ADDRESS": "disabled:",
               "TMPDIR": self._tmp}
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-crash-reporter", "--disable-breakpad", "--proxy-server=127.0.0.1:9",  # as to_pdf
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                "--disable-default-apps", "--no-default-browser-check", f"--user-data-dir={profile}",
                "--remote-debugging-pipe", "about:blank"]
        # Chromium's ends are moved above 9 first, so that placing them at 3 and 4 cannot
        # overwrite one with the other.
        import fcntl

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


class _PrinterAfterCharts:
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


def _pdf(printer: _EarlyPrinter | None, html_file: Path, out: Path, work: Path, chromium: str) -> Path:
    """The PDF from the Chromium started ahead, or (if it failed) from a Chromium of its own."""
    if printer is not None:
        try:
            return printer.print(html_file, out)
        except (RuntimeError, TimeoutError, OSError, KeyError, ValueError):
            pass
        finally:
            printer.stop()  # now, while Word is still being written
    return to_pdf(html_file, out, work, chromium)


# --------------------------------------------------------------------------- Word

def _docx_html(body: str) -> str:
    """The HTML as pandoc reads best: landmarks as plain divs.

    pandoc reads only what is inside <main> when there is one, and skips header, nav and footer.
    """
    body = re.sub(r'<a class="skip-link"[^>]*>.*?</a>', "", body, flags=re.DOTALL)
    body = re.sub(r"<(/?)(header|nav|footer|main)\b", lambda m: f"<{m.group(1)}div", body)
    body = re.sub(r"<style\b.*?</style>", "", body, flags=re.DOTALL)
    # The document title becomes Word's Title paragraph, so the cover's own h1 would repeat it;
    # the cover's subheading is a bold line, not a Heading 1 (which starts a new page in Word).
    title = re.search(r'<h1 id="title">(.*?)</h1>', body, flags=re.DOTALL)
    if title:
        body = re.sub(r"<title>.*?</title>", f"<title>{title.group(1)}</title>", body, count=1, flags=re.DOTALL)
        body = body.replace(title.group(0), "", 1)
    body = re.sub(r'<h2 class="cover-team-heading"[^>]*>(.*?)</h2>', r"<p><strong>\1</strong></p>", body,
                  flags=re.DOTALL)
    # The headings carry their own numbers, so the contents list is plain lines in Word, not a
    # numbered list ("1. 1. Introduction").
    toc = re.search(r'(<h2 id="toc-heading">.*?</h2>\s*)<ol>(.*?)</ol>', body, flags=re.DOTALL)
    if toc:
        lines = re.sub(r"<li>(.*?)</li>", r"<p>\1</p>", toc.group(2), flags=re.DOTALL)
        body = body.replace(toc.group(0), toc.group(1) + lines, 1)
    return body


_DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')
_MEDIA = re.compile(r"<img\b[^>]*>")


def to_docx(body: str, out: Path, work: Path, context: dict[str, Any] | None = None) -> Path:
    """Word through pandoc (pypandoc-binary) with the kit's reference document, then finished.

    Charts go to pandoc as PNG files rather than data URIs (pandoc reads a 1 MB page of
    base64 several times slower), and every other image is dropped, so the only files pandoc
    reads are the page and the images written here. ``finish_docx`` then fits the tables to
    the page and, for a draft (as the render ``context`` says), marks every page.
    """
    import pypandoc

    from .docx import draft_mark, finish_docx

    media = work / "media"
    media.mkdir(exist_ok=True)
    count = 0

    def extract(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        (media / f"figure-{count}.png").write_bytes(base64.b64decode(m.group(1)))
        return f'src="media/figure-{count}.png"'

    page = _DATA_PNG.sub(extract, _docx_html(body))
    page = _MEDIA.sub(lambda m: m.group(0) if re.search(r'src="media/figure-\d+\.png"', m.group(0)) else "", page)
    src = work / "report-for-word.html"
    src.write_text(page, encoding="utf-8")
    args = ["--shift-heading-level-by=-1", f"--resource-path={work}"]
    if REFERENCE_DOCX.exists():
        args += ["--reference-doc", str(REFERENCE_DOCX)]
    try:
        pypandoc.convert_file(str(src), "docx", format="html", outputfile=str(out), extra_args=args,
                              cworkdir=str(work))
    except (RuntimeError, OSError) as exc:
        raise RenderError(f"pandoc could not write the Word document ({type(exc).__name__})") from None
    return finish_docx(out, draft_mark(context or {}))


# --------------------------------------------------------------------------- the pipeline

def check_formats(formats: Iterable[str]) -> list[str]:
    wanted = []
    for fmt in formats:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise RenderError(f"unknown output format '{fmt}'; choose from {', '.join(FORMATS)}")
        if fmt not in wanted:
            wanted.append(fmt)
    if not wanted:
        raise RenderError(f"no output format given; choose from {', '.join(FORMATS)}")
    return wanted


_SHOW_LOCATIONS = 10


def published_identifiers(ws: Any) -> list[str]:
    """Where text the report would publish holds an identifier or an unconfirmed shape: one entry per piece, no values."""
    from .errors import TextFinding
    from .pagegate import KINDS
    from .privacy import BLOCK, describe, screen
    from .redaction import PAGE, blocking_findings
    from .reportdata import narrative_status

    # First: a file that is not UTF-8 is a clear WorkspaceError. (A snapshot: the files it read.)
    narrative = narrative_status(ws if hasattr(ws, "narrative_bytes") else ws.path)
    located = blocking_findings(ws)
    pieces: dict[tuple[str, str, str], list[TextFinding]] = {}
    shapes: dict[tuple[str, str, str], list[str]] = {}
    for loc in located:
        if loc.level == PAGE:
            shapes.setdefault((loc.table, loc.row, loc.field), []).append(
                f"{KINDS[loc.kind].split(' (')[0]} at {loc.start + 1}-{loc.end} as printed")
        else:
            pieces.setdefault((loc.table, loc.row, loc.field), []).append(
                TextFinding(loc.kind, loc.level, loc.start, loc.end))
    names = ws.private_names()
    for item in narrative.values():  # a finding spanning two lines shows only in the whole text
        table = f"narrative/{item.path.name}"
        if item.written and not any(key[0] == table for key in pieces):
            found = [f for f in screen(item.text, names) if f.level == BLOCK]
            if found:
                pieces[(table, "the whole file", "text")] = found
    out = [f"{table}, {row}, {field}: {describe(found)}" for (table, row, field), found in pieces.items()]
    keys = list(pieces)
    for key, what in shapes.items():
        # A paragraph's shapes join a screening finding that starts inside it: one piece to fix.
        same = next((i for i, k in enumerate(keys) if k == key or (k[0] == key[0] and k[2] == key[2]
                                                                  and _within(k[1], key[1]))), None)
        if same is not None:
            out[same] += "; " + "; ".join(what)
        else:
            out.append(f"{key[0]}, {key[1]}, {key[2]}: {'; '.join(what)}")
    return out


def _lines(row: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"lines? (\d+)(?:-(\d+))?", row)
    return (int(m[1]), int(m[2] or m[1])) if m else None


def _within(inner: str, outer: str) -> bool:
    """True when a finding's row ("line 2") lies inside a paragraph's rows ("lines 1-2")."""
    a, b = _lines(inner), _lines(outer)
    return a is not None and b is not None and b[0] <= a[0] <= b[1]


def _pieces(n: int) -> str:
    return "1 piece of text" if n == 1 else f"{n} pieces of text"


def _refusal(found: list[str], path: Path, final: bool) -> str:
    """Why the render was refused and how to fix it: locations and kinds only, never a value."""
    n = len(found)
    shown = "; ".join(found[:_SHOW_LOCATIONS]) + (f"; and {n - _SHOW_LOCATIONS} more" if n > _SHOW_LOCATIONS else "")
    message = (f"The report was not rendered: {_pieces(n)} that the report would publish "
               f"{'holds' if n == 1 else 'hold'} what looks like a personal identifier: {shown}. "
               f"List them with: reviewkit check {path}; replace them with placeholders with: "
               f"reviewkit redact {path}")
    if final:
        return message + ". A final report never withholds identifiers: remove them first."
    return message + (f"; or render a watermarked draft with them withheld: "
                      f"reviewkit report {path} --withhold-identifiers")


def _output_refusal(found: list[str], path: Path) -> str:
    """Why a finished final report was not published: which file holds which shape, never a value."""
    return ("The final report was not published: the finished files, read back as a reader gets them, hold "
            f"what could identify a person: {'; '.join(found)}. Nothing was written. Find the text with: "
            f"reviewkit check {path}; if check lists nothing, the text came from a conversion (a table or a "
            "link): rewrite the nearby text and render again.")


def _not_ready(gaps: Sequence[Any], path: Path) -> str:
    """Why a final report was refused: every gap by location (never a value), and the way on."""
    lines = "\n".join(f"  {g}" for g in gaps)
    n = len(gaps)
    message = (f"The final report was not rendered: {n} thing{'s are' if n != 1 else ' is'} still missing or "
               f"unfinished:\n{lines}\nSee this list at any time with: reviewkit status {path}. Finish them, or "
               "render a draft without --final (it lists them up front).")
    if any(g.kind == "identifiers" for g in gaps):
        message += " A final report never withholds identifiers: remove them first."
    return message


def _page_dates(snapshot: Any, render_date: dt.date) -> str:
    """The report's date and the render's date as the page prints them (``_context``): both in the cache key."""
    from .reportsections import long_date

    return long_date(snapshot.meta.report_date or render_date.isoformat()) + long_date(render_date.isoformat())


def _context(ws: Any, final: bool, render_date: dt.date, withheld: int = 0,
             gaps: Sequence[Any] = ()) -> dict[str, Any]:
    """What the template shows besides the notebook: cover, draft state, footer, missing-data box.

    ``draft`` and ``draft_label`` ("DRAFT — DATA INCOMPLETE" while anything is missing, else
    "DRAFT"; empty when final) say how every page must be marked, in any output format.
    """
    from . import __version__
    from .readiness import DRAFT_INCOMPLETE, missing_summary
    from .reportdata import withheld_meta
    from .reportsections import cover_context, long_date

    report_date = ws.meta.report_date or render_date.isoformat()
    ctx = cover_context(withheld_meta(ws) if withheld else ws.meta, report_date)
    incomplete = bool(gaps) and not final
    label = "" if final else DRAFT_INCOMPLETE if incomplete else "DRAFT"
    ctx.update(incomplete=incomplete, draft_label=label, draft_label_css=css_text(label),
               missing=missing_summary(gaps) if incomplete else [], gap_count=len(gaps))
    footer = f"Practice review of {ws.meta.council}" + ("" if final else f" – {label}")
    if withheld:
        footer += " – NOT FOR PUBLICATION (identifiers withheld)"
        ctx["withheld"] = withheld
        ctx["withheld_notice"] = (f"{_pieces(withheld)} held possible personal identifiers and "
                                  f"{'was' if withheld == 1 else 'were'} withheld; run reviewkit check "
                                  "on the review to find them.")
    try:
        report_iso = dt.date.fromisoformat(report_date).isoformat()
    except ValueError:
        report_iso = ""  # a date written as text ("December 2026") has no machine-readable form
    ctx.update(draft=not final, version=__version__, render_date=long_date(render_date.isoformat()),
               render_date_iso=render_date.isoformat(), report_date_iso=report_iso,
               footer_css=css_text(footer))
    return ctx


def render_report(workspace_path: str | Path, out_dir: str | Path, formats: Sequence[str] = ("html",), *,
                  final: bool = False, progress: Progress | None = None, keep_notebook: bool = False,
                  use_cache: bool = True, notebook: str | Path | None = None,
                  today: dt.date | None = None, withhold_identifiers: bool = False) -> RenderResult:
    """Render the workspace's report to out_dir/report.{html,pdf,docx}; nothing is written on error.

    Refuses while text the report would publish holds an identifier, unless
    ``withhold_identifiers`` (never with ``final``): then a watermarked DRAFT is rendered with
    each such piece of text redacted on the fly. ``final`` refuses while ``readiness`` lists
    any gap (NotReadyError, every gap named) and drops the draft markers; a draft with gaps is
    marked "DRAFT — DATA INCOMPLETE" on every page and lists what is missing up front; ``use_cache`` False always runs the notebook;
    ``notebook`` replaces the kit's report notebook.
    """
    say = progress or (lambda _message: None)
    wanted = check_formats(formats)
    nb_path = Path(notebook).resolve() if notebook is not None else NOTEBOOK
    if not nb_path.is_file():
        raise RenderError(f"{nb_path}: the report notebook is missing")
    # If the notebook builds on reviewkit.reportsections (the kit's does; a custom one may
    # not), its kernel imports that module while it starts, and the charts are drawn ahead.
    builds = PRELOAD in nb_path.read_text(encoding="utf-8", errors="replace")
    out = Path(out_dir).resolve()  # papermill changes the working folder while the notebook runs
    result = RenderResult()
    # Outputs are made in a staging folder inside `out` and published together once all are
    # made; the kernel's sockets and IPython folder (nothing of the report) go in $TMPDIR.
    # (The cleanup stack closes first: the kernel and Chromium started ahead are gone before
    # their folders are removed.)
    with stopping_children_on_interrupt(), staging_folder(out) as work, \
            temporary_folder("reviewkit-report-") as runtime, contextlib.ExitStack() as cleanup:
        # The notebook's kernel starts first, and takes a second or so to, while this process
        # reads and checks the review: it is handed the snapshot (a file in the staging folder,
        # never in $TMPDIR, as it holds the review's text) only once the gate has passed, and is
        # ended, whole, if the render is refused or its outputs come from the cache.
        handed = work / "review-snapshot.json"
        charts = work / "charts" if builds and _ChartsAhead.possible() else None
        kernel = _start_kernel(_kernel_env(Path(runtime), withhold_identifiers, charts,
                                           PRELOAD if builds else None, handed), Path(runtime))
        if kernel is not None:
            cleanup.callback(kernel.stop)
        from .readiness import readiness  # (imported once the kernel is starting: they bring in pandas)
        from .snapshot import take_snapshot, write_snapshot
        from .workspace import NAMES_FILE, open_workspace

        say("Checking the workspace")
        ws = open_workspace(workspace_path)
        workspace = ws.path.resolve()
        # The review is read once, here: the gate, the cache digest, the charts and the
        # notebook's sections all take this snapshot, so the report publishes exactly the text
        # the gate saw.
        snapshot = take_snapshot(ws)
        render_date = today or dt.date.today()
        entry = workspace / CACHE_DIR / input_digest(snapshot, notebook=nb_path, final=final,
                                                      report_date=_page_dates(snapshot, render_date),
                                                      withhold_identifiers=withhold_identifiers)
        with _os_errors(out):
            cached = _cache_lookup(entry, wanted, work) if use_cache and not keep_notebook else {}
        runs = "html" not in cached and set(cached) != set(wanted)  # the notebook must run
        if not runs and kernel is not None:
            kernel.stop()  # not needed after all
        # The charts are drawn from the snapshot while it is checked, and the kernel starts;
        # like everything made before the gate has passed, they are removed if it refuses.
        ahead = _ChartsAhead(snapshot, charts if runs else None, withhold_identifiers)
        cleanup.callback(ahead.stop)
        found = published_identifiers(snapshot)
        if found and not final and not withhold_identifiers:
            raise RenderError(_refusal(found, ws.path, final))
        withheld = len(found) if withhold_identifiers and not final else 0
        gaps = readiness(snapshot, identifiers=found)
        if final and gaps:
            raise NotReadyError(_not_ready(gaps, ws.path), tuple(gaps))
        chromium = require_chromium() if "pdf" in wanted else ""
        context = _context(snapshot, final, render_date, withheld, gaps)
        if withheld:
            say(f"Withholding {_pieces(withheld)} that may identify someone: this draft is not for publication")
        result.withheld = withheld
        result.gaps = len(gaps)
        with _os_errors(out):
            starting: _PrinterAfterCharts | None = None
            files: dict[str, Path] = {}
            if set(cached) == set(wanted):
                say("Inputs unchanged since the last render: reusing it")
                result.cached = True
                files = dict(cached)
            else:
                body = None
                if "html" in cached:
                    say("Inputs unchanged since the last HTML render: reusing its HTML")
                    body = cached["html"].read_text(encoding="utf-8")
                else:
                    say("Running the report notebook")
                    write_snapshot(snapshot, handed)  # the gate has passed: the kernel may read it
                    if "pdf" in wanted and "pdf" not in cached:  # Chromium starts while the notebook runs
                        starting = _PrinterAfterCharts(chromium, work,
                                                       ahead.folder if (os.cpu_count() or 1) <= 2 else None)
                        cleanup.callback(starting.stop)
                    try:
                        nb = clean_notebook(run_notebook(nb_path, workspace, Path(runtime), withhold_identifiers,
                                                         charts=charts, preload=PRELOAD if builds else None,
                                                         snapshot=handed, kernel=kernel))
                    finally:
                        ahead.stop()
                        if kernel is not None:
                            kernel.stop()
                    if keep_notebook:
                        import nbformat

                        files["ipynb"] = work / "report.ipynb"
                        nbformat.write(nb, str(files["ipynb"]))
                    say("Converting to HTML")
                    body = to_html(nb, context)
                html_file = work / "report.html"
                html_file.write_text(body, encoding="utf-8")
                files["html"] = html_file
                jobs = {}
                with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                    if "pdf" in wanted:
                        say("Printing to PDF with Chromium")
                        printer = starting.get() if starting is not None else None
                        jobs["pdf"] = pool.submit(_pdf, printer, html_file, work / "report.pdf", work, chromium)
                    if "docx" in wanted:
                        say("Converting to Word with pandoc")
                        jobs["docx"] = pool.submit(to_docx, body, work / "report.docx", work, context)
                    for fmt, job in jobs.items():
                        files[fmt] = job.result()
                if use_cache:
                    _cache_store(entry, {k: v for k, v in files.items() if k in FORMATS})
                    ws.stamp_report_cache(snapshot.files.get(NAMES_FILE, b""))
            if final:  # the reader's copy, read back as a reader gets it, before anything is published
                say("Checking the finished files for anything that could identify a person")
                from .outputgate import screen_outputs
                from .pagegate import declared_for

                found_out = screen_outputs({k: v for k, v in files.items() if k in FORMATS}, declared_for(snapshot))
                if found_out:
                    raise RenderError(_output_refusal(found_out, ws.path))
            order = [*wanted, *(["ipynb"] if keep_notebook else [])]
            for fmt, target in publish({fmt: files[fmt] for fmt in order}, out).items():
                if fmt == "ipynb":
                    result.notebook = target
                else:
                    result[fmt] = target
    return result
