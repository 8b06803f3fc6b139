"""Builders of the frozen data each document is rendered from (legal-rules §C1-C3a, §C8).

Each ``*_data`` function reads the case as it stands and returns a JSON-safe dict (dates and times as ISO
strings, amounts as strings) that is stored on the ``Document`` row and is the only input of its template,
so a document can always be re-rendered from its own row. Nothing here writes.

Two rules shape what goes in (OMR 18, 22; SIM 22): a caucus record entry appears only once its side
released it, and settlement communications (concessions made to reach agreement) never appear in the
failure report, the transcript (which keeps only a placeholder) or anything else a court reads; only
undisputed facts confirmed by every party do.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mediation import calendar
from mediation.agreement_text import clause_text
from mediation.choices import (
    AgentAuthority,
    AgentKind,
    AgreementScope,
    AgreementVariant,
    CaseOrigin,
    ConsentKind,
    DocumentKind,
    EndReason,
    EvidenceKind,
    IdType,
    OrganisationKind,
    PartyKind,
    PartyRole,
    Procedure,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    Sector,
    SessionStatus,
    SignerRole,
    TimerKind,
    TimerStatus,
)
from mediation.lifecycle import CONFIRMATION_WINDOW_DAYS
from mediation.models import (
    Agent,
    Agreement,
    AuditEvent,
    Case,
    CaseMediator,
    Consent,
    Disclosure,
    Evidence,
    Party,
    RecordConfirmation,
    RecordEntry,
    Room,
    RosterEntry,
    ServiceAddress,
    Timer,
)
from mediation.selectors.rooms import room_files_shared_privately

SCHEMA = 1
SETTLEMENT_WITHHELD = gettext_noop("（为达成调解协议所作妥协的内容，依《人民法院在线调解规则》第十八条不载入本笔录。）")
PLATFORM_NAME = "一站在线调解平台"

Data = dict[str, Any]


# --- Small converters --------------------------------------------------------------------------------------


def _iso(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _money(value: Decimal | str | None) -> str:
    if value is None or value == "":
        return ""
    return str(Decimal(value).quantize(Decimal("0.01")))


def _label(choices: Any, code: str) -> str:
    if not code:
        return ""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def resident_id_facts(number: str) -> tuple[str, dt.date | None]:
    """Sex and date of birth from a GB 11643 resident ID number: digit 17 odd is male, digits 7-14 the
    birth date. ("", None) when the number does not have that shape."""
    number = (number or "").strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return "", None
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "", None
    sex = _("男") if int(number[16]) % 2 == 1 else _("女")
    return sex, birth


def _age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# --- Parties, agents, organisation, mediators -------------------------------------------------------------


def party_data(party: Party, *, on: dt.date) -> Data:
    """§C1 basic information of one party, with its agents. Natural persons and entities differ."""
    natural = party.kind == PartyKind.NATURAL
    sex, birth = ("", None)
    if natural and party.id_type == IdType.RESIDENT_ID:
        sex, birth = resident_id_facts(party.id_number)
    return {
        "id": party.pk,
        "role": party.role,
        "role_label": _label(PartyRole, party.role),
        "kind": party.kind,
        "natural": natural,
        "name": party.name,
        "sex": sex,
        "birth_date": _iso(birth),
        "age": _age(birth, on),
        "ethnicity": party.ethnicity,
        "id_type": _label(IdType, party.id_type),
        "id_number": party.id_number,
        "occupation": party.occupation,
        "address": party.address,
        "service_address": party.service_address,
        "phone": party.phone,
        "uscc": party.uscc,
        "legal_representative": party.legal_representative,
        "legal_representative_title": party.legal_representative_title,
        "agents": [agent_data(agent) for agent in party.agents.all().select_related("user").order_by("pk")],
    }


def agent_data(agent: Agent) -> Data:
    user = agent.user
    return {
        "id": agent.pk,
        "name": agent.name,
        "kind_label": _label(AgentKind, agent.kind),
        "authority": agent.authority,
        "authority_label": _label(AgentAuthority, agent.authority),
        "special": agent.authority == AgentAuthority.SPECIAL,
        # Only an agent with an account can sign for the party (documents.services.signing), so only
        # that agent gets a box.
        "signs": agent.authority == AgentAuthority.SPECIAL and user is not None,
        "authority_scope": agent.authority_scope,
        "license_number": agent.license_number,
        "firm": agent.firm,
        "id_type": _label(IdType, user.id_type) if user is not None else "",
        "id_number": user.id_number if user is not None else "",
        "phone": agent.phone or (user.phone if user is not None else ""),
    }


def organisation_data(case: Case) -> Data | None:
    """The mediation organisation that presided, its registration and its standing with the court."""
    org = case.mediation_organisation
    if org is None:
        return None
    inviting = org.parent if org.parent is not None and org.parent.is_court else case.court
    return {
        "id": org.pk,
        "name": org.name,
        "kind": org.kind,
        "kind_label": _label(OrganisationKind, org.kind),
        "peoples": org.kind == OrganisationKind.PEOPLES_MEDIATION_COMMITTEE,
        "registration_number": org.registration_number,
        "address": org.address,
        "phone": org.phone,
        "has_e_seal": org.has_e_seal,
        "inviting_court": inviting.name,
        "roster_status": _("%(court)s特邀调解组织名册在册") % {"court": inviting.name}
        if org.kind != OrganisationKind.PEOPLES_MEDIATION_COMMITTEE
        else _("人民调解委员会（%(court)s对接）") % {"court": inviting.name},
    }


def mediators_data(case: Case) -> list[Data]:
    """Active mediators, presiding first, with their place on the court's roster (OMR 5, 27)."""
    rows = (
        CaseMediator.objects.filter(case=case, is_active=True)
        .select_related("mediator", "mediator__mediator_profile")
        .order_by("-presiding", "assigned_at")
    )
    out: list[Data] = []
    for row in rows:
        profile = getattr(row.mediator, "mediator_profile", None)
        entry = None
        if profile is not None:
            # The entry on the case's own court's roster first, then a higher court's the case court adopted.
            entries = RosterEntry.objects.filter(
                Q(court=case.court) | Q(court__in=case.court.ancestors()), mediator=profile, is_active=True
            ).select_related("court")
            entry = min(entries, key=lambda e: (e.court_id != case.court_id, e.pk), default=None)
        out.append({
            "user_id": row.mediator_id,
            "name": row.mediator.display_name,
            "presiding": row.presiding,
            "kind_label": profile.get_kind_display() if profile is not None else "",
            "certificate_number": profile.certificate_number if profile is not None else "",
            "roster_id": f"{entry.court.court_code or 'R'}-{entry.pk:05d}" if entry is not None else "",
            "roster_court": entry.court.name if entry is not None else "",
        })
    return out


