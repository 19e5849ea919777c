"""Create the demo bank (idempotent): staff for each role, customers with accounts and cards, one kiosk.

In bench (benchmarks and demo seeding), which may use every app: seeding the kiosk from accounts would make
accounts import kiosk. `make run` calls it by name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.demo import DEMO_CASSETTES, DEMO_CUSTOMERS, DEMO_KIOSK, DEMO_STAFF
from accounts.models import BankAccount, Card, Customer
from accounts.pan import pan_hash
from accounts.roles import roles_sync
from atmsite.devkeys import dev_secret
from kiosk.models import Cassette, Kiosk


class Command(BaseCommand):
    help = "Seed a demo bank (development only). Safe to run again: existing rows are kept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the portal is served (make run passes its HOST and PORT): the printed links use it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates public demo credentials and refuses to run with DEBUG off.")
        password = dev_secret(settings.VAR_DIR, "DEMO_STAFF_PASSWORD")
        with transaction.atomic():
            roles_sync()
            self._staff(password)
            self._customers()
            kiosk = self._kiosk()
        base = options["base_url"].rstrip("/")
        self._after_seed(kiosk, base)
        self.stdout.write(self.style.SUCCESS("Demo bank ready."))
        self.stdout.write(
            f"  Back office: {base}/admin/  users admin / teller / supervisor / auditor, password {password}"
        )
        self.stdout.write(f"  Branch portal: {base}/branch/")
        for demo in DEMO_CUSTOMERS:
            self.stdout.write(f"  Demo card {demo.pan}  {demo.full_name}")

    def _after_seed(self, kiosk: Kiosk, base: str) -> None:
        from django.core.management import call_command

        from kiosk.services.credentials import kiosk_provisioning_code_create

        # Demo faces come from ATM_FACES_DIR when it is there (never from the repository).
        call_command("seed_demo_faces", stdout=self.stdout, stderr=self.stderr)
        with transaction.atomic():
            _code, raw = kiosk_provisioning_code_create(kiosk=kiosk, actor=None)
        minutes = settings.KIOSK_PROVISIONING_CODE_TTL_S // 60
        self.stdout.write(
            f"  Kiosk: open {base}/kiosk/provision/#{raw} once in the kiosk browser "
            f"(valid {minutes} min; a new link on every seed_demo run), then {base}/kiosk/"
        )

    def _staff(self, password: str) -> None:
        user_model = get_user_model()
        for username, role in DEMO_STAFF:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"is_staff": True, "is_superuser": role == "Administrator"}
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get(name=role))

    def _customers(self) -> None:
        expires = timezone.localdate().replace(day=1) + dt.timedelta(days=3 * 365)
        for demo in DEMO_CUSTOMERS:
            customer = Customer.objects.filter(phone=demo.phone).first() or services.customer_create(
                full_name=demo.full_name, phone=demo.phone
            )
            account = BankAccount.objects.filter(number=demo.account_number).first()
            if account is None:
                account = services.account_open(customer=customer, number=demo.account_number)
                services.deposit_create(
                    account=account, amount=demo.balance, idempotency_key=f"seed-opening-{account.number}"
                )
            if not Card.objects.filter(pan_hmac=pan_hash(demo.pan)).exists():
                services.card_issue(customer=customer, account=account, pan=demo.pan, expires_on=expires)

    def _kiosk(self) -> Kiosk:
        kiosk, _ = Kiosk.objects.get_or_create(name=DEMO_KIOSK["name"], defaults=DEMO_KIOSK)
        for denomination, count in DEMO_CASSETTES.items():
            Cassette.objects.get_or_create(kiosk=kiosk, denomination=denomination, defaults={"count": count})
        return kiosk
