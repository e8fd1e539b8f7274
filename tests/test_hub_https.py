"""The review hub as IT deploys it: the files `--write-config` writes, run behind Debian's nginx over HTTPS.

`reviewkit hub --write-config` writes the hub's configuration and the nginx site; the hub runs
from that configuration as its systemd unit runs it (`python -m jupyterhub -f …`), and nginx
runs as this test's own process with a temporary prefix, serving the written site with a
self-signed certificate on 127.0.0.1 and a free port. A visiting reviewer signs in over HTTPS
in Chromium and rates on the form (its widgets talk to the kernel over a websocket through
nginx). Then, as that reviewer: every API but the forms' own is refused, and a crafted widget
message that makes the kernel fail reaches the browser as one plain line, without a traceback
or a path on the server.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

from reviewkit.review.workspace import open_workspace
from reviewkit.team.codes import make_codes
from reviewkit.team.serve import free_port

from .helpers import LOGINS, make_workspace, wait_for, with_logins
from .test_browser_forms import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.enable_socket, pytest.mark.timeout(900)]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
A = "A. Visitor"
PASSWORD = "a long first-use password"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, valid for a day, made with Debian's openssl."""
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key_file), "-out", str(cert_file), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    key_file.chmod(0o600)
    return cert_file, key_file


class Deployed:
    def __init__(self, url: str, ws: Path, code: str, hub: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.ws, self.code, self.hub, self.log = url, ws, code, hub, log

    def user_url(self, path: str = "") -> str:
        return f"{self.url}user/{quote(LOGINS[A], safe='@')}/{path}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        tree = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        for p in psutil.wait_procs(tree, timeout=30)[1]:
            p.kill()


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    if not Path(NGINX).exists():
        pytest.fail("Debian's nginx is missing: install it with 'apt-get install -y nginx-light' (scripts/setup.sh)")
    from reviewkit.cli import main

    root = tmp_path_factory.mktemp("https")
    ws = with_logins(make_workspace(root / "ws"))
    code = make_codes(ws, LOGINS[A])[0][LOGINS[A]]
    # Short paths, as /srv/review-hub is: kernels' socket files must have paths under ~100 characters.
    srv = Path(tempfile.mkdtemp(prefix="rkx"))
    cert, key = _self_signed(root)
    https, hub_port = free_port(), free_port()
    assert main(["hub", str(ws.path), "--write-config", str(srv), "--public-url", f"https://127.0.0.1:{https}",
                 "--port", str(hub_port), "--hub-port", str(free_port()), "--proxy-api-port", str(free_port()),
                 "--tls-cert", str(cert), "--tls-key", str(key)]) == 0
    prefix = root / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    temp_paths = "".join(f"    {kind}_temp_path {prefix / kind};\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"worker_processes 1;\ndaemon off;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n    access_log {prefix / 'access.log'};\n{temp_paths}"
        f"    include {srv / 'reviewkit-hub.nginx.conf'};\n}}\n", encoding="utf-8")
    checked = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr  # the written site passes nginx's own check
    log = root / "hub.log"
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTERHUB_USER", "REVIEWKIT_REVIEWER")}
    with log.open("w") as out:  # as the systemd unit runs it: the written config, from its folder
        hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(srv / "jupyterhub_config.py")],
                               cwd=srv, env=dict(env, TMPDIR=str(srv)), stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        import urllib.request

        def answers() -> bool:
            assert hub.poll() is None, log.read_text()[-3000:]
            assert nginx.poll() is None, (prefix / "error.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{hub_port}/hub/health", timeout=2):  # noqa: S310
                    return True
            except OSError:
                return False

        wait_for(answers, "the hub to answer", timeout=240)
        yield Deployed(f"https://127.0.0.1:{https}/", ws.path, code, hub, log)
    finally:
        _stop(nginx)
        _stop(hub)
        shutil.rmtree(srv, ignore_errors=True)


