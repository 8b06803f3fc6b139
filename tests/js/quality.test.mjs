// Network quality marks from getStats() reports, and the sizes the chat shows.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fileSize } from "../../frontend/static/frontend/room/format.js";
import { overall, quality, summarize } from "../../frontend/static/frontend/room/quality.js";

test("quality from round-trip time and loss", () => {
  assert.equal(quality(null), "none");
  assert.equal(quality({ rtt: null, loss: 0 }), "none");
  assert.equal(quality({ rtt: 0.1, loss: 0.01 }), "good");
  assert.equal(quality({ rtt: 0.1, loss: 0.05 }), "fair");
  assert.equal(quality({ rtt: 0.5, loss: 0 }), "fair");
  assert.equal(quality({ rtt: 0.8, loss: 0 }), "poor");
  assert.equal(quality({ rtt: 0.1, loss: 0.2 }), "poor");
});

test("the room shows its worst connection, none without a socket", () => {
  assert.equal(overall(false, ["good"]), "none");
  assert.equal(overall(true, []), "good");
  assert.equal(overall(true, ["none", "good"]), "good");
  assert.equal(overall(true, ["good", "fair"]), "fair");
  assert.equal(overall(true, ["fair", "poor", "good"]), "poor");
});

test("stats: the selected pair's round trip, loss since the previous sample, video frames", () => {
  const report = [
    { type: "transport", selectedCandidatePairId: "p2" },
    { type: "candidate-pair", id: "p1", nominated: true, state: "succeeded", currentRoundTripTime: 0.9 },
    { type: "candidate-pair", id: "p2", currentRoundTripTime: 0.05 },
    { type: "inbound-rtp", kind: "audio", packetsLost: 2, packetsReceived: 98 },
    { type: "inbound-rtp", kind: "video", packetsLost: 8, packetsReceived: 392, framesDecoded: 120 },
  ];
  const first = summarize(report, null);
  assert.deepEqual(first.stats, { rtt: 0.05, loss: 10 / 500, frames: 120 });
  assert.deepEqual(first.counters, { lost: 10, received: 490 });
  const later = [...report.slice(0, 3),
    { type: "inbound-rtp", kind: "audio", packetsLost: 2, packetsReceived: 148 },
    { type: "inbound-rtp", kind: "video", packetsLost: 18, packetsReceived: 432, framesDecoded: 180 }];
  const second = summarize(later, first.counters);
  assert.deepEqual(second.stats, { rtt: 0.05, loss: 10 / 100, frames: 180 });
  assert.equal(summarize(later, second.counters).stats.loss, 0, "no new packets, no loss");
});

test("without a selected pair the nominated, succeeded one counts", () => {
  const report = [
    { type: "candidate-pair", id: "p1", nominated: false, state: "succeeded", currentRoundTripTime: 0.9 },
    { type: "candidate-pair", id: "p2", nominated: true, state: "succeeded", currentRoundTripTime: 0.2 },
  ];
  assert.equal(summarize(report, null).stats.rtt, 0.2);
  assert.equal(summarize([], null).stats.rtt, null);
});

test("file sizes: whole KB (at least 1) under 1 MB, MB with one decimal above", () => {
  assert.equal(fileSize(10), "1 KB");
  assert.equal(fileSize(1536), "2 KB");
  assert.equal(fileSize(1024 * 1024 - 1), "1024 KB");
  assert.equal(fileSize(1024 * 1024), "1.0 MB");
  assert.equal(fileSize(5.25 * 1048576), "5.3 MB");
});
