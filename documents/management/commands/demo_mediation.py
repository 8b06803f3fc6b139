"""Play the demo world's case from scheduling to a signed agreement and a submitted, signed confirmation
application, then at the court: the judge accepts it under a 民特 number, rules the agreement valid, approves
the 民事裁定书 by signing it (the court's e-seal follows) and the ruling is served on both parties, which opens
the objection window. The demo world's second application (孙八与周九) is dismissed the same way. Through the
services only (no browser); every generated PDF and the development CA certificate are written to a directory
so anyone can inspect and verify them (the two rulings as ruling-confirm-signed.pdf and ruling-dismiss-signed.pdf).
Then the parties perform: the first instalment is paid and confirmed, the second falls into default and the
强制执行申请书 is written out as ``enforcement-application.pdf`` (with a simulated clock for the days in between).

    python manage.py seed_demo            # the demo world (run automatically when missing)
    python manage.py demo_mediation --out var/demo
    python manage.py demo_mediation --mode court-filed --out var/demo-filed

``--mode court-filed`` plays the seed's court-filed case （2026）京0101民初2001号 instead (legal-rules §A12, §B13,
§C5): the mediator signs for the transferred materials, mediates to an agreement, the parties and the mediator
sign it, a party asks for a 民事调解书, the judge prepares and approves it (the court's e-seal follows), it is
served on both parties requiring sign-for, both sign for it and it takes effect; written as
``mediation-document-signed.pdf``.

Development only: it reads one-time codes from the console SMS backend and shortens the resend interval,
and it refuses to run with DEBUG off.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from celery import current_app as celery_app
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageDraw

from documents.ca import ISSUING_CERT, ROOT_CERT, certificate_authority, dev_ca_create
from documents.management import demo_reach
from documents.models import Document
from documents.services.fee_notice import fee_notice_issue
from documents.services.mediation_document import mediation_document_prepare
from documents.services.signing import document_sign, document_sign_code_send
from documents.verification import verify_pdf
from mediation import permissions
from mediation.adapters.sms import outbox as sms_outbox
from mediation.choices import (
    CaseStatus,
    ClauseKind,
    DismissalGround,
    DocumentKind,
    EndReason,
    HelperKind,
    ObligationStatus,
    PartyRole,
    RecordTag,
    Role,
    RoomOutcome,
    ServiceStage,
    SessionKind,
    SessionStatus,
    SignerRole,
)
from mediation.management.commands.seed_demo import (
    CONFIRMATION_CASE_TITLE,
    COURT_FILED_CASE_NUMBER,
    COURT_FILED_CASE_TITLE,
    DEMO_CASE_TITLE,
)
from mediation.models import (
    Agent,
    Case,
    CaseHelper,
    CaseMediator,
    ConfirmationApplication,
    MediationSession,
    Obligation,
    Party,
    Room,
    ServiceRecord,
    User,
)
from mediation.selectors import rooms as room_selectors
from mediation.selectors.service import service_address_current
from mediation.services import room_controls, room_entry, room_record
from mediation.services.agreements import (
    agreement_clause_add,
    agreement_clause_assent,
    agreement_open_signing,
    agreement_start,
    agreement_update,
)
from mediation.services.confirmation import confirmation_accept, confirmation_rule, confirmation_ruling_served
from mediation.services.court_filed import court_filed_materials_receive, mediation_document_request
from mediation.services.helpers import helper_invite
from mediation.services.performance import (
    obligation_confirm_receipt,
    obligation_proof_upload,
    obligation_report_default,
    obligations_remind,
)
from mediation.services.scheduling import session_schedule, verification_session_schedule
from mediation.services.service import service_address_change, service_record_acknowledge
from mediation.services.timer_sweep import timers_sweep

PLAYABLE_FROM = CaseStatus.SCHEDULING
# The demo's sign-language interpreter for the applicant (issue 18 item 4): an account made for this number.
DEMO_INTERPRETER_PHONE = "13900009001"
AT_COURT = CaseStatus.JC_SUBMITTED
# After the court (``_court``) the case is in the objection window; the performance part (``_perform``) takes it
# on from any status of the confirmation path to a default on the confirmed agreement.
PERFORMABLE_FROM = frozenset({CaseStatus.JC_SUBMITTED, CaseStatus.JC_UNDER_REVIEW, CaseStatus.JC_CONFIRMED,
                              CaseStatus.OBJECTION_WINDOW, CaseStatus.PERFORMANCE_TRACKING})
DONE_STATUSES = frozenset({CaseStatus.ENFORCEMENT_ELIGIBLE})
# The file each ruling variant is written to (legal-rules §C4).
RULING_FILES = {"confirmed": "confirm", "dismissed": "dismiss", "not_accepted": "not-accepted",
                "withdrawn": "withdrawn", "deemed_withdrawn": "deemed-withdrawn"}


def _handwriting(seed: str) -> bytes:
    """A signature-like scribble, different per signer (what the phone's canvas would send)."""
    digest = hashlib.sha256(seed.encode()).digest()
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 75, 60 + digest[i] % 140) for i in range(8)]
    draw.line(points, fill=(20, 20, 60, 255), width=9, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _account(party: Party) -> User:
    if party.user is None:
        raise CommandError(f"Party {party.name} has no platform account; seed_demo links one to each party.")
    return party.user


class Command(BaseCommand):
    help = ("Play the demo case to a signed agreement, a signed confirmation application, the court's sealed, served "
            "ruling and a default on the second instalment (and dismiss the demo world's second application); write "
            "the PDFs (with the rulings and enforcement-application.pdf) to --out.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="Directory for the PDFs and the CA certificate.")
        parser.add_argument("--mode", choices=("default", "court-filed", "reach-everyone"), default="default",
                            help="court-filed: play the seed's court-filed case to a signed, served 民事调解书; "
                                 "reach-everyone: contact requests (one answered, one escalated) and an assisted "
                                 "filing by a clerk of a second court (issue 18).")
        parser.add_argument("--outcome", choices=("agreement", "failure"), default="agreement",
                            help="with --mode court-filed: failure ends mediation without agreement, then the court "
                                 "serves the filing-fee notice before trial (failure-report.pdf, fee-notice.pdf).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_mediation is a development demo (it reads one-time codes from the console "
                               "SMS backend); it refuses to run with DEBUG off.")
        out = Path(options["out"]).resolve()
        out.mkdir(parents=True, exist_ok=True)
        self._written = 0
        self._ensure_dev_ca()
        if options["mode"] == "court-filed":
            self._court_filed_mode(out, failure=options["outcome"] == "failure")
            return
        if options["mode"] == "reach-everyone":
            self._demo_case()  # seeds the world when it is missing
            with override_settings(SMS_BACKEND="console", OTP_RESEND_SECONDS=0, OTP_MAX_SENDS_PER_HOUR=1000,
                                   EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                demo_reach.play_contact(self._say)
                demo_reach.play_assisted(self._say)
            return
        case = self._demo_case()

        # The demo plays every person in turn within seconds: codes come from the console backend's
        # in-memory outbox, and the one-minute resend interval between codes to one phone is lifted.
        # Nothing else about the services changes.

        with ExitStack() as stack:
            stack.enter_context(override_settings(
                SMS_BACKEND="console", OTP_RESEND_SECONDS=0, OTP_MAX_SENDS_PER_HOUR=1000,
                # Notices by e-mail are kept in memory instead of printed, so the summary stays readable.
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            ))
            eager = celery_app.conf.task_always_eager
            celery_app.conf.task_always_eager = True  # render in this process, after each commit
            stack.callback(lambda: setattr(celery_app.conf, "task_always_eager", eager))
            if case.status == PLAYABLE_FROM:
                case = self._play(case)
            if case.status == AT_COURT:
                case = self._court(case, confirm=True, step=8)
            if case.status in PERFORMABLE_FROM:
                case = self._perform(case)
            elif case.status in DONE_STATUSES:
                self._say(f"演示案件已完成（{case.get_status_display()}），直接导出文书。")
            else:
                raise CommandError(
                    f"The demo case {case.reference} is at {case.status!r} ({case.get_status_display()}), neither "
                    f"ready to play ({PLAYABLE_FROM}) nor finished. Start from a fresh database: remove db.sqlite3 "
                    "(or drop the database), run migrate and seed_demo, then demo_mediation again."
                )
            second = Case.objects.filter(title=CONFIRMATION_CASE_TITLE).order_by("pk").first()
            if second is not None and second.status == AT_COURT:
                second = self._court(second, confirm=False, step=14)
        self._export(case, out)
        if second is not None:
            self._export(second, out, kinds=(DocumentKind.RULING,))
        self._export_enforcement(case, out)
        self._export_end(out)

    # --- setup ---------------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.stdout.write(text)

    def _ensure_dev_ca(self) -> None:
        if settings.SIGNING_CA != "local":
            return
        directory = Path(settings.DEV_CA_DIR)
        if not (directory / ROOT_CERT).exists():
            dev_ca_create(directory)
            self._say(f"已创建开发用证书颁发机构：{directory}")

    def _demo_case(self) -> Case:
        case = Case.objects.filter(title=DEMO_CASE_TITLE).order_by("pk").first()
        if case is None:
            self._say("演示数据不存在，先运行 seed_demo …")
            call_command("seed_demo", quiet=True)
            case = Case.objects.get(title=DEMO_CASE_TITLE)
        return case

    # --- the play ------------------------------------------------------------------------------------------

    def _play(self, case: Case) -> Case:
        mediator = CaseMediator.objects.get(case=case, is_active=True, presiding=True).mediator
        applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
        respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
        agent = Agent.objects.filter(party=respondent, user__isnull=False).select_related("user").first()
        applicant_user, respondent_user = _account(applicant), _account(respondent)
        lawyer = agent.user if agent is not None else None
        people = [applicant_user, respondent_user] + ([lawyer] if lawyer is not None else [])
        self._say(f"案件 {case.reference}《{case.title}》：{case.get_status_display()}")

        # 1. Schedule a joint online session (or take the one `make run` already scheduled for the demo
        # case) and open its room (the case moves to IN_MEDIATION).
        session = (
            MediationSession.objects.filter(case=case, status=SessionStatus.SCHEDULED, ends_at__gt=timezone.now())
            .order_by("starts_at").first()
        )
        if session is None:
            start = timezone.now() + dt.timedelta(minutes=5)
            session = session_schedule(case=case, actor=mediator, kind=SessionKind.JOINT_ONLINE, starts_at=start,
                                       ends_at=start + dt.timedelta(hours=2))
        start = session.starts_at
        room = room_entry.room_for_session(session=session, actor=mediator)
        self._say(f"1. 安排在线调解（{timezone.localtime(start):%Y-%m-%d %H:%M}），调解员开启调解室")

        # 1b. The applicant is deaf: the mediator invites a sign-language interpreter for them (issue 18 item 4;
        # PML 20). The interpreter passes the same way in and accepts the 如实翻译 declaration.
        interpreter = CaseHelper.objects.filter(case=case, assists=applicant, is_active=True).first()
        if interpreter is None:
            interpreter = helper_invite(case=case, assists=applicant, kind=HelperKind.SIGN_LANGUAGE, name="周明",
                                        phone=DEMO_INTERPRETER_PHONE, actor=mediator)
        self._say(f"1b. 调解员邀请翻译人员 {interpreter.name}（{interpreter.service_label}）")

        # 2. Everyone passes the way in: identity re-check by one-time code, notices, the caucus consent and
        # the consent to the invited interpreter.
        mediator_member = room_entry.room_member_get_or_create(room=room, user=mediator)
        members: dict[int, Any] = {}
        for user in [*people, interpreter.user]:
            member = room_entry.room_member_get_or_create(room=room, user=user)
            phone = room_selectors.room_phone_on_file(member)
            room_entry.room_identity_code_send(member=member)
            member = room_entry.room_identity_verify(member=member, code=self._code(phone))
            is_party = member.role in permissions.PARTY_ROLES
            member = room_entry.room_notices_acknowledge(
                member=member, codes=[t.code for t in room_entry.room_notices_required(member.room.case, member.role)],
                consent_caucus=True if is_party else None, consent_invited=True if is_party else None,
            )
            members[user.pk] = room_controls.room_admit(room=room, actor=mediator, member=member)
        self._say(f"2. {len(people) + 1} 人完成短信验证码身份核验并确认告知事项（翻译人员另作如实翻译保证），"
                  "调解员准许入会；翻译人员随申请人进出背对背调解")

        # 3. Joint session, then a caucus with each side and back.
        add = room_record.room_record_add
        add(member=mediator_member, tag=RecordTag.UNDISPUTED_FACT,
            text="双方确认：申请人于2025年3月入职被申请人处任软件工程师，2026年8月离职。")
        add(member=mediator_member, tag=RecordTag.UNDISPUTED_FACT,
            text="双方确认：被申请人尚未支付申请人2026年7月、8月工资共计24,000元。")
        add(member=mediator_member, text="申请人陈述请求及理由；被申请人代理人发表意见。")
        room_controls.room_caucus_start(room=room, actor=mediator, side="applicant")
        add(member=mediator_member, tag=RecordTag.SETTLEMENT_COMMUNICATION,
            text="（背对背）申请人表示，如工资一次付清，可放弃经济补偿金的一半。")
        room_controls.room_caucus_end(room=room, actor=mediator)
        room_controls.room_caucus_start(room=room, actor=mediator, side="respondent")
        add(member=mediator_member, tag=RecordTag.SETTLEMENT_COMMUNICATION,
            text="（背对背）被申请人表示资金紧张，希望分两期支付。")
        room_controls.room_caucus_end(room=room, actor=mediator)
        add(member=mediator_member, text="经调解，双方就工资和经济补偿金的支付达成一致意见。")
        # Each side confirms the shared record (caucus entries stay with their side, OMR 18).
        for user in (applicant_user, lawyer or respondent_user):
            _entries, version = room_selectors.room_record_visible(member=members[user.pk])
            room_record.room_record_confirm(member=members[user.pk], version=version)
        self._say("3. 共同调解，与双方分别背对背沟通后回到共同调解；笔录标记无争议事实与调解中的让步，双方确认笔录")

        # 4. The agreement, drafted by the mediator; each party assents clause by clause.

        agreement = agreement_start(case=case, actor=mediator)
        agreement = agreement_update(
            agreement=agreement, actor=mediator,
            facts="申请人于2025年3月入职被申请人处任软件工程师，2026年8月离职。被申请人尚欠申请人2026年7月、8月工资共计"
                  "人民币24,000元。",
            disputed_matters="被申请人应否支付拖欠工资及经济补偿金，以及支付的数额和期限。",
        )
        today = timezone.localdate()
        agreement_clause_add(
            agreement=agreement, actor=mediator, kind=ClauseKind.PAYMENT, obligor=respondent, obligee=applicant,
            subject="2026年7月、8月拖欠的工资", amount="24000.00", method="银行转账至申请人名下银行账户",
            deadline=today + dt.timedelta(days=15), breach="逾期未付的，被申请人另行支付违约金人民币2,000元",
        )
        agreement_clause_add(
            agreement=agreement, actor=mediator, kind=ClauseKind.PAYMENT, obligor=respondent, obligee=applicant,
            subject="解除劳动合同的经济补偿金", amount="6000.00", method="银行转账至申请人名下银行账户",
            deadline=today + dt.timedelta(days=45), breach="逾期未付的，申请人可就全部未付款项申请强制执行",
        )
        agreement_clause_add(
            agreement=agreement, actor=mediator, kind=ClauseKind.OTHER,
            text="申请人放弃其他请求。双方就本案劳动争议再无其他争议。",
        )
        for clause in agreement.clauses.order_by("number"):
            agreement_clause_assent(clause=clause, actor=applicant_user, party=applicant)
            # The company's lawyer has special authority (CPL 62) and assents for it.
            agreement_clause_assent(clause=clause, actor=lawyer or respondent_user, party=respondent)
        agreement.refresh_from_db()
        self._say(f"4. 调解员起草调解协议（{agreement.clauses.count()} 条），双方逐条确认同意")

        # 5. Freeze and open signing: the agreement and the transcript render after the commit.
        agreement = agreement_open_signing(agreement=agreement, actor=mediator)
        room_controls.room_end(room=room, actor=mediator, outcome=RoomOutcome.AGREEMENT,
                               note="达成调解协议，进入签署。")
        case.refresh_from_db()
        self._say(f"5. 定稿并发起签署，调解活动结束；案件状态：{case.get_status_display()}")

        # 6. Signatures on the agreement: both parties, the mediator, the organisation's e-seal.
        document = self._document(case, DocumentKind.AGREEMENT)
        self._sign(document, applicant_user, SignerRole.PARTY, applicant)
        self._sign(document, respondent_user, SignerRole.PARTY, respondent)
        self._sign(document, mediator, SignerRole.MEDIATOR)
        organisation = case.mediation_organisation
        if organisation is not None and organisation.has_e_seal:
            admin = User.objects.filter(memberships__organisation=organisation, memberships__role=Role.ORG_ADMIN,
                                        memberships__is_active=True).order_by("pk").first()
            if admin is None:
                raise CommandError(f"{organisation.name} has no administrator to apply its e-seal.")
            self._sign(document, admin, SignerRole.ORGANISATION)
            # The proof that the organisation presided goes with the confirmation application: it seals it too.
            self._sign(self._document(case, DocumentKind.PRESIDING_PROOF), admin, SignerRole.ORGANISATION)
        case.refresh_from_db()
        self._say(f"6. 协议书签署完成（生效时间 {self._local(document)}）；案件状态：{case.get_status_display()}")

        # 7. The joint confirmation application, signed by both sides (the company through its lawyer).
        application = self._document(case, DocumentKind.JC_APPLICATION)
        self._sign(application, applicant_user, SignerRole.PARTY, applicant)
        if lawyer is not None:
            self._sign(application, lawyer, SignerRole.AGENT, respondent)
        else:
            self._sign(application, respondent_user, SignerRole.PARTY, respondent)
        case.refresh_from_db()
        self._say(f"7. 司法确认申请书由双方签署并提交；案件状态：{case.get_status_display()}")
        return case

    def _verify(self, case: Case, judge: User) -> None:
        """The joint verification session (Interp 356): scheduled by the judge, who opens the room, admits both
        parties after their identity re-check and notices, records the questioning, has both confirm it and
        ends it as held. The case's status does not change."""
        start = timezone.now() + dt.timedelta(minutes=5)
        session = verification_session_schedule(case=case, actor=judge, starts_at=start,
                                                 ends_at=start + dt.timedelta(hours=1))
        room = room_entry.room_for_session(session=session, actor=judge)
        judge_member = room_entry.room_member_get_or_create(room=room, user=judge)
        members = []
        for party in Party.objects.filter(case=case).select_related("user").order_by("role", "pk"):
            agent = Agent.objects.filter(party=party, user__isnull=False).select_related("user").first()
            user = party.user or (agent.user if agent is not None else None)
            if user is None:
                continue
            member = room_entry.room_member_get_or_create(room=room, user=user)
            phone = room_selectors.room_phone_on_file(member)
            room_entry.room_identity_code_send(member=member)
            member = room_entry.room_identity_verify(member=member, code=self._code(phone))
            member = room_entry.room_notices_acknowledge(
                member=member, codes=[t.code for t in room_entry.room_notices_required(member.room.case, member.role)],
                consent_caucus=True,
            )
            members.append(room_controls.room_admit(room=room, actor=judge, member=member))
        room_record.room_record_add(member=judge_member,
                                    text="问：调解协议是否出于双方自愿？答（双方）：是，出于自愿。")
        room_record.room_record_add(member=judge_member,
                                    text="问：协议约定的付款义务是否真实存在？答（双方）：是，工资及补偿金均属实。")
        for member in members:
            _entries, version = room_selectors.room_record_visible(member=member)
            room_record.room_record_confirm(member=member, version=version)
        room_controls.room_end(room=room, actor=judge, outcome=RoomOutcome.QUESTIONED)
        self._say(f"   · 法官在线视频询问双方当事人（{len(members)} 人到场），询问笔录经双方确认")

    def _consent_e_service(self, case: Case, stage: str, what: str) -> None:
        """Service needs each party's consent to e-service at ``stage`` (OLR 29-30): a party without it confirms
        the service address now, as they would on their case page, consenting for every stage."""
        for party in Party.objects.filter(case=case).select_related("user").order_by("role", "pk"):
            address = service_address_current(party=party)
            if party.user is not None and (address is None or not address.e_service_consent
                                           or stage not in (address.stages or [])):
                service_address_change(
                    case=case, party=party, actor=party.user, recipient_name=party.name,
                    postal_address=party.service_address or party.address or "北京市东城区",
                    postal_recipient=party.name, postal_phone=party.phone or party.user.phone,
                    e_service_consent=True, stages=list(ServiceStage.values), mobile=party.phone or party.user.phone,
                )
                self._say(f"   · {party.name}{what}")

    def _court(self, case: Case, *, confirm: bool, step: int) -> Case:
        """At the court (issue 11): accept under a 民特 number, rule, approve and seal the ruling, serve it."""
        judge = (User.objects.filter(memberships__organisation=case.court, memberships__role=Role.JUDGE,
                                     memberships__is_active=True).order_by("pk").first())
        if judge is None:
            raise CommandError(f"{case.court.name} has no judge in the demo world.")
        sequence = ConfirmationApplication.objects.exclude(case_number="").count() + 1
        number = f"（{timezone.localdate().year}）{case.court.court_code}民特{sequence}号"
        self._say(f"案件 {case.reference}《{case.title}》：{case.get_status_display()}")
        confirmation_accept(case=case, actor=judge, case_number=number)
        self._say(f"{step}. 法官{judge.real_name}受理司法确认申请，案号 {number}")
        case = Case.objects.get(pk=case.pk)
        if confirm:
            # Interp 356: the judge questions both parties together by video before confirming; the ruling's
            # procedural paragraph then says so (the dismissed demo application had no such session).
            self._verify(case, judge)
        if confirm:
            confirmation_rule(case=case, actor=judge, confirm=True)
        else:
            confirmation_rule(case=case, actor=judge, confirm=False, ground=DismissalGround.UNCLEAR,
                              note="调解协议未约定货款的支付期限起算日，履行内容不明确")
        case = Case.objects.get(pk=case.pk)
        self._say(f"{step + 1}. 裁定：{case.get_status_display()}；民事裁定书已生成")
        self._consent_e_service(case, ServiceStage.CONFIRMATION, "确认送达地址，同意司法确认阶段电子送达")
        ruling = self._document(case, DocumentKind.RULING)
        self._sign(ruling, judge, SignerRole.JUDGE)
        case = Case.objects.get(pk=case.pk)
        served = ServiceRecord.objects.filter(case=case, document_title=ruling.title).count()
        self._say(f"{step + 2}. 审判员签署批准，本院电子印章加盖；向 {served} 位当事人电子送达；"
                  f"案件状态：{case.get_status_display()}")
        return case

    # --- court-filed mediation to a 民事调解书 (legal-rules §A12 art. 4, §B13, §C5) -----------------------------

    def _court_filed_mode(self, out: Path, *, failure: bool = False) -> None:
        """Play the seed's court-filed case through the services to a signed, served and effective 民事调解书, or
        (``failure``) to the trial hand-back: mediation fails, the court serves the filing-fee notice."""
        case = Case.objects.filter(title=COURT_FILED_CASE_TITLE).order_by("pk").first()
        if case is None:
            self._say("演示数据不存在，先运行 seed_demo …")
            call_command("seed_demo", quiet=True)
            case = Case.objects.get(title=COURT_FILED_CASE_TITLE)
        with ExitStack() as stack:
            stack.enter_context(override_settings(
                SMS_BACKEND="console", OTP_RESEND_SECONDS=0, OTP_MAX_SENDS_PER_HOUR=1000,
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            ))
            eager = celery_app.conf.task_always_eager
            celery_app.conf.task_always_eager = True
            stack.callback(lambda: setattr(celery_app.conf, "task_always_eager", eager))
            if failure:
                if case.status == CaseStatus.ACCEPTED:
                    case = self._court_filed_failure(case)
                if case.status != CaseStatus.FEE_PENDING:
                    raise CommandError(
                        f"The court-filed demo case {case.reference} is at {case.status!r}, neither waiting for the "
                        "mediator's receipt of the materials nor at the fee notice. Start from a fresh database.")
            elif case.status == CaseStatus.ACCEPTED:
                case = self._court_filed_mediate(case)
            if not failure and case.status == CaseStatus.AGREEMENT_EFFECTIVE:
                case = self._court_filed_document(case)
            elif not failure and case.status != CaseStatus.PERFORMANCE_TRACKING:
                raise CommandError(
                    f"The court-filed demo case {case.reference} is at {case.status!r} ({case.get_status_display()}),"
                    " neither waiting for the mediator's receipt of the materials nor finished. Start from a fresh "
                    "database: migrate, seed_demo, then demo_mediation --mode court-filed again.")
        self._export(case, out)
        if failure:
            for kind, name in ((DocumentKind.FAILURE_REPORT, "failure-report.pdf"),
                               (DocumentKind.FEE_NOTICE, "fee-notice.pdf")):
                latest = (Document.objects.filter(case=case, kind=kind, superseded_by__isnull=True)
                          .order_by("-version").first())
                if latest is not None:
                    with latest.pdf.open("rb") as handle:
                        self._say(f"{latest.title}：{self._write(out / name, handle.read())}")
            return
        document = (Document.objects.filter(case=case, kind=DocumentKind.MEDIATION_DOCUMENT,
                                            superseded_by__isnull=True).order_by("-version").first())
        signature = document.signatures.order_by("-sequence").first() if document is not None else None
        if signature is not None:
            with signature.pdf.open("rb") as handle:
                path = self._write(out / "mediation-document-signed.pdf", handle.read())
            self._written += 1
            self._say(f"民事调解书：{path}")
        written = self._written + len(self._write_ca(out))
        self._say("")
        self._say(f"共写出 {written} 个文件。用 poppler 独立检查签章：")
        self._say(f"  pdfsig -nocert {out}/mediation-document-signed.pdf")

    def _court_filed_people(self, case: Case) -> tuple[User, User, Party, Party, User, User]:
        mediator = CaseMediator.objects.get(case=case, is_active=True, presiding=True).mediator
        applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
        respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
        judge = (User.objects.filter(memberships__organisation=case.court, memberships__role=Role.JUDGE,
                                     memberships__is_active=True).order_by("pk").first())
        if judge is None:
            raise CommandError(f"{case.court.name} has no judge in the demo world.")
        return mediator, judge, applicant, respondent, _account(applicant), _account(respondent)

    def _court_filed_open(self, case: Case, mediator: User) -> tuple[Case, Room]:
        """The mediator signs for the materials (the court-filed period starts) and opens an online session."""
        self._say(f"案件 {case.reference}《{case.title}》（{COURT_FILED_CASE_NUMBER}）：{case.get_status_display()}")
        case = court_filed_materials_receive(case=case, actor=mediator, note="已签收法院移送的起诉状、证据材料。")
        self._say(f"1. 调解员签收移送材料，调解期限起算；案件状态：{case.get_status_display()}")
        start = timezone.now() + dt.timedelta(minutes=5)
        session = session_schedule(case=case, actor=mediator, kind=SessionKind.JOINT_ONLINE, starts_at=start,
                                   ends_at=start + dt.timedelta(hours=1))
        room = room_entry.room_for_session(session=session, actor=mediator)
        room_entry.room_member_get_or_create(room=room, user=mediator)
        return case, room

    def _court_filed_mediate(self, case: Case) -> Case:
        """The mediator signs for the materials (the 7-day summary-procedure period starts), mediates online,
        drafts the agreement the parties assent to clause by clause, and everyone signs it: it takes effect."""
        mediator, _judge, applicant, respondent, applicant_user, respondent_user = self._court_filed_people(case)
        case, room = self._court_filed_open(case, mediator)
        case.refresh_from_db()
        self._say(f"2. 安排在线调解并开启调解室；案件状态：{case.get_status_display()}")
        agreement = agreement_start(case=case, actor=mediator)
        agreement = agreement_update(
            agreement=agreement, actor=mediator,
            facts="原告将其房屋出租给被告，被告尚欠2026年4月至6月租金共计人民币9,000元。",
            disputed_matters="被告应否支付拖欠租金及支付期限。",
        )
        agreement_clause_add(
            agreement=agreement, actor=mediator, kind=ClauseKind.PAYMENT, obligor=respondent, obligee=applicant,
            subject="2026年4月至6月拖欠的租金", amount="9000.00", method="银行转账至原告名下银行账户",
            deadline=timezone.localdate() + dt.timedelta(days=20),
            breach="逾期未付的，原告可就未付款项申请强制执行",
        )
        agreement_clause_add(agreement=agreement, actor=mediator, kind=ClauseKind.COSTS,
                             text="案件受理费25元（已减半收取），由被告负担。")
        agreement_clause_add(agreement=agreement, actor=mediator, kind=ClauseKind.OTHER,
                             text="原告放弃其他诉讼请求，双方就本案租赁合同纠纷再无其他争议。")
        for clause in agreement.clauses.order_by("number"):
            agreement_clause_assent(clause=clause, actor=applicant_user, party=applicant)
            agreement_clause_assent(clause=clause, actor=respondent_user, party=respondent)
        agreement.refresh_from_db()
        agreement_open_signing(agreement=agreement, actor=mediator)
        room_controls.room_end(room=room, actor=mediator, outcome=RoomOutcome.AGREEMENT,
                               note="达成调解协议，进入签署。")
        self._say(f"3. 调解员起草调解协议（{agreement.clauses.count()} 条），双方逐条确认同意，定稿并发起签署")
        document = self._document(case, DocumentKind.AGREEMENT)
        self._sign(document, applicant_user, SignerRole.PARTY, applicant)
        self._sign(document, respondent_user, SignerRole.PARTY, respondent)
        self._sign(document, mediator, SignerRole.MEDIATOR)
        organisation = case.mediation_organisation
        if organisation is not None and organisation.has_e_seal:
            admin = User.objects.filter(memberships__organisation=organisation, memberships__role=Role.ORG_ADMIN,
                                        memberships__is_active=True).order_by("pk").first()
            if admin is not None:
                self._sign(document, admin, SignerRole.ORGANISATION)
        case.refresh_from_db()
        self._say(f"4. 调解协议签署生效；案件状态：{case.get_status_display()}")
        return case

    def _court_filed_failure(self, case: Case) -> Case:
        """The mediator signs for the materials and holds a session that ends without agreement (OMR 25): the
        failure report is issued and served; the court's clerk then serves the filing-fee notice on the plaintiff
        with a 7-day deadline before the case goes back to trial (legal-rules §A12 arts. 5-6)."""
        mediator, _judge, _applicant, _respondent, _applicant_user, _respondent_user = self._court_filed_people(case)
        case, room = self._court_filed_open(case, mediator)
        room_controls.room_end(
            room=room, actor=mediator, outcome=RoomOutcome.TERMINATE, end_reason=EndReason.POSITIONS_TOO_FAR,
            note="原告坚持被告一次性支付全部欠付租金，被告仅同意分十二期支付，双方分歧较大，无法达成一致。",
        )
        case = Case.objects.get(pk=case.pk)
        self._say(f"2. 在线调解未能达成协议，调解终结；调解终结报告已出具；案件状态：{case.get_status_display()}")
        clerk = (User.objects.filter(memberships__organisation=case.court, memberships__role=Role.CLERK,
                                     memberships__is_active=True).order_by("pk").first())
        if clerk is None:
            raise CommandError(f"{case.court.name} has no clerk in the demo world.")
        self._consent_e_service(case, ServiceStage.LITIGATION, "确认送达地址，同意诉讼阶段电子送达")
        _notice, records = fee_notice_issue(case=case, actor=clerk, amount="50.00", days=7)
        case = Case.objects.get(pk=case.pk)
        self._say(f"3. 书记员发出交纳案件受理费通知书（50.00 元，7 日内），向 {len(records)} 位原告电子送达；"
                  f"案件状态：{case.get_status_display()}")
        return case

    def _court_filed_document(self, case: Case) -> Case:
        """A party asks for a 民事调解书; the judge prepares and approves it (the court's e-seal follows); it is
        served on both parties requiring sign-for; both sign for it and it takes effect (CPL 100)."""
        _mediator, judge, _applicant, _respondent, applicant_user, respondent_user = self._court_filed_people(case)
        case = mediation_document_request(case=case, actor=applicant_user)
        self._say(f"5. 原告申请出具民事调解书；案件状态：{case.get_status_display()}")
        document = mediation_document_prepare(case=case, actor=judge)
        self._say(f"6. 法官{judge.real_name}根据生效的调解协议制作民事调解书（{document.number}）")
        self._consent_e_service(case, ServiceStage.MEDIATION, "确认送达地址，同意电子送达")
        self._sign(document, judge, SignerRole.JUDGE)
        records = list(ServiceRecord.objects.filter(case=case, document_title=document.title).select_related(
            "recipient").order_by("recipient__role", "recipient_id"))
        self._say(f"7. 审判员签署批准，本院电子印章加盖；向 {len(records)} 位当事人电子送达（须签收）")
        for record in records:
            user = applicant_user if record.recipient.user_id == applicant_user.pk else respondent_user
            record = service_record_acknowledge(actor=user, record=record)
            when = timezone.localtime(record.effective_at) if record.effective_at else None
            self._say(f"   · {record.recipient.name}签收（{when:%Y-%m-%d %H:%M:%S}）" if when else
                      f"   · {record.recipient.name}尚未签收")
        case = Case.objects.get(pk=case.pk)
        self._say(f"8. 双方当事人均已签收，民事调解书发生法律效力；案件状态：{case.get_status_display()}")
        return case

    # --- after the agreement: performance and enforcement (issue 12 item 4, issue 11 item 4) -----------------

    def _perform(self, case: Case) -> Case:
        """The court confirms the agreement (through the confirmation services), the first payment is made and
        confirmed, the second is not: the obligee reports the default and the 强制执行申请书 is rendered.

        The second payment falls due 45 days after the agreement: the demo moves the clock forward with
        time-machine (a development dependency, imported here only) to three days before it (the reminder)
        and to the day after it (the default). Everything recorded from then on carries those dates.
        """
        import time_machine  # development only: the demo's simulated clock

        court = case.court
        judge = User.objects.filter(memberships__organisation=court, memberships__role=Role.JUDGE,
                                    memberships__is_active=True).order_by("pk").first()
        clerk = User.objects.filter(memberships__organisation=court, memberships__role=Role.CLERK,
                                    memberships__is_active=True).order_by("pk").first()
        if judge is None or clerk is None:
            raise CommandError(f"{court.name} needs a judge and a clerk for the confirmation; run seed_demo.")
        if case.status == CaseStatus.JC_SUBMITTED:
            number = f"（{timezone.localdate().year}）{court.court_code}民特{100 + case.pk}号"
            confirmation_accept(case=case, actor=judge, case_number=number)
            case.refresh_from_db()
            self._say(f"8. {judge.real_name}受理司法确认申请，案号 {number}")
        if case.status == CaseStatus.JC_UNDER_REVIEW:
            confirmation_rule(case=case, actor=judge, confirm=True)
            case.refresh_from_db()
            self._say("9. 法官裁定调解协议有效（民事诉讼法第二百零六条）")
        if case.status == CaseStatus.JC_CONFIRMED:
            confirmation_ruling_served(case=case, actor=clerk)
            case.refresh_from_db()
            self._say(f"10. 书记员登记裁定已送达；案件状态：{case.get_status_display()}")

        applicant = Party.objects.get(case=case, role=PartyRole.APPLICANT)
        respondent = Party.objects.get(case=case, role=PartyRole.RESPONDENT)
        agent = Agent.objects.filter(party=respondent, user__isnull=False).select_related("user").first()
        payer = agent.user if agent is not None and agent.user is not None else _account(respondent)
        payee = _account(applicant)
        paid, unpaid = self._two_instalments(case)
        if paid.status != ObligationStatus.PERFORMED:
            slip = ContentFile(_handwriting("转账凭证"), name="转账凭证.png")
            obligation_proof_upload(obligation=paid, actor=payer, file=slip)
            obligation_confirm_receipt(obligation=paid, actor=payee)
            self._say(f"11. 第{paid.number}条（{paid.amount} 元）：被申请人上传履行凭证，申请人确认收到")
        assert unpaid.due_date is not None
        reminder_day = unpaid.due_date - dt.timedelta(days=3)
        tz = timezone.get_default_timezone()
        with time_machine.travel(dt.datetime.combine(reminder_day, dt.time(9), tzinfo=tz), tick=True):
            timers_sweep()  # the 15-day objection window closed meanwhile: performance tracking
            reminded = obligations_remind()
            self._say(f"12. （演示时钟拨至 {reminder_day}）第{unpaid.number}条到期前三日提醒义务人：{reminded} 条")
        after = unpaid.due_date + dt.timedelta(days=1)
        with time_machine.travel(dt.datetime.combine(after, dt.time(9), tzinfo=tz), tick=True):
            timers_sweep()
            unpaid.refresh_from_db()
            if unpaid.status != ObligationStatus.DEFAULTED:
                obligation_report_default(obligation=unpaid, actor=payee, note="履行期限届满，申请人未收到该笔款项。")
            case.refresh_from_db()
            self._say(f"13. （演示时钟拨至 {after}）第{unpaid.number}条（{unpaid.amount} 元）期满未付，"
                      f"申请人报告未履行；案件状态：{case.get_status_display()}")
        return case

    def _two_instalments(self, case: Case) -> tuple[Obligation, Obligation]:
        payments = list(Obligation.objects.filter(case=case, due_date__isnull=False).order_by("due_date", "number"))
        if len(payments) < 2:
            raise CommandError(f"The demo agreement of {case.reference} should have two dated payments; it has "
                               f"{len(payments)}.")
        return payments[0], payments[-1]

    def _export_enforcement(self, case: Case, out: Path) -> None:
        document = (Document.objects.filter(case=case, kind=DocumentKind.ENFORCEMENT_APPLICATION,
                                            superseded_by__isnull=True).order_by("-version").first())
        if document is None:
            self._say("（未生成强制执行申请书。）")
            return
        with document.pdf.open("rb") as handle:
            path = self._write(out / "enforcement-application.pdf", handle.read())
        self._say(f"强制执行申请书：{path}")

    def _code(self, phone: str) -> str:
        messages = [m for m in sms_outbox if m.phone == phone]
        match = re.search(r"\d{6}", messages[-1].text) if messages else None
        if match is None:
            raise CommandError(f"No one-time code was sent to {phone}.")
        return match.group()

    def _document(self, case: Case, kind: str) -> Any:
        document = (Document.objects.filter(case=case, kind=kind, superseded_by__isnull=True)
                    .order_by("-version").first())
        if document is None:
            raise CommandError(f"No {kind} document was issued for case {case.reference} at {case.status}: "
                               "the renderer did not run (documents.tasks.documents_for_transition).")
        return document

    def _sign(self, document: Any, user: User, role: str, party: Party | None = None) -> None:
        document_sign_code_send(document=document, actor=user, role=role, party=party)
        signature = document_sign(document=document, actor=user, role=role, party=party,
                                  code=self._code(user.phone), handwriting_png=_handwriting(f"{user.pk}:{role}"))
        self._say(f"   · {document.title}：{signature.signer_name}（{signature.get_role_display()}）已签署")

    def _local(self, document: Any) -> str:
        document.refresh_from_db()
        return f"{timezone.localtime(document.effective_at):%Y-%m-%d %H:%M:%S}" if document.effective_at else "—"

    # --- output --------------------------------------------------------------------------------------------

    def _export(self, case: Case, out: Path, *, kinds: tuple[str, ...] | None = None) -> None:
        written: list[Path] = []
        self._say("")
        self._say(f"《{case.title}》的文书（写入 {out}）：")
        documents = Document.objects.filter(case=case).order_by("issued_at", "pk")
        if kinds is not None:
            documents = documents.filter(kind__in=kinds)
        for document in documents:
            stem = f"{document.kind}-v{document.version}"
            if document.kind == DocumentKind.RULING:
                stem = f"ruling-{RULING_FILES.get((document.data or {}).get('variant', ''), 'other')}"
            with document.pdf.open("rb") as handle:
                original = handle.read()
            written.append(self._write(out / f"{stem}-original.pdf", original))
            signatures = list(document.signatures.order_by("sequence"))
            latest = original
            for signature in signatures:
                with signature.pdf.open("rb") as handle:
                    latest = handle.read()
                written.append(self._write(out / "revisions" / f"{stem}-sig{signature.sequence}.pdf", latest))
            final = out / (f"{stem}-signed.pdf" if signatures else f"{stem}.pdf")
            if signatures:
                written.append(self._write(final, latest))
            verdict = verify_pdf(data=latest)
            code_url = f"{settings.SITE_URL}{reverse('verify')}?code={document.code}"
            self._say(f"  {document.title}（第{document.version}版，{len(signatures)} 个签章）")
            self._say(f"    {final.name if signatures else stem + '-original.pdf'}  核验码 {document.code}  "
                      f"核验：{verdict.message}")
            self._say(f"    {code_url}")
        self._written += len(written)

    def _export_end(self, out: Path) -> None:
        written = self._written + len(self._write_ca(out))
        self._say("")
        self._say(f"共写出 {written} 个文件。用 poppler 独立检查签章（不校验证书链）：")
        self._say(f"  pdfsig -nocert {out}/agreement-v1-signed.pdf")
        self._say(f"  pdfsig -nocert {out}/ruling-confirm-signed.pdf")
        self._say("  要让 pdfsig 也信任证书链：用 libnss3-tools 的 certutil 建 NSS 库并导入 dev-ca-root.pem，")
        self._say("  然后 pdfsig -nssdir sql:<目录> <文件>。也可在网页 /verify/ 上传任一文件核验。")

    def _write(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def _write_ca(self, out: Path) -> list[Path]:
        roots = certificate_authority().trust_roots()
        written = [self._write(out / ("dev-ca-root.pem" if i == 0 else f"dev-ca-root-{i}.pem"),
                               root.public_bytes(serialization.Encoding.PEM)) for i, root in enumerate(roots)]
        if settings.SIGNING_CA == "local":
            issuing = Path(settings.DEV_CA_DIR) / ISSUING_CERT
            if issuing.exists():
                written.append(self._write(out / "dev-ca-issuing.pem", issuing.read_bytes()))
        return written
