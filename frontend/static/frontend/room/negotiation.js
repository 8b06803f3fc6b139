/* Perfect negotiation (W3C WebRTC, "perfect negotiation example") as the room uses it: the newcomer offers,
 * the lower member id is the polite side, and a peer that restarted shows a new DTLS fingerprint.
 * Pure: the state of one connection's negotiation, without the RTCPeerConnection. */

/** The DTLS fingerprint of an SDP: a new one means the other side started a new connection. */
export function fingerprint(sdp) {
  const match = /a=fingerprint:\S+ (\S+)/.exec(sdp || "");
  return match ? match[1] : "";
}

/** An offer that comes from a new connection of the other side (reload, reconnect), not a renegotiation. */
export function isNewConnection(remoteDescription, offer) {
  return Boolean(remoteDescription) && fingerprint(remoteDescription.sdp) !== fingerprint(offer.sdp);
}

/** The negotiation state of a connection from me to `other`; `initiator` is the side that offered first. */
export function negotiation(meId, otherId, initiator) {
  return { initiator, polite: meId < otherId, makingOffer: false, ignoreOffer: false, answerPending: false, restarts: 0 };
}

/** Whether to offer on negotiationneeded: the initiator always; the other side only once the first offer came. */
export const mayOffer = (state, hasRemoteDescription) => state.initiator || hasRemoteDescription;

/** A description arrived while the connection is in `signalingState`: true to apply it, false to ignore it
 * (an offer that collides with mine, and I am the impolite side). Updates the state as the example does. */
export function acceptDescription(state, type, signalingState) {
  const ready = !state.makingOffer && (signalingState === "stable" || state.answerPending);
  const collision = type === "offer" && !ready;
  state.ignoreOffer = !state.polite && collision;
  if (state.ignoreOffer) return false;
  state.answerPending = type === "answer";
  return true;
}

/** ICE failed: "none" (the answerer waits for the offerer), "restart" ICE, or after three restarts "recreate"
 * the connection. */
export function iceRecovery(state) {
  if (!state.initiator) return "none";
  state.restarts += 1;
  return state.restarts > 3 ? "recreate" : "restart";
}
