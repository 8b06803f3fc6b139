"""The figures courts manage by, computed from case data and the audit trail (never typed in), and who may
see which of them.

Every figure is a ratio or an average of raw counters; the counters are summed per slice (court, organisation,
sector, mediator, dispute type, month) with one grouped query per source table, so a report costs the same
number of queries over a thousand cases as over a hundred thousand. A court's figures include its lower courts:
counters are summed up the court tree in Python (the tree is small), never re-queried per court.

Each counter is dated by its own event: a case received in January and settled in February counts as received
in January and settled in February. The written definitions (``FIGURES``) are shown beside each figure and
repeated in docs/statistics.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mediation.choices import (
    AgreementScope,
    AgreementStatus,
    CaseOrigin,
    OrganisationKind,
    ParticipantRole,
    Role,
    Sector,
    SelfTestVerdict,
    SessionStatus,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import PermissionDenied
from mediation.models import (
    AuditEvent,
    CaseMediator,
    ContactRequest,
    MediationSession,
    Membership,
    Organisation,
    Room,
    RoomEvent,
    RoomMember,
    SelfTest,
    ServiceRecord,
    StatisticsCounter,
    StatisticsCounterState,
    Timer,
    User,
)

# --- Scope: who sees which numbers ----------------------------------------------------------------------------

COURT, ORGANISATION, MEDIATOR = "court", "organisation", "mediator"
SCOPE_KINDS = (COURT, ORGANISATION, MEDIATOR)
# Every case on the platform: only for building the pre-computed counters, never shown to anyone.
PLATFORM = "platform"


@dataclass(frozen=True)
class StatisticsScope:
    """The cases a report covers: a court and the courts below it, one organisation, or one mediator's."""

    kind: str
    root_id: int
    label: str
    court_ids: frozenset[int] = frozenset()

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.root_id}"

    def case_filter(self, prefix: str = "") -> Q:
        if self.kind == COURT:
            return Q(**{f"{prefix}court_id__in": sorted(self.court_ids)})
        if self.kind == ORGANISATION:
            return Q(**{f"{prefix}mediation_organisation_id": self.root_id})
        if self.kind == PLATFORM:
            return Q()
        presided = CaseMediator.objects.filter(case_id=OuterRef(f"{prefix}pk" if prefix else "pk"),
                                               mediator_id=self.root_id, presiding=True)
        return Q(Exists(presided))


def _court_children() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent in Organisation.objects.filter(kind=OrganisationKind.COURT).values_list("pk", "parent_id"):
        children[parent].append(pk)
    return children


def _below(root: int, children: Mapping[int | None, list[int]]) -> frozenset[int]:
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return frozenset(found)


def court_ids_below(court_id: int) -> frozenset[int]:
    """A court and every court below it (one query for the whole tree)."""
    return _below(court_id, _court_children())


def statistics_scopes_for_user(*, user: User | None) -> list[StatisticsScope]:
    """Every scope ``user`` may see: a court president (院长) their court and the courts below it, an
    organisation admin their organisation, a mediator their own cases. Nobody else sees any figures:
    not clerks or judges (their work queues are elsewhere), not parties, not platform admins."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    memberships = list(
        Membership.objects.filter(
            user=user, is_active=True, role__in=(Role.COURT_PRESIDENT, Role.ORG_ADMIN, Role.MEDIATOR)
        ).select_related("organisation").order_by("role", "organisation__name")
    )
    scopes: list[StatisticsScope] = []
    children: dict[int | None, list[int]] | None = None
    for membership in memberships:
        org = membership.organisation
        if membership.role == Role.COURT_PRESIDENT and org.is_court:
            children = children if children is not None else _court_children()
            scopes.append(StatisticsScope(COURT, org.pk, org.short_name or org.name, _below(org.pk, children)))
        elif membership.role == Role.ORG_ADMIN:
            scopes.append(StatisticsScope(ORGANISATION, org.pk, org.short_name or org.name))
    if any(m.role == Role.MEDIATOR for m in memberships):
        scopes.append(StatisticsScope(MEDIATOR, user.pk, user.display_name))
    return scopes


def statistics_scope_for_organisation(*, organisation: Organisation) -> StatisticsScope:
    """The scope of an organisation's own system (the API's ``statistics:read``): a court and the courts below
    it, or a mediation organisation's cases; the same scopes its president or admin sees on the dashboard."""
    label = organisation.short_name or organisation.name
    if organisation.is_court:
        return StatisticsScope(COURT, organisation.pk, label, court_ids_below(organisation.pk))
    return StatisticsScope(ORGANISATION, organisation.pk, label)


def statistics_scope_for_user(*, user: User | None, kind: str, root_id: int) -> StatisticsScope:
    """The one scope asked for, if ``user`` may see it; otherwise one refusal that reads the same whether the
    court or organisation exists or not."""
    for scope in statistics_scopes_for_user(user=user):
        if scope.kind == kind and scope.root_id == root_id:
            return scope
    raise PermissionDenied(_("您无权查看这些统计数据。"))


# --- Figures and their definitions ----------------------------------------------------------------------------

COUNT, PERCENT, DAYS, SECONDS, MINUTES, RATIO = "count", "percent", "days", "seconds", "minutes", "ratio"


