"""Builders of the frozen data each document is rendered from (legal-rules §C1-C4, §C8).

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
    ClauseKind,
    ConfirmationOutcome,
    ConsentKind,
    DismissalGround,
    DocumentKind,
    EndReason,
    EvidenceKind,
    FilingRoute,
    IdType,
    NotAcceptGround,
    ObligationStatus,
    OrganisationKind,
    ParticipantRole,
    PartyKind,
    PartyRole,
    Procedure,
    RecordTag,
    RoomMemberState,
    RoomOutcome,
    Sector,
    SessionPurpose,
    SessionStatus,
    SignerRole,
    TimerKind,
    TimerStatus,
)
from mediation.exceptions import InvalidInput
from mediation.lifecycle import CONFIRMATION_WINDOW_DAYS
from mediation.models import (
    Agent,
    Agreement,
    AuditEvent,
    Case,
    CaseHelper,
    CaseMediator,
    ConfirmationApplication,
    Consent,
    CourtFiling,
    Disclosure,
    Evidence,
    Obligation,
    Party,
    RecordConfirmation,
    RecordEntry,
    Room,
    RoomMember,
    RosterEntry,
    ServiceAddress,
    Timer,
)
from mediation.selectors.performance import enforceable_title, enforcement_limit
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
    """One box per party side (``party_<id>``): the party signs it in person, or an agent who may sign
    instead (special authority, CPL 62, and an account to sign with), named under the box, signs the same
    box. Only one of them signs a side, so a second box would stay empty on the signed document.
    ``role_label`` names every party alike (the joint application: all are 申请人, CPL 205)."""
    out: list[Data] = []
    for party in parties:
        label = role_label or party["role_label"]
        signer = _signer(f"party_{party['id']}", SignerRole.PARTY, label, party["name"], party_id=party["id"])
        signer["agents"] = [agent["name"] for agent in party["agents"] if agent["signs"]]
        out.append(signer)
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
    # Mediation sessions only: the court's verification session (Interp 356) is the court's own record.
    rooms = list(Room.objects.filter(case=case, session__purpose=SessionPurpose.MEDIATION).order_by("opened_at"))
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
    rooms = Room.objects.filter(case=case, session__purpose=SessionPurpose.MEDIATION).select_related(
        "session", "session__venue").order_by("opened_at")
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


def helpers_data(case: Case) -> list[Data]:
    """The interpreters and helpers who took part (issue 18 item 4): a ``CaseHelper`` whose person was admitted
    into a mediation room of the case, with whom they helped and how, and the 如实翻译 declaration only when
    they accepted it (its version and time as recorded). Invited but never admitted: not named."""
    took_part = set(
        RoomMember.objects.filter(room__case=case, room__session__purpose=SessionPurpose.MEDIATION,
                                  admitted_at__isnull=False).values_list("user_id", flat=True)
    )
    out: list[Data] = []
    for helper in CaseHelper.objects.filter(case=case).select_related("assists").order_by("assists__role", "pk"):
        if helper.user_id not in took_part:
            continue
        declared = helper.declaration_accepted_at is not None
        out.append({
            "name": helper.name,
            "role": helper.role,
            "role_label": _label(ParticipantRole, helper.role),
            "kind_label": helper.get_kind_display(),
            "service": str(helper.service_label),
            "party": helper.assists.name,
            "declaration": (
                {"at": _iso(helper.declaration_accepted_at), "code": helper.declaration_code,
                 "version": helper.declaration_version}
                if declared else None
            ),
        })
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
    data["helpers"] = helpers_data(case)
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
    data["helpers"] = helpers_data(case)
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


def _cn_date(value: dt.datetime) -> str:
    day = timezone.localtime(value).date()
    return f"{day.year}年{day.month}月{day.day}日"


def failure_next_steps(case: Case) -> list[str]:
    """§C8's next step, each sentence rendered from what the records show (OMR 21; SIM 21): a hand-over to the
    court's filing queue is stated only when a ``CourtFiling`` row records it, with its date and court, and a
    filing only once the clerk recorded the court's case number."""
    court = case.court.name
    filing = CourtFiling.objects.filter(case=case).select_related("court", "chosen_by_party").first()
    lines: list[str] = []
    if case.origin == CaseOrigin.COURT_FILED:
        number = case.court_case_number
        lines.append(
            _("本案系人民法院立案后委托调解%(number)s，调解不成，案件转入%(court)s审理程序；转入审理前由人民法院通知交纳"
              "案件受理费（《最高人民法院关于严格依法规范民事案件立案与调解工作的意见》第五条、第六条）。")
            % {"number": f"（{number}）" if number else "", "court": court}
        )
        return lines
    if case.origin == CaseOrigin.ENTRUSTED:
        number = case.court_case_number
        lines.append(
            _("本案系人民法院立案后委托调解%(number)s，调解不成，依照《人民法院在线调解规则》第二十一条第三项，"
              "由%(court)s恢复审理。") % {"number": f"（{number}）" if number else "", "court": court}
        )
        return lines
    if filing is not None:
        handed = _cn_date(filing.handed_at)
        if filing.route == FilingRoute.ONLINE_FILING:
            who = filing.chosen_by_party.name if filing.chosen_by_party is not None else _("当事人")
            lines.append(
                _("%(date)s，%(party)s选择在线申请立案，本案电子材料已于当日提交%(court)s立案队列，由人民法院依法登记立案"
                  "（《人民法院在线调解规则》第二十一条第一项）。")
                % {"date": handed, "party": who, "court": filing.court.name}
            )
        else:
            lines.append(
                _("本案系人民法院立案前委派调解，调解不成。%(date)s，本案电子材料已移送%(court)s立案队列，"
                  "由人民法院依法登记立案（《人民法院在线调解规则》第二十一条第二项）。")
                % {"date": handed, "court": filing.court.name}
            )
        if filing.filed_at is not None:
            lines.append(_("%(court)s已于%(date)s登记立案，案号%(number)s。") % {
                "court": filing.court.name, "date": _cn_date(filing.filed_at), "number": filing.court_case_number})
        return lines
    if case.origin == CaseOrigin.DELEGATED:
        lines.append(
            _("本案系人民法院立案前委派调解，调解不成，依照《人民法院在线调解规则》第二十一条第二项，"
              "%(court)s应当依法登记立案。") % {"court": court}
        )
        return lines
    lines.append(
        _("调解不成。当事人可以在平台本案页面选择在线申请立案；选择的，平台将本案电子材料提交%(court)s立案队列，"
          "由人民法院依法登记立案（《人民法院在线调解规则》第二十一条第一项）。本报告出具时，尚无当事人选择在线立案。")
        % {"court": court}
    )
    return lines


