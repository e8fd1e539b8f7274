"""How many reviewers one machine's hub serves: memory, form-ready time and save time for 1, 3, 8 and 16 at once.

    .venv/bin/python benchmarks/hub_capacity.py [--users 1,3,8] [--dir FOLDER] [--kit-python PYTHON] [--nice-browser]
                                                [--mark-only]

(--kit-python runs the hub with another installation of reviewkit, e.g. an earlier version's, to compare;
--nice-browser runs Chromium at the lowest priority, so the hub gets the cores first, as when each
reviewer's browser runs on their own computer; --mark-only times each reviewer by the rating page's
own ready mark after its load event, without Playwright polling the eight pages meanwhile.)

For each team size N a fresh ``reviewkit hub`` runs (as a person runs it, in a session of its
own) on a throwaway workspace of 16 visiting reviewers and a host, each with a login and two
cases. Then, in Debian's Chromium through Playwright:

- the floor: a static copy of the rating page (the same HTML, served by Python's plain HTTP
  server, no hub and no sign-in) loaded in the same browser, on the same machine, at the same
  time, before and after the sign-ins (median of both); and N such pages loaded at once
  (median), what Chromium alone costs N people at once;
- form-ready: N reviewers, each with the sign-in page open and filled in (login, first sign-in
  code, new password), press "Sign in" together, and each is timed from pressing it to the
  rating form's level buttons being on screen and clickable, as Playwright sees it (it polls
  the N pages through one connection) and as the page itself marks it (a User Timing mark its
  script sets at the first frame after every control is wired); the host then signs in alone and is timed to the host console.
  Also timed: to the form's page arriving from the server (what the hub alone decides), and the
  processor time the sign-ins took, split between Chromium (every page is drawn on this same
  machine, which a real reviewer's own computer does) and the hub's process tree;
- save: every reviewer then rates four questions, all at once, each timed from the click to the
  rating's row being in the store (polled every 10 ms);
- everyday sign-in: the same N, in new browser profiles, sign in together again with their password
  alone (one hash each, no new account), timed to the rating form as above;
- memory: the sum over the hub's whole process tree (hub, proxy, the rating service, the fork
  server, any person's server and kernel, the guard) of each process's PSS, which counts a page shared by k processes as 1/k,
  so the sum is what the tree really holds; also the plain sum of RSS, which counts shared
  pages once per process. Taken with nobody signed in, and with the N reviewers' forms open
  (the host not yet signed in). "per reviewer" is (with N - with 0) / N. Kernels per reviewer
  are counted from each server's tree (the rating page needs none), also after each reviewer's
  browser fetched the rating page's address once more (a plain GET).

Times on a shared machine are noisy: compare the ratio to the floor as well as the seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewkit.review.reviewyaml import Case  # noqa: E402
from reviewkit.review.workspace import create_workspace, open_workspace  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # as the tests run it
PASSWORD = "a long first-use password"
CODE = re.compile(r"^  (\S+@\S+)\s+(\w{4}-\w{4}-\w{4})\b", re.M)
FORM_READY = ".rk-form .rk-q-q1 button"
HOST_READY = ".rk-form .rk-card"
MAX_USERS = 16
QUESTIONS = ("q1", "q2", "q3", "q4")


def p95(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def make_team(root: Path) -> tuple[Path, dict[str, str]]:
    """A workspace of 16 visiting reviewers and a host; name -> login."""
    names = [f"Reviewer {i:02d}" for i in range(1, MAX_USERS + 1)]
    ws = create_workspace(root, council="Benchmark Council", theme="Capacity", reviewers=names, host="H. Host")
    ws.meta.cases = [Case(f"C{2 * i + j + 1:02d}", n) for i, n in enumerate(names) for j in range(2)]
    logins = {n: f"r{i:02d}@bench.example" for i, n in enumerate(names, 1)} | {"H. Host": "host@bench.example"}
    ws.meta.team = [replace(m, login=logins[m.name]) for m in ws.meta.team]
    ws.save_meta()
    return open_workspace(root).path, logins


def tree_memory(pid: int) -> tuple[float, float, list[psutil.Process]]:
    """(sum of PSS, sum of RSS) in MiB over the process and all its descendants, and the processes."""
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return 0.0, 0.0, []
    pss = rss = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            info = p.memory_full_info()
            pss += info.pss
            rss += info.rss
    return pss / 2**20, rss / 2**20, procs


def kernels_per_user(procs: list[psutil.Process]) -> dict[str, int]:
    """Kernels by person: a form's kernel runs in the person's forms folder (<hub folder>/u/<key>/forms)."""
    counts: dict[str, int] = {}
    for p in procs:
        with contextlib.suppress(psutil.Error):
            cwd = Path(p.cwd())
            if cwd.name == "forms" and cwd.parent.parent.name == "u":
                counts[cwd.parent.name] = counts.get(cwd.parent.name, 0) + 1
    return counts


KIT_PYTHON = [sys.executable]
MARK_ONLY = [False]  # --mark-only: time reviewers by the page's own mark, without Playwright's polling
NICE_BROWSER = [False]


def our_chromium() -> list[psutil.Process]:
    """This run's Chromium processes (Playwright's driver, our child, starts them), none of another run's."""
    found = []
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if p.exe().startswith("/usr/lib/chromium/") or "chrom" in p.name():
                found.append(p)
    return found


