/* The SFU client's rules, pure (tests/js/sfurules.test.mjs checks them): which media path the welcome asks
 * for (mesh or SFU, docs/protocol.md "Media"), which simulcast layer to receive on a link of a given quality,
 * and the join / leave / rejoin steps when the server moves me to another space's Janus room. */

/** The media target a welcome or a `media.rejoin` frame names: {server, token, room, feed} on the SFU, `null`
 * for no Janus room (not admitted yet, a helper waiting alone, Janus unreachable, or the mesh). */
export function sfuTarget(media) {
  if (!media || media.mode !== "sfu" || media.error) return null;
  const server = media.janus_url || media.server;
  if (!server || media.room === undefined || media.room === null || media.room === "") return null;
  const feed = Number.isInteger(media.feed) ? media.feed : null;
  return { server: String(server), token: media.token ? String(media.token) : "", room: media.room, feed };
}

/** "sfu" when the welcome's `media.mode` says so, "mesh" otherwise (a server without Janus sends no `media`,
 * or `{"mode": "mesh"}`): both paths stay. */
export function mediaMode(welcome) {
  return welcome && welcome.media && welcome.media.mode === "sfu" ? "sfu" : "mesh";
}

/** Simulcast layers, as Janus numbers them: 0 the lowest resolution and bitrate, 2 the highest. */
export const LOW = 0;
export const HIGH = 2;
/** Good measurements in a row before going up one layer (each is one stats sample, 2 s apart). */
export const UP_AFTER = 3;

/** The layer to receive after one quality sample ("good" | "fair" | "poor" | "none", quality.js), from
 * `{substream, good}` (the current layer and the good samples in a row). Down at once on a weak link (poor:
 * the lowest layer, fair: at most the middle one); up one layer at a time, only after UP_AFTER good samples;
 * no measurement changes nothing. */
export function nextSubstream(current, level) {
  const substream = current && Number.isInteger(current.substream) ? current.substream : HIGH;
  const good = current && current.good ? current.good : 0;
  switch (level) {
    case "poor":
      return { substream: LOW, good: 0 };
    case "fair":
      return { substream: Math.min(substream, 1), good: 0 };
    case "good": {
      if (substream >= HIGH) return { substream: HIGH, good: 0 };
      if (good + 1 >= UP_AFTER) return { substream: substream + 1, good: 0 };
      return { substream, good: good + 1 };
    }
    default:
      return { substream, good };
  }
}

const sameTarget = (a, b) => Boolean(a && b && a.server === b.server && String(a.room) === String(b.room) && a.token === b.token);

/** The session with Janus as a state machine: `phase` is idle | joining | joined | leaving; `at` the target of
 * the session in that phase, `want` the one the server asked for last. `sfuStep(machine, event)` returns
 * `{machine, action}`, `action` being "join" (open a session to `machine.at`), "leave" (close the session),
 * "retry" (join again after a pause) or "" (nothing to do). Events:
 * {type: "target", target, force} (welcome, or media.rejoin with `force`: the server recreated the rooms, so
 * even the same room number is left and joined again; `null`: no room), {type: "joined", room},
 * {type: "left"}, {type: "failed", room}. A late answer about a room I no longer want is ignored. */
export function sfuMachine() {
  return { phase: "idle", at: null, want: null };
}

export function sfuStep(m, event) {
  switch (event.type) {
    case "target": {
      const want = event.target || null;
      if (m.phase === "idle") {
        return want ? { machine: { phase: "joining", at: want, want }, action: "join" } : { machine: { ...m, want }, action: "" };
      }
      if (m.phase === "leaving") return { machine: { ...m, want }, action: "" };
      if (sameTarget(m.at, want) && !event.force) return { machine: { ...m, want }, action: "" };
      return { machine: { phase: "leaving", at: m.at, want }, action: "leave" };
    }
    case "joined":
      if (m.phase !== "joining" || String(event.room) !== String(m.at && m.at.room)) return { machine: m, action: "" };
      return { machine: { ...m, phase: "joined" }, action: "" };
    case "left":
      if (m.want) return { machine: { phase: "joining", at: m.want, want: m.want }, action: "join" };
      return { machine: { phase: "idle", at: null, want: null }, action: "" };
    case "failed":
      // The session broke (Janus restarted, a kick, a refused join): close what is left; join again if the
      // server still wants me there (a `target` may name another room meanwhile).
      if (m.phase === "idle") return { machine: m, action: "" };
      if (m.phase === "leaving") return { machine: m, action: "" };
      if (event.room !== undefined && String(event.room) !== String(m.at && m.at.room)) return { machine: m, action: "" };
      return { machine: { phase: "leaving", at: m.at, want: m.want }, action: "retry" };
    default:
      return { machine: m, action: "" };
  }
}
