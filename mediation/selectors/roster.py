"""Reads of the mediator roster: the public directory (OMR 5; SIM 8), who is on a court's roster
(OMR 27-28), and what a court's staff or a mediator may see of roster management and complaints.

A court's roster is its own entries (any scope, adopted ones included once the mediator consented),
plus the regional rosters of the courts above it and every national roster (OMR 28). Court-scope and
specialty entries of a higher court do not flow down: a lower court adopts them, with the mediator's
consent (OMR 27).

Profiles keep specialties, languages and regions as JSON lists. On PostgreSQL the filters use jsonb
containment (``@>``); on SQLite (the embedded demo) they use ``json_each``, which answers the same.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation.choices import ComplaintStatus, MediatorStatus, Role, RosterScope
from mediation.exceptions import NotFound
from mediation.lifecycle import OPEN_STATUSES
from mediation.models import Case, CaseMediator, Complaint, MediatorProfile, Membership, Organisation, RosterEntry, User

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler



# Working languages as stored on profiles (free codes); the labels the directory shows.
LANGUAGE_LABELS = {
    "zh": gettext_lazy("普通话"),
    "yue": gettext_lazy("粤语"),
    "nan": gettext_lazy("闽南语"),
    "en": gettext_lazy("英语"),
    "ja": gettext_lazy("日语"),
    "ko": gettext_lazy("朝鲜语/韩语"),
    "ru": gettext_lazy("俄语"),
    "fr": gettext_lazy("法语"),
    "ug": gettext_lazy("维吾尔语"),
    "bo": gettext_lazy("藏语"),
    "mn": gettext_lazy("蒙古语"),
}

COURT_STAFF_ROLES = (Role.CLERK, Role.COURT_PRESIDENT)
COMPLAINT_STAFF_ROLES = (Role.CLERK, Role.COURT_PRESIDENT, Role.COMPLAINT_HANDLER)

_REGION_RE = re.compile(r"^\d{2,6}$")


# --- building blocks ---------------------------------------------------------------------------------


class JsonListAny(Expression):
    """True when some element of a JSON list column equals one of ``values`` or starts with ``prefix``.

    An expression rather than raw SQL so the column is resolved (and re-aliased inside subqueries) by
    the ORM; the values are query parameters. PostgreSQL unnests with ``jsonb_array_elements_text``,
    SQLite with ``json_each``.
    """

    conditional = True

    def __init__(self, field: str, *, values: Sequence[str] = (), prefix: str = "") -> None:
        super().__init__(output_field=BooleanField())
        self.column: Any = F(field)
        self.values = list(values)
        self.prefix = prefix

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            source, element = f"jsonb_array_elements_text({column}) AS elem(code)", "elem.code"
        else:
            source, element = f"json_each({column}) AS elem", "elem.value"
        tests: list[str] = []
        test_params: list[Any] = []
        if self.values:
            tests.append(f"{element} IN ({', '.join(['%s'] * len(self.values))})")
            test_params.extend(self.values)
        if self.prefix:
            tests.append(f"{element} LIKE %s")
            test_params.append(self.prefix + "%")
        where = " OR ".join(tests) or "1 = 0"
        # Only the compiled column and placeholders are interpolated; every value is a parameter.
        sql = f"EXISTS (SELECT 1 FROM {source} WHERE {where})"  # noqa: S608
        return sql, (*params, *test_params)


def json_list_contains(field: str, value: str) -> Q:
    """``MediatorProfile.<field>`` (a JSON list) contains ``value``: jsonb ``@>`` on PostgreSQL (a GIN
    index can serve it); elsewhere (SQLite has no JSON containment lookup) an ``EXISTS`` over the elements."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    return Q(JsonListAny(field, values=[value]))


