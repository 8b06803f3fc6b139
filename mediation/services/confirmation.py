"""The court's side of judicial confirmation (CPL 205-206; Interp 351-358, 372; JC-2011 4-6; legal-rules §B8).

Every act is a judge's of the case's court (the clerk, the mediator and the parties hold none of them), except
the extension, which only the court's president approves (JC-2011 5; CPL 187), the parties' filing of what
was asked of them, and recording that the ruling was served. Each act that changes the case's status goes
through ``case_transition`` (its audit event, its clocks from ``lifecycle.TIMER_RULES``), and each writes its
rows in the same transaction, so a refusal leaves nothing half-saved.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import calendar
from mediation import notification_templates as nt
from mediation import transitions as tr
from mediation.choices import (
    CaseStatus,
    ConfirmationOutcome,
    DismissalGround,
    InquiryKind,
    MessageChannel,
    NotAcceptGround,
    Role,
    TimerKind,
    TimerStatus,
)
from mediation.court_numbers import normalise_court_number
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from mediation.lifecycle import CONFIRMATION_EXTENSION_DAYS
from mediation.models import (
    Case,
    ConfirmationApplication,
    ConfirmationInquiry,
    Membership,
    Party,
    SupplementRequest,
    Timer,
    User,
)
from mediation.permissions import case_roles
from mediation.selectors.confirmation import WITHDRAWABLE_STATUSES, application_window_last_day, supplement_lapsed
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.evidence import evidence_upload
from mediation.services.outbox import outbox_enqueue, outbox_notify_users
from mediation.services.timers import timer_lengthen_approved, timer_start_ordered

S = CaseStatus

# （2026）京0101民特123号, or 诉前调确 for an application after pre-filing mediation (legal-rules §A10). The
# court's 代字 is one or two characters of its province and up to four digits.
CASE_NUMBER_RE = re.compile(
    r"^（(?P<year>\d{4})）(?P<court>[\u4e00-\u9fff]{1,2}\d{0,4})(?P<kind>民特|诉前调确)(?P<seq>[1-9]\d{0,5})号$"
)
SUPPLEMENT_MAX_DAYS = 60
NOTE_MAX = 2000


# --- Input --------------------------------------------------------------------------------------------------


def normalise_case_number(raw: str, *, court_code: str = "") -> str:
    """The application's 民特 (or 诉前调确) number in its one written form, or InvalidInput saying what shape it
    must have; the number itself is never made up here."""
    return normalise_court_number(
        raw, pattern=CASE_NUMBER_RE, court_code=court_code, kind="民特",
        shape_message=_("案号格式不正确：请按法院案件管理系统给出的案号录入，例如“%(example)s”（司法确认案件为“民特”或“诉前调确”）。"),
    )


def _note(text: str) -> str:
    text = (text or "").strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput(_("说明不能超过%(n)d字。") % {"n": NOTE_MAX})
    return text


def _with_label(label: str, extra: str) -> str:
    return f"{label}：{extra}" if extra else label


# --- Who may act ----------------------------------------------------------------------------------------------


def _transition(**kwargs: Any) -> Case:
    """``case_transition`` for the rows this module alone takes (``Transition.via``)."""
    return case_transition(via=tr.CONFIRMATION, **kwargs)


def _require_judge(actor: User | None, case: Case) -> User:
    if actor is None or tr.JUDGE not in case_roles(actor, case):
        raise PermissionDenied(_("只有受理本案的人民法院的法官可以办理司法确认。"))
    return actor


def _require_president(actor: User | None, case: Case) -> User:
    if actor is None or tr.PRESIDENT not in case_roles(actor, case):
        raise PermissionDenied(_("只有本院院长可以批准延长司法确认案件的审查期限。"))
    return actor


def _locked(case: Case) -> tuple[Case, ConfirmationApplication]:
    """The case row and its application, locked (case first, as ``case_transition`` takes them)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    application = ConfirmationApplication.objects.select_for_update().filter(case=locked).first()
    if application is None:
        raise TransitionNotAllowed(_("本案没有向法院提交的司法确认申请。"))
    return locked, application


def _require_status(case: Case, status: str, message: str) -> None:
    if case.status != status:
        raise TransitionNotAllowed(
            message + _("（案件当前状态：“%(status)s”。）") % {"status": CaseStatus(case.status).label}
        )


# --- The application reaches the court ----------------------------------------------------------------------


