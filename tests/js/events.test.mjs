// The event log as the room page keeps it: once per seq, the record and the version a party confirms.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";

import {
  SeqLog, applyRecordEntry, byId, chatRef, memberAfter, recordVersion, sharedEntries,
} from "../../frontend/static/frontend/room/events.js";

test("each seq is applied once; lastSeq is the highest seen", () => {
  const log = new SeqLog();
  assert.deepEqual([3, 1, 3, 2, 1, 5].map((seq) => log.accept(seq)), [true, true, false, true, false, true]);
  assert.equal(log.lastSeq, 5);
});

test("a replay from 0 after admission applies the events I could not see, and only those", () => {
  // From the waiting room I saw 7 and 9 (about me); the welcome after admission replays 1..9.
  const log = new SeqLog();
  log.accept(7);
  log.accept(9);
  const applied = [1, 2, 3, 4, 5, 6, 7, 8, 9].filter((seq) => log.accept(seq));
  assert.deepEqual(applied, [1, 2, 3, 4, 5, 6, 8]);
  assert.equal(log.lastSeq, 9, "a reconnect resumes after 9, not after the last one applied in order");
});

test("the welcome's last_seq only moves lastSeq forward", () => {
  const log = new SeqLog();
  log.accept(12);
  log.advance(10);
  assert.equal(log.lastSeq, 12);
  log.advance(undefined);
  assert.equal(log.lastSeq, 12);
  log.advance(20);
  assert.equal(log.lastSeq, 20);
  assert.ok(log.accept(15), "advancing is not seeing: a late event below it is still applied");
});

test("only my own chat events settle my pending bubbles", () => {
  assert.equal(chatRef({ actor: 4, payload: { client_id: "m4.x.1" } }, 4), "m4.x.1");
  assert.equal(chatRef({ actor: 5, payload: { client_id: "m4.x.1" } }, 4), "", "another member copied my ref");
  assert.equal(chatRef({ actor: 4 }, 4), undefined);
});

test("record entries: a correction replaces what it supersedes and an acknowledged frame stops being pending", () => {
  const record = new Map();
  const pending = new Map([["r1", {}], ["r2", {}]]);
  applyRecordEntry(record, pending, { id: 2, text: "b", client_id: "r1" });
  applyRecordEntry(record, pending, { id: 1, text: "a" });
  applyRecordEntry(record, pending, { id: 3, text: "b2", supersedes: 2, client_id: "r2" });
  assert.deepEqual(byId(record).map((e) => e.id), [1, 3]);
  assert.equal(pending.size, 0);
});

test("the shared record leaves out caucus entries until they are released", () => {
  const record = new Map([
    [4, { id: 4, text: "d", tag: "", caucus_side: "", released: false }],
    [2, { id: 2, text: "b", tag: "", caucus_side: "respondent", released: false }],
    [3, { id: 3, text: "c", tag: "", caucus_side: "applicant", released: true }],
    [1, { id: 1, text: "a", tag: "", caucus_side: "", released: false }],
  ]);
  assert.deepEqual(sharedEntries(record).map((e) => e.id), [1, 3, 4]);
});

test("the version is the server's: SHA-256 of the shared entries' [id, text, tag]", async () => {
  // Python: hashlib.sha256(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
  // for body = [[1,"双方同意分期还款","compromise"],[3,"已公开的背对背记录",""],[4,'Line "quoted" – ok',""]].
  const record = new Map([
    [4, { id: 4, text: 'Line "quoted" – ok', tag: "" }],
    [2, { id: 2, text: "仅申请人方可见", tag: "", caucus_side: "applicant", released: false }],
    [3, { id: 3, text: "已公开的背对背记录", tag: "", caucus_side: "respondent", released: true }],
    [1, { id: 1, text: "双方同意分期还款", tag: "compromise" }],
  ]);
  // Node 18 (Debian 12's nodejs) has no global crypto yet: hand over its WebCrypto, as a browser has it.
  assert.equal(await recordVersion(record, webcrypto.subtle), "0a381f0c756863623717788aed8d1e98865c95d096ed7f0d9b2d9bf07ee1f7e7");
});

test("a member event: what it says wins, the rest stays; an unknown member waiting is online", () => {
  const known = { member: 3, name: "张三", role: "party", side: "applicant", state: "waiting", online: true };
  assert.deepEqual(memberAfter({ ...known }, "member.admitted", { member: 3 }), { ...known, state: "admitted" });
  assert.deepEqual(memberAfter({ ...known }, "member.left", { member: 3, name: "张三丰" }),
    { ...known, name: "张三丰", state: "left" });
  assert.deepEqual(memberAfter(undefined, "member.waiting", { member: 9, name: "李四", role: "agent", side: "respondent" }),
    { member: 9, online: true, name: "李四", role: "agent", side: "respondent", state: "waiting" });
  assert.equal(memberAfter(undefined, "member.removed", { member: 9 }).online, false);
  // the self-test verdict (issue 14): taken when the event carries it, kept when it does not
  const tested = memberAfter({ ...known }, "member.waiting", { member: 3, selftest: "too_weak" });
  assert.equal(tested.selftest, "too_weak");
  assert.equal(memberAfter(tested, "member.admitted", { member: 3 }).selftest, "too_weak");
  assert.equal(memberAfter({ ...known }, "member.waiting", { member: 3, selftest: null }).selftest, null);
});
