/* Consent-gated recording in the room (issue 14 item 2; docs/protocol.md "Recording"): each person answers the
 * 录音录像告知 (recording.consent), the presiding member starts and stops (recording.start / recording.stop),
 * and everyone admitted sees the 录制中 badge while recording.started has not been followed by
 * recording.stopped. The server decides everything; this module only shows it. */

import { $, ME, state, t } from "./context.js";
import { sendControl } from "./reconnect.js";

const rec = { active: null, consents: new Map() };

function nameOf(member) {
  const m = state.members.get(member);
  return m ? m.name : "";
}

function show() {
  const badge = $("rm-recmark");
  if (badge) badge.hidden = !rec.active;
  const mine = $("rm-rec-mine");
  if (mine) {
    mine.textContent = rec.consents.get(ME) ? gettext("您已同意录音录像，可随时撤回。") : gettext("您尚未同意录音录像。");
  }
  const who = $("rm-rec-who");
  if (who) {
    const yes = [...rec.consents].filter(([, granted]) => granted).map(([member]) => nameOf(member)).filter(Boolean);
    who.textContent = yes.length ? t(gettext("已同意录音录像：%(names)s"), { names: yes.join("、") }) : gettext("尚无人同意录音录像。");
  }
  const status = $("rm-rec-status");
  if (status && rec.active) status.textContent = gettext("正在录制。任何人撤回同意或未同意的人进入时，录制立即停止。");
}

/* A stored recording.* event, live or replayed from the welcome's snapshot (folded in order). */
export function onRecordingEvent(kind, p) {
  if (kind === "recording.consent") rec.consents.set(p.member, Boolean(p.granted));
  if (kind === "recording.started") rec.active = p;
  if (kind === "recording.stopped") {
    rec.active = null;
    const status = $("rm-rec-status");
    if (status) status.textContent = t(gettext("录制已停止：%(reason)s"), { reason: p.reason_label || "" });
  }
  show();
}

function failed(message) {
  const status = $("rm-rec-status");
  if (status) status.textContent = message;
}

export function initRecording() {
  const box = $("rm-recording");
  if (!box) return;
  box.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-rec]");
    if (!button) return;
    const what = button.dataset.rec;
    if (what === "consent" || what === "withdraw") {
      sendControl({ type: "recording.consent", granted: what === "consent" }, null, failed);
    } else if (what === "start" || what === "stop") {
      sendControl({ type: `recording.${what}` }, null, failed);
    }
  });
  show();
}
