// The host console's script: send each action to the service, show what it answers.
// Every rule runs on the server; answers arrive as HTML the server built and escaped.
(function () {
  "use strict";
  var root = document.querySelector("main.rk-form");
  var cfg = JSON.parse(root.getAttribute("data-rk"));
  var statusEl = document.getElementById("rk-status");
  var busy = false;

  function failed(status) {
    return {kind: "error", html: "", text: status ? "The review hub gave no answer the page understands (" + status +
      "). Reload the page; if you were signed out, sign in again." : "The review hub could not be reached. Check " +
      "the connection, then reload the page."};
  }
  function send(path, body, isForm) {
    var headers = {"X-XSRFToken": cfg.xsrf};
    if (!isForm) { headers["Content-Type"] = "application/json"; }
    return fetch(cfg.api + path, {method: body === null ? "GET" : "POST", credentials: "same-origin",
      headers: headers, body: body === null ? undefined : (isForm ? body : JSON.stringify(body))})
      .then(function (r) { return r.json().catch(function () { return failed(r.status); }); },
            function () { return failed(0); });
  }
  function show(where, d) {
    var el = document.getElementById(where + "-message");
    el.innerHTML = d.html || "";
    if (d.text) {
      var div = document.createElement("div");
      div.className = "rk-alert rk-alert-error";
      div.setAttribute("role", "alert");
      div.textContent = d.text;
      el.appendChild(div);
    }
    if (d.sections) {
      Object.keys(d.sections).forEach(function (id) { document.getElementById(id).innerHTML = d.sections[id]; });
      wireClaims();
    }
    statusEl.textContent = d.kind === "ok" ? "Done " + new Date().toTimeString().slice(0, 5) : "Not done: see the message";
  }
  function buttons(on) {
    busy = !on;
    document.querySelectorAll("main button").forEach(function (b) { b.disabled = !on; });
  }
  function act(where, path, body, isForm, then) {
    if (busy) { return; }
    buttons(false);
    statusEl.textContent = "Working…";
    send(path, body, isForm).then(function (d) { buttons(true); show(where, d); if (then) { then(d); } });
  }

  // -- import, refresh, claims ----------------------------------------------------------------
  var files = document.getElementById("files");
  files.addEventListener("change", function () { document.getElementById("import-message").textContent = ""; });
  document.getElementById("import").addEventListener("click", function () {
    if (!files.files.length) {
      show("import", {kind: "warn", text: "Choose one or more files first."});
      return;
    }
    var form = new FormData();
    Array.prototype.forEach.call(files.files, function (f) { form.append("files", f, f.name); });
    act("import", "import", form, true, function (d) { if (d.kind === "ok") { files.value = ""; } });
  });
  document.getElementById("refresh").addEventListener("click", function () { act("progress", "refresh", {}); });
  function wireClaims() {
    var button = document.getElementById("claim-confirm");
    if (!button) { return; }
    button.addEventListener("click", function () {
      act("claim", "claim", {claim: document.getElementById("claim").value,
                             reason: document.getElementById("claim-reason").value});
    });
  }
  wireClaims();

  // -- jobs: renders, the bundle, the action plan ---------------------------------------------
  var steps = document.getElementById("report-steps");
  function where(job) { return job === "bundle" || job === "plan" ? job : "report"; }
  function poll(job, ident) {
    send("job/" + ident, null).then(function (d) {
      steps.textContent = "";
      if (d.steps && d.steps.length) {
        var ul = document.createElement("ul");
        d.steps.forEach(function (s) { var li = document.createElement("li"); li.textContent = s; ul.appendChild(li); });
        steps.appendChild(ul);
      }
      if (d.done) {
        buttons(true);
        show(where(job), d.result);
      } else if (d.kind) {
        buttons(true);
        show(where(job), d);
      } else {
        setTimeout(function () { poll(job, ident); }, 1000);
      }
    });
  }
  document.querySelectorAll("button.rk-job").forEach(function (b) {
    b.addEventListener("click", function () {
      if (busy) { return; }
      var job = b.getAttribute("data-job");
      var formats = Array.prototype.map.call(document.querySelectorAll("input[name=format]:checked"),
                                             function (c) { return c.value; });
      document.getElementById(where(job) + "-message").textContent = "";
      steps.textContent = "";
      buttons(false);
      statusEl.textContent = "Working…";
      send("job", {job: job, formats: formats}).then(function (d) {
        if (d.job) { poll(job, d.job); } else { buttons(true); show(where(job), d); }
      });
    });
  });
  if (window.performance && performance.mark) {
    requestAnimationFrame(function () { performance.mark("rk-ready"); });
  }
}());
