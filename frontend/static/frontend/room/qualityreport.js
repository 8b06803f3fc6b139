/* What the room client tells the server about its own connection, for the staff's live view (issue 14 item 3,
 * docs/protocol.md "quality"): the level the room's mark shows, the worst round-trip time and loss of its
 * connections, and when to send it. Pure, so tests/js checks it. */

/** Levels the server accepts; "reconnecting" (a connection coming back) is reported as "lost", and "good"
 * with nothing measured as "none". */
const LEVELS = new Set(["good", "fair", "poor", "lost", "none"]);

/** The frame body: `level` as setNetwork() returns it, `statsList` the last getStats summaries (quality.js:
 * rtt and jitter in seconds, loss a fraction) of every connection. */
export function qualityReport(level, statsList) {
  const measured = statsList.filter((s) => s && typeof s.rtt === "number");
  const rtt = measured.length ? Math.max(...measured.map((s) => s.rtt)) : null;
  const losses = statsList.filter((s) => s && typeof s.loss === "number").map((s) => s.loss);
  let reported = LEVELS.has(level) ? level : level === "reconnecting" ? "lost" : "none";
  // The room's mark says 良好 with no connection at all (the waiting room); staff should read "nothing measured".
  if (reported === "good" && !measured.length) reported = "none";
  return {
    type: "quality",
    level: reported,
    rtt_ms: rtt === null ? null : Math.min(60000, Math.round(rtt * 1000)),
    loss_pct: losses.length ? Math.min(100, Math.round(Math.max(...losses) * 1000) / 10) : null,
  };
}

/** Whether to send `next` now, `last` being what was sent and when ({level, at}): on a change of level, but
 * never twice within `minMs`; unchanged, again after `repeatMs` (the server forgets a report after a minute). */
export function reportDue(last, next, now, { minMs = 5000, repeatMs = 20000 } = {}) {
  if (!last) return true;
  const since = now - last.at;
  if (since < minMs) return false;
  return next.level !== last.level || since >= repeatMs;
}
