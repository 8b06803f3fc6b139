"""Signing documents on the phone, and what the last signature sets off (OMR 19-20; PML 29, 33; CPL 62, 205;
SIM 19; ESL 13-14; legal-rules §B7).

Each signer re-verifies with a one-time code to their phone and draws a handwritten signature; the platform
then has the certificate authority issue an event certificate for that person and that signing and applies
an incremental PAdES signature to the document's latest revision (``documents.signing.pdf_sign``). Every
signature is a ``DocumentSignature`` row holding the whole file after it.

Who signs what:

* the 调解协议书: every party (in person, or through an agent with **special** authority, CPL 62), the
  presiding mediator and, where an organisation presided, its administrator applying the organisation's
  e-seal (OMR 19). It takes effect (OMR 19; legal-rules §A11 item 2) at the last party signature, or for a
  people's mediation committee (PML 29) at the latest of the parties', the mediator's and the seal. The case
  then moves to AGREEMENT_EFFECTIVE, which starts the 30-day confirmation clock (T9). Once every signature
  is on it, the agreement is served on every party, a copy is filed with the referring court (SIM 19) and
  the case closes as settled;
* the joint 司法确认申请书 (CPL 205): every party (agents with special authority). With the last party
  signature the application is submitted (JC_SUBMITTED), but not after the 30-day window closed (T9);
* the 调解组织主持调解的证明 (an attachment of the application, Interp 354): the organisation's e-seal;
* the court's 民事裁定书 (legal-rules §C4): the judge who decided approves it by signing as 审判员 (the same
  one-time code and handwriting), and in the same transaction the court's electronic seal is applied with a
  court-seal certificate from the CA (``issue_court_seal_certificate``). The sealed ruling is then served on
  every party through ``document_serve`` on the judge's behalf; a confirmation ruling served on every party
  opens the objection window (``confirmation_ruling_served``, Interp 372, T13).

A one-time code is bound to the document it was sent for: a code sent to sign one document does not sign
another. Before a signature is added, the stored revision it extends is checked against its recorded hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from documents.ca import PURPOSE_COURT_SEAL, PURPOSE_SEAL, PURPOSE_SIGNATURE, certificate_authority, id_number_hint
from documents.models import Document, DocumentSignature, ExternalDocument, SealedScan
from documents.selectors import COURT_DOCUMENT_KINDS, can_view_documents
from documents.services.issuing import signature_boxes
from documents.signing import pdf_sign
from mediation import notification_templates as nt
from mediation import transitions as tr
from mediation.choices import (
    AgentAuthority,
    AgreementVariant,
    CaseStatus,
    ConfirmationOutcome,
    DocumentKind,
    EndReason,
    MessageChannel,
    OtpPurpose,
    Role,
    SignerRole,
    TimerKind,
)
from mediation.exceptions import (
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleState,
    TransitionNotAllowed,
)
from mediation.models import Agent, AuditEvent, Case, CaseMediator, OneTimeCode, Party, Timer, User
from mediation.permissions import case_roles, helper_refusal
from mediation.services.agreements import agreement_is_fully_assented
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.confirmation import confirmation_application_receive, confirmation_ruling_served
from mediation.services.identity import otp_send, otp_verify
from mediation.services.outbox import outbox_enqueue
from mediation.services.service import count_pdf_pages, document_serve
from mediation.validators import mask_phone

logger = logging.getLogger(__name__)

SIGNABLE_KINDS = frozenset({DocumentKind.AGREEMENT, DocumentKind.JC_APPLICATION, DocumentKind.PRESIDING_PROOF,
                            DocumentKind.RULING, DocumentKind.MEDIATION_DOCUMENT})
# The decided statuses a ruling is approved in (the case stays there until the ruling is served).
RULING_STATUSES = frozenset({CaseStatus.JC_CONFIRMED, CaseStatus.JC_DISMISSED, CaseStatus.JC_NOT_ACCEPTED,
                             CaseStatus.JC_WITHDRAWN})
# Kinds the presiding organisation seals: the agreement (OMR 19) and its own proof of presiding (§C3a).
SEALED_KINDS = frozenset({DocumentKind.AGREEMENT, DocumentKind.PRESIDING_PROOF})
# The slot an organisation without an e-seal fills by uploading the scan of the sealed paper agreement (OMR 19).
SCAN_SLOT = "sealed_scan"
SCAN_MAX_BYTES = 20 * 1024 * 1024
# Handwriting: a PNG from the signing page's canvas. Bounds that a real signature never reaches.
HANDWRITING_MAX_BYTES = 512 * 1024
HANDWRITING_MIN_SIDE, HANDWRITING_MAX_SIDE = 60, 4000
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SIGNING_LOCATION = "一站在线调解平台"

# Where a signature goes when the rendered document has no box for its field: the last page, three across.
_FALLBACK_WIDTH, _FALLBACK_HEIGHT = 160, 72


# --- Who must and who may sign -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One signature a document takes. ``key`` names it: ``party_<pk>``, ``mediator``, ``organisation``, or on
    a ruling ``judge`` and ``court``."""

    key: str
    label: str
    party: Party | None = None
    for_effect: bool = True  # counts toward the agreement taking effect


