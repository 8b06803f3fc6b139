/* The phone realities that are not WebRTC: which browser this is (in-app browsers of WeChat, QQ, Weibo,
 * DingTalk, Alipay… cannot be relied on for camera and microphone), and whether a headset seems to be in use.
 * Pure: works on the user agent and on enumerateDevices() lists; tests/js checks it. The server makes the same
 * in-app decision for the room links (frontend/inapp.py); keep the two lists alike. */

/** In-app browsers by user-agent marker, most specific first. */
const IN_APP = [
  ["wecom", /wxwork/i],
  ["wechat", /micromessenger/i],
  ["qq", /\bQQ\/\d/i],
  ["weibo", /weibo/i],
  ["dingtalk", /dingtalk/i],
  ["alipay", /alipayclient|aliapp/i],
  ["douyin", /aweme|bytedancewebview|toutiao/i],
  ["feishu", /lark|feishu/i],
];

/** What kind of browser `ua` is: {inApp: the app's key or "", family: "ios" | "android" | "desktop",
 * browser: "safari" | "chrome" | "uc" | "other"}. The instructions for a refused permission follow it. */
export function browserKind(ua) {
  const text = ua || "";
  const app = IN_APP.find(([, pattern]) => pattern.test(text));
  const ios = /iPhone|iPad|iPod/i.test(text);
  const android = /Android/i.test(text);
  let browser = "other";
  if (/UCBrowser|UCWEB/i.test(text)) browser = "uc";
  else if (/CriOS|Chrome\//.test(text) && !/Edg\//.test(text)) browser = "chrome";
  else if (/Safari\//.test(text) && ios) browser = "safari";
  return { inApp: app ? app[0] : "", family: ios ? "ios" : android ? "android" : "desktop", browser };
}

/** Which instructions to show when the browser refused the camera or microphone: "inapp" (open the link in
 * the phone's browser), "ios" (Settings → Safari → camera), "android" (the site settings of Chrome and
 * others), "desktop" (the lock icon beside the address). */
export function permissionHelp(kind) {
  if (kind.inApp || kind.browser === "uc") return "inapp";
  return kind.family;
}

/** Device labels that suggest a headset (wired, Bluetooth, earbuds). A heuristic: labels are empty before a
 * permission, and a phone's built-in earpiece or a Bluetooth car kit is not told apart by name. */
const HEADSET = /headset|headphone|earphone|earbud|buds|airpods|bluetooth|hands-?free|耳机|蓝牙|头戴/i;

/** Whether to suggest a headset: audio is sent and no input or output device's label looks like one. `devices`
 * is what enumerateDevices() returned. Labels unknown (all empty): no hint, we cannot tell. */
export function needsHeadsetHint(devices, { sendingAudio }) {
  if (!sendingAudio) return false;
  const audio = (devices || []).filter((d) => d.kind === "audioinput" || d.kind === "audiooutput");
  if (!audio.some((d) => d.label)) return false;
  return !audio.some((d) => HEADSET.test(d.label));
}