# PML 26: the report itself tells every party of the remedies that remain; it is served on each of them.
REMEDIES_NOTICE = ("告知：调解不成的，当事人可以依法通过仲裁、行政、司法等途径维护自己的权利"
                   "（《中华人民共和国人民调解法》第二十六条）。")


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
    data["next_steps"] = failure_next_steps(case)
    # A party's own application hands nothing over unless a party chose online filing (OMR 21(1)).
    handed = case.origin != CaseOrigin.PARTY_APPLICATION or CourtFiling.objects.filter(case=case).exists()
    data["materials_heading"] = (
        _("九、移送材料清单") if handed else _("九、本案电子材料清单（当事人选择在线立案的，随案提交人民法院）")
    )
    data["remedies_notice"] = _(REMEDIES_NOTICE)
    data["materials"] = [
        {"title": e.title, "kind_label": e.get_kind_display(), "sha256": e.sha256[:16]}
        for e in _court_materials(case)
    ]
    data["signers"] = [*mediator_signers(data["mediators"]), *seal_signer(data["organisation"])]
    return data


# --- The court's ruling (民事裁定书, legal-rules §C4) ---------------------------------------------------------

CPL = "《中华人民共和国民事诉讼法》"
INTERP = "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》"
# Interp 358 (1)-(6) and Interp 355 (1)-(5): the item each ground is, as the ruling cites it.
_DISMISSAL_ITEMS = {
    DismissalGround.MANDATORY_LAW: "第三百五十八条第一项", DismissalGround.HARMS_OTHERS: "第三百五十八条第二项",
    DismissalGround.PUBLIC_ORDER: "第三百五十八条第三项", DismissalGround.NOT_VOLUNTARY: "第三百五十八条第四项",
    DismissalGround.UNCLEAR: "第三百五十八条第五项", DismissalGround.OTHER: "第三百五十八条第六项",
    DismissalGround.EXCLUDED_MATTER: "第三百五十五条第二款",
}
_NOT_ACCEPT_ITEMS = {
    NotAcceptGround.NOT_COURT_MATTER: "第三百五十五条第一款第一项",
    NotAcceptGround.NO_JURISDICTION: "第三百五十五条第一款第二项",
    NotAcceptGround.PERSONAL_STATUS: "第三百五十五条第一款第三项",
    NotAcceptGround.SPECIAL_PROCEDURE: "第三百五十五条第一款第四项",
    NotAcceptGround.OWNERSHIP: "第三百五十五条第一款第五项",
}
RULING_VARIANTS = frozenset(ConfirmationOutcome.values)


