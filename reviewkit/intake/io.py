"""Import and export of ratings, case flags, meetings, conversations, notes and concerns (CSV and XLSX).

An import reads every file and checks every row before anything is written, then writes it
all in one store transaction: one bad row anywhere and nothing is stored, and the user gets
every problem at once (file, row, column, what was expected) instead of one per attempt.
Messages never quote a cell, because any cell could hold personal data. Exports use the same
contracts, so an exported file imports back unchanged (the offline audit workbook, in
``reviewkit.intake.workbook``, is a ratings file with instructions beside it).

Reading files is ``reviewkit.intake.tables``; the row checks are ``reviewkit.intake.rowchecks``; this module
runs the two, writes what was checked, and exports.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io as _io
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from reviewkit.core.atomic import describe_failure, write_atomic
from reviewkit.core.errors import CalibrationPendingError, ConflictError, FileWriteError, ImportFileError, InvalidInputError, Problem, StoreError
from reviewkit.core.sheets import append_row, cell_of
from reviewkit.intake.rowchecks import ConcernRow, ConversationRow, FlagRow, MeetingRow, NoteRow, RowChecker, stored_id
from reviewkit.intake.tables import (
    CONTRACTS,
    EXPORT_KINDS,
    MAX_ROWS,
    MAX_XLSX_BYTES,
    Contract,
    Progress,
    Table,
    column_letter,
    neutralise,
    read_file,
    xml_errors,
)
from reviewkit.review.ratings import ImportSummary
from reviewkit.review.store import Store
from reviewkit.review.workspace import Workspace

__all__ = ["CONTRACTS", "Contract", "EXPORT_KINDS", "ImportResult", "MAX_ROWS", "MAX_XLSX_BYTES", "export", "write_tables",
           "import_files"]


# -- import ---------------------------------------------------------------------------------
class ImportResult(dict):  # type: ignore[type-arg]
    """What an import stored, by kind; ``warnings`` lists what was stored but still needs work.

    A warning (a Requires Improvement or Inadequate rating with no evidence note) does not
    stop the import: the reviewer may send the note later, and ``reviewkit status`` and a
    final report keep asking for it.
    """

    warnings: list[Problem]

    def __init__(self, summaries: dict[str, ImportSummary], warnings: Sequence[Problem] = ()) -> None:
        super().__init__(summaries)
        self.warnings = list(warnings)


def import_files(ws: Workspace, paths: Sequence[str | Path], *, actor: str, confirm_warnings: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Check every row of every file, then store all of it in one transaction, or nothing.

    The result maps each kind imported to what changed; its ``warnings`` name (file, row,
    case and question, never a value) each low rating imported without an evidence note.
    """
    say = progress or (lambda _msg: None)
    if not paths:
        raise InvalidInputError("no files to import; give one or more CSV or XLSX files")
    problems: list[Problem] = []
    tables: list[Table] = []
    with _bulk():
        for p in paths:
            say(f"Reading {p}")
            tables.extend(read_file(Path(p), str(p), problems, say))
        return _check_and_write(ws, paths, tables, problems, actor, confirm_warnings, say)


