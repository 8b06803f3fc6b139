"""In-app browsers (WeChat, WeCom, QQ, Weibo, DingTalk, Alipay, Douyin, Feishu): the SMS and chat links to a room are
opened there, and those browsers refuse or silently break the camera and microphone. The room's way in shows such a
browser a page that says how to open the same link in the phone's own browser (with a copy button), and a way to go
on here anyway. The room's script tells the same browsers apart (frontend/static/frontend/room/phone.js)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

IN_APP: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("wecom", "企业微信", re.compile(r"wxwork", re.I)),
    ("wechat", "微信", re.compile(r"micromessenger", re.I)),
    ("qq", "QQ", re.compile(r"\bQQ/\d", re.I)),
    ("weibo", "微博", re.compile(r"weibo", re.I)),
    ("dingtalk", "钉钉", re.compile(r"dingtalk", re.I)),
    ("alipay", "支付宝", re.compile(r"alipayclient|aliapp", re.I)),
    ("douyin", "抖音", re.compile(r"aweme|bytedancewebview|toutiao", re.I)),
    ("feishu", "飞书", re.compile(r"lark|feishu", re.I)),
)
CONTINUE_PARAM = "inapp"
CONTINUE_VALUE = "continue"
CONTINUE_KEY = "inapp_continue"


def in_app_browser(user_agent: str) -> tuple[str, str] | None:
    """``(key, app name)`` of the in-app browser ``user_agent`` belongs to, or None for an ordinary browser."""
    for key, name, pattern in IN_APP:
        if pattern.search(user_agent or ""):
            return key, name
    return None


def _link_without_continue(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop(CONTINUE_PARAM, None)
    query = params.urlencode()
    return request.build_absolute_uri(request.path + (f"?{query}" if query else ""))


def open_in_browser(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Before the room's way in (and before signing in): an in-app browser gets the guidance page with this very
    link; ``?inapp=continue`` goes on here anyway, and the session remembers it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        app = in_app_browser(request.headers.get("user-agent", ""))
        if app is not None and request.method == "GET" and not request.session.get(CONTINUE_KEY):
            if request.GET.get(CONTINUE_PARAM) != CONTINUE_VALUE:
                link = _link_without_continue(request)
                params = request.GET.copy()
                params[CONTINUE_PARAM] = CONTINUE_VALUE
                return render(
                    request,
                    "frontend/rooms/open_in_browser.html",
                    {
                        "app": app[1],
                        "app_key": app[0],
                        "link": link,
                        "continue_url": f"{request.path}?{urlencode(params, doseq=True)}",
                    },
                )
            request.session[CONTINUE_KEY] = True
        return view(request, *args, **kwargs)

    return wrapper
