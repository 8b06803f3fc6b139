"""Court-filed mediation under the 2025 rules (legal-rules §A12, §B13): the court files the lawsuit (民初
number), each party consents on their own phone, the mediator signs for the materials the court transfers
(which starts the 15- or 7-day clock), one 30-day extension with both parties' consent, and the outcomes the
court records: closure "by other means" (withdrawal or immediate performance), a 民事调解书 on a party's
request, or failure → fee notice → trial (or deemed withdrawal). The fee notice is a document and is issued
and served by ``documents.services.fee_notice``; the clocks are ``lifecycle.TIMER_RULES`` (COURT_FILED_PERIOD,
FILING_FEE).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mediation import signals
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, Channel, ConsentKind, TimerKind, TimerStatus
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.lifecycle import COURT_FILED_CONSENT_STATUSES
from mediation.models import Agreement, Case, Consent, NoticeText, Party, ServiceRecord, Timer, User
from mediation.notices import COURT_ENTRUSTMENT_CONSENT, COURT_FILED_EXTENSION_CONSENT, StandardText
from mediation.permissions import case_roles, may_take_action
from mediation.selectors.court_filed import MEDIATION_DOCUMENT_TITLE, mediation_document_sign_for
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.consents import consent_all_parties_granted, consent_record, notice_text_publish
from mediation.services.timers import timer_extend

S = CaseStatus
RULE_2025 = "《最高人民法院关于严格依法规范民事案件立案与调解工作的意见》"


def _require_court_filed(case: Case) -> None:
    if case.origin != CaseOrigin.COURT_FILED:
        raise InvalidInput(_("本案不是立案后委托调解案件，不适用此操作。"))


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("court").get(pk=case.pk)


def standard_text(text: StandardText, shown_id: int | None = None) -> NoticeText:
    """The current version of ``text``; if the person answered an older version they saw, they must read
    the new one first (the consent records the exact version shown, §B5)."""
    current = notice_text_publish(code=text.code, title=text.title, body=text.body, actor=None)
    if shown_id is not None and shown_id != current.pk:
        raise InvalidInput(_("《%(title)s》已更新，请重新阅读后再作答。") % {"title": current.title})
    return current


def _names(parties: list[Party]) -> str:
    return pgettext("list separator", "、").join(party.name for party in parties)


def parties_without_consent(*, case: Case, kind: str, given_after: object = None) -> list[Party]:
    """The parties whose latest answer to ``kind`` is not a live grant (for refusal messages and pages)."""
    missing = []
    for party in case.parties.order_by("role", "pk"):
        answers = Consent.objects.filter(case=case, party=party, kind=kind)
        if given_after is not None:
            answers = answers.filter(given_at__gte=given_after)
        latest = answers.order_by("-given_at", "-pk").first()
        if latest is None or not latest.granted or latest.withdrawn_at is not None:
            missing.append(party)
    return missing


# --- The parties' consent to entrustment (§A12 art. 2) ------------------------------------------------------


def court_filed_consent_record(
    *, case: Case, party: Party, actor: User, granted: bool, shown_id: int | None = None,
    channel: str = Channel.WEB, ip_address: str | None = None,
) -> Consent:
    """A party (in person or through an agent) answers whether the court may entrust the filed suit to
    mediation, against the version of the text shown. Only before the mediator signs for the materials;
    nobody records another party's answer (``consent_record`` refuses)."""
    _require_court_filed(case)
    if case.status not in COURT_FILED_CONSENT_STATUSES:
        raise StaleState(
            _("案件当前状态为“%(status)s”，调解员已签收移送材料或调解已结束，无需再作答。")
            % {"status": CaseStatus(case.status).label}
        )
    text = standard_text(COURT_ENTRUSTMENT_CONSENT, shown_id)
    return consent_record(
        case=case, party=party, actor=actor, kind=ConsentKind.COURT_ENTRUSTMENT, granted=granted, text=text,
        channel=channel, ip_address=ip_address,
    )


# --- The mediator signs for the materials: the clock starts (§A12 art. 3) -----------------------------------