def confirmation_application_receive(
    *, case: Case, document_id: int | None, title: str, sha256: str, at: dt.datetime | None = None
) -> ConfirmationApplication:
    """The joint application, signed by every party, reaches the court (JC_SUBMITTED): the platform moves the
    case, keeps the application's row and tells the court's judges (in-app and SMS) in the same transaction."""
    at = at or timezone.now()
    last_day = application_window_last_day(case)
    if last_day is not None and calendar.local_day(at) > last_day:
        raise InvalidInput(
            _("调解协议生效之日起三十日的申请期限已于%(last)s届满，不能再申请司法确认；当事人仍可以就调解协议提起诉讼。")
            % {"last": last_day.isoformat()}
        )
    with transaction.atomic():
        case = _transition(
            case=case, to=S.JC_SUBMITTED, actor=None, data={"document": document_id, "title": title, "sha256": sha256}
        )
        application = ConfirmationApplication.objects.create(
            case=case, document_id=document_id, document_sha256=sha256, submitted_at=at
        )
        _notify_judges(case=case, key=f"confirmation:{application.pk}:received", subject=_(
            "司法确认申请：案件%(ref)s") % {"ref": case.reference}, text=_(
            "案件%(ref)s（%(title)s）的当事人已共同申请司法确认，请在3日内决定是否受理。") % {
            "ref": case.reference, "title": case.title})
    return application


def _notify_members(*, case: Case, organisation_id: int | None, role: str, link: str, key: str, subject: str,
                    text: str) -> None:
    """In-app and SMS (through the outbox) to every active ``role`` member of ``organisation_id``."""
    if organisation_id is None:
        return
    members = (
        Membership.objects.filter(organisation_id=organisation_id, role=role, is_active=True, user__is_active=True)
        .select_related("user").order_by("user_id")
    )
    outbox_notify_users(users=[m.user for m in members], case=case, key=key, subject=subject, text=text,
                        link=link)


def _notify_judges(*, case: Case, key: str, subject: str, text: str) -> None:
    _notify_members(case=case, organisation_id=case.court_id, role=Role.JUDGE, key=key, subject=subject, text=text,
                    link=nt.site_url("court_application", args=(case.pk,)))


def _notify_parties(*, case: Case, key: str, subject: str, text: str) -> None:
    link = nt.site_url("case_detail", args=(case.pk,))
    context = {"subject": subject, "text": text, "link": link}
    for party in Party.objects.filter(case=case).select_related("user").order_by("role", "pk"):
        if party.user is not None:
            outbox_enqueue(channel=MessageChannel.IN_APP, address="", template=nt.GENERIC, recipient=party.user,
                           case=case, context=context, idempotency_key=f"{key}:{party.pk}:inapp")
        phone = party.phone or (party.user.phone if party.user else "")
        if phone:
            outbox_enqueue(channel=MessageChannel.SMS, address=phone, template=nt.GENERIC, recipient=party.user,
                           case=case, context=context, idempotency_key=f"{key}:{party.pk}:sms")


# --- Acceptance (JC-2011 4; Interp 354-355) -----------------------------------------------------------------


def confirmation_accept(*, case: Case, actor: User | None, case_number: str) -> ConfirmationApplication:
    """Accept the application (立案) under the number the court's system gave it; starts the 15-day decision
    clock and the 30-day ceiling. Refused for an application made after the 30-day window (CPL 205)."""
    judge = _require_judge(actor, case)
    number = normalise_case_number(case_number, court_code=case.court.court_code)
    now = timezone.now()
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_SUBMITTED, _("只有已提交、待审查受理的申请可以受理。"))
        last_day = application_window_last_day(case)
        if last_day is not None and calendar.local_day(application.submitted_at) > last_day:
            raise InvalidInput(
                _("该申请于%(applied)s提出，已超过调解协议生效之日起三十日的申请期限（截至%(last)s），"
                  "不能受理；请以“超过申请期限”裁定不予受理。")
                % {"applied": calendar.local_day(application.submitted_at).isoformat(), "last": last_day.isoformat()}
            )
        if ConfirmationApplication.objects.filter(case_number=number).exclude(pk=application.pk).exists():
            raise InvalidInput(_("案号“%(number)s”已用于另一件申请，请核对。") % {"number": number})
        case = _transition(case=case, to=S.JC_UNDER_REVIEW, actor=judge, data={"case_number": number})
        application.case_number = number
        application.accepted_at = now
        application.accepted_by = judge
        application.save(update_fields=["case_number", "accepted_at", "accepted_by"])
        _notify_parties(case=case, key=f"confirmation:{application.pk}:accepted", subject=_(
            "司法确认申请已受理：案件%(ref)s") % {"ref": case.reference}, text=_(
            "人民法院已受理您的司法确认申请，案号%(number)s。") % {"number": number})
    return application


