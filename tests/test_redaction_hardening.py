"""Screening as printed, and a redaction that is all-or-nothing, safe on a full disk and thorough."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.core.errors import BlockedTextError, WorkspaceError
from reviewkit.privacy import screening as privacy
from reviewkit.review.files import REDACTION_MAP_FILE
from reviewkit.review.ratings import RatingInput
from reviewkit.review.redaction import blocking_findings, published_identifiers, redact_workspace, scan_workspace
from reviewkit.review.reviewyaml import Recommendation
from reviewkit.review.workspace import open_workspace

from .helpers import make_workspace
from .test_atomic import run_with_file_size_limit

NAME = "Zebediah Quokkafeather"

# Each one reads as an identifier once Markdown joins the two lines into one paragraph.
SPLIT = {
    "date_of_birth": "She was born\n3 March 1942 and moved here later.",
    "nhs_number": "Her NHS number 943 476\n5919 was on the letter.",
    "honorific_name": "We spoke with Mrs\nSmith about the plan.",
    "phone": "The family gave 07700\n900123 as the number.",
}


@pytest.mark.parametrize("kind", sorted(SPLIT))
def test_an_identifier_split_over_two_lines_is_found_by_screen(kind):
    findings = privacy.screen(SPLIT[kind])
    assert [(f.kind, f.level) for f in findings] == [(kind, "block")]
    with pytest.raises(BlockedTextError):  # the store refuses it too: the same function
        privacy.check(SPLIT[kind])
    assert privacy.screen(privacy.redact(SPLIT[kind])) == []


@pytest.mark.parametrize("text, kind", [
    ("We spoke to Mrs *Smith* about it.", "honorific_name"),
    ("NHS number **943** 476 5919 here", "nhs_number"),
    ("Mrs _Smith_ agreed.", "honorific_name"),
])
def test_emphasis_marks_print_as_nothing(text, kind):
    assert [f.kind for f in privacy.screen(text)] == [kind]
    assert privacy.screen(privacy.redact(text)) == []
    assert [f.kind for f in privacy.screen("Write to john_smith@example.org")] == ["email"]


def test_a_blank_line_still_ends_a_paragraph():
    assert privacy.screen("We spoke with Mrs\n\nSmith House is nearby.") == []
    assert privacy.as_printed("a\nb\n\nc\r\nd\n") == "a b\n\nc  d\n"


def test_check_the_gate_and_redact_agree_on_split_identifiers(tmp_path, capsys):
    ws = make_workspace(tmp_path / "ws")
    body = "\n\n".join(SPLIT.values()) + "\n"
    (ws.path / "narrative" / "observations.md").write_text(body, encoding="utf-8")
    ws = open_workspace(ws.path)
    found = scan_workspace(ws)
    assert sorted(f.kind for f in found) == sorted(SPLIT)
    assert all(f.level == "block" for f in found)
    assert {f.row for f in found} == {"line 2", "lines 4-5", "lines 7-8", "lines 10-11"}
    # The publish gate finds the same four places again, as printed; each place is one piece to fix.
    assert len([f for f in blocking_findings(ws) if f.level == "block"]) == 4
    assert {f.row for f in blocking_findings(ws) if f.level == "page"} == {"lines 1-2", "lines 4-5", "lines 7-8",
                                                                           "lines 10-11"}  # by paragraph
    assert len(published_identifiers(ws)) == 4
    assert main(["check", str(ws.path)]) == 1
    out = capsys.readouterr().out
    assert "narrative/observations.md, lines 4-5, text" in out
    assert "5919" not in out and "Smith" not in out and "900123" not in out
    redact_workspace(ws, actor="host")
    ws = open_workspace(ws.path)
    assert scan_workspace(ws) == [] and published_identifiers(ws) == []
    text = (ws.path / "narrative" / "observations.md").read_text(encoding="utf-8")
    assert "[NHS NUMBER]" in text and "[PERSON 1]" in text and "[PHONE]" in text
    assert text.count("\n\n") == 3  # paragraphs kept


def test_the_store_refuses_a_name_split_over_two_lines(ws):
    with ws.store() as s, pytest.raises(BlockedTextError):
        s.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Good", "Mr\nJones was seen at home."))


# -- item 16: check every input first; store and map change together ------------------------

def every_field(tmp_path: Path):
    """A workspace with a listed name in every kind of free text the kit holds."""
    ws = make_workspace(tmp_path / "ws")
    (ws.path / "private" / "names.txt").write_text(NAME + "\n", encoding="utf-8")
    ws = open_workspace(ws.path)
    with ws.store() as s:
        s.set_rating("A", RatingInput("C01", "A. Visitor", "q1", "Good", "Fine."))
        s.set_case_flag("A", "C01", "A. Visitor", referred_back=True, reason="Safeguarding concern.")
        mid = s.add_meeting("H", "managers", "2026-10-05", {"manager": 6}, title="Managers")
        s.add_note("H", "It helped.", meeting_id=mid, kind="quote", speaker_role="manager", use_in_report=True)
    con = sqlite3.connect(ws.db_path)  # text written before the name was listed
    con.execute("UPDATE ratings SET comment = ?", (f"{NAME} led the plan.",))
    con.execute("UPDATE case_flags SET reason = ?", (f"Concern about {NAME}.",))
    con.execute("UPDATE meetings SET title = ?", (f"Meeting about {NAME}",))
    con.execute("UPDATE notes SET text = ?", (f"{NAME} said it helped.",))
    con.commit()
    con.close()
    ws.meta.theme = f"Support for {NAME}"
    ws.meta.review_questions = [f"How was {NAME} supported?"]
    ws.meta.previous_recommendations = [Recommendation(f"Visit {NAME}.", f"{NAME} was visited.")]
    ws.save_meta()
    (ws.path / "narrative" / "observations.md").write_text(f"We met {NAME}.\n", encoding="utf-8")
    return open_workspace(ws.path)


def test_redaction_reaches_every_kind_of_field(tmp_path):
    ws = every_field(tmp_path)
    summary = redact_workspace(ws, actor="host")
    assert summary.changed == {"ratings": 1, "case flags": 1, "meetings": 1, "notes": 1, "review.yaml": 1,
                               "narrative/observations.md": 1}
    ws = open_workspace(ws.path)
    assert scan_workspace(ws) == []
    with ws.store() as s:
        assert s.case_flags()["reason"][0] == "Concern about [PERSON 1]."
        assert s.meetings()["title"][0] == "Meeting about [PERSON 1]"
    assert ws.meta.theme == "Support for [PERSON 1]"
    assert ws.meta.previous_recommendations[0].update == "[PERSON 1] was visited."
    stored = b"".join(p.read_bytes() for p in ws.path.rglob("*") if p.is_file() and p.name != "names.txt")
    assert b"Quokkafeather" not in stored


def test_a_bad_narrative_file_stops_redaction_before_any_change(tmp_path, capsys):
    ws = every_field(tmp_path)
    (ws.path / "narrative" / "strengths.md").write_bytes("Caf\u00e9".encode("cp1252"))
    before = {p: p.read_bytes() for p in ws.path.rglob("*") if p.is_file()}
    assert main(["redact", str(ws.path)]) == 1
    err = capsys.readouterr().err
    assert "strengths.md" in err and "UTF-8" in err and "Traceback" not in err
    after = {p: p.read_bytes() for p in ws.path.rglob("*") if p.is_file() and not p.name.startswith("review.db")}
    assert after == {p: b for p, b in before.items() if not p.name.startswith("review.db")}
    with open_workspace(ws.path).store() as s:
        assert s.case_flags()["reason"][0] == f"Concern about {NAME}."
    assert not (ws.path / REDACTION_MAP_FILE).exists()


def test_a_damaged_map_stops_redaction_before_any_change(tmp_path):
    ws = every_field(tmp_path)
    (ws.path / REDACTION_MAP_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="redaction_map.json: damaged"):
        redact_workspace(ws, actor="host")
    with ws.store() as s:
        assert s.all_ratings()["comment"][0] == f"{NAME} led the plan."


def test_the_map_is_saved_with_the_store_change(tmp_path):
    ws = every_field(tmp_path)
    redact_workspace(ws, actor="host")
    saved = json.loads((ws.path / REDACTION_MAP_FILE).read_text(encoding="utf-8"))
    assert saved == {NAME.casefold(): "[PERSON 1]"}
    assert (ws.path / REDACTION_MAP_FILE).stat().st_mode & 0o077 == 0


# -- item 3: a full disk leaves the narrative intact -------------------------------------------

def test_redact_on_a_full_disk_leaves_the_narrative_intact(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    narrative = ws.path / "narrative" / "observations.md"
    line = "The team reviewed the plan with Mrs Smith and her daughter, who agreed the goals.\n"
    narrative.write_text(line * 40_000, encoding="utf-8")
    original = narrative.read_bytes()
    db_size = sum(p.stat().st_size for p in ws.path.glob("review.db*"))
    limit = max(256 * 1024, 4 * db_size)
    assert len(original) > 2 * limit
    proc = run_with_file_size_limit(f"""
        import sys
        from reviewkit.cli import main
        sys.exit(main(["redact", {str(ws.path)!r}, "--as", "host"]))
    """, limit=limit, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"not enough disk space to write {narrative}; nothing was changed" in proc.stderr
    assert narrative.read_bytes() == original
    assert [p.name for p in narrative.parent.iterdir() if p.name.startswith(".")] == []
    assert sys.executable  # the child ran this interpreter


# -- item 8: redact and names.txt changes purge the report cache --------------------------------

def fake_cache(ws) -> Path:
    entry = ws.path / ".cache" / "report" / ("0" * 64)
    entry.mkdir(parents=True)
    (entry / "report.html").write_text(f"<p>We met {NAME}.</p>", encoding="utf-8")
    ws.stamp_report_cache()
    return entry


def test_redact_purges_the_report_cache(tmp_path):
    ws = every_field(tmp_path)
    entry = fake_cache(ws)
    assert open_workspace(ws.path) and entry.exists()  # names unchanged: the cache stays
    redact_workspace(ws, actor="host")
    assert not entry.exists()


def test_a_change_to_names_purges_the_report_cache(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    entry = fake_cache(ws)
    open_workspace(ws.path)
    assert entry.exists()
    with (ws.path / "private" / "names.txt").open("a", encoding="utf-8") as f:
        f.write(NAME + "\n")
    open_workspace(ws.path)
    assert not entry.exists()


def test_check_looks_at_cached_outputs(tmp_path, capsys):
    ws = make_workspace(tmp_path / "ws")
    entry = ws.path / ".cache" / "report" / ("1" * 64)
    entry.mkdir(parents=True)
    (entry / "report.html").write_text("<p>NHS number 999 000 <b>0018</b></p>", encoding="utf-8")
    ws.stamp_report_cache()
    assert main(["check", str(ws.path)]) == 1
    out = capsys.readouterr().out
    assert "report cache" in out and "report.html" in out and "0018" not in out


# -- item 14: links to outside addresses are listed by check -----------------------------------

def test_check_lists_links_to_outside_addresses_by_site_only(ws, capsys):
    (ws.path / "narrative" / "strengths.md").write_text(
        "The team's [practice guide](https://guide.example.org/people?id=Quokkafeather) helped.\n\n"
        "See <https://auto.example.net/x> and www.example.co.uk for more; "
        "[Recommendation 2](#rec-2) follows.\n", encoding="utf-8")
    ws = open_workspace(ws.path)
    from reviewkit.review.redaction import outside_links

    links = [str(link) for link in outside_links(ws)]
    assert links == ["narrative/strengths.md, line 1: https://guide.example.org…",
                     "narrative/strengths.md, line 3: https://auto.example.net…",
                     "narrative/strengths.md, line 3: www.example.co.uk…"]
    # The first link's address holds a name: the publish gate reads link targets too.
    assert main(["check", str(ws.path)]) == 1
    out = capsys.readouterr().out
    assert "links to 3 outside address(es)" in out and "guide.example.org" in out
    assert "Quokkafeather" not in out
