"""Reads for court-filed mediation (legal-rules §A12, §B13): what a case page shows about its consents and its
15/7-day clock, and the court's list of court-filed cases waiting for it (the /court/ inbox)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from mediation import calendar
from mediation.choices import CaseOrigin, ConsentKind, OrganisationKind, Role, TimerKind, TimerStatus
from mediation.lifecycle import COURT_FILED_CONSENT_STATUSES, COURT_FILED_JUDGE_STATUSES
from mediation.models import Case, Consent, Membership, Party, ServiceRecord, Timer, User

OPEN = (TimerStatus.RUNNING, TimerStatus.PAUSED)
# The served court document that takes effect on sign-for (CPL 100; Interp 149).
MEDIATION_DOCUMENT_TITLE = "民事调解书"


@dataclass(frozen=True)
class SignFor:
    """One party's service of the sealed 民事调解书: its record (None: not served on the platform) and when the
    party signed for it (the record's effective time: a 调解书's service is effective only on sign-for)."""

    party: Party
    record: ServiceRecord | None

    @property
    def signed_for_at(self) -> dt.datetime | None:
        return self.record.effective_at if self.record is not None else None


@dataclass(frozen=True)
class PartyAnswer:
    party: Party
    answer: Consent | None  # the latest answer, None when not asked yet

    @property
    def granted(self) -> bool:
        return self.answer is not None and self.answer.granted and self.answer.withdrawn_at is None


@dataclass(frozen=True)
class CourtFiledView:
    case: Case
    consents: list[PartyAnswer]  # consent to entrustment (§A12 art. 2), one per party
    extension_consents: list[PartyAnswer]  # consent to the one 30-day extension, since the period began
    period: Timer | None
    consent_open: bool  # parties may still answer the entrustment question
    sign_for: list[SignFor]  # the served 民事调解书, one row per party (empty before it is served)

    @property
    def all_consented(self) -> bool:
        return bool(self.consents) and all(a.granted for a in self.consents)

    @property
    def period_open(self) -> bool:
        return self.period is not None and self.period.status in OPEN

    @property
    def period_last_day(self) -> dt.date | None:
        return calendar.last_day(self.period.due_at) if self.period is not None else None

    @property
    def extended(self) -> bool:
        return self.period is not None and self.period.extra_days > 0



def _latest(case: Case, party: Party, kind: str, since: object = None) -> Consent | None:
    answers = Consent.objects.filter(case=case, party=party, kind=kind)
    if since is not None:
        answers = answers.filter(given_at__gte=since)
    return answers.order_by("-given_at", "-pk").first()


def court_filed_view(*, case: Case) -> CourtFiledView | None:
    """What the case page shows for a court-filed case (None for any other). The caller has already checked
    that the viewer may see the case; names and answers are what every party of the case may see."""
    if case.origin != CaseOrigin.COURT_FILED:
        return None
    parties = list(case.parties.order_by("role", "pk"))
    period = Timer.objects.filter(case=case, kind=TimerKind.COURT_FILED_PERIOD).order_by("-pk").first()
    consents = [PartyAnswer(p, _latest(case, p, ConsentKind.COURT_ENTRUSTMENT)) for p in parties]
    extension = (
        [PartyAnswer(p, _latest(case, p, ConsentKind.EXTENSION, period.started_at)) for p in parties]
        if period is not None else []
    )
    return CourtFiledView(case=case, consents=consents, extension_consents=extension, period=period,
                          consent_open=case.status in COURT_FILED_CONSENT_STATUSES,
                          sign_for=mediation_document_sign_for(case=case))


def mediation_document_sign_for(*, case: Case, sha256: str = "") -> list[SignFor]:
    """Each party's service of the sealed 民事调解书 (by default the one served last) and its sign-for time."""
    if not sha256:
        latest = (ServiceRecord.objects.filter(case=case, document_title__contains=MEDIATION_DOCUMENT_TITLE)
                  .order_by("-pk").first())
        if latest is None:
            return []
        sha256 = latest.document_sha256
    records = {r.recipient_id: r for r in ServiceRecord.objects.filter(case=case, document_sha256=sha256)
               .order_by("pk")}
    return [SignFor(party=p, record=records.get(p.pk)) for p in case.parties.order_by("role", "pk")]


def _court_ids(user: User) -> set[int]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(
        Membership.objects.filter(
            user=user, is_active=True, role__in=[Role.JUDGE, Role.CLERK, Role.COURT_PRESIDENT],
            organisation__kind=OrganisationKind.COURT,
        ).values_list("organisation_id", flat=True)
    )


def court_filed_inbox(*, user: User) -> QuerySet[Case]:
    """Court-filed cases at the user's courts that wait for the court: a 民事调解书 asked for, a failure that
    needs the fee notice, a fee awaited, and those back for trial (most recent change first)."""
    courts = _court_ids(user)
    if not courts:
        return Case.objects.none()
    return (
        Case.objects.filter(Q(court_id__in=courts), origin=CaseOrigin.COURT_FILED,
                            status__in=COURT_FILED_JUDGE_STATUSES)
        .select_related("court")
        .order_by("-status_changed_at", "-pk")
    )
