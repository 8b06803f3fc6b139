"""The client frames of ``yizhan-room/1`` as pydantic models, and the per-connection rate limit.

``parse_frame`` never raises: it returns either a validated frame or a ``FrameError`` that the consumer
sends back as an ``error`` frame (codes in docs/protocol.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
)

MAX_FRAME_BYTES = 16 * 1024
RATE_PER_SECOND = 30.0
RATE_BURST = 120
# Frames refused for the rate during one flood before the socket is closed with 4429.
RATE_CLOSE_AFTER = 2 * RATE_BURST
# Frames that are stored or write to the database (everything but ping and signal) have a budget of their
# own: each is a locked row, an event every member receives and an audit entry.
WRITE_RATE_PER_SECOND = 5.0
WRITE_BURST = 20

MemberId = Annotated[StrictInt, Field(gt=0, lt=2**53)]
Ref = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)] | Annotated[
    StrictInt, Field(ge=0, lt=2**53)
]


class _Frame(BaseModel):
    # Extra fields are ignored (a newer client may send more); the ones we use are checked strictly.
    model_config = ConfigDict(extra="ignore", frozen=True)

    ref: Ref | None = None


class Ping(_Frame):
    type: Literal["ping"]


class Signal(_Frame):
    type: Literal["signal"]
    to: MemberId
    data: dict[str, Any]

    @field_validator("data")
    @classmethod
    def _description_or_candidate(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not ({"description", "candidate"} & set(value)):
            raise ValueError("data must hold a description or a candidate")
        return value


class Media(_Frame):
    type: Literal["media"]
    audio_only: StrictBool = False
    muted: StrictBool = False


class Chat(_Frame):
    type: Literal["chat"]
    text: Annotated[StrictStr, StringConstraints(min_length=1, max_length=2000)]


class RecordAdd(_Frame):
    type: Literal["record.add"]
    text: Annotated[StrictStr, StringConstraints(min_length=1, max_length=5000)]
    tag: Literal["", "undisputed_fact", "settlement"] = ""
    supersedes: MemberId | None = None


class RecordConfirm(_Frame):
    type: Literal["record.confirm"]
    version: Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class RecordRelease(_Frame):
    type: Literal["record.release"]
    entry: MemberId


class Admit(_Frame):
    type: Literal["admit"]
    member: MemberId


class Refuse(_Frame):
    type: Literal["refuse"]
    member: MemberId


class Remove(_Frame):
    type: Literal["remove"]
    member: MemberId


class MuteRequest(_Frame):
    type: Literal["mute_request"]
    member: MemberId


class Lock(_Frame):
    type: Literal["lock"]
    locked: StrictBool


class Caucus(_Frame):
    type: Literal["caucus"]
    side: Literal["applicant", "respondent"]


class Joint(_Frame):
    type: Literal["joint"]


class End(_Frame):
    type: Literal["end"]
    outcome: Literal["continue", "agreement", "terminate", "questioned"]
    end_reason: Annotated[StrictStr, StringConstraints(max_length=20)] = ""
    continue_at: AwareDatetime | None = None
    note: Annotated[StrictStr, StringConstraints(max_length=2000)] = ""
    cost_conduct: Annotated[StrictStr, StringConstraints(max_length=2000)] = ""
    court_matters: Annotated[StrictStr, StringConstraints(max_length=2000)] = ""


class Leave(_Frame):
    type: Literal["leave"]


class GuidanceRequest(_Frame):
    type: Literal["guidance.request"]
    reason: Annotated[StrictStr, StringConstraints(max_length=500)]


# --- the staff's live view (issue 14 item 3): the client's own connection quality, kept in the live cache ---

# ``quality`` frames have a budget of their own (the client sends one on a change of level and one every
# QUALITY_REPEAT_SECONDS otherwise): one every 2 s sustained, 3 at once. Over it: ``rate_limited``, not kept.
QUALITY_RATE_PER_SECOND = 0.5
QUALITY_BURST = 3


class Quality(_Frame):
    type: Literal["quality"]
    level: Literal["good", "fair", "poor", "lost", "none"]
    rtt_ms: Annotated[StrictInt, Field(ge=0, le=60_000)] | None = None
    loss_pct: Annotated[float, Field(strict=True, ge=0, le=100, allow_inf_nan=False)] | None = None


# Consent-gated recording (issue 14 item 2): anyone answers; the presiding member starts and stops.
class RecordingConsent(_Frame):
    type: Literal["recording.consent"]
    granted: StrictBool


class RecordingStart(_Frame):
    type: Literal["recording.start"]


class RecordingStop(_Frame):
    type: Literal["recording.stop"]


ClientFrame = Annotated[
    Ping | Signal | Media | Chat | RecordAdd | RecordConfirm | RecordRelease | Admit | Refuse | Remove
    | MuteRequest | Lock | Caucus | Joint | End | Leave | GuidanceRequest | Quality
    | RecordingConsent | RecordingStart | RecordingStop,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientFrame)
FRAME_TYPES = frozenset(
    {"ping", "signal", "media", "chat", "record.add", "record.confirm", "record.release", "admit", "refuse",
     "remove", "mute_request", "lock", "caucus", "joint", "end", "leave", "guidance.request", "quality"}
    | {"recording.consent", "recording.start", "recording.stop"}
)
# Frames only the presiding member sends: the mediator, or the judge of a verification session. The services
# check again (``room_turn``); the guidance request is the mediator's alone (``room_guidance``).
MEDIATOR_ONLY = frozenset({"record.add", "admit", "refuse", "remove", "mute_request", "lock", "caucus", "joint",
                           "end", "guidance.request"}) | {"recording.start", "recording.stop"}


# --- server frames that carry a structure of their own ------------------------------------------------------


class SfuMedia(BaseModel):
    """The ``media`` object of ``welcome`` and ``media.rejoin`` (docs/protocol.md "Media: mesh or SFU")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["mesh", "sfu"]
    janus_url: StrictStr | None = None
    token: Annotated[StrictStr, StringConstraints(min_length=16, max_length=64)] | None = None
    room: Annotated[StrictInt, Field(gt=0, lt=2**53)] | None = None
    feed: MemberId | None = None
    space: StrictStr | None = None
    error: Literal["unavailable"] | None = None


