/* The signing page: a handwriting pad (touch, pen and mouse through pointer events), the one-time code sent
   without leaving the page (so the drawing stays), and a busy screen while the server signs. */
(function () {
  "use strict";
  var form = document.querySelector("[data-sign-form]");
  if (!form) { return; }
  var canvas = document.getElementById("sign-pad");
  var field = document.getElementById("id_handwriting");
  var ctx = canvas ? canvas.getContext("2d") : null;
  /* The drawing is kept as strokes in fractions of the pad's size (and the drawing the server sent back
     after a refusal, as an image), so a resize or a rotation redraws it instead of losing it. */
  var strokes = [], background = null, inked = false;

  function paint() {
    var ratio = window.devicePixelRatio || 1;
    var w = canvas.width / ratio, h = canvas.height / ratio;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#111827"; ctx.fillStyle = "#111827";
    ctx.lineWidth = 3;
    if (background) { ctx.drawImage(background, 0, 0, w, h); }
    strokes.forEach(function (stroke) {
      ctx.beginPath();
      ctx.moveTo(stroke[0].x * w, stroke[0].y * h);
      if (stroke.length === 1) { ctx.arc(stroke[0].x * w, stroke[0].y * h, 1.2, 0, Math.PI * 2); ctx.fill(); return; }
      stroke.slice(1).forEach(function (p) { ctx.lineTo(p.x * w, p.y * h); });
      ctx.stroke();
    });
  }
  function fit() {
    var ratio = window.devicePixelRatio || 1;
    var rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(Math.round(rect.width * ratio), 1);
    canvas.height = Math.max(Math.round(rect.height * ratio), 1);
    paint();
  }
  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return { x: (event.clientX - rect.left) / (rect.width || 1), y: (event.clientY - rect.top) / (rect.height || 1) };
  }
  if (canvas) {
    var current = null;
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push(current);
      inked = true;
      canvas.parentNode.classList.remove("invalid");
      var padMessage = document.getElementById("pad-error");
      if (padMessage) { padMessage.hidden = true; }
      paint();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!current) { return; }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      events.forEach(function (e) { current.push(point(e)); });
      paint();
    });
    ["pointerup", "pointercancel"].forEach(function (name) {
      canvas.addEventListener(name, function () { current = null; });
    });
    document.getElementById("pad-clear").addEventListener("click", function () {
      strokes = []; background = null; inked = false; field.value = ""; paint();
    });
    fit();
    if (window.ResizeObserver) {
      new ResizeObserver(fit).observe(canvas);
    } else {
      window.addEventListener("resize", fit);
    }
    if (canvas.getAttribute("data-initial")) {
      var image = new Image();
      image.onload = function () { background = image; inked = true; paint(); };
      image.src = canvas.getAttribute("data-initial");
    }
  }

  var status = document.getElementById("send-status");
  var padError = document.getElementById("pad-error") || status;
  var send = document.getElementById("send-code");
  var sendLabel = send.textContent;
  function countdown(seconds) {
    var left = seconds;
    function tick() {
      if (left > 0) {
        send.disabled = true;
        send.textContent = interpolate(gettext("%(s)s秒后可重新获取"), { s: left }, true);
        left -= 1; window.setTimeout(tick, 1000);
      } else { send.disabled = false; send.textContent = sendLabel; }
    }
    tick();
  }
  countdown(parseInt(form.getAttribute("data-wait"), 10) || 0);

  send.addEventListener("click", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    data.set("action", "send");
    send.disabled = true; send.textContent = gettext("正在发送…");
    fetch(form.getAttribute("data-send-url"), {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" }
    }).then(function (response) { return response.json(); }).then(function (answer) {
      status.textContent = answer.message;
      status.classList.toggle("error", !answer.ok);
      countdown(answer.wait || 0);
      if (answer.ok) { document.getElementById("id_code").focus(); }
    }).catch(function () {
      status.textContent = gettext("网络异常，请重试。"); status.classList.add("error");
      send.disabled = false; send.textContent = sendLabel;
    });
  });

  function sealing() {
    var chosen = form.querySelector("input[name=as]:checked") || form.querySelector("input[name=as]");
    return Boolean(chosen && chosen.value === "organisation");
  }
  /* Checked on the click, before the browser's own checks of the other fields: the pad comes first. */
  document.getElementById("sign-submit").addEventListener("click", function (event) {
    if (canvas && !inked && !sealing()) {
      event.preventDefault();
      canvas.parentNode.classList.add("invalid");
      /* Said under the pad, not in the code's status line (which may say the code was sent). */
      padError.textContent = gettext("请在签名框内手写签名。"); padError.hidden = false;
      canvas.scrollIntoView({ behavior: "smooth", block: "center" });
    }
  });

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.value === "send") { return; }
    if (canvas) {
      if (!inked && !sealing()) { event.preventDefault(); return; }
      field.value = inked ? canvas.toDataURL("image/png") : "";
    }
    var action = document.createElement("input");
    action.type = "hidden"; action.name = "action"; action.value = "sign";
    form.appendChild(action);
    document.getElementById("sign-submit").disabled = true;
    document.getElementById("sign-busy").hidden = false;
  });
})();
