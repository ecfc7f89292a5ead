// Small behaviours for every page: confirmations, auto-submitting selects, and a JSON fetch helper.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });
  // The one formatter of times shown by scripts: the zone the server rendered the page in (body's data-tz,
  // the user's choice or [webserver] default_ui_timezone), the zone named after the time, as the `when`
  // filter does for server-rendered times.
  var zoneName = document.body.getAttribute("data-tz") || "UTC";
  var formatter = null;
  function parts(date) {
    if (!formatter) {
      formatter = new Intl.DateTimeFormat("en-GB", {
        timeZone: zoneName, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
        minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short"
      });
    }
    var out = {};
    formatter.formatToParts(date).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function formatTime(value) {
    if (value === null || value === undefined || value === "") { return ""; }
    var text = String(value);
    // Naive ISO strings are UTC, as the API's are.
    if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text)) { text += "Z"; }
    var date = value instanceof Date ? value : new Date(text);
    if (isNaN(date.getTime())) { return String(value); }
    var p = parts(date);
    var zone = zoneName === "UTC" ? "UTC" : (p.timeZoneName || zoneName).replace(/^GMT(?=[+-]|$)/, "UTC");
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second + " " + zone;
  }
  function formatTimes(root) {
    (root || document).querySelectorAll("time[data-utc]").forEach(function (el) {
      el.textContent = formatTime(el.getAttribute("data-utc"));
    });
  }
  window.tradewind = {
    timeZone: zoneName,
    formatTime: formatTime,
    formatWhen: formatTime,
    formatTimes: formatTimes,
    getJSON: function (url) {
      return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
        if (r.status === 401) { window.location = "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search); }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      });
    },
    getText: function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      });
    }
  };
})();
