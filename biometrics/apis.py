"""Branch enrolment API (staff session): parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import ChangeRequestOutput
from accounts.models import Customer
from atmsite.errors import ApplicationError
from atmsite.permissions import staff_permission, staff_user

from . import engine, errors, selectors
from .approvals import biometrics_revoke_propose
from .errors import BiometricsError
from .models import Enrolment
from .services import enrolment_capture, enrolment_review

ERROR = inline_serializer(
    "BiometricsError", fields={"code": serializers.CharField(), "detail": serializers.CharField()}
)


class EnrolmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    photos_taken = serializers.IntegerField()
    photos_required = serializers.IntegerField()
    encoded_count = serializers.IntegerField()
    finished = serializers.BooleanField()
    message = serializers.CharField()
    kept_photo_ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Kept shots, in order: the branch page shows their thumbnails.",
    )


class PhotoFeedbackOutput(serializers.Serializer):
    accepted = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()
    photos_taken = serializers.IntegerField()
    photos_required = serializers.IntegerField()
    box = serializers.DictField(child=serializers.IntegerField(), allow_null=True)


def _progress(enrolment: Enrolment) -> dict[str, object]:
    return selectors.enrolment_progress(enrolment=enrolment)


class ConsentRecordApi(APIView):
    permission_classes = [staff_permission("biometrics.add_enrolment")]

    class InputSerializer(serializers.Serializer):
        consent = serializers.BooleanField(help_text="The customer agreed to face verification.")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "ConsentOutput",
                fields={"customer_id": serializers.IntegerField(), "consent_at": serializers.DateTimeField()},
            ),
            400: ERROR,
        },
        summary="Record the customer's consent to face verification",
    )
    def post(self, request: Request, customer_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data["consent"]:
            raise ApplicationError(BiometricsError.CONSENT_MISSING, errors.CONSENT_NEEDED_FOR_ENROLMENT)
        customer = enrolment_capture.customer_consent_record(
            customer=get_object_or_404(Customer, pk=customer_id), actor=staff_user(request)
        )
        return Response({"customer_id": customer.pk, "consent_at": customer.biometric_consent_at})


class EnrolmentStartApi(APIView):
    permission_classes = [staff_permission("biometrics.add_enrolment")]

    class InputSerializer(serializers.Serializer):
        customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())

    @extend_schema(
        request=InputSerializer,
        responses={201: EnrolmentOutput, 400: ERROR, 409: ERROR},
        summary="Start an enrolment (capture session) for a customer who consented",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrolment = enrolment_capture.enrolment_start(
            customer=data.validated_data["customer"], actor=staff_user(request)
        )
        return Response(_progress(enrolment), status=status.HTTP_201_CREATED)


class EnrolmentDetailApi(APIView):
    permission_classes = [staff_permission("biometrics.view_enrolment")]

    @extend_schema(responses={200: EnrolmentOutput}, summary="Enrolment status and encoding progress")
    def get(self, request: Request, enrolment_id: int) -> Response:
        return Response(_progress(get_object_or_404(Enrolment, pk=enrolment_id)))


def _upload_schema(
    *, request: type[serializers.Serializer], refused: str, summary: str
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    return extend_schema(
        request=request,
        responses={201: PhotoFeedbackOutput, 400: OpenApiResponse(ERROR, description=refused), 409: ERROR},
        summary=summary,
    )


class _UploadApi(APIView):
    """One file posted to an enrolment (a shot or a clip): the field must be there and within `max_bytes`."""

    permission_classes = [staff_permission("biometrics.add_enrolment")]
    parser_classes = [MultiPartParser, FormParser]
    InputSerializer: type[serializers.Serializer]
    field: str
    # The refusal of a missing file and of one over `max_bytes`.
    missing: BiometricsError
    too_large: BiometricsError

    def _upload(self, request: Request, max_bytes: int) -> tuple[bytes, dict[str, Any]]:
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            raise ApplicationError(self.missing)
        upload = data.validated_data[self.field]
        if upload.size > max_bytes:
            raise ApplicationError(self.too_large)
        return upload.read(), data.validated_data


class EnrolmentPhotoAddApi(_UploadApi):
    class InputSerializer(serializers.Serializer):
        photo = serializers.FileField(help_text="One JPEG, PNG or WebP shot.", allow_empty_file=True)
        stills = serializers.BooleanField(
            default=False,
            help_text="Distinct photos uploaded from files: skip the 'move your head' check between shots.",
        )

    field = "photo"
    missing = BiometricsError.PHOTO_MISSING
    too_large = BiometricsError.IMAGE_TOO_LARGE

    @_upload_schema(
        request=InputSerializer,
        refused="Refused shot; `code` and `detail` say why.",
        summary="Add one photo; answers with feedback for the person at the camera",
    )
    def post(self, request: Request, enrolment_id: int) -> Response:
        enrolment = get_object_or_404(Enrolment, pk=enrolment_id)
        photo, options = self._upload(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        feedback = enrolment_capture.enrolment_photo_add(
            enrolment=enrolment,
            data=photo,
            actor=staff_user(request),
            require_pose_change=not options["stills"],
        )
        return Response(PhotoFeedbackOutput(feedback).data, status=status.HTTP_201_CREATED)


class EnrolmentClipAddApi(_UploadApi):
    class InputSerializer(serializers.Serializer):
        clip = serializers.FileField(
            help_text="A short WebM/MP4 clip (about 5 s) of the customer turning their head slowly.",
            allow_empty_file=True,
        )

    field = "clip"
    missing = BiometricsError.CLIP_MISSING
    too_large = BiometricsError.CLIP_TOO_LARGE

    @_upload_schema(
        request=InputSerializer,
        refused="Unreadable clip or no usable view of one face.",
        summary="Take the missing photos from a short video clip",
    )
    def post(self, request: Request, enrolment_id: int) -> Response:
        enrolment = get_object_or_404(Enrolment, pk=enrolment_id)
        clip, _ = self._upload(request, engine.VIDEO_MAX_BYTES)
        feedback = enrolment_capture.enrolment_clip_add(
            enrolment=enrolment, data=clip, actor=staff_user(request)
        )
        return Response(PhotoFeedbackOutput(feedback).data, status=status.HTTP_201_CREATED)


class EnrolmentSubmitApi(APIView):
    permission_classes = [staff_permission("biometrics.add_enrolment")]

    @extend_schema(
        request=None,
        responses={202: EnrolmentOutput, 400: ERROR, 409: ERROR},
        summary="Queue the photos for encoding (poll the enrolment for progress)",
    )
    def post(self, request: Request, enrolment_id: int) -> Response:
        enrolment = enrolment_capture.enrolment_submit(
            enrolment=get_object_or_404(Enrolment, pk=enrolment_id), actor=staff_user(request)
        )
        return Response(_progress(enrolment), status=status.HTTP_202_ACCEPTED)


class EnrolmentReviewApi(APIView):
    permission_classes = [staff_permission("biometrics.review_enrolment")]

    class InputSerializer(serializers.Serializer):
        approve = serializers.BooleanField()
        note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={200: EnrolmentOutput, 400: ERROR, 403: ERROR},
        summary="Approve or reject an enrolment flagged as a possible duplicate identity",
    )
    def post(self, request: Request, enrolment_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrolment = enrolment_review.enrolment_review(
            enrolment=get_object_or_404(Enrolment, pk=enrolment_id),
            actor=staff_user(request),
            **data.validated_data,
        )
        return Response(_progress(enrolment))


class BiometricsRevokeApi(APIView):
    permission_classes = [staff_permission("biometrics.delete_facetemplate")]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    @extend_schema(
        request=InputSerializer,
        responses={202: ChangeRequestOutput, 409: ERROR},
        summary="Propose revoking every face template of a customer (applied when a second member of staff "
        "approves; the kiosk then uses the one-time code)",
    )
    def post(self, request: Request, customer_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = biometrics_revoke_propose(
            customer=get_object_or_404(Customer, pk=customer_id),
            actor=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(ChangeRequestOutput(change).data, status=status.HTTP_202_ACCEPTED)
