"""Issued documents: frozen data, the PDF's hash, versions, and the incremental signatures on them (§B7).

An issued ``Document`` is never edited. Each signature appends an incremental update to the PDF and is
stored as its own ``DocumentSignature`` row holding the PDF as it stood after that signature, so every
earlier revision stays byte-for-byte available and verifiable.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from mediation.choices import DocumentKind, SignerRole

# Everything but ``effective_at``, which is set once, when the agreement takes effect.
FROZEN_FIELDS = ("case_id", "kind", "title", "number", "version", "data", "pdf", "sha256", "size", "pages", "code",
                 "supersedes_id", "agreement_id", "issued_by_id", "issued_at")
SIGNATURE_FIELDS = ("document_id", "sequence", "role", "signer_id", "party_id", "organisation_id", "signer_name",
                    "field_name", "certificate_serial", "certificate_subject", "certificate_pem", "handwriting", "pdf",
                    "sha256", "signed_at")


class DocumentImmutable(Exception):
    pass


class Document(models.Model):
    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("文书种类"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("文书名称"), max_length=120)
    number = models.CharField(_("文书编号"), max_length=80, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by",
        verbose_name=_("取代的版本"),
    )
    agreement = models.ForeignKey("mediation.Agreement", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="documents")
    data = models.JSONField(_("生成时的冻结数据"))
    pdf = models.FileField(upload_to="documents/", max_length=200)
    sha256 = models.CharField(_("未签名文件哈希"), max_length=64, unique=True)
    size = models.PositiveIntegerField(_("字节数"))
    pages = models.PositiveIntegerField(_("页数"))
    code = models.CharField(_("核验码"), max_length=16, unique=True)
    issued_by = models.ForeignKey("mediation.User", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", help_text=_("为空表示由平台根据案件状态自动生成。"))
    issued_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    effective_at = models.DateTimeField(_("生效时间"), null=True, blank=True,
                                        help_text=_("协议书：全部签章完成之时（OMR 19 / PML 29）。"))

    class Meta:
        verbose_name = _("文书")
        verbose_name_plural = _("文书")
        ordering = ["case", "kind", "version"]
        constraints = [models.UniqueConstraint(fields=["case", "kind", "version"], name="document_version_unique")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            row = Document.objects.filter(pk=self.pk).values(*FROZEN_FIELDS, "effective_at").first()
            if row is not None:
                _refuse_changes(self, row, FROZEN_FIELDS, "issued document")
                if row["effective_at"] is not None and row["effective_at"] != self.effective_at:
                    raise DocumentImmutable("an agreement's effective time is set once")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise DocumentImmutable("issued documents are never deleted")


class DocumentSignature(models.Model):
    """One signature: an incremental PAdES update. ``pdf`` is the whole file after this signature."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="signatures")
    sequence = models.PositiveIntegerField()
    role = models.CharField(_("签章身份"), max_length=12, choices=SignerRole.choices)
    signer = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey("mediation.Party", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              help_text=_("当事人或代理人签章时，代表的当事人。"))
    organisation = models.ForeignKey("mediation.Organisation", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    signer_name = models.CharField(_("签章人"), max_length=120)
    field_name = models.CharField(max_length=60)
    certificate_serial = models.CharField(_("证书序列号"), max_length=64)
    certificate_subject = models.CharField(_("证书主体"), max_length=300)
    certificate_pem = models.TextField()
    handwriting = models.FileField(upload_to="signatures/", max_length=200, blank=True)
    pdf = models.FileField(upload_to="documents/signed/", max_length=200)
    sha256 = models.CharField(_("签章后文件哈希"), max_length=64, unique=True)
    signed_at = models.DateTimeField(_("签章时间"))

    class Meta:
        verbose_name = _("电子签章")
        verbose_name_plural = _("电子签章")
        ordering = ["document", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["document", "sequence"], name="signature_sequence_unique"),
            models.UniqueConstraint(fields=["document", "role", "party", "organisation", "signer"],
                                    name="one_signature_per_signer_role"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.sequence} {self.signer_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A signature is a revision of the file that others signed over: it is written once.
        if self.pk is not None:
            row = DocumentSignature.objects.filter(pk=self.pk).values(*SIGNATURE_FIELDS).first()
            if row is not None:
                _refuse_changes(self, row, SIGNATURE_FIELDS, "signature")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise DocumentImmutable("signatures are never deleted")


def _refuse_changes(instance: models.Model, row: dict[str, Any], fields: tuple[str, ...], what: str) -> None:
    for name in fields:
        current = getattr(instance, name)
        if name in ("pdf", "handwriting"):
            current = current.name or ""
        if row[name] != current:
            raise DocumentImmutable(f"{what} field {name} cannot change; issue a new version")


class SealedScan(models.Model):
    """The scan of the sealed paper agreement an organisation without an e-seal uploads (OMR 19). Written once;
    its SHA-256 is recorded beside it and in the audit trail. For a people's mediation committee the agreement
    takes effect only with it (PML 29)."""

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="sealed_scan",
                                    verbose_name=_("调解协议书"))
    organisation = models.ForeignKey("mediation.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("调解组织"))
    uploaded_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"))
    file = models.FileField(upload_to="documents/sealed/", max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    pages = models.PositiveIntegerField(_("页数"))
    sha256 = models.CharField(_("文件哈希"), max_length=64)

    class Meta:
        verbose_name = _("盖章协议扫描件")
        verbose_name_plural = _("盖章协议扫描件")

    def __str__(self) -> str:
        return f"{self.document_id} {self.sha256[:12]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and SealedScan.objects.filter(pk=self.pk).exists():
            raise DocumentImmutable("a sealed scan is written once")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise DocumentImmutable("sealed scans are never deleted")


class ExternalDocument(models.Model):
    """A ruling (司法确认裁定书) or a 民事调解书 a court issued in its own case system and pushed through the API.
    Not one of ours: the platform did not draft, render, sign or seal it, and says so wherever it is shown (the
    issuer is the court system named in ``issuer_system``). Stored as received, with its SHA-256; written once."""

    case = models.ForeignKey("mediation.Case", on_delete=models.PROTECT, related_name="external_documents",
                             verbose_name=_("案件"))
    kind = models.CharField(_("文书种类"), max_length=20, choices=DocumentKind.choices)
    title = models.CharField(_("文书名称"), max_length=120)
    number = models.CharField(_("法院文书编号"), max_length=80)
    issuing_court = models.ForeignKey("mediation.Organisation", on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("出具法院"))
    issued_on = models.DateField(_("法院出具日期"))
    issuer_system = models.CharField(_("推送系统"), max_length=120,
                                     help_text=_("推送本文书的法院系统（API 客户端名称）。"))
    api_client_id = models.IntegerField(_("API 客户端"))
    request_id = models.CharField(_("推送请求编号"), max_length=64,
                                  help_text=_("法院系统为本次推送给出的编号；同一编号重复推送不会重复保存。"))
    file = models.FileField(upload_to="documents/external/", max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("文件哈希"), max_length=64)
    received_by = models.ForeignKey("mediation.User", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("接收账户"))
    received_at = models.DateTimeField(_("接收时间"))

    class Meta:
        verbose_name = _("法院系统推送的文书")
        verbose_name_plural = _("法院系统推送的文书")
        ordering = ["case", "received_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["api_client_id", "request_id"], name="external_document_request_once"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.issuer_system})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and ExternalDocument.objects.filter(pk=self.pk).exists():
            raise DocumentImmutable("a pushed court document is written once")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise DocumentImmutable("pushed court documents are never deleted")
