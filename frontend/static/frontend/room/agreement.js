/* The agreement tab: a fragment rendered (and escaped) by the server, reloaded when the agreement changes.
 * Someone else's change (a party's assent, the mediator's edit) must not wipe what this person is typing in
 * the panel: while a field has focus or unsaved changes, the reload waits until they leave the panel. */

import { $, el } from "./context.js";

let reloadPending = false;

function busy(panel) {
  const active = document.activeElement;
  if (active && panel.contains(active) && active.matches("input, textarea, select")) return true;
  for (const field of panel.querySelectorAll("input, textarea, select")) {
    if (field.type === "hidden" || field.type === "submit") continue;
    if (field.tagName === "SELECT") {
      // A select with no option marked selected starts on its first option.
      const marked = [...field.options].some((o) => o.defaultSelected);
      const initial = (o, i) => (marked ? o.defaultSelected : i === 0 && !field.multiple);
      if ([...field.options].some((o, i) => o.selected !== initial(o, i))) return true;
    } else if (field.type === "checkbox" || field.type === "radio") {
      if (field.checked !== field.defaultChecked) return true;
    } else if (field.value !== field.defaultValue) {
      return true;
    }
  }
  return false;
}

export function refreshAgreementSoon() {
  const panel = $("agreement-panel");
  if (panel && busy(panel)) {
    reloadPending = true;
    return;
  }
  reloadPending = false;
  loadAgreement();
}

{
  const panel = $("agreement-panel");
  if (panel) {
    panel.addEventListener("focusout", () => {
      setTimeout(() => { if (reloadPending && !busy(panel)) refreshAgreementSoon(); }, 0);
    });
  }
}

export async function loadAgreement() {
  const panel = $("agreement-panel");
  const url = panel && panel.dataset.url;
  if (!url) return;
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } });
    // 403 carries the reason as a fragment (e.g. nothing to read yet): show it like the panel itself.
    if (!response.ok && response.status !== 403) throw new Error(String(response.status));
    panel.innerHTML = await response.text();
  } catch {
    panel.replaceChildren(el("p", { class: "hint", text: gettext("调解协议暂时无法加载。") }));
  }
}
