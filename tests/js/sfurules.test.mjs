// The SFU client's pure rules: mesh or SFU from the welcome, the simulcast layer on a weak link, and the
// join / leave / rejoin steps when the server moves a member to another space's Janus room.
import assert from "node:assert/strict";
import { test } from "node:test";

import { HIGH, LOW, UP_AFTER, mediaMode, nextSubstream, sfuMachine, sfuStep, sfuTarget } from "../../frontend/static/frontend/room/sfurules.js";

const JOINT = { mode: "sfu", server: "ws://127.0.0.1:8188/", token: "tok-a", room: 1001 };
const CAUCUS = { mode: "sfu", server: "ws://127.0.0.1:8188/", token: "tok-b", room: 1002 };

test("the welcome tells mesh from SFU; a server without Janus keeps the mesh", () => {
  assert.equal(mediaMode({ type: "welcome" }), "mesh");
  assert.equal(mediaMode({ type: "welcome", media: { mode: "mesh" } }), "mesh");
  assert.equal(mediaMode({ type: "welcome", media: JOINT }), "sfu");
  assert.equal(mediaMode(null), "mesh");
});

test("a target needs a server and a room; lobby (room null) is no target", () => {
  assert.deepEqual(sfuTarget(JOINT), { server: "ws://127.0.0.1:8188/", token: "tok-a", room: 1001, feed: null });
  // The server's shape (realtime/sfu.py): janus_url, the member's feed id; Janus unreachable: no target.
  const server = { mode: "sfu", janus_url: "ws://127.0.0.1:8188/", token: "t".repeat(16), room: 1000049, feed: 12, space: "joint" };
  assert.deepEqual(sfuTarget(server), { server: "ws://127.0.0.1:8188/", token: "t".repeat(16), room: 1000049, feed: 12 });
  assert.equal(sfuTarget({ ...server, error: "unavailable" }), null);
  assert.equal(sfuTarget({ mode: "sfu", janus_url: "ws://x/", token: "t", space: "waiting:member3" }), null);
  assert.equal(sfuTarget({ ...JOINT, room: null }), null);
  assert.equal(sfuTarget({ ...JOINT, server: "" }), null);
  assert.equal(sfuTarget({ mode: "mesh", room: 1 }), null);
  assert.equal(sfuTarget(undefined), null);
  assert.equal(sfuTarget({ ...JOINT, room: 0 }).room, 0);
});

test("weak link: down to the lowest layer at once, up one layer after several good samples", () => {
  let s = nextSubstream(null, "none");
  assert.equal(s.substream, HIGH);
  s = nextSubstream(s, "poor");
  assert.equal(s.substream, LOW);
  for (let i = 0; i < UP_AFTER - 1; i += 1) {
    s = nextSubstream(s, "good");
    assert.equal(s.substream, LOW, `still low after ${i + 1} good samples`);
  }
  s = nextSubstream(s, "good");
  assert.equal(s.substream, 1);
  s = nextSubstream(s, "none"); // no measurement: no change
  assert.equal(s.substream, 1);
  s = nextSubstream(s, "fair");
  assert.equal(s.substream, 1);
  s = nextSubstream({ substream: HIGH, good: 0 }, "fair");
  assert.equal(s.substream, 1);
  s = nextSubstream({ substream: 1, good: UP_AFTER - 1 }, "poor");
  assert.deepEqual(s, { substream: LOW, good: 0 });
  s = nextSubstream({ substream: HIGH, good: 0 }, "good");
  assert.equal(s.substream, HIGH);
});

function run(events) {
  let m = sfuMachine();
  const actions = [];
  for (const e of events) {
    const r = sfuStep(m, e);
    m = r.machine;
    actions.push(r.action);
  }
  return { m, actions };
}

test("join the welcome's room; the same target again does nothing", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "joined", room: 1001 },
    { type: "target", target: sfuTarget(JOINT) }]);
  assert.deepEqual(actions, ["join", "", ""]);
  assert.equal(m.phase, "joined");
  assert.equal(m.at.room, 1001);
});

test("rejoin: leave the old room first, then join the new one", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "joined", room: 1001 },
    { type: "target", target: sfuTarget(CAUCUS) }, { type: "left" }, { type: "joined", room: 1002 }]);
  assert.deepEqual(actions, ["join", "", "leave", "join", ""]);
  assert.equal(m.phase, "joined");
  assert.equal(m.at.room, 1002);
  assert.equal(m.at.token, "tok-b");
});

test("caucus start and end in quick succession: only the last target is joined", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "joined", room: 1001 },
    { type: "target", target: sfuTarget(CAUCUS) }, { type: "target", target: sfuTarget(JOINT) }, { type: "left" }]);
  assert.deepEqual(actions, ["join", "", "leave", "", "join"]);
  assert.equal(m.at.room, 1001);
});

test("a move while still joining leaves, and the late 'joined' of the old room is ignored", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "target", target: sfuTarget(CAUCUS) },
    { type: "joined", room: 1001 }, { type: "left" }]);
  assert.deepEqual(actions, ["join", "leave", "", "join"]);
  assert.equal(m.phase, "joining");
  assert.equal(m.at.room, 1002);
});

test("no room any more (sent to the lobby, or the page stops): leave and stay idle", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "joined", room: 1001 },
    { type: "target", target: null }, { type: "left" }]);
  assert.deepEqual(actions, ["join", "", "leave", ""]);
  assert.deepEqual(m, sfuMachine());
});

test("a broken session (kick, Janus gone) is retried for the room still wanted, not for a stale one", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "joined", room: 1001 },
    { type: "failed", room: 999 }, { type: "failed", room: 1001 }, { type: "failed", room: 1001 }, { type: "left" }]);
  assert.deepEqual(actions, ["join", "", "", "retry", "", "join"]);
  assert.equal(m.phase, "joining");
  assert.equal(m.at.room, 1001);
});

test("idle without a target ignores stray answers", () => {
  const { m, actions } = run([{ type: "joined", room: 1 }, { type: "failed", room: 1 }, { type: "target", target: null }]);
  assert.deepEqual(actions, ["", "", ""]);
  assert.equal(m.phase, "idle");
});

test("media.rejoin naming the same room (recreated by the server) still leaves and joins again", () => {
  const { m, actions } = run([{ type: "target", target: sfuTarget(JOINT) }, { type: "joined", room: 1001 },
    { type: "target", target: sfuTarget(JOINT) }, { type: "target", target: sfuTarget(JOINT), force: true },
    { type: "left" }, { type: "joined", room: 1001 }]);
  assert.deepEqual(actions, ["join", "", "", "leave", "join", ""]);
  assert.equal(m.phase, "joined");
});
