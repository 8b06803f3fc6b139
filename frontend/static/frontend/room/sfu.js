/* The room's media through the SFU (Janus videoroom), when the welcome says so (`media.mode` "sfu",
 * docs/protocol.md "Media"); the mesh (signaling.js) stays for servers without Janus.
 *
 * One Janus session per space: a publisher handle joins the space's Janus room with the token from the
 * welcome (the room's `allowed` list) and publishes camera and microphone, video in simulcast layers; one
 * multistream subscriber handle receives the other publishers, with my own private_id (the rooms require it).
 * Remote tracks go to the same tiles as the mesh's (view.js reads `sfuPeers` beside `peers`). On a weak link
 * the subscriber asks for the lowest simulcast layer. On `media.rejoin` (a caucus starts or ends) the session
 * is left and the new space's room joined; the rules are in sfurules.js. janus.js and adapter.js are our own
 * static files, loaded only here, only in SFU mode. */

import { ME, amAdmitted, state } from "./context.js";
import { audioTrack, onLocalTrackReplaced, videoTrack } from "./media.js";
import { quality, reconnecting, summarize } from "./quality.js";
import { mediaMode, nextSubstream, sfuMachine, sfuStep, sfuTarget } from "./sfurules.js";
import { renderTiles, setNetwork } from "./view.js";

export const sfuPeers = new Map(); // member id -> {id, stream, stats, prev, mids}
let mode = "mesh";
let machine = sfuMachine();
let session = null; // the Janus session of the room I am in (or joining)
let generation = 0; // bumps on every join: callbacks of an older session are ignored
let layer = { substream: 2, good: 0 };
const SIMULCAST_BITRATES = { high: 300000, medium: 100000, low: 50000 };

export const sfuActive = () => mode === "sfu";

/* ------------------------------------------------------------------------------------------------
 * janus.js, loaded on first use (adapter.js first: janus.js expects the global `adapter`).
 * ---------------------------------------------------------------------------------------------- */

let janusReady = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`load ${src}`));
    document.head.append(script);
  });
}

function loadJanus() {
  if (!janusReady) {
    const urls = document.getElementById("rm-sfu-scripts").dataset;
    janusReady = loadScript(urls.adapter)
      .then(() => loadScript(urls.janus))
      .then(() => new Promise((resolve) => {
        window.Janus.init({ debug: ["warn", "error"], dependencies: window.Janus.useDefaultDependencies({ adapter: window.adapter }), callback: resolve });
      }))
      .catch((error) => {
        janusReady = null;
        throw error;
      });
  }
  return janusReady;
}

// When the server runs Janus, janus.js loads at once, while the socket opens and the camera starts, instead of
// after the welcome (a serial step before the first frame; docs/decisions.md).
if (document.getElementById("rm-sfu-scripts") && document.getElementById("rm-sfu-scripts").dataset.preload) {
  loadJanus().catch(() => {}); // a failure is retried at the join
}

/* ------------------------------------------------------------------------------------------------
 * From the room's frames (main.js calls these).
 * ---------------------------------------------------------------------------------------------- */

/** Every welcome: the mode, and the room of my space (none while I wait to be admitted). */
export function sfuWelcome(welcome) {
  const was = mode;
  mode = mediaMode(welcome);
  if (mode === "sfu") step({ type: "target", target: amAdmitted() ? sfuTarget(welcome.media) : null });
  else if (was === "sfu") step({ type: "target", target: null });
}

/** `media.rejoin`: the server moved me (caucus start or end); leave my room and join the one named. */
export function sfuRejoin(frame) {
  if (mode !== "sfu") return;
  step({ type: "target", target: sfuTarget(frame.media), force: true });
}

/** The page stops (ended, removed): leave Janus. */
export function sfuLeave() {
  if (mode === "sfu") step({ type: "target", target: null });
}

/** My tracks changed (camera granted late, audio only, video back): publish anew. */
export function sfuLocalChanged() {
  if (mode !== "sfu" || !session || !session.joined) return;
  const s = session;
  if (s.published) {
    s.republish = true;
    s.pub.send({ message: { request: "unpublish" } });
  } else {
    publish(s);
  }
}

const history = []; // the last steps, for support staff and the browser tests

function step(event) {
  const result = sfuStep(machine, event);
  machine = result.machine;
  history.push(`${event.type}${event.target ? `:${event.target.room}` : ""}${event.room !== undefined ? `@${event.room}` : ""}`
    + ` -> ${machine.phase}${result.action ? ` (${result.action})` : ""}`);
  if (history.length > 40) history.shift();
  if (result.action === "join") join(machine.at);
  else if (result.action === "leave") leave(() => step({ type: "left" }));
  else if (result.action === "retry") leave(() => setTimeout(() => step({ type: "left" }), 1000 + Math.random() * 1000));
}

