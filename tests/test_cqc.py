"""Evidence against the CQC quality statements, checked against an independent count of the export.

The independent side reads only what a host could read: the review's data exported to XLSX,
review.yaml's case allocation, and the tool's and codebook's YAML; it never calls the kit's
analysis. The kit's side is the HTML the report shows.
"""

from __future__ import annotations

import html as htmllib
import math
import re
from collections import defaultdict
from pathlib import Path

import openpyxl
import pytest
import yaml

from reviewkit.core.errors import WorkspaceError
from reviewkit.figures import cqc
from reviewkit.intake.io import export
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.sections import ReportBuilder
from reviewkit.review.workspace import open_workspace

TOP = {"Outstanding", "Good"}
SCORED = TOP | {"Requires Improvement", "Inadequate"}
STANCES = ("strength", "concern", "mixed")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("cqc")
    ws = build_sample_workspace(root / "eastvale")
    ws.meta.report_layout = "classic"  # every figure in the body; the default layout: test_paged_output
    ws.save_meta()
    out = export(ws, root / "all.xlsx", what="all")
    wb = openpyxl.load_workbook(out, read_only=True)
    sheets = {}
    for name in wb.sheetnames:
        rows = list(wb[name].iter_rows(values_only=True))
        sheets[name] = [dict(zip(rows[0], r)) for r in rows[1:]]
    b = ReportBuilder.load(ws.path)
    return {"ws": ws, "sheets": sheets, "builder": b, "section": b.cqc_section(), "case_records": b.case_records(),
            "tool": yaml.safe_load((ws.path / "audit_tool.yaml").read_text(encoding="utf-8")),
            "codebook": yaml.safe_load((ws.path / "codebook.yaml").read_text(encoding="utf-8"))}


def _sheet(sheets: dict, word: str) -> list[dict]:
    return next(v for k, v in sheets.items() if word in k.lower())


def _tables(fragment: str) -> dict[str, list[list[str]]]:
    """Caption (without 'Table n: ') → rows of cell text, header row first."""
    out = {}
    for m in re.finditer(r"<table[^>]*><caption>(.*?)</caption>(.*?)</table>", fragment, flags=re.S):
        caption = re.sub(r"^Table \d+: ", "", htmllib.unescape(m.group(1)))
        rows = [[" ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", c)).split())  # (a no-break space read as one)
                 for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, flags=re.S)]
                for r in re.findall(r"<tr>(.*?)</tr>", m.group(2), flags=re.S)]
        out[caption] = rows
    return out


def _wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson interval by inverting the score test numerically (not the closed form the kit uses)."""
    z, p_hat = 1.959963984540054, k / n

    def outside(p: float) -> float:
        return abs(p_hat - p) - z * math.sqrt(p * (1 - p) / n)

    def root(lo: float, hi: float) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            if (outside(lo) > 0) == (outside(mid) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if k == 0 else root(1e-12, p_hat)
    high = 1.0 if k == n else root(1 - 1e-12, p_hat)
    return 100 * low, 100 * high


def test_each_statements_audit_questions_match_an_independent_count(sample: dict) -> None:
    ws, tables = sample["ws"], _tables(sample["section"])
    primary = {(c.id, c.reviewer) for c in ws.meta.cases}
    ratings = [r for r in _sheet(sample["sheets"], "rating") if (r["case_id"], r["reviewer"]) in primary]
    checked = 0
    for s in cqc.STATEMENTS:
        expected = []
        for number, q in enumerate(sample["tool"]["questions"], 1):
            if s.number not in q.get("cqc", []):
                continue
            levels = [r["rating"] for r in ratings if r["question"] == q["id"] and r["rating"] in SCORED]
            k, n = sum(lv in TOP for lv in levels), len(levels)
            lo, hi = _wilson(k, n)
            expected.append([f"{number}. {q['title']}", str(n), f"{k} ({100 * k / n:.1f}%)", f"{lo:.1f}% to {hi:.1f}%"])
        caption = f"QS{s.number} {s.label}: audit questions mapped to it"
        if expected:
            assert tables[caption][1:] == expected, s.number
            checked += len(expected)
        else:
            assert caption not in tables
    assert checked == sum(len(q["cqc"]) for q in sample["tool"]["questions"])


def test_each_statements_meeting_codes_match_an_independent_count(sample: dict) -> None:
    tables = _tables(sample["section"])
    notes = [n for n in _sheet(sample["sheets"], "note") if n["meeting"]]
    by_code: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for n in notes:
        for code in filter(None, (c.strip() for c in (n["codes"] or "").split(";"))):
            by_code[code][n["stance"] if n["stance"] in STANCES else "unspecified"] += 1
    for s in cqc.STATEMENTS:
        expected = []
        for c in sample["codebook"]["codes"]:
            if s.number in c.get("cqc", []) and c["id"] in by_code:
                t = by_code[c["id"]]
                counts = [t["strength"], t["concern"], t["mixed"], t["unspecified"]]
                expected.append([c["label"], *map(str, counts), str(sum(counts))])
        caption = f"QS{s.number} {s.label}: notes from the meetings by stance"
        assert tables.get(caption, [None])[1:] == expected, s.number


def _conversations_by_i(sample: dict) -> dict[str, dict[str, set[str]]]:
    """I statement → conversation → the stances of its notes coded to it, from the export."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for n in _sheet(sample["sheets"], "note"):
        if n["conversation"]:
            for code in filter(None, (c.strip() for c in (n["codes"] or "").split(";"))):
                out[code][n["conversation"]].add(n["stance"] or "unspecified")
    return out


