"""The report notebook's kernel: started early, handed the gated snapshot, run by papermill, cleaned.

In: the notebook, the workspace path and the snapshot file. Out: the executed notebook, stripped of
parameters, widget state and anything a cell printed to a stream.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from reviewkit.core.errors import RenderError, ReviewkitError
from reviewkit.report.html import warm_exporter, without_iri_grammars
from reviewkit.report.sections import prerender_charts

PARAMETERS = {"workspace"}
PRELOAD = "reviewkit.report.sections"  # what the report notebook imports first
CHART_PROCESSES = 2  # processes drawing the charts while the kernel starts (more gain nothing on 2 cores)
CELL_TIMEOUT = 300  # seconds per cell: generous, but a hung cell never hangs the CLI

# --------------------------------------------------------------------------- the kernel

def _kernel_manager_class() -> type:
    """A kernel manager that always starts this venv's Python, with a private environment."""
    from jupyter_client.kernelspec import KernelSpecManager  # start-up: the kernel client loads only for a render
    from jupyter_client.manager import AsyncKernelManager  # start-up: the kernel client loads only for a render
    from traitlets import Dict, Unicode, default  # start-up: traitlets load only inside the hub

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
    private environment of ``kernel_env``, IPC sockets in the render's temporary folder), it
    starts while the render reads and checks the review and imports papermill. The kernel
    manager of ``run_notebook`` then takes it on instead of starting one (``early_kernel``).
    ``stop`` ends it with its process group if it was not needed after all.
    """

    def __init__(self, env: dict[str, str], work: Path) -> None:
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


def start_kernel(env: dict[str, str], work: Path) -> _EarlyKernel | None:
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


def kernel_env(work: Path, withhold: bool = False, charts: Path | None = None,
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
    for name in ("SIGTERM", "SIGHUP"):  # forked: end quietly when stopped, whatever the parent set
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    # Its drawing workers, stopped with it when a render is refused, would print a BrokenPipeError
    # traceback on the user's screen: this process and its workers print nothing.
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    with contextlib.suppress(BaseException):  # the notebook draws what is missing and raises its error
        prerender_charts(workspace, folder, withhold_identifiers=withhold, processes=CHART_PROCESSES)


class ChartsAhead:
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


def run_notebook(nb_path: Path, workspace: Path, work: Path, withhold: bool = False,
                 charts: Path | None = None, preload: str | None = None, snapshot: Path | None = None,
                 kernel: _EarlyKernel | None = None) -> Any:
    """Execute the report notebook; RenderError naming the cell if any cell fails.

    ``charts`` names a folder where the charts are being drawn ahead (``ChartsAhead``);
    ``preload`` a module the kernel imports while papermill connects to it; ``snapshot`` the
    file of the review's snapshot the kernel builds the report from (``snapshot.write_snapshot``);
    ``kernel`` a kernel started ahead with that environment (``_EarlyKernel``) to use.
    """
    with without_iri_grammars():
        import nbformat  # start-up: nbformat loads only for a render
        import papermill  # start-up: papermill loads only for a render
        from nbclient.exceptions import (  # start-up: nbclient loads only when this runs
            CellTimeoutError,
            DeadKernelError,
        )
        from papermill.exceptions import (  # start-up: papermill loads only for a render
            PapermillException,
            PapermillExecutionError,
        )
        from traitlets.config import Config  # start-up: traitlets load only inside the hub

    try:
        params = set(papermill.inspect_notebook(str(nb_path)))
    except (OSError, ValueError, KeyError, PapermillException) as exc:  # not a readable notebook
        raise RenderError(f"{nb_path}: cannot read the report notebook ({type(exc).__name__})") from None
    if params != PARAMETERS:
        raise RenderError(
            f"{nb_path}: the cell tagged 'parameters' must define exactly "
            f"{', '.join(sorted(PARAMETERS))} (found: {', '.join(sorted(params)) or 'none'})")
    original = nbformat.read(str(nb_path), as_version=4).cells
    threading.Thread(target=warm_exporter, name="reviewkit-exporter", daemon=True).start()
    early = str(kernel.connection_file) if kernel is not None and kernel.process.poll() is None else ""
    env = dict(os.environ) if early else kernel_env(work, withhold, charts, preload, snapshot)
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
                                      "show charts with reviewkit.figures.charts.display_chart")
            if "<script" in str(data.get("text/html", "")).lower():
                raise RenderError(f"cell {i} of the report notebook outputs a <script>; a report must not run code")
            outputs.append(out)
        cell.outputs = outputs
    return nb
