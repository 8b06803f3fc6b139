"""Issue 11, the rest of the judge's acts while reviewing: a party's request to withdraw (Interp 357), asking the
organisation to verify (legal-rules §B8) and demanding evidence on suspected sham mediation (OMR 23); and the rule
that the confirmation rows of the transition table are taken only through the judge's workspace (the admin's bare
status form half-did them)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mediation import transitions as tr
from mediation.choices import CaseStatus, ConfirmationOutcome, InquiryKind, MessageChannel, TimerKind
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from mediation.models import (
    AuditEvent,
    Case,
    ConfirmationApplication,
    ConfirmationInquiry,
    Evidence,
    OutboxMessage,
)
from mediation.selectors.cases import case_actions_available
from mediation.selectors.confirmation import confirmation_for_party
from mediation.services.cases import case_transition
from mediation.services.confirmation import (
    confirmation_accept,
    confirmation_allow_withdrawal,
    confirmation_application_receive,
    confirmation_inquiry_answer,
    confirmation_inquiry_ask,
    confirmation_rule,
    confirmation_ruling_served,
    confirmation_withdrawal_request,
)

pytestmark = pytest.mark.django_db
S = CaseStatus
_numbers = iter(range(31, 10_000))
NOT_PARTIES = ["mediator", "judge", "other_judge", "clerk", "org_admin", "outsider"]
NOT_JUDGES = ["other_judge", "mediator", "applicant", "lawyer", "outsider", "clerk", "org_admin"]


def submitted(world) -> Case:
    case = world.drive(world.new_case(), S.CLOSED_SETTLED)
    confirmation_application_receive(case=case, document_id=None, title="司法确认申请书", sha256="0" * 64)
    return Case.objects.get(pk=case.pk)


def accepted(world) -> Case:
    case = submitted(world)
    confirmation_accept(case=case, actor=world.judge, case_number=f"（2026）京0101民特{next(_numbers)}号")
    return Case.objects.get(pk=case.pk)


def counts() -> tuple[int, ...]:
    return (AuditEvent.objects.count(), ConfirmationInquiry.objects.filter(answered_at__isnull=False).count(),
            ConfirmationInquiry.objects.count(), Evidence.objects.count(), OutboxMessage.objects.count(),
            ConfirmationApplication.objects.filter(withdrawal_requested_at__isnull=False).count())


def pdf(name: str = "说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n" + name.encode() + b"\n%%EOF\n", content_type="application/pdf")


# --- The confirmation rows belong to the workspace -----------------------------------------------------------


def test_every_confirmation_row_is_taken_only_through_the_confirmation_service():
    rows = [r for r in tr.TRANSITIONS if r.source.startswith("jc_") or r.target.startswith("jc_")]
    assert rows and all(r.via == tr.CONFIRMATION for r in rows)
    # The clerk holds none of the judge's acts (the service always refused; the table now says so too).
    assert all(tr.CLERK not in r.roles for r in rows if r.action != "serve_ruling")


def test_a_bare_status_change_into_a_confirmation_status_is_refused_and_never_offered(world):
    case = submitted(world)
    for user in (world.judge, world.clerk, world.mediator, world.applicant):
        assert [row.action for row in case_actions_available(user=user, case=case)] == []
    before = counts()
    with pytest.raises(TransitionNotAllowed, match="司法确认工作台"):
        case_transition(case=case, to=S.JC_UNDER_REVIEW, actor=world.judge)
    assert Case.objects.get(pk=case.pk).status == S.JC_SUBMITTED
    assert counts() == before


def test_the_admins_status_form_offers_no_confirmation_row_and_refuses_one_posted(client, world):
    case = submitted(world)
    world.judge.is_staff = world.judge.is_superuser = True
    world.judge.save()
    client.force_login(world.judge)
    url = reverse("admin:mediation_case_transition", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "没有可执行的状态变更".encode() in page.content
    response = client.post(url, {"target": S.JC_UNDER_REVIEW, "reason": "", "note": ""})
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).status == S.JC_SUBMITTED
    assert not AuditEvent.objects.filter(case=case, kind="case.accept_confirmation").exists()


# --- A party's request to withdraw, the judge's leave --------------------------------------------------------


def test_a_party_asks_to_withdraw_and_the_judges_are_told(world):
    case = accepted(world)
    confirmation_withdrawal_request(case=case, actor=world.applicant, reason="双方已自行履行完毕")
    application = ConfirmationApplication.objects.get(case=case)
    assert application.withdrawal_requested_by == world.applicant
    assert Case.objects.get(pk=case.pk).status == S.JC_UNDER_REVIEW  # the judge decides
    assert AuditEvent.objects.filter(case=case, kind="confirmation.withdrawal_requested").count() == 1
    assert OutboxMessage.objects.filter(recipient=world.judge, channel=MessageChannel.IN_APP,
                                        idempotency_key__contains="withdrawal").exists()
    before = counts()
    with pytest.raises(InvalidInput, match="已于"):
        confirmation_withdrawal_request(case=case, actor=world.respondent, reason="同上")
    assert counts() == before
    # The special-authority agent of the respondent may ask too (a fresh case).
    other = accepted(world)
    confirmation_withdrawal_request(case=other, actor=world.lawyer, reason="当事人委托撤回")


@pytest.mark.parametrize("name", NOT_PARTIES)
def test_only_a_party_may_ask_to_withdraw(world, name):
    case = accepted(world)
    before = counts()
    with pytest.raises(PermissionDenied):
        confirmation_withdrawal_request(case=case, actor=getattr(world, name), reason="撤回")
    assert counts() == before


def test_a_withdrawal_request_needs_a_reason_and_comes_before_the_ruling(world):
    case = accepted(world)
    before = counts()
    with pytest.raises(InvalidInput, match="理由"):
        confirmation_withdrawal_request(case=case, actor=world.applicant, reason="  ")
    confirmation_rule(case=case, actor=world.judge, confirm=True)
    with pytest.raises(TransitionNotAllowed, match="已经作出裁定"):
        confirmation_withdrawal_request(case=case, actor=world.applicant, reason="反悔")
    assert counts()[5] == before[5]


def test_the_judge_may_allow_withdrawal_before_acceptance_too(world):
    case = submitted(world)
    confirmation_withdrawal_request(case=case, actor=world.applicant, reason="不再申请")
    for name in NOT_JUDGES:
        with pytest.raises(PermissionDenied):
            confirmation_allow_withdrawal(case=case, actor=getattr(world, name), note="准许")
    confirmation_allow_withdrawal(case=case, actor=world.judge, note="当事人申请撤回")
    case.refresh_from_db()
    assert case.status == S.JC_WITHDRAWN
    assert ConfirmationApplication.objects.get(case=case).outcome == ConfirmationOutcome.WITHDRAWN


# --- Verification with the organisation; evidence on suspected sham mediation -------------------------------


def test_the_judge_asks_the_organisation_to_verify_and_its_administrator_answers(world):
    case = accepted(world)
    inquiry = confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.ORG_VERIFY,
                                       question="请核实调解员是否全程主持调解。", days=5)
    assert inquiry.organisation == world.partner
    assert OutboxMessage.objects.filter(recipient=world.org_admin, idempotency_key__startswith=f"confirmation:inquiry:"
                                        f"{inquiry.pk}:").exists()
    assert not OutboxMessage.objects.filter(recipient=world.applicant,
                                            idempotency_key__startswith=f"confirmation:inquiry:{inquiry.pk}:").exists()
    # Who may answer a verification: the organisation's administrator alone.
    for name in ("applicant", "lawyer", "mediator", "clerk"):
        with pytest.raises(PermissionDenied):
            confirmation_inquiry_answer(case=case, actor=getattr(world, name), inquiry_id=inquiry.pk, answer="是")
    confirmation_inquiry_answer(case=case, actor=world.org_admin, inquiry_id=inquiry.pk, answer="经核实，全程主持。")
    inquiry.refresh_from_db()
    assert inquiry.answered_by == world.org_admin and inquiry.answer.startswith("经核实")
    assert Case.objects.get(pk=case.pk).status == S.JC_UNDER_REVIEW
    with pytest.raises(InvalidInput, match="已于"):
        confirmation_inquiry_answer(case=case, actor=world.org_admin, inquiry_id=inquiry.pk, answer="再答")


def test_a_demand_for_evidence_goes_to_the_parties_who_answer_with_a_file(world):
    case = accepted(world)
    inquiry = confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.SHAM_EVIDENCE,
                                       question="请提供借款实际交付的银行流水。", days=7)
    assert OutboxMessage.objects.filter(recipient=world.applicant, channel=MessageChannel.SMS,
                                        idempotency_key__startswith=f"confirmation:inquiry:{inquiry.pk}:").exists()
    with pytest.raises(PermissionDenied):
        confirmation_inquiry_answer(case=case, actor=world.org_admin, inquiry_id=inquiry.pk, answer="x")
    confirmation_inquiry_answer(case=case, actor=world.applicant, inquiry_id=inquiry.pk, answer="附银行流水。",
                                file=pdf("流水.pdf"))
    inquiry.refresh_from_db()
    assert inquiry.evidence is not None and inquiry.evidence.case_id == case.pk
    assert AuditEvent.objects.filter(case=case, kind="confirmation.inquiry_answered").count() == 1


def test_a_bad_file_with_an_answer_saves_neither(world):
    case = accepted(world)
    inquiry = confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.SHAM_EVIDENCE,
                                       question="请提供证据。", days=7)
    before = counts()
    bad = SimpleUploadedFile("流水.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(InvalidInput):
        confirmation_inquiry_answer(case=case, actor=world.applicant, inquiry_id=inquiry.pk, answer="附件", file=bad)
    with pytest.raises(InvalidInput, match="答复内容"):
        confirmation_inquiry_answer(case=case, actor=world.applicant, inquiry_id=inquiry.pk, answer=" ", file=pdf())
    assert counts() == before


@pytest.mark.parametrize("name", NOT_JUDGES)
def test_only_a_judge_of_the_court_asks(world, name):
    case = accepted(world)
    before = counts()
    with pytest.raises(PermissionDenied):
        confirmation_inquiry_ask(case=case, actor=getattr(world, name), kind=InquiryKind.ORG_VERIFY,
                                 question="核实", days=5)
    assert counts() == before


@pytest.mark.parametrize(("kind", "question", "days", "message"), [
    ("nonsense", "核实", 5, "事项"),
    (InquiryKind.ORG_VERIFY, "   ", 5, "内容"),
    (InquiryKind.ORG_VERIFY, "核实", 0, "期限"),
    (InquiryKind.SHAM_EVIDENCE, "核实", 16, "期限"),
])
def test_bad_inquiries_are_refused_and_nothing_is_saved(world, kind, question, days, message):
    case = accepted(world)
    before = counts()
    with pytest.raises(InvalidInput, match=message):
        confirmation_inquiry_ask(case=case, actor=world.judge, kind=kind, question=question, days=days)
    assert counts() == before


def test_an_inquiry_needs_an_accepted_application_and_an_organisation_to_ask(world):
    case = submitted(world)
    before = counts()
    with pytest.raises(TransitionNotAllowed, match="已受理"):
        confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.SHAM_EVIDENCE, question="证据", days=5)
    assert counts() == before
    case = accepted(world)
    Case.objects.filter(pk=case.pk).update(mediation_organisation=None)
    case.refresh_from_db()
    before = counts()
    with pytest.raises(InvalidInput, match="没有主持调解的调解组织"):
        confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.ORG_VERIFY, question="核实", days=5)
    assert counts() == before


def test_an_answer_to_another_cases_inquiry_is_not_found(world):
    case, other = accepted(world), accepted(world)
    inquiry = confirmation_inquiry_ask(case=other, actor=world.judge, kind=InquiryKind.SHAM_EVIDENCE,
                                       question="证据", days=5)
    with pytest.raises(NotFound):
        confirmation_inquiry_answer(case=case, actor=world.applicant, inquiry_id=inquiry.pk, answer="x")


# --- What the parties see -------------------------------------------------------------------------------------


def test_after_the_ruling_is_served_the_party_sees_the_objection_windows(world):
    case = accepted(world)
    confirmation_rule(case=case, actor=world.judge, confirm=True)
    confirmation_ruling_served(case=case, actor=None)
    case.refresh_from_db()
    view = confirmation_for_party(user=world.applicant, case=case)
    assert view is not None and view.objection_due is not None
    from mediation.models import Timer
    timer = Timer.objects.get(case=case, kind=TimerKind.JC_OBJECTION)
    from mediation import calendar
    assert view.objection_due == calendar.last_day(timer.due_at)
    assert view.third_party_months == 6
    assert confirmation_for_party(user=world.outsider, case=case) is None
    assert confirmation_for_party(user=world.mediator, case=case) is None


def test_the_case_page_offers_withdrawal_and_the_answer_form_and_the_judge_reads_it(client, world):
    case = accepted(world)
    inquiry = confirmation_inquiry_ask(case=case, actor=world.judge, kind=InquiryKind.SHAM_EVIDENCE,
                                       question="请提供借条原件照片。", days=5)
    client.force_login(world.applicant)
    html = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "请提供借条原件照片" in html
    assert reverse("confirmation_withdrawal", args=[case.pk]) in html
    assert reverse("confirmation_inquiry_reply", args=[case.pk, inquiry.pk]) in html
    response = client.post(reverse("confirmation_inquiry_reply", args=[case.pk, inquiry.pk]),
                           {"answer": "借条照片见附件", "file": pdf("借条.pdf")})
    assert response.status_code == 302
    response = client.post(reverse("confirmation_withdrawal", args=[case.pk]), {"reason": "已和解"})
    assert response.status_code == 302
    client.force_login(world.judge)
    html = client.get(reverse("court_application", args=[case.pk])).content.decode()
    assert "借条照片见附件" in html and "已和解" in html and 'data-form="inquire"' in html
    # The organisation's administrator sees no demand addressed to the parties.
    client.force_login(world.org_admin)
    assert "请提供借条原件照片" not in client.get(reverse("case_detail", args=[case.pk])).content.decode()
    # An outsider posting an answer learns nothing.
    client.force_login(world.outsider)
    assert client.post(reverse("confirmation_inquiry_reply", args=[case.pk, inquiry.pk]),
                       {"answer": "x"}).status_code == 404


def test_the_judge_asks_from_the_review_page_and_a_bad_form_keeps_what_was_typed(client, world):
    case = accepted(world)
    client.force_login(world.judge)
    url = reverse("court_application_act", args=[case.pk, "inquire"])
    response = client.post(url, {"kind": InquiryKind.ORG_VERIFY, "question": "请核实调解过程", "days": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "答复期限须为整数天数" in html and "请核实调解过程" in html
    assert ConfirmationInquiry.objects.count() == 0
    response = client.post(url, {"kind": InquiryKind.ORG_VERIFY, "question": "请核实调解过程", "days": "5"})
    assert response.status_code == 302
    assert ConfirmationInquiry.objects.filter(application__case=case, kind=InquiryKind.ORG_VERIFY).count() == 1
