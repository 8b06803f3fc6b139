"""The respondent's willingness to mediate a one-sided application (OMR 15).

The mediator, having accepted, seeks the respondent (``respondent_seek``) and invites them by SMS
(``respondent_invite``) within 3 working days (the RESPONDENT_CONTACT clock). The respondent signs in with
the phone number the applicant gave, is linked to their party (``respondent_link``) and answers
(``respondent_answer``). A refusal, or the mediator recording that the respondent cannot be reached
(``respondent_unreachable``), terminates mediation (OMR 25), returns the materials to the court and tells
the applicant.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from mediation import calendar
from mediation import transitions as tr
from mediation.choices import CaseStatus, ConsentKind, EndReason, MessageChannel, PartyRole, TimerKind, TimerStatus
from mediation.exceptions import InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from mediation.models import (
    AuditEvent,
    Case,
    Consent,
    Evidence,
    IdentityVerification,
    NoticeText,
    OutboxMessage,
    Party,
    Timer,
    User,
)
from mediation.notices import ONLINE_MEDIATION_CONSENT, ONLINE_MEDIATION_NOTICE, StandardText
from mediation.permissions import case_roles
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.consents import consent_record, notice_acknowledge, notice_text_publish
from mediation.services.identity import phone_hash
from mediation.services.outbox import outbox_enqueue
from mediation.validators import mask_phone

S = CaseStatus


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("court").get(pk=case.pk)


def _require_pending(case: Case) -> None:
    if case.status != S.RESPONDENT_PENDING:
        raise TransitionNotAllowed(
            _("案件当前状态为“%(status)s”，不在征询被申请人调解意愿阶段。") % {"status": CaseStatus(case.status).label}
        )


def _require_mediator(actor: User, case: Case, message: str) -> None:
    if tr.MEDIATOR not in case_roles(actor, case):
        raise PermissionDenied(message)


def respondent_parties(case: Case) -> list[Party]:
    return list(case.parties.filter(role=PartyRole.RESPONDENT).order_by("pk"))


def publish_standard(text: StandardText) -> NoticeText:
    """The current published version of a standard text (publishing it if it changed)."""
    return notice_text_publish(code=text.code, title=text.title, body=text.body, actor=None)


def respond_url(case: Case) -> str:
    """The absolute address of the respondent's page, in the default language (an SMS has no session)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("case_respond", args=[case.pk])
    return (settings.SITE_URL or "").rstrip("/") + path


def contact_clock(case: Case) -> Timer | None:
    """The open 3-working-day clock for reaching the respondent (OMR 15)."""
    return (
        Timer.objects.filter(
            case=case, kind=TimerKind.RESPONDENT_CONTACT, status__in=[TimerStatus.RUNNING, TimerStatus.PAUSED]
        )
        .order_by("-pk")
        .first()
    )


# --- The mediator's side ------------------------------------------------------------------------------------


def respondent_seek(*, case: Case, actor: User) -> Case:
    """After accepting a one-sided application, the mediator starts seeking the respondent's willingness."""
    with transaction.atomic():
        case = _lock_case(case)
        _require_mediator(actor, case, _("只有本案调解员可以征询被申请人的调解意愿。"))
        if not case.one_sided:
            raise InvalidInput(_("本案由双方当事人共同申请，无需另行征询被申请人的调解意愿。"))
        return case_transition(case=case, to=S.RESPONDENT_PENDING, actor=actor)


