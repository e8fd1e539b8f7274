"""Regional comparison across councils and review rounds, from de-identified bundles.

The regional PSW network receives one bundle per council per round (see ``reviewkit.review.bundle``)
and wants to see where practice is strong or weak, how each council moved since its last
review and which themes recur. With about 20 case records per council, differences between
councils are noisy, so every share carries its 95% Wilson interval, councils are listed in
alphabetical (or pseudonym) order, never ranked, and a change is called higher or lower only when
its own 95% interval (Newcombe's hybrid score method, ``reviewkit.figures.intervals``) excludes no
change; otherwise the figures "cannot tell".

Reviews made with different audit tools, or different versions of one tool, are only pooled
through a question mapping (``reviewkit.region.sources.load_question_map``), because the same id
may ask a different question. Suppressed counts stay unknown: they are shown as "suppressed",
never as 0, and a council whose counts for a question are partly suppressed is left out of that
question's pooled figures (which say how many councils they include).

In: bundles already read (``reviewkit.region.sources``) and an optional question mapping. Out: a
``Comparison`` whose tables, shares and sentences the report's sections print
(``reviewkit.region.sections``); rendering it is ``reviewkit.region.render``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reviewkit.core.dates import long_date
from reviewkit.core.errors import RegionalError
from reviewkit.figures.analysis import format_count, letters, pct, wilson_interval
from reviewkit.figures.intervals import newcombe_difference
from reviewkit.figures.sentences import count_noun
from reviewkit.region.sources import QuestionMap, load_question_map
from reviewkit.review.bundle import SOURCES, Bundle, CountRow

__all__ = [
    "Comparison",
    "Share",
    "compare",
    "known_sum",
    "pseudonym",
]

SUPPRESSED = "suppressed"
NO_DATA = "–"


# --------------------------------------------------------------------------- pseudonyms



def pseudonym(i: int) -> str:
    """'Council A' … 'Council Z', 'Council AA' …: the i-th pseudonym (0-based)."""
    return f"Council {letters(i)}"


def _pseudonyms(keys: Sequence[str], secret: bytes) -> dict[str, str]:
    """Assign pseudonyms in the order of a keyed hash of each council's name.

    Unkeyed orders (by name, or a plain hash) are reversible by anyone who knows the region's
    councils; the key is secret (by default a digest of the bundles' bytes, which only the
    network holds), so the letters say nothing about the names.
    """
    order = sorted(keys, key=lambda k: hmac.new(secret, k.encode("utf-8"), hashlib.sha256).hexdigest())
    return {k: pseudonym(i) for i, k in enumerate(order)}


GENERIC_WORDS = {"and", "borough", "city", "council", "county", "district", "metropolitan", "of", "royal",
                 "the", "london", "unitary", "authority"}


@functools.lru_cache(maxsize=8)
def _name_patterns(councils: tuple[str, ...]) -> list[re.Pattern[str]]:
    """Each council's full name, then each distinctive word of it, as whole-word patterns."""
    words = {" ".join(c.split()) for c in councils}
    words |= {w for c in councils for w in re.findall(r"[\w'’-]+", c) if w.casefold() not in GENERIC_WORDS and len(w) > 2}
    ordered = sorted(words, key=len, reverse=True)
    return [re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.IGNORECASE) for w in ordered]


def _natural(label: str) -> tuple[int, str]:
    m = re.match(r"^Council ([A-Z]+)$", label)
    return (len(m.group(1)), m.group(1)) if m else (0, label.casefold())


# --------------------------------------------------------------------------- cells

def known_sum(cells: dict[str, int | None], total: int, labels: Sequence[str]) -> int | None:
    """The sum of some cells of a row if the bundle reveals it (directly or as total minus the rest)."""
    inside = [cells[lb] for lb in labels]
    if all(v is not None for v in inside):
        return int(sum(v for v in inside if v is not None))
    outside = [v for lb, v in cells.items() if lb not in labels]
    if all(v is not None for v in outside):
        return int(total - sum(v for v in outside if v is not None))
    return None