def media_rejoin(media: dict[str, Any]) -> dict[str, Any]:
    """``media.rejoin``: the SFU's rooms changed (a caucus began or ended); leave the Janus room, join
    ``media.room`` (``null``: none for you now) and subscribe again."""
    checked = SfuMedia.model_validate(media)
    if checked.mode != "sfu":
        raise ValueError("media.rejoin is for the SFU only")
    body = checked.model_dump(exclude_none=True)
    body.setdefault("room", None)
    return {"type": "media.rejoin", "media": body}


@dataclass(frozen=True)
class FrameError:
    code: str
    message: str
    ref: str | int | None = None

    def as_frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message, "ref": self.ref}


def parse_frame(text_data: str | None, bytes_data: bytes | None = None) -> _Frame | FrameError:
    """Validate one WebSocket message. Never raises."""
    if bytes_data is not None or text_data is None:
        return FrameError("text_only", _("只接受文本帧。"))
    if len(text_data) > MAX_FRAME_BYTES or len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        return FrameError("too_large", _("消息过大（不超过16KB）。"))
    try:
        raw = json.loads(text_data)
    except (ValueError, RecursionError):
        return FrameError("bad_json", _("消息格式错误。"))
    if not isinstance(raw, dict):
        return FrameError("unknown_type", _("不支持的消息类型。"))
    ref = raw.get("ref")
    if isinstance(ref, bool) or not isinstance(ref, (str, int)) or len(str(ref)) > 64:
        ref = None
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in FRAME_TYPES:
        return FrameError("unknown_type", _("不支持的消息类型。"), ref)
    try:
        frame: _Frame = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]) for err in exc.errors()})
        return FrameError("invalid", _("字段有误：%(fields)s") % {"fields": "、".join(fields)}, ref)
    except RecursionError:
        return FrameError("invalid", _("消息嵌套过深。"), ref)
    return frame


@dataclass
class TokenBucket:
    """``rate`` frames per second sustained, ``burst`` at once; ``overflow`` counts the refusals since the
    bucket was last at least half full, so a client that keeps flooding is closed even if a few frames
    get through as tokens trickle back."""

    rate: float = RATE_PER_SECOND
    burst: int = RATE_BURST
    tokens: float = float(RATE_BURST)
    overflow: int = 0
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            if self.tokens >= self.burst / 2:  # the flood is over only once the bucket has half refilled
                self.overflow = 0
            return True
        self.overflow += 1
        return False

    @property
    def far_over(self) -> bool:
        return self.overflow >= RATE_CLOSE_AFTER
