// Who sees whom in the room: the same rule as mediation/spaces.py (tests/mediation covers the server side).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  caucusOnly, chatScope, mayRelease, meshChanges, presides, sameSpace, spaceKind, spaceOf, visibleMembers, waitReason,
} from "../../frontend/static/frontend/room/spaces.js";

const mediator = { member: 1, role: "mediator", side: "", state: "admitted", online: true };
const applicant = { member: 2, role: "party", side: "applicant", state: "admitted", online: true };
const applicantAgent = { member: 3, role: "agent", side: "applicant", state: "admitted", online: true };
const respondent = { member: 4, role: "party", side: "respondent", state: "admitted", online: true };
const observer = { member: 5, role: "observer", side: "", state: "admitted", online: true };
const waiting = { member: 6, role: "party", side: "respondent", state: "waiting", online: true };
const room = () => new Map([mediator, applicant, applicantAgent, respondent, observer, waiting].map((m) => [m.member, { ...m }]));

test("everyone admitted is in the joint space when nobody is in caucus", () => {
  for (const m of [mediator, applicant, respondent, observer]) assert.equal(spaceOf(m, ""), "joint");
  assert.equal(spaceOf(waiting, ""), "lobby");
  assert.equal(spaceOf(undefined, ""), "lobby");
  assert.equal(spaceOf({ ...applicant, state: "refused" }, ""), "lobby");
});

test("in caucus the mediator and that side are together, the other side waits by side, a sideless member alone", () => {
  assert.equal(spaceOf(mediator, "applicant"), "caucus");
  assert.equal(spaceOf(applicant, "applicant"), "caucus");
  assert.equal(spaceOf(applicantAgent, "applicant"), "caucus");
  assert.equal(spaceOf(respondent, "applicant"), "waiting:respondent");
  assert.equal(spaceOf(observer, "applicant"), "waiting:member5");
  assert.equal(spaceOf(respondent, "respondent"), "caucus");
  assert.equal(spaceOf(applicant, "respondent"), "waiting:applicant");
});

test("same space: the caucus side does not see the waiting side, and nobody sees the lobby", () => {
  assert.ok(sameSpace(applicant, respondent, ""));
  assert.ok(sameSpace(mediator, applicant, "applicant"));
  assert.ok(sameSpace(applicant, applicantAgent, "respondent"), "the waiting side waits together");
  assert.ok(!sameSpace(applicant, respondent, "applicant"));
  assert.ok(!sameSpace(mediator, respondent, "applicant"));
  assert.ok(!sameSpace(respondent, observer, "applicant"), "a sideless member waits alone");
  assert.ok(!sameSpace(mediator, waiting, ""));
  assert.ok(!sameSpace(waiting, { ...waiting, member: 7 }, ""), "two people in the lobby do not see each other");
});

test("labels and chat scope follow the space", () => {
  assert.deepEqual(["joint", "caucus", "lobby", "waiting:respondent", "waiting:member5"].map(spaceKind),
    ["joint", "caucus", "lobby", "waiting", "waiting"]);
  assert.deepEqual(["joint", "caucus", "waiting:applicant", "lobby", ""].map(chatScope), ["all", "caucus", "side", "", ""]);
});

test("why I wait", () => {
  assert.equal(waitReason(waiting, "", false), "lobby");
  assert.equal(waitReason({ ...applicant, state: "refused" }, "", false), "refused");
  assert.equal(waitReason(respondent, "applicant", false), "caucus");
  assert.equal(waitReason(applicant, "applicant", false), "");
  assert.equal(waitReason(respondent, "applicant", true), "", "a stopped page waits for nothing");
  assert.equal(waitReason(null, "", false), "");
});

test("tiles: online members of my space other than me; none while I am not admitted", () => {
  const members = room();
  assert.deepEqual(visibleMembers(members, 1, "").map((m) => m.member), [2, 3, 4, 5]);
  assert.deepEqual(visibleMembers(members, 1, "applicant").map((m) => m.member), [2, 3]);
  assert.deepEqual(visibleMembers(members, 4, "applicant").map((m) => m.member), []);
  members.get(3).online = false;
  assert.deepEqual(visibleMembers(members, 2, "applicant").map((m) => m.member), [1]);
  assert.deepEqual(visibleMembers(members, 6, ""), []);
});

test("mesh after a space change: close who left my space, the higher id opens each new pair", () => {
  const members = room();
  // The mediator (1) was connected to everyone; caucus with the applicant side.
  assert.deepEqual(meshChanges(members, 1, "applicant", new Set([2, 3, 4, 5])), { close: [4, 5], open: [] });
  // The respondent (4) loses everyone; nobody else waits on its side.
  assert.deepEqual(meshChanges(members, 4, "applicant", new Set([1, 2, 3, 5])), { close: [1, 2, 3, 5], open: [] });
  // Back to joint: 4 opens to the lower ids it is not connected to, and leaves 5 (higher) to offer.
  assert.deepEqual(meshChanges(members, 4, "", new Set()), { close: [], open: [1, 2, 3] });
  assert.deepEqual(meshChanges(members, 5, "", new Set([1])), { close: [], open: [2, 3, 4] });
  // Not admitted: close everything, open nothing.
  assert.deepEqual(meshChanges(members, 6, "", new Set([1])), { close: [1], open: [] });
});

test("a caucus record entry is the caucus side's until a party of that side releases it", () => {
  const entry = { id: 1, caucus_side: "applicant", released: false };
  assert.ok(caucusOnly(entry));
  assert.ok(!caucusOnly({ ...entry, released: true }));
  assert.ok(!caucusOnly({ id: 2, caucus_side: "" }));
  assert.ok(mayRelease(entry, { side: "applicant", role: "party" }));
  assert.ok(!mayRelease(entry, { side: "applicant", role: "agent" }));
  assert.ok(!mayRelease(entry, { side: "respondent", role: "party" }));
  assert.ok(!mayRelease({ ...entry, released: true }, { side: "applicant", role: "party" }));
});

test("a presiding judge is placed like the mediator; a guiding judge is not", () => {
  const judge = { member: 7, role: "judge", side: "", state: "admitted", online: true };
  const guide = { member: 8, role: "judge_guide", side: "", state: "admitted", online: true };
  assert.ok(presides(judge) && presides(mediator));
  assert.ok(!presides(guide) && !presides(applicant));
  assert.equal(spaceOf(judge, "applicant"), "caucus");
  assert.equal(spaceOf(guide, ""), "joint");
  assert.equal(spaceOf(guide, "applicant"), "waiting:member8");
});
