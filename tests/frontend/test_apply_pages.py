"""The application pages on a phone: one step per page, kept on the server, refusals next to the field."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from mediation.choices import CaseStatus, ServiceStage
from mediation.models import ApplicationDraft, Case, Evidence
from mediation.notices import ONLINE_MEDIATION_NOTICE
from mediation.services import applications as apps
from mediation.services.consents import notice_text_publish
from mediation.services.evidence import evidence_upload
from tests.apply_support import pdf_bytes, png_bytes, step_answers, upload, verify_identity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def party(world, client):
    """张三, real-name verified and signed in."""
    verify_identity(world.applicant)
    client.force_login(world.applicant)
    return client


def step(name: str) -> str:
    return reverse("apply_step", args=[name])


def form_answers(world) -> dict[str, dict]:
    """What a phone posts for each step (the draft's answers, as form fields)."""
    answers = step_answers(world)
    notices = answers["notices"] | {"ack_notice": "on", "consent_online": "on", "e_service": "yes"}
    address = {k: v for k, v in answers["address"].items() if k != "confidential"}
    return answers | {"notices": notices, "address": address, "evidence": {}}


def post_steps(client, world, *names: str) -> None:
    answers = form_answers(world)
    for name in names:
        response = client.post(step(name), answers[name])
        assert response.status_code == 302, (name, response.content.decode()[:2000])


def draft_of(user) -> ApplicationDraft:
    return ApplicationDraft.objects.get(owner=user, case__isnull=True)


# --- Getting in -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_phone_sign_in(client):
    response = client.get(reverse("apply_start"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("phone_login"))
    assert "next=/apply/" in response["Location"]


def test_a_party_without_a_real_name_check_is_sent_to_the_identity_page_and_back(world, client):
    client.force_login(world.applicant)
    response = client.get(reverse("apply_start"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('identity_verify')}?next=%2Fapply%2F"
    assert not ApplicationDraft.objects.exists()


def test_the_application_starts_at_step_one_of_seven(party):
    response = party.get(reverse("apply_start"))
    assert response["Location"] == step("dispute")
    page = party.get(step("dispute")).content.decode()
    assert "第 1 步，共 7 步" in page
    assert "北京市东城区人民法院" in page
    assert "北京市高级人民法院" not in page  # only basic courts and tribunals are offered
    assert 'name="court"' in page


def test_a_step_ahead_of_the_first_unfinished_one_cannot_be_opened(party):
    response = party.get(step("claims"))
    assert response.status_code == 302
    assert response["Location"] == step("dispute")


def test_an_unknown_step_is_not_found(party):
    assert party.get(step("payment")).status_code == 404


# --- Drafts survive a closed tab ---------------------------------------------------------------------------


def test_a_closed_tab_resumes_at_the_next_step_with_the_answers_filled_in(world, party):
    post_steps(party, world, "dispute", "parties")

    phone = Client()  # a new browser session for the same person
    phone.force_login(world.applicant)
    response = phone.get(reverse("apply_start"))
    assert response["Location"] == step("claims")
    assert "第 3 步，共 7 步" in phone.get(step("claims")).content.decode()
    previous = phone.get(step("parties")).content.decode()  # "上一步"
    assert 'value="李四"' in previous
    assert 'value="13900000002"' in previous
    assert 'href="/apply/dispute/"' in previous


def test_the_parties_step_shows_the_verified_identity_masked(world, party):
    post_steps(party, world, "dispute")
    page = party.get(step("parties")).content.decode()
    assert "张三" in page
    assert world.applicant.id_number_masked in page
    assert world.applicant.id_number not in page


# --- Refusals next to the field, nothing of the step kept --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "change", "field", "message"),
    [
        ("parties", {"respondent_phone": "abc"}, "respondent_phone", "手机号码应为以1开头的11位数字"),
        ("parties", {"respondent_id_number": "110101198506120010"}, "respondent_id_number", "校验位错误"),
        ("claims", {"amount": "-5"}, "amount", "金额不能为负数"),
        ("notices", {"consent_online": ""}, "consent_online", "须同意通过人民法院调解平台进行在线调解"),
        ("address", {"postal_code": "abc"}, "postal_code", "邮政编码应为6位数字"),
    ],
    ids=["phone-abc", "id-checksum", "negative-amount", "no-consent", "postcode"],
)
def test_a_bad_answer_is_shown_next_to_its_field_and_nothing_of_the_step_is_kept(
    world, party, name, change, field, message
):
    before = {"dispute": "parties", "parties": "parties", "claims": "claims", "notices": "notices",
              "address": "address"}[name]
    steps = apps.STEPS[: apps.STEPS.index(before)]
    post_steps(party, world, *steps)
    answers = form_answers(world)[name] | change
    answers = {k: v for k, v in answers.items() if v != ""}
    response = party.post(step(name), answers)
    assert response.status_code == 400
    page = response.content.decode()
    field_block = page.split(f'id="field-{field}"', 1)[1].split('<div class="ap-field', 1)[0]
    assert message in field_block
    assert name not in draft_of(world.applicant).data


def test_the_notices_page_shows_the_omr7_notice_in_full_with_its_version(world, party):
    post_steps(party, world, "dispute", "parties", "claims", "evidence")
    page = party.get(step("notices")).content.decode()
    for line in ONLINE_MEDIATION_NOTICE.body.splitlines():
        assert line in page
    current = apps.application_texts(apps.NOTICE_FIELDS)
    assert f'name="notice_text" value="{current["notice_text"].pk}"' in page


# --- Evidence on the phone ---------------------------------------------------------------------------------


def test_uploading_a_pdf_lists_it_with_a_download_link(world, party):
    post_steps(party, world, "dispute", "parties", "claims")
    response = party.post(
        reverse("apply_evidence_upload"),
        {"file": upload("劳动合同.pdf", pdf_bytes(), "application/pdf"), "title": "劳动合同", "kind": "evidence"},
    )
    assert response.status_code == 302
    page = party.get(step("evidence")).content.decode()
    evidence = Evidence.objects.get()
    assert "劳动合同" in page
    assert reverse("evidence_download", args=[evidence.pk]) in page
    assert "正在上传…" in page  # the progress text the script shows while a file goes up


def test_an_oversized_upload_is_refused_with_the_limit_and_nothing_saved(world, party, settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    post_steps(party, world, "dispute", "parties", "claims")
    response = party.post(
        reverse("apply_evidence_upload"),
        {"file": upload("big.pdf", pdf_bytes() + b"0" * (2 * 1024 * 1024)), "title": "大文件", "kind": "evidence"},
    )
    assert response.status_code == 400
    assert "单个文件不能超过 1 MB" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_mislabelled_upload_is_refused_with_a_clear_message(world, party):
    post_steps(party, world, "dispute", "parties", "claims")
    response = party.post(
        reverse("apply_evidence_upload"), {"file": upload("合同.pdf", png_bytes()), "title": "合同", "kind": "evidence"}
    )
    assert response.status_code == 400
    assert "文件内容与扩展名不符" in response.content.decode()
    assert not Evidence.objects.exists()


def test_an_upload_without_a_title_is_refused(world, party):
    post_steps(party, world, "dispute", "parties", "claims")
    response = party.post(reverse("apply_evidence_upload"), {"file": upload("a.pdf", pdf_bytes()), "kind": "evidence"})
    assert response.status_code == 400
    assert "请填写材料名称" in response.content.decode()
    assert not Evidence.objects.exists()


def test_a_file_can_be_taken_back_out_before_submission(world, party):
    post_steps(party, world, "dispute", "parties", "claims")
    party.post(
        reverse("apply_evidence_upload"), {"file": upload("a.pdf", pdf_bytes()), "title": "欠条", "kind": "evidence"}
    )
    evidence = Evidence.objects.get()
    response = party.post(reverse("apply_evidence_remove", args=[evidence.pk]))
    assert response.status_code == 302
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("name", ["outsider", "respondent"])
def test_someone_else_cannot_remove_a_draft_file(world, party, client, name):
    post_steps(party, world, "dispute")
    evidence = evidence_upload(
        actor=world.applicant, draft=draft_of(world.applicant), file=upload("a.pdf", pdf_bytes()), title="a"
    )
    other = Client()
    other.force_login(verify_identity(getattr(world, name), seq=5))
    assert other.post(reverse("apply_evidence_remove", args=[evidence.pk])).status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()


@pytest.mark.parametrize("url_name", ["apply_evidence_upload", "apply_submit"])
def test_anonymous_visitors_cannot_upload_or_submit(client, url_name):
    response = client.post(reverse(url_name), {"file": upload("a.pdf", pdf_bytes()), "title": "a"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("phone_login"))
    assert not Evidence.objects.exists()


@pytest.mark.parametrize("name", ["applicant", "outsider", "other_mediator", "other_clerk"])
def test_people_without_a_real_name_check_cannot_upload(world, client, name):
    client.force_login(getattr(world, name))
    response = client.post(reverse("apply_evidence_upload"), {"file": upload("a.pdf", pdf_bytes()), "title": "a"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity_verify"))
    assert not Evidence.objects.exists()
    assert not ApplicationDraft.objects.exists()


# --- Submitting --------------------------------------------------------------------------------------------


def test_a_party_completes_the_application_through_the_pages(world, party):
    post_steps(party, world, "dispute", "parties", "claims")
    party.post(
        reverse("apply_evidence_upload"), {"file": upload("合同.pdf", pdf_bytes()), "title": "合同", "kind": "evidence"}
    )
    post_steps(party, world, "evidence", "notices", "address")
    review = party.get(step("review"))
    page = review.content.decode()
    assert "第 7 步，共 7 步" in page
    assert "李四" in page and "12000.00" in page and "合同" in page
    assert str(ServiceStage.CONFIRMATION.label) in page

    response = party.post(reverse("apply_submit"))
    case = Case.objects.get()
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert case.status == CaseStatus.SUBMITTED
    assert case.evidence.count() == 1
    detail = party.get(response["Location"]).content.decode()
    assert case.reference in detail
    assert "申请已提交" in detail


def test_a_notice_changed_before_submission_sends_the_party_back_to_read_it(world, party):
    post_steps(party, world, "dispute", "parties", "claims", "evidence", "notices", "address")
    notice_text_publish(
        code=ONLINE_MEDIATION_NOTICE.code, title=ONLINE_MEDIATION_NOTICE.title,
        body=ONLINE_MEDIATION_NOTICE.body + "\n七、新增条款。", actor=None,
    )
    response = party.post(reverse("apply_submit"))
    assert response["Location"] == reverse("apply_start")
    assert not Case.objects.exists()
    assert party.get(response["Location"])["Location"] == step("notices")
    page = party.get(step("notices")).content.decode()
    assert "已更新，请重新阅读" in page
    assert "七、新增条款。" in page


def test_the_review_page_cannot_be_reached_before_every_step_is_done(world, party):
    post_steps(party, world, "dispute", "parties", "claims", "evidence")
    assert party.get(step("review"))["Location"] == step("notices")


def test_another_party_starts_their_own_application_and_sees_nothing_of_this_one(world, party):
    post_steps(party, world, "dispute", "parties")
    other = Client()
    other.force_login(verify_identity(world.outsider, seq=7))
    assert other.get(reverse("apply_start"))["Location"] == step("dispute")
    assert "李四" not in other.get(step("dispute")).content.decode()


# --- Downloading evidence ----------------------------------------------------------------------------------


@pytest.fixture
def case_evidence(world):
    case = world.drive(world.new_case(), CaseStatus.ACCEPTED)
    return evidence_upload(actor=world.applicant, case=case, file=upload("劳动合同.pdf", pdf_bytes()), title="合同")


@pytest.mark.parametrize("name", ["applicant", "respondent", "clerk", "judge", "mediator"])
def test_people_with_a_role_download_evidence_as_an_attachment(world, client, case_evidence, name):
    client.force_login(getattr(world, name))
    response = client.get(reverse("evidence_download", args=[case_evidence.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E5%8A%B3%E5%8A%A8%E5%90%88%E5%90%8C.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["outsider", "other_clerk", "other_judge", "other_mediator"])
def test_people_without_a_role_get_not_found_for_evidence(world, client, case_evidence, name):
    client.force_login(getattr(world, name))
    assert client.get(reverse("evidence_download", args=[case_evidence.pk])).status_code == 404


@pytest.mark.parametrize("name", ["respondent", "outsider", "clerk", "other_clerk", "other_judge", "other_mediator"])
def test_draft_evidence_is_downloadable_by_its_owner_only(world, party, name):
    post_steps(party, world, "dispute")
    evidence = evidence_upload(
        actor=world.applicant, draft=draft_of(world.applicant), file=upload("a.pdf", pdf_bytes()), title="a"
    )
    own = party.get(reverse("evidence_download", args=[evidence.pk]))
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == pdf_bytes()  # reading it to the end closes the file
    other = Client()
    other.force_login(getattr(world, name))
    assert other.get(reverse("evidence_download", args=[evidence.pk])).status_code == 404


def test_anonymous_visitors_cannot_download_evidence(client, case_evidence):
    response = client.get(reverse("evidence_download", args=[case_evidence.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
