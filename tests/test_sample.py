"""The fictional Eastvale sample review: what it holds, that it looks like a real review,
that it carries no screened name or canary, and that its generator is reproducible."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections import Counter

import openpyxl
import pytest
import yaml

from reviewkit.core.errors import WorkspaceError
from reviewkit.intake.sample import SAMPLE_DIR, build_sample_workspace, sample_files
from reviewkit.privacy import screening as privacy
from reviewkit.review.workspace import NARRATIVE_SECTIONS, open_workspace

GENERATOR = SAMPLE_DIR.parent / "make_sample.py"
HAND_WRITTEN = {"review.yaml", "narrative", "private"}
CANARIES = ("Zebediah", "Quokkafeather", "999 000 0018", "9990000018", "999-000-0018")
SCORES = {"Outstanding": 4, "Good": 3, "Requires Improvement": 2, "Inadequate": 1}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample workspace, built once for the module, and its store's tables."""
    messages: list[str] = []
    ws = build_sample_workspace(tmp_path_factory.mktemp("sample") / "eastvale", progress=messages.append)
    with ws.store() as store:
        tables = {"ratings": store.ratings(), "flags": store.case_flags(), "meetings": store.meetings(),
                  "conversations": store.conversations(), "notes": store.notes(), "audit": store.audit_log()}
    return ws, tables, messages


def _primary(ws, ratings):
    primary = {(c.id, c.reviewer) for c in ws.meta.cases}
    mask = [(c, r) in primary for c, r in zip(ratings["case_id"], ratings["reviewer"])]
    return ratings[mask]


def _screened_names() -> list[str]:
    lines = (SAMPLE_DIR / "private" / "names.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _sample_texts() -> dict[str, str]:
    """The text of every shipped sample file (XLSX cells included), except the names list."""
    texts: dict[str, str] = {}
    for path in sorted(SAMPLE_DIR.parent.rglob("*")):
        if not path.is_file() or path.name == "names.txt" or "__pycache__" in path.parts:
            continue
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path, read_only=True)
            cells = [str(v) for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True)
                     for v in row if v is not None]
            wb.close()
            texts[str(path)] = "\n".join(cells)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                texts[str(path)] = "\n".join(zf.read(n).decode("utf-8") for n in zf.namelist())
        else:
            texts[str(path)] = path.read_text(encoding="utf-8")
    return texts


# -- what the built workspace holds ------------------------------------------------------------
def test_sample_workspace_holds_the_whole_review(built):
    ws, t, messages = built
    assert ws.meta.council == "Eastvale Borough Council"
    assert [m.role for m in ws.meta.team].count("host") == 1
    assert [m.role for m in ws.meta.team].count("associate") == 1
    assert len(ws.meta.reviewers) == 4
    assert len(ws.meta.cases) == 20
    assert Counter(c.reviewer for c in ws.meta.cases) == {r: 5 for r in ws.meta.reviewers}
    assert len(ws.meta.previous_recommendations) == 8
    assert all(r.update for r in ws.meta.previous_recommendations)
    assert 3 <= len(ws.meta.review_questions) <= 4

    ratings = t["ratings"]
    assert len(ratings) == 286 == 20 * 13 + 2 * 13
    assert ratings["comment"].str.strip().str.len().min() > 20  # every rating has an evidence note
    per_pair = ratings.groupby(["case_id", "reviewer"])["question"].apply(set)
    assert len(per_pair) == 22
    assert all(qs == set(ws.tool.all_ids) for qs in per_pair)
    assert _primary(ws, ratings)["case_id"].nunique() == 20

    assert len(ws.meta.moderation_cases) == 2
    for case_id in ws.meta.moderation_cases:
        raters = set(ratings.loc[ratings["case_id"] == case_id, "reviewer"])
        assert len(raters) == 2

    assert len(t["flags"]) == 22
    assert t["flags"]["complete"].all() and not t["flags"]["referred_back"].any()

    meetings = t["meetings"]
    assert sorted(meetings["kind"]) == ["managers", "practitioners"]
    assert meetings["attendee_count"].sum() == 13
    assert dict(zip(meetings["kind"], meetings["attendee_count"])) == {"managers": 6, "practitioners": 7}

    conversations = t["conversations"]
    assert len(conversations) == 5
    assert set(conversations["case_id"]) <= {c.id for c in ws.meta.cases}
    assert {"person", "relative", "carer", "person and relative"} == set(conversations["who"])

    notes = t["notes"]
    meeting_notes = notes[notes["source"] == "meeting"]
    assert len(meeting_notes[meeting_notes["kind"] != "one_change"]) >= 30
    changes = meeting_notes[meeting_notes["kind"] == "one_change"]
    assert Counter(changes["meeting_kind"]) == {"managers": 6, "practitioners": 7}
    assert len(notes[notes["source"] == "conversation"]) >= 8
    assert notes["use_in_report"].sum() >= 10
    assert all(codes for codes in notes["codes"])  # every note is coded

    assert messages and any("Importing" in m for m in messages)