def court_filed_materials_receive(*, case: Case, actor: User, note: str = "") -> Case:
    """The case's mediator signs for the materials the court transferred. Every party must have consented
    (§A12 art. 2); the 15-day (ordinary) or 7-day (summary) period starts from this act (art. 3)."""
    with transaction.atomic():
        locked = _lock(case)
        _require_court_filed(locked)
        if not may_take_action(actor, locked, "receive_materials"):
            raise PermissionDenied(_("只有本案调解员本人可以签收人民法院移送的材料。"))
        if locked.status != S.ACCEPTED:
            raise StaleState(
                _("案件当前状态为“%(status)s”：调解员确认接受后、调解开始前才能签收移送材料。")
                % {"status": CaseStatus(locked.status).label}
            )
        if not consent_all_parties_granted(case=locked, kind=ConsentKind.COURT_ENTRUSTMENT):
            missing = parties_without_consent(case=locked, kind=ConsentKind.COURT_ENTRUSTMENT)
            raise InvalidInput(
                _("委托调解须经当事人同意（%(rule)s第二条）：尚缺 %(names)s 的同意记录，"
                  "请其在手机上作出同意后再签收材料。")
                % {"rule": RULE_2025, "names": _names(missing)}
            )
        consents = list(
            Consent.objects.filter(case=locked, kind=ConsentKind.COURT_ENTRUSTMENT, granted=True)
            .order_by("pk").values_list("pk", flat=True)
        )
        return case_transition(
            case=locked, to=S.SCHEDULING, actor=actor, action="receive_materials",
            data={"materials_received_by": actor.display_name, "note": note.strip()[:500], "consents": consents},
        )


def court_filed_period(case: Case) -> Timer | None:
    """The case's latest 15/7-day clock, open or not."""
    return Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD).order_by("-pk").first()


# --- The single 30-day extension (§A12 art. 3) --------------------------------------------------------------


def court_filed_extension_consent_record(
    *, case: Case, party: Party, actor: User, granted: bool, shown_id: int | None = None,
    channel: str = Channel.WEB, ip_address: str | None = None,
) -> Consent:
    """A party's answer to the 30-day extension, while the period runs."""
    _require_court_filed(case)
    timer = court_filed_period(case)
    if timer is None or timer.status not in (TimerStatus.RUNNING, TimerStatus.PAUSED):
        raise StaleState(_("本案委托调解期限不在计时中，无需同意延长。"))
    text = standard_text(COURT_FILED_EXTENSION_CONSENT, shown_id)
    return consent_record(
        case=case, party=party, actor=actor, kind=ConsentKind.EXTENSION, granted=granted, text=text,
        channel=channel, ip_address=ip_address,
    )


def court_filed_extend(*, case: Case, actor: User) -> Timer:
    """The mediator extends the period once by 30 days, with both parties' consent recorded since the period
    began; the extension does not count against the trial period. A second extension is refused
    (``TimerRule.max_extensions``), and so is one without every consent (``timer_extend``)."""
    _require_court_filed(case)
    if tr.MEDIATOR not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案调解员可以延长调解期限。"))
    timer = court_filed_period(case)
    if timer is None or timer.status not in (TimerStatus.RUNNING, TimerStatus.PAUSED):
        raise StaleState(_("本案委托调解期限不在计时中，不能延长。"))
    return timer_extend(
        timer=timer, days=30, actor=actor, note=_("经双方当事人同意延长三十日，延长的期限不计入审理期限。")
    )


# --- Outcomes the court records (§A12 arts. 4-6) ------------------------------------------------------------


def court_filed_close_other_means(*, case: Case, actor: User, reason: str, note: str = "") -> Case:
    """The court (clerk or judge) records the plaintiff's withdrawal or the immediate performance and closes
    the case "by other means" (§A12 art. 4)."""
    _require_court_filed(case)
    with transaction.atomic():
        locked = _lock(case)
        if not may_take_action(actor, locked, "close_other_means"):
            raise PermissionDenied(_("只有本案管辖法院的法官或书记员可以以其他方式结案。"))
        return case_transition(case=locked, to=S.CLOSED_OTHER_MEANS, actor=actor, reason=reason,
                               note=note.strip()[:500])


