# Issue 25: the deposit escrow leaves KioskSession for its own model (one row per open deposit); the
# session's columns go in 0016, in a transaction of their own (no schema change after the data move here).

import django.db.models.deletion
from django.db import migrations, models

SESSION_FIELDS = (
    "deposit_opened_at",
    "deposit_escrow_notes",
    "deposit_escrow_key",
    "deposit_escrowed_at",
    "deposit_escrow_device_id",
)


def escrows_out_of_sessions(apps, schema_editor):
    """Every session with an open deposit (opened, or notes held) gets its DepositEscrow row."""
    KioskSession = apps.get_model("kiosk", "KioskSession")
    DepositEscrow = apps.get_model("kiosk", "DepositEscrow")
    CashInDevice = apps.get_model("kiosk", "CashInDevice")
    devices = set(CashInDevice.objects.values_list("pk", flat=True))
    open_deposits = KioskSession.objects.filter(
        models.Q(deposit_opened_at__isnull=False) | ~models.Q(deposit_escrow_key="")
    ).values_list("pk", *SESSION_FIELDS)
    DepositEscrow.objects.bulk_create(
        DepositEscrow(
            session_id=pk,
            opened_at=opened_at or escrowed_at,
            notes=notes or {},
            idempotency_key=key,
            escrowed_at=escrowed_at,
            device_id=device_id if device_id in devices else None,
        )
        for pk, opened_at, notes, key, escrowed_at, device_id in open_deposits
    )


def escrows_into_sessions(apps, schema_editor):
    KioskSession = apps.get_model("kiosk", "KioskSession")
    DepositEscrow = apps.get_model("kiosk", "DepositEscrow")
    for escrow in DepositEscrow.objects.all():
        KioskSession.objects.filter(pk=escrow.session_id).update(
            deposit_opened_at=escrow.opened_at,
            deposit_escrow_notes=escrow.notes,
            deposit_escrow_key=escrow.idempotency_key,
            deposit_escrowed_at=escrow.escrowed_at,
            deposit_escrow_device_id=escrow.device_id,
        )


class Migration(migrations.Migration):

    dependencies = [
        ('kiosk', '0014_merge_20261207_0130'),
    ]

    operations = [
        migrations.CreateModel(
            name='DepositEscrow',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('opened_at', models.DateTimeField(help_text='The kiosk opened a deposit: the cash-in module may report a count.')),
                ('notes', models.JSONField(blank=True, default=dict, help_text='Notes counted into escrow by the cash-in module, {denomination: count}; not credited.')),
                ('idempotency_key', models.CharField(blank=True, help_text='Idempotency key of the escrowed deposit; the ledger row gets it.', max_length=64)),
                ('escrowed_at', models.DateTimeField(blank=True, null=True)),
                ('device', models.ForeignKey(blank=True, help_text='The module that counted.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='kiosk.cashindevice')),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='deposit_escrow', to='kiosk.kiosksession')),
            ],
            options={
                'verbose_name': 'deposit escrow',
                'verbose_name_plural': 'deposit escrows',
            },
        ),
        migrations.RunPython(escrows_out_of_sessions, escrows_into_sessions),
    ]
