"""A review workspace: one folder holding everything about one review.

    review.yaml       council, theme, dates, team, case allocation, previous review
    audit_tool.yaml   a frozen copy of the audit tool the review uses, scale included
    codebook.yaml     a frozen copy of the theme codebook
    review.db         the SQLite store (ratings, notes, conversations, audit log)
    narrative/*.md    prose sections written by the PSWs
    private/names.txt names screened out of free text; never exported

Copying the folder copies the review; every path inside is relative. The tool is copied in at
creation so that later edits to the shipped tool never change a review already under way.

In: a folder. Out: an open ``Workspace`` (its metadata, tool, names and store), or a new
workspace created there; what review.yaml says is read and checked in reviewkit.review.reviewyaml.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import yaml

from reviewkit.core.atomic import describe_failure, make_folder, write_bytes, write_text
from reviewkit.core.errors import FileWriteError, ReviewkitError, ToolError, WorkspaceError
from reviewkit.core.themes import Codebook, load_codebook
from reviewkit.core.tools import AuditTool, load_tool, load_yaml, parse_tool
from reviewkit.review import migrations
from reviewkit.review.files import (
    CODEBOOK_FILE,
    CONFIRMED_FILE,
    DB_FILE,
    NAMES_FILE,
    NARRATIVE_SECTIONS,
    PRIVATE_DIR,
    REVIEW_FILE,
    TOOL_FILE,
)
from reviewkit.review.narrative import narrative_stub
from reviewkit.review.reviewyaml import FORMAT, Member, ReviewMeta, item_lines, new_review_yaml, parse_meta
from reviewkit.review.session import current_session
from reviewkit.review.store import Rules, Store, check_location

REPORT_CACHE = Path(".cache") / "report"
# Where the review hub keeps the last review.yaml that read correctly (see open_workspace's last_good);
# set by the hub in each person's server, so the forms keep working while review.yaml has a typo.
LAST_GOOD_ENV = "REVIEWKIT_LAST_GOOD_REVIEW"
_NAMES_STAMP = ".names-digest"  # in the report cache: the names.txt its renders were screened with
_log = logging.getLogger(__name__)


def parse_names(raw: bytes, f: Path) -> list[str]:
    """The names of private/names.txt (file ``f``): one a line, blank lines and # comments skipped."""
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise WorkspaceError(f"{f}: not UTF-8 text; open it in a text editor and save it as UTF-8") from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