@dataclass(frozen=True)
class SignOption:
    """One way ``user`` may sign ``document`` now: the capacity and, for a party's signature, the party."""

    role: str
    party: Party | None
    label: str

    @property
    def value(self) -> str:
        return f"{self.role}:{self.party.pk}" if self.party is not None else self.role


def document_slots(document: Document) -> list[Slot]:
    """Every signature ``document`` needs, in signing-block order."""
    case = document.case
    if document.kind in COURT_DOCUMENT_KINDS:
        return [Slot(key="judge", label=str(_("审判员")), for_effect=False),
                Slot(key="court", label=str(_("人民法院电子印章")), for_effect=False)]
    if document.kind == DocumentKind.PRESIDING_PROOF:
        return [Slot(key="organisation", label=str(_("调解组织电子印章")), for_effect=False)] \
            if _seals_electronically(case) else []
    parties = sorted(Party.objects.filter(case=case), key=lambda p: (p.role, p.pk))
    slots = [Slot(key=f"party_{p.pk}", label=f"{p.get_role_display()}：{p.name}", party=p) for p in parties]
    if document.kind == DocumentKind.AGREEMENT:
        peoples = _variant(document) == AgreementVariant.PEOPLES
        slots.append(Slot(key="mediator", label=str(_("调解员")), for_effect=peoples))
        if _seals_electronically(case):
            slots.append(Slot(key="organisation", label=str(_("调解组织电子印章")), for_effect=peoples))
        elif case.mediation_organisation is not None:
            # No e-seal: the organisation seals the printed agreement and uploads the scan (OMR 19); a people's
            # mediation committee's agreement takes effect only once sealed (PML 29).
            slots.append(Slot(key=SCAN_SLOT, label=str(_("调解组织盖章协议扫描件")), for_effect=peoples))
    return slots


def _seals_electronically(case: Case) -> bool:
    """Whether the presiding organisation applies an e-seal here. One without (``has_e_seal`` off) seals a
    printed copy and uploads the scan instead (OMR 19; ``document_sealed_scan_upload``)."""
    organisation = case.mediation_organisation
    return organisation is not None and organisation.has_e_seal


def _variant(document: Document) -> str:
    if document.agreement is not None:
        return str(document.agreement.variant)
    return str((document.data or {}).get("variant", ""))


def _slot_key(signature: DocumentSignature) -> str:
    if signature.role in (SignerRole.PARTY, SignerRole.AGENT):
        return f"party_{signature.party_id}"
    if signature.role in (SignerRole.JUDGE, SignerRole.COURT):
        return str(signature.role)
    return "mediator" if signature.role == SignerRole.MEDIATOR else "organisation"


def document_signed_slots(document: Document) -> dict[str, DocumentSignature]:
    return {_slot_key(s): s for s in document.signatures.select_related("party").order_by("sequence")}


def document_filled_slots(document: Document) -> dict[str, dt.datetime]:
    """When each filled slot was filled: the signatures and, for an organisation without an e-seal, the upload
    of the sealed scan."""
    filled = {key: signature.signed_at for key, signature in document_signed_slots(document).items()}
    scan = SealedScan.objects.filter(document=document).first()
    if scan is not None:
        filled[SCAN_SLOT] = scan.uploaded_at
    return filled


def document_pending_slots(document: Document) -> list[Slot]:
    filled = document_filled_slots(document)
    return [slot for slot in document_slots(document) if slot.key not in filled]


def _slot_open(document: Document, case: Case, slot_key: str) -> bool:
    """Whether the case's status lets this slot be signed now ("documents only in their signing state")."""
    if document.kind == DocumentKind.AGREEMENT:
        if slot_key.startswith("party_"):
            return case.status == CaseStatus.SIGNING
        # The mediator and the seal may follow the parties' signatures (OMR 19 wants them either way).
        return case.status in (CaseStatus.SIGNING, CaseStatus.AGREEMENT_EFFECTIVE)
    if document.kind == DocumentKind.JC_APPLICATION:
        return case.origin in tr.PRE_FILING and case.status in (CaseStatus.AGREEMENT_EFFECTIVE,
                                                                 CaseStatus.CLOSED_SETTLED)
    if document.kind == DocumentKind.PRESIDING_PROOF:
        return slot_key == "organisation"
    if document.kind == DocumentKind.RULING:
        # The seal follows the judge's signature by itself; nobody applies it alone.
        return slot_key == "judge" and case.status in RULING_STATUSES
    if document.kind == DocumentKind.MEDIATION_DOCUMENT:
        # Approved while the request waits for it (§A12 art. 4); the seal follows the judge's signature.
        return slot_key == "judge" and case.status == CaseStatus.MEDIATION_DOCUMENT_REQUESTED
    return False


def _jc_window_closed(case: Case) -> bool:
    """Whether the 30 days to apply for confirmation (T9; CPL 205, PML 33) have run out, even if the sweep
    that moves the case on has not run yet."""
    timer = Timer.objects.filter(case=case, kind=TimerKind.JC_APPLICATION_WINDOW).order_by("-started_at").first()
    return timer is not None and timer.due_at is not None and timezone.now() > timer.due_at


