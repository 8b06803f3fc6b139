"""Who mediates a case: the parties' joint choice (OMR 10; SIM 12), the court's designation (OMR 10), the
mediator's acceptance or decline (OMR 12), disclosure of conflicts (OMR 13) and recusal (OMR 13-14; SIM 15).

Assignment itself goes through ``cases.case_mediator_assign`` and every status change through
``cases.case_transition``; this module adds the rules that decide whether and whom.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import (
    CaseStatus,
    ConsentKind,
    EndReason,
    RecusalDecision,
    Role,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import (
    Case,
    CaseMediator,
    Consent,
    Disclosure,
    MediatorChoice,
    Membership,
    NoticeText,
    Party,
    RecusalRequest,
    User,
)
from mediation.permissions import case_roles, may_take_action
from mediation.selectors.assignment import (
    current_choices,
    designation_waits_for_parties,
    mediator_eligibility_problem,
    parties_acting_for,
    selection_window,
)
from mediation.services.audit import audit_append
from mediation.services.cases import case_mediator_assign, case_transition
from mediation.services.consents import consent_record, notice_text_publish

S = CaseStatus

# The table's rows that end the mediator's assignment on a granted recusal, by status.
RECUSAL_ACTIONS: dict[str, str] = {
    S.ASSIGNED: "recuse_mediator",
    **dict.fromkeys((S.ACCEPTED, S.RESPONDENT_PENDING, S.SCHEDULING, S.IN_MEDIATION), "change_mediator"),
}
DISCLOSURE_TEXT_CODE = "omr13.disclosure"
DISCLOSURE_TEXT_TITLE = "调解员披露事项"


# --- Joint choice and designation (OMR 10) --------------------------------------------------------------


def _lock_case(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("court").get(pk=case.pk)


def _require_status(case: Case, status: CaseStatus, message: str) -> None:
    if case.status != status:
        raise TransitionNotAllowed(message % {"status": CaseStatus(case.status).label})


def mediator_choice_record(
    *, case: Case, party: Party, mediator: User | None, actor: User, defer_to_court: bool = False
) -> MediatorChoice:
    """Record ``party``'s pick in the joint choice of mediator (OMR 10; SIM 12): a mediator, or deferring to
    the court. A new pick replaces the party's earlier one. When every party's pick in this round names the
    same mediator, the platform assigns that mediator (the ``assign`` row as ``system``): no single party can
    assign alone (decisions D11).

    Only a party in person or an agent with special authority picks, only while the 2-working-day window
    runs; afterwards the court designates.
    """
    with transaction.atomic():
        case = _lock_case(case)
        _require_status(
            case, S.AWAITING_SELECTION, _("案件当前状态为“%(status)s”，不在选定调解员阶段，不能选择调解员。")
        )
        if party.case_id != case.pk:
            raise InvalidInput(_("当事人不属于本案。"))
        if party.pk not in {p.pk for p in parties_acting_for(case=case, user=actor, authorised=True)}:
            raise PermissionDenied(
                _("只有当事人本人或其特别授权代理人可以为该当事人选择调解员。")
            )
        window = selection_window(case)
        now = timezone.now()
        if window is None or window.due_at <= now:
            raise InvalidInput(
                _("当事人共同选择调解员的期限（2个工作日）已届满，将由人民法院指定调解员（《人民法院在线调解规则》第十条）。")
            )
        if defer_to_court:
            mediator = None
        elif mediator is None:
            raise InvalidInput(_("请选择一名调解员，或选择“交由法院指定”。"))
        else:
            problem = mediator_eligibility_problem(case=case, mediator=mediator)
            if problem:
                raise InvalidInput(problem)
        choice, _created = MediatorChoice.objects.update_or_create(
            case=case, party=party,
            defaults={"mediator": mediator, "chosen_by": actor, "chosen_at": now, "defer_to_court": defer_to_court},
        )
        audit_append(
            kind="mediator.chosen", actor=actor, case=case,
            data={
                "party": party.pk, "party_name": party.name, "defer_to_court": defer_to_court,
                "mediator": mediator.pk if mediator else None,
                "mediator_name": mediator.display_name if mediator else "",
            },
        )
        agreed = _jointly_chosen_mediator(case)
        if agreed is not None:
            audit_append(
                kind="mediator.jointly_chosen", actor=None, case=case,
                data={"mediator": agreed.pk, "mediator_name": agreed.display_name, "rule": "OMR 10"},
            )
            case_mediator_assign(case=case, mediator=agreed, actor=None)
    return choice


def _jointly_chosen_mediator(case: Case) -> User | None:
    """The mediator every party picked in this round, if they all picked the same one and none deferred."""
    parties = list(case.parties.all())
    choices = {choice.party_id: choice for choice in current_choices(case)}
    if len(parties) < 2 or any(party.pk not in choices for party in parties):
        return None
    picked = {choices[party.pk].mediator_id for party in parties}
    if len(picked) != 1 or None in picked:
        return None
    return choices[parties[0].pk].mediator


def mediator_designate(*, case: Case, mediator: User, actor: User) -> Case:
    """The court (a clerk of the case's court) or the case's mediation organisation (its admin) designates
    the mediator (OMR 10; SIM 12): when every party defers, once the 2-working-day window has passed, or
    at once for a one-sided application (see ``designation_waits_for_parties``). An organisation admin
    designates only the organisation's own mediators.
    """
    with transaction.atomic():
        case = _lock_case(case)
        roles = case_roles(actor, case)
        if not roles & {tr.CLERK, tr.ORG_ADMIN}:
            raise PermissionDenied(
                _("只有本案管辖法院的立案/诉讼服务人员或本案调解组织管理员可以指定调解员。")
            )
        _require_status(
            case, S.AWAITING_SELECTION, _("案件当前状态为“%(status)s”，不在选定调解员阶段，不能指定调解员。")
        )
        if tr.CLERK not in roles and not Membership.objects.filter(
            user=mediator, organisation=case.mediation_organisation, role=Role.MEDIATOR, is_active=True
        ).exists():
            raise InvalidInput(
                _("调解组织只能指定本组织的调解员：%(name)s 不是%(org)s的调解员。")
                % {"name": mediator.display_name, "org": case.mediation_organisation}
            )
        if designation_waits_for_parties(case):
            raise InvalidInput(
                _("当事人共同选择调解员的期限（2个工作日）尚未届满，且并非各方当事人均交由法院指定，"
                  "暂不能指定调解员（《人民法院在线调解规则》第十条）。")
            )
        problem = mediator_eligibility_problem(case=case, mediator=mediator)
        if problem:
            raise InvalidInput(problem)
        return case_mediator_assign(case=case, mediator=mediator, actor=actor)


# --- Acceptance, decline and disclosure (OMR 12-13) ---------------------------------------------------------


def _require_mediator(actor: User, case: Case, message: str) -> None:
    if tr.MEDIATOR not in case_roles(actor, case):
        raise PermissionDenied(message)


def disclosure_notice_body(disclosure: Disclosure) -> str:
    """The text each party reads before answering a disclosure: it names the case, the mediator and the
    statement, so the consent record points at exactly what was disclosed. Not translated: like the
    standard notices, the text of record is the Chinese one."""
    return (
        f"本案（{disclosure.case.reference}）调解员{disclosure.mediator.display_name}于"
        f"{timezone.localtime(disclosure.disclosed_at):%Y-%m-%d %H:%M}"
        "依照《人民法院在线调解规则》第十三条披露如下情况：\n"
        f"{disclosure.statement}\n"
        "您可以同意由该调解员继续调解，也可以不同意并申请其回避（《特邀调解规定》第十五条）。"
    )


def disclosure_notice(disclosure: Disclosure) -> NoticeText:
    """The published text of ``disclosure`` (published when the mediator disclosed)."""
    body = disclosure_notice_body(disclosure)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    text = NoticeText.objects.filter(code=DISCLOSURE_TEXT_CODE, sha256=digest).order_by("-version").first()
    if text is not None:
        return text
    return notice_text_publish(code=DISCLOSURE_TEXT_CODE, title=DISCLOSURE_TEXT_TITLE, body=body, actor=None)


def _disclose(*, case: Case, actor: User, statement: str, nothing_to_disclose: bool) -> Disclosure:
    statement = statement.strip()
    if nothing_to_disclose and statement:
        raise InvalidInput(_("请在“无应披露事项”和填写披露内容之间二选一。"))
    if not nothing_to_disclose and not statement:
        raise InvalidInput(
            _("请作出披露声明：确认无应披露事项，或写明与当事人、代理人或本纠纷的关系等应披露的情况"
              "（《人民法院在线调解规则》第十三条）。")
        )
    disclosure = Disclosure.objects.create(
        case=case, mediator=actor, statement=statement or _("无应披露事项"),
        nothing_to_disclose=nothing_to_disclose, disclosed_at=timezone.now(),
    )
    data: dict[str, object] = {
        "disclosure": disclosure.pk, "nothing_to_disclose": nothing_to_disclose, "statement": disclosure.statement,
    }
    if not nothing_to_disclose:
        text = notice_text_publish(
            code=DISCLOSURE_TEXT_CODE, title=DISCLOSURE_TEXT_TITLE, body=disclosure_notice_body(disclosure), actor=actor
        )
        data.update(text=text.code, version=text.version, text_sha256=text.sha256)
    audit_append(kind="mediator.disclosed", actor=actor, case=case, data=data)
    return disclosure


def mediator_accept(*, case: Case, actor: User, disclosure: str, nothing_to_disclose: bool) -> Case:
    """The assigned mediator accepts the case (OMR 12) after a disclosure statement (OMR 13): either
    "nothing to disclose" or what they disclose. A disclosure is published as a text the parties answer
    (``disclosure_answer``); a party who does not agree may ask for recusal."""
    with transaction.atomic():
        case = _lock_case(case)
        if not may_take_action(actor, case, "mediator_accept"):
            raise PermissionDenied(_("只有本案被指定的调解员本人可以确认接受。"))
        _require_status(case, S.ASSIGNED, _("案件当前状态为“%(status)s”，不是待调解员确认接受的阶段。"))
        _disclose(case=case, actor=actor, statement=disclosure, nothing_to_disclose=nothing_to_disclose)
        return case_transition(case=case, to=S.ACCEPTED, actor=actor)


def mediator_disclose(*, case: Case, actor: User, statement: str) -> Disclosure:
    """A disclosure after acceptance, during mediation (OMR 13: "before or during")."""
    with transaction.atomic():
        case = _lock_case(case)
        _require_mediator(actor, case, _("只有本案调解员可以作出披露。"))
        return _disclose(case=case, actor=actor, statement=statement, nothing_to_disclose=False)


def mediator_decline(*, case: Case, actor: User, reasons: str) -> Case:
    """The mediator (or the mediation organisation) declines with written reasons (OMR 12): outside its
    charter or specialty, or otherwise unsuitable. The case goes back for re-selection and the mediator
    loses access."""
    with transaction.atomic():
        case = _lock_case(case)
        # Checked by action, not by status pair: a clerk would match the lapse row of the same pair.
        if not may_take_action(actor, case, "mediator_decline"):
            raise PermissionDenied(_("只有本案被指定的调解员或本案调解组织管理员可以不予接受。"))
        _require_status(case, S.ASSIGNED, _("案件当前状态为“%(status)s”，不是待调解员确认接受的阶段。"))
        if not reasons.strip():
            raise InvalidInput(
                _("不予接受须书面写明理由，例如超出本组织章程或擅长领域（《人民法院在线调解规则》第十二条）。")
            )
        return case_transition(case=case, to=S.AWAITING_SELECTION, actor=actor, note=reasons.strip())


def disclosure_answer(*, disclosure: Disclosure, party: Party, actor: User, agree: bool) -> Consent:
    """A party's answer to a disclosure: agree that the mediator continues, or not (OMR 13). Recorded as a
    CONTINUE_AFTER_DISCLOSURE consent against the published text of the disclosure."""
    case = disclosure.case
    if disclosure.nothing_to_disclose:
        raise InvalidInput(_("调解员声明无应披露事项，无需答复。"))
    if not CaseMediator.objects.filter(case=case, mediator=disclosure.mediator, is_active=True).exists():
        raise InvalidInput(_("作出该披露的调解员已不再承办本案，无需答复。"))
    if party.pk not in {p.pk for p in parties_acting_for(case=case, user=actor)}:
        raise PermissionDenied(_("只有当事人本人或其代理人可以答复调解员的披露。"))
    with transaction.atomic():
        return consent_record(
            case=case, party=party, actor=actor, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE, granted=agree,
            text=disclosure_notice(disclosure),
        )


# --- Recusal (OMR 13-14; SIM 15) ---------------------------------------------------------------------------


def recusal_request(*, case: Case, party: Party, actor: User, grounds: str) -> RecusalRequest:
    """A party asks that the presiding mediator step aside. The organisation or the court decides."""
    with transaction.atomic():
        case = _lock_case(case)
        if party.case_id != case.pk:
            raise InvalidInput(_("当事人不属于本案。"))
        if party.pk not in {p.pk for p in parties_acting_for(case=case, user=actor)}:
            raise PermissionDenied(_("只有当事人本人或其代理人可以申请调解员回避。"))
        if not grounds.strip():
            raise InvalidInput(_("请写明申请回避的理由，例如调解员与当事人有利害关系。"))
        assignment = CaseMediator.objects.filter(case=case, is_active=True, presiding=True).select_related(
            "mediator"
        ).first()
        if assignment is None:
            raise InvalidInput(_("本案目前没有承办调解员，无需申请回避。"))
        if RecusalRequest.objects.filter(
            case=case, party=party, mediator=assignment.mediator, decision=RecusalDecision.PENDING
        ).exists():
            raise InvalidInput(_("该当事人对这名调解员的回避申请尚待决定，请勿重复提交。"))
        request = RecusalRequest.objects.create(
            case=case, party=party, mediator=assignment.mediator, requested_by=actor, grounds=grounds.strip(),
            requested_at=timezone.now(),
        )
        audit_append(
            kind="recusal.requested", actor=actor, case=case,
            data={"request": request.pk, "party": party.pk, "mediator": assignment.mediator_id,
                  "mediator_name": assignment.mediator.display_name, "grounds": request.grounds},
        )
    return request


def recusal_decide(*, request: RecusalRequest, grant: bool, note: str, actor: User) -> RecusalRequest:
    """The case's mediation organisation (its admin) or court (a clerk) decides a recusal request (SIM 15).

    Granted: the mediator's assignment ends and the case returns to selection through the table's
    ``recuse_mediator`` row (before acceptance) or ``change_mediator`` row (after it). In any other status a
    grant is refused with a message and nothing is recorded.
    """
    with transaction.atomic():
        case = _lock_case(request.case)
        request = RecusalRequest.objects.select_for_update().get(pk=request.pk)
        if not case_roles(actor, case) & {tr.CLERK, tr.ORG_ADMIN}:
            raise PermissionDenied(
                _("回避申请由调解组织或人民法院决定：只有本案调解组织管理员或管辖法院立案/诉讼服务人员可以作出决定。")
            )
        if request.decision != RecusalDecision.PENDING:
            raise StaleState(_("该回避申请已经作出决定。"))
        if not note.strip():
            raise InvalidInput(_("请写明决定理由。"))
        still_assigned = CaseMediator.objects.filter(case=case, mediator=request.mediator, is_active=True).exists()
        if grant and still_assigned:
            if case.status not in RECUSAL_ACTIONS:
                raise InvalidInput(
                    _("案件当前状态为“%(status)s”，此时不能因回避更换调解员。")
                    % {"status": CaseStatus(case.status).label}
                )
            case_transition(
                case=case, to=S.AWAITING_SELECTION, actor=actor, action=RECUSAL_ACTIONS[case.status],
                note=_("准予回避：%(note)s") % {"note": note.strip()}, data={"recusal": request.pk},
            )
        request.decision = RecusalDecision.GRANTED if grant else RecusalDecision.REFUSED
        request.decision_note = note.strip()
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.save(update_fields=["decision", "decision_note", "decided_by", "decided_at"])
        audit_append(
            kind="recusal.decided", actor=actor, case=case,
            data={"request": request.pk, "decision": request.decision, "note": request.decision_note,
                  "mediator": request.mediator_id, "mediator_released": grant and still_assigned},
        )
    return request


# --- A disclosure objected to (OMR 13), and objection after a change (OMR 14) -------------------------------------

# The audit kinds of a change of mediator: a party's change request, a granted recusal, an objection to a disclosure.
CHANGE_KINDS = ("case.change_mediator", "case.recuse_mediator", "case.disclosure_objection_change")
OBJECTION_OUTCOMES = ("change", "terminate")


def disclosure_objections(disclosure: Disclosure) -> list[Party]:
    """The parties whose latest answer to ``disclosure`` is "no" (OMR 13: mediation continues only with consent)."""
    text = disclosure_notice(disclosure)
    latest: dict[int, bool] = {}
    for consent in Consent.objects.filter(case=disclosure.case, kind=ConsentKind.CONTINUE_AFTER_DISCLOSURE,
                                          text=text).order_by("given_at", "pk"):
        if consent.party_id is not None:
            latest[consent.party_id] = consent.granted
    objecting = [pk for pk, granted in latest.items() if not granted]
    return list(Party.objects.filter(pk__in=objecting).order_by("role", "pk"))


def disclosure_objection_resolve(*, disclosure: Disclosure, actor: User, outcome: str, note: str) -> Case:
    """A party said no to the mediator continuing after ``disclosure`` (OMR 13): the disclosing mediator or the
    organisation's administrator (or the court's clerk, for a change) either changes the mediator (back to
    selection, the mediator released) or ends mediation (OMR 25(8)). Nothing else moves while an objection stands."""
    case = disclosure.case
    roles = case_roles(actor, case)
    allowed = {"change": {tr.MEDIATOR, tr.ORG_ADMIN, tr.CLERK}, "terminate": {tr.MEDIATOR, tr.ORG_ADMIN}}
    if outcome not in OBJECTION_OUTCOMES:
        raise InvalidInput(_("请选择更换调解员或终结调解。"))
    if not roles & allowed[outcome]:
        raise PermissionDenied(_("当事人对披露有异议时，由作出披露的调解员或调解组织管理员决定更换调解员或终结调解。"))
    if tr.MEDIATOR in roles and not roles & {tr.ORG_ADMIN, tr.CLERK} and actor.pk != disclosure.mediator_id:
        raise PermissionDenied(_("只有作出该披露的调解员本人可以处理对其披露的异议。"))
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("请写明处理理由。"))
    with transaction.atomic():
        case = _lock_case(case)
        if not CaseMediator.objects.filter(case=case, mediator=disclosure.mediator_id, is_active=True).exists():
            raise StaleState(_("作出该披露的调解员已不再承办本案。"))
        objecting = disclosure_objections(disclosure)
        if not objecting:
            raise InvalidInput(_("没有当事人对该披露表示不同意，无需处理。"))
        names = "、".join(p.name for p in objecting)
        data = {"disclosure": disclosure.pk, "objecting_parties": [p.pk for p in objecting]}
        if outcome == "change":
            return case_transition(
                case=case, to=S.AWAITING_SELECTION, actor=actor, action="disclosure_objection_change",
                note=_("%(names)s对调解员披露的事项不同意其继续调解，更换调解员：%(note)s")
                % {"names": names, "note": note},
                data=data,
            )
        return case_transition(
            case=case, to=S.TERMINATED, actor=actor, action="disclosure_objection_terminate", reason=EndReason.OTHER,
            note=_("%(names)s对调解员披露的事项不同意其继续调解，调解无法进行：%(note)s")
            % {"names": names, "note": note},
            data={**data, "failure_reasons": note},
        )


def mediator_change_refused(*, case: Case, party: Party, actor: User, note: str) -> Case:
    """OMR 14: ``party`` asked for (or obtained) a change of mediator and, after the change, still objects and
    will not choose: deemed a refusal of mediation, which ends it (OMR 25(4)). The court's clerk or the
    organisation's administrator records it; only after a change of mediator on record."""
    if not case_roles(actor, case) & {tr.CLERK, tr.ORG_ADMIN}:
        raise PermissionDenied(_("更换调解员后当事人仍有异议的，由管辖法院或调解组织认定为拒绝调解。"))
    if party.case_id != case.pk:
        raise InvalidInput(_("当事人不属于本案。"))
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("请写明当事人仍有异议、拒绝选择的情况。"))
    with transaction.atomic():
        case = _lock_case(case)
        if not case.audit_events.filter(kind__in=CHANGE_KINDS).exists():
            raise TransitionNotAllowed(
                _("本案尚未更换过调解员：当事人有异议的，应先申请更换调解员或回避（《人民法院在线调解规则》第十四条）。"))
        return case_transition(
            case=case, to=S.TERMINATED, actor=actor, action="deemed_refusal", reason=EndReason.REFUSED_TO_CONTINUE,
            note=_("%(name)s在更换调解员后仍有异议且拒绝选择，视为拒绝调解：%(note)s")
            % {"name": party.name, "note": note},
            data={"party": party.pk, "failure_reasons": note, "rule": "OMR 14"},
        )
