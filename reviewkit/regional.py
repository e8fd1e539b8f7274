"""Regional comparison across councils and review rounds, from de-identified bundles.

The regional PSW network receives one bundle per council per round (see ``reviewkit.bundle``)
and wants to see where practice is strong or weak, how each council moved since its last
review and which themes recur. With about 20 case records per council, differences between
councils are noisy, so every share carries its 95% Wilson interval, councils are listed in
alphabetical (or pseudonym) order, never ranked, and a change is called "within the noise"
when the two rounds' intervals overlap.

Reviews made with different audit tools, or different versions of one tool, are only pooled
through a question mapping (``load_question_map``), because the same id may ask a different
question. Suppressed counts stay unknown: they are shown as "suppressed", never as 0, and a
council whose counts for a question are partly suppressed is left out of that question's
pooled figures (which say how many councils they include).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .analysis import format_count, letters, pct, wilson_interval
from .bundle import SOURCES, Bundle, CountRow, bundle_bytes, bundle_from_workspace, export_bundle, read_bundle
from .atomic import make_folder, write_atomic
from .errors import RegionalError, RenderError
from .store import describe_failure
from .resources import shipped
from .yamlfile import load_yaml

__all__ = [
    "Comparison",
    "QuestionMap",
    "Share",
    "compare",
    "compare_folder",
    "export_bundle",
    "known_sum",
    "load_bundles",
    "load_question_map",
    "prepare_inputs",
    "pseudonym",
    "read_bundle",
    "render_comparison",
]

SUPPRESSED = "suppressed"
NO_DATA = "–"
MAP_FORMAT = "reviewkit-question-map"
MAX_MAP_BYTES = 256 * 1024  # a question map lists a few tools of a few dozen questions
NOTEBOOK = shipped("notebooks", "regional_comparison.ipynb")
Progress = Callable[[str], None]


# --------------------------------------------------------------------------- loading

def _is_workspace(path: Path) -> bool:
    return path.is_dir() and (path / "review.yaml").exists()


def load_bundles(sources: Iterable[str | Path], *, progress: Progress | None = None) -> list[Bundle]:
    """Read bundles, exporting any review workspace among the sources on the fly."""
    from .workspace import open_workspace

    bundles = []
    paths = [Path(s) for s in sources]
    if not paths:
        raise RegionalError("no bundles given: pass the bundle .zip files (or review workspaces) to compare")
    for i, path in enumerate(paths, 1):
        if _is_workspace(path):
            ws = open_workspace(path)
            data = bundle_bytes(bundle_from_workspace(ws))
            bundles.append(read_bundle(data, name=f"{path.name} (workspace)"))
        elif path.is_dir():
            raise RegionalError(f"{path}: a folder that is not a review workspace (no review.yaml); "
                                "pass bundle .zip files or review workspaces")
        else:
            bundles.append(read_bundle(path))
        if progress and (i == len(paths) or i % 50 == 0):
            progress(f"read {i} of {len(paths)} bundle(s)")
    return bundles


# --------------------------------------------------------------------------- question mapping

@dataclass(frozen=True)
class QuestionMap:
    """Common questions, and for each (tool, version) which of its question ids maps to which."""

    common: tuple[tuple[str, str], ...]
    tools: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    source: str = ""


def load_question_map(path: str | Path) -> QuestionMap:
    """Read a question mapping YAML (see the README); errors name the key to fix."""
    path = Path(path)
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RegionalError(f"{where}: no such mapping file") from None
    except IsADirectoryError:
        raise RegionalError(f"{where}: is a folder, not a mapping file") from None
    data = load_yaml(raw, where, RegionalError, max_bytes=MAX_MAP_BYTES)
    if not isinstance(data, dict) or data.get("format") != MAP_FORMAT:
        raise RegionalError(f"{where}: expected a mapping with 'format: {MAP_FORMAT}', 'common' and 'tools'")
    extra = sorted(str(k) for k in data if k not in ("format", "version", "common", "tools"))
    if extra:
        raise RegionalError(f"{where}: unexpected key '{extra[0]}'; expected format, version, common, tools")
    if data.get("version", 1) != 1:
        raise RegionalError(f"{where}: mapping version is not supported (expected 1)")
    common_raw = data.get("common")
    if not isinstance(common_raw, list) or not common_raw:
        raise RegionalError(f"{where}: 'common' must list the common questions, each with id and title")
    common = []
    for i, c in enumerate(common_raw, 1):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not isinstance(c.get("title"), str):
            raise RegionalError(f"{where}: common question {i}: expected id and title (text)")
        common.append((c["id"].strip(), c["title"].strip()))
    ids = [c for c, _ in common]
    if len(set(ids)) != len(ids):
        raise RegionalError(f"{where}: 'common' lists a question id twice")
    tools_raw = data.get("tools")
    if not isinstance(tools_raw, list) or not tools_raw:
        raise RegionalError(f"{where}: 'tools' must list each tool and version with its 'questions' mapping")
    tools: dict[tuple[str, str], dict[str, str]] = {}
    for i, t in enumerate(tools_raw, 1):
        at = f"{where}: tools entry {i}"
        if not isinstance(t, dict) or set(t) != {"tool", "version", "questions"}:
            raise RegionalError(f"{at}: expected tool, version and questions")
        key = (str(t["tool"]).strip(), str(t["version"]).strip())
        if key in tools:
            raise RegionalError(f"{at}: tool '{key[0]}' version {key[1]} is listed twice")
        qs = t["questions"]
        if not isinstance(qs, dict) or not qs:
            raise RegionalError(f"{at}: 'questions' must map this tool's question ids to common ids")
        mapping = {}
        for qid, cid in qs.items():
            if str(cid) not in ids:
                raise RegionalError(f"{at}: question '{qid}' maps to '{cid}', which is not in 'common'")
            mapping[str(qid)] = str(cid)
        if len(set(mapping.values())) != len(mapping):
            raise RegionalError(f"{at}: two questions map to the same common id")
        tools[key] = mapping
    return QuestionMap(tuple(common), tools, where)


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
                change = f"{b.percent - a.percent:+.1f} points"
                (alo, ahi), (blo, bhi) = a.interval, b.interval
                if blo <= ahi and alo <= bhi:
                    verdict = "change within the noise"
                elif b.percent > a.percent:
                    verdict = "higher: the intervals do not overlap"
                else:
                    verdict = "lower: the intervals do not overlap"
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
        from .narrative import count_noun
        from .reportsections import long_date

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
        typical = cases[len(cases) // 2] if cases else 0
        return (f"Each council's figures rest on about {typical} case records, so a single different "
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


# --------------------------------------------------------------------------- rendering

OPTIONS_FILE = "options.yaml"
MAPPING_FILE = "mapping.yaml"
OUTPUT_NAME = "regional_comparison"


def prepare_inputs(bundles: Sequence[Bundle], folder: Path, *, pseudonymise: bool = False,
                   mapping: str | Path | None = None) -> Path:
    """Write the notebook's input folder: bundles under neutral names, the mapping and options.

    The notebook's only parameter is this folder, so no bundle's file name (which often names
    the council) reaches the executed notebook, even when councils are pseudonymised.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for i, b in enumerate(sorted(bundles, key=lambda b: b.digest), 1):
        (folder / f"bundle-{i:04d}.zip").write_bytes(b.raw or bundle_bytes(b))
    if mapping is not None:
        (folder / MAPPING_FILE).write_bytes(Path(mapping).read_bytes())
    options = {"pseudonymise": bool(pseudonymise), "mapping": MAPPING_FILE if mapping is not None else None}
    (folder / OPTIONS_FILE).write_text(yaml.safe_dump(options, sort_keys=True), encoding="utf-8")
    return folder


