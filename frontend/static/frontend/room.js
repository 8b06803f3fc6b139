/* The mediation room in a phone browser: a client of the yizhan-room/1 protocol (docs/protocol.md).
 *
 * One WebSocket (heartbeat, reconnect with `since`, resend of un-acknowledged chat and record frames),
 * a WebRTC mesh with the members of my current space (newcomer offers, perfect negotiation, trickle ICE,
 * ICE restart), and the page: tiles, people and spaces, chat, files, the live record, mediator controls.
 * Every user-supplied text is shown with textContent. All wording comes from the page (room-config).
 */

import { dateTimeOf, timeOf as clockTime } from "./clock.js";

const cfg = JSON.parse(document.getElementById("room-config").textContent);
const S = cfg.strings;
const ME = cfg.member;
const $ = (id) => document.getElementById(id);
const fmt = (text, vars) => text.replace(/%\((\w+)\)s/g, (_, key) => (vars[key] ?? ""));
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child) node.append(child);
  return node;
};

const NO_RETRY = {
  4401: "sign_in", 4403: "not_found", 4410: "ended", 4408: "removed", 4001: "replaced", 4423: "locked_out",
};
const RESENT = new Set(["chat", "record.add", "record.confirm", "record.release"]);

const state = {
  you: null,
  room: { caucus_side: "", locked: false, status: "open" },
  members: new Map(),
  lastSeq: 0,
  seen: new Set(),
  record: new Map(),
  recordVersion: "",
  confirmations: [],
  pending: new Map(), // ref -> frame, for frames resent after a reconnect
  controls: new Map(), // ref -> what to do with the answer (control frames are not resent)
  iceServers: [],
  heartbeatMs: 1000,
  stopped: false,
  audioOnly: Boolean(cfg.audio_only),
  muted: false,
  camOff: false,
  audioUnlocked: false,
  unreadChat: 0,
};

/* ---------------------------------------------------------------------------------------------------
 * The socket: connect, heartbeat, reconnect with backoff, resend.
 * ------------------------------------------------------------------------------------------------- */

let ws = null;
let lastFrameAt = 0;
let attempts = 0;
let reconnectTimer = null;
let holdUntil = 0; // test hook: keep the socket closed until then

function connect() {
  clearTimeout(reconnectTimer);
  if (state.stopped) return;
  const wait = holdUntil - Date.now();
  if (wait > 0) {
    reconnectTimer = setTimeout(connect, wait);
    return;
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}${cfg.ws_path}?since=${state.lastSeq}`);
  ws = socket;
  lastFrameAt = Date.now();
  socket.onmessage = (message) => {
    if (socket !== ws) return;
    lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    try {
      onFrame(frame);
    } catch (error) {
      console.error("room frame", frame.type, error);
    }
  };
  socket.onclose = (event) => {
    if (socket !== ws) return;
    ws = null;
    onSocketClosed(event.code);
  };
}

function dropSocket() {
  // A dead socket: forget it at once (its late frames are ignored) and come back.
  const socket = ws;
  ws = null;
  if (socket) {
    socket.onclose = null;
    try {
      socket.close();
    } catch {
      /* already closing */
    }
  }
  onSocketClosed(0);
}

function onSocketClosed(code) {
  if (state.stopped) return;
  const reason = NO_RETRY[code];
  if (reason) {
    stopAll(reason);
    return;
  }
  if (code === 4412) {
    location.href = cfg.join_url;
    return;
  }
  banner(S.reconnecting);
  setNetwork();
  const base = code === 4429 ? 5000 : Math.min(8000, 250 * 2 ** attempts);
  attempts += 1;
  reconnectTimer = setTimeout(connect, base + Math.random() * base * 0.3);
}

setInterval(() => {
  if (!ws || state.stopped) return;
  if (ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "ping" }));
  }
  const silence = Date.now() - lastFrameAt;
  // 2 s without any frame from the server: the socket is dead. A handshake gets a little longer.
  if (silence > (ws.readyState === WebSocket.OPEN ? 2 * state.heartbeatMs : 5000)) dropSocket();
}, 1000);

function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

let refCounter = 0;
const refPrefix = `m${ME}.${Math.random().toString(36).slice(2, 10)}.`;
const newRef = () => `${refPrefix}${(refCounter += 1)}`;

function sendStored(frame) {
  // Chat and record frames: kept until acknowledged, resent with the same ref after a reconnect.
  state.pending.set(frame.ref, frame);
  send(frame);
}

function sendControl(frame, onDone, onError) {
  frame.ref = newRef();
  state.controls.set(frame.ref, { onDone, onError });
  if (!send(frame)) {
    state.controls.delete(frame.ref);
    showError(S.reconnecting);
    if (onError) onError(S.reconnecting);
  }
}

/* ---------------------------------------------------------------------------------------------------
 * Frames from the server.
 * ------------------------------------------------------------------------------------------------- */

function onFrame(frame) {
  switch (frame.type) {
    case "welcome":
      return onWelcome(frame);
    case "event":
      return applyEvent(frame);
    case "ack":
      return onAck(frame);
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
  attempts = 0;
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
  state.recordDirty = false;
  for (const event of w.events || []) applyEvent(event, { quiet: true });
  state.lastSeq = Math.max(state.lastSeq, w.last_seq || 0);
  for (const frame of state.pending.values()) send(frame);
  sendMedia();
  // A fresh socket: the others closed their connections to me when my old socket went, so offer anew.
  rtcCloseAll();
  render();
  if (isAdmitted()) for (const id of w.peers || []) rtcOpen(id, true);
  if (state.room.status === "ended") stopAll("ended");
  setNetwork();
}

function onAck(frame) {
  if (state.pending.has(frame.ref)) {
    state.pending.delete(frame.ref);
    const bubble = document.querySelector(`#rm-chat li[data-ref="${CSS.escape(String(frame.ref))}"]`);
    if (bubble) bubble.classList.remove("pending");
  }
  const control = state.controls.get(frame.ref);
  if (control) {
    state.controls.delete(frame.ref);
    if (control.onDone) control.onDone();
  }
}

