/* The page as the room's state says: where I am (joint, caucus, waiting), who is here, the video tiles, the
 * controls and the network mark. Which member is where comes from spaces.js. */

import { $, ME, TEXT, amAdmitted, cfg, el, me, mySpace, roleLabel, sideName, state, t } from "./context.js";
import { audioTrack, micStatus, videoTrack } from "./media.js";
import { overall, quality } from "./quality.js";
import { hasSocket, socketOpen } from "./reconnect.js";
import { renderRecord } from "./record.js";
import { sfuPeerReconnecting, sfuPeers } from "./sfu.js";
import { peerReconnecting, peers } from "./signaling.js";
import { chatScope, presides, spaceKind, spaceOf, visibleMembers, waitReason } from "./spaces.js";

export function spaceLabel(space) {
  switch (spaceKind(space)) {
    case "joint":
      return cfg.verification ? gettext("共同询问") : gettext("共同调解");
    case "caucus":
      return `${gettext("背对背调解")} · ${sideName(state.room.caucus_side)}`;
    case "lobby":
      return gettext("等候室");
    default:
      return gettext("等候中");
  }
}

export function render() {
  const room = $("room");
  const you = me();
  room.dataset.state = state.stopped ? "ended" : you ? you.state : "connecting";
  room.dataset.space = you ? mySpace() : "";
  $("rm-space").textContent = state.stopped ? gettext("已结束") : you ? spaceLabel(mySpace()) : gettext("正在连接…");
  $("rm-lockmark").hidden = !state.room.locked;
  const lock = $("rm-lock");
  if (lock) lock.textContent = state.room.locked ? gettext("解除锁定") : gettext("锁定调解室");
  renderWait();
  renderPeople();
  renderTiles();
  renderRecord();
  renderControls();
  const scope = chatScope(you ? mySpace() : "");
  $("rm-chat-scope").textContent = scope === "all" ? gettext("文字消息和文件：调解室内所有人可见。")
    : scope === "caucus" ? t(gettext("文字消息和文件：仅调解员与%(side)s可见，对方看不到。"), { side: sideName(state.room.caucus_side) })
      : scope === "side" ? gettext("文字消息和文件：仅本方人员可见。") : "";
}

function renderWait() {
  const side = sideName(state.room.caucus_side);
  const text = {
    lobby: gettext("请稍候，调解员确认后您将进入调解室。"),
    refused: gettext("调解员未同意您进入本次调解。如有疑问，请联系调解员或法院诉讼服务中心。"),
    caucus: t(gettext("调解员正在与%(side)s单独沟通（背对背调解）。请在此稍候，您的音视频和文字不会被对方看到，也看不到对方的单独沟通内容。"), { side }),
  }[waitReason(me(), state.room.caucus_side, state.stopped)] || "";
  $("rm-wait").hidden = !text;
  $("rm-wait-text").textContent = text;
}

function personRow(m, actions) {
  const li = el("li", { class: `rm-person${m.online ? " online" : ""}`, "data-member": String(m.member) });
  const who = el("div", { class: "rm-who" },
    el("span", { class: "rm-dot", "aria-hidden": "true" }),
    el("strong", { text: m.name || "" }),
    m.member === ME ? el("span", { class: "rm-me", text: `（${gettext("我")}）` }) : null);
  const meta = [roleLabel(m), spaceLabel(spaceOf(m, state.room.caucus_side)), m.online ? gettext("在线") : gettext("离线")];
  if (m.muted) meta.push(TEXT.muted);
  if (m.audio_only) meta.push(gettext("仅音频"));
  // The mediator sees the person's pre-join self-test verdict (issue 14) beside the name.
  if (cfg.mediator && m.member !== ME && "selftest" in m) {
    who.append(el("span", { class: `rm-selftest-tag ${m.selftest || "none"}`, "data-selftest": m.selftest || "",
      text: m.selftest ? cfg.selftest_verdicts[m.selftest] : gettext("未自检") }));
  }
  li.append(who, el("span", { class: "rm-meta", text: meta.join(" · ") }));
  if (actions.length) {
    const box = el("div", { class: "rm-actions" });
    for (const [label, cmd, extra] of actions) {
      box.append(el("button", { type: "button", class: `button${extra || ""}`, text: label, "data-cmd": cmd, "data-member": String(m.member) }));
    }
    li.append(box);
  }
  return li;
}

function renderPeople() {
  const list = $("rm-people");
  const waiting = $("rm-waiting");
  const all = [...state.members.values()].sort((a, b) => a.member - b.member);
  const admitted = all.filter((m) => m.state === "admitted");
  list.replaceChildren(...admitted.map((m) => personRow(m, cfg.mediator && m.member !== ME && !presides(m)
    ? [[gettext("请其静音"), "mute_request", ""], [gettext("移出"), "remove", " danger"]] : [])));
  if (waiting) {
    const queue = all.filter((m) => m.state === "waiting");
    waiting.replaceChildren(...queue.map((m) => personRow(m, [[gettext("允许进入"), "admit", " primary-small"], [gettext("拒绝"), "refuse", ""]])));
    $("rm-waiting-box").hidden = !queue.length;
    const count = $("rm-waiting-count");
    count.hidden = !queue.length;
    count.textContent = String(queue.length);
  }
}