class Workspace:
    """An open review workspace: its metadata, audit tool and store."""

    def __init__(self, path: Path, meta: ReviewMeta, tool: AuditTool,
                 sources: dict[str, bytes] | None = None) -> None:
        self.path = path
        self.meta = meta
        self.tool = tool
        # The bytes review.yaml and audit_tool.yaml held when they were parsed into meta and tool,
        # so a snapshot of the review (reviewkit.review.snapshot) holds the very text they came from.
        self.sources: dict[str, bytes] = dict(sources or {})
        # Opened from the hub's last good copy because review.yaml is broken: what is wrong with it.
        self.review_problem = ""

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    @property
    def narrative_dir(self) -> Path:
        return self.path / "narrative"

    def private_names(self) -> list[str]:
        """Names the host listed for screening; kept in the workspace, never exported."""
        f = self.path / NAMES_FILE
        if not f.exists():
            return []
        try:
            raw = f.read_bytes()
        except OSError as exc:
            raise WorkspaceError(f"{f}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        return parse_names(raw, f)

    def confirmed_words(self) -> list[str]:
        """Words the host confirmed are not names (private/confirmed_words.txt), for the publish gate."""
        f = self.path / CONFIRMED_FILE
        try:
            raw = f.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise WorkspaceError(f"{f}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        return parse_names(raw, f)

    def confirm_words(self, words: list[str]) -> int:
        """Add words to private/confirmed_words.txt (owner-only); returns how many were new.

        A word holding a digit run, an '@' or a space is refused: only single words and
        references are confirmed, never a number, an address or a phrase.
        """
        for word in words:
            if not word.strip() or any(c.isspace() for c in word.strip()) or "@" in word or \
                    sum(c.isdigit() for c in word) >= 6:
                raise WorkspaceError("confirm takes single words or references, as 'reviewkit check --show-words' "
                                     "lists them; a number, an email address or a phrase cannot be confirmed: "
                                     "rewrite it instead")
        known = self.confirmed_words()
        folded = {w.casefold() for w in known}
        new = [w.strip() for w in dict.fromkeys(words) if w.strip().casefold() not in folded]
        if new:
            f = self.path / CONFIRMED_FILE
            header = "# Words the host confirmed are not people's names (reviewkit confirm); one a line.\n"
            write_text(f, header + "".join(f"{w}\n" for w in [*known, *new]), mode=0o600)
            self.purge_report_cache()
        return len(new)

    def purge_report_cache(self) -> None:
        """Delete earlier renders: after a redaction or a change to names.txt they may hold old text."""
        shutil.rmtree(self.path / REPORT_CACHE, ignore_errors=True)

    def stamp_report_cache(self, names: bytes | None = None) -> None:
        """Record which names.txt the cached renders were made with (see ``open_workspace``).

        ``names``: the bytes of names.txt the render screened with (default: the file as it is now).
        """
        cache = self.path / REPORT_CACHE
        digest = _names_digest(self.path) if names is None else hashlib.sha256(names).hexdigest()
        # Another process opening the workspace purges a cache it finds without a stamp, so a new cache
        # folder appears with its stamp already in it (made aside, then renamed into place).
        try:
            if not cache.is_dir():
                aside = Path(tempfile.mkdtemp(prefix=".report-", dir=make_folder(cache.parent, exist_ok=True)))
                write_text(aside / _NAMES_STAMP, digest, mode=0o600)
                try:
                    aside.rename(cache)
                    return
                except OSError:  # another render made it meanwhile
                    shutil.rmtree(aside, ignore_errors=True)
            write_text(cache / _NAMES_STAMP, digest, mode=0o600)
        except (OSError, FileWriteError):  # purged meanwhile (names.txt changed): the render is simply not kept
            pass

    def rules(self) -> Rules:
        return Rules(
            questions=tuple(self.tool.all_ids),
            scale=self.tool.scale,
            reviewers=tuple(self.meta.reviewers),
            cases={c.id: c.reviewers for c in self.meta.cases},
            names=tuple(self.private_names()),
        )

    def codebook(self) -> Codebook:
        """The review's frozen codebook (or the shipped one named in review.yaml)."""
        frozen = self.path / CODEBOOK_FILE
        return load_codebook(frozen if frozen.exists() else self.meta.codebook)

    def store(self) -> Store:
        """Open the store with this review's rules; close it (or use `with`) when done.

        Under the review hub the store also knows who signed in, and refuses a visiting
        reviewer's writes as anyone else or to a case not allocated to them.
        """
        return Store(self.db_path, self.rules(), session=current_session(self.meta))

    def save_meta(self) -> None:
        """Write review.yaml back (after validating it round-trips)."""
        data = self.meta.to_yaml()
        parse_meta(data, str(self.path / REVIEW_FILE))
        _write_yaml(self.path / REVIEW_FILE, data)


def _dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _write_yaml(path: Path, data: Any) -> None:
    write_text(path, _dump_yaml(data))


def _names_digest(root: Path) -> str:
    f = root / "private" / "names.txt"
    return hashlib.sha256(f.read_bytes() if f.exists() else b"").hexdigest()


def _purge_stale_cache(ws: Workspace) -> None:
    """A names.txt changed since the cached renders (or unknown to them): clear the cache.

    Names are edited in a text editor, so the kit learns of a change only when it next opens
    the workspace; renders made before it may print a name now listed.
    """
    stamp = ws.path / REPORT_CACHE / _NAMES_STAMP
    if not (ws.path / REPORT_CACHE).is_dir():
        return
    try:
        recorded = stamp.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        recorded = ""
    if recorded != _names_digest(ws.path):
        ws.purge_report_cache()


def _frozen_tool(tool: AuditTool) -> dict[str, Any]:
    """The tool's YAML with its rating scale written in, so later template edits change nothing."""
    assert tool.source is not None
    data = load_yaml(tool.source.read_bytes(), str(tool.source))
    data["scale"] = [{"label": lv.label, "code": lv.code, "score": lv.score} for lv in tool.scale.levels]
    return data


# The parts of a workspace that hold personal data or text not yet screened: only their owner
# may read them (other people on the same machine, a shared server above all, may not).
PRIVATE_FILES = (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm")
PRIVATE_TREES = (PRIVATE_DIR, ".cache")


def tighten_private_parts(root: Path) -> list[str]:
    """Make the store, private/ and the report cache owner-only; the names of those changed."""
    changed: list[str] = []

    def tighten(path: Path, mode: int) -> None:
        try:
            st = path.lstat()
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid() or not st.st_mode & 0o077:
            return
        try:
            path.chmod(stat.S_IMODE(st.st_mode) & mode)
        except OSError:
            return
        top = path.relative_to(root).parts[0].split("-")[0]  # review.db-wal, -shm: the store
        if top not in changed:
            changed.append(top)

    for name in PRIVATE_FILES:
        tighten(root / name, 0o700)
    for name in PRIVATE_TREES:
        tree = root / name
        if not tree.is_dir() or tree.is_symlink():
            continue
        tighten(tree, 0o700)
        for folder, dirs, files in os.walk(tree):
            for d in dirs:
                tighten(Path(folder) / d, 0o700)
            for f in files:
                tighten(Path(folder) / f, 0o700)
    return changed


def _read_review(f: Path, raw: bytes) -> tuple[Any, ReviewMeta, int]:
    """review.yaml's bytes read and checked: its data (current format), what it says, and the format it was in."""
    data = load_yaml(raw, str(f), WorkspaceError)
    old_format = FORMAT
    if isinstance(data, dict):  # (anything else: parse_meta says what is wrong)
        data, old_format = migrations.upgrade_review_data(data, str(f))  # a newer format is refused here
    meta = parse_meta(data, str(f), item_lines(raw) if old_format == FORMAT else None)
    return data, meta, old_format


def review_file_problem(path: str | Path) -> str:
    """What is wrong with the workspace's review.yaml as it is now (file, line and fix), or ''."""
    f = Path(path) / REVIEW_FILE
    try:
        _read_review(f, f.read_bytes())
    except OSError as exc:
        return f"{f}: cannot be read ({exc.strerror or type(exc).__name__})"
    except ReviewkitError as exc:
        return str(exc)
    return ""


def _kept(last_good: Path | None) -> bytes | None:
    if last_good is None:
        return None
    try:
        return last_good.read_bytes()
    except OSError:
        return None


def open_workspace(path: str | Path, *, last_good: str | Path | None = None) -> Workspace:
    """Open and validate a workspace folder.

    ``last_good`` (the review hub's): a private file holding the last review.yaml that read
    correctly. Each correct read updates it; when review.yaml is broken (a typo while the hub
    runs) the workspace opens with the kept copy instead and ``review_problem`` says what is
    wrong, with the line, so one mistake never locks the whole team out.
    """
    root = Path(path)
    f = root / REVIEW_FILE
    if not root.is_dir():
        raise WorkspaceError(f"{root}: no such workspace folder; create one with 'reviewkit new {root}'")
    if not f.exists():
        raise WorkspaceError(f"{root}: not a review workspace (no {REVIEW_FILE}); create one with 'reviewkit new'")
    keep = Path(last_good) if last_good else None
    raw_review = f.read_bytes()
    problem = ""
    try:
        data, meta, old_format = _read_review(f, raw_review)
    except WorkspaceError as exc:
        kept = _kept(keep)
        if kept is None:
            raise
        try:
            data, meta, old_format = _read_review(f, kept)
        except WorkspaceError:
            raise exc from None
        problem, raw_review = str(exc), kept
    migrations.check_store_not_newer(root / DB_FILE)
    tightened = tighten_private_parts(root)
    if tightened:
        _log.warning("%s: %s could be read by other users of this computer; made private to you",
                     root, ", ".join(tightened))
    tool_file = root / TOOL_FILE
    try:
        raw_tool = tool_file.read_bytes()
        tool = parse_tool(load_yaml(raw_tool, str(tool_file)), str(tool_file))
    except FileNotFoundError:
        raise WorkspaceError(f"{tool_file}: missing; copy the audit tool '{meta.tool}' there") from None
    except UnicodeDecodeError:
        raise WorkspaceError(f"{tool_file}: not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise WorkspaceError(f"{tool_file}:{line} is not valid YAML; restore it from the review's backup "
                             "or a copy of the audit tool") from None
    except ToolError as exc:
        raise WorkspaceError(str(exc)) from None
    if (tool.id, tool.version) != (meta.tool, meta.tool_version):
        raise WorkspaceError(
            f"{f}: says tool '{meta.tool}' version {meta.tool_version} but {TOOL_FILE} is "
            f"'{tool.id}' version {tool.version}"
        )
    if old_format != FORMAT and not problem:  # valid in the current format: now write it so
        migrations.save_upgraded_review_file(f, data, old_format, _dump_yaml)
    ws = Workspace(root, meta, tool, {REVIEW_FILE: raw_review, TOOL_FILE: raw_tool})
    ws.review_problem = problem
    if keep is not None and not problem and _kept(keep) != raw_review:
        write_bytes(keep, raw_review, mode=0o600)
    _purge_stale_cache(ws)
    return ws


def create_workspace(
    path: str | Path,
    *,
    council: str,
    theme: str,
    tool: str = "strengths-based-practice",
    reviewers: list[str] | None = None,
    host: str | None = None,
    review_questions: list[str] | None = None,
) -> Workspace:
    """Create a new workspace folder with review.yaml, the tool copy, narrative stubs and store."""
    root = Path(path)
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root}: folder exists and is not empty; choose a new folder")
    check_location(root)
    audit_tool = load_tool(tool)
    team = [Member(n, "", "host" if n == host else "visiting") for n in (reviewers or [])]
    if host and host not in (reviewers or []):
        team.append(Member(host, "", "host"))
    meta = ReviewMeta(council=council, theme=theme, tool=audit_tool.id, tool_version=audit_tool.version, team=team,
                      review_questions=[" ".join(q.split()) for q in (review_questions or []) if q.strip()])
    parse_meta(meta.to_yaml(), str(root / REVIEW_FILE))  # fail before writing anything
    codebook = load_codebook(meta.codebook)
    existed = root.exists()
    try:
        make_folder(root, exist_ok=True)  # (an empty folder the user chose keeps its mode)
        return _fill_workspace(root, meta, audit_tool, codebook)
    except (OSError, ReviewkitError) as exc:  # a full disk: FileWriteError, StoreError or OSError
        # Half a workspace would be refused as "not empty" next time: leave none.
        if existed:
            for child in list(root.iterdir()):
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
        reason = describe_failure(exc) if isinstance(exc, OSError) else str(exc)
        raise WorkspaceError(f"{root}: cannot create the workspace there ({reason})") from None


def _fill_workspace(root: Path, meta: ReviewMeta, audit_tool: AuditTool, codebook: Codebook) -> Workspace:
    _write_yaml(root / TOOL_FILE, _frozen_tool(audit_tool))
    assert codebook.source is not None
    write_bytes(root / CODEBOOK_FILE, codebook.source.read_bytes())
    write_text(root / REVIEW_FILE, new_review_yaml(meta))
    make_folder(root / "narrative")
    for name, title in NARRATIVE_SECTIONS.items():
        write_text(root / "narrative" / f"{name}.md", narrative_stub(name, title, meta.review_questions))
    make_folder(root / PRIVATE_DIR)
    write_text(root / PRIVATE_DIR / "names.txt",
               "# Names to screen out of every note and quote, one per line (people, carers, staff).\n"
               "# This file never leaves the workspace.\n")
    ws = Workspace(root, meta, audit_tool)
    ws.store().close()
    return ws
