"""What is said and shown in a room (OMR 22; OLR 34): chat, files, the live record (调解笔录), a party's
confirmation of the shared record, and a side's release of what was recorded in its caucus.

Each is stored with the audience of the sender's space before it is acknowledged, and a resend with the same
``client_id`` returns the stored event instead of storing it twice (``mediation.services.room_events``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import spaces
from mediation.choices import RecordTag
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import RecordConfirmation, RecordEntry, RoomEvent, RoomMember
from mediation.permissions import PARTY_ROLES
from mediation.selectors.rooms import record_entry_payload, record_version, shared_record
from mediation.services.evidence import evidence_upload
from mediation.services.room_events import client_ref, resent_event, room_audit, room_turn, store_event

MAX_CHAT = 2000
MAX_RECORD = 5000


def room_chat_post(*, member: RoomMember, text: str, client_id: str = "") -> RoomEvent:
    """Store a chat message for the sender's current space, then broadcast it. Idempotent by ``client_id``."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("消息不能为空。"))
    if len(text) > MAX_CHAT:
        raise InvalidInput(_("消息不能超过%(n)d个字。") % {"n": MAX_CHAT})
    client_id = client_ref(client_id)
    with transaction.atomic():
        room, member = room_turn(member.room_id, member=member)
        existing = resent_event(room, member.user, client_id, "chat")
        if existing is not None:
            return existing
        audience = spaces.audience_for(caucus_side=room.caucus_side, member=member)
        event = store_event(room, name="chat", audience=audience, actor=member.user, client_id=client_id,
                            payload={"text": text, "name": member.display_name, "client_id": client_id},
                            actor_member=member)
        room_audit("room.chat_posted", actor=member.user, room=room,
                   data={"seq": event.seq, "audience": audience,
                         "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return event


def room_file_attach(*, member: RoomMember, file: File[Any], name: str, client_id: str = "") -> RoomEvent:
    """Attach a file to the case through the same checks as any upload, and show it in the sender's space."""
    client_id = client_ref(client_id)
    with transaction.atomic():
        room, member = room_turn(member.room_id, member=member)
        existing = resent_event(room, member.user, client_id, "file")
        if existing is not None:
            return existing
        evidence = evidence_upload(actor=member.user, file=file, title=name, case=room.case)
        audience = spaces.audience_for(caucus_side=room.caucus_side, member=member)
        payload = {"name": evidence.title, "size": evidence.size, "evidence": evidence.pk,
                   "url": reverse("evidence_download", args=[evidence.pk])}
        event = store_event(room, name="file", audience=audience, actor=member.user, client_id=client_id,
                            payload=payload, actor_member=member)
        room_audit("room.file_attached", actor=member.user, room=room,
                   data={"seq": event.seq, "audience": audience, "evidence": evidence.pk,
                         "sha256": evidence.sha256})
    return event


def room_record_add(
    *, member: RoomMember, text: str, tag: str = "", supersedes_id: int | None = None, client_id: str = ""
) -> RoomEvent:
    """The mediator adds an entry to the live record (OMR 22), or corrects one: a correction supersedes the
    old entry and keeps its caucus side. Entries made in a caucus are seen by that side and the mediators
    only, until the side releases them."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("笔录内容不能为空。"))
    if len(text) > MAX_RECORD:
        raise InvalidInput(_("一条笔录不能超过%(n)d个字。") % {"n": MAX_RECORD})
    if tag not in RecordTag.values:
        raise InvalidInput(_("笔录标记无效。"))
    client_id = client_ref(client_id)
    with transaction.atomic():
        room, member = room_turn(member.room_id, member=member, actor=member.user)
        existing = resent_event(room, member.user, client_id, "record.added")
        if existing is not None:
            return existing
        supersedes = None
        caucus_side = room.caucus_side
        if supersedes_id is not None:
            supersedes = RecordEntry.objects.filter(room=room, pk=supersedes_id).first()
            if supersedes is None:
                raise InvalidInput(_("要更正的笔录不存在。"))
            if RecordEntry.objects.filter(supersedes=supersedes).exists():
                raise InvalidInput(_("该笔录已被更正，请更正最新的版本。"))
            caucus_side = supersedes.caucus_side
        try:
            with transaction.atomic():
                entry = RecordEntry.objects.create(room=room, case=room.case, author=member.user, text=text, tag=tag,
                                                   caucus_side=caucus_side, supersedes=supersedes)
        except IntegrityError as exc:
            raise InvalidInput(_("该笔录已被更正，请更正最新的版本。")) from exc
        audience = spaces.caucus_audience(caucus_side) if caucus_side else spaces.ALL
        event = store_event(room, name="record.added", audience=audience, actor=member.user, client_id=client_id,
                            payload={"entry": record_entry_payload(entry)}, actor_member=member)
        room_audit("room.record_added", actor=member.user, room=room,
                   data={"entry": entry.pk, "tag": tag, "caucus_side": caucus_side, "supersedes": supersedes_id,
                         "sha256": hashlib.sha256(text.encode()).hexdigest()})
    return event


def room_record_confirm(*, member: RoomMember, version: str, client_id: str = "") -> RoomEvent:
    """A party (or its agent) confirms the shared record as of ``version`` (OMR 22; OLR 34)."""
    client_id = client_ref(client_id)
    with transaction.atomic():
        room, member = room_turn(member.room_id, member=member)
        if member.role not in PARTY_ROLES or member.party is None:
            raise PermissionDenied(_("只有当事人或其代理人可以确认笔录。"), case=room.case)
        existing = resent_event(room, member.user, client_id, "record.confirmed")
        if existing is not None:
            return existing
        entries = shared_record(room)
        current = record_version(entries)
        if version != current:
            raise InvalidInput(_("笔录已更新，请重新查看后再确认。"))
        if not entries:
            raise InvalidInput(_("笔录还没有内容。"))
        party = member.party
        RecordConfirmation.objects.create(room=room, party=party, user=member.user, version_sha256=current,
                                          entry_ids=[e.pk for e in entries])
        event = store_event(room, name="record.confirmed", audience=spaces.ALL, actor=member.user,
                            client_id=client_id, actor_member=member,
                            payload={"party": party.pk, "name": member.display_name, "version": current})
        room_audit("room.record_confirmed", actor=member.user, room=room,
                   data={"party": party.pk, "version": current, "entries": [e.pk for e in entries]})
    return event


def room_record_release(*, member: RoomMember, entry_id: int, client_id: str = "") -> RoomEvent:
    """A side shares an entry recorded in its caucus with everyone."""
    client_id = client_ref(client_id)
    with transaction.atomic():
        room, member = room_turn(member.room_id, member=member)
        if member.role not in PARTY_ROLES or not member.side:
            raise PermissionDenied(_("只有该方当事人或其代理人可以同意公开背对背笔录。"), case=room.case)
        existing = resent_event(room, member.user, client_id, "record.released")
        if existing is not None:
            return existing
        entry = RecordEntry.objects.select_for_update().filter(room=room, pk=entry_id).first()
        if entry is None or entry.caucus_side != member.side:
            raise PermissionDenied(_("只能公开本方背对背时的笔录。"), case=room.case)
        if entry.released_at is not None:
            raise InvalidInput(_("该笔录已经公开。"))
        entry.released_at = timezone.now()
        entry.save(update_fields=["released_at"])
        event = store_event(room, name="record.released", audience=spaces.ALL, actor=member.user,
                            client_id=client_id, payload={"entry": record_entry_payload(entry)}, actor_member=member)
        room_audit("room.record_released", actor=member.user, room=room, data={"entry": entry.pk})
    return event
