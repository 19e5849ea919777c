"""Activation, sign-in (password, then a one-time code), sign-out. Thin: forms in, one service, a page out."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from atmsite.errors import ApplicationError
from kiosk.services.cardless import phone_normalise

from . import services
from .access import customer_required, throttled
from .forms import ActivateForm, CodeForm, SignInForm
from .selectors import SESSION_KEY

PENDING_KEY = "portal_pending"


def _throttled_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "portal/throttled.html", status=429)
    response["Retry-After"] = "60"
    return response


@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, token: str) -> HttpResponse:
    if services.activation_login(token) is None:
        return render(request, "portal/activate_invalid.html", status=404)
    form = ActivateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if throttled(request, "activate"):
            return _throttled_page(request)
        if form.is_valid():
            try:
                services.portal_activate(
                    token=token,
                    password=form.cleaned_data["password"],
                    password_repeat=form.cleaned_data["password_repeat"],
                )
            except ValidationError as error:
                form.add_error("password", error)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                return render(request, "portal/activated.html")
    return render(request, "portal/activate.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if throttled(request, "sign_in"):
            return _throttled_page(request)
        if form.is_valid():
            try:
                phone = phone_normalise(form.cleaned_data["phone"])
            except ApplicationError as error:
                form.add_error("phone", error.message)
            else:
                login_id = services.portal_sign_in_start(phone=phone, password=form.cleaned_data["password"])
                session = request.portal_session  # type: ignore[attr-defined]
                session.flush()  # a fresh key: nothing from before sign-in carries over
                session[PENDING_KEY] = {"login": login_id, "at": timezone.now().timestamp()}
                return redirect("portal:sign_in_code")
    return render(request, "portal/sign_in.html", {"form": form}, status=400 if form.errors else 200)


def _pending(request: HttpRequest) -> dict | None:
    from django.conf import settings

    pending = request.portal_session.get(PENDING_KEY)  # type: ignore[attr-defined]
    if not isinstance(pending, dict):
        return None
    if timezone.now().timestamp() - float(pending.get("at", 0)) > settings.PORTAL_CODE_TTL_S:
        return None
    return pending


@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return redirect("portal:sign_in")
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if throttled(request, "code"):
            return _throttled_page(request)
        login_id = pending.get("login") if isinstance(pending.get("login"), int) else None
        login = services.portal_sign_in_verify(login_id=login_id, code=form.data.get("code", "")[:12])
        if login is None:
            # One answer for every failure: unknown number, wrong password, wrong code, locked.
            error = _("The details or the code are not right. Check them and try again.")
            return render(
                request, "portal/sign_in_code.html", {"form": CodeForm(), "error": error}, status=400
            )
        session = request.portal_session  # type: ignore[attr-defined]
        session.cycle_key()
        now = timezone.now().timestamp()
        session.pop(PENDING_KEY, None)
        session[SESSION_KEY] = {"login": login.pk, "epoch": login.session_epoch, "since": now, "seen": now}
        return redirect("portal:home")
    return render(request, "portal/sign_in_code.html", {"form": form})


@require_POST
def sign_in_resend(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        return redirect("portal:sign_in")
    if throttled(request, "code"):
        return _throttled_page(request)
    login_id = pending.get("login") if isinstance(pending.get("login"), int) else None
    services.portal_code_resend(login_id=login_id)
    return render(request, "portal/sign_in_code.html", {"form": CodeForm(), "resent": True})


@require_POST
@customer_required
def sign_out(request: HttpRequest) -> HttpResponse:
    everywhere = request.POST.get("everywhere") == "1"
    services.portal_sign_out(login=request.portal_login, everywhere=everywhere)  # type: ignore[attr-defined]
    request.portal_session.flush()  # type: ignore[attr-defined]
    return render(request, "portal/signed_out.html", {"everywhere": everywhere})
