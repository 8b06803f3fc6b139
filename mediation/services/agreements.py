"""The agreement drafted together in the room: the mediator writes it, each party assents clause by clause,
then the mediator freezes it and opens signing (OMR 19; PML 29; legal-rules §B7, §C1).

Every write locks the agreement row, so an edit and an assent never cross: an assent is bound to the clause's
content hash the party read, and an edit drops the assents given to the old wording. Changes are audited on
the case's chain and announced to the room and the case's watchers after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from mediation import signals
from mediation import transitions as tr
from mediation.agreement_rules import agreement_warnings
from mediation.agreement_text import HEADER_FIELDS, agreement_snapshot, clause_sha256
from mediation.choices import (
    AgentAuthority,
    AgreementScope,
    AgreementStatus,
    AgreementVariant,
    CaseOrigin,
    CaseStatus,
    ClauseKind,
    OrganisationKind,
    RoomStatus,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState, TransitionNotAllowed
from mediation.models import (
    Agent,
    Agreement,
    AgreementClause,
    Case,
    CaseMediator,
    ClauseAssent,
    Organisation,
    Party,
    Room,
    User,
)
from mediation.permissions import case_roles, helper_refusal
from mediation.services.audit import audit_append
from mediation.services.cases import case_transition
from mediation.services.room_events import room_announce
from mediation.signals import send_on_commit

logger = logging.getLogger(__name__)

CLAUSE_TEXT_FIELDS = ("subject", "method", "place", "instalments", "guarantee", "breach", "text")
CLAUSE_FIELDS = ("kind", "obligor", "obligee", "amount", "deadline", *CLAUSE_TEXT_FIELDS)


# --- who may do what ----------------------------------------------------------------------------------------


def _require_mediator(actor: User, case: Case, *, presiding: bool = False) -> None:
    if tr.MEDIATOR not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案调解员可以起草和修改调解协议。"))
    if presiding and not CaseMediator.objects.filter(
        case=case, mediator=actor, is_active=True, presiding=True
    ).exists():
        raise PermissionDenied(_("只有本案主持调解员可以进行此操作。"))


def acting_parties(*, case: Case, user: User) -> list[tuple[Party, bool]]:
    """The parties ``user`` acts for on ``case``, each with whether they may assent for it: a party in person
    or an agent with special authority (CPL 62: settling needs special authorisation)."""
    acting: dict[int, tuple[Party, bool]] = {}
    for party in Party.objects.filter(case=case, user=user):
        acting[party.pk] = (party, True)
    for agent in Agent.objects.filter(party__case=case, user=user).select_related("party"):
        if not acting.get(agent.party_id, (None, False))[1]:
            acting[agent.party_id] = (agent.party, agent.authority == AgentAuthority.SPECIAL)
    return sorted(acting.values(), key=lambda item: (item[0].role, item[0].pk))


def _require_may_assent_for(actor: User, party: Party) -> bool:
    """Whether ``actor`` acts for ``party`` through an agency (True) or in person (False); refuses otherwise."""
    if party.user_id is not None and party.user_id == actor.pk:
        return False
    refusal = helper_refusal(actor, party.case_id)
    if refusal is not None:  # an interpreter or helper (issue 18 item 4): helping is not acting for the party
        raise PermissionDenied(refusal)
    agent = Agent.objects.filter(party=party, user=actor).first()
    if agent is None:
        raise PermissionDenied(_("您不能代表该当事人表示同意：只有当事人本人或其特别授权的代理人可以。"))
    if agent.authority != AgentAuthority.SPECIAL:
        raise PermissionDenied(
            _("您是一般授权代理人，不能代为同意调解协议条款：代为和解须有当事人的特别授权（民事诉讼法第六十二条）。"
              "请当事人本人确认，或补充特别授权委托书。")
        )
    return True


# --- locking and announcing -----------------------------------------------------------------------------------


def _locked(agreement: Agreement) -> Agreement:
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("case", "case__mediation_organisation")
        .get(pk=agreement.pk)
    )


def _require_drafting(agreement: Agreement) -> None:
    if agreement.status != AgreementStatus.DRAFTING:
        raise TransitionNotAllowed(_("该版本协议已定稿或已被取代，不能再修改。"))
    if agreement.case.status != CaseStatus.AGREEMENT_DRAFT:
        raise TransitionNotAllowed(
            _("案件当前为“%(status)s”，不在协议起草阶段。") % {"status": agreement.case.get_status_display()}
        )


def _announce(agreement: Agreement) -> None:
    """Tell the room (its panel reloads) and the case's watchers. The room event is stored with the change, so
    a phone that reconnects gets it in its catch-up; both are sent only after commit."""
    payload = {"agreement": agreement.pk, "revision": agreement.revision}
    room_announce(case=agreement.case, kind="agreement.updated", payload=payload)
    send_on_commit(signals.case_event, case_id=agreement.case_id, event={"type": "agreement.updated", **payload})


def _changed(agreement: Agreement, *, actor: User, kind: str, data: dict[str, Any]) -> None:
    """Bump the revision, audit the change under ``kind`` and announce it."""
    agreement.revision += 1
    agreement.save(update_fields=["revision", "updated_at"])
    audit_append(
        kind=kind, actor=actor, case=agreement.case,
        data={"agreement": agreement.pk, "version": agreement.version, "revision": agreement.revision, **data},
    )
    _announce(agreement)


# --- starting -------------------------------------------------------------------------------------------------


def agreement_variant_for(case: Case) -> str:
    """Which 调解协议书 template the case takes (legal-rules §C1).

    A people's mediation committee's agreement is a 人民调解协议书 whatever the route (PML 29 sets its content
    and its effect: the mediator's signature and the committee's seal). Otherwise the court's referral decides:
    委派 before filing, 委托 after. A party's own pre-filing application on the court platform is mediated by a
    mediator or organisation the court invited (特邀调解, SIM), exactly as a 委派 case is: the same content
    (SIM 24), the same effect (OMR 19) and confirmation by the inviting court (CPL 205(1)); so it takes the
    委派 template.
    """
    organisation = case.mediation_organisation
    if organisation is not None and organisation.kind == OrganisationKind.PEOPLES_MEDIATION_COMMITTEE:
        return AgreementVariant.PEOPLES
    if case.origin in (CaseOrigin.ENTRUSTED, CaseOrigin.COURT_FILED):
        return AgreementVariant.ENTRUSTED
    return AgreementVariant.DELEGATED


def _committee_code(organisation: Organisation) -> str:
    if organisation.short_name.strip():
        return organisation.short_name.strip()
    return organisation.name.replace("人民调解委员会", "").strip() or organisation.name


def _agreement_number(case: Case, variant: str) -> str:
    """The agreement number (§C1). A committee numbers its agreements per year, ``（2026）京和平里人调字第12号``:
    the committee row is locked while counting, so two agreements never share a number. Elsewhere the number
    is the platform's case reference with a suffix: unique and stable, and no court number is invented (§A10)."""
    organisation = case.mediation_organisation
    if variant != AgreementVariant.PEOPLES or organisation is None:
        return f"{case.reference}-XY"
    Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
    prefix = f"（{timezone.localdate().year}）{_committee_code(organisation)}人调字第"
    used = (
        Agreement.objects.filter(number__startswith=prefix).exclude(case=case).values("case").distinct().count()
    )
    return f"{prefix}{used + 1}号"