/* ------------------------------------------------------------------------------------------------
 * The session: publisher handle, subscriber handle.
 * ---------------------------------------------------------------------------------------------- */

async function join(target) {
  generation += 1;
  const gen = generation;
  const s = { gen, target, janus: null, pub: null, sub: null, subJoined: false, privateId: null, myFeed: null,
    feeds: new Map(), subscribed: new Set(), midMember: new Map(), joined: false, published: false, republish: false,
    subQueue: Promise.resolve(), marks: { join: performance.now() } };
  session = s;
  const mark = (name) => { if (s.marks[name] === undefined) s.marks[name] = performance.now(); };
  s.mark = mark;
  const live = () => session === s && generation === gen;
  const fail = (why) => {
    if (!live()) return;
    console.warn("sfu", why);
    history.push(`fail: ${why}`);
    step({ type: "failed", room: target.room });
  };
  try {
    await loadJanus();
  } catch (error) {
    fail(error);
    return;
  }
  if (!live()) return;
  mark("loaded");
  s.janus = new window.Janus({
    server: target.server,
    token: target.token || undefined,
    iceServers: state.iceServers,
    success: () => {
      if (!live()) return;
      mark("session");
      s.janus.attach({
        plugin: "janus.plugin.videoroom",
        opaqueId: `yizhan-${ME}`,
        success: (handle) => {
          if (!live()) return;
          s.pub = handle;
          mark("attached");
          const join = { request: "join", room: target.room, ptype: "publisher", display: String(ME), token: target.token };
          if (target.feed !== null) join.id = target.feed; // the server names my feed (docs/protocol.md)
          handle.send({ message: join });
        },
        error: fail,
        onmessage: (msg, jsep) => onPublisherMessage(s, msg, jsep, live, fail),
        onlocaltrack: () => {},
        onremotetrack: () => {},
        webrtcState: (on) => { if (on) mark("published"); if (!on && live() && s.published && !s.republish) fail("publisher connection lost"); },
        iceState: (ice) => { if (ice === "failed") fail("publisher ICE failed"); },
      });
    },
    error: fail,
    destroyed: () => {},
  });
}

function onPublisherMessage(s, msg, jsep, live, fail) {
  if (!live()) return;
  if (jsep) s.pub.handleRemoteJsep({ jsep });
  if (msg.error_code || msg.error) {
    fail(msg.error || msg.error_code);
    return;
  }
  const event = msg.videoroom;
  if (event === "joined") {
    s.joined = true;
    s.mark("joined");
    s.myFeed = msg.id;
    s.privateId = msg.private_id;
    step({ type: "joined", room: s.target.room });
    publish(s);
    addPublishers(s, msg.publishers || []);
  } else if (event === "event") {
    if (msg.publishers) addPublishers(s, msg.publishers);
    if (msg.leaving === "ok") {
      fail(`left the room (${msg.reason || "leave"})`); // kicked: the server moved me; a media.rejoin follows
      return;
    }
    if (msg.unpublished === "ok") {
      // My own unpublish went through: publish again with the tracks I have now.
      s.published = false;
      s.pub.hangup();
      if (s.republish) {
        s.republish = false;
        setTimeout(() => { if (live()) publish(s); }, 200);
      }
    }
    for (const gone of [msg.unpublished, msg.leaving, msg.kicked]) {
      if (gone !== undefined && gone !== null && gone !== "ok") removeFeed(s, gone);
    }
  } else if (event === "destroyed") {
    fail("room destroyed");
  }
}

/** A re-acquired local track (media.js, e.g. the microphone after a phone call): onto my publisher's sender, as
 * signaling.js does for the mesh. (A kind the publisher never sent is added at the next join.) */
onLocalTrackReplaced(async (kind, track, old) => {
  const s = session;
  const pc = s && s.pub && s.pub.webrtcStuff && s.pub.webrtcStuff.pc;
  if (!pc) return;
  const sender = pc.getSenders().find((x) => x.track && (x.track === old || (x.track.kind === kind && x.track.readyState === "ended")));
  if (sender) await sender.replaceTrack(track);
});