def _options_for(user: User | None, document: Document) -> list[SignOption]:
    """Every capacity in which ``user`` could sign ``document``, ignoring status and what is already signed."""
    if user is None or not user.is_authenticated:
        return []
    case = document.case
    options: list[SignOption] = []
    if document.kind in COURT_DOCUMENT_KINDS:
        if tr.JUDGE in case_roles(user, case) and user.pk == _court_judge_id(document):
            options.append(SignOption(SignerRole.JUDGE, None, str(_("审判员（批准并加盖本院电子印章）"))))
        return options
    if document.kind == DocumentKind.PRESIDING_PROOF:
        if _seals_electronically(case) and tr.ORG_ADMIN in case_roles(user, case):
            options.append(SignOption(SignerRole.ORGANISATION, None, _("加盖%(org)s电子印章")
                                      % {"org": case.mediation_organisation.name}))  # type: ignore[union-attr]
        return options
    for party in Party.objects.filter(case=case, user=user).order_by("pk"):
        options.append(SignOption(SignerRole.PARTY, party, _("%(role)s本人：%(name)s")
                                  % {"role": party.get_role_display(), "name": party.name}))
    for agent in Agent.objects.filter(party__case=case, user=user, authority=AgentAuthority.SPECIAL).select_related(
        "party"
    ):
        options.append(SignOption(SignerRole.AGENT, agent.party, _("%(name)s的委托代理人（特别授权）")
                                  % {"name": agent.party.name}))
    if document.kind == DocumentKind.AGREEMENT:
        if CaseMediator.objects.filter(case=case, mediator=user, is_active=True, presiding=True).exists():
            options.append(SignOption(SignerRole.MEDIATOR, None, str(_("主持调解员"))))
        if _seals_electronically(case) and tr.ORG_ADMIN in case_roles(user, case):
            options.append(SignOption(SignerRole.ORGANISATION, None, _("加盖%(org)s电子印章")
                                      % {"org": case.mediation_organisation.name}))  # type: ignore[union-attr]
    return options


def document_sign_options(*, document: Document, user: User | None) -> list[SignOption]:
    """The signatures ``user`` may apply to ``document`` right now (for the page's 签署 button)."""
    if document.kind not in SIGNABLE_KINDS or _superseded(document):
        return []
    signed = document_signed_slots(document)
    result = []
    for option in _options_for(user, document):
        key = _option_slot(option)
        if key not in signed and _slot_open(document, document.case, key):
            result.append(option)
    return result


def _court_judge_id(document: Document) -> int | None:
    """The judge named on a court document as 审判员 (who decided the ruling; who prepared the 调解书): the one
    who approves and signs it."""
    return ((document.data or {}).get("judge") or {}).get("id")


def _option_slot(option: SignOption) -> str:
    if option.party is not None:
        return f"party_{option.party.pk}"
    if option.role in (SignerRole.JUDGE, SignerRole.COURT):
        return str(option.role)
    return "mediator" if option.role == SignerRole.MEDIATOR else "organisation"


def _superseded(document: Document) -> bool:
    return Document.objects.filter(supersedes=document).exists()


def _check_may_sign(*, document: Document, case: Case, actor: User, role: str, party: Party | None) -> SignOption:
    """The option ``actor`` signs under, or a DomainError saying why not. Order: who (outsiders learn
    nothing more), what document, its state, what is already signed, and the agreement's assent. An
    interpreter or helper of the case is told plainly that helping is not signing (issue 18 item 4)."""
    refusal = helper_refusal(actor, case)
    if refusal is not None:
        raise PermissionDenied(refusal)
    if not case_roles(actor, case):
        raise PermissionDenied(_("文书不存在或您无权查看。"))
    if role not in SignerRole.values:
        raise InvalidInput(_("请选择签署身份。"))
    if party is not None and party.case_id != case.pk:
        raise PermissionDenied(_("该当事人不属于本案。"))
    options = _options_for(actor, document)
    if role == SignerRole.AGENT and party is not None:
        agent = Agent.objects.filter(party=party, user=actor).first()
        if agent is not None and agent.authority != AgentAuthority.SPECIAL:
            raise PermissionDenied(
                _("您是一般授权代理人，不能代为签署：代为和解须有当事人的特别授权（民事诉讼法第六十二条）。"
                  "请当事人本人签署，或补充特别授权委托书。")
            )
    matching = [o for o in options if o.role == role and (party is None or o.party == party)]
    if not matching:
        if role in (SignerRole.PARTY, SignerRole.AGENT):
            raise PermissionDenied(_("您不能代表该当事人签署：只有当事人本人或其特别授权的代理人可以签署。"))
        if role == SignerRole.MEDIATOR:
            raise PermissionDenied(_("只有本案的主持调解员可以以调解员身份签署。"))
        if document.kind == DocumentKind.RULING:
            raise PermissionDenied(_("只有作出本裁定的审判员（受理本案的人民法院的法官）可以批准签发民事裁定书。"))
        if document.kind == DocumentKind.MEDIATION_DOCUMENT:
            raise PermissionDenied(_("只有制作本调解书的审判员（受理本案的人民法院的法官）可以批准签发民事调解书。"))
        raise PermissionDenied(_("只有主持调解的调解组织的管理员可以加盖该组织的电子印章。"))
    if len(matching) > 1:
        raise InvalidInput(_("您在本案中代表多位当事人，请选择为哪一位当事人签署。"))
    option = matching[0]
    if document.kind not in SIGNABLE_KINDS:
        raise InvalidInput(_("“%(title)s”不需要签署。") % {"title": document.title})
    if _superseded(document):
        raise StaleState(_("该文书已有更新的版本，请在最新版本上签署。"))
    key = _option_slot(option)
    signed = document_signed_slots(document)
    if key in signed:
        who = signed[key].signer_name
        raise InvalidInput(_("该签署已完成（%(who)s），每位签署人只签一次。") % {"who": who})
    if not _slot_open(document, case, key):
        raise TransitionNotAllowed(
            _("案件当前为“%(status)s”，现在不能签署“%(title)s”。")
            % {"status": case.get_status_display(), "title": document.title}
        )
    if document.kind == DocumentKind.JC_APPLICATION and _jc_window_closed(case):
        raise TransitionNotAllowed(
            _("申请司法确认的期限（调解协议生效之日起三十日）已经届满，不能再签署提交司法确认申请书。"
              "当事人可以就调解协议的履行或内容向人民法院提起诉讼。")
        )
    if document.kind == DocumentKind.AGREEMENT and (
        document.agreement is None or not agreement_is_fully_assented(document.agreement)
    ):
        raise InvalidInput(_("调解协议尚有条款未经各方当事人逐条确认同意，暂不能签署。请联系调解员。"))
    return option


