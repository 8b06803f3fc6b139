/* Local media: the camera and microphone, audio only, listen only, mute and camera off, and what a phone does to
 * them (a track that ends or goes silent after a phone call, Siri or a screen lock). Connections get the tracks
 * through signaling.js; this module only owns the local stream.
 *
 * What another media path (the SFU client, sfu.js) calls, the same way the mesh does:
 *   startMedia()            open what is missing of camera and microphone (echo cancellation, noise suppression
 *                           and automatic gain on); on a refusal show the browser's own instructions and fall
 *                           back to audio only, or offer listen only. Returns false without getUserMedia at all.
 *   onLocalTrackReplaced(fn) fn(kind, newTrack, oldTrack) after a track was re-acquired: put `newTrack` on every
 *                           sender that carried `oldTrack` (signaling.js does it for the mesh; sfu.js for its
 *                           publisher). Several may register.
 *   onMediaChange(fn)       fn() whenever the microphone's state or the notes change (the page re-renders).
 *   checkTracks()           re-acquire any local track that has ended (call it now and then; a stopped track does
 *                           not always fire `ended`, and iOS ends tracks silently on a screen lock).
 *   reacquire(kind)         open that kind anew and hand it to the registered functions.
 *   switchVideo(on), listenOnly(), toggleMute(), muteNow(), toggleCamera(), stopMedia(), sendMedia().
 *   micStatus()             "ok" | "recovering" | "lost" | "listen" | "none", shown beside the controls.
 * The quality marks and the reconnect state are in quality.js (pure) and are fed from getStats of either path. */

import { $, state } from "./context.js";
import { showPermissionHelp } from "./help.js";
import { needsHeadsetHint } from "./phone.js";
import { send } from "./reconnect.js";

export const localStream = new MediaStream();
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { max: 24 }, facingMode: "user" };
/** Speakerphones echo: the browser's echo cancellation, noise suppression and automatic gain, asked for
 * explicitly (some in-app and older browsers leave them off by default). */
export const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const SILENT_MS = 1500; // a track muted by the system this long is re-acquired

export const audioTrack = () => localStream.getAudioTracks()[0];
export const videoTrack = () => localStream.getVideoTracks()[0];

const replacers = [];
let changed = () => {};
let mic = "none";
const reacquiring = new Set();
const retryTimers = {};

export const onLocalTrackReplaced = (fn) => replacers.push(fn);
export const onMediaChange = (fn) => { changed = fn; };
export const micStatus = () => mic;

function setMic(value) {
  mic = value;
  changed();
}

function mediaNote(text) {
  // What the person can still do without a camera (or microphone), and how to fix it; stays until fixed.
  $("rm-media-note-text").textContent = text;
  $("rm-media-note").hidden = !text;
  if (!text) $("rm-media-help").hidden = true;
}

/** Watch a local track: `ended` (device gone, the system took it) or `mute` for long (iOS during a phone call,
 * Siri, a screen lock) → open it again. */
function watch(track) {
  let silentTimer = null;
  track.addEventListener("ended", () => reacquire(track.kind, track));
  track.addEventListener("mute", () => {
    if (track.kind !== "audio") return; // a camera is muted in the background on purpose; `ended` covers it
    setMic("recovering");
    clearTimeout(silentTimer);
    silentTimer = setTimeout(() => { if (track.muted && localStream.getTracks().includes(track)) reacquire(track.kind, track); }, SILENT_MS);
  });
  track.addEventListener("unmute", () => {
    clearTimeout(silentTimer);
    if (track.kind === "audio" && mic === "recovering") setMic("ok");
  });
}

function addLocal(track) {
  if (track.kind === "audio") track.enabled = !state.muted;
  if (track.kind === "video") track.enabled = !state.camOff;
  localStream.addTrack(track);
  watch(track);
}

/** Open `kind` again after its track ended or went silent, swap it into the local stream and onto every sender
 * (through the registered functions). On failure (the phone call still holds the microphone) try again in 3 s. */
export async function reacquire(kind, old = null) {
  const current = kind === "audio" ? audioTrack() : videoTrack();
  old = old || current;
  if (reacquiring.has(kind) || state.stopped || state.listenOnly) return false;
  if (kind === "video" && (state.audioOnly || !old)) return false;
  reacquiring.add(kind);
  clearTimeout(retryTimers[kind]);
  if (kind === "audio") setMic("recovering");
  try {
    const stream = await navigator.mediaDevices.getUserMedia(kind === "audio" ? { audio: AUDIO } : { video: VIDEO });
    const track = stream.getTracks()[0];
    if (old) {
      localStream.removeTrack(old);
      old.stop();
    }
    addLocal(track);
    for (const fn of replacers) {
      try {
        await fn(kind, track, old);
      } catch (error) {
        console.warn("replace track", kind, error);
      }
    }
    state.reacquired[kind] = (state.reacquired[kind] || 0) + 1;
    if (kind === "audio") setMic("ok");
    $("rm-self-video").srcObject = localStream;
    changed();
    return true;
  } catch {
    if (kind === "audio") setMic("lost");
    retryTimers[kind] = setTimeout(() => reacquire(kind), 3000);
    return false;
  } finally {
    reacquiring.delete(kind);
  }
}

