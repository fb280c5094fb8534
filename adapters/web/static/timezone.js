// Fills the hidden time zone field of the signup and settings forms from the browser's zone.
// Without JavaScript the field stays empty and the server uses UTC (settings can change it).
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  if (!zone) {
    return;
  }
  var fields = document.querySelectorAll("input[data-browser-timezone]");
  for (var i = 0; i < fields.length; i++) {
    if (!fields[i].value || fields[i].getAttribute("data-browser-timezone") === "replace") {
      fields[i].value = zone;
    }
  }
  var shown = document.querySelectorAll("[data-browser-timezone-label]");
  for (var j = 0; j < shown.length; j++) {
    shown[j].textContent = zone;
  }
})();