def compare_folder(folder: str | Path) -> Comparison:
    """The comparison of a folder written by ``prepare_inputs`` (what the notebook loads)."""
    folder = Path(folder)
    options_file = folder / OPTIONS_FILE
    options: dict[str, Any] = {}
    if options_file.exists():
        loaded = load_yaml(options_file.read_bytes(), str(options_file), RegionalError) or {}
        if not isinstance(loaded, dict):
            raise RegionalError(f"{options_file}: expected pseudonymise and mapping")
        options = loaded
    mapping = folder / str(options["mapping"]) if options.get("mapping") else None
    bundles = load_bundles(sorted(folder.glob("*.zip")))
    return compare(bundles, mapping=mapping, pseudonymise=bool(options.get("pseudonymise", False)))


@contextlib.contextmanager
def _os_errors(out: Path) -> Iterator[None]:
    """A write that fails while the comparison is made (a full disk): a RenderError, nothing written to ``out``."""
    try:
        yield
    except OSError as exc:
        raise RenderError(f"cannot write the comparison ({describe_failure(exc)}); nothing was written to "
                          f"{out}") from None


def render_comparison(sources: Sequence[str | Path], out_dir: str | Path, formats: Sequence[str] = ("html",), *,
                      pseudonymise: bool = False, mapping: str | Path | None = None,
                      progress: Progress | None = None, notebook: str | Path | None = None) -> dict[str, Path]:
    """Compare bundles (or workspaces) and render out_dir/regional_comparison.{html,pdf,docx}.

    Rendered like the review report: the same papermill run, template, checks and printing
    (``reviewkit.report``); nothing is written to out_dir when any step fails.
    """
    import concurrent.futures
    import datetime as dt
    import shutil

    from . import __version__
    from . import report as rp

    say = progress or (lambda _message: None)
    wanted = rp.check_formats(formats)
    nb_path = Path(notebook) if notebook is not None else NOTEBOOK
    if not nb_path.is_file():
        raise RenderError(f"{nb_path}: the regional comparison notebook is missing")
    say(f"Reading {len(sources)} bundle(s) or workspace(s)")
    bundles = load_bundles(sources, progress=say)
    say("Checking that the reviews can be compared")
    comparison = compare(bundles, mapping=mapping, pseudonymise=pseudonymise)
    chromium = rp.require_chromium() if "pdf" in wanted else ""
    from .reportsections import long_date

    context = comparison.cover(version=__version__, render_date=long_date(dt.date.today().isoformat()))
    context["footer_css"] = rp.css_text(context["footer_css"])
    out = Path(out_dir)
    result: dict[str, Path] = {}
    with rp.temporary_folder("reviewkit-compare-") as work, _os_errors(out):
        inputs = prepare_inputs(bundles, work / "inputs", pseudonymise=pseudonymise, mapping=mapping)
        say("Running the comparison notebook")
        nb = rp.clean_notebook(rp.run_notebook(nb_path, inputs, work))
        say("Converting to HTML")
        body = rp.to_html(nb, context)
        html_file = work / f"{OUTPUT_NAME}.html"
        html_file.write_text(body, encoding="utf-8")
        files = {"html": html_file}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            jobs = {}
            if "pdf" in wanted:
                say("Printing to PDF with Chromium")
                jobs["pdf"] = pool.submit(rp.to_pdf, html_file, work / f"{OUTPUT_NAME}.pdf", work, chromium)
            if "docx" in wanted:
                say("Converting to Word with pandoc")
                jobs["docx"] = pool.submit(rp.to_docx, body, work / f"{OUTPUT_NAME}.docx", work)
            for fmt, job in jobs.items():
                files[fmt] = job.result()
        try:
            make_folder(out, exist_ok=True)
        except OSError as exc:
            raise RenderError(f"{out}: cannot create the output folder ({exc.strerror or type(exc).__name__}); "
                              "choose another --out folder") from None
        for fmt in wanted:
            target = out / f"{OUTPUT_NAME}.{fmt}"
            write_atomic(target, lambda tmp, src=files[fmt]: shutil.copyfile(src, tmp))
            result[fmt] = target
    say(f"Wrote {', '.join(str(p) for p in result.values())}")
    return result