def case_data(case: Case) -> Data:
    return {
        "id": case.pk,
        "reference": case.reference,
        "title": case.title,
        "cause": _label(Sector, case.dispute_type),
        "origin": case.origin,
        "origin_label": _label(CaseOrigin, case.origin),
        "court": case.court.name,
        "court_case_number": case.court_case_number,
        "referral_number": case.referral_number,
        "summary": case.summary,
        "claims": case.claims,
        "amount": _money(case.amount),
        "end_reason": case.end_reason,
        "end_reason_label": _label(EndReason, case.end_reason),
        "agreement_effective_at": _iso(case.agreement_effective_at),
    }


# --- Signers and their boxes -------------------------------------------------------------------------------


def _signer(field: str, role: str, label: str, name: str, **ids: int | None) -> Data:
    return {"field": field, "role": role, "label": label, "name": name,
            "party_id": ids.get("party_id"), "user_id": ids.get("user_id"),
            "organisation_id": ids.get("organisation_id")}


def party_signers(parties: list[Data], *, role_label: str = "") -> list[Data]:
    """One box per party and one per agent who may sign instead of the party: special authority (CPL 62)
    and an account to sign with. A box nobody will sign would stay empty on the signed document.
    ``role_label`` names every party alike (the joint application: all are 申请人, CPL 205)."""
    out: list[Data] = []
    for party in parties:
        label = role_label or party["role_label"]
        out.append(_signer(f"party_{party['id']}", SignerRole.PARTY, label, party["name"], party_id=party["id"]))
        for agent in party["agents"]:
            if agent["signs"]:
                out.append(_signer(f"agent_{agent['id']}", SignerRole.AGENT,
                                   _("%(role)s%(name)s的委托代理人") % {"role": label, "name": party["name"]},
                                   agent["name"], party_id=party["id"]))
    return out


