"""Atomic file writes: a file the kit rewrites is either wholly new or wholly untouched.

An in-place ``write_text`` truncates first: on a full disk, or if the process is killed, the
old content is gone and the new one is half written. Every rewrite instead goes to a
temporary file in the same folder (so the rename cannot cross file systems), is flushed to
disk with ``fsync`` and then renamed over the target, which POSIX and Windows make atomic.
On failure the temporary file is removed and the original is left as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import FileWriteError

__all__ = ["write_atomic", "write_bytes", "write_text"]

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _default_mode() -> int:
    """What a plain ``open(..., 'w')`` would give a new file (0666 less the umask)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:  # reading the umask changes nothing
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


def write_atomic(path: str | Path, write: Callable[[Path], None], *, mode: int | None = None) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, fsync it and rename it over ``path``.

    ``mode`` sets the new file's permissions; by default an existing file keeps its own, and a
    new file gets what ``open`` would give it. Raises ``FileWriteError`` (naming the file, and
    saying nothing was changed) when the disk is full or the folder is not writable.
    """
    out = Path(path)
    if mode is None:
        try:
            mode = out.stat().st_mode & 0o7777
        except OSError:
            mode = _default_mode()
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise _failure(out, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
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


def write_text(path: str | Path, text: str, *, mode: int | None = None, encoding: str = "utf-8") -> Path:
    """Atomically replace ``path`` with ``text`` (newlines written as given)."""
    data = text.encode(encoding)
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), mode=mode)


def write_bytes(path: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    """Atomically replace ``path`` with ``data``."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data), mode=mode)


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
