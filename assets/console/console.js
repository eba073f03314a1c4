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
  function show(p) {
    if (p.total > 0) { bar.max = p.total; bar.value = p.done; } else { bar.removeAttribute("value"); }
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
