"""The statistics dashboards: each audience sees its own scope as charts drawn from JSON blocks (no inline
script), the table behind each chart and its CSV; anybody else gets nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from mediation.choices import CaseStatus, Role
from mediation.services.statistics_counters import statistics_counters_rebuild
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader(world):
    user = UserFactory(real_name="高院院长")
    add_member(user, world.high_court, Role.COURT_PRESIDENT)
    return user


@pytest.fixture
def settled(world):
    world.drive(world.new_case(), CaseStatus.AGREEMENT_EFFECTIVE)
    world.drive(world.new_case(), CaseStatus.WITHDRAWN)


def test_the_court_leader_sees_charts_tables_and_definitions(client, world, leader, settled):
    client.force_login(leader)
    response = client.get(reverse("statistics_home"))
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert world.court.name in html or (world.court.short_name or world.court.name) in html
    assert "调解成功率" in html and "当期调解协议生效的案件数" in html  # the definition beside the figure
    assert "50.0%" in html  # one agreement, one withdrawal
    assert 'id="trend" type="application/json"' in html
    # Strict CSP: every script is a file or a JSON block; no on…= handlers in the dashboard's own markup.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    body = html.split('data-statistics', 1)[1].split('<footer', 1)[0]  # base.html's footer is the CSP work's
    assert not re.search(r"\son[a-z]+=", body)
    assert "vendor/echarts/echarts.common.min.js" in html


def test_the_csv_has_the_rows_the_table_shows(client, world, leader, settled):
    client.force_login(leader)
    url = reverse("statistics_csv", args=["court", world.high_court.pk])
    response = client.get(url, {"dimension": "court"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    success = {row[0]: row for row in rows[1:] if row[1] == "success_rate"}
    court_label = world.court.short_name or world.court.name
    assert success[court_label][3] == "50"
    assert success[court_label][4:6] == ["1", "2"]


@pytest.mark.parametrize("name", ["outsider", "clerk", "judge", "applicant"])
def test_people_without_a_statistics_role_see_no_figures(client, world, name, settled):
    client.force_login(getattr(world, name))
    assert client.get(reverse("statistics_home")).status_code == 403
    assert client.get(reverse("statistics_dashboard", args=["court", world.court.pk])).status_code == 404
    assert client.get(reverse("statistics_csv", args=["court", world.court.pk])).status_code == 404


def test_a_sibling_courts_leader_cannot_open_another_courts_dashboard(client, world, settled):
    sibling = UserFactory()
    add_member(sibling, world.other_court, Role.COURT_PRESIDENT)
    client.force_login(sibling)
    assert client.get(reverse("statistics_dashboard", args=["court", world.court.pk])).status_code == 404
    assert client.get(reverse("statistics_dashboard", args=["court", world.other_court.pk])).status_code == 200


def test_the_organisation_admin_and_the_mediator_have_their_own_pages(client, world, settled):
    client.force_login(world.org_admin)
    page = client.get(reverse("statistics_dashboard", args=["organisation", world.partner.pk]))
    assert page.status_code == 200 and "调解组织管理员" in page.content.decode()
    client.force_login(world.mediator)
    page = client.get(reverse("statistics_dashboard", args=["mediator", world.mediator.pk]))
    assert page.status_code == 200 and "按纠纷类型" in page.content.decode()
    assert client.get(reverse("statistics_dashboard", args=["organisation", world.partner.pk])).status_code == 404


def test_the_page_says_which_days_come_from_the_counters_and_shows_the_same_figures(client, world, leader, settled):
    client.force_login(leader)
    url = reverse("statistics_dashboard", args=["court", world.high_court.pk])
    assert "全部数字实时计算" in client.get(url).content.decode()
    statistics_counters_rebuild()  # today's two cases stay live
    html = client.get(url).content.decode()
    assert "取自每日预先汇总的计数" in html and "50.0%" in html
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        statistics_counters_rebuild()  # now they are counted
        html = client.get(url).content.decode()
    assert "取自每日预先汇总的计数" in html and "50.0%" in html


def test_contact_and_self_test_figures_are_on_the_page_with_their_definitions(client, world, leader, settled):
    client.force_login(leader)
    html = client.get(reverse("statistics_dashboard", args=["court", world.high_court.pk])).content.decode()
    for label, definition in (("按时联系率", "在 1 个工作日内（首次联系期限届满前）取得联系的比例"),
                              ("按时反馈率", "在提出后 2 个工作日内（反馈期限届满前）给出办理结果的比例"),
                              ("入会前自检率", "在本人入会前已为该场调解活动完成设备与网络自检的比例"),
                              ("自检结论：视频良好", "每人每场取最后一次自检")):
        assert label in html and definition in html
    assert 'id="contact" type="application/json"' in html and 'id="selftest" type="application/json"' in html
