"""The signed-in customer's pages. Every object is looked up through the customer's own selectors (a
foreign id is a 404) and every change goes through one service."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from atmsite.errors import ApplicationError

from . import export, selectors, services
from .access import customer_required
from .errors import PortalError
from .forms import CodeForm, NotificationsForm, NotMeForm, TransactionSearchForm
from .models import CustomerLogin
from .qr import qr_svg


def _login(request: HttpRequest) -> CustomerLogin:
    return request.portal_login  # type: ignore[attr-defined]


def _refusal(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render(request, "portal/refused.html", {"message": error.message}, status=error.status_code)


@require_GET
@customer_required
def home(request: HttpRequest) -> HttpResponse:
    login = _login(request)
    cid = login.customer_id
    cards = [(card, services.card_open_freeze(card)) for card in selectors.customer_cards(customer_id=cid)]
    context = {
        "login": login,
        "accounts": selectors.customer_accounts(customer_id=cid),
        "cards": cards,
        "cardless": selectors.cardless_access(customer_id=cid),
        "recent_uses": selectors.face_timeline(customer_id=cid, limit=3),
    }
    return render(request, "portal/home.html", context)


@require_GET
@customer_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.customer_account_get(customer_id=_login(request).customer_id, account_id=account_id)
    form = TransactionSearchForm(request.GET or None)
    search = selectors.TransactionSearch()
    if form.is_bound and form.is_valid():
        search = selectors.TransactionSearch(**form.cleaned_data)
    rows = selectors.account_transactions(account=account, search=search)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "portal/account.html", {"account": account, "form": form, "rows": rows}, status=status
    )


@require_GET
@customer_required
def face(request: HttpRequest) -> HttpResponse:
    cid = _login(request).customer_id
    context = {
        "summary": selectors.face_summary(customer_id=cid),
        "uses": selectors.face_timeline(customer_id=cid),
        "requests": selectors.face_requests(customer_id=cid),
    }
    return render(request, "portal/face.html", context)


@require_http_methods(["GET", "POST"])
@customer_required
def not_me(request: HttpRequest, public_id: UUID) -> HttpResponse:
    login = _login(request)
    session = selectors.customer_session_get(customer_id=login.customer_id, public_id=str(public_id))
    form = NotMeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.portal_fraud_report(login=login, session=session, note=form.cleaned_data["note"])
        except ApplicationError as error:
            return _refusal(request, error)
        return render(request, "portal/not_me_done.html", {"case": case, "card": session.card})
    status = 400 if form.errors else 200
    return render(request, "portal/not_me.html", {"form": form, "use": session}, status=status)


@require_POST
@customer_required
def card_freeze(request: HttpRequest, card_id: int) -> HttpResponse:
    login = _login(request)
    card = selectors.customer_card_get(customer_id=login.customer_id, card_id=card_id)
    services.portal_card_freeze(login=login, card=card)
    return redirect("portal:home")


@require_http_methods(["GET", "POST"])
@customer_required
def card_unfreeze(request: HttpRequest, card_id: int) -> HttpResponse:
    login = _login(request)
    card = selectors.customer_card_get(customer_id=login.customer_id, card_id=card_id)
    freeze = services.card_open_freeze(card)
    form = CodeForm(request.POST if request.method == "POST" else None)
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "send":
                services.portal_unfreeze_code_send(login=login)
            elif action == "complete":
                services.portal_unfreeze_complete(login=login, card=card)
                return redirect("portal:home")
            elif form.is_valid():
                freeze = services.portal_unfreeze_request(
                    login=login, card=card, code=form.cleaned_data["code"]
                )
        except ApplicationError as refusal:
            form, error, status = CodeForm(), refusal.message, refusal.status_code
    context = {
        "card": card,
        "freeze": freeze,
        "form": form,
        "now": timezone.now(),
        "login": login,
        "error": error,
    }
    return render(request, "portal/unfreeze.html", context, status=400 if form.errors else status)


@require_POST
@customer_required
def cardless_off(request: HttpRequest) -> HttpResponse:
    services.portal_cardless_off(login=_login(request))
    return redirect("portal:home")


@require_http_methods(["GET", "POST"])
@customer_required
def settings_page(request: HttpRequest) -> HttpResponse:
    login = _login(request)
    initial = {"withdrawals": login.notify_withdrawals, "face_failures": login.notify_face_failures}
    form = NotificationsForm(request.POST if request.method == "POST" else None, initial=initial)
    saved = False
    if request.method == "POST" and form.is_valid():
        login = services.portal_notifications_set(
            login=login,
            withdrawals=form.cleaned_data["withdrawals"],
            face_failures=form.cleaned_data["face_failures"],
        )
        saved = True
    return render(request, "portal/settings.html", {"form": form, "login": login, "saved": saved})


@require_http_methods(["GET", "POST"])
@customer_required
def totp_setup(request: HttpRequest) -> HttpResponse:
    login = _login(request)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        if form.is_valid():
            try:
                services.totp_enrolment_confirm(login=login, code=form.cleaned_data["code"])
            except ApplicationError as error:
                form.add_error("code", error.message)
            else:
                return render(request, "portal/totp_done.html")
        secret = CustomerLogin.objects.get(pk=login.pk).totp_pending_secret
    else:
        secret = services.totp_enrolment_start(login=login)
    if not secret:
        return redirect("portal:totp_setup")
    uri = services.totp_uri(login=login, secret=secret)
    context = {"form": form, "secret": secret, "qr_svg": qr_svg(uri), "login": login}
    return render(request, "portal/totp_setup.html", context, status=400 if form.errors else 200)


@require_POST
@customer_required
def face_request(request: HttpRequest) -> HttpResponse:
    erase = request.POST.get("what") == "erase"
    if request.POST.get("what") not in ("erase", "withdraw"):
        return _refusal(request, ApplicationError(PortalError.FACE_REQUEST_INVALID))
    try:
        services.portal_face_request(login=_login(request), erase=erase)
    except ApplicationError as error:
        return _refusal(request, error)
    return redirect("portal:face")


@require_GET
@customer_required
def data_download(request: HttpRequest, file_format: str) -> HttpResponse:
    login = _login(request)
    data: dict[str, Any] = export.customer_data(login=login)
    services.portal_data_downloaded(login=login, file_format=file_format)
    stamp = timezone.now().strftime("%Y%m%d")
    if file_format == "json":
        response: HttpResponse = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
        return response
    html = render_to_string("portal/data.html", {"data": data}, request=request)
    response = HttpResponse(html)
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.html"'
    return response
