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
  assert.deepEqual(first.stats, { rtt: 0.05, loss: 10 / 500, frames: 120, jitter: null, audioEnergy: 0 });
  assert.deepEqual(first.counters, { lost: 10, received: 490 });
  const later = [...report.slice(0, 3),
    { type: "inbound-rtp", kind: "audio", packetsLost: 2, packetsReceived: 148 },
    { type: "inbound-rtp", kind: "video", packetsLost: 18, packetsReceived: 432, framesDecoded: 180 }];
  const second = summarize(later, first.counters);
  assert.deepEqual(second.stats, { rtt: 0.05, loss: 10 / 100, frames: 180, jitter: null, audioEnergy: 0 });
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

import { flowing, proposeAudioOnly, reconnecting } from "../../frontend/static/frontend/room/quality.js";

test("jitter lowers the level; ICE down is 已断开 (lost) whatever the last sample said", () => {
  assert.equal(quality({ rtt: 0.05, loss: 0, jitter: 0.01 }), "good");
  assert.equal(quality({ rtt: 0.05, loss: 0, jitter: 0.05 }), "fair");
  assert.equal(quality({ rtt: 0.05, loss: 0, jitter: 0.2 }), "poor");
  assert.equal(quality({ rtt: 0.05, loss: 0, jitter: null }), "good", "no jitter measured yet");
  for (const ice of ["disconnected", "failed", "closed"]) assert.equal(quality({ rtt: 0.05, loss: 0 }, ice), "lost");
  assert.equal(quality(null, "failed"), "lost");
  assert.equal(quality({ rtt: 0.05, loss: 0 }, "connected"), "good");
  assert.equal(overall(true, ["good", "poor", "lost"]), "lost");
});

test("stats: the worst inbound jitter and the received audio energy", () => {
  const report = [
    { type: "inbound-rtp", kind: "audio", packetsLost: 0, packetsReceived: 10, jitter: 0.004, totalAudioEnergy: 1.5 },
    { type: "inbound-rtp", kind: "video", packetsLost: 0, packetsReceived: 10, jitter: 0.02, framesDecoded: 3 },
  ];
  const { stats } = summarize(report, null);
  assert.equal(stats.jitter, 0.02);
  assert.equal(stats.audioEnergy, 1.5);
  assert.equal(summarize([], null).stats.jitter, null);
});

test("reconnecting while ICE is down, or after a restart until media flows again", () => {
  assert.equal(reconnecting("connected", 0, 0), false);
  assert.equal(reconnecting("disconnected", 0, 0), true);
  assert.equal(reconnecting("failed", 0, 0), true);
  assert.equal(reconnecting("connected", 1000, 900), true, "restarted, nothing flowed since");
  assert.equal(reconnecting("checking", 1000, 0), true);
  assert.equal(reconnecting("connected", 1000, 1500), false, "media flowed after the restart");
  assert.equal(flowing({ frames: 5, audioEnergy: 1 }, { frames: 6, audioEnergy: 1 }), true);
  assert.equal(flowing({ frames: 5, audioEnergy: 1 }, { frames: 5, audioEnergy: 1.2 }), true);
  assert.equal(flowing({ frames: 5, audioEnergy: 1 }, { frames: 5, audioEnergy: 1 }), false);
  assert.equal(flowing(null, { frames: 5, audioEnergy: 1 }), false);
});

test("audio only is proposed after three poor samples in a row, with video on, once", () => {
  const on = { sendingVideo: true, declined: false };
  assert.equal(proposeAudioOnly(["poor", "poor"], on), false, "too early");
  assert.equal(proposeAudioOnly(["good", "poor", "poor", "poor"], on), true);
  assert.equal(proposeAudioOnly(["poor", "lost", "poor"], on), true);
  assert.equal(proposeAudioOnly(["poor", "fair", "poor"], on), false, "not in a row");
  assert.equal(proposeAudioOnly(["poor", "poor", "poor"], { sendingVideo: false, declined: false }), false);
  assert.equal(proposeAudioOnly(["poor", "poor", "poor"], { sendingVideo: true, declined: true }), false);
});