def mediator_signers(mediators: list[Data]) -> list[Data]:
    return [_signer(f"mediator_{m['user_id']}", SignerRole.MEDIATOR, _("调解员"), m["name"], user_id=m["user_id"])
            for m in mediators]


def seal_signer(organisation: Data | None) -> list[Data]:
    if organisation is None:
        return []
    return [_signer(f"org_{organisation['id']}", SignerRole.ORGANISATION, _("调解组织（印章）"),
                    organisation["name"], organisation_id=organisation["id"])]


# --- Agreement ---------------------------------------------------------------------------------------------


def agreement_data(agreement: Agreement) -> Data:
    parties = {p.pk: p.name for p in Party.objects.filter(case_id=agreement.case_id)}
    clauses = []
    for clause in agreement.clauses.all().select_related("obligor", "obligee").order_by("number"):
        clauses.append({
            "number": clause.number,
            "kind": clause.kind,
            "kind_label": clause.get_kind_display(),
            "obligor": parties.get(clause.obligor_id or 0, ""),
            "obligee": parties.get(clause.obligee_id or 0, ""),
            "subject": clause.subject,
            "amount": _money(clause.amount),
            "method": clause.method,
            "place": clause.place,
            "deadline": _iso(clause.deadline),
            "instalments": clause.instalments,
            "guarantee": clause.guarantee,
            "breach": clause.breach,
            # The very wording each party read and assented to (mediation.selectors.agreements), never a
            # second composition of the fields: what is signed is what was agreed.
            "text": clause_text(clause),
            "content_sha256": clause.content_sha256,
        })
    return {
        "id": agreement.pk,
        "version": agreement.version,
        "variant": agreement.variant,
        "variant_label": _label(AgreementVariant, agreement.variant),
        "number": agreement.number or f"{agreement.case.reference}-XY{agreement.version}",
        "facts": agreement.facts,
        "disputed_matters": agreement.disputed_matters,
        "responsibilities": agreement.responsibilities,
        "scope": agreement.scope,
        "scope_label": _label(AgreementScope, agreement.scope),
        "partial": agreement.scope == AgreementScope.PARTIAL,
        "unresolved_claims": agreement.unresolved_claims,
        "frozen_at": _iso(agreement.frozen_at),
        "clauses": clauses,
    }


def latest_agreement(case: Case) -> Agreement | None:
    """The agreement being signed or signed: the newest version that was not superseded."""
    return (
        Agreement.objects.filter(case=case, superseded_by__isnull=True)
        .select_related("case")
        .order_by("-version")
        .first()
    )


# --- Record and sessions -----------------------------------------------------------------------------------


def _live_entries(room: Room) -> list[RecordEntry]:
    """Entries not corrected by a later one; caucus entries only once released (OMR 18)."""
    return [
        entry
        for entry in RecordEntry.objects.filter(room=room, superseded_by__isnull=True).order_by("id")
        if not entry.caucus_side or entry.released_at is not None
    ]


def _jointly_confirmed_ids(rooms: list[Room], party_ids: list[int]) -> set[int]:
    """Entry ids every party confirmed in some version of the record (OMR 18: "jointly confirmed")."""
    per_party: dict[int, set[int]] = {pid: set() for pid in party_ids}
    for confirmation in RecordConfirmation.objects.filter(room__in=rooms):
        per_party.setdefault(confirmation.party_id, set()).update(int(i) for i in confirmation.entry_ids)
    if not party_ids:
        return set()
    return set.intersection(*(per_party[pid] for pid in party_ids))


def undisputed_facts(case: Case) -> list[Data]:
    """Undisputed facts every party confirmed online: the only record content a court may use (OMR 18, 22)."""
    rooms = list(Room.objects.filter(case=case).order_by("opened_at"))
    confirmed = _jointly_confirmed_ids(rooms, list(Party.objects.filter(case=case).values_list("pk", flat=True)))
    return [
        {"id": e.pk, "text": e.text, "at": _iso(e.created_at)}
        for room in rooms
        for e in _live_entries(room)
        if e.tag == RecordTag.UNDISPUTED_FACT and e.pk in confirmed
    ]


