"""After a failed mediation: the way to the court (OMR 21; SIM 21; PML 26; legal-rules §B9).

* A party's own pre-filing application (OMR 21(1)): any party (in person or through an agent) may choose online
  filing; the case's electronic materials are then handed to the competent court's filing queue
  (``filing_choose_online``), where the court's clerk files it and types the number the court's case management
  system gave it (``filing_record``). The platform never makes a case number up.
* A 委派 referral (OMR 21(2)): the court must file, so the platform hands the materials over itself once
  mediation ends (``filing_hand_over_delegated``, run after the termination commits).
* A 委托 referral (OMR 21(3)): the court's clerk or judge resumes the trial (``filing_resume_trial``).

Each act is one transaction: its ``CourtFiling`` row, the transition table's row (``case_transition``), an audit
event, and an in-app notice to the court's clerks through the outbox. The failure report (§C8) reads these rows, so
it states a hand-over only when one happened.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import notification_templates as nt
from mediation import transitions as tr
from mediation.choices import CaseOrigin, CaseStatus, FilingRoute, MessageChannel, Role
from mediation.court_numbers import normalise_court_number
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import Agent, Case, CourtFiling, Evidence, Party, User
from mediation.permissions import case_roles
from mediation.selectors.rooms import room_files_shared_privately
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.outbox import outbox_enqueue

S = CaseStatus

# A first-instance case number from the court's case management system (legal-rules §A10), e.g.
# （2026）京0101民初123号; 行初, 知民初, 商初 and the like are first-instance kinds too.
FILING_NUMBER_RE = re.compile(
    r"^（(?P<year>\d{4})）(?P<court>[\u4e00-\u9fff]{1,2}\d{0,4})(?P<kind>[\u4e00-\u9fff]{0,2}初)(?P<seq>[1-9]\d{0,5})号$"
)


def normalise_filing_number(raw: str, *, court_code: str = "") -> str:
    """The court's first-instance case number in its one written form, or InvalidInput saying what shape it
    must have; the number itself is never made up here."""
    return normalise_court_number(
        raw, pattern=FILING_NUMBER_RE, court_code=court_code, kind="民初",
        shape_message=_("案号格式不正确：请按法院案件管理系统给出的一审案号录入，例如“%(example)s”。"),
    )


def filing_materials(case: Case) -> list[dict[str, str]]:
    """The case's electronic materials as handed over: titles and hashes. A file shared only in a caucus stays
    with that side (OMR 18), as in the failure report's list."""
    private = room_files_shared_privately(case=case)
    return [
        {"title": e.title, "kind": str(e.get_kind_display()), "sha256": e.sha256}
        for e in Evidence.objects.filter(case=case).exclude(pk__in=private).order_by("uploaded_at", "pk")
    ]


def online_filing_offered(case: Case) -> bool:
    """Whether the parties may still choose online filing (OMR 21(1)): a party's own application whose
    mediation ended without agreement and has not been handed to the court or closed."""
    return case.origin == CaseOrigin.PARTY_APPLICATION and case.status == S.TERMINATED


def _acting_party(actor: User, case: Case) -> Party:
    party = Party.objects.filter(case=case, user=actor).order_by("pk").first()
    if party is None:
        agent = Agent.objects.filter(party__case=case, user=actor).select_related("party").order_by("pk").first()
        party = agent.party if agent is not None else None
    if party is None:
        raise PermissionDenied(_("只有本案当事人或其代理人可以选择在线申请立案。"))
    return party


def _notify_clerks(*, case: Case, filing: CourtFiling, text: str) -> None:
    clerks = User.objects.filter(
        memberships__organisation_id=filing.court_id, memberships__role=Role.CLERK, memberships__is_active=True,
        is_active=True,
    ).distinct()
    for clerk in clerks:
        outbox_enqueue(
            channel=MessageChannel.IN_APP, address="", template=nt.GENERIC, recipient=clerk, case=case,
            context={"subject": _("待立案：案件%(ref)s") % {"ref": case.reference}, "text": text,
                     "link": nt.site_url("filing_queue")},
            idempotency_key=f"filing:{filing.pk}:handed:{clerk.pk}",
        )


def _hand_over(*, case: Case, route: str, actor: User | None, party: Party | None, to: str) -> CourtFiling:
    """Inside a transaction holding the case row: the filing row, the table's move, the audit event."""
    if CourtFiling.objects.filter(case=case).exists():
        raise StaleState(_("本案材料已提交法院立案，无需重复提交。"))
    now = timezone.now()
    filing = CourtFiling.objects.create(
        case=case, court_id=case.court_id, route=route, chosen_by_party=party, handed_by=actor, handed_at=now,
        materials=filing_materials(case),
    )
    case_transition(case=case, to=to, actor=actor, data={"filing": filing.pk, "court": case.court_id})
    audit_append(
        kind="filing.handed_over", actor=actor, case=case,
        data={"filing": filing.pk, "route": route, "court": case.court_id, "court_name": case.court.name,
              "party": party.pk if party is not None else None,
              "materials": [{"title": m["title"], "sha256": m["sha256"]} for m in filing.materials],
              "rule": "OMR 21(1)" if route == FilingRoute.ONLINE_FILING else "OMR 21(2); SIM 21"},
    )
    return filing


