"""Kiosk API: everything the kiosk page does, so another front end can drive the same flow. This module
holds the session and the identity checks (card, face, code, PIN); money_apis holds the money operations.

Authentication: the kiosk device credential (`Authorization: Kiosk <token>` or the kiosk cookie). A kiosk sees
only its own sessions; another kiosk's session id answers 404. Errors: {"code", "detail", ...} with a 4xx.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import Promise
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.errors import AccountsError
from atmsite.errors import ApplicationError
from atmsite.parsers import BoundedJSONParser as JSONParser

from . import schema  # noqa: F401 - registers the OpenAPI description of KioskAuthentication
from .authentication import IsKiosk, KioskAuthentication
from .errors import KioskError
from .models import Kiosk, KioskSession
from .ratelimits import kiosk_rate_limit
from .selectors import available_notes, session_view
from .services import card_reads, cardless, cardless_pin, cash_in, frames, otp, sessions

# Refusals of the accounts app the kiosk words its own way; the rest it shows in accounts' words, whatever
# wording the raise site chose for staff (a validator's, "above the largest single transaction").
# A wrong expiry and an unknown number read alike (issue 23): a misread, never "unknown to the bank".
KIOSK_WORDING: dict[AccountsError, str | Promise] = {
    AccountsError.CARD_UNKNOWN: KioskError.CARD_READ_INVALID.message,
    AccountsError.AMOUNT_PRECISION: KioskError.AMOUNT_NOT_NOTES.message,
}


class KioskApi(APIView):
    authentication_classes = [KioskAuthentication]
    permission_classes = [IsKiosk]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ApplicationError) and isinstance(exc.code, AccountsError) and not exc.params:
            exc.message = str(KIOSK_WORDING.get(exc.code, exc.code.message))
        return super().handle_exception(exc)

    @property
    def kiosk(self) -> Kiosk:
        return self.request.auth.kiosk  # type: ignore[union-attr]


class SessionOutput(serializers.Serializer):
    """The session as the kiosk shows it. Deadlines are the server's; the page only displays them."""

    id = serializers.UUIDField(source="public_id")
    state = serializers.CharField()
    message = serializers.CharField()
    first_name = serializers.CharField(help_text="The owner's first name once verified; '' before.")
    masked_pan = serializers.CharField(help_text="'' for a card-less session.")
    mode = serializers.CharField(help_text="card or cardless.")
    face_failure_reason = serializers.CharField(
        help_text="What the customer is told; another customer's face reads as a stranger's (no_match)."
    )
    can_request_otp = serializers.BooleanField()
    end_reason = serializers.CharField()
    frame_nonce = serializers.CharField(allow_null=True)
    next_seq = serializers.IntegerField()
    match_streak = serializers.IntegerField()
    face_progress = serializers.IntegerField()
    challenge = serializers.CharField(help_text="Liveness challenge: turn_left, turn_right, blink or ''.")
    challenge_text = serializers.CharField()
    frames_required = serializers.IntegerField()
    seconds_left = serializers.DictField(child=serializers.IntegerField())


def _session_response(session: KioskSession, code: int = status.HTTP_200_OK) -> Response:
    return Response(SessionOutput(session_view(session)).data, status=code)


class KioskInfoApi(KioskApi):
    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        location = serializers.CharField()
        currency = serializers.CharField()
        notes = serializers.ListField(child=serializers.IntegerField())
        withdrawal_presets = serializers.ListField(child=serializers.IntegerField())
        frames_required = serializers.IntegerField()
        deposit_notes = serializers.ListField(child=serializers.IntegerField())
        deposit_max_notes = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer, summary="This kiosk's configuration")
    def get(self, request: Request) -> Response:
        data = {
            "name": self.kiosk.name,
            "location": self.kiosk.location,
            "currency": self.kiosk.currency,
            "notes": available_notes(kiosk=self.kiosk),
            "withdrawal_presets": settings.KIOSK_WITHDRAWAL_PRESETS,
            "frames_required": settings.FACE_MATCH_FRAMES_REQUIRED,
            "deposit_notes": cash_in.deposit_denominations(currency=self.kiosk.currency),
            "deposit_max_notes": settings.KIOSK_DEPOSIT_MAX_NOTES,
        }
        return Response(self.OutputSerializer(data).data)


