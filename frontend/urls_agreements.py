"""URLs of the agreements pages: the drafting page, the room's panel, and one POST endpoint per action."""

from django.urls import path

from frontend import views_agreements as v

urlpatterns = [
    path("cases/<int:case_id>/agreement/", v.agreement_page, name="agreement_page"),
    path("cases/<int:case_id>/agreement/panel/", v.agreement_panel, name="agreement_panel"),
    path("cases/<int:case_id>/agreement/start/", v.agreement_start_view, name="agreement_start"),
    path("cases/<int:case_id>/agreement/header/", v.agreement_header_view, name="agreement_header"),
    path("cases/<int:case_id>/agreement/clauses/", v.agreement_clause_add_view, name="agreement_clause_add"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/", v.agreement_clause_edit_view,
         name="agreement_clause_edit"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/delete/", v.agreement_clause_delete_view,
         name="agreement_clause_delete"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/move/", v.agreement_clause_move_view,
         name="agreement_clause_move"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/assent/", v.agreement_clause_assent_view,
         name="agreement_clause_assent"),
    path("cases/<int:case_id>/agreement/signing/", v.agreement_open_signing_view, name="agreement_open_signing"),
    path("cases/<int:case_id>/agreement/revise/", v.agreement_revise_view, name="agreement_revise"),
]