def sessions_data(case: Case, *, with_record: bool) -> list[Data]:
    """Each session held in a room, in order: time, mode, who attended and how they were verified, the
    notices they acknowledged, the outcome, and (``with_record``) the record entries and confirmations."""
    out: list[Data] = []
    rooms = Room.objects.filter(case=case).select_related("session", "session__venue").order_by("opened_at")
    names = {p.pk: p.name for p in Party.objects.filter(case=case)}
    for number, room in enumerate(rooms, start=1):
        session = room.session
        members = [
            {
                "name": m.display_name,
                "role_label": m.get_role_display(),
                "side_label": m.get_side_display() if m.side else "",
                "admitted": m.state in (RoomMemberState.ADMITTED, RoomMemberState.LEFT) and m.admitted_at is not None,
                "identity_checked_at": _iso(m.identity_checked_at),
                "notices_acknowledged_at": _iso(m.notices_acknowledged_at),
                "audio_only": m.audio_only,
            }
            for m in room.members.all().order_by("pk")
        ]
        item: Data = {
            "number": number,
            "room_id": room.pk,
            "kind": session.kind,
            "kind_label": session.get_kind_display(),
            "status_label": _label(SessionStatus, session.status),
            "scheduled_start": _iso(session.starts_at),
            "start": _iso(room.opened_at),
            "end": _iso(room.ended_at),
            "venue": session.venue.name if session.venue else "",
            "venue_address": session.venue.address if session.venue else "",
            "members": members,
            "outcome": room.outcome,
            "outcome_label": _label(RoomOutcome, room.outcome),
            "end_reason_label": _label(EndReason, room.end_reason),
            "continue_at": _iso(room.continue_at),
        }
        if with_record:
            # Concessions made to reach agreement are kept out of the printed record: the court reads this
            # document, and such facts may not be used against a party in litigation (OMR 18). The entry's
            # place and tag stay, so the record still shows that something was said.
            item["entries"] = [
                {
                    "id": e.pk,
                    "text": _(SETTLEMENT_WITHHELD) if e.tag == RecordTag.SETTLEMENT_COMMUNICATION else e.text,
                    "withheld": e.tag == RecordTag.SETTLEMENT_COMMUNICATION,
                    "tag": e.tag,
                    "tag_label": _label(RecordTag, e.tag) if e.tag else "",
                    "caucus_side_label": _label(PartyRole, e.caucus_side),
                    "corrects": e.supersedes_id,
                    "at": _iso(e.created_at),
                }
                for e in _live_entries(room)
            ]
            item["confirmations"] = [
                {"party": names.get(c.party_id, ""), "by": c.user.display_name, "version": c.version_sha256[:16],
                 "at": _iso(c.confirmed_at)}
                for c in RecordConfirmation.objects.filter(room=room).select_related("user").order_by("confirmed_at")
            ]
        out.append(item)
    return out


def notices_data(case: Case) -> Data:
    """Notices and consents that §C2 asks the record to show: recording (and whether it replaces the
    transcript), the mediator's disclosure (recusal inquiry) and invited participants."""
    consents = Consent.objects.filter(case=case, withdrawn_at__isnull=True).select_related("party", "user")

    def answers(kind: str) -> list[Data]:
        return [
            {"who": c.party.name if c.party else c.user.display_name, "granted": c.granted, "at": _iso(c.given_at)}
            for c in consents if c.kind == kind
        ]

    return {
        "recording": answers(ConsentKind.RECORDING),
        "recording_replaces_transcript": answers(ConsentKind.RECORDING_REPLACES_TRANSCRIPT),
        "invited_participant": answers(ConsentKind.INVITED_PARTICIPANT),
        "disclosures": [
            {"mediator": d.mediator.display_name, "nothing": d.nothing_to_disclose, "statement": d.statement,
             "at": _iso(d.disclosed_at)}
            for d in Disclosure.objects.filter(case=case).select_related("mediator").order_by("disclosed_at")
        ],
    }


# --- Timers ------------------------------------------------------------------------------------------------


