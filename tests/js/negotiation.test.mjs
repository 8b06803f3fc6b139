// Perfect negotiation as the room uses it, without a browser: who is polite, which offers are ignored, and
// what a failed ICE connection leads to.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  acceptDescription, fingerprint, iceRecovery, isNewConnection, mayOffer, negotiation,
} from "../../frontend/static/frontend/room/negotiation.js";

const sdp = (fp) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${fp}\r\n`;

test("the lower member id is the polite side", () => {
  assert.equal(negotiation(3, 7, true).polite, true);
  assert.equal(negotiation(7, 3, false).polite, false);
});

test("the newcomer offers; the other side renegotiates only after the first offer arrived", () => {
  assert.ok(mayOffer(negotiation(7, 3, true), false));
  assert.ok(!mayOffer(negotiation(3, 7, false), false));
  assert.ok(mayOffer(negotiation(3, 7, false), true));
});

test("no collision: an offer in stable and an answer to my offer are applied", () => {
  const state = negotiation(7, 3, true);
  assert.ok(acceptDescription(state, "offer", "stable"));
  assert.equal(state.answerPending, false);
  assert.ok(acceptDescription(state, "answer", "have-local-offer"));
  assert.equal(state.answerPending, true, "until the answer is set, a next offer is not a collision");
  assert.ok(acceptDescription(state, "offer", "have-local-offer"));
});

test("glare: the impolite side ignores the colliding offer, the polite side rolls back and accepts it", () => {
  const impolite = negotiation(7, 3, true);
  impolite.makingOffer = true;
  assert.equal(acceptDescription(impolite, "offer", "have-local-offer"), false);
  assert.equal(impolite.ignoreOffer, true);
  const polite = negotiation(3, 7, false);
  polite.makingOffer = true;
  assert.equal(acceptDescription(polite, "offer", "have-local-offer"), true);
  assert.equal(polite.ignoreOffer, false);
  impolite.makingOffer = false;
  assert.equal(acceptDescription(impolite, "offer", "stable"), true, "the next offer, without glare, is taken");
  assert.equal(impolite.ignoreOffer, false);
});

test("a new DTLS fingerprint in an offer means the other side started a new connection", () => {
  assert.equal(fingerprint(sdp("AB:CD")), "AB:CD");
  assert.equal(fingerprint(""), "");
  assert.equal(fingerprint(undefined), "");
  assert.ok(isNewConnection({ sdp: sdp("AB:CD") }, { sdp: sdp("EF:01") }));
  assert.ok(!isNewConnection({ sdp: sdp("AB:CD") }, { sdp: sdp("AB:CD") }));
  assert.ok(!isNewConnection(null, { sdp: sdp("EF:01") }), "nothing to replace before the first description");
});

test("ICE failure: the offerer restarts ICE three times, then starts a new connection; the answerer waits", () => {
  const offerer = negotiation(7, 3, true);
  assert.deepEqual([1, 2, 3, 4].map(() => iceRecovery(offerer)), ["restart", "restart", "restart", "recreate"]);
  const answerer = negotiation(3, 7, false);
  assert.equal(iceRecovery(answerer), "none");
  assert.equal(answerer.restarts, 0);
});