def confirmation_not_accept(
    *, case: Case, actor: User | None, ground: str, note: str = ""
) -> ConfirmationApplication:
    """Not accept the application on an Interp 355 ground (or for lateness, CPL 205)."""
    judge = _require_judge(actor, case)
    if ground not in NotAcceptGround.values:
        raise InvalidInput(_("请选择不予受理的理由（民诉法解释第三百五十五条）。"))
    extra = _note(note)
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_SUBMITTED, _("只有已提交、尚未受理的申请可以裁定不予受理。"))
        label = str(NotAcceptGround(ground).label)
        case = _transition(case=case, to=S.JC_NOT_ACCEPTED, actor=judge, note=_with_label(label, extra),
                               data={"ground": ground})
        _decide(application, outcome=ConfirmationOutcome.NOT_ACCEPTED, ground=ground, note=extra, judge=judge)
    return application


def _decide(application: ConfirmationApplication, *, outcome: str, ground: str, note: str, judge: User | None) -> None:
    application.outcome = outcome
    application.ground = ground
    application.decision_note = note
    application.decided_at = timezone.now()
    application.decided_by = judge
    application.save(update_fields=["outcome", "ground", "decision_note", "decided_at", "decided_by"])


# --- Supplements (Interp 354, 356-357; T11) -----------------------------------------------------------------


def confirmation_request_supplement(
    *, case: Case, actor: User | None, items: str, days: int
) -> SupplementRequest:
    """Ask the parties for missing materials within ``days`` calendar days; they see what is asked on the
    case page and are told by SMS. The acceptance clock pauses meanwhile."""
    judge = _require_judge(actor, case)
    items = _note(items)
    if not items:
        raise InvalidInput(_("请写明需要补正的材料。"))
    if not isinstance(days, int) or not 1 <= days <= SUPPLEMENT_MAX_DAYS:
        raise InvalidInput(_("补正期限须为1至%(max)d日。") % {"max": SUPPLEMENT_MAX_DAYS})
    now = timezone.now()
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_SUBMITTED, _("只有待审查受理的申请可以要求补正材料。"))
        case = _transition(case=case, to=S.JC_SUPPLEMENT_REQUESTED, actor=judge, note=items,
                               data={"days": days})
        timer = timer_start_ordered(case=case, kind=TimerKind.JC_SUPPLEMENT, length=days, actor=judge, at=now)
        request = SupplementRequest.objects.create(
            application=application, items=items, days=days, due_at=timer.due_at, requested_at=now,
            requested_by=judge,
        )
        _notify_parties(case=case, key=f"confirmation:supplement:{request.pk}", subject=_(
            "司法确认申请需补正材料：案件%(ref)s") % {"ref": case.reference}, text=_(
            "人民法院要求您在%(due)s前补正材料，逾期未补正的，可以按撤回申请处理。请登录查看需补正的内容。") % {
            "due": calendar.last_day(timer.due_at).isoformat()})
    return request


def confirmation_supplement_file(*, case: Case, actor: User | None, note: str) -> SupplementRequest:
    """A party (in person, or an agent with special authority) files what was asked; the application goes back
    to the judge, whose acceptance clock resumes. Accepted late too, until the judge treats it as withdrawn."""
    note = _note(note)
    if not note:
        raise InvalidInput(_("请说明补正的内容（已上传的材料请在此列明）。"))
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_SUPPLEMENT_REQUESTED, _("法院目前没有要求补正材料。"))
        request = application.supplements.filter(filed_at__isnull=True).order_by("-requested_at", "-pk").first()
        if request is None:
            raise TransitionNotAllowed(_("法院目前没有要求补正材料。"))
        case = _transition(case=case, to=S.JC_SUBMITTED, actor=actor, data={"supplement": request.pk})
        request.filed_at = timezone.now()
        request.filed_by = actor
        request.filed_note = note
        request.save(update_fields=["filed_at", "filed_by", "filed_note"])
        _notify_judges(case=case, key=f"confirmation:supplement:{request.pk}:filed", subject=_(
            "补正材料已提交：案件%(ref)s") % {"ref": case.reference}, text=_(
            "案件%(ref)s的当事人已提交补正材料。") % {"ref": case.reference})
    return request


