"""Every reader of other people's files fails only with the kit's own errors (seeded mutation fuzz).

Real files — the sample's ratings, notes and meetings (CSV and XLSX), a reviewer's offline
workbook, regional bundles, review.yaml, the audit tool and codebook YAML, names.txt, a
narrative section and a question map — are mutated at random with a fixed seed: bits flipped,
bytes replaced with ones that matter to the format (quotes, NUL, '<', '&', '*', ':'), slices
cut, repeated or truncated. Zipped formats are mutated inside a member as often as in the raw
bytes, so the XML and CSV parsers see damage, not only the zip layer. Each mutant goes
through the reader a user would run; any exception that is not a ``ReviewkitError`` fails,
named with the seed that reproduces it.
"""

from __future__ import annotations

import io
import random
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewkit.core.errors import ReviewkitError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "eastvale-2026"
BUNDLES = ROOT / "sample_data" / "region" / "bundles"
ROUNDS = 25  # mutants per reader and input: about 15 s of processor time in all
_SPECIAL = [b"\x00", b'"', b"'", b"\n", b"\r", b",", b";", b"\xff", b"\xc3", b"<", b">", b"&", b"*", b"&a",
            b":", b"- ", b"[", b"{", b"!!python/object:os.system", b"\t", b"=", b"9" * 30]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to three random damages of the kinds a bad save, a bad transfer or a person makes."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        n = len(out)
        how = rng.randrange(6)
        at = rng.randrange(n) if n else 0
        if how == 0 and n:  # flip bits
            out[at] ^= 1 << rng.randrange(8)
        elif how == 1:  # a byte that matters to the format
            out[at:at + rng.randint(0, 2)] = rng.choice(_SPECIAL)
        elif how == 2 and n:  # cut a slice
            del out[at:at + rng.randint(1, max(1, n // 8))]
        elif how == 3 and n:  # repeat a slice
            chunk = out[at:at + rng.randint(1, 64)]
            out[at:at] = chunk * rng.randint(1, 20)
        elif how == 4:  # truncate
            del out[at:]
        else:  # random bytes
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(out)


def mutate_zip(data: bytes, rng: random.Random) -> bytes:
    """Half the time the raw bytes; otherwise one member, re-zipped with a correct checksum."""
    if rng.random() < 0.5:
        return mutate_bytes(data, rng)
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        infos = zin.infolist()
        target = rng.choice(infos).filename
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in infos:
                member = zin.read(info.filename)
                zout.writestr(info.filename, mutate_bytes(member, rng) if info.filename == target else member)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    from reviewkit.intake.sample import build_sample_workspace

    return build_sample_workspace(tmp_path_factory.mktemp("fuzz") / "eastvale")


def _fuzz(original: bytes, mutate: Callable[[bytes, random.Random], bytes], read: Callable[[bytes, int], object],
          seed: int) -> None:
    """Read ROUNDS mutants; collect every exception outside the kit's tree with its seed."""
    escaped = []
    for i in range(ROUNDS):
        rng = random.Random(seed * 1000 + i)
        mutant = mutate(original, rng)
        try:
            read(mutant, i)
        except ReviewkitError:
            pass
        except Exception as exc:  # noqa: BLE001 - the point: anything else escaped
            escaped.append(f"seed {seed * 1000 + i}: {type(exc).__module__}.{type(exc).__name__}")
    assert escaped == [], "\n".join(escaped)


IMPORTS = ["ratings/deborah-linfoot.csv", "ratings/tobias-wrenfield.xlsx", "notes.csv", "meetings.csv",
           "case_flags.csv", "conversations.csv"]


@pytest.mark.parametrize("name", IMPORTS)
def test_import_files_raises_only_kit_errors(sample, tmp_path, name):
    from reviewkit.intake.io import import_files

    src = SAMPLE / name

    def read(data: bytes, i: int) -> object:
        f = tmp_path / f"{i}{src.suffix}"
        f.write_bytes(data)
        return import_files(sample, [f], actor="fuzz", confirm_warnings=bool(i % 2))

    _fuzz(src.read_bytes(), mutate_zip if src.suffix == ".xlsx" else mutate_bytes, read,
          seed=IMPORTS.index(name) + 1)


def test_an_offline_workbook_raises_only_kit_errors(sample, tmp_path):
    from reviewkit.intake.io import import_files
    from reviewkit.intake.workbook import write_workbook

    reviewer = sample.meta.reviewers[0]
    original = write_workbook(sample, reviewer, tmp_path / "blank.xlsx").read_bytes()

    def read(data: bytes, i: int) -> object:
        f = tmp_path / f"{i}.xlsx"
        f.write_bytes(data)
        return import_files(sample, [f], actor="fuzz")

    _fuzz(original, mutate_zip, read, seed=11)


@pytest.mark.parametrize("bundle", sorted(BUNDLES.glob("*.zip"))[:2], ids=lambda p: p.stem)
def test_read_bundle_raises_only_kit_errors(bundle):
    from reviewkit.review.bundleread import read_bundle

    _fuzz(bundle.read_bytes(), mutate_zip, lambda data, _i: read_bundle(data, "fuzzed.zip"), seed=21)


def _workspace_copy(sample, tmp_path: Path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(sample.path, copy, ignore=shutil.ignore_patterns(".cache", "report"))
    return copy


@pytest.mark.parametrize("name", ["review.yaml", "audit_tool.yaml", "codebook.yaml", "private/names.txt",
                                  "narrative/recommendations.md", "narrative/introduction.md"])
def test_workspace_files_raise_only_kit_errors(sample, tmp_path, name):
    """Each mutant goes through what status, check, the report gate and the regional export read."""
    from reviewkit.review.bundle import bundle_from_workspace
    from reviewkit.review.progress import completeness
    from reviewkit.review.redaction import published_identifiers, scan_workspace
    from reviewkit.review.workspace import open_workspace

    copy = _workspace_copy(sample, tmp_path)
    target = copy / name
    original = target.read_bytes()

    def read(data: bytes, _i: int) -> object:
        target.write_bytes(data)
        ws = open_workspace(copy)
        ws.codebook()
        scan_workspace(ws)
        published_identifiers(ws)
        with ws.store() as store:
            completeness(ws, store)
        return bundle_from_workspace(ws)

    _fuzz(original, mutate_bytes, read, seed=31 + len(name))


@pytest.mark.parametrize("loader, path", [
    ("tool", ROOT / "templates" / "audit_tools" / "strengths-based-practice.yaml"),
    ("codebook", ROOT / "templates" / "themes" / "default.yaml"),
], ids=["audit tool", "codebook"])
def test_tool_and_codebook_yaml_raise_only_kit_errors(tmp_path, loader, path):
    from reviewkit.core.themes import load_codebook
    from reviewkit.core.tools import load_tool

    load = {"tool": load_tool, "codebook": load_codebook}[loader]

    def read(data: bytes, i: int) -> object:
        f = tmp_path / f"{i}-{path.name}"
        f.write_bytes(data)
        return load(f)

    _fuzz(path.read_bytes(), mutate_bytes, read, seed=41)


def test_a_question_map_raises_only_kit_errors(tmp_path):
    from reviewkit.region.sources import load_question_map

    original = b"""format: reviewkit-question-map
version: 1
common:
  - {id: voice, title: The person's voice}
  - {id: strengths, title: Strengths and networks}
tools:
  strengths-based-practice:
    "1.0": {voice: q1, strengths: q2}
"""

    def read(data: bytes, i: int) -> object:
        f = tmp_path / f"{i}.yaml"
        f.write_bytes(data)
        return load_question_map(f)

    _fuzz(original, mutate_bytes, read, seed=51)


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_an_action_plan_raises_only_kit_errors(tmp_path, suffix):
    from reviewkit.intake.actionplan import ActionPlan, PlanRow, read_plan, write_plan

    plan = ActionPlan("Eastvale Borough Council", "2026-10",
                      (PlanRow(1, "Share audit findings with every team.", "Principal Social Worker", "2027-03-31",
                               "Every team briefed", "In progress", "Two teams briefed."),
                       PlanRow(2, "Protect supervision time.")))
    original = write_plan(plan, tmp_path / f"plan{suffix}").read_bytes()

    def read(data: bytes, i: int) -> object:
        f = tmp_path / f"{i}{suffix}"
        f.write_bytes(data)
        return read_plan(f)

    _fuzz(original, mutate_zip, read, seed=21 if suffix == ".xlsx" else 22)
