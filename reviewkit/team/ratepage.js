// The rating page's script: send each change to the rating service, show what it answers.
// Every rule runs on the server; this only moves values and messages. Messages arrive as text
// (set with textContent) or as HTML the server built and escaped.
(function () {
  "use strict";
  var root = document.querySelector("main.rk-form");
  var cfg = JSON.parse(root.getAttribute("data-rk"));
  if (!cfg.case) { return; }
  var statusEl = document.getElementById("rk-status");
  var alertEl = document.getElementById("rk-alert");
  var reloadBtn = document.getElementById("rk-reload");
  var pending = {};
  var lastSaved = "";

  function showStatus() {
    var n = Object.keys(pending).length;
    if (n) {
      statusEl.textContent = "Not saved: " + n + " change" + (n > 1 ? "s" : "") + " — see the message" +
        (n > 1 ? "s" : "") + " in the form";
    } else {
      statusEl.textContent = lastSaved ? "Saved " + lastSaved : "Nothing changed yet";
    }
  }
  function saved(key, at) { delete pending[key]; delete pending.alert; lastSaved = at; showStatus(); }
  function notSaved(key) { pending[key] = true; showStatus(); }
  function box(kind, text, title) {
    var div = document.createElement("div");
    div.className = "rk-alert rk-alert-" + kind;
    div.setAttribute("role", kind === "error" || kind === "warn" ? "alert" : "status");
    if (title) {
      var strong = document.createElement("strong");
      strong.textContent = title;
      div.appendChild(strong);
      div.appendChild(document.createElement("br"));
    }
    div.appendChild(document.createTextNode(text));
    return div;
  }
  function say(el, kind, text, title) { el.textContent = ""; if (text) { el.appendChild(box(kind, text, title)); } }
  function clearAlert() { alertEl.textContent = ""; reloadBtn.classList.add("rk-hidden"); delete pending.alert; }
  function show(el, on) { el.classList.toggle("rk-hidden", !on); }

  function post(path, body) {
    body.case = cfg.case;
    return fetch(cfg.api + path, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-XSRFToken": cfg.xsrf},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () {
        return {kind: "error", reload: true, message: "The review hub gave no answer the form understands (" +
          r.status + "). Press Reload to see what is saved; if you were signed out, sign in again."};
      });
    }, function () {
      return {kind: "error", reload: true, message: "The review hub could not be reached: your change was not " +
        "saved. Check the connection, then press Reload."};
    });
  }

  // What the service says about the whole case after any change: progress, completion, flags.
  function caseState(c) {
    if (!c) { return; }
    document.getElementById("rk-progress").innerHTML = c.progress_html;
    document.getElementById("complete-message").innerHTML = c.complete_html;
    document.getElementById("complete").checked = c.complete;
    document.querySelector(".rk-finish").setAttribute("data-version", c.flag_version);
    if (c.unmarked) {
      say(alertEl, "warn", "This case record is no longer marked complete: see the list at the bottom of the " +
        "form for what is left to do.");
    }
  }
  // A refusal that is not about one field: the alert at the top (and Reload after a conflict).
  function refused(d, key) {
    if (d.kind === "conflict") {
      say(alertEl, "error", d.message + "\nYour last change was not saved.", "Changed elsewhere — reload");
      show(reloadBtn, true);
    } else {
      say(alertEl, "error", d.message, d.title || "Not saved");
      if (d.reload) { show(reloadBtn, true); }
    }
    notSaved(key || "alert");
  }

  // -- questions ------------------------------------------------------------------------------
  function wireQuestion(card) {
    var q = card.getAttribute("data-q");
    var note = card.querySelector("textarea");
    var msg = card.querySelector(".rk-message");
    var anyway = card.querySelector(".rk-anyway");
    function send(body, key) {
      body.question = q;
      body.version = parseInt(card.getAttribute("data-version"), 10);
      return post("rating", body).then(function (d) {
        if (d.ok) {
          card.setAttribute("data-version", d.version);
          card.querySelectorAll(".rk-levels button").forEach(function (b) {
            var on = b.getAttribute("data-label") === d.rating;
            b.setAttribute("aria-pressed", on ? "true" : "false");
            b.classList.toggle("mod-active", on);
          });
          card.querySelector(".rk-desc").innerHTML = d.descriptors_html;
          if (d.hint) { say(msg, "warn", d.hint); } else {
            msg.innerHTML = '<p class="rk-muted" role="status"></p>';
            msg.firstChild.textContent = "Saved " + d.saved_at;
          }
          show(anyway, false);
          if (!d.unmarked) { clearAlert(); }
          saved(key, d.saved_at);
          caseState(d.case_state);
        } else if (d.kind === "warn") {
          say(msg, "warn", "Not saved yet. " + d.message);
          show(anyway, true);
          notSaved(key);
        } else if (d.kind === "blocked") {
          say(msg, "error", "Not saved. " + d.message);
          show(anyway, false);
          notSaved(key);
        } else {
          say(msg, "error", (body.part === "note" ? "This note" : "This rating") +
            " was not saved: see the message at the top of the form.");
          refused(d, key);
        }
      });
    }
    card.querySelectorAll(".rk-levels button").forEach(function (b) {
      b.addEventListener("click", function () {
        if (b.getAttribute("aria-pressed") === "true") { return; }
        send({part: "rating", rating: b.getAttribute("data-label")}, "rating:" + q);
      });
    });
    note.addEventListener("change", function () { send({part: "note", comment: note.value}, "note:" + q); });
    anyway.addEventListener("click", function () {
      send({part: "note", comment: note.value, confirm: true}, "note:" + q);
    });
  }
  document.querySelectorAll("section[data-q]").forEach(wireQuestion);

  // -- referral and completion ----------------------------------------------------------------
  var finish = document.querySelector(".rk-finish");
  var referred = document.getElementById("referred");
  var reason = document.getElementById("reason");
  var refMsg = document.getElementById("referral-message");
  var reasonAnyway = document.getElementById("reason-anyway");
  var complete = document.getElementById("complete");
  function flag(body, key, msgEl, anywayBtn) {
    body.version = parseInt(finish.getAttribute("data-version"), 10);
    return post("flag", body).then(function (d) {
      if (d.ok) {
        if (msgEl) { say(msgEl, d.message_kind || "ok", d.message || ""); }
        if (anywayBtn) { show(anywayBtn, false); }
        if (d.stored) { saved(key, d.saved_at); } else { delete pending[key]; showStatus(); }
        if (!d.unmarked) { clearAlert(); }
        caseState(d.case_state);
      } else if (d.kind === "warn" || d.kind === "blocked") {
        say(msgEl, d.kind === "warn" ? "warn" : "error", (d.kind === "warn" ? "Not saved yet. " : "Not saved. ") +
          d.message);
        if (anywayBtn) { show(anywayBtn, d.kind === "warn"); }
        notSaved(key);
      } else {
        refused(d, key);
      }
      return d;
    });
  }
  referred.addEventListener("change", function () {
    show(reason.parentNode, referred.checked);
    flag({action: "referred", referred: referred.checked, reason: reason.value}, "reason", refMsg, reasonAnyway);
  });
  reason.addEventListener("change", function () {
    if (referred.checked) { flag({action: "reason", reason: reason.value}, "reason", refMsg, reasonAnyway); }
  });
  reasonAnyway.addEventListener("click", function () {
    flag({action: "reason", reason: reason.value, confirm: true}, "reason", refMsg, reasonAnyway);
  });
  complete.addEventListener("change", function () {
    var want = complete.checked;
    flag({action: "complete", complete: want}, "complete", null, null).then(function (d) {
      if (!d.ok) { complete.checked = !want; }
    });
  });

  // -- a risk to a person ---------------------------------------------------------------------
  var cMsg = document.getElementById("concern-message");
  var cAnyway = document.getElementById("concern-anyway");
  function concern(confirm) {
    post("concern", {
      what: document.getElementById("concern-what").value,
      raised_on: document.getElementById("concern-on").value,
      raised_with: document.getElementById("concern-with").value,
      confirm: confirm
    }).then(function (d) {
      if (d.ok) {
        cMsg.innerHTML = d.response_html;
        cMsg.insertBefore(box("ok", "Concern saved."), cMsg.firstChild);
        show(cAnyway, false);
        saved("concern", d.saved_at);
      } else if (d.kind === "warn" || d.kind === "blocked" || d.kind === "incomplete") {
        say(cMsg, d.kind === "blocked" ? "error" : "warn",
          (d.kind === "warn" ? "Not saved yet. " : d.kind === "blocked" ? "Not saved. " : "") + d.message);
        show(cAnyway, d.kind === "warn");
        if (d.kind !== "incomplete") { notSaved("concern"); }
      } else {
        refused(d, "concern");
      }
    });
  }
  document.getElementById("concern-save").addEventListener("click", function () { concern(false); });
  cAnyway.addEventListener("click", function () { concern(true); });
  reloadBtn.addEventListener("click", function () { window.location.reload(); });
  // Every control is wired: at the next frame the form is on screen and answers clicks. A standard
  // User Timing mark, so the time from "Sign in" to a usable form can be measured in the browser itself.
  requestAnimationFrame(function () { if (window.performance && performance.mark) { performance.mark("rk-ready"); } });
})();
