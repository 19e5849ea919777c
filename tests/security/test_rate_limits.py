"""Rate limits per kiosk (frames, session starts, OTP requests and checks) and per IP (provisioning link):
over the limit → 429 {"code": "rate_limited", "detail"} and nothing written. Time is frozen so the fixed
windows of django-ratelimit cannot roll over in the middle of a test. Once on local memory, once on Redis."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from kiosk.models import KioskProvisioningCode
from kiosk.services.credentials import kiosk_credential_rotate, kiosk_provisioning_code_create
from tests.factories import KioskFactory
from tests.kiosk.conftest import KioskDriver
from tests.support import environment

from .helpers import assert_nothing_written, db_picture

pytestmark = pytest.mark.django_db


def _limited(response) -> None:
    assert response.status_code == 429, (response.status_code, response.content[:200])
    body = response.json()
    assert body["code"] == "rate_limited"
    assert "Too many requests" in body["detail"]
    assert response.headers.get("Retry-After") == "1"


@pytest.fixture
def frozen():
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


def _allowed(setting: str) -> int:
    return int(getattr(django_settings, setting).split("/")[0])


def test_default_rates_are_the_documented_ones():
    documented = {
        "RATELIMIT_KIOSK_FRAMES": "10/s",
        "RATELIMIT_KIOSK_SESSIONS": "30/m",
        "RATELIMIT_KIOSK_OTP_REQUESTS": "6/m",
        "RATELIMIT_KIOSK_OTP_VERIFIES": "20/m",
        "RATELIMIT_KIOSK_PROVISION_IP": "10/m",
    }
    assert {name: getattr(django_settings, name, None) for name in documented} == documented


def test_frames_are_limited_to_ten_a_second_per_kiosk(frozen, driver, alice_card, alice_pan, face_script):
    face_script.play("no_match")
    driver.start(alice_pan)
    for _ in range(_allowed("RATELIMIT_KIOSK_FRAMES")):
        assert driver.frame().status_code == 200
    before = db_picture()
    _limited(driver.frame())
    assert_nothing_written(before)
    # Another kiosk has its own budget.
    _credential, token = kiosk_credential_rotate(kiosk=KioskFactory(name="Neighbour"), actor=None)
    neighbour = APIClient()
    neighbour.credentials(HTTP_AUTHORIZATION=f"Kiosk {token}")
    other = KioskDriver(neighbour)
    assert other.start(alice_pan).status_code == 201
    assert other.frame().status_code == 200
    # The next second, the first kiosk may send again.
    frozen.shift(dt.timedelta(seconds=1))
    driver.status()
    assert driver.frame().status_code in (200, 409)  # 409: its session was replaced by the neighbour's start


def test_session_starts_are_limited_per_kiosk(frozen, driver, alice_card, alice_pan):
    for _ in range(_allowed("RATELIMIT_KIOSK_SESSIONS")):
        assert driver.start(alice_pan).status_code == 201
    before = db_picture()
    _limited(driver.start(alice_pan))
    assert_nothing_written(before)
    frozen.shift(dt.timedelta(minutes=1))
    assert driver.start(alice_pan).status_code == 201


def test_otp_requests_and_checks_are_limited_per_kiosk(
    frozen, driver, alice_card, alice_pan, face_script, outbox, settings
):
    settings.OTP_MAX_SENDS = 100  # the per-card send limit (tested in tests/kiosk) is not what is tested here
    settings.OTP_COOLDOWN_AFTER = 1000
    settings.OTP_MAX_ATTEMPTS = 1000
    face_script.play("several_faces")
    driver.start(alice_pan)
    driver.frame()
    for _ in range(_allowed("RATELIMIT_KIOSK_OTP_REQUESTS")):
        assert driver.post("otp").status_code == 200
    before = db_picture()
    sent = len(outbox)
    _limited(driver.post("otp"))
    assert len(outbox) == sent  # no message went out
    for _ in range(_allowed("RATELIMIT_KIOSK_OTP_VERIFIES")):
        assert driver.post("otp/verify", {"code": "000000"}).status_code in (400,)
    before = db_picture()
    _limited(driver.post("otp/verify", {"code": "000000"}))
    assert_nothing_written(before)


def test_provisioning_posts_are_limited_per_ip(kiosk, frozen):
    _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(_allowed("RATELIMIT_KIOSK_PROVISION_IP")):
        assert attacker.post("/kiosk/provision/", {"code": uuid.uuid4().hex}).status_code == 400
    before = db_picture()
    limited = attacker.post("/kiosk/provision/", {"code": raw})
    assert limited.status_code == 429
    assert b"Too many attempts" in limited.content
    assert KioskProvisioningCode.objects.get().used_at is None  # even the right code is not redeemed
    assert_nothing_written(before)
    # Another address (the real kiosk) is not affected.
    assert Client(REMOTE_ADDR="198.51.100.7").post("/kiosk/provision/", {"code": raw}).status_code == 302


def test_rate_can_be_tuned_in_settings(frozen, driver, alice_card, alice_pan, settings):
    settings.RATELIMIT_KIOSK_SESSIONS = "2/m"
    assert driver.start(alice_pan).status_code == 201
    assert driver.start(alice_pan).status_code == 201
    _limited(driver.start(alice_pan))


def test_limits_are_shared_through_redis(frozen, driver, alice_card, alice_pan, face_script):
    """With REDIS_URL the limits live in Redis, so every gunicorn worker and host counts together."""
    url = environment.redis_url()
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"ratelimit-test-{uuid.uuid4().hex}",
        }
    }
    face_script.play("no_match")
    with override_settings(CACHES=redis_cache):
        from django.core.cache import caches

        cache = caches["default"]
        assert type(cache).__name__ == "RedisCache"
        driver.start(alice_pan)
        for _ in range(_allowed("RATELIMIT_KIOSK_FRAMES")):
            assert driver.frame().status_code == 200
        # A second process (here: a second client of the same kiosk) sees the same count.
        _limited(driver.frame())
        keys = cache._cache.get_client().keys(f"{redis_cache['default']['KEY_PREFIX']}*")
        assert keys, "the counter is in Redis"
        cache._cache.get_client().delete(*keys)