def _person_name(user: Any) -> str:
    return ((user.real_name or user.display_name) if user is not None else "").strip()


def _legal_basis(outcome: str, ground: str) -> list[str]:
    """The articles the ruling rests on (legal-rules §C4 "Legal basis"), as cited in its 依照 sentence."""
    if outcome == ConfirmationOutcome.CONFIRMED:
        return [f"{CPL}第二百零五条、第二百零六条"]
    if outcome == ConfirmationOutcome.DISMISSED:
        return [f"{CPL}第二百零六条", f"{INTERP}{_DISMISSAL_ITEMS.get(DismissalGround(ground), '第三百五十八条')}"]
    if outcome == ConfirmationOutcome.NOT_ACCEPTED:
        if ground == NotAcceptGround.LATE:
            return [f"{CPL}第二百零五条"]
        return [f"{CPL}第二百零五条", f"{INTERP}{_NOT_ACCEPT_ITEMS.get(NotAcceptGround(ground), '第三百五十五条')}"]
    return [f"{INTERP}第三百五十七条"]


def _verification_held(case: Case) -> Data | None:
    """Interp 356 as the records show it: the joint verification sessions that ended as held (``questioned``),
    who of the parties was admitted to each, and who confirmed its record. None when none was held: the ruling
    then says nothing of a verification."""
    rooms = list(Room.objects.filter(case=case, session__purpose=SessionPurpose.VERIFICATION,
                                     outcome=RoomOutcome.QUESTIONED).select_related("session").order_by("opened_at"))
    if not rooms:
        return None
    held = []
    for room in rooms:
        members = RoomMember.objects.filter(room=room, party__isnull=False, admitted_at__isnull=False)
        present = sorted({m.party.name for m in members.select_related("party") if m.party is not None})
        confirmed = sorted({c.party.name for c in RecordConfirmation.objects.filter(room=room).select_related("party")})
        held.append({"date": _iso(calendar.local_day(room.opened_at)), "day": _cn_date(room.opened_at),
                     "present": present, "confirmed": confirmed})
    parts = []
    for item in held:
        text = _("本院于%(day)s通过在线视频组织询问，%(present)s到场接受询问") % {
            "day": item["day"], "present": "、".join(item["present"]) or _("当事人")}
        if item["confirmed"]:
            text += _("，询问笔录经%(names)s确认") % {"names": "、".join(item["confirmed"])}
        parts.append(text)
    return {"sessions": held, "sentence": "；".join(parts) + "。"}


