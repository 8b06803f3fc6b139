/* The room's side of the staff's live view (issue 14 item 3): it reports this device's connection quality
 * (qualityreport.js decides what and when), and shows a message staff sent to this person as a notice. */

import { $, dateTimeOf } from "./context.js";
import { qualityReport, reportDue } from "./qualityreport.js";
import { send, socketOpen } from "./reconnect.js";
import { sfuPeers } from "./sfu.js";
import { peers } from "./signaling.js";

let lastReport = null;

/** Called after each stats sample with the room's level (view.js setNetwork). */
export function reportQuality(level) {
  if (!socketOpen()) return;
  const stats = [...peers.values(), ...sfuPeers.values()].map((p) => p.stats);
  const report = qualityReport(level, stats);
  const now = Date.now();
  if (!reportDue(lastReport, report, now)) return;
  if (send(report)) lastReport = { level: report.level, at: now };
}

/** A `staff.message` event (audience: this person only): shown until closed; the newest replaces the last. */
export function showStaffMessage(event) {
  const box = $("rm-staff-note");
  if (!box) return;
  const p = event.payload || {};
  $("rm-staff-note-from").textContent = interpolate(gettext("%s（%s）："), [p.from || gettext("工作人员"), dateTimeOf(event.at)]);
  $("rm-staff-note-text").textContent = p.text || "";
  box.hidden = false;
}

const close = $("rm-staff-note-close");
if (close) close.addEventListener("click", () => { $("rm-staff-note").hidden = true; });
