// The room's agreement panel: its forms post in place, so a party who taps "同意本条" never leaves the call.
// Load once on the room page (<script type="module" src=".../agreements.js">); the panel itself has no script.
document.addEventListener("submit", async (event) => {
  const form = event.target instanceof HTMLFormElement ? event.target : null;
  const panel = form && form.closest("[data-agreement-panel]");
  if (!form || !panel || !form.hasAttribute("data-agreement-form")) return;
  event.preventDefault();
  const body = new FormData(form);
  if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
  const buttons = [...form.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const response = await fetch(form.action, {
      method: "POST", body, credentials: "same-origin", headers: { "X-Agreement-Panel": "1" },
    });
    if (!response.ok && response.status !== 403) throw new Error(String(response.status));
    panel.outerHTML = await response.text();
  } catch (error) {
    // Stay in the call: say so and let the person try again (the panel reloads on the next agreement event).
    buttons.forEach((b) => { b.disabled = false; });
    let note = form.querySelector(".agr-net-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "agr-note agr-net-error";
      note.setAttribute("role", "alert");
      form.append(note);
    }
    note.textContent = gettext("网络异常，未能提交，请重试。");
  }
});
