"""Complaints against a mediator to the inviting court, and the court's decision (OMR 29; SIM 28).

A verified complaint may end in a warning, a circular, a suspension or removal from the roster; the
last two take the mediator out of the directory and the recommendations at once.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import ComplaintGround, ComplaintOutcome, ComplaintStatus, MediatorStatus
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import Case, CaseMediator, Complaint, MediatorProfile, Membership, Organisation, RosterEntry, User
from mediation.permissions import case_roles
from mediation.selectors.roster import COMPLAINT_STAFF_ROLES
from mediation.services.audit import audit_append
from mediation.services.roster import org_stream

DESCRIPTION_MAX = 5000


def _inviting_court(mediator: MediatorProfile) -> Organisation:
    """The court a complaint goes to without a case: the court that first listed the mediator itself,
    else the first court that adopted them."""
    entry = (
        RosterEntry.objects.filter(mediator=mediator, court__kind="court")
        .select_related("court")
        .order_by("-is_active", "adopted_from_id", "added_at", "pk")
        .first()
    )
    if entry is None:
        raise InvalidInput(_("该调解员不在任何人民法院的名册中，请向其所在调解组织反映。"))
    return entry.court


def complaint_file(
    *,
    mediator: MediatorProfile,
    complainant: User | None,
    ground: str,
    description: str,
    case: Case | None = None,
) -> Complaint:
    """File a complaint (OMR 29). About a case: only one of its parties (or their agents) may, and only
    about a mediator who mediated it; the court is the case's court. Otherwise any signed-in user may,
    to the mediator's inviting court."""
    if complainant is None or not complainant.is_authenticated or not complainant.is_active:
        raise PermissionDenied(_("请先登录后再投诉。"))
    if ground not in ComplaintGround.values:
        raise InvalidInput(_("请选择投诉事由。"))
    description = description.strip()
    if not description:
        raise InvalidInput(_("请写明具体情况。"))
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(_("具体情况请控制在 %(max)d 字以内。") % {"max": DESCRIPTION_MAX})
    if case is not None:
        if tr.PARTY not in case_roles(complainant, case):
            raise PermissionDenied(_("只有本案当事人或其代理人可以就本案投诉调解员。"))
        if not CaseMediator.objects.filter(case=case, mediator_id=mediator.user_id).exists():
            raise InvalidInput(_("该调解员没有参与本案的调解。"))
        court = case.court
    else:
        court = _inviting_court(mediator)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            mediator=mediator, court=court, case=case, complainant=complainant, ground=ground,
            description=description, filed_at=timezone.now(),
        )
        # On the court's stream, not the case's: the mediator and the other side read the case timeline.
        audit_append(
            kind="complaint.filed", actor=complainant, stream=org_stream(court),
            data={"complaint": complaint.pk, "mediator": mediator.pk, "ground": ground,
                  "case": case.pk if case is not None else None},
        )
    return complaint


def is_complaint_staff(user: User | None, court: Organisation) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return Membership.objects.filter(
        user=user, organisation=court, is_active=True, role__in=COMPLAINT_STAFF_ROLES
    ).exists()


def complaint_decide(
    *,
    complaint: Complaint,
    status: str,
    outcome: str,
    note: str,
    actor: User | None,
) -> Complaint:
    """Decide a complaint (OMR 29): only the complaint court's clerks, president or complaint handlers.
    A suspension suspends the mediator; a removal removes them and ends all their roster entries."""
    if actor is None or not is_complaint_staff(actor, complaint.court):
        raise PermissionDenied(_("只有受理投诉的法院的投诉处理人员可以作出处理决定。"))
    if status not in (ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED):
        raise InvalidInput(_("请选择“查证属实”或“查证不实”。"))
    if outcome not in ComplaintOutcome.values:
        raise InvalidInput(_("请选择处理结果。"))
    if status == ComplaintStatus.DISMISSED and outcome != ComplaintOutcome.NONE:
        raise InvalidInput(_("查证不实的投诉不能给予处理。"))
    if status == ComplaintStatus.UPHELD and outcome == ComplaintOutcome.NONE:
        raise InvalidInput(_("查证属实的投诉请选择处理结果（警告、通报、暂停调解资格或除名）。"))
    note = note.strip()
    if not note:
        raise InvalidInput(_("请写明处理意见。"))
    now = timezone.now()
    with transaction.atomic():
        updated = Complaint.objects.filter(pk=complaint.pk, status=ComplaintStatus.FILED).update(
            status=status, outcome=outcome, outcome_note=note, decided_by=actor, decided_at=now
        )
        if updated == 0:
            raise StaleState(_("该投诉已经处理，不能重复处理。"))
        complaint.refresh_from_db()
        stream = org_stream(complaint.court)
        audit_append(
            kind="complaint.decided", actor=actor, stream=stream,
            data={"complaint": complaint.pk, "mediator": complaint.mediator_id, "status": status,
                  "outcome": outcome},
        )
        profile = complaint.mediator
        if outcome == ComplaintOutcome.SUSPENSION:
            if MediatorProfile.objects.filter(pk=profile.pk, status=MediatorStatus.ACTIVE).update(
                status=MediatorStatus.SUSPENDED
            ):
                audit_append(
                    kind="mediator.suspended", actor=actor, stream=stream,
                    data={"mediator": profile.pk, "mediator_name": profile.user.display_name,
                          "reason": note, "complaint": complaint.pk},
                )
        elif outcome == ComplaintOutcome.REMOVAL:
            MediatorProfile.objects.filter(pk=profile.pk).update(status=MediatorStatus.REMOVED)
            ended = RosterEntry.objects.filter(mediator=profile, is_active=True).update(is_active=False)
            audit_append(
                kind="mediator.removed", actor=actor, stream=stream,
                data={"mediator": profile.pk, "mediator_name": profile.user.display_name,
                      "complaint": complaint.pk, "entries_ended": ended},
            )
    return complaint