def agreement_start(*, case: Case, actor: User) -> Agreement:
    """Begin drafting (OMR 19): the presiding mediator moves the case from IN_MEDIATION to AGREEMENT_DRAFT
    and gets the drafting version, prefilled from the case. Idempotent: a case already drafting (or sent back
    to mediation and drafting again) returns the version being drafted."""
    _require_mediator(actor, case, presiding=True)
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("mediation_organisation").get(
            pk=case.pk
        )
        if case.status == CaseStatus.IN_MEDIATION:
            case = case_transition(case=case, to=CaseStatus.AGREEMENT_DRAFT, actor=actor)
        elif case.status != CaseStatus.AGREEMENT_DRAFT:
            raise TransitionNotAllowed(
                _("案件当前为“%(status)s”，调解进行中才能起草调解协议。") % {"status": case.get_status_display()}
            )
        drafting = Agreement.objects.filter(case=case, status=AgreementStatus.DRAFTING).first()
        if drafting is not None:
            return drafting
        previous = Agreement.objects.filter(case=case).order_by("-version").first()
        variant = agreement_variant_for(case)
        room = Room.objects.filter(case=case, status=RoomStatus.OPEN).order_by("-opened_at").first()
        agreement = Agreement.objects.create(
            case=case, version=(previous.version + 1) if previous else 1, variant=variant,
            number=previous.number if previous else _agreement_number(case, variant),
            facts=case.summary, disputed_matters=case.claims, room=room, created_by=actor,
        )
        audit_append(
            kind="agreement.started", actor=actor, case=case,
            data={"agreement": agreement.pk, "version": agreement.version, "number": agreement.number,
                  "variant": variant},
        )
        _announce(agreement)
    return agreement


