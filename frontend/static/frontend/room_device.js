/* The device check before entering a room: a camera preview, a microphone level meter, and clear help
 * when the browser refuses or finds no device. The audio-only choice follows what works. */

import { showPermissionHelp } from "./room/help.js";

const box = document.querySelector("[data-device-check]");
const video = document.getElementById("device-preview");
const status = box.querySelector("[data-status]");
const meter = box.querySelector("[data-meter]");
const help = document.querySelector("[data-help]");
const audioOnly = document.querySelector("input[name=audio_only][value='1']");
const withVideo = document.querySelector("input[name=audio_only][value='0']");
let stream = null;
let audioContext = null;

function showHelp(kind) {
  help.hidden = false;
  for (const p of help.querySelectorAll(":scope > [data-help-denied],[data-help-missing],[data-help-insecure]")) p.hidden = true;
  help.querySelector(`[data-help-${kind}]`).hidden = false;
  const perBrowser = document.getElementById("device-media-help");
  if (kind === "denied") showPermissionHelp(perBrowser);
  else perBrowser.hidden = true;
  help.querySelector("[data-help-denied-audio]").hidden = kind !== "denied";
}

function stop() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  if (audioContext) audioContext.close();
  audioContext = null;
}

function level(source) {
  audioContext = new AudioContext();
  const analyser = audioContext.createAnalyser();
  analyser.fftSize = 256;
  audioContext.createMediaStreamSource(source).connect(analyser);
  const data = new Uint8Array(analyser.frequencyBinCount);
  const tick = () => {
    if (!audioContext) return;
    analyser.getByteFrequencyData(data);
    const peak = Math.max(...data);
    meter.style.width = `${Math.min(100, Math.round((peak / 255) * 100))}%`;
    requestAnimationFrame(tick);
  };
  tick();
}

async function check() {
  stop();
  help.hidden = true;
  box.classList.remove("failed");
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    box.classList.add("failed");
    status.textContent = "";
    showHelp("insecure");
    return;
  }
  const wantVideo = !audioOnly.checked;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: wantVideo });
  } catch (error) {
    if (wantVideo && error.name !== "NotAllowedError") {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        audioOnly.checked = true;
      } catch {
        stream = null;
      }
    }
    if (!stream) {
      box.classList.add("failed");
      status.textContent = "";
      showHelp(error.name === "NotAllowedError" || error.name === "SecurityError" ? "denied" : "missing");
      return;
    }
  }
  video.srcObject = stream.getVideoTracks().length ? stream : null;
  box.classList.toggle("audio-only", !stream.getVideoTracks().length);
  status.textContent = stream.getVideoTracks().length
    ? gettext("摄像头和麦克风工作正常。请说几句话，看下方的音量条是否跳动。")
    : gettext("麦克风工作正常（仅音频）。请说几句话，看下方的音量条是否跳动。");
  if (stream.getAudioTracks().length) level(stream);
}

help.querySelector("[data-retry]").addEventListener("click", check);
audioOnly.addEventListener("change", check);
withVideo.addEventListener("change", check);
// The room opens the devices again itself; release them before leaving the page.
document.querySelector(".rm-device-form").addEventListener("submit", stop);
window.addEventListener("pagehide", stop);
check();
