/* Times in the room, as on every other page, are Beijing time (the court's and the record's time). A phone
   set to another zone sees its own time beside it, so "10:05" is never mistaken for the reader's own clock.
   `labels` comes from the page's translated strings: {beijing: "北京时间", local: "本机时间"}. */

export const BEIJING = "Asia/Shanghai";

function parts(date, timeZone, withDate) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone };
  if (withDate) Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
  return date.toLocaleString("zh-CN", options);
}

function both(date, labels, withDate) {
  const beijing = parts(date, BEIJING, withDate);
  const local = parts(date, undefined, withDate);
  if (local === beijing) return beijing;
  return `${beijing} ${labels.beijing}（${labels.local} ${local}）`;
}

/** Hours and minutes of `at` (an ISO time; now when empty) in Beijing time, and the phone's own if it differs. */
export function timeOf(at, labels) {
  return both(at ? new Date(at) : new Date(), labels, false);
}

/** The same with the date, for times that may be another day (the next session). */
export function dateTimeOf(at, labels) {
  return both(new Date(at), labels, true);
}