def ruling_data(case: Case, *, now: dt.datetime) -> Data:
    """§C4: the court's 民事裁定书 on a confirmation application, in the variant of the decision on record
    (``ConfirmationApplication.outcome``): confirmed (CPL 206), dismissed (Interp 358, or 355 found after
    acceptance), not accepted (Interp 355, or late under CPL 205), withdrawal allowed or deemed withdrawn
    (Interp 357). It states only what the records show: the dates of application, acceptance and decision,
    supplements asked and filed, the deciding judge. No clerk is assigned to a case on the platform, so none is
    named; the joint verification of Interp 356 is not recorded here yet (see ``verification`` below)."""
    application = (
        ConfirmationApplication.objects.filter(case=case)
        .select_related("accepted_by", "decided_by").first()
    )
    if application is None or application.outcome not in RULING_VARIANTS or application.decided_by is None:
        raise InvalidInput(_("本案没有法官作出的司法确认处理结果，不能生成民事裁定书。"))
    data = _common(case, DocumentKind.RULING, now=now)
    outcome, ground = application.outcome, application.ground
    court = case.court
    agreement = latest_agreement(case)
    judge = application.decided_by
    data["title"] = _("民事裁定书")
    data["variant"] = outcome
    data["variant_label"] = _label(ConfirmationOutcome, outcome)
    data["court"] = {"id": court.pk, "name": court.name, "code": court.court_code}
    # The court's own number (民特 / 诉前调确), entered at acceptance; an application never accepted has none
    # on the platform, so the document's number is then the platform's and no court number is printed.
    data["case_number"] = application.case_number
    data["number"] = application.case_number or f"{case.reference}-CD"
    data["agreement"] = agreement_data(agreement) if agreement is not None else None
    data["agreement_effective_at"] = _iso(case.agreement_effective_at)
    data["submitted_at"] = _iso(application.submitted_at)
    data["accepted_at"] = _iso(application.accepted_at)
    data["decided_at"] = _iso(application.decided_at)
    data["date"] = _iso(calendar.local_day(application.decided_at)) if application.decided_at else data["date"]
    data["ground"] = ground
    data["ground_label"] = (
        _label(DismissalGround, ground) if outcome == ConfirmationOutcome.DISMISSED
        else _label(NotAcceptGround, ground) if outcome == ConfirmationOutcome.NOT_ACCEPTED else ""
    )
    data["decision_note"] = application.decision_note
    data["supplements"] = [
        {"items": s.items, "days": s.days, "requested_at": _iso(s.requested_at),
         "due": _iso(calendar.last_day(s.due_at)), "filed_at": _iso(s.filed_at), "filed_note": s.filed_note}
        for s in application.supplements.all().order_by("requested_at", "pk")
    ]
    data["verification"] = _verification_held(case)
    data["extension_days"] = application.extension_days
    data["legal_basis"] = _legal_basis(outcome, ground)
    data["judge"] = {"id": judge.pk, "name": _person_name(judge)}
    data["clerk"] = None
    data["signers"] = [
        _signer(f"judge_{judge.pk}", SignerRole.JUDGE, _("审判员"), data["judge"]["name"], user_id=judge.pk),
        _signer(f"court_{court.pk}", SignerRole.COURT, _("人民法院（印章）"), court.name, organisation_id=court.pk),
    ]
    return data


# --- The court's 民事调解书 (§A12 art. 4; §C5; CPL 100) --------------------------------------------------------

# A court-filed case's sides as the court names them in a first-instance suit.
LITIGATION_ROLE_LABELS = {PartyRole.APPLICANT: gettext_noop("原告"), PartyRole.RESPONDENT: gettext_noop("被告")}
MEDIATION_DOCUMENT_EFFECT = gettext_noop("本调解书经双方当事人签收后，即具有法律效力。")
MEDIATION_DOCUMENT_CONFIRMATION = gettext_noop("上述协议，不违反法律规定，本院予以确认。")


