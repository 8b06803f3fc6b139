"""The browser's guard rails: a Content-Security-Policy on every HTML page (no inline script, handler or style
anywhere, so the templates may hold none), camera and microphone on the room's pages only, and the text of
every script in the JavaScript catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, reverse

from config.security import HtmlCSPMiddleware
from frontend import urls as frontend_urls
from tests.frontend.test_i18n import _entries
from tests.frontend.test_rooms_views import walk_in
from tests.room_support import open_room

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "frontend" / "templates", ROOT / "documents" / "templates"]
# Rendered to PDF by WeasyPrint and never served to a browser: their <style> is the print layout.
PDF_ONLY = {"documents/base.html", "frontend/service/certificate_pdf.html"}
STATIC_JS = ROOT / "frontend" / "static" / "frontend"
JS_PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "djangojs.po"


def _templates() -> list[tuple[str, str]]:
    found = []
    for base in TEMPLATE_DIRS:
        for path in sorted(base.rglob("*.html")):
            found.append((str(path.relative_to(base)), path.read_text(encoding="utf-8")))
    assert len(found) > 50
    return found


# --- the templates ----------------------------------------------------------------------------------------

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.S)


@pytest.mark.parametrize(("name", "text"), _templates(), ids=lambda v: v if v.endswith(".html") else "")
def test_no_template_has_an_inline_script_or_event_handler(name, text):
    for attributes, body in SCRIPT.findall(text):
        if 'type="application/json"' in attributes:
            continue  # data, never executed
        assert "src=" in attributes, f"{name}: an inline <script> (move it to a static file)"
        assert not body.strip(), f"{name}: a <script src> with a body"
    assert not HANDLER.search(text), f"{name}: an on…= attribute (use a data attribute and site.js)"
    assert "javascript:" not in text, f"{name}: a javascript: URL"


@pytest.mark.parametrize(("name", "text"), _templates(), ids=lambda v: v if v.endswith(".html") else "")
def test_no_served_template_has_an_inline_style(name, text):
    if name in PDF_ONLY:
        return
    assert not re.search(r"\sstyle\s*=", text), f"{name}: a style= attribute (style-src allows no inline style)"
    assert "<style" not in text, f"{name}: a <style> element"


def test_the_scan_catches_what_it_looks_for():
    assert SCRIPT.findall("<script>alert(1)</script>") == [("", "alert(1)")]
    assert HANDLER.search('<select name="x"\n  onchange="this.form.submit()">')
    assert not HANDLER.search('<button data-confirm="decline">')


# --- every HTML page ----------------------------------------------------------------------------------------


def _routes(patterns: list[URLPattern | URLResolver]) -> list[URLPattern]:
    out: list[URLPattern] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            out += _routes(entry.url_patterns)
        else:
            out.append(entry)
    return out


def _assert_strict_csp(response, where):
    policy = response.headers.get("Content-Security-Policy", "")
    assert policy, f"{where}: no Content-Security-Policy"
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'", where
    assert directives["style-src"] == "'self'", where
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, where
    assert directives["object-src"] == "'none'", where
    assert "blob:" in directives["media-src"], where


@pytest.mark.django_db
def test_every_html_page_of_the_url_table_answers_with_the_csp(world, client):
    """Walks frontend/urls.py with GET as several people of the test world; every route's path arguments are
    filled with objects of one case (a room, its session) or a plausible value, so most pages answer 200 and
    the rest answer their own 403/404 page, which is HTML too and must carry the header as well."""
    case, session, room = open_room(world)
    values = {"case_id": case.pk, "room_id": room.pk, "session_id": session.pk, "step": "dispute",
              "token": "no-such-token"}
    routes = _routes(frontend_urls.urlpatterns)
    assert len(routes) > 60
    pages = 0
    ok = set()
    for user in (world.applicant, world.mediator, world.clerk, world.org_admin):
        client.force_login(user)
        for route in routes:
            names = re.findall(r"<(?:\w+:)?(\w+)>", str(route.pattern))
            url = reverse(route.name, kwargs={n: values.get(n, 1) for n in names})
            response = client.get(url)
            if response.headers.get("Content-Type", "").startswith("text/html"):
                pages += 1
                _assert_strict_csp(response, f"{url} as {user.username}")
                if response.status_code == 200:
                    ok.add(route.name)
    assert pages > 100
    assert len(ok) > 30, sorted(ok)
    for name in ("home", "case_detail", "case_list", "inbox", "calendar_subscribe", "room_join_identity",
                 "room_invite"):
        assert name in ok


@pytest.mark.django_db
def test_sign_in_admin_and_error_pages_carry_the_csp_too(world, client, admin_client):
    _assert_strict_csp(client.get(reverse("login")), "login")
    _assert_strict_csp(admin_client.get(reverse("admin:index")), "admin")
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    _assert_strict_csp(missing, "404")


def test_a_pdf_is_left_without_the_policy_chromium_shows_it_in_a_page_of_inline_styles():
    request = RequestFactory().get("/service/1/certificate.pdf")
    middleware = HtmlCSPMiddleware(lambda r: HttpResponse(b"%PDF-1.7", content_type="application/pdf"))
    assert "Content-Security-Policy" not in middleware(request).headers
    html = HtmlCSPMiddleware(lambda r: HttpResponse("<p>hi</p>"))(request)
    assert "script-src 'self'" in html.headers["Content-Security-Policy"]


# --- camera and microphone ---------------------------------------------------------------------------------


def _features(response) -> dict[str, str]:
    header = response.headers.get("Permissions-Policy", "")
    return dict(item.strip().split("=", 1) for item in header.split(",") if item.strip())


@pytest.mark.django_db
def test_camera_and_microphone_are_allowed_on_the_device_check_and_the_room_only(world, client):
    case, _session, room = open_room(world)
    walk_in(client, room, world.applicant)
    for name in ("room_join_device", "room_page"):
        response = client.get(reverse(name, args=[room.pk]))
        assert response.status_code == 200, name
        features = _features(response)
        assert features["camera"] == "(self)", name
        assert features["microphone"] == "(self)", name
        assert features["geolocation"] == "()", name
    for url in (reverse("home"), reverse("case_detail", args=[case.pk]), reverse("room_invite", args=[room.pk]),
                reverse("room_join_identity", args=[room.pk]), reverse("room_join_notices", args=[room.pk])):
        features = _features(client.get(url))
        assert features["camera"] == "()", url
        assert features["microphone"] == "()", url


# --- the JavaScript catalogue ---------------------------------------------------------------------------------

GETTEXT = re.compile(r"""\bgettext\(\s*"((?:[^"\\]|\\.)*)"\s*\)""")


