"""Issue 17 item 6: a receipt with legal weight (the read, the download) comes only from a deliberate act, a
POST: a link prefetcher or a scanner opening the SMS link (a GET) records nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mediation.choices import ServiceChannel
from mediation.models import AuditEvent
from tests.frontend.test_service_pages import case, record  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _platform(record):  # noqa: F811
    return record.deliveries.get(channel=ServiceChannel.PLATFORM)


def test_opening_the_page_with_a_get_records_no_read(client, world, record):  # noqa: F811
    client.force_login(world.respondent)
    page = client.get(reverse("service_record", args=[record.pk]), {"via": "sms"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-service-read" in body and "frontend/service.js" in body  # the page asks once it is shown
    assert "<script>" not in body  # no inline script (strict CSP)
    assert _platform(record).read_at is None
    assert record.deliveries.get(channel=ServiceChannel.SMS).read_at is None
    assert not AuditEvent.objects.filter(kind="service.read").exists()


def test_the_page_s_post_once_shown_records_the_read_on_the_channel_followed(client, world, record):  # noqa: F811
    client.force_login(world.respondent)
    answer = client.post(reverse("service_record", args=[record.pk]), {"action": "read", "via": "sms"})
    assert answer.status_code == 204
    assert _platform(record).read_at is not None
    assert record.deliveries.get(channel=ServiceChannel.SMS).read_at is not None
    assert AuditEvent.objects.filter(kind="service.read").count() == 1


def test_a_get_of_the_download_hands_out_nothing_and_records_nothing(client, world, record):  # noqa: F811
    client.force_login(world.respondent)
    answer = client.get(reverse("service_download", args=[record.pk]), {"via": "sms"})
    assert answer.status_code == 303
    assert answer["Location"].startswith(reverse("service_record", args=[record.pk]))
    platform = _platform(record)
    assert platform.action == "" and platform.read_at is None
    assert not AuditEvent.objects.filter(kind="service.downloaded").exists()


def test_the_download_button_posts_and_that_is_the_recorded_act(client, world, record):  # noqa: F811
    client.force_login(world.respondent)
    page = client.get(reverse("service_record", args=[record.pk])).content.decode()
    assert f'action="{reverse("service_download", args=[record.pk])}"' in page and 'method="post"' in page
    answer = client.post(reverse("service_download", args=[record.pk]))
    assert answer.status_code == 200 and "attachment" in answer["Content-Disposition"]
    assert b"".join(answer.streaming_content).startswith(b"%PDF-")
    assert _platform(record).action == "download"


def test_staff_may_still_fetch_the_document_with_a_get(client, world, record):  # noqa: F811
    client.force_login(world.judge)
    answer = client.get(reverse("service_download", args=[record.pk]))
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content).startswith(b"%PDF-")
    assert _platform(record).action == ""
