// What the room reports about its own connection for the staff's live view, and when.
import assert from "node:assert/strict";
import { test } from "node:test";

import { qualityReport, reportDue } from "../../frontend/static/frontend/room/qualityreport.js";

test("the report carries the level and the worst round-trip time and loss", () => {
  const report = qualityReport("fair", [{ rtt: 0.12, loss: 0.01 }, { rtt: 0.45, loss: 0.034 }, null]);
  assert.deepEqual(report, { type: "quality", level: "fair", rtt_ms: 450, loss_pct: 3.4 });
  assert.deepEqual(qualityReport("good", []), { type: "quality", level: "none", rtt_ms: null, loss_pct: null });
  assert.equal(qualityReport("good", [{ rtt: 0.05, loss: 0 }]).level, "good");
  assert.equal(qualityReport("reconnecting", []).level, "lost");
  assert.equal(qualityReport("bogus", []).level, "none");
});

test("sent on a change, never twice within five seconds, repeated after twenty", () => {
  assert.equal(reportDue(null, { level: "good" }, 0), true);
  const last = { level: "good", at: 10_000 };
  assert.equal(reportDue(last, { level: "poor" }, 12_000), false);
  assert.equal(reportDue(last, { level: "poor" }, 15_000), true);
  assert.equal(reportDue(last, { level: "good" }, 15_000), false);
  assert.equal(reportDue(last, { level: "good" }, 30_000), true);
});
