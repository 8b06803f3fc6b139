/* The room's one WebSocket (docs/protocol.md): connect with `since`, heartbeat, reconnect with back-off, and
 * resend of un-acknowledged chat and record frames. What a frame means is the entry module's business. */

import { afterClose, reconnectDelay, socketDead } from "./backoff.js";
import { cfg, ME, state } from "./context.js";

let ws = null;
let lastFrameAt = 0;
let attempts = 0;
let reconnectTimer = null;
let holdUntil = 0; // test hook: keep the socket closed until then
let handlers = { frame: () => {}, stop: () => {}, reconnecting: () => {}, refused: () => {} };

/** `frame(frame)` for each frame, `stop(reason)` when coming back would be refused, `reconnecting()` while
 * it comes back, `refused(message)` when a control frame could not be sent. */
export function onSocket(callbacks) {
  handlers = { ...handlers, ...callbacks };
}

let resumeToken = "";

/** The server's latest resume token (in every welcome, and refreshed in `resume` frames). */
export function setResumeToken(token) {
  if (typeof token === "string" && token) resumeToken = token;
}

export const hasSocket = () => Boolean(ws);
export const socketOpen = () => Boolean(ws && ws.readyState === WebSocket.OPEN);

export function connect() {
  clearTimeout(reconnectTimer);
  if (state.stopped) return;
  const wait = holdUntil - Date.now();
  if (wait > 0) {
    reconnectTimer = setTimeout(connect, wait);
    return;
  }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // With the last resume token the server lets us back in from one read instead of the full join.
  const resume = resumeToken ? `&token=${encodeURIComponent(resumeToken)}` : "";
  const socket = new WebSocket(`${scheme}//${location.host}${cfg.ws_path}?since=${state.log.lastSeq}${resume}`);
  ws = socket;
  lastFrameAt = Date.now();
  socket.onmessage = (message) => {
    if (socket !== ws) return;
    lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    try {
      handlers.frame(frame);
    } catch (error) {
      console.error("room frame", frame.type, error);
    }
  };
  socket.onclose = (event) => {
    if (socket !== ws) return;
    ws = null;
    onSocketClosed(event.code);
  };
}

/** A welcome arrived: the connection works, the next loss starts the back-off anew. */
export function connected() {
  attempts = 0;
}

function dropSocket() {
  // A dead socket: forget it at once (its late frames are ignored) and come back.
  const socket = ws;
  ws = null;
  if (socket) {
    socket.onclose = null;
    try {
      socket.close();
    } catch {
      /* already closing */
    }
  }
  onSocketClosed(0);
}

function onSocketClosed(code) {
  if (state.stopped) return;
  const next = afterClose(code);
  if (next.action === "stop") {
    handlers.stop(next.reason);
    return;
  }
  if (next.action === "rejoin") {
    location.href = cfg.join_url;
    return;
  }
  handlers.reconnecting();
  const delay = reconnectDelay(attempts, code);
  attempts += 1;
  reconnectTimer = setTimeout(connect, delay);
}

/** Stop for good: no more reconnecting. */
export function closeSocket() {
  clearTimeout(reconnectTimer);
  const socket = ws;
  ws = null;
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
}

/** Test hook: close the socket as a network failure would, and stay away `holdMs`. */
export function cutSocket(holdMs = 0) {
  holdUntil = Date.now() + holdMs;
  if (ws) ws.close();
}

setInterval(() => {
  if (!ws || state.stopped) return;
  if (ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "ping" }));
  }
  if (socketDead(Date.now() - lastFrameAt, ws.readyState === WebSocket.OPEN, state.heartbeatMs)) dropSocket();
}, 1000);

export function send(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

let refCounter = 0;
const refPrefix = `m${ME}.${Math.random().toString(36).slice(2, 10)}.`;
export const newRef = () => `${refPrefix}${(refCounter += 1)}`;

/** Chat and record frames: kept until acknowledged, resent with the same ref after a reconnect. */
export function sendStored(frame) {
  state.pending.set(frame.ref, frame);
  send(frame);
}

/** Resend what is still pending (after a welcome). */
export function resendPending() {
  for (const frame of state.pending.values()) send(frame);
}

/** Control frames (admit, caucus, end, ...) are not resent: the answer (ack or error) goes to the callbacks. */
export function sendControl(frame, onDone, onError) {
  frame.ref = newRef();
  state.controls.set(frame.ref, { onDone, onError });
  if (!send(frame)) {
    state.controls.delete(frame.ref);
    handlers.refused();
    if (onError) onError(gettext("网络中断，正在重新连接…"));
  }
}

window.addEventListener("online", () => {
  // The network changed: come back at once (the entry module restarts ICE).
  if (!ws) connect();
});
