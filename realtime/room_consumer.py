"""The mediation room socket, protocol ``yizhan-room/1`` (docs/protocol.md).

Thin: authenticate (session cookie or ``?token=``), authorise with one service call, join the room's
group and the member's own group, send ``welcome``, then validate each frame and either relay it
(signaling: never stored, never touches the database) or hand it to one service. Stored events come back
from the services' on-commit broadcasts and are filtered here by ``mediation.spaces.may_see``, the same
rule the snapshot uses. Signals are delivered only between members that share a space by the room state
this socket knows, checked on the sending and on the receiving socket.

Two things keep that room state right on a busy or weak network. Commands that touch the database run one
at a time in a task of their own, so a slow query never holds up pongs, signals or events (a phone that
hears nothing for 2 s reconnects). And broadcasts are applied strictly in ``seq`` order: two writers commit
one after the other but their on-commit broadcasts may cross, and a full channel drops messages, so an
event that arrives early waits for the ones before it, and a gap that does not fill within ``GAP_WAIT``
seconds is repaired with a fresh ``welcome`` read from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from mediation import spaces
from mediation.exceptions import DomainError, MemberRemoved, RoomEnded
from mediation.models import RoomMember, User
from mediation.selectors.rooms import room_member_get, room_members_with_room, snapshot_from
from mediation.services import live_view, recording, room_controls, room_entry, room_guidance, room_record
from realtime import frames as f
from realtime import sfu
from realtime.broadcast import room_group, room_member_group
from realtime.ice import ice_servers

logger = logging.getLogger(__name__)

PROTOCOL = "yizhan-room/1"
# Close codes of the socket itself; a refusal by the rules closes with the code its error declares
# (``DomainError.close_code``: 4401, 4403, 4408, 4409, 4410, 4412, 4423).
CLOSE_REPLACED = 4001
CLOSE_IDLE = 4002
CLOSE_REMOVED = MemberRemoved.close_code
CLOSE_ENDED = RoomEnded.close_code
CLOSE_RATE = 4429
CLOSE_SERVER_ERROR = 1011
# The server closes a socket that sent nothing for this long (clients ping every second).
IDLE_CLOSE_SECONDS = 15.0
# How long an event that arrived ahead of its predecessors waits for them before the socket resyncs.
GAP_WAIT = 0.5
# Events held while waiting for a gap to fill; beyond this the socket resyncs at once.
MAX_HELD = 200
# Commands accepted but not yet run (each is one database call); beyond this a command is refused as busy.
MAX_QUEUED_COMMANDS = 16
# Frames that bypass the command queue: answered or relayed at once, never touching the database.
INLINE = frozenset({"ping", "signal"})
# What the channel layer raises while Redis is unreachable: the socket is closed with 1011 (docs/protocol.md),
# so the client shows "reconnecting", comes back with ``since`` and resyncs from the database.
LAYER_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
# The heartbeat, answered before parsing, validation and dispatch (two thirds of all inbound frames).
PING_FRAMES = frozenset({'{"type":"ping"}', '{"type": "ping"}'})
PONG = '{"type":"pong"}'
# A dropped socket's presence is cleared this many seconds later, unless the member is back on this worker by
# then (decisions D60): in a reconnect storm the clears no longer queue ahead of the rejoins.
PRESENCE_CLEAR_DELAY = 2.0
# The newest socket of each member on this worker (member id -> channel name), and the delayed clears.
_current_channel: dict[int, str] = {}
_pending_clears: set[asyncio.Task[None]] = set()


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=int(settings.ROOM_DB_THREADS), thread_name_prefix="room-db")


def db(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``fn`` run on the room sockets' own database threads (each with its own persistent connection), not
    on Channels' one thread that every ``database_sync_to_async`` call of the process queues on: one
    socket's join no longer waits behind every other socket's. Each call is its own transaction, and a
    socket runs its commands one at a time, so nothing here relies on sharing a thread."""
    return database_sync_to_async(fn, thread_sensitive=False, executor=_executor())