def test_i_statement_counts_match_an_independent_count(sample: dict) -> None:
    heard = _conversations_by_i(sample)
    expected = []
    for c in sample["codebook"]["i_statements"]:
        convs = heard.get(c["id"], {})
        if not convs:
            continue
        tally = defaultdict(int)
        for stances in convs.values():
            lean = stances - {"unspecified"}
            tally["unspecified" if not lean else next(iter(lean)) if len(lean) == 1 else "mixed"] += 1
        expected.append((f"{c['id'].upper()} {c['label']}", tally["strength"], tally["mixed"], tally["concern"], len(convs)))
    table = _tables(sample["case_records"])["Conversations by I statement and stance (the figures in Figure 1)"]
    header = table[0]
    got = [(r[0], *(int(r[header.index(k)]) if k in header else 0 for k in ("Strength", "Mixed", "Concern")),
            int(r[-1])) for r in table[1:]]
    assert got == expected
    assert sum(e[-1] for e in expected) > 0
    # Fewer than 10 conversations: counts only, never a percentage, in the I statement part of section 5.
    part = sample["case_records"].split('id="i-statements"')[1].split('id="conversation-quotes"')[0]
    assert "counts, not percentages" in part and not re.search(r"\d%", re.sub(r"<img[^>]*>", "", part))


def test_each_i_statement_shows_one_quote_marked_for_the_report(sample: dict) -> None:
    notes = _sheet(sample["sheets"], "note")
    html = sample["case_records"]
    shown = set()
    for c in sample["codebook"]["i_statements"]:
        block = re.search(rf'<h4 id="i-statement-{c["id"]}">.*?</div>', html, flags=re.S)
        # A quote the team's narrative already quotes is printed there, once, not again here.
        marked = [n for n in notes if n["conversation"] and n["kind"] == "quote" and n["use_in_report"] == "yes"
                  and c["id"] in (n["codes"] or "") and n["text"] not in shown
                  and not sample["builder"].quoted_in_narrative(n["text"])]
        if block is None:
            continue
        quotes = re.findall(r'<blockquote class="quote"><p>“(.*?)”</p>', block.group(0))
        assert len(quotes) == (1 if marked else 0), c["id"]
        if quotes:
            assert htmllib.unescape(quotes[0]) == marked[0]["text"].strip().strip("“”\"")
            shown.add(marked[0]["text"])
    # Every quote marked for the report is shown once in section 5, unless the team's narrative quotes it.
    for n in notes:
        if n["conversation"] and n["kind"] == "quote" and n["use_in_report"] == "yes":
            said = n["text"].strip().strip('“”"')
            shown_as_quote = html.count(htmllib.escape(said, quote=True))
            if sample["builder"].quoted_in_narrative(n["text"]):
                assert shown_as_quote == 0
            else:
                assert shown_as_quote == 1


