"""Kiosk API for the money operations of a verified session: balance, withdrawal, deposit, statement.

A deposit: the kiosk opens it (`deposits/open/`), the kiosk's cash-in module — a device of its own — reports
the notes it counted with a signed report (`cash_in_apis`), the kiosk reads the escrow (`deposits/escrow/`),
the customer confirms (`deposits/`) or cancels and gets the notes back (`deposits/cancel/`). The kiosk page's
credential cannot report notes (`cash-in/` answers 403).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from atmsite.errors import ApplicationError
from atmsite.parsers import BoundedJSONParser as JSONParser

from .apis import KioskApi
from .errors import KioskError
from .services import cash_devices, cash_in, operations


class BalanceApi(KioskApi):
    class OutputSerializer(serializers.Serializer):
        balance = serializers.DecimalField(max_digits=14, decimal_places=2, source="account.balance")
        currency = serializers.CharField(source="account.currency")
        available_today = serializers.DecimalField(max_digits=14, decimal_places=2)
        masked_pan = serializers.CharField(source="session.masked_pan")

    @extend_schema(responses=OutputSerializer, summary="Account balance")
    def get(self, request: Request, session_id: str) -> Response:
        balance = operations.session_balance(kiosk=self.kiosk, public_id=session_id)
        return Response(self.OutputSerializer(balance).data)


class ReceiptOutput(serializers.Serializer):
    transaction_id = serializers.IntegerField(source="transaction.pk")
    kind = serializers.CharField(source="transaction.kind")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, source="transaction.amount")
    balance_after = serializers.DecimalField(
        max_digits=14, decimal_places=2, source="transaction.balance_after"
    )
    currency = serializers.CharField(source="transaction.account.currency")
    created_at = serializers.DateTimeField(source="transaction.created_at")
    notes = serializers.SerializerMethodField()
    repeated = serializers.BooleanField()
    masked_pan = serializers.CharField(source="session.masked_pan")
    kiosk = serializers.CharField(source="session.kiosk.name")

    def get_notes(self, receipt: operations.Receipt) -> list[dict[str, int]]:
        return [{"denomination": value, "count": count} for value, count in receipt.notes.items()]


def _receipt_response(receipt: operations.Receipt) -> Response:
    """201 for money moved now; 200 for a repeated idempotency key (the first receipt, nothing moved)."""
    code = status.HTTP_200_OK if receipt.repeated else status.HTTP_201_CREATED
    return Response(ReceiptOutput(receipt).data, status=code)


class WithdrawalApi(KioskApi):
    """Dispense cash; a repeated idempotency key answers 200 with the first receipt and dispenses nothing."""

    class InputSerializer(serializers.Serializer):
        amount = serializers.CharField(max_length=20)
        idempotency_key = serializers.CharField(max_length=64)

    @extend_schema(
        request=InputSerializer, responses={201: ReceiptOutput, 200: ReceiptOutput}, summary="Withdraw cash"
    )
    def post(self, request: Request, session_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _receipt_response(
            operations.session_withdraw(kiosk=self.kiosk, public_id=session_id, **data.validated_data)
        )


class EscrowOutput(serializers.Serializer):
    notes = serializers.SerializerMethodField()
    note_count = serializers.SerializerMethodField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    idempotency_key = serializers.CharField(help_text="The key that confirms this escrow.")

    def get_notes(self, escrow: cash_in.Escrow) -> list[dict[str, int]]:
        return [{"denomination": value, "count": count} for value, count in escrow.notes.items()]

    def get_note_count(self, escrow: cash_in.Escrow) -> int:
        return sum(escrow.notes.values())


class CashInApi(KioskApi):
    """Refused: counted notes come only from the kiosk's cash-in module, a device with its own signed reports
    (`/api/kiosk/cash-in-module/reports/`), never from the kiosk page's credential."""

    @extend_schema(
        request=None, responses={403: None}, summary="Refused: notes come only from the cash-in module"
    )
    def post(self, request: Request, session_id: str) -> Response:
        raise ApplicationError(KioskError.CASH_IN_DEVICE_ONLY, status_code=403)


