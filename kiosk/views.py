"""The kiosk page and the provisioning link. The page is static HTML + JS; all decisions are the API's."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from atmsite.errors import ApplicationError

from .authentication import kiosk_from_request
from .ratelimits import ip_rate_limit
from .selectors import available_notes
from .services.cash_in import deposit_denominations
from .services.credentials import kiosk_provisioning_code_redeem

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def _language_from_query(request: HttpRequest) -> str | None:
    lang = request.GET.get("lang", "")
    if lang in LANGUAGE_CODES:
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        return lang
    return None


def _remember_language(response: HttpResponse, lang: str | None) -> HttpResponse:
    if lang:
        # The API calls then answer in the same language (LocaleMiddleware reads this cookie).
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, max_age=365 * 24 * 3600, samesite="Strict")
    return response


def _card_expiry(pan: str) -> str:
    """MM/YY of the demo card with this number ("" if not seeded): a demo button reads a whole card."""
    from accounts.models import Card
    from accounts.pan import pan_hash

    expires_on = Card.objects.filter(pan_hmac=pan_hash(pan)).values_list("expires_on", flat=True).first()
    return expires_on.strftime("%m/%y") if expires_on else ""


def _strings() -> dict[str, str]:
    """Texts the script shows itself (everything else arrives translated from the API)."""
    return {
        "camera_error": _("The camera is not available. You can use a one-time code instead."),
        "network_error": _("Connection problem. Please try again."),
        "match": _("Match"),
        "welcome": _("Welcome, %(name)s!"),
        "verifying": _("Checking your face…"),
        "dispensing": _("Please take your cash."),
        "deposited": _("Deposit received."),
        "withdrawal": _("Withdrawal"),
        "deposit": _("Deposit"),
        "balance_after": _("Balance after"),
        "notes": _("Notes"),
        "no_transactions": _("No transactions yet."),
        "seconds_left": _("Time left: %(seconds)s s"),
        "otp_sent": _("A code was sent to your phone on WhatsApp."),
        "session_ended": _("Session ended. Take your card."),
        "session_ended_cardless": _("Session ended. Thank you."),
        "more_time": _("Do you need more time?"),
        "more_time_yes": _("Yes, I need more time"),
        "balance_title": _("Your balance"),
        "available_today": _("Available to withdraw today"),
        "statement_title": _("Last transactions"),
        "counted": _("Counted: %(amount)s"),
        "inserted": _("Inserted: %(notes)s"),
        "tray_empty": _("No notes inserted yet."),
        "notes_returned": _("Your notes have been returned."),
        "deposit_cancelled": _("Deposit cancelled"),
    }


@require_http_methods(["GET"])
def kiosk_page(request: HttpRequest) -> HttpResponse:
    lang = _language_from_query(request)
    kiosk = kiosk_from_request(request)
    if kiosk is None:
        return _remember_language(render(request, "kiosk/not_provisioned.html", status=403), lang)
    notes = available_notes(kiosk=kiosk)
    demo_cards = []
    if settings.DEBUG:
        # Development only: the demo bank's public card numbers, to try the kiosk without typing.
        from accounts.demo import DEMO_CUSTOMERS

        demo_cards = [
            {"pan": demo.pan, "expiry": expiry, "name": demo.full_name}
            for demo in DEMO_CUSTOMERS
            if (expiry := _card_expiry(demo.pan))
        ]
    config = {
        "api": "/api/kiosk/",
        "currency": kiosk.currency,
        "presets": settings.KIOSK_WITHDRAWAL_PRESETS,
        "smallest_note": notes[0] if notes else 1,
        "frames_required": settings.FACE_MATCH_FRAMES_REQUIRED,
        "frame_interval_ms": 200,
        "deposit_notes": deposit_denominations(currency=kiosk.currency),
        "deposit_max_notes": settings.KIOSK_DEPOSIT_MAX_NOTES,
        "strings": _strings(),
    }
    context = {
        "kiosk": kiosk,
        "config": config,
        "demo_cards": demo_cards,
        "languages": settings.LANGUAGES,
        # Development only: production never renders the simulated note acceptor (kiosk.checks).
        "simulated_acceptor": settings.DEBUG and settings.KIOSK_SIMULATED_ACCEPTOR,
    }
    return _remember_language(render(request, "kiosk/kiosk.html", context), lang)


# Codes are 43 characters (secrets.token_urlsafe(32)).
PROVISIONING_CODE_MAX_LENGTH = 200


@require_http_methods(["GET", "POST"])
@ip_rate_limit("RATELIMIT_KIOSK_PROVISION_IP")
def kiosk_provision(request: HttpRequest) -> HttpResponse:
    """GET shows the form (link previews must not burn the code); POST redeems the code, sets the cookie.

    The link carries the code in its fragment, which browsers never send to a server: static/kiosk/
    provision.js copies it into the form, and the code reaches the server only in a CSRF-protected POST
    body, out of every access log and Referer. It is never echoed back into a page.
    """
    if request.method == "GET":
        return render(request, "kiosk/provision.html")
    if getattr(request, "limited", False):
        # Unauthenticated: limited per client address. The code is 256 random bits, so this only stops floods.
        error = _("Too many attempts from this device. Please wait a minute and try again.")
        return render(request, "kiosk/provision.html", {"error": error}, status=429)
    # Truncated: no real code is this long, so a longer one fails like any wrong code, without hashing 10 MB.
    code = str(request.POST.get("code", ""))[:PROVISIONING_CODE_MAX_LENGTH]
    try:
        _credential, token = kiosk_provisioning_code_redeem(code=code)
    except ApplicationError as error:
        return render(request, "kiosk/provision.html", {"error": error.message}, status=400)
    response = HttpResponseRedirect("/kiosk/")
    response.set_cookie(
        settings.KIOSK_CREDENTIAL_COOKIE,
        token,
        max_age=settings.KIOSK_CREDENTIAL_COOKIE_AGE_S,
        httponly=True,
        secure=not settings.DEBUG,
        samesite="Strict",
    )
    return response