@dataclass(frozen=True)
class FigureDef:
    code: str
    label: Promise
    definition: Promise
    unit: str
    numerator: str
    denominator: str = ""
    group: str = ""
    # The issue whose data this figure needs; until it lands the figure shows no value.
    waits_for: str = ""


def _f(code: str, label: Promise, definition: Promise, unit: str, numerator: str, denominator: str = "", *,
       group: str, waits_for: str = "") -> FigureDef:
    return FigureDef(code, label, definition, unit, numerator, denominator, group, waits_for)


INTAKE, OUTCOMES, CLOCKS, CONFIRMATION, PERFORMANCE, SERVICE, ROOMS, CONTACT, SELFTEST = (
    "intake", "outcomes", "clocks", "confirmation", "performance", "service", "rooms", "contact", "selftest")
GROUPS: dict[str, Promise] = {
    INTAKE: gettext_lazy("收案与受理"), OUTCOMES: gettext_lazy("调解结果"), CLOCKS: gettext_lazy("期限遵守"),
    CONFIRMATION: gettext_lazy("司法确认"), PERFORMANCE: gettext_lazy("协议履行"), SERVICE: gettext_lazy("电子送达"),
    ROOMS: gettext_lazy("在线调解室"), CONTACT: gettext_lazy("联系法官/调解员"), SELFTEST: gettext_lazy("入会前自检"),
}