def respondent_invite(*, case: Case, actor: User) -> list[OutboxMessage]:
    """Invite the respondent(s) by SMS to say whether they are willing to mediate, with a link to the
    respond page. May be repeated: each invitation is a new outbox message and a new ``respondent.invited``
    event. Returns the outbox rows.

    The messages are written to the outbox in the same transaction as the events, so a rolled-back
    invitation sends nothing and a gateway outage is retried by the outbox rather than lost.
    """
    with transaction.atomic():
        case = _lock_case(case)
        _require_mediator(actor, case, _("只有本案调解员可以通知被申请人。"))
        _require_pending(case)
        recipients = [party for party in respondent_parties(case) if party.phone]
        if not recipients:
            raise InvalidInput(_("被申请人没有登记手机号码：请通过其他方式联系，或记录无法联系被申请人。"))
        applicants = "、".join(p.name for p in case.parties.filter(role=PartyRole.APPLICANT).order_by("pk"))
        clock = contact_clock(case)
        due = _("%(date)s前") % {"date": calendar.last_day(clock.due_at).isoformat()} if clock else ""
        url = respond_url(case)
        # Earlier invitations, counted under the case lock: each re-invitation gets a key of its own.
        earlier = AuditEvent.objects.filter(case=case, kind="respondent.invited").count()
        sent: list[OutboxMessage] = []
        for index, party in enumerate(recipients):
            text = _(
                "%(name)s您好：%(applicants)s向%(court)s申请与您就“%(title)s”进行在线调解（%(reference)s），"
                "调解员%(mediator)s邀请您参加。请%(due)s打开 %(url)s ，用本手机号登录后表明是否愿意调解。"
            ) % {
                "name": party.name, "applicants": applicants, "court": case.court.name, "title": case.title,
                "reference": case.reference, "mediator": actor.display_name, "due": due, "url": url,
            }
            message = outbox_enqueue(
                channel=MessageChannel.SMS, address=party.phone, template="generic",
                context={"subject": _("在线调解邀请"), "text": text},
                idempotency_key=f"respondent-invite:{case.pk}:{earlier + index}", case=case,
            )
            audit_append(
                kind="respondent.invited", actor=actor, case=case,
                data={"party": party.pk, "phone": mask_phone(party.phone), "outbox": message.pk, "url": url,
                      "rule": "OMR 15"},
            )
            sent.append(message)
    return sent


def respondent_unreachable(*, case: Case, actor: User, note: str) -> Case:
    """The mediator records that the respondent could not be reached (OMR 15): mediation ends (OMR 25(3)),
    the materials go back to the court and the applicant is told."""
    if not note.strip():
        raise InvalidInput(
            _("请写明联系被申请人的经过和无法联系的原因，例如拨打电话和发送短信的时间（《人民法院在线调解规则》第十五条）。")
        )
    with transaction.atomic():
        case = _lock_case(case)
        _require_mediator(actor, case, _("只有本案调解员可以记录无法联系被申请人。"))
        _require_pending(case)
        case = case_transition(case=case, to=S.TERMINATED, actor=actor, reason=EndReason.UNREACHABLE,
                               note=note.strip())
        _materials_returned(case=case, actor=actor, reason=EndReason.UNREACHABLE)
    return case


# --- The respondent's side ----------------------------------------------------------------------------------


def _phone_proven(user: User, phone: str) -> bool:
    """Whether ``user`` proved by a one-time code that ``phone`` is theirs: they signed in with it, or passed
    the real-name check with it (``mediation.services.identity``)."""
    if not phone or user.phone != phone:
        return False
    if IdentityVerification.objects.filter(user=user, phone=phone, succeeded=True).exists():
        return True
    # The full number's hash, not the masked one: an account whose number an administrator changed to
    # another with the same mask has proved nothing about the new number.
    return AuditEvent.objects.filter(
        stream=f"user.{user.pk}", kind="user.signed_in_by_phone", actor=user, data__phone_hash=phone_hash(phone)
    ).exists()


def phone_proven(user: User, phone: str) -> bool:
    """Public for the other SMS-link confirmations (an assisted filing's party, issue 18)."""
    return _phone_proven(user, phone)


def respondent_party_for(*, case: Case, user: User) -> Party | None:
    """The respondent party ``user`` may take up on ``case``: the case is seeking the respondent, the
    party has no account yet, and its phone is the one ``user`` proved theirs by a code."""
    if not user.is_authenticated or case.status != S.RESPONDENT_PENDING or not user.phone:
        return None
    party = case.parties.filter(role=PartyRole.RESPONDENT, user__isnull=True, phone=user.phone).order_by("pk").first()
    if party is None or not _phone_proven(user, party.phone):
        return None
    return party


def respondent_link(*, case: Case, actor: User) -> Party:
    """Link the signed-in ``actor`` to the respondent party whose phone they proved (see
    ``respondent_party_for``). Anyone else learns nothing about the case."""
    with transaction.atomic():
        case = _lock_case(case)
        party = respondent_party_for(case=case, user=actor)
        if party is None:
            raise NotFound(_("案件不存在或您无权查看。"))
        party = Party.objects.select_for_update().get(pk=party.pk)
        if party.user_id is not None:  # taken up meanwhile
            raise NotFound(_("案件不存在或您无权查看。"))
        party.user = actor
        party.save(update_fields=["user"])
        audit_append(
            kind="party.linked", actor=actor, case=case,
            data={"party": party.pk, "role": party.role, "user": actor.pk, "phone": mask_phone(party.phone),
                  "how": "phone_code"},
        )
    return party


