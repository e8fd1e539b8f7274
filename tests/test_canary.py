"""Canaries, end to end: planted in every kind of unpublished text, they never reach an output.

A copy of the sample review gets the canary name and NHS number (data-protection.md) in an
evidence comment, an unpublished quote, a meeting note, a referral reason and a meeting title,
plus one NHS number written straight into the store as legacy data. Then everything is run
through the command line in subprocesses, each with its own TMPDIR, HOME, IPYTHONDIR and
Jupyter/matplotlib folders inside the test's folder: the report in every format (draft and
final), the Easy Read summary and its letter, the action plan (xlsx and docx), the regional
bundle and a comparison, status and check; imports and renders that fail; and a second copy
whose *published* text holds identifiers, which is refused and then rendered as a watermarked
draft with them withheld (its Easy Read text and a recommendation holding the canaries are
refused, and nothing is written). An in-house programme's store gets them too (an audit's
reference, auditor, comment, feedback and theme): its tracking report holds none. Every file under the output and
environment folders (zip and docx members unpacked, PDF streams inflated and PDF text
extracted) and everything printed is searched for each form of each canary: zero hits.

The command runs happen once, in a module fixture; each test checks one aspect of them.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pypdf
import pytest
import yaml

from reviewkit.core.errors import BlockedTextError, InvalidInputError, RenderError
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.data import unwritten_sections
from reviewkit.report.inputs import input_digest
from reviewkit.report.printer import find_chromium
from reviewkit.report.render import render_report
from reviewkit.review.ratings import RatingInput
from reviewkit.review.workspace import open_workspace

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
REGION_BUNDLES = ROOT / "sample_data" / "region" / "bundles"
NAME = "Zebediah Quokkafeather"
NHS = "999 000 0018"
# Every form searched for: the name, each part of it alone, the NHS number spaced and bare.
CANARY_FORMS = ("zebediah quokkafeather", "quokkafeather", "zebediah", "999 000 0018", "9990000018")
SQUASHED_FORMS = ("zebediahquokkafeather", "quokkafeather", "zebediah", "9990000018")
ENV_DIRS = {"TMPDIR": "tmp", "HOME": "home", "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "mpl",
            "JUPYTER_CONFIG_DIR": "jupyter-config", "JUPYTER_DATA_DIR": "jupyter-data",
            "JUPYTER_RUNTIME_DIR": "jupyter-runtime", "XDG_CACHE_HOME": "xdg-cache",
            "XDG_CONFIG_HOME": "xdg-config", "XDG_DATA_HOME": "xdg-data"}


def _variants(form: str) -> list[bytes]:
    """A canary as bytes in every encoding a file might hold it: UTF-8, UTF-16 and PDF hex strings."""
    utf16 = form.encode("utf-16-be")
    return [form.encode(), utf16, form.encode("utf-16-le"), utf16.hex().encode()]


NEEDLES = {form: _variants(form) for form in CANARY_FORMS}


def _hits_in(blob: bytes) -> list[str]:
    """Canary forms found in one piece of data, as written or with separators squashed out."""
    low = blob.lower()
    found = [form for form, needles in NEEDLES.items() if any(n in low for n in needles)]
    # Squashed: separators, line breaks and markup (a Word run boundary, say) taken out.
    for how, text in (("squashed", low), ("squashed, tags removed", re.sub(rb"<[^<>]{0,200}>", b"", low))):
        squashed = re.sub(rb"[\W_]+", b"", text)
        found += [f"{form} ({how})" for form in SQUASHED_FORMS if form.encode() in squashed]
    return sorted(set(found))


@dataclass
class Run:
    """One command: its arguments, exit code and everything it printed."""

    name: str
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def printed(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Scan:
    """What the search looked at and found."""

    files: int = 0
    disk_bytes: int = 0
    searched_bytes: int = 0
    blobs: int = 0
    hits: list[str] = field(default_factory=list)
    notebooks: list[str] = field(default_factory=list)
    papermill: list[str] = field(default_factory=list)


def _pdf_blobs(path: Path, data: bytes) -> list[tuple[str, bytes]]:
    """A PDF's inflated streams, its extracted text (pdftotext and pypdf), metadata and outline."""
    out = []
    for i, m in enumerate(re.finditer(rb"stream\r?\n(.*?)endstream", data, re.DOTALL)):
        try:
            out.append((f"stream {i}", zlib.decompress(m.group(1))))
        except zlib.error:
            continue  # not Flate (an image, say): its raw bytes are searched with the file
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    out.append(("pdftotext", text))
    reader = pypdf.PdfReader(path)
    pages = "\n".join(page.extract_text() or "" for page in reader.pages)
    meta = "\n".join(f"{k}={v}" for k, v in (reader.metadata or {}).items())

    def titles(items: list) -> list[str]:
        acc = []
        for item in items:
            acc += titles(item) if isinstance(item, list) else [str(getattr(item, "title", ""))]
        return acc

    out.append(("pypdf text, metadata and outline", "\n".join([pages, meta, *titles(reader.outline)]).encode()))
    return out