FIGURES: tuple[FigureDef, ...] = (
    _f("received", gettext_lazy("收案总数"),
       gettext_lazy("当期提交到平台的纠纷数（案件进入“已提交”状态的审计事件），含当事人申请、诉前委派和诉中委托。"),
       COUNT, "received", group=INTAKE),
    _f("received_application", gettext_lazy("当事人申请"),
       gettext_lazy("当期提交的当事人在线申请数。"), COUNT, "received_application",
       group=INTAKE),
    _f("received_delegated", gettext_lazy("诉前委派"),
       gettext_lazy("当期法院诉前委派调解的案件数。"), COUNT, "received_delegated",
       group=INTAKE),
    _f("received_entrusted", gettext_lazy("诉中委托"),
       gettext_lazy("当期法院诉中委托调解的案件数。"), COUNT, "received_entrusted",
       group=INTAKE),
    _f("acceptance_rate", gettext_lazy("受理率"),
       gettext_lazy("当期受理进入调解的案件数 ÷（受理数 + 退回数）；按受理或退回发生的月份计。"),
       PERCENT, "accepted", "decided_intake", group=INTAKE),
    _f("diversion_rate", gettext_lazy("诉前导出率"),
       gettext_lazy("当期在立案前进入调解的纠纷数（当事人申请与诉前委派被受理进入调解）÷ 当期收案总数（含诉中委托）。"),
       PERCENT, "diverted", "received", group=INTAKE),
    _f("concluded", gettext_lazy("调解结案数"),
       gettext_lazy("当期以达成协议（协议生效）、调解终结或自行和解撤回结束调解的案件数。"), COUNT,
       "concluded", group=OUTCOMES),
    _f("success_rate", gettext_lazy("调解成功率"),
       gettext_lazy("当期调解协议生效的案件数 ÷ 当期调解结案数（达成协议 + 调解终结 + 自行和解撤回）。"
       "部分达成协议计为成功，并单列其占比。"),
       PERCENT, "agreements", "concluded", group=OUTCOMES),
    _f("partial_share", gettext_lazy("部分达成协议占比"),
       gettext_lazy("成功案件中调解协议为“部分达成协议”的比例。"), PERCENT,
       "partial_agreements", "agreements", group=OUTCOMES),
    _f("withdrawn_share", gettext_lazy("自行和解撤回占比"),
       gettext_lazy("当期调解结案数中当事人自行和解撤回（OMR 25(2)）的比例。"), PERCENT,
       "withdrawn", "concluded", group=OUTCOMES),
    _f("avg_days_to_outcome", gettext_lazy("受理至结案平均天数"),
       gettext_lazy("当期结案的案件从受理进入调解到调解结束（协议生效、终结或撤回）的平均自然日数。"), DAYS,
       "outcome_seconds", "outcome_timed", group=OUTCOMES),
    _f("video_share", gettext_lazy("视频调解占比"),
       gettext_lazy("当期已举行的调解活动中，开设了在线调解室（音视频）的比例。"), PERCENT,
       "sessions_video", "sessions_held", group=OUTCOMES),
    _f("e_service_share", gettext_lazy("电子送达生效率"),
       gettext_lazy("当期发出的电子送达中已生效（OLR 31）的比例。"), PERCENT,
       "served_effective", "served", group=SERVICE),
    _f("served_on_time_share", gettext_lazy("及时送达率"),
       gettext_lazy("当期发出的电子送达中，在发出后 3 日内生效的比例。"), PERCENT,
       "served_on_time", "served", group=SERVICE),
    _f("designation_compliance", gettext_lazy("指定调解员按期率"),
       gettext_lazy("法院指定调解员期限（3个工作日）中，在届满前完成的比例；按期限结束的月份计。"), PERCENT,
       "clock_met:court_designation", "clock_closed:court_designation", group=CLOCKS),
    _f("acceptance_compliance", gettext_lazy("调解员按期接受率"),
       gettext_lazy("调解员确认接受期限（3个工作日）中，在届满前完成的比例。"), PERCENT,
       "clock_met:mediator_acceptance", "clock_closed:mediator_acceptance", group=CLOCKS),
    _f("respondent_contact_compliance", gettext_lazy("征询被申请人按期率"),
       gettext_lazy("协助征询被申请人意愿期限（3个工作日）中，在届满前完成的比例。"), PERCENT,
       "clock_met:respondent_contact", "clock_closed:respondent_contact", group=CLOCKS),
    _f("confirmation_decision_compliance", gettext_lazy("司法确认按期审查率"),
       gettext_lazy("司法确认申请在法定审查期限内作出裁定的比例。"), PERCENT, "", group=CLOCKS,
       waits_for="[court-workspace]"),
    _f("jc_applied", gettext_lazy("申请司法确认"),
       gettext_lazy("当期提出司法确认申请的案件数。"), COUNT, "jc_applied", group=CONFIRMATION),
    _f("jc_confirmed_rate", gettext_lazy("裁定确认有效率"),
       gettext_lazy("当期审结的司法确认中，裁定调解协议有效的比例（分母：确认有效 + 驳回 + 不予受理 + 撤回）。"),
       PERCENT, "jc_confirmed", "jc_decided", group=CONFIRMATION),
    _f("jc_dismissed", gettext_lazy("裁定驳回"),
       gettext_lazy("当期裁定驳回司法确认申请的案件数。"), COUNT, "jc_dismissed", group=CONFIRMATION),
    _f("jc_not_accepted", gettext_lazy("不予受理"),
       gettext_lazy("当期司法确认申请不予受理的案件数。"), COUNT, "jc_not_accepted",
       group=CONFIRMATION),
    _f("tracked", gettext_lazy("进入履行跟踪"),
       gettext_lazy("当期进入履行跟踪的调解协议数。"), COUNT, "tracked", group=PERFORMANCE),
    _f("performance_rate", gettext_lazy("自动履行率"),
       gettext_lazy("当期履行跟踪结束的协议中，履行完毕的比例。"), PERCENT, "performed",
       "tracking_closed", group=PERFORMANCE),
    _f("default_rate", gettext_lazy("违约率"),
       gettext_lazy("当期履行跟踪结束的协议中，未履行而可申请强制执行的比例。"), PERCENT, "defaulted",
       "tracking_closed", group=PERFORMANCE),
    _f("join_success", gettext_lazy("入会成功率"),
       gettext_lazy("进入候会区的当事人、代理人等（调解员除外）中，被准许入会的比例；按调解室开启的月份计。"),
       PERCENT, "admitted", "joiners", group=ROOMS),
    _f("time_to_join", gettext_lazy("平均入会等候时间"),
       gettext_lazy("每次准许入会时，该人员从最近一次进入候会区到被准许入会的平均秒数。"),
       SECONDS, "join_seconds", "admissions_timed", group=ROOMS),
    _f("rejoins_per_session", gettext_lazy("每场重新入会次数"),
       gettext_lazy("离开调解室后又回到同一调解室的次数 ÷ 调解室数。"), RATIO,
       "rejoins", "rooms", group=ROOMS),
    _f("minutes_lost", gettext_lazy("重连损失分钟数"),
       gettext_lazy("离开调解室到回到同一调解室之间的分钟数之和。"), MINUTES,
       "reconnect_seconds", group=ROOMS),
    _f("contact_requests", gettext_lazy("联系诉求数"),
       gettext_lazy("当期当事人或代理人提出（含工作人员代为登记）的联系法官/调解员诉求数，按提出时间计月。"),
       COUNT, "contact_requests", group=CONTACT),
    _f("contact_reached", gettext_lazy("已联系率"),
       gettext_lazy("当期提出的联系诉求中，承办人或负责人已与当事人取得联系（记录了联系时间）的比例。"),
       PERCENT, "contact_reached", "contact_requests", group=CONTACT),
    _f("contact_reached_on_time", gettext_lazy("按时联系率"),
       gettext_lazy("当期提出的联系诉求中，在 1 个工作日内（首次联系期限届满前）取得联系的比例；"
                    "尚未联系或逾期联系的都不计入分子。"),
       PERCENT, "contact_reached_on_time", "contact_requests", group=CONTACT),
    _f("contact_feedback_on_time", gettext_lazy("按时反馈率"),
       gettext_lazy("当期提出的联系诉求中，在提出后 2 个工作日内（反馈期限届满前）给出办理结果的比例。"),
       PERCENT, "contact_answered_on_time", "contact_requests", group=CONTACT),
    _f("selftest_before_join", gettext_lazy("入会前自检率"),
       gettext_lazy("当期开启的在线调解室中被准许入会的当事人、代理人等（调解员除外），在本人入会前已为该场"
                    "调解活动完成设备与网络自检的比例；按调解室开启的月份计。"),
       PERCENT, "selftested_before_join", "participants_admitted", group=SELFTEST),
    _f("selftest_good", gettext_lazy("自检结论：视频良好"),
       gettext_lazy("当期调解活动（按活动开始时间计月）的自检人次中（每人每场取最后一次自检），结论为“视频良好”的比例。"),
       PERCENT, f"selftest:{SelfTestVerdict.GOOD}", "selftests", group=SELFTEST),
    _f("selftest_audio_only", gettext_lazy("自检结论：建议仅用语音"),
       gettext_lazy("同上，结论为“建议仅用语音”的比例。"),
       PERCENT, f"selftest:{SelfTestVerdict.AUDIO_ONLY}", "selftests", group=SELFTEST),
    _f("selftest_too_weak", gettext_lazy("自检结论：网络太弱"),
       gettext_lazy("同上，结论为“网络太弱（换个位置或网络）”的比例。"),
       PERCENT, f"selftest:{SelfTestVerdict.TOO_WEAK}", "selftests", group=SELFTEST),
)
FIGURE_BY_CODE = {f.code: f for f in FIGURES}