class DepositOpenApi(KioskApi):
    """The customer chose to deposit: the cash-in module may now report a count for this session."""

    @extend_schema(
        request=None, responses={200: None}, summary="Open a deposit (the cash-in module may count)"
    )
    def post(self, request: Request, session_id: str) -> Response:
        if settings.DEBUG and settings.KIOSK_SIMULATED_ACCEPTOR:
            cash_devices.simulated_device_ensure(
                kiosk=self.kiosk
            )  # the demo's module, signed like a real one
        session = cash_in.deposit_open(kiosk=self.kiosk, public_id=session_id)
        return Response({"open": True, "session": str(session.public_id)})


class DepositEscrowApi(KioskApi):
    """What the cash-in module counted for the open deposit; `counted` is false until it reports."""

    @extend_schema(
        responses=EscrowOutput, summary="The counted notes waiting for the customer's confirmation"
    )
    def get(self, request: Request, session_id: str) -> Response:
        escrow = cash_in.deposit_escrow_get(kiosk=self.kiosk, public_id=session_id)
        if escrow is None:
            return Response({"counted": False})
        return Response({"counted": True, **EscrowOutput(escrow).data})


class SimulatedCashInApi(KioskApi):
    """Development only (DEBUG and KIOSK_SIMULATED_ACCEPTOR; 404 otherwise): the demo page's note buttons
    play the cash-in module; the server signs the report with the module's key and verifies it as any."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        notes = serializers.JSONField()
        idempotency_key = serializers.CharField(max_length=64)

    @extend_schema(exclude=True)
    def post(self, request: Request, session_id: str) -> Response:
        if not (settings.DEBUG and settings.KIOSK_SIMULATED_ACCEPTOR):
            raise Http404
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        escrow = cash_devices.simulated_report_send(
            kiosk=self.kiosk, public_id=session_id, **data.validated_data
        )
        return Response(EscrowOutput(escrow).data, status=status.HTTP_201_CREATED)


def _refuse_typed_amount(request: Request) -> None:
    if isinstance(request.data, dict) and "amount" in request.data:
        raise ApplicationError(KioskError.DEPOSIT_AMOUNT_REFUSED)


class DepositApi(KioskApi):
    """The customer confirms the counted total: the escrowed notes are credited and go to the bin."""

    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        idempotency_key = serializers.CharField(max_length=64, help_text="The key of the escrow to confirm.")

    @extend_schema(
        request=InputSerializer,
        responses={201: ReceiptOutput, 200: ReceiptOutput},
        summary="Confirm the counted deposit (no amount: only escrowed notes are credited)",
    )
    def post(self, request: Request, session_id: str) -> Response:
        _refuse_typed_amount(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _receipt_response(
            cash_in.deposit_confirm(kiosk=self.kiosk, public_id=session_id, **data.validated_data)
        )


class DepositCancelApi(KioskApi):
    @extend_schema(
        request=None, responses=EscrowOutput, summary="Cancel the counted deposit (notes returned)"
    )
    def post(self, request: Request, session_id: str) -> Response:
        return Response(EscrowOutput(cash_in.deposit_cancel(kiosk=self.kiosk, public_id=session_id)).data)


class StatementApi(KioskApi):
    class OutputSerializer(serializers.Serializer):
        kind = serializers.CharField()
        amount = serializers.DecimalField(max_digits=14, decimal_places=2)
        balance_after = serializers.DecimalField(max_digits=14, decimal_places=2)
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True), summary="The last 10 transactions")
    def get(self, request: Request, session_id: str) -> Response:
        _session, entries = operations.session_statement(kiosk=self.kiosk, public_id=session_id)
        return Response(self.OutputSerializer(entries, many=True).data)