def _scan_blob(label: str, data: bytes, scan: Scan, depth: int = 0) -> None:
    scan.blobs += 1
    scan.searched_bytes += len(data)
    scan.hits += [f"{label}: {hit}" for hit in _hits_in(data)]
    if b'"papermill"' in data or b"injected-parameters" in data:
        scan.papermill.append(label)
    if depth < 4 and data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for member in z.namelist():
                    if member.endswith(".ipynb"):
                        scan.notebooks.append(f"{label}!{member}")
                    _scan_blob(f"{label}!{member}", z.read(member), scan, depth + 1)
        except zipfile.BadZipFile:
            pass


def _scan_tree(roots: list[Path], scan: Scan) -> None:
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            data = path.read_bytes()
            scan.files += 1
            scan.disk_bytes += len(data)
            if path.suffix == ".ipynb" or (data.lstrip()[:1] == b"{" and b'"nbformat"' in data):
                scan.notebooks.append(str(path))
            _scan_blob(str(path), data, scan)
            if data[:5] == b"%PDF-":
                for label, blob in _pdf_blobs(path, data):
                    _scan_blob(f"{path} ({label})", blob, scan)


# --------------------------------------------------------------------------- the run

def _plant(ws_path: Path, errors: dict[str, str]) -> dict[str, object]:
    """Canaries in unpublished text, through the store as a person would enter them."""
    ws = open_workspace(ws_path)
    case = ws.meta.cases[0]
    planted: dict[str, object] = {"case": case.id, "reviewer": case.reviewer}
    with ws.store() as store:
        old = store.rating(case.id, case.reviewer, "q1")
        rating = old.rating if old else "Good"
        store.set_rating("test", RatingInput(case.id, case.reviewer, "q1", rating,
                                             f"Seen at home with {NAME}; plan agreed with them."))
        # The store refuses the NHS number wherever it is typed.
        with pytest.raises(BlockedTextError) as refused:
            store.set_rating("test", RatingInput(case.id, case.reviewer, "q1", rating, f"NHS number {NHS}"))
        errors["store: rating comment with the NHS number"] = str(refused.value)
        meeting_id = int(store.meetings()["id"].iloc[0])
        planted["quote"] = store.add_note("test", f"{NAME} said the panel never asked what mattered to him.",
                                          meeting_id=meeting_id, kind="quote", speaker_role="manager",
                                          use_in_report=False)
        planted["note"] = store.add_note("test", f"The team discussed {NAME}'s discharge at length.",
                                         meeting_id=meeting_id, kind="note")
        with pytest.raises(BlockedTextError) as refused:
            store.add_note("test", f"{NAME}, NHS number {NHS}", meeting_id=meeting_id, kind="note")
        errors["store: note with the NHS number"] = str(refused.value)
        with pytest.raises(InvalidInputError) as refused:
            store.add_note("test", f"{NAME}, NHS number {NHS}", meeting_id=meeting_id, kind="note",
                           stance=NAME)
        errors["store: note with an invalid stance"] = str(refused.value)
        store.set_case_flag("test", case.id, case.reviewer, referred_back=True,
                            reason=f"Safeguarding concern about {NAME} not followed up.")
        store.update_meeting("test", meeting_id, title=f"Meeting that discussed {NAME}")
        assert store.meeting(meeting_id)["title"].endswith(NAME)
    # Legacy data, written before screening existed: straight into the column.
    db = sqlite3.connect(ws.db_path)
    try:
        changed = db.execute("UPDATE ratings SET comment=? WHERE case_id=? AND reviewer=? AND question=?",
                             (f"Legacy note: NHS number {NHS} on file.", case.id, case.reviewer, "q2")).rowcount
        db.commit()
    finally:
        db.close()
    assert changed == 1
    return planted


