"""Every command, run through the command line: its success and one failure.

Failures exit 1 with one ``error:`` line and no traceback; successes exit 0 and say what they
wrote. Commands run in-process through ``cli.main`` where that is quick, and as
``python -m reviewkit`` where the process itself matters (rendering, serving). A test below
checks that this file covers every command the parser knows, so a new command needs its pair.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from reviewkit.cli import build_parser, main

from .helpers import make_workspace, with_logins

ROOT = Path(__file__).resolve().parent.parent
BUNDLES = sorted((ROOT / "sample_data" / "region" / "bundles").glob("*.zip"))
COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
COVERED = {"new", "import", "status", "export", "workbook", "check", "redact", "sample", "report", "serve",
           "compare", "hub", "hub-codes", "action-plan", "previous", "confirm", "confirm-claim", "concern", "backup",
           "restore", "calibrate", "tracking"}


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def failed(code: int, err: str) -> str:
    """The one error line of a failed command (exit 1, no traceback)."""
    assert code == 1, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    return errors[0]


def test_every_command_is_covered_here() -> None:
    assert set(COMMANDS) == COVERED, "add a success and a failure test for each new command"


def test_new(tmp_path, capsys):
    code, out, _ = cli(capsys, "new", tmp_path / "ws", "--council", "Testshire Council", "--theme", "Strengths",
                       "--reviewer", "A. Visitor", "--host", "H. Host")
    assert code == 0 and "Created review workspace" in out and (tmp_path / "ws" / "review.db").exists()
    code, _, err = cli(capsys, "new", tmp_path / "ws", "--council", "Testshire Council", "--theme", "Strengths")
    assert "folder exists and is not empty" in failed(code, err)


def test_import(ws, tmp_path, capsys):
    good = tmp_path / "ratings.csv"
    good.write_text("case_id,reviewer,question,rating\nC01,A. Visitor,q1,Good\n", encoding="utf-8")
    code, out, _ = cli(capsys, "import", ws.path, good)
    assert code == 0 and "ratings: 1 added" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,reviewer,question,rating\nC01,A. Visitor,q1,Splendid\n", encoding="utf-8")
    code, _, err = cli(capsys, "import", ws.path, bad)
    assert "Nothing was imported" in failed(code, err) and "row 2, column 'rating'" in err


def test_concern(ws, capsys):
    with ws.store() as store:
        store.set_concern("A. Visitor", "C02", "A. Visitor", what="Risk of falls not followed up",
                          raised_on="2026-10-06", raised_with="team manager")
    code, out, _ = cli(capsys, "concern", ws.path, "--case", "C02", "--response", "A visit was made", "--outcome",
                       "acted", "--date", "2026-10-07")
    assert code == 0 and "Recorded the council's response to the concern on case C02" in out
    assert "Risk of falls" not in out and "A visit was made" not in out
    code, _, err = cli(capsys, "concern", ws.path, "--case", "C02", "--what", "Another risk")
    assert "to log a concern give --reviewer, --what, --raised-on and --raised-with" in failed(code, err)
    code, _, err = cli(capsys, "concern", ws.path, "--case", "C02", "--response", "x", "--date", "7 Oct")
    assert "YYYY-MM-DD" in failed(code, err)


def test_status(ws, capsys):
    code, out, _ = cli(capsys, "status", ws.path)
    assert code == 0 and "Review of Testshire Council" in out
    (ws.path / "review.yaml").write_text("council: [unclosed\n", encoding="utf-8")
    code, _, err = cli(capsys, "status", ws.path)
    assert "review.yaml" in failed(code, err) and "not valid YAML" in err


def test_export(ws, tmp_path, capsys):
    code, out, _ = cli(capsys, "export", ws.path, "--out", tmp_path / "all.xlsx", "--what", "all")
    assert code == 0 and "Wrote all to" in out and (tmp_path / "all.xlsx").exists()
    code, _, err = cli(capsys, "export", ws.path, "--out", tmp_path / "all.csv", "--what", "all")
    assert "a CSV file holds one kind of table" in failed(code, err)


def test_export_for_the_region(tmp_path, capsys):
    from reviewkit.intake.sample import build_sample_workspace

    ws = build_sample_workspace(tmp_path / "eastvale")
    code, out, _ = cli(capsys, "export", ws.path, "--for-region", "--out", tmp_path / "bundle.zip")
    assert code == 0 and "Wrote the regional bundle" in out and (tmp_path / "bundle.zip").exists()
    code, _, err = cli(capsys, "export", ws.path, "--for-region", "--out", tmp_path / "bundle.csv")
    assert "a regional bundle is a .zip file" in failed(code, err)


def test_workbook(ws, tmp_path, capsys):
    code, out, _ = cli(capsys, "workbook", ws.path, "--reviewer", "A. Visitor", "--out", tmp_path / "a.xlsx")
    assert code == 0 and "Wrote the audit workbook for A. Visitor" in out and (tmp_path / "a.xlsx").exists()
    code, _, err = cli(capsys, "workbook", ws.path, "--reviewer", "Z. Nobody", "--out", tmp_path / "z.xlsx")
    assert "no reviewer of that name" in failed(code, err) and not (tmp_path / "z.xlsx").exists()


def test_check(ws, capsys):
    code, out, _ = cli(capsys, "check", ws.path)
    assert code == 0 and "No personal identifiers found" in out
    (ws.path / "narrative" / "introduction.md").write_text("Her NHS number is 999 000 0018.\n", encoding="utf-8")
    code, out, err = cli(capsys, "check", ws.path)
    # Findings are not an error of the command: it lists them by place and exits 1 for the gate.
    assert code == 1 and "narrative/introduction.md, line 1" in out and "999" not in out + err


def test_confirm(ws, capsys):
    (ws.path / "narrative" / "introduction.md").write_text("The Brightwater hub helped.\n", encoding="utf-8")
    code, out, _ = cli(capsys, "check", ws.path)
    assert code == 1 and "a possible name" in out and "Brightwater" not in out
    code, out, _ = cli(capsys, "confirm", ws.path, "Brightwater")
    assert code == 0 and "Confirmed 1 word(s)" in out
    assert cli(capsys, "check", ws.path)[0] == 0
    code, _, err = cli(capsys, "confirm", ws.path, "01632 960001")
    assert "cannot be confirmed" in failed(code, err) and "01632" not in err


def test_confirm_claim(ws, capsys):
    (ws.path / "narrative" / "introduction.md").write_text("Intro.\n\nThe team examined 24 case records.\n",
                                                          encoding="utf-8")
    code, out, _ = cli(capsys, "check", ws.path)
    assert code == 1 and 'narrative/introduction.md line 3: "24 case records" — this review has' in out
    code, _, err = cli(capsys, "confirm-claim", ws.path, "--file", "narrative/introduction.md", "--line", "3",
                       "--reason", "no")
    assert "needs a reason" in failed(code, err)
    code, out, _ = cli(capsys, "confirm-claim", ws.path, "--file", "introduction.md", "--line", "3",
                       "--reason", "24 were examined; 8 were rated on the audit tool")
    assert code == 0 and "Confirmed as true: narrative/introduction.md line 3" in out
    assert cli(capsys, "check", ws.path)[0] == 0


def test_calibrate(ws, capsys):
    code, out, _ = cli(capsys, "calibrate", ws.path)
    assert code == 0 and "No calibration is set up" in out and "--record CAL1" in out
    code, out, _ = cli(capsys, "calibrate", ws.path, "--record", "CAL1", "--as", "H. Host")
    assert code == 0 and "Calibration record CAL1 named." in out and "round 1" in out
    code, _, err = cli(capsys, "calibrate", ws.path, "--record", "C02")
    assert "one of the review's case records" in failed(code, err)
    code, out, _ = cli(capsys, "status", ws.path)  # status says whose case ratings wait
    assert code == 0 and "A. Visitor: 13 round-1 rating(s) to go (case ratings wait until then)" in out


def test_redact(ws, capsys):
    intro = ws.path / "narrative" / "introduction.md"
    intro.write_text("Her NHS number is 999 000 0018.\n", encoding="utf-8")
    code, out, _ = cli(capsys, "redact", ws.path)
    assert code == 0 and "Redacted 1 piece(s) of text in narrative/introduction.md" in out
    assert "[NHS NUMBER]" in intro.read_text(encoding="utf-8")
    (ws.path / "narrative" / "strengths.md").write_bytes("Caf\xe9 culture\n".encode("cp1252"))
    code, _, err = cli(capsys, "redact", ws.path)
    assert "strengths.md" in failed(code, err) and "UTF-8" in err


def test_sample(tmp_path, capsys):
    code, out, err = cli(capsys, "sample", tmp_path / "demo")
    assert code == 0 and "Built the sample review workspace" in out
    code, _, err = cli(capsys, "sample", tmp_path / "demo")
    assert "not empty" in failed(code, err)


def _run(*argv: object, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewkit", *map(str, argv)], capture_output=True, text=True,
                          timeout=600, check=False, **kw)  # type: ignore[call-overload]


@pytest.mark.slow
def test_report(tmp_path):
    from reviewkit.intake.sample import build_sample_workspace

    ws = build_sample_workspace(tmp_path / "eastvale")
    done = _run("report", ws.path, "--to", "html", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "Wrote the draft report" in done.stdout and (tmp_path / "out" / "report.html").exists()
    done = _run("report", ws.path, "--to", "html,odt", "--out", tmp_path / "out2")
    assert "unknown output format 'odt'" in failed(done.returncode, done.stderr)
    assert not (tmp_path / "out2").exists()


@pytest.mark.slow
def test_compare(tmp_path):
    done = _run("compare", *BUNDLES[:2], "--out", tmp_path / "regional", "--pseudonymise")
    assert done.returncode == 0, done.stderr
    assert "Compared 2 bundle(s) (councils pseudonymised)" in done.stdout
    assert (tmp_path / "regional" / "regional_comparison.html").exists()
    not_a_bundle = tmp_path / "notes.zip"
    not_a_bundle.write_bytes(b"not a zip at all")
    done = _run("compare", BUNDLES[0], not_a_bundle, "--out", tmp_path / "regional2")
    assert "not a zip file" in failed(done.returncode, done.stderr)


@pytest.mark.slow
@pytest.mark.enable_socket  # the test reads the form's page from the server on 127.0.0.1
def test_serve(tmp_path, capsys):
    ws = make_workspace(tmp_path / "ws")
    code, _, err = cli(capsys, "serve", ws.path, "--reviewer", "Z. Nobody", "--no-browser")
    assert "'Z. Nobody' is not a reviewer" in failed(code, err)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    with subprocess.Popen([sys.executable, "-m", "reviewkit", "serve", str(ws.path), "--form", "progress",
                           "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          start_new_session=True) as proc:
        try:
            assert proc.stdout is not None
            url = None
            for line in proc.stdout:
                found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
                if found:
                    url = found.group(0)
                    break
            assert url, "the server printed no address"
            with urllib.request.urlopen(url, timeout=120) as page:  # noqa: S310 - loopback only
                assert page.status == 200
            proc.send_signal(signal.SIGINT)  # Ctrl+C in the window
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            # (Voila's own log may show a kernel it was starting being interrupted: the server's
            # stop is tested with the serve lifecycle, not here.)
            assert "error:" not in err
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()


def test_hub(tmp_path, capsys):
    ws = make_workspace(tmp_path / "ws")
    code, _, err = cli(capsys, "hub", ws.path, "--write-config", tmp_path / "cfg")
    assert "no team member has a 'login' yet" in failed(code, err)
    with_logins(ws)
    code, out, _ = cli(capsys, "hub", ws.path, "--write-config", tmp_path / "cfg")
    assert code == 0 and (tmp_path / "cfg" / "jupyterhub_config.py").exists()


def test_action_plan_and_previous(tmp_path, capsys):
    from reviewkit.intake.sample import build_sample_workspace

    ws = build_sample_workspace(tmp_path / "eastvale")
    plan = tmp_path / "plan.xlsx"
    code, out, _ = cli(capsys, "action-plan", ws.path, "--out", plan)
    assert code == 0 and plan.exists()
    code, _, err = cli(capsys, "action-plan", ws.path, "--out", tmp_path / "plan.pdf")
    assert ".xlsx" in failed(code, err) and not (tmp_path / "plan.pdf").exists()
    later = tmp_path / "later"
    assert cli(capsys, "new", later, "--council", ws.meta.council, "--theme", "Strengths")[0] == 0
    code, out, _ = cli(capsys, "previous", later, plan)
    assert code == 0 and "Previous review recorded" in out
    code, _, err = cli(capsys, "previous", later, tmp_path / "missing.xlsx")
    assert "Nothing was imported" in failed(code, err) and "missing.xlsx: file not found" in err


def test_hub_codes(tmp_path, capsys):
    code, _, err = cli(capsys, "hub-codes", tmp_path / "missing")
    assert "no such workspace folder" in failed(code, err)
    ws = make_workspace(tmp_path / "ws")
    code, _, err = cli(capsys, "hub-codes", ws.path)
    assert "no team member has a 'login' yet" in failed(code, err)
    with_logins(ws)
    code, _, err = cli(capsys, "hub-codes", ws.path, "--login", "someone@elsewhere.example")
    assert "'someone@elsewhere.example' is not a login on the review team" in failed(code, err)
    assert not (ws.path / "private" / "hub_first_codes.json").exists()
    code, out, _ = cli(capsys, "hub-codes", ws.path)
    codes = dict(re.findall(r"^  (\S+@\S+)\s+(\w{4}-\w{4}-\w{4})\b", out, flags=re.M))
    assert code == 0 and len(codes) == 4 and "shown only now" in out
    code, out, _ = cli(capsys, "hub-codes", ws.path, "--login", "A.Visitor@Northshire.example", "--days", "3")
    again = dict(re.findall(r"^  (\S+@\S+)\s+(\w{4}-\w{4}-\w{4})\b", out, flags=re.M))
    assert code == 0 and list(again) == ["a.visitor@northshire.example"]
    assert again["a.visitor@northshire.example"] != codes["a.visitor@northshire.example"]
    stored = ws.path / "private" / "hub_first_codes.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    for path in ws.path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(c.encode() in data or c.replace("-", "").encode() in data
                           for c in [*codes.values(), *again.values()]), path


def test_backup_and_restore(ws, tmp_path, capsys):
    code, out, _ = cli(capsys, "backup", ws.path, "--to", tmp_path / "b", "--keep", "2")
    assert code == 0 and "Backed up the review store to" in out and "readable only by you" in out
    copy = next((tmp_path / "b").iterdir())
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    code, _, err = cli(capsys, "backup", ws.path, "--keep", "0")
    assert "--keep must be a whole number of 1 or more" in failed(code, err)
    code, out, _ = cli(capsys, "restore", ws.path, copy)
    assert code == 0 and "Restored the review store from" in out
    code, _, err = cli(capsys, "restore", ws.path, ws.path / "review.yaml")
    assert "not a backup of a review store" in failed(code, err)


def test_tracking(ws, tmp_path, capsys):
    from .test_tracking import _audit_csv, _programme, _row

    programme = _programme(tmp_path)
    rows = [_row(f"A-{m}-{i}", month=f"2027-{m:02d}", rating="Good" if i % 3 else "Requires Improvement")
            for m in (1, 2, 3) for i in range(6)]
    assert cli(capsys, "import", programme.path, _audit_csv(tmp_path / "a.csv", rows))[0] == 0
    code, out, err = cli(capsys, "tracking", programme.path, "--out", tmp_path / "t")
    assert code == 0, err
    assert (tmp_path / "t" / "signals.csv").read_text(encoding="utf-8").splitlines()[0] == \
        "measure,team,month,rule,direction"
    assert [p.name for p in (tmp_path / "t").glob("*.html")]
    # A review workspace is not a programme: one line naming the folder and what to do.
    assert "programme" in failed(*cli(capsys, "tracking", ws.path)[::2]).casefold()


def _programme_with_notes(tmp_path: Path, names: bool = True):
    """A programme whose stored notes hold a surname named only later in private/names.txt, and a possible
    date of birth confirmed on import."""
    import csv

    from .test_tracking import TOOL_IDS, _programme, _row

    programme = _programme(tmp_path)
    rows = [_row("A-1", q3_note="Okonkwo was not asked what matters", q5_note="Assessment dated 12/03/1950 unsigned"),
            _row("A-1", role="moderator", auditor="B. Auditor"), _row("A-2", month="2027-02", q3_note="Plan not shared")]
    with (tmp_path / "a.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["audit_id", "month", "team", "auditor", "role", *TOOL_IDS, "q3_note", "q5_note"],
                                restval="")
        writer.writeheader()
        writer.writerows(rows)
    assert main(["import", str(programme.path), str(tmp_path / "a.csv"), "--confirm-warnings"]) == 0
    if names:
        (programme.path / "private").mkdir(mode=0o700)
        (programme.path / "private" / "names.txt").write_text("Okonkwo\n", encoding="utf-8")
    return programme


def test_check_a_programme(tmp_path, capsys):
    programme = _programme_with_notes(tmp_path)
    capsys.readouterr()
    code, out, err = cli(capsys, "check", programme.path)
    # The month with no moderation sample, and both notes by place, never by value; exit 1 for the listed name.
    assert code == 1 and "February 2027: no moderation sample" in out
    assert "audits.sqlite, audit A-1 (first auditor), q3 evidence note: identifier (listed name)" in out
    assert "q5 evidence note: possible identifier (date of birth)" in out
    assert "Okonkwo" not in out + err and "1950" not in out + err
    from .test_tracking import _programme

    (tmp_path / "empty").mkdir()
    code, out, _ = cli(capsys, "check", _programme(tmp_path / "empty").path)  # nothing imported yet: a gap, not a stop
    assert code == 0 and "no audits yet" in out and "No personal identifiers found" in out
    (programme.path / "programme.yaml").write_text("format: reviewkit-programme\ncouncil: [\n", encoding="utf-8")
    assert "programme.yaml" in failed(*cli(capsys, "check", programme.path)[::2])


def test_redact_a_programme(tmp_path, capsys):
    programme = _programme_with_notes(tmp_path)
    capsys.readouterr()
    code, out, _ = cli(capsys, "redact", programme.path, "--as", "Q. Lead")
    assert code == 0 and "Redacted 2 evidence note(s) in audits.sqlite" in out and "0 finding(s) left" in out
    with programme.store() as store:
        notes = store.stored()[("A-1", "first")][3]
        log = store.audit_log()
    assert notes == {"q3": "[PERSON 1] was not asked what matters", "q5": "Assessment dated [DATE OF BIRTH] unsigned"}
    assert log.iloc[-1][["actor", "action", "key"]].tolist() == ["Q. Lead", "redact", "A-1/first"]
    assert b"Okonkwo" not in (programme.path / "audits.sqlite").read_bytes()  # not even in freed pages
    assert cli(capsys, "redact", programme.path)[1].startswith("Nothing to redact.")  # twice changes nothing
    assert stat.S_IMODE((programme.path / "private" / "redaction_map.json").stat().st_mode) == 0o600
    (tmp_path / "other").mkdir()
    other = _programme_with_notes(tmp_path / "other", names=False)  # no private folder, no person to map
    assert "Redacted 1 evidence note(s)" in cli(capsys, "redact", other.path)[1]
    (programme.path / "private" / "redaction_map.json").write_text("[1, 2]", encoding="utf-8")
    assert "redaction_map.json: damaged" in failed(*cli(capsys, "redact", programme.path)[::2])


def test_export_a_programme(tmp_path, capsys):
    programme = _programme_with_notes(tmp_path, names=False)
    capsys.readouterr()
    for name in ("audits.csv", "audits.xlsx"):
        code, out, _ = cli(capsys, "export", programme.path, "--out", tmp_path / name)
        assert code == 0 and "Wrote the programme's audits" in out
        # What it wrote imports back unchanged (the possible date of birth confirmed again, as on the first import).
        code, out, _ = cli(capsys, "import", programme.path, tmp_path / name, "--confirm-warnings")
        assert code == 0 and "0 audit(s) added, 0 replaced, 0 moderation(s), 3 unchanged" in out
    lines = (tmp_path / "audits.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 4 and lines[1].startswith("A-1,2027-01,North Team,A. Auditor,first,Good")
    assert "Okonkwo was not asked" in lines[1]  # the programme's own data, notes included
    code, _, err = cli(capsys, "export", programme.path, "--for-region", "--out", tmp_path / "b.zip")
    assert "a regional bundle comes from a review" in failed(code, err) and not (tmp_path / "b.zip").exists()
