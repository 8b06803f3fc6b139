"""Interpreters and helpers in the documents (issue 18 item 4): the agreement and the record name the helpers
who took part, with whom they helped and how; an interpreter's 如实翻译 declaration is named only when it was
accepted; a helper invited but never admitted is not named. A helper cannot sign: refused with a clear
sentence, nothing signed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from documents.models import Document, DocumentSignature
from documents.services.issuing import document_issue
from documents.services.signing import document_sign, document_sign_code_send
from mediation.choices import DocumentKind, HelperKind, ParticipantRole, PartyRole, RoomMemberState, SignerRole
from mediation.exceptions import PermissionDenied
from mediation.models import CaseHelper, Room, RoomMember
from mediation.notices import INTERPRETER_DECLARATION
from mediation.services.consents import notice_text_publish
from mediation.services.helpers import helper_declaration_record, helper_invite
from tests.agreement_support import parties_of
from tests.documents.documents_support import make_case, pdf_text
from tests.signing_support import (  # noqa: F401 - fixtures
    dev_ca_dir,
    handwriting_png,
    ready_to_sign,
    signing_env,
)

DECLARATION = "作出如实翻译的保证"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _text(document: Document, tmp_path: Path) -> str:
    path = tmp_path / f"{document.kind}-{document.version}.pdf"
    with default_storage.open(document.pdf.name, "rb") as handle:
        path.write_bytes(handle.read())
    return pdf_text(path)


def _took_part(room: Room, helper: CaseHelper) -> None:
    """The helper's row in the held session of ``make_case``: checked, admitted, left at the end."""
    at = timezone.now() - dt.timedelta(hours=2)
    RoomMember.objects.create(
        room=room,
        user=helper.user,
        party=helper.assists,
        role=helper.role,
        side=helper.assists.role,
        display_name=helper.name,
        state=RoomMemberState.LEFT,
        identity_checked_at=at,
        notices_acknowledged_at=at,
        admitted_at=at,
    )


def _case_with_helpers(world, *, declared: bool):
    fx = make_case(world)
    applicant, respondent = fx.applicant, fx.respondent
    interpreter = helper_invite(
        case=fx.case,
        assists=applicant,
        kind=HelperKind.SIGN_LANGUAGE,
        name="周译",
        phone="13900000201",
        actor=world.mediator,
    )
    daughter = helper_invite(
        case=fx.case,
        assists=respondent,
        kind=HelperKind.FAMILY,
        name="李小妹",
        relation="女儿",
        phone="13900000202",
        actor=world.mediator,
    )
    absent = helper_invite(
        case=fx.case,
        assists=respondent,
        kind=HelperKind.INTERPRETATION,
        name="未到场译员",
        language="蒙古语",
        phone="13900000203",
        actor=world.mediator,
    )
    _took_part(fx.room, interpreter)
    _took_part(fx.room, daughter)
    if declared:
        text = notice_text_publish(
            code=INTERPRETER_DECLARATION.code,
            title=INTERPRETER_DECLARATION.title,
            body=INTERPRETER_DECLARATION.body,
            actor=None,
        )
        helper_declaration_record(helper=interpreter, text=text)
    return fx, interpreter, daughter, absent


@pytest.mark.parametrize("kind", [DocumentKind.AGREEMENT, DocumentKind.TRANSCRIPT])
def test_the_agreement_and_the_record_name_the_interpreter_with_the_declaration_they_accepted(world, tmp_path, kind):
    fx, _interpreter, _daughter, _absent = _case_with_helpers(world, declared=True)

    text = _text(document_issue(case=fx.case, kind=kind, actor=world.mediator), tmp_path)

    assert "翻译人员：周译（为申请人张三提供手语翻译）" in text
    assert DECLARATION in text and "翻译人员如实翻译保证书" in text
    assert "协助调解人员：李小妹（为被申请人李四提供协助（系其女儿））" in text
    assert "未到场译员" not in text  # invited, never admitted: not named


def test_no_declaration_is_claimed_when_nobody_accepted_one(world, tmp_path):
    fx, _interpreter, _daughter, _absent = _case_with_helpers(world, declared=False)

    text = _text(document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=world.mediator), tmp_path)

    assert "翻译人员：周译（为申请人张三提供手语翻译）" in text
    assert DECLARATION not in text and "保证书" not in text


def test_a_document_without_helpers_names_none(world, tmp_path):
    fx = make_case(world)

    text = _text(document_issue(case=fx.case, kind=DocumentKind.TRANSCRIPT, actor=world.mediator), tmp_path)

    assert "翻译人员：" not in text and "协助调解人员：" not in text


@pytest.mark.usefixtures("signing_env")
@pytest.mark.parametrize("role", [SignerRole.PARTY, SignerRole.AGENT])
def test_a_helpers_attempt_to_sign_is_refused_with_a_clear_message(world, role):
    document = ready_to_sign(world)
    applicant, _respondent = parties_of(document.case)
    helper = helper_invite(
        case=document.case,
        assists=applicant,
        kind=HelperKind.FOREIGN_LANGUAGE,
        name="Anna",
        language="英语",
        phone="13900000204",
        actor=world.mediator,
    )
    assert helper.role == ParticipantRole.INTERPRETER and applicant.role == PartyRole.APPLICANT

    with pytest.raises(PermissionDenied, match="不能代表当事人对调解协议表示同意或签名") as refused:
        document_sign_code_send(document=document, actor=helper.user, role=role, party=applicant)
    assert "为申请人张三提供英语翻译" in str(refused.value)
    with pytest.raises(PermissionDenied, match="不能代表当事人"):
        document_sign(
            document=document,
            actor=helper.user,
            role=role,
            party=applicant,
            code="123456",
            handwriting_png=handwriting_png(),
        )
    assert not DocumentSignature.objects.filter(document=document).exists()
