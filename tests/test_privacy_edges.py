"""Edges of identifier screening that a person sees, pinned down by mutation testing.

Each test here failed against a mutant of ``reviewkit.privacy.screening`` that the rest of the suite let
survive: a year or birth-cue boundary moved by one, an NI prefix rule that let invalid
prefixes through, a phone rule that flagged premium-rate numbers, an ordinal that stopped the
postcode search, a name given two placeholders, a message that lost its advice or its
grammar. They test the public functions (``screen``, ``check``, ``redact``) only.
"""

from __future__ import annotations

from datetime import date

import pytest

from reviewkit.core.errors import BlockedTextError, WarningTextError
from reviewkit.privacy.screening import check, redact, screen


def _kinds(text: str, names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(f.kind, f.level) for f in screen(text, names)]


# -- dates ------------------------------------------------------------------------------------
@pytest.mark.parametrize("year, found", [(1899, []), (1900, [("date_of_birth", "block")]),
                                         (2099, [("date_of_birth", "block")]), (2100, [])])
def test_a_date_of_birth_is_read_for_years_1900_to_2099(year, found):
    assert _kinds(f"born 3 March {year}") == found


def test_a_birth_cue_counts_up_to_40_characters_before_the_date():
    date_text = "3 March 1941"
    near = "born" + " " * 36 + date_text  # 'born' starts 40 characters before the date
    far = "born" + " " * 37 + date_text
    assert _kinds(near) == [("date_of_birth", "block")]
    assert _kinds(far) == [("date_of_birth", "warn")]


def test_a_birth_cue_counts_up_to_12_characters_after_the_date():
    assert _kinds("01/02/1941 dob") == [("date_of_birth", "block")]
    assert _kinds("01/02/1941" + " " * 9 + "dob") == [("date_of_birth", "block")]  # ends at 12
    assert _kinds("01/02/1941" + " " * 10 + "dob") == [("date_of_birth", "warn")]


def test_a_plain_date_warns_from_14_years_ago_and_not_after():
    this_year = date.today().year
    assert _kinds(f"reviewed on 3 March {this_year - 14}") == [("date_of_birth", "warn")]
    assert _kinds(f"reviewed on 3 March {this_year - 13}") == []


def test_a_two_digit_year_is_this_century_up_to_this_year():
    yy = date.today().year % 100
    assert _kinds(f"reviewed on 3/4/{yy:02d}") == []  # this year, not 19yy
    assert _kinds("reviewed on 3/4/20") == []  # 2020: an event, too recent to be a birth
    assert _kinds("born 3/4/41") == [("date_of_birth", "block")]


# -- phones, postcodes, NI numbers ------------------------------------------------------------
def test_premium_rate_and_over_grouped_numbers_are_not_phones():
    assert ("phone", "block") in _kinds("call 0161 496 00 00")  # three gaps: still a phone
    assert [k for k in _kinds("call 0906 123 4567") if k[0] == "phone"] == []  # 09: premium rate
    assert [k for k in _kinds("ref 01 61 496 00 00") if k[0] == "phone"] == []  # four gaps: a list


def test_an_ordinal_after_an_outward_code_does_not_end_the_postcode_search():
    assert ("postcode", "block") not in _kinds("Room B12 3rd floor")
    assert ("postcode", "block") in _kinds("Ward B3 3rd floor, then home to LS1 4AP")


@pytest.mark.parametrize("text", ["DA 12 34 56 C", "AD 12 34 56 C", "FE 12 34 56 A", "AO 12 34 56 B"])
def test_invalid_ni_prefixes_are_not_ni_numbers(text):
    assert [k for k in _kinds(text) if k[0] == "ni_number"] == []


def test_a_valid_ni_number_is_found():
    assert _kinds("AB 12 34 56 C") == [("ni_number", "block")]


# -- placeholders ---------------------------------------------------------------------------
def test_an_identifier_beside_a_placeholder_is_still_found():
    assert ("postcode", "block") in _kinds("[PERSON 1] lives at LS1 4AP")
    assert ("phone", "block") in _kinds("call 0161 496 0000[PHONE]")
    assert _kinds("[PERSON 1] and [NHS NUMBER]") == []


# -- names and placeholders -------------------------------------------------------------------
def test_a_person_keeps_one_placeholder_however_they_are_written():
    mapping: dict[str, str] = {}
    out = redact("Jane Smith visited. Mrs J. Smith agreed; Mrs  Jane  Smith signed.", ["Jane Smith"], mapping)
    assert out == "[PERSON 1] visited. [PERSON 1] agreed; [PERSON 1] signed."


def test_a_shared_surname_does_not_merge_two_listed_people():
    mapping: dict[str, str] = {}
    out = redact("Jane Smith met Tom Smith. Mrs Jane Smith left.", ["Jane Smith", "Tom Smith"], mapping)
    assert out == "[PERSON 1] met [PERSON 2]. [PERSON 1] left."


def test_redact_without_a_mapping_still_numbers_people():
    assert redact("Mrs Quokkafeather said so") == "[PERSON 1] said so"


# -- messages -------------------------------------------------------------------------------
def test_the_block_message_lists_every_finding_with_advice_for_each_kind():
    with pytest.raises(BlockedTextError) as info:
        check("999 000 0018 at LS1 4AP, tel 0161 496 0000")
    assert str(info.value) == (
        "The text contains what looks like an NHS number (characters 1-12), a postcode "
        "(characters 17-23) and a phone number (characters 30-42). Remove them and refer to the "
        "person by their case reference and describe the place in general terms (for example "
        "'at home') and leave contact details in the case record, not here.")
    assert [f.kind for f in info.value.findings] == ["nhs_number", "postcode", "phone"]


def test_the_block_message_for_one_finding_names_the_field():
    with pytest.raises(BlockedTextError) as info:
        check("LS1 4AP", field="evidence note")
    assert str(info.value) == ("The evidence note contains what looks like a postcode (characters 1-7). Remove it "
                               "and describe the place in general terms (for example 'at home').")


@pytest.mark.parametrize("text, word", [("reviewed 3 March 1941", "it"),
                                        ("reviewed 3 March 1941 and 4 April 1950", "them")])
def test_the_warning_message_says_it_or_them(text, word):
    with pytest.raises(WarningTextError) as info:
        check(text)
    message = str(info.value)
    assert message.startswith("The text may contain a date of birth")
    assert message.endswith(f"Check {word}: remove anything that could identify a person, or confirm to save "
                            "the text as it is.")
    assert len(info.value.findings) == (1 if word == "it" else 2)


# -- overlapping findings ---------------------------------------------------------------------
def _spans(text: str, names: tuple[str, ...] = ()) -> list[tuple[str, str, int, int]]:
    return [(f.kind, f.level, f.start, f.end) for f in screen(text, names)]


def test_partly_overlapping_findings_join_as_the_longer_kind_and_block_if_either_blocks():
    # "Mrs May" (a name, blocks) overlaps "May 3, 1941" (an old date, warns): one finding that blocks.
    assert _spans("Seen with Mrs May 3, 1941") == [("date_of_birth", "block", 10, 25)]
    # The name is the longer: the joined finding is a name.
    assert _spans("Seen by Dr Anne Marie May 3, 1941") == [("honorific_name", "block", 8, 33)]
    assert redact("Seen by Dr Anne Marie May 3, 1941") == "Seen by [PERSON 1]"


def test_a_finding_inside_another_does_not_hide_the_ones_after_it():
    kinds = [f.kind for f in screen("Mrs Jane Smith at LS1 4AP", ["Jane Smith"])]
    assert kinds == ["honorific_name", "postcode"]
