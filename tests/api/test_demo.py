"""The demo world: the high court's leader sees their courts' figures, and the published partner token works."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from mediation.models import Organisation, User
from mediation.selectors import statistics as st

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    cache.clear()
    call_command("seed_demo", quiet=True, statistics_cases=True, stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo_api", stdout=out)
    call_command("seed_demo_api", stdout=io.StringIO())  # idempotent
    return out.getvalue()


def test_the_high_court_leader_sees_figures_for_their_courts(client, demo):
    leader = User.objects.get(username="hc_president")
    high = Organisation.objects.get(name="北京市高级人民法院")
    report = st.statistics_report(
        scope=st.statistics_scope_for_user(user=leader, kind=st.COURT, root_id=high.pk), dimension=st.COURT)
    rows = {row.label: row for row in report.rows}
    assert rows["北京高院"].value("received") == rows["东城法院"].value("received") >= 7
    # Three agreements (the two statistics cases and the application waiting in the judge's inbox), a termination
    # and a withdrawal: 3 / 5.
    assert report.total.value("success_rate") == 60
    # Four of the statistics cases had a call logged; the mediator called back at once on three (seed_demo).
    assert report.total.value("contact_requests") == 4
    assert report.total.value("contact_reached_on_time") == 75
    client.force_login(leader)
    page = client.get(reverse("statistics_dashboard", args=["court", high.pk]))
    assert page.status_code == 200 and "60.0%" in page.content.decode()


def test_the_published_demo_tokens_work(client, demo):
    assert "yz_demo0002_partner-demo-token" in demo
    response = client.get(reverse("api-v1:webhook_list"),
                          headers={"Authorization": "Bearer yz_demo0002_partner-demo-token"})
    assert response.status_code == 200
