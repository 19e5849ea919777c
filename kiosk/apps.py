from django.apps import AppConfig


class KioskConfig(AppConfig):
    name = "kiosk"
    verbose_name = "ATM kiosks"

    def ready(self) -> None:
        from accounts.overview import customer_overview_part_register
        from accounts.services.cards import CardCounters, card_counters_register

        from . import (
            approvals,
            checks,  # noqa: F401 - registers the system checks
            selectors,
        )
        from .services import card_security

        # Staff unblocks and face-lock resets (accounts) clear our per-card counters; accounts cannot import
        # kiosk.
        card_counters_register(
            CardCounters(
                reset=lambda card: card_security.card_security_reset(card=card),
                face_lock_clear=card_security.card_face_lock_clear,
            )
        )
        # Customer 360 (accounts) shows our parts; accounts cannot import kiosk.
        customer_overview_part_register(
            "cardless", lambda customer: selectors.cardless_access(customer=customer)
        )
        customer_overview_part_register("sessions", selectors.customer_sessions_recent)
        # Four-eyes (accounts) knows kinds, not apps: we hand it the card-less kinds we own.
        approvals.kiosk_change_kinds_register()
        self._rekeying_register()

    def _rekeying_register(self) -> None:
        # What `manage.py rotate_keys` (audit) re-encrypts of ours: audit cannot import kiosk.
        from audit.rekeying import encrypted_column_register

        from .models import CashInDevice, DeferredNaming

        encrypted_column_register(name="naming_probes", model=DeferredNaming, field="probe")
        encrypted_column_register(name="cash_in_keys", model=CashInDevice, field="signing_key")