def normalise_region(code: str) -> str | None:
    """A region code as a prefix: ``110000`` (Beijing) → ``11``, ``110100`` → ``1101``; None if not a code."""
    code = code.strip()
    if not _REGION_RE.match(code):
        return None
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def _region_q(prefix: str) -> Q:
    """Serves ``prefix``: a service region inside it (110101 for 11), a region that contains it (a mediator
    serving all of 110000 serves 110101), or an organisation located inside it."""
    enclosing = [prefix[:n].ljust(6, "0") for n in (2, 4) if n < len(prefix)]
    in_organisation = Membership.objects.filter(
        user=OuterRef("user_id"), role=Role.MEDIATOR, is_active=True, organisation__region_code__startswith=prefix
    )
    return Q(JsonListAny("regions", values=enclosing, prefix=prefix)) | Q(Exists(in_organisation))


def court_ancestor_ids(court: Organisation) -> list[int]:
    """The ids of the courts above ``court``, nearest first, in at most one query (courts are at most five
    levels deep: tribunal, basic, intermediate, high, supreme)."""
    if court.parent_id is None:
        return []
    parent = Organisation.objects.select_related("parent__parent__parent").get(pk=court.parent_id)
    ids: list[int] = []
    node: Organisation | None = parent
    while node is not None and len(ids) < 4:
        ids.append(node.pk)
        node = node.parent
    return ids


def roster_entries_for_court_q(court: Organisation, ancestor_ids: list[int] | None = None) -> Q:
    """``RosterEntry`` rows that put a mediator on ``court``'s roster (OMR 27-28)."""
    if ancestor_ids is None:
        ancestor_ids = court_ancestor_ids(court)
    return (
        Q(court_id=court.pk)
        | Q(court_id__in=ancestor_ids, scope=RosterScope.REGIONAL)
        | Q(scope=RosterScope.NATIONAL)
    )


def certificate_valid_q(on: dt.date | None = None) -> Q:
    """Profiles whose certificate is valid on ``on`` (no expiry date recorded counts as valid)."""
    day = on or timezone.localdate()
    return Q(certificate_valid_until__isnull=True) | Q(certificate_valid_until__gte=day)


def _active_entries() -> QuerySet[RosterEntry]:
    return RosterEntry.objects.filter(is_active=True, court__is_active=True)


def available_mediators(*, on: dt.date | None = None) -> QuerySet[MediatorProfile]:
    """Mediators who may take cases at all: active status, an active account and a valid certificate."""
    return MediatorProfile.objects.filter(status=MediatorStatus.ACTIVE, user__is_active=True).filter(
        certificate_valid_q(on)
    )


def with_directory_details(queryset: QuerySet[MediatorProfile]) -> QuerySet[MediatorProfile]:
    """Join in what a directory card shows, in a fixed number of queries whatever the page size:
    the account, the inviting courts (``active_entries``) and the organisations (``user.mediator_memberships``)."""
    return queryset.select_related("user").prefetch_related(
        Prefetch(
            "roster_entries",
            queryset=_active_entries().select_related("court").order_by("added_at", "pk"),
            to_attr="active_entries",
        ),
        Prefetch(
            "user__memberships",
            queryset=Membership.objects.filter(role=Role.MEDIATOR, is_active=True)
            .select_related("organisation").order_by("pk"),
            to_attr="mediator_memberships",
        ),
    )


# --- the public directory ----------------------------------------------------------------------------


def mediators_on_court_roster(*, court: Organisation, on: dt.date | None = None) -> QuerySet[MediatorProfile]:
    """Available mediators on ``court``'s roster: the mediators a party of that court may choose (OMR 9(2))."""
    entries = _active_entries().filter(mediator=OuterRef("pk")).filter(roster_entries_for_court_q(court))
    return available_mediators(on=on).filter(Exists(entries))