def _publish_identifiers(ws_path: Path) -> None:
    """Identifiers in text the report prints: theme, a narrative line and a published quote."""
    ws = open_workspace(ws_path)
    with ws.store() as store:
        store.add_note("test", f"{NAME} told us the new plan let him stay at home.",
                       meeting_id=int(store.meetings()["id"].iloc[1]), kind="quote",
                       speaker_role="social worker", use_in_report=True)
    # The host lists the name afterwards, so the stored quote now holds a listed name.
    names = ws.path / "private" / "names.txt"
    names.write_text(names.read_text(encoding="utf-8") + f"\n{NAME}\n", encoding="utf-8")
    ws.meta.theme = f"{ws.meta.theme} (as first raised by {NAME})"
    ws.save_meta()
    narrative = ws.path / "narrative" / "observations.md"
    narrative.write_text(narrative.read_text(encoding="utf-8")
                         + f"\nOne person's NHS number ({NHS}) was copied here by mistake.\n", encoding="utf-8")


def _bad_import_files(folder: Path) -> list[Path]:
    """Rows that fail validation, with the canaries in the cells that fail (and in comments)."""
    folder.mkdir()
    ratings = folder / "ratings.csv"
    ratings.write_text(
        "case_id,reviewer,question,rating,comment\n"
        f"C01,Rowena Ashdown,q1,Good,Seen with {NAME} and NHS {NHS}\n"
        f"{NAME},Rowena Ashdown,q2,Good,{NAME}\n"
        f"C01,{NAME},q3,Good,fine\n"
        f"C01,Rowena Ashdown,q4,{NHS},fine\n"
        f"C01,Rowena Ashdown,q5,{NAME},NHS {NHS}\n"
        f"9990000018,Rowena Ashdown,q6,Good,ok\n"
        f"C01,Rowena Ashdown,Quokkafeather,Good,ok\n", encoding="utf-8")
    notes = folder / "notes.csv"
    notes.write_text(
        "note,meeting,conversation,kind,text,speaker_role,stance,codes,use_in_report\n"
        f"X1,{NAME},,note,ok,manager,strength,learning,no\n"
        f"X2,M1,,Quokkafeather,ok,manager,strength,learning,no\n"
        f"X3,M1,,note,NHS {NHS},manager,{NAME},Quokkafeather,9990000018\n", encoding="utf-8")
    return [ratings, notes]


def _other_bundles(ours: Path) -> list[Path]:
    """The sample region's bundles, less the one for the same council and round as ours."""
    def key(path: Path) -> tuple[str, str]:
        with zipfile.ZipFile(path) as z:
            manifest = yaml.safe_load(z.read("manifest.yaml"))
        return manifest["council"], str(manifest["round"])

    mine = key(ours)
    return [p for p in sorted(REGION_BUNDLES.glob("*.zip")) if key(p) != mine]


