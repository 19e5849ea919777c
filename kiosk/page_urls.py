from django.urls import path

from . import views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk_page, name="page"),
    # The one-time code travels in the fragment (/kiosk/provision/#<code>) and the POST body, never the path.
    path("provision/", views.kiosk_provision, name="provision"),
]