@dataclass(frozen=True)
class Share:
    """k of n with its Wilson interval; k None when suppressed, n 0 when nothing was rated."""

    k: int | None
    n: int | None

    @property
    def known(self) -> bool:
        return self.k is not None and self.n is not None and self.n > 0

    @property
    def percent(self) -> float:
        return pct(self.k, self.n) if self.known else float("nan")  # type: ignore[arg-type]

    @property
    def interval(self) -> tuple[float, float]:
        if not self.known:
            return (float("nan"), float("nan"))
        lo, hi = wilson_interval(int(self.k), int(self.n))  # type: ignore[arg-type]
        return (100 * lo, 100 * hi)

    @property
    def display(self) -> str:
        if self.k is None or self.n is None:
            return SUPPRESSED
        if self.n == 0:
            return NO_DATA
        return format_count(self.k, self.n)

    @property
    def interval_display(self) -> str:
        if not self.known:
            return SUPPRESSED if (self.k is None or self.n is None) else NO_DATA
        lo, hi = self.interval
        return f"{lo:.1f}% to {hi:.1f}%"


# --------------------------------------------------------------------------- comparison

@dataclass
class Comparison:
    """Bundles checked as comparable, with the region's tables computed from them."""

    bundles: list[Bundle]
    labels: dict[str, str]
    questions: list[tuple[str, str]]
    question_maps: dict[tuple[str, str], dict[str, str]]
    levels: list[str]
    scored: list[str]
    pseudonymised: bool = False
    mapping_source: str = ""

    # -- basics ---------------------------------------------------------------------------
    @property
    def top(self) -> list[str]:
        """The levels counted as "Outstanding or Good": the top two scored levels."""
        return self.scored[:2]

    @property
    def bottom(self) -> list[str]:
        """The scored levels below those (Requires Improvement or Inadequate)."""
        return self.scored[2:] or self.scored[-1:]

    @property
    def top_words(self) -> str:
        return " or ".join(self.top)

    @property
    def bottom_words(self) -> str:
        return " or ".join(self.bottom)

    def scrub(self, text: str) -> str:
        """Text from a bundle with every council's name taken out, when councils are pseudonymised.

        Tool titles, question titles and theme labels are configuration a council may have
        edited ("Eastvale audit tool"); a pseudonymised comparison must not let them name it.
        """
        if not self.pseudonymised:
            return text
        for pattern in _name_patterns(tuple(sorted({b.council for b in self.bundles}))):
            text = pattern.sub("[council]", text)
        return text

    def key(self, b: Bundle) -> str:
        return " ".join(b.council.split()).casefold()

    def council(self, b: Bundle) -> str:
        return self.labels[self.key(b)]

    def round_label(self, b: Bundle) -> str:
        """The round as YYYY-MM, or only the year when pseudonymised (review months are public)."""
        return b.round[:4] if self.pseudonymised else b.round

    def rounds(self) -> dict[str, list[Bundle]]:
        """Each council's bundles, oldest round first, councils in display order."""
        out: dict[str, list[Bundle]] = {}
        for b in sorted(self.bundles, key=lambda b: (_natural(self.council(b)), b.round)):
            out.setdefault(self.key(b), []).append(b)
        return out

    def latest(self) -> list[Bundle]:
        """Each council's latest round, in display order."""
        return [bs[-1] for bs in self.rounds().values()]

    def _question_rows(self, b: Bundle) -> dict[str, CountRow]:
        """The bundle's question rows under their common ids (unmapped questions dropped)."""
        mapping = self.question_maps.get((b.tool, b.tool_version))
        out = {}
        for row in b.ratings:
            cid = row.key if mapping is None else mapping.get(row.key)
            if cid is not None:
                out[cid] = row
        return out

    def _cells(self, row: CountRow) -> dict[str, int | None]:
        return dict(zip(self.levels, row.cells))

    def share(self, row: CountRow, labels: Sequence[str]) -> Share:
        cells = self._cells(row)
        return Share(known_sum(cells, row.total, labels), known_sum(cells, row.total, self.scored))

    # -- per council ----------------------------------------------------------------------
    def council_figures(self) -> pd.DataFrame:
        """Per council (latest round): case records and overall judgements, as numbers."""
        rows = []
        for b in self.latest():
            good, weak = self.share(b.overall, self.top), self.share(b.overall, self.bottom)
            lo, hi = good.interval
            rows.append({"council": self.council(b), "round": self.round_label(b), "cases": b.count("cases"),
                         "good": good.k, "weak": weak.k, "judged": good.n, "good %": good.percent,
                         "ci_low": lo, "ci_high": hi, "weak %": weak.percent,
                         "good_display": good.display, "interval": good.interval_display,
                         "weak_display": weak.display})
        return pd.DataFrame(rows, columns=["council", "round", "cases", "good", "weak", "judged", "good %",
                                           "ci_low", "ci_high", "weak %", "good_display", "interval",
                                           "weak_display"])

    def council_table(self) -> pd.DataFrame:
        """The per-council table as printed (alphabetical or pseudonym order, never ranked)."""
        f = self.council_figures()
        return pd.DataFrame({
            "Council": f["council"], "Round": f["round"], "Case records": f["cases"].astype(str),
            f"Judged {self.top_words}": f["good_display"], "95% interval": f["interval"],
            f"Judged {self.bottom_words}": f["weak_display"]})

    # -- council × question ---------------------------------------------------------------
    def question_shares(self) -> tuple[list[str], list[list[Share]]]:
        """Council labels and, per council (latest round), the share Outstanding/Good per question."""
        names, grid = [], []
        for b in self.latest():
            rows = self._question_rows(b)
            names.append(self.council(b))
            grid.append([self.share(rows[q], self.top) if q in rows else Share(0, 0) for q, _ in self.questions])
        return names, grid

    def question_matrix(self) -> pd.DataFrame:
        """Council × question: number (share) of scored ratings that were Outstanding or Good."""
        names, grid = self.question_shares()
        cols = [f"{i}. {t}" for i, (_, t) in enumerate(self.questions, 1)]
        return pd.DataFrame([[n, *[s.display for s in row]] for n, row in zip(names, grid)],
                            columns=["Council", *cols])

    # -- region-wide ----------------------------------------------------------------------
    def pooled_distribution(self) -> pd.DataFrame:
        """Per common question, all councils' latest ratings pooled (``question_distribution`` shape).

        A council is left out of a question when any of its counts for it is suppressed;
        ``councils`` says how many were pooled.
        """
        latest = self.latest()
        rows = []
        for number, (qid, title) in enumerate(self.questions, 1):
            sums = dict.fromkeys(self.levels, 0)
            used = 0
            for b in latest:
                row = self._question_rows(b).get(qid)
                if row is None or row.hidden:
                    continue
                used += 1
                for lb, v in self._cells(row).items():
                    sums[lb] += int(v or 0)
            out: dict[str, Any] = {"question": qid, "number": number, "title": title, **sums}
            out["scored"] = sum(sums[lb] for lb in self.scored)
            for lb in self.scored:
                out[f"{lb} %"] = pct(sums[lb], out["scored"])
            out["good_or_better"] = sum(sums[lb] for lb in self.top)
            out["good_or_better %"] = pct(out["good_or_better"], out["scored"])
            lo, hi = wilson_interval(out["good_or_better"], out["scored"])
            out.update({"ci_low": 100 * lo, "ci_high": 100 * hi, "councils": used,
                        "of_councils": sum(1 for b in latest if qid in self._question_rows(b))})
            rows.append(out)
        cols = (["question", "number", "title", *self.levels, "scored", *[f"{lb} %" for lb in self.scored],
                 "good_or_better", "good_or_better %", "ci_low", "ci_high", "councils", "of_councils"])
        return pd.DataFrame(rows, columns=cols)

    def pooled_table(self) -> pd.DataFrame:
        """The pooled distribution as printed: count (percent of scored) per level."""
        d = self.pooled_distribution()
        table = pd.DataFrame({"Question": [f"{n}. {t}" for n, t in zip(d["number"], d["title"])]})
        for lb in self.levels:
            table[lb] = [format_count(int(v), int(s)) if lb in self.scored else str(int(v))
                         for v, s in zip(d[lb], d["scored"])]
        table["Councils pooled"] = [f"{u} of {o}" for u, o in zip(d["councils"], d["of_councils"])]
        return table

    def weakest_questions(self, n: int = 3) -> pd.DataFrame:
        """The n questions least often rated Outstanding or Good region-wide, with intervals."""
        d = self.pooled_distribution()
        d = d[d["scored"] > 0].sort_values(["good_or_better %", "number"], kind="mergesort").head(n)
        return pd.DataFrame({
            "Question": [f"{k}. {t}" for k, t in zip(d["number"], d["title"])],
            f"Rated {self.top_words}": [format_count(int(g), int(s)) for g, s in zip(d["good_or_better"], d["scored"])],
            "95% interval": [f"{lo:.1f}% to {hi:.1f}%" for lo, hi in zip(d["ci_low"], d["ci_high"])],
            "Councils pooled": [f"{u} of {o}" for u, o in zip(d["councils"], d["of_councils"])],
        }).reset_index(drop=True)

    # -- change since the previous round --------------------------------------------------
    def changes(self) -> pd.DataFrame:
        """Each council with two or more rounds: overall judgements then and now, with intervals."""
        rows = []
        for bundles in self.rounds().values():
            if len(bundles) < 2:
                continue
            prev, last = bundles[-2], bundles[-1]
            a, b = self.share(prev.overall, self.top), self.share(last.overall, self.top)
            if not (a.known and b.known):
                verdict, change = ("cannot compare: figures suppressed" if (a.k is None or b.k is None)
                                   else "cannot compare: no overall judgements"), NO_DATA
            else:
                d, lo, hi = newcombe_difference(a.k, a.n, b.k, b.n, z1=1.96, z2=1.96)  # type: ignore[arg-type]
                change = f"{100 * d:+.1f} points"
                ci = f"{100 * lo:+.1f} to {100 * hi:+.1f} points".replace("-", "\u2212")
                if lo > 0:
                    verdict = f"higher: the change's 95% interval ({ci}) excludes no change"
                elif hi < 0:
                    verdict = f"lower: the change's 95% interval ({ci}) excludes no change"
                else:
                    verdict = f"cannot tell: the change's 95% interval ({ci}) includes no change"
            rows.append({"Council": self.council(last), "Previous round": self.round_label(prev),
                         f"Then: judged {self.top_words}": a.display, "Then: 95% interval": a.interval_display,
                         "Latest round": self.round_label(last),
                         f"Now: judged {self.top_words}": b.display, "Now: 95% interval": b.interval_display,
                         "Change": change, "Reading": verdict})
        cols = ["Council", "Previous round", f"Then: judged {self.top_words}", "Then: 95% interval",
                "Latest round", f"Now: judged {self.top_words}", "Now: 95% interval", "Change", "Reading"]
        return pd.DataFrame(rows, columns=cols)

    # -- themes -----------------------------------------------------------------------------
    def theme_reach(self) -> pd.DataFrame:
        """How many councils' latest reviews raised each theme, in meetings, conversations or either."""
        latest = self.latest()
        n = len(latest)
        labels: dict[str, str] = {}
        raised: dict[str, dict[str, set[str]]] = {}
        for b in latest:
            for t in b.themes:
                labels.setdefault(t.code, t.label)
                if t.total > 0:
                    raised.setdefault(t.code, {s: set() for s in (*SOURCES, "any")})
                    raised[t.code][t.source].add(self.key(b))
                    raised[t.code]["any"].add(self.key(b))
        rows = []
        for code, by in raised.items():
            if self.pseudonymised and len(by["any"]) < 2:
                continue  # a theme only one council raised could name or identify it
            rows.append({"code": code, "Theme": self.scrub(labels[code]), "_n": len(by["any"]),
                         "Raised in meetings": format_count(len(by["meetings"]), n),
                         "Raised in conversations": format_count(len(by["conversations"]), n),
                         "Raised in either": format_count(len(by["any"]), n)})
        table = pd.DataFrame(rows, columns=["code", "Theme", "_n", "Raised in meetings",
                                            "Raised in conversations", "Raised in either"])
        if len(table):
            table = table.sort_values(["_n", "Theme"], ascending=[False, True], kind="mergesort")
        return table.drop(columns="_n").reset_index(drop=True)

    def recommendations(self) -> pd.DataFrame:
        """Each council's latest recommendation headings (named comparisons only)."""
        if self.pseudonymised:
            return pd.DataFrame(columns=["Council", "Round", "Recommendations"])
        rows = [{"Council": self.council(b), "Round": self.round_label(b),
                 "Recommendations": list(b.recommendations)} for b in self.latest()]
        return pd.DataFrame(rows, columns=["Council", "Round", "Recommendations"])

    # -- words ------------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        """Headline counts of the comparison."""
        latest = self.latest()
        rounds = sorted(b.round for b in self.bundles)
        return {"councils": len(latest), "bundles": len(self.bundles),
                "cases": sum(b.count("cases") for b in latest),
                "first": rounds[0], "last": rounds[-1],
                "with_previous": sum(1 for bs in self.rounds().values() if len(bs) > 1),
                "suppressed_bundles": sum(1 for b in self.bundles if b.threshold is not None),
                "thresholds": sorted({b.threshold for b in self.bundles if b.threshold is not None})}

    def cover(self, version: str = "", render_date: str = "") -> dict[str, Any]:
        """What the report template's cover shows (no council is named when pseudonymised)."""

        k = self.counts()
        first, last = (k["first"][:4], k["last"][:4]) if self.pseudonymised else (k["first"], k["last"])
        span = long_date(first) if first == last else f"{long_date(first)} to {long_date(last)}"
        return {"title": "Regional comparison of practice reviews",
                "programme": f"{count_noun(k['councils'], 'council')}, {count_noun(k['bundles'], 'review round')}, {span}",
                "theme": "", "dates": "", "report_date": "", "team": [], "draft": False,
                "version": version, "render_date": render_date,
                "footer_css": "Regional comparison of practice reviews"}

    def scope_sentence(self) -> str:
        """What the comparison covers, in one sentence."""
        c = self.counts()
        span = (c["first"][:4], c["last"][:4]) if self.pseudonymised else (c["first"], c["last"])
        when = f"in {span[0]}" if span[0] == span[1] else f"from {span[0]} to {span[1]}"
        return (f"This comparison covers {c['councils']} {'council' if c['councils'] == 1 else 'councils'} "
                f"and {c['bundles']} review {'round' if c['bundles'] == 1 else 'rounds'} {when}; the latest "
                f"rounds examined {c['cases']} case records in all. " + _previous_phrase(c['with_previous'], c['councils']))

    def tool_sentence(self) -> str:
        """Which audit tools the reviews used and how they were made comparable."""
        tools = sorted({(b.tool, b.tool_version, b.tool_title) for b in self.bundles})
        if len(tools) == 1:
            t = tools[0]
            return self.scrub(f"Every review used the audit tool “{t[2]}” ({t[0]} version {t[1]}).")
        names = self.scrub("; ".join(f"{t} version {v}" for t, v, _ in tools))
        return (f"The reviews used {len(tools)} audit tools or versions ({names}); their questions were "
                f"mapped to {len(self.questions)} common questions by the network's question mapping, and "
                "questions it does not map are left out.")

    def caveat(self) -> str:
        """The small-numbers caveat that stands beside every per-council figure."""
        cases = sorted(b.count("cases") for b in self.latest())
        if not cases or cases[0] == cases[-1]:
            rest = (f"Each council's figures rest on {count_noun(cases[0] if cases else 0, 'case record')}"
                    if len(cases) != 1 else f"The council's figures rest on {count_noun(cases[0], 'case record')}")
        else:
            rest = f"Each council's figures rest on between {cases[0]} and {cases[-1]} case records"
        return (f"{rest}, so a single different "
                "judgement moves a share by several points and the 95% intervals are wide. Councils are "
                "listed in " + ("pseudonym" if self.pseudonymised else "alphabetical") + " order: this is "
                "not a league table. Where two councils' intervals overlap, the data do not show that "
                "their practice differs. Pooled intervals treat ratings as independent; ratings of the "
                "same case record are related, so the true uncertainty is somewhat wider.")

    def suppression_sentence(self) -> str:
        """How suppression was applied, if at all."""
        c = self.counts()
        if not c["suppressed_bundles"]:
            return "No bundle had small counts suppressed."
        thresholds = ", ".join(str(t) for t in c["thresholds"])
        return (f"{c['suppressed_bundles']} of the {c['bundles']} bundles were exported with counts below "
                f"{thresholds} suppressed (and further counts hidden so they cannot be worked out from "
                "totals). Suppressed figures are shown as “suppressed”, never as 0, and a council's "
                "question is left out of the pooled figures when any of its counts is suppressed.")


