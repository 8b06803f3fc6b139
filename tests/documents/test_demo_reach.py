"""manage.py demo_mediation --mode reach-everyone (issue 18): a party's contact request answered in time, another
lapsed, escalated and taken over by the head; a clerk of a second court files for a walk-in party, who confirms on
their own phone before the case reaches the competent court's queue."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from mediation.choices import AssistedFilingStatus, CaseStatus, ContactStatus
from mediation.models import AssistedFiling, AuditEvent, ContactRequest

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_reach_everyone_demo_answers_escalates_and_files_for_a_walk_in_party(tmp_path):
    with override_settings(
        DEBUG=True, MEDIA_ROOT=tmp_path / "media", DEV_CA_DIR=tmp_path / "dev-ca", SIGNING_CA="local"
    ):
        call_command("seed_demo", stdout=io.StringIO())
        stdout = io.StringIO()
        call_command("demo_mediation", out=str(tmp_path / "out"), mode="reach-everyone", stdout=stdout)
        # Run twice: the demo is idempotent (nothing new, no error).
        call_command("demo_mediation", out=str(tmp_path / "out"), mode="reach-everyone", stdout=io.StringIO())
    answered, lapsed = ContactRequest.objects.order_by("pk")
    assert ContactRequest.objects.count() == 2
    assert answered.status == ContactStatus.ANSWERED and answered.contacted_on_time is True
    assert lapsed.status == ContactStatus.ANSWERED and lapsed.escalated_at is not None
    assert lapsed.taken_over_by is not None and lapsed.contacted_on_time is False
    assert AuditEvent.objects.filter(kind="contact.escalated", data__request=lapsed.pk).exists()
    filing = AssistedFiling.objects.get()
    assert filing.status == AssistedFilingStatus.CONFIRMED and filing.assisting_court.name == "北京市西城区人民法院"
    assert filing.case.court.name == "北京市东城区人民法院" and filing.case.status == CaseStatus.SUBMITTED
    assert filing.case.evidence.count() == 1
    assert "进入北京市东城区人民法院受理队列" in stdout.getvalue()