# --- editing --------------------------------------------------------------------------------------------------


def agreement_update(*, agreement: Agreement, actor: User, **fields: Any) -> Agreement:
    """Change the header: the main facts, the disputed matters, each side's responsibility (PML 29), whether
    the settlement is full or partial and the claims left unresolved (OMR 19)."""
    unknown = set(fields) - set(HEADER_FIELDS)
    if unknown:
        raise InvalidInput(_("不能修改这些内容：%(names)s。") % {"names": ", ".join(sorted(unknown))})
    if "scope" in fields and fields["scope"] not in AgreementScope.values:
        raise InvalidInput(_("请选择全部达成或部分达成协议。"))
    with transaction.atomic():
        agreement = _locked(agreement)
        _require_mediator(actor, agreement.case)
        _require_drafting(agreement)
        changed = []
        for name, value in fields.items():
            value = (value or "").strip()
            if getattr(agreement, name) != value:
                setattr(agreement, name, value)
                changed.append(name)
        if not changed:
            return agreement
        agreement.save(update_fields=[*changed, "updated_at"])
        _changed(agreement, actor=actor, kind="agreement.updated", data={"fields": sorted(changed)})
    return agreement


def _clean_clause_fields(agreement: Agreement, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CLAUSE_FIELDS)
    if unknown:
        raise InvalidInput(_("条款没有这些内容：%(names)s。") % {"names": ", ".join(sorted(unknown))})
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name in CLAUSE_TEXT_FIELDS:
            clean[name] = (value or "").strip()
        elif name == "kind":
            if value not in ClauseKind.values:
                raise InvalidInput(_("请选择条款类型。"))
            clean[name] = value
        elif name in ("obligor", "obligee"):
            clean[name] = _party_of(agreement, value)
        elif name == "amount":
            clean[name] = _amount(value)
        elif name == "deadline":
            if value in (None, ""):
                clean[name] = None
            elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                clean[name] = value
            else:
                raise InvalidInput(_("履行期限须为日期。"))
    return clean


def _party_of(agreement: Agreement, value: Party | int | None) -> Party | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, Party) else value
    party = Party.objects.filter(pk=pk, case_id=agreement.case_id).first()
    if party is None:
        raise InvalidInput(_("义务人和权利人须为本案当事人。"))
    return party


