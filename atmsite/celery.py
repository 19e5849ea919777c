"""Celery application.

With no CELERY_BROKER_URL the settings make tasks run eagerly in-process (the embedded default); with
`CELERY_BROKER_URL=redis://...` a real worker runs them: `celery -A atmsite worker`.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atmsite.settings.base")

app = Celery("atmsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _load_face_models_after_fork(**_: object) -> None:
    # dlib models must be loaded in the child after fork, never in the parent: prefork workers that inherit
    # a loaded dlib state crash or silently share locks.
    from biometrics import engine

    engine.warm_up()


@worker_ready.connect
def _matcher_shards_load(sender: object = None, **_: object) -> None:
    # A worker consuming match.<k> loads its shard before its first query: a query waiting behind a
    # 10^6-template load would miss its deadline anyway (and expire), so load first, then consume.
    task_consumer = getattr(sender, "task_consumer", None)
    names = [queue.name for queue in getattr(task_consumer, "queues", [])]
    from django.conf import settings

    if any(name.startswith(f"{settings.MATCHER_QUEUE}.") for name in names):
        from biometrics.services.matcher_shard import shards_preload

        shards_preload(names)
