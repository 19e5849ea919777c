from django.urls import path

from . import apis

app_name = "biometrics"
urlpatterns = [
    path("customers/<int:customer_id>/consent/", apis.ConsentRecordApi.as_view(), name="consent"),
    path("customers/<int:customer_id>/revoke/", apis.BiometricsRevokeApi.as_view(), name="revoke"),
    path("enrolments/", apis.EnrolmentStartApi.as_view(), name="enrolment-start"),
    path("enrolments/<int:enrolment_id>/", apis.EnrolmentDetailApi.as_view(), name="enrolment"),
    path(
        "enrolments/<int:enrolment_id>/photos/", apis.EnrolmentPhotoAddApi.as_view(), name="enrolment-photo"
    ),
    path("enrolments/<int:enrolment_id>/clip/", apis.EnrolmentClipAddApi.as_view(), name="enrolment-clip"),
    path("enrolments/<int:enrolment_id>/submit/", apis.EnrolmentSubmitApi.as_view(), name="enrolment-submit"),
    path("enrolments/<int:enrolment_id>/review/", apis.EnrolmentReviewApi.as_view(), name="enrolment-review"),
]
