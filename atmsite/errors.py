"""One domain error type, mapped to API responses in one place."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseUnavailable
from django.http import Http404
from django_ratelimit.exceptions import Ratelimited
from kombu.exceptions import OperationalError as BrokerUnavailable
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A refusal the caller can understand: a code for programs, a message for people, an HTTP status."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status_code: int | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, Ratelimited):
        # Before PermissionDenied (its base class): a rate limit is a 429 the client may retry later.
        body = {"code": "rate_limited", "detail": "Too many requests. Please wait a moment and try again."}
        return Response(body, status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": "1"})
    if isinstance(exc, RequestDataTooBig):
        # Raised while DRF parses an oversized body; without this Django answers with an HTML 400 page.
        body = {"code": "request_too_large", "detail": "The request body is too large."}
        return Response(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, BrokerUnavailable):
        # The task queue (Redis) is down: whatever was saved before the publish stays saved; say "try again".
        body = {"code": "queue_unavailable", "detail": "The service is busy. Please try again in a moment."}
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "30"})
    if isinstance(exc, DatabaseUnavailable | DatabaseInterfaceError):
        # The database connection dropped mid-request: the transaction rolled back, nothing half-written.
        body = {
            "code": "database_unavailable",
            "detail": "The service is busy. Please try again in a moment.",
        }
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    if isinstance(exc, SuspiciousOperation):
        # TooManyFieldsSent, TooManyFilesSent, a broken multipart boundary: the request's fault, never a 500.
        return Response({"code": "bad_request", "detail": "The request is malformed."}, status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "detail": "Invalid input.", "errors": response.data}
    elif response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {
            "code": getattr(exc, "default_code", "error"),
            "detail": str(response.data["detail"]),
        }
    return response
