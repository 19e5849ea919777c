# Issue 25: the session's deposit columns, copied to DepositEscrow by 0015 (whose reverse copies them back).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('kiosk', '0015_deposit_escrow_model'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='kiosksession',
            name='deposit_escrow_device_id',
        ),
        migrations.RemoveField(
            model_name='kiosksession',
            name='deposit_escrow_key',
        ),
        migrations.RemoveField(
            model_name='kiosksession',
            name='deposit_escrow_notes',
        ),
        migrations.RemoveField(
            model_name='kiosksession',
            name='deposit_escrowed_at',
        ),
        migrations.RemoveField(
            model_name='kiosksession',
            name='deposit_opened_at',
        ),
    ]
