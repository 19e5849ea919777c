"""Security headers on the pages people and kiosks open: CSP everywhere, framing refused, and under production
variables (DEBUG=false, in a subprocess like tests/test_deploy.py) HSTS, an HTTPS redirect and Secure
cookies."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kiosk.services.credentials import kiosk_provisioning_code_create
from tests.test_deploy import PRODUCTION_ENV, _manage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(kiosk, teller):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    kiosk_browser = Client()
    kiosk_browser.post("/kiosk/provision/", {"code": raw})
    staff = Client()
    staff.force_login(teller)
    return {
        "/kiosk/": kiosk_browser,
        "/kiosk/?lang=ru": kiosk_browser,
        "/kiosk/provision/": Client(),
        "/branch/": staff,
        "/admin/": staff,
        "/admin/login/": Client(),
        "/api/docs/": staff,
    }


@pytest.mark.parametrize(
    "path",
    [
        "/kiosk/",
        "/kiosk/?lang=ru",
        "/kiosk/provision/",
        "/branch/",
        "/admin/",
        "/admin/login/",
        "/api/docs/",
    ],
)
def test_csp_and_framing_headers(pages, path):
    response = pages[path].get(path)
    assert response.status_code == 200, (path, response.status_code)
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline scripts, no CDN
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_api_errors_carry_the_same_headers(db):
    response = Client().get("/api/kiosk/me/")
    assert response.status_code == 401
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


PROBE = """
import json
from django.test import Client
from django.conf import settings
# No collectstatic in the test: the manifest storage would refuse to render the admin's CSS links.
settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
client = Client()
plain = client.get("/admin/login/", HTTP_HOST="atm.example-bank.com")
secure = client.get("/admin/login/", secure=True, HTTP_HOST="atm.example-bank.com")
csrf = secure.cookies.get(settings.CSRF_COOKIE_NAME)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "xfo": secure.get("X-Frame-Options", ""),
    "csrf_cookie_secure": bool(csrf and csrf["secure"]),
    "csrf_cookie_httponly": bool(csrf and csrf["httponly"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "kiosk_cookie_secure": not settings.DEBUG,
}))
"""


def test_production_headers_and_cookies():
    result = _manage("shell", "-c", PROBE, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["plain_status"] == 301 and facts["plain_location"].startswith("https://")
    assert facts["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "frame-ancestors 'none'" in facts["csp"]
    assert facts["xfo"] == "DENY"
    assert facts["csrf_cookie_secure"] and facts["csrf_cookie_httponly"]
    assert facts["session_cookie_secure"] and facts["session_cookie_httponly"]
    assert facts["kiosk_cookie_secure"]