# Audit event kinds → counters. Each kind happens at most once per case (the state machine passes through
# none of them twice), so counting events counts cases, without a DISTINCT that would sort every row.
_ORIGIN_COUNTER: dict[str, str] = {
    CaseOrigin.PARTY_APPLICATION: "received_application",
    CaseOrigin.DELEGATED: "received_delegated",
    CaseOrigin.ENTRUSTED: "received_entrusted",
    # Court-filed mediation (2025) is 委托 after filing: counted with it.
    CaseOrigin.COURT_FILED: "received_entrusted",
}
_EVENT_COUNTERS: dict[str, tuple[str, ...]] = {
    "case.submit": ("received",),
    "case.accept_for_mediation": ("accepted", "decided_intake"),
    "case.return": ("decided_intake",),
    "case.agreement_signed": ("agreements", "concluded"),
    "case.terminate": ("terminated", "concluded"),
    "case.respondent_declined": ("terminated", "concluded"),
    "case.refused_to_sign": ("terminated", "concluded"),
    "case.withdraw": ("withdrawn", "concluded"),
    "case.apply_for_confirmation": ("jc_applied",),
    "case.rule_valid": ("jc_confirmed", "jc_decided"),
    "case.rule_dismissed": ("jc_dismissed", "jc_decided"),
    "case.not_accept": ("jc_not_accepted", "jc_decided"),
    "case.withdraw_confirmation": ("jc_withdrawn", "jc_decided"),
    "case.supplement_lapsed": ("jc_withdrawn", "jc_decided"),
    "case.track_performance": ("tracked",),
    "case.objection_window_closed": ("tracked",),
    "case.performed": ("performed", "tracking_closed"),
    "case.not_performed": ("defaulted", "tracking_closed"),
}
# Kinds this module reads (the audit trail's and the room's own event kinds), named once.
AGREEMENT_SIGNED = "case.agreement_signed"
ACCEPTED_FOR_MEDIATION = "case.accept_for_mediation"
MEMBER_WAITING, MEMBER_ADMITTED, MEMBER_LEFT = "member.waiting", "member.admitted", "member.left"
_OUTCOME_KINDS = ("case.agreement_signed", "case.terminate", "case.respondent_declined", "case.refused_to_sign",
                  "case.withdraw")
_PRE_FILING = (CaseOrigin.PARTY_APPLICATION, CaseOrigin.DELEGATED)
_CLOCK_KINDS = (TimerKind.COURT_DESIGNATION, TimerKind.MEDIATOR_ACCEPTANCE, TimerKind.RESPONDENT_CONTACT)
ON_TIME_SERVICE = dt.timedelta(days=3)

# --- Slicing --------------------------------------------------------------------------------------------------

TOTAL, SECTOR, DISPUTE_TYPE, MONTH = "total", "sector", "dispute_type", "month"
# The local day: the pre-computed counters' grain (not offered on the pages).
DAY = "day"
DIMENSIONS: dict[str, Promise] = {
    TOTAL: gettext_lazy("合计"), COURT: gettext_lazy("法院（含下级法院）"), ORGANISATION: gettext_lazy("调解组织"),
    SECTOR: gettext_lazy("行业领域"), MEDIATOR: gettext_lazy("调解员"), DISPUTE_TYPE: gettext_lazy("纠纷类型"),
    MONTH: gettext_lazy("月份"),
}


def _slice_expr(dimension: str, *, case: str, at: str) -> Any:
    """The grouping expression for ``dimension`` on a query whose case is reached through ``case``."""
    prefix = f"{case}__" if case else ""
    if dimension == TOTAL:
        return Value("all")
    if dimension == COURT:
        return F(f"{prefix}court_id")
    if dimension == ORGANISATION:
        return F(f"{prefix}mediation_organisation_id")
    if dimension == SECTOR:
        return F(f"{prefix}mediation_organisation__sector")
    if dimension == DISPUTE_TYPE:
        return F(f"{prefix}dispute_type")
    if dimension == MEDIATOR:
        # The presiding mediator holding the case, or the last one who did (a case whose mediator was changed
        # counts for the one who saw it through).
        return Subquery(
            CaseMediator.objects.filter(case_id=OuterRef(f"{prefix}pk" if prefix else "pk"), presiding=True)
            .order_by("-is_active", "-assigned_at", "-pk").values("mediator_id")[:1]
        )
    if dimension == MONTH:
        return TruncMonth(at, tzinfo=ZoneInfo(settings.TIME_ZONE))
    if dimension == DAY:
        return TruncDate(at, tzinfo=ZoneInfo(settings.TIME_ZONE))
    raise ValueError(f"Unknown dimension {dimension!r}")


def _names(dimensions: tuple[str, ...]) -> list[str]:
    return [f"slice_{index}" for index in range(len(dimensions))]


def _slices(dimensions: tuple[str, ...], *, case: str, at: str) -> dict[str, Any]:
    return {f"slice_{index}": _slice_expr(d, case=case, at=at) for index, d in enumerate(dimensions)}


