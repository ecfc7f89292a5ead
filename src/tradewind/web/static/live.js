// Live state: the one way every page follows what it shows. Elements name what they show with
// data-live='["run","dag","run_id"]' (see tradewind.api.ui.live_state) and data-live-field; scripts add keys
// with tradewind.live.watch(key, fn). The page asks /ui/live with If-None-Match every 1.5 s (304 while
// nothing changed) and stops as soon as the server says nothing shown is queued or running.
(function () {
  "use strict";
  var INTERVAL_MS = 1500;
  var RETRY_MS = 5000;
  var handlers = {};
  var etag = null;
  var asked = "";
  var timer = null;
  var stopped = false;

  function setStatus(status) { document.documentElement.setAttribute("data-live-status", status); }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // Times in the viewer's zone through app.js's one formatter; UTC if that is missing.
  function formatWhen(iso) {
    if (!iso) { return ""; }
    if (window.tradewind && window.tradewind.formatTime) { return window.tradewind.formatTime(iso); }
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return iso; }
    return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) + " " +
      pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":" + pad(date.getUTCSeconds()) + " UTC";
  }
  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    if (seconds < 60) { return seconds.toFixed(1) + "s"; }
    var s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? h + "h " + pad(m) + "m " + pad(r) + "s" : m + "m " + pad(r) + "s";
  }
  // A chip linking to one try, as the task page draws them; "No try yet." goes once there is one.
  function addTryChip(holder, t) {
    var mapIndex = new URLSearchParams(window.location.search).get("map_index") || "-1";
    var chip = document.createElement("a");
    chip.className = "try";
    chip.href = "?map_index=" + encodeURIComponent(mapIndex) + "&try_number=" + t.try_number;
    chip.setAttribute("data-testid", "try-link");
    chip.setAttribute("data-try-number", String(t.try_number));
    chip.append(String(t.try_number) + " ", badge(t.state));
    var none = holder.querySelector(":scope > .muted");
    if (none) { none.remove(); }
    holder.insertBefore(chip, holder.querySelector(":scope > .new-try"));
  }
  // A row of the "Every try" table for a try that started after the page was drawn (its fields are filled
  // with the others'); the table, hidden while it had no row, is shown.
  function addTryRow(table, t) {
    var row = document.createElement("tr");
    row.setAttribute("data-try", String(t.try_number));
    row.setAttribute("data-try-number", String(t.try_number));
    var number = document.createElement("td");
    number.textContent = String(t.try_number);
    row.append(number);
    [["state", ""], ["start_date", "small"], ["end_date", "small"], ["duration", ""], ["state_reason", "small"]].forEach(function (f) {
      var cell = document.createElement("td");
      cell.setAttribute("data-try-field", f[0]);
      if (f[1]) { cell.className = f[1]; }
      if (f[0] === "state") { cell.append(badge(t.state)); }
      row.append(cell);
    });
    var ranOn = document.createElement("td");
    ranOn.className = "small mono";
    row.append(ranOn);
    (table.tBodies[0] || table).append(row);
    var holder = table.closest(".every-try");
    if (holder) { holder.hidden = false; }
  }
  function badge(state) {
    var span = document.createElement("span");
    span.className = "state state-" + (state || "none");
    span.textContent = state || "none";
    return span;
  }
  function dot(dagId, run) {
    var a = document.createElement("a");
    a.className = "dot state-" + run.state;
    a.href = "/dags/" + encodeURIComponent(dagId) + "?run_id=" + encodeURIComponent(run.run_id);
    a.title = run.run_id + ": " + run.state;
    a.setAttribute("data-run-id", run.run_id);
    return a;
  }

  // How an element shows its part of a key's value, by data-live-field.
  var FIELDS = {
    state: function (el, v) { el.replaceChildren(badge(v.state)); el.setAttribute("data-state", v.state || "none"); },
    start_date: function (el, v) { el.textContent = formatWhen(v.start_date); },
    end_date: function (el, v) { el.textContent = formatWhen(v.end_date); },
    duration: function (el, v) { el.textContent = formatDuration(v.duration); },
    try_number: function (el, v) { el.textContent = v.try_number; },
    "new-try": function (el, v) {
      if (v.try_number > Number(el.getAttribute("data-try"))) {
        el.hidden = false;
        el.href = "?map_index=" + encodeURIComponent(new URLSearchParams(window.location.search).get("map_index") || "-1") + "&try_number=" + v.try_number;
        el.textContent = "try " + v.try_number + " started: show it";
      }
    },
    // Every try shown (chips and table rows marked data-try-number): its state, times and reason.
    tries: function (el, v) {
      v.tries.forEach(function (t) {
        if (!el.querySelector('[data-try-number="' + t.try_number + '"]')) {  // a try started after the page was drawn
          if (el.classList.contains("tries")) { addTryChip(el, t); }
          else if (el.classList.contains("tries-table")) { addTryRow(el, t); }
        }
        el.querySelectorAll('[data-try-number="' + t.try_number + '"]').forEach(function (holder) {
          var badgeAt = holder.querySelector('[data-try-field="state"]') || holder;
          var old = badgeAt.querySelector(".state");
          if (old) { old.replaceWith(badge(t.state)); }
          holder.setAttribute("data-state", t.state);
          holder.querySelectorAll("[data-try-field]").forEach(function (cell) {
            var field = cell.getAttribute("data-try-field");
            if (field === "start_date" || field === "end_date") { cell.textContent = formatWhen(t[field]); }
            else if (field === "duration") { cell.textContent = formatDuration(t.duration); }
            else if (field === "state_reason") { cell.textContent = t.state_reason || ""; }
          });
        });
      });
    },
    flash: function (el, v) {
      var stay = (el.getAttribute("data-live-while") || "").split(",");
      if (stay.indexOf(v.state) < 0) { el.remove(); }
    },
    dots: function (el, v) {
      var dagId = JSON.parse(el.getAttribute("data-live"))[1];
      el.replaceChildren.apply(el, v.runs.map(function (r) { return dot(dagId, r); }));
    },
    "last-run": function (el, v) {
      if (!v.last_run) { return; }
      var dagId = JSON.parse(el.getAttribute("data-live"))[1];
      var link = dot(dagId, v.last_run);
      link.className = "";
      link.title = v.last_run.run_id;
      link.replaceChildren(badge(v.last_run.state), document.createTextNode(" " + formatWhen(v.last_run.logical_date)));
      el.replaceChildren(link);
    },
    "run-options": function (el, v) {
      var byId = {};
      v.runs.forEach(function (r) { byId[r.run_id] = r; });
      Array.prototype.forEach.call(el.options, function (opt) {
        var run = byId[opt.value];
        if (run) { opt.textContent = run.run_id + " (" + run.state + ")"; opt.setAttribute("data-state", run.state); }
      });
    }
  };

  function elements() { return document.querySelectorAll("[data-live]"); }
  function keys() {
    var seen = {};
    elements().forEach(function (el) { seen[el.getAttribute("data-live")] = true; });
    Object.keys(handlers).forEach(function (k) { seen[k] = true; });
    return Object.keys(seen).sort();
  }

  function apply(items) {
    elements().forEach(function (el) {
      var value = items[el.getAttribute("data-live")];
      var show = FIELDS[el.getAttribute("data-live-field")];
      if (value && show) { show(el, value); }
    });
    Object.keys(handlers).forEach(function (k) {
      if (k in items) { handlers[k].forEach(function (fn) { fn(items[k]); }); }
    });
  }

  function schedule(delay) {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(poll, delay);
  }

  function poll() {
    timer = null;
    var wanted = keys();
    if (!wanted.length) { setStatus("idle"); return; }
    if (document.hidden) { setStatus("paused"); return; }  // resumed by visibilitychange
    var query = wanted.map(function (k) { return "key=" + encodeURIComponent(k); }).join("&");
    if (query !== asked) { etag = null; asked = query; }
    var headers = { Accept: "application/json" };
    if (etag) { headers["If-None-Match"] = etag; }
    setStatus("following");
    fetch("/ui/live?" + query, { headers: headers, credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.status === 401) { window.location = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search); return; }
      if (r.status === 304) { schedule(INTERVAL_MS); return; }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      etag = r.headers.get("ETag");
      return r.json().then(function (body) {
        apply(body.items);
        if (body.active) { schedule(INTERVAL_MS); } else { stopped = true; setStatus("idle"); }
      });
    }).catch(function () { schedule(RETRY_MS); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !stopped && !timer) { schedule(0); }
  });

  window.tradewind = window.tradewind || {};
  window.tradewind.formatWhen = window.tradewind.formatWhen || formatWhen;
  window.tradewind.formatDuration = formatDuration;
  window.tradewind.live = {
    // Call fn(value) whenever the key's value changes; starts following again if the page had stopped.
    watch: function (key, fn) {
      (handlers[key] = handlers[key] || []).push(fn);
      stopped = false;
      schedule(0);
    },
    // Ask again now (after the page changed what it shows, or a user action).
    refresh: function () { stopped = false; schedule(0); }
  };
  document.addEventListener("DOMContentLoaded", function () { schedule(0); });
  if (document.readyState !== "loading") { schedule(0); }
})();