@pytest.fixture(scope="module")
def signed_in(browser, deployed: Deployed):  # noqa: ANN001, ANN201, F811
    """Reviewer A signed in over HTTPS, on the rating form; the websocket frames the page receives."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1366, "height": 768}, locale="en-GB")
    context.set_default_timeout(120_000)
    page = context.new_page()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    t0 = time.monotonic()
    page.goto(deployed.url + "hub/login")
    assert page.url.startswith("https://127.0.0.1:")
    page.get_by_label("Username").fill(LOGINS[A])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("First sign-in code").fill(deployed.code)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".rk-form .rk-q-q1 button", timeout=300_000)
    print(f"\nsigned in over HTTPS through nginx to a ready rating page in {time.monotonic() - t0:.1f} s")
    assert "/services/reviewkit-rate/" in page.url
    # The widget forms run on the person's own server, over a websocket through nginx: open one of them too.
    forms = context.new_page()
    forms.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    forms.goto(deployed.user_url("voila/render/rate_case_records.ipynb"))
    forms.wait_for_selector(".rk-form .rk-q-q1 button", timeout=300_000)
    yield context, page, forms, frames
    context.close()


def test_a_reviewer_signs_in_over_https_behind_nginx_and_rates(deployed: Deployed, signed_in) -> None:  # noqa: ANN001
    _, page, forms, _ = signed_in
    assert "Rating as A. Visitor" in page.content()
    page.locator(".rk-q-q1").get_by_role("button", name="Good", exact=True).click()
    page.wait_for_selector(".rk-q-q1 button.mod-active")
    forms.locator(".rk-q-q3").get_by_role("button", name="Good", exact=True).click()  # the widget form's websocket
    forms.wait_for_selector(".rk-q-q3 button.mod-active")

    def stored() -> bool:
        with open_workspace(deployed.ws).store() as store:
            return len(store.all_ratings()) == 2

    wait_for(stored, "both ratings to reach the store through nginx (a POST, and a websocket)", timeout=60)
    with open_workspace(deployed.ws).store() as store:
        rows = store.all_ratings()
    assert sorted(zip(rows["case_id"], rows["reviewer"], rows["question"], rows["rating"])) == [
        ("C01", A, "q1", "Good"), ("C01", A, "q3", "Good")]


def test_a_visitor_reaches_the_forms_only(deployed: Deployed, signed_in) -> None:  # noqa: ANN001
    context, _, page, _ = signed_in
    api = context.request
    xsrf = next((c["value"] for c in context.cookies() if c["name"] == "_xsrf"), "")
    headers = {"X-XSRFToken": xsrf, "Content-Type": "application/json"}
    refused = {}
    for method, path, body in (
            ("PATCH", "api/config/notebook", {"load_extensions": {"evil": True}}),
            ("GET", "api/config/notebook", None),
            ("GET", "api/contents", None),
            ("GET", "api/contents/rate_case_records.ipynb", None),
            ("GET", "files/rate_case_records.ipynb", None),
            ("GET", "api/kernelspecs", None),
            ("GET", "kernelspecs/python3/kernel.json", None),
            ("GET", "api/sessions", None),
            ("GET", "api/kernels", None),
            ("POST", "api/kernels", {}),
            ("GET", "api/terminals", None),
            ("GET", "api/nbconvert", None),
            ("GET", "nbconvert/html/rate_case_records.ipynb", None),
            ("POST", "api/shutdown", {}),
            ("GET", "voila/tree", None),
            ("GET", "voila/api/contents", None),
            ("GET", "voila/files/rate_case_records.ipynb", None),
            ("GET", "tree", None),
            ("GET", "lab", None)):
        r = api.fetch(deployed.user_url(path), method=method, headers=headers, max_redirects=0,
                      data=json.dumps(body) if body is not None else None)
        refused[f"{method} {path}"] = r.status
    assert {k: v for k, v in refused.items() if v not in (403, 404)} == {}
    # The form still works after all that.
    page.locator(".rk-q-q2").get_by_role("button", name="Good", exact=True).click()
    page.wait_for_selector(".rk-q-q2 button.mod-active")


def test_a_crafted_widget_message_gets_one_plain_line_and_no_traceback(deployed: Deployed, signed_in) -> None:  # noqa: ANN001
    _, _, page, frames = signed_in
    # What a person could type into the browser's console: their own websocket to the form's kernel, and
    # widget updates the form never sends.
    result = page.evaluate("""async () => {
      const config = JSON.parse(document.getElementById("jupyter-config-data").textContent);
      const url = location.origin.replace("https", "wss") + config.baseUrl + "api/kernels/" + config.kernelId
                  + "/channels?session_id=crafted";
      const ws = new WebSocket(url);
      const got = [];
      ws.onmessage = (e) => got.push(typeof e.data === "string" ? e.data : "[binary]");
      await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
      const msg = (type, content) => JSON.stringify({channel: "shell", header: {msg_id: crypto.randomUUID(),
        msg_type: type, username: "", session: "crafted", date: new Date().toISOString(), version: "5.3"},
        parent_header: {}, metadata: {}, content: content, buffers: []});
      ws.send(msg("comm_info_request", {}));
      let comms = null;
      for (let i = 0; i < 100 && comms === null; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
        for (const m of got) { try { const j = JSON.parse(m); if (j.msg_type === "comm_info_reply") {
          comms = j.content.comms; } } catch (e) {} }
      }
      for (const id of Object.keys(comms || {})) {
        ws.send(msg("comm_msg", {comm_id: id, data: {method: "update", state: {_dom_classes: 5, value: {x: 1},
          index: "not a number", options: 7}, buffer_paths: []}}));
      }
      ws.send(msg("execute_request", {code: "import os; print(os.getcwd())", silent: false}));
      const failed = () => got.some((m) => /"msg_type": ?"(stream|error)"/.test(m));
      for (let i = 0; i < 600 && !failed(); i++) { await new Promise((ok) => setTimeout(ok, 100)); }
      await new Promise((ok) => setTimeout(ok, 2000));  // the rest of the kernel's answers
      ws.close();
      return {comms: Object.keys(comms || {}).length, got: got};
    }""")
    assert result["comms"] > 3  # the form's widgets: the crafted updates reached real ones
    received = "\n".join(result["got"] + frames)
    assert "Traceback" not in received and "site-packages" not in received and str(deployed.ws) not in received
    assert "/" + "usr/" not in received and "TraitError" not in received
    shown = []  # what the page would show of each failure
    for m in result["got"]:
        try:
            j = json.loads(m)
        except ValueError:
            continue
        if j.get("msg_type") == "stream":
            shown.append(j["content"]["text"])
        elif j.get("msg_type") == "error":
            shown.append("\n".join(j["content"]["traceback"]) + "\n" + j["content"]["evalue"])
    assert shown, "the failure was not reported to the page at all"
    for text in shown:
        assert len(set(text.strip().splitlines())) == 1, text  # one plain line
        assert "Reload the page" in text and not re.search(r"/(home|srv|tmp|opt|work|usr)/", text), text


def test_the_forms_scripts_are_compressed_and_no_page_with_tokens_is(deployed: Deployed, signed_in) -> None:  # noqa: ANN001
    context, _, _, _ = signed_in
    api = context.request
    gz = {"Accept-Encoding": "gzip"}
    script = api.get(deployed.user_url("voila/static/voila.js"), headers=gz)
    assert script.ok and script.headers.get("content-encoding") == "gzip", script.headers
    body = script.body()  # as the browser has it, decompressed
    login = api.get(deployed.url + "hub/login", headers=gz)
    assert login.ok and "content-encoding" not in login.headers, login.headers
    rating_page = api.get(deployed.url + "services/reviewkit-rate/", headers=gz)  # it carries the page's token
    assert rating_page.ok and "content-encoding" not in rating_page.headers, rating_page.headers
    assert "gzip" not in api.get(deployed.user_url("voila/render/rate_case_records.ipynb"), headers=gz,
                                 max_redirects=0).headers.get("content-encoding", "")
    print(f"\nvoila.js: {len(body)} bytes, about {len(gzip.compress(body, 5))} on the network")
