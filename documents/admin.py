"""Issued documents in the admin: read-only, like every legal record (corrections are new versions)."""

from django.contrib import admin

from documents.models import Document, DocumentSignature
from mediation.admin import ReadOnlyAdminMixin


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "case", "version", "code", "issued_at", "effective_at"]
    search_fields = ["code", "number", "sha256"]


@admin.register(DocumentSignature)
class DocumentSignatureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["document", "sequence", "role", "signer_name", "signed_at"]
