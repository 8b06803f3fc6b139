"""Managing the mediator roster (OMR 5, 27-28; SIM 5-10; legal-rules §B12).

Each court keeps its own roster; higher courts may keep regional rosters and the Supreme People's Court
a national one (OMR 28). A lower court may adopt a mediator from a higher court's roster only with the
mediator's consent (OMR 27). Every change is audited on the court's stream ``org.<court id>``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation.choices import CourtLevel, MediatorStatus, RosterScope, Sector
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import AuditEvent, MediatorProfile, Membership, Organisation, RosterEntry, User
from mediation.selectors.roster import COURT_STAFF_ROLES, court_ancestor_ids
from mediation.services.audit import audit_append

# Which courts may keep which roster (OMR 28): regional rosters at high and intermediate courts, the
# national roster at the Supreme People's Court.
_SCOPE_LEVELS = {
    RosterScope.REGIONAL: {CourtLevel.HIGH, CourtLevel.INTERMEDIATE},
    RosterScope.NATIONAL: {CourtLevel.SUPREME},
}


def org_stream(court: Organisation) -> str:
    return f"org.{court.pk}"


def certificate_is_valid(profile: MediatorProfile, on: dt.date | None = None) -> bool:
    """Whether ``profile``'s certificate is valid on ``on`` (today by default). A profile with no expiry
    date recorded (a judge mediating, for one) counts as valid; an expired one drops out of the
    directory and the recommendations."""
    return profile.certificate_valid_on(on or timezone.localdate())


def is_court_roster_staff(user: User | None, court: Organisation) -> bool:
    """A clerk or president of ``court``, or a platform superuser: who may change its roster (OMR 27)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, organisation=court, is_active=True, role__in=COURT_STAFF_ROLES
    ).exists()


def _require_staff(actor: User | None, court: Organisation) -> User:
    if actor is None or not is_court_roster_staff(actor, court):
        raise PermissionDenied(_("只有%(court)s的立案人员或院长可以管理该院的调解员名册。") % {"court": court.name})
    return actor


def roster_entry_add(
    *,
    mediator: MediatorProfile,
    court: Organisation,
    scope: str,
    specialty: str = "",
    actor: User | None,
) -> RosterEntry:
    """Put ``mediator`` on ``court``'s roster of ``scope`` (OMR 27-28). A specialty roster names its field."""
    if not court.is_court:
        raise InvalidInput(_("名册只能由人民法院设立。"))
    actor = _require_staff(actor, court)
    if scope not in RosterScope.values:
        raise InvalidInput(_("请选择名册范围。"))
    levels = _SCOPE_LEVELS.get(RosterScope(scope))
    if levels is not None and court.court_level not in levels:
        raise InvalidInput(
            _("只有最高人民法院可以设立全国性名册。") if scope == RosterScope.NATIONAL
            else _("只有高级、中级人民法院可以设立区域性名册。")
        )
    specialty = specialty.strip()
    if scope == RosterScope.SPECIALTY and specialty not in Sector.values:
        raise InvalidInput(_("专业名册须选择专业领域。"))
    if scope != RosterScope.SPECIALTY and specialty:
        raise InvalidInput(_("只有专业名册需要填写专业领域。"))
    if mediator.status != MediatorStatus.ACTIVE:
        raise InvalidInput(
            _("该调解员当前状态为“%(status)s”，不能加入名册。") % {"status": mediator.get_status_display()}
        )
    ancestors = court_ancestor_ids(court)
    listed_above = (
        RosterEntry.objects.filter(
            mediator=mediator, court_id__in=ancestors, is_active=True,
            scope__in=(RosterScope.COURT, RosterScope.SPECIALTY),
        ).select_related("court").order_by("pk").first()
        if ancestors else None
    )
    if listed_above is not None:
        # A mediator a higher court already lists joins a lower court's roster only with their own consent
        # (OMR 27): adding them directly would skip it.
        raise InvalidInput(
            _("该调解员已在上级法院（%(court)s）的名册中，请通过“采用上级法院名册调解员”发起采用请求，"
              "经调解员本人同意后列入本院名册（《人民法院在线调解规则》第二十七条）。")
            % {"court": listed_above.court.name}
        )
    with transaction.atomic():
        entry = RosterEntry.objects.select_for_update().filter(mediator=mediator, court=court, scope=scope).first()
        if entry is not None and entry.is_active:
            raise InvalidInput(_("该调解员已在本院此名册中。"))
        if entry is not None and entry.adopted_from_id is not None:
            raise InvalidInput(_("该调解员在本院的名册条目来自上级法院名册的采用，请重新发起采用请求。"))
        if entry is None:
            entry = RosterEntry.objects.create(
                mediator=mediator, court=court, scope=scope, specialty=specialty, is_active=True
            )
        else:
            entry.specialty = specialty
            entry.is_active = True
            entry.save(update_fields=["specialty", "is_active"])
        audit_append(
            kind="roster.entry_added", actor=actor, stream=org_stream(court),
            data={"entry": entry.pk, "mediator": mediator.pk, "mediator_name": mediator.user.display_name,
                  "scope": scope, "specialty": specialty},
        )
    return entry


