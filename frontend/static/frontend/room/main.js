/* The mediation room in a phone browser: a client of the yizhan-room/1 protocol (docs/protocol.md).
 *
 * This entry module reads the server's frames and wires the page; the parts live beside it: reconnect.js (the
 * socket), signaling.js (the WebRTC mesh), media.js (camera and microphone), view.js (spaces, people, tiles),
 * chat.js, record.js, agreement.js, and the pure rules they use (spaces.js, backoff.js, events.js,
 * negotiation.js, quality.js), which tests/js checks with Node. Every user-supplied text is shown with
 * textContent; every text of our own comes from Django's JavaScript catalogue. */

import { loadAgreement, refreshAgreementSoon } from "./agreement.js";
import { addChat, chatDelivered, chatFailed, chatSeen } from "./chat.js";
import { $, ME, TEXT, amAdmitted, cfg, dateTimeOf, me, state, t } from "./context.js";
import { STATE_OF_KIND, chatRef, memberAfter } from "./events.js";
import {
  AUDIO, audioTrack, checkTracks, listenOnly, localStream, muteNow, onMediaChange, sendMedia, startMedia, stopMedia, switchVideo,
  toggleCamera, toggleMute,
} from "./media.js";
import { proposeAudioOnly } from "./quality.js";
import {
  closeSocket, connect, connected, cutSocket, onSocket, resendPending, send, sendControl, setResumeToken, socketOpen,
} from "./reconnect.js";
import { onRecordEntry } from "./record.js";
import { initRecording, onRecordingEvent } from "./recording.js";
import {
  attachLocal, dropVideo, peerReconnecting, peerStats, peers, restartAllIce, rtcClose, rtcCloseAll, rtcOpen, rtcReconcile, rtcSignal,
  sendVideo,
} from "./signaling.js";
import { banner, render, renderControls, renderTiles, setNetwork, showError } from "./view.js";
import { sfuLeave, sfuRejoin, sfuWelcome } from "./sfu.js";
import { reportQuality, showStaffMessage } from "./staffview.js";

/* ---------------------------------------------------------------------------------------------------
 * Frames from the server.
 * ------------------------------------------------------------------------------------------------- */

function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
      setResumeToken(frame.resume_token);
      return onWelcome(frame);
    case "resume":
      return setResumeToken(frame.token);
    case "event":
      return applyEvent(frame);
    case "ack":
      return onAck(frame);
    case "media.rejoin":
      return sfuRejoin(frame);
    case "signal":
      return rtcSignal(frame.from, frame.data);
    case "presence":
      return onPresence(frame);
    case "mute_request":
      return onMuteRequest();
    case "error":
      return onError(frame);
    default:
      return undefined;
  }
}

function onWelcome(w) {
  connected();
  if (!state.timeline.welcome) state.timeline.welcome = performance.now();
  banner("");
  state.you = w.you;
  state.room = w.room;
  state.iceServers = w.ice_servers || [];
  state.heartbeatMs = w.heartbeat_ms || 1000;
  state.members = new Map();
  for (const m of w.members) state.members.set(m.member, { ...m });
  if (!state.members.has(ME)) state.members.set(ME, { ...w.you, member: ME, online: true });
  state.record = new Map();
  for (const entry of w.record || []) state.record.set(entry.id, entry);
  if (w.record_version !== undefined) state.recordVersion = w.record_version;
  for (const event of w.events || []) applyEvent(event, { quiet: true });
  state.log.advance(w.last_seq);
  resendPending();
  if (state.mediaSettled) sendMedia(); // else openDevices says it once the camera answered
  // A fresh socket: the others closed their connections to me when my old socket went, so offer anew.
  rtcCloseAll();
  sfuWelcome(w); // mesh or SFU, from welcome.media (sfu.js)
  render();
  if (amAdmitted()) for (const id of w.peers || []) rtcOpen(id, true);
  if (state.room.status === "ended") stopAll("ended");
  setNetwork();
}

function onAck(frame) {
  if (state.pending.has(frame.ref)) {
    state.pending.delete(frame.ref);
    chatDelivered(frame.ref);
  }
  const control = state.controls.get(frame.ref);
  if (control) {
    state.controls.delete(frame.ref);
    if (control.onDone) control.onDone();
  }
}

