"""The mediation room of one session: who is in it, which space they are in, and what was said (OMR 16-18, 22).

Everything a participant may need after a reconnect is a ``RoomEvent`` with a per-room sequence number and
an audience; signaling (offer/answer/ICE) is relayed and never stored.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import (
    EndReason,
    GuidanceStatus,
    ParticipantRole,
    PartyRole,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    RoomStatus,
)

# Audiences of stored events: everyone admitted, the mediators only, or one caucus (the mediators plus
# that side), or one person ("user:<id>", e.g. their own admission decision).
AUDIENCE_ALL = "all"
AUDIENCE_MEDIATORS = "mediators"


def caucus_audience(side: str) -> str:
    return f"caucus:{side}"


class Room(models.Model):
    session = models.OneToOneField("mediation.MediationSession", on_delete=models.PROTECT, related_name="room")
    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="rooms")
    status = models.CharField(_("状态"), max_length=8, choices=RoomStatus.choices, default=RoomStatus.OPEN)
    locked = models.BooleanField(_("已锁定"), default=False, help_text=_("锁定后新的入会请求一律拒绝。"))
    caucus_side = models.CharField(
        _("背对背调解的一方"), max_length=12, choices=PartyRole.choices, blank=True,
        help_text=_("为空表示共同调解；否则调解员与该方单独沟通，另一方在等候区。"),
    )
    outcome = models.CharField(_("结果"), max_length=10, choices=RoomOutcome.choices, blank=True)
    end_reason = models.CharField(_("终结理由"), max_length=20, choices=EndReason.choices, blank=True)
    continue_at = models.DateTimeField(_("继续调解时间"), null=True, blank=True)
    last_seq = models.PositiveBigIntegerField(default=0, help_text=_("最近一条房间事件的序号。"))
    opened_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    opened_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调解室")
        verbose_name_plural = _("调解室")

    def __str__(self) -> str:
        return f"{self.case_id}/{self.session_id}"


class RoomMember(models.Model):
    """One person's place in a room; ``side`` decides which caucus they belong to (their party's side)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("身份"), max_length=12, choices=ParticipantRole.choices)
    side = models.CharField(_("所属一方"), max_length=12, choices=PartyRole.choices, blank=True)
    display_name = models.CharField(_("显示名称"), max_length=120)
    state = models.CharField(_("状态"), max_length=10, choices=RoomMemberState.choices,
                             default=RoomMemberState.WAITING)
    audio_only = models.BooleanField(_("仅音频"), default=False)
    muted = models.BooleanField(_("已静音"), default=False)
    online_channel = models.CharField(
        max_length=120, blank=True,
        help_text=_("当前在线连接的通道名；为空表示不在线。新连接取代旧连接。"),
    )
    identity_checked_at = models.DateTimeField(_("本次身份核验时间"), null=True, blank=True)
    notices_acknowledged_at = models.DateTimeField(_("告知确认时间"), null=True, blank=True)
    joined_at = models.DateTimeField(_("进入时间"), auto_now_add=True)
    admitted_at = models.DateTimeField(_("入会时间"), null=True, blank=True)
    left_at = models.DateTimeField(_("离开时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("调解室人员")
        verbose_name_plural = _("调解室人员")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="one_member_per_user_per_room")]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display()})"


class RoomJoinToken(models.Model):
    """A signed single-use join token: only its hash is stored, and it is spent by the first socket."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="join_tokens")
    user = models.ForeignKey("mediation.User", on_delete=models.CASCADE, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("入会令牌")
        verbose_name_plural = _("入会令牌")

    def __str__(self) -> str:
        return f"{self.room_id} {self.user_id}"


class RoomEvent(models.Model):
    """One persisted room event (chat, file, record entry, control). ``seq`` orders them per room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    audience = models.CharField(max_length=40, help_text=_("all / mediators / caucus:<side> / user:<id>"))
    actor = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    client_id = models.CharField(max_length=64, blank=True, help_text=_("客户端生成的编号：重发不会重复保存。"))
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("调解室事件")
        verbose_name_plural = _("调解室事件")
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="room_event_seq_unique"),
            models.UniqueConstraint(
                fields=["room", "actor", "client_id"], condition=~models.Q(client_id=""),
                name="room_event_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.kind}"


class RecordEntry(models.Model):
    """One entry of the live 调解笔录 (OMR 22). Corrections are new entries that supersede the old one."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="record_entries")
    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="record_entries")
    author = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("内容"))
    tag = models.CharField(_("标记"), max_length=16, choices=RecordTag.choices, blank=True)
    caucus_side = models.CharField(
        _("背对背记录所属一方"), max_length=12, choices=PartyRole.choices, blank=True,
        help_text=_("背对背时记下的内容只对该方和调解员可见，除非该方同意公开。"),
    )
    released_at = models.DateTimeField(_("该方同意公开时间"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("笔录条目")
        verbose_name_plural = _("笔录条目")
        ordering = ["room", "id"]

    def __str__(self) -> str:
        return f"{self.room_id} {self.text[:20]}"


class RecordConfirmation(models.Model):
    """A party's online confirmation of one version of the shared record (OMR 22; OLR 34)."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="record_confirmations")
    party = models.ForeignKey("mediation.Party", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    version_sha256 = models.CharField(max_length=64)
    entry_ids = models.JSONField(default=list)
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("笔录确认")
        verbose_name_plural = _("笔录确认")

    def __str__(self) -> str:
        return f"{self.room_id} {self.party_id} {self.version_sha256[:8]}"


class GuidanceRequest(models.Model):
    """The mediator asks the referring court for live guidance during a session (SIM 15-16: the court guides
    invited mediation). While it is open, a judge of the case's court may join the room as 法官（指导）:
    sees and hears the joint space and may speak, controls nothing and signs nothing."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="guidance_requests")
    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="guidance_requests")
    requested_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("请求指导的事项"))
    status = models.CharField(_("状态"), max_length=8, choices=GuidanceStatus.choices, default=GuidanceStatus.OPEN)
    created_at = models.DateTimeField(_("请求时间"), auto_now_add=True)
    closed_by = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    answer = models.TextField(_("法院答复"), blank=True)

    class Meta:
        verbose_name = _("法院指导请求")
        verbose_name_plural = _("法院指导请求")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["room"], condition=models.Q(status="open"),
                                    name="one_open_guidance_request_per_room"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.get_status_display()}"