def roster_adoption_request(*, entry: RosterEntry, court: Organisation, actor: User | None) -> RosterEntry:
    """``court`` asks to adopt the mediator of a higher court's ``entry`` (OMR 27). The new entry stays
    inactive until the mediator consents."""
    if not court.is_court:
        raise InvalidInput(_("只有人民法院可以采用名册中的调解员。"))
    actor = _require_staff(actor, court)
    if not entry.is_active:
        raise InvalidInput(_("该名册条目已失效，不能采用。"))
    if entry.court_id not in court_ancestor_ids(court):
        raise InvalidInput(_("只能采用上级人民法院名册中的调解员。"))
    if entry.scope in (RosterScope.REGIONAL, RosterScope.NATIONAL):
        raise InvalidInput(_("区域性、全国性名册中的调解员已适用于辖区法院，无需采用。"))
    mediator = entry.mediator
    if mediator.status != MediatorStatus.ACTIVE:
        raise InvalidInput(
            _("该调解员当前状态为“%(status)s”，不能采用。") % {"status": mediator.get_status_display()}
        )
    with transaction.atomic():
        existing = RosterEntry.objects.select_for_update().filter(
            mediator=mediator, court=court, scope=RosterScope.COURT
        ).first()
        if existing is not None and existing.is_active:
            raise InvalidInput(_("该调解员已在本院名册中。"))
        pending = existing is not None and existing.adopted_from_id is not None and (
            existing.mediator_consented_at is None and existing.mediator_refused_at is None
        )
        if pending:
            raise InvalidInput(_("已向该调解员发出采用请求，请等待其答复。"))
        if existing is None:
            adopted = RosterEntry.objects.create(
                mediator=mediator, court=court, scope=RosterScope.COURT, adopted_from=entry, is_active=False
            )
        else:
            # A refused or ended entry is asked again: the answer starts afresh.
            adopted = existing
            adopted.adopted_from = entry
            adopted.specialty = ""
            adopted.mediator_consented_at = None
            adopted.mediator_refused_at = None
            adopted.is_active = False
            adopted.save(update_fields=["adopted_from", "specialty", "mediator_consented_at",
                                        "mediator_refused_at", "is_active"])
        audit_append(
            kind="roster.adoption_requested", actor=actor, stream=org_stream(court),
            data={"entry": adopted.pk, "adopted_from": entry.pk, "from_court": entry.court_id,
                  "mediator": mediator.pk, "mediator_name": mediator.user.display_name},
        )
    return adopted


def roster_adoption_answer(*, entry: RosterEntry, accept: bool, actor: User | None) -> RosterEntry:
    """The mediator's own answer to an adoption request (OMR 27): consent activates the entry; a refusal
    leaves it inactive and is recorded."""
    if actor is None or entry.mediator.user_id != actor.pk:
        raise PermissionDenied(_("只有调解员本人可以答复采用请求。"))
    if entry.adopted_from_id is None:
        raise InvalidInput(_("这不是采用请求。"))
    now = timezone.now()
    with transaction.atomic():
        changes = {"mediator_consented_at": now, "is_active": True} if accept else {"mediator_refused_at": now}
        updated = RosterEntry.objects.filter(
            pk=entry.pk, mediator_consented_at__isnull=True, mediator_refused_at__isnull=True, is_active=False
        ).update(**changes)
        if updated == 0:
            raise StaleState(_("该采用请求已答复或已撤回。"))
        entry.refresh_from_db()
        audit_append(
            kind="roster.adoption_accepted" if accept else "roster.adoption_refused", actor=actor,
            stream=org_stream(entry.court),
            data={"entry": entry.pk, "adopted_from": entry.adopted_from_id, "mediator": entry.mediator_id},
        )
    return entry


