"""The recall corpus itself: big enough, every family in every encoding and place, values valid,
and each planted identifier still there for a reader once the text is rendered.

The reader here is an independent oracle (mistune with raw HTML passed through, as most Markdown
renderers do, then tags stripped and entities resolved), not the gate: it only proves that an
encoding hid nothing from a reader.
"""

from __future__ import annotations

import html as htmllib
import re
from collections import Counter

import mistune
import pytest

from . import recall_corpus as rc

_MD = mistune.create_markdown(escape=False, plugins=["strikethrough", "table"])
_POSTCODE = re.compile(r"^(?:[A-Z]{1,2}\d{1,2}[A-Z]?)\d[A-Z]{2}$")
_DRAMA = ("01632960", "07700900", "02079460", "01134960", "01144960", "01154960", "01164960", "01174960",
          "01214960", "01614960", "01914960")


def oracle_reader(item: rc.Item) -> str:
    """What a reader of the rendered text sees (link targets included), in `locate`'s form."""
    if item.markup == "plain":
        return " ".join(rc.normalise(item.text).split())
    page = str(_MD(item.text)) if item.markup == "markdown" else item.text
    targets = " ".join(htmllib.unescape(t) for t in re.findall(r'href="([^"]*)"', page))
    text = htmllib.unescape(re.sub(r"<[^>]+>", " ", page))
    return " ".join(rc.normalise(f"{text} {targets}").split())


def test_corpus_is_large_and_the_same_on_every_run() -> None:
    items = rc.corpus()
    assert len(items) >= 2000
    rc.corpus.cache_clear()
    assert rc.corpus() == items
    assert len({i.key for i in items}) == len(items)


def test_every_family_is_well_represented() -> None:
    counts = Counter(i.family for i in rc.corpus())
    assert set(counts) == set(rc.FAMILIES)
    assert all(n >= 100 for n in counts.values()), counts


WANTED = ("plain", "md_escape", "emphasis", "link_label", "html_inline", "html_entity", "table_split",
          "line_break", "zero_width", "soft_hyphen", "fullwidth")


@pytest.mark.parametrize("family", rc.FAMILIES)
def test_every_family_goes_through_every_encoding_and_place(family: str) -> None:
    items = [i for i in rc.corpus() if i.family == family]
    encodings = Counter(i.encoding for i in items)
    missing = [e for e in WANTED if not encodings[e]]
    if family == "bare_name_all_words":  # plain words: nothing for a backslash to escape but the initial's dot
        missing = [e for e in missing if e != "md_escape"]
    assert not missing, missing
    assert {i.place for i in items} == set(rc.PLACES)
    variants, _ = rc.GENERATORS[family]
    assert set(variants) <= {i.variant for i in items}


def test_link_targets_carry_emails_phones_and_record_numbers() -> None:
    families = {i.family for i in rc.corpus() if i.encoding == "link_target"}
    assert {"email", "phone", "nhs", "record"} <= families


def test_values_are_valid_and_never_issued() -> None:
    for item in rc.corpus():
        digits = "".join(c for c in rc.normalise(item.identifier) if c.isdigit())
        if item.family == "nhs":
            assert rc.nhs_valid(digits), item.key
            assert digits.startswith("999") or digits == "9434765919", item.key
        elif item.family == "phone":
            national = "0" + digits[2:].removeprefix("0") if digits.startswith("44") else digits
            national = "0" + digits[4:] if digits.startswith("0044") else national
            assert national.startswith(_DRAMA) and len(national) == 11, (item.key, national)
        elif item.family == "postcode":
            code = re.sub(r"[^A-Z0-9]", "", rc.normalise(item.identifier).upper())
            assert _POSTCODE.match(code), item.key


def test_dates_of_birth_are_more_than_sixteen_years_before_the_review() -> None:
    for item in rc.corpus():
        if item.family != "dob":
            continue
        years = re.findall(r"(?<!\d)(\d{4})(?!\d)", item.identifier)
        packed = re.fullmatch(r"\D*(\d{2})(\d{2})(\d{4})", item.identifier)
        year = int(years[-1]) if years else int(packed.group(3)) if packed else \
            1900 + int(re.findall(r"\d{2}", item.identifier)[-1])
        assert 1900 < year <= rc.REVIEW_YEAR - 17, item.key


def test_the_issue_examples_are_in_the_corpus_as_written() -> None:
    texts = "\n".join(i.text for i in rc.corpus() if i.variant == "issue_example")
    for _, _, shown, _ in rc.ISSUE_EXAMPLES:
        assert shown.split(" | ")[0] in texts, shown
    assert "943\\-476\\-5919" in texts and "jane.doe\\@eastvale.gov.uk" in texts


@pytest.mark.parametrize("encoding", sorted({i.encoding for i in rc.corpus()}))
def test_a_reader_still_reads_every_identifier(encoding: str) -> None:
    lost = [(i.key, i.identifier, oracle_reader(i)[:200]) for i in rc.corpus()
            if i.encoding == encoding and not rc.locate(i.identifier, oracle_reader(i))]
    assert not lost, lost[:5]


def test_encodings_change_the_source_but_not_the_reading() -> None:
    for item in rc.corpus():
        if item.encoding in ("plain", "table_split", "line_break", "link_target", "link_label") \
                or item.variant == "issue_example":
            continue
        if item.encoding == "md_escape":  # '\+44 7700 900783' still holds the rest as written
            assert "\\" in item.text, item.key
        else:
            assert item.identifier not in item.text, item.key


def test_locate_finds_the_identifier_through_separators_and_tags_only() -> None:
    reader = "NHS 943-476 <b>5919</b> and Mrs  Smith; not 9434 76591 9"
    start = reader.index("943")
    assert rc.locate("943 476 5919", reader) == [(start, reader.index("</b>")), (reader.index("9434"), len(reader))]
    assert rc.locate("Mrs Smith", reader) == [(reader.index("Mrs"), reader.index(";"))]
    assert rc.locate("Mrs Smithson", reader) == []
    assert rc.locate("Mrs Smith", "Mrs" + " " * 20 + "Smith") == []  # a gap is a few characters, not a page
    assert rc.locate("Zoë Jones", rc.normalise("Mrs Zoe\u0308 Jones")) == [(4, 13)]


def test_pick_has_every_family_and_is_seeded() -> None:
    first = rc.pick(40)
    assert first == rc.pick(40) and len(first) == 40
    assert {i.family for i in first} == set(rc.FAMILIES)
