/* The application steps. Show the fields that belong to the chosen answer (data-when="name=value", e.g. a
 * company's credit code; without JS all show), and upload evidence with a progress bar and the file's size
 * (the server's answer, list or error, replaces the page). */
(function () {
  "use strict";
  function sync() {
    document.querySelectorAll("[data-when]").forEach(function (el) {
      var rule = el.getAttribute("data-when").split("=");
      var chosen = document.querySelector('input[name="' + rule[0] + '"]:checked');
      el.hidden = !(chosen && chosen.value === rule[1]);
    });
  }
  document.addEventListener("change", sync);
  sync();

  var form = document.getElementById("upload");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var status = document.getElementById("upload-status");
  var text = status.querySelector(".ap-upload-text");
  var bar = status.querySelector("progress");
  var button = document.getElementById("upload-button");
  function mb(bytes) { return (bytes / 1048576).toFixed(1); }
  /* Rounded up, as the server words it: never "20.0 MB" for a file one byte over a 20 MB limit. */
  function mbOver(bytes) { return (Math.ceil(bytes / 104857.6) / 10).toFixed(1); }
  function say(message, isError) { status.hidden = false; text.textContent = message; text.className = isError ? "ap-upload-text error" : "ap-upload-text"; }
  form.addEventListener("submit", function (event) {
    var input = form.querySelector('input[type="file"]');
    var file = input && input.files && input.files[0];
    if (!file) return;
    event.preventDefault();
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    if (max && file.size > max) {
      bar.hidden = true;
      say(interpolate(gettext("文件过大：%(size)s MB，单个文件不能超过 %(max)s MB。"),
        { size: mbOver(file.size), max: status.getAttribute("data-max-mb") }, true), true);
      return;
    }
    bar.hidden = false; bar.value = 0; button.disabled = true;
    say(gettext("正在上传…") + " " + mb(file.size) + " MB", false);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    xhr.onload = function () {
      var url = xhr.responseURL;
      document.open(); document.write(xhr.responseText); document.close();
      if (url && xhr.status < 400) history.replaceState(null, "", url);
    };
    xhr.onerror = function () { button.disabled = false; bar.hidden = true; say(gettext("上传失败，请检查网络后重试。"), true); };
    xhr.send(new FormData(form));
  });
})();