def _previous_phrase(with_previous: int, councils: int) -> str:
    if with_previous == councils:
        return "Every council has a previous round to compare with." if councils > 1 else \
            "The council has a previous round to compare with."
    if with_previous == 0:
        return "No council has a previous round in these bundles."
    return f"{with_previous} of the {councils} councils have a previous round to compare with."


def compare(bundles: Sequence[Bundle], *, mapping: QuestionMap | str | Path | None = None,
            pseudonymise: bool = False, pseudonym_key: str | None = None) -> Comparison:
    """Check that bundles can be pooled and build the comparison; refuses unmapped tool mixes."""
    if not bundles:
        raise RegionalError("no bundles given: pass the bundle .zip files (or review workspaces) to compare")
    qmap = load_question_map(mapping) if isinstance(mapping, (str, Path)) else mapping
    seen: dict[tuple[str, str], Bundle] = {}
    for b in bundles:
        k = (" ".join(b.council.split()).casefold(), b.round)
        if k in seen:
            raise RegionalError(f"bundles {seen[k].name} and {b.name} are both {b.council}'s review of "
                                f"{b.round}; remove one of them")
        seen[k] = b
    first = bundles[0]
    for b in bundles[1:]:
        if b.levels != first.levels:
            raise RegionalError(f"bundles {first.name} and {b.name} use different rating scales "
                                f"({first.scale_id} and {b.scale_id}); only reviews rated on the same "
                                "scale can be compared")
    tools = sorted({(b.tool, b.tool_version) for b in bundles})
    question_maps: dict[tuple[str, str], dict[str, str]] = {}
    if qmap is None:
        if len(tools) > 1:
            a = next(b for b in bundles if (b.tool, b.tool_version) == tools[0])
            z = next(b for b in bundles if (b.tool, b.tool_version) == tools[1])
            raise RegionalError(
                f"cannot pool reviews made with different audit tools: {a.name} used '{a.tool}' version "
                f"{a.tool_version} and {z.name} used '{z.tool}' version {z.tool_version}. The same "
                "question id may ask a different question, so pooling them would compare unlike with "
                "unlike. Map each tool's questions to common ids in a YAML file and pass it with "
                "--map MAPPING.yaml (see 'Regional bundle format' in the README), or compare the "
                "bundles of each tool separately.")
        questions = list(first.questions)
        source = ""
    else:
        for b in bundles:
            m = qmap.tools.get((b.tool, b.tool_version))
            if m is None:
                raise RegionalError(f"{qmap.source}: no entry for tool '{b.tool}' version {b.tool_version} "
                                    f"(used by {b.name}); add it under 'tools'")
            own = {q for q, _ in b.questions}
            unknown = sorted(set(m) - own)
            if unknown:
                raise RegionalError(f"{qmap.source}: tool '{b.tool}' version {b.tool_version} has no "
                                    f"question '{unknown[0]}' (per {b.name}); fix the mapping")
            question_maps[(b.tool, b.tool_version)] = m
        questions = list(qmap.common)
        source = qmap.source
    keys = sorted({" ".join(b.council.split()).casefold() for b in bundles})
    if pseudonymise:
        secret = (pseudonym_key.encode("utf-8") if pseudonym_key else
                  hashlib.sha256("".join(sorted(b.digest for b in bundles)).encode()).digest())
        labels = _pseudonyms(keys, secret)
    else:
        latest_name: dict[str, tuple[str, str]] = {}
        for b in bundles:
            k = " ".join(b.council.split()).casefold()
            if k not in latest_name or b.round > latest_name[k][0]:
                latest_name[k] = (b.round, " ".join(b.council.split()))
        labels = {k: v[1] for k, v in latest_name.items()}
    comparison = Comparison(bundles=list(bundles), labels=labels, questions=questions,
                            question_maps=question_maps, levels=first.level_labels, scored=first.scored_labels,
                            pseudonymised=pseudonymise, mapping_source=source)
    comparison.questions = [(q, comparison.scrub(t)) for q, t in questions]
    return comparison

