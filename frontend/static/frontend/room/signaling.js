/* WebRTC: a mesh with the members of my space. The newcomer offers, perfect negotiation settles collisions
 * (negotiation.js), trickle ICE, ICE restart and, when restarts do not help, a new connection. */

import { ME, amAdmitted, me, state } from "./context.js";
import { localStream, onLocalTrackReplaced } from "./media.js";
import { acceptDescription, iceRecovery, isNewConnection, mayOffer, negotiation } from "./negotiation.js";
import { flowing, reconnecting, summarize } from "./quality.js";
import { send } from "./reconnect.js";
import { sfuActive, sfuLocalChanged } from "./sfu.js";
import { meshChanges, sameSpace } from "./spaces.js";
import { renderTiles } from "./view.js";

export const peers = new Map(); // member id -> peer
const chains = new Map(); // member id -> promise: one signal at a time per peer

const inMySpace = (other) => sameSpace(me(), other, state.room.caucus_side);

/** Send `track` on a connection: reuse its transceiver of that kind (one that only received so far, or whose
 * track was dropped for audio only); add one otherwise. Either way the connection renegotiates. */
export async function sendTrack(peer, track) {
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

/** Local tracks that came later (a permission granted after connecting) go to every connection. */
export function attachLocal() {
  if (sfuActive()) return sfuLocalChanged(); // the SFU carries the media (sfu.js): publish anew
  for (const peer of peers.values()) {
    const senders = peer.pc.getSenders();
    for (const track of localStream.getTracks()) {
      if (!senders.some((sender) => sender.track === track)) sendTrack(peer, track);
    }
  }
}

/** Audio only: stop sending video on every connection (the track itself is already stopped). */
export async function dropVideo() {
  if (sfuActive()) return sfuLocalChanged();
  for (const peer of peers.values()) {
    for (const sender of peer.pc.getSenders()) if (sender.track && sender.track.kind === "video") await sender.replaceTrack(null);
  }
}

export async function sendVideo(track) {
  if (sfuActive()) return sfuLocalChanged();
  for (const peer of peers.values()) await sendTrack(peer, track);
}

export function rtcOpen(id, initiator) {
  if (sfuActive()) return null; // no mesh connections while the room runs on the SFU
  if (peers.has(id)) return peers.get(id);
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  const peer = { id, pc, neg: negotiation(ME, id, initiator), candidates: [], stream: new MediaStream(),
    lostTimer: null, stats: null, prev: null, restartedAt: 0, flowingAt: 0 };
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
    if (!mayOffer(peer.neg, Boolean(pc.remoteDescription))) return;
    try {
      peer.neg.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: "signal", to: id, data: { description: pc.localDescription.toJSON() } });
    } catch (error) {
      console.warn("offer", id, error);
    } finally {
      peer.neg.makingOffer = false;
    }
  };
  pc.oniceconnectionstatechange = () => {
    const ice = pc.iceConnectionState;
    if (ice === "connected" || ice === "completed") {
      peer.neg.restarts = 0;
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
  if (peers.get(peer.id) !== peer) return;
  const step = iceRecovery(peer.neg);
  if (step === "recreate") {
    // ICE restarts did not help: start a new connection (the other side sees a new fingerprint).
    rtcClose(peer.id);
    const other = state.members.get(peer.id);
    if (other && inMySpace(other)) rtcOpen(peer.id, true);
  } else if (step === "restart") {
    iceRestart(peer);
  }
}

/** Restart ICE on one connection (new ufrag, renegotiated): shown as "正在重新连接…" until media flows again. */
function iceRestart(peer) {
  peer.restartedAt = Date.now();
  peer.restarts = (peer.restarts || 0) + 1;
  peer.pc.restartIce();
  renderTiles();
}

/** Whether the connection with `peer` is coming back (ICE down, or restarted and no media since). */
export const peerReconnecting = (peer) => reconnecting(peer.pc.iceConnectionState, peer.restartedAt, peer.flowingAt);

const ufrag = (sdp) => (/a=ice-ufrag:(\S+)/.exec(sdp || "") || [])[1] || "";

/** A re-acquired local track (media.js): onto every sender that carried the old one. */
onLocalTrackReplaced(async (kind, track, old) => {
  for (const peer of peers.values()) {
    const sender = peer.pc.getSenders().find((s) => s.track && (s.track === old || (s.track.kind === kind && s.track.readyState === "ended")));
    if (sender) await sender.replaceTrack(track);
    else await sendTrack(peer, track);
  }
});

export function rtcClose(id) {
  const peer = peers.get(id);
  if (!peer) return;
  peers.delete(id);
  clearTimeout(peer.lostTimer);
  peer.pc.ontrack = peer.pc.onicecandidate = peer.pc.onnegotiationneeded = peer.pc.oniceconnectionstatechange = null;
  peer.pc.close();
  renderTiles();
}

export function rtcCloseAll() {
  for (const id of [...peers.keys()]) rtcClose(id);
}

/** After a space change: drop who is no longer with me at once; of each new pair the higher id offers. */
export function rtcReconcile() {
  if (sfuActive()) return; // the server moves me between Janus rooms (media.rejoin)
  const changes = meshChanges(state.members, ME, state.room.caucus_side, new Set(peers.keys()));
  for (const id of changes.close) rtcClose(id);
  if (!amAdmitted()) return;
  for (const id of changes.open) rtcOpen(id, true);
}

export function rtcSignal(from, data) {
  const previous = chains.get(from) || Promise.resolve();
  const next = previous.then(() => handleSignal(from, data)).catch((error) => console.warn("signal", from, error));
  chains.set(from, next);
}

async function handleSignal(from, data) {
  if (sfuActive()) return;
  let peer = peers.get(from);
  if (data.description) {
    const description = data.description;
    if (description.type === "offer") {
      const other = state.members.get(from);
      if (!other || !inMySpace(other)) return; // the server would not relay it; be safe anyway
      if (peer && isNewConnection(peer.pc.remoteDescription, description)) {
        rtcClose(from); // the other side started a new connection (reload, reconnect)
        peer = null;
      }
      if (!peer) peer = rtcOpen(from, false);
      else if (peer.pc.remoteDescription && ufrag(peer.pc.remoteDescription.sdp) !== ufrag(description.sdp)) {
        peer.restartedAt = Date.now(); // the other side restarted ICE: coming back here too
      }
    } else if (!peer) {
      return;
    }
    const pc = peer.pc;
    if (!acceptDescription(peer.neg, description.type, pc.signalingState)) return;
    await pc.setRemoteDescription(description);
    peer.neg.answerPending = false;
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
      if (!peer.neg.ignoreOffer) console.warn("candidate", from, error);
    }
  }
}

/** Round-trip time, loss and frames decoded of one connection, kept on the peer for the quality marks. */
export async function peerStats(peer) {
  const report = await peer.pc.getStats();
  const { stats, counters } = summarize([...report.values()], peer.prev);
  // Media flowed in an interval that began after the last restart (so not the frames from before it).
  if (flowing(peer.stats, stats) && peer.sampledAt > peer.restartedAt) peer.flowingAt = Date.now();
  peer.sampledAt = Date.now();
  peer.prev = counters;
  peer.stats = stats;
  return stats;
}

/** The network changed (Wi-Fi ↔ 4G, back online): the offerers restart ICE on every connection
 * (reconnect.js brings the socket back). */
export function restartAllIce() {
  for (const peer of peers.values()) if (peer.neg.initiator) iceRestart(peer);
}
window.addEventListener("online", restartAllIce);
if (navigator.connection && navigator.connection.addEventListener) navigator.connection.addEventListener("change", restartAllIce);