@pytest.fixture(scope="module")
def canary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if find_chromium() is None:
        pytest.fail("Chromium is not installed (PDF output): run scripts/setup.sh; the canary checks every format")
    started = time.monotonic()
    root = tmp_path_factory.mktemp("canary")
    env_root, out, inputs, cwd = root / "env", root / "out", root / "inputs", root / "cwd"
    cwd.mkdir()
    env = dict(os.environ)
    for var, sub in ENV_DIRS.items():
        (env_root / sub).mkdir(parents=True)
        env[var] = str(env_root / sub)
    for var in ("TMP", "TEMP"):
        env[var] = env["TMPDIR"]
    env.pop("REVIEWKIT_WITHHOLD_IDENTIFIERS", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"

    errors: dict[str, str] = {}
    ws = build_sample_workspace(root / "ws").path
    planted = _plant(ws, errors)
    published = root / "ws-published"
    shutil.copytree(ws, published, ignore=shutil.ignore_patterns(".cache"))
    _publish_identifiers(published)
    broken = root / "ws-broken"
    shutil.copytree(ws, broken, ignore=shutil.ignore_patterns(".cache"))

    runs: dict[str, Run] = {}

    def run(name: str, *args: str | Path) -> Run:
        cmd = [sys.executable, "-m", "reviewkit", *map(str, args)]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600, check=False)
        runs[name] = Run(name, cmd[3:], done.returncode, done.stdout, done.stderr)
        return runs[name]

    # Values that fail validation: printed errors only.
    run("import invalid rows", "import", ws, *_bad_import_files(inputs))
    # Everything rendered or exported from the canary workspace.
    run("report html,pdf,docx", "report", ws, "--to", "html,pdf,docx", "--out", out / "report")
    final = not unwritten_sections(ws)
    if final:
        run("report --final html", "report", ws, "--to", "html", "--final", "--out", out / "final")
    bundle = out / "bundle" / "review.zip"
    run("export --for-region", "export", ws, "--for-region", "--out", bundle)
    run("compare html,pdf", "compare", bundle, *_other_bundles(bundle), "--to", "html,pdf", "--out", out / "compare")
    run("report --easy-read", "report", ws, "--easy-read", "--to", "html,pdf,docx", "--out", out / "easy-read")
    for folder in ("plan", "plan-refused"):
        (out / folder).mkdir(parents=True)
    run("action-plan xlsx", "action-plan", ws, "--out", out / "plan" / "action-plan.xlsx")
    run("action-plan docx", "action-plan", ws, "--out", out / "plan" / "action-plan.docx")
    run("status", "status", ws)
    run("check", "check", ws)
    # Identifiers in published text: refused, refused when final, rendered withheld as a draft.
    run("report refused", "report", published, "--to", "html,pdf,docx", "--out", out / "refused")
    run("report --final --withhold refused", "report", published, "--to", "html", "--final",
        "--withhold-identifiers", "--out", out / "refused-final")
    run("report withheld", "report", published, "--to", "html,pdf,docx", "--withhold-identifiers",
        "--out", out / "withheld")
    # The team's Easy Read text and a recommendation holding the canaries: refused, nothing written.
    for name, line in (("easy_read.md", f"{NAME} (NHS {NHS}) told us he felt heard."),
                       ("recommendations.md", f"99. Following up {NAME} (NHS {NHS}) with his carer.")):
        story = published / "narrative" / name
        before = story.read_text(encoding="utf-8") if story.exists() else ""
        story.write_text(f"{before.rstrip()}\n{line}\n", encoding="utf-8")
    run("report --easy-read refused", "report", published, "--easy-read", "--to", "html,pdf,docx",
        "--out", out / "easy-read-refused")
    run("action-plan refused", "action-plan", published, "--out", out / "plan-refused" / "action-plan.xlsx")
    # Renders that fail: a narrative file that is not UTF-8 (holding the canaries' bytes), then
    # a legacy rating the scale does not know, which fails inside the report notebook.
    story = broken / "narrative" / "strengths.md"
    original = story.read_bytes()
    story.write_bytes(original + f"\n{NAME} {NHS} caf".encode() + b"\xe9\n")
    run("report, narrative not UTF-8", "report", broken, "--to", "html", "--out", out / "broken")
    story.write_bytes(original)
    db = sqlite3.connect(broken / "review.db")
    try:
        db.execute("UPDATE ratings SET rating=? WHERE case_id=? AND question='q3'", (f"{NAME} {NHS}", planted["case"]))
        db.commit()
    finally:
        db.close()
    run("report, notebook fails", "report", broken, "--to", "html", "--out", out / "broken")

    scan = Scan()
    roots = [out, env_root, cwd]
    _scan_tree(roots, scan)
    for label, text in [*((f"printed by '{r.name}'", r.printed) for r in runs.values()),
                        *((f"exception: {k}", v) for k, v in errors.items())]:
        _scan_blob(label, text.encode(), scan)
    report = {"runs": runs, "errors": errors, "scan": scan, "planted": planted, "out": out, "env": env_root, "cwd": cwd,
              "ws": ws, "published": published, "final": final, "seconds": time.monotonic() - started}
    print(f"\ncanary search: {scan.files} files ({scan.disk_bytes} bytes on disk), {scan.blobs} pieces of data "
          f"searched ({scan.searched_bytes} bytes incl. unpacked members, inflated streams, extracted text "
          f"and printed output); hits: {len(scan.hits)}; run took {report['seconds']:.0f} s")
    return report