# --- Input --------------------------------------------------------------------------------------------------


def clean_handwriting(data: bytes | None) -> bytes:
    """A PNG of sane size with some ink on it; otherwise a message the signer can act on."""
    if not data:
        raise InvalidInput(_("请在签名框内手写签名。"))
    if len(data) > HANDWRITING_MAX_BYTES:
        raise InvalidInput(_("签名图片过大，请清除后重新签写。"))
    if not data.startswith(_PNG_MAGIC):
        raise InvalidInput(_("签名图片格式不正确，请清除后重新签写。"))
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if not (HANDWRITING_MIN_SIDE <= width <= HANDWRITING_MAX_SIDE
                    and HANDWRITING_MIN_SIDE <= height <= HANDWRITING_MAX_SIDE):
                raise InvalidInput(_("签名图片尺寸不正确，请清除后重新签写。"))
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(_("签名图片无法读取，请清除后重新签写。")) from exc
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        ink = rgba.convert("L").point(lambda v: 255 if v < 160 else 0)
    else:
        ink = alpha.point(lambda v: 255 if v > 32 else 0)
    histogram = ink.histogram()
    if histogram[255] < 40:  # a dot or a stray touch is not a signature
        raise InvalidInput(_("没有检测到签名笔迹，请在签名框内手写您的姓名。"))
    return data


def _signer_phone(actor: User) -> str:
    phone = (actor.phone or "").strip()
    if not phone:
        raise InvalidInput(_("您的账户未绑定手机号码，无法接收签署验证码。请先完成实名认证。"))
    return phone


# --- Services -------------------------------------------------------------------------------------------------


def document_sign_code_send(*, document: Document, actor: User, role: str = "", party: Party | None = None,
                            ip_address: str | None = None) -> OneTimeCode:
    """Send the signer a one-time code (purpose SIGNING) to re-verify before signing. Refused to anyone who
    cannot sign ``document`` now, so codes never go out for nothing."""
    case = Case.objects.select_related("mediation_organisation", "court").get(pk=document.case_id)
    document.case = case
    options = document_sign_options(document=document, user=actor)
    if role:
        _check_may_sign(document=document, case=case, actor=actor, role=role, party=party)
    elif not options:
        # Say why (not yours, not now, already signed, not assented) through the full check's messages.
        _check_may_sign(document=document, case=case, actor=actor, role=_guess_role(actor, document), party=None)
        raise PermissionDenied(_("您现在没有需要签署的内容。"))
    phone = _signer_phone(actor)
    otp = otp_send(phone=phone, purpose=OtpPurpose.SIGNING, ip_address=ip_address)
    with transaction.atomic():
        audit_append(
            kind="document.sign_code_sent", actor=actor, case=case,
            # ``otp`` binds the code to this document (see ``_check_code_was_for``).
            data={"document": document.pk, "title": document.title, "phone": mask_phone(phone), "ip": ip_address,
                  "otp": otp.pk},
        )
    return otp


def _check_code_was_for(*, otp: OneTimeCode, document: Document, actor: User) -> None:
    """A signing code consents to signing one document: the one it was sent for, by the person it was sent
    to. (Codes are per phone and purpose; without this, a code asked for on one document signs another.)"""
    if not AuditEvent.objects.filter(kind="document.sign_code_sent", case_id=document.case_id, actor=actor,
                                     data__document=document.pk, data__otp=otp.pk).exists():
        raise InvalidInput(_("该验证码不是为签署本文书发送的。请在本文书的签署页面重新获取验证码。"))


def _guess_role(actor: User, document: Document) -> str:
    options = _options_for(actor, document)
    return options[0].role if options else SignerRole.PARTY


