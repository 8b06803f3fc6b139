/* When, and whether, the room's socket comes back after it closed (close codes in docs/protocol.md).
 * Pure: the socket module asks, tests/js checks. */

/** Close codes after which reconnecting would be refused again: the page stops and says why. */
export const NO_RETRY = Object.freeze({
  4401: "sign_in", 4403: "not_found", 4410: "ended", 4408: "removed", 4001: "replaced", 4423: "locked_out",
});
/** The checks (identity, notices) must be passed again: back to the way in. */
export const REJOIN = 4412;
/** Too many connections too fast: wait longer than the usual back-off. */
export const RATE_LIMITED = 4429;

/** What to do after the socket closed with `code`: {action: "stop", reason} | {action: "rejoin"} | {action: "retry"}. */
export function afterClose(code) {
  const reason = NO_RETRY[code];
  if (reason) return { action: "stop", reason };
  if (code === REJOIN) return { action: "rejoin" };
  return { action: "retry" };
}

/** Milliseconds before the next attempt: 250 ms doubling up to 8 s (5 s when rate limited), plus up to 30 %
 * jitter so a room whose server restarted does not come back all at once. */
export function reconnectDelay(attempts, code, random = Math.random) {
  const base = code === RATE_LIMITED ? 5000 : Math.min(8000, 250 * 2 ** attempts);
  return base + random() * base * 0.3;
}

/** A socket that sent nothing for two heartbeats is dead (a handshake gets 5 s). */
export function socketDead(silenceMs, open, heartbeatMs) {
  return silenceMs > (open ? 2 * heartbeatMs : 5000);
}