def test_every_script_text_is_in_the_english_catalogue_and_translated():
    catalogue = dict(_entries(JS_PO.read_text(encoding="utf-8")))
    used = {text for path in STATIC_JS.rglob("*.js") for text in GETTEXT.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 60
    assert sorted(used - set(catalogue)) == [], "run makemessages -d djangojs (see README.md)"
    assert [msgid for msgid, msgstr in catalogue.items() if not msgstr] == []


def test_no_script_carries_text_of_its_own_language():
    """Chinese outside gettext() would be text the catalogue cannot translate."""
    for path in STATIC_JS.rglob("*.js"):
        if "vendor" in path.parts:  # third-party libraries as published (ECharts), not our text
            continue
        code = GETTEXT.sub("", path.read_text(encoding="utf-8"))
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
        leftover = re.findall(r"""["'`][^"'`\n]*[\u4e00-\u9fff][^"'`\n]*["'`]""", code)
        assert leftover == [], f"{path.name}: {leftover}"


@pytest.mark.django_db
def test_the_catalogue_answers_in_the_page_language(client):
    chinese = client.get(reverse("javascript-catalog"))
    assert chinese.status_code == 200
    assert chinese.headers["Content-Type"].startswith("text/javascript")
    english = client.get("/en/jsi18n/").content.decode()
    assert "Connection lost. Reconnecting" in english
    assert "Applicant side" in english


@pytest.mark.django_db
def test_english_room_pages_load_the_english_catalogue(world, client):
    _case, _session, room = open_room(world)
    walk_in(client, room, world.mediator)
    page = client.get(reverse("room_page", args=[room.pk]).replace("/rooms/", "/en/rooms/", 1))
    assert page.status_code == 200
    assert '<script src="/en/jsi18n/"></script>' in page.content.decode()
