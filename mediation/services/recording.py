"""Consent-gated recording of a room's space (issue 14 item 2; OMR 22, PIPL: legal-rules §A1.22, §A11.9).

- Each person in the room answers the 录音录像告知 (``notices.RECORDING_NOTICE``, the version shown is kept):
  a ``Consent`` of kind ``recording`` tied to the room; a later answer replaces an earlier one (withdrawal).
- The presiding member starts a recording of the space they are in (the joint session, or a caucus) only when
  every admitted person in that space has a standing consent. It stops at once when anyone in it withdraws,
  when someone without consent is admitted into it, when the space changes (caucus start/end) and when the
  room ends. Every start and stop is a room event (``recording.started`` / ``recording.stopped``: the
  browsers' 录制中 badge) and an audit event.
- The media server records (Janus's per-track recording: ``realtime.receivers`` calls ``realtime.sfu`` after
  commit, decision D55). Rooms on the peer mesh have no server that sees the media: a start is refused.
- After a stop, ``recording_process`` (a Celery task) converts Janus's ``.mjr`` files with ``janus-pp-rec``,
  muxes each participant's audio and video with ffmpeg (stream copy), makes one combined file (re-encoded),
  stores them under ``MEDIA_ROOT/recordings/`` with their SHA-256 and appends ``recording.files`` with the
  hashes to the case's audit chain. No files, no claim: the recording is marked failed and audited so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import signals, spaces
from mediation.choices import (
    ConsentKind,
    RecordingFileKind,
    RecordingStatus,
    RecordingStopReason,
    RoomMemberState,
    RoomStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import Consent, NoticeText, Recording, RecordingFile, Room, RoomMember, User
from mediation.notices import RECORDING_NOTICE
from mediation.services.audit import audit_append
from mediation.services.consents import notice_text_current
from mediation.services.room_events import lock_open_room, room_audit, room_turn, store_event
from mediation.signals import send_on_commit

logger = logging.getLogger(__name__)

M = RoomMemberState
R = RecordingStopReason


def recording_notice() -> NoticeText:
    """The current version of the 录音录像告知."""
    return notice_text_current(RECORDING_NOTICE)


def consenting_user_ids(room: Room) -> set[int]:
    """Users of ``room`` whose latest answer to the recording question in this room is a grant."""
    latest: dict[int, bool] = {}
    for user_id, granted in (Consent.objects.filter(room=room, kind=ConsentKind.RECORDING)
                             .order_by("given_at", "pk").values_list("user_id", "granted")):
        latest[user_id] = granted
    return {user_id for user_id, granted in latest.items() if granted}


def _space_members(room: Room, space: str) -> list[RoomMember]:
    members = RoomMember.objects.filter(room=room, state=M.ADMITTED).order_by("pk")
    return [m for m in members if spaces.space_of(caucus_side=room.caucus_side, member=m) == space]


def _active(room: Room) -> Recording | None:
    return Recording.objects.filter(room=room, status=RecordingStatus.RECORDING).first()


def _recording_state(recording: Recording | None) -> dict[str, Any]:
    if recording is None:
        return {"recording": None}
    return {"recording": {"id": recording.pk, "space": recording.space, "caucus_side": recording.caucus_side}}


def recording_consent(*, room: Room, actor: User, granted: bool, channel: str = "web") -> Consent:
    """``actor`` (a member of ``room``) answers the 录音录像告知: a grant, or a refusal/withdrawal, which stops
    a recording of the space they are in at once."""
    with transaction.atomic():
        room = lock_open_room(room.pk)
        member = (RoomMember.objects.select_related("party")
                  .filter(room=room, user=actor, state__in=(M.WAITING, M.ADMITTED)).first())
        if member is None:
            raise PermissionDenied(_("只有调解室内的人员可以对录音录像作出同意。"), case=room.case)
        text = recording_notice()
        # Each person answers for their own image and voice: the party row only when it is the party's own answer.
        own_party = member.party if member.party is not None and member.party.user_id == actor.pk else None
        consent = Consent.objects.create(
            case=room.case, party=own_party, user=actor, kind=ConsentKind.RECORDING, stage=room.case.status,
            granted=granted, text=text, channel=channel, given_at=timezone.now(), room=room,
        )
        room_audit("recording.consent_granted" if granted else "recording.consent_withdrawn", actor=actor, room=room,
                   data={"member": member.pk, "consent": consent.pk, "text": text.code, "version": text.version,
                         "text_sha256": text.sha256})
        store_event(room, name="recording.consent", audience=spaces.either(spaces.ALL, spaces.user_audience(actor.pk)),
                    actor=actor, payload={"member": member.pk, "granted": granted, "version": text.version},
                    actor_member=member)
        active = _active(room)
        if not granted and active is not None and member.pk in _present_ids(room, active):
            _stop(room, active, reason=R.WITHDRAWN, actor=actor, data={"member": member.pk})
    return consent


def _present_ids(room: Room, recording: Recording) -> set[int]:
    return set(recording.present_members) | {m.pk for m in _space_members(room, recording.space)}


def recording_start(*, room: Room, actor: User) -> Recording:
    """The presiding member starts recording the space they are in; refused unless every admitted person in
    it has consented, and on a room without a media server (the peer mesh)."""
    with transaction.atomic():
        room, presiding = room_turn(room.pk, actor=actor)
        if getattr(settings, "ROOM_MEDIA", "mesh") != "sfu":
            raise InvalidInput(_("本调解室的音视频是各方之间直接连接（未经平台媒体服务器），平台无法录音录像；"
                                 "未进行任何录制。"), case=room.case)
        if _active(room) is not None:
            raise InvalidInput(_("已在录制中。"), case=room.case)
        space = spaces.space_of(caucus_side=room.caucus_side, member=presiding)
        present = _space_members(room, space)
        consenting = consenting_user_ids(room)
        missing = [m.display_name for m in present if m.user_id not in consenting]
        if missing:
            what = _("背对背沟通") if space == spaces.CAUCUS else _("共同调解")
            raise InvalidInput(
                _("%(what)s须经在场每一个人同意才能录音录像。尚未同意：%(names)s。")
                % {"what": what, "names": "、".join(missing)}, case=room.case,
            )
        now = timezone.now()
        recording = Recording.objects.create(
            room=room, case=room.case, space=space, caucus_side=room.caucus_side if space == spaces.CAUCUS else "",
            started_by=actor, started_at=now, present_members=[m.pk for m in present],
            present_users=sorted({m.user_id for m in present}),
        )
        recording.spool_dir = str(Path(settings.RECORDING_SPOOL_DIR) / f"room{room.pk}-rec{recording.pk}")
        recording.save(update_fields=["spool_dir"])
        store_event(room, name="recording.started", audience=spaces.ALL, actor=actor,
                    payload={"recording": recording.pk, "space": space, "caucus_side": recording.caucus_side,
                             "members": recording.present_members},
                    actor_member=presiding, state=_recording_state(recording))
        consents = list(Consent.objects.filter(room=room, kind=ConsentKind.RECORDING, granted=True,
                                               user_id__in=recording.present_users).values_list("pk", flat=True))
        room_audit("recording.started", actor=actor, room=room,
                   data={"recording": recording.pk, "space": space, "members": recording.present_members,
                         "consents": consents, "recorder": recording.recorder})
        send_on_commit(signals.recording_changed, room_id=room.pk, recording_id=recording.pk, on=True)
    return recording


def recording_stop(*, room: Room, actor: User) -> Recording:
    """The presiding member stops the recording."""
    with transaction.atomic():
        room, _presiding = room_turn(room.pk, actor=actor)
        active = _active(room)
        if active is None:
            raise InvalidInput(_("当前没有在录制。"), case=room.case)
        _stop(room, active, reason=R.MEDIATOR, actor=actor)
    return active


def _stop(room: Room, recording: Recording, *, reason: str, actor: User | None, data: dict[str, Any] | None = None,
          status: str = RecordingStatus.PROCESSING) -> None:
    """Inside the caller's transaction, with ``room`` locked."""
    recording.present_members = sorted(_present_ids(room, recording))
    users = RoomMember.objects.filter(pk__in=recording.present_members).values_list("user_id", flat=True)
    recording.present_users = sorted(set(recording.present_users) | set(users))
    recording.status, recording.stopped_at, recording.stop_reason = status, timezone.now(), reason
    recording.save(update_fields=["present_members", "present_users", "status", "stopped_at", "stop_reason"])
    payload = {"recording": recording.pk, "reason": reason, "reason_label": str(RecordingStopReason(reason).label)}
    store_event(room, name="recording.stopped", audience=spaces.ALL, actor=actor, payload=payload,
                state=_recording_state(None))
    room_audit("recording.stopped", actor=actor, room=room,
               data={"recording": recording.pk, "reason": reason, "members": recording.present_members, **(data or {})})
    if status == RecordingStatus.PROCESSING:
        send_on_commit(signals.recording_changed, room_id=room.pk, recording_id=recording.pk, on=False)


