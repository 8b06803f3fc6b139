/* Chat and files: my messages show at once as pending and settle when the server acknowledges them; files go
 * up over HTTP with a progress bar and come back as a chat event. */

import { $, ME, cfg, el, me, state, timeOf } from "./context.js";
import { fileSize } from "./format.js";
import { newRef, sendStored } from "./reconnect.js";

const bubble = (ref) => document.querySelector(`#rm-chat li[data-ref="${CSS.escape(String(ref))}"]`);

export function addChat({ seq, at, name, text, ref, file, pending, actor }) {
  const log = $("rm-chat");
  if (ref) {
    const existing = log.querySelector(`li[data-ref="${CSS.escape(String(ref))}"]`);
    if (existing) {
      existing.classList.remove("pending");
      if (seq) existing.dataset.seq = String(seq);
      return;
    }
  }
  const mine = actor === ME || Boolean(pending);
  const li = el("li", { class: `rm-msg${mine ? " mine" : ""}${pending ? " pending" : ""}` });
  if (ref) li.dataset.ref = String(ref);
  if (seq) li.dataset.seq = String(seq);
  li.append(el("span", { class: "rm-msg-head", text: `${name || ""} ${timeOf(at)}` }));
  if (file) {
    const link = el("a", { class: "rm-file", text: `${gettext("文件")}：${file.name || ""}` });
    if (typeof file.url === "string" && file.url.startsWith("/")) link.href = file.url;
    li.append(link);
    if (file.size) li.append(el("small", { text: ` ${fileSize(file.size)}` }));
  } else {
    li.append(el("p", { text: text || "" }));
  }
  log.append(li);
  log.scrollTop = log.scrollHeight;
  const panel = $("panel-chat");
  if (panel.hidden && !mine) {
    state.unreadChat += 1;
    $("rm-chat-count").hidden = false;
    $("rm-chat-count").textContent = String(state.unreadChat);
  }
}

/** The server acknowledged my message. */
export function chatDelivered(ref) {
  const li = bubble(ref);
  if (li) li.classList.remove("pending");
}

/** The server refused my message for good: mark it, with the reason. */
export function chatFailed(ref, message) {
  const li = bubble(ref);
  if (li) {
    li.classList.remove("pending");
    li.classList.add("failed");
    li.append(el("small", { class: "rm-fail", text: message }));
  }
}

export function chatSeen() {
  state.unreadChat = 0;
  $("rm-chat-count").hidden = true;
}

$("rm-chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const field = $("rm-chat-text");
  const text = field.value.trim();
  if (!text) return;
  const frame = { type: "chat", ref: newRef(), text };
  addChat({ name: me() ? me().name : "", text, ref: frame.ref, pending: true });
  sendStored(frame);
  field.value = "";
});
$("rm-chat-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("rm-chat-form").requestSubmit();
  }
});

$("rm-file").addEventListener("change", () => {
  const input = $("rm-file");
  const file = input.files && input.files[0];
  if (!file) return;
  const data = new FormData();
  data.append("file", file);
  data.append("name", file.name);
  const xhr = new XMLHttpRequest();
  const status = $("rm-upload-status");
  const bar = $("rm-upload-bar");
  const label = $("rm-upload-text");
  status.hidden = false;
  bar.value = 0;
  label.textContent = gettext("正在上传…");
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
  };
  xhr.onload = () => {
    let body = {};
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      /* not JSON */
    }
    if (xhr.status >= 200 && xhr.status < 300) {
      bar.value = 100;
      label.textContent = gettext("已上传");
    } else {
      label.textContent = `${gettext("上传失败")}：${body.message || xhr.status}`;
    }
    input.value = "";
  };
  xhr.onerror = () => {
    label.textContent = gettext("上传失败");
    input.value = "";
  };
  xhr.open("POST", cfg.files_url);
  xhr.setRequestHeader("X-CSRFToken", document.querySelector("#rm-upload [name=csrfmiddlewaretoken]").value);
  xhr.send(data);
});
