from django.urls import path

from . import apis

app_name = "accounts"
urlpatterns = [
    path("customers/", apis.CustomerListCreateApi.as_view(), name="customers"),
    path("cards/", apis.CardIssueApi.as_view(), name="card-issue"),
    path("cards/<int:card_id>/block/", apis.CardBlockApi.as_view(), name="card-block"),
    path("cards/<int:card_id>/unblock/", apis.CardUnblockApi.as_view(), name="card-unblock"),
    path("accounts/<int:account_id>/transactions/", apis.AccountStatementApi.as_view(), name="statement"),
]
