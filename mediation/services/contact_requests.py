"""Contact requests (联系法官/调解员, issue 18): the ledger, its two clocks and the escalation.

A party or agent asks on the case page (or a staff member who took the party's call logs it for them); the
request goes to the case's presiding mediator, or to the court's judges when the case has none; a repeat request
on the same matter (same party, same category) goes to the court's supervision staff (``Role.COMPLAINT_HANDLER``).
Two working-day clocks start with the request (``TimerKind.CONTACT_FIRST``: 1, ``CONTACT_FEEDBACK``: 2, counted
as the legal clocks count working days, holidays and 调休 included). When the first lapses the head is told
and may take the request over: the mediation organisation's admin for a mediator, else the court's president
(D41). The result goes back to the party in-app and by SMS through the outbox.

``timer_sweep`` calls ``contact_timer_expired`` when one of these clocks fires.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import notification_templates as nt
from mediation import transitions as tr
from mediation.choices import (
    ContactCategory,
    ContactHandler,
    ContactMethod,
    ContactStatus,
    MessageChannel,
    Role,
    TimerKind,
)
from mediation.exceptions import InvalidInput, PermissionDenied, StaleState
from mediation.models import Agent, Case, CaseMediator, ContactRequest, Membership, Organisation, Party, Timer, User
from mediation.permissions import case_roles
from mediation.services.audit import audit_append
from mediation.services.outbox import outbox_enqueue, outbox_notify_users
from mediation.services.timers import timer_start_for_entry, timer_stop_for_entry

QUESTION_MAX = 2000
RESULT_MAX = 2000
# Staff who may log a request for a party who telephoned (the case's own staff).
LOGGING_ROLES = frozenset({tr.MEDIATOR, tr.CLERK, tr.JUDGE, tr.ORG_ADMIN})
SUPERVISOR_ROLES = (Role.COMPLAINT_HANDLER, Role.COURT_PRESIDENT)
HANDLER_ROLES = {
    ContactHandler.JUDGES: (Role.JUDGE, Role.COURT_PRESIDENT),
    ContactHandler.SUPERVISOR: SUPERVISOR_ROLES,
}


# --- Who ---------------------------------------------------------------------------------------------------


def parties_represented_by(user: User | None, case: Case) -> list[Party]:
    """The parties of ``case`` that ``user`` is, or is an agent of."""
    if user is None or not user.is_authenticated:
        return []
    own = list(Party.objects.filter(case=case, user=user))
    agented = [agent.party for agent in Agent.objects.filter(party__case=case, user=user).select_related("party")]
    return list({party.pk: party for party in [*own, *agented]}.values())


def _head_organisation(request: ContactRequest) -> tuple[Organisation, str]:
    """Who steps in when the clock lapses: a mediator's organisation admin, else the court's president."""
    case = request.case
    if request.handler == ContactHandler.MEDIATOR and case.mediation_organisation_id:
        assert case.mediation_organisation is not None
        return case.mediation_organisation, Role.ORG_ADMIN
    return case.court, Role.COURT_PRESIDENT


def is_head(user: User | None, request: ContactRequest) -> bool:
    if user is None or not user.is_authenticated:
        return False
    organisation, role = _head_organisation(request)
    return Membership.objects.filter(user=user, organisation=organisation, role=role, is_active=True).exists()


def may_handle(user: User | None, request: ContactRequest) -> bool:
    """The person the request went to, the staff of the role it went to, or (once a clock lapsed) the head."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if request.assigned_to_id == user.pk:
        return True
    if request.handler == ContactHandler.MEDIATOR:
        if CaseMediator.objects.filter(case_id=request.case_id, mediator=user, is_active=True).exists():
            return True
    else:
        roles = HANDLER_ROLES[ContactHandler(request.handler)]
        if Membership.objects.filter(
            user=user, organisation_id=request.handler_organisation_id, role__in=roles, is_active=True
        ).exists():
            return True
    return request.escalated_at is not None and is_head(user, request)  # after either clock lapsed


# --- Messages ----------------------------------------------------------------------------------------------


def _notify_users(*, users: list[User], case: Case, key: str, subject: str, text: str, link: str) -> None:
    outbox_notify_users(users=users, case=case, key=key, subject=subject, text=text, link=link)