function publish(s) {
  const audio = audioTrack();
  const video = state.audioOnly ? null : videoTrack();
  if (!audio && !video) return; // listen only: I joined (my private_id lets me subscribe), I send nothing
  const tracks = [];
  if (audio) tracks.push({ type: "audio", capture: audio, recv: false });
  if (video) tracks.push({ type: "video", capture: video, recv: false, simulcast: true, simulcastMaxBitrates: SIMULCAST_BITRATES });
  s.published = true;
  // The tracks are the page's own (media.js; the self view, mute): janus.js must not stop them when this
  // connection ends (a rejoin, a kick, hangup) — it does unless the stream is marked external.
  if (s.pub.webrtcStuff) s.pub.webrtcStuff.streamExternal = true;
  s.pub.createOffer({
    tracks,
    success: (jsep) => {
      if (session !== s) return;
      s.pub.send({ message: { request: "configure", audio: Boolean(audio), video: Boolean(video) }, jsep });
    },
    error: (error) => {
      s.published = false;
      console.warn("sfu publish", error);
    },
  });
}

/* ------------------------------------------------------------------------------------------------
 * Subscribing: one multistream handle for every other publisher of the room.
 * ---------------------------------------------------------------------------------------------- */

function addPublishers(s, publishers) {
  const fresh = [];
  for (const p of publishers) {
    if (p.id === s.myFeed || s.feeds.has(p.id)) continue;
    const member = Number.isInteger(Number(p.display)) && p.display ? Number(p.display) : Number(p.id);
    s.feeds.set(p.id, { member, streams: p.streams || [] });
    fresh.push(p.id);
  }
  if (fresh.length) queueSub(s, () => subscribe(s, fresh));
}

function removeFeed(s, feed) {
  const info = s.feeds.get(feed);
  s.feeds.delete(feed);
  if (info) {
    const peer = sfuPeers.get(info.member);
    if (peer) {
      sfuPeers.delete(info.member);
      for (const track of peer.stream.getTracks()) peer.stream.removeTrack(track);
    }
    renderTiles();
  }
  if (s.subscribed.has(feed)) {
    s.subscribed.delete(feed);
    // Janus drops the subscription to a feed that left by itself; telling it again is harmless. It goes
    // through the same one-at-a-time queue as subscriptions (each one renegotiates).
    s.pendingDrops = (s.pendingDrops || []).concat([{ feed }]);
    s.pendingStreams = (s.pendingStreams || []).filter((st) => st.feed !== feed);
    flushSubscriptions(s);
  }
}

function queueSub(s, task) {
  s.subQueue = s.subQueue.then(task).catch((error) => console.warn("sfu subscribe", error));
}

function subscribe(s, feeds) {
  const wanted = feeds.filter((feed) => s.feeds.has(feed) && !s.subscribed.has(feed));
  if (!wanted.length || session !== s) return undefined;
  for (const feed of wanted) s.subscribed.add(feed);
  const streams = wanted.map((feed) => ({ feed }));
  if (s.sub) {
    // One renegotiation at a time: while an offer of Janus waits for my answer, later feeds wait too.
    s.pendingStreams = (s.pendingStreams || []).concat(streams);
    flushSubscriptions(s);
    return undefined;
  }
  s.subBusy = true;
  return new Promise((resolve) => {
    s.janus.attach({
      plugin: "janus.plugin.videoroom",
      opaqueId: `yizhan-${ME}`,
      success: (handle) => {
        if (session !== s) return resolve();
        s.sub = handle;
        s.mark("subAttached");
        handle.send({ message: { request: "join", room: s.target.room, ptype: "subscriber", private_id: s.privateId, streams, token: s.target.token } });
        return resolve();
      },
      error: (error) => {
        console.warn("sfu subscriber", error);
        resolve();
      },
      onmessage: (msg, jsep) => onSubscriberMessage(s, msg, jsep),
      onremotetrack: (track, mid, on) => onRemoteTrack(s, track, mid, on),
      // A subscriber whose ICE failed (a network change, a starved phone) receives nothing: start over.
      iceState: (ice) => { if (ice === "connected") s.mark("iceConnected"); if (ice === "failed" && session === s) step({ type: "failed", room: s.target.room }); },
      onlocaltrack: () => {},
    });
  });
}

