"""Taking up a party that a court created without an account (委派/委托 referrals): the person proves
by a one-time code that the phone on record is theirs, then the party is linked to their account."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from mediation.choices import CaseOrigin
from mediation.exceptions import NotFound
from mediation.lifecycle import TERMINAL_STATUSES
from mediation.models import Party, User
from mediation.services.audit import audit_append
from mediation.services.respondent import _phone_proven
from mediation.validators import mask_phone

REFERRAL_ORIGINS = (CaseOrigin.DELEGATED, CaseOrigin.ENTRUSTED, CaseOrigin.COURT_FILED)


def parties_claimable_by(*, user: User) -> QuerySet[Party]:
    """Referral parties with no account whose phone ``user`` has proven theirs, on cases still open.

    (A party's own application links the applicant at once, and its respondent is taken up through the
    OMR 15 invitation, so only court referrals need this.)"""
    if not user.is_authenticated or not user.phone or not _phone_proven(user, user.phone):
        return Party.objects.none()
    return (
        Party.objects.filter(user__isnull=True, phone=user.phone, case__origin__in=REFERRAL_ORIGINS)
        .exclude(case__status__in=TERMINAL_STATUSES)
        .select_related("case", "case__court")
        .order_by("-case__created_at")
    )


def party_claim(*, party: Party, actor: User) -> Party:
    """Link ``actor`` to ``party`` if ``parties_claimable_by`` offers it; anyone else learns nothing."""
    with transaction.atomic():
        locked = Party.objects.select_for_update().filter(pk=party.pk).first()
        if locked is None or not parties_claimable_by(user=actor).filter(pk=locked.pk).exists():
            raise NotFound(_("案件不存在或您无权查看。"))
        locked.user = actor
        locked.save(update_fields=["user"])
        audit_append(
            kind="party.linked", actor=actor, case=locked.case,
            data={"party": locked.pk, "role": locked.role, "user": actor.pk, "phone": mask_phone(locked.phone),
                  "how": "phone_code_referral"},
        )
    return locked
