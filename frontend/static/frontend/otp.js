/* One-time code pages: a countdown on the (re)send button, and a busy state while a form is sent.
 * data-wait holds the seconds to wait; data-busy names what the button says while its form is sent. */
(function () {
  "use strict";
  var BUSY = { sending: gettext("正在发送…"), verifying: gettext("正在核验…"), signing_in: gettext("正在登录…") };
  document.querySelectorAll("[data-wait]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-wait"), 10) || 0;
    var label = button.textContent;
    function tick() {
      if (left > 0) {
        button.disabled = true;
        button.textContent = interpolate(gettext("%(s)s秒后可重新获取"), { s: left }, true);
        left -= 1;
        window.setTimeout(tick, 1000);
      } else {
        button.disabled = false;
        button.textContent = label;
      }
    }
    tick();
  });
  document.querySelectorAll("form[data-otp]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || form.getAttribute("aria-busy") === "true") { return; }
      /* A disabled button is not submitted: carry its action in a hidden field. */
      if (button.name) {
        var field = document.createElement("input");
        field.type = "hidden"; field.name = button.name; field.value = button.value;
        form.appendChild(field);
      }
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      button.classList.add("busy");
      var busy = BUSY[button.getAttribute("data-busy")];
      if (busy) { button.textContent = busy; }
    });
  });
})();