def jc_deadline(case: Case) -> tuple[str, str]:
    """(effective time, last day) of the 30-day window to apply for confirmation (T9; PML 33; CPL 205).
    The timer row is the legal clock when it exists; otherwise the same CPL 85 count is made here."""
    timer = (
        Timer.objects.filter(case=case, kind=TimerKind.JC_APPLICATION_WINDOW)
        .order_by("-started_at")
        .first()
    )
    if timer is not None:
        return _iso(timer.started_at), _iso(calendar.last_day(timer.due_at))
    effective = case.agreement_effective_at
    if effective is None:
        return "", ""
    last = calendar.calendar_period_end(
        calendar.local_day(effective), CONFIRMATION_WINDOW_DAYS, overrides=calendar.load_overrides()
    )
    return _iso(effective), _iso(last)


def mediation_period(case: Case) -> Data:
    # A court-filed case's period is its own clock, from the materials' receipt (legal-rules §A12 art. 3).
    kind = TimerKind.COURT_FILED_PERIOD if case.origin == CaseOrigin.COURT_FILED else TimerKind.MEDIATION_PERIOD
    timer = Timer.objects.filter(case=case, kind=kind).order_by("-started_at").first()
    if timer is None:
        return {"start": "", "length": None, "extra_days": 0, "due": "", "end": "", "status_label": ""}
    return {
        "start": _iso(timer.started_at),
        "length": timer.length,
        "extra_days": timer.extra_days,
        "due": _iso(calendar.last_day(timer.due_at)),
        "end": _iso(timer.stopped_at or timer.fired_at),
        "status_label": _label(TimerStatus, timer.status),
    }


# --- The documents -----------------------------------------------------------------------------------------


def _common(case: Case, kind: str, *, now: dt.datetime) -> Data:
    today = timezone.localtime(now).date()
    parties = [party_data(p, on=today) for p in Party.objects.filter(case=case).order_by("role", "pk")]
    return {
        "schema": SCHEMA,
        "kind": kind,
        "platform": PLATFORM_NAME,
        "generated_at": _iso(now),
        "date": _iso(today),
        "case": case_data(case),
        "organisation": organisation_data(case),
        "mediators": mediators_data(case),
        "parties": parties,
    }


AGREEMENT_TITLES = {
    AgreementVariant.PEOPLES: "人民调解协议书",
    AgreementVariant.DELEGATED: "调解协议书",
    AgreementVariant.ENTRUSTED: "调解协议书",
}


def agreement_document_data(case: Case, agreement: Agreement, *, now: dt.datetime) -> Data:
    """§C1: the agreement in its variant (people's mediation, 委派 or 委托)."""
    data = _common(case, DocumentKind.AGREEMENT, now=now)
    data["agreement"] = agreement_data(agreement)
    data["title"] = _(AGREEMENT_TITLES[AgreementVariant(agreement.variant)])
    data["variant"] = agreement.variant
    data["number"] = data["agreement"]["number"]
    data["copies"] = len(data["parties"]) + (1 if data["organisation"] else 0)
    data["confirmation_possible"] = case.origin not in (CaseOrigin.ENTRUSTED, CaseOrigin.COURT_FILED)
    data["jc_window_days"] = CONFIRMATION_WINDOW_DAYS
    data["signers"] = [*party_signers(data["parties"]), *mediator_signers(data["mediators"]),
                       *seal_signer(data["organisation"])]
    return data


def transcript_data(case: Case, *, now: dt.datetime) -> Data:
    """§C2: the record of every session, as confirmed online, with the outcome."""
    data = _common(case, DocumentKind.TRANSCRIPT, now=now)
    agreement = latest_agreement(case)
    data["title"] = _("调解笔录")
    data["number"] = f"{case.reference}-BL"
    data["sessions"] = sessions_data(case, with_record=True)
    data["notices"] = notices_data(case)
    data["undisputed_facts"] = undisputed_facts(case)
    data["agreement"] = (
        {"number": agreement.number or f"{case.reference}-XY{agreement.version}",
         "scope_label": _label(AgreementScope, agreement.scope), "partial": agreement.scope == AgreementScope.PARTIAL}
        if agreement is not None else None
    )
    data["out_of_court_closing"] = (
        case.origin not in (CaseOrigin.ENTRUSTED, CaseOrigin.COURT_FILED) and agreement is not None
    )
    # No signature boxes: the parties confirm the record online, each confirmation logged with the version
    # it confirmed (OMR 22: an e-record checked and confirmed online has a paper record's force), and the
    # PDF prints those confirmations. Empty boxes nobody is asked to sign would only invite doubt.
    data["signers"] = []
    return data