def confirmation_deem_withdrawn(*, case: Case, actor: User | None, note: str = "") -> ConfirmationApplication:
    """Treat the application as withdrawn after the supplement deadline lapsed (Interp 357), on the judge's word."""
    judge = _require_judge(actor, case)
    extra = _note(note)
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_SUPPLEMENT_REQUESTED, _("只有逾期未补正材料的申请可以按撤回处理。"))
        if not supplement_lapsed(case):
            raise InvalidInput(_("补正期限尚未届满，不能按撤回申请处理。"))
        case = _transition(case=case, to=S.JC_WITHDRAWN, actor=judge,
                               note=_with_label(_("逾期未补正材料"), extra))
        _decide(application, outcome=ConfirmationOutcome.DEEMED_WITHDRAWN, ground="", note=extra, judge=judge)
    return application


def confirmation_withdrawal_request(*, case: Case, actor: User | None, reason: str) -> ConfirmationApplication:
    """A party (in person, or an agent with special authority) asks to withdraw the application before the
    ruling (Interp 357; JC-2011 5). Nothing ends here: the judge is told and allows it (or rules)."""
    if actor is None or tr.PARTY_AUTHORISED not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案当事人本人或有特别授权的代理人可以申请撤回司法确认申请。"))
    reason = _note(reason)
    if not reason:
        raise InvalidInput(_("请写明撤回申请的理由。"))
    with transaction.atomic():
        case, application = _locked(case)
        if case.status not in WITHDRAWABLE_STATUSES:
            raise TransitionNotAllowed(
                _("法院已经作出裁定或处理决定，不能再申请撤回。（案件当前状态：“%(status)s”。）")
                % {"status": CaseStatus(case.status).label}
            )
        if application.withdrawal_requested_at is not None:
            raise InvalidInput(_("已于%(at)s申请撤回，请等待法院处理。")
                               % {"at": calendar.local_day(application.withdrawal_requested_at).isoformat()})
        application.withdrawal_requested_at = timezone.now()
        application.withdrawal_requested_by = actor
        application.withdrawal_reason = reason
        application.save(update_fields=["withdrawal_requested_at", "withdrawal_requested_by", "withdrawal_reason"])
        audit_append(kind="confirmation.withdrawal_requested", actor=actor, case=case,
                     data={"reason": reason, "rule": "Interp 357; JC-2011 5"})
        _notify_judges(case=case, key=f"confirmation:{application.pk}:withdrawal", subject=_(
            "当事人申请撤回司法确认申请：案件%(ref)s") % {"ref": case.reference}, text=_(
            "案件%(ref)s的当事人申请撤回司法确认申请，请审查是否准许。") % {"ref": case.reference})
    return application


def confirmation_allow_withdrawal(*, case: Case, actor: User | None, note: str) -> ConfirmationApplication:
    """Allow the parties' withdrawal before the ruling (Interp 357; JC-2011 5), before or after acceptance."""
    judge = _require_judge(actor, case)
    extra = _note(note)
    if not extra:
        raise InvalidInput(_("请写明当事人申请撤回的情况。"))
    with transaction.atomic():
        case, application = _locked(case)
        if case.status not in WITHDRAWABLE_STATUSES:
            _require_status(case, S.JC_UNDER_REVIEW, _("只有尚未裁定的申请可以准许撤回。"))
        case = _transition(case=case, to=S.JC_WITHDRAWN, actor=judge, action="withdraw_confirmation",
                           note=extra)
        _decide(application, outcome=ConfirmationOutcome.WITHDRAWN, ground="", note=extra, judge=judge)
    return application


# --- Verification with the organisation (§B8) and sham mediation (OMR 23) -------------------------------

INQUIRY_MAX_DAYS = 15