def test_every_narrative_section_is_written(built):
    ws, _, _ = built
    for name in NARRATIVE_SECTIONS:
        text = (ws.narrative_dir / f"{name}.md").read_text(encoding="utf-8")
        assert text == (SAMPLE_DIR / "narrative" / f"{name}.md").read_text(encoding="utf-8")
        assert len(text.split()) > 60 and "<!--" not in text, name
    assert ws.private_names() == _screened_names()
    reopened = open_workspace(ws.path)
    assert reopened.meta.to_yaml() == ws.meta.to_yaml()


def test_every_change_was_audited_as_sample_data(built):
    _, t, _ = built
    audit = t["audit"]
    inserts = audit[audit["action"] == "insert"]
    assert set(inserts["actor"]) == {"sample data"}
    assert Counter(inserts["entity"])["rating"] == 286


# -- it looks like a real review ----------------------------------------------------------------
def test_pooled_ratings_mix_looks_like_a_real_review(built):
    ws, t, _ = built
    primary = _primary(ws, t["ratings"])
    questions = primary[primary["question"] != "overall"]
    assert len(questions) == 240
    assert (questions["rating"] == "Not applicable").sum() >= 1
    scored = questions[questions["rating"] != "Not applicable"]
    share = scored["rating"].value_counts() / len(scored)
    assert 0.20 <= share["Outstanding"] <= 0.27
    assert 0.58 <= share["Good"] <= 0.62
    assert 0.13 <= share["Requires Improvement"] <= 0.17
    assert share.get("Inadequate", 0) <= 0.01

    overall = Counter(primary.loc[primary["question"] == "overall", "rating"])
    assert 4 <= overall["Outstanding"] <= 5
    assert overall["Good"] == 13 and overall["Requires Improvement"] == 2 and overall["Inadequate"] == 0


def test_management_oversight_and_community_assets_are_the_weakest(built):
    ws, t, _ = built
    primary = _primary(ws, t["ratings"])
    scored = primary[primary["rating"].isin(SCORES) & (primary["question"] != "overall")]
    means = scored.assign(score=scored["rating"].map(SCORES)).groupby("question")["score"].mean()
    assert set(means.nsmallest(2).index) == {"q11", "q5"}


def test_overall_judgements_agree_with_the_question_ratings(built):
    ws, t, _ = built
    ratings = t["ratings"]
    for (case_id, reviewer), rows in ratings.groupby(["case_id", "reviewer"]):
        levels = dict(zip(rows["question"], rows["rating"]))
        overall = SCORES[levels.pop("overall")]
        mean = sum(SCORES[v] for v in levels.values() if v in SCORES) / sum(v in SCORES for v in levels.values())
        assert abs(mean - overall) <= 0.8, (case_id, reviewer)


def test_moderation_pairs_mostly_agree(built):
    ws, t, _ = built
    ratings = t["ratings"]
    differences = []
    for case in ws.meta.cases:
        if not case.moderators:
            continue
        table = ratings[ratings["case_id"] == case.id].pivot(index="question", columns="reviewer", values="rating")
        first, second = table[case.reviewer], table[case.moderators[0]]
        assert first["overall"] == second["overall"]
        steps = [abs(SCORES[a] - SCORES[b]) for a, b in zip(first, second) if a != b]
        assert all(s == 1 for s in steps), case.id
        differences += steps
    assert 2 <= len(differences) <= 4


# -- personal data ------------------------------------------------------------------------------
def test_no_screened_name_or_canary_appears_in_any_sample_file():
    names = _screened_names()
    assert len(names) >= 3
    parts = {p for n in names for p in re.split(r"[\s\-']+", n) if len(p) >= 3}
    texts = _sample_texts()
    assert any(path.endswith(".xlsx") for path in texts)
    for path, text in texts.items():
        folded = text.casefold()
        for word in [*names, *parts, *CANARIES]:
            assert not re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", folded), (path, "a screened word")


def test_sample_free_text_passes_privacy_screening(built):
    ws, t, _ = built
    names = ws.private_names()
    free_text = [*t["ratings"]["comment"], *t["notes"]["text"]]
    free_text += [(ws.narrative_dir / f"{n}.md").read_text(encoding="utf-8") for n in NARRATIVE_SECTIONS]
    free_text += [r.text + " " + r.update for r in ws.meta.previous_recommendations]
    for text in free_text:
        assert privacy.screen(text, names) == []


