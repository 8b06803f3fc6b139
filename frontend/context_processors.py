"""Navigation that follows what the signed-in person does: one query for their memberships and their unread
in-app messages."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from mediation.choices import Role
from mediation.selectors.inbox import navigation_roles_and_unread


def navigation(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    roles, unread = navigation_roles_and_unread(user=user)
    links = [(_("我的案件"), reverse("case_list"))]
    links.append((_("消息（%(n)d）") % {"n": unread} if unread else _("消息"), reverse("inbox")))
    if roles & {Role.CLERK, Role.COURT_PRESIDENT}:
        links.append((_("受理队列"), reverse("intake_queue")))
    if roles & {Role.JUDGE, Role.COURT_PRESIDENT}:
        links.append((_("司法确认"), reverse("court_inbox")))
    if Role.ORG_ADMIN in roles:
        links.append((_("组织待分案件"), reverse("intake_org_queue")))
    if Role.MEDIATOR in roles:
        links.append((_("我的调解"), reverse("intake_mine")))
        links.append((_("名册采用请求"), reverse("roster_adoptions")))
    if Role.CLERK in roles:
        links.append((_("跨域代办"), reverse("assisted_list")))
    if roles & {Role.CLERK, Role.COURT_PRESIDENT}:
        links.append((_("名册管理"), reverse("roster_manage")))
    if roles & {Role.CLERK, Role.COURT_PRESIDENT, Role.COMPLAINT_HANDLER}:
        links.append((_("投诉处理"), reverse("roster_complaint_list")))
    if roles & {Role.COURT_PRESIDENT, Role.ORG_ADMIN, Role.MEDIATOR}:
        links.append((_("统计"), reverse("statistics_home")))
    if roles & {Role.ORG_ADMIN, Role.CLERK, Role.JUDGE, Role.COURT_PRESIDENT}:
        links.append((_("实时看板"), reverse("live_view")))
    if roles & {Role.MEDIATOR, Role.JUDGE, Role.COURT_PRESIDENT, Role.ORG_ADMIN, Role.COMPLAINT_HANDLER}:
        links.append((_("联系请求"), reverse("contact_queue")))
    links.append((_("日历订阅"), reverse("calendar_subscribe")))
    return {"nav_links": links}


ELDER_COOKIE = "yizhan_elder"


def elder_mode_for(request: HttpRequest) -> bool:
    """Whether this request's page is drawn in the elder mode (长辈版): the account's setting when signed in,
    else the cookie. Read on the server, so the page arrives already large (no flash of the normal page)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return bool(getattr(user, "elder_mode", False))
    return request.COOKIES.get(ELDER_COOKIE) == "1"


def elder(request: HttpRequest) -> dict[str, bool]:
    """``elder_mode`` for base.html: the class on <html> and the switch's state."""
    return {"elder_mode": elder_mode_for(request)}