class RoomConsumer(AsyncWebsocketConsumer):
    room_id: int = 0
    member_id: int | None = None
    caucus_side: str = ""
    baseline_seq: int = 0
    next_seq: int = 1
    closing: bool = False
    replaced: bool = False
    media: tuple[bool, bool] = (False, False)
    accepted: bool = False
    # What the next resume token says besides the live room state: the member's party, when the person last
    # came in by the full join (unix time), and when the socket last sent a token (monotonic).
    party_id: int | None = None
    joined_at: int = 0
    token_sent_at: float = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except LAYER_ERRORS as exc:
            # Everything the room holds is in the database; only live delivery is lost until Redis is back.
            logger.warning("room %s: channel layer unreachable (%s: %s); closing member %s's socket with %s",
                           self.room_id, type(exc).__name__, exc, self.member_id, CLOSE_SERVER_ERROR)
            self.closing = True
            with contextlib.suppress(Exception):
                if not self.accepted:
                    await send({"type": "websocket.accept", "subprotocol": None})
                await send({"type": "websocket.close", "code": CLOSE_SERVER_ERROR})
            with contextlib.suppress(Exception):
                await self.disconnect(CLOSE_SERVER_ERROR)

    async def accept(self, subprotocol: str | None = None, headers: Any = None) -> None:
        await super().accept(subprotocol, headers)
        self.accepted = True

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' own dispatch first waits for ``close_old_connections`` on the one thread that every
        ``database_sync_to_async`` call in the process shares, before each message: one slow query anywhere
        then holds up every socket's pongs and signals. Every database call here goes through
        ``database_sync_to_async``, which closes old connections itself, so handlers run at once."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.members: dict[int, spaces.MemberInfo] = {}
        self.bucket = f.TokenBucket()
        self.writes = f.TokenBucket(rate=f.WRITE_RATE_PER_SECOND, burst=f.WRITE_BURST)
        self.quality_bucket = f.TokenBucket(rate=f.QUALITY_RATE_PER_SECOND, burst=f.QUALITY_BURST,
                                            tokens=float(f.QUALITY_BURST))
        self.last_heard = time.monotonic()
        self.watchdog: asyncio.Task[None] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.commands: asyncio.Queue[Any] = asyncio.Queue(maxsize=MAX_QUEUED_COMMANDS)
        self.held: dict[int, dict[str, Any]] = {}
        self.gap_timer: asyncio.Task[None] | None = None
        self.room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        since_text = (query.get("since") or [""])[0]
        since = int(since_text) if since_text.isdigit() and len(since_text) < 16 else None
        user = self.scope.get("user")
        user = user if user is not None and user.is_authenticated else None
        welcome: dict[str, Any] | None = None
        refused_reason = ""
        if room_entry.is_resume_token(token):
            welcome, refused_reason, resumer = await self._resume(token, since)
            if welcome is None:
                user, token = user or resumer, ""
                if user is None:
                    await self._refuse(room_entry.ResumeRefused(refused_reason).close_code)
                    return
        if welcome is None:
            welcome = await self._join(user, token, since or 0)
            if welcome is None:
                return
            if refused_reason:
                welcome["resume_refused"] = refused_reason
        await self.accept()
        await self._send(welcome)
        await self._announce_presence(online=True, audio_only=self.media[0], muted=self.media[1])
        self.watchdog = asyncio.ensure_future(self._watch())
        self.worker = asyncio.ensure_future(self._work())

    async def _enter(self, member_id: int) -> None:
        self.member_id = member_id
        _current_channel[member_id] = self.channel_name
        layer = self.channel_layer
        # An older socket of this member closes with 4001; ours is not in the group yet.
        await layer.group_send(room_member_group(self.room_id, member_id),
                               {"type": "room.replaced", "channel": self.channel_name})
        # Join first, then read the snapshot: an event committed meanwhile is in it or queued behind it.
        await layer.group_add(room_group(self.room_id), self.channel_name)
        await layer.group_add(room_member_group(self.room_id, member_id), self.channel_name)

    async def _resume(self, token: str, since: int | None) -> tuple[dict[str, Any] | None, str, User | None]:
        """The cheap way back in (decisions D50): the token's signature, age and room checked here, then
        one database call that reads the room with its members, checks what the token cannot prove, and
        reads the events since ``since``. Returns the welcome, or None with the reason and the user the token
        proved (for the full join), if any."""
        try:
            claims = room_entry.room_resume_read(token=token, room_id=self.room_id)
        except room_entry.ResumeRefused as refusal:
            return None, refusal.reason, await self._user(refusal.user_id)
        await self._enter(claims.member_id)
        try:
            welcome = await self._welcome(claims.seq if since is None else since, claims=claims)
        except room_entry.ResumeRefused as refusal:
            logger.info("room %s: resume of member %s refused (%s); full join", self.room_id, claims.member_id,
                        refusal.reason)
            return None, refusal.reason, await self._user(refusal.user_id)
        welcome["resumed"] = True
        return welcome, "", None

    async def _user(self, user_id: int | None) -> User | None:
        if user_id is None:
            return None
        user: User | None = await db(lambda: User.objects.filter(pk=user_id, is_active=True).first())()
        return user

    async def _join(self, user: User | None, token: str, since: int) -> dict[str, Any] | None:
        """The full join: authorise by join token or user through the room's rules, then the welcome."""
        try:
            member = await db(room_entry.room_connect)(room_id=self.room_id, user=user, token=token)
        except DomainError as exc:
            await self._refuse(exc.close_code)
            return None
        except Exception:
            logger.exception("room %s: authorising a socket failed", self.room_id)
            await self._refuse(CLOSE_SERVER_ERROR)
            return None
        await self._enter(member.pk)
        self.joined_at = int(time.time())
        welcome = await self._welcome(since)
        welcome["resumed"] = False
        return welcome

    async def _refuse(self, code: int) -> None:
        # Accept first so that the client sees the application code, not a bare 1006.
        self.closing = True
        await self.accept()
        await self.close(code=code)

    async def _welcome(self, since: int, *, claims: room_entry.ResumeClaims | None = None) -> dict[str, Any]:
        """A ``welcome`` read from the database in one call of four statements (``_welcome_sync``), with a
        fresh resume token; on a resume, the token's claims are checked in the same call."""
        assert self.member_id is not None
        body, infos, self.media, self.party_id = await db(_welcome_sync)(
            self.room_id, self.member_id, self.channel_name, since, claims
        )
        if claims is not None:
            self.joined_at = claims.joined
        self.members = infos
        caucus_side = str(body["room"]["caucus_side"])
        self.caucus_side = caucus_side
        self.baseline_seq = int(body["last_seq"])
        # Everything up to last_seq is in this snapshot: live events continue right after it.
        self.next_seq = self.baseline_seq + 1
        self.held = {seq: message for seq, message in self.held.items() if seq >= self.next_seq}
        body["resume_token"] = self._resume_token()
        return body

    def _resume_token(self) -> str:
        """A resume token for the state this socket has delivered (no database)."""
        assert self.member_id is not None
        me = self.members[self.member_id]
        self.token_sent_at = time.monotonic()
        return room_entry.room_resume_token(member=me, room_id=self.room_id, caucus_side=self.caucus_side,
                                            party_id=self.party_id, seq=self.next_seq - 1, joined=self.joined_at)

    async def disconnect(self, code: int) -> None:
        for task in (self.watchdog, self.worker, self.gap_timer):
            if task is not None:
                task.cancel()
        if self.member_id is None:
            return
        layer = self.channel_layer
        with contextlib.suppress(*LAYER_ERRORS):  # Redis away: its groups expire by themselves
            await layer.group_discard(room_group(self.room_id), self.channel_name)
            await layer.group_discard(room_member_group(self.room_id, self.member_id), self.channel_name)
        if self.replaced:
            return
        task = asyncio.ensure_future(self._clear_presence_later())
        _pending_clears.add(task)
        task.add_done_callback(_pending_clears.discard)

    async def _clear_presence_later(self) -> None:
        """Clear this socket's presence after ``PRESENCE_CLEAR_DELAY``, unless a newer socket of the member
        came in on this worker meanwhile (it set the presence itself; the clear, compare-and-set on the
        channel, would change nothing). A newer socket on another worker is seen by the compare-and-set."""
        assert self.member_id is not None
        await asyncio.sleep(PRESENCE_CLEAR_DELAY)
        if _current_channel.get(self.member_id) not in (None, self.channel_name):
            return
        try:
            was_current = await db(room_entry.room_presence_clear)(
                member_id=self.member_id, channel=self.channel_name
            )
        except Exception:
            logger.exception("clearing presence of room member %s failed", self.member_id)
            return
        finally:
            if _current_channel.get(self.member_id) == self.channel_name:
                del _current_channel[self.member_id]
        if was_current:
            await self._live_dropped()
            with contextlib.suppress(*LAYER_ERRORS):
                await self._announce_presence(online=False)

    async def _watch(self) -> None:
        refresh = int(settings.ROOM_RESUME_TTL) / 3
        while not self.closing:
            await asyncio.sleep(min(1.0, IDLE_CLOSE_SECONDS))
            if time.monotonic() - self.last_heard > IDLE_CLOSE_SECONDS:
                await self._close(CLOSE_IDLE)
                return
            if time.monotonic() - self.token_sent_at > refresh and self.member_id in self.members:
                # A fresh resume token while the socket is open (no database), so the next drop resumes.
                await self._send({"type": "resume", "token": self._resume_token()})

    async def _close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    async def _error(self, code: str, message: str, ref: Any = None) -> None:
        await self._send({"type": "error", "code": code, "message": message, "ref": ref})

    # --- from the client ------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing or self.member_id is None:
            return
        self.last_heard = time.monotonic()
        if text_data in PING_FRAMES:
            # The heartbeat (two thirds of inbound frames): answered before the rate limiter, parsing,
            # validation and dispatch, and not counted against the budget (decisions D58). A pong costs
            # no more than reading the frame did.
            await self.send(text_data=PONG)
            return
        if not self.bucket.take():
            if self.bucket.far_over:
                await self._close(CLOSE_RATE)
            elif self.bucket.overflow == 1:
                await self._error("rate_limited", _("发送过于频繁，请稍后再试。"))
            return
        frame = f.parse_frame(text_data, bytes_data)
        if isinstance(frame, f.FrameError):
            await self._send(frame.as_frame())
            return
        await self._guarded(self._dispatch, frame)

    async def _guarded(self, handle: Callable[[Any], Awaitable[None]], frame: Any) -> None:
        """Handle one frame; an unexpected failure is logged and answered, and never takes the socket down."""
        try:
            await handle(frame)
        except Exception:
            logger.exception("room %s: frame %s from member %s failed", self.room_id, type(frame).__name__,
                             self.member_id)
            with contextlib.suppress(Exception):  # e.g. the client went away while we answered
                await self._error("refused", _("服务器暂时无法处理该请求，请重试。"), frame.ref)

    async def _dispatch(self, frame: Any) -> None:
        me = self.members.get(self.member_id or 0)
        kind = frame.type
        if kind == "ping":
            await self._send({"type": "pong"})
            return
        if kind == "signal":
            await self._relay(frame, me)
            return
        if kind == "quality":
            await self._quality(frame)
            return
        if kind in f.MEDIATOR_ONLY and (me is None or me.role not in spaces.PRESIDING):
            await self._error("forbidden", _("只有主持人（调解员或主持询问的法官）可以这样做。"), frame.ref)
            return
        # Everything else is one database call: queued, so this socket keeps answering pings meanwhile.
        if not self.writes.take():
            await self._error("rate_limited", _("发送过于频繁，请稍后再试。"), frame.ref)
            return
        try:
            self.commands.put_nowait(frame)
        except asyncio.QueueFull:
            await self._error("rate_limited", _("服务器繁忙，请稍后再试。"), frame.ref)

    async def _work(self) -> None:
        """Run queued commands one at a time, in the order they came."""
        while not self.closing:
            frame = await self.commands.get()
            if self.closing:
                return
            await self._guarded(self._command, frame)

    async def _command(self, frame: Any) -> None:
        kind = frame.type
        if kind == "media":
            await db(_media_sync)(self.member_id, frame.audio_only, frame.muted)
            await self._announce_presence(online=True, audio_only=frame.audio_only, muted=frame.muted)
            return
        try:
            seq = await db(_command_sync)(self.member_id, frame)
        except DomainError as exc:
            await self._error(exc.frame_error, str(exc), frame.ref)
            return
        if self.closing:
            return
        await self._send({"type": "ack", "ref": frame.ref, "seq": seq})
        if kind == "leave":
            await self._close(1000)

    async def _relay(self, frame: f.Signal, me: spaces.MemberInfo | None) -> None:
        if me is None or me.state != spaces.ADMITTED:
            await self._error("forbidden", _("调解员准许入会后才能建立音视频连接。"), frame.ref)
            return
        target = self.members.get(frame.to)
        if target is None or target.pk == me.pk or not spaces.share_space(caucus_side=self.caucus_side, a=me, b=target):
            await self._error("not_in_space", _("对方不在您当前所在的调解空间。"), frame.ref)
            return
        await self.channel_layer.group_send(
            room_member_group(self.room_id, target.pk),
            {"type": "room.signal", "from": me.pk, "data": frame.data},
        )

    # --- the staff's live view (issue 14 item 3; decision D54): the live cache, never the database --

    async def _quality(self, frame: f.Quality) -> None:
        """Keep this member's own connection quality for the live view: its own budget, no database, no
        event; an ``ack`` only when the frame had a ``ref``."""
        if not self.quality_bucket.take():
            await self._error("rate_limited", _("网络质量上报过于频繁。"), frame.ref)
            return
        assert self.member_id is not None
        await db(live_view.room_quality_report)(member_id=self.member_id, level=frame.level, rtt_ms=frame.rtt_ms,
                                                loss_pct=frame.loss_pct)
        if frame.ref is not None:
            await self._send({"type": "ack", "ref": frame.ref, "seq": None})

    async def _live_dropped(self) -> None:
        """The socket went without ``leave``: the live view shows 正在重连 (a cache that is away costs nothing)."""
        assert self.member_id is not None
        try:
            await db(live_view.room_presence_dropped)(member_id=self.member_id)
        except Exception:
            logger.warning("room %s: could not mark member %s as reconnecting in the live cache", self.room_id,
                           self.member_id, exc_info=True)

    async def _announce_presence(self, *, online: bool, audio_only: bool = False, muted: bool = False) -> None:
        await self.channel_layer.group_send(
            room_group(self.room_id),
            {"type": "room.presence", "member": self.member_id, "online": online, "audio_only": audio_only,
             "muted": muted},
        )

    # --- from the channel layer ------------------------------------------------------------------------

    async def room_event(self, message: dict[str, Any]) -> None:
        if self.member_id is None or self.closing:
            return
        seq = int(message["event"]["seq"])
        if seq < self.next_seq:
            return  # already in the snapshot this socket sent
        self.held[seq] = message
        if len(self.held) > MAX_HELD:
            await self._resync()
            return
        await self._release()

    async def _release(self) -> None:
        """Deliver held events while the next one in ``seq`` order is there; wait a moment for a gap."""
        while self.next_seq in self.held and not self.closing:
            message = self.held.pop(self.next_seq)
            self.next_seq += 1
            await self._deliver(message)
        if self.held and not self.closing and (self.gap_timer is None or self.gap_timer.done()):
            self.gap_timer = asyncio.ensure_future(self._gap_watch(self.next_seq))

    async def _gap_watch(self, missing: int) -> None:
        # Through our own channel, so that the repair runs in turn with the other room messages.
        await asyncio.sleep(GAP_WAIT)
        await self.channel_layer.send(self.channel_name, {"type": "room.gap", "missing": missing})

    async def room_gap(self, message: dict[str, Any]) -> None:
        if self.member_id is None or self.closing:
            return
        if self.next_seq == message.get("missing") and self.held:
            logger.info("room %s: member %s missed event %s; resyncing", self.room_id, self.member_id, self.next_seq)
            await self._resync()
        elif self.held:
            await self._release()  # a different gap now: watch that one

    async def _resync(self) -> None:
        """A fresh welcome with what this socket has not delivered yet: the repair for a lost broadcast."""
        if self.closing:
            return
        welcome = await self._welcome(self.next_seq - 1)
        await self._send(welcome)
        await self._release()

    async def _deliver(self, message: dict[str, Any]) -> None:
        assert self.member_id is not None
        event, audience = message["event"], message["audience"]
        state = message.get("state") or {}
        before = self.members.get(self.member_id)
        caucus_before = self.caucus_side
        self._apply(state)
        me = self.members.get(self.member_id)
        if me is None:
            return
        if self.caucus_side != caucus_before and me.state == spaces.ADMITTED and sfu.enabled():
            # The SFU's rooms were rebuilt for the new spaces before this event left (realtime.receivers).
            await self._send(f.media_rejoin(sfu.media_descriptor(room_id=self.room_id, member=me,
                                                                 caucus_side=self.caucus_side)))
        if spaces.may_see(audience=audience, member=me):
            await self._send(event)
            payload = event.get("payload") or {}
            if event["kind"] == "member.mute_requested" and payload.get("member") == self.member_id:
                await self._send({"type": "mute_request", "by": payload.get("by")})
        if state.get("member") == self.member_id:
            admitted_now = me.state == spaces.ADMITTED and (before is None or before.state != spaces.ADMITTED)
            moved = before is not None and (before.role, before.side) != (me.role, me.side)
            if admitted_now or moved:
                # What this person may see changed: a fresh welcome with everything now visible.
                await self._send(await self._welcome(0))
            elif me.state == "removed":
                await self._close(CLOSE_REMOVED)
            elif me.state == "left" and event["kind"] == "member.left" and event.get("actor") != self.member_id:
                # Someone else ended my place (the court's guidance request closed): this socket goes too.
                await self._close(1000)
        if state.get("status") == "ended":
            await self._close(CLOSE_ENDED)

    def _apply(self, state: dict[str, Any]) -> None:
        if "caucus_side" in state:
            self.caucus_side = str(state["caucus_side"])
        if "member" in state:
            self.members[int(state["member"])] = spaces.MemberInfo(
                pk=int(state["member"]), user_id=int(state["user"]), role=str(state["role"]),
                side=str(state["side"]), state=str(state["state"]),
            )

    async def room_signal(self, message: dict[str, Any]) -> None:
        if self.member_id is None or self.closing:
            return
        me, sender = self.members.get(self.member_id), self.members.get(int(message["from"]))
        if me is None or sender is None or not spaces.share_space(caucus_side=self.caucus_side, a=me, b=sender):
            return  # the sender's socket had not yet learned of a space change: drop it here
        await self._send({"type": "signal", "from": sender.pk, "data": message["data"]})

    async def room_presence(self, message: dict[str, Any]) -> None:
        if self.member_id is None or self.closing:
            return
        await self._send({"type": "presence", "member": message["member"], "online": message["online"],
                          "audio_only": message["audio_only"], "muted": message["muted"]})

    async def room_revoked(self, message: dict[str, Any]) -> None:
        """The member lost their place (removed by the mediator, or no longer the case's mediator): sent to
        the member's own group, so the socket closes at once on whichever worker holds it."""
        if self.member_id is None or self.closing:
            return
        await self._close(int(message.get("code") or CLOSE_REMOVED))

    async def room_replaced(self, message: dict[str, Any]) -> None:
        if message.get("channel") != self.channel_name:
            # A newer socket of this member is online (or about to be): saying "offline" now could reach the
            # others after its "online" and hide a member who is there.
            self.replaced = True
            await self._close(CLOSE_REPLACED)


