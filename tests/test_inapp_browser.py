"""In-app browsers (WeChat, QQ, Weibo, DingTalk, Alipay, …) get a page that says how to open the room's link in the
phone's own browser, with the same link to copy; ordinary phone browsers go straight on; ``?inapp=continue`` goes on
here anyway and is remembered for the session."""

from __future__ import annotations

import pytest

from frontend.inapp import in_app_browser
from tests.room_support import open_room

pytestmark = pytest.mark.django_db

WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.38(0x1800262c) NetType/4G Language/zh_CN"
)
IN_APP = {
    "微信": WECHAT,
    "企业微信": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) Mobile/15E148 wxwork/4.1.6 "
    "MicroMessenger/7.0.1",
    "QQ": "Mozilla/5.0 (Linux; Android 11; PDEM10; wv) Chrome/89.0.4389.72 MQQBrowser/6.2 TBS/046011 Mobile "
    "Safari/537.36 "
    "V1_AND_SQ_8.8.50_2324_YYB_D QQ/8.8.50.6735 NetType/WIFI",
    "微博": "Mozilla/5.0 (iPhone; CPU iPhone OS 15_4 like Mac OS X) Mobile/15E148 Weibo (iPhone13,2__weibo__12.5.1)",
    "钉钉": "Mozilla/5.0 (Linux; U; Android 10; ELS-AN00) Chrome/69.0.3497.100 AliApp(DingTalk/6.3.25) "
    "com.alibaba.android.rimet",
    "支付宝": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) Mobile/15E148 AlipayClient/10.3.10.6000 "
    "Language/zh-Hans",
}
ORDINARY = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 10; zh-CN; MI 9) Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
    "",
]


@pytest.mark.parametrize(("name", "ua"), IN_APP.items())
def test_in_app_user_agents_are_recognised(name: str, ua: str) -> None:
    found = in_app_browser(ua)
    assert found is not None and found[1] == name


@pytest.mark.parametrize("ua", ORDINARY)
def test_ordinary_browsers_are_not(ua: str) -> None:
    assert in_app_browser(ua) is None


@pytest.mark.parametrize("name", list(IN_APP))
def test_room_link_in_an_in_app_browser_gets_the_guidance_page_with_the_same_link(client, world, name) -> None:
    _case, session, room = open_room(world)
    client.force_login(world.applicant)
    for path in (f"/sessions/{session.pk}/room/", f"/rooms/{room.pk}/join/", f"/rooms/{room.pk}/"):
        response = client.get(path, HTTP_USER_AGENT=IN_APP[name])
        assert response.status_code == 200, path
        html = response.content.decode()
        assert "点右上角 ··· → 在浏览器打开" in html
        assert f"您正在{name}内打开调解室链接" in html
        assert f'value="http://testserver{path}"' in html, "the very link the person opened, to copy"
        assert 'id="inapp-copy"' in html and "复制链接" in html


def test_signed_out_in_app_browser_is_guided_before_the_sign_in(client, world) -> None:
    _case, session, _room = open_room(world)
    response = client.get(f"/sessions/{session.pk}/room/", HTTP_USER_AGENT=WECHAT)
    assert response.status_code == 200
    assert "在浏览器打开" in response.content.decode()


def test_ordinary_browser_goes_straight_to_the_way_in(client, world) -> None:
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    response = client.get(f"/rooms/{room.pk}/join/", HTTP_USER_AGENT=ORDINARY[0])
    assert response.status_code == 302
    assert "/join/identity/" in response["Location"]


def test_continue_here_anyway_goes_on_and_is_remembered(client, world) -> None:
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    guide = client.get(f"/rooms/{room.pk}/join/", HTTP_USER_AGENT=WECHAT).content.decode()
    assert f'href="/rooms/{room.pk}/join/?inapp=continue"' in guide
    response = client.get(f"/rooms/{room.pk}/join/?inapp=continue", HTTP_USER_AGENT=WECHAT)
    assert response.status_code == 302 and "/join/identity/" in response["Location"]
    again = client.get(f"/rooms/{room.pk}/join/", HTTP_USER_AGENT=WECHAT)
    assert again.status_code == 302, "the session remembers the choice"


def test_the_guidance_page_keeps_other_query_parameters_but_not_the_continue_switch(client, world) -> None:
    _case, _session, room = open_room(world)
    client.force_login(world.applicant)
    html = client.get(f"/rooms/{room.pk}/join/?from=sms", HTTP_USER_AGENT=WECHAT).content.decode()
    assert f'value="http://testserver/rooms/{room.pk}/join/?from=sms"' in html
