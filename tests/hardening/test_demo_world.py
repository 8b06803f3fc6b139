"""Issue 17 item 14: what a newcomer trips over in the demo world: a case title naming someone who is not a
party, a party shown by a masked phone number, /favicon.ico, the admin's 变更状态 link for the platform
admin, and WeasyPrint's progress lines in the log."""

from __future__ import annotations

import logging

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.templatetags.static import static
from django.urls import reverse

from documents.rendering import html_to_pdf
from mediation.choices import CaseStatus
from mediation.models import Case, User
from mediation.validators import mask_phone
from tests.room_support import schedule_session

pytestmark = pytest.mark.django_db


def test_every_demo_case_title_names_its_own_parties(settings):
    settings.DEBUG = True
    call_command("seed_demo", quiet=True)
    queued = Case.objects.get(referral_number__contains="民诉前调1001")
    names = list(queued.parties.values_list("name", flat=True))
    for name in names:
        assert name in queued.title
    assert "赵六" not in queued.title  # 赵六 is the demo's outsider, charlie


def test_a_party_signed_in_by_phone_is_shown_by_the_name_on_the_case_when_scheduling(world, client):
    case = world.drive(world.new_case(), CaseStatus.SCHEDULING)
    respondent = User.objects.get(pk=world.respondent.pk)
    respondent.username, respondent.real_name = f"p{respondent.phone}", ""
    respondent.save()
    party = case.parties.get(user=respondent)
    schedule_session(world, case)
    client.force_login(world.mediator)
    page = client.get(reverse("session_list", args=[case.pk])).content.decode()
    assert party.name in page
    assert mask_phone(respondent.phone) not in page


def test_the_favicon_is_served(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"] == static("frontend/favicon.svg")
    assert finders.find("frontend/favicon.svg")
    assert 'rel="icon"' in client.get(reverse("home")).content.decode()


def test_the_platform_admin_is_not_offered_a_status_change_link_that_answers_404(world, client, settings):
    case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    admin = User.objects.create_superuser("root", password="x-very-long-password-1")
    client.force_login(admin)
    page = client.get(reverse("admin:mediation_case_change", args=[case.pk])).content.decode()
    assert reverse("admin:mediation_case_transition", args=[case.pk]) not in page
    assert "只有本案的办案人员可以变更状态" in page
    # The clerk of the case, signed in to the admin, gets the link and the page behind it.
    world.clerk.is_staff = True
    world.clerk.save()
    client.force_login(world.clerk)
    page = client.get(reverse("admin:mediation_case_change", args=[case.pk]))
    if page.status_code == 200:  # the clerk may lack the model's view permission; the link page must work
        assert reverse("admin:mediation_case_transition", args=[case.pk]) in page.content.decode()
    assert client.get(reverse("admin:mediation_case_transition", args=[case.pk])).status_code == 200


def test_rendering_a_pdf_logs_no_weasyprint_progress_lines(caplog):
    caplog.set_level(logging.INFO)
    html_to_pdf("<html><body><p>调解协议书</p></body></html>", base_url="http://127.0.0.1/")
    assert [r for r in caplog.records if r.name.startswith("weasyprint") and r.levelno < logging.WARNING] == []
