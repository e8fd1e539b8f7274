"""The publish gate reads the page as a reader does and denies identifier shapes (issue: page gate).

Every variant below reached a final report through the old, enumerating rules.
"""

from __future__ import annotations

from datetime import date

import pytest

from reviewkit.privacy import gate as pagegate
from reviewkit.privacy.gate import Declared, screen_page
from reviewkit.privacy.reader import reader_text

DECLARED = Declared(words=frozenset({"eastvale"}), ids=frozenset({"c07", "q3"}), review_year=2026)

PARAGRAPH = (r"We spoke with Mrs Ní Bhriain (NHS 943\-476\-5919, born 14-Mar-1942) at 14 Church St, SW1A-1AA;"
             "\n" r"email jane.doe\@eastvale.gov.uk; record MOS-00123; phone 0 7 7 0 0 9 0 0 1 2 3.")


def found(text: str, declared: Declared = DECLARED) -> list[tuple[str, str]]:
    shown = reader_text(text)
    return [(f.kind, shown[f.start:f.end]) for f in screen_page(text, declared)]


def test_the_paragraph_that_reached_a_final_report_is_found_whole() -> None:
    assert found(PARAGRAPH) == [
        ("title_name", "Mrs Ní Bhriain"), ("digits", "NHS 943-476-5919"), ("date_of_birth", "14-Mar-1942"),
        ("address", "14 Church St"), ("postcode", "SW1A-1AA"), ("email", "jane.doe@eastvale.gov.uk"),
        ("letters_and_digits", "MOS-00123"), ("digits", "0 7 7 0 0 9 0 0 1 2 3"),
    ]


@pytest.mark.parametrize(("text", "kind", "shown"), [
    ("9434  765  919", "digits", "9434 765 919"),
    ("(943) 476 5919", "digits", "943) 476 5919"),
    ("mrs SMITHSON", "title_name", "mrs SMITHSON"),
    ("Miss pemberton", "title_name", "Miss pemberton"),
    ("Ms jones", "title_name", "Ms jones"),
    ("Mister Brown", "title_name", "Mister Brown"),
    ("Lady Agatha", "title_name", "Lady Agatha"),
    ("Father O'Neill", "title_name", "Father O'Neill"),
    ("Nurse Ratched", "title_name", "Nurse Ratched"),
    ("Mrs [Smith](#x)", "title_name", "Mrs Smith"),
    ("Mrs <b>Smith</b>", "title_name", "Mrs Smith"),
    ("Mr Ó Súilleabháin", "title_name", "Mr Ó Súilleabháin"),
    ("DOB 14031942", "date_of_birth", "14031942"),
    ("dob 14 03 1942", "date_of_birth", "14 03 1942"),
    ("E1  6AN", "postcode", "E1 6AN"),
    ("ls1  4ap", "postcode", "ls1 4ap"),
    ("14 acacia avenue", "address", "14 acacia avenue"),
    ("14 Acacia Av", "address", "14 Acacia Av"),
    ("Mosaic 1234", "letters_and_digits", "Mosaic 1234"),
    ("01632/960001", "digits", "01632/960001"),
    ("jane dot doe at eastvale dot gov dot uk", "email", "jane dot doe at eastvale dot gov dot uk"),
    ("Mr van der Berg", "title_name", "Mr van der Berg"),
    ("Mrs Zoë Jones", "title_name", "Mrs Zoë Jones"),
    ("Mr ap Rhys", "title_name", "Mr ap Rhys"),
    ("Mrs Gwenllïan Prys", "title_name", "Mrs Gwenllïan Prys"),
    ("MOS 16633", "letters_and_digits", "MOS 16633"),
    ("eilidh-quayle89 at example.org", "email", "eilidh-quayle89 at example.org"),
    ("47-49 Willow Row", "address", "47-49 Willow Row"),
    ("Father smith", "title_name", "Father smith"),
    ("Dr. wood", "title_name", "Dr. wood"),
    ("Prof j. smith", "title_name", "Prof j. smith"),
    ("dame Mac an tSaoir", "title_name", "dame Mac an tSaoir"),
    ("We met Zebediah Quokkafeather at home.", "possible_name", "Zebediah Quokkafeather"),
    ("Mrs Sm\u200bith", "title_name", "Mrs Smith"),
    ("\uff19\uff14\uff13 476 5919", "digits", "943 476 5919"),
])
def test_each_variant_is_found(text: str, kind: str, shown: str) -> None:
    # The finding covers the whole identifier (it may take in a label before it: "DOB 14031942").
    for context in (f"She said: {text}.", text):
        assert any(k == kind and shown in s for k, s in found(context)), found(context)


def test_an_nhs_number_split_over_two_table_cells_is_read_across_the_row() -> None:
    table = "Notes\n\n| a | b |\n|---|---|\n| 943 476 | 5919 |\n"
    assert ("digits", "943 476 5919") in found(table)