def mediation_document_data(case: Case, *, now: dt.datetime, judge: Any) -> Data:
    """§C5: the court's 民事调解书 on a party's request in a court-filed case (§A12 art. 4), prepared by
    ``judge`` (a judge of the case's court) from the effective agreement. Only what the records show: the
    court's 民初 number and the parties as 原告/被告 with their particulars and agents; the cause and the
    plaintiff's claims as the clerk filed them; the day the court entrusted the case and to whom (the
    organisation and the mediators on record); the facts as the agreement states them; the agreement's terms
    word for word; a costs sentence only when the agreement has a costs clause; the court's confirmation; the
    effect clause (effective when signed for by both parties, CPL 100; Interp 149); the judge, the date and the
    seal. The date of 立案 is not recorded on the platform (the clerk types the number only), so it is not
    printed; no clerk (书记员) is assigned to a case on the platform, so none is named."""
    if case.origin != CaseOrigin.COURT_FILED:
        raise InvalidInput(_("只有立案后委托调解的案件可以出具民事调解书。"))
    if not case.court_case_number:
        raise InvalidInput(_("本案没有录入法院案号，不能出具民事调解书。"))
    agreement = latest_agreement(case)
    if agreement is None or case.agreement_effective_at is None:
        raise InvalidInput(_("本案没有已生效的调解协议，不能出具民事调解书。"))
    if judge is None:
        raise InvalidInput(_("民事调解书须由本案管辖法院的法官制作。"))
    data = _common(case, DocumentKind.MEDIATION_DOCUMENT, now=now)
    court = case.court
    for party in data["parties"]:
        party["role_label"] = _(LITIGATION_ROLE_LABELS.get(party["role"], party["role_label"]))
    data["title"] = _("民事调解书")
    data["court"] = {"id": court.pk, "name": court.name, "code": court.court_code}
    data["case_number"] = case.court_case_number
    data["number"] = case.court_case_number
    data["cause"] = case.title
    data["procedure_label"] = _label(Procedure, case.procedure) if case.procedure else ""
    data["filed_on"] = ""  # not on record: see the docstring
    referral = AuditEvent.objects.filter(case_id=case.pk, kind="referral.created").order_by("seq").first()
    data["entrusted_on"] = _iso(calendar.local_day(referral.created_at)) if referral is not None else ""
    data["agreement"] = agreement_data(agreement)
    data["agreement_effective_at"] = _iso(case.agreement_effective_at)
    costs = [c["number"] for c in data["agreement"]["clauses"] if c["kind"] == ClauseKind.COSTS]
    data["costs_clauses"] = costs
    data["confirmation"] = _(MEDIATION_DOCUMENT_CONFIRMATION)
    data["effect"] = _(MEDIATION_DOCUMENT_EFFECT)
    data["effect_rule"] = "CPL 100; Interp 149"
    data["judge"] = {"id": judge.pk, "name": _person_name(judge)}
    data["clerk"] = None
    data["signers"] = [
        _signer(f"judge_{judge.pk}", SignerRole.JUDGE, _("审判员"), data["judge"]["name"], user_id=judge.pk),
        _signer(f"court_{court.pk}", SignerRole.COURT, _("人民法院（印章）"), court.name, organisation_id=court.pk),
    ]
    return data


# --- After the agreement: enforcement (CPL 250; Interp 460) -------------------------------------------------