def mediator_directory(
    *,
    court: Organisation | None = None,
    region: str | None = None,
    specialty: str | None = None,
    language: str | None = None,
    org_kind: str | None = None,
    sector: str | None = None,
) -> QuerySet[MediatorProfile]:
    """The public directory (OMR 5; SIM 8): available mediators with an active roster entry, filtered.

    ``region`` is an administrative code or its prefix; ``org_kind`` and ``sector`` describe one of the
    mediator's organisations. The result carries what a card shows (see ``with_directory_details``);
    profiles hold no phone or ID number, and the templates show none from the account.
    """
    if court is not None:
        queryset = mediators_on_court_roster(court=court)
    else:
        queryset = available_mediators().filter(Exists(_active_entries().filter(mediator=OuterRef("pk"))))
    if specialty:
        queryset = queryset.filter(json_list_contains("specialties", specialty))
    if language:
        queryset = queryset.filter(json_list_contains("languages", language))
    if region:
        prefix = normalise_region(region)
        queryset = queryset.filter(_region_q(prefix)) if prefix else queryset.none()
    if org_kind or sector:
        memberships = Membership.objects.filter(user=OuterRef("user_id"), role=Role.MEDIATOR, is_active=True)
        if org_kind:
            memberships = memberships.filter(organisation__kind=org_kind)
        if sector:
            memberships = memberships.filter(organisation__sector=sector)
        queryset = queryset.filter(Exists(memberships))
    return with_directory_details(queryset).order_by("pk")


def mediator_directory_get(*, profile_id: int) -> MediatorProfile:
    """One directory profile; the same refusal for "absent" and "not listed" (suspended, expired...)."""
    profile = mediator_directory().filter(pk=profile_id).first()
    if profile is None:
        raise NotFound(_("该调解员不在公开名册中。"))
    return profile


def directory_courts() -> QuerySet[Organisation]:
    """Courts a visitor may filter the directory by."""
    return Organisation.objects.filter(kind="court", is_active=True).order_by("name")


def mediator_profile_get(*, profile_id: int) -> MediatorProfile:
    """Any mediator's profile, listed or not (a complaint may concern a suspended mediator)."""
    profile = MediatorProfile.objects.select_related("user").filter(pk=profile_id).first()
    if profile is None:
        raise NotFound(_("调解员不存在。"))
    return profile


# --- eligibility for a case --------------------------------------------------------------------------


def open_load_subquery() -> Coalesce:
    """Per profile: the cases the mediator is working on now (see ``OPEN_STATUSES``)."""
    counts = (
        CaseMediator.objects.filter(mediator=OuterRef("user_id"), is_active=True, case__status__in=OPEN_STATUSES)
        .order_by().values("mediator").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def mediators_eligible_for_case(*, case: Case) -> QuerySet[MediatorProfile]:
    """Mediators who may be chosen or designated for ``case``: on the competent court's roster (OMR 9(2)),
    active, certificate valid, and below their capacity. Each row carries ``open_load``."""
    return (
        mediators_on_court_roster(court=case.court)
        .annotate(open_load=open_load_subquery())
        .filter(open_load__lt=F("capacity"))
    )


# --- roster management -------------------------------------------------------------------------------


def courts_managed_by(*, user: User) -> QuerySet[Organisation]:
    """Courts whose roster ``user`` manages: a clerk or president there (OMR 27), or every court for a
    platform superuser."""
    courts = Organisation.objects.filter(kind="court", is_active=True)
    if not user.is_authenticated or not user.is_active:
        return courts.none()
    if user.is_superuser:
        return courts.order_by("name")
    managed = Membership.objects.filter(user=user, is_active=True, role__in=COURT_STAFF_ROLES).values(
        "organisation_id"
    )
    return courts.filter(pk__in=managed).order_by("name")


def roster_entries_of_court(*, user: User, court_id: int) -> QuerySet[RosterEntry]:
    """Every entry of one court's own roster, for its staff: active, awaiting consent, refused or ended."""
    court = courts_managed_by(user=user).filter(pk=court_id).first()
    if court is None:
        raise NotFound(_("您不是该法院名册的管理人员。"))
    return (
        RosterEntry.objects.filter(court=court)
        .select_related("mediator__user", "adopted_from__court")
        .order_by("-is_active", "mediator__user__real_name", "pk")
    )


def adoption_candidates(*, court: Organisation, query: str = "", limit: int = 50) -> QuerySet[RosterEntry]:
    """Entries of higher courts' own rosters a lower court may ask to adopt (OMR 27). Regional and national
    rosters already apply below, so they are not offered; nor is anyone already on this court's roster."""
    ancestors = court_ancestor_ids(court)
    already = RosterEntry.objects.filter(court=court).values("mediator_id")
    entries = (
        _active_entries()
        .filter(court_id__in=ancestors, scope__in=[RosterScope.COURT, RosterScope.SPECIALTY])
        .exclude(mediator_id__in=already)
        .filter(mediator__status=MediatorStatus.ACTIVE)
        .select_related("mediator__user", "court")
    )
    if query.strip():
        entries = entries.filter(mediator__user__real_name__icontains=query.strip())
    return entries.order_by("court_id", "mediator__user__real_name", "pk")[:limit]


def mediators_to_list(*, court: Organisation, query: str, limit: int = 20) -> QuerySet[MediatorProfile]:
    """Active mediators found by name whom ``court`` could put on its own roster (not there already)."""
    on_roster = RosterEntry.objects.filter(court=court, is_active=True).values("mediator_id")
    return (
        MediatorProfile.objects.filter(status=MediatorStatus.ACTIVE, user__real_name__icontains=query.strip())
        .exclude(pk__in=on_roster)
        .select_related("user")
        .order_by("user__real_name", "pk")[:limit]
    )


def roster_entry_get_for_staff(*, entry_id: int) -> RosterEntry:
    """An active entry a court may ask to adopt; whether it may is the service's to say."""
    entry = RosterEntry.objects.select_related("mediator__user", "court").filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("名册条目不存在。"))
    return entry


