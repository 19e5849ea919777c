"""The provisioning link in a real browser: the code rides in the fragment, the page's static script posts it,
and the server never sees it in a URL."""

from __future__ import annotations

import pytest

from kiosk.models import KioskCredential, KioskProvisioningCode
from kiosk.services.credentials import kiosk_provisioning_code_create
from tests.factories import KioskFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_provisioning_link_with_the_code_in_the_fragment(live_server, browser_factory):
    kiosk = KioskFactory(name="Fragment kiosk")
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    page = browser_factory().new_context().new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Security Policy" in message.text else None,
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{live_server.url}/kiosk/provision/#{raw}")
    assert page.input_value("#provision-code") == raw
    assert "#" not in page.url  # dropped from the address bar and history
    assert KioskProvisioningCode.objects.get().used_at is None  # opening the link burns nothing
    page.click("#provision-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/kiosk/")

    assert KioskCredential.objects.filter(kiosk=kiosk, revoked_at__isnull=True).count() == 1
    assert not any(raw in url for url in requested), requested
    assert not problems, problems  # no script error, no CSP violation: the script is a static file
