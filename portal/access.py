"""Who is signed in to the portal: only a customer, only through the portal's own session."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django_ratelimit.core import is_ratelimited

from atmsite.errors import ApplicationError

from . import selectors, services

View = Callable[..., HttpResponse]


def customer_required(view: View) -> View:
    """Runs the view with `request.portal_login` set, or sends the visitor to the sign-in page.

    A staff member signed in to the back office is not a customer here: only the portal session counts.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        session = request.portal_session  # type: ignore[attr-defined]
        login = selectors.login_from_session(session)
        if login is None:
            session.flush()
            return redirect("portal:sign_in")
        request.portal_login = login  # type: ignore[attr-defined]
        # Notices on WhatsApp follow the language the customer reads the portal in.
        services.portal_language_set(login=login, language=translation.get_language() or "en")
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as error:
            # A refusal from a service: a page with the reason and its 4xx, never a 500.
            return render(
                request, "portal/refused.html", {"message": error.message}, status=error.status_code
            )

    return wrapper


def throttled(request: HttpRequest, group: str) -> bool:
    """Count this POST against the per-IP portal budget; True when over it."""
    from django.conf import settings

    return bool(
        is_ratelimited(
            request,
            group=f"portal.{group}",
            key="ip",
            rate=settings.RATELIMIT_PORTAL_SIGNIN or None,
            method="POST",
            increment=True,
        )
    )