def _court_for_status_change(profile: MediatorProfile, actor: User | None) -> tuple[User, Organisation]:
    """A court where ``profile`` has an active entry and ``actor`` is a clerk or president (or any such
    court for a superuser): suspension and reinstatement answer to the inviting court (SIM 28)."""
    if actor is not None and actor.is_authenticated and actor.is_active:
        entries = RosterEntry.objects.filter(mediator=profile, is_active=True, court__is_active=True)
        if not actor.is_superuser:
            staff_courts = Membership.objects.filter(
                user=actor, is_active=True, role__in=COURT_STAFF_ROLES
            ).values("organisation_id")
            entries = entries.filter(court_id__in=staff_courts)
        entry = entries.select_related("court").order_by("added_at", "pk").first()
        if entry is not None:
            return actor, entry.court
    raise PermissionDenied(_("只有将该调解员列入名册的法院的立案人员或院长可以暂停或恢复其调解资格。"))


def mediator_suspend(*, profile: MediatorProfile, reason: str, actor: User | None) -> MediatorProfile:
    """Suspend a mediator: they leave the directory and the recommendations until reinstated."""
    if not reason.strip():
        raise InvalidInput(_("请写明暂停调解资格的理由。"))
    actor, court = _court_for_status_change(profile, actor)
    with transaction.atomic():
        updated = MediatorProfile.objects.filter(pk=profile.pk, status=MediatorStatus.ACTIVE).update(
            status=MediatorStatus.SUSPENDED
        )
        if updated == 0:
            raise TransitionNotAllowed(_("只能暂停在册调解员的调解资格。"))
        profile.refresh_from_db()
        audit_append(
            kind="mediator.suspended", actor=actor, stream=org_stream(court),
            data={"mediator": profile.pk, "mediator_name": profile.user.display_name, "reason": reason.strip(),
                  "court": court.pk},
        )
    return profile


def _suspending_court(profile: MediatorProfile) -> Organisation | None:
    """The court of the latest ``mediator.suspended`` event for ``profile``: its data names the court, and
    older events are read from their stream ``org.<court id>``."""
    event = (
        AuditEvent.objects.filter(kind="mediator.suspended", data__mediator=profile.pk)
        .order_by("-created_at", "-pk")
        .first()
    )
    if event is None:
        return None
    court_id = event.data.get("court")
    if court_id is None and event.stream.startswith("org."):
        court_id = event.stream.removeprefix("org.")
    try:
        return Organisation.objects.filter(pk=int(court_id)).first() if court_id is not None else None
    except (TypeError, ValueError):
        return None


def mediator_reinstate(*, profile: MediatorProfile, actor: User | None) -> MediatorProfile:
    """Lift a suspension. A removed mediator is not reinstated here: a court lists them afresh. Only the
    court that suspended the mediator (its clerk or president, or a platform superuser) lifts it: another
    court listing the same mediator cannot overrule it."""
    if not MediatorProfile.objects.filter(pk=profile.pk, status=MediatorStatus.SUSPENDED).exists():
        raise TransitionNotAllowed(_("只有被暂停调解资格的调解员可以恢复。"))
    court = _suspending_court(profile)
    if court is None or actor is None or not is_court_roster_staff(actor, court):
        raise PermissionDenied(
            _("只有暂停该调解员调解资格的法院（%(court)s）的立案人员或院长可以恢复其调解资格。")
            % {"court": court.name if court is not None else _("未知")}
        )
    with transaction.atomic():
        updated = MediatorProfile.objects.filter(pk=profile.pk, status=MediatorStatus.SUSPENDED).update(
            status=MediatorStatus.ACTIVE
        )
        if updated == 0:
            raise TransitionNotAllowed(_("只有被暂停调解资格的调解员可以恢复。"))
        profile.refresh_from_db()
        audit_append(
            kind="mediator.reinstated", actor=actor, stream=org_stream(court),
            data={"mediator": profile.pk, "mediator_name": profile.user.display_name},
        )
    return profile
