"""Issue 17 item 3: a NUL, CR or LF in an uploaded file's name, or in a name typed beside it, never reaches the
database (PostgreSQL text and jsonb refuse NUL) and never gives a 500: it is cleaned where names are stored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from mediation.models import AuditEvent, Evidence, RoomEvent
from mediation.services import applications as apps
from mediation.services import evidence as ev
from tests.apply_support import pdf_bytes, verify_identity
from tests.room_support import open_room, ready_member

pytestmark = pytest.mark.django_db

HOSTILE = "合同\x00\r\nSet-Cookie: x=1\x07.pdf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _multipart(fields: dict[str, str], *, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand, so the raw filename (NUL, CR, LF) reaches the server as sent."""
    boundary = "----yizhanboundary"
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _clean(value: str) -> bool:
    return not any(ch in value for ch in "\x00\r\n\x07")


def test_the_evidence_service_cleans_the_file_name_and_the_title(world):
    draft = apps.application_draft_open(actor=verify_identity(world.applicant))
    evidence = ev.evidence_upload(
        actor=world.applicant, draft=draft, title="劳动\x00合同\r\n",
        file=SimpleUploadedFile(HOSTILE, pdf_bytes(), content_type="application/pdf"),
    )
    evidence.refresh_from_db()
    assert _clean(evidence.original_name) and evidence.original_name.endswith(".pdf")
    assert evidence.title == "劳动合同"
    assert _clean(AuditEvent.objects.get(kind="evidence.uploaded").data["name"])


def test_a_room_upload_with_nul_in_the_name_field_and_the_filename_is_stored_clean(world, client: Client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    ready_member(room, world.applicant, admit_by=world.mediator)
    client.force_login(world.applicant)
    body, content_type = _multipart({"name": "劳动\x00合同\r\nX"}, filename=HOSTILE, content=pdf_bytes())
    answer = client.generic("POST", reverse("room_files", args=[room.pk]), body, content_type=content_type)
    assert answer.status_code == 201, answer.content
    event = RoomEvent.objects.get(room=room, kind="file")
    assert event.payload["name"] == "劳动合同 X"
    evidence = Evidence.objects.get()
    assert _clean(evidence.original_name) and _clean(evidence.title)


def test_a_room_upload_named_only_by_a_hostile_filename_is_stored_clean(world, client: Client):
    _case, _session, room = open_room(world)
    ready_member(room, world.mediator)
    ready_member(room, world.applicant, admit_by=world.mediator)
    client.force_login(world.applicant)
    body, content_type = _multipart({}, filename=HOSTILE, content=pdf_bytes())
    answer = client.generic("POST", reverse("room_files", args=[room.pk]), body, content_type=content_type)
    assert answer.status_code == 201, answer.content
    assert _clean(RoomEvent.objects.get(room=room, kind="file").payload["name"])


def test_the_verification_page_takes_a_hostile_filename_without_a_500(client: Client):
    body, content_type = _multipart({"method": "upload"}, filename=HOSTILE, content=pdf_bytes())
    answer = client.generic("POST", reverse("verify"), body, content_type=content_type)
    assert answer.status_code < 500
    for event in AuditEvent.objects.filter(kind="document.verified"):
        assert _clean(str(event.data))


def test_a_nul_in_a_form_field_is_a_form_error_not_a_500(world, client: Client):
    client.force_login(world.applicant)
    answer = client.post(reverse("phone_login"), {"action": "send", "phone": "1380000\x000001"})
    assert answer.status_code < 500