# --- the database side, one call each -----------------------------------------------------------------------


def _welcome_sync(
    room_id: int, member_id: int, channel: str, since: int, claims: room_entry.ResumeClaims | None
) -> tuple[dict[str, Any], dict[int, spaces.MemberInfo], tuple[bool, bool], int | None]:
    """Four statements: the room with its members, the presence update, the events after ``since``, the
    record. With ``claims`` (a resume), ``room_entry.room_resume`` checks them on the same read first."""
    if claims is not None:
        member, members = room_entry.room_resume(claims=claims, channel=channel)
    else:
        members = room_members_with_room(room_id=room_id)
        found = next((m for m in members if m.pk == member_id), None)
        if found is None:
            raise RoomMember.DoesNotExist(member_id)
        member = found
        room_entry.room_presence_set(member=member, channel=channel)
        member.online_channel = channel[:120]
    body = snapshot_from(room=member.room, members=members, member_id=member.pk, since=since)
    body["ice_servers"] = ice_servers(member_id=member.pk)
    body["media"] = _media_sync_sfu(member, str(body["room"]["caucus_side"]))
    infos = {m.pk: spaces.info_of(m) for m in members}
    return body, infos, (member.audio_only, member.muted), member.party_id


def _media_sync_sfu(member: Any, caucus_side: str) -> dict[str, Any]:
    """The welcome's ``media``; with the SFU, an admitted member's token is let into its space's Janus room."""
    descriptor = sfu.media_descriptor(room_id=member.room_id, member=member, caucus_side=caucus_side)
    if descriptor["mode"] == "sfu" and member.state == spaces.ADMITTED:
        try:
            sfu.admit(room_id=member.room_id, member=member, caucus_side=caucus_side)
        except sfu.JanusError:
            logger.exception("room %s: the SFU refused or is unreachable", member.room_id)
            descriptor["error"] = "unavailable"
    return f.SfuMedia.model_validate(descriptor).model_dump(exclude_none=True)