def test_the_summary_counts_each_note_and_conversation_once_per_statement_and_in_all(sample: dict) -> None:
    """Every code the section says it counts is counted (a carer's note coded ``carers`` included), each
    note and conversation once per statement, with distinct totals and the kinds of evidence per statement."""
    table = _tables(sample["section"])["The evidence held for each CQC quality statement"]
    heard = _conversations_by_i(sample)  # every code on conversation notes, I statements or not
    notes = [n for n in _sheet(sample["sheets"], "note") if n["meeting"]]
    said, _ = cqc.split_commentary((sample["ws"].path / "narrative" / "quality_statements.md").read_text("utf-8"))
    all_notes: set[str] = set()
    all_convs: set[str] = set()
    evidenced = 0
    for s, row in zip(cqc.STATEMENTS, table[1:]):
        codes = {c["id"] for c in sample["codebook"]["codes"] if s.number in c.get("cqc", [])}
        i_codes = {c["id"] for c in sample["codebook"]["i_statements"] if s.number in c.get("cqc", [])}
        mine = {n["note"] for n in notes if codes & {c.strip() for c in (n["codes"] or "").split(";")}}
        convs = {v for code in codes | i_codes for v in heard.get(code, {})}
        all_notes |= mine
        all_convs |= convs
        ratings = int(row[1].split("(")[1].rstrip(")"))
        written = bool(said.get(s.number)) and not (said[s.number].get("notes", "").lower()
                                                     .startswith("outside the scope of this review"))
        kinds = sum([ratings > 0, bool(mine), bool(convs), written])
        evidenced += kinds >= 2
        assert row[0] == f"QS{s.number} {s.label}"
        assert (row[2], row[3]) == (str(len(mine)), str(len(convs))), s.number
        assert row[5] == f"{kinds} of 4", s.number
        assert row[4] and row[4] != "–", s.number  # the team's view is never a blank cell
    # The codebook maps carers to QS1, QS3 and QS5, and carers spoke in conversations: they count there.
    carers = next(c for c in sample["codebook"]["codes"] if c["id"] == "carers")
    assert set(carers["cqc"]) == {1, 3, 5} and heard.get("carers")
    total = table[-1]
    assert total[0] == "Different notes and conversations in all"
    assert (total[2], total[3]) == (str(len(all_notes)), str(len(all_convs)))
    assert sum(int(r[2]) for r in table[1:-1]) > len(all_notes)  # a note counts under each of its statements
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", sample["section"]))
    assert f"In all, {len(all_notes)} notes from the meetings and {len(all_convs)} conversations" in text
    assert f"at least 2 of these kinds: {evidenced} of the 9 statements are" in text


def test_each_statement_says_which_kinds_of_evidence_it_holds_and_nothing_is_left_blank(sample: dict) -> None:
    section = sample["section"]
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", section))
    assert "wrote no strengths or areas for consideration" not in text
    assert "has not yet written" not in text  # no draft placeholder in the finished sample
    for s in cqc.STATEMENTS:
        block = section.split(f'id="qs-{s.number}"')[1].split('<h4 id="qs-')[0]
        assert "Evidence held: " in block and " kinds" in block, s.number
    qs6 = section.split('id="qs-6"')[1].split('id="qs-7"')[0]
    assert "records this statement as outside the scope of this review. The case records came" in \
        htmllib.unescape(qs6)
    qs7 = htmllib.unescape(section.split('id="qs-7"')[1].split('id="qs-8"')[0])
    assert "1 concern about a person’s safety was raised with Eastvale Borough Council during the review. The " \
           "council responded within 2 days and took action." in qs7
    assert "Self-neglect" not in qs7 and "fire service" not in qs7  # the concern's own words stay private


def test_the_section_never_scores_and_says_it_is_not_an_assessment(sample: dict) -> None:
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", sample["section"]))
    assert "A peer review is not a CQC assessment" in text and "gives no score" in text
    assert not re.search(r"\b(indicative score|scored? [1-4]|[1-4] out of 4|good standard|shortfalls)\b", text, re.I)
    for s in cqc.STATEMENTS:
        assert f'id="qs-{s.number}"' in sample["section"]
    # The team's strengths and areas for consideration sit under their statement.
    qs8 = sample["section"].split('id="qs-8"')[1].split('id="qs-9"')[0]
    assert "<h5>Strengths</h5>" in qs8 and "<h5>Areas for consideration</h5>" in qs8
    assert "Management oversight is rarely recorded" in qs8