# --------------------------------------------------------------------------- zero hits

def test_every_command_ran_as_expected(canary: dict) -> None:
    codes = {name: r.returncode for name, r in canary["runs"].items()}
    expected = {"import invalid rows": 1, "report html,pdf,docx": 0, "export --for-region": 0,
                "compare html,pdf": 0, "status": 0, "check": 1, "report refused": 1,
                "report --final --withhold refused": 1, "report withheld": 0, "report --easy-read": 0,
                "action-plan xlsx": 0, "action-plan docx": 0, "report --easy-read refused": 1,
                "action-plan refused": 1,
                "report, narrative not UTF-8": 1, "report, notebook fails": 1}
    if canary["final"]:
        expected["report --final html"] = 0
    assert codes == expected, {n: canary["runs"][n].stderr[-2000:] for n in codes if codes[n] != expected.get(n)}
    out = canary["out"]
    assert sorted(p.name for p in (out / "report").iterdir()) == ["report.docx", "report.html", "report.pdf"]
    assert sorted(p.name for p in (out / "easy-read").iterdir()) == [
        f"{doc}.{ext}" for doc in ("easy-read", "what-you-told-us") for ext in ("docx", "html", "pdf")]
    assert sorted(p.name for p in (out / "plan").iterdir()) == ["action-plan.docx", "action-plan.xlsx"]
    assert not (out / "easy-read-refused").exists() and list((out / "plan-refused").iterdir()) == []
    assert sorted(p.name for p in (out / "compare").iterdir()) == ["regional_comparison.html",
                                                                   "regional_comparison.pdf"]
    assert "Traceback" not in "".join(r.printed for r in canary["runs"].values())


def test_no_canary_in_any_output_temp_file_or_printed_text(canary: dict) -> None:
    scan: Scan = canary["scan"]
    assert scan.files >= 10 and scan.searched_bytes > 1_000_000  # the search really covered the outputs
    assert scan.hits == []