def _current_text(text: StandardText, shown_id: int | None) -> NoticeText:
    current = publish_standard(text)
    if shown_id is not None and shown_id != current.pk:
        raise InvalidInput(_("《%(title)s》已更新，请重新阅读后再作答。") % {"title": current.title})
    return current


def respondent_answer(
    *,
    case: Case,
    actor: User,
    willing: bool,
    notice_text_id: int | None = None,
    consent_text_id: int | None = None,
    ip_address: str | None = None,
) -> Case:
    """The respondent (in person or by an agent) answers whether they are willing to mediate online, having
    been shown the OMR 7 notice. ``*_text_id`` are the versions the page showed; a newer one means re-read.

    Willing: the OMR 7 acknowledgement and the OMR 4 consent are recorded, and once every respondent is
    willing the case moves on to scheduling. Refusing: the refusal is recorded, mediation ends (OMR 15,
    25(4)), the materials go back to the court and the applicant is told by SMS.
    """
    with transaction.atomic():
        case = _lock_case(case)
        if tr.RESPONDENT not in case_roles(actor, case):
            raise PermissionDenied(_("只有被申请人本人或其代理人可以表明是否愿意调解。"))
        _require_pending(case)
        party = (
            Party.objects.filter(Q(user=actor) | Q(agents__user=actor), case=case, role=PartyRole.RESPONDENT)
            .order_by("pk")
            .first()
        )
        if party is None:  # pragma: no cover - the respondent role implies such a party
            raise PermissionDenied(_("只有被申请人本人或其代理人可以表明是否愿意调解。"))
        notice = _current_text(ONLINE_MEDIATION_NOTICE, notice_text_id)
        consent_text = _current_text(ONLINE_MEDIATION_CONSENT, consent_text_id)
        notice_acknowledge(case=case, actor=actor, text=notice)
        consent_record(
            case=case, party=party, actor=actor, kind=ConsentKind.ONLINE_MEDIATION, granted=willing,
            text=consent_text, ip_address=ip_address,
        )
        if not willing:
            case = case_transition(
                case=case, to=S.TERMINATED, actor=None, reason=EndReason.REFUSED_TO_CONTINUE,
                note=_("被申请人%(name)s明确表示不愿意调解。") % {"name": party.name},
            )
            _materials_returned(case=case, actor=actor, reason=EndReason.REFUSED_TO_CONTINUE)
        elif _all_respondents_willing(case):
            case = case_transition(case=case, to=S.SCHEDULING, actor=actor)
    return case


def _all_respondents_willing(case: Case) -> bool:
    """Every respondent's latest answer since the case began seeking them is a grant."""
    since = case.status_changed_at
    for party in respondent_parties(case):
        answers = Consent.objects.filter(case=case, party=party, kind=ConsentKind.ONLINE_MEDIATION)
        if since is not None:
            answers = answers.filter(given_at__gte=since)
        latest = answers.order_by("-given_at", "-pk").first()
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            return False
    return True


# --- Ending: materials back to the court, the applicant told ------------------------------------------------


def _materials_returned(*, case: Case, actor: User | None, reason: str) -> None:
    """Record that the materials go back to the court (OMR 15: "immediately") and tell the applicant by SMS
    through the outbox, in the caller's transaction: the message goes out once the termination commits,
    and a gateway failure is retried rather than lost."""
    evidence = list(Evidence.objects.filter(case=case).order_by("pk").values_list("pk", flat=True))
    audit_append(
        kind="materials.returned", actor=actor, case=case,
        data={"court": case.court_id, "court_name": case.court.name, "evidence": evidence, "reason": reason,
              "rule": "OMR 15"},
    )
    phones = [p.phone for p in case.parties.filter(role=PartyRole.APPLICANT).order_by("pk") if p.phone]
    why = (
        _("无法联系到被申请人") if reason == EndReason.UNREACHABLE else _("被申请人明确表示不愿意调解")
    )
    text = _(
        "您申请的在线调解（%(reference)s，“%(title)s”）因%(why)s，调解程序终结，申请材料已退回%(court)s。"
        "如需继续解决纠纷，可以依法向人民法院起诉。"
    ) % {"reference": case.reference, "title": case.title, "why": why, "court": case.court.name}
    for phone in dict.fromkeys(phones):
        outbox_enqueue(
            channel=MessageChannel.SMS, address=phone, template="generic",
            context={"subject": _("调解程序终结"), "text": text},
            idempotency_key=f"materials-returned:{case.pk}:{phone}", case=case,
        )
