/* The evidence step: a file chosen in the upload form but not uploaded must not be dropped silently when the
   person taps 下一步 (a separate form). The file stays chosen; the page says so next to it and stays. */
(function () {
  "use strict";
  var next = document.querySelector("form[data-evidence-next]");
  var input = document.querySelector("#upload input[type=file]");
  var note = document.getElementById("upload-pending");
  if (!next || !input || !note) { return; }
  next.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    event.preventDefault();
    note.textContent = note.getAttribute("data-msg").replace("{name}", file.name);
    note.hidden = false;
    var title = document.querySelector("#upload input[name=title]");
    (title && !title.value ? title : input).focus();
    note.scrollIntoView({ behavior: "smooth", block: "center" });
  });
  input.addEventListener("change", function () { note.hidden = true; });
})();
