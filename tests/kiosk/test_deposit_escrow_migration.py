"""Issue 25, item 4: the deposit escrow left KioskSession for DepositEscrow; the migration moves the open
deposits there and its reverse moves them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("kiosk", "0014_merge_20261207_0130")]
AFTER = [("kiosk", "0016_remove_session_deposit_fields")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    yield executor
    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(executor: MigrationExecutor, target: list[tuple[str, str]]):
    executor.loader.build_graph()
    executor.migrate(target)
    return MigrationExecutor(connection).loader.project_state(target).apps


def _session(apps, kiosk, **deposit):
    now = timezone.now()
    return apps.get_model("kiosk", "KioskSession").objects.create(
        public_id=uuid.uuid4(),
        kiosk=kiosk,
        created_at=now,
        last_activity_at=now,
        frame_nonce="n",
        **deposit,
    )


def test_open_deposits_move_to_their_own_rows_and_back(executor) -> None:
    apps = _migrate(executor, BEFORE)
    kiosk = apps.get_model("kiosk", "Kiosk").objects.create(name="Migration kiosk")
    device = apps.get_model("kiosk", "CashInDevice").objects.create(
        kiosk=kiosk, device_id="cim_migration", signing_key="k"
    )
    opened_at = timezone.now()
    held = _session(
        apps,
        kiosk,
        deposit_opened_at=opened_at,
        deposit_escrow_notes={"50": 2},
        deposit_escrow_key="escrow-key-01",
        deposit_escrowed_at=opened_at,
        deposit_escrow_device_id=device.pk,
    )
    just_opened = _session(apps, kiosk, deposit_opened_at=opened_at)
    no_deposit = _session(apps, kiosk)

    apps = _migrate(executor, AFTER)
    escrows = {row.session_id: row for row in apps.get_model("kiosk", "DepositEscrow").objects.all()}
    assert set(escrows) == {held.pk, just_opened.pk}
    assert (escrows[held.pk].notes, escrows[held.pk].idempotency_key) == ({"50": 2}, "escrow-key-01")
    assert (escrows[held.pk].device_id, escrows[held.pk].opened_at) == (device.pk, opened_at)
    assert (escrows[just_opened.pk].idempotency_key, escrows[just_opened.pk].notes) == ("", {})

    apps = _migrate(executor, BEFORE)
    sessions = apps.get_model("kiosk", "KioskSession").objects
    back = sessions.get(pk=held.pk)
    assert (back.deposit_escrow_key, back.deposit_escrow_notes) == ("escrow-key-01", {"50": 2})
    assert (back.deposit_opened_at, back.deposit_escrow_device_id) == (opened_at, device.pk)
    assert sessions.get(pk=just_opened.pk).deposit_opened_at == opened_at
    assert sessions.get(pk=no_deposit.pk).deposit_opened_at is None