def document_sign(
    *,
    document: Document,
    actor: User,
    role: str,
    party: Party | None = None,
    code: str,
    handwriting_png: bytes | None,
    ip_address: str | None = None,
) -> DocumentSignature:
    """Sign ``document`` as ``role`` (for ``party`` when a party's signature): check who may sign, the
    handwriting and the one-time code, then, holding the document's row lock (a concurrent signer waits),
    sign its latest revision with a fresh event certificate and store the new revision. The last required
    signature sets off what follows (see the module docstring). A wrong code stores nothing."""
    case = Case.objects.select_related("mediation_organisation", "court").get(pk=document.case_id)
    document.case = case
    _check_may_sign(document=document, case=case, actor=actor, role=role, party=party)
    try:
        handwriting = clean_handwriting(handwriting_png) if role != SignerRole.ORGANISATION else None
    except DomainError as exc:
        exc.field = "handwriting"
        raise
    # Verified outside our transaction: a wrong code's failure count is committed even though we raise.
    try:
        otp = otp_verify(phone=_signer_phone(actor), purpose=OtpPurpose.SIGNING, code=code, ip_address=ip_address)
        _check_code_was_for(otp=otp, document=document, actor=actor)
    except DomainError as exc:
        exc.field = "code"
        raise
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related(
            "case", "case__mediation_organisation", "agreement"
        ).get(pk=document.pk)
        case = document.case
        option = _check_may_sign(document=document, case=case, actor=actor, role=role, party=party)
        signature = _apply_signature(document=document, case=case, actor=actor, option=option,
                                     handwriting=handwriting, ip_address=ip_address)
        if option.role == SignerRole.JUDGE:
            # Approval and seal are one act of the judge (legal-rules §C4): the court's e-seal follows at once.
            seal = SignOption(SignerRole.COURT, None, str(_("人民法院电子印章")))
            _apply_signature(document=document, case=case, actor=actor, option=seal, handwriting=None,
                             ip_address=ip_address)
        _after_signature(document=document, case=case, actor=actor)
    return signature


def _apply_signature(*, document: Document, case: Case, actor: User, option: SignOption,
                     handwriting: bytes | None, ip_address: str | None) -> DocumentSignature:
    previous = document.signatures.order_by("-sequence").first()
    pdf_bytes, _digest = _latest_bytes(document)
    sequence = (previous.sequence if previous is not None else 0) + 1
    field_name, signer_name, caption, subject, id_hint, organisation, purpose = _identity(
        case, actor, option, document.kind)
    page, box = _placement(document, field_name, sequence)
    if purpose == PURPOSE_COURT_SEAL:
        key, cert, chain = certificate_authority().issue_court_seal_certificate(
            court_name=case.court.name, court_code=case.court.court_code)
    else:
        key, cert, chain = certificate_authority().issue_event_certificate(
            subject_name=subject, id_hint=id_hint, organisation=organisation, purpose=purpose
        )
    signed_at = timezone.now()
    reason = _("签署《%(title)s》") % {"title": document.title}
    signed = pdf_sign(
        pdf_bytes=pdf_bytes, field_name=field_name, box=box, page=page, signer_name=signer_name, reason=reason,
        location=SIGNING_LOCATION, key=key, cert=cert, chain=chain, handwriting_png=handwriting,
        signed_at=signed_at, caption=caption,
    )
    del key  # the event key signs once and is never stored
    digest = hashlib.sha256(signed).hexdigest()
    from cryptography.hazmat.primitives import serialization

    signature = DocumentSignature(
        document=document, sequence=sequence, role=option.role, signer=actor, party=option.party,
        organisation=(case.mediation_organisation if option.role == SignerRole.ORGANISATION
                      else case.court if option.role == SignerRole.COURT else None),
        signer_name=signer_name, field_name=field_name, certificate_serial=f"{cert.serial_number:x}",
        certificate_subject=cert.subject.rfc4514_string()[:300],
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(), sha256=digest, signed_at=signed_at,
    )
    stem = f"{case.reference}/{document.kind}-v{document.version}-s{sequence}-{digest[:12]}"
    signature.pdf.save(f"{stem}.pdf", ContentFile(signed), save=False)
    if handwriting is not None:
        signature.handwriting.save(f"{stem}.png", ContentFile(handwriting), save=False)
    signature.save()
    audit_append(
        kind="document.signed", actor=actor, case=case,
        data={"document": document.pk, "title": document.title, "kind": document.kind, "sequence": sequence,
              "role": option.role, "party": option.party.pk if option.party else None, "signer_name": signer_name,
              "field": field_name, "certificate_serial": signature.certificate_serial,
              "certificate_subject": signature.certificate_subject, "sha256": digest,
              "previous_sha256": previous.sha256 if previous is not None else document.sha256,
              "signed_at": signed_at, "ip": ip_address},
    )
    return signature


