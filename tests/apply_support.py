"""Helpers for the application tests: a verified party, valid answers to every step, small real files."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mediation.choices import IdType, PartyKind, Sector, ServiceStage
from mediation.models import ApplicationDraft, IdentityVerification, User
from mediation.services import applications as apps
from mediation.validators import mask_resident_id
from tests.factories import make_resident_id


def verify_identity(user: User, *, seq: int = 1) -> User:
    """Leave ``user`` as mediation.services.identity.identity_verify does after a passed real-name check
    (resident ID on the account plus a succeeded IdentityVerification row), without the SMS round trip:
    the identity pages have their own tests."""
    user.id_type = IdType.RESIDENT_ID
    user.id_number = make_resident_id(seq)
    user.save(update_fields=["id_type", "id_number"])
    IdentityVerification.objects.create(
        user=user, real_name=user.real_name, id_number_masked=mask_resident_id(user.id_number), phone=user.phone,
        succeeded=True, checked_at=timezone.now(), provider_ref="test",
    )
    return user


def step_answers(world: Any) -> dict[str, dict[str, Any]]:
    """Valid answers to every step, as the draft keeps them."""
    notice_ids = {field: text.pk for field, text in apps.application_texts(apps.NOTICE_FIELDS).items()}
    address_ids = {field: text.pk for field, text in apps.application_texts(apps.ADDRESS_FIELDS).items()}
    return {
        "dispute": {"dispute_type": Sector.LABOUR, "court": world.court.pk},
        "parties": {
            "applicant_kind": PartyKind.NATURAL, "respondent_kind": PartyKind.NATURAL, "respondent_name": "李四",
            "respondent_phone": "13900000002", "respondent_id_number": make_resident_id(2),
            "respondent_uscc": "", "respondent_address": "北京市东城区东直门南大街1号",
        },
        "claims": {"claims": "支付拖欠工资12000元", "amount": "12000.00", "summary": "2025年10月至12月的工资未发放。"},
        "evidence": {"done": True},
        "notices": {"ack_notice": True, "consent_online": True, "e_service": True, **notice_ids},
        "address": {
            "recipient_name": "张三", "agent_recipient": "", "agent_relationship": "", "agent_phone": "",
            "postal_code": "100010", "postal_address": "北京市东城区王府井大街1号", "postal_recipient": "张三",
            "postal_phone": "13900000001", "mobile": "13900000001", "email": "zhangsan@example.com",
            "im_account": "", "stages": [ServiceStage.MEDIATION, ServiceStage.CONFIRMATION], "confidential": False,
            **address_ids,
        },
    }


def complete_draft(world: Any, user: User, **overrides: dict[str, Any]) -> ApplicationDraft:
    """A draft with every step answered through the service, then ``overrides`` written straight into its
    data (to test what submission does with answers the steps would have refused)."""
    draft = apps.application_draft_open(actor=user)
    for step, answers in step_answers(world).items():
        draft = apps.application_step_save(draft=draft, actor=user, step=step, data=answers)
    if overrides:
        data = dict(draft.data)
        for step, changes in overrides.items():
            data[step] = {**data[step], **changes}
        ApplicationDraft.objects.filter(pk=draft.pk).update(data=data)
        draft.refresh_from_db()
    return draft


def pdf_bytes() -> bytes:
    """A small, well-formed one-page PDF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_bytes() -> bytes:
    """A 1x1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def upload(name: str, content: bytes, content_type: str = "") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type or "application/octet-stream")
