// Task log: read it in chunks with the API's continuation token, and keep following while the try runs.
(function () {
  "use strict";
  var pre = document.getElementById("log");
  if (!pre) { return; }
  var status = document.getElementById("log-status");
  var base = pre.getAttribute("data-url") + "?map_index=" + encodeURIComponent(pre.getAttribute("data-map-index"));
  var token = "";
  function stick() { return pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 20; }
  function poll() {
    var url = base + (token ? "&token=" + encodeURIComponent(token) : "");
    window.tradewind.getJSON(url).then(function (chunk) {
      var follow = stick();
      if (chunk.content) {
        pre.appendChild(document.createTextNode(chunk.content));
        if (follow) { pre.scrollTop = pre.scrollHeight; }
      }
      token = chunk.continuation_token;
      if (chunk.end_of_log) {
        status.textContent = pre.textContent ? "complete" : "empty";
        pre.setAttribute("data-complete", "true");
        return;
      }
      status.textContent = "following…";
      window.setTimeout(poll, chunk.content ? 300 : 1500);
    }).catch(function (err) {
      status.textContent = "could not read the log (" + err.message + "); retrying";
      window.setTimeout(poll, 4000);
    });
  }
  poll();
})();
