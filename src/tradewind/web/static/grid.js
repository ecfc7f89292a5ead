// Grid view: while a run is in progress, fetch the grid table again every few seconds.
(function () {
  "use strict";
  function refresh() {
    var grid = document.getElementById("grid");
    if (!grid || grid.getAttribute("data-live") !== "true") { return; }
    window.tradewind.getText(grid.getAttribute("data-fragment-url")).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.querySelector("#grid");
      if (fresh) { grid.replaceWith(fresh); }
      window.setTimeout(refresh, 3000);
    }).catch(function () { window.setTimeout(refresh, 6000); });
  }
  window.setTimeout(refresh, 3000);
})();
