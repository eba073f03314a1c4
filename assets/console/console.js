// scimhub console: live progress of a running run, without reloading the page.
// An element with data-progress-url is polled (same origin, JSON) until the
// run is no longer running; then the page is fetched once more for the report.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  // The whole plan when it is known, else the phase.
  function show(p) {
    var max = p.planned > 0 ? p.planned : p.total;
    var value = p.planned > 0 ? p.completed : p.done;
    if (max > 0) { bar.max = max; bar.value = value; } else { bar.removeAttribute("value"); }
    text.textContent = p.text;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (p) {
        show(p);
        if (p.status === "running") { window.setTimeout(poll, 500); } else { window.location.reload(); }
      })
      .catch(function () { text.textContent = "Progress is unavailable; reload the page to see the run."; });
  }
  window.setTimeout(poll, 300);
})();

// The mapping editor's live preview: as the mapping or the chosen user
// changes, the form is posted (with its CSRF token) and the mapped result
// shown. Without the script, the "Preview the mapping" button does the same.
(function () {
  "use strict";
  var live = document.getElementById("live-preview");
  var form = document.getElementById("target-form");
  if (!live || !form) { return; }
  var url = live.getAttribute("data-preview-url");
  var box = document.getElementById("preview-box");
  var result = document.getElementById("preview-result");
  var error = document.getElementById("preview-error");
  var timer = null;
  var asked = 0;
  function loading(on) {
    live.setAttribute("aria-busy", on ? "true" : "false");
    live.classList.toggle("loading", on);
  }
  function show(answer) {
    if (answer.preview !== undefined) {
      result.textContent = answer.preview;
      box.hidden = false;
      error.hidden = true;
    } else {
      error.textContent = answer.error;
      error.hidden = false;
      box.hidden = true;
    }
  }
  function preview() {
    var user = form.elements.namedItem("preview_user").value.trim();
    if (user === "") { return; }
    var body = new URLSearchParams();
    body.set("csrf", form.elements.namedItem("csrf").value);
    body.set("mapping", form.elements.namedItem("mapping").value);
    body.set("preview_user", user);
    var mine = ++asked;
    loading(true);
    fetch(url, { method: "POST", credentials: "same-origin", body: body,
                 headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (answer) { if (mine === asked) { show(answer); } })
      .catch(function () { if (mine === asked) { show({ error: "The preview could not be fetched; the button below still works." }); } })
      .then(function () { if (mine === asked) { loading(false); } });
  }
  function soon() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(preview, 400);
  }
  ["mapping", "preview_user"].forEach(function (name) {
    form.elements.namedItem(name).addEventListener("input", soon);
  });
})();

// Every form shows that it is under way once sent (a run, a connection
// test or a search may take a while) and is not sent twice.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
      form.setAttribute("aria-busy", "true");
      form.classList.add("loading");
    });
  });
  // Back from the history cache: the form is idle again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[aria-busy]"), function (form) {
      form.removeAttribute("aria-busy");
      form.classList.remove("loading");
    });
  });
})();
