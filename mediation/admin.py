"""Django admin. Case status is read-only here: changes go through the transition form, which calls
``case_transition`` like every other caller. Audit events are read-only; opening a case in the admin
is itself audited (legal-rules §B11 item 12)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from mediation import transitions as tr
from mediation.choices import CaseStatus, EndReason, ReturnReason
from mediation.exceptions import DomainError
from mediation.models import (
    Agent,
    Agreement,
    AgreementClause,
    ApplicationDraft,
    AuditEvent,
    Case,
    CaseHelper,
    CaseMediator,
    ClauseAssent,
    Complaint,
    Consent,
    Disclosure,
    Evidence,
    HolidayOverride,
    IdentityVerification,
    MediationSession,
    MediatorChoice,
    MediatorProfile,
    Membership,
    NoticeText,
    Obligation,
    OneTimeCode,
    Organisation,
    OutboxMessage,
    Party,
    RecordConfirmation,
    RecordEntry,
    RecusalRequest,
    Room,
    RoomEvent,
    RoomMember,
    RosterEntry,
    ServiceAddress,
    ServiceDelivery,
    ServiceRecord,
    SessionParticipant,
    Timer,
    User,
    Venue,
    WorkingHours,
)
from mediation.permissions import can_view_case
from mediation.selectors.cases import case_actions_available
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.holidays import holiday_override_delete, holiday_override_set


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "real_name", "phone", "is_staff", "is_platform_admin"]
    search_fields = ["username", "real_name", "phone"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("实名信息"), {"fields": ("real_name", "phone", "id_type", "id_number_masked", "is_platform_admin")}),
    )
    readonly_fields = ["id_number_masked"]
    inlines = [MembershipInline]

    @admin.display(description=_("证件号码（脱敏）"))
    def id_number_masked(self, obj: User) -> str:
        return obj.id_number_masked


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "court_level", "parent", "sector", "is_active"]
    list_filter = ["kind", "court_level", "sector", "is_active"]
    search_fields = ["name", "short_name", "court_code"]
    autocomplete_fields = ["parent"]


class RosterEntryInline(admin.TabularInline):
    model = RosterEntry
    fk_name = "mediator"
    extra = 0
    autocomplete_fields = ["court"]


@admin.register(MediatorProfile)
class MediatorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "status", "charges_fees", "certificate_valid_until", "capacity"]
    list_filter = ["kind", "status", "charges_fees", "nationality"]
    search_fields = ["user__real_name", "user__username", "certificate_number"]
    autocomplete_fields = ["user"]
    inlines = [RosterEntryInline]


class PartyInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = Party
    extra = 0
    fields = readonly_fields = ("role", "kind", "name", "id_type", "id_number_masked", "uscc",
                                "legal_representative", "phone", "service_address", "user")

    @admin.display(description=_("证件号码（脱敏）"))
    def id_number_masked(self, obj: Party) -> str:
        return obj.id_number_masked


class CaseMediatorInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CaseMediator
    extra = 0
    fields = readonly_fields = ("mediator", "presiding", "is_active", "assigned_at", "ended_at")


class TimerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Timer
    extra = 0
    fields = ["kind", "status", "started_at", "due_at", "extra_days", "fired_at"]
    readonly_fields = ["kind", "status", "started_at", "due_at", "extra_days", "fired_at"]


class ObligationInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The schedule of obligations (PML 31): written only by services.obligations and services.performance."""

    model = Obligation
    extra = 0
    fields = readonly_fields = ("number", "obligor", "obligee", "amount", "due_date", "status", "confirmed_at",
                                "defaulted_at")