def recording_guard_admitted(room: Room, member: RoomMember) -> None:
    """``member`` was just admitted (inside the admitting transaction, room locked): a recording of the space
    they land in stops at once unless they have consented."""
    active = _active(room)
    if active is None or spaces.space_of(caucus_side=room.caucus_side, member=member) != active.space:
        return
    if member.user_id not in consenting_user_ids(room):
        _stop(room, active, reason=R.JOINER, actor=None, data={"member": member.pk})


def recording_stop_for(room: Room, *, reason: str, actor: User | None) -> None:
    """The recorded space ends (a caucus starts or ends, the room ends): inside the caller's transaction."""
    active = _active(room)
    if active is not None:
        _stop(room, active, reason=reason, actor=actor)


def recording_media_marked(*, recording_id: int, on: bool) -> None:
    """The media server answered the start (``on``) or the stop: the interval it actually recorded, which the
    files' durations are checked against (the decision's ``started_at`` precedes the commit and the Janus call)."""
    field = "media_started_at" if on else "media_stopped_at"
    Recording.objects.filter(pk=recording_id, **{f"{field}__isnull": True}).update(**{field: timezone.now()})


def recording_media_failed(*, recording_id: int, error: str) -> None:
    """The media server refused to record (after commit): the recording is marked failed, said so in the room
    and in the audit trail. Nothing claims a recording that did not happen."""
    with transaction.atomic():
        recording = Recording.objects.select_related("room").get(pk=recording_id)
        room = Room.objects.select_for_update().get(pk=recording.room_id)
        if recording.status == RecordingStatus.RECORDING and room.status == RoomStatus.OPEN:
            _stop(room, recording, reason=R.MEDIA_ERROR, actor=None, data={"error": error[:500]},
                  status=RecordingStatus.FAILED)
        Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.FAILED, error=error[:2000])
        audit_append(kind="recording.failed", actor=None, case=room.case,
                     data={"room": room.pk, "recording": recording.pk, "error": error[:500]})


