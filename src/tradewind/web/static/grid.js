// Grid view: follows the latest runs through the page's live feed (live.js) and fetches the table again
// when a state changed; hover or focus shows a cell's details; arrow keys move the selection, Enter opens.
(function () {
  "use strict";
  var selected = { row: 0, col: -1 };

  function grid() { return document.getElementById("grid"); }
  function cellAt(row, col) { return grid().querySelector('.cell[data-row="' + row + '"][data-col="' + col + '"]'); }

  function describe(cell) {
    var lines = [];
    var task = cell.getAttribute("data-task");
    lines.push(task === "run" ? "Run " + cell.getAttribute("data-run") : task + " · " + cell.getAttribute("data-run"));
    lines.push("state: " + (cell.getAttribute("data-state") || "none"));
    var tryNumber = cell.getAttribute("data-try");
    if (tryNumber && tryNumber !== "0") { lines.push("try: " + tryNumber); }
    if (cell.getAttribute("data-mapped")) { lines.push("mapped: " + cell.getAttribute("data-mapped")); }
    if (cell.getAttribute("data-start")) { lines.push("started: " + window.tradewind.formatWhen(cell.getAttribute("data-start"))); }
    if (cell.getAttribute("data-end")) { lines.push("ended: " + window.tradewind.formatWhen(cell.getAttribute("data-end"))); }
    var seconds = cell.getAttribute("data-seconds");
    if (seconds) { lines.push("duration: " + window.tradewind.formatDuration(Number(seconds))); }
    return lines;
  }

  function showDetails(cell) {
    var panel = document.getElementById("grid-hover");
    if (!panel || !cell) { return; }
    panel.replaceChildren.apply(panel, describe(cell).map(function (line) {
      var div = document.createElement("div");
      div.textContent = line;
      return div;
    }));
    var box = cell.getBoundingClientRect();  // the panel is fixed: the grid's scrolling box cannot clip it
    panel.style.left = Math.min(box.right + 8, window.innerWidth - 260) + "px";
    panel.style.top = box.top + "px";
    panel.hidden = false;
  }
  function hideDetails() { var panel = document.getElementById("grid-hover"); if (panel) { panel.hidden = true; } }

  function select(row, col, focus) {
    var cell = cellAt(row, col);
    if (!cell) { return false; }
    grid().querySelectorAll(".cell.selected").forEach(function (c) { c.classList.remove("selected"); c.tabIndex = -1; });
    cell.classList.add("selected");
    cell.tabIndex = 0;
    selected = { row: row, col: col };
    if (focus) { cell.focus(); }
    showDetails(cell);
    return true;
  }

  function setUp() {
    var g = grid();
    if (!g) { return; }
    var cols = g.querySelectorAll('.cell[data-row="0"]').length;
    if (selected.col < 0 || selected.col >= cols) { selected.col = cols - 1; }  // the newest run
    var first = cellAt(selected.row, selected.col) || cellAt(0, selected.col);
    if (first) { first.tabIndex = 0; if (first.classList) { first.classList.add("selected"); } }
  }

  document.addEventListener("keydown", function (event) {
    var g = grid();
    if (!g || !g.contains(document.activeElement) || !document.activeElement.classList.contains("cell")) { return; }
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if (moves[event.key]) {
      event.preventDefault();
      select(selected.row + moves[event.key][0], selected.col + moves[event.key][1], true);
    } else if (event.key === "Enter") {
      var href = document.activeElement.getAttribute("href");
      if (href) { event.preventDefault(); window.location = href; }
    }
  });
  document.addEventListener("focusin", function (event) {
    var cell = event.target;
    if (cell.classList && cell.classList.contains("cell") && grid() && grid().contains(cell)) {
      select(Number(cell.getAttribute("data-row")), Number(cell.getAttribute("data-col")), false);
    }
  });
  document.addEventListener("mouseover", function (event) {
    var cell = event.target.closest ? event.target.closest("#grid .cell") : null;
    if (cell) { showDetails(cell); } else if (event.target.closest && !event.target.closest("#grid")) { hideDetails(); }
  });

  function refresh() {
    var g = grid();
    window.tradewind.getText(g.getAttribute("data-fragment-url")).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.querySelector("#grid");
      if (!fresh) { return; }
      var hadFocus = g.contains(document.activeElement);
      g.replaceWith(fresh);
      setUp();
      if (hadFocus) { select(selected.row, selected.col, true); }
    });
  }

  setUp();
  var g = grid();
  if (g && g.getAttribute("data-live-grid") === "true") {
    window.tradewind.live.watch(JSON.stringify(["grid", g.getAttribute("data-dag-id")]), refresh);
  }
})();
