"""Reads of assisted filings (issue 18 item 2): the assisting court sees what it filed, the party their link."""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext as _

from mediation.choices import Role
from mediation.exceptions import NotFound
from mediation.models import AssistedFiling, Membership, User

ASSISTING_ROLES = (Role.CLERK,)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def assisted_filing_for_clerk(*, actor: User, filing_id: int) -> AssistedFiling:
    """A filing of the clerk's own court; NotFound for anyone else."""
    filing = (
        AssistedFiling.objects.select_related("competent_court", "assisting_court", "case", "draft")
        .filter(
            pk=filing_id,
            assisting_court__memberships__user=actor,
            assisting_court__memberships__is_active=True,
            assisting_court__memberships__role__in=ASSISTING_ROLES,
        )
        .first()
    )
    if filing is None:
        raise NotFound(_("代办记录不存在或不是本院办理的。"))
    return filing


def assisted_filing_by_token(*, token: str) -> AssistedFiling:
    filing = (
        AssistedFiling.objects.select_related("competent_court", "assisting_court", "assisted_by")
        .filter(token_hash=token_hash(token or ""))
        .first()
    )
    if filing is None:
        raise NotFound(_("确认链接无效。"))
    return filing


def assisted_filings_for_clerk(*, user: User) -> list[AssistedFiling]:
    """What the clerk's court filed for others: the filing and the case's status, nothing more."""
    courts = Membership.objects.filter(user=user, is_active=True, role__in=ASSISTING_ROLES).values("organisation_id")
    return list(
        AssistedFiling.objects.filter(assisting_court_id__in=courts).select_related(
            "competent_court", "assisting_court", "assisted_by", "case"
        )
    )