def test_the_search_would_find_a_canary_in_every_form_it_looks_in(tmp_path: Path) -> None:
    """The searcher itself: each encoding and container it claims to read, with a planted canary."""
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "a.txt").write_text(f"x {NAME} y", encoding="utf-8")
    (planted / "b.bin").write_bytes("999-000-0018".encode("utf-16-le"))
    with zipfile.ZipFile(planted / "c.docx", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", f"<w:t>Quokka</w:t><w:t>feather</w:t> {NHS.replace(' ', '')}")
    pdf = planted / "d.pdf"
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_metadata({"/Title": NAME})
    writer.write(pdf)
    scan = Scan()
    _scan_tree([planted], scan)
    assert {h.split(": ", 1)[0] for h in scan.hits} >= {str(planted / "a.txt"), str(planted / "b.bin"),
                                                         f"{planted / 'c.docx'}!word/document.xml"}
    assert any(h.startswith(f"{pdf} (pypdf") for h in scan.hits), scan.hits


def test_the_search_finds_the_planted_canaries_in_the_workspace_itself(canary: dict) -> None:
    """A positive control on the real data: the workspace, which holds the canaries, is not clean."""
    scan = Scan()
    _scan_tree([canary["ws"], canary["published"]], scan)
    forms = {hit.rsplit(": ", 1)[1].split(" (")[0] for hit in scan.hits}
    assert {"zebediah quokkafeather", "quokkafeather", "999 000 0018", "9990000018"} <= forms


def test_no_executed_notebook_or_papermill_trace_is_left(canary: dict) -> None:
    scan: Scan = canary["scan"]
    assert scan.notebooks == []
    assert scan.papermill == []


def test_no_temp_files_are_left_behind(canary: dict) -> None:
    env: Path = canary["env"]
    left = sorted(str(p.relative_to(env / "tmp")) for p in (env / "tmp").rglob("*"))
    assert left == [], f"left in TMPDIR: {left}"
    assert sorted(p.name for p in canary["cwd"].iterdir()) == []  # nothing written to the working folder


def test_no_ipython_history_is_written(canary: dict) -> None:
    env: Path = canary["env"]
    histories = [p for root in (env, canary["out"]) for p in root.rglob("*")
                 if p.name.startswith("history") or p.suffix in (".sqlite", ".sqlite3", ".db")]
    assert histories == []
    assert list((env / "ipython").iterdir()) == []  # the kernels used their own IPYTHONDIR
    assert not (env / "home" / ".ipython").exists()


def test_the_report_kernel_has_history_off_and_a_throwaway_ipython_dir(canary: dict, tmp_path: Path) -> None:
    """Asked from inside the kernel itself, through a probe notebook rendered like the report."""
    import nbformat

    probe = nbformat.v4.new_notebook()
    probe.cells = [
        nbformat.v4.new_code_cell('workspace = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "import html, os\nfrom IPython.display import HTML, display\nip = get_ipython()\n"
            "hm = ip.history_manager\n"
            "display(HTML('<p id=\"probe\">' + html.escape('|'.join([str(hm.enabled), str(hm.hist_file), "
            "ip.ipython_dir, os.environ.get('IPYTHONDIR', ''), os.environ.get('HOME', '')])) + '</p>'))"),
    ]
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb_path = tmp_path / "probe.ipynb"
    nbformat.write(probe, str(nb_path))
    result = render_report(canary["ws"], tmp_path / "out", ("html",), notebook=nb_path, use_cache=False)
    page = result["html"].read_text(encoding="utf-8")
    found = re.search(r'<p id="probe">(.*?)</p>', page)
    assert found, "the probe cell's output is missing"
    enabled, hist_file, ipython_dir, env_ipython, _home = html.unescape(found.group(1)).split("|")
    assert enabled == "False"
    assert hist_file == ":memory:" or not Path(hist_file).exists()
    assert ipython_dir == env_ipython and Path(ipython_dir).name == "ipython"
    assert Path(ipython_dir).parent.name.startswith("reviewkit-report-")  # the render's temporary folder
    assert not Path(ipython_dir).exists()  # removed with it when the render finished


# --------------------------------------------------------------------------- error messages

def test_store_refuses_the_nhs_canary_without_repeating_it(canary: dict) -> None:
    errors = canary["errors"]
    assert "NHS number" in errors["store: rating comment with the NHS number"]
    assert "NHS number" in errors["store: note with the NHS number"]
    for message in errors.values():
        assert _hits_in(message.encode()) == [], message


def test_invalid_import_rows_are_located_without_their_values(canary: dict) -> None:
    run: Run = canary["runs"]["import invalid rows"]
    for where in ("row 3, column 'case_id'", "row 4, column 'reviewer'", "row 5, column 'rating'",
                  "row 2, column 'comment'", "column 'question'", "column 'meeting'", "column 'kind'"):
        assert where in run.stderr, where
    assert "Nothing was imported" in run.stderr
    assert _hits_in(run.printed.encode()) == []


def test_failed_renders_say_why_without_the_canary_and_write_nothing(canary: dict) -> None:
    runs = canary["runs"]
    assert "strengths.md: not UTF-8 text" in runs["report, narrative not UTF-8"].stderr
    failed = runs["report, notebook fails"].stderr
    assert "failed with InvalidInputError" in failed and "column 'rating'" in failed
    for name in ("report, narrative not UTF-8", "report, notebook fails"):
        assert _hits_in(runs[name].printed.encode()) == []
    assert not (canary["out"] / "broken").exists()


def test_check_lists_the_legacy_nhs_number_by_location(canary: dict) -> None:
    run: Run = canary["runs"]["check"]
    planted = canary["planted"]
    assert f"ratings, case {planted['case']}, {planted['reviewer']}, q2, comment: identifier (nhs number)" \
        in run.stdout
    assert _hits_in(run.printed.encode()) == []


# --------------------------------------------------------------------------- published identifiers

def test_report_refuses_while_published_text_holds_an_identifier(canary: dict) -> None:
    run: Run = canary["runs"]["report refused"]
    assert run.returncode == 1
    message = run.stderr
    assert "3 pieces of text that the report would publish hold what looks like a personal identifier" in message
    for where in ("narrative/observations.md, line", "review.yaml, theme", "notes, note"):
        assert where in message, where
    assert "NHS number" in message and "name from this review's list of names" in message
    assert "reviewkit check" in message and "reviewkit redact" in message and "--withhold-identifiers" in message
    assert not (canary["out"] / "refused").exists()
    assert _hits_in(run.printed.encode()) == []


def test_final_report_refuses_even_when_asked_to_withhold(canary: dict) -> None:
    run: Run = canary["runs"]["report --final --withhold refused"]
    assert run.returncode == 1
    assert "A final report never withholds identifiers" in run.stderr
    assert not (canary["out"] / "refused-final").exists()


def test_withheld_draft_is_watermarked_and_holds_no_identifier(canary: dict) -> None:
    out = canary["out"] / "withheld"
    run: Run = canary["runs"]["report withheld"]
    assert "NOT FOR PUBLICATION: 3 piece(s) of text" in run.stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    banner = re.search(r'<p class="withheld-banner" role="note">(.*?)</p>', page, re.DOTALL)
    assert banner and "DRAFT — NOT FOR PUBLICATION:" in banner.group(1)
    assert "3 pieces of text held possible personal identifiers and were withheld; run reviewkit check" \
        in banner.group(1)
    assert re.search(r'<div (?=[^>]*class="watermark")(?=[^>]*aria-hidden="true")[^>]*></div>', page)
    assert 'class="draft withheld incomplete"' in page  # the withheld identifiers are gaps too
    # Redacted on the fly, with the same placeholder for the same person on the cover and in a quote.
    assert "[NHS NUMBER]" in page
    assert page.count("[PERSON 1]") >= 3 and "[PERSON 2]" not in page
    cover = page[page.index('<header class="cover">'):page.index("</header>")]
    assert "[PERSON 1]" in cover
    reader = pypdf.PdfReader(out / "report.pdf")
    for number, page in enumerate(reader.pages, 1):  # the watermark is on every printed page
        text = page.extract_text() or ""
        assert "DRAFT — DATA INCOMPLETE" in text and "NOT FOR PUBLICATION" in text, f"page {number}"
    import docx

    document = docx.Document(str(out / "report.docx"))
    assert any("DRAFT — NOT FOR PUBLICATION" in p.text for p in document.paragraphs[:12])
    for section in document.sections:  # and at the top of every page of the Word file
        mark = " ".join(p.text for p in section.header.paragraphs)
        assert mark.startswith("DRAFT — ") and mark.endswith("NOT FOR PUBLICATION (identifiers withheld)")
    scan = Scan()  # this render alone: HTML, the PDF's streams and text, the Word file's members
    _scan_tree([out], scan)
    assert scan.files == 3 and scan.hits == []


def test_the_library_refuses_too_and_writes_nothing(canary: dict, tmp_path: Path) -> None:
    for kwargs in ({}, {"final": True, "withhold_identifiers": True}):
        with pytest.raises(RenderError) as refused:
            render_report(canary["published"], tmp_path / "out", ("html",), **kwargs)
        assert "review.yaml, theme" in str(refused.value)
        assert _hits_in(str(refused.value).encode()) == []
    assert not (tmp_path / "out").exists()


def test_cache_key_includes_the_withhold_mode(canary: dict) -> None:
    ws = open_workspace(canary["published"])
    assert input_digest(ws) != input_digest(ws, withhold_identifiers=True)
    assert input_digest(ws, withhold_identifiers=True) == input_digest(ws, withhold_identifiers=True)


@pytest.mark.browser
def test_withheld_draft_passes_axe(canary: dict) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.goto((canary["out"] / "withheld" / "report.html").as_uri())
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
                "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
        finally:
            browser.close()
    assert results.violations_count == 0, results.generate_report()


def test_an_in_house_tracking_report_holds_no_canary_from_its_audits(tmp_path: Path) -> None:
    """Legacy values written straight into an in-house programme's store: none reaches the tracking report."""
    from reviewkit.inhouse.sample import build_sample_programme

    if find_chromium() is None:
        pytest.fail("Chromium is not installed (PDF output): run scripts/setup.sh; the canary checks every format")
    programme = build_sample_programme(tmp_path / "prog")
    db = sqlite3.connect(programme.path / "audits.sqlite")
    try:
        with db:
            first, second, third, fourth = [r[0] for r in db.execute("SELECT audit_id FROM audits LIMIT 4")]
            db.execute("UPDATE ratings SET comment=? WHERE audit_id=?", (f"Seen with {NAME}, NHS {NHS}", first))
            db.execute("UPDATE ratings SET auditor=? WHERE audit_id=?", (NAME, second))
            db.execute("UPDATE audits SET feedback=?, feedback_from=?, themes=themes || ? WHERE audit_id=?",
                       (f"{NAME} said thank you ({NHS})", NAME, f";{NAME}", third))
            for table in ("audits", "ratings"):
                db.execute(f"UPDATE {table} SET audit_id=? WHERE audit_id=?", (f"{NAME} {NHS}", fourth))  # noqa: S608
    finally:
        db.close()
    env = dict(os.environ)
    for var, sub in ENV_DIRS.items():
        (tmp_path / "env" / sub).mkdir(parents=True)
        env[var] = str(tmp_path / "env" / sub)
    out = tmp_path / "tracking"
    done = subprocess.run([sys.executable, "-m", "reviewkit", "tracking", str(programme.path), "--to", "html,pdf,docx",
                           "--by-team", "--out", str(out)], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["signals.csv", "tracking.docx", "tracking.html", "tracking.pdf"]
    scan = Scan()
    _scan_tree([out, tmp_path / "env"], scan)
    _scan_blob("printed by tracking", (done.stdout + done.stderr).encode(), scan)
    assert scan.files >= 4 and scan.hits == []