def confirmation_inquiry_ask(
    *, case: Case, actor: User | None, kind: str, question: str, days: int
) -> ConfirmationInquiry:
    """While reviewing, ask the mediation organisation to verify how the agreement was reached, or demand
    evidence from the parties where sham mediation is suspected (OMR 23). The status stays; those asked are
    told (in-app and SMS) and answer on the case page by the deadline."""
    judge = _require_judge(actor, case)
    if kind not in InquiryKind.values:
        raise InvalidInput(_("请选择核实事项。"))
    question = _note(question)
    if not question:
        raise InvalidInput(_("请写明需要核实的内容或要求提供的证据。"))
    if not isinstance(days, int) or not 1 <= days <= INQUIRY_MAX_DAYS:
        raise InvalidInput(_("答复期限须为1至%(max)d日。") % {"max": INQUIRY_MAX_DAYS})
    organisation = case.mediation_organisation
    if kind == InquiryKind.ORG_VERIFY and organisation is None:
        raise InvalidInput(_("本案没有主持调解的调解组织，无法向调解组织核实。"))
    now = timezone.now()
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_UNDER_REVIEW, _("只有已受理、尚未裁定的申请可以核实或要求提供证据。"))
        inquiry = ConfirmationInquiry.objects.create(
            application=application, kind=kind, question=question, asked_at=now, asked_by=judge,
            due_at=calendar.day_end(calendar.calendar_period_end(calendar.local_day(now), days)),
            organisation=organisation if kind == InquiryKind.ORG_VERIFY else None,
        )
        audit_append(kind="confirmation.inquiry_asked", actor=judge, case=case,
                     data={"inquiry": inquiry.pk, "kind": kind, "question": question, "days": days,
                           "due_at": inquiry.due_at.isoformat(),
                           "rule": "OMR 23" if kind == InquiryKind.SHAM_EVIDENCE else "legal-rules §B8"})
        subject = _("人民法院核实事项：案件%(ref)s") % {"ref": case.reference}
        text = _("人民法院在审查案件%(ref)s的司法确认申请时要求：%(question)s 请在%(due)s前在案件页面答复。") % {
            "ref": case.reference, "question": question, "due": calendar.last_day(inquiry.due_at).isoformat()}
        key = f"confirmation:inquiry:{inquiry.pk}"
        if kind == InquiryKind.ORG_VERIFY:
            _notify_org_admins(case=case, key=key, subject=subject, text=text)
        else:
            _notify_parties(case=case, key=key, subject=subject, text=text)
    return inquiry


def _notify_org_admins(*, case: Case, key: str, subject: str, text: str) -> None:
    _notify_members(case=case, organisation_id=case.mediation_organisation_id, role=Role.ORG_ADMIN, key=key,
                    subject=subject, text=text, link=nt.site_url("case_detail", args=(case.pk,)))


def confirmation_inquiry_answer(
    *, case: Case, actor: User | None, inquiry_id: int, answer: str, file: File[Any] | None = None
) -> ConfirmationInquiry:
    """The organisation's administrator answers a verification request; a party (in person, or an agent with
    special authority) answers a demand for evidence, with an uploaded file if there is one (stored as the
    case's evidence in the same transaction: a refused answer keeps no file row). Once."""
    answer = _note(answer)
    with transaction.atomic():
        case, application = _locked(case)
        inquiry = ConfirmationInquiry.objects.select_for_update().filter(pk=inquiry_id, application=application).first()
        if inquiry is None:
            raise NotFound(_("核实事项不存在。"))
        roles = case_roles(actor, case) if actor is not None else set()
        if inquiry.kind == InquiryKind.ORG_VERIFY and tr.ORG_ADMIN not in roles:
            raise PermissionDenied(_("只有主持调解的调解组织的管理员可以答复法院的核实。"))
        if inquiry.kind == InquiryKind.SHAM_EVIDENCE and tr.PARTY_AUTHORISED not in roles:
            raise PermissionDenied(_("只有本案当事人本人或有特别授权的代理人可以向法院提供证据。"))
        if inquiry.answered_at is not None:
            answered = calendar.local_day(inquiry.answered_at).isoformat()
            raise InvalidInput(_("该事项已于%(at)s答复。") % {"at": answered})
        if case.status != S.JC_UNDER_REVIEW:
            raise TransitionNotAllowed(_("法院已经作出处理，不再接受答复。"))
        if not answer:
            raise InvalidInput(_("请填写答复内容。"))
        evidence = None
        if file is not None:
            assert actor is not None  # a role was found above
            evidence = evidence_upload(actor=actor, file=file, title=_("对法院核实事项的答复材料"), case=case)
        inquiry.answer = answer
        inquiry.answered_at = timezone.now()
        inquiry.answered_by = actor
        inquiry.evidence = evidence
        inquiry.save(update_fields=["answer", "answered_at", "answered_by", "evidence"])
        audit_append(kind="confirmation.inquiry_answered", actor=actor, case=case,
                     data={"inquiry": inquiry.pk, "kind": inquiry.kind, "answer": answer,
                           "evidence": evidence.pk if evidence is not None else None})
        _notify_judges(case=case, key=f"confirmation:inquiry:{inquiry.pk}:answered", subject=_(
            "核实事项已答复：案件%(ref)s") % {"ref": case.reference}, text=_(
            "案件%(ref)s的核实事项已有答复，请登录查看。") % {"ref": case.reference})
    return inquiry


