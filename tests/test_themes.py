"""Theme codebook: the shipped codebook loads, broken files are named, keyword hints work."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from reviewkit.core.errors import CodebookError, ConfigError
from reviewkit.core.themes import (
    Codebook,
    available_codebooks,
    load_codebook,
    parse_codebook,
    suggest_codes,
)

MEETING_CODES = [
    "supervision", "workload", "panel", "learning", "oversight", "leadership", "culture",
    "recording", "workforce", "practice-model", "partnership", "resources", "quality-assurance",
    "equality", "carers", "safeguarding",
]
I_STATEMENTS = [
    "I have care and support that is co-ordinated, and everyone works well together and with me.",
    "I have care and support that enables me to live as I want to, seeing me as a unique person "
    "with skills, strengths and goals.",
    "I can get information and advice about my health, care and support and how I can be as well "
    "as possible \u2013 physically, mentally and emotionally.",
    "I am supported to plan ahead for important changes in my life that I can anticipate.",
    "When I move between services, settings or areas, there is a plan for what happens next and "
    "who will do what, and all the practical arrangements are in place.",
    "I feel safe and am supported to understand and manage any risks.",
]

# A tiny codebook whose keywords make matching rules easy to see.
SMALL = """\
id: small
version: "1"
codes:
  - {id: cats, label: Cats, covers: Cats., keywords: [cat, "tabby cat*"]}
  - {id: dogs, label: Dogs, covers: Dogs., cqc: [2], keywords: [dog*, co-operat*]}
  - {id: birds, label: Birds, covers: Birds., keywords: ["waiting list*", "didn't know"]}
i_statements:
  - {id: i1, label: Feeling safe, text: I feel safe., keywords: [safe]}
