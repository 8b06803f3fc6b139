// Reconnecting the room's socket: which close codes end the page, and how long to wait before trying again.
import assert from "node:assert/strict";
import { test } from "node:test";

import { afterClose, reconnectDelay, socketDead } from "../../frontend/static/frontend/room/backoff.js";

test("close codes the server will refuse again stop the page with their reason", () => {
  assert.deepEqual(afterClose(4401), { action: "stop", reason: "sign_in" });
  assert.deepEqual(afterClose(4403), { action: "stop", reason: "not_found" });
  assert.deepEqual(afterClose(4408), { action: "stop", reason: "removed" });
  assert.deepEqual(afterClose(4410), { action: "stop", reason: "ended" });
  assert.deepEqual(afterClose(4001), { action: "stop", reason: "replaced" });
  assert.deepEqual(afterClose(4423), { action: "stop", reason: "locked_out" });
});

test("4412 sends the person back through the checks; anything else retries", () => {
  assert.deepEqual(afterClose(4412), { action: "rejoin" });
  for (const code of [0, 1000, 1001, 1006, 1011, 4429]) assert.deepEqual(afterClose(code), { action: "retry" });
});

test("the back-off doubles from 250 ms and stops at 8 s", () => {
  const none = () => 0;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map((n) => reconnectDelay(n, 1006, none)),
    [250, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test("rate limited: 5 s whatever the attempt", () => {
  assert.equal(reconnectDelay(0, 4429, () => 0), 5000);
  assert.equal(reconnectDelay(9, 4429, () => 0), 5000);
});

test("jitter adds up to 30 % and never shortens the wait", () => {
  assert.equal(reconnectDelay(2, 1006, () => 1), 1300);
  assert.equal(reconnectDelay(10, 1006, () => 0.5), 9200);
  for (let i = 0; i < 100; i += 1) {
    const delay = reconnectDelay(3, 1006);
    assert.ok(delay >= 2000 && delay <= 2600, String(delay));
  }
});

test("a socket silent for two heartbeats is dead; a handshake gets 5 s", () => {
  assert.ok(!socketDead(2000, true, 1000));
  assert.ok(socketDead(2001, true, 1000));
  assert.ok(!socketDead(5000, false, 1000));
  assert.ok(socketDead(5001, false, 1000));
  assert.ok(!socketDead(5000, true, 3000));
});
