"""The SFU (Janus's videoroom) decides who receives whose media (docs/protocol.md "Media: mesh or SFU").

One Janus room per space of a mediation room (joint, the caucus, each waiting side), created through the
HTTP Admin API with the project's videoroom ``admin_key``, an ``allowed`` token list and ``require_pvtid``:
joining a Janus room needs a token in its list, and subscribing needs the private id of a participant that
joined *that* room (``allowed`` alone gates only publishers in Janus 1.1.2). Each member has one token,
``member_token``: an HMAC of the member with the admin secret, added to Janus's core (``token_auth``) when
the member is welcomed and sent to that member only. A member joins with ``id = feed`` (its member id).

On a space change (caucus start or end) the Janus rooms of the mediation room are destroyed (which ends every
publisher *and* subscriber in them, server-side) and created again with the allowed tokens of who is now in
each space; every client is then told to rejoin (the ``media.rejoin`` frame). A member who leaves or is
removed loses its token and is kicked. Janus is reached with urllib from the caller's thread (after-commit
receivers and ``database_sync_to_async`` code are synchronous)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from mediation import spaces

logger = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
# Janus room ids: 16 per mediation room, by space (a helper waiting alone has no Janus room: nobody to see).
SPACE_SLOTS = {spaces.JOINT: 0, spaces.CAUCUS: 1, "waiting:applicant": 2, "waiting:respondent": 3}
ROOM_BASE = 1_000_000
PUBLISHERS = 12
BITRATE = 512_000  # bits/s per publisher; the simulcast layers share it


class JanusError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus {code}: {reason}")
        self.code = code
        self.reason = reason


def enabled() -> bool:
    return getattr(settings, "ROOM_MEDIA", "mesh") == "sfu"


def instance(room_id: int) -> int:
    """The Janus instance a mediation room is pinned to (all its spaces, for its whole life)."""
    return room_id % len(settings.JANUS_ADMIN_URLS)


def janus_room_id(room_id: int, space: str) -> int | None:
    slot = SPACE_SLOTS.get(space)
    return None if slot is None else ROOM_BASE + room_id * 16 + slot


def _mac(purpose: str, value: str) -> str:
    key = (settings.JANUS_ADMIN_SECRET or "").encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def member_token(room_id: int, member_id: int) -> str:
    """The member's Janus token: unguessable without the admin secret, the same at every welcome."""
    return "m" + _mac("member", f"{room_id}:{member_id}")[:40]


def room_secret(janus_room: int) -> str:
    """The Janus room's own secret (edit, kick, destroy): only the app knows it."""
    return _mac("room", str(janus_room))[:40]


@dataclass(frozen=True)
class JanusAdmin:
    """Janus's HTTP Admin API: core token requests and videoroom requests (``message_plugin``, no session)."""

    url: str
    secret: str
    admin_key: str
    timeout: float = 5.0

    @classmethod
    def from_settings(cls, room_id: int) -> JanusAdmin:
        """The Admin API of the instance ``room_id`` is pinned to."""
        return cls(
            url=settings.JANUS_ADMIN_URLS[instance(room_id)],
            secret=settings.JANUS_ADMIN_SECRET,
            admin_key=settings.JANUS_VIDEOROOM_ADMIN_KEY,
            timeout=float(settings.JANUS_TIMEOUT),
        )

    def call(self, janus: str, **body: Any) -> dict[str, Any]:
        payload = {"janus": janus, "transaction": secrets.token_hex(8), "admin_secret": self.secret, **body}
        request = urllib.request.Request(  # noqa: S310 - JANUS_ADMIN_URL is http(s) from the settings
            self.url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read())
        except (urllib.error.URLError, OSError) as exc:
            raise JanusError(0, f"Janus Admin API unreachable: {exc}") from exc
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
        return answer

    def add_token(self, token: str) -> None:
        try:
            self.call("add_token", token=token, plugins=[VIDEOROOM])
        except JanusError as exc:
            if "already" not in exc.reason.lower():
                raise

    def remove_token(self, token: str) -> None:
        try:
            self.call("remove_token", token=token)
        except JanusError as exc:
            if "token" not in exc.reason.lower():  # "Error removing token": it was not there
                raise

    def list_tokens(self) -> list[str]:
        data = self.call("list_tokens").get("data") or {}
        return [str(t.get("token")) for t in data.get("tokens", [])]

    def videoroom(self, request: dict[str, Any]) -> dict[str, Any]:
        """A videoroom request; a plugin error (``error_code``) raises."""
        response = self.call("message_plugin", plugin=VIDEOROOM, request=request).get("response") or {}
        if "error_code" in response:
            raise JanusError(int(response["error_code"]), str(response.get("error", "")))
        return dict(response)

    def create_room(self, janus_room: int, *, allowed: Iterable[str], description: str) -> None:
        self.videoroom(
            {
                "request": "create",
                "room": janus_room,
                "admin_key": self.admin_key,
                "permanent": False,
                "description": description,
                "secret": room_secret(janus_room),
                "is_private": True,
                "require_pvtid": True,
                "allowed": sorted(set(allowed)),
                "publishers": PUBLISHERS,
                "bitrate": BITRATE,
                "videocodec": "vp8",
                "audiocodec": "opus",
                "notify_joining": True,
            }
        )

    def exists(self, janus_room: int) -> bool:
        return bool(self.videoroom({"request": "exists", "room": janus_room}).get("exists"))

    def allow(self, janus_room: int, tokens: Iterable[str], *, action: str = "add") -> None:
        self.videoroom(
            {
                "request": "allowed",
                "room": janus_room,
                "secret": room_secret(janus_room),
                "action": action,
                "allowed": sorted(set(tokens)),
            }
        )

    def kick(self, janus_room: int, participant: int) -> None:
        try:
            self.videoroom(
                {"request": "kick", "room": janus_room, "secret": room_secret(janus_room), "id": participant}
            )
        except JanusError as exc:
            if exc.code not in (426, 428):  # no such room / no such participant: nothing to kick
                raise

    def destroy(self, janus_room: int) -> None:
        try:
            self.videoroom({"request": "destroy", "room": janus_room, "secret": room_secret(janus_room)})
        except JanusError as exc:
            if exc.code != 426:  # no such room
                raise

    def record(self, janus_room: int, *, on: bool, rec_dir: str = "") -> None:
        """Janus's own per-track recording of every publisher in the room (``.mjr`` files, no transcoding),
        into ``rec_dir`` when given (set before recording starts; issue 14 item 2)."""
        if rec_dir:
            self.videoroom({"request": "edit", "room": janus_room, "secret": room_secret(janus_room),
                            "new_rec_dir": rec_dir})
        self.videoroom({"request": "enable_recording", "room": janus_room, "secret": room_secret(janus_room),
                        "record": on})

    def participants(self, janus_room: int) -> list[dict[str, Any]]:
        return list(self.videoroom({"request": "listparticipants", "room": janus_room}).get("participants") or [])


