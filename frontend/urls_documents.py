"""URLs of the documents pages."""

from django.urls import path

from frontend import views_documents

urlpatterns: list = [
    path("documents/<int:pk>/", views_documents.document_detail, name="document_detail"),
    path("documents/<int:pk>/pdf", views_documents.document_pdf, name="document_pdf"),
    path("documents/<int:pk>/pages/<int:page>.png", views_documents.document_page, name="document_page"),
    path("documents/<int:pk>/sign/", views_documents.document_sign_view, name="document_sign"),
]

# --- Public verification (documents/verification.py; frontend/views_verify.py) -------------------------------
# Anyone may check a PDF or the code printed on it; documents link here as verify?code=<Document.code>.
from frontend import views_verify  # noqa: E402

urlpatterns += [
    path("verify/", views_verify.verify, name="verify"),
]
