from __future__ import annotations

from django.urls import path

from . import views, views_auth

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("activate/<str:token>/", views_auth.activate, name="activate"),
    path("sign-in/", views_auth.sign_in, name="sign_in"),
    path("sign-in/code/", views_auth.sign_in_code, name="sign_in_code"),
    path("sign-in/resend/", views_auth.sign_in_resend, name="sign_in_resend"),
    path("sign-out/", views_auth.sign_out, name="sign_out"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path("face/", views.face, name="face"),
    path("face/uses/<uuid:public_id>/not-me/", views.not_me, name="not_me"),
    path("face/request/", views.face_request, name="face_request"),
    path("cards/<int:card_id>/freeze/", views.card_freeze, name="card_freeze"),
    path("cards/<int:card_id>/unfreeze/", views.card_unfreeze, name="card_unfreeze"),
    path("cardless/off/", views.cardless_off, name="cardless_off"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/authenticator/", views.totp_setup, name="totp_setup"),
    path("data.json", views.data_download, {"file_format": "json"}, name="data_json"),
    path("data.html", views.data_download, {"file_format": "html"}, name="data_html"),
]