def mediation_document_request(*, case: Case, actor: User) -> Case:
    """A party (in person, or an agent with special authority) expressly asks for a legal document: the
    effective agreement goes to the judge, who drafts, signs and serves the 民事调解书 (§A12 art. 4; §C5).
    The court's judges are told through ``signals.mediation_document_requested``; a judge prepares, signs and
    serves the document (``documents.services.mediation_document``)."""
    _require_court_filed(case)
    with transaction.atomic():
        locked = _lock(case)
        if not may_take_action(actor, locked, "request_mediation_document"):
            raise PermissionDenied(_("只有本案当事人本人或经特别授权的代理人可以申请出具民事调解书。"))
        agreement = Agreement.objects.filter(case=locked).order_by("-version", "-pk").first()
        locked = case_transition(
            case=locked, to=S.MEDIATION_DOCUMENT_REQUESTED, actor=actor,
            data={"agreement": agreement.pk if agreement is not None else None},
        )
        signals.send_on_commit(
            signals.mediation_document_requested, case_id=locked.pk,
            agreement_id=agreement.pk if agreement is not None else None, actor_id=actor.pk,
        )
    return locked


def court_filed_fee_paid(*, case: Case, actor: User, note: str = "") -> Case:
    """The court records the filing fee as paid: the case goes back to the judge for trial (§A12 arts. 5-6)."""
    _require_court_filed(case)
    with transaction.atomic():
        locked = _lock(case)
        if not may_take_action(actor, locked, "fee_paid"):
            raise PermissionDenied(_("只有本案管辖法院的法官或书记员可以登记案件受理费已交纳。"))
        return case_transition(case=locked, to=S.RESUME_TRIAL, actor=actor, note=note.strip()[:500],
                               data={"fee_paid": True})


# --- The 民事调解书 takes effect on sign-for (CPL 100; Interp 149) ---------------------------------------------


def mediation_document_signed_for(*, record: ServiceRecord) -> Case | None:
    """Called when a party signed for a served 民事调解书 (``services.service``: its service is effective only on
    the recipient's explicit sign-for, Interp 133, 149). When every party of the case has signed for the same
    sealed document, it takes effect at the last sign-for (CPL 100 para 3): the case moves on to performance
    tracking through the ``system`` row (its obligations were scheduled when the agreement took effect), and
    ``signals.mediation_document_effective`` lets the documents app mark the document effective. Returns the case
    when it moved, else None."""
    with transaction.atomic():
        case = _lock(record.case)
        if (case.origin != CaseOrigin.COURT_FILED or case.status != S.MEDIATION_DOCUMENT_REQUESTED
                or MEDIATION_DOCUMENT_TITLE not in record.document_title):
            return None
        rows = mediation_document_sign_for(case=case, sha256=record.document_sha256)
        if not rows or any(row.signed_for_at is None for row in rows):
            return None
        by_party = {row.party.pk: row.record for row in rows}
        signed_for = {row.party.pk: row.signed_for_at for row in rows if row.signed_for_at is not None}
        effective_at = max(signed_for.values())
        audit_append(
            kind="mediation_document.effective", actor=None, case=case,
            data={"sha256": record.document_sha256, "number": record.document_number, "court": case.court.name,
                  "effective_at": effective_at, "rule": "CPL 100; Interp 149",
                  "served_at": min(r.created_at for r in by_party.values() if r is not None),
                  "signed_for": {str(pk): at for pk, at in signed_for.items()},
                  "records": [r.pk for r in by_party.values() if r is not None]},
        )
        case = case_transition(
            case=case, to=S.PERFORMANCE_TRACKING, actor=None, action="mediation_document_effective",
            data={"sha256": record.document_sha256, "number": record.document_number,
                  "effective_at": effective_at},
        )
        signals.send_on_commit(signals.mediation_document_effective, case_id=case.pk,
                               sha256=record.document_sha256, effective_at=effective_at)
    return case