def enforcement_application_data(case: Case, agreement: Agreement, *, now: dt.datetime) -> Data:
    """The 强制执行申请书 on a default reported against an enforceable title: only what is on record. The
    applicants are the obligees of the defaulted obligations, the respondents their obligors; the title is the
    court's (``selectors.performance.enforceable_title``); the limit is CPL 250's two years (T15). Refused, not
    rendered, when there is no title or no reported default: an agreement nobody confirmed is sued on, not
    enforced (PML 32-33)."""
    title = enforceable_title(case)
    if title is None:
        raise InvalidInput(_("本案的调解协议未经司法确认，也没有人民法院的调解书，不能申请强制执行；"
                             "调解协议具有合同效力，当事人可以就履行问题向人民法院提起诉讼（人民调解法第三十二、三十三条）。"))
    obligations = list(Obligation.objects.filter(case=case).select_related("obligor", "obligee", "confirmed_by")
                       .order_by("number"))
    defaulted = [o for o in obligations if o.status == ObligationStatus.DEFAULTED]
    if not defaulted:
        raise InvalidInput(_("本案没有权利人报告未履行的义务，不生成强制执行申请书。"))
    data = _common(case, DocumentKind.ENFORCEMENT_APPLICATION, now=now)
    by_id = {p["id"]: p for p in data["parties"]}
    applicant_ids = list(dict.fromkeys(o.obligee_id for o in defaulted if o.obligee_id))
    respondent_ids = list(dict.fromkeys(o.obligor_id for o in defaulted if o.obligor_id))
    limit = enforcement_limit(case, title)
    confirmation = ConfirmationApplication.objects.filter(case=case).first()
    data["title"] = _("强制执行申请书")
    data["number"] = f"{case.reference}-ZX"
    data["agreement"] = agreement_data(agreement)
    # Without the agents of the mediation: their powers of attorney covered mediation and confirmation, not
    # enforcement, which needs its own (CPL 62).
    data["applicants"] = [{**by_id[i], "agents": []} for i in applicant_ids if i in by_id]
    data["respondents"] = [{**by_id[i], "agents": []} for i in respondent_ids if i in by_id]
    data["enforceable_title"] = {
        "kind": title.kind, "label": title.label, "number": title.number, "court": title.court,
        "decided_on": _iso(title.decided_on), "effective_on": _iso(title.effective_on), "rule": title.rule,
        "applied_on": _iso(confirmation.submitted_at) if confirmation is not None else "",
    }

    def row(o: Obligation) -> Data:
        return {"number": o.number, "subject": o.subject, "amount": _money(o.amount), "due_date": _iso(o.due_date),
                "instalments": o.instalments, "obligor": o.obligor.name if o.obligor else "",
                "obligee": o.obligee.name if o.obligee else "", "defaulted_at": _iso(o.defaulted_at),
                "confirmed_at": _iso(o.confirmed_at), "note": o.default_note,
                "text": clause_text(o.clause)}

    data["defaulted"] = [row(o) for o in defaulted]
    data["performed"] = [row(o) for o in obligations if o.status == ObligationStatus.PERFORMED]
    amounts = [o.amount for o in defaulted if o.amount is not None]
    data["unpaid_total"] = _money(sum(amounts, Decimal("0"))) if amounts else ""
    data["limit"] = {"start": _iso(limit.start), "last_day": _iso(limit.last_day), "basis": limit.basis}
    # Interp 460: the court that issued the ruling, or a same-level court where the property is, enforces.
    data["addressee"] = title.court
    items = [_("%(label)s（%(number)s）") % {"label": title.label, "number": title.number or _("案号未录入")},
             _("调解协议书（编号：%(n)s）") % {"n": data["agreement"]["number"]}]
    for party in data["applicants"]:
        if party["natural"]:
            items.append(_("%(n)s的身份证明（%(t)s）") % {"n": party["name"], "t": party["id_type"] or _("身份证件")})
        else:
            items.append(_("%(n)s的营业执照或登记证书、法定代表人（负责人）身份证明") % {"n": party["name"]})
    data["attachments"] = items
    data["signers"] = party_signers(data["applicants"], role_label=_("申请执行人"))
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
