/* Who is where in the room, and so who sees and hears whom: the same rule as mediation/spaces.py.
 * Pure: no DOM, no socket, so tests/js can check it with Node's test runner. */

/** Who presides a room: the mediator, or the judge of a verification session (mediation/spaces.py PRESIDING). */
export const PRESIDING = Object.freeze(["mediator", "judge"]);
export const presides = (member) => Boolean(member) && PRESIDING.includes(member.role);

/** The space a member is in: "lobby" (not admitted), "joint", "caucus", or "waiting:<side>" while the
 * mediator talks with the other side (a member without a side waits alone). */
export function spaceOf(member, caucusSide) {
  if (!member || member.state !== "admitted") return "lobby";
  if (!caucusSide) return "joint";
  if (presides(member) || member.side === caucusSide) return "caucus";
  return member.side ? `waiting:${member.side}` : `waiting:member${member.member}`;
}

export const isAdmitted = (member) => Boolean(member) && member.state === "admitted";

/** Whether `other` is in my space: only then do we exchange audio, video and chat. */
export function sameSpace(me, other, caucusSide) {
  return isAdmitted(me) && Boolean(other) && other.state === "admitted"
    && spaceOf(other, caucusSide) === spaceOf(me, caucusSide);
}

/** What kind of space this is, for its label: "joint", "caucus", "lobby" or "waiting". */
export function spaceKind(space) {
  if (space === "joint" || space === "caucus" || space === "lobby") return space;
  return "waiting";
}

/** Who reads my chat in this space: "all", "caucus" (the mediator and that side), "side" or "" (nobody yet). */
export function chatScope(space) {
  if (space === "joint") return "all";
  if (space === "caucus") return "caucus";
  if (space && space.startsWith("waiting:")) return "side";
  return "";
}

/** Why I wait, if I do: "lobby" (not yet admitted), "refused", "caucus" (the other side is in caucus) or "". */
export function waitReason(you, caucusSide, stopped) {
  if (stopped || !you) return "";
  if (you.state === "waiting") return "lobby";
  if (you.state === "refused") return "refused";
  if (spaceOf(you, caucusSide).startsWith("waiting:")) return "caucus";
  return "";
}

/** The members whose tiles I see: online, not me, in my space. */
export function visibleMembers(members, meId, caucusSide) {
  const me = members.get(meId);
  if (!isAdmitted(me)) return [];
  return [...members.values()].filter((m) => m.member !== meId && m.online && sameSpace(me, m, caucusSide));
}

/** After a space change: the connections to close (no longer with me, or gone offline) and the ones I open
 * (of each new pair the higher id offers, so exactly one side does). */
export function meshChanges(members, meId, caucusSide, connected) {
  const me = members.get(meId);
  const close = [...connected].filter((id) => {
    const other = members.get(id);
    return !other || !other.online || !sameSpace(me, other, caucusSide);
  });
  const open = [];
  if (isAdmitted(me)) {
    for (const other of members.values()) {
      if (other.member !== meId && other.online && sameSpace(me, other, caucusSide)
        && !connected.has(other.member) && meId > other.member) open.push(other.member);
    }
  }
  return { close, open };
}

/** A record entry written in caucus and not yet released: only that side and the mediator see it. */
export const caucusOnly = (entry) => Boolean(entry.caucus_side) && !entry.released;

/** Whether this person may release a caucus entry to the other side: a party of that side. */
export function mayRelease(entry, { side, role }) {
  return caucusOnly(entry) && entry.caucus_side === side && role === "party";
}
