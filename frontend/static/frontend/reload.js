/* A page that waits for something the server is still making (a document being generated): reload it after
 * the seconds the data-reload element names. */
(function () {
  "use strict";
  var waiting = document.querySelector("[data-reload]");
  if (waiting) {
    window.setTimeout(function () { window.location.reload(); }, (parseInt(waiting.getAttribute("data-reload"), 10) || 5) * 1000);
  }
})();