def _identity(case: Case, actor: User, option: SignOption,
              kind: str) -> tuple[str, str, str, str, str, str | None, str]:
    """Field name, name shown, caption, certificate subject, ID hint, organisation and purpose of a signature.
    On the joint confirmation application every party signs as 申请人 (CPL 205)."""
    person = (actor.real_name or actor.display_name).strip()
    organisation_name = case.mediation_organisation.name if case.mediation_organisation else None
    if option.role == SignerRole.PARTY:
        party = option.party
        assert party is not None
        caption = str(_("申请人")) if kind == DocumentKind.JC_APPLICATION else party.get_role_display()
        return (f"party_{party.pk}", party.name, caption, party.name,
                id_number_hint(party.id_number or actor.id_number), None, PURPOSE_SIGNATURE)
    if option.role == SignerRole.AGENT:
        party = option.party
        assert party is not None
        agent = Agent.objects.get(party=party, user=actor)
        caption = _("%(party)s的委托代理人") % {"party": party.name}
        # The party's own box: one box per party side, signed by the party or by this agent.
        return (f"party_{party.pk}", agent.name or person, caption, agent.name or person,
                id_number_hint(actor.id_number), None, PURPOSE_SIGNATURE)
    if option.role == SignerRole.MEDIATOR:
        return (f"mediator_{actor.pk}", person, str(_("调解员")), person, id_number_hint(actor.id_number),
                organisation_name, PURPOSE_SIGNATURE)
    if option.role == SignerRole.JUDGE:
        return (f"judge_{actor.pk}", person, str(_("审判员")), person, id_number_hint(actor.id_number),
                case.court.name, PURPOSE_SIGNATURE)
    if option.role == SignerRole.COURT:
        court = case.court
        return (f"court_{court.pk}", court.name, "", court.name, "", court.name, PURPOSE_COURT_SEAL)
    organisation = case.mediation_organisation
    assert organisation is not None
    registration = organisation.registration_number.strip()  # public, unlike a person's ID number
    return (f"org_{organisation.pk}", organisation.name, "", organisation.name,
            f"REG-{registration}" if registration else "", organisation.name, PURPOSE_SEAL)


def _placement(document: Document, field_name: str, sequence: int) -> tuple[int, tuple[float, float, float, float]]:
    """The rendered document's box for this field, or a fixed spot at the foot of the last page."""
    boxes = signature_boxes(document)
    if field_name in boxes:
        return boxes[field_name]
    column, row = (sequence - 1) % 3, (sequence - 1) // 3
    x1, y1 = 50 + column * (_FALLBACK_WIDTH + 10), 40 + row * (_FALLBACK_HEIGHT + 8)
    return -1, (x1, y1, x1 + _FALLBACK_WIDTH, y1 + _FALLBACK_HEIGHT)


def document_latest_revision(document: Document) -> tuple[bytes, str]:
    """The file as it stands (after the last signature, or as issued) and its SHA-256."""
    return _latest_bytes(document)


def document_download(*, document: Document, actor: User, ip_address: str | None = None) -> tuple[bytes, str]:
    """The latest revision for a reader of the case, recorded in the audit trail (§B11 item 12)."""
    if not can_view_documents(actor, document.case):
        raise NotFound(_("文书不存在或您无权查看。"))
    data, digest = _latest_bytes(document)
    with transaction.atomic():
        audit_append(
            kind="document.downloaded", actor=actor, case=document.case,
            data={"document": document.pk, "title": document.title, "sha256": digest, "ip": ip_address},
        )
    return data, digest


def external_document_download(*, document: ExternalDocument, actor: User,
                               ip_address: str | None = None) -> bytes:
    """A ruling or 调解书 a court system pushed, as received, for a reader of the case; recorded in the audit
    trail like the platform's own documents."""
    if not can_view_documents(actor, document.case):
        raise NotFound(_("文书不存在或您无权查看。"))
    with document.file.open("rb") as handle:
        data = handle.read()
    with transaction.atomic():
        audit_append(
            kind="document.external_downloaded", actor=actor, case=document.case,
            data={"external_document": document.pk, "title": document.title, "sha256": document.sha256,
                  "ip": ip_address},
        )
    return data


# --- What the signatures set off -------------------------------------------------------------------------------


def _after_signature(*, document: Document, case: Case, actor: User | None = None) -> None:
    """What a signature (or the sealed scan standing for the organisation's seal) sets off."""
    if document.kind in COURT_DOCUMENT_KINDS:
        signed = document_signed_slots(document)
        if actor is not None and all(slot.key in signed for slot in document_slots(document)):
            _court_document_sealed(document=document, case=case, judge=actor)
    elif document.kind == DocumentKind.AGREEMENT:
        filled = document_filled_slots(document)
        slots = document_slots(document)
        effect_slots = [s for s in slots if s.for_effect]
        if case.status == CaseStatus.SIGNING and all(s.key in filled for s in effect_slots):
            effective_at = max(filled[s.key] for s in effect_slots)
            case = _agreement_takes_effect(document=document, case=case, effective_at=effective_at)
        if case.status == CaseStatus.AGREEMENT_EFFECTIVE and all(s.key in filled for s in slots):
            _agreement_complete(document=document, case=case)
    elif document.kind == DocumentKind.JC_APPLICATION:
        _maybe_apply_for_confirmation(case)


def _agreement_takes_effect(*, document: Document, case: Case, effective_at: dt.datetime) -> Case:
    """OMR 19 / PML 29: effective at the last required signature; starts the 30-day window (T9)."""
    case = case_transition(
        case=case, to=CaseStatus.AGREEMENT_EFFECTIVE, actor=None,
        data={"effective_at": effective_at, "document": document.pk, "title": document.title},
    )
    document.effective_at = effective_at
    document.save(update_fields=["effective_at"])
    return case


class StoredFileAltered(DomainError):
    """The stored file of a revision no longer has the hash recorded for it."""

    code = "stored_file_altered"
    status = json_status = 409