function onSubscriberMessage(s, msg, jsep) {
  if (session !== s) return;
  if (msg.error_code || msg.error) {
    console.warn("sfu subscriber refused", msg.error_code, msg.error);
    if (!s.subJoined) {
      // The subscriber's join itself was refused (a feed gone meanwhile): a new handle for what is left.
      const handle = s.sub;
      const feeds = [...s.subscribed];
      s.sub = null;
      s.subBusy = false;
      s.subscribed.clear();
      try { handle.detach(); } catch { /* gone */ }
      setTimeout(() => { if (session === s) queueSub(s, () => subscribe(s, feeds)); }, 1000);
      return;
    }
    if (msg.videoroom !== "attached") retrySubscribe(s, s.lastAsked);
    else s.subBusy = false;
    s.lastAsked = null;
    return;
  }
  if (msg.streams) {
    for (const st of msg.streams) {
      if (st.mid === undefined) continue;
      const feed = s.feeds.get(st.feed_id);
      const member = feed ? feed.member : Number(st.feed_display);
      if (Number.isFinite(member)) s.midMember.set(String(st.mid), member);
    }
  }
  if (msg.videoroom === "attached") s.subJoined = true;
  if (msg.videoroom === "updated" || msg.videoroom === "attached") s.lastAsked = null;
  if (!jsep && (msg.videoroom === "attached" || msg.videoroom === "updated")) {
    s.subBusy = false; // nothing to negotiate (e.g. every feed asked for was gone)
    flushSubscriptions(s);
  }
  if (jsep) {
    s.mark("offer");
    s.sub.createAnswer({
      jsep,
      tracks: [{ type: "data" }], // audio and video are accepted receive-only; data only if offered
      success: (answer) => {
        if (session !== s) return;
        s.mark("answer");
        s.sub.send({ message: { request: "start", room: s.target.room }, jsep: answer,
          success: () => { s.subBusy = false; flushSubscriptions(s); },
          error: () => { s.subBusy = false; flushSubscriptions(s); } });
      },
      error: (error) => {
        console.warn("sfu answer", error);
        s.subBusy = false;
      },
    });
  }
}

function flushSubscriptions(s) {
  if (session !== s || !s.sub || !s.subJoined || s.subBusy) return;
  if (s.pendingDrops && s.pendingDrops.length) {
    const streams = s.pendingDrops;
    s.pendingDrops = [];
    s.subBusy = true;
    s.sub.send({ message: { request: "unsubscribe", streams }, error: () => { s.subBusy = false; flushSubscriptions(s); } });
    return;
  }
  const streams = (s.pendingStreams || []).filter((st) => s.feeds.has(st.feed));
  s.pendingStreams = [];
  if (!streams.length) return;
  s.subBusy = true;
  s.lastAsked = streams;
  s.sub.send({ message: { request: "subscribe", streams }, error: () => retrySubscribe(s, streams) });
}

/** A subscription Janus refused or could not take now (a renegotiation under way): ask again shortly. */
function retrySubscribe(s, streams) {
  s.subBusy = false;
  setTimeout(() => {
    if (session !== s) return;
    const again = (streams || []).filter((st) => s.feeds.has(st.feed) && s.subscribed.has(st.feed));
    s.pendingStreams = (s.pendingStreams || []).concat(again);
    flushSubscriptions(s);
  }, 1000);
}

const NO_PC = { iceConnectionState: "new" };

function peerOf(member) {
  let peer = sfuPeers.get(member);
  if (!peer) {
    // `pc` is the subscriber connection that carries this member's streams (view.js reads its ICE state);
    // `restartedAt` is when its packets stopped (a network drop), `flowingAt` when they came back.
    peer = { id: member, stream: new MediaStream(), stats: null, prev: null, mids: new Set(), restartedAt: 0,
      flowingAt: 0, checkAt: 0, checkReceived: 0, get pc() { return subscriberPc() || NO_PC; } };
    sfuPeers.set(member, peer);
  }
  return peer;
}

/** Whether the media of an SFU peer is coming back: the subscriber's ICE is down, or its packets stopped and
 * have not flowed since (the D43 rule: a sample after the stall must show them rising). */
export const sfuPeerReconnecting = (peer) => reconnecting(peer.pc.iceConnectionState, peer.restartedAt, peer.flowingAt);

function onRemoteTrack(s, track, mid, on) {
  if (session !== s) return;
  if (on) s.mark(`track-${track.kind}`);
  const member = s.midMember.get(String(mid));
  if (member === undefined) return;
  const peer = peerOf(member);
  peer.mids.add(String(mid));
  if (on) {
    for (const old of peer.stream.getTracks()) if (old.kind === track.kind && old !== track) peer.stream.removeTrack(old);
    if (!peer.stream.getTracks().includes(track)) peer.stream.addTrack(track);
  } else if (track.readyState === "ended") {
    peer.stream.removeTrack(track);
  }
  renderTiles();
}

function leave(done) {
  const s = session;
  session = null;
  generation += 1;
  for (const peer of sfuPeers.values()) for (const track of peer.stream.getTracks()) peer.stream.removeTrack(track);
  sfuPeers.clear();
  renderTiles();
  if (!s || !s.janus) {
    done();
    return;
  }
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  try {
    if (s.pub && s.joined) s.pub.send({ message: { request: "leave" } });
    s.janus.destroy({ cleanupHandles: true, success: finish, error: finish });
  } catch (error) {
    console.warn("sfu leave", error);
  }
  setTimeout(finish, 3000); // a dead server does not answer: go on anyway
}