def _media_sync(member_id: int, audio_only: bool, muted: bool) -> None:
    room_entry.room_media_state(member=room_member_get(member_id=member_id), audio_only=audio_only, muted=muted)


def _recording_command(room: Any, actor: Any, frame: Any) -> int | None:
    """Consent-gated recording (issue 14 item 2; mediation/services/recording.py)."""
    if frame.type == "recording.consent":
        recording.recording_consent(room=room, actor=actor, granted=frame.granted)
    elif frame.type == "recording.start":
        recording.recording_start(room=room, actor=actor)
    else:
        recording.recording_stop(room=room, actor=actor)
    return None


def _command_sync(member_id: int, frame: Any) -> int | None:
    """Run one client command through its service; the seq of the stored event, if any."""
    member = room_member_get(member_id=member_id)
    room, actor = member.room, member.user
    ref = "" if frame.ref is None else str(frame.ref)
    kind = frame.type
    if kind == "chat":
        return room_record.room_chat_post(member=member, text=frame.text, client_id=ref).seq
    if kind == "record.add":
        return room_record.room_record_add(member=member, text=frame.text, tag=frame.tag,
                                           supersedes_id=frame.supersedes, client_id=ref).seq
    if kind == "record.confirm":
        return room_record.room_record_confirm(member=member, version=frame.version, client_id=ref).seq
    if kind == "record.release":
        return room_record.room_record_release(member=member, entry_id=frame.entry, client_id=ref).seq
    if kind in ("admit", "refuse", "remove"):
        service = {"admit": room_controls.room_admit, "refuse": room_controls.room_refuse,
                   "remove": room_controls.room_remove}[kind]
        service(room=room, actor=actor, member=frame.member)
        return None
    if kind == "mute_request":
        return room_controls.room_mute_request(room=room, actor=actor, member=frame.member).seq
    if kind == "lock":
        return room_controls.room_lock(room=room, actor=actor, locked=frame.locked).seq
    if kind == "caucus":
        return room_controls.room_caucus_start(room=room, actor=actor, side=frame.side).seq
    if kind == "joint":
        return room_controls.room_caucus_end(room=room, actor=actor).seq
    if kind == "end":
        room_controls.room_end(room=room, actor=actor, outcome=frame.outcome, end_reason=frame.end_reason,
                               continue_at=frame.continue_at, note=frame.note, cost_conduct=frame.cost_conduct,
                               court_matters=frame.court_matters)
        return None
    if kind == "leave":
        room_entry.room_leave(member=member)
        return None
    if kind == "guidance.request":
        room_guidance.room_guidance_request(room=room, actor=actor, reason=frame.reason)
        return None
    if kind.startswith("recording."):
        return _recording_command(room, actor, frame)
    raise DomainError(_("不支持的消息类型。"))  # pragma: no cover - parse_frame admits only the kinds above

