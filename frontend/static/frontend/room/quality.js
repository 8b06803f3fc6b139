/* Network quality from getStats(): round-trip time and packet loss. Pure: works on the list of stats. */

/** Round-trip time, the loss since the previous sample and frames decoded, from one getStats() report
 * (its values as a list). `previous` is what the last call returned as `counters`. */
export function summarize(reports, previous) {
  let rtt = null;
  let lost = 0;
  let received = 0;
  let frames = 0;
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
    }
  }
  const prev = previous || { lost: 0, received: 0 };
  const dl = lost - prev.lost;
  const dr = received - prev.received;
  return { stats: { rtt, loss: dl + dr > 0 ? dl / (dl + dr) : 0, frames }, counters: { lost, received } };
}

/** "good", "fair", "poor", or "none" without a measurement. */
export function quality(stats) {
  if (!stats || stats.rtt === null) return "none";
  if (stats.rtt < 0.3 && stats.loss < 0.02) return "good";
  if (stats.rtt < 0.7 && stats.loss < 0.08) return "fair";
  return "poor";
}

/** The room's quality: "none" without a socket, else the worst measured connection ("good" with none). */
export function overall(socketOpen, levels) {
  if (!socketOpen) return "none";
  const measured = levels.filter((l) => l !== "none");
  return measured.includes("poor") ? "poor" : measured.includes("fair") ? "fair" : "good";
}