# --- The ruling (CPL 206; Interp 358) and the president's extension (JC-2011 5) ----------------------------


def confirmation_rule(
    *, case: Case, actor: User | None, confirm: bool, ground: str = "", note: str = ""
) -> ConfirmationApplication:
    """Rule on an accepted application: the agreement is valid (CPL 206), or the application is dismissed on
    an Interp 358 ground (or an Interp 355 ground found after acceptance)."""
    judge = _require_judge(actor, case)
    extra = _note(note)
    if not confirm and ground not in DismissalGround.values:
        raise InvalidInput(_("裁定驳回申请须选择理由（民诉法解释第三百五十八条）。"))
    if confirm and ground:
        raise InvalidInput(_("裁定调解协议有效不需要驳回理由。"))
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_UNDER_REVIEW, _("只有已受理、尚未裁定的申请可以作出裁定。"))
        if confirm:
            case = _transition(case=case, to=S.JC_CONFIRMED, actor=judge, note=extra)
            _decide(application, outcome=ConfirmationOutcome.CONFIRMED, ground="", note=extra, judge=judge)
        else:
            label = str(DismissalGround(ground).label)
            case = _transition(case=case, to=S.JC_DISMISSED, actor=judge, note=_with_label(label, extra),
                                   data={"ground": ground})
            _decide(application, outcome=ConfirmationOutcome.DISMISSED, ground=ground, note=extra, judge=judge)
    return application


def confirmation_extension_approve(*, case: Case, actor: User | None, reason: str) -> ConfirmationApplication:
    """The court president approves 10 more days for the decision (JC-2011 5), once, and not past the 30-day
    ceiling from acceptance (CPL 187)."""
    president = _require_president(actor, case)
    reason = _note(reason)
    if not reason:
        raise InvalidInput(_("请写明延长审查期限的特殊情况。"))
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_UNDER_REVIEW, _("只有审查中的司法确认案件可以延长审查期限。"))
        if application.extension_days:
            raise InvalidInput(_("本案的审查期限已经院长批准延长过一次。"))
        timers = {t.kind: t for t in Timer.objects.filter(
            case=case, kind__in=[TimerKind.JC_DECISION, TimerKind.JC_CEILING],
            status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED])}
        decision = timers.get(TimerKind.JC_DECISION)
        if decision is None:
            raise InvalidInput(_("审查期限已届满，不能再批准延长。"))
        lengthened = timer_lengthen_approved(
            timer=decision, days=CONFIRMATION_EXTENSION_DAYS, actor=president, data={"reason": reason},
        )
        ceiling = timers.get(TimerKind.JC_CEILING)
        if ceiling is not None and lengthened.due_at > ceiling.due_at:
            raise InvalidInput(_("延长后的审查期限将超过立案之日起三十日的法定审结期限。"))
        application.extension_days = CONFIRMATION_EXTENSION_DAYS
        application.extension_reason = reason
        application.extension_approved_at = timezone.now()
        application.extension_approved_by = president
        application.save(update_fields=[
            "extension_days", "extension_reason", "extension_approved_at", "extension_approved_by"])
        audit_append(
            kind="confirmation.extension_approved", actor=president, case=case,
            data={"days": CONFIRMATION_EXTENSION_DAYS, "reason": reason, "due_at": lengthened.due_at.isoformat(),
                  "rule": "JC-2011 5; CPL 187"},
        )
    return application


def confirmation_ruling_served(*, case: Case, actor: User | None) -> ConfirmationApplication:
    """The confirmation ruling was served on the parties: their 15-day objection window opens (Interp 372).
    The court's clerk records it (or the platform's e-service, ``actor=None``)."""
    if actor is not None and tr.CLERK not in case_roles(actor, case):
        raise PermissionDenied(_("只有本院立案/诉讼服务人员可以登记裁定送达。"))
    with transaction.atomic():
        case, application = _locked(case)
        _require_status(case, S.JC_CONFIRMED, _("只有已裁定确认有效的申请需要登记裁定送达。"))
        case = _transition(case=case, to=S.OBJECTION_WINDOW, actor=actor)
        application.ruling_served_at = timezone.now()
        application.save(update_fields=["ruling_served_at"])
    return application