# --- what a member is told, and what the app keeps in step -------------------------------------------------


def media_descriptor(*, room_id: int, member: spaces.MemberLike, caucus_side: str) -> dict[str, Any]:
    """The ``media`` object of a welcome and of ``media.rejoin`` (docs/protocol.md)."""
    if not enabled():
        return {"mode": "mesh"}
    space = spaces.space_of(caucus_side=caucus_side, member=member)
    return {
        "mode": "sfu",
        "janus_url": settings.JANUS_WS_URLS[instance(room_id)],
        "token": member_token(room_id, int(member.pk or 0)),
        "room": janus_room_id(room_id, space),
        "feed": int(member.pk or 0),
        "space": space,
    }


def _spaces_of(room_id: int, members: Iterable[spaces.MemberLike], caucus_side: str) -> dict[int, list[str]]:
    """Janus room id -> tokens allowed there, for every space that has a Janus room."""
    rooms: dict[int, list[str]] = {}
    for slot_space in SPACE_SLOTS:
        janus_room = janus_room_id(room_id, slot_space)
        assert janus_room is not None
        rooms[janus_room] = []
    for member in members:
        space = spaces.space_of(caucus_side=caucus_side, member=member)
        janus_room = janus_room_id(room_id, space)
        if janus_room is not None:
            rooms[janus_room].append(member_token(room_id, int(member.pk or 0)))
    return rooms


def admit(*, room_id: int, member: spaces.MemberLike, caucus_side: str, admin: JanusAdmin | None = None) -> None:
    """At a welcome: the member's token in Janus's core and in the allowed list of its space's room (created
    when it is not there yet)."""
    admin = admin or JanusAdmin.from_settings(room_id)
    token = member_token(room_id, int(member.pk or 0))
    admin.add_token(token)
    space = spaces.space_of(caucus_side=caucus_side, member=member)
    janus_room = janus_room_id(room_id, space)
    if janus_room is None:
        return
    if admin.exists(janus_room):
        admin.allow(janus_room, [token])
    else:
        try:
            admin.create_room(janus_room, allowed=[token], description=f"yizhan {room_id} {space}")
        except JanusError as exc:
            if exc.code != 427:  # created meanwhile by another member's welcome
                raise
            admin.allow(janus_room, [token])


def rebuild(
    *, room_id: int, members: Iterable[spaces.MemberLike], caucus_side: str, admin: JanusAdmin | None = None
) -> None:
    """After a space change: every Janus room of the mediation room destroyed (their publishers and
    subscribers end on the server) and created again with who is in each space now."""
    admin = admin or JanusAdmin.from_settings(room_id)
    members = list(members)
    for janus_room, tokens in _spaces_of(room_id, members, caucus_side).items():
        admin.destroy(janus_room)
        if tokens:
            admin.create_room(janus_room, allowed=tokens, description=f"yizhan {room_id}")


def dismiss(*, room_id: int, member_id: int, admin: JanusAdmin | None = None) -> None:
    """A member who left or was removed: token gone from Janus and from every allowed list, and kicked."""
    admin = admin or JanusAdmin.from_settings(room_id)
    token = member_token(room_id, member_id)
    for slot_space in SPACE_SLOTS:
        janus_room = janus_room_id(room_id, slot_space)
        assert janus_room is not None
        try:
            admin.allow(janus_room, [token], action="remove")
        except JanusError as exc:
            if exc.code != 426:
                raise
            continue
        admin.kick(janus_room, member_id)
    admin.remove_token(token)


def close(*, room_id: int, member_ids: Iterable[int], admin: JanusAdmin | None = None) -> None:
    """The room ended: its Janus rooms destroyed and its members' tokens removed."""
    admin = admin or JanusAdmin.from_settings(room_id)
    for slot_space in SPACE_SLOTS:
        janus_room = janus_room_id(room_id, slot_space)
        assert janus_room is not None
        admin.destroy(janus_room)
    for member_id in member_ids:
        admin.remove_token(member_token(room_id, member_id))
