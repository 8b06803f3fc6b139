"""Consent-gated recordings of one space of a room (issue 14 item 2; legal-rules §A1.22, §A11.9).

A recording is made by the SFU (Janus's own per-track recording) only while everyone in the recorded space has
a standing consent (``Consent`` rows of kind ``recording`` tied to the room). On stop, one file per participant
and a combined file are made, each with its SHA-256, kept in private storage and served through a permission
check to those who were present and to the court."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import PartyRole, RecordingFileKind, RecordingStatus, RecordingStopReason


class Recording(models.Model):
    room = models.ForeignKey("mediation.Room", on_delete=models.PROTECT, related_name="recordings")
    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="recordings")
    space = models.CharField(_("录制空间"), max_length=12, help_text=_("joint 或 caucus。"))
    caucus_side = models.CharField(_("背对背的一方"), max_length=12, choices=PartyRole.choices, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=RecordingStatus.choices,
                              default=RecordingStatus.RECORDING)
    recorder = models.CharField(_("录制方式"), max_length=20, default="janus")
    spool_dir = models.CharField(max_length=500, blank=True, help_text=_("媒体服务器写入原始录制文件的目录。"))
    started_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("开始时间"))
    stopped_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    media_started_at = models.DateTimeField(_("媒体服务器开始录制时间"), null=True, blank=True)
    media_stopped_at = models.DateTimeField(_("媒体服务器停止录制时间"), null=True, blank=True)
    stop_reason = models.CharField(_("停止原因"), max_length=16, choices=RecordingStopReason.choices, blank=True)
    present_members = models.JSONField(default=list, help_text=_("录制期间在录制空间内的调解室人员编号。"))
    present_users = models.JSONField(default=list, help_text=_("录制期间在录制空间内的用户编号（可回放）。"))
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("录音录像")
        verbose_name_plural = _("录音录像")
        ordering = ["room", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["room"], condition=models.Q(status="recording"),
                                    name="one_active_recording_per_room"),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.space} {self.get_status_display()}"


class RecordingFile(models.Model):
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="files")
    member = models.ForeignKey("mediation.RoomMember", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField(_("类型"), max_length=12, choices=RecordingFileKind.choices)
    path = models.CharField(max_length=500, help_text=_("相对于 MEDIA_ROOT 的私有存储路径。"))
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    duration = models.FloatField(_("时长（秒）"))
    streams = models.JSONField(default=list, help_text=_("ffprobe 所见的流类型，例如 [\"video\", \"audio\"]。"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("录音录像文件")
        verbose_name_plural = _("录音录像文件")
        ordering = ["recording", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.recording_id} {self.kind} {self.sha256[:8]}"
