"""Staff API for customers and cards: parse, call one service or selector, render."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from atmsite.errors import ApplicationError
from atmsite.permissions import staff_permission

from . import selectors, services
from .approvals import services as approvals
from .errors import AccountsError
from .models import BankAccount, Card, ChangeRequest, Customer


class CustomerOutput(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "full_name", "phone", "email", "biometric_consent_at", "is_active"]


class CardOutput(serializers.ModelSerializer):
    masked_pan = serializers.CharField()

    class Meta:
        model = Card
        fields = ["id", "masked_pan", "customer", "account", "expires_on", "status"]


class CustomerListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        full_name = serializers.CharField(max_length=200)
        phone = serializers.CharField(max_length=16)
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    def get_permissions(self) -> list:
        perm = "accounts.add_customer" if self.request.method == "POST" else "accounts.view_customer"
        return [staff_permission(perm)()]

    @extend_schema(responses=CustomerOutput(many=True))
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()[:100]
        if "\x00" in query:
            # PostgreSQL refuses NUL in a string literal (a 500 otherwise); no name or phone contains one.
            raise ApplicationError(AccountsError.QUERY_INVALID)
        customers = Customer.objects.all()
        if query:
            customers = customers.filter(full_name__icontains=query) | customers.filter(
                phone__icontains=query
            )
        return Response(CustomerOutput(customers[:50], many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CustomerOutput})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = services.customer_create(**data.validated_data, actor=request.user)
        return Response(CustomerOutput(customer).data, status=status.HTTP_201_CREATED)


class ChangeRequestOutput(serializers.ModelSerializer):
    """A proposal awaiting a second member of staff (approve it in the admin's Pending approvals)."""

    class Meta:
        model = ChangeRequest
        fields = ["id", "kind", "state", "customer", "summary", "proposed_at"]


class CardIssueApi(APIView):
    permission_classes = [staff_permission("accounts.add_card")]

    class InputSerializer(serializers.Serializer):
        customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
        account = serializers.PrimaryKeyRelatedField(queryset=BankAccount.objects.all())
        pan = serializers.CharField(max_length=23, write_only=True)
        expires_on = serializers.DateField()

    @extend_schema(
        request=InputSerializer,
        responses={202: ChangeRequestOutput},
        summary="Propose a card; it is issued when a second member of staff approves",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        change = approvals.card_issue_propose(**data.validated_data, actor=request.user)
        return Response(ChangeRequestOutput(change).data, status=status.HTTP_202_ACCEPTED)


class CardBlockApi(APIView):
    permission_classes = [staff_permission("accounts.change_card")]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200)
        stolen = serializers.BooleanField(default=False)

    @extend_schema(request=InputSerializer, responses=CardOutput)
    def post(self, request: Request, card_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        card = services.card_block(
            card=get_object_or_404(Card, pk=card_id),
            reason=data.validated_data["reason"],
            status=Card.Status.STOLEN if data.validated_data["stolen"] else Card.Status.BLOCKED,
            actor=request.user,
        )
        return Response(CardOutput(card).data)


class CardUnblockApi(APIView):
    permission_classes = [staff_permission("accounts.change_card")]

    @extend_schema(request=None, responses=CardOutput)
    def post(self, request: Request, card_id: int) -> Response:
        card = services.card_unblock(card=get_object_or_404(Card, pk=card_id), actor=request.user)
        return Response(CardOutput(card).data)


class TransactionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance_after = serializers.DecimalField(max_digits=14, decimal_places=2)
    kiosk = serializers.CharField(source="kiosk.name", default=None)
    created_at = serializers.DateTimeField()


class AccountStatementApi(APIView):
    permission_classes = [staff_permission("accounts.view_transaction")]

    @extend_schema(responses=TransactionOutput(many=True))
    def get(self, request: Request, account_id: int) -> Response:
        account = get_object_or_404(BankAccount, pk=account_id)
        return Response(
            TransactionOutput(selectors.transactions_recent(account=account, limit=50), many=True).data
        )
