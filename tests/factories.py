from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import BankAccount, Card, Customer
from accounts.pan import luhn_check_digit, pan_hash
from biometrics.models import Enrolment, FaceTemplate, encoding_pack
from kiosk.models import Cassette, Kiosk


def make_pan(serial: int) -> str:
    partial = f"411111{serial:09d}"
    return partial + luhn_check_digit(partial)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("correct-horse-battery")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    full_name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+4477009{n:05d}")


class BankAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankAccount

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"DE00 2000 0000 {n:08d}")
    currency = "EUR"
    balance = Decimal("500.00")
    daily_withdrawal_limit = Decimal("1000.00")


class CardFactory(factory.django.DjangoModelFactory):
    """Cards keep only the PAN's hash: the clear number is on the factory's `pan` attribute for tests."""

    class Meta:
        model = Card
        exclude = ("pan",)

    account = factory.SubFactory(BankAccountFactory)
    customer = factory.SelfAttribute("account.customer")
    pan = factory.Sequence(make_pan)
    pan_hmac = factory.LazyAttribute(lambda o: pan_hash(o.pan))
    last4 = factory.LazyAttribute(lambda o: o.pan[-4:])
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=700))


class KioskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kiosk
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Kiosk {n}")
    location = "Test branch"

    @factory.post_generation
    def cassettes(self, create: bool, extracted: dict[int, int] | None, **kwargs: object) -> None:
        for denomination, count in (extracted or {50: 100, 20: 100, 10: 100}).items():
            Cassette.objects.create(kiosk=self, denomination=denomination, count=count)


def _engine_version() -> str:
    from biometrics import engine  # imported on use: loading dlib is not free for tests that never need it

    return engine.ENGINE_VERSION


def random_face_vector() -> np.ndarray:
    """A synthetic encoding of some face: as long as real ones (0.6), far from any other random one."""
    vector = np.random.default_rng().normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector) * 0.6


class EnrolmentFactory(factory.django.DjangoModelFactory[Enrolment]):
    """An enrolment row (no photos); pass `status` for anything past capturing."""

    class Meta:
        model = Enrolment

    customer = factory.SubFactory(CustomerFactory)
    photos_required = 1


class FaceTemplateFactory(factory.django.DjangoModelFactory[FaceTemplate]):
    """A template of the running engine, not yet in the gallery; `vector` sets the encoding (random face)."""

    class Meta:
        model = FaceTemplate
        exclude = ("vector",)

    enrolment = factory.SubFactory(EnrolmentFactory)
    customer = factory.SelfAttribute("enrolment.customer")
    vector = factory.LazyFunction(random_face_vector)
    encoding = factory.LazyAttribute(lambda o: encoding_pack(o.vector))
    engine_version = factory.LazyFunction(_engine_version)
