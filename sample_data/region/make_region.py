#!/usr/bin/env python3
"""Write the fictional Westmarch region's regional bundles, reproducibly.

Everything here is invented. The region's councils (the ones whose PSWs visit Eastvale in the
main sample, and four more) each have two review rounds; each council's figures are drawn from
a fixed seed with its own level of practice and its own change between rounds, so the
comparison has strong and weaker councils, councils that moved and councils that did not.
Eastvale's own 2026 bundle is exported from the main sample review (built in a temporary
folder), and its 2022 round is drawn like the others, with the headings of the previous
review's recommendations. Saltmere District Council's data-sharing agreement asks for small
counts to be suppressed, so its bundles are exported with ``suppress_below=3``.

    python sample_data/region/make_region.py               # rewrite sample_data/region/bundles
    python sample_data/region/make_region.py --out /tmp/x  # write the same files elsewhere

Running it again gives byte-identical files. ``make_bundles`` is also used by
benchmarks/regional_scale.py to draw a national-scale set of councils.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reviewkit.core.themes import load_codebook  # noqa: E402
from reviewkit.core.tools import load_tool  # noqa: E402
from reviewkit.review.bundle import (  # noqa: E402
    SOURCES,
    Bundle,
    CountRow,
    ThemeRow,
    apply_suppression,
    bundle_bytes,
    recommendation_headings,
)

SEED = 2026
OUT = HERE / "bundles"
SUPPRESSING = {"Saltmere District Council": 3}
# name, (first round, second round), base level of practice, change between rounds
COUNCILS = [
    ("Brackenfell Borough Council", ("2022-11", "2025-11"), 0.25, 0.10),
    ("Greyhaven Borough Council", ("2023-02", "2026-02"), -0.75, 1.15),
    ("Harrowdale City Council", ("2022-09", "2025-06"), 0.55, -0.05),
    ("Kingsbrook Metropolitan Borough Council", ("2023-05", "2026-05"), 0.05, 0.35),
    ("Northmere County Council", ("2022-03", "2025-03"), 0.35, -0.55),
    ("Oakhollow City Council", ("2023-09", "2026-06"), -0.20, 0.05),
    ("Saltmere District Council", ("2023-06", "2026-03"), -0.05, 0.45),
]
EASTVALE = ("Eastvale Borough Council", "2022-06", 0.0)
# How hard each question of the strengths-based-practice tool is to do well (on the latent scale)
DIFFICULTY = {"q1": 0.35, "q2": 0.15, "q3": 0.25, "q4": 0.2, "q5": -0.45, "q6": 0.2, "q7": 0.15,
              "q8": -0.25, "q9": 0.1, "q10": -0.05, "q11": -0.7, "q12": 0.0}
THEMES = [
    "the application of strengths-based practice across adult social care teams",
    "strengths-based practice in assessment and support planning",
    "the voice of the person and of carers in adult social care practice",
]
RECOMMENDATIONS = [
    "Protecting time for regular, reflective supervision for every practitioner",
    "Making management oversight and the rationale for decisions visible on case records",
    "Embedding the practice framework consistently across all teams",
    "Reviewing the funding panel so that practitioners have proportionate delegated authority",
    "Strengthening links with the voluntary and community sector",
    "Keeping the community directory current and known to every team",
    "Developing a regular case file audit whose learning reaches practitioners",
    "Improving contingency planning with unpaid carers",
    "Recording the person's own words, wishes and feelings",
    "Reducing duplication between assessment and support plan documentation",
    "Widening access to interpreters and accessible information",
    "Supporting positive risk-taking with clear guidance and management support",
    "Offering strengths-based practice training to staff new to the council",
    "Sharing outstanding examples of practice across teams",
]
THEME_RATE = {"supervision": 0.9, "workload": 0.8, "panel": 0.6, "learning": 0.6, "oversight": 0.7,
              "leadership": 0.5, "culture": 0.7, "recording": 0.8, "workforce": 0.5,
              "practice-model": 0.6, "partnership": 0.5, "resources": 0.6, "quality-assurance": 0.4,
              "equality": 0.3, "carers": 0.5, "safeguarding": 0.3}


def _level(latent: float, rng: random.Random | None = None) -> str:
    if rng is not None and rng.random() < 0.03:
        return "Not applicable"
    if latent > 1.0:
        return "Outstanding"
    if latent > -0.45:
        return "Good"
    if latent > -1.75:
        return "Requires Improvement"
    return "Inadequate"


@functools.lru_cache(maxsize=1)
def _tool_and_codebook() -> tuple[Any, Any]:
    return load_tool("strengths-based-practice"), load_codebook("default")


def draw_bundle(council: str, round_: str, quality: float, seed: str, *,
                recommendations: list[str] | None = None) -> Bundle:
    """One council's fictional bundle for one round, drawn from `seed`."""
    rng = random.Random(f"{SEED}/{seed}")
    tool, book = _tool_and_codebook()
    labels = tool.scale.labels
    cases = rng.choice([20, 20, 20, 20, 19, 21, 18, 22])
    per_q = {q.id: dict.fromkeys(labels, 0) for q in tool.questions}
    overall = dict.fromkeys(labels, 0)
    for _ in range(cases):
        case = quality + rng.gauss(0, 0.6)
        scores = []
        for q in tool.questions:
            latent = case + DIFFICULTY.get(q.id, 0.0) + rng.gauss(0, 0.7)
            scores.append(latent)
            per_q[q.id][_level(latent, rng)] += 1
        mean = sum(scores) / len(scores) + rng.gauss(0, 0.35)
        overall[_level(mean + 0.1)] += 1  # every case record gets an overall judgement
    rows = tuple(CountRow(q, tuple(per_q[q][lb] for lb in labels), sum(per_q[q].values()))
                 for q in per_q)
    orow = CountRow(tool.overall.id, tuple(overall[lb] for lb in labels), sum(overall.values()))
    conversation_codes = set(book.conversation_codes)
    themes = []
    for code in (*book.codes, *book.i_statements):
        for source in SOURCES:
            if source == "conversations" and code.id not in conversation_codes:
                cells = (0, 0, 0, 0)
            elif source == "meetings" and code.i_statement:
                cells = (0, 0, 0, 0)
            else:
                rate = THEME_RATE.get(code.id, 0.45) * (0.6 if source == "conversations" else 1.0)
                if rng.random() < rate:
                    lean = 0.5 + 0.35 * quality
                    n = rng.randint(1, 6 if source == "meetings" else 3)
                    split = [0, 0, 0, 0]
                    for _ in range(n):
                        r = rng.random()
                        split[0 if r < lean * 0.8 else 1 if r < 0.85 else 2 if r < 0.95 else 3] += 1
                    cells = tuple(split)
                else:
                    cells = (0, 0, 0, 0)
            themes.append(ThemeRow(code.id, code.label, source, cells, sum(cells)))
    recs = recommendations if recommendations is not None else rng.sample(RECOMMENDATIONS, rng.randint(4, 7))
    return Bundle(
        council=council, round=round_, theme=rng.choice(THEMES), tool=tool.id,
        tool_version=tool.version, tool_title=tool.title, scale_id=tool.scale.id,
        levels=tuple((lv.label, lv.score) for lv in tool.scale.levels),
        questions=tuple((q.id, q.title) for q in tool.questions), overall_id=tool.overall.id,
        overall_title=tool.overall.title, codebook=(book.id, book.version),
        counts=(("cases", cases), ("meetings", 2), ("attendees", rng.randint(9, 16)),
                ("conversations", rng.randint(3, 6))),
        ratings=rows, overall=orow, themes=tuple(themes), recommendations=tuple(recs),
    )