@contextlib.contextmanager
def _bulk() -> Iterator[None]:
    """No cyclic garbage collection while an import builds its rows (they all stay alive until
    written): with 100,000 ratings the collector's passes over them cost about a tenth."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_and_write(ws: Workspace, paths: Sequence[str | Path], tables: list[Table], problems: list[Problem],
                     actor: str, confirm_warnings: bool, say: Progress) -> dict[str, ImportSummary]:
    with ws.store() as store:
        checker = RowChecker(ws, store, confirm_warnings)
        say(f"Checking {sum(len(t.rows) for t in tables)} row(s)")
        checker.check(tables)
        problems.extend(checker.problems)
        if problems:
            labels = [str(p) for p in paths]

            def place(problem: Problem) -> tuple[int, int]:  # file by file as given, then by row
                i = next((i for i, label in enumerate(labels)
                          if problem.file == label or problem.file.startswith(f"{label} (sheet ")), len(labels))
                return i, problem.row or 0

            raise ImportFileError(sorted(problems, key=place))
        return ImportResult(_write(store, checker, actor, confirm_warnings, say), checker.warnings)


def _write(store: Store, c: RowChecker, actor: str, confirm: bool, say: Progress) -> dict[str, ImportSummary]:
    """Store what was checked in one transaction; a late refusal rolls all of it back."""
    where: list[Any] = [c.rating_sources[0] if c.rating_sources else "import", None]
    out: dict[str, ImportSummary] = {}
    try:
        with store.transaction():
            say("Writing to the review store")
            if "calibration" in c.kinds:  # first: a reviewer's case ratings wait for their calibration ratings
                out["calibration"] = _tally(store.apply_calibration_ratings(actor, c.calibration,
                                                                            confirm_warnings=confirm))
            if "ratings" in c.kinds:
                out["ratings"] = store.apply_ratings(actor, c.ratings, source="; ".join(c.rating_sources),
                                                     confirm_warnings=confirm)
            if "flags" in c.kinds:
                out["flags"] = _write_flags(store, c.flags, actor, confirm, where)
            ids: dict[str, dict[str, int]] = {"meetings": {}, "conversations": {}}
            if "meetings" in c.kinds:
                out["meetings"] = _write_meetings(store, c.meetings.values(), actor, ids["meetings"], where)
            if "conversations" in c.kinds:
                out["conversations"] = _write_conversations(store, c.conversations.values(), actor,
                                                            ids["conversations"], where)
            if "notes" in c.kinds:
                out["notes"] = _write_notes(store, c.notes.values(), actor, confirm, ids, where)
            if "concerns" in c.kinds:
                out["concerns"] = _write_concerns(store, c.concerns, actor, confirm, where)
    except CalibrationPendingError as exc:
        raise ImportFileError([Problem(where[0], None, None, f"was not imported: {exc}")]) from None
    except (InvalidInputError, ConflictError):
        # The rows were checked, so this is another writer changing the review meanwhile.
        raise ImportFileError([Problem(where[0], where[1], None, "was refused by the review store because the "
                                       "review changed while importing; nothing was stored, import again")]) from None
    except StoreError as exc:
        raise StoreError(f"{exc}; nothing was imported") from None
    except sqlite3.Error as exc:
        raise StoreError(f"{store.path}: the review store refused the import ({describe_failure(exc)}); "
                         "nothing was imported") from None
    total = sum(s.added + s.changed for s in out.values())
    say(f"Saved: {total} record(s) added or changed")
    return out


def _tally(counts: dict[str, int]) -> ImportSummary:
    return ImportSummary(counts["added"], counts["changed"], counts["unchanged"])


def _write_flags(store: Store, flags: list[FlagRow], actor: str, confirm: bool, where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for f in flags:
        where[:] = [f.source, f.row]
        before = store.case_flag(f.case_id, f.reviewer)
        after = store.set_case_flag(actor, f.case_id, f.reviewer, referred_back=f.referred_back, reason=f.reason,
                                    complete=f.complete, confirm_warnings=confirm)
        counts["added" if not before["version"] else
               "changed" if after["version"] != before["version"] else "unchanged"] += 1
    return _tally(counts)


def _write_concerns(store: Store, concerns: list[ConcernRow], actor: str, confirm: bool,
                    where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for c in concerns:
        where[:] = [c.source, c.row]
        before = store.concern(c.case_id, c.reviewer)
        after = store.set_concern(actor, c.case_id, c.reviewer, what=c.what, raised_on=c.raised_on,
                                  raised_with=c.raised_with, confirm_warnings=confirm)
        if c.response and (c.response, c.outcome, c.responded_on) != (
                after["response"], after["outcome"], after["responded_on"]):
            after = store.record_response(actor, c.case_id, reviewer=c.reviewer, response=c.response,
                                          outcome=c.outcome, responded_on=c.responded_on, confirm_warnings=confirm)
        counts["added" if before is None else
               "changed" if after["version"] != before["version"] else "unchanged"] += 1
    return _tally(counts)


def _write_meetings(store: Store, meetings: Iterable[MeetingRow], actor: str, ids: dict[str, int],
                    where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for m in meetings:
        where[:] = [m.source, m.row]
        attendees = dict(sorted(m.attendees.items()))
        mid = stored_id(store, "meetings", m.ref)
        if mid is None:
            ids[m.ref] = store.add_meeting(actor, m.kind, m.held_on, attendees, m.title, ref=m.ref)
            counts["added"] += 1
            continue
        ids[m.ref] = mid
        old = store.meeting(mid)
        if (old["kind"], old["held_on"], old["title"], old["attendees"]) == (m.kind, m.held_on, m.title, attendees):
            counts["unchanged"] += 1
            continue
        store.update_meeting(actor, mid, kind=m.kind, held_on=m.held_on, attendees=attendees, title=m.title)
        counts["changed"] += 1
    return _tally(counts)


def _write_conversations(store: Store, conversations: Iterable[ConversationRow], actor: str, ids: dict[str, int],
                         where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for v in conversations:
        where[:] = [v.source, v.row]
        cid = stored_id(store, "conversations", v.ref)
        if cid is None:
            ids[v.ref] = store.add_conversation(actor, v.case_id, v.who, v.reviewer, v.held_on, ref=v.ref)
            counts["added"] += 1
            continue
        ids[v.ref] = cid
        old = store.conversation(cid)
        if (old["case_id"], old["who"], old["reviewer"], old["held_on"]) == (v.case_id, v.who, v.reviewer,
                                                                              v.held_on):
            counts["unchanged"] += 1
            continue
        store.update_conversation(actor, cid, case_id=v.case_id, who=v.who, reviewer=v.reviewer, held_on=v.held_on)
        counts["changed"] += 1
    return _tally(counts)


def _write_notes(store: Store, notes: Iterable[NoteRow], actor: str, confirm: bool, ids: dict[str, dict[str, int]],
                 where: list[Any]) -> ImportSummary:
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    for n in notes:
        where[:] = [n.source, n.row]
        pid = ids[n.parent].get(n.parent_ref) or stored_id(store, n.parent, n.parent_ref)
        if pid is None:
            raise InvalidInputError("the note's meeting or conversation is gone")
        fields = {"text": n.text, "kind": n.kind, "speaker_role": n.speaker_role, "stance": n.stance,
                  "codes": n.codes, "use_in_report": n.use_in_report}
        nid = stored_id(store, "notes", n.ref)
        if nid is None:
            parent = {"meeting_id": pid} if n.parent == "meetings" else {"conversation_id": pid}
            store.add_note(actor, n.text, **parent, kind=n.kind, speaker_role=n.speaker_role, stance=n.stance,
                           codes=n.codes, use_in_report=n.use_in_report, confirm_warnings=confirm, ref=n.ref)
            counts["added"] += 1
            continue
        old = store.note(nid)
        if {k: old[k] for k in fields} == fields:
            counts["unchanged"] += 1
            continue
        store.update_note(actor, nid, confirm_warnings=confirm, **fields)
        counts["changed"] += 1
    return _tally(counts)


# -- export ---------------------------------------------------------------------------------
def export(ws: Workspace, out: str | Path, *, what: str = "ratings") -> Path:
    """Write stored data in the import contracts, so the file imports back unchanged."""
    out = Path(out)
    what = what.strip().casefold()
    if what not in EXPORT_KINDS:
        raise InvalidInputError(f"cannot export that; choose one of {', '.join(EXPORT_KINDS)}")
    suffix = out.suffix.casefold()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInputError(f"{out}: the export file name must end in .csv or .xlsx")
    if suffix == ".csv" and what == "all":
        raise InvalidInputError(f"{out}: a CSV file holds one kind of table; export 'all' to an .xlsx file "
                                "(one sheet per kind), or choose ratings, flags, meetings, conversations, notes, "
                                "concerns or calibration")
    if not out.parent.is_dir():
        raise InvalidInputError(f"{out}: the folder {out.parent} does not exist; create it first")
    kinds = list(CONTRACTS) if what == "all" else [what]
    with ws.store() as store, store.transaction():  # one snapshot: no note without its meeting
        tables = {kind: _export_rows(ws, store, kind) for kind in kinds}
    return write_tables(out, tables, {kind: CONTRACTS[kind].columns for kind in kinds})


def write_tables(out: Path, tables: dict[str, list[dict[str, Any]]], columns: dict[str, Sequence[str]]) -> Path:
    """Write one table as CSV, or each table as a sheet of an .xlsx, all at once: a full disk changes nothing.

    Cells a spreadsheet would run as a formula are written as text (``neutralise``), so the file imports back.
    """
    try:
        if out.suffix.casefold() == ".csv":
            [(kind, rows)] = tables.items()
            write_atomic(out, lambda tmp: _write_csv(tmp, columns[kind], rows))
        else:
            write_atomic(out, lambda tmp: _write_xlsx(tmp, tables, columns))
    except xml_errors() as exc:  # openpyxl's sheet files, written by lxml, which reports IO_ENOSPC
        if "disk is full" in describe_failure(exc):
            raise FileWriteError(f"not enough disk space to write {out}; nothing was changed. "
                                 "Free some space, or choose another folder, and try again.") from None
        raise FileWriteError(f"cannot write {out} ({type(exc).__name__}); nothing was changed.") from None
    return out


def _export_rows(ws: Workspace, store: Store, kind: str) -> list[dict[str, Any]]:
    """Stored rows as contract rows (column -> value); unnamed rows get an M#12-style reference."""
    yn = {1: "yes", 0: "no"}
    if kind == "ratings":
        order = {q: i for i, q in enumerate(ws.tool.all_ids)}
        rows = store.execute_read("SELECT case_id, reviewer, question, rating, comment FROM ratings "
                                  "WHERE rating IS NOT NULL")
        out = [dict(r) for r in rows]
        out.sort(key=lambda r: (r["case_id"], r["reviewer"], order.get(r["question"], len(order)), r["question"]))
        return out
    if kind == "calibration":
        rows = store.execute_read("SELECT record_id, reviewer, question, rating, comment, round FROM "
                                  "calibration_ratings WHERE rating IS NOT NULL ORDER BY round, record_id, reviewer")
        return [{"calibration_record": r["record_id"], "reviewer": r["reviewer"], "question": r["question"],
                 "rating": r["rating"], "comment": r["comment"], "round": r["round"]} for r in rows]
    if kind == "flags":
        rows = store.execute_read("SELECT case_id, reviewer, referred_back, reason, complete FROM case_flags "
                                  "ORDER BY case_id, reviewer")
        return [{**dict(r), "referred_back": yn[r["referred_back"]], "complete": yn[r["complete"]]} for r in rows]
    if kind == "concerns":  # private: what was found and the council's words, as the host typed them
        rows = store.execute_read("SELECT case_id, reviewer, what AS concern, raised_on, raised_with, response, "
                                  "outcome, responded_on FROM concerns ORDER BY raised_on, case_id, reviewer")
        return [dict(r) for r in rows]
    if kind == "meetings":
        out = []
        for r in store.execute_read("SELECT id, ref FROM meetings ORDER BY held_on, id"):
            m = store.meeting(r["id"])
            base = {"meeting": r["ref"] or f"M#{r['id']}", "kind": m["kind"], "date": m["held_on"],
                    "title": m["title"]}
            roles = list(m["attendees"].items()) or [("", "")]  # a meeting with no attendance recorded
            out += [{**base, "role": role, "attendees": count} for role, count in roles]
        return out
    if kind == "conversations":
        rows = store.execute_read("SELECT id, ref, case_id, who, reviewer, held_on FROM conversations ORDER BY id")
        return [{"conversation": r["ref"] or f"V#{r['id']}", "case_id": r["case_id"], "who": r["who"],
                 "reviewer": r["reviewer"], "date": r["held_on"]} for r in rows]
    rows = store.execute_read(
        "SELECT n.id, n.ref, n.meeting_id, m.ref AS mref, n.conversation_id, c.ref AS cref, n.kind, n.text, "
        "n.speaker_role, n.stance, n.use_in_report, "
        "(SELECT group_concat(code, '; ') FROM (SELECT code FROM note_codes WHERE note_id = n.id ORDER BY code)) "
        "AS codes FROM notes n LEFT JOIN meetings m ON m.id = n.meeting_id "
        "LEFT JOIN conversations c ON c.id = n.conversation_id ORDER BY n.id")
    return [{"note": r["ref"] or f"N#{r['id']}",
             "meeting": "" if r["meeting_id"] is None else (r["mref"] or f"M#{r['meeting_id']}"),
             "conversation": "" if r["conversation_id"] is None else (r["cref"] or f"V#{r['conversation_id']}"),
             "kind": r["kind"], "text": r["text"], "speaker_role": r["speaker_role"], "stance": r["stance"],
             "codes": r["codes"] or "", "use_in_report": yn[r["use_in_report"]]} for r in rows]