@kiosk_rate_limit("RATELIMIT_KIOSK_SESSIONS")
class SessionStartApi(KioskApi):
    class InputSerializer(serializers.Serializer):
        """What the card reader delivers: track 2 as a keyboard-wedge reader types it, or PAN + MM/YY."""

        track2 = serializers.CharField(
            max_length=64, required=False, allow_blank=True, trim_whitespace=False, write_only=True
        )
        card_number = serializers.CharField(max_length=40, required=False, allow_blank=True, write_only=True)
        expiry = serializers.CharField(max_length=8, required=False, allow_blank=True, write_only=True)

    @extend_schema(
        request=InputSerializer, responses={201: SessionOutput}, summary="Card read: start a session"
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card_read = card_reads.card_read_parse(
            track2=data.validated_data.get("track2", ""),
            pan=data.validated_data.get("card_number", ""),
            expiry=data.validated_data.get("expiry", ""),
        )
        session = sessions.session_start(kiosk=self.kiosk, card_read=card_read)
        return _session_response(session, status.HTTP_201_CREATED)


class SessionStatusApi(KioskApi):
    @extend_schema(responses=SessionOutput, summary="Session state (applies server-side timeouts)")
    def get(self, request: Request, session_id: str) -> Response:
        return _session_response(sessions.session_refresh(kiosk=self.kiosk, public_id=session_id))


@kiosk_rate_limit("RATELIMIT_KIOSK_FRAMES")
class SessionFrameApi(KioskApi):
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        frame = serializers.FileField(help_text="JPEG, about 640×480.")
        nonce = serializers.CharField(max_length=64)
        seq = serializers.IntegerField(min_value=1, max_value=10_000_000)

    class OutputSerializer(serializers.Serializer):
        outcome = serializers.CharField(
            help_text="checking, verified or failed: never how well the face matched."
        )
        hint = serializers.CharField(
            help_text="While checking: look_at_camera, one_person, move_closer, more_light or turn_as_asked."
        )
        boxes = serializers.ListField(child=serializers.DictField(child=serializers.IntegerField()))
        match_percent = serializers.IntegerField(
            allow_null=True, help_text="Only once verified; null before."
        )
        message = serializers.CharField()
        frame_width = serializers.IntegerField()
        frame_height = serializers.IntegerField()
        session = SessionOutput()

    @extend_schema(
        request=InputSerializer, responses=OutputSerializer, summary="One camera frame for the face check"
    )
    def post(self, request: Request, session_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["frame"]
        if upload.size > settings.KIOSK_FRAME_MAX_BYTES:
            # Refused before reading it into memory.
            raise ApplicationError(KioskError.FRAME_TOO_LARGE, status_code=413)
        result = frames.session_frame_submit(
            kiosk=self.kiosk,
            public_id=session_id,
            nonce=data.validated_data["nonce"],
            seq=data.validated_data["seq"],
            data=upload.read(),
        )
        body = {
            "outcome": result.outcome,
            "hint": result.hint,
            "boxes": result.boxes,
            "match_percent": result.match_percent,
            "message": result.message,
            "frame_width": result.frame_size[0],
            "frame_height": result.frame_size[1],
            "session": session_view(result.session),
        }
        return Response(self.OutputSerializer(body).data)


@kiosk_rate_limit("RATELIMIT_KIOSK_OTP_REQUESTS")
class OtpRequestApi(KioskApi):
    @extend_schema(request=None, responses=SessionOutput, summary="Send a one-time code over WhatsApp")
    def post(self, request: Request, session_id: str) -> Response:
        return _session_response(otp.otp_request(kiosk=self.kiosk, public_id=session_id))


@kiosk_rate_limit("RATELIMIT_KIOSK_OTP_VERIFIES")
class OtpVerifyApi(KioskApi):
    parser_classes = [JSONParser, FormParser]

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=12, write_only=True)

    @extend_schema(request=InputSerializer, responses=SessionOutput, summary="Check the one-time code")
    def post(self, request: Request, session_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _session_response(
            otp.otp_verify(kiosk=self.kiosk, public_id=session_id, code=data.validated_data["code"])
        )


class SessionEndApi(KioskApi):
    @extend_schema(request=None, responses=SessionOutput, summary="End the session")
    def post(self, request: Request, session_id: str) -> Response:
        return _session_response(sessions.session_end(kiosk=self.kiosk, public_id=session_id))


class SessionKeepaliveApi(KioskApi):
    @extend_schema(
        request=None, responses=SessionOutput, summary='"I need more time": restart the idle timer'
    )
    def post(self, request: Request, session_id: str) -> Response:
        return _session_response(sessions.session_keepalive(kiosk=self.kiosk, public_id=session_id))


@kiosk_rate_limit("RATELIMIT_KIOSK_SESSIONS")
class CardlessSessionStartApi(KioskApi):
    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(
            max_length=32, write_only=True, help_text="National form (CARDLESS_DEFAULT_REGION) or E.164."
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: SessionOutput},
        summary="No card: start a card-less session with a phone number (known or not, the same answer)",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = cardless.cardless_session_start(kiosk=self.kiosk, phone=data.validated_data["phone"])
        return _session_response(session, status.HTTP_201_CREATED)


@kiosk_rate_limit("RATELIMIT_KIOSK_OTP_VERIFIES")
class CardlessPinApi(KioskApi):
    parser_classes = [JSONParser, FormParser]

    class InputSerializer(serializers.Serializer):
        pin = serializers.CharField(max_length=12, write_only=True, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses=SessionOutput, summary="Card-less: check the PIN")
    def post(self, request: Request, session_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _session_response(
            cardless_pin.cardless_pin_verify(
                kiosk=self.kiosk, public_id=session_id, pin=data.validated_data["pin"]
            )
        )