function onError(frame) {
  const message = frame.message || TEXT.error;
  if (frame.ref !== undefined && frame.ref !== null) {
    const control = state.controls.get(frame.ref);
    if (control) {
      state.controls.delete(frame.ref);
      if (control.onError) control.onError(message);
      else showError(message);
      return;
    }
    if (state.pending.has(frame.ref) && frame.code === "rate_limited") {
      // Too fast, not wrong: keep it and send it again in a moment (same ref, stored once).
      const pending = state.pending.get(frame.ref);
      setTimeout(() => { if (state.pending.get(pending.ref) === pending) send(pending); }, 1500 + Math.random() * 1000);
      return;
    }
    if (state.pending.has(frame.ref)) {
      // Refused for good (not allowed, invalid): resending would be refused again.
      state.pending.delete(frame.ref);
      chatFailed(frame.ref, message);
    }
  }
  showError(message);
}

function onPresence(p) {
  const member = state.members.get(p.member);
  if (!member) return;
  member.online = Boolean(p.online);
  if (p.audio_only !== undefined) member.audio_only = p.audio_only;
  if (p.muted !== undefined) member.muted = p.muted;
  if (!member.online) rtcClose(p.member);
  render();
}

function applyEvent(event, { quiet = false } = {}) {
  if (!state.log.accept(event.seq)) return;
  const p = event.payload || {};
  switch (event.kind) {
    case "chat":
      addChat({ seq: event.seq, at: event.at, name: p.name, text: p.text, ref: chatRef(event, ME), actor: event.actor });
      break;
    case "file": {
      const by = state.members.get(event.actor);
      addChat({ seq: event.seq, at: event.at, name: by ? by.name : "", file: p, actor: event.actor });
      break;
    }
    case "record.added":
    case "record.released":
      onRecordEntry(p.entry);
      break;
    case "record.confirmed":
      state.confirmations.push(p);
      break;
    case "guidance.requested":
    case "guidance.closed":
      guidanceStatus(event.kind, p);
      break;
    case "staff.message": // the staff's live view: to this person only (staffview.js)
      showStaffMessage(event);
      break;
    case "recording.consent":
    case "recording.started":
    case "recording.stopped":
      onRecordingEvent(event.kind, p); // folded from the snapshot too: the welcome holds no recording state
      break;
    default:
      if (quiet) break; // the welcome's snapshot already holds the room's and the members' current state
      applyStateEvent(event.kind, p);
  }
  if (!quiet) render();
}

function applyStateEvent(kind, p) {
  switch (kind) {
    case "room.locked":
      state.room.locked = Boolean(p.locked);
      break;
    case "room.space":
      state.room.caucus_side = p.caucus_side || "";
      rtcReconcile();
      break;
    case "room.ended":
      state.room.status = "ended";
      Object.assign(state.room, { outcome: p.outcome, end_reason: p.end_reason, continue_at: p.continue_at });
      stopAll("ended");
      break;
    case "agreement.updated":
      refreshAgreementSoon();
      break;
    case "member.selftest": // the person's pre-join self-test verdict, for the mediator's list (issue 14)
      if (state.members.has(p.member)) state.members.get(p.member).selftest = p.selftest;
      break;
    default:
      if (STATE_OF_KIND[kind]) onMemberEvent(kind, p);
  }
}

function onMemberEvent(kind, p) {
  const id = p.member;
  const member = memberAfter(state.members.get(id), kind, p);
  state.members.set(id, member);
  if (id === ME) {
    // Admitted: the server follows with a fresh welcome (what I may see changed), and there I offer as
    // the newcomer. Refused: I stay connected, the mediator may still let me in.
    state.you = { ...state.you, state: member.state };
    if (member.state === "removed") stopAll("removed");
  } else if (member.state !== "admitted") {
    rtcClose(id);
  }
}

function onMuteRequest() {
  const dialog = $("rm-mute-dialog");
  if (dialog && !dialog.open) dialog.showModal();
}

const STOP_TEXT = {
  sign_in: gettext("请先登录。"),
  not_found: gettext("调解室不存在或您无权进入。"),
  ended: gettext("本次调解已结束。"),
  removed: gettext("您已被调解员移出调解室。"),
  replaced: gettext("您已在其他页面或设备上进入调解室，本页面已断开。"),
  locked_out: gettext("调解室已被调解员锁定，暂不接受进入。请联系调解员解除锁定后再进入。"),
};

function stopAll(reason) {
  if (state.stopped) return;
  state.stopped = true;
  closeSocket();
  rtcCloseAll();
  sfuLeave();
  stopMedia();
  for (const member of state.members.values()) member.online = false;
  banner("");
  let text = STOP_TEXT[reason] || STOP_TEXT.ended;
  if (reason === "ended" && state.room.outcome) {
    text = cfg.outcomes[state.room.outcome] || state.room.outcome;
    if (state.room.end_reason) text += `：${cfg.end_reasons[state.room.end_reason] || state.room.end_reason}`;
    if (state.room.continue_at) text += ` · ${dateTimeOf(state.room.continue_at)}`;
  }
  const endedTitle = cfg.verification ? gettext("本次询问已结束。") : STOP_TEXT.ended;
  $("rm-ended-title").textContent = reason === "ended" ? endedTitle : gettext("已断开与调解室的连接");
  $("rm-ended-text").textContent = text;
  $("rm-ended").hidden = false;
  render();
  setNetwork();
}