def renice_browser() -> None:
    """Give Chromium the lowest priority (its later processes inherit it): the hub then gets the cores
    first, as it does when each reviewer's browser runs on their own computer."""
    for p in our_chromium():
        with contextlib.suppress(psutil.Error):
            p.nice(19)


class Hub:
    def __init__(self, ws: Path, tmp: Path) -> None:
        self.env = dict(os.environ, TMPDIR=str(tmp))
        made = subprocess.run([KIT_PYTHON[0], "-m", "reviewkit", "hub-codes", str(ws)], env=self.env, text=True,
                              capture_output=True, timeout=300, check=True)
        self.codes = dict(CODE.findall(made.stdout))
        self.log = tmp.parent / f"hub-{tmp.name}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([KIT_PYTHON[0], "-m", "reviewkit", "hub", str(ws)], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            found = re.search(r"sign in at:\s+(http://127\.0\.0\.1:\d+/)", self.log.read_text())
            if found:
                self.url = found.group(1)
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"the hub stopped: {self.log.read_text()[-2000:]}")
            time.sleep(0.3)
        raise SystemExit("the hub did not start within 300 s")

    def stop(self) -> None:
        tree = psutil.Process(self.proc.pid).children(recursive=True)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=180)
        for p in psutil.wait_procs(tree, timeout=30)[1]:
            p.kill()


async def floor_time(browser, url: str, loads: int = 3) -> list[float]:  # noqa: ANN001
    """Seconds to load the floor page (a static copy of the rating page) until its level buttons are on screen."""
    times = []
    for _ in range(loads):
        ctx = await browser.new_context()
        page = await ctx.new_page()
        t0 = time.monotonic()
        await page.goto(url, timeout=300_000)
        await page.wait_for_selector(FORM_READY, timeout=300_000)
        times.append(time.monotonic() - t0)
        await ctx.close()
    return times


async def floor_together(browser, url: str, n: int) -> float:  # noqa: ANN001
    """Median seconds for n floor pages loaded at once, each in a browser profile already open (as the sign-ins'
    are): what the browser alone costs n people."""
    pages = []
    for _ in range(n):
        ctx = await browser.new_context()
        pages.append((ctx, await ctx.new_page()))

    async def one(page) -> float:  # noqa: ANN001
        t0 = time.monotonic()
        await page.goto(url, timeout=300_000)
        await page.wait_for_selector(FORM_READY, timeout=300_000)
        return time.monotonic() - t0

    took = await asyncio.gather(*(one(page) for _, page in pages))
    for ctx, _ in pages:
        await ctx.close()
    return statistics.median(took)


def cpu_seconds(pids: set[int]) -> tuple[float, float]:
    """Processor seconds used so far by this run's Chromium and by the processes in ``pids`` and theirs."""
    def used(procs: list[psutil.Process]) -> float:
        total = 0.0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return total

    return used(our_chromium()), used(hub_tree(pids))


def hub_tree(pids: set[int]) -> list[psutil.Process]:
    hub = [p for p in psutil.process_iter() if p.pid in pids]
    for p in list(hub):
        with contextlib.suppress(psutil.Error):
            hub += [c for c in p.children(recursive=True) if c.pid not in pids]
    return list({p.pid: p for p in hub}.values())