class TransitionForm(forms.Form):
    target = forms.ChoiceField(label=_("变更为"))
    reason = forms.ChoiceField(label=_("事由"), required=False)
    note = forms.CharField(label=_("理由/说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, rows: list[tr.Transition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target_field = self.fields["target"]
        reason_field = self.fields["reason"]
        assert isinstance(target_field, forms.ChoiceField)
        assert isinstance(reason_field, forms.ChoiceField)
        target_field.choices = [
            (
                row.target,
                _("%(status)s（%(rule)s）") % {"status": CaseStatus(row.target).label, "rule": row.source_rule},
            )
            for row in rows
        ]
        codes = sorted({code for row in rows for code in (row.reasons or ())})
        labels = {**dict(EndReason.choices), **dict(ReturnReason.choices)}
        reason_field.choices = [("", "—"), *((code, labels[code]) for code in codes)]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: every field of a case changes through a service that audits it (intake, assignment,
    transitions), never through this form. The page is a view plus the transition form."""

    list_display = ["reference", "title", "origin", "status", "court", "created_at"]
    list_filter = ["status", "origin", "dispute_type", "court"]
    search_fields = ["reference", "title", "court_case_number", "parties__name"]
    list_select_related = ["court"]
    inlines = [PartyInline, CaseMediatorInline, TimerInline, ObligationInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # The transition page is for people with a role on the case (it answers 404 to anyone else, the
        # platform admin included): offer them the link, and tell everyone else who can change the status.
        may = obj is not None and can_view_case(request.user, obj)  # type: ignore[arg-type]
        return [f.name for f in Case._meta.concrete_fields] + ["transition_link" if may else "transition_unavailable"]

    @admin.display(description=_("状态变更"))
    def transition_unavailable(self, obj: Case) -> str:
        text = _("只有本案的办案人员可以变更状态（本案法院的书记员、法官，或本案调解员），请以其账户登录后台操作。")
        return str(text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cases are created through intake (case_create), never from a blank admin form

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("状态变更"))
    def transition_link(self, obj: Case) -> str:
        url = reverse("admin:mediation_case_transition", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, _("变更状态…"))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path("<int:case_id>/transition/", self.admin_site.admin_view(self.transition_view),
                 name="mediation_case_transition"),
        ]
        return extra + super().get_urls()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        case = Case.objects.filter(pk=object_id).first()
        if case is not None and request.method == "GET":
            audit_append(kind="admin.case_viewed", actor=request.user, case=case,  # type: ignore[arg-type]
                         data={"path": request.path})
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = get_object_or_404(Case, pk=case_id)
        user = request.user
        if not can_view_case(user, case):  # type: ignore[arg-type]
            raise Http404  # the same answer as for a missing case; the audited change page is for admins
        rows = case_actions_available(user=user, case=case)  # type: ignore[arg-type]
        form = TransitionForm(request.POST or None, rows=rows)
        if request.method == "POST" and form.is_valid():
            try:
                case_transition(
                    case=case, to=form.cleaned_data["target"], actor=user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("案件状态已变更为：%s") % case.get_status_display())
                return HttpResponseRedirect(reverse("admin:mediation_case_change", args=[case.pk]))
        context = {
            **self.admin_site.each_context(request), "title": _("变更案件状态"), "case": case, "form": form,
            "rows": rows, "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mediation/case/transition.html", context)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["stream", "seq", "kind", "actor_label", "created_at", "short_hash"]
    list_filter = ["kind"]
    search_fields = ["stream", "kind", "actor_label"]
    readonly_fields = ["stream", "seq", "case", "kind", "actor", "actor_label", "data", "created_at", "prev_hash",
                       "hash"]

    @admin.display(description=_("哈希"))
    def short_hash(self, obj: AuditEvent) -> str:
        return obj.hash[:12]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "party", "kind", "granted", "stage", "text", "given_at"]
    list_filter = ["kind", "granted"]


@admin.register(NoticeText)
class NoticeTextAdmin(admin.ModelAdmin):
    list_display = ["code", "version", "language", "title", "created_at"]
    readonly_fields = ["sha256", "created_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None  # published texts are immutable; a change is a new version

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "kind", "status", "due_at", "extra_days"]
    list_filter = ["kind", "status"]


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """Saving or deleting goes through the holiday services, which audit it and recompute the open legal
    clocks the day affects."""

    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["date"] if obj is not None else []  # another day is another entry

    def save_model(self, request: HttpRequest, obj: HolidayOverride, form: Any, change: bool) -> None:
        saved = holiday_override_set(date=obj.date, is_workday=obj.is_workday, name=obj.name,
                                     actor=request.user)  # type: ignore[arg-type]
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: HolidayOverride) -> None:
        holiday_override_delete(date=obj.date, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: an agent holds case roles, so agents are added through the intake services, audited."""

    list_display = ["name", "party", "kind", "authority"]


@admin.register(CaseHelper)
class CaseHelperAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: interpreters and helpers are invited by the case's mediator (``services.helpers``), audited."""

    list_display = ["name", "kind", "assists", "case", "invited_at", "declaration_accepted_at", "is_active"]
    list_filter = ["kind", "is_active"]
    exclude = ["phone"]


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["phone", "purpose", "sent_at", "failed_attempts", "verified_at"]
    list_filter = ["purpose"]
    exclude = ["code_hash"]


@admin.register(IdentityVerification)
class IdentityVerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["real_name", "id_number_masked", "phone", "succeeded", "checked_at"]
    list_filter = ["succeeded", "method"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Metadata only: the file itself is served through the permission-checked, audited download."""

    list_display = ["title", "case", "kind", "content_type", "size", "uploaded_at"]
    exclude = ["file"]


@admin.register(ServiceAddress)
class ServiceAddressAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["recipient_name", "case", "e_service_consent", "confirmed_at"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Decided on the court's complaint page, which records the outcome through the service."""

    list_display = ["mediator", "court", "ground", "status", "outcome", "filed_at"]
    list_filter = ["status", "outcome", "ground"]


@admin.register(RecusalRequest)
class RecusalRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["case", "mediator", "decision", "requested_at", "decided_at"]


for model in (ApplicationDraft, MediatorChoice, Disclosure, ServiceRecord, ServiceDelivery, MediationSession,
              SessionParticipant, Venue, WorkingHours, OutboxMessage, Room, RoomMember, RoomEvent, RecordEntry,
              RecordConfirmation, Agreement, AgreementClause, ClauseAssent):
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdminMixin, admin.ModelAdmin), {}))

admin.site.site_header = _("一站 · 在线调解平台管理")
admin.site.site_title = _("一站管理")
