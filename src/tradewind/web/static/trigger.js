// Trigger form: switch between the params form and raw JSON conf.
(function () {
  "use strict";
  var form = document.getElementById("trigger-form");
  if (!form) { return; }
  function show() {
    var mode = form.querySelector("input[name=mode]:checked");
    var json = mode && mode.value === "json";
    form.querySelector(".mode-form").hidden = json;
    form.querySelector(".mode-json").hidden = !json;
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "mode") { show(); }
  });
  show();
})();
