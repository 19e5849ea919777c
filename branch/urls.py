from django.urls import path

from . import views as branch_views
from . import views_cardless as cardless_views

app_name = "branch"
urlpatterns = [
    path("", branch_views.home, name="home"),
    path("customers/new/", branch_views.customer_create, name="customer-create"),
    path("customers/<int:customer_id>/", branch_views.customer_detail, name="customer"),
    path("enrolments/<int:enrolment_id>/", branch_views.enrolment_capture, name="enrolment"),
    path(
        "enrolments/<int:enrolment_id>/photos/<int:photo_id>/thumbnail.jpg",
        branch_views.enrolment_photo_thumbnail,
        name="enrolment-photo-thumbnail",
    ),
    path("customers/<int:customer_id>/cardless/", cardless_views.cardless_manage, name="cardless"),
    path("customers/<int:customer_id>/cardless/pin/", cardless_views.cardless_pin_pad, name="cardless-pin"),
]
