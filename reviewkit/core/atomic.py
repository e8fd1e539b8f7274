"""Files the kit writes: owner-only, and either wholly new or wholly untouched.

An in-place ``write_text`` truncates first: on a full disk, or if the process is killed, the
old content is gone and the new one is half written. Every rewrite instead goes to a
temporary file in the same folder (so the rename cannot cross file systems), is flushed to
disk with ``fsync`` and then renamed over the target, which POSIX and Windows make atomic.
On failure the temporary file is removed and the original is left as it was.

Whatever the kit writes holds personal data or text about it (evidence notes, staff logins,
the narrative, reports), and a shared computer's usual umask (022) would let every other user
read it. So every file the kit writes ends up owner-only (``FILE_MODE``, 0600) and every
folder it creates is owner-only (``FOLDER_MODE``, 0700), whatever the umask: ``write_atomic``
for what the kit writes itself, ``make_folder`` for its folders, and ``owner_only`` for a file
another program writes (openpyxl, pandoc, Chromium, SQLite, a copy).
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile

from reviewkit.core.errors import FileWriteError

__all__ = ["FILE_MODE", "FOLDER_MODE", "make_folder", "owner_only", "write_atomic", "write_bytes", "write_text",
           "write_xlsx", "xlsx_bytes"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def make_folder(path: str | Path, *, exist_ok: bool = False) -> Path:
    """Create a folder, and any missing parents, owner-only (0700) whatever the umask.

    Only folders this call creates are changed: a folder that exists already (one the user
    chose, such as an existing ``--out``) keeps its mode.
    """
    folder = Path(path)
    missing: list[Path] = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    if not missing:
        folder.mkdir(exist_ok=exist_ok)  # raises as mkdir does (it exists; it is a file)
        return folder
    for p in reversed(missing):
        try:
            p.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made meanwhile by another process: not ours to change
            if p is folder and not exist_ok or not p.is_dir():
                raise
            continue
        os.chmod(p, FOLDER_MODE)  # mkdir's mode is masked by the umask
    return folder


def owner_only(path: str | Path) -> Path:
    """Make a file owner-only (0600); one that does not exist yet is created empty, so a program
    that then writes into it (SQLite, a copy) never leaves it open to others."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return Path(path)


def write_atomic(path: str | Path, write: Callable[[Path], None], *, mode: int = FILE_MODE) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it and rename it over ``path``.

    The file is owner-only (0600) unless ``mode`` says otherwise, even when it replaces a file
    that others could read: the temporary file is private from the moment it exists, and
    ``write`` may open it again (openpyxl, pandoc) without widening it. Raises
    ``FileWriteError`` (naming the file, and saying nothing was changed) when the disk is full
    or the folder is not writable.
    """
    out = Path(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise _failure(out, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, FILE_MODE)  # writable by its owner even under a umask that takes that away
        write(tmp)
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _failure(out, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(out.parent)
    return out


def write_text(path: str | Path, text: str, *, mode: int = FILE_MODE, encoding: str = "utf-8") -> Path:
    """Atomically replace ``path`` with ``text`` (newlines written as given)."""
    data = text.encode(encoding)
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), mode=mode)


def write_bytes(path: str | Path, data: bytes, *, mode: int = FILE_MODE) -> Path:
    """Atomically replace ``path`` with ``data``."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), mode=mode)


def write_xlsx(path: str | Path, workbook: Any, *, mode: int = FILE_MODE) -> Path:
    """Atomically replace ``path`` with an openpyxl workbook, built in memory first.

    openpyxl writes each sheet to a temporary file and the zip straight to the target, so a
    full disk failed inside it: a traceback, "Exception ignored" from its half-closed files,
    and the sheet's text left in a temporary file. Built in memory, the only write is here.
    """
    data = xlsx_bytes(workbook)
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), mode=mode)


def xlsx_bytes(workbook: Any) -> bytes:
    """An openpyxl workbook (not write-only) as the bytes of an .xlsx file, touching no disk."""
    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing

    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter  # start-up: openpyxl loads only when a workbook is read or written

    class InMemory(ExcelWriter):  # type: ignore[misc]
        def write_worksheet(self, ws: Any) -> None:
            """openpyxl's own, with the sheet's XML kept in memory instead of a temporary file."""
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            writer = WorksheetWriter(ws, out=io.BytesIO())
            writer.write()
            ws._rels = writer._rels
            self._archive.writestr(ws.path[1:], writer.read())
            self.manifest.append(ws)

    if workbook.write_only:
        raise ValueError("xlsx_bytes needs a workbook that is not write-only")
    buffer = io.BytesIO()
    workbook.properties.modified = dt.datetime.now(tz=dt.timezone.utc).replace(tzinfo=None)  # as openpyxl's save
    with ZipFile(buffer, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        InMemory(workbook, archive).save()
    return buffer.getvalue()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; folders cannot be opened for this on every platform."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _failure(path: Path, exc: OSError) -> FileWriteError:
    """A plain message for a failed write: which file, why, and that nothing changed."""
    if exc.errno in _NO_SPACE:
        return FileWriteError(f"not enough disk space to write {path}; nothing was changed. "
                              "Free some space, or choose another folder, and try again.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return FileWriteError(f"cannot write {path} (permission denied); nothing was changed. "
                              "Choose a folder you can write to.")
    if exc.errno == errno.ENOENT:
        return FileWriteError(f"cannot write {path}: its folder does not exist; nothing was changed.")
    reason = exc.strerror or type(exc).__name__
    return FileWriteError(f"cannot write {path} ({reason}); nothing was changed.")


# SQLite's primary result codes that name a fix (the store's failures are described here too).
_FULL, _IOERR, _CORRUPT, _NOTADB = 13, 10, 11, 26
_BUSY, _LOCKED, _READONLY, _CANTOPEN, _PERM = 5, 6, 8, 14, 3


def describe_failure(exc: BaseException) -> str:
    """Why the store (or a file) could not be used, in words that name the fix; never a value."""
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return "the disk is full: free some space and try again"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "permission denied: check you may write to that folder"
        return exc.strerror or type(exc).__name__
    if any(code in str(exc) for code in ("ENOSPC", "EFBIG", "EDQUOT")):  # lxml's IO_ENOSPC and kin
        return "the disk is full: free some space and try again"
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_FULL, _IOERR):
        return "the disk is full or cannot be written: free some space and try again"
    if primary in (_CORRUPT, _NOTADB):
        return ("the file is damaged or is not a review store; restore review.db from a backup, "
                "or start a new workspace and import the exported files")
    if primary in (_BUSY, _LOCKED):
        return "another program is writing to the review; wait for it to finish and try again"
    if primary in (_READONLY, _CANTOPEN, _PERM):
        return "permission denied: check you may read and write the workspace folder and review.db"
    return type(exc).__name__
