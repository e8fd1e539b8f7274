"""Where a render works and how it publishes: a private staging folder, all outputs published together.

In: the output folder. Out: report files renamed into place at once, or nothing; child processes ended.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reviewkit.core.atomic import (
    describe_failure,
    make_folder,
    owner_only,
)
from reviewkit.core.errors import RenderError
from reviewkit.core.lifecycle import descendants, private_dir, remove_dir

# --------------------------------------------------------------------------- staging and children

STAGING_PREFIX = ".reviewkit-render-"


def _descendants() -> set[int]:
    """Process ids started under this process, kernels in sessions of their own included."""
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
def os_errors(out: Path) -> Iterator[None]:
    """A write that fails while the outputs are made (a full disk): a RenderError, nothing published."""
    try:
        yield
    except OSError as exc:
        raise RenderError(f"{out}: cannot write the report there ({_why(exc)}); nothing was published. "
                          "Free some space or choose another --out folder") from None


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A private folder in $TMPDIR (0700), removed afterwards; one that cannot be made (a full disk) is a RenderError.

    It holds the kernel's connection file (with its key) and the work in progress. A render killed
    outright cannot remove it, so each folder carries its maker's mark and the next render removes
    those whose maker is gone. Python's tempfile reports a full temporary folder as "No usable
    temporary directory found" (a FileNotFoundError), so the message says what it means instead.
    """
    try:
        made = private_dir(prefix)
    except OSError:
        raise RenderError("cannot make a temporary folder to render in (the disk holding it may be full); nothing "
                          "was written. Free some space and try again") from None
    try:
        yield made
    finally:
        remove_dir(made)


def _why(exc: OSError) -> str:

    return describe_failure(exc)