/** Re-acquire every local track that has ended. */
export function checkTracks() {
  for (const track of localStream.getTracks()) {
    if (track.readyState === "ended") reacquire(track.kind, track);
  }
}

document.addEventListener("visibilitychange", () => {
  // Back from the lock screen or another app: tracks iOS ended meanwhile come back now.
  if (document.visibilityState === "visible") checkTracks();
});

async function headsetHint() {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch {
    return;
  }
  const box = $("rm-headset");
  if (box && !state.headsetDismissed) box.hidden = !needsHeadsetHint(devices, { sendingAudio: Boolean(audioTrack()) });
}

/** Open what is missing of camera and microphone; say what works without the rest. */
export async function startMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    mediaNote(gettext("未检测到可用的摄像头或麦克风，您仍可通过文字参与。"));
    return false;
  }
  state.listenOnly = false;
  const wantVideo = !state.audioOnly && !videoTrack();
  let denied = false;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: audioTrack() ? false : AUDIO, video: wantVideo ? VIDEO : false });
    for (const track of stream.getTracks()) addLocal(track);
  } catch (error) {
    denied = Boolean(error && (error.name === "NotAllowedError" || error.name === "SecurityError"));
    if (!audioTrack()) {
      try {
        const audio = await navigator.mediaDevices.getUserMedia({ audio: AUDIO });
        for (const track of audio.getTracks()) addLocal(track);
      } catch {
        /* no microphone either: listen only, and text */
      }
    }
    if (wantVideo && !videoTrack()) state.audioOnly = true;
  }
  if (audioTrack() && (videoTrack() || !wantVideo)) mediaNote("");
  else if (audioTrack()) {
    mediaNote(denied
      ? gettext("未获得摄像头权限：您以仅音频方式参加，其他人能听到您，但看不到您。需要视频时，请按下面的说明允许使用摄像头，再点“重试”。")
      : gettext("未检测到可用的摄像头：您以仅音频方式参加。"));
  } else {
    mediaNote(denied
      ? gettext("未获得摄像头和麦克风权限：其他人看不到也听不到您。您可以“仅收听”继续参加，并通过“文字”发言；或按下面的说明允许后点“重试”；也可改用电话联系调解员。")
      : gettext("未检测到可用的摄像头或麦克风，您可以“仅收听”继续参加，并通过文字发言。"));
  }
  if (denied) showPermissionHelp($("rm-media-help"));
  $("rm-media-listen").hidden = Boolean(audioTrack());
  $("rm-media-audio").hidden = Boolean(audioTrack()); // already in with audio only
  setMic(audioTrack() ? "ok" : "none");
  $("rm-self-video").srcObject = localStream;
  if (audioTrack()) headsetHint();
  return true;
}

/** Go on without camera and microphone: hear and see the others, speak through the chat. */
export function listenOnly() {
  for (const track of localStream.getTracks()) {
    track.stop();
    localStream.removeTrack(track);
  }
  state.listenOnly = true;
  state.audioOnly = true;
  mediaNote("");
  setMic("listen");
  sendMedia();
}

/** Tell the others whether I send video and sound (their tiles show it). */
export function sendMedia() {
  send({ type: "media", audio_only: state.audioOnly || !videoTrack(), muted: state.muted || !audioTrack() });
}

/** Drop the camera (audio only), or open it again and return the new video track for the connections. */
export async function switchVideo(audioOnly) {
  if (audioOnly) {
    const track = videoTrack();
    if (track) {
      track.stop();
      localStream.removeTrack(track);
    }
    state.audioOnly = true;
    return null;
  }
  const stream = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
  const track = stream.getVideoTracks()[0];
  state.camOff = false;
  addLocal(track);
  state.audioOnly = false;
  return track;
}

export function toggleMute() {
  const track = audioTrack();
  if (!track) return false;
  state.muted = !state.muted;
  track.enabled = !state.muted;
  sendMedia();
  return true;
}

export function muteNow() {
  const track = audioTrack();
  if (!track) return false;
  state.muted = true;
  track.enabled = false;
  sendMedia();
  return true;
}

export function toggleCamera() {
  const track = videoTrack();
  if (!track) return false;
  state.camOff = !state.camOff;
  track.enabled = !state.camOff;
  return true;
}

export function stopMedia() {
  for (const track of localStream.getTracks()) track.stop();
}