def test_quotes_are_non_attributable_and_the_narrative_uses_the_chosen_ones(built):
    _, t, _ = built
    notes = t["notes"]
    assert set(notes["speaker_role"]) <= {"manager", "practitioner", "person", "relative", "carer"}
    squash = lambda s: " ".join(s.split())  # noqa: E731
    sections = {"meeting": squash((SAMPLE_DIR / "narrative" / "meetings.md").read_text(encoding="utf-8")),
                "conversation": squash((SAMPLE_DIR / "narrative" / "case_records.md").read_text(encoding="utf-8"))}
    chosen = notes[(notes["kind"] == "quote") & notes["use_in_report"]]
    for source, text in zip(chosen["source"], chosen["text"]):
        assert squash(text).rstrip(".") in sections[source]  # a closing full stop may fall outside


def test_narrative_types_no_computed_figure_and_cites_real_recommendations():
    narrative = SAMPLE_DIR / "narrative"
    for path in narrative.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\d\s*(%|per ?cent)", text), path.name
        assert not re.search(r"\b\d+ (case records?|cases|managers|practitioners|conversations)\b", text), path.name
    items = re.findall(r"^(\d+)\. ", (narrative / "recommendations.md").read_text(encoding="utf-8"), re.M)
    assert items == [str(i) for i in range(1, len(items) + 1)] and 5 <= len(items) <= 7
    cited = re.findall(r"Recommendation (\d+)", (narrative / "observations.md").read_text(encoding="utf-8"))
    assert cited and {int(n) for n in cited} <= set(range(1, len(items) + 1))


# -- building and regenerating ----------------------------------------------------------------------
def test_build_refuses_a_non_empty_folder(tmp_path):
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="not empty"):
        build_sample_workspace(dest)
    assert [p.name for p in dest.iterdir()] == ["keep.txt"]
    assert (dest / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_importing_the_sample_again_changes_nothing(tmp_path):
    from reviewkit.intake.io import import_files

    ws = build_sample_workspace(tmp_path / "ws")
    with ws.store() as store:
        log_before = len(store.audit_log())
    summary = import_files(ws, sample_files(), actor="again")
    assert all(s.added == 0 and s.changed == 0 for s in summary.values())
    assert summary["ratings"].unchanged == 286 and summary["notes"].unchanged == len(
        [ln for ln in (SAMPLE_DIR / "notes.csv").read_text(encoding="utf-8").splitlines()[1:] if ln])
    with ws.store() as store:
        assert len(store.audit_log()) == log_before


def test_sample_files_lists_every_ratings_file_and_one_workbook():
    files = sample_files()
    ratings = [p for p in files if p.parent.name == "ratings"]
    assert len(ratings) == 4 and sum(p.suffix == ".xlsx" for p in ratings) == 1
    assert [p.name for p in files[len(ratings):]] == ["case_flags.csv", "meetings.csv", "conversations.csv",
                                                      "notes.csv", "concerns.csv", "calibration.csv"]


def test_generator_is_reproducible(tmp_path):
    out = tmp_path / "regenerated"
    done = subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    generated = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SAMPLE_DIR) for p in SAMPLE_DIR.rglob("*")
                       if p.is_file() and p.relative_to(SAMPLE_DIR).parts[0] not in HAND_WRITTEN)
    assert generated == committed
    for rel in generated:
        assert (out / rel).read_bytes() == (SAMPLE_DIR / rel).read_bytes(), str(rel)


def test_generator_reads_the_case_allocation_from_review_yaml():
    meta = yaml.safe_load((SAMPLE_DIR / "review.yaml").read_text(encoding="utf-8"))
    moderated = {c["id"]: c["moderators"] for c in meta["cases"] if c.get("moderators")}
    assert moderated == {"C04": ["Deborah Linfoot"], "C13": ["Tobias Wrenfield"]}
    # The offline reviewer sends back the audit workbook the kit wrote for them, filled in.
    wb = openpyxl.load_workbook(SAMPLE_DIR / "ratings" / "tobias-wrenfield.xlsx")
    assert wb.sheetnames == ["Instructions", "Ratings", "Cases", "Questions"]
    rows = list(wb["Ratings"].iter_rows(values_only=True))
    assert rows[0] == ("case_id", "reviewer", "question", "question_title", "rating", "comment")
    assert {r[0] for r in rows[1:]} == {"C06", "C07", "C08", "C09", "C10", "C13"}
    assert all(r[4] for r in rows[1:])  # every question of every case rated
    cases = list(wb["Cases"].iter_rows(values_only=True))
    assert [(r[0], r[2], r[3]) for r in cases[1:]] == [(c, "yes", "no") for c in ("C06", "C07", "C08", "C09", "C10",
                                                                                  "C13")]
    flags = (SAMPLE_DIR / "case_flags.csv").read_text(encoding="utf-8")
    assert "Tobias Wrenfield" not in flags  # his are on the workbook's Cases sheet, not repeated
