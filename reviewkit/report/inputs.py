"""What a render is made of, and its cache: a digest of every input, and earlier outputs kept under it.

In: a snapshot of the review and the kit's files. Out: a digest, and cached report files to reuse.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reviewkit import __version__
from reviewkit.core.atomic import (
    make_folder,
    owner_only,
)
from reviewkit.core.resources import shipped
from reviewkit.core.tools import REFERENCE_DOCX, TEMPLATES
from reviewkit.review.snapshot import iter_files, snapshot_of

NOTEBOOK = shipped("notebooks", "review_report.ipynb")
TEMPLATE_DIRS = TEMPLATES / "nbconvert"
TEMPLATE_NAME = "reviewkit"
CACHE_DIR = Path(".cache") / "report"  # the same folder as workspace.REPORT_CACHE
CACHE_KEEP = 3

# --------------------------------------------------------------------------- inputs and cache

def _add(h: Any, label: str, data: bytes) -> None:
    h.update(label.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)


def files_under(root: Path, pattern: str = "**/*") -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def input_digest(ws: Any, *, notebook: Path = NOTEBOOK, final: bool = False, report_date: str = "",
                 withhold_identifiers: bool = False) -> str:
    """A hash of everything a render depends on: workspace files, store content, kit code, mode.

    ``ws`` is a snapshot of the review (``reviewkit.review.snapshot``), or a workspace to take one of.
    """
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
    for f in [*files_under(TEMPLATE_DIRS), *files_under(TEMPLATES / "themes", "*.yaml"), *files_under(TEMPLATES / "scales", "*.yaml")]:
        _add(h, str(f.relative_to(TEMPLATES)), f.read_bytes())
    if REFERENCE_DOCX.exists():
        _add(h, "reference.docx", REFERENCE_DOCX.read_bytes())
    kit = Path(__file__).resolve().parent.parent  # every module of the kit, in every subpackage
    for f in files_under(kit, "**/*.py"):
        _add(h, "reviewkit/" + f.relative_to(kit).as_posix(), f.read_bytes())
    return h.hexdigest()


def cache_lookup(entry: Path, formats: Sequence[str], work: Path) -> dict[str, Path]:
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


def cache_store(entry: Path, files: dict[str, Path]) -> None:
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