/* ------------------------------------------------------------------------------------------------
 * Stats: quality marks per member, the simulcast layer for my link, frames for the tests.
 * ---------------------------------------------------------------------------------------------- */

function subscriberPc() {
  const s = session;
  return s && s.sub && s.sub.webrtcStuff ? s.sub.webrtcStuff.pc : null;
}

async function sample() {
  const pc = subscriberPc();
  if (!pc) return null;
  const reports = [...(await pc.getStats()).values()];
  const whole = summarize(reports, sample.prev);
  sample.prev = whole.counters;
  const now = Date.now();
  for (const peer of sfuPeers.values()) {
    const own = reports.filter((r) => r.type !== "inbound-rtp" || peer.mids.has(String(r.mid)));
    const { stats, counters } = summarize(own, peer.prev);
    // A network drop: no packet at all from this member for a second or more (even a muted microphone sends
    // some), after it had flowed. Media is back when a later check shows packets again.
    if (!peer.checkAt) {
      peer.checkAt = now;
      peer.checkReceived = counters.received;
    } else if (now - peer.checkAt >= 1000) {
      if (counters.received === peer.checkReceived) {
        if (peer.flowingAt && !(peer.restartedAt > peer.flowingAt)) peer.restartedAt = now;
      } else if (peer.checkAt >= peer.restartedAt) {
        peer.flowingAt = now;
      }
      peer.checkAt = now;
      peer.checkReceived = counters.received;
    }
    peer.prev = counters;
    peer.stats = stats;
    if (stats.frames > 0 && session && session.mark) session.mark("firstFrame");
  }
  return whole.stats;
}

/** Ask Janus for `substream` on every video I receive (0: the lowest layer). */
export function sfuSubstream(substream) {
  const s = session;
  if (!s || !s.sub || !s.subJoined) return false;
  const streams = [];
  for (const [mid] of s.midMember) streams.push({ mid, substream });
  if (!streams.length) return false;
  s.sub.send({ message: { request: "configure", streams } });
  return true;
}

let ticks = 0;

async function tick() {
  if (mode !== "sfu") return;
  ticks += 1;
  let stats = null;
  try {
    stats = await sample();
  } catch {
    return; // closed meanwhile
  }
  if (stats && ticks % 2 === 0) { // the layer rules count samples 2 s apart
    const next = nextSubstream(layer, quality(stats));
    if (next.substream !== layer.substream) sfuSubstream(next.substream);
    layer = next;
  }
  setNetwork();
  renderTiles();
}
setInterval(tick, 1000); // each second: a network drop shows within about 2 s

/* For the browser tests and support staff: read-only views. */
window.yizhanSfu = {
  mode: () => mode,
  phase: () => machine.phase,
  room: () => (machine.at ? machine.at.room : null),
  layer: () => layer.substream,
  history: () => [...history],
  async framesDecoded() {
    await sample();
    const out = {};
    for (const peer of sfuPeers.values()) out[peer.id] = peer.stats ? peer.stats.frames : 0;
    return out;
  },
  async audioEnergy() {
    await sample();
    const out = {};
    for (const peer of sfuPeers.values()) out[peer.id] = peer.stats ? peer.stats.audioEnergy : 0;
    return out;
  },
  /** The track ids my publisher sends (a re-acquired microphone must be among them). */
  sendersCarry() {
    const pc = session && session.pub && session.pub.webrtcStuff ? session.pub.webrtcStuff.pc : null;
    return pc ? pc.getSenders().filter((x) => x.track).map((x) => x.track.id) : [];
  },
  /** What this page itself holds of the SFU (its own welcome's server and token, its feed and private id): the
   * browser test plays a hostile page with it. */
  own: () => (session ? { server: session.target.server, token: session.target.token, room: session.target.room,
    feed: session.myFeed, privateId: session.privateId } : null),
  /** When the last join got where (ms, performance.now()): join start, janus.js loaded, session, publisher
   * joined, subscriber offer, answer sent, subscriber ICE connected, first remote frame. */
  timeline: () => ({ ...(session ? session.marks : {}) }),
  async bytesSent() {
    const s = session;
    const pc = s && s.pub && s.pub.webrtcStuff ? s.pub.webrtcStuff.pc : null;
    if (!pc) return 0;
    let sent = 0;
    for (const r of (await pc.getStats()).values()) if (r.type === "outbound-rtp") sent += r.bytesSent || 0;
    return sent;
  },
};