function onError(frame) {
  const message = frame.message || S.error;
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
      const bubble = document.querySelector(`#rm-chat li[data-ref="${CSS.escape(String(frame.ref))}"]`);
      if (bubble) {
        bubble.classList.remove("pending");
        bubble.classList.add("failed");
        bubble.append(el("small", { class: "rm-fail", text: message }));
      }
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

const STATE_OF_KIND = {
  "member.waiting": "waiting",
  "member.admitted": "admitted",
  "member.refused": "refused",
  "member.removed": "removed",
  "member.left": "left",
};

function applyEvent(event, { quiet = false } = {}) {
  // By seq actually applied, not by "seq <= lastSeq": the welcome after my admission replays from 0
  // events I could not see from the waiting room.
  if (state.seen.has(event.seq)) return;
  state.seen.add(event.seq);
  state.lastSeq = Math.max(state.lastSeq, event.seq);
  const p = event.payload || {};
  switch (event.kind) {
    case "chat":
      // Only my own messages match my pending bubbles: another member's client_id is theirs to choose,
      // and could copy one of my refs to hide what I sent behind what they sent.
      addChat({ seq: event.seq, at: event.at, name: p.name, text: p.text, ref: event.actor === ME ? p.client_id : "",
        actor: event.actor });
      break;
    case "file": {
      const by = state.members.get(event.actor);
      addChat({ seq: event.seq, at: event.at, name: by ? by.name : "", file: p, actor: event.actor });
      break;
    }
    case "record.added":
    case "record.released":
      if (p.entry) {
        if (p.entry.supersedes) state.record.delete(p.entry.supersedes);
        state.record.set(p.entry.id, p.entry);
        if (p.entry.client_id) state.pending.delete(p.entry.client_id);
      }
      recordChanged();
      break;
    case "record.confirmed":
      state.confirmations.push(p);
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
    default:
      if (STATE_OF_KIND[kind]) onMemberEvent(kind, p);
  }
}

function onMemberEvent(kind, p) {
  const id = p.member;
  const known = state.members.get(id) || { member: id, online: kind === "member.waiting" };
  const member = Object.assign(known, {
    name: p.name ?? known.name, role: p.role ?? known.role, side: p.side ?? known.side, state: STATE_OF_KIND[kind],
  });
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

/* The version a party confirms: the SHA-256 of the shared record (joint and released entries, corrections
 * applied) as the server computes it (mediation.services.rooms.record_version). */
let versionJob = Promise.resolve();

function recordChanged() {
  versionJob = versionJob.then(async () => {
    const shared = [...state.record.values()].filter((e) => !e.caucus_side || e.released).sort((a, b) => a.id - b.id);
    const body = new TextEncoder().encode(JSON.stringify(shared.map((e) => [e.id, e.text, e.tag])));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    state.recordVersion = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    renderControls();
  }).catch(() => {});
}

function onMuteRequest() {
  const dialog = $("rm-mute-dialog");
  if (dialog && !dialog.open) dialog.showModal();
}

/* ---------------------------------------------------------------------------------------------------
 * Spaces (the same rule as mediation/spaces.py).
 * ------------------------------------------------------------------------------------------------- */

function spaceOf(m) {
  if (!m || m.state !== "admitted") return "lobby";
  const side = state.room.caucus_side;
  if (!side) return "joint";
  if (m.role === "mediator" || m.side === side) return "caucus";
  return m.side ? `waiting:${m.side}` : `waiting:member${m.member}`;
}

const me = () => state.members.get(ME);
const mySpace = () => spaceOf(me());
const isAdmitted = () => me() && me().state === "admitted";
const sameSpace = (m) => isAdmitted() && m.state === "admitted" && spaceOf(m) === mySpace();
const sideName = (side) => S[side] || cfg.sides[side] || side;

function spaceLabel(space) {
  if (space === "joint") return S.joint;
  if (space === "caucus") return `${S.caucus} · ${sideName(state.room.caucus_side)}`;
  if (space === "lobby") return S.lobby;
  return S.waiting;
}

/* ---------------------------------------------------------------------------------------------------
 * Local media.
 * ------------------------------------------------------------------------------------------------- */

const localStream = new MediaStream();
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { max: 24 }, facingMode: "user" };

function mediaNote(text) {
  // What the person can still do without a camera (or microphone), and how to fix it; stays until fixed.
  $("rm-media-note-text").textContent = text;
  $("rm-media-note").hidden = !text;
}

async function startMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    mediaNote(S.no_media);
    return;
  }
  const wantVideo = !state.audioOnly && !videoTrack();
  let denied = false;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: !audioTrack(), video: wantVideo ? VIDEO : false });
    for (const track of stream.getTracks()) localStream.addTrack(track);
  } catch (error) {
    denied = Boolean(error && error.name === "NotAllowedError");
    if (!audioTrack()) {
      try {
        const audio = await navigator.mediaDevices.getUserMedia({ audio: true });
        for (const track of audio.getTracks()) localStream.addTrack(track);
      } catch {
        /* no microphone either: text only */
      }
    }
    if (wantVideo && !videoTrack()) state.audioOnly = true;
  }
  if (audioTrack() && (videoTrack() || !wantVideo)) mediaNote("");
  else if (audioTrack()) mediaNote(denied ? S.camera_denied_audio : S.no_camera);
  else mediaNote(denied ? S.camera_denied_none : S.no_media);
  $("rm-self-video").srcObject = localStream;
  for (const peer of peers.values()) attachLocal(peer);
  sendMedia();
  render();
}

