"""The cash-in module's own API: signed count reports (kiosk.services.cash_devices explains the signature).

Not the kiosk credential: the module is a separate device with its own id and key; this endpoint takes no
cookie or Authorization header, only the signature over the exact body.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from atmsite.errors import ApplicationError

from .errors import KioskError
from .money_apis import EscrowOutput
from .ratelimits import cash_in_module_rate_limit
from .services import cash_devices


@cash_in_module_rate_limit("RATELIMIT_KIOSK_CASH_IN_REPORTS")
class CashInReportApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []  # the body is read raw: the signature covers its exact bytes

    class ReportSerializer(serializers.Serializer):
        counter = serializers.IntegerField(help_text="Higher than any earlier report of this module.")
        timestamp = serializers.IntegerField(help_text="Unix seconds; KIOSK_CASH_IN_REPORT_MAX_AGE_S window.")
        session = serializers.UUIDField(required=False, help_text="Default: the kiosk's open deposit.")
        notes = serializers.DictField(child=serializers.IntegerField(), help_text='e.g. {"50": 2, "20": 1}')
        idempotency_key = serializers.CharField(max_length=64)

    @extend_schema(
        request=ReportSerializer,
        responses={201: EscrowOutput},
        parameters=[
            OpenApiParameter("X-Cash-In-Device", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter(
                "X-Cash-In-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Hex HMAC-SHA256 of the exact body bytes under the module's key.",
            ),
        ],
        summary="Cash-in module: signed count of the notes in escrow",
        examples=[
            OpenApiExample(
                "Two 50s and a 20",
                value={
                    "counter": 18,
                    "timestamp": 1796500000,
                    "notes": {"50": 2, "20": 1},
                    "idempotency_key": "k-0001",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip()
        if content_type != "application/json":
            raise ApplicationError(KioskError.UNSUPPORTED_MEDIA_TYPE, status_code=415)
        escrow = cash_devices.cash_in_report_receive(
            device_id=request.META.get(cash_devices.DEVICE_HEADER, ""),
            signature=request.META.get(cash_devices.SIGNATURE_HEADER, ""),
            body=request.body,
        )
        return Response(EscrowOutput(escrow).data, status=status.HTTP_201_CREATED)