def _write_csv(path: Path, header: Sequence[str], rows: list[dict[str, Any]]) -> None:
    # UTF-8 with a byte-order mark: Excel then opens accents and curly quotes correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([neutralise(row[c]) for c in header] for row in rows)


def _xlsx_text(value: Any) -> Any:
    # start-up: openpyxl loads only when a workbook is read or written
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = neutralise(value)
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _write_xlsx(path: Path, tables: dict[str, list[dict[str, Any]]], columns: dict[str, Sequence[str]]) -> None:
    from openpyxl import Workbook  # start-up: openpyxl loads only when a workbook is read or written

    wb = Workbook(write_only=True)
    # The zip is built in memory (an export is a few MB at most) and written in one go, so a
    # full disk fails in this function's own write, not inside openpyxl's zip writer.
    buffer = _io.BytesIO()
    try:
        _fill_xlsx(wb, tables, columns)
        wb.save(buffer)
    except BaseException:
        _discard_sheets(wb)
        raise
    path.write_bytes(buffer.getvalue())


def _fill_xlsx(wb: Any, tables: dict[str, list[dict[str, Any]]], columns_of: dict[str, Sequence[str]]) -> None:
    from openpyxl.styles import Font  # start-up: openpyxl loads only when a workbook is read or written

    bold = Font(bold=True)
    widths = {"comment": 80, "text": 80, "reason": 60, "concern": 60, "response": 60, "title": 36, "reviewer": 22, "codes": 30}
    for kind, rows in tables.items():
        sheet = wb.create_sheet(kind)
        columns = columns_of[kind]
        for i, name in enumerate(columns):
            sheet.column_dimensions[column_letter(i)].width = widths.get(name, 80 if name.endswith("_note") else 14)
        sheet.freeze_panes = "A2"
        header = []
        for name in columns:
            cell = cell_of(sheet, name)
            cell.font = bold
            header.append(cell)
        append_row(sheet, header)
        for row in rows:
            append_row(sheet, [_xlsx_text(row[c]) for c in columns])


def _discard_sheets(wb: Any) -> None:
    """After a failed save (a full disk), close and delete openpyxl's temporary sheet files at once:
    they hold the exported text, and a half-closed one raises again when collected."""
    for sheet in wb.worksheets:
        rows = getattr(sheet, "_rows", None)
        if rows is not None:
            with contextlib.suppress(Exception):
                rows.close()
        writer = getattr(sheet, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
            with contextlib.suppress(Exception):
                writer.cleanup()