def _latest_bytes(document: Document) -> tuple[bytes, str]:
    """The latest revision's bytes, checked against the hash on record: a file changed in storage is never
    signed over, served or previewed as the document."""
    latest = document.signatures.order_by("-sequence").first()
    source = latest.pdf if latest is not None else document.pdf
    expected = latest.sha256 if latest is not None else document.sha256
    with source.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != expected:
        logger.error("stored file %s of document %s does not match its recorded SHA-256", source.name, document.pk)
        raise StoredFileAltered(_("文书存档文件校验失败，已停止签署和下载。请联系平台管理员核查。"))
    return data, expected


def _agreement_complete(*, document: Document, case: Case) -> None:
    """Every signature and the seal are on: serve it on every party, file a copy with the court (SIM 19),
    close the case as settled, and submit a confirmation application that is already fully signed."""
    data, digest = _latest_bytes(document)
    serve_on_parties(document=document, case=case, data=data)
    _file_with_court(document=document, case=case, sha256=digest, purpose="agreement")
    if tr.find_transitions(source=case.status, target=CaseStatus.CLOSED_SETTLED, origin=case.origin):
        case = case_transition(case=case, to=CaseStatus.CLOSED_SETTLED, actor=None,
                               reason=EndReason.AGREEMENT_REACHED, data={"document": document.pk})
        _maybe_apply_for_confirmation(case)


def _presiding_mediator(case: Case) -> User | None:
    row = CaseMediator.objects.filter(case=case, is_active=True).select_related("mediator").order_by(
        "-presiding", "pk"
    ).first()
    return row.mediator if row is not None else None


def serve_on_parties(*, document: Document, case: Case, data: bytes) -> None:
    """Serve ``document`` (the signed agreement, the failure report) on every party through the e-service
    module (OMR 19; OLR 31; PML 26), on behalf of the presiding mediator. A party who has not consented to
    e-service is not served (recorded, so the mediator arranges service another way); the document's effect does
    not depend on it."""
    mediator = _presiding_mediator(case)
    for party in Party.objects.filter(case=case).order_by("role", "pk"):
        try:
            if mediator is None:
                raise InvalidInput(_("本案没有在任的调解员，无法送达。"))
            with transaction.atomic():
                document_serve(case=case, recipient=party, document_title=document.title, actor=mediator,
                               document_bytes=data, document_number=document.number)
        except DomainError as exc:
            audit_append(
                kind="document.service_pending", actor=None, case=case,
                data={"document": document.pk, "title": document.title, "party": party.pk,
                      "party_name": party.name, "reason": str(exc)},
            )


def _court_document_sealed(*, document: Document, case: Case, judge: User) -> None:
    """A court document (the ruling, the 民事调解书) is approved and sealed: serve it on every party by e-service
    on the judge's behalf (OLR 31; Interp 135), one record and certificate each. A party who has not consented to
    e-service at the case's stage is not served here (recorded, for the court to serve another way).

    A confirmation ruling served on every party opens the 15-day objection window (Interp 372; T13): the
    platform records the service (``confirmation_ruling_served``, the ``system`` row); otherwise the clerk
    records it once served. A 民事调解书 is served requiring sign-for (its title names it a 调解书:
    ``services.service.needs_sign_for``; no deemed or 留置 service, Interp 133): its service, and the document,
    take effect only when each party signs for it (CPL 100; Interp 149), which
    ``services.court_filed.mediation_document_signed_for`` watches."""
    data, digest = _latest_bytes(document)
    served = pending = 0
    for party in Party.objects.filter(case=case).order_by("role", "pk"):
        try:
            with transaction.atomic():
                document_serve(case=case, recipient=party, document_title=document.title, actor=judge,
                               document_bytes=data, document_number=document.number)
            served += 1
        except DomainError as exc:
            pending += 1
            audit_append(
                kind="document.service_pending", actor=None, case=case,
                data={"document": document.pk, "title": document.title, "party": party.pk,
                      "party_name": party.name, "reason": str(exc)},
            )
    audit_append(
        kind="ruling.sealed" if document.kind == DocumentKind.RULING else "mediation_document.sealed",
        actor=judge, case=case,
        data={"document": document.pk, "number": document.number, "variant": (document.data or {}).get("variant"),
              "sha256": digest, "served": served, "service_pending": pending},
    )
    variant = (document.data or {}).get("variant")
    if variant == ConfirmationOutcome.CONFIRMED and pending == 0 and case.status == CaseStatus.JC_CONFIRMED:
        confirmation_ruling_served(case=case, actor=None)


def _file_with_court(*, document: Document, case: Case, sha256: str, purpose: str) -> None:
    """File a copy with the referring court (备案, SIM 19) or hand it the application: an audit event and an
    in-app notice to each of the court's clerks, who find the document on the case page."""
    audit_append(
        kind="document.filed_with_court", actor=None, case=case,
        data={"document": document.pk, "title": document.title, "sha256": sha256, "court": case.court_id,
              "court_name": case.court.name, "purpose": purpose},
    )
    clerks = User.objects.filter(
        memberships__organisation_id=case.court_id, memberships__role=Role.CLERK, memberships__is_active=True,
        is_active=True,
    ).distinct()
    link = nt.site_url("document_detail", args=(document.pk,))
    if purpose == "agreement":
        subject = _("调解协议备案：案件%(ref)s") % {"ref": case.reference}
        text = _("案件%(ref)s的《%(title)s》已经各方签署生效，副本已向本院备案。") % {
            "ref": case.reference, "title": document.title}
    else:
        subject = _("司法确认申请：案件%(ref)s") % {"ref": case.reference}
        text = _("案件%(ref)s的当事人已共同签署《%(title)s》，向本院申请司法确认。") % {
            "ref": case.reference, "title": document.title}
    for clerk in clerks:
        outbox_enqueue(
            channel=MessageChannel.IN_APP, address="", template=nt.GENERIC, recipient=clerk, case=case,
            context={"subject": subject, "text": text, "link": link},
            idempotency_key=f"document:{document.pk}:filed:{clerk.pk}",
        )


