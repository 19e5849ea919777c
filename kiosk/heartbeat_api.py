"""POST /api/kiosk/heartbeat/: the kiosk page says it is alive (and what went wrong last, if anything).

Same device authentication as every kiosk API; anything but a well-formed body is a 400 and writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from .apis import KioskApi
from .services.heartbeat import LAST_ERROR_MAX, kiosk_heartbeat_record


class HeartbeatApi(KioskApi):
    class InputSerializer(serializers.Serializer):
        error = serializers.CharField(
            max_length=LAST_ERROR_MAX,
            required=False,
            allow_blank=True,
            help_text="The last error the kiosk page met ('' or absent: all well).",
        )

        def validate_error(self, value: str) -> str:
            if not isinstance(self.initial_data.get("error"), str):
                raise serializers.ValidationError(_("The error must be text."))
            if any(ord(char) < 32 or ord(char) == 127 for char in value):
                raise serializers.ValidationError(_("The error may not hold control characters."))
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            unknown = set(self.initial_data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(_("Unknown fields: %s") % ", ".join(sorted(unknown)))
            return attrs

    class OutputSerializer(serializers.Serializer):
        last_contact_at = serializers.DateTimeField(help_text="The server's time of this heartbeat.")

    @extend_schema(request=InputSerializer, responses=OutputSerializer, summary="Kiosk heartbeat")
    def post(self, request: Request) -> Response:
        if not hasattr(request.data, "keys"):
            raise serializers.ValidationError(_("Send a JSON object."))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kiosk = kiosk_heartbeat_record(kiosk=self.kiosk, error=serializer.validated_data.get("error", ""))
        return Response(self.OutputSerializer(kiosk).data)