def filing_choose_online(*, case: Case, actor: User) -> CourtFiling:
    """A party chooses online filing after its own application failed (OMR 21(1)): the case's electronic
    materials go to the competent court's filing queue and the court's clerks are told."""
    if tr.PARTY not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案当事人或其代理人可以选择在线申请立案。"))
    party = _acting_party(actor, case)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("court").get(pk=case.pk)
        if case.origin != CaseOrigin.PARTY_APPLICATION:
            raise TransitionNotAllowed(
                _("在线申请立案只适用于当事人自行申请的诉前调解；法院委派、委托的案件由法院依法处理。"))
        if case.status != S.TERMINATED:
            raise TransitionNotAllowed(
                _("案件当前为“%(status)s”，现在不能选择在线立案：只有调解终结且尚未移送或结案的案件可以。")
                % {"status": case.get_status_display()}
            )
        filing = _hand_over(case=case, route=FilingRoute.ONLINE_FILING, actor=actor, party=party,
                            to=S.REFER_TO_FILING)
        _notify_clerks(case=case, filing=filing, text=_(
            "案件%(ref)s调解不成，当事人%(party)s选择在线立案，电子材料已提交本院立案队列，请依法登记立案并录入案号。"
        ) % {"ref": case.reference, "party": party.name})
    return filing


def filing_hand_over_delegated(*, case: Case) -> CourtFiling | None:
    """A 委派 case whose mediation ended without agreement: the court must file (OMR 21(2)), so the platform hands
    the materials to the referring court's filing queue. Returns None when there is nothing to do (another
    origin, or the case has already moved on)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("court").get(pk=case.pk)
        if case.origin != CaseOrigin.DELEGATED or case.status != S.TERMINATED:
            return None
        if CourtFiling.objects.filter(case=case).exists():
            return None
        filing = _hand_over(case=case, route=FilingRoute.COURT_MUST_FILE, actor=None, party=None,
                            to=S.COURT_MUST_FILE)
        _notify_clerks(case=case, filing=filing, text=_(
            "委派调解案件%(ref)s调解不成，电子材料已移送本院立案队列，请依法登记立案并录入案号。"
        ) % {"ref": case.reference})
    return filing


def filing_record(*, filing: CourtFiling, actor: User, court_case_number: str) -> CourtFiling:
    """The court's clerk has filed the case: record the number the court's case management system gave it."""
    case = filing.case
    if tr.CLERK not in case_roles(actor, case):
        raise PermissionDenied(_("只有受理法院的立案人员可以登记立案。"))
    number = normalise_filing_number(court_case_number, court_code=case.court.court_code)
    with transaction.atomic():
        filing = CourtFiling.objects.select_for_update().select_related("case", "court").get(pk=filing.pk)
        if filing.filed_at is not None:
            raise StaleState(_("该案件已于%(date)s登记立案，案号%(number)s。")
                             % {"date": timezone.localtime(filing.filed_at).date(), "number": filing.court_case_number})
        if CourtFiling.objects.filter(court_case_number=number).exists() or \
                Case.objects.filter(court_case_number=number).exclude(pk=filing.case_id).exists():
            raise InvalidInput(_("案号“%(number)s”已被其他案件使用，请核对后录入。") % {"number": number})
        now = timezone.now()
        filing.filed_at, filing.filed_by, filing.court_case_number = now, actor, number
        filing.save(update_fields=["filed_at", "filed_by", "court_case_number"])
        Case.objects.filter(pk=filing.case_id).update(court_case_number=number)
        audit_append(
            kind="filing.filed", actor=actor, case=filing.case,
            data={"filing": filing.pk, "court_case_number": number, "filed_at": now, "rule": "OMR 21"},
        )
    return filing


def filing_resume_trial(*, case: Case, actor: User) -> Case:
    """A 委托 case whose mediation ended without agreement goes back to trial (OMR 21(3)): the court's clerk or
    judge records it."""
    if not case_roles(actor, case) & tr.roles_for("resume_trial"):
        raise PermissionDenied(_("只有本案受诉法院的立案人员或法官可以恢复审理。"))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.origin != CaseOrigin.ENTRUSTED:
            raise TransitionNotAllowed(_("恢复审理只适用于人民法院立案后委托调解的案件。"))
        return case_transition(case=case, to=S.RESUME_TRIAL, actor=actor, action="resume_trial")