def cpu_by_part(pids: set[int]) -> dict[str, float]:
    """The hub tree's processor seconds so far by part: JupyterHub, the proxy, the rating service, the rest."""
    parts: dict[str, float] = {}
    for p in hub_tree(pids):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.cmdline())
            part = ("rating service" if "rateservice" in cmd else "proxy" if "configurable-http-proxy" in cmd
                    else "jupyterhub" if "-m jupyterhub" in cmd else "other")
            t = p.cpu_times()
            parts[part] = parts.get(part, 0.0) + t.user + t.system
    return parts


async def open_login(browser, hub: Hub, login: str, first: bool = True) -> tuple[object, object]:  # noqa: ANN001
    """A new browser profile on the sign-in page, login and password typed in (and, the first time, the first
    sign-in code)."""
    ctx = await browser.new_context(viewport={"width": 1366, "height": 768})
    ctx.set_default_timeout(600_000)
    page = await ctx.new_page()
    await page.goto(hub.url + "hub/login")
    await page.get_by_label("Username").fill(login)
    await page.get_by_label("Password").fill(PASSWORD)
    if first:
        await page.get_by_label("First sign-in code").fill(hub.codes[login])
    return ctx, page


async def press_sign_in(ctx, page, ready: str) -> tuple[object, object, float, float, float]:  # noqa: ANN001
    """Press "Sign in"; the seconds to the form being usable (as Playwright sees it, and as the page marks it),
    and to its page arriving."""
    arrived: list[float] = []
    page.on("response", lambda r: arrived.append(time.monotonic())
            if r.status == 200 and ("/voila/render/" in r.url or "/services/reviewkit-rate/" in r.url)
            and not arrived else None)
    t0, wall0 = time.monotonic(), time.time()
    await page.get_by_role("button", name="Sign in").click()
    if MARK_ONLY[0] and ready == FORM_READY:
        # No polling of the page (Playwright's checks cost the eight pages' shared cores too): wait for the
        # rating page's load event, then read the mark it set.
        await page.wait_for_url(re.compile(r"/services/reviewkit-rate/(\?.*)?$"), wait_until="load")
    else:
        await page.locator(ready).first.wait_for(state="visible")
        await page.locator(ready).first.click(trial=True)  # clickable: the page is live, not just drawn
    done = time.monotonic()
    # The page's own mark (the rating page's script sets it at the first frame after wiring every control):
    # the browser's clock, without this script's polling of eight pages through one Playwright connection.
    marked = await page.evaluate("""() => new Promise((ok) => { const read = () => {
        const m = performance.getEntriesByName("rk-ready");
        if (m.length || !document.querySelector("main.rk-form")) { ok(m.length ? performance.timeOrigin + m[0].startTime
                                                                               : null); }
        else { setTimeout(read, 50); } }; read(); })""")
    in_page = marked / 1000 - wall0 if marked else done - t0
    return ctx, page, done - t0, (arrived[0] if arrived else done) - t0, in_page


async def sign_in(browser, hub: Hub, login: str, ready: str) -> tuple[object, object, float, float, float]:  # noqa: ANN001
    """Sign in alone for the first time (see press_sign_in)."""
    return await press_sign_in(*await open_login(browser, hub, login), ready)


def rated(db: Path, reviewer: str, qid: str) -> bool:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        return con.execute("SELECT 1 FROM ratings WHERE reviewer=? AND question=? AND rating IS NOT NULL",
                           (reviewer, qid)).fetchone() is not None


async def save_times(page, db: Path, reviewer: str) -> list[float]:  # noqa: ANN001
    out = []
    for qid in QUESTIONS:
        t0 = time.monotonic()
        await page.locator(f".rk-q-{qid}").get_by_role("button", name="Good", exact=True).click()
        while not await asyncio.to_thread(rated, db, reviewer, qid):
            if time.monotonic() - t0 > 120:
                raise SystemExit(f"{reviewer}'s rating of {qid} was not saved within 120 s")
            await asyncio.sleep(0.01)
        out.append(time.monotonic() - t0)
    return out