const audioTrack = () => localStream.getAudioTracks()[0];
const videoTrack = () => localStream.getVideoTracks()[0];

function sendMedia() {
  send({ type: "media", audio_only: state.audioOnly || !videoTrack(), muted: state.muted || !audioTrack() });
}

async function setAudioOnly(on) {
  if (on) {
    const track = videoTrack();
    if (track) {
      track.stop();
      localStream.removeTrack(track);
    }
    for (const peer of peers.values()) {
      for (const sender of peer.pc.getSenders()) if (sender.track && sender.track.kind === "video") await sender.replaceTrack(null);
    }
    state.audioOnly = true;
  } else {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
      const track = stream.getVideoTracks()[0];
      localStream.addTrack(track);
      state.audioOnly = false;
      state.camOff = false;
      for (const peer of peers.values()) await sendTrack(peer, track);
    } catch (error) {
      showError(error && error.name === "NotAllowedError" ? S.camera_denied : S.no_media);
    }
  }
  $("rm-self-video").srcObject = localStream;
  sendMedia();
  render();
}

async function sendTrack(peer, track) {
  // Reuse the connection's transceiver of that kind (one that only received so far, or whose track was
  // dropped for audio only); add one otherwise. Either way the connection renegotiates.
  const transceiver = peer.pc.getTransceivers().find(
    (t) => !t.stopped && !t.sender.track && t.receiver.track && t.receiver.track.kind === track.kind,
  );
  if (transceiver) {
    await transceiver.sender.replaceTrack(track);
    if (transceiver.direction === "recvonly") transceiver.direction = "sendrecv";
    else if (transceiver.direction === "inactive") transceiver.direction = "sendonly";
    if (transceiver.sender.setStreams) transceiver.sender.setStreams(localStream);
  } else {
    peer.pc.addTrack(track, localStream);
  }
}

/* ---------------------------------------------------------------------------------------------------
 * WebRTC: a mesh with the members of my space.
 * ------------------------------------------------------------------------------------------------- */

const peers = new Map(); // member id -> peer
const chains = new Map(); // member id -> promise: one signal at a time per peer

function fingerprint(sdp) {
  const match = /a=fingerprint:\S+ (\S+)/.exec(sdp || "");
  return match ? match[1] : "";
}

function attachLocal(peer) {
  const senders = peer.pc.getSenders();
  for (const track of localStream.getTracks()) {
    if (!senders.some((sender) => sender.track === track)) sendTrack(peer, track);
  }
}

