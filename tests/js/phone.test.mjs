// Which browser a phone runs (in-app browsers of WeChat, QQ, …), the help for a refused permission, and the
// headset heuristic.
import assert from "node:assert/strict";
import { test } from "node:test";

import { browserKind, needsHeadsetHint, permissionHelp } from "../../frontend/static/frontend/room/phone.js";

const UA = {
  wechatAndroid: "Mozilla/5.0 (Linux; Android 12; V2049A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230405 MMWEBID/1234 MicroMessenger/8.0.35.2360(0x2800235B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
  wechatIos: "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.38(0x1800262c) NetType/4G Language/zh_CN",
  wecom: "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.6 MicroMessenger/7.0.1 Language/zh",
  qq: "Mozilla/5.0 (Linux; Android 11; PDEM10 Build/RKQ1.200903.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/89.0.4389.72 MQQBrowser/6.2 TBS/046011 Mobile Safari/537.36 V1_AND_SQ_8.8.50_2324_YYB_D A_8085000 QQ/8.8.50.6735 NetType/WIFI WebP/0.3.0 Pixel/1080",
  weibo: "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Weibo (iPhone13,2__weibo__12.5.1__iphone__os15.4)",
  dingtalk: "Mozilla/5.0 (Linux; U; Android 10; zh-CN; ELS-AN00 Build/HUAWEIELS-AN00) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.1.210 Mobile Safari/537.36 AliApp(DingTalk/6.3.25) com.alibaba.android.rimet/23004567 Channel/227200 language/zh-CN",
  alipay: "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Ariver/1.1.0 AliApp(AP/10.3.10.6000) Nebula WK RVKType(0) AlipayDefined(nt:WIFI,ws:390|780|3.0) AlipayClient/10.3.10.6000 Language/zh-Hans Region/CN",
  uc: "Mozilla/5.0 (Linux; U; Android 10; zh-CN; MI 9 Build/QKQ1.190825.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
  safari: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
  chromeAndroid: "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36",
  desktop: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
};

test("in-app browsers are told by their user agent", () => {
  assert.equal(browserKind(UA.wechatAndroid).inApp, "wechat");
  assert.equal(browserKind(UA.wechatIos).inApp, "wechat");
  assert.equal(browserKind(UA.wecom).inApp, "wecom");
  assert.equal(browserKind(UA.qq).inApp, "qq");
  assert.equal(browserKind(UA.weibo).inApp, "weibo");
  assert.equal(browserKind(UA.dingtalk).inApp, "dingtalk");
  assert.equal(browserKind(UA.alipay).inApp, "alipay");
  for (const name of ["uc", "safari", "chromeAndroid", "desktop"]) assert.equal(browserKind(UA[name]).inApp, "", name);
  assert.equal(browserKind("").inApp, "");
});

test("the help for a refused permission follows the browser", () => {
  assert.equal(permissionHelp(browserKind(UA.wechatIos)), "inapp");
  assert.equal(permissionHelp(browserKind(UA.uc)), "inapp", "UC asks like an in-app browser: open in another");
  assert.equal(permissionHelp(browserKind(UA.safari)), "ios");
  assert.equal(permissionHelp(browserKind(UA.chromeAndroid)), "android");
  assert.equal(permissionHelp(browserKind(UA.desktop)), "desktop");
  assert.equal(browserKind(UA.safari).browser, "safari");
  assert.equal(browserKind(UA.chromeAndroid).browser, "chrome");
});

test("headset hint: only when audio is sent and labels are known and none looks like a headset", () => {
  const speaker = [{ kind: "audioinput", label: "Default" }, { kind: "audiooutput", label: "Speaker" }];
  assert.equal(needsHeadsetHint(speaker, { sendingAudio: true }), true);
  assert.equal(needsHeadsetHint(speaker, { sendingAudio: false }), false);
  assert.equal(needsHeadsetHint([...speaker, { kind: "audiooutput", label: "AirPods Pro" }], { sendingAudio: true }), false);
  assert.equal(needsHeadsetHint([{ kind: "audioinput", label: "有线耳机" }], { sendingAudio: true }), false);
  assert.equal(needsHeadsetHint([{ kind: "audioinput", label: "Bluetooth headset" }], { sendingAudio: true }), false);
  assert.equal(needsHeadsetHint([{ kind: "audioinput", label: "" }], { sendingAudio: true }), false, "labels unknown");
  assert.equal(needsHeadsetHint([{ kind: "videoinput", label: "Camera" }], { sendingAudio: true }), false);
});
