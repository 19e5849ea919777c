"""The portal's own session store, on its own cookie scoped to /my/.

A staff member's session (the Django session cookie) never carries a customer identity, and the portal
cookie is never sent to /admin/ or the APIs: the two kinds of login cannot be mixed up or escalated.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest, HttpResponse

PORTAL_PREFIX = "/my/"


class PortalSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.store = import_module(settings.SESSION_ENGINE).SessionStore

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PORTAL_PREFIX):
            return self.get_response(request)
        key = request.COOKIES.get(settings.PORTAL_SESSION_COOKIE)
        session = self.store(session_key=key)
        request.portal_session = session  # type: ignore[attr-defined]
        response = self.get_response(request)
        # Balances and face history: never kept by a shared browser's cache or a proxy.
        response.headers["Cache-Control"] = "private, no-store"
        cookie = settings.PORTAL_SESSION_COOKIE
        if session.is_empty() and session.session_key is None:
            if key:
                response.delete_cookie(cookie, path=PORTAL_PREFIX, samesite="Lax")
            return response
        if session.modified or session.session_key is None:
            session.set_expiry(settings.PORTAL_SESSION_MAX_S)
            session.save()
            response.set_cookie(
                cookie,
                session.session_key,
                max_age=settings.PORTAL_SESSION_MAX_S,
                expires=None,
                path=PORTAL_PREFIX,
                secure=settings.PORTAL_SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