onSocket({
  frame: onFrame,
  stop: stopAll,
  reconnecting: () => {
    banner(TEXT.reconnecting);
    setNetwork();
  },
  refused: () => showError(TEXT.reconnecting),
});

/* ---------------------------------------------------------------------------------------------------
 * Devices and the network mark.
 * ------------------------------------------------------------------------------------------------- */

async function openDevices() {
  const ok = await startMedia();
  state.mediaSettled = true;
  if (!state.timeline.media) state.timeline.media = performance.now();
  if (!ok) return;
  attachLocal();
  sendMedia();
  render();
}
onMediaChange(() => renderControls());

async function setAudioOnly(on) {
  if (on) {
    await switchVideo(true);
    await dropVideo();
  } else {
    try {
      await sendVideo(await switchVideo(false));
    } catch (error) {
      showError(error && error.name === "NotAllowedError"
        ? gettext("未获得摄像头或麦克风权限，已以仅音频或无音视频方式进入。可在浏览器设置中允许后刷新页面。")
        : gettext("未检测到可用的摄像头或麦克风，您仍可通过文字参与。"));
    }
  }
  $("rm-self-video").srcObject = localStream;
  sendMedia();
  render();
}

async function sampleStats() {
  for (const peer of [...peers.values()]) {
    try {
      await peerStats(peer);
    } catch {
      /* closed meanwhile */
    }
  }
  checkTracks();
  const level = setNetwork();
  reportQuality(level); // the staff's live view (staffview.js): on a change, at most every 5 s
  renderTiles();
  if (peers.size && level !== "reconnecting") state.netHistory = [...state.netHistory.slice(-9), level];
  const propose = proposeAudioOnly(state.netHistory, { sendingVideo: !state.audioOnly && Boolean(localStream.getVideoTracks().length), declined: state.audioOnlyDeclined });
  if (propose) $("rm-propose").hidden = false;
  else if (state.audioOnly) $("rm-propose").hidden = true;
}
setInterval(sampleStats, 2000);

/* ---------------------------------------------------------------------------------------------------
 * What people do.
 * ------------------------------------------------------------------------------------------------- */

function unlockAudio() {
  if (state.audioUnlocked) return;
  state.audioUnlocked = true;
  for (const video of document.querySelectorAll("#rm-tiles video")) {
    video.muted = false;
    video.play().catch(() => {});
  }
  $("rm-tap").hidden = true;
}
document.addEventListener("pointerdown", unlockAudio, { capture: true });
document.addEventListener("keydown", unlockAudio, { capture: true });

$("rm-mic").addEventListener("click", () => {
  if (toggleMute()) render();
});
$("rm-cam").addEventListener("click", () => {
  if (toggleCamera()) render();
});
$("rm-audio").addEventListener("click", () => {
  if (!state.listenOnly) return setAudioOnly(!state.audioOnly);
  state.audioOnly = false; // listening only: try the devices again (the permission may be granted now)
  return openDevices();
});
$("rm-media-retry").addEventListener("click", () => {
  state.audioOnly = false;
  openDevices();
});
$("rm-media-audio").addEventListener("click", () => {
  state.audioOnly = true;
  openDevices();
});
$("rm-media-listen").addEventListener("click", () => {
  listenOnly();
  dropVideo();
  render();
});
$("rm-headset-close").addEventListener("click", () => {
  state.headsetDismissed = true;
  $("rm-headset").hidden = true;
});
$("rm-propose-yes").addEventListener("click", () => {
  $("rm-propose").hidden = true;
  setAudioOnly(true);
});
$("rm-propose-no").addEventListener("click", () => {
  state.audioOnlyDeclined = true;
  $("rm-propose").hidden = true;
});
$("rm-mute-now").addEventListener("click", () => {
  if (muteNow()) render();
  $("rm-mute-dialog").close();
});
$("rm-mute-later").addEventListener("click", () => $("rm-mute-dialog").close());

