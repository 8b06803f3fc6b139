"""The append-only, hash-chained audit trail (legal-rules §B11).

Events are grouped in streams (``case.<id>`` for everything about one case, ``org.<id>``,
``user.<id>``, ``platform``). Each event stores the hash of the previous event of its stream, and
``AuditHead`` keeps the latest sequence number and hash of each stream, so an edited, deleted,
reordered, inserted or truncated event is detected by ``manage.py verify_audit_chain``.
Writes go through ``mediation.services.audit.audit_append`` only.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events are append-only.")

    def delete(self) -> NoReturn:
        raise PermissionError("Audit events are append-only.")


class AuditEvent(models.Model):
    stream = models.CharField(_("事件流"), max_length=40, editable=False)
    seq = models.PositiveBigIntegerField(_("序号"), editable=False)
    case = models.ForeignKey(
        "mediation.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events",
        verbose_name=_("案件"), editable=False,
    )
    kind = models.CharField(_("事件"), max_length=60, editable=False, help_text=_("点分代码，例如 case.accepted。"))
    actor = models.ForeignKey(
        "mediation.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("操作人"), editable=False,
    )
    actor_label = models.CharField(_("操作人说明"), max_length=120, blank=True, editable=False)
    data = models.JSONField(_("内容"), default=dict, editable=False)
    created_at = models.DateTimeField(_("时间"), editable=False)
    prev_hash = models.CharField(_("前一事件哈希"), max_length=64, editable=False)
    hash = models.CharField(_("事件哈希"), max_length=64, unique=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["stream", "seq"]
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="audit_stream_seq_unique")]
        # created_at: the statistics read the events after the last counted day (D37).
        indexes = [models.Index(fields=["case", "seq"]), models.Index(fields=["created_at"], name="audit_created_at")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events are append-only.")


class AuditHead(models.Model):
    """The latest event of each stream: the lock taken when appending, and the anchor against truncation."""

    stream = models.CharField(max_length=40, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    # HMAC of (stream, seq, hash) with settings.AUDIT_ANCHOR_KEY, which the database never holds
    # (mediation.audit_anchor): a chain recomputed by someone who can write the database ends in a misfit.
    mac = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"{self.stream} #{self.seq}"
