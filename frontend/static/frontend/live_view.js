/* The staff's live view (issue 14 item 3): draws today's sessions from the JSON the server gave the page, asks
 * for fresh JSON every few seconds without reloading, and sends one participant a short message. Every name
 * and text is set with textContent; our own text comes from Django's JavaScript catalogue. */

const $ = (id) => document.getElementById(id);
const cfg = JSON.parse($("lv-config").textContent);
const csrf = () => document.querySelector("#lv-form [name=csrfmiddlewaretoken]").value;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function qualityText(q) {
  const parts = [q.label];
  if (typeof q.rtt_ms === "number") parts.push(interpolate(gettext("时延 %s 毫秒"), [q.rtt_ms]));
  if (typeof q.loss_pct === "number") parts.push(interpolate(gettext("丢包 %s%"), [q.loss_pct]));
  return parts.join(" · ");
}

function participantRow(p, session) {
  const row = el("li", "lv-person");
  row.dataset.presence = p.presence;
  row.dataset.user = String(p.user);
  const who = el("div", "lv-who");
  who.append(el("strong", "", p.name));
  who.append(el("span", "meta-inline", [p.role_label, p.side_label].filter(Boolean).join(" · ")));
  row.append(who);
  const facts = el("div", "lv-facts");
  facts.append(el("span", "lv-presence", p.presence_label));
  const verdict = el("span", "lv-verdict", p.verdict_label);
  verdict.dataset.verdict = p.verdict || "none";
  facts.append(verdict);
  const quality = el("span", "lv-quality", qualityText(p.quality));
  quality.dataset.q = p.quality.level;
  facts.append(quality);
  row.append(facts);
  if (p.member) {
    const button = el("button", "button lv-msg", gettext("发消息"));
    button.type = "button";
    button.dataset.member = String(p.member);
    button.dataset.name = p.name;
    button.dataset.session = session.case_title;
    row.append(button);
  }
  return row;
}

function sessionCard(s) {
  const card = el("section", "lv-session");
  card.dataset.session = String(s.id);
  card.dataset.room = s.room;
  const head = el("div", "lv-session-head");
  head.append(el("h2", "", `${s.starts_at}–${s.ends_at} ${s.case_title}`));
  head.append(el("span", "lv-room", s.room_label));
  card.append(head);
  const meta = [s.case_number, s.kind_label];
  if (s.waiting) meta.push(interpolate(gettext("%s 人等候中"), [s.waiting]));
  if (s.reconnecting) meta.push(interpolate(gettext("%s 人正在重连"), [s.reconnecting]));
  card.append(el("p", "meta-inline", meta.join(" · ")));
  const list = el("ul", "lv-people");
  for (const p of s.participants) list.append(participantRow(p, s));
  if (!s.participants.length) list.append(el("li", "hint", gettext("尚无参加人员。")));
  card.append(list);
  return card;
}

function draw(board) {
  const box = $("lv-sessions");
  box.replaceChildren(...board.sessions.map(sessionCard));
  $("lv-empty").hidden = board.sessions.length > 0;
  $("lv-updated").textContent = interpolate(gettext("更新于 %s"), [board.updated_at]);
  $("lv-nocache").hidden = board.live_cache !== false;
  document.querySelector("[data-live-view]").dataset.updatedAt = board.updated_at;
}

let dialogOpen = false;

async function poll() {
  try {
    const response = await fetch(cfg.data_url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const board = await response.json();
    if (!dialogOpen) draw(board); // do not move the row someone is writing to
    $("lv-stale").hidden = true;
  } catch {
    $("lv-stale").hidden = false;
  }
}

draw(JSON.parse($("lv-board").textContent));
setInterval(poll, cfg.poll_ms);
document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });

/* The message to one participant. */
const dialog = $("lv-dialog");
let target = null;

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.lv-msg");
  if (!button) return;
  target = Number(button.dataset.member);
  $("lv-dialog-to").textContent = interpolate(gettext("发给：%s（%s）"), [button.dataset.name, button.dataset.session]);
  $("lv-dialog-error").hidden = true;
  $("lv-text").value = "";
  dialogOpen = true;
  dialog.showModal();
});

function closeDialog() {
  dialogOpen = false;
  dialog.close();
}
$("lv-cancel").addEventListener("click", closeDialog);
dialog.addEventListener("close", () => { dialogOpen = false; });

$("lv-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("lv-text").value.trim();
  if (!text || !target) return;
  $("lv-send").disabled = true;
  try {
    const response = await fetch(cfg.message_url.replace("{id}", String(target)), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ text }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      $("lv-dialog-error").textContent = body.message || gettext("发送失败，请重试。");
      $("lv-dialog-error").hidden = false;
      return;
    }
    closeDialog();
    const sent = $("lv-sent");
    sent.textContent = gettext("消息已送达调解室。");
    sent.hidden = false;
    setTimeout(() => { sent.hidden = true; }, 4000);
    poll();
  } catch {
    $("lv-dialog-error").textContent = gettext("发送失败，请重试。");
    $("lv-dialog-error").hidden = false;
  } finally {
    $("lv-send").disabled = false;
  }
});