def _amount(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(_("金额须为数字，例如 12000.00。")) from exc
    if amount < 0 or amount >= Decimal("1e12"):
        raise InvalidInput(_("金额须为不小于零的数字。"))
    return amount


def _drop_assents(clause: AgreementClause) -> int:
    dropped, _detail = ClauseAssent.objects.filter(clause=clause).delete()
    return dropped


def agreement_clause_add(*, agreement: Agreement, actor: User, **fields: Any) -> AgreementClause:
    """Append a numbered clause (obligor, obligee, what, amount, method, place and deadline, instalments,
    guarantee, breach; §C1)."""
    with transaction.atomic():
        agreement = _locked(agreement)
        _require_mediator(actor, agreement.case)
        _require_drafting(agreement)
        clean = _clean_clause_fields(agreement, fields)
        last = agreement.clauses.aggregate(n=Max("number"))["n"] or 0
        clause = AgreementClause(agreement=agreement, number=last + 1, **clean)
        clause.content_sha256 = clause_sha256(clause)
        clause.save()
        _changed(agreement, actor=actor, kind="agreement.clause_added",
                 data={"clause": clause.pk, "number": clause.number, "sha256": clause.content_sha256})
    return clause


def agreement_clause_update(*, clause: AgreementClause, actor: User, **fields: Any) -> AgreementClause:
    """Change a clause. Its assents were given to the old wording, so they are dropped: each party assents
    again to what the clause now says."""
    with transaction.atomic():
        agreement = _locked(clause.agreement)
        _require_mediator(actor, agreement.case)
        _require_drafting(agreement)
        clause = AgreementClause.objects.select_related("obligor", "obligee").get(pk=clause.pk)
        for name, value in _clean_clause_fields(agreement, fields).items():
            setattr(clause, name, value)
        digest = clause_sha256(clause)
        if digest == clause.content_sha256:
            return clause
        clause.content_sha256 = digest
        clause.save()
        dropped = _drop_assents(clause)
        _changed(agreement, actor=actor, kind="agreement.clause_updated",
                 data={"clause": clause.pk, "number": clause.number, "sha256": digest, "assents_dropped": dropped})
    return clause


def agreement_clause_delete(*, clause: AgreementClause, actor: User) -> Agreement:
    """Remove a clause and close the gap in the numbering."""
    with transaction.atomic():
        agreement = _locked(clause.agreement)
        _require_mediator(actor, agreement.case)
        _require_drafting(agreement)
        clause = AgreementClause.objects.get(pk=clause.pk)
        number, pk = clause.number, clause.pk
        _drop_assents(clause)
        clause.delete()
        for later in agreement.clauses.filter(number__gt=number).order_by("number"):
            later.number -= 1
            later.save(update_fields=["number"])
        _changed(agreement, actor=actor, kind="agreement.clause_deleted", data={"clause": pk, "number": number})
    return agreement


def agreement_clause_move(*, clause: AgreementClause, actor: User, position: int) -> AgreementClause:
    """Move a clause to ``position`` (1-based), shifting the ones between. What each clause says is unchanged,
    so assents stay (the number is not part of the content hash)."""
    with transaction.atomic():
        agreement = _locked(clause.agreement)
        _require_mediator(actor, agreement.case)
        _require_drafting(agreement)
        clause = AgreementClause.objects.get(pk=clause.pk)
        count = agreement.clauses.count()
        old, new = clause.number, max(1, min(int(position), count))
        if old == new:
            return clause
        clause.number = 0  # park it: numbers are unique per agreement while the others shift
        clause.save(update_fields=["number"])
        if new < old:
            between = agreement.clauses.filter(number__gte=new, number__lt=old).order_by("-number")
            step = 1
        else:
            between = agreement.clauses.filter(number__gt=old, number__lte=new).order_by("number")
            step = -1
        for other in between:
            other.number += step
            other.save(update_fields=["number"])
        clause.number = new
        clause.save(update_fields=["number"])
        _changed(agreement, actor=actor, kind="agreement.clause_moved",
                 data={"clause": clause.pk, "from": old, "to": new})
    return clause


# --- assent ---------------------------------------------------------------------------------------------------


def agreement_clause_assent(
    *, clause: AgreementClause, actor: User, party: Party, content_sha256: str | None = None
) -> ClauseAssent:
    """``party`` assents to ``clause`` as it reads now. The actor is the party or its agent with special
    authority (CPL 62). ``content_sha256`` is the wording the person read: if the mediator changed it since,
    nothing is recorded and they are asked to read it again."""
    with transaction.atomic():
        agreement = _locked(clause.agreement)
        if party.case_id != agreement.case_id:
            raise PermissionDenied(_("该当事人不属于本案。"))
        by_agent = _require_may_assent_for(actor, party)
        _require_drafting(agreement)
        clause = AgreementClause.objects.get(pk=clause.pk)
        if content_sha256 is not None and content_sha256 != clause.content_sha256:
            raise StaleState(_("第%(n)d条刚被调解员修改，请阅读修改后的内容再表示同意。") % {"n": clause.number})
        assent, created = ClauseAssent.objects.get_or_create(
            clause=clause, party=party, content_sha256=clause.content_sha256, defaults={"user": actor},
        )
        if created:
            audit_append(
                kind="agreement.clause_assented", actor=actor, case=agreement.case,
                data={"agreement": agreement.pk, "clause": clause.pk, "number": clause.number, "party": party.pk,
                      "party_name": party.name, "sha256": clause.content_sha256, "by_agent": by_agent},
            )
            _announce(agreement)
    return assent


def agreement_clause_withdraw_assent(*, clause: AgreementClause, actor: User, party: Party) -> None:
    """Take back an assent while the agreement is still being drafted (the parties agree voluntarily until
    they sign; Interp 358(4))."""
    with transaction.atomic():
        agreement = _locked(clause.agreement)
        if party.case_id != agreement.case_id:
            raise PermissionDenied(_("该当事人不属于本案。"))
        by_agent = _require_may_assent_for(actor, party)
        _require_drafting(agreement)
        deleted, _detail = ClauseAssent.objects.filter(clause=clause, party=party).delete()
        if deleted:
            audit_append(
                kind="agreement.assent_withdrawn", actor=actor, case=agreement.case,
                data={"agreement": agreement.pk, "clause": clause.pk, "number": clause.number, "party": party.pk,
                      "party_name": party.name, "by_agent": by_agent},
            )
            _announce(agreement)


def agreement_is_fully_assented(agreement: Agreement) -> bool:
    """Whether every clause has each party's assent to its current wording (and there is a clause)."""
    return not agreement_missing_assents(agreement) and agreement.clauses.exists()


def agreement_missing_assents(agreement: Agreement) -> list[tuple[AgreementClause, Party]]:
    """(clause, party) pairs still waiting for an assent to the clause's current wording, in clause order."""
    clauses = sorted(agreement.clauses.all(), key=lambda c: c.number)
    parties = sorted(Party.objects.filter(case_id=agreement.case_id), key=lambda p: (p.role, p.pk))
    given = set(
        ClauseAssent.objects.filter(clause__agreement=agreement).values_list("clause_id", "party_id", "content_sha256")
    )
    return [(c, p) for c in clauses for p in parties if (c.pk, p.pk, c.content_sha256) not in given]


def agreement_signing_blockers(agreement: Agreement) -> list[str]:
    """What stops signing from opening, in words the mediator can act on: errors first, then missing assents."""
    waiting: dict[int, list[str]] = {}
    for clause, party in agreement_missing_assents(agreement):
        waiting.setdefault(clause.number, []).append(party.name)
    return [w.message for w in agreement_warnings(agreement) if w.is_error] + missing_assent_messages(waiting)


def missing_assent_messages(waiting: dict[int, list[str]]) -> list[str]:
    """``{clause number: [party names]}`` as lines such as “第1条：张三、李四尚未同意”."""
    return [
        _("第%(n)d条：%(parties)s尚未同意") % {"n": number, "parties": pgettext("list separator", "、").join(names)}
        for number, names in sorted(waiting.items())
    ]


# --- freezing and revising ----------------------------------------------------------------------------------


def agreement_open_signing(*, agreement: Agreement, actor: User, revision: int | None = None) -> Agreement:
    """Freeze the agreement and open signing (AGREEMENT_DRAFT → SIGNING; OMR 19). Refused while any clause
    lacks a party's assent to its current wording or the draft has errors. ``revision`` is the revision the
    mediator looked at: if the agreement changed since, nothing happens."""
    _require_mediator(actor, agreement.case, presiding=True)
    with transaction.atomic():
        agreement = _locked(agreement)
        _require_drafting(agreement)
        if revision is not None and revision != agreement.revision:
            raise StaleState(_("协议刚被修改，请查看最新内容后再发起签署。"))
        blockers = agreement_signing_blockers(agreement)
        if blockers:
            shown = "；".join(blockers[:5]) + ("……" if len(blockers) > 5 else "")
            raise InvalidInput(_("暂不能发起签署：%(what)s。") % {"what": shown})
        agreement.status = AgreementStatus.FROZEN
        agreement.frozen_at = timezone.now()
        agreement.save(update_fields=["status", "frozen_at", "updated_at"])
        snapshot = agreement_snapshot(agreement)
        audit_append(
            kind="agreement.frozen", actor=actor, case=agreement.case,
            data={"agreement": agreement.pk, "version": agreement.version, "revision": agreement.revision,
                  "number": agreement.number, "sha256": snapshot["sha256"]},
        )
        case = Case.objects.select_for_update().get(pk=agreement.case_id)
        agreement.case = case_transition(
            case=case, to=CaseStatus.SIGNING, actor=actor, data={"agreement": agreement.pk}
        )
        _announce(agreement)
    return agreement


def agreement_revise(*, agreement: Agreement, actor: User) -> Agreement:
    """A new drafting version superseding a frozen one: the clauses are copied, the assents are not (the
    parties read and assent again; §B7: later changes need a new version and a new signing round).

    While the case is SIGNING this takes the ``revise_agreement`` row back to AGREEMENT_DRAFT; signatures
    already on the old version's document stay on it, and that document is superseded when the new version
    is issued at the next SIGNING.
    """
    _require_mediator(actor, agreement.case, presiding=True)
    with transaction.atomic():
        agreement = _locked(agreement)
        if agreement.status != AgreementStatus.FROZEN:
            raise TransitionNotAllowed(_("只有已定稿的协议可以修订为新版本。"))
        case = Case.objects.select_for_update().get(pk=agreement.case_id)
        if case.status == CaseStatus.SIGNING:
            if not tr.find_transitions(source=case.status, target=CaseStatus.AGREEMENT_DRAFT, origin=case.origin):
                raise TransitionNotAllowed(
                    _("签署已经开始，现行流程不能退回协议起草阶段，暂不能修改协议。如当事人拒绝签署，"
                      "可按“当事人拒绝签署调解协议”终结调解。")
                )
            case = case_transition(case=case, to=CaseStatus.AGREEMENT_DRAFT, actor=actor,
                                   data={"agreement": agreement.pk})
        elif case.status != CaseStatus.AGREEMENT_DRAFT:
            raise TransitionNotAllowed(
                _("案件当前为“%(status)s”，不能修订调解协议。") % {"status": case.get_status_display()}
            )
        agreement.status = AgreementStatus.SUPERSEDED
        agreement.save(update_fields=["status", "updated_at"])
        revised = Agreement.objects.create(
            case=case, version=agreement.version + 1, supersedes=agreement, variant=agreement.variant,
            number=agreement.number, room=agreement.room, created_by=actor,
            **{name: getattr(agreement, name) for name in HEADER_FIELDS},
        )
        for old in agreement.clauses.order_by("number"):
            copy = AgreementClause(
                agreement=revised, number=old.number, obligor_id=old.obligor_id, obligee_id=old.obligee_id,
                **{name: getattr(old, name) for name in ("kind", "amount", "deadline", *CLAUSE_TEXT_FIELDS)},
            )
            copy.content_sha256 = clause_sha256(copy)
            copy.save()
        audit_append(
            kind="agreement.revised", actor=actor, case=case,
            data={"agreement": revised.pk, "version": revised.version, "supersedes": agreement.pk},
        )
        _announce(revised)
    return revised