function rtcOpen(id, initiator) {
  if (peers.has(id)) return peers.get(id);
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  const peer = {
    id, pc, initiator, polite: ME < id, makingOffer: false, ignoreOffer: false, answerPending: false,
    candidates: [], stream: new MediaStream(), restarts: 0, lostTimer: null, stats: null, prev: null,
  };
  peers.set(id, peer);
  for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
  if (initiator) {
    // Receive what I do not send (audio only, or no devices at all).
    if (!localStream.getAudioTracks().length) pc.addTransceiver("audio", { direction: "recvonly" });
    if (!localStream.getVideoTracks().length) pc.addTransceiver("video", { direction: "recvonly" });
  }
  pc.ontrack = ({ track }) => {
    peer.stream.addTrack(track);
    track.onended = () => peer.stream.removeTrack(track);
    renderTiles();
  };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) send({ type: "signal", to: id, data: { candidate: candidate.toJSON() } });
  };
  pc.onnegotiationneeded = async () => {
    // The newcomer offers: the other side only renegotiates once the first offer has arrived.
    if (!peer.initiator && !pc.remoteDescription) return;
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: "signal", to: id, data: { description: pc.localDescription.toJSON() } });
    } catch (error) {
      console.warn("offer", id, error);
    } finally {
      peer.makingOffer = false;
    }
  };
  pc.oniceconnectionstatechange = () => {
    const ice = pc.iceConnectionState;
    if (ice === "connected" || ice === "completed") {
      peer.restarts = 0;
      clearTimeout(peer.lostTimer);
      peer.lostTimer = null;
    } else if (ice === "failed") {
      restartIce(peer);
    } else if (ice === "disconnected" && !peer.lostTimer) {
      peer.lostTimer = setTimeout(() => {
        peer.lostTimer = null;
        if (["disconnected", "failed"].includes(pc.iceConnectionState)) restartIce(peer);
      }, 2000);
    }
    renderTiles();
  };
  renderTiles();
  return peer;
}

function restartIce(peer) {
  if (!peer.initiator || peers.get(peer.id) !== peer) return;
  peer.restarts += 1;
  if (peer.restarts > 3) {
    // ICE restarts did not help: start a new connection (the other side sees a new fingerprint).
    rtcClose(peer.id);
    if (state.members.get(peer.id) && sameSpace(state.members.get(peer.id))) rtcOpen(peer.id, true);
    return;
  }
  peer.pc.restartIce();
}

function rtcClose(id) {
  const peer = peers.get(id);
  if (!peer) return;
  peers.delete(id);
  clearTimeout(peer.lostTimer);
  peer.pc.ontrack = peer.pc.onicecandidate = peer.pc.onnegotiationneeded = peer.pc.oniceconnectionstatechange = null;
  peer.pc.close();
  renderTiles();
}

function rtcCloseAll() {
  for (const id of [...peers.keys()]) rtcClose(id);
}

function rtcReconcile() {
  // After a space change: drop who is no longer with me at once; of each new pair the higher id offers.
  for (const id of [...peers.keys()]) {
    const other = state.members.get(id);
    if (!other || !other.online || !sameSpace(other)) rtcClose(id);
  }
  if (!isAdmitted()) return;
  for (const other of state.members.values()) {
    if (other.member !== ME && other.online && sameSpace(other) && !peers.has(other.member) && ME > other.member) {
      rtcOpen(other.member, true);
    }
  }
}

function rtcSignal(from, data) {
  const previous = chains.get(from) || Promise.resolve();
  const next = previous.then(() => handleSignal(from, data)).catch((error) => console.warn("signal", from, error));
  chains.set(from, next);
}

async function handleSignal(from, data) {
  let peer = peers.get(from);
  if (data.description) {
    const description = data.description;
    if (description.type === "offer") {
      const other = state.members.get(from);
      if (!other || !sameSpace(other)) return; // the server would not relay it; be safe anyway
      if (peer && peer.pc.remoteDescription && fingerprint(peer.pc.remoteDescription.sdp) !== fingerprint(description.sdp)) {
        rtcClose(from); // the other side started a new connection (reload, reconnect)
        peer = null;
      }
      if (!peer) peer = rtcOpen(from, false);
    } else if (!peer) {
      return;
    }
    const pc = peer.pc;
    const ready = !peer.makingOffer && (pc.signalingState === "stable" || peer.answerPending);
    const collision = description.type === "offer" && !ready;
    peer.ignoreOffer = !peer.polite && collision;
    if (peer.ignoreOffer) return;
    peer.answerPending = description.type === "answer";
    await pc.setRemoteDescription(description);
    peer.answerPending = false;
    for (const candidate of peer.candidates.splice(0)) await pc.addIceCandidate(candidate).catch(() => {});
    if (description.type === "offer") {
      await pc.setLocalDescription();
      send({ type: "signal", to: from, data: { description: pc.localDescription.toJSON() } });
    }
  } else if (data.candidate && peer) {
    if (!peer.pc.remoteDescription) {
      peer.candidates.push(data.candidate);
      return;
    }
    try {
      await peer.pc.addIceCandidate(data.candidate);
    } catch (error) {
      if (!peer.ignoreOffer) console.warn("candidate", from, error);
    }
  }
}

window.addEventListener("online", () => {
  // The network changed: come back at once, and the offerers restart ICE.
  if (!ws) connect();
  for (const peer of peers.values()) if (peer.initiator) peer.pc.restartIce();
});

/* ---------------------------------------------------------------------------------------------------
 * Network quality from getStats(): round-trip time and packet loss.
 * ------------------------------------------------------------------------------------------------- */

