"""Every route of the web UI in one table (pretix's ``control/urls.py``): each view module shares its area's name
with ``mediation/services/<area>.py`` and ``mediation/selectors/<area>.py``."""

from django.urls import URLPattern, URLResolver, path

from frontend.views import (
    agreements,
    apply,
    case_actions,
    cases,
    court,
    documents,
    filing,
    identity,
    inbox,
    intake,
    rooms,
    roster,
    scheduling,
    service,
    statistics,
    verify,
)

urlpatterns: list[URLPattern | URLResolver] = [
    # Cases: home, the list, a case page, claiming a party by the phone on record.
    path("", cases.home, name="home"),
    path("start/", cases.landing, name="landing"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("parties/<int:party_id>/claim/", cases.party_claim_view, name="party_claim"),
    # Applying (a party's own application, step by step).
    path("apply/", apply.apply_start, name="apply_start"),
    path("apply/submit/", apply.apply_submit, name="apply_submit"),
    path("apply/evidence/upload/", apply.apply_evidence_upload, name="apply_evidence_upload"),
    path("apply/evidence/<int:pk>/", apply.evidence_download, name="evidence_download"),
    path("apply/evidence/<int:pk>/remove/", apply.apply_evidence_remove, name="apply_evidence_remove"),
    path("apply/<slug:step>/", apply.apply_step, name="apply_step"),
    # Court intake and the organisation's queue.
    path("intake/", intake.intake_queue, name="intake_queue"),
    path("intake/<int:case_id>/accept/", intake.intake_accept, name="intake_accept"),
    path("intake/<int:case_id>/return/", intake.intake_return, name="intake_return"),
    path("intake/<int:case_id>/organisation/", intake.intake_refer_to_organisation,
         name="intake_refer_to_organisation"),
    path("intake/referrals/new/", intake.intake_referral_create, name="intake_referral_create"),
    path("intake/org/", intake.intake_org_queue, name="intake_org_queue"),
    # After a failed mediation (OMR 21): the court's filing queue and the case's failure page.
    path("intake/filings/", filing.filing_queue_page, name="filing_queue"),
    path("intake/filings/<int:filing_id>/", filing.filing_file, name="filing_file"),
    path("cases/<int:case_id>/failure/", filing.case_failure, name="case_failure"),
    path("intake/org/<int:case_id>/distribute/", intake.intake_org_distribute, name="intake_org_distribute"),
    path("intake/mine/", intake.intake_mine, name="intake_mine"),
    # The roster, complaints, adoption and the recommendation.
    path("mediators/", roster.directory, name="roster_directory"),
    path("mediators/<int:profile_id>/", roster.mediator_detail, name="roster_mediator_detail"),
    path("mediators/<int:profile_id>/complain/", roster.complaint_new, name="roster_complaint_new"),
    path("mediators/complaints/", roster.complaint_list, name="roster_complaint_list"),
    path("mediators/complaints/<int:complaint_id>/decide/", roster.complaint_decide_view,
         name="roster_complaint_decide"),
    path("mediators/recommend/<int:case_id>/", roster.recommend, name="roster_recommend"),
    path("mediators/manage/", roster.manage, name="roster_manage"),
    path("mediators/manage/<int:court_id>/add/", roster.manage_add, name="roster_manage_add"),
    path("mediators/manage/<int:court_id>/adopt/<int:entry_id>/", roster.manage_adopt, name="roster_manage_adopt"),
    path("mediators/manage/suspend/<int:profile_id>/", roster.manage_suspend, name="roster_manage_suspend"),
    path("mediators/manage/reinstate/<int:profile_id>/", roster.manage_reinstate, name="roster_manage_reinstate"),
    path("mediators/adoptions/", roster.adoptions, name="roster_adoptions"),
    path("mediators/adoptions/<int:entry_id>/answer/", roster.adoption_answer, name="roster_adoption_answer"),
    # Sessions of a case, and the private calendar feed.
    path("cases/<int:case_id>/sessions/", scheduling.session_list, name="session_list"),
    path("cases/<int:case_id>/sessions/new/", scheduling.session_new, name="session_new"),
    path("cases/<int:case_id>/sessions/<int:session_id>/reschedule/", scheduling.session_reschedule_page,
         name="session_reschedule"),
    path("cases/<int:case_id>/sessions/<int:session_id>/cancel/", scheduling.session_cancel_page,
         name="session_cancel"),
    path("cases/<int:case_id>/sessions/<int:session_id>/invite.ics", scheduling.session_ics_download,
         name="session_ics"),
    path("calendar/", scheduling.calendar_subscribe, name="calendar_subscribe"),
    path("calendar/<str:token>.ics", scheduling.calendar_feed, name="calendar_feed"),
    # Acts on a case: choosing and accepting a mediator, disclosure, recusal, the respondent's consent.
    path("cases/<int:case_id>/choose/", case_actions.choose, name="case_choose"),
    path("cases/<int:case_id>/accept/", case_actions.mediator_accept_page, name="case_mediator_accept"),
    path("cases/<int:case_id>/decline/", case_actions.mediator_decline_page, name="case_mediator_decline"),
    path("cases/<int:case_id>/disclosure/", case_actions.disclosure_page, name="case_disclosure"),
    path("cases/<int:case_id>/recusal/", case_actions.recusal_page, name="case_recusal"),
    path("cases/<int:case_id>/respondent/", case_actions.respondent_page, name="case_respondent"),
    path("cases/<int:case_id>/respond/", case_actions.respond_page, name="case_respond"),
    # Phone sign-in and the real-name check.
    path("accounts/phone/", identity.phone_login, name="phone_login"),
    path("accounts/phone/identity/", identity.identity, name="identity_verify"),
    # Electronic service.
    path("service/<int:record_id>/", service.record_page, name="service_record"),
    path("service/<int:record_id>/download/", service.download, name="service_download"),
    path("service/<int:record_id>/certificate/", service.certificate, name="service_certificate"),
    path("service/<int:record_id>/certificate.pdf", service.certificate_pdf, name="service_certificate_pdf"),
    path("service/case/<int:case_id>/serve/", service.serve, name="service_serve"),
    path("service/address/<int:case_id>/", service.address_page, name="service_address"),
    # The in-app inbox.
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:message_id>/", inbox.inbox_message, name="inbox_message"),
    path("inbox/read-all/", inbox.inbox_read_all, name="inbox_read_all"),
    # Rooms: entering from a session, the join steps, the room, the invitation, the JSON API of docs/protocol.md.
    path("sessions/<int:session_id>/room/", rooms.session_room_enter, name="session_room"),
    path("rooms/<int:room_id>/", rooms.room_page, name="room_page"),
    path("rooms/<int:room_id>/join/", rooms.room_join, name="room_join"),
    path("rooms/<int:room_id>/join/identity/", rooms.room_join_identity, name="room_join_identity"),
    path("rooms/<int:room_id>/join/device/", rooms.room_join_device, name="room_join_device"),
    path("rooms/<int:room_id>/join/notices/", rooms.room_join_notices, name="room_join_notices"),
    path("rooms/<int:room_id>/invite/", rooms.room_invite, name="room_invite"),
    path("rooms/<int:room_id>/api/code/", rooms.api_code, name="room_api_code"),
    path("rooms/<int:room_id>/api/token/", rooms.api_token, name="room_api_token"),
    path("rooms/<int:room_id>/files/", rooms.room_files, name="room_files"),
    # Agreements: the drafting page, the room's panel, one POST endpoint per action.
    path("cases/<int:case_id>/agreement/", agreements.agreement_page, name="agreement_page"),
    path("cases/<int:case_id>/agreement/panel/", agreements.agreement_panel, name="agreement_panel"),
    path("cases/<int:case_id>/agreement/start/", agreements.agreement_start_view, name="agreement_start"),
    path("cases/<int:case_id>/agreement/header/", agreements.agreement_header_view, name="agreement_header"),
    path("cases/<int:case_id>/agreement/clauses/", agreements.agreement_clause_add_view, name="agreement_clause_add"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/", agreements.agreement_clause_edit_view,
         name="agreement_clause_edit"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/delete/", agreements.agreement_clause_delete_view,
         name="agreement_clause_delete"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/move/", agreements.agreement_clause_move_view,
         name="agreement_clause_move"),
    path("cases/<int:case_id>/agreement/clauses/<int:clause_id>/assent/", agreements.agreement_clause_assent_view,
         name="agreement_clause_assent"),
    path("cases/<int:case_id>/agreement/signing/", agreements.agreement_open_signing_view,
         name="agreement_open_signing"),
    path("cases/<int:case_id>/agreement/revise/", agreements.agreement_revise_view, name="agreement_revise"),
    # Documents, signing, and the public verification page (documents link here as verify?code=<code>).
    path("documents/<int:pk>/", documents.document_detail, name="document_detail"),
    path("documents/<int:pk>/pdf", documents.document_pdf, name="document_pdf"),
    path("documents/<int:pk>/pages/<int:page>.png", documents.document_page, name="document_page"),
    path("documents/<int:pk>/sign/", documents.document_sign_view, name="document_sign"),
    path("verify/", verify.verify, name="verify"),
    # Judicial confirmation at the court: the judge's inbox, an application's review and its acts; a party's
    # filing of supplements from the case page.
    path("court/", court.court_inbox, name="court_inbox"),
    path("court/<int:case_id>/", court.court_application, name="court_application"),
    path("court/<int:case_id>/<slug:action>/", court.court_application_act, name="court_application_act"),
    path("cases/<int:case_id>/confirmation/supplement/", court.confirmation_supplement,
         name="confirmation_supplement"),
]

# Statistics dashboards (issue 16): one page per scope the person may see, and the CSV behind each chart.
urlpatterns += [
    path("statistics/", statistics.statistics_home, name="statistics_home"),
    path("statistics/<slug:kind>/<int:root_id>/", statistics.statistics_dashboard, name="statistics_dashboard"),
    path("statistics/<slug:kind>/<int:root_id>/csv", statistics.statistics_csv, name="statistics_csv"),
]
