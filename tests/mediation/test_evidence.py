"""Evidence uploads: checked by content, stored under their SHA-256, seen only by people with a right."""

from __future__ import annotations

import hashlib

import pytest

from mediation.choices import CaseStatus, EvidenceKind
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.models import AuditEvent, Evidence
from mediation.services import applications as apps
from mediation.services import evidence as ev
from tests.apply_support import pdf_bytes, png_bytes, upload, verify_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def draft(world):
    return apps.application_draft_open(actor=verify_identity(world.applicant))


def stored_files(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


# --- What is accepted -------------------------------------------------------------------------------------


def test_a_small_pdf_is_stored_under_its_sha256(world, draft, media):
    content = pdf_bytes()
    evidence = ev.evidence_upload(
        actor=world.applicant, draft=draft, file=upload("劳动合同.pdf", content, "application/pdf"),
        title="劳动合同", kind=EvidenceKind.EVIDENCE,
    )
    digest = hashlib.sha256(content).hexdigest()
    assert evidence.sha256 == digest
    assert evidence.file.name == f"evidence/{digest[:2]}/{digest}"
    assert (media / evidence.file.name).read_bytes() == content
    assert (evidence.content_type, evidence.size) == ("application/pdf", len(content))
    assert evidence.original_name == "劳动合同.pdf"
    event = AuditEvent.objects.get(kind="evidence.uploaded")
    assert event.stream == f"application.{draft.pk}"
    assert event.data["sha256"] == digest


def test_a_png_photo_is_accepted_with_the_type_its_content_shows(world, draft):
    evidence = ev.evidence_upload(
        actor=world.applicant, draft=draft, file=upload("欠条.PNG", png_bytes()), title="欠条"
    )
    assert evidence.content_type == "image/png"


def test_the_same_bytes_uploaded_twice_share_one_stored_file(world, draft, media):
    for title in ("合同", "合同副本"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title=title)
    assert Evidence.objects.count() == 2
    assert len(stored_files(media)) == 1


def test_only_the_file_name_is_kept_never_a_path(world, draft):
    evidence = ev.evidence_upload(
        actor=world.applicant, draft=draft, file=upload("../../etc/合同.pdf", pdf_bytes()), title="合同"
    )
    assert evidence.original_name == "合同.pdf"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n", ev.PDF),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", ev.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00", ev.PNG),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ev.HEIC),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", ev.MP4),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", ev.M4A),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", ev.MOV),
        (b"ID3\x04\x00\x00\x00\x00\x00", ev.MP3),
        (b"\xff\xfb\x90\x64\x00", ev.MP3),
        (b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00", None),
        (b"PK\x03\x04", None),
        (b"hello, world", None),
        (b"", None),
    ],
)
def test_file_types_are_told_by_their_first_bytes(head, expected):
    assert ev.detect_file_type(head) is expected


# --- What is refused, with nothing saved -------------------------------------------------------------------


def test_an_oversized_file_is_refused_naming_the_limit_in_mb(world, draft, settings, media):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = pdf_bytes() + b"0" * (1024 * 1024)
    with pytest.raises(InvalidInput, match=r"文件过大：“big.pdf”有 1.1 MB，单个文件不能超过 1 MB"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("big.pdf", big), title="大文件")
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_a_png_renamed_to_pdf_is_refused(world, draft, media):
    with pytest.raises(InvalidInput, match=r"文件内容与扩展名不符.*PNG"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("合同.pdf", png_bytes()), title="合同")
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_a_text_file_renamed_to_jpg_is_refused(world, draft, media):
    with pytest.raises(InvalidInput, match=r"文件内容与扩展名不符.*JPEG"):
        ev.evidence_upload(
            actor=world.applicant, draft=draft, file=upload("照片.jpg", "这不是图片".encode(), "image/jpeg"),
            title="照片",
        )
    assert not Evidence.objects.exists()
    assert stored_files(media) == []


def test_a_declared_type_that_disagrees_with_the_content_is_refused(world, draft):
    with pytest.raises(InvalidInput, match=r"文件内容与扩展名不符.*image/png"):
        ev.evidence_upload(
            actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes(), "image/png"), title="a"
        )
    assert not Evidence.objects.exists()


def test_a_file_type_we_do_not_take_is_refused_listing_what_we_take(world, draft):
    with pytest.raises(InvalidInput, match="只能上传 PDF"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("notes.txt", b"plain text"), title="笔记")
    assert not Evidence.objects.exists()


def test_an_empty_file_or_a_missing_title_is_refused(world, draft):
    with pytest.raises(InvalidInput, match="是空的"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", b""), title="空")
    with pytest.raises(InvalidInput, match="请填写材料名称"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title="  ")
    assert not Evidence.objects.exists()


# --- Who may upload ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["outsider", "respondent", "clerk", "mediator"])
def test_only_the_owner_may_add_to_a_draft(world, draft, name):
    with pytest.raises(PermissionDenied):
        ev.evidence_upload(actor=getattr(world, name), draft=draft, file=upload("a.pdf", pdf_bytes()), title="a")
    assert not Evidence.objects.exists()


def test_a_submitted_draft_takes_no_more_files(world, draft):
    from tests.apply_support import complete_draft

    apps.application_submit(draft=complete_draft(world, world.applicant), actor=world.applicant)
    draft.refresh_from_db()
    with pytest.raises(InvalidInput, match="申请已提交"):
        ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title="a")