async function peerStats(peer) {
  const report = await peer.pc.getStats();
  let rtt = null;
  let lost = 0;
  let received = 0;
  let frames = 0;
  let pairId = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  report.forEach((s) => {
    if (s.type === "candidate-pair" && (s.id === pairId || (!pairId && s.nominated && s.state === "succeeded"))) {
      if (typeof s.currentRoundTripTime === "number") rtt = s.currentRoundTripTime;
    }
    if (s.type === "inbound-rtp") {
      lost += s.packetsLost || 0;
      received += s.packetsReceived || 0;
      if (s.kind === "video") frames += s.framesDecoded || 0;
    }
  });
  const prev = peer.prev || { lost: 0, received: 0 };
  const dl = lost - prev.lost;
  const dr = received - prev.received;
  peer.prev = { lost, received };
  peer.stats = { rtt, loss: dl + dr > 0 ? dl / (dl + dr) : 0, frames };
  return peer.stats;
}

function quality(stats) {
  if (!stats || stats.rtt === null) return "none";
  if (stats.rtt < 0.3 && stats.loss < 0.02) return "good";
  if (stats.rtt < 0.7 && stats.loss < 0.08) return "fair";
  return "poor";
}

async function sampleStats() {
  for (const peer of [...peers.values()]) {
    try {
      await peerStats(peer);
    } catch {
      /* closed meanwhile */
    }
  }
  setNetwork();
  renderTiles();
}
setInterval(sampleStats, 2000);

function setNetwork() {
  const net = $("rm-net");
  let q;
  if (!ws || ws.readyState !== WebSocket.OPEN) q = "none";
  else {
    const levels = [...peers.values()].map((p) => quality(p.stats)).filter((l) => l !== "none");
    q = levels.includes("poor") ? "poor" : levels.includes("fair") ? "fair" : "good";
  }
  net.dataset.q = q;
  $("rm-net-text").textContent = S[`net_${q}`];
}

/* ---------------------------------------------------------------------------------------------------
 * Rendering.
 * ------------------------------------------------------------------------------------------------- */

function roleLabel(m) {
  const role = cfg.roles[m.role] || m.role || "";
  return m.side ? `${role}（${cfg.sides[m.side] || m.side}）` : role;
}

function render() {
  const room = $("room");
  const you = me();
  room.dataset.state = state.stopped ? "ended" : you ? you.state : "connecting";
  room.dataset.space = you ? mySpace() : "";
  $("rm-space").textContent = state.stopped ? S.status_ended : you ? spaceLabel(mySpace()) : S.connecting;
  $("rm-lockmark").hidden = !state.room.locked;
  const lock = $("rm-lock");
  if (lock) lock.textContent = state.room.locked ? S.unlock : S.lock;
  renderWait();
  renderPeople();
  renderTiles();
  renderRecord();
  renderControls();
  const scope = $("rm-chat-scope");
  const space = you ? mySpace() : "";
  scope.textContent = space === "joint" ? S.scope_all
    : space === "caucus" ? fmt(S.scope_caucus, { side: sideName(state.room.caucus_side) })
      : space.startsWith("waiting:") ? S.scope_side : "";
}

function renderWait() {
  const box = $("rm-wait");
  const you = me();
  let text = "";
  if (state.stopped) text = "";
  else if (you && you.state === "waiting") text = S.lobby_wait;
  else if (you && you.state === "refused") text = S.refused;
  else if (you && mySpace().startsWith("waiting:")) text = fmt(S.caucus_wait, { side: sideName(state.room.caucus_side) });
  box.hidden = !text;
  $("rm-wait-text").textContent = text;
}

function personRow(m, actions) {
  const li = el("li", { class: `rm-person${m.online ? " online" : ""}`, "data-member": String(m.member) });
  const who = el("div", { class: "rm-who" },
    el("span", { class: "rm-dot", "aria-hidden": "true" }),
    el("strong", { text: m.name || "" }),
    m.member === ME ? el("span", { class: "rm-me", text: `（${S.you}）` }) : null);
  const meta = [roleLabel(m), spaceLabel(spaceOf(m)), m.online ? S.online : S.offline];
  if (m.muted) meta.push(S.muted);
  if (m.audio_only) meta.push(S.audio_only);
  li.append(who, el("span", { class: "rm-meta", text: meta.join(" · ") }));
  if (actions.length) {
    const box = el("div", { class: "rm-actions" });
    for (const [label, cmd, extra] of actions) {
      box.append(el("button", { type: "button", class: `button${extra || ""}`, text: label, "data-cmd": cmd, "data-member": String(m.member) }));
    }
    li.append(box);
  }
  return li;
}

function renderPeople() {
  const list = $("rm-people");
  const waiting = $("rm-waiting");
  const all = [...state.members.values()].sort((a, b) => a.member - b.member);
  const admitted = all.filter((m) => m.state === "admitted");
  list.replaceChildren(...admitted.map((m) => personRow(m, cfg.mediator && m.member !== ME && m.role !== "mediator"
    ? [[S.ask_mute, "mute_request", ""], [S.remove, "remove", " danger"]] : [])));
  if (waiting) {
    const queue = all.filter((m) => m.state === "waiting");
    waiting.replaceChildren(...queue.map((m) => personRow(m, [[S.admit, "admit", " primary-small"], [S.refuse, "refuse", ""]])));
    $("rm-waiting-box").hidden = !queue.length;
    const count = $("rm-waiting-count");
    count.hidden = !queue.length;
    count.textContent = String(queue.length);
  }
}

