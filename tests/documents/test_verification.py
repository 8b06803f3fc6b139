"""verify_pdf / verify_code: byte-for-byte matching against the record and pyHanko validation of every
embedded signature against the platform's roots."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from documents.verification import Verdict, normalise_code, verify_code, verify_pdf
from mediation.choices import SignerRole
from tests.documents.ca_support import ThrowawayCA
from tests.documents.verify_support import issue, render_pdf, sign, sign_by_both_parties

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="module")
def ca() -> ThrowawayCA:
    return ThrowawayCA()


@pytest.fixture(scope="module")
def original() -> bytes:
    return render_pdf()


@pytest.fixture
def signed(world, ca, original):
    record = issue(world.new_case(), original)
    sign_by_both_parties(record, ca)
    return record


def test_the_latest_signed_revision_matches_the_record(signed, ca):
    result = verify_pdf(data=signed.latest, trust_roots=[ca.root])
    assert result.verdict == Verdict.LATEST
    assert result.message == "与平台存档一致（最新版本）"
    assert result.document == signed.document
    assert result.matched_sequence == 2


def test_every_embedded_signature_is_intact_valid_and_trusted(signed, ca):
    result = verify_pdf(data=signed.latest, trust_roots=[ca.root])
    assert [c.ok for c in result.embedded] == [True, True]
    assert [c.record.name for c in result.embedded if c.record] == ["张三", "李四"]


def test_signers_are_listed_with_name_role_and_time(signed, ca):
    result = verify_pdf(data=signed.latest, trust_roots=[ca.root])
    assert [(s.name, s.role) for s in result.signers] == [("张三", "当事人（申请人）"), ("李四", "当事人（被申请人）")]
    assert all(s.signed_at is not None for s in result.signers)


def test_only_the_last_signature_covers_the_whole_file(signed, ca):
    result = verify_pdf(data=signed.latest, trust_roots=[ca.root])
    assert [c.covers_whole_file for c in result.embedded] == [False, True]
    assert all(c.unchanged_after for c in result.embedded)


def test_an_earlier_signed_revision_says_more_signatures_followed(signed, ca):
    result = verify_pdf(data=signed.revisions[1], trust_roots=[ca.root])
    assert result.verdict == Verdict.EARLIER
    assert result.message == "与存档的第 1 次签章后版本一致（之后还有签章）"
    assert result.matched_sequence == 1


def test_the_unsigned_original_of_a_signed_document_is_an_earlier_revision(signed, ca):
    result = verify_pdf(data=signed.revisions[0], trust_roots=[ca.root])
    assert result.verdict == Verdict.EARLIER
    assert result.matched_sequence == 0
    assert "未签章原件" in result.message


def test_an_unsigned_document_with_no_signatures_yet_is_the_latest(world, original):
    record = issue(world.new_case(), original)
    result = verify_pdf(data=record.latest, trust_roots=[])
    assert result.verdict == Verdict.LATEST
    assert result.embedded == []


def test_a_byte_changed_inside_a_signed_range_is_reported_as_modified(signed, ca):
    data = bytearray(signed.latest)
    at = data.index(b"/MediaBox")
    data[at + 1] = ord("m")
    result = verify_pdf(data=bytes(data), trust_roots=[ca.root])
    assert result.verdict == Verdict.MODIFIED
    assert result.message == "文件已被修改"
    assert result.document == signed.document
    assert not any(c.intact for c in result.embedded)


def test_an_update_appended_after_the_last_signature_is_reported_as_modified(signed, ca):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed.latest))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)

    result = verify_pdf(data=out.getvalue(), trust_roots=[ca.root])
    assert result.verdict == Verdict.MODIFIED
    assert "第 2 次签章后版本一致" in result.detail
    assert [c.unchanged_after for c in result.embedded] == [False, False]
    assert all(c.intact for c in result.embedded)


def test_bytes_appended_after_the_end_of_file_are_reported_as_modified(signed, ca):
    result = verify_pdf(data=signed.latest + b"\n% appended\n", trust_roots=[ca.root])
    assert result.verdict == Verdict.MODIFIED
    assert result.document == signed.document
    assert [c.unchanged_after for c in result.embedded] == [True, False]


def test_a_pdf_the_platform_never_issued_is_foreign(original):
    result = verify_pdf(data=render_pdf("别人的文件"), trust_roots=[])
    assert result.verdict == Verdict.FOREIGN
    assert result.message == "不是本平台的文书"
    assert result.document is None


def test_a_pdf_signed_by_another_authority_is_foreign_and_untrusted(ca):
    other = ThrowawayCA(name="他人CA")
    key, cert = other.issue("冒名者")
    from tests.documents.ca_support import sign_pdf

    data = sign_pdf(render_pdf(), key=key, cert=cert, chain=[other.root], field_name="sig1")
    result = verify_pdf(data=data, trust_roots=[ca.root])
    assert result.verdict == Verdict.FOREIGN
    assert [(c.intact, c.trusted) for c in result.embedded] == [(True, False)]


def test_without_the_platform_root_an_exact_match_still_shows_signatures_untrusted(signed):
    result = verify_pdf(data=signed.latest, trust_roots=[])
    assert result.verdict == Verdict.LATEST
    assert [c.trusted for c in result.embedded] == [False, False]


def test_a_superseded_document_names_the_newer_version(world, original):
    first = issue(world.new_case(), original)
    issue(first.document.case, render_pdf("更正"), version=2, supersedes=first.document)
    result = verify_pdf(data=first.latest, trust_roots=[])
    assert result.newer_version == 2


def test_the_seal_is_shown_with_the_organisation_name(world, ca, original):
    record = issue(world.new_case(), original)
    sign(record, ca, signer=world.org_admin, role=SignerRole.ORGANISATION, organisation=world.partner)
    result = verify_pdf(data=record.latest, trust_roots=[ca.root])
    assert [(s.name, s.role) for s in result.signers] == [("北京市总工会劳动争议调解中心", "调解组织电子印章")]


def test_an_empty_upload_is_rejected():
    assert verify_pdf(data=b"").verdict == Verdict.REJECTED


def test_a_file_that_is_not_a_pdf_is_rejected():
    result = verify_pdf(data=b"\x89PNG\r\n\x1a\n" + b"0" * 100, trust_roots=[])
    assert result.verdict == Verdict.REJECTED
    assert "不是 PDF" in result.message


def test_a_file_over_the_size_limit_is_rejected_before_parsing(settings):
    settings.VERIFY_MAX_BYTES = 2048
    result = verify_pdf(data=b"%PDF-1.7\n" + b"x" * 4096, trust_roots=[])
    assert result.verdict == Verdict.REJECTED
    assert "MB" in result.message


def test_a_truncated_signed_pdf_does_not_raise(signed, ca):
    result = verify_pdf(data=signed.latest[: len(signed.latest) // 2], trust_roots=[ca.root])
    assert result.verdict in (Verdict.MODIFIED, Verdict.FOREIGN)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2000))
def test_garbage_behind_a_pdf_header_never_raises(body):
    result = verify_pdf(data=b"%PDF-1.7\n" + body + b"\n%%EOF\n", trust_roots=[])
    assert result.verdict == Verdict.FOREIGN


def test_a_code_finds_its_document_ignoring_case_spaces_and_dashes(signed):
    code = signed.document.code
    typed = f" {code[:5].lower()}-{code[5:]} "
    result = verify_code(code=typed)
    assert result.verdict == Verdict.FOUND
    assert result.document == signed.document
    assert [s.name for s in result.signers] == ["张三", "李四"]


def test_an_unknown_code_finds_nothing(signed):
    assert verify_code(code="ZZZZZZZZZZ").verdict == Verdict.NOT_FOUND


def test_a_malformed_code_is_refused_without_a_lookup(django_assert_num_queries):
    with django_assert_num_queries(0):
        result = verify_code(code="<script>")
    assert result.verdict == Verdict.NOT_FOUND
    assert result.message == "核验码格式不正确"


def test_codes_are_normalised_to_upper_case_without_separators():
    assert normalise_code(" ab-12 cd ") == "AB12CD"
