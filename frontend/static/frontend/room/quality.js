/* Network quality from getStats(): round-trip time, packet loss and jitter → 良好 / 一般 / 较差 / 已断开 per
 * participant; whether a peer is coming back (ICE restart); when to propose audio only. Pure: works on the list
 * of stats, so the mesh (signaling.js) and the SFU module (sfu.js) classify the same way, and tests/js checks it. */

/** Round-trip time, the loss since the previous sample and frames decoded, from one getStats() report
 * (its values as a list). `previous` is what the last call returned as `counters`. */
export function summarize(reports, previous) {
  let rtt = null;
  let lost = 0;
  let received = 0;
  let frames = 0;
  let jitter = null;
  let audioEnergy = 0;
  let pairId = null;
  for (const s of reports) if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  for (const s of reports) {
    if (s.type === "candidate-pair" && (s.id === pairId || (!pairId && s.nominated && s.state === "succeeded"))) {
      if (typeof s.currentRoundTripTime === "number") rtt = s.currentRoundTripTime;
    }
    if (s.type === "inbound-rtp") {
      lost += s.packetsLost || 0;
      received += s.packetsReceived || 0;
      if (s.kind === "video") frames += s.framesDecoded || 0;
      if (typeof s.jitter === "number") jitter = Math.max(jitter || 0, s.jitter);
      if (s.kind === "audio") audioEnergy += s.totalAudioEnergy || 0;
    }
  }
  const prev = previous || { lost: 0, received: 0 };
  const dl = lost - prev.lost;
  const dr = received - prev.received;
  return {
    stats: { rtt, loss: dl + dr > 0 ? dl / (dl + dr) : 0, frames, jitter, audioEnergy },
    counters: { lost, received },
  };
}

/** ICE states in which no media flows. */
const LOST_ICE = new Set(["disconnected", "failed", "closed"]);

/** "good" (良好), "fair" (一般), "poor" (较差), "lost" (已断开: ICE down), or "none" without a measurement.
 * Round-trip time and jitter in seconds (as getStats gives them), loss as a fraction of the last interval. */
export function quality(stats, iceState = "") {
  if (LOST_ICE.has(iceState)) return "lost";
  if (!stats || stats.rtt === null) return "none";
  const jitter = typeof stats.jitter === "number" ? stats.jitter : 0;
  if (stats.rtt < 0.3 && stats.loss < 0.02 && jitter < 0.03) return "good";
  if (stats.rtt < 0.7 && stats.loss < 0.08 && jitter < 0.1) return "fair";
  return "poor";
}

/** Whether a peer is "reconnecting" (正在重新连接…): its ICE is down, or an ICE restart was started and media
 * has not flowed since (`restartedAt` the time of the restart, `flowingAt` the last sample whose frames or
 * audio energy rose). */
export function reconnecting(iceState, restartedAt, flowingAt) {
  if (iceState === "disconnected" || iceState === "failed") return true;
  return Boolean(restartedAt) && !(flowingAt > restartedAt);
}

/** Whether media flowed between two samples: video frames decoded or received audio energy rose. */
export function flowing(before, after) {
  if (!before || !after) return false;
  return after.frames > before.frames || after.audioEnergy > before.audioEnergy;
}

/** Propose audio only after `samples` samples in a row rated "poor" (or lost) while video is sent and the
 * person has not said no: `history` is the list of the room's overall levels, newest last. */
export function proposeAudioOnly(history, { sendingVideo, declined, samples = 3 }) {
  if (!sendingVideo || declined || history.length < samples) return false;
  return history.slice(-samples).every((level) => level === "poor" || level === "lost");
}

/** The room's quality: "none" without a socket, else the worst measured connection ("good" with none). */
export function overall(socketOpen, levels) {
  if (!socketOpen) return "none";
  const measured = levels.filter((l) => l !== "none");
  if (measured.includes("lost")) return "lost";
  return measured.includes("poor") ? "poor" : measured.includes("fair") ? "fair" : "good";
}
