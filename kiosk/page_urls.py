from django.urls import path

from . import views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk_page, name="page"),
    path("provision/<str:code>/", views.kiosk_provision, name="provision"),
]