function tileFor(id) {
  let tile = document.querySelector(`#rm-tiles [data-member="${id}"]`);
  if (!tile) {
    const video = el("video", { playsInline: true, autoplay: true, muted: !state.audioUnlocked });
    video.setAttribute("playsinline", "");
    tile = el("figure", { class: "rm-tile", "data-member": String(id) },
      video, el("div", { class: "rm-avatar", "aria-hidden": "true" }),
      el("figcaption", {}, el("span", { class: "rm-name" }), el("span", { class: "rm-role" }), el("span", { class: "rm-q" })));
    $("rm-tiles").append(tile);
  }
  return tile;
}

function renderTiles() {
  const shown = new Set();
  if (isAdmitted()) {
    for (const m of state.members.values()) {
      if (m.member === ME || !m.online || !sameSpace(m)) continue;
      shown.add(m.member);
      const tile = tileFor(m.member);
      const peer = peers.get(m.member);
      const video = tile.querySelector("video");
      const stream = peer ? peer.stream : null;
      if (video.srcObject !== stream) {
        video.srcObject = stream;
        if (stream) video.play().catch(() => {});
      }
      const hasVideo = stream && stream.getVideoTracks().length && !m.audio_only;
      tile.classList.toggle("no-video", !hasVideo);
      tile.querySelector(".rm-avatar").textContent = (m.name || "?").slice(0, 1);
      tile.querySelector(".rm-name").textContent = m.name || "";
      const badges = [roleLabel(m)];
      if (m.muted) badges.push(S.muted);
      tile.querySelector(".rm-role").textContent = badges.join(" · ");
      const q = peer ? quality(peer.stats) : "none";
      tile.querySelector(".rm-q").dataset.q = q;
      tile.querySelector(".rm-q").textContent = S[`net_${q}`];
    }
  }
  for (const tile of [...document.querySelectorAll("#rm-tiles [data-member]")]) {
    if (!shown.has(Number(tile.dataset.member))) tile.remove();
  }
  $("rm-tiles").dataset.count = String(shown.size);
  const needsTap = !state.audioUnlocked && shown.size > 0;
  $("rm-tap").hidden = !needsTap;
}

function renderControls() {
  const mic = $("rm-mic");
  mic.textContent = state.muted ? S.mic_off : S.mic_on;
  mic.setAttribute("aria-pressed", String(state.muted));
  mic.disabled = !audioTrack();
  const cam = $("rm-cam");
  cam.textContent = state.camOff ? S.cam_off : S.cam_on;
  cam.setAttribute("aria-pressed", String(state.camOff));
  cam.disabled = !videoTrack();
  const audio = $("rm-audio");
  audio.textContent = state.audioOnly ? S.audio_only_on : S.audio_only_off;
  audio.setAttribute("aria-pressed", String(state.audioOnly));
  $("rm-self").classList.toggle("no-video", !videoTrack() || state.camOff);
  const confirm = $("rm-record-confirm");
  if (confirm) confirm.disabled = !state.recordVersion || !state.record.size || !isAdmitted();
}

function timeOf(at) {
  return clockTime(at, { beijing: S.beijing_time, local: S.local_time });
}

function addChat({ seq, at, name, text, ref, file, pending, actor }) {
  const log = $("rm-chat");
  if (ref) {
    const existing = log.querySelector(`li[data-ref="${CSS.escape(String(ref))}"]`);
    if (existing) {
      existing.classList.remove("pending");
      if (seq) existing.dataset.seq = String(seq);
      return;
    }
  }
  const mine = actor === ME || Boolean(pending);
  const li = el("li", { class: `rm-msg${mine ? " mine" : ""}${pending ? " pending" : ""}` });
  if (ref) li.dataset.ref = String(ref);
  if (seq) li.dataset.seq = String(seq);
  li.append(el("span", { class: "rm-msg-head", text: `${name || ""} ${timeOf(at)}` }));
  if (file) {
    const link = el("a", { class: "rm-file", text: `${S.file}：${file.name || ""}` });
    if (typeof file.url === "string" && file.url.startsWith("/")) link.href = file.url;
    li.append(link);
    if (file.size) {
      const size = file.size < 1024 * 1024 ? `${Math.max(1, Math.round(file.size / 1024))} KB` : `${(file.size / 1048576).toFixed(1)} MB`;
      li.append(el("small", { text: ` ${size}` }));
    }
  } else {
    li.append(el("p", { text: text || "" }));
  }
  log.append(li);
  log.scrollTop = log.scrollHeight;
  const panel = $("panel-chat");
  if (panel.hidden && !mine) {
    state.unreadChat += 1;
    $("rm-chat-count").hidden = false;
    $("rm-chat-count").textContent = String(state.unreadChat);
  }
}

let correcting = null;

