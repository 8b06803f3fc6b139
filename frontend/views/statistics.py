"""Dashboards: one page per audience (court leader, organisation admin, mediator), each chart drawn by a static
script from a JSON block beside the table it shows, with a CSV export of that table. Who sees which scope is
decided by ``mediation.selectors.statistics`` alone."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from frontend.http import signed_in_user as _user
from mediation.exceptions import PermissionDenied
from mediation.selectors import statistics as st

# What each audience looks at first: the slice of its breakdown chart and the figures charted.
BREAKDOWN = {st.COURT: st.COURT, st.ORGANISATION: st.MEDIATOR, st.MEDIATOR: st.DISPUTE_TYPE}
TREND_FIGURES = ("received", "concluded", "success_rate")
BREAKDOWN_FIGURES = ("received", "success_rate", "diversion_rate")
ROOM_FIGURES = ("join_success", "time_to_join", "rejoins_per_session", "minutes_lost")
CONTACT_FIGURES = ("contact_requests", "contact_reached", "contact_reached_on_time", "contact_feedback_on_time")
SELFTEST_FIGURES = ("selftest_before_join", "selftest_good", "selftest_audio_only", "selftest_too_weak")


@login_required
@require_GET
def statistics_home(request: HttpRequest) -> HttpResponse:
    """The first scope the person may see; a page that says there is none otherwise."""
    scopes = st.statistics_scopes_for_user(user=_user(request))
    if not scopes:
        return render(request, "frontend/statistics/none.html", status=403)
    return redirect("statistics_dashboard", kind=scopes[0].kind, root_id=scopes[0].root_id)


def _scope_or_404(request: HttpRequest, kind: str, root_id: int) -> st.StatisticsScope:
    try:
        return st.statistics_scope_for_user(user=_user(request), kind=kind, root_id=root_id)
    except PermissionDenied as exc:
        raise Http404(str(exc)) from exc


def _period(request: HttpRequest) -> tuple[dt.datetime | None, dt.datetime | None, str, str]:
    """``?start=YYYY-MM-DD&end=YYYY-MM-DD`` (end inclusive on the page, exclusive in the query); a malformed
    date is ignored rather than refused, so a hand-edited address still shows the whole period."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.TIME_ZONE)
    values: list[dt.datetime | None] = []
    texts: list[str] = []
    for name, shift in (("start", 0), ("end", 1)):
        raw = request.GET.get(name, "")
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            values.append(None)
            texts.append("")
            continue
        values.append(dt.datetime.combine(day + dt.timedelta(days=shift), dt.time(), tzinfo=zone))
        texts.append(day.isoformat())
    return values[0], values[1], texts[0], texts[1]


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == st.PERCENT:
        return f"{value:.1f}%"
    if unit in (st.COUNT,):
        return f"{value:.0f}"
    return f"{value:.1f}"


def _plain(value: float | None) -> str:
    """A number as a spreadsheet reads it: whole counts without ".0", empty for no value."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(round(value, 2))


def _table(report: st.StatisticsReport, codes: tuple[str, ...]) -> dict[str, Any]:
    figures = [st.FIGURE_BY_CODE[c] for c in codes]
    rows = [*report.rows, report.total] if report.rows else [report.total]
    return {
        "dimension": str(st.DIMENSIONS[report.dimension]),
        "columns": [{"code": f.code, "label": str(f.label), "unit": f.unit} for f in figures],
        "rows": [
            {"label": row.label, "total": row is report.total,
             "values": [row.value(f.code) for f in figures],
             "shown": [_fmt(row.value(f.code), f.unit) for f in figures]}
            for row in rows
        ],
    }


@login_required
@require_GET
def statistics_dashboard(request: HttpRequest, kind: str, root_id: int) -> HttpResponse:
    scope = _scope_or_404(request, kind, root_id)
    start, end, start_text, end_text = _period(request)
    reports = st.statistics_reports(scope=scope, dimensions=(st.MONTH, BREAKDOWN[scope.kind]), start=start, end=end)
    trend, breakdown = reports[st.MONTH], reports[BREAKDOWN[scope.kind]]
    total = breakdown.total
    groups = [
        {"title": str(title),
         "figures": [{"label": str(v.figure.label), "definition": str(v.figure.definition),
                      "shown": _fmt(v.value, v.figure.unit), "waits_for": v.figure.waits_for}
                     for v in total.values() if v.figure.group == code]}
        for code, title in st.GROUPS.items()
    ]
    charts = [
        {"id": "trend", "title": _("按月趋势"), "dimension": st.MONTH, "kind": "trend",
         "data": _table(trend, TREND_FIGURES)},
        {"id": "breakdown", "title": _("按%(d)s") % {"d": st.DIMENSIONS[breakdown.dimension]},
         "dimension": breakdown.dimension, "kind": "bars", "data": _table(breakdown, BREAKDOWN_FIGURES)},
        {"id": "rooms", "title": _("在线调解室（按月）"), "dimension": st.MONTH, "kind": "bars",
         "data": _table(trend, ROOM_FIGURES)},
        {"id": "contact", "title": _("联系法官/调解员（按月）"), "dimension": st.MONTH, "kind": "bars",
         "data": _table(trend, CONTACT_FIGURES)},
        {"id": "contact-breakdown",
         "title": _("联系法官/调解员（按%(d)s）") % {"d": st.DIMENSIONS[breakdown.dimension]},
         "dimension": breakdown.dimension, "kind": "bars", "data": _table(breakdown, CONTACT_FIGURES)},
        {"id": "selftest", "title": _("入会前自检（按月）"), "dimension": st.MONTH, "kind": "bars",
         "data": _table(trend, SELFTEST_FIGURES)},
    ]
    return render(request, "frontend/statistics/dashboard.html", {
        "scope": scope, "scopes": st.statistics_scopes_for_user(user=_user(request)), "groups": groups,
        "charts": charts, "start": start_text, "end": end_text, "dimensions": st.DIMENSIONS,
        "counted_until": trend.counted_until,
        "audience": {st.COURT: _("法院领导"), st.ORGANISATION: _("调解组织管理员"),
                     st.MEDIATOR: _("调解员")}[scope.kind],
    })


@login_required
@require_GET
def statistics_csv(request: HttpRequest, kind: str, root_id: int) -> HttpResponse:
    """Every figure of the scope by one slice (``?dimension=``), as the charts' tables show them, with the raw
    numerator and denominator beside each rate so a reader can re-add them."""
    scope = _scope_or_404(request, kind, root_id)
    dimension = request.GET.get("dimension", st.TOTAL)
    if dimension not in st.DIMENSIONS:
        raise Http404(_("没有这种统计口径。"))
    start, end, start_text, end_text = _period(request)
    report = st.statistics_report(scope=scope, dimension=dimension, start=start, end=end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = "-".join(part for part in ("statistics", scope.key, dimension, start_text, end_text) if part)
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with the BOM
    writer = csv.writer(response)
    writer.writerow([str(st.DIMENSIONS[dimension]), "code", _("指标"), _("数值"), _("分子"), _("分母"), _("单位")])
    for row in [*report.rows, report.total]:
        for value in row.values():
            writer.writerow([row.label, value.figure.code, str(value.figure.label),
                             _plain(value.value), _plain(value.numerator), _plain(value.denominator),
                             value.figure.unit])
    return response