def test_a_link_target_is_read_as_well_as_its_label() -> None:
    assert ("email", "jane@eastvale.org") in found("Write to [the team](mailto:jane@eastvale.org).")


@pytest.mark.parametrize("text", [
    "Staff told us the person's voice was heard in 18 of 20 case records (90%), and C07 showed Q3 well.",
    "In 2024, 12 people were supported. The service changed in 2023-24 and again on 14 March 2025.",
    "Her father said she was happy. The district nurse visited 3 times a week.",
    "Managers met on Tuesday in Eastvale. Practitioners described 5 people in court.",
    "Between 2019 and 2023, £1,200,000 was spent. She did not miss appointments.",
    "The 1990s saw change; at 10.30am we met the 100th person.",
    "We met at home. Then we spoke on page 123 of the plan, in 2024.",
    "Her father will visit and the nurse said she was well; her father visited on Monday.",
    "I’ve seen it. We’re told staff don’t wait; Won’t and Can’t start sentences too.",
])
def test_ordinary_practice_sentences_pass(text: str) -> None:
    assert found(text) == []


def test_declared_words_and_confirmed_words_pass_and_undeclared_ones_do_not() -> None:
    text = "The Brightwater Hub and Eastvale teams met."
    assert found(text) == [("possible_name", "Brightwater")]
    assert found(text, Declared(words=frozenset({"eastvale", "brightwater"}))) == []


def test_a_title_and_a_name_pass_only_as_a_declared_phrase_has_them_not_word_by_word() -> None:
    # A team named after a place, a reviewer who signs the report, a word the host confirmed is no name:
    # each declares its words, and a person in a record may share any of them.
    declared = pagegate.declared_phrases(
        ["Hartley Locality Team", "Jane Rowe", "Ashton", "Father Hudson's Care", "Sister Dora Court"], (), 2026)
    assert found("The Hartley Locality Team met Jane Rowe at Ashton.", declared) == []
    # (Each of the first four passed before: every word after the title was declared.)
    for text, name in [("We met Nurse Hartley.", "Nurse Hartley"), ("Sister Rowe, her carer, agreed.", "Sister Rowe"),
                       ("It was Father Ashton.", "Father Ashton"), ("Auntie Jane Rowe.", "Auntie Jane Rowe"),
                       ("Father Hudson visited.", "Father Hudson"), ("Sister Dora.", "Sister Dora"),
                       ("Mrs Hartley told us.", "Mrs Hartley")]:
        (finding,) = found(text, declared)
        assert finding[0] == "title_name" and finding[1].startswith(name), (text, finding)
    # The phrase as declared, title and all, still passes: a charity, a care home.
    assert found("Father Hudson's Care and Sister Dora Court both took part.", declared) == []


def test_a_recent_full_date_passes_and_an_old_one_is_a_date_of_birth() -> None:
    assert found("The review met on 12/10/2026.") == []
    assert found("Seen on 12/10/1950.") == [("date_of_birth", "12/10/1950")]


def test_a_two_digit_year_that_could_be_a_birth_year_is_read_as_one() -> None:
    # "14/02/31" may be a 95-year-old's date of birth or a plan's target five years on: the page cannot
    # tell, so a two-digit year after this one is refused and rewritten ("February 2031"). A plan's own
    # date columns are declared, and read as dates.
    year = date.today().year
    review = Declared(review_year=year)
    for later in (1, 5):
        text = f"Next seen 14/02/{(year + later) % 100:02d}."
        assert [f.kind for f in screen_page(text, review)] == ["date_of_birth"], text
    assert screen_page(f"Met on 12/10/{year % 100:02d}. The target is February {year + 5} or 31/03/{year + 1}.",
                       review) == []


def test_findings_carry_no_value() -> None:
    finding = screen_page("Mr Smith")[0]
    assert set(vars(finding)) == {"kind", "start", "end"}
    assert finding.kind in pagegate.KINDS


def test_a_case_reference_that_is_a_word_is_not_declared_so_a_name_cannot_pass_as_one(tmp_path) -> None:  # noqa: ANN001
    """A host who types a surname as a case reference must not open the gate to that name on every page."""
    from reviewkit.review.reviewyaml import Case

    from .helpers import make_workspace

    ws = make_workspace(tmp_path / "ws")
    reviewer = ws.meta.cases[0].reviewer
    ws.meta.cases = [*ws.meta.cases, Case("Quokkafeather", reviewer), Case("HD12", reviewer),
                     Case("M1234567", reviewer)]
    declared = pagegate.declared_for(ws)
    assert "hd12" in declared.ids and ws.meta.cases[0].id.casefold() in declared.ids
    assert "quokkafeather" not in declared.ids and "m1234567" not in declared.ids
    assert found("Quokkafeather told us he was listened to.", declared) == [("possible_name", "Quokkafeather")]
    assert found("Record HD12 showed good practice.", declared) == []
    assert [pagegate.reference_shaped(r) for r in ("C07", "HD-12", "IA-00001", "Smith", "M1234567", "")] == \
        [True, True, True, False, False, False]