def test_a_statement_with_no_evidence_says_so(tmp_path: Path) -> None:
    from tests.helpers import make_workspace

    ws = make_workspace(tmp_path / "ws")
    ws.meta.report_layout = "classic"  # the statement-by-statement evidence in the body
    ws.save_meta()
    html = ReportBuilder.load(ws.path).cqc_section()
    assert html.count("This review holds no evidence for this quality statement") == 9
    assert "at least 2 of these kinds: 0 of the 9 statements are" in html
    # Nothing written: a draft marks each statement for the team (never a printed blank), and readiness lists it.
    assert html.count("or write ‘Outside the scope of this review’ under its heading") == 9
    from reviewkit.review.readiness import readiness

    gaps = [g for g in readiness(ws) if g.kind == "cqc"]
    assert [g.message.split(":")[0] for g in gaps] == [f"QS{s.number} {s.label}" for s in cqc.STATEMENTS]
    assert {g.where for g in gaps} == {"narrative/quality_statements.md"}


def test_one_kind_of_evidence_is_not_evidenced_and_the_team_can_mark_a_statement_out_of_scope(tmp_path: Path) -> None:
    from tests.helpers import make_workspace
    from reviewkit.review.readiness import readiness

    ws = make_workspace(tmp_path / "ws")
    ws.meta.report_layout = "classic"  # the statement-by-statement evidence in the body
    ws.save_meta()
    (ws.narrative_dir / "quality_statements.md").write_text(
        "## 7. Safeguarding\n\n### Strengths\n\n- Risks were explored with the person.\n\n"
        "## QS6\n\nOutside the scope of this review: no transitions were in the sample.\n\n"
        "## 9. Learning, improvement and innovation\n\n*Outside the scope of this review*\n", encoding="utf-8")
    b = ReportBuilder.load(ws.path)
    html = htmllib.unescape(b.cqc_section())
    rows = {r[0]: r for r in _tables(html)["The evidence held for each CQC quality statement"][1:]}
    assert rows["QS7 Safeguarding"][4:] == ["strengths", "1 of 4"]
    assert rows["QS6 Safe systems, pathways and transitions"][4:] == ["outside the scope of this review", "0 of 4"]
    assert "at least 2 of these kinds: 0 of the 9 statements are" in html
    qs7 = html.split('id="qs-7"')[1].split('id="qs-8"')[0]
    assert "Evidence held: the team's written points (1 of the 4 kinds; too little to count as evidenced)." in \
        re.sub(r"<[^>]+>", "", qs7)
    qs6 = re.sub(r"<[^>]+>", "", html.split('id="qs-6"')[1].split('id="qs-7"')[0])
    assert "records this statement as outside the scope of this review. No transitions were in the sample." in qs6
    qs9 = re.sub(r"<[^>]+>", "", html.split('id="qs-9"')[1])
    assert "as outside the scope of this review." in qs9 and "Draft" not in qs9
    gaps = {g.message.split(":")[0] for g in readiness(ws) if g.kind == "cqc"}
    assert gaps == {f"QS{n} {s.label}" for n, s in ((s.number, s) for s in cqc.STATEMENTS) if n not in (6, 7, 9)}


def test_placement_is_chosen_in_review_yaml(sample: dict, tmp_path: Path) -> None:
    import shutil

    path = shutil.copytree(sample["ws"].path, tmp_path / "ws", ignore=shutil.ignore_patterns(".cache"))
    review = path / "review.yaml"
    review.write_text(review.read_text(encoding="utf-8").replace("cqc_evidence: section", "cqc_evidence: appendix"),
                      encoding="utf-8")
    b = ReportBuilder.load(path)
    assert b.cqc_section() == ""
    assert b.cqc_appendix().startswith('<h2 id="cqc-evidence" class="section-heading new-page">Appendix: evidence')
    review.write_text(review.read_text(encoding="utf-8").replace("cqc_evidence: appendix", "cqc_evidence: annex"),
                      encoding="utf-8")
    with pytest.raises(WorkspaceError, match="'cqc_evidence' must be 'section'"):
        open_workspace(path)