function tileFor(id) {
  let tile = document.querySelector(`#rm-tiles [data-member="${id}"]`);
  if (!tile) {
    const video = el("video", { playsInline: true, autoplay: true, muted: !state.audioUnlocked });
    video.setAttribute("playsinline", "");
    tile = el("figure", { class: "rm-tile", "data-member": String(id) },
      video, el("div", { class: "rm-avatar", "aria-hidden": "true" }),
      el("figcaption", {}, el("span", { class: "rm-name" }), el("span", { class: "rm-role" }), el("span", { class: "rm-q" })));
    $("rm-tiles").append(tile);
  }
  return tile;
}

export function renderTiles() {
  const shown = new Set();
  for (const m of visibleMembers(state.members, ME, state.room.caucus_side)) {
    shown.add(m.member);
    const tile = tileFor(m.member);
    const peer = peers.get(m.member) || sfuPeers.get(m.member); // mesh or SFU (sfu.js)
    const video = tile.querySelector("video");
    const stream = peer ? peer.stream : null;
    if (video.srcObject !== stream) {
      video.srcObject = stream;
      if (stream) video.play().catch(() => {});
    }
    const hasVideo = stream && stream.getVideoTracks().length && !m.audio_only;
    tile.classList.toggle("no-video", !hasVideo);
    tile.querySelector(".rm-avatar").textContent = (m.name || "?").slice(0, 1);
    tile.querySelector(".rm-name").textContent = m.name || "";
    const badges = [roleLabel(m)];
    if (m.muted) badges.push(TEXT.muted);
    tile.querySelector(".rm-role").textContent = badges.join(" · ");
    const back = Boolean(peer && (peers.has(m.member) ? peerReconnecting(peer) : sfuPeerReconnecting(peer)));
    const q = back ? "reconnecting" : peer ? quality(peer.stats, peer.pc.iceConnectionState) : "none";
    tile.classList.toggle("reconnecting", back);
    tile.querySelector(".rm-q").dataset.q = q;
    tile.querySelector(".rm-q").textContent = back ? TEXT.peerReconnecting : TEXT.net[q];
  }
  for (const tile of [...document.querySelectorAll("#rm-tiles [data-member]")]) {
    if (!shown.has(Number(tile.dataset.member))) tile.remove();
  }
  $("rm-tiles").dataset.count = String(shown.size);
  setNetwork(); // a connection's state changed: the room's mark follows at once
  $("rm-tap").hidden = !(!state.audioUnlocked && shown.size > 0);
}

export function renderControls() {
  const mic = $("rm-mic");
  mic.textContent = state.muted ? gettext("取消静音") : gettext("静音");
  mic.setAttribute("aria-pressed", String(state.muted));
  mic.disabled = !audioTrack();
  const cam = $("rm-cam");
  cam.textContent = state.camOff ? gettext("开启视频") : gettext("关闭视频");
  cam.setAttribute("aria-pressed", String(state.camOff));
  cam.disabled = !videoTrack();
  const audio = $("rm-audio");
  audio.textContent = state.listenOnly ? gettext("打开摄像头和麦克风") : state.audioOnly ? gettext("恢复视频") : gettext("仅音频");
  audio.setAttribute("aria-pressed", String(state.audioOnly));
  $("rm-self").classList.toggle("no-video", !videoTrack() || state.camOff);
  const micState = micStatus();
  const micLine = $("rm-mic-state");
  micLine.dataset.mic = micState;
  micLine.textContent = TEXT.mic[micState];
  const confirm = $("rm-record-confirm");
  if (confirm) confirm.disabled = !state.recordVersion || !state.record.size || !amAdmitted();
}

/** The room's mark: "正在重新连接…" while the socket or any connection is coming back, else the worst level. */
export function roomLevel() {
  const list = [...peers.values()];
  if (hasSocket() && !socketOpen() && state.you) return "reconnecting";
  if (socketOpen() && (list.some(peerReconnecting) || [...sfuPeers.values()].some(sfuPeerReconnecting))) return "reconnecting";
  const levels = list.map((p) => quality(p.stats, p.pc.iceConnectionState));
  for (const p of sfuPeers.values()) levels.push(quality(p.stats, p.pc.iceConnectionState)); // the SFU's feeds (sfu.js)
  return overall(socketOpen(), levels);
}

export function setNetwork() {
  const q = state.stopped ? "none" : (!hasSocket() && state.you) ? "reconnecting" : roomLevel();
  $("rm-net").dataset.q = q;
  $("rm-net-text").textContent = q === "reconnecting" ? TEXT.peerReconnecting : TEXT.net[q];
  return q;
}

export function banner(text) {
  const box = $("rm-banner");
  box.textContent = text;
  box.hidden = !text;
}

let errorTimer = null;
let bannerTimer = null;

export function showError(text) {
  const box = $("rm-error");
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { box.hidden = true; }, 8000);
  banner(hasSocket() ? "" : TEXT.reconnecting);
  if (hasSocket()) {
    const top = $("rm-banner");
    top.textContent = text;
    top.hidden = false;
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(() => { if (hasSocket()) banner(""); }, 5000);
  }
}