def slug(council: str, round_: str) -> str:
    words = council.lower().replace("council", "").split()
    return "-".join(words[:2]) + f"-{round_}.zip"


def region_bundles() -> dict[str, Bundle]:
    """The Westmarch region's drawn bundles by file name (Eastvale 2026 is exported separately)."""
    out = {}
    for name, rounds, base, change in COUNCILS:
        for i, round_ in enumerate(rounds):
            b = draw_bundle(name, round_, base + change * i, f"{name}/{round_}")
            out[slug(name, round_)] = apply_suppression(b, SUPPRESSING.get(name))
    name, round_, quality = EASTVALE
    review = ROOT / "sample_data" / "eastvale-2026" / "review.yaml"
    import yaml

    prev = yaml.safe_load(review.read_text(encoding="utf-8"))["previous_review"]["recommendations"]
    md = "\n".join(f"{i}. {r['text']}" for i, r in enumerate(prev, 1))
    out[slug(name, round_)] = draw_bundle(name, round_, quality, f"{name}/{round_}",
                                          recommendations=recommendation_headings(md))
    return out


def make_bundles(n_councils: int, rounds: int, seed: int = SEED) -> list[Bundle]:
    """A national-scale set of invented councils × rounds (for the benchmark)."""
    rng = random.Random(seed)
    first = ["Ash", "Bram", "Cold", "Dun", "Elm", "Fen", "Glen", "Hol", "Ivy", "Kel", "Lark", "Mar",
             "Nor", "Oak", "Pen", "Quen", "Rook", "Sal", "Thorn", "Ul", "Vale", "Wester", "Yar", "Zel"]
    second = ["borough", "bridge", "by", "combe", "dale", "field", "ford", "ham", "holt", "hurst",
              "ley", "mere", "moor", "stead", "ton", "wick", "worth"]
    kinds = ["Borough Council", "City Council", "County Council", "District Council"]
    names: list[str] = []
    i = 0
    while len(names) < n_councils:
        a, b = first[i % len(first)], second[(i // len(first)) % len(second)]
        names.append(f"{a}{b} {kinds[i % len(kinds)]}")
        i += 1
    out = []
    for name in names:
        base, change = rng.uniform(-0.6, 0.6), rng.uniform(-0.4, 0.5)
        for r in range(rounds):
            round_ = f"{2020 + 3 * r}-{rng.randint(1, 12):02d}"
            out.append(draw_bundle(name, round_, base + change * r, f"national/{name}/{r}"))
    return out


def eastvale_2026() -> bytes:
    """Eastvale's 2026 bundle, exported from the main sample review built in a temp folder."""
    from reviewkit.intake.sample import build_sample_workspace
    from reviewkit.review.bundle import bundle_from_workspace

    with tempfile.TemporaryDirectory(prefix="reviewkit-region-") as tmp:
        ws = build_sample_workspace(Path(tmp) / "eastvale-2026")
        return bundle_bytes(bundle_from_workspace(ws))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write the bundles to")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {name: bundle_bytes(b) for name, b in region_bundles().items()}
    files[slug(EASTVALE[0], "2026-10")] = eastvale_2026()
    for old in args.out.glob("*.zip"):
        if old.name not in files:
            old.unlink()
    for name, data in sorted(files.items()):
        (args.out / name).write_bytes(data)
    print(f"Wrote {len(files)} bundles to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
