"""The admin's view of API clients: who may call, with which scopes; tokens are revoked here (never shown)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import ApiClient, ApiToken, WebhookSubscription


class ApiTokenInline(admin.TabularInline):
    model = ApiToken
    extra = 0
    fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # tokens are issued by `manage.py api_token`, which shows the token once


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "acting_user", "is_active", "created_at")
    list_filter = ("is_active",)
    raw_id_fields = ("organisation", "acting_user")
    inlines = [ApiTokenInline]
    actions = ["revoke_tokens"]

    @admin.action(description=_("吊销所选客户端的全部令牌"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        ApiToken.objects.filter(client__in=queryset, revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "client", "is_active", "created_at")
    list_filter = ("is_active",)
    exclude = ("secret",)
    readonly_fields = ("client", "url", "created_at")
