"""Interpreters and helpers linked to a party (issue 18 item 4; PML 20; SIM 17).

The case's mediator invites an interpreter (口译, 手语翻译, 外语翻译) or a helper (a family member of an elderly
party, a person PML 20 lets a mediator invite) for one party of the case. The person is a ``CaseHelper``: like
an agent, linked to the party they assist (``assists``). In a room they take that party's side, so they come
in and go out with it, caucus included (``room_controls``); they pass the same identity step as everyone
(the session code to their own phone); an interpreter accepts the 如实翻译 declaration before entering
(``room_entry.room_notices_acknowledge`` calls ``helper_declaration_record``). They never assent or sign
(``permissions.helper_refusal``).
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mediation import transitions as tr
from mediation.choices import HelperKind
from mediation.exceptions import InvalidInput, PermissionDenied
from mediation.lifecycle import TERMINAL_STATUSES
from mediation.models import Agent, Case, CaseHelper, CaseMediator, NoticeText, Party, User
from mediation.permissions import case_roles
from mediation.services.audit import audit_append
from mediation.services.identity import phone_hash
from mediation.validators import mask_phone, validate_mobile


def _invalid(message: str, field: str) -> InvalidInput:
    exc = InvalidInput(message)
    exc.field = field
    return exc


def _require_case_mediator(actor: User, case: Case) -> None:
    if tr.MEDIATOR not in case_roles(actor, case):
        raise PermissionDenied(_("只有本案调解员可以邀请翻译人员或协助人员。"), case=case)


def _user_for_phone(phone: str) -> User:
    """The account holding ``phone``, or a new phone-only account: the person signs in with a code sent to
    this number (``identity.user_login_by_phone`` finds the same account), as a party without an account does."""
    users = list(User.objects.filter(phone=phone).order_by("pk")[:2])
    if len(users) > 1:
        raise _invalid(_("该手机号码绑定了多个账户，无法确定被邀请人。请核实号码。"), "phone")
    if users:
        if not users[0].is_active:
            raise _invalid(_("该手机号码的账户已停用，不能邀请。"), "phone")
        return users[0]
    username = f"p{phone}"
    if User.objects.filter(username=username).exists():
        username = f"p{phone}-{secrets.token_hex(3)}"
    user = User(username=username, phone=phone)
    user.set_unusable_password()
    user.save()
    return user


def helper_invite(
    *,
    case: Case,
    assists: Party,
    kind: str,
    name: str,
    phone: str,
    actor: User,
    language: str = "",
    relation: str = "",
) -> CaseHelper:
    """The case's mediator invites an interpreter or helper for the party ``assists``. Refused to anyone else
    (the parties included: PML 20 gives the invitation to the mediator), for a party of another case, and for
    a person who already acts on the case (a party, an agent, a mediator) or already helps on it. The parties'
    consent to invited participants is asked on the way into the room and checked when the mediator admits
    the person (``room_controls.room_admit``)."""
    _require_case_mediator(actor, case)
    if assists.case_id != case.pk:
        raise PermissionDenied(_("该当事人不属于本案。"), case=case)
    if case.status in TERMINAL_STATUSES:
        raise InvalidInput(_("案件已结束，不能再邀请翻译人员或协助人员。"))
    if kind not in HelperKind.values:
        raise _invalid(_("请选择协助类型（口译、手语翻译、外语翻译、家属陪同协助或特邀人员）。"), "kind")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise _invalid(_("请填写被邀请人的姓名（不超过60字）。"), "name")
    phone = (phone or "").strip()
    try:
        validate_mobile(phone)
    except ValidationError as exc:
        raise _invalid(exc.messages[0], "phone") from exc
    language, relation = (language or "").strip()[:40], (relation or "").strip()[:40]
    if kind == HelperKind.FOREIGN_LANGUAGE and not language:
        raise _invalid(_("外语翻译请填写翻译的语言，如：英语。"), "language")
    with transaction.atomic():
        Case.objects.select_for_update().get(pk=case.pk)
        user = _user_for_phone(phone)
        if (
            Party.objects.filter(case=case, user=user).exists()
            or Agent.objects.filter(party__case=case, user=user).exists()
            or CaseMediator.objects.filter(case=case, mediator=user, is_active=True).exists()
        ):
            raise _invalid(_("该手机号码属于本案的当事人、代理人或调解员，不能同时担任翻译人员或协助人员。"), "phone")
        if CaseHelper.objects.filter(case=case, user=user, is_active=True).exists():
            raise _invalid(_("该人员已是本案的翻译人员或协助人员。"), "phone")
        try:
            with transaction.atomic():
                helper = CaseHelper.objects.create(
                    case=case,
                    assists=assists,
                    user=user,
                    kind=kind,
                    name=name,
                    phone=phone,
                    language=language,
                    relation=relation,
                    invited_by=actor,
                )
        except IntegrityError as exc:  # a concurrent invitation of the same person
            raise _invalid(_("该人员已是本案的翻译人员或协助人员。"), "phone") from exc
        audit_append(
            kind="helper.invited",
            actor=actor,
            case=case,
            data={
                "helper": helper.pk,
                "role": helper.role,
                "kind": kind,
                "name": name,
                "assists": assists.pk,
                "assists_name": assists.name,
                "side": assists.role,
                "phone": mask_phone(phone),
                "phone_hash": phone_hash(phone),
                "language": language,
                "relation": relation,
                "service": helper.service_label,
            },
        )
    return helper


def helper_withdraw(*, helper: CaseHelper, actor: User) -> CaseHelper:
    """The mediator ends the invitation: the person loses their place in the case's rooms at once (the room
    finds no place for them and refuses the next connection)."""
    case = Case.objects.get(pk=helper.case_id)
    _require_case_mediator(actor, case)
    with transaction.atomic():
        updated = CaseHelper.objects.filter(pk=helper.pk, is_active=True).update(is_active=False)
        helper.refresh_from_db()
        if updated:
            audit_append(
                kind="helper.withdrawn",
                actor=actor,
                case=case,
                data={"helper": helper.pk, "role": helper.role, "name": helper.name},
            )
    return helper


def helper_declaration_record(*, helper: CaseHelper, text: NoticeText) -> CaseHelper:
    """The interpreter accepted the 如实翻译 declaration ``text`` on the way into a room: record which version
    and when, on the helper's row (the documents name the declaration only when this is set) and in the
    case's audit trail. Called inside the caller's transaction."""
    now = timezone.now()
    CaseHelper.objects.filter(pk=helper.pk).update(
        declaration_code=text.code, declaration_version=text.version, declaration_accepted_at=now
    )
    helper.declaration_code, helper.declaration_version, helper.declaration_accepted_at = text.code, text.version, now
    audit_append(
        kind="helper.declaration_accepted",
        actor=helper.user,
        case=helper.case,
        data={
            "helper": helper.pk,
            "role": helper.role,
            "name": helper.name,
            "code": text.code,
            "version": text.version,
            "service": helper.service_label,
        },
    )
    return helper
