/* The pre-join self-test (issue 14 item 1): a camera preview and a moving microphone level, a test sound with
 * "听到了吗", and a network test against the server's echo peer (docs/protocol.md, "Self-test echo peer"):
 * round-trip time and loss over an unordered channel without retransmissions, then the usable bitrate up and
 * down over a reliable one. The measurements go to the server, which decides and stores the verdict. Nothing
 * here blocks the way in: with no camera, no microphone, no WebRTC or a busy server the form still works. */

import { showPermissionHelp } from "./room/help.js";

const cfg = JSON.parse(document.getElementById("selftest-config").textContent);
const box = document.querySelector("[data-device-check]");
const video = document.getElementById("device-preview");
const status = box.querySelector("[data-status]");
const meter = box.querySelector("[data-meter]");
const help = document.querySelector("[data-help]");
const audioOnly = document.querySelector("input[name=audio_only][value='1']");
const withVideo = document.querySelector("input[name=audio_only][value='0']");
const verdictBox = document.getElementById("selftest-verdict");
const enter = document.querySelector("[data-enter]");
const csrf = document.querySelector(".rm-device-form [name=csrfmiddlewaretoken]").value;
const t = (text, vars) => interpolate(text, vars, true);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const PROBES = 25;
const PROBE_GAP_MS = 40;
const PROBE_WAIT_MS = 500;
const RATE_MS = 1000;
const RATE_KBPS = 4000; // measured up to this: well above what a verdict needs
const CHUNK = 8192;
const HIGH_WATER = 32 * 1024;
const ANSWER_MS = 2500; // after a rate window: how long the last bytes and the answer may take
const CONNECT_MS = 6000;

let stream = null;
let audioContext = null;
let devices = { camera_ok: false, microphone_ok: false };
let devicesChecked = null;

// --- camera and microphone ---------------------------------------------------------------------------------

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
  devices = { camera_ok: false, microphone_ok: false };
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
    // A refused or missing camera: the audio-only self-test still runs.
    if (wantVideo) {
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
  const hasVideo = stream.getVideoTracks().length > 0;
  devices = { camera_ok: hasVideo, microphone_ok: stream.getAudioTracks().length > 0 };
  video.srcObject = hasVideo ? stream : null;
  box.classList.toggle("audio-only", !hasVideo);
  status.textContent = hasVideo
    ? gettext("摄像头和麦克风工作正常。请说几句话，看下方的音量条是否跳动。")
    : gettext("麦克风工作正常（仅音频）。请说几句话，看下方的音量条是否跳动。");
  if (devices.microphone_ok) level(stream);
}

// --- speaker -----------------------------------------------------------------------------------------------

const speaker = document.querySelector("[data-speaker]");
const speakerOk = document.querySelector("[data-speaker-ok]");

function playTestSound() {
  const ctx = new AudioContext();
  const gain = ctx.createGain();
  gain.gain.value = 0.25;
  gain.connect(ctx.destination);
  [523.25, 659.25, 783.99].forEach((freq, i) => { // do-mi-sol, 0.3 s each
    const osc = ctx.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(ctx.currentTime + i * 0.3);
    osc.stop(ctx.currentTime + i * 0.3 + 0.28);
  });
  setTimeout(() => ctx.close(), 1200);
  speaker.querySelector("[data-ask]").hidden = false;
}

speaker.querySelector("[data-play]").addEventListener("click", playTestSound);
for (const button of speaker.querySelectorAll("[data-heard]")) {
  button.addEventListener("click", () => {
    const heard = button.dataset.heard === "yes";
    speakerOk.value = heard ? "1" : "0";
    speaker.querySelector("[data-speaker-note]").textContent = heard
      ? gettext("扬声器正常。")
      : gettext("请调大手机音量、关闭静音，或戴上耳机后再点“播放测试声音”。仍听不到也可以进入，用文字交流。");
  });
}

// --- network: the echo peer ----------------------------------------------------------------------------------

function opened(channel) {
  return channel.readyState === "open" ? Promise.resolve()
    : new Promise((resolve) => channel.addEventListener("open", () => resolve(), { once: true }));
}

function gathered(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return Promise.race([sleep(ms), new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
  })]);
}

function nextMessage(channel, test, ms) {
  return Promise.race([sleep(ms).then(() => null), new Promise((resolve) => {
    const on = (event) => {
      if (typeof event.data !== "string") return;
      const message = JSON.parse(event.data);
      if (test(message)) {
        channel.removeEventListener("message", on);
        resolve(message);
      }
    };
    channel.addEventListener("message", on);
  })]);
}

async function probePath(probe) {
  const sent = new Map();
  const rtts = [];
  probe.addEventListener("message", (event) => {
    const at = sent.get(String(event.data));
    if (at !== undefined) {
      rtts.push(performance.now() - at);
      sent.delete(String(event.data));
    }
  });
  for (let seq = 0; seq < PROBES; seq += 1) {
    sent.set(String(seq), performance.now());
    probe.send(String(seq));
    await sleep(PROBE_GAP_MS);
  }
  await sleep(PROBE_WAIT_MS);
  rtts.sort((a, b) => a - b);
  return {
    rtt_ms: rtts.length ? Math.round(rtts[Math.floor(rtts.length / 2)]) : null,
    loss_permille: Math.round(((PROBES - rtts.length) / PROBES) * 1000),
  };
}

