/* The browser's own instructions for a refused camera or microphone: the page holds one block per kind
 * (frontend/rooms/_media_help.html: in-app, iOS, Android, desktop); this shows the one for this browser. */

import { browserKind, permissionHelp } from "./phone.js";

/** Show `box` with the block for this browser (`data-help-for`) and hide the others. */
export function showPermissionHelp(box, ua = navigator.userAgent) {
  if (!box) return "";
  const which = permissionHelp(browserKind(ua));
  for (const block of box.querySelectorAll("[data-help-for]")) block.hidden = block.dataset.helpFor !== which;
  box.hidden = false;
  box.dataset.browser = which;
  return which;
}
