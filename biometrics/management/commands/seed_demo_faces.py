"""Enrol the demo customers' faces from ATM_FACES_DIR/people/<identity>/ (development only, idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_CUSTOMERS
from accounts.models import Customer
from atmsite.errors import ApplicationError
from biometrics.models import Enrolment
from biometrics.services import enrolment_capture

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


class Command(BaseCommand):
    help = "Enrol the demo customers' faces from the shared photo folder (skips when it is missing)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo_faces is for development only and refuses to run with DEBUG off.")
        people = settings.ATM_FACES_DIR / "people"
        if not people.is_dir():
            self.stdout.write(self.style.WARNING(f"No demo faces: {people} not found (set ATM_FACES_DIR)."))
            return
        actor = User.objects.filter(username="teller").first()
        for demo in DEMO_CUSTOMERS:
            customer = Customer.objects.filter(phone=demo.phone).first()
            folder = people / demo.face_identity
            if customer is None or not folder.is_dir():
                self.stdout.write(f"  {demo.full_name}: skipped (no customer or no photo folder)")
                continue
            if customer.enrolments.filter(status=Enrolment.Status.ACTIVE).exists():
                self.stdout.write(f"  {demo.full_name}: already enrolled")
                continue
            if customer.enrolments.exclude(status=Enrolment.Status.FAILED).exists():
                # Encoded since the last run (a worker, or on commit): a first face waits for a second person.
                self._approve_as_demo_admin(customer)
                self.stdout.write(f"  {demo.full_name}: enrolment waiting for approval (approved as admin)")
                continue
            self.stdout.write(f"  {demo.full_name}: {self._enrol(customer, folder, actor)}")

    def _enrol(self, customer: Customer, folder: Path, actor: User | None) -> str:
        photos = sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
        enrolment_capture.customer_consent_record(customer=customer, actor=actor)
        enrolment = enrolment_capture.enrolment_start(
            customer=customer, actor=actor, photos_required=len(photos)
        )
        accepted = 0
        for path in photos:
            try:
                enrolment_capture.enrolment_photo_add(
                    enrolment=enrolment, data=path.read_bytes(), actor=actor, require_pose_change=False
                )
                accepted += 1
            except ApplicationError as error:
                self.stdout.write(f"    {path.name}: {error.message}")
        if not accepted:
            return "no usable photo"
        # With a broker the worker encodes it; without one the task runs here, eagerly.
        enrolment = enrolment_capture.enrolment_submit(enrolment=enrolment, actor=actor, allow_partial=True)
        self._approve_as_demo_admin(customer)
        enrolment.refresh_from_db()
        return f"{accepted} photos, enrolment {enrolment.get_status_display().lower()}"

    def _approve_as_demo_admin(self, customer: Customer) -> None:
        """A first face waits for a second member of staff; in the demo the "admin" login is that person."""
        from accounts.approvals.services import change_request_approve
        from accounts.models import ChangeRequest

        checker = User.objects.filter(username="admin").first()
        pending = ChangeRequest.objects.filter(
            customer=customer, kind=ChangeRequest.Kind.FACE_ENROL, state=ChangeRequest.State.PENDING
        )
        for change in pending if checker is not None else []:
            try:
                change_request_approve(change_request=change, actor=checker)
            except ApplicationError as error:
                self.stdout.write(f"    not approved: {error.message}")
