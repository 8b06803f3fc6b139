/* The room invitation: copy the link (data-copy names the field) and say so. */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.querySelector(button.getAttribute("data-copy"));
      field.select();
      var done = function () { button.textContent = gettext("已复制"); };
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () {}); }
      else { try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected to copy by hand */ } }
    });
  });
})();