for (const tab of document.querySelectorAll(".rm-tabs [role=tab]")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll(".rm-tabs [role=tab]")) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      $(other.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.id === "tab-chat") chatSeen();
  });
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target) return;
  const cmd = target.dataset.cmd;
  if (cmd === "admit" || cmd === "refuse" || cmd === "mute_request") {
    sendControl({ type: cmd, member: Number(target.dataset.member) });
  } else if (cmd === "remove") {
    const m = state.members.get(Number(target.dataset.member));
    if (window.confirm(t(gettext("确定将%(name)s移出调解室吗？"), { name: m ? m.name : "" }))) sendControl({ type: "remove", member: m.member });
  } else if (cmd === "caucus") {
    sendControl({ type: "caucus", side: target.dataset.side });
  } else if (cmd === "joint") {
    sendControl({ type: "joint" });
  } else if (cmd === "lock") {
    sendControl({ type: "lock", locked: !state.room.locked });
  }
});

initRecording();

/* Calling the court in: the mediator's request for live guidance (a judge of the court may then come in as
 * 法官（指导）, shown to everyone by that role). */
function guidanceStatus(kind, p) {
  const status = $("rm-guidance-status");
  if (!status) return;
  status.textContent = kind === "guidance.requested"
    ? gettext("已请求法院指导，等候本案法院的法官进入。")
    : (p.answer ? t(gettext("法院指导请求已结束：%(answer)s"), { answer: p.answer }) : gettext("法院指导请求已结束。"));
}

const guidanceForm = $("rm-guidance-form");
if (guidanceForm) {
  guidanceForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = $("rm-guidance-reason").value.trim();
    if (!reason) return;
    sendControl({ type: "guidance.request", reason }, () => { $("rm-guidance-reason").value = ""; });
  });
}

const endDialog = $("rm-end-dialog");
if (endDialog) {
  const form = $("rm-end-form");
  const error = $("rm-end-error");
  $("rm-end-open").addEventListener("click", () => {
    error.hidden = true;
    endDialog.showModal();
  });
  $("rm-end-cancel").addEventListener("click", () => endDialog.close());
  form.addEventListener("change", () => {
    const outcome = (form.querySelector("input[name=outcome]:checked") || { value: "" }).value;
    for (const field of form.querySelectorAll("[data-for-outcome]")) {
      field.hidden = !field.dataset.forOutcome.split(" ").includes(outcome);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const frame = { type: "end", outcome: data.get("outcome") || "", note: data.get("note") || "" };
    if (frame.outcome === "terminate") {
      frame.end_reason = data.get("end_reason") || "";
      frame.note = data.get("failure_note") || "";
      frame.cost_conduct = data.get("cost_conduct") || "";
      frame.court_matters = data.get("court_matters") || "";
    }
    if (frame.outcome === "continue" && data.get("continue_at")) frame.continue_at = new Date(data.get("continue_at")).toISOString();
    $("rm-end-submit").disabled = true;
    sendControl(frame, () => {
      $("rm-end-submit").disabled = false;
      endDialog.close();
    }, (message) => {
      $("rm-end-submit").disabled = false;
      error.textContent = message;
      error.hidden = false;
    });
  });
}

const leave = $("rm-leave");
if (leave) {
  leave.addEventListener("click", () => {
    sendControl({ type: "leave" }, () => {
      state.stopped = true;
      location.href = cfg.case_url;
    });
    setTimeout(() => { location.href = cfg.case_url; }, 1500);
  });
}

/* A handle for the browser tests and for support staff debugging a call: read-only views and two
 * switches that simulate a network failure. */
window.yizhanRoom = {
  state,
  peers: () => [...peers.keys()],
  async framesDecoded() {
    const out = {};
    for (const peer of [...peers.values()]) out[peer.id] = (await peerStats(peer)).frames;
    return out;
  },
  connected: () => Boolean(socketOpen() && state.you),
  cutSocket,
  /** Per connection: its ICE state, how often it was restarted, whether it shows "正在重新连接…". */
  links: () => Object.fromEntries([...peers.values()].map((p) => [p.id, {
    ice: p.pc.iceConnectionState, restarts: p.restarts || 0, reconnecting: peerReconnecting(p),
  }])),
  restartIce: restartAllIce,
  /** The local microphone track (a test stops it as iOS would) and what the senders carry. */
  localAudio: () => audioTrack(),
  audioConstraints: AUDIO,
  async audioReceived() {
    const out = {};
    for (const peer of [...peers.values()]) out[peer.id] = (await peerStats(peer)).audioEnergy;
    return out;
  },
  sendersCarry: () => [...peers.values()].map((p) => p.pc.getSenders().filter((s) => s.track).map((s) => s.track.id)),
};

render();
// Issue 15 item 5: the socket opens at once, while the camera starts (a permission prompt may take seconds):
// the welcome, the members and the chat do not wait for it. Connections made before the camera answered carry
// its tracks once they come (attachLocal renegotiates).
state.timeline.start = performance.now();
connect();
openDevices();
loadAgreement();