function renderRecord() {
  const list = $("rm-record");
  const entries = [...state.record.values()].sort((a, b) => a.id - b.id);
  if (!entries.length) {
    list.replaceChildren(el("li", { class: "rm-empty", text: S.record_empty }));
  } else {
    list.replaceChildren(...entries.map((entry) => {
      const li = el("li", { class: `rm-entry${entry.tag ? ` tag-${entry.tag}` : ""}`, "data-entry": String(entry.id) });
      const head = el("div", { class: "rm-entry-head" });
      if (entry.tag) head.append(el("span", { class: "rm-tag", text: cfg.tags[entry.tag] || entry.tag }));
      if (entry.caucus_side && !entry.released) {
        head.append(el("span", { class: "rm-tag caucus", text: fmt(S.record_caucus, { side: sideName(entry.caucus_side) }) }));
      }
      head.append(el("time", { text: timeOf(entry.at) }));
      li.append(head, el("p", { text: entry.text }));
      if (cfg.mediator) {
        li.append(el("button", { type: "button", class: "link", text: S.record_correct, "data-correct": String(entry.id) }));
      } else if (entry.caucus_side && !entry.released && entry.caucus_side === cfg.side && cfg.role === "party") {
        li.append(el("button", { type: "button", class: "button", text: S.record_release, "data-release": String(entry.id) }));
      }
      return li;
    }));
  }
  $("rm-confirmations").replaceChildren(...state.confirmations.map((c) => el("li", {
    text: fmt(S.record_confirmed_by, { name: c.name || "", version: String(c.version || "").slice(0, 8) }),
  })));
}

function banner(text) {
  const box = $("rm-banner");
  box.textContent = text;
  box.hidden = !text;
}

function showError(text) {
  const box = $("rm-error");
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
  banner(ws ? "" : S.reconnecting);
  if (ws) {
    const top = $("rm-banner");
    top.textContent = text;
    top.hidden = false;
    clearTimeout(showError.top);
    showError.top = setTimeout(() => { if (ws) banner(""); }, 5000);
  }
}

function stopAll(reason) {
  if (state.stopped) return;
  state.stopped = true;
  clearTimeout(reconnectTimer);
  const socket = ws;
  ws = null;
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
  rtcCloseAll();
  for (const track of localStream.getTracks()) track.stop();
  for (const member of state.members.values()) member.online = false;
  banner("");
  const box = $("rm-ended");
  let text = S[reason] || S.ended;
  if (reason === "ended" && state.room.outcome) {
    text = cfg.outcomes[state.room.outcome] || state.room.outcome;
    if (state.room.end_reason) text += `：${cfg.end_reasons[state.room.end_reason] || state.room.end_reason}`;
    if (state.room.continue_at) {
      text += ` · ${dateTimeOf(state.room.continue_at, { beijing: S.beijing_time, local: S.local_time })}`;
    }
  }
  $("rm-ended-title").textContent = reason === "ended" ? S.ended : S.disconnected;
  $("rm-ended-text").textContent = text;
  box.hidden = false;
  render();
  setNetwork();
}

/* ---------------------------------------------------------------------------------------------------
 * The agreement panel (a fragment rendered by the server, escaped there).
 * ------------------------------------------------------------------------------------------------- */

// Someone else's change (a party's assent, the mediator's edit) must not wipe what this person is typing in
// the panel: while a field has focus or unsaved changes, the reload waits until they leave the panel.
let agreementReloadPending = false;

function agreementBusy(panel) {
  const active = document.activeElement;
  if (active && panel.contains(active) && active.matches("input, textarea, select")) return true;
  for (const field of panel.querySelectorAll("input, textarea, select")) {
    if (field.type === "hidden" || field.type === "submit") continue;
    if (field.tagName === "SELECT") {
      // A select with no option marked selected starts on its first option.
      const marked = [...field.options].some((o) => o.defaultSelected);
      const initial = (o, i) => (marked ? o.defaultSelected : i === 0 && !field.multiple);
      if ([...field.options].some((o, i) => o.selected !== initial(o, i))) return true;
    } else if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked !== field.defaultChecked) return true;
    } else if (field.value !== field.defaultValue) {
      return true;
    }
  }
  return false;
}

function refreshAgreementSoon() {
  const panel = $("agreement-panel");
  if (panel && agreementBusy(panel)) {
    agreementReloadPending = true;
    return;
  }
  agreementReloadPending = false;
  loadAgreement();
}

{
  const panel = $("agreement-panel");
  if (panel) {
    panel.addEventListener("focusout", () => {
      setTimeout(() => { if (agreementReloadPending && !agreementBusy(panel)) refreshAgreementSoon(); }, 0);
    });
  }
}

