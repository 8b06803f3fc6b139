"""Creating cases and moving them through the state machine."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mediation import lifecycle, signals
from mediation import transitions as tr
from mediation.choices import (
    CaseOrigin,
    CaseStatus,
    EndReason,
    MediatorStatus,
    OtherMeansClosure,
    Procedure,
    ReturnReason,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import Case, CaseMediator, Organisation, User
from mediation.permissions import can_take_transition
from mediation.services.audit import audit_append
from mediation.services.mediator_load import mediator_load_refresh
from mediation.services.obligations import obligations_schedule
from mediation.services.room_events import room_members_release
from mediation.services.session_notices import sessions_cancel_for_case
from mediation.services.timers import timers_sync_for_status
from mediation.signals import send_on_commit
from mediation.validators import validate_first_instance_civil_number

logger = logging.getLogger(__name__)


def case_create(
    *,
    actor: User | None,
    origin: str,
    court: Organisation,
    dispute_type: str,
    title: str,
    summary: str = "",
    claims: str = "",
    amount: Any = None,
    mediation_organisation: Organisation | None = None,
    one_sided: bool = False,
    procedure: str = "",
    court_case_number: str = "",
    referral_number: str = "",
) -> Case:
    """Create a case in DRAFT. Court case numbers are typed in from the court's system, never generated."""
    if not court.is_court:
        raise InvalidInput(_("管辖法院必须是人民法院。"))
    if origin == CaseOrigin.ENTRUSTED and not court_case_number.strip():
        raise InvalidInput(_("诉中委托调解须录入法院案号。"))
    if origin == CaseOrigin.COURT_FILED:
        # §A12 art. 2: the lawsuit is filed first; its 民初 number comes from the court's system.
        try:
            validate_first_instance_civil_number(court_case_number.strip())
        except ValidationError as exc:
            raise InvalidInput(exc.messages[0]) from exc
        if procedure not in (Procedure.ORDINARY, Procedure.SIMPLE):
            raise InvalidInput(_("立案后委托调解须选择审理程序（普通程序或简易程序），它决定调解期限（15日或7日）。"))
    with transaction.atomic():
        case = Case.objects.create(
            reference=f"tmp-{uuid.uuid4().hex[:24]}",
            origin=origin, court=court, dispute_type=dispute_type, title=title, summary=summary, claims=claims,
            amount=amount, mediation_organisation=mediation_organisation, one_sided=one_sided,
            procedure=procedure, court_case_number=court_case_number.strip(),
            referral_number=referral_number.strip(), created_by=actor, status_changed_at=timezone.now(),
        )
        case.reference = f"YZ{timezone.localdate():%Y}{case.pk:07d}"
        Case.objects.filter(pk=case.pk).update(reference=case.reference)
        audit_append(
            kind="case.created", actor=actor, case=case,
            data={"origin": origin, "court": court.pk, "dispute_type": dispute_type, "title": title},
        )
    return case


def case_mediator_assign(*, case: Case, mediator: User, actor: User | None, presiding: bool = True) -> Case:
    """Assign a mediator and move the case to ASSIGNED (OMR 10-12). The chosen mediator must be on the
    roster and active; matching and recommendation live in the roster services."""
    profile = getattr(mediator, "mediator_profile", None)
    if profile is None or profile.status != MediatorStatus.ACTIVE:
        raise InvalidInput(_("所选人员不是在册的调解员。"))
    with transaction.atomic():
        # The compare-and-set first: a concurrent assignment loses with StaleState before touching rows.
        case = case_transition(case=case, to=CaseStatus.ASSIGNED, actor=actor)
        replaced: list[int] = []
        if presiding:
            replaced = list(CaseMediator.objects.filter(case=case, is_active=True, presiding=True)
                            .values_list("mediator_id", flat=True))
            CaseMediator.objects.filter(case=case, is_active=True, presiding=True).update(
                is_active=False, ended_at=timezone.now()
            )
        CaseMediator.objects.create(case=case, mediator=mediator, presiding=presiding)
        mediator_load_refresh([mediator.pk, *replaced])
        audit_append(
            kind="case.mediator_designated", actor=actor, case=case,
            data={"mediator": mediator.pk, "mediator_name": mediator.display_name, "presiding": presiding},
        )
    return case