conversation_codes: [i1, dogs]
"""


def write(tmp_path: Path, text: str, name: str = "book.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def book() -> Codebook:
    return load_codebook()


@pytest.fixture()
def small(tmp_path: Path) -> Codebook:
    return load_codebook(write(tmp_path, SMALL))


# --- the shipped codebook ----------------------------------------------------------------

def test_shipped_codebook_is_listed_and_is_the_default(book: Codebook) -> None:
    assert available_codebooks() == ["default"]
    assert (book.id, book.version) == ("default", "1.0")
    assert book.source is not None and book.source.name == "default.yaml"
    assert load_codebook("default") == book


def test_shipped_codebook_has_every_code_of_the_domain_table(book: Codebook) -> None:
    assert [c.id for c in book.codes] == MEETING_CODES
    for c in book.codes:
        assert c.label and c.text and c.keywords, c.id
        assert not c.i_statement
    assert book.code("supervision").cqc == (8, 9)
    assert book.code("panel").cqc == (1, 4, 8)
    assert book.code("partnership").cqc == (4, 5, 6)
    assert book.code("safeguarding").cqc == (7,)


def test_shipped_codebook_has_the_six_cqc_i_statements(book: Codebook) -> None:
    assert [c.id for c in book.i_statements] == [f"i{n}" for n in range(1, 7)]
    assert [c.text for c in book.i_statements] == I_STATEMENTS
    assert all(c.i_statement and c.label and c.keywords for c in book.i_statements)


def test_shipped_codebook_stances_and_conversation_codes(book: Codebook) -> None:
    assert book.stances == ("strength", "concern", "mixed")
    assert book.conversation_codes == ("i1", "i2", "i3", "i4", "i5", "i6", "carers", "equality")
    assert book.ids == MEETING_CODES + [f"i{n}" for n in range(1, 7)]


def test_shipped_cqc_numbers_are_valid(book: Codebook) -> None:
    for c in (*book.codes, *book.i_statements):
        assert c.cqc and all(1 <= n <= 9 for n in c.cqc), c.id


def test_code_lookup_and_unknown_code(book: Codebook) -> None:
    assert book.code("i6").label == "Feeling safe"
    with pytest.raises(CodebookError, match=r"codebook 'default' has no such code; codes are supervision, workload"
                       ) as info:
        book.code("Zebediah Quokkafeather")
    assert "Zebediah" not in str(info.value)  # the asked-for value may be personal data: never echoed


@pytest.mark.parametrize(
    ("typed", "cid"),
    [
        ("supervision", "supervision"),
        ("  SUPERVISION ", "supervision"),
        ("Funding panels", "panel"),
        ("panels", "panel"),
        ("practice model", "practice-model"),
        ("Strengths-based practice", "practice-model"),
        ("QA", "quality-assurance"),
        ("I1", "i1"),
        ("Coordinated care", "i1"),
        ("co-ordinated   care", "i1"),
    ],
)
def test_parse_accepts_id_label_or_alias(book: Codebook, typed: str, cid: str) -> None:
    found = book.parse(typed)
    assert found is not None and found.id == cid


def test_parse_unknown_is_none(book: Codebook) -> None:
    assert book.parse("morale and money") is None
    assert book.parse("") is None


# --- keyword hints -----------------------------------------------------------------------

def test_suggestions_are_case_insensitive_whole_words(small: Codebook) -> None:
    assert suggest_codes("The CAT sat.", small) == ["cats"]
    assert suggest_codes("Cats and a concatenated catalogue.", small) == []  # "cat" is a whole word
    assert suggest_codes("Dogs, doghouses and a DOG.", small) == ["dogs"]  # "dog*" is a stem
    assert suggest_codes("hotdog", small) == []  # a stem still starts at a word boundary


def test_suggestions_are_ordered_by_hits_then_codebook_order(small: Codebook) -> None:
    assert suggest_codes("A cat and two dogs, one dog.", small) == ["dogs", "cats"]
    assert suggest_codes("A dog and a cat.", small) == ["cats", "dogs"]
    assert suggest_codes("cat cat dog dog dogs", small) == ["dogs", "cats"]


def test_suggestions_match_phrases_across_spacing_hyphens_and_apostrophes(small: Codebook) -> None:
    assert suggest_codes("the waiting\n  lists are long", small) == ["birds"]
    assert suggest_codes("We didn\u2019t know.", small) == ["birds"]
    assert suggest_codes("They co-operated; we cooperate.", small) == ["dogs"]
    assert suggest_codes("A Tabby Cats club", small) == ["cats"]
    assert suggest_codes("A \uff44\uff4f\uff47 in full-width letters", small) == ["dogs"]


def test_suggestions_for_conversations_use_conversation_codes(small: Codebook) -> None:
    text = "I feel safe with my dog and my cat."
    assert suggest_codes(text, small) == ["cats", "dogs"]
    assert suggest_codes(text, small, for_conversation=True) == ["i1", "dogs"]


def test_no_suggestions_for_empty_text(book: Codebook) -> None:
    assert suggest_codes("", book) == []
    assert suggest_codes("   ", book, for_conversation=True) == []


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Supervision is monthly, but my supervisor rarely makes it reflective.", "supervision"),
        ("Caseloads are high and the waiting list keeps growing.", "workload"),
        ("Panel can take weeks to authorise anything.", "panel"),
        ("Morale is good; people are proud of the team and feel valued.", "culture"),
        ("Making Safeguarding Personal is embedded in s.42 enquiries.", "safeguarding"),
        ("We rely on agency staff because recruitment and retention are hard.", "workforce"),
        ("The case file audit and complaints feed back into practice.", "quality-assurance"),
    ],
)
def test_shipped_keywords_suggest_the_obvious_meeting_code(book: Codebook, text: str, first: str) -> None:
    assert suggest_codes(text, book)[0] == first


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Everyone worked together and it felt co-ordinated.", "i1"),
        ("Nobody told me about the leaflet or who to contact for advice.", "i3"),
        ("They helped us plan ahead in case of an emergency, with a power of attorney.", "i4"),
        ("When she was discharged from hospital the handover went well.", "i5"),
        ("I feel safe now, and the falls risk is understood.", "i6"),
        ("My husband's carer's assessment was never offered to me as his carer.", "carers"),
    ],
)
def test_shipped_keywords_suggest_the_obvious_conversation_code(book: Codebook, text: str, first: str) -> None:
    suggested = suggest_codes(text, book, for_conversation=True)
    assert suggested[0] == first
    assert set(suggested) <= set(book.conversation_codes)


# --- broken codebook files ---------------------------------------------------------------

CODE = "{id: a, label: A, covers: A., keywords: [apple]}"
BROKEN = [
    ("not a mapping", "- just a list\n", r"expected a mapping with id, version and codes"),
    ("missing id", f'version: "1"\ncodes: [{CODE}]\n', r"missing key 'id'; add it"),
    ("missing version", f"id: b\ncodes: [{CODE}]\n", r"missing key 'version'; add it"),
    ("missing codes", 'id: b\nversion: "1"\n', r"missing key 'codes'; add it"),
    ("empty codes", 'id: b\nversion: "1"\ncodes: []\n', r"'codes' must be a non-empty list"),
    ("unknown top key", f'id: b\nversion: "1"\ncode: []\ncodes: [{CODE}]\n',
     r"unknown key 'code'; expected id, version, title"),
    ("code not a mapping", 'id: b\nversion: "1"\ncodes: [apple]\n',
     r"code 1: expected a mapping with id, label and covers"),
    ("code missing label", 'id: b\nversion: "1"\ncodes: [{id: a, covers: A.}]\n',
     r"code 1 \('a'\): missing key 'label'"),
    ("bad code id", 'id: b\nversion: "1"\ncodes: [{id: Big Code, label: A}]\n',
     r"code 1: id 'Big Code' must be lowercase letters, digits and hyphens"),
    ("unknown code key", 'id: b\nversion: "1"\ncodes: [{id: a, label: A, keyword: [x]}]\n',
     r"code 1 \('a'\): unknown key 'keyword'; expected id, label, covers, cqc, keywords, aliases"),
    ("duplicate code id", f'id: b\nversion: "1"\ncodes: [{CODE}, {CODE}]\n',
     r"code id 'a' is used more than once"),
    ("code and I statement share an id",
     f'id: b\nversion: "1"\ncodes: [{CODE}]\ni_statements: [{{id: a, label: I, text: I am.}}]\n',
     r"code id 'a' is used more than once"),
    ("two codes share a label", 'id: b\nversion: "1"\ncodes: [{id: a, label: Same}, {id: c, label: same}]\n',
     r"the name 'same' is used by both 'a' and 'c'"),
    ("bad cqc number", 'id: b\nversion: "1"\ncodes: [{id: a, label: A, cqc: [10]}]\n',
     r"code 1 \('a'\): 'cqc' must list CQC quality statement numbers 1 to 9"),
    ("keywords not a list", 'id: b\nversion: "1"\ncodes: [{id: a, label: A, keywords: apple}]\n',
     r"'keywords' must be a list of non-empty words or phrases"),
    ("numeric keyword", 'id: b\nversion: "1"\ncodes: [{id: a, label: A, keywords: [42]}]\n',
     r"put quotes around any that YAML reads as a number"),
    ("star inside a word", 'id: b\nversion: "1"\ncodes: [{id: a, label: A, keywords: ["ap*ple"]}]\n',
     r"keyword 'ap\*ple': \* may only end a word"),
    ("stem too short", 'id: b\nversion: "1"\ncodes: [{id: a, label: A, keywords: ["ap*"]}]\n',
     r"keyword 'ap\*': put at least three letters before \*"),
    ("I statement without text", f'id: b\nversion: "1"\ncodes: [{CODE}]\ni_statements: [{{id: i1, label: I}}]\n',
     r"I statement 1 \('i1'\): missing key 'text'"),
    ("empty stances", f'id: b\nversion: "1"\nstances: []\ncodes: [{CODE}]\n',
     r"'stances' must list distinct lowercase words"),
    ("duplicate stance", f'id: b\nversion: "1"\nstances: [good, good]\ncodes: [{CODE}]\n',
     r"'stances' must list distinct lowercase words"),
    ("unknown conversation code", f'id: b\nversion: "1"\ncodes: [{CODE}]\nconversation_codes: [a, zz]\n',
     r"'conversation_codes' names 'zz', which is not a code or I statement id"),
    ("empty conversation codes", f'id: b\nversion: "1"\ncodes: [{CODE}]\nconversation_codes: []\n',
     r"'conversation_codes' must list at least one code id"),
]


@pytest.mark.parametrize(("scenario", "text", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_codebook_names_the_problem(tmp_path: Path, scenario: str, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CodebookError, match=message) as info:
        load_codebook(path)
    assert str(info.value).startswith(f"{path}:")
    assert isinstance(info.value, ConfigError)


def test_codebook_not_yaml_gives_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'id: b\nversion: "1"\ncodes: [unclosed: a: b\n')
    with pytest.raises(CodebookError, match=re.escape(f"{path}: line 3 is not valid YAML")):
        load_codebook(path)


def test_codebook_not_utf8_says_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("id: caf\u00e9\nversion: '1'\n".encode("latin-1"))
    with pytest.raises(CodebookError, match=re.escape(f"{path}: not UTF-8 text; save it as UTF-8")):
        load_codebook(path)


def test_unknown_codebook_id_lists_available() -> None:
    with pytest.raises(CodebookError, match=r"no codebook named 'regional'; available: default"):
        load_codebook("regional")


def test_missing_codebook_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match=r"absent\.yaml: file not found"):
        load_codebook(tmp_path / "absent.yaml")


def test_defaults_when_optional_keys_are_left_out() -> None:
    book = parse_codebook({"id": "b", "version": 2, "codes": [{"id": "a", "label": "A"}],
                           "i_statements": [{"id": "i1", "label": "I", "text": "I am."}]})
    assert book.version == "2"
    assert book.stances == ("strength", "concern", "mixed")
    assert book.conversation_codes == ("i1",)
    assert book.code("a").text == "" and book.code("a").keywords == ()
    assert suggest_codes("anything at all", book) == []


def test_host_can_extend_the_shipped_codebook(tmp_path: Path, book: Codebook) -> None:
    assert book.source is not None
    new_code = ('  - {id: hybrid-working, label: Hybrid working, covers: Office and home working., '
                'cqc: [8], keywords: [hybrid, "office days"]}\n')
    text = book.source.read_text(encoding="utf-8").replace("\ncodes:\n", "\ncodes:\n" + new_code, 1)
    extended = load_codebook(write(tmp_path, text, "regional.yaml"))
    assert extended.ids[0] == "hybrid-working"
    assert suggest_codes("Office days are lonely since hybrid working began.", extended) == ["hybrid-working"]