def _court_materials(case: Case) -> Any:
    """The case's materials a document for the court may list: a file shared in a caucus stays with that
    side, so only files never shared in a room, or shared in the joint session, are listed."""
    private = room_files_shared_privately(case=case)
    return Evidence.objects.filter(case=case).exclude(pk__in=private).order_by("uploaded_at")


def _attachments(case: Case, data: Data) -> list[str]:
    """Interp 354; JC-2011 3: what goes with a confirmation application."""
    items = [_("调解协议书（编号：%(n)s）") % {"n": data["agreement"]["number"]}]
    if data["organisation"]:
        items.append(_("调解组织主持调解的证明（%(o)s）") % {"o": data["organisation"]["name"]})
    for party in data["parties"]:
        if party["natural"]:
            items.append(_("%(n)s的身份证明（%(t)s）") % {"n": party["name"], "t": party["id_type"] or _("身份证件")})
        else:
            items.append(_("%(n)s的营业执照或登记证书、法定代表人（负责人）身份证明") % {"n": party["name"]})
        for agent in party["agents"]:
            items.append(_("%(p)s出具的授权委托书（%(a)s，%(auth)s）")
                         % {"p": party["name"], "a": agent["name"], "auth": agent["authority_label"]})
    for evidence in _court_materials(case).filter(kind=EvidenceKind.EVIDENCE):
        items.append(_("与调解协议相关的财产权利证明等材料：%(t)s") % {"t": evidence.title})
    addresses = ServiceAddress.objects.filter(case=case).select_related("party").order_by("party_id", "-confirmed_at")
    for address in addresses:
        line = _("%(n)s的送达地址确认书") % {"n": address.party.name}
        if line not in items:
            items.append(line)
    return items


def jc_application_data(case: Case, agreement: Agreement, *, now: dt.datetime) -> Data:
    """§C3: the joint application, every party an applicant, pre-filled, with the 30-day window."""
    data = _common(case, DocumentKind.JC_APPLICATION, now=now)
    data["title"] = _("司法确认申请书")
    data["subtitle"] = _("（申请确认调解协议）")
    data["number"] = f"{case.reference}-SQ"
    data["agreement"] = agreement_data(agreement)
    effective, last_day = jc_deadline(case)
    data["effective_at"] = effective
    data["deadline"] = last_day
    data["addressee"] = case.court.name
    data["attachments"] = _attachments(case, data)
    data["signers"] = party_signers(data["parties"], role_label=_("申请人"))
    return data


def presiding_proof_data(case: Case, agreement: Agreement, *, now: dt.datetime) -> Data:
    """§C3a: the organisation's statement that it presided."""
    data = _common(case, DocumentKind.PRESIDING_PROOF, now=now)
    data["title"] = _("调解组织主持调解的证明")
    data["number"] = f"{case.reference}-ZM"
    data["agreement"] = agreement_data(agreement)
    sessions = sessions_data(case, with_record=False)
    data["session_dates"] = sorted({s["start"][:10] for s in sessions if s["start"]})
    data["effective_at"] = _iso(case.agreement_effective_at)
    data["signers"] = seal_signer(data["organisation"])
    return data


NEXT_STEP = {
    CaseOrigin.PARTY_APPLICATION: "调解不成。调解员已建议申请人通过平台在线申请立案；申请人选择立案的，"
                                  "平台将电子材料推送至人民法院，由人民法院依法登记立案"
                                  "（《人民法院在线调解规则》第二十一条第一项）。",
    CaseOrigin.DELEGATED: "本案系人民法院立案前委派调解，调解不成，人民法院应当依法登记立案"
                          "（《人民法院在线调解规则》第二十一条第二项）。",
    CaseOrigin.ENTRUSTED: "本案系人民法院立案后委托调解，调解不成，应当依法恢复审理"
                          "（《人民法院在线调解规则》第二十一条第三项）。",
    CaseOrigin.COURT_FILED: "本案系人民法院立案后委托调解，调解不成，案件转入审理程序；转入审理前由人民法院通知交纳"
                            "案件受理费（《最高人民法院关于严格依法规范民事案件立案与调解工作的意见》第五条、第六条）。",
}


