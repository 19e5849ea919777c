from django.urls import path

from . import apis, cash_in_apis, heartbeat_api, money_apis

app_name = "kiosk-api"
urlpatterns = [
    path("me/", apis.KioskInfoApi.as_view(), name="info"),
    path("heartbeat/", heartbeat_api.HeartbeatApi.as_view(), name="heartbeat"),
    path("sessions/", apis.SessionStartApi.as_view(), name="session-start"),
    path("sessions/cardless/", apis.CardlessSessionStartApi.as_view(), name="cardless-session-start"),
    path("sessions/<str:session_id>/", apis.SessionStatusApi.as_view(), name="session-status"),
    path("sessions/<str:session_id>/frames/", apis.SessionFrameApi.as_view(), name="session-frame"),
    path("sessions/<str:session_id>/otp/", apis.OtpRequestApi.as_view(), name="otp-request"),
    path("sessions/<str:session_id>/otp/verify/", apis.OtpVerifyApi.as_view(), name="otp-verify"),
    path("sessions/<str:session_id>/balance/", money_apis.BalanceApi.as_view(), name="balance"),
    path("sessions/<str:session_id>/withdrawals/", money_apis.WithdrawalApi.as_view(), name="withdraw"),
    path("sessions/<str:session_id>/deposits/", money_apis.DepositApi.as_view(), name="deposit"),
    path("sessions/<str:session_id>/cash-in/", money_apis.CashInApi.as_view(), name="cash-in"),
    path(
        "sessions/<str:session_id>/deposits/open/", money_apis.DepositOpenApi.as_view(), name="deposit-open"
    ),
    path("sessions/<str:session_id>/deposits/escrow/", money_apis.DepositEscrowApi.as_view(), name="escrow"),
    path(
        "sessions/<str:session_id>/simulated-cash-in/",
        money_apis.SimulatedCashInApi.as_view(),
        name="simulated-cash-in",
    ),
    path("cash-in-module/reports/", cash_in_apis.CashInReportApi.as_view(), name="cash-in-report"),
    path(
        "sessions/<str:session_id>/deposits/cancel/",
        money_apis.DepositCancelApi.as_view(),
        name="deposit-cancel",
    ),
    path("sessions/<str:session_id>/statement/", money_apis.StatementApi.as_view(), name="statement"),
    path("sessions/<str:session_id>/pin/", apis.CardlessPinApi.as_view(), name="cardless-pin"),
    path("sessions/<str:session_id>/end/", apis.SessionEndApi.as_view(), name="session-end"),
    path(
        "sessions/<str:session_id>/keepalive/", apis.SessionKeepaliveApi.as_view(), name="session-keepalive"
    ),
]
