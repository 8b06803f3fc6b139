"""The case page's schedule of obligations and its three forms (PML 31-33; CPL 250): what each side sees and may
do, the wrong side refused (403), outsiders not found (404), and the contract explanation on an unconfirmed
agreement."""

from __future__ import annotations

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mediation.choices import ObligationStatus
from mediation.models import AuditEvent, Obligation, PaymentProof
from tests.performance_support import START, confirmed, local, obligations, unconfirmed

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CONTRACT = "不能直接申请强制执行"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _url(name, obligation):
    return reverse(name, args=(obligation.case_id, obligation.pk))


def test_the_obligee_reports_a_default_on_an_unconfirmed_agreement_and_reads_why_there_is_no_enforcement(world,
                                                                                                         client):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        first = obligations(case)[0]
        traveller.move_to(local(2026, 4, 6, 9))
        client.force_login(world.applicant)
        page = client.get(reverse("case_detail", args=(case.pk,))).content.decode()
        assert "履行情况" in page and "人民调解法第三十一条" in page and "已逾期" in page
        assert f'action="{_url("obligation_default", first)}"' in page
        assert _url("obligation_proof", first) not in page  # the obligee uploads no proof
        response = client.post(_url("obligation_default", first), {"note": "未收到"})
        assert response.status_code == 302 and response["Location"].endswith("#performance")
        page = client.get(reverse("case_detail", args=(case.pk,))).content.decode()
        assert CONTRACT in page and "强制执行申请书已生成" not in page
        assert Obligation.objects.get(pk=first.pk).status == ObligationStatus.DEFAULTED


def test_the_confirmed_case_page_shows_the_title_and_the_two_year_limit(world, client):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = confirmed(world, traveller)
        client.force_login(world.respondent)
        page = client.get(reverse("case_detail", args=(case.pk,))).content.decode()
        assert "执行依据" in page and "2028-05-01" in page and CONTRACT not in page
        first = obligations(case)[0]
        assert _url("obligation_proof", first) in page and _url("obligation_confirm", first) not in page


def test_the_wrong_side_is_refused_and_outsiders_find_nothing(world, client):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        first = obligations(case)[0]
        before = AuditEvent.objects.count()
        client.force_login(world.respondent)
        assert client.post(_url("obligation_confirm", first)).status_code == 403
        assert client.post(_url("obligation_default", first)).status_code == 403
        client.force_login(world.applicant)
        upload = SimpleUploadedFile("slip.png", PNG, "image/png")
        assert client.post(_url("obligation_proof", first), {"file": upload}).status_code == 403
        for name in ("outsider", "other_clerk"):
            client.force_login(getattr(world, name))
            for view in ("obligation_confirm", "obligation_default", "obligation_proof"):
                assert client.post(_url(view, first)).status_code == 404
        assert AuditEvent.objects.count() == before
        assert Obligation.objects.get(pk=first.pk).status == ObligationStatus.OPEN


def test_the_obligor_uploads_proof_from_the_page_and_a_bad_file_comes_back_as_a_message(world, client):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        first = obligations(case)[0]
        client.force_login(world.respondent)
        bad = SimpleUploadedFile("slip.png", b"not an image", "image/png")
        response = client.post(_url("obligation_proof", first), {"file": bad}, follow=True)
        assert "文件内容与扩展名不符" in response.content.decode()
        assert not PaymentProof.objects.exists()
        good = SimpleUploadedFile("slip.png", PNG, "image/png")
        client.post(_url("obligation_proof", first), {"file": good})
        assert PaymentProof.objects.filter(obligation=first).count() == 1
        client.force_login(world.applicant)
        page = client.get(reverse("case_detail", args=(case.pk,))).content.decode()
        assert "履行凭证" in page and _url("obligation_confirm", first) in page
        client.post(_url("obligation_confirm", first))
        assert Obligation.objects.get(pk=first.pk).status == ObligationStatus.PERFORMED
