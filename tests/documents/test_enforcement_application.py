"""The 强制执行申请书 (CPL 250; Interp 460): rendered when a default on a confirmed agreement makes the case eligible
for enforcement, with the true facts (title, parties, defaulted clause, paid clause, two-year limit) and the CJK
font; never for an agreement nobody confirmed (PML 32-33)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import default_storage

from documents.models import Document
from documents.services.issuing import document_issue, documents_for_transition
from mediation.choices import CaseStatus, DocumentKind
from mediation.exceptions import InvalidInput
from mediation.models import Case
from mediation.services.performance import obligation_confirm_receipt, obligation_report_default
from tests.documents.documents_support import pdf_text
from tests.performance_support import RULING_NUMBER, START, confirmed, local, obligations, unconfirmed


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _path(document: Document, tmp_path: Path) -> Path:
    path = tmp_path / f"{document.kind}-{document.version}.pdf"
    with default_storage.open(document.pdf.name, "rb") as handle:
        path.write_bytes(handle.read())
    return path


def test_a_default_on_a_confirmed_agreement_renders_the_enforcement_application(world, tmp_path,
                                                                                django_capture_on_commit_callbacks):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = confirmed(world, traveller)
        first, _certificate, second = obligations(case)
        obligation_confirm_receipt(obligation=first, actor=world.applicant)
        traveller.move_to(local(2026, 5, 4, 9))
        with django_capture_on_commit_callbacks(execute=True):
            obligation_report_default(obligation=second, actor=world.applicant, note="第二期至今未付")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ENFORCEMENT_ELIGIBLE
    document = Document.objects.get(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION)
    path = _path(document, tmp_path)
    text = pdf_text(path)
    for field in [
        "强制执行申请书", "申请执行人：张三", "被执行人：李四", world.court.name, RULING_NUMBER,
        "民事裁定书（确认调解协议有效）", "2026年3月2日",  # decided and served that day
        "调解协议第4条", "经济补偿金（第二期）", "3000.00", "叁仟元整", "2026年5月1日",
        "第二期至今未付", "调解协议第1条约定的义务已履行", "2028年5月1日", "民事诉讼法》第二百五十条", "此致",
    ]:
        assert field in text, field
    # Only the defaulted clause is asked for; the paid one is not, and nothing claims a court received it.
    assert "12000.00" not in text
    assert "已受理" not in text
    fonts = subprocess.run([shutil.which("pdffonts") or "pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in cjk), fonts
    # The applicant signs it; the respondent does not.
    assert [s["name"] for s in document.data["signers"]] == ["张三"]


def test_a_default_on_an_unconfirmed_agreement_renders_no_enforcement_application(world,
                                                                                   django_capture_on_commit_callbacks):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = unconfirmed(world, traveller)
        with django_capture_on_commit_callbacks(execute=True):
            obligation_report_default(obligation=obligations(case)[0], actor=world.applicant)
        assert Case.objects.get(pk=case.pk).status == CaseStatus.PERFORMANCE_TRACKING
        assert not Document.objects.filter(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION).exists()
        # Not by hand either, nor by the status's task run out of turn.
        with pytest.raises(InvalidInput, match="合同"):
            document_issue(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION, actor=world.clerk)
        assert documents_for_transition(case_id=case.pk, status=CaseStatus.ENFORCEMENT_ELIGIBLE, actor_id=None) == []
        assert not Document.objects.filter(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION).exists()


def test_a_further_default_issues_the_application_again_with_both_clauses(world, tmp_path,
                                                                           django_capture_on_commit_callbacks):
    with time_machine.travel(local(*START), tick=False) as traveller:
        case = confirmed(world, traveller)
        _first, certificate, second = obligations(case)
        traveller.move_to(local(2026, 5, 4, 9))
        with django_capture_on_commit_callbacks(execute=True):
            obligation_report_default(obligation=second, actor=world.applicant)
        with django_capture_on_commit_callbacks(execute=True):
            obligation_report_default(obligation=certificate, actor=world.applicant, note="离职证明未出具")
    documents = list(Document.objects.filter(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION).order_by("version"))
    assert [d.version for d in documents] == [1, 2]
    assert documents[1].supersedes == documents[0]
    text = pdf_text(_path(documents[1], tmp_path))
    assert "调解协议第3条" in text and "调解协议第4条" in text and "协议未约定履行期限" in text