def failure_report_data(case: Case, *, now: dt.datetime, notes: dict[str, str] | None = None) -> Data:
    """§C8, routed by origin (OMR 21). Built for a court that will litigate the case: the record's content
    is left out except undisputed facts every party confirmed (OMR 18); settlement communications never
    appear. ``notes`` are the mediator's narrative fields; missing ones fall back to the termination's
    written reason in the audit trail."""
    data = _common(case, DocumentKind.FAILURE_REPORT, now=now)
    data["title"] = _("调解终结报告")
    data["number"] = f"{case.reference}-ZJ"
    event = (
        AuditEvent.objects.filter(case=case, data__to="terminated").order_by("-seq").first()
    )
    recorded = dict(event.data) if event is not None else {}
    given = {**{k: str(v) for k, v in recorded.items() if isinstance(v, str)}, **(notes or {})}
    data["terminated_at"] = _iso(event.created_at) if event is not None else _iso(case.status_changed_at)
    data["period"] = mediation_period(case)
    data["sessions"] = sessions_data(case, with_record=False)
    data["end_reason"] = case.end_reason
    data["end_reason_label"] = _label(EndReason, case.end_reason)
    data["notes"] = dict(notes or {})
    data["narrative"] = given.get("narrative") or given.get("note", "")
    data["failure_reasons"] = given.get("failure_reasons") or given.get("note", "")
    data["cost_conduct"] = given.get("cost_conduct", "")
    data["court_matters"] = given.get("court_matters", "")
    data["undisputed_facts"] = undisputed_facts(case)
    data["next_step"] = _(NEXT_STEP[CaseOrigin(case.origin)])
    data["remedies_notice"] = _("已告知当事人可以通过仲裁、行政、司法等途径维护自己的权利。")
    data["materials"] = [
        {"title": e.title, "kind_label": e.get_kind_display(), "sha256": e.sha256[:16]}
        for e in _court_materials(case)
    ]
    data["signers"] = [*mediator_signers(data["mediators"]), *seal_signer(data["organisation"])]
    return data


def fee_notice_data(case: Case, *, now: dt.datetime, notes: dict[str, str] | None = None) -> Data:
    """The filing-fee notice served before a court-filed case goes to trial (legal-rules §A12 art. 6): who
    pays (the plaintiffs), how much, by which day (the FILING_FEE clock the notice starts), and what happens
    if unpaid. ``notes`` carry ``amount`` (yuan, two decimals) as the clerk entered it. It states only what
    the court decided; how to pay is the court's own channel and is not invented here."""
    data = _common(case, DocumentKind.FEE_NOTICE, now=now)
    given = dict(notes or {})
    data["title"] = _("交纳案件受理费通知书")
    data["number"] = f"{case.reference}-JF"
    data["court"] = case.court.name
    data["court_case_number"] = case.court_case_number
    data["procedure_label"] = _label(Procedure, case.procedure)
    data["payers"] = [p for p in data["parties"] if p["role"] == PartyRole.APPLICANT]
    data["amount"] = _money(given.get("amount"))
    data["notes"] = {"amount": str(given.get("amount", ""))}
    timer = (
        Timer.objects.filter(case=case, kind=TimerKind.FILING_FEE).order_by("-pk").first()
    )
    data["days"] = timer.length if timer is not None else None
    data["issued_on"] = _iso(timezone.localtime(timer.started_at).date()) if timer is not None else data["date"]
    data["deadline"] = _iso(calendar.last_day(timer.due_at)) if timer is not None else ""
    terminated = AuditEvent.objects.filter(case=case, data__to="terminated").order_by("-seq").first()
    data["terminated_at"] = _iso(terminated.created_at) if terminated is not None else ""
    data["end_reason_label"] = _label(EndReason, case.end_reason)
    data["signers"] = []
    return data
