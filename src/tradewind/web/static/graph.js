// Graph view: draws the server's layered layout as SVG, colours nodes by state, and follows the run live
// through the page's one live feed (live.js): durations, tries and mapped counts on the nodes.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var holder = document.getElementById("graph");
  if (!holder) { return; }
  var dagId = holder.getAttribute("data-dag-id");
  var runId = holder.getAttribute("data-run-id");
  var dataUrl = holder.getAttribute("data-data-url");
  var storeKey = "tradewind.collapsed." + dagId;
  var scale = 1;
  var current = null;
  var watching = false;

  function collapsed() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "[]"); } catch (e) { return []; }
  }
  function setCollapsed(list) { window.localStorage.setItem(storeKey, JSON.stringify(list)); }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function stateOf(data, node) {
    if (node.kind === "group") { return (data.group_states || {})[node.id] || "none"; }
    return (data.tasks || {})[node.id] || "none";
  }

  function taskUrl(taskId) {
    return "/dags/" + encodeURIComponent(dagId) + "/runs/" + encodeURIComponent(runId) + "/tasks/" + encodeURIComponent(taskId);
  }

  function toggleGroup(groupId) {
    var list = collapsed();
    var i = list.indexOf(groupId);
    if (i >= 0) { list.splice(i, 1); } else { list.push(groupId); }
    setCollapsed(list);
    load();
  }

  function draw(data) {
    current = data;
    var pad = 8;
    var width = data.width + 2 * pad, height = data.height + 2 * pad;
    var svg = el("svg", { width: width * scale, height: height * scale, viewBox: [-pad, -pad, width, height].join(" "), role: "img", "aria-label": "graph of " + dagId });
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#9aa5b1" }, marker);
    data.group_boxes.forEach(function (g) {
      var box = el("g", { "class": "group", "data-group": g.id }, svg);
      el("rect", { "class": "group-box", x: g.x, y: g.y, width: g.w, height: g.h }, box);
      var label = el("text", { "class": "group-label", x: g.x + 10, y: g.y + 17 }, box);
      label.textContent = "▾ " + g.id;
      label.addEventListener("click", function () { toggleGroup(g.id); });
    });
    var byKey = {};
    data.nodes.forEach(function (n) { byKey[n.key] = n; });
    var labelled = [];
    data.edges.forEach(function (e) {
      var s = byKey[e.source], t = byKey[e.target];
      if (!s || !t) { return; }
      var x1 = s.x + s.w, y1 = s.y + s.h / 2, x2 = t.x, y2 = t.y + t.h / 2;
      var dx = Math.max(24, (x2 - x1) / 2);
      el("path", { "class": "edge", d: "M" + x1 + "," + y1 + " C" + (x1 + dx) + "," + y1 + " " + (x2 - dx) + "," + y2 + " " + x2 + "," + y2, "marker-end": "url(#arrow)" }, svg);
      if (e.label) { labelled.push({ edge: e, x: x2 - 10, y: y2 - 5, room: Math.max(40, x2 - x1 - 20) }); }
    });
    data.nodes.forEach(function (n) {
      var state = stateOf(data, n);
      var g = el("g", { "class": "node " + n.kind + " state-" + state, "data-task-id": n.id, "data-label": n.label || n.id, "data-kind": n.kind, "data-state": state, transform: "translate(" + n.x + "," + n.y + ")" }, svg);
      var title = el("title", {}, g);
      title.textContent = (n.label && n.label !== n.id ? n.label + " (" + n.id + ")" : n.id) + " · " + n.operator + " · " + state;
      el("rect", { width: n.w, height: n.h, "class": "box" }, g);
      el("rect", { width: 6, height: n.h, "class": "bar state-" + state, fill: "currentColor" }, g);
      var label = el("text", { x: 12, y: 16 }, g);
      var name = n.label || n.id;
      label.textContent = (n.kind === "group" ? "▸ " : "") + (name.length > 24 ? name.slice(0, 23) + "…" : name);
      if (n.mapped) { el("text", { x: n.w - 6, y: 16, "class": "mapped-count", "text-anchor": "end" }, g).textContent = "[ ]"; }
      var op = el("text", { x: 12, y: 30, "class": "op" }, g);
      op.textContent = n.kind === "group" ? "group (click to expand)" : n.operator + (n.setup ? " · setup" : n.teardown ? " · teardown" : "");
      g.setAttribute("data-operator-text", op.textContent);
      g.addEventListener("click", function () {
        if (n.kind === "group") { toggleGroup(n.id); } else if (runId) { window.location = taskUrl(n.id); }
      });
    });
    // Edge labels last, so nodes never hide them; each ends just above where its edge arrives.
    labelled.forEach(function (l) {
      var text = el("text", { "class": "edge-label", x: l.x, y: l.y, "text-anchor": "end", "data-source": l.edge.source, "data-target": l.edge.target }, svg);
      var chars = Math.floor(l.room / 6.5);
      text.textContent = l.edge.label.length > chars ? l.edge.label.slice(0, chars - 1) + "…" : l.edge.label;
      var full = el("title", {}, text);
      full.textContent = l.edge.label;
    });
    holder.innerHTML = "";
    holder.appendChild(svg);
    paint(data);
  }

  function paint(data) {
    var fills = getComputedStyle(document.documentElement);
    holder.querySelectorAll("g.node").forEach(function (g) {
      var node = { id: g.getAttribute("data-task-id"), kind: g.getAttribute("data-kind") };
      var state = stateOf(data, node);
      g.setAttribute("class", "node " + node.kind + " state-" + state);
      g.setAttribute("data-state", state);
      var color = fills.getPropertyValue("--" + state).trim() || "#fff";
      g.querySelector("rect.bar").setAttribute("fill", color);
      var box = g.querySelector("rect.box");
      box.setAttribute("fill", state === "none" ? "#ffffff" : color + "33");
      var detail = (data.details || {})[node.id];
      var tip = g.getAttribute("data-label") + " · " + state;
      var op = g.querySelector("text.op");
      if (node.kind === "task" && op) {
        var extra = "";
        if (detail && detail.duration !== null && detail.duration !== undefined) { extra += " · " + window.tradewind.formatDuration(detail.duration); }
        if (detail && detail.try_number > 0) { extra += " · try " + detail.try_number; }
        op.textContent = g.getAttribute("data-operator-text") + extra;
        g.setAttribute("data-try", detail ? detail.try_number : 0);
        if (detail) { tip += extra; }
      }
      var counter = g.querySelector("text.mapped-count");
      if (counter) {
        var mapped = detail && detail.mapped;
        counter.textContent = "[" + (mapped ? mapped.total : " ") + "]";
        if (mapped) {
          tip += " · " + Object.keys(mapped.states).sort().map(function (s) { return mapped.states[s] + " " + s; }).join(", ");
        }
      }
      g.querySelector("title").textContent = tip;
    });
    var runState = document.getElementById("run-state");
    if (runState && data.run_state) {
      runState.innerHTML = "";
      var badge = document.createElement("span");
      badge.className = "state state-" + data.run_state;
      badge.textContent = data.run_state;
      runState.appendChild(badge);
    }
    holder.setAttribute("data-run-state", data.run_state || "");
  }

  function follow() {
    if (watching || !runId) { return; }
    watching = true;
    window.tradewind.live.watch(JSON.stringify(["tasks", dagId, runId]), function (status) {
      if (!current || !status) { return; }
      current.tasks = {};
      Object.keys(status.tasks).forEach(function (t) { current.tasks[t] = status.tasks[t].state; });
      current.details = status.tasks;
      current.group_states = status.group_states;
      current.run_state = status.run.state;
      current.finished = ["success", "failed"].indexOf(status.run.state) >= 0;
      paint(current);
    });
  }

  function load() {
    var url = dataUrl + "?collapsed=" + encodeURIComponent(collapsed().join(",")) + (runId ? "&run_id=" + encodeURIComponent(runId) : "");
    window.tradewind.getJSON(url).then(function (data) { draw(data); follow(); }).catch(function (err) {
      holder.textContent = "Could not load the graph: " + err.message;
    });
  }

  function zoom(factor) {
    scale = Math.min(3, Math.max(0.2, scale * factor));
    if (current) { draw(current); }
  }
  document.getElementById("graph-zoom-in").addEventListener("click", function () { zoom(1.25); });
  document.getElementById("graph-zoom-out").addEventListener("click", function () { zoom(0.8); });
  document.getElementById("graph-expand-all").addEventListener("click", function () { setCollapsed([]); load(); });
  document.getElementById("graph-collapse-all").addEventListener("click", function () {
    setCollapsed(current ? current.all_groups : []); load();
  });
  load();
})();
