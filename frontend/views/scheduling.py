"""Session pages (OMR 16): the case's sessions in the viewer's own time, the mediator's scheduling form
with a "find the first common free time" button, rescheduling and cancelling with reasons, the ``.ics``
download, and the private calendar feed with its subscription page.

Thin: parse a form, call one service or selector, render. People with no role on the case get 404;
people with a role who may not act get a page saying so (403). The feed answers 404 to any wrong token.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from frontend.http import case_or_404 as _case_or_404
from frontend.http import signed_in_user as _user
from mediation import transitions as tr
from mediation.choices import AttendanceMode, ParticipantRole, SessionKind, SessionStatus
from mediation.exceptions import DomainError, NotFound
from mediation.exceptions import PermissionDenied as DomainPermissionDenied
from mediation.models import Case, MediationSession, User, Venue
from mediation.permissions import case_roles
from mediation.scheduling_slots import zone
from mediation.selectors.scheduling import (
    feed_sessions_for_user,
    session_get_for_case,
    session_get_for_participant,
    sessions_for_case,
    span_text,
    user_time_zone,
    zone_label,
)
from mediation.services.calendar_feed import (
    calendar_feed_rotate,
    calendar_feed_token_for,
    calendar_feed_url,
    calendar_feed_user,
    session_ics,
    user_feed_ics,
)
from mediation.services.scheduling import (
    ParticipantSpec,
    case_allows_scheduling,
    session_cancel,
    session_first_free_slot,
    session_participants_default,
    session_reschedule,
    session_schedule,
    venues_for_case,
)

TEXTAREA = forms.Textarea(attrs={"rows": 3})


def _date_widget() -> forms.DateInput:
    # ISO values whatever the language: a browser's date input reads nothing else.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")
DURATIONS = [(30, gettext_lazy("30分钟")), (60, gettext_lazy("1小时")), (90, gettext_lazy("1.5小时")),
             (120, gettext_lazy("2小时")), (180, gettext_lazy("3小时")), (240, gettext_lazy("4小时"))]
ICS_TYPE = "text/calendar; charset=utf-8"


# --- helpers ---------------------------------------------------------------------------------------------


def _session_or_404(case: Case, session_id: int) -> MediationSession:
    return session_get_for_case(case=case, session_id=session_id)



def _is_mediator(user: User, case: Case) -> bool:
    return tr.MEDIATOR in case_roles(user, case)


NOT_MEDIATOR = gettext_lazy("只有本案的调解员可以安排、改期或取消调解活动。")


def _spec_key(spec: ParticipantSpec) -> str:
    return f"{spec.role}-{spec.user.pk if spec.user else 0}-{spec.party.pk if spec.party else 0}"


def _local(day: dt.date, at: dt.time, zone_name: str) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=zone(zone_name))


# --- forms -----------------------------------------------------------------------------------------------


class SessionForm(forms.Form):
    """The when and how of a session; per-person attendance and per-party slots are added per case."""

    kind = forms.ChoiceField(label=gettext_lazy("调解方式"), choices=SessionKind.choices, widget=forms.RadioSelect,
                             initial=SessionKind.JOINT_ONLINE)
    date = forms.DateField(label=gettext_lazy("日期"), widget=_date_widget())
    start = forms.TimeField(label=gettext_lazy("开始时间"), widget=_time_widget())
    duration = forms.TypedChoiceField(label=gettext_lazy("时长"), choices=DURATIONS, coerce=int, initial=60)
    venue = forms.ModelChoiceField(label=gettext_lazy("调解场所"), queryset=Venue.objects.none(), required=False,
                                   empty_label=gettext_lazy("不使用场所（全部在线）"))
    note = forms.CharField(label=gettext_lazy("说明"), required=False, widget=TEXTAREA, max_length=1000,
                           help_text=gettext_lazy("会写入通知，请勿填写调解方案等保密内容。"))

    def __init__(self, *args: Any, case: Case, specs: list[ParticipantSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.specs = specs
        self.fields["venue"].queryset = Venue.objects.filter(  # type: ignore[attr-defined]
            pk__in=[v.pk for v in venues_for_case(case=case)]
        )
        for spec in specs:
            if spec.role != ParticipantRole.MEDIATOR:
                self.fields[f"attend_{_spec_key(spec)}"] = forms.BooleanField(
                    required=False, label=spec.name
                )
            if spec.role == ParticipantRole.PARTY and spec.party is not None:
                self.fields[f"slot_start_{spec.party.pk}"] = forms.TimeField(required=False, widget=_time_widget())
                self.fields[f"slot_end_{spec.party.pk}"] = forms.TimeField(required=False, widget=_time_widget())

    def person_rows(self) -> list[dict[str, Any]]:
        """For the template: each person, their venue checkbox and (parties) their slot fields."""
        rows = []
        for spec in self.specs:
            if spec.role == ParticipantRole.MEDIATOR:
                continue
            key = _spec_key(spec)
            row: dict[str, Any] = {
                "spec": spec, "attend": self[f"attend_{key}"], "role": ParticipantRole(spec.role).label,
            }
            if spec.role == ParticipantRole.PARTY and spec.party is not None:
                row["slot_start"] = self[f"slot_start_{spec.party.pk}"]
                row["slot_end"] = self[f"slot_end_{spec.party.pk}"]
            rows.append(row)
        return rows

    def participants(self, zone_name: str) -> list[ParticipantSpec]:
        data = self.cleaned_data
        day = data["date"]
        out = []
        for spec in self.specs:
            key = _spec_key(spec)
            # The page hides the boxes that do not apply to the chosen kind; ignore what they still send.
            at_venue = data.get(f"attend_{key}") and data["kind"] == SessionKind.HYBRID
            attendance = AttendanceMode.VENUE if at_venue else AttendanceMode.ONLINE
            slot_start = slot_end = None
            if spec.role == ParticipantRole.PARTY and spec.party is not None:
                s, e = data.get(f"slot_start_{spec.party.pk}"), data.get(f"slot_end_{spec.party.pk}")
                slot_start = _local(day, s, zone_name) if s else None
                slot_end = _local(day, e, zone_name) if e else None
            out.append(ParticipantSpec(role=spec.role, user=spec.user, party=spec.party, attendance=attendance,
                                       slot_starts_at=slot_start, slot_ends_at=slot_end))
        return out

    def chosen_venue(self) -> Venue | None:
        # A joint online session has no venue: the hidden list may still send the last one picked.
        return None if self.cleaned_data["kind"] == SessionKind.JOINT_ONLINE else self.cleaned_data["venue"]

    def span(self, zone_name: str) -> tuple[dt.datetime, dt.datetime]:
        starts_at = _local(self.cleaned_data["date"], self.cleaned_data["start"], zone_name)
        return starts_at, starts_at + dt.timedelta(minutes=self.cleaned_data["duration"])


class RescheduleForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("新日期"), widget=_date_widget())
    start = forms.TimeField(label=gettext_lazy("新开始时间"), widget=_time_widget())
    duration = forms.TypedChoiceField(label=gettext_lazy("时长"), choices=DURATIONS, coerce=int)
    reason = forms.CharField(label=gettext_lazy("改期理由"), required=False, widget=TEXTAREA, max_length=1000,
                             help_text=gettext_lazy("理由会通知全部参加人员。"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("取消理由"), required=False, widget=TEXTAREA, max_length=1000,
                             help_text=gettext_lazy("理由会通知全部参加人员。"))


# --- pages -----------------------------------------------------------------------------------------------


@login_required
def session_list(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    rows = sessions_for_case(user=user, case=case)
    return render(request, "frontend/scheduling/list.html", {
        "case": case, "rows": rows, "can_manage": _is_mediator(user, case),
        "upcoming": [r for r in rows if r.upcoming], "others": [r for r in rows if not r.upcoming],
    })


@login_required
def session_new(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    if not _is_mediator(user, case):
        raise DomainPermissionDenied(str(NOT_MEDIATOR), case=case)
    zone_name = user_time_zone(user)
    specs = session_participants_default(case=case)
    found = None
    if request.method == "POST" and "find" in request.POST:
        form, found = _find_slot(request, case, specs, zone_name)
    else:
        form = SessionForm(request.POST or None, case=case, specs=specs)
    if request.method == "POST" and "find" not in request.POST and form.is_valid():
        starts_at, ends_at = form.span(zone_name)
        try:
            session_schedule(
                case=case, actor=user, kind=form.cleaned_data["kind"], starts_at=starts_at, ends_at=ends_at,
                venue=form.chosen_venue(), participants=form.participants(zone_name),
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已安排调解活动（%(when)s），已通知各参加人员。")
                             % {"when": span_text(starts_at, ends_at, zone_name)})
            return redirect("session_list", case_id=case.pk)
    return render(request, "frontend/scheduling/new.html", {
        "case": case, "form": form, "zone_label": zone_label(zone_name), "found": found,
        "open": case_allows_scheduling(case),
        "has_venues": form.fields["venue"].queryset.exists(),  # type: ignore[attr-defined]
    })


def _find_slot(
    request: HttpRequest, case: Case, specs: list[ParticipantSpec], zone_name: str
) -> tuple[SessionForm, str]:
    """The "find the first common free time" button: keep what was typed, fill in the date and time."""
    values = {key: request.POST.get(key) for key in request.POST if key not in {"csrfmiddlewaretoken", "find"}}
    try:
        minutes = int(values.get("duration") or 60)
    except ValueError:
        minutes = 60
    minutes = minutes if minutes in dict(DURATIONS) else 60
    venue = None
    if values.get("venue"):
        venue = next((v for v in venues_for_case(case=case) if str(v.pk) == values["venue"]), None)
    slot = session_first_free_slot(case=case, duration=dt.timedelta(minutes=minutes), venue=venue)
    initial: dict[str, Any] = {**values, "duration": minutes}
    for key in list(initial):
        if key.startswith("attend_"):
            initial[key] = True
    if slot is None:
        message = _("未来10个工作日内没有各方共同空闲的时间，请缩短时长或手动选择时间。")
    else:
        local = timezone.localtime(slot[0], zone(zone_name))
        initial.update(date=local.date(), start=local.time().replace(second=0, microsecond=0))
        message = _("最早的共同空闲时间：%(when)s。已填入，请确认后提交。") % {
            "when": span_text(slot[0], slot[1], zone_name)
        }
    return SessionForm(initial=initial, case=case, specs=specs), message


@login_required
def session_reschedule_page(request: HttpRequest, case_id: int, session_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    session = _session_or_404(case, session_id)
    if not _is_mediator(user, case):
        raise DomainPermissionDenied(str(NOT_MEDIATOR), case=case)
    zone_name = user_time_zone(user)
    local = timezone.localtime(session.starts_at, zone(zone_name))
    minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
    form = RescheduleForm(request.POST or None, initial={
        "date": local.date(), "start": local.time(), "duration": minutes if minutes in dict(DURATIONS) else 60,
    })
    if minutes not in dict(DURATIONS):
        form.fields["duration"].choices = [*DURATIONS, (minutes, _("%(n)d分钟") % {"n": minutes})]  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        starts_at = _local(form.cleaned_data["date"], form.cleaned_data["start"], zone_name)
        ends_at = starts_at + dt.timedelta(minutes=form.cleaned_data["duration"])
        try:
            session_reschedule(session=session, starts_at=starts_at, ends_at=ends_at,
                               reason=form.cleaned_data["reason"], actor=user)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已改期至%(when)s，已通知各参加人员。")
                             % {"when": span_text(starts_at, ends_at, zone_name)})
            return redirect("session_list", case_id=case.pk)
    return render(request, "frontend/scheduling/reschedule.html", {
        "case": case, "session": session, "form": form, "zone_label": zone_label(zone_name),
        "when": span_text(session.starts_at, session.ends_at, zone_name),
        "open": session.status == SessionStatus.SCHEDULED,
    })


@login_required
def session_cancel_page(request: HttpRequest, case_id: int, session_id: int) -> HttpResponse:
    case = _case_or_404(request, case_id)
    user = _user(request)
    session = _session_or_404(case, session_id)
    if not _is_mediator(user, case):
        raise DomainPermissionDenied(str(NOT_MEDIATOR), case=case)
    zone_name = user_time_zone(user)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session_cancel(session=session, reason=form.cleaned_data["reason"], actor=user)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已取消调解活动，已通知各参加人员。"))
            return redirect("session_list", case_id=case.pk)
    return render(request, "frontend/scheduling/cancel.html", {
        "case": case, "session": session, "form": form,
        "when": span_text(session.starts_at, session.ends_at, zone_name),
        "open": session.status == SessionStatus.SCHEDULED,
    })


@login_required
@require_GET
def session_ics_download(request: HttpRequest, case_id: int, session_id: int) -> HttpResponse:
    """The invitation file, for the session's own participants only (everyone else: 404)."""
    user = _user(request)
    session, mine = session_get_for_participant(user=user, case_id=case_id, session_id=session_id)
    newer = MediationSession.objects.filter(rescheduled_from=session).values_list("pk", flat=True).first()
    if newer is not None:
        # A replaced session: the current version carries the chain's UID with a higher SEQUENCE.
        return redirect("session_ics", case_id=case_id, session_id=newer)
    response = HttpResponse(session_ics(session=session, participant=mine), content_type=ICS_TYPE)
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response


@login_required
def calendar_subscribe(request: HttpRequest) -> HttpResponse:
    """The "订阅日历" page: the private feed URL, made on the first visit; POST makes a new one."""
    user = _user(request)
    if request.method == "POST":
        calendar_feed_rotate(user=user)
        messages.success(request, _("已重新生成订阅地址，原地址已失效。请在日历应用中使用新地址重新订阅。"))
        return redirect("calendar_subscribe")
    token = calendar_feed_token_for(user=user)
    url = calendar_feed_url(token)
    return render(request, "frontend/scheduling/subscribe.html", {
        "feed_url": url, "webcal_url": "webcal://" + url.split("://", 1)[-1],
    })


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private feed: no sign-in (calendar apps cannot), the token is the key; any wrong token: 404."""
    user = calendar_feed_user(token=token)
    if user is None:
        raise NotFound(_("订阅地址无效或已失效。"))
    body = user_feed_ics(user=user, sessions=feed_sessions_for_user(user=user))
    response = HttpResponse(body, content_type=ICS_TYPE)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response