@pytest.mark.parametrize(("name", "allowed"), [
    ("applicant", True), ("lawyer", True), ("mediator", True), ("clerk", True),
    ("judge", False), ("org_admin", False), ("outsider", False), ("other_clerk", False), ("other_judge", False),
    ("other_mediator", False),
])
def test_who_may_add_material_to_a_case(world, name, allowed):
    case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    actor = getattr(world, name)
    file = upload("a.pdf", pdf_bytes())
    if allowed:
        evidence = ev.evidence_upload(actor=actor, case=case, file=file, title="补充材料")
        assert evidence.case == case
        assert AuditEvent.objects.filter(stream=case.audit_stream, kind="evidence.uploaded").count() == 1
    else:
        with pytest.raises(PermissionDenied):
            ev.evidence_upload(actor=actor, case=case, file=file, title="补充材料")
        assert not Evidence.objects.exists()


# --- Who may see and download ----------------------------------------------------------------------------


@pytest.fixture
def case_evidence(world):
    case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    return ev.evidence_upload(actor=world.applicant, case=case, file=upload("合同.pdf", pdf_bytes()), title="合同")


@pytest.mark.parametrize("name", ["applicant", "respondent", "lawyer", "clerk", "judge", "mediator", "org_admin"])
def test_people_with_a_role_on_the_case_may_see_its_evidence(world, case_evidence, name):
    assert ev.evidence_get_for_user(user=getattr(world, name), pk=case_evidence.pk) == case_evidence


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "other_judge", "other_mediator"])
def test_people_without_a_role_on_the_case_may_not_see_its_evidence(world, case_evidence, name):
    with pytest.raises(PermissionDenied, match="不存在或您无权查看"):
        ev.evidence_get_for_user(user=getattr(world, name), pk=case_evidence.pk)


def test_a_mediator_who_declined_loses_sight_of_the_evidence(world):
    case = world.drive(world.new_case(), CaseStatus.ASSIGNED)
    evidence = ev.evidence_upload(actor=world.applicant, case=case, file=upload("a.pdf", pdf_bytes()), title="a")
    assert ev.evidence_get_for_user(user=world.mediator, pk=evidence.pk) == evidence
    from mediation.services.cases import case_transition

    case_transition(case=case, to=CaseStatus.AWAITING_SELECTION, actor=world.mediator, note="不属于本人擅长领域")
    with pytest.raises(PermissionDenied):
        ev.evidence_get_for_user(user=world.mediator, pk=evidence.pk)


@pytest.mark.parametrize("name", ["respondent", "outsider", "clerk", "mediator"])
def test_evidence_in_a_draft_is_seen_by_its_owner_only(world, draft, name):
    evidence = ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title="a")
    assert ev.evidence_get_for_user(user=world.applicant, pk=evidence.pk) == evidence
    with pytest.raises(PermissionDenied):
        ev.evidence_get_for_user(user=getattr(world, name), pk=evidence.pk)


def test_a_missing_id_gets_the_same_answer_as_a_forbidden_one(world):
    with pytest.raises(PermissionDenied, match="不存在或您无权查看"):
        ev.evidence_get_for_user(user=world.applicant, pk=999_999)


def test_each_download_is_recorded_on_the_case_stream(world, case_evidence):
    ev.evidence_download(actor=world.clerk, pk=case_evidence.pk)
    ev.evidence_download(actor=world.clerk, pk=case_evidence.pk)
    events = AuditEvent.objects.filter(stream=case_evidence.case.audit_stream, kind="evidence.downloaded")
    assert events.count() == 2
    assert events.first().actor == world.clerk
    assert events.first().data["sha256"] == case_evidence.sha256


def test_a_refused_download_records_nothing(world, case_evidence):
    with pytest.raises(PermissionDenied):
        ev.evidence_download(actor=world.outsider, pk=case_evidence.pk)
    assert not AuditEvent.objects.filter(kind="evidence.downloaded").exists()


# --- Taking a file back out of a draft --------------------------------------------------------------------


def test_the_owner_may_take_a_file_back_out_of_a_draft(world, draft):
    evidence = ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title="a")
    ev.evidence_discard(actor=world.applicant, evidence=evidence)
    assert not Evidence.objects.exists()
    assert AuditEvent.objects.filter(stream=f"application.{draft.pk}", kind="evidence.discarded").exists()


def test_evidence_of_a_case_cannot_be_discarded(world, case_evidence):
    with pytest.raises(InvalidInput, match="不能删除"):
        ev.evidence_discard(actor=world.applicant, evidence=case_evidence)
    assert Evidence.objects.filter(pk=case_evidence.pk).exists()


def test_someone_else_cannot_discard_a_draft_file(world, draft):
    evidence = ev.evidence_upload(actor=world.applicant, draft=draft, file=upload("a.pdf", pdf_bytes()), title="a")
    with pytest.raises(PermissionDenied):
        ev.evidence_discard(actor=world.outsider, evidence=evidence)
    assert Evidence.objects.filter(pk=evidence.pk).exists()


@pytest.mark.django_db
def test_an_upload_to_a_draft_submitted_meanwhile_is_refused_and_nothing_is_stored(world):
    """The draft is re-read under its lock: a stale copy that still looks open cannot attach a file."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from mediation.exceptions import InvalidInput
    from mediation.models import ApplicationDraft, Evidence
    from mediation.services.evidence import evidence_upload

    draft = ApplicationDraft.objects.create(owner=world.applicant)
    stale = ApplicationDraft.objects.get(pk=draft.pk)
    ApplicationDraft.objects.filter(pk=draft.pk).update(case=world.new_case())
    before = Evidence.objects.count()
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    with pytest.raises(InvalidInput, match="申请已提交"):
        evidence_upload(actor=world.applicant, file=pdf, title="合同", kind="evidence", draft=stale)
    assert Evidence.objects.count() == before