# --- after the stop: files, hashes, audit -------------------------------------------------------------------

_MJR = re.compile(r"-user-(?P<feed>\d+)-(?P<ts>\d+)-(?P<kind>audio|video)-\d+\.mjr$")


def _run(args: list[str], *, timeout: float = 600) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr[-800:]}")
    return done.stdout


def probe(path: Path) -> tuple[float, list[str]]:
    """(duration in seconds, stream kinds) as ffprobe sees the file."""
    out = json.loads(_run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
                           "-of", "json", str(path)], timeout=60))
    return float(out.get("format", {}).get("duration") or 0.0), [s["codec_type"] for s in out.get("streams", [])]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _segments(spool: Path) -> dict[int, list[dict[str, Path]]]:
    """Janus's ``.mjr`` files by feed (the member id): one segment per publish, its audio and video paired in
    time order (a member who republished during the recording has several segments)."""
    tracks: dict[int, dict[str, list[tuple[int, Path]]]] = defaultdict(lambda: {"audio": [], "video": []})
    for path in sorted(spool.glob("*.mjr")):
        match = _MJR.search(path.name)
        if match:
            tracks[int(match["feed"])][match["kind"]].append((int(match["ts"]), path))
    segments: dict[int, list[dict[str, Path]]] = {}
    for feed, kinds in tracks.items():
        audio, video = sorted(kinds["audio"]), sorted(kinds["video"])
        count = max(len(audio), len(video))
        segments[feed] = [
            {**({"audio": audio[i][1]} if i < len(audio) else {}), **({"video": video[i][1]} if i < len(video) else {})}
            for i in range(count)
        ]
    return segments


