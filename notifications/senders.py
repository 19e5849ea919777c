"""How one-time codes and notices reach the customer: WhatsApp through Twilio, or a development/test stand-in.

Used by accounts (notices, phone checks), kiosk (codes) and portal (sign-in codes, alerts): it sits below
them all, so none of them has to import another to reach the customer.

settings.OTP_SENDER picks one: "twilio" (production), "console" (development only: logs the message, refused
with DEBUG off) or "test" (an in-memory outbox for the test suite).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)


class OtpSendError(Exception):
    """The message could not be handed over; `reason` is safe to log (never contains the message body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OtpSender(Protocol):
    def send(self, *, phone: str, body: str) -> None: ...


class TwilioWhatsAppSender:
    def __init__(self) -> None:
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM")
            if not getattr(settings, name, "")
        ]
        if missing:
            raise ImproperlyConfigured(f"OTP_SENDER=twilio needs {', '.join(missing)}")

    def send(self, *, phone: str, body: str) -> None:
        import requests
        from twilio.base.exceptions import TwilioException
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        # A bounded timeout: the kiosk waits for this call while the session row is locked.
        http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_S)
        client = Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
        sender = settings.TWILIO_WHATSAPP_FROM
        if not sender.startswith("whatsapp:"):
            sender = f"whatsapp:{sender}"
        try:
            message = client.messages.create(from_=sender, to=f"whatsapp:{phone}", body=body)
        except TwilioException as error:
            reason = f"Twilio refused the message: {type(error).__name__} {getattr(error, 'code', '')}"
            raise OtpSendError(reason) from None
        except (requests.RequestException, OSError) as error:
            raise OtpSendError(f"Twilio unreachable: {type(error).__name__}") from None
        logger.info("WhatsApp OTP handed to Twilio (sid %s)", getattr(message, "sid", "?"))


class ConsoleSender:
    """Development only: writes the message (with the code) to the server log. Refused when DEBUG is off."""

    def __init__(self) -> None:
        if not settings.DEBUG:
            raise ImproperlyConfigured("The console OTP sender logs codes and is refused when DEBUG is off")

    def send(self, *, phone: str, body: str) -> None:
        # Deliberate: the only place a code is ever logged, and only in development.
        logger.warning("DEV OTP (console sender) to whatsapp:%s: %s", phone, body)


@dataclass(frozen=True)
class SentMessage:
    phone: str
    body: str


class TestSender:
    """The test suite's sender: messages land in the class-level `outbox` (cleared by the tests)."""

    __test__ = False  # not a pytest test class
    outbox: ClassVar[list[SentMessage]] = []

    def send(self, *, phone: str, body: str) -> None:
        self.outbox.append(SentMessage(phone=phone, body=body))


def otp_sender_get() -> OtpSender:
    name = getattr(settings, "OTP_SENDER", "console")
    if name == "twilio":
        return TwilioWhatsAppSender()
    if name == "console":
        return ConsoleSender()
    if name == "test":
        return TestSender()
    raise ImproperlyConfigured(f"Unknown OTP_SENDER {name!r} (twilio, console or test)")
