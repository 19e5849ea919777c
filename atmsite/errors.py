"""One domain error type, mapped to API responses in one place."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self, cast

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseUnavailable
from django.http import Http404
from django.utils.functional import Promise
from django_ratelimit.exceptions import Ratelimited
from kombu.exceptions import OperationalError as BrokerUnavailable
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


class ErrorCode(StrEnum):
    """Base of the apps' error-code enums (`accounts.errors.AccountsError`, ...): the value is the code API
    clients, the kiosk's JS and the tests read; `message` is the refusal's one wording, translated lazily.

        class KioskError(ErrorCode):
            FRAME_REPLAYED = "frame_replayed", gettext_lazy("The same frame was sent twice.")

    Code compares members (`error.code == KioskError.FRAME_REPLAYED`), never strings.
    """

    message: str | Promise

    def __new__(cls, code: str, message: str | Promise) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.message = message
        return member

    def invalid(self, message: str | Promise | None = None, **params: Any) -> DjangoValidationError:
        """This refusal as a Django ValidationError (validators and form-level checks), in its wording or a
        second wording from the app's errors.py, with ``params`` filled in."""
        text = str(self.message if message is None else message)
        return DjangoValidationError(text % params if params else text, code=self.value)

    @classmethod
    def from_code(cls, code: str) -> Self:
        """The member whose value is `code`, for a code built elsewhere (a validator's, the face engine's with
        a prefix); ValueError for a code the enum does not have."""
        member = cls._value2member_map_.get(code)
        if member is None:
            raise ValueError(f"{code!r} is not a {cls.__name__} code")
        return cast(Self, member)


class ApplicationError(Exception):
    """A refusal the caller can understand: a code for programs, a message for people, an HTTP status.

    The message is the code's wording (`ErrorCode.message`) in the active language, with `params` filled in
    where it carries data ("at most %(max)d notes"). `message` replaces it only where the words come from
    elsewhere (a Django validator, the face engine) or a second audience needs other words for the same code.
    """

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        code: ErrorCode,
        message: str | Promise | None = None,
        *,
        params: dict[str, Any] | None = None,
        status_code: int | None = None,
        extra: dict | None = None,
    ) -> None:
        self.code = code
        self.params = params or {}
        text = str(code.message if message is None else message)
        self.message = text % self.params if self.params else text
        super().__init__(self.message)
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
