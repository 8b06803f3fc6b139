/* Read-aloud for the elder mode (长辈版): the 朗读 button reads the page's main text with the browser's speech
 * synthesis in Chinese (zh-CN); a second press stops. Without speech synthesis, or without any voice on the
 * device, the button stays and says so in the status line instead of failing silently. Loaded by base.html
 * only in the elder mode. A page may mark the part worth reading with data-read-aloud; else <main>. */
(function () {
  "use strict";
  var button = document.getElementById("read-aloud");
  var status = document.getElementById("read-aloud-status");
  if (!button || !status) { return; }
  var READ = gettext("朗读");
  var STOP = gettext("停止朗读");
  var synth = window.speechSynthesis;
  var reading = false;

  function say(text) { status.textContent = text; }

  function chineseVoice() {
    var voices = synth.getVoices() || [];
    var i;
    for (i = 0; i < voices.length; i += 1) { if (/^zh[-_]CN/i.test(voices[i].lang)) { return voices[i]; } }
    for (i = 0; i < voices.length; i += 1) { if (/^zh/i.test(voices[i].lang)) { return voices[i]; } }
    return null;
  }

  function mainText() {
    var region = document.querySelector("[data-read-aloud]") || document.querySelector("main");
    if (!region) { return ""; }
    var copy = region.cloneNode(true);
    copy.querySelectorAll("script, style, template, [hidden], [aria-hidden=true], .sr-only, input, select, textarea")
      .forEach(function (node) { node.remove(); });
    return (copy.innerText || copy.textContent || "").replace(/\s+/g, " ").trim();
  }

  function done() {
    reading = false;
    button.textContent = READ;
  }

  function start() {
    var text = mainText();
    if (!text) { say(gettext("本页没有可朗读的文字。")); return; }
    var voice = chineseVoice();
    if (!voice) {
      say(gettext("本设备没有中文语音，暂时无法朗读。可在手机设置中安装中文语音后再试。"));
      return;
    }
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "zh-CN";
    utterance.voice = voice;
    utterance.rate = 0.9;
    utterance.onend = done;
    utterance.onerror = function () { done(); say(gettext("朗读中断了，请再按一次“朗读”。")); };
    synth.cancel();
    synth.speak(utterance);
    reading = true;
    button.textContent = STOP;
    say(gettext("正在朗读本页内容。"));
  }

  button.hidden = false;
  if (!synth || typeof window.SpeechSynthesisUtterance !== "function") {
    button.addEventListener("click", function () { say(gettext("此浏览器不支持朗读。")); });
    return;
  }
  synth.getVoices(); // some browsers load their voices only when first asked; by the first press they are there
  button.addEventListener("click", function () {
    if (reading) { synth.cancel(); done(); say(gettext("已停止朗读。")); return; }
    start();
  });
  window.addEventListener("pagehide", function () { if (reading) { synth.cancel(); } });
})();
