// Charts drawn as inline SVG from the server's JSON: a run's Gantt, run and task durations, the calendar of
// daily run states and landing times. A chart whose page shows something unfinished follows it through the
// page's live feed (live.js) and is drawn again when it changed.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var LABEL_W = 230, PLOT_W = 860, ROW_H = 20, AXIS_H = 26;
  var styles = getComputedStyle(document.documentElement);

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { if (attrs[k] !== undefined && attrs[k] !== null) { node.setAttribute(k, attrs[k]); } });
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function tip(node, text) { el("title", {}, node, text); return node; }
  function color(state) { return styles.getPropertyValue("--" + (state || "none")).trim() || "#9aa5b1"; }
  function when(iso) { return window.tradewind.formatWhen(iso); }
  function dur(s) { return window.tradewind.formatDuration(s); }
  function ms(iso) { return iso ? new Date(iso).getTime() : null; }
  function svgOf(width, height, label) { return el("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": label }); }
  function clock(t) { var d = new Date(t); return when(d.toISOString()).split(" ")[1]; }
  function day(iso) { return when(iso).split(" ")[0]; }
  function taskUrl(dagId, runId, taskId, mapIndex) {
    return "/dags/" + encodeURIComponent(dagId) + "/runs/" + encodeURIComponent(runId) + "/tasks/" + encodeURIComponent(taskId) + (mapIndex >= 0 ? "?map_index=" + mapIndex : "");
  }
  function runUrl(dagId, runId) { return "/dags/" + encodeURIComponent(dagId) + "?run_id=" + encodeURIComponent(runId); }

  // A value axis on the left: ticks at round numbers of seconds.
  function valueAxis(svg, max, top, height, left) {
    for (var i = 0; i <= 4; i++) {
      var y = top + height - (height * i) / 4;
      el("line", { "class": "gridline", x1: left, x2: left + PLOT_W, y1: y, y2: y }, svg);
      el("text", { x: left - 6, y: y + 4, "text-anchor": "end" }, svg, dur((max * i) / 4));
    }
  }

  function gantt(holder, data) {
    var rows = data.rows;
    if (!rows.length) { holder.textContent = "No task instances in this run."; return; }
    var times = [ms(data.run.queued_at), ms(data.run.start_date), ms(data.run.end_date)];
    rows.forEach(function (r) {
      if (r.queued) { times.push(ms(r.queued.start), ms(r.queued.end)); }
      r.tries.forEach(function (t) { times.push(ms(t.start), ms(t.end)); });
    });
    times = times.filter(function (t) { return t !== null; });
    if (!times.length) { holder.textContent = "Nothing has started yet."; return; }
    var t0 = Math.min.apply(null, times), t1 = Math.max.apply(null, times);
    var span = Math.max(1000, t1 - t0);
    function x(t) { return LABEL_W + (PLOT_W * (t - t0)) / span; }
    var svg = svgOf(LABEL_W + PLOT_W + 20, AXIS_H + rows.length * ROW_H + 10, "Gantt of run " + data.run.run_id);
    for (var i = 0; i <= 5; i++) {
      var tx = LABEL_W + (PLOT_W * i) / 5;
      el("line", { "class": "gridline", x1: tx, x2: tx, y1: AXIS_H - 6, y2: AXIS_H + rows.length * ROW_H }, svg);
      // The first tick names the clock time; the others the time since it, so short runs get distinct labels.
      var label = i === 0 ? clock(t0) : "+" + dur((span * i) / 5000);
      el("text", { x: tx, y: 14, "text-anchor": i === 5 ? "end" : "middle" }, svg, label);
    }
    rows.forEach(function (r, i) {
      var y = AXIS_H + i * ROW_H;
      var link = el("a", { href: taskUrl(data.dag_id, data.run.run_id, r.task_id, r.map_index) }, svg);
      el("text", { x: 4, y: y + 14 }, link, r.label.length > 32 ? r.label.slice(0, 31) + "…" : r.label);
      if (r.queued && ms(r.queued.end) > ms(r.queued.start)) {
        var q0 = x(ms(r.queued.start)), q1 = x(ms(r.queued.end));
        tip(el("rect", { "class": "queued-bar", x: q0, y: y + 6, width: Math.max(1, q1 - q0), height: 8, "data-task": r.task_id }, svg),
          r.label + " · queued " + when(r.queued.start) + " → " + when(r.queued.end));
      }
      r.tries.forEach(function (t) {
        if (!t.start) { return; }
        var b0 = x(ms(t.start)), b1 = x(ms(t.end));
        var bar = el("rect", { "class": "try-bar", x: b0, y: y + 3, width: Math.max(2, b1 - b0), height: ROW_H - 6, rx: 3, fill: color(t.state),
          "data-task": r.task_id, "data-map-index": r.map_index, "data-try": t.try_number, "data-state": t.state }, svg);
        tip(bar, r.label + " · try " + t.try_number + " · " + t.state + " · " + when(t.start) + " → " + (t.ongoing ? "now" : when(t.end)) + " · " + dur(t.duration));
        if (b1 - b0 > 40) { el("text", { "class": "bar-label", x: b0 + 4, y: y + 14 }, svg, "try " + t.try_number); }
      });
    });
    holder.replaceChildren(svg);
  }

  function runDurations(holder, data) {
    var runs = data.runs;
    if (!runs.length) { holder.textContent = "No runs yet."; return; }
    var max = Math.max.apply(null, runs.map(function (r) { return (r.queued_seconds || 0) + (r.run_seconds || 0); }).concat([1]));
    var top = 10, height = 200, step = PLOT_W / runs.length, w = Math.max(3, Math.min(36, step * 0.7));
    var svg = svgOf(LABEL_W + PLOT_W + 20, top + height + 60, "run durations of " + data.dag_id);
    valueAxis(svg, max, top, height, LABEL_W);
    runs.forEach(function (r, i) {
      var x0 = LABEL_W + i * step + (step - w) / 2;
      var qh = (height * (r.queued_seconds || 0)) / max, rh = (height * (r.run_seconds || 0)) / max;
      var link = el("a", { href: runUrl(data.dag_id, r.run_id) }, svg);
      if (qh > 0) { tip(el("rect", { "class": "queued-bar", x: x0, y: top + height - qh, width: w, height: qh }, link), r.run_id + " · queued " + dur(r.queued_seconds)); }
      tip(el("rect", { "class": "run-bar", x: x0, y: top + height - qh - rh, width: w, height: Math.max(1, rh), fill: color(r.state), "data-run-id": r.run_id, "data-state": r.state }, link),
        r.run_id + " · " + r.state + " · ran " + dur(r.run_seconds) + (r.ongoing ? " so far" : ""));
      if (i % Math.ceil(runs.length / 10) === 0) { el("text", { x: x0 + w / 2, y: top + height + 16, "text-anchor": "middle" }, svg, day(r.logical_date)); }
    });
    el("text", { x: 4, y: top + 12 }, svg, "grey: queued");
    holder.replaceChildren(svg);
  }

  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  function taskDurations(holder, data) {
    var runs = data.runs, names = Object.keys(data.tasks);
    if (!runs.length || !names.length) { holder.textContent = "No finished task instances yet."; return; }
    var max = 1;
    names.forEach(function (n) { data.tasks[n].forEach(function (v) { if (v !== null && v > max) { max = v; } }); });
    var top = 10, height = 220, step = runs.length > 1 ? PLOT_W / (runs.length - 1) : 0;
    var legendRows = Math.ceil(names.length / 4);
    var svg = svgOf(LABEL_W + PLOT_W + 20, top + height + 40 + legendRows * 16, "task durations of " + data.dag_id);
    valueAxis(svg, max, top, height, LABEL_W);
    names.forEach(function (name, k) {
      var stroke = PALETTE[k % PALETTE.length], points = [];
      data.tasks[name].forEach(function (v, i) {
        if (v === null) { return; }
        var px = LABEL_W + i * step, py = top + height - (height * v) / max;
        points.push(px + "," + py);
        tip(el("circle", { "class": "point", cx: px, cy: py, r: 3.5, fill: stroke, "data-task": name, "data-run-id": runs[i].run_id }, svg), name + " · " + runs[i].run_id + " · " + dur(v));
      });
      if (points.length > 1) { el("polyline", { "class": "line", points: points.join(" "), style: "stroke:" + stroke }, svg); }
      var lx = LABEL_W + (k % 4) * (PLOT_W / 4), ly = top + height + 34 + Math.floor(k / 4) * 16;
      el("rect", { x: lx, y: ly - 9, width: 10, height: 10, fill: stroke }, svg);
      el("text", { x: lx + 14, y: ly, "data-legend": name }, svg, name.length > 34 ? name.slice(0, 33) + "…" : name);
    });
    el("text", { x: LABEL_W, y: top + height + 16 }, svg, day(runs[0].logical_date));
    el("text", { x: LABEL_W + PLOT_W, y: top + height + 16, "text-anchor": "end" }, svg, day(runs[runs.length - 1].logical_date));
    holder.replaceChildren(svg);
  }

  function calendar(holder, data) {
    var CELL = 13, byDate = {};
    data.days.forEach(function (d) { byDate[d.date] = d; });
    var start = new Date(data.start + "T00:00:00Z"), end = new Date(data.end + "T00:00:00Z");
    start.setUTCDate(start.getUTCDate() - start.getUTCDay());  // weeks start on Sunday
    var weeks = Math.ceil((end - start) / (7 * 86400000)) + 1;
    var svg = svgOf(40 + weeks * CELL + 10, 20 + 7 * CELL + 30, "daily run states of " + data.dag_id);
    ["Mon", "Wed", "Fri"].forEach(function (name, i) { el("text", { x: 0, y: 20 + (2 * i + 1) * CELL + 10 }, svg, name); });
    var month = -1;
    for (var d = new Date(start), i = 0; d <= end; d.setUTCDate(d.getUTCDate() + 1), i++) {
      var week = Math.floor(i / 7), key = d.toISOString().slice(0, 10), info = byDate[key];
      if (d.getUTCMonth() !== month && d.getUTCDate() <= 7) {
        month = d.getUTCMonth();
        el("text", { "class": "month", x: 40 + week * CELL, y: 12 }, svg, key.slice(0, 7));
      }
      var cell = el("rect", { "class": "day", x: 40 + week * CELL, y: 20 + d.getUTCDay() * CELL, width: CELL, height: CELL, rx: 2,
        fill: info ? color(info.state) : "#eef1f4", "data-date": key, "data-state": info ? info.state : "" }, svg);
      tip(cell, key + (info ? ": " + Object.keys(info.states).map(function (s) { return info.states[s] + " " + s; }).join(", ") : ": no runs"));
    }
    var legend = 20 + 7 * CELL + 20, lx = 40;
    ["success", "failed", "running", "queued"].forEach(function (s) {
      el("rect", { x: lx, y: legend - 10, width: 10, height: 10, fill: color(s) }, svg);
      el("text", { x: lx + 14, y: legend }, svg, s);
      lx += 80;
    });
    holder.replaceChildren(svg);
  }

  function landingTimes(holder, data) {
    var runs = data.runs.filter(function (r) { return r.landing_seconds !== null; });
    if (!runs.length) { holder.textContent = "No finished scheduled runs yet (manual runs have no data interval to land after)."; return; }
    var max = Math.max.apply(null, runs.map(function (r) { return r.landing_seconds; }).concat([1]));
    var top = 10, height = 200, step = PLOT_W / runs.length, w = Math.max(3, Math.min(36, step * 0.7));
    var svg = svgOf(LABEL_W + PLOT_W + 20, top + height + 40, "landing times of " + data.dag_id);
    valueAxis(svg, max, top, height, LABEL_W);
    runs.forEach(function (r, i) {
      var x0 = LABEL_W + i * step + (step - w) / 2, h = (height * r.landing_seconds) / max;
      var link = el("a", { href: runUrl(data.dag_id, r.run_id) }, svg);
      tip(el("rect", { "class": "landing-bar", x: x0, y: top + height - h, width: w, height: Math.max(1, h), fill: color(r.state), "data-run-id": r.run_id }, link),
        r.run_id + " · data interval ended " + when(r.data_interval_end) + " · finished " + when(r.end_date) + " · landed " + dur(r.landing_seconds) + " later");
      if (i % Math.ceil(runs.length / 10) === 0) { el("text", { x: x0 + w / 2, y: top + height + 16, "text-anchor": "middle" }, svg, day(r.logical_date)); }
    });
    holder.replaceChildren(svg);
  }

  var DRAW = { gantt: gantt, "run-durations": runDurations, "task-durations": taskDurations, calendar: calendar, "landing-times": landingTimes };

  function load(holder) {
    window.tradewind.getJSON(holder.getAttribute("data-url")).then(function (data) {
      DRAW[holder.getAttribute("data-chart")](holder, data);
      holder.setAttribute("data-drawn", String(Number(holder.getAttribute("data-drawn") || 0) + 1));
    }).catch(function (err) { holder.textContent = "Could not load the chart: " + err.message; });
  }

  document.querySelectorAll("[data-chart]").forEach(function (holder) {
    var key = holder.getAttribute("data-live-key");
    if (key) { window.tradewind.live.watch(key, function () { load(holder); }); } else { load(holder); }
  });
})();