def case_transition(
    *,
    case: Case,
    to: str,
    actor: User | None,
    reason: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    action: str | None = None,
    via: str = "",
) -> Case:
    """Move ``case`` to status ``to``: the only writer of ``Case.status``.

    Checks the transition table and the actor's case role, then updates with a compare-and-set on the
    status the caller saw, so of two concurrent transitions exactly one wins. Appends the audit event,
    syncs the legal clocks and cancels what the new status cancels in the same transaction; after commit
    it announces ``signals.case_status_changed`` (realtime broadcasts, documents render).
    ``actor=None`` is the platform itself (timer sweeps). ``reason`` is a reason code where the row has
    a fixed list (OMR 25, OMR 9); ``note`` is the written reason where the row needs one. ``action`` names
    the row when the caller means an explicit one (see ``Transition.explicit``); ``via`` names the service that
    calls, for the rows only that service takes (``Transition.via``).
    """
    expected = case.status
    rows = tr.find_transitions(source=expected, target=to, origin=case.origin, action=action)
    if not rows:
        raise TransitionNotAllowed(
            _("案件当前状态为“%(from)s”，不能变更为“%(to)s”。")
            % {"from": CaseStatus(expected).label, "to": _label(to)}
        )
    row = next((r for r in rows if can_take_transition(actor, case, r)), None)
    if row is None:
        raise PermissionDenied(_("您无权对本案执行此操作。"))
    if row.via and row.via != via:
        raise TransitionNotAllowed(
            _("“%(to)s”须在%(place)s办理，不能直接变更案件状态。") % {"to": _label(to), "place": tr.VIA_PLACES[row.via]}
        )
    if row.reasons is not None and reason not in row.reasons:
        allowed = pgettext("list separator", "、").join(_reason_label(code) for code in sorted(row.reasons))
        raise InvalidInput(_("请选择事由：%(allowed)s。") % {"allowed": allowed})
    if row.reasons is None and reason:
        raise InvalidInput(_("此操作不需要事由代码。"))
    if row.needs_note and not note.strip():
        raise InvalidInput(_("此操作须写明理由。"))

    now = timezone.now()
    fields: dict[str, Any] = {"status": to, "status_changed_at": now, "updated_at": now}
    if reason and reason in EndReason.values:
        fields["end_reason"] = reason
    if reason and reason in ReturnReason.values:
        fields["return_reason"] = reason
    if to == CaseStatus.AGREEMENT_EFFECTIVE:
        fields["agreement_effective_at"] = _effective_at(case, (data or {}).get("effective_at"), now)

    with transaction.atomic():
        updated = Case.objects.filter(pk=case.pk, status=expected).update(**fields)
        if updated != 1:
            raise StaleState(_("案件状态已被他人更新，请刷新后重试。"))
        for name, value in fields.items():
            setattr(case, name, value)
        audit_append(
            kind=row.audit_kind, actor=actor, case=case,
            data={"from": expected, "to": to, "reason": reason, "note": note, "rule": row.source_rule, **(data or {})},
        )
        # The active mediators' figures (load, outcomes) follow the status and any release: kept here, once.
        active = CaseMediator.objects.filter(case=case, is_active=True)
        mediator_ids = list(active.values_list("mediator_id", flat=True))
        if row.releases_mediators:
            active.update(is_active=False, ended_at=now)
            room_members_release(case=case, user_ids=mediator_ids)
        mediator_load_refresh(mediator_ids)
        # What the status means in this transaction (mediation.lifecycle): its clocks, and what it cancels.
        timers_sync_for_status(case=case, old_status=expected, new_status=to, at=now, actor=actor)
        if to == CaseStatus.AGREEMENT_EFFECTIVE:
            # The agreement's clauses become the schedule of obligations it is performed against (PML 31).
            obligations_schedule(case=case, actor=actor)
        if lifecycle.cancels_sessions(to):
            reason_text = _("案件已变更为“%(s)s”") % {"s": _label(to)}
            sessions_cancel_for_case(case=case, reason=reason_text, actor=actor)
        send_on_commit(signals.case_status_changed, case_id=case.pk, old=expected, new=to,
                       actor_id=actor.pk if actor is not None else None)
    return case


def _effective_at(case: Case, value: object, now: dt.datetime) -> dt.datetime:
    """When the agreement took effect: the last required signature, never in the future nor before signing
    began. It starts the 30-day confirmation window, so a wrong value would move a legal deadline."""
    if value is None:
        return now
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise InvalidInput(_("协议生效时间必须是带时区的时间。"))
    if value > now or (case.status_changed_at is not None and value < case.status_changed_at):
        raise InvalidInput(_("协议生效时间必须在签署开始之后、当前时间之前。"))
    return value


def _label(status: str) -> str:
    try:
        return str(CaseStatus(status).label)
    except ValueError:
        return status


def _reason_label(code: str) -> str:
    for enum in (EndReason, ReturnReason, OtherMeansClosure):
        if code in enum.values:
            return str(enum(code).label)
    return code