@pytest.mark.parametrize(("value", "number"), [
    ("QS7", 7), ("7. Safeguarding", 7), ("Quality statement 2", 2), ("Safe pathways, systems and transitions", 6),
    ("safe systems, pathways & transitions", 6), ("Care provision, integration and continuity of care", 4),
    ("**Learning, improvement and innovation**", 9), ("Leadership", None), ("Strengths", None),
    ("QS 3: our view", 3), ("7", 7), ("3 things to consider", None), ("10. Other", None),
])
def test_statements_are_named_by_number_label_or_alias(value: str, number: int | None) -> None:
    found = cqc.parse_statement(value)
    assert (found.number if found else None) == number


def test_the_teams_commentary_is_split_by_statement_and_part() -> None:
    text = ("## Theme 3: How the local authority ensures safety within the system\n\n"
            "### Safe pathways, systems and transitions\n\n#### Strengths\n\n- Good discharge work.\n\n"
            "#### Considerations\n\n- Transitions from children's services.\n\n"
            "## QS9\n\nA general remark.\n\n## Our other thoughts\n\nLost text.\n")
    said, unplaced = cqc.split_commentary(text)
    assert said == {6: {"strengths": "- Good discharge work.", "considerations": "- Transitions from children's services."},
                    9: {"notes": "A general remark."}}
    assert unplaced == ["Our other thoughts"]
    assert cqc.split_commentary(cqc.quality_statements_stub()) == ({}, [])


@pytest.mark.parametrize(("notes", "reason"), [
    ("Outside the scope of this review", ""), ("outside the scope of this review.", ""),
    ("- Outside the scope of this review: the sample had none.", "the sample had none."),
    ("**Outside the scope of this review** – not asked", "not asked"),
    ("We looked at this briefly; outside the scope of this review", None), ("", None),
])
def test_the_out_of_scope_line_is_read_only_at_the_start(notes: str, reason: str | None) -> None:
    assert cqc.out_of_scope({"notes": notes}) == reason


def test_ten_or_more_people_heard_gives_shares_beside_the_counts(tmp_path: Path) -> None:
    from tests.helpers import make_workspace

    ws = make_workspace(tmp_path / "ws")
    ws.meta.report_layout = "classic"  # the statement-by-statement evidence in the body
    ws.save_meta()
    with ws.store() as store:
        for i in range(1, 9):
            case = ws.meta.cases[i - 1]
            who = "person and relative" if i <= 2 else "carer"  # 2 × 2 + 6 = 10 people in 8 conversations
            conv = store.add_conversation("test", case.id, who, case.reviewer)
            store.add_note("test", "They felt listened to.", conversation_id=conv, stance="strength",
                           codes=["i2"] + (["i6"] if i % 2 else []))
    html = ReportBuilder.load(ws.path).case_records()
    assert "counts, not percentages" not in html
    assert "Living as I want 8 (100.0%)" in html and "Feeling safe 4 (50.0%)" in html


def test_the_mapping_in_the_yaml_may_name_statements_by_label_and_is_checked_on_load() -> None:
    from reviewkit.core.errors import CodebookError, ToolError
    from reviewkit.core.themes import parse_codebook
    from reviewkit.core.tools import load_tool, parse_tool

    data = yaml.safe_load(load_tool("strengths-based-practice").source.read_text(encoding="utf-8"))
    data["questions"][0]["cqc"] = ["Assessing needs", "Safe pathways, systems and transitions", 9]
    assert parse_tool(data, "tool.yaml").questions[0].cqc == (1, 6, 9)
    for bad, message in ((["Assessing need"], "'cqc' must list CQC quality statement numbers 1 to 9"),
                         ([10], "'cqc' must list CQC quality statement numbers 1 to 9"),
                         ([7, "Safeguarding"], "'cqc' lists quality statement 7 twice")):
        data["questions"][0]["cqc"] = bad
        with pytest.raises(ToolError, match=re.escape(f"question 1 ('q1'): {message}")):
            parse_tool(data, "tool.yaml")
    book = {"id": "x", "version": "1", "codes": [{"id": "a", "label": "A", "covers": "A", "cqc": ["QS8"]}],
            "i_statements": [{"id": "i1", "label": "I1", "text": "I feel safe.", "cqc": ["Nothing"]}]}
    with pytest.raises(CodebookError, match="I statement 1 \\('i1'\\): 'cqc' must list"):
        parse_codebook(book, "book.yaml")
    book["i_statements"][0]["cqc"] = ["Safeguarding"]
    parsed = parse_codebook(book, "book.yaml")
    assert parsed.codes[0].cqc == (8,) and parsed.i_statements[0].cqc == (7,)