def _maybe_apply_for_confirmation(case: Case) -> None:
    """Submit the joint confirmation application (CPL 205) once every party has signed it and the case is
    closed as settled. Called after each signature on the application and when the agreement completes."""
    if case.status != CaseStatus.CLOSED_SETTLED or case.origin not in tr.PRE_FILING:
        return
    application = Document.objects.filter(
        case=case, kind=DocumentKind.JC_APPLICATION, superseded_by__isnull=True
    ).order_by("-version").first()
    if application is None:
        return
    signed = document_signed_slots(application)
    if any(slot.key not in signed for slot in document_slots(application)):
        return
    _data, digest = _latest_bytes(application)
    try:
        # The court's side keeps the application's row and tells the court's judges (issue 11).
        confirmation_application_receive(
            case=case, document_id=application.pk, title=application.title, sha256=digest,
        )
    except StaleState:
        # Another signer's transaction submitted it a moment ago; nothing more to do.
        logger.info("confirmation application of case %s already submitted", case.pk)
        return
    _file_with_court(document=application, case=case, sha256=digest, purpose="confirmation")


# --- The sealed scan (OMR 19; PML 29) ---------------------------------------------------------------------------


def document_sealed_scan_upload(*, document: Document, actor: User, data: bytes | None, original_name: str = "",
                                ip_address: str | None = None) -> SealedScan:
    """The administrator of a presiding organisation without an e-seal uploads the scan of the agreement as
    printed, signed and sealed on paper (OMR 19). A PDF of at most 20 MB, stored once with its SHA-256 and an
    audit event; it fills the organisation's slot, so for a people's mediation committee the agreement takes
    effect with it (PML 29). Anything wrong stores nothing."""
    case = Case.objects.select_related("mediation_organisation", "court").get(pk=document.case_id)
    roles = case_roles(actor, case)
    if not roles:
        raise NotFound(_("文书不存在或您无权查看。"))
    organisation = case.mediation_organisation
    if tr.ORG_ADMIN not in roles or organisation is None:
        raise PermissionDenied(_("只有主持调解的调解组织的管理员可以上传盖章的调解协议扫描件。"))
    if document.kind != DocumentKind.AGREEMENT:
        raise InvalidInput(_("只有调解协议书需要上传盖章扫描件。"))
    if organisation.has_e_seal:
        raise InvalidInput(_("%(org)s已配置电子印章，请在签署页面加盖电子印章，无需上传扫描件。")
                           % {"org": organisation.name})
    if not data:
        raise InvalidInput(_("请选择盖章后的调解协议扫描件（PDF文件）。"))
    if len(data) > SCAN_MAX_BYTES:
        raise InvalidInput(_("扫描件不能超过20MB，请降低扫描分辨率后重新上传。"))
    pages = count_pdf_pages(data)
    if pages is None:
        raise InvalidInput(_("扫描件须为可以打开的PDF文件，请将盖章的调解协议扫描为PDF后上传。"))
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        document = Document.objects.select_for_update(of=("self",)).select_related(
            "case", "case__mediation_organisation", "agreement").get(pk=document.pk)
        case = document.case
        if _superseded(document):
            raise StaleState(_("该文书已有更新的版本，请为最新版本上传盖章扫描件。"))
        if SealedScan.objects.filter(document=document).exists():
            raise InvalidInput(_("该调解协议的盖章扫描件已经上传，扫描件一经上传不能更换。"))
        if case.status not in (CaseStatus.SIGNING, CaseStatus.AGREEMENT_EFFECTIVE):
            raise TransitionNotAllowed(_("案件当前为“%(status)s”，现在不能上传盖章扫描件。")
                                       % {"status": case.get_status_display()})
        scan = SealedScan(document=document, organisation=organisation, uploaded_by=actor,
                          uploaded_at=timezone.now(), original_name=(original_name or "")[:200], size=len(data),
                          pages=pages, sha256=digest)
        scan.file.save(f"{case.reference}/agreement-v{document.version}-sealed-{digest[:12]}.pdf",
                       ContentFile(data), save=False)
        try:
            scan.save()
            audit_append(
                kind="document.sealed_scan_uploaded", actor=actor, case=case,
                data={"document": document.pk, "title": document.title, "organisation": organisation.pk,
                      "organisation_name": organisation.name, "sha256": digest, "size": len(data), "pages": pages,
                      "original_name": scan.original_name, "ip": ip_address, "rule": "OMR 19; PML 29"},
            )
            _after_signature(document=document, case=case)
        except Exception:
            if scan.file.name:
                scan.file.storage.delete(scan.file.name)
            raise
    return scan