async function loadAgreement() {
  const panel = $("agreement-panel");
  const url = panel && panel.dataset.url;
  if (!url) return;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    // 403 carries the reason as a fragment (e.g. nothing to read yet): show it like the panel itself.
    if (!response.ok && response.status !== 403) throw new Error(String(response.status));
    panel.innerHTML = await response.text();
  } catch {
    panel.replaceChildren(el("p", { class: "hint", text: S.agreement_error }));
  }
}

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
  const track = audioTrack();
  if (!track) return;
  state.muted = !state.muted;
  track.enabled = !state.muted;
  sendMedia();
  render();
});
$("rm-cam").addEventListener("click", () => {
  const track = videoTrack();
  if (!track) return;
  state.camOff = !state.camOff;
  track.enabled = !state.camOff;
  render();
});
$("rm-audio").addEventListener("click", () => setAudioOnly(!state.audioOnly));
$("rm-media-retry").addEventListener("click", () => {
  state.audioOnly = false;
  startMedia();
});
$("rm-mute-now").addEventListener("click", () => {
  const track = audioTrack();
  if (track) {
    state.muted = true;
    track.enabled = false;
    sendMedia();
    render();
  }
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
    if (tab.id === "tab-chat") {
      state.unreadChat = 0;
      $("rm-chat-count").hidden = true;
    }
  });
}

$("rm-chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = $("rm-chat-text");
  const text = field.value.trim();
  if (!text) return;
  const frame = { type: "chat", ref: newRef(), text };
  addChat({ name: me() ? me().name : "", text, ref: frame.ref, pending: true });
  sendStored(frame);
  field.value = "";
});
$("rm-chat-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("rm-chat-form").requestSubmit();
  }
});

$("rm-file").addEventListener("change", () => {
  const input = $("rm-file");
  const file = input.files && input.files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  data.append("name", file.name);
  const xhr = new XMLHttpRequest();
  const status = $("rm-upload-status");
  const bar = $("rm-upload-bar");
  const label = $("rm-upload-text");
  status.hidden = false;
  bar.value = 0;
  label.textContent = S.uploading;
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
  };
  xhr.onload = () => {
    let body = {};
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      /* not JSON */
    }
    if (xhr.status >= 200 && xhr.status < 300) {
      bar.value = 100;
      label.textContent = S.uploaded;
    } else {
      label.textContent = `${S.upload_failed}：${body.message || xhr.status}`;
    }
    input.value = "";
  };
  xhr.onerror = () => {
    label.textContent = S.upload_failed;
    input.value = "";
  };
  xhr.open("POST", cfg.files_url);
  xhr.setRequestHeader("X-CSRFToken", document.querySelector("#rm-upload [name=csrfmiddlewaretoken]").value);
  xhr.send(data);
});

document.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target) return;
  const cmd = target.dataset.cmd;
  if (cmd === "admit" || cmd === "refuse" || cmd === "mute_request") {
    sendControl({ type: cmd, member: Number(target.dataset.member) });
  } else if (cmd === "remove") {
    const m = state.members.get(Number(target.dataset.member));
    if (window.confirm(fmt(S.confirm_remove, { name: m ? m.name : "" }))) sendControl({ type: "remove", member: m.member });
  } else if (cmd === "caucus") {
    sendControl({ type: "caucus", side: target.dataset.side });
  } else if (cmd === "joint") {
    sendControl({ type: "joint" });
  } else if (cmd === "lock") {
    sendControl({ type: "lock", locked: !state.room.locked });
  } else if (target.dataset.correct) {
    const entry = state.record.get(Number(target.dataset.correct));
    if (!entry) return;
    correcting = entry.id;
    $("rm-correcting").hidden = false;
    $("rm-correcting").querySelector("span").textContent = `${S.record_correcting}${entry.text.slice(0, 40)}`;
    $("rm-record-text").value = entry.text;
    $("rm-record-text").focus();
  } else if (target.dataset.release) {
    sendStored({ type: "record.release", ref: newRef(), entry: Number(target.dataset.release) });
  }
});

const recordForm = $("rm-record-form");
if (recordForm) {
  recordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("rm-record-text").value.trim();
    if (!text) return;
    const tag = (recordForm.querySelector("input[name=tag]:checked") || { value: "" }).value;
    const frame = { type: "record.add", ref: newRef(), text, tag };
    if (correcting) frame.supersedes = correcting;
    sendStored(frame);
    correcting = null;
    $("rm-correcting").hidden = true;
    $("rm-record-text").value = "";
  });
  $("rm-correct-cancel").addEventListener("click", () => {
    correcting = null;
    $("rm-correcting").hidden = true;
    $("rm-record-text").value = "";
  });
}

const confirmButton = $("rm-record-confirm");
if (confirmButton) {
  confirmButton.addEventListener("click", () => {
    if (!state.recordVersion) return;
    sendStored({ type: "record.confirm", ref: newRef(), version: state.recordVersion });
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
  connected: () => Boolean(ws && ws.readyState === WebSocket.OPEN && state.you),
  cutSocket(holdMs = 0) {
    holdUntil = Date.now() + holdMs;
    if (ws) ws.close();
  },
};

render();
// Connect once the camera is ready (offers then carry it), or after 8 s if a permission prompt is still
// open: tracks that come later are added to the connections and renegotiated.
Promise.race([startMedia(), new Promise((resolve) => { setTimeout(resolve, 8000); })]).finally(connect);
loadAgreement();