def _members(organisation_id: int, roles: tuple[str, ...]) -> list[User]:
    rows = (
        Membership.objects.filter(organisation_id=organisation_id, role__in=roles, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user_id")
    )
    return [row.user for row in rows]


def _handlers(request: ContactRequest) -> list[User]:
    if request.assigned_to is not None:
        return [request.assigned_to]
    roles = HANDLER_ROLES[ContactHandler(request.handler)]
    # The supervision office first; a court without one has its president answer.
    for role in roles:
        found = _members(request.handler_organisation_id, (role,))
        if found:
            return found
    return []


def _queue_link() -> str:
    return nt.site_url("contact_queue")


# --- Writes ------------------------------------------------------------------------------------------------


def _route(case: Case, repeat_of: ContactRequest | None) -> tuple[str, Organisation, User | None]:
    if repeat_of is not None:
        return ContactHandler.SUPERVISOR, case.court, None
    presiding = (
        CaseMediator.objects.filter(case=case, is_active=True)
        .select_related("mediator")
        .order_by("-presiding", "pk")
        .first()
    )
    if presiding is not None:
        return ContactHandler.MEDIATOR, case.mediation_organisation or case.court, presiding.mediator
    return ContactHandler.JUDGES, case.court, None


def contact_request_create(
    *,
    case: Case,
    actor: User | None,
    category: str,
    question: str,
    party: Party | None = None,
    at: dt.datetime | None = None,
) -> ContactRequest:
    """Log a request to be contacted. A party or agent asks for a party they are or represent (``party`` may be
    left out when there is one); the case's staff log one for ``party`` after taking their call."""
    roles = case_roles(actor, case)
    if actor is None or not roles:
        raise PermissionDenied(_("只有本案当事人、代理人或本案工作人员可以登记联系请求。"))
    if category not in ContactCategory.values:
        raise InvalidInput(_("请选择诉求类别。"))
    question = (question or "").strip()
    if not question:
        raise InvalidInput(_("请写明您希望沟通的事项。"))
    if len(question) > QUESTION_MAX:
        raise InvalidInput(_("诉求内容请控制在 %(max)d 字以内。") % {"max": QUESTION_MAX})
    own = parties_represented_by(actor, case)
    logged_by: User | None = None
    if own:
        if party is None and len(own) == 1:
            party = own[0]
        if party is None or party.pk not in {p.pk for p in own}:
            raise PermissionDenied(_("只能为本人或您代理的当事人提出联系请求。"))
        requested_by: User | None = actor
    elif roles & LOGGING_ROLES:
        if party is None or party.case_id != case.pk:
            raise InvalidInput(_("请选择来电的当事人。"))
        requested_by, logged_by = None, actor
    else:
        raise PermissionDenied(_("只有本案当事人、代理人或本案工作人员可以登记联系请求。"))
    at = at or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        repeat_of = (
            ContactRequest.objects.filter(case=locked, party=party, category=category)
            .order_by("-created_at", "-pk")
            .first()
        )
        handler, organisation, assigned = _route(locked, repeat_of)
        request = ContactRequest.objects.create(
            case=locked,
            party=party,
            requested_by=requested_by,
            logged_by=logged_by,
            category=category,
            question=question,
            handler=handler,
            handler_organisation=organisation,
            assigned_to=assigned,
            repeat_of=repeat_of,
            created_at=at,
        )
        request.first_timer = timer_start_for_entry(case=locked, kind=TimerKind.CONTACT_FIRST, at=at, actor=actor)
        request.feedback_timer = timer_start_for_entry(case=locked, kind=TimerKind.CONTACT_FEEDBACK, at=at, actor=actor)
        request.save(update_fields=["first_timer", "feedback_timer"])
        audit_append(
            kind="contact.requested",
            actor=actor,
            case=locked,
            data={
                "request": request.pk,
                "party": party.pk,
                "category": category,
                "handler": handler,
                "organisation": organisation.pk,
                "assigned_to": assigned.pk if assigned else None,
                "logged_for_party": logged_by is not None,
                "repeat_of": repeat_of.pk if repeat_of else None,
                "contact_due_at": request.first_timer.due_at.isoformat(),
                "feedback_due_at": request.feedback_timer.due_at.isoformat(),
            },
        )
        subject = _("联系请求：案件%(ref)s") % {"ref": locked.reference}
        if repeat_of is not None:
            text = _(
                "当事人%(name)s就同一事项再次提出联系请求（%(category)s），请监督部门督办，并在1个工作日内联系当事人。"
            )
        else:
            text = _("当事人%(name)s请求联系（%(category)s），请在1个工作日内联系当事人，2个工作日内反馈办理结果。")
        _notify_users(
            users=_handlers(request),
            case=locked,
            key=f"contact:{request.pk}:routed",
            subject=subject,
            text=text % {"name": party.name, "category": ContactCategory(category).label},
            link=_queue_link(),
        )
    return request


def _lock(request: ContactRequest) -> ContactRequest:
    Case.objects.select_for_update().get(pk=request.case_id)
    return (
        ContactRequest.objects.select_for_update(of=("self",))
        .select_related(
            "case",
            "case__court",
            "case__mediation_organisation",
            "party",
            "party__user",
            "first_timer",
            "feedback_timer",
            "requested_by",
        )
        .get(pk=request.pk)
    )


def contact_request_take(*, request: ContactRequest, actor: User | None) -> ContactRequest:
    """The head takes over a request whose first-contact clock lapsed."""
    with transaction.atomic():
        locked = _lock(request)
        if locked.status != ContactStatus.ESCALATED:
            raise StaleState(_("该联系请求未逾期或已办理，无需接手。"))
        if not is_head(actor, locked):
            raise PermissionDenied(_("只有负责人可以接手逾期的联系请求。"))
        assert actor is not None
        previous = locked.assigned_to_id
        locked.assigned_to = locked.taken_over_by = actor
        locked.save(update_fields=["assigned_to", "taken_over_by"])
        audit_append(
            kind="contact.taken_over",
            actor=actor,
            case=locked.case,
            data={"request": locked.pk, "previous_assignee": previous},
        )
    return locked


def contact_request_record(
    *,
    request: ContactRequest,
    actor: User | None,
    method: str,
    contacted_at: dt.datetime,
    note: str = "",
    result: str = "",
) -> ContactRequest:
    """Record that the party was reached (how, when); with ``result``, feed the result back at once."""
    if method not in ContactMethod.values:
        raise InvalidInput(_("请选择联系方式。"))
    if contacted_at is None:
        raise InvalidInput(_("请填写联系时间。"))
    now = timezone.now()
    if contacted_at > now + dt.timedelta(minutes=5):
        raise InvalidInput(_("联系时间不能晚于现在。"))
    with transaction.atomic():
        locked = _lock(request)
        if not may_handle(actor, locked):
            raise PermissionDenied(_("只有承办人或负责人可以登记联系情况。"))
        if locked.contacted_at is not None:
            raise StaleState(_("已登记过联系情况。"))
        if contacted_at < locked.created_at:
            raise InvalidInput(_("联系时间不能早于当事人提出请求的时间。"))
        assert locked.first_timer is not None
        locked.contacted_by, locked.contacted_at, locked.contact_method = actor, contacted_at, method
        locked.contact_note = note.strip()
        locked.contacted_on_time = contacted_at <= locked.first_timer.due_at
        locked.status = ContactStatus.CONTACTED
        locked.save(
            update_fields=[
                "contacted_by",
                "contacted_at",
                "contact_method",
                "contact_note",
                "contacted_on_time",
                "status",
            ]
        )
        timer_stop_for_entry(timer=locked.first_timer, at=now, actor=actor, reason="contacted")
        audit_append(
            kind="contact.reached",
            actor=actor,
            case=locked.case,
            data={
                "request": locked.pk,
                "method": method,
                "contacted_at": contacted_at.isoformat(),
                "on_time": locked.contacted_on_time,
            },
        )
        if result.strip():
            _answer(locked, actor=actor, result=result, now=now)
    return locked


def contact_request_answer(*, request: ContactRequest, actor: User | None, result: str) -> ContactRequest:
    """Feed the result back to the party (in-app and SMS); stops the feedback clock."""
    with transaction.atomic():
        locked = _lock(request)
        if not may_handle(actor, locked):
            raise PermissionDenied(_("只有承办人或负责人可以反馈办理结果。"))
        if locked.contacted_at is None:
            raise StaleState(_("请先登记与当事人的联系情况。"))
        _answer(locked, actor=actor, result=result, now=timezone.now())
    return locked


def _answer(request: ContactRequest, *, actor: User | None, result: str, now: dt.datetime) -> None:
    result = result.strip()
    if not result:
        raise InvalidInput(_("请写明办理结果。"))
    if len(result) > RESULT_MAX:
        raise InvalidInput(_("办理结果请控制在 %(max)d 字以内。") % {"max": RESULT_MAX})
    if request.answered_at is not None:
        raise StaleState(_("已反馈过办理结果。"))
    assert request.feedback_timer is not None
    request.result, request.answered_at = result, now
    request.answered_on_time = now <= request.feedback_timer.due_at
    request.status = ContactStatus.ANSWERED
    request.save(update_fields=["result", "answered_at", "answered_on_time", "status"])
    timer_stop_for_entry(timer=request.feedback_timer, at=now, actor=actor, reason="answered")
    audit_append(
        kind="contact.answered",
        actor=actor,
        case=request.case,
        data={"request": request.pk, "on_time": request.answered_on_time},
    )
    case = request.case
    # The SMS says where to read the result, not the result itself (an SMS leaves our hands).
    subject = _("联系请求已有办理结果：案件%(ref)s") % {"ref": case.reference}
    text = _("您提出的联系请求（%(category)s）已有办理结果，请登录查看。") % {
        "category": ContactCategory(request.category).label
    }
    link = nt.site_url("contact_requests", args=(case.pk,))
    context = {"subject": subject, "text": text, "link": link}
    key = f"contact:{request.pk}:answered"
    party = request.party
    readers = [u for u in (party.user, request.requested_by) if u is not None]
    for user in {u.pk: u for u in readers}.values():
        outbox_enqueue(
            channel=MessageChannel.IN_APP,
            address="",
            template=nt.GENERIC,
            recipient=user,
            case=case,
            context=context,
            idempotency_key=f"{key}:{user.pk}:inapp",
        )
    phone = party.phone or (party.user.phone if party.user else "")
    if phone:
        outbox_enqueue(
            channel=MessageChannel.SMS,
            address=phone,
            template=nt.GENERIC,
            recipient=party.user,
            case=case,
            context=context,
            idempotency_key=f"{key}:party{party.pk}:sms",
        )


def contact_timer_expired(*, timer: Timer, now: dt.datetime) -> None:
    """Called by the sweep inside the transaction that fired ``timer``: tell the head. A lapsed first contact
    escalates the request (the head may take it); a lapsed feedback is recorded and the head told again."""
    if timer.kind == TimerKind.CONTACT_FIRST:
        request = ContactRequest.objects.filter(first_timer=timer).first()
    else:
        request = ContactRequest.objects.filter(feedback_timer=timer).first()
    if request is None:
        return
    request = (
        ContactRequest.objects.select_for_update(of=("self",))
        .select_related("case", "case__court", "case__mediation_organisation", "party")
        .get(pk=request.pk)
    )
    organisation, role = _head_organisation(request)
    case = request.case
    if timer.kind == TimerKind.CONTACT_FIRST:
        if request.contacted_at is not None:
            return
        request.status = ContactStatus.ESCALATED
        kind, text = (
            "contact.escalated",
            _("当事人%(name)s的联系请求（%(category)s）已超过1个工作日未联系，请督促承办人或接手办理。"),
        )
    else:
        if request.answered_at is not None:
            return
        kind, text = (
            "contact.feedback_overdue",
            _("当事人%(name)s的联系请求（%(category)s）已超过2个工作日未反馈办理结果，请督促承办人。"),
        )
    request.escalated_at = request.escalated_at or now
    request.escalated_to = organisation
    request.save(update_fields=["status", "escalated_at", "escalated_to"])
    heads = _members(organisation.pk, (role,))
    audit_append(
        kind=kind,
        actor=None,
        case=case,
        data={
            "request": request.pk,
            "timer": timer.pk,
            "organisation": organisation.pk,
            "role": role,
            "heads": [u.pk for u in heads],
        },
    )
    _notify_users(
        users=heads,
        case=case,
        key=f"contact:{request.pk}:{kind}",
        subject=_("联系请求逾期：案件%(ref)s") % {"ref": case.reference},
        text=text % {"name": request.party.name, "category": ContactCategory(request.category).label},
        link=_queue_link(),
    )
