/* What every part of the room shares: the page's configuration, the room's state as this page knows it, and
 * small DOM helpers. Text comes from Django's JavaScript catalogue (the global gettext and interpolate that
 * /jsi18n/ defines; Chinese is the source language). */

import { dateTimeOf as clockDateTime, timeOf as clockTime } from "../clock.js";
import { SeqLog } from "./events.js";
import { isAdmitted, spaceOf } from "./spaces.js";

export const cfg = JSON.parse(document.getElementById("room-config").textContent);
export const ME = cfg.member;

export const state = {
  you: null,
  room: { caucus_side: "", locked: false, status: "open" },
  members: new Map(),
  log: new SeqLog(),
  record: new Map(),
  recordVersion: "",
  confirmations: [],
  pending: new Map(), // ref -> frame, for frames resent after a reconnect
  controls: new Map(), // ref -> what to do with the answer (control frames are not resent)
  iceServers: [],
  heartbeatMs: 1000,
  stopped: false,
  audioOnly: Boolean(cfg.audio_only),
  muted: false,
  camOff: false,
  audioUnlocked: false,
  listenOnly: false, // no camera, no microphone: hear and see, speak through the chat
  mediaSettled: false, // startMedia finished (granted, refused or missing)
  reacquired: {}, // kind -> how many times a track was opened again after it ended or went silent
  headsetDismissed: false,
  audioOnlyDeclined: false, // "keep video" answered to the audio-only proposal
  netHistory: [], // the room's overall level per stats sample, newest last
  timeline: {}, // start, welcome, media: when the page got there (performance.now())
  unreadChat: 0,
};

export const $ = (id) => document.getElementById(id);

/** A translated text with %(name)s placeholders filled in. */
export const t = (text, vars) => interpolate(text, vars, true);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export const me = () => state.members.get(ME);
export const mySpace = () => spaceOf(me(), state.room.caucus_side);
export const amAdmitted = () => isAdmitted(me());

const SIDE_NAMES = { applicant: gettext("申请人方"), respondent: gettext("被申请人方") };
export const sideName = (side) => SIDE_NAMES[side] || cfg.sides[side] || side;

export function roleLabel(m) {
  const role = cfg.roles[m.role] || m.role || "";
  return m.side ? `${role}（${cfg.sides[m.side] || m.side}）` : role;
}

/** Beijing time, as on every other page; a phone set to another zone sees its own time beside it. */
function clockLabels() {
  return { beijing: gettext("北京时间"), local: gettext("本机时间") };
}

export function timeOf(at) {
  return clockTime(at, clockLabels());
}

export function dateTimeOf(at) {
  return clockDateTime(at, clockLabels());
}

/** Texts shown in more than one place. */
export const TEXT = {
  reconnecting: gettext("网络中断，正在重新连接…"),
  error: gettext("操作未成功"),
  muted: gettext("已静音"),
  net: { good: gettext("网络良好"), fair: gettext("网络一般"), poor: gettext("网络较差"), lost: gettext("已断开"), none: gettext("无连接") },
  peerReconnecting: gettext("正在重新连接…"),
  mic: {
    ok: gettext("麦克风正常"),
    recovering: gettext("麦克风中断，正在恢复…"),
    lost: gettext("麦克风被其他应用占用（如电话），结束后自动恢复"),
    listen: gettext("仅收听：未开麦克风"),
    none: gettext("未使用麦克风"),
  },
};