def _participant_file(segment: dict[str, Path], work: Path, out: Path) -> None:
    """Convert the segment's ``.mjr`` files and mux them into one WebM without re-encoding (VP8 + Opus)."""
    inputs: list[str] = []
    for kind, mjr in sorted(segment.items()):
        converted = work / f"{mjr.stem}.{'opus' if kind == 'audio' else 'webm'}"
        _run(["janus-pp-rec", str(mjr), str(converted)])
        inputs += ["-i", str(converted)]
    maps = [arg for i in range(len(inputs) // 2) for arg in ("-map", str(i))]
    _run(["ffmpeg", "-v", "error", "-y", *inputs, *maps, "-c", "copy", str(out)])


def _combined_file(parts: list[Path], out: Path) -> None:
    """Every participant side by side with their voices mixed (re-encoded: VP8 + Opus)."""
    inputs = [arg for part in parts for arg in ("-i", str(part))]
    probes = [probe(part)[1] for part in parts]
    videos = [f"[{i}:v]scale=320:240,setsar=1[v{i}]" for i, kinds in enumerate(probes) if "video" in kinds]
    audios = [f"[{i}:a]" for i, kinds in enumerate(probes) if "audio" in kinds]
    graph: list[str] = list(videos)
    maps: list[str] = []
    labels = "".join(f"[v{i}]" for i, kinds in enumerate(probes) if "video" in kinds)
    if len(videos) > 1:
        graph.append(f"{labels}hstack=inputs={len(videos)}[v]")
        maps += ["-map", "[v]"]
    elif videos:
        maps += ["-map", labels]
    if len(audios) > 1:
        graph.append(f"{''.join(audios)}amix=inputs={len(audios)}:duration=longest[a]")
        maps += ["-map", "[a]"]
    elif audios:
        maps += ["-map", audios[0].strip("[]")]
    codecs = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k", "-c:a", "libopus"]
    filters = ["-filter_complex", ";".join(graph)] if graph else []  # one audio-only participant: no graph
    _run(["ffmpeg", "-v", "error", "-y", *inputs, *filters, *maps, *codecs, str(out)])


@shared_task(name="mediation.tasks.recording_process")
def recording_process(recording_id: int) -> None:
    """After a stop: one file per participant and a combined file, each hashed, stored privately and audited."""
    recording = Recording.objects.select_related("room", "case").get(pk=recording_id)
    if recording.status != RecordingStatus.PROCESSING:
        return
    spool = Path(recording.spool_dir)
    relative = Path("recordings") / f"case{recording.case_id}" / f"rec{recording.pk}"
    target = Path(settings.MEDIA_ROOT) / relative
    try:
        segments = _segments(spool) if spool.is_dir() else {}
        if not segments:
            raise RuntimeError("媒体服务器没有留下录制文件")
        target.mkdir(parents=True, exist_ok=True)
        made: list[tuple[int | None, str, Path]] = []
        with tempfile.TemporaryDirectory() as work_dir:
            work = Path(work_dir)
            for feed in sorted(segments):
                for n, segment in enumerate(segments[feed], start=1):
                    out = target / f"member{feed}-{n}.webm"
                    _participant_file(segment, work, out)
                    made.append((feed, RecordingFileKind.PARTICIPANT, out))
            combined = target / "combined.webm"
            _combined_file([path for _feed, _kind, path in made], combined)
            made.append((None, RecordingFileKind.COMBINED, combined))
        facts = [(who, kind, path, *probe(path), _sha256(path)) for who, kind, path in made]
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
        logger.exception("recording %s: processing failed", recording_id)
        with transaction.atomic():
            Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.FAILED, error=str(exc)[:2000])
            audit_append(kind="recording.failed", actor=None, case=recording.case,
                         data={"room": recording.room_id, "recording": recording.pk, "error": str(exc)[:500]})
        return
    members = set(RoomMember.objects.filter(room=recording.room, pk__in=[f for f, _k, _p in made if f]).values_list(
        "pk", flat=True))
    with transaction.atomic():
        rows = [
            RecordingFile.objects.create(
                recording=recording, member_id=who if who in members else None, kind=kind,
                path=str(relative / path.name), sha256=digest, size=path.stat().st_size, duration=duration,
                streams=streams,
            )
            for who, kind, path, duration, streams, digest in facts
        ]
        Recording.objects.filter(pk=recording.pk).update(status=RecordingStatus.READY)
        audit_append(kind="recording.files", actor=None, case=recording.case,
                     data={"room": recording.room_id, "recording": recording.pk,
                           "files": [{"file": r.pk, "member": r.member_id, "kind": r.kind, "sha256": r.sha256,
                                      "size": r.size, "duration": round(r.duration, 3)} for r in rows]})
    shutil.rmtree(spool, ignore_errors=True)


def recording_file_viewed(*, file: RecordingFile, actor: User) -> None:
    audit_append(kind="recording.viewed", actor=actor, case=file.recording.case,
                 data={"recording": file.recording_id, "file": file.pk, "sha256": file.sha256})
