/* The served document's page: tell the server the recipient has it in front of them (the read, OLR 31
   para 2 item 2) with one POST, only once the page is actually visible. A GET of the page (a link prefetcher,
   a scanner, a browser's prerender) records nothing: see docs/decisions.md, "What counts as receipt". */
(function () {
  "use strict";
  var marker = document.querySelector("[data-service-read]");
  if (!marker || !window.fetch) { return; }
  var sent = false;

  function send() {
    if (sent || document.visibilityState !== "visible" || document.prerendering) { return; }
    sent = true;
    var token = marker.querySelector("input[name=csrfmiddlewaretoken]");
    var body = new URLSearchParams({ action: "read", via: marker.getAttribute("data-via") || "" });
    fetch(marker.getAttribute("data-service-read"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" },
    }).catch(function () { sent = false; });  // try again the next time the page is shown
  }

  document.addEventListener("visibilitychange", send);
  document.addEventListener("prerenderingchange", send);
  send();
})();