def roster_entry_get_for_mediator(*, user: User, entry_id: int) -> RosterEntry:
    """An adoption request addressed to ``user``."""
    entry = (
        RosterEntry.objects.select_related("mediator__user", "court")
        .filter(pk=entry_id, mediator__user=user, adopted_from__isnull=False)
        .first()
    )
    if entry is None:
        raise NotFound(_("采用请求不存在。"))
    return entry


def adoption_requests_for_mediator(*, user: User) -> QuerySet[RosterEntry]:
    """Adoption requests waiting for ``user``'s answer (OMR 27)."""
    return (
        RosterEntry.objects.filter(
            mediator__user=user, adopted_from__isnull=False, mediator_consented_at__isnull=True,
            mediator_refused_at__isnull=True, is_active=False,
        )
        .select_related("court", "adopted_from__court")
        .order_by("added_at", "pk")
    )


# --- complaints ----------------------------------------------------------------------------------------


def complaint_courts_for_user(*, user: User) -> QuerySet[Organisation]:
    """Courts whose complaints ``user`` handles (OMR 29): clerks, presidents and complaint handlers."""
    if not user.is_authenticated or not user.is_active:
        return Organisation.objects.none()
    handled = Membership.objects.filter(user=user, is_active=True, role__in=COMPLAINT_STAFF_ROLES).values(
        "organisation_id"
    )
    return Organisation.objects.filter(kind="court", pk__in=handled).order_by("name")


def complaint_cases_for(*, user: User, mediator: MediatorProfile) -> QuerySet[Case]:
    """Cases ``user`` is a party to (in person or as an agent) that ``mediator`` mediated: what a
    complaint may be about (OMR 29)."""
    if not user.is_authenticated or not user.is_active:
        return Case.objects.none()
    mine = Case.objects.filter(Q(parties__user=user) | Q(parties__agents__user=user)).values("pk")
    mediated = CaseMediator.objects.filter(case=OuterRef("pk"), mediator_id=mediator.user_id)
    return Case.objects.filter(pk__in=mine).filter(Exists(mediated)).order_by("-created_at")


def complaints_for_handler(*, user: User) -> QuerySet[Complaint]:
    """Complaints to the courts ``user`` handles complaints for, open ones first."""
    courts = complaint_courts_for_user(user=user)
    return (
        Complaint.objects.filter(court__in=courts)
        .select_related("mediator__user", "court", "case")
        .annotate(is_open=ExpressionWrapper(Q(status=ComplaintStatus.FILED), output_field=BooleanField()))
        .order_by("-is_open", "-filed_at", "-pk")
    )


def complaint_get_for_handler(*, user: User, complaint_id: int) -> Complaint:
    complaint = complaints_for_handler(user=user).filter(pk=complaint_id).first()
    if complaint is None:
        raise NotFound(_("投诉不存在或您无权处理。"))
    return complaint
