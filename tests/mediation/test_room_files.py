"""A file shared in a caucus stays with that side and the mediators, also when opened by its id later."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mediation.exceptions import PermissionDenied
from mediation.services import room_controls, room_record
from mediation.services.evidence import evidence_download
from tests.room_support import joint_room

pytestmark = pytest.mark.django_db


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + name.encode() + b"\n%%EOF\n", content_type="application/pdf")


def test_a_caucus_file_is_refused_to_the_other_side_by_id(world):
    _case, room, members = joint_room(world)
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    event = room_record.room_file_attach(member=members["applicant"], file=_pdf("caucus.pdf"), name="caucus.pdf")
    evidence_id = event.payload["evidence"]
    for user in (world.respondent, world.lawyer, world.outsider):
        with pytest.raises(PermissionDenied):
            evidence_download(actor=user, pk=evidence_id)
    for user in (world.applicant, world.mediator):
        assert evidence_download(actor=user, pk=evidence_id).pk == evidence_id


def test_a_joint_session_file_is_open_to_everyone_on_the_case(world):
    _case, _room, members = joint_room(world)
    event = room_record.room_file_attach(member=members["applicant"], file=_pdf("joint.pdf"), name="joint.pdf")
    for user in (world.respondent, world.lawyer, world.mediator):
        assert evidence_download(actor=user, pk=event.payload["evidence"]).pk == event.payload["evidence"]
    with pytest.raises(PermissionDenied):
        evidence_download(actor=world.outsider, pk=event.payload["evidence"])


def test_a_caucus_file_is_left_out_of_what_the_court_receives(world, django_capture_on_commit_callbacks):
    from documents.models import Document

    case, room, members = joint_room(world)
    room_record.room_file_attach(member=members["applicant"], file=_pdf("joint-evidence.pdf"), name="共同材料.pdf")
    room_controls.room_caucus_start(room=room, actor=world.mediator, side="applicant")
    room_record.room_file_attach(member=members["applicant"], file=_pdf("bottom-line.pdf"), name="底线方案.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        room_controls.room_end(room=room, actor=world.mediator, outcome="terminate", end_reason="too_far",
                               note="分歧过大")

    titles = [m["title"] for m in Document.objects.get(case=case, kind="failure_report").data["materials"]]
    assert "共同材料.pdf" in titles
    assert "底线方案.pdf" not in titles