def _slice_of(row: Mapping[str, Any], dimensions: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[f"slice_{index}"] for index in range(len(dimensions)))


def _period(at: str, start: dt.datetime | None, end: dt.datetime | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{at}__gte": start})
    if end is not None:
        q &= Q(**{f"{at}__lt": end})
    return q


# --- The report -----------------------------------------------------------------------------------------------


@dataclass
class FigureValue:
    figure: FigureDef
    numerator: float
    denominator: float
    value: float | None


@dataclass
class ReportRow:
    key: str
    label: str
    counters: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def values(self) -> list[FigureValue]:
        return [figure_value(f, self.counters) for f in FIGURES]

    def value(self, code: str) -> float | None:
        return figure_value(FIGURE_BY_CODE[code], self.counters).value


@dataclass
class StatisticsReport:
    scope: StatisticsScope
    dimension: str
    rows: list[ReportRow]
    total: ReportRow
    # Set when the figures before this time came from the pre-computed counters (the rest is live).
    counted_until: dt.datetime | None = None


def figure_value(figure: FigureDef, counters: Mapping[str, float]) -> FigureValue:
    if figure.waits_for or not figure.numerator:
        return FigureValue(figure, 0, 0, None)
    num = counters.get(figure.numerator, 0)
    if not figure.denominator:
        value: float | None = num / 60 if figure.unit == MINUTES else num
        return FigureValue(figure, num, 0, value)
    den = counters.get(figure.denominator, 0)
    if not den:
        return FigureValue(figure, num, den, None)
    ratio = num / den
    if figure.unit == PERCENT:
        ratio *= 100
    elif figure.unit == DAYS:
        ratio /= 86400
    return FigureValue(figure, num, den, round(ratio, 2))


def statistics_report(
    *, scope: StatisticsScope, dimension: str = TOTAL, start: dt.datetime | None = None,
    end: dt.datetime | None = None, live: bool = False,
) -> StatisticsReport:
    """Every figure for ``scope``, one row per value of ``dimension`` plus the total, between ``start``
    (inclusive) and ``end`` (exclusive). The scope must come from ``statistics_scope_for_user``."""
    return statistics_reports(scope=scope, dimensions=(dimension,), start=start, end=end, live=live)[dimension]


def statistics_reports(
    *, scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None = None,
    end: dt.datetime | None = None, live: bool = False,
) -> dict[str, StatisticsReport]:
    """One report per dimension from one pass over the data: the counters are grouped by every dimension at
    once (a few thousand groups at most) and summed per dimension here, so a dashboard with a trend and a
    breakdown reads each table once. A court's or organisation's days before ``counted_until`` come from the
    pre-computed daily counters once they are built, unless ``live`` is asked for."""
    dimensions = tuple(dict.fromkeys(dimensions))
    unknown = [d for d in dimensions if d not in DIMENSIONS]
    if unknown or not dimensions:
        raise ValueError(f"Unknown dimensions {unknown!r}")
    raw: dict[str, dict[Any, dict[str, float]]] = {
        d: defaultdict(lambda: defaultdict(float)) for d in dimensions
    }
    total: dict[str, float] = defaultdict(float)
    counted_until = None if live else _counted_until(scope, start, end)
    if counted_until is None:
        source = _collect(scope=scope, dimensions=dimensions, start=start, end=end)
    else:
        source = _from_counters(scope=scope, dimensions=dimensions, start=start, end=end,
                                counted_until=counted_until)
    for key, counter, amount in source:
        for dimension, value in zip(dimensions, key, strict=True):
            raw[dimension][value][counter] += amount
        total[counter] += amount
    return {
        d: StatisticsReport(
            scope=scope, dimension=d, rows=_rows(scope=scope, dimension=d, raw=raw[d]),
            total=ReportRow(key="all", label=str(DIMENSIONS[TOTAL]), counters=defaultdict(float, total)),
            counted_until=counted_until,
        )
        for d in dimensions
    }


# --- Pre-computed counters (D37) ----------------------------------------------------------------------
# A court's or an organisation's report reads the daily counters (``StatisticsCounter``) for the days before
# ``counted_until`` and computes the rest (today's events, normally) live with the same queries as before.
# A mediator's own report stays live: its scope is every case the mediator ever presided over, which the
# counters' slice (the presiding mediator who saw the case through) does not give. So does a period that does
# not start and end at local midnights.
_COUNTER_FIELDS: dict[str, str] = {
    COURT: "court_id", ORGANISATION: "organisation_id", SECTOR: "sector", MEDIATOR: "mediator_id",
    DISPUTE_TYPE: "dispute_type",
}


def _local_midnight(at: dt.datetime) -> bool:
    local = at.astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.time() == dt.time()


def _counted_until(scope: StatisticsScope, start: dt.datetime | None, end: dt.datetime | None
                   ) -> dt.datetime | None:
    if scope.kind not in (COURT, ORGANISATION) or any(at is not None and not _local_midnight(at)
                                                      for at in (start, end)):
        return None
    state = StatisticsCounterState.objects.order_by("pk").values_list("counted_until", flat=True).first()
    return state


def _from_counters(
    *, scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None, end: dt.datetime | None,
    counted_until: dt.datetime,
) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    zone = ZoneInfo(settings.TIME_ZONE)
    counted_end = counted_until if end is None else min(end, counted_until)
    rows = StatisticsCounter.objects.filter(day__lt=counted_end.astimezone(zone).date())
    if start is not None:
        rows = rows.filter(day__gte=start.astimezone(zone).date())
    if scope.kind == COURT:
        rows = rows.filter(court_id__in=sorted(scope.court_ids))
    else:
        rows = rows.filter(organisation_id=scope.root_id)
    slices: dict[str, Any] = {}
    for index, dimension in enumerate(dimensions):
        if dimension == TOTAL:
            slices[f"slice_{index}"] = Value("all")
        elif dimension == MONTH:
            slices[f"slice_{index}"] = TruncMonth("day")
        else:
            slices[f"slice_{index}"] = F(_COUNTER_FIELDS[dimension])
    summed = rows.annotate(**slices).values(*_names(dimensions), "counter").annotate(n=Sum("amount")).order_by()
    for row in summed:
        key = tuple(
            dt.datetime(value.year, value.month, 1, tzinfo=zone) if dimension == MONTH else value
            for dimension, value in zip(dimensions, _slice_of(row, dimensions), strict=True)
        )
        yield key, row["counter"], row["n"]
    # After the counted days: live. Always run (even when empty) so the query count does not depend on the data.
    live_start = counted_until if start is None else max(start, counted_until)
    live_end = end if end is None or end > live_start else live_start
    yield from _collect(scope=scope, dimensions=dimensions, start=live_start, end=live_end)


def _collect(
    *, scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None, end: dt.datetime | None
) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    yield from _audit_counters(scope, dimensions, start, end)
    yield from _outcome_durations(scope, dimensions, start, end)
    yield from _session_counters(scope, dimensions, start, end)
    yield from _service_counters(scope, dimensions, start, end)
    yield from _clock_counters(scope, dimensions, start, end)
    yield from _room_counters(scope, dimensions, start, end)
    yield from _contact_counters(scope, dimensions, start, end)
    yield from _selftest_counters(scope, dimensions, start, end)


def _audit_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                    end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    rows = (
        AuditEvent.objects.filter(scope.case_filter("case__"), _period("created_at", start, end),
                                  kind__in=list(_EVENT_COUNTERS))
        .annotate(**_slices(dimensions, case="case", at="created_at"))
        .values(*_names(dimensions), "kind", "case__origin")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        key, kind, origin, n = _slice_of(row, dimensions), row["kind"], row["case__origin"], row["n"]
        for counter in _EVENT_COUNTERS[kind]:
            yield key, counter, n
        if kind == "case.submit":
            yield key, _ORIGIN_COUNTER[origin], n
        elif kind == "case.accept_for_mediation" and origin in _PRE_FILING:
            yield key, "diverted", n
    # Partial agreements: a join on the frozen agreement rather than a subquery per event.
    partial = (
        AuditEvent.objects.filter(scope.case_filter("case__"), _period("created_at", start, end),
                                  kind=AGREEMENT_SIGNED, case__agreements__status=AgreementStatus.FROZEN,
                                  case__agreements__scope=AgreementScope.PARTIAL)
        .annotate(**_slices(dimensions, case="case", at="created_at"))
        .values(*_names(dimensions)).annotate(n=Count("pk")).order_by()
    )
    for agreement in partial:
        yield _slice_of(agreement, dimensions), "partial_agreements", agreement["n"]


def _outcome_durations(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                       end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    # The acceptance is joined through the case (one per case: SUBMITTED → AWAITING_SELECTION happens once),
    # which the planner does in one hash join instead of a lookup per outcome.
    rows = (
        AuditEvent.objects.filter(scope.case_filter("case__"), _period("created_at", start, end),
                                  kind__in=_OUTCOME_KINDS, case__audit_events__kind=ACCEPTED_FOR_MEDIATION)
        .annotate(**_slices(dimensions, case="case", at="created_at"),
                  took=ExpressionWrapper(F("created_at") - F("case__audit_events__created_at"),
                                         output_field=DurationField()))
        .values(*_names(dimensions))
        .annotate(n=Count("pk"), total=Sum("took"))
        .order_by()
    )
    for row in rows:
        yield _slice_of(row, dimensions), "outcome_timed", row["n"]
        yield _slice_of(row, dimensions), "outcome_seconds", row["total"].total_seconds() if row["total"] else 0.0


def _session_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                      end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    rows = (
        MediationSession.objects.filter(scope.case_filter("case__"), _period("starts_at", start, end),
                                        status=SessionStatus.HELD)
        .annotate(**_slices(dimensions, case="case", at="starts_at"),
                  video=Exists(Room.objects.filter(session_id=OuterRef("pk"))))
        .values(*_names(dimensions))
        .annotate(n=Count("pk"), v=Count("pk", filter=Q(video=True)))
        .order_by()
    )
    for row in rows:
        yield _slice_of(row, dimensions), "sessions_held", row["n"]
        yield _slice_of(row, dimensions), "sessions_video", row["v"]


def _service_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                      end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    on_time = Q(effective_at__isnull=False, effective_at__lte=F("created_at") + Value(ON_TIME_SERVICE))
    rows = (
        ServiceRecord.objects.filter(scope.case_filter("case__"), _period("created_at", start, end))
        .annotate(**_slices(dimensions, case="case", at="created_at"))
        .values(*_names(dimensions))
        .annotate(n=Count("pk"), eff=Count("pk", filter=Q(effective_at__isnull=False)),
                  timely=Count("pk", filter=on_time))
        .order_by()
    )
    for row in rows:
        yield _slice_of(row, dimensions), "served", row["n"]
        yield _slice_of(row, dimensions), "served_effective", row["eff"]
        yield _slice_of(row, dimensions), "served_on_time", row["timely"]


def _clock_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                    end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    # A clock is met when the act stopped it before it fell due; missed when the sweep fired it. Stopped
    # after the due time (a late act the sweep had not reached yet) is a miss too.
    closed_at = Coalesce("stopped_at", "fired_at")
    met = Q(status=TimerStatus.STOPPED, stopped_at__lte=F("due_at"))
    # closed_at ≥ start implies one of its two sources is: a filter their indexes can serve.
    since = Q() if start is None else Q(stopped_at__gte=start) | Q(fired_at__gte=start)
    rows = (
        Timer.objects.filter(scope.case_filter("case__"), since, kind__in=_CLOCK_KINDS,
                             status__in=(TimerStatus.STOPPED, TimerStatus.FIRED))
        .annotate(closed_at=closed_at)
        .filter(_period("closed_at", start, end))
        .annotate(**_slices(dimensions, case="case", at="closed_at"))
        .values(*_names(dimensions), "kind")
        .annotate(n=Count("pk"), ok=Count("pk", filter=met))
        .order_by()
    )
    for row in rows:
        yield _slice_of(row, dimensions), f"clock_closed:{row['kind']}", row["n"]
        yield _slice_of(row, dimensions), f"clock_met:{row['kind']}", row["ok"]


def _room_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                   end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    in_scope = Q(scope.case_filter("room__case__"), _period("room__opened_at", start, end))
    members = (
        RoomMember.objects.filter(in_scope).exclude(role=ParticipantRole.MEDIATOR)
        .annotate(**_slices(dimensions, case="room__case", at="room__opened_at"))
        .values(*_names(dimensions))
        .annotate(n=Count("pk"), admitted=Count("pk", filter=Q(admitted_at__isnull=False)))
        .order_by()
    )
    for row in members:
        yield _slice_of(row, dimensions), "joiners", row["n"]
        yield _slice_of(row, dimensions), "admitted", row["admitted"]
    # Each admission's wait: from the member's latest arrival in the waiting room to the admission. Mediators
    # go straight in (no waiting event) and are left out.
    waited_since = Subquery(
        RoomEvent.objects.filter(room_id=OuterRef("room_id"), seq__lt=OuterRef("seq"), kind=MEMBER_WAITING,
                                 payload__member=OuterRef("payload__member"))
        .order_by("-seq").values("created_at")[:1]
    )
    admissions = (
        RoomEvent.objects.filter(in_scope, kind=MEMBER_ADMITTED)
        .annotate(waited_since=waited_since).filter(waited_since__isnull=False)
        .annotate(**_slices(dimensions, case="room__case", at="room__opened_at"),
                  waited=ExpressionWrapper(F("created_at") - F("waited_since"), output_field=DurationField()))
        .values(*_names(dimensions)).annotate(n=Count("pk"), waited_total=Sum("waited")).order_by()
    )
    for admission in admissions:
        waited = admission["waited_total"]
        yield _slice_of(admission, dimensions), "admissions_timed", admission["n"]
        yield _slice_of(admission, dimensions), "join_seconds", waited.total_seconds() if waited else 0.0
    rooms = (
        Room.objects.filter(scope.case_filter("case__"), _period("opened_at", start, end))
        .annotate(**_slices(dimensions, case="case", at="opened_at"))
        .values(*_names(dimensions)).annotate(n=Count("pk")).order_by()
    )
    for room in rooms:
        yield _slice_of(room, dimensions), "rooms", room["n"]
    # A rejoin: a member's "left" event followed by that member coming back (waiting or admitted again) in
    # the same room. The time between the two is time lost to the reconnect.
    back_at = Subquery(
        RoomEvent.objects.filter(room_id=OuterRef("room_id"), seq__gt=OuterRef("seq"),
                                 kind__in=(MEMBER_WAITING, MEMBER_ADMITTED),
                                 payload__member=OuterRef("payload__member"))
        .order_by("seq").values("created_at")[:1]
    )
    rejoins = (
        RoomEvent.objects.filter(in_scope, kind=MEMBER_LEFT)
        .annotate(back_at=back_at).filter(back_at__isnull=False)
        .annotate(**_slices(dimensions, case="room__case", at="room__opened_at"),
                  lost=ExpressionWrapper(F("back_at") - F("created_at"), output_field=DurationField()))
        .values(*_names(dimensions)).annotate(n=Count("pk"), lost_total=Sum("lost")).order_by()
    )
    for rejoin in rejoins:
        lost = rejoin["lost_total"]
        yield _slice_of(rejoin, dimensions), "rejoins", rejoin["n"]
        yield _slice_of(rejoin, dimensions), "reconnect_seconds", lost.total_seconds() if lost else 0.0


def _contact_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                      end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    """Contact requests (D41), dated by the request: reached, reached within the first clock, answered within
    the feedback clock (the ``*_on_time`` flags the service sets when it records the act)."""
    rows = (
        ContactRequest.objects.filter(scope.case_filter("case__"), _period("created_at", start, end))
        .annotate(**_slices(dimensions, case="case", at="created_at"))
        .values(*_names(dimensions))
        .annotate(n=Count("pk"), reached=Count("pk", filter=Q(contacted_at__isnull=False)),
                  reached_on_time=Count("pk", filter=Q(contacted_on_time=True)),
                  answered_on_time=Count("pk", filter=Q(answered_on_time=True)))
        .order_by()
    )
    for row in rows:
        key = _slice_of(row, dimensions)
        yield key, "contact_requests", row["n"]
        yield key, "contact_reached", row["reached"]
        yield key, "contact_reached_on_time", row["reached_on_time"]
        yield key, "contact_answered_on_time", row["answered_on_time"]


def _selftest_counters(scope: StatisticsScope, dimensions: tuple[str, ...], start: dt.datetime | None,
                       end: dt.datetime | None) -> Iterable[tuple[tuple[Any, ...], str, float]]:
    """Self-tests (issue 14): who among the admitted participants tested before being admitted (dated by the
    room's opening, like the other room figures), and the verdicts (each person's last test per session,
    dated by the session's start)."""
    tested_before = Exists(SelfTest.objects.filter(session_id=OuterRef("room__session_id"), user_id=OuterRef("user_id"),
                                                   created_at__lte=OuterRef("admitted_at")))
    members = (
        RoomMember.objects.filter(scope.case_filter("room__case__"), _period("room__opened_at", start, end),
                                  admitted_at__isnull=False)
        .exclude(role=ParticipantRole.MEDIATOR)
        .annotate(**_slices(dimensions, case="room__case", at="room__opened_at"), tested=tested_before)
        .values(*_names(dimensions))
        .annotate(n=Count("pk"), tested_n=Count("pk", filter=Q(tested=True)))
        .order_by()
    )
    for row in members:
        yield _slice_of(row, dimensions), "participants_admitted", row["n"]
        yield _slice_of(row, dimensions), "selftested_before_join", row["tested_n"]
    later = SelfTest.objects.filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk")),
        session_id=OuterRef("session_id"), user_id=OuterRef("user_id"),
    )
    verdicts = (
        SelfTest.objects.filter(scope.case_filter("session__case__"), _period("session__starts_at", start, end))
        .filter(~Exists(later))
        .annotate(**_slices(dimensions, case="session__case", at="session__starts_at"))
        .values(*_names(dimensions), "verdict")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in verdicts:
        yield _slice_of(row, dimensions), "selftests", row["n"]
        yield _slice_of(row, dimensions), f"selftest:{row['verdict']}", row["n"]


def _rows(*, scope: StatisticsScope, dimension: str, raw: Mapping[Any, Mapping[str, float]]) -> list[ReportRow]:
    if dimension == TOTAL:
        return []
    if dimension == COURT:
        return _court_rows(scope, raw)
    labels = _labels(dimension, [k for k in raw if k is not None])
    rows = [ReportRow(key=_key(k), label=labels.get(k, str(k)) if k is not None else str(_("未分配")),
                      counters=defaultdict(float, raw[k])) for k in raw]
    if dimension == MONTH:
        rows.sort(key=lambda r: r.key)
    else:
        rows.sort(key=lambda r: (-r.counters.get("received", 0), r.label))
    return rows


def _key(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%Y-%m")
    return "none" if value is None else str(value)


def _labels(dimension: str, keys: list[Any]) -> dict[Any, str]:
    if dimension == ORGANISATION:
        return {pk: short or name for pk, short, name in
                Organisation.objects.filter(pk__in=keys).values_list("pk", "short_name", "name")}
    if dimension == MEDIATOR:
        return {u.pk: u.display_name for u in User.objects.filter(pk__in=keys)}
    if dimension in (SECTOR, DISPUTE_TYPE):
        return {k: str(Sector(k).label) if k in Sector.values else str(_("未分类")) for k in keys}
    if dimension == MONTH:
        return {k: _key(k) for k in keys}
    return {}


def _court_rows(scope: StatisticsScope, raw: Mapping[Any, Mapping[str, float]]) -> list[ReportRow]:
    """One row per court in scope, each with its own cases and those of every court below it."""
    courts = list(Organisation.objects.filter(kind=OrganisationKind.COURT).values("pk", "name", "short_name",
                                                                                   "parent_id"))
    parent = {c["pk"]: c["parent_id"] for c in courts}
    visible = scope.court_ids if scope.kind == COURT else frozenset(k for k in raw if k is not None)
    rolled: dict[int, dict[str, float]] = {pk: defaultdict(float) for pk in visible}
    for court_id, counters in raw.items():
        node = court_id
        while node is not None:
            if node in rolled:
                for name, amount in counters.items():
                    rolled[node][name] += amount
            node = parent.get(node)
    depth = {pk: _depth(pk, parent) for pk in visible}
    order = {c["pk"]: (depth[c["pk"]], c["name"]) for c in courts if c["pk"] in visible}
    names = {c["pk"]: c["short_name"] or c["name"] for c in courts}
    return [ReportRow(key=str(pk), label=names.get(pk, str(pk)), counters=rolled[pk])
            for pk in sorted(visible, key=lambda pk: order.get(pk, (99, "")))]


def _depth(pk: int, parent: Mapping[int, int | None]) -> int:
    depth, node = 0, parent.get(pk)
    while node is not None and depth < 10:
        depth, node = depth + 1, parent.get(node)
    return depth
