// SPDX-License-Identifier: MIT
// The status page's live part: while an upgrade runs, the progress bar and the current hop
// follow /progress.json; when a job starts or ends, the page is loaded again.
"use strict";
(function () {
  const box = document.getElementById("upgrade");
  if (!box) return;
  const bar = document.getElementById("progress");
  const text = document.getElementById("progress-text");
  let active = box.dataset.active === "1";
  let running = box.dataset.running || "";
  function show(p) {
    if (bar && p.bytes_total > 0) {
      bar.max = p.bytes_total;
      bar.value = p.bytes_done;
    }
    if (text) {
      const pct = p.bytes_total > 0 ? Math.floor((100 * p.bytes_done) / p.bytes_total) : 0;
      text.textContent = p.state + ": hop " + p.hop + " of " + p.hops + ", " +
        p.bytes_done + " of " + p.bytes_total + " bytes (" + pct + " %)";
    }
    document.querySelectorAll(".plan li[data-hop]").forEach(function (li) {
      const h = Number(li.dataset.hop);
      li.classList.toggle("current", h === p.hop);
      li.classList.toggle("done", h < p.hop);
      // Versions become known as the plan goes (a bundle's from its manifest).
      if (h === p.hop && p.version) li.textContent = p.version;
      else if (h === p.hops && p.target) li.textContent = p.target;
    });
  }
  function poll() {
    fetch("/progress.json", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) return;
        if ((p.running || "") !== running || (p.active ? 1 : 0) !== (active ? 1 : 0)) {
          location.reload();
          return;
        }
        if (active) show(p);
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, active ? 300 : 1000); });
  }
  setTimeout(poll, active ? 300 : 1000);
})();
