"""Pages around the tasks: Swagger UI under the CSP, the 403 page, the favicon, dates with their zone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def test_api_docs_have_no_inline_script_and_serve_their_start_script(client, administrator):
    client.force_login(administrator)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert not INLINE_SCRIPT.search(html), "the CSP (script-src 'self') blocks inline scripts"
    assert "script-src 'self'" in page["Content-Security-Policy"]
    script_url = re.search(r'<script src="(/api/docs/\?[^"]*script[^"]*)"', html)
    assert script_url is not None
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert b"SwaggerUIBundle" in script.content


def test_forbidden_page_offers_a_way_back(client, auditor):
    client.force_login(auditor)
    answer = client.get(reverse("branch:home"), HTTP_REFERER="http://testserver/admin/")
    assert answer.status_code == 403
    html = answer.content.decode()
    assert 'href="/admin/"' in html and "not allowed" in html
    assert "favicon.svg" in html


@pytest.mark.parametrize("url_name", ["admin:index", "branch:home"])
def test_every_base_template_links_the_favicon(client, teller, url_name):
    client.force_login(teller)
    assert "img/favicon.svg" in client.get(reverse(url_name)).content.decode()


def test_favicon_ico_is_not_a_404(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"].endswith("img/favicon.svg")


def test_admin_dates_name_the_time_zone(client, teller, alice, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    client.force_login(teller)
    html = client.get(reverse("admin:accounts_customer_changelist")).content.decode()
    assert re.search(r"\d{1,2}:\d{2} (CET|CEST)", html), "created_at shows the bank's zone"
    assert "Europe/Berlin" in html


def test_russian_admin_dates_use_the_russian_format(client, teller, alice, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    client.force_login(teller)
    client.cookies["django_language"] = "ru"
    html = client.get(
        reverse("admin:accounts_customer_changelist"), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert re.search(r"\d{1,2} [а-я]+ \d{4} г\. \d{1,2}:\d{2} MSK", html)
