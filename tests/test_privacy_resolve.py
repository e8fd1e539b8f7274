"""Overlapping findings are resolved in one sweep with the same result as pairwise comparison."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewkit.core.errors import TextFinding
from reviewkit.privacy import screening as privacy


def pairwise(text: str, hits: list[privacy._Hit]) -> list[privacy._Hit]:
    """The rule written the slow, obvious way: longest first, drop what a kept one holds."""
    placeholders = [m.span() for m in privacy._PLACEHOLDER_RE.finditer(text)]
    kept: list[privacy._Hit] = []
    for hit in sorted(hits, key=lambda h: (h.finding.start - h.finding.end, h.finding.level != privacy.BLOCK)):
        f = hit.finding
        if any(f.start < e and s < f.end for s, e in placeholders):
            continue
        if any(k.finding.start <= f.start and f.end <= k.finding.end for k in kept):
            continue
        kept.append(hit)
    return sorted(kept, key=lambda h: h.finding.start)


def merged(kept: list[privacy._Hit]) -> list[privacy._Hit]:
    return privacy._resolve("", kept)  # no placeholders: only the merge of partial overlaps


spans = st.tuples(st.integers(0, 60), st.integers(1, 12), st.sampled_from([privacy.BLOCK, privacy.WARN]),
                  st.sampled_from(["postcode", "phone", "date_of_birth"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(spans, max_size=25), st.lists(st.integers(0, 60), max_size=3))
def test_the_sweep_agrees_with_pairwise_comparison(raw, marks):
    text = list("x" * 80)
    for at in sorted(set(marks)):
        if all(c == "x" for c in text[at:at + 7]):
            text[at:at + 7] = list("[PHONE]")
    text_s = "".join(text)
    hits = [privacy._Hit(TextFinding(kind, level, s, s + n)) for s, n, level, kind in raw]
    expected = merged(pairwise(text_s, hits))
    assert privacy._resolve(text_s, hits) == expected


def test_a_long_run_of_postcodes_is_screened_whole():
    text = "B33 SW1A 1AA " * 2500  # 32,500 characters, thousands of overlapping findings
    found = privacy.screen(text)
    assert sum(f.kind == "postcode" and f.level == privacy.BLOCK for f in found) == 2500
    assert sum(f.level == privacy.WARN for f in found) == 2500
