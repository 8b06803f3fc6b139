/* Local media: the camera and microphone, audio only, mute and camera off. Connections get the tracks
 * through signaling.js; this module only owns the local stream. */

import { $, state } from "./context.js";
import { send } from "./reconnect.js";

export const localStream = new MediaStream();
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { max: 24 }, facingMode: "user" };

export const audioTrack = () => localStream.getAudioTracks()[0];
export const videoTrack = () => localStream.getVideoTracks()[0];

function mediaNote(text) {
  // What the person can still do without a camera (or microphone), and how to fix it; stays until fixed.
  $("rm-media-note-text").textContent = text;
  $("rm-media-note").hidden = !text;
}

/** Open what is missing of camera and microphone; say what works without the rest. */
export async function startMedia() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    mediaNote(gettext("未检测到可用的摄像头或麦克风，您仍可通过文字参与。"));
    return false;
  }
  const wantVideo = !state.audioOnly && !videoTrack();
  let denied = false;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: !audioTrack(), video: wantVideo ? VIDEO : false });
    for (const track of stream.getTracks()) localStream.addTrack(track);
  } catch (error) {
    denied = Boolean(error && error.name === "NotAllowedError");
    if (!audioTrack()) {
      try {
        const audio = await navigator.mediaDevices.getUserMedia({ audio: true });
        for (const track of audio.getTracks()) localStream.addTrack(track);
      } catch {
        /* no microphone either: text only */
      }
    }
    if (wantVideo && !videoTrack()) state.audioOnly = true;
  }
  if (audioTrack() && (videoTrack() || !wantVideo)) mediaNote("");
  else if (audioTrack()) {
    mediaNote(denied
      ? gettext("未获得摄像头权限：您以仅音频方式参加，其他人能听到您，但看不到您。需要视频时，请在浏览器的网站设置中允许使用摄像头，再点“重试”。")
      : gettext("未检测到可用的摄像头：您以仅音频方式参加。"));
  } else {
    mediaNote(denied
      ? gettext("未获得摄像头和麦克风权限：其他人看不到也听不到您，您仍可通过“文字”参与。请在浏览器的网站设置中允许使用摄像头和麦克风，再点“重试”；也可改用电话联系调解员。")
      : gettext("未检测到可用的摄像头或麦克风，您仍可通过文字参与。"));
  }
  $("rm-self-video").srcObject = localStream;
  return true;
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
  localStream.addTrack(track);
  state.audioOnly = false;
  state.camOff = false;
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
