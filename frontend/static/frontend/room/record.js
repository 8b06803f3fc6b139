/* The live record (《人民法院在线调解规则》第二十二条): the entries, corrections by the mediator, release of a
 * caucus entry by its side, and a party's confirmation of the version everyone sees. */

import { $, cfg, el, sideName, state, t, timeOf } from "./context.js";
import { applyRecordEntry, byId, recordVersion } from "./events.js";
import { newRef, sendStored } from "./reconnect.js";
import { caucusOnly, mayRelease } from "./spaces.js";
import { renderControls } from "./view.js";

let correcting = null;
let versionJob = Promise.resolve();

/** A record event (added, corrected, released): keep the entry and work out the new version. */
export function onRecordEntry(entry) {
  if (entry) applyRecordEntry(state.record, state.pending, entry);
  recordChanged();
}

function recordChanged() {
  versionJob = versionJob.then(async () => {
    state.recordVersion = await recordVersion(state.record);
    renderControls();
  }).catch(() => {});
}

export function renderRecord() {
  const list = $("rm-record");
  const entries = byId(state.record);
  if (!entries.length) {
    list.replaceChildren(el("li", { class: "rm-empty", text: gettext("暂无笔录内容。") }));
  } else {
    list.replaceChildren(...entries.map((entry) => {
      const li = el("li", { class: `rm-entry${entry.tag ? ` tag-${entry.tag}` : ""}`, "data-entry": String(entry.id) });
      const head = el("div", { class: "rm-entry-head" });
      if (entry.tag) head.append(el("span", { class: "rm-tag", text: cfg.tags[entry.tag] || entry.tag }));
      if (caucusOnly(entry)) {
        head.append(el("span", { class: "rm-tag caucus",
          text: t(gettext("背对背记录，仅%(side)s与调解员可见"), { side: sideName(entry.caucus_side) }) }));
      }
      head.append(el("time", { text: timeOf(entry.at) }));
      li.append(head, el("p", { text: entry.text }));
      if (cfg.mediator) {
        li.append(el("button", { type: "button", class: "link", text: gettext("更正"), "data-correct": String(entry.id) }));
      } else if (mayRelease(entry, cfg)) {
        li.append(el("button", { type: "button", class: "button", text: gettext("同意向对方公开此条"), "data-release": String(entry.id) }));
      }
      return li;
    }));
  }
  $("rm-confirmations").replaceChildren(...state.confirmations.map((c) => el("li", {
    text: t(gettext("%(name)s已确认笔录（版本 %(version)s）"), { name: c.name || "", version: String(c.version || "").slice(0, 8) }),
  })));
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target || target.dataset.cmd) return;
  if (target.dataset.correct) {
    const entry = state.record.get(Number(target.dataset.correct));
    if (!entry) return;
    correcting = entry.id;
    $("rm-correcting").hidden = false;
    $("rm-correcting").querySelector("span").textContent = `${gettext("更正：")}${entry.text.slice(0, 40)}`;
    $("rm-record-text").value = entry.text;
    $("rm-record-text").focus();
  } else if (target.dataset.release) {
    sendStored({ type: "record.release", ref: newRef(), entry: Number(target.dataset.release) });
  }
});

const recordForm = $("rm-record-form");
if (recordForm) {
  recordForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("rm-record-text").value.trim();
    if (!text) return;
    const tag = (recordForm.querySelector("input[name=tag]:checked") || { value: "" }).value;
    const frame = { type: "record.add", ref: newRef(), text, tag };
    if (correcting) frame.supersedes = correcting;
    sendStored(frame);
    correcting = null;
    $("rm-correcting").hidden = true;
    $("rm-record-text").value = "";
  });
  $("rm-correct-cancel").addEventListener("click", () => {
    correcting = null;
    $("rm-correcting").hidden = true;
    $("rm-record-text").value = "";
  });
}

const confirmButton = $("rm-record-confirm");
if (confirmButton) {
  confirmButton.addEventListener("click", () => {
    if (!state.recordVersion) return;
    sendStored({ type: "record.confirm", ref: newRef(), version: state.recordVersion });
  });
}
