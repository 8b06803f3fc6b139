"""Issue 17 item 9: a signed legal PDF carries a box only for someone who will sign (CPL 62: an agent signs
only with special authority, and only one with an account can sign on the platform), its seal never stands
alone on the last page, and no document of the demo world prints "（未填写）"."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from documents.services.issuing import build_data, document_issue, render_document, signature_boxes
from mediation.choices import AgentAuthority, CaseStatus, DocumentKind
from mediation.models import Agent
from tests.documents.documents_support import make_case, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _issued_text(document, tmp_path: Path) -> str:
    path = tmp_path / f"{document.kind}-{document.version}.pdf"
    with default_storage.open(document.pdf.name, "rb") as handle:
        path.write_bytes(handle.read())
    return pdf_text(path)


@pytest.mark.parametrize("change", [{"authority": AgentAuthority.GENERAL}, {"user": None}],
                         ids=["general-authority", "no-account"])
def test_an_agent_who_never_signs_gets_no_box(world, tmp_path, change):
    fx = make_case(world, to=CaseStatus.SIGNING)
    Agent.objects.filter(pk=fx.agent.pk).update(**change)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    fields = [s["field"] for s in document.data["signers"]]
    assert f"party_{fx.respondent.pk}" in fields
    assert set(signature_boxes(document)) == set(fields)
    text = _issued_text(document, tmp_path)
    assert "委托代理人：" + fx.agent.name in text  # still named as an agent
    assert "本人或委托代理人" not in text  # but not as one who may sign the party's box


def test_a_signing_agent_shares_the_party_s_box_so_none_stays_empty(world, tmp_path):
    """Issue 17 item 9: an agent with special authority used to get a box of their own, left empty when the
    party signed in person. Now one box per party side names both; whoever signs fills it."""
    fx = make_case(world, to=CaseStatus.SIGNING)
    document = document_issue(case=fx.case, kind=DocumentKind.AGREEMENT, actor=None)
    fields = [s["field"] for s in document.data["signers"]]
    assert fields.count(f"party_{fx.respondent.pk}") == 1 and not any(f.startswith("agent_") for f in fields)
    text = "".join(_issued_text(document, tmp_path).split())
    assert f"本人或委托代理人{fx.agent.name}电子签名" in text


def _page_texts(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "layout.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([shutil.which("pdftotext") or "pdftotext", "-raw", str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    return ["".join(page.split()) for page in out.split("\f") if page.strip()]


def _body_left(page: str, data: dict, code: str) -> str:
    """What a page holds besides the signature labels, the closing note and the running header/footer."""
    for signer in data["signers"]:
        page = page.replace(f"{signer['label']}：{signer['name']}".replace(" ", ""), "")
    page = re.sub(r"（(本人或委托代理人.*?)?电子(签名|印章)）", "", page)
    page = re.sub(r"本文书由.*?为准。", "", page)
    page = re.sub(r"第\d+页共\d+页", "", page)
    return page.replace(f"核验码{code}", "").replace("".join(str(data["number"]).split()), "")


def _padded(kind: str, base: dict, text: str) -> dict:
    """``base`` with a body field that ``kind`` prints made ``text`` long."""
    if kind == DocumentKind.FAILURE_REPORT:
        return {**base, "failure_reasons": text}
    agreement = base["agreement"]
    if kind == DocumentKind.JC_APPLICATION:
        clauses = [{**agreement["clauses"][0], "text": text + agreement["clauses"][0]["text"]},
                   *agreement["clauses"][1:]]
        return {**base, "agreement": {**agreement, "clauses": clauses}}
    return {**base, "agreement": {**agreement, "facts": text}}


@pytest.mark.parametrize("kind", [DocumentKind.AGREEMENT, DocumentKind.JC_APPLICATION, DocumentKind.PRESIDING_PROOF,
                                  DocumentKind.FAILURE_REPORT])
def test_the_last_page_holds_more_than_the_signatures(world, tmp_path, kind):
    """The body grows a line at a time to walk the page break through the signature block: the last page
    always keeps some of the text the signatures close, never the seal (and the closing note) alone."""
    terminated = kind == DocumentKind.FAILURE_REPORT
    fx = make_case(world, to=CaseStatus.TERMINATED if terminated else CaseStatus.AGREEMENT_EFFECTIVE)
    base = build_data(case=fx.case, kind=kind, agreement=None if terminated else fx.agreement)
    assert base["signers"]
    line = "申请人在被申请人处工作期间，被申请人多次未按劳动合同约定的日期足额支付工资。"
    for lines in range(0, 30):
        data = _padded(kind, base, line * lines)
        pdf, pages, _boxes = render_document(data=data, code="TESTCODE22", version=1)
        last = _page_texts(pdf, tmp_path)[-1]
        assert _body_left(last, data, "TESTCODE22"), (lines, pages, last)