async def one_size(browser, n: int, root: Path, floor_url: str) -> dict[str, object]:  # noqa: ANN001
    ws, logins = make_team(root / f"ws{n}")
    tmp = Path(tempfile.mkdtemp(prefix=f"rkb{n}", dir=root))  # short: kernels' socket paths
    hub = Hub(ws, tmp)
    try:
        floor = await floor_time(browser, floor_url)
        time.sleep(5)  # let the hub settle before measuring nobody
        pss0, rss0, _ = tree_memory(hub.proc.pid)
        reviewers = [f"Reviewer {i:02d}" for i in range(1, n + 1)]
        tree = {hub.proc.pid}
        # Everyone has the sign-in page open and filled in; then all press "Sign in" together.
        opened = [await open_login(browser, hub, logins[r]) for r in reviewers]
        time.sleep(1)
        cpu0, parts0 = cpu_seconds(tree), cpu_by_part(tree)
        results = await asyncio.gather(*(press_sign_in(ctx, page, FORM_READY) for ctx, page in opened))
        cpu1, parts1 = cpu_seconds(tree), cpu_by_part(tree)  # processes that ended meanwhile are not counted
        ready = [r[2] for r in results]
        page_arrived = [r[3] for r in results]
        in_page = [r[4] for r in results]
        time.sleep(3)
        pss, rss, procs = tree_memory(hub.proc.pid)
        kernels = kernels_per_user(procs)
        saves = await asyncio.gather(*(save_times(page, ws / "review.db", r)
                                       for (_, page, *_), r in zip(results, reviewers, strict=True)))
        # An everyday sign-in: the same people, in new browser profiles, with their password alone (one hash each,
        # no new account), all together again.
        again_opened = [await open_login(browser, hub, logins[r], first=False) for r in reviewers]
        time.sleep(1)
        again = await asyncio.gather(*(press_sign_in(ctx, page, FORM_READY) for ctx, page in again_opened))
        for ctx, *_ in again:
            await ctx.close()
        host_ctx, _, host_ready, *_ = await sign_in(browser, hub, logins["H. Host"], HOST_READY)
        floor += await floor_time(browser, floor_url)
        floor_n = await floor_together(browser, floor_url, n)
        # A plain GET of the rating page, as a link preview or a script would make: no kernel may follow.
        for (ctx, *_), r in zip(results, reviewers, strict=True):
            form = f"{hub.url}services/reviewkit-rate/"
            got = await ctx.request.get(form, timeout=600_000)
            assert got.ok, f"plain GET of {r}'s form: {got.status}"
        _, _, procs = tree_memory(hub.proc.pid)
        kernels_after_get = kernels_per_user(procs)
        for ctx, *_ in results:
            await ctx.close()
        await host_ctx.close()
        all_saves = [s for one in saves for s in one]
        return {
            "users": n, "floor_s": statistics.median(floor), "floor_together_s": floor_n,
            "ready_median_s": statistics.median(ready), "ready_p95_s": p95(ready),
            "again_median_s": statistics.median(r[2] for r in again), "again_p95_s": p95([r[2] for r in again]),
            "in_page_median_s": statistics.median(in_page), "in_page_p95_s": p95(in_page),
            "page_median_s": statistics.median(page_arrived), "page_p95_s": p95(page_arrived),
            "browser_cpu_per_reviewer_s": (cpu1[0] - cpu0[0]) / n, "hub_cpu_per_reviewer_s": (cpu1[1] - cpu0[1]) / n,
            "hub_cpu_by_part_s": {k: round((v - parts0.get(k, 0.0)) / n, 3) for k, v in parts1.items()},
            "host_console_s": host_ready, "save_p95_s": p95(all_saves), "save_median_s": statistics.median(all_saves),
            "pss_0_mib": pss0, "pss_mib": pss, "rss_0_mib": rss0, "rss_mib": rss,
            "pss_per_reviewer_mib": (pss - pss0) / n, "rss_per_reviewer_mib": (rss - rss0) / n,
            "max_kernels_per_user": max(kernels.values(), default=0),
            "max_kernels_per_user_after_get": max(kernels_after_get.values(), default=0), "processes": len(procs),
        }
    finally:
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def start_floor_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A static copy of a reviewer's rating page, served by Python's plain HTTP server: no hub, no sign-in."""
    from reviewkit.review.store import Store
    from reviewkit.team import ratepage
    from reviewkit.team.widgets.rating import load_case

    ws_path, _ = make_team(root / "floor-ws")
    ws = open_workspace(ws_path)
    reviewer = "Reviewer 01"
    cases = ws.meta.cases_for(reviewer)
    with Store(ws.db_path, ws.rules()) as store:
        state = load_case(store, ws.tool, cases[0].id, reviewer)
    info = ratepage.PageInfo(reviewer, "/api/", "none", "/hub/spawn?next=%2Fhub%2F")
    folder = root / "floor"
    folder.mkdir()
    (folder / "index.html").write_text(ratepage.page_html(info, ws.tool, cases, cases[0].id, state, None),
                                       encoding="utf-8")
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                             str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            __import__("urllib.request").request.urlopen(url, timeout=2)  # noqa: S310
            return proc, url
        time.sleep(0.2)
    raise SystemExit("the floor's HTTP server did not start")


async def run(sizes: list[int], root: Path) -> list[dict[str, object]]:
    from playwright.async_api import async_playwright

    floor_proc, floor_url = start_floor_server(root)
    out = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            if NICE_BROWSER[0]:
                renice_browser()
            for n in sizes:
                row = await one_size(browser, n, root, floor_url)
                print(json.dumps(row), flush=True)  # noqa: T201 - a benchmark reports on stdout
                out.append(row)
            await browser.close()
    finally:
        os.killpg(floor_proc.pid, signal.SIGTERM)
        floor_proc.wait(30)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", default="1,3,8", help="team sizes to sign in together, e.g. 1,3,8,16")
    ap.add_argument("--dir", default=None, help="where to put the throwaway workspaces")
    ap.add_argument("--kit-python", default=sys.executable, help="the Python whose reviewkit runs the hub")
    ap.add_argument("--nice-browser", action="store_true",
                    help="run Chromium at the lowest priority, so the hub's own times are measured as on a machine "
                         "the browsers do not share")
    ap.add_argument("--mark-only", action="store_true",
                    help="time each reviewer by the rating page's own ready mark after its load event, without "
                         "Playwright polling the pages meanwhile (the form-ready column then equals that mark)")
    args = ap.parse_args()
    MARK_ONLY[0] = args.mark_only
    KIT_PYTHON[0] = args.kit_python
    NICE_BROWSER[0] = args.nice_browser
    sizes = [int(x) for x in args.users.split(",")]
    if max(sizes) > MAX_USERS:
        raise SystemExit(f"at most {MAX_USERS} reviewers")
    with tempfile.TemporaryDirectory(prefix="rkcap", dir=args.dir) as tmp:
        rows = asyncio.run(run(sizes, Path(tmp)))
    if rows:  # nobody signed in: the hub, its proxy and the fork server
        print(f"\n0 users: PSS {statistics.median(r['pss_0_mib'] for r in rows):.0f} MiB, "  # noqa: T201
              f"RSS {statistics.median(r['rss_0_mib'] for r in rows):.0f} MiB (median over the runs)")
    print("\nusers  floor (N at once)  ready median  p95  (x floor)  marked by the page median/p95  page arrived "
          "median/p95  CPU s per reviewer "  # noqa: T201
          "(Chromium / hub)  everyday sign-in median/p95  host  save p95  PSS 0  PSS N  per reviewer (PSS / RSS)  "
          "kernels/user (after a plain GET)")
    for r in rows:
        print(f"{r['users']:>5}  {r['floor_s']:.2f}s ({r['floor_together_s']:.1f}s)  {r['ready_median_s']:.1f}s  {r['ready_p95_s']:.1f}s  "  # noqa: T201
              f"(x{r['ready_median_s'] / r['floor_s']:.0f} / x{r['ready_p95_s'] / r['floor_s']:.0f})  "
              f"({r['in_page_median_s']:.1f}s / {r['in_page_p95_s']:.1f}s)  "
              f"({r['page_median_s']:.1f}s / {r['page_p95_s']:.1f}s)  "
              f"({r['browser_cpu_per_reviewer_s']:.1f} / {r['hub_cpu_per_reviewer_s']:.1f})  "
              f"({r['again_median_s']:.1f}s / {r['again_p95_s']:.1f}s)  "
              f"{r['host_console_s']:.1f}s  {r['save_p95_s'] * 1000:.0f}ms  {r['pss_0_mib']:.0f}  {r['pss_mib']:.0f}  "
              f"{r['pss_per_reviewer_mib']:.0f} / {r['rss_per_reviewer_mib']:.0f} MiB  {r['max_kernels_per_user']} "
              f"({r['max_kernels_per_user_after_get']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