async function measureUp(bulk, ctl) {
  const chunk = new Uint8Array(CHUNK);
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < RATE_MS && bulk.readyState === "open") {
    const allowed = ((performance.now() - start) * RATE_KBPS) / 8;
    while (sent < allowed && bulk.bufferedAmount < HIGH_WATER) {
      bulk.send(chunk);
      sent += CHUNK;
    }
    await sleep(10);
  }
  // On the control channel: what has arrived by now counts, not what is still queued behind it.
  ctl.send(JSON.stringify({ op: "up_end" }));
  const answer = await nextMessage(ctl, (m) => m.op === "up_result", ANSWER_MS);
  // The rate the path carried while the data flowed, by the peer's clock (a late answer does not lower it).
  return answer && answer.bytes ? Math.round((answer.bytes * 8) / Math.max(answer.ms, 100)) : 0;
}

async function measureDown(bulk, ctl) {
  let received = 0;
  let first = 0;
  let last = 0;
  const count = (event) => {
    if (typeof event.data === "string") return;
    last = performance.now();
    if (!received) first = last;
    received += event.data.byteLength;
  };
  bulk.addEventListener("message", count);
  ctl.send(JSON.stringify({ op: "down", ms: RATE_MS, kbps: RATE_KBPS }));
  await nextMessage(bulk, (m) => m.op === "down_end", RATE_MS + ANSWER_MS);
  bulk.removeEventListener("message", count);
  return received ? Math.round((received * 8) / Math.max(last - first, 100)) : 0;
}

async function networkTest() {
  const unmeasured = { reachable: true, rtt_ms: null, loss_permille: null, up_kbps: null, down_kbps: null };
  if (!window.RTCPeerConnection) return unmeasured;
  const pc = new RTCPeerConnection({ iceServers: cfg.ice_servers });
  try {
    const probe = pc.createDataChannel("probe", { ordered: false, maxRetransmits: 0 });
    const bulk = pc.createDataChannel("bulk");
    const ctl = pc.createDataChannel("ctl");
    bulk.binaryType = "arraybuffer";
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    const response = await fetch(cfg.offer_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ type: "offer", sdp: pc.localDescription.sdp }),
    });
    if (!response.ok) return unmeasured; // busy (503) or refused: the verdict says audio only
    await pc.setRemoteDescription(await response.json());
    const open = await Promise.race([Promise.all([opened(probe), opened(bulk), opened(ctl)]).then(() => true), sleep(CONNECT_MS).then(() => false)]);
    if (!open) return { ...unmeasured, reachable: false };
    const path = await probePath(probe);
    if (path.rtt_ms === null) return { ...unmeasured, reachable: false };
    const up = await measureUp(bulk, ctl);
    const down = await measureDown(bulk, ctl);
    return { reachable: true, ...path, up_kbps: up, down_kbps: down };
  } catch {
    return unmeasured;
  } finally {
    pc.close();
  }
}

// --- the verdict ---------------------------------------------------------------------------------------------

const state = { result: null, running: false, runs: 0 };
window.yizhanSelfTest = state;

function facts(m) {
  if (m.rtt_ms === null || m.rtt_ms === undefined) return m.reachable ? gettext("网络没有测出结果。") : gettext("连接不上检测服务器。");
  return t(gettext("往返时延 %(rtt)s 毫秒 · 丢包 %(loss)s% · 上行 %(up)s kbps · 下行 %(down)s kbps"), {
    rtt: m.rtt_ms, loss: (m.loss_permille / 10).toFixed(1), up: m.up_kbps, down: m.down_kbps,
  });
}

async function run() {
  if (state.running) return;
  state.running = true;
  state.result = null;
  verdictBox.dataset.verdict = "running";
  verdictBox.querySelector("[data-verdict-label]").textContent = gettext("正在检测网络，请稍候（约 6 秒）…");
  verdictBox.querySelector("[data-verdict-advice]").textContent = "";
  verdictBox.querySelector("[data-verdict-facts]").textContent = "";
  verdictBox.querySelector("[data-rerun]").hidden = true;
  const start = performance.now();
  const measured = await networkTest();
  await devicesChecked;
  const body = { ...measured, ...devices, speaker_ok: speakerOk.value === "1", duration_ms: Math.round(performance.now() - start) };
  let answer = null;
  try {
    const response = await fetch(cfg.result_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    if (response.ok) answer = await response.json();
  } catch {
    answer = null;
  }
  state.running = false;
  state.runs += 1;
  verdictBox.querySelector("[data-rerun]").hidden = false;
  if (!answer) {
    verdictBox.dataset.verdict = "unknown";
    verdictBox.querySelector("[data-verdict-label]").textContent = gettext("检测结果没有保存");
    verdictBox.querySelector("[data-verdict-advice]").textContent = gettext("可以点“重新检测”，也可以直接进入。");
    return;
  }
  state.result = { ...body, ...answer };
  verdictBox.dataset.verdict = answer.verdict;
  verdictBox.querySelector("[data-verdict-label]").textContent = answer.label;
  verdictBox.querySelector("[data-verdict-advice]").textContent = answer.advice;
  verdictBox.querySelector("[data-verdict-facts]").textContent = facts(measured);
  if (answer.verdict !== "good") audioOnly.checked = true;
  enter.textContent = answer.verdict === "too_weak" ? gettext("仍要进入（仅音频）") : gettext("下一步");
}

verdictBox.querySelector("[data-rerun]").addEventListener("click", () => {
  devicesChecked = check();
  run();
});
help.querySelector("[data-retry]").addEventListener("click", () => { devicesChecked = check(); });
audioOnly.addEventListener("change", () => { devicesChecked = check(); });
withVideo.addEventListener("change", () => { devicesChecked = check(); });
// The room opens the devices again itself; release them before leaving the page.
document.querySelector(".rm-device-form").addEventListener("submit", stop);
window.addEventListener("pagehide", stop);
devicesChecked = check();
run();
