"""The branch enrolment portal (staff pages). Pages call services; the camera page talks to the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import Customer
from atmsite.errors import ApplicationError
from atmsite.permissions import staff_user
from biometrics import selectors
from biometrics.models import Enrolment
from biometrics.services.enrolment_capture import customer_consent_record, enrolment_start

from .forms import CustomerCreateForm, CustomerSearchForm, EnrolmentStartForm

ENROL_PERMISSION = "biometrics.add_enrolment"


def branch_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff holding biometrics.add_enrolment (the Teller role); others get 403, anonymous users a login."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="admin:login")
        if not (user.is_active and user.is_staff and user.has_perm(ENROL_PERMISSION)):
            raise PermissionDenied("Branch enrolment is for tellers.")
        return view(request, *args, **kwargs)

    return wrapper


@branch_staff_required
@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    search = CustomerSearchForm(request.GET or None)
    customers = []
    if search.is_valid() and search.cleaned_data["q"]:
        customers = list(selectors.customers_search(query=search.cleaned_data["q"]))
    recent = selectors.enrolments_recent(limit=10)
    return render(
        request,
        "branch/home.html",
        {
            "search": search,
            "customers": customers,
            "create_form": CustomerCreateForm(),
            "recent": recent,
            "searched": bool(search.is_valid() and search.cleaned_data["q"]),
        },
    )


@branch_staff_required
@require_POST
def customer_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("accounts.add_customer"):
        raise PermissionDenied("You may not create customers.")
    form = CustomerCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            customer = account_services.customer_create(
                full_name=data["full_name"], phone=data["phone"], email=data["email"], actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            others = account_selectors.customers_with_phone(phone=customer.phone, exclude_id=customer.pk)
            names = ", ".join(other.full_name for other in others[:3])
            if names:
                messages.warning(
                    request,
                    _("The phone %(phone)s already belongs to %(names)s: one-time codes for both go there.")
                    % {"phone": customer.phone, "names": names},
                )
            if data["consent"]:
                return _start(request, customer)
            messages.info(request, _("Customer created. Record consent to enrol their face."))
            return redirect("branch:customer", customer_id=customer.pk)
    return render(
        request,
        "branch/home.html",
        {"search": CustomerSearchForm(), "customers": [], "create_form": form, "recent": []},
        status=400,
    )


def _start(request: HttpRequest, customer: Customer) -> HttpResponse:
    try:
        customer_consent_record(customer=customer, actor=staff_user(request))
        enrolment = enrolment_start(customer=customer, actor=staff_user(request))
    except ApplicationError as error:
        messages.error(request, _(error.message))
        return redirect("branch:customer", customer_id=customer.pk)
    return redirect("branch:enrolment", enrolment_id=enrolment.pk)


@branch_staff_required
@require_http_methods(["GET", "POST"])
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    # Consent already recorded is not asked again (it stays on file until erasure withdraws it).
    form = EnrolmentStartForm(
        request.POST if request.method == "POST" else None,
        consent_on_file=customer.biometric_consent_at is not None,
    )
    if request.method == "POST" and form.is_valid():
        return _start(request, customer)
    enrolments = selectors.customer_enrolments(customer=customer, limit=20)
    return render(
        request,
        "branch/customer.html",
        {
            "customer": customer,
            "form": form,
            "enrolments": enrolments,
            "biometric_status": selectors.customer_biometric_status(customer=customer),
        },
        status=400 if request.method == "POST" else 200,
    )


@branch_staff_required
@require_http_methods(["GET"])
def enrolment_capture(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    enrolment = get_object_or_404(Enrolment.objects.select_related("customer"), pk=enrolment_id)
    return render(
        request,
        "branch/enrol.html",
        {"enrolment": enrolment, "progress": selectors.enrolment_progress(enrolment=enrolment)},
    )


@branch_staff_required
@require_http_methods(["GET"])
@never_cache
def enrolment_photo_thumbnail(request: HttpRequest, enrolment_id: int, photo_id: int) -> HttpResponse:
    """A kept shot, decrypted in memory and shrunk for the teller; never written anywhere in clear, and
    `never_cache` (no-store) keeps it out of the browser's and any proxy's cache."""
    if not request.user.has_perm("biometrics.view_enrolment"):
        raise PermissionDenied("You may not see enrolment photos.")
    jpeg = selectors.enrolment_photo_thumbnail(enrolment_id=enrolment_id, photo_id=photo_id)
    if jpeg is None:
        raise Http404("The photo cannot be shown.")
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    return response
