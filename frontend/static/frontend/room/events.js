/* The room's event log as the page keeps it: each event applied once by its seq, the live record and its
 * version. Pure (crypto.subtle is in browsers and in Node), checked by tests/js. */

/** Events are applied by seq actually seen, not by "seq <= lastSeq": the welcome after my admission replays
 * from 0 events I could not see from the waiting room. `lastSeq` is what a reconnect asks to resume from. */
export class SeqLog {
  constructor() {
    this.seen = new Set();
    this.lastSeq = 0;
  }

  /** True the first time `seq` comes, false for a repeat (a replay after a reconnect). */
  accept(seq) {
    if (this.seen.has(seq)) return false;
    this.seen.add(seq);
    this.advance(seq);
    return true;
  }

  advance(seq) {
    this.lastSeq = Math.max(this.lastSeq, seq || 0);
  }
}

/** The ref that matches a chat event to my pending bubble: only my own messages may, since another member's
 * client_id is theirs to choose and could copy one of my refs to hide what I sent behind what they sent. */
export function chatRef(event, meId) {
  return event.actor === meId ? (event.payload || {}).client_id : "";
}

/** A record entry added, corrected (it supersedes another) or released; an acknowledged one stops being pending. */
export function applyRecordEntry(record, pending, entry) {
  if (entry.supersedes) record.delete(entry.supersedes);
  record.set(entry.id, entry);
  if (entry.client_id) pending.delete(entry.client_id);
}

export const byId = (record) => [...record.values()].sort((a, b) => a.id - b.id);

/** The entries every member sees: joint ones and released caucus ones, in order. */
export const sharedEntries = (record) => byId(record).filter((e) => !e.caucus_side || e.released);

/** The version a party confirms: the SHA-256 of the shared record as the server computes it
 * (mediation record_version): the JSON of [id, text, tag] of each shared entry. */
export async function recordVersion(record, subtle = globalThis.crypto.subtle) {
  const body = new TextEncoder().encode(JSON.stringify(sharedEntries(record).map((e) => [e.id, e.text, e.tag])));
  const digest = new Uint8Array(await subtle.digest("SHA-256", body));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Member events and the state each one leaves the member in. */
export const STATE_OF_KIND = Object.freeze({
  "member.waiting": "waiting",
  "member.admitted": "admitted",
  "member.refused": "refused",
  "member.removed": "removed",
  "member.left": "left",
});

/** The member after a member event: what the event says wins, the rest stays as known. ``selftest`` (the
 * latest pre-join self-test verdict, or null) is kept only when the event carries it. */
export function memberAfter(known, kind, payload) {
  const member = known || { member: payload.member, online: kind === "member.waiting" };
  if (payload.selftest !== undefined) member.selftest = payload.selftest;
  return Object.assign(member, {
    name: payload.name ?? member.name,
    role: payload.role ?? member.role,
    side: payload.side ?? member.side,
    state: STATE_OF_KIND[kind],
  });
}
