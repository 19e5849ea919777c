"""Child processes of the speed benchmarks: each runs on its own scratch SQLite database in a temporary
folder, with its own settings, so nothing the benchmark does reaches a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError


def scratch_env(scratch: Path, database: str, **extra: str) -> dict[str, str]:
    """This process's environment pointed at ``scratch``: DEBUG settings, the SQLite file ``database`` there,
    no broker or Redis unless ``extra`` names one."""
    env = {
        **os.environ,
        "DEBUG": "true",
        "ATM_VAR_DIR": str(scratch),
        "DATABASE_URL": f"sqlite:///{scratch / database}",
        "DJANGO_SETTINGS_MODULE": "atmsite.settings.base",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    for name in ("CELERY_BROKER_URL", "REDIS_URL", "TEST_DATABASE_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def run_in_scratch(env: dict[str, str], *args: str) -> list[str]:
    """Run ``python *args`` (a manage.py command or ``-m bench.scratch ...``) in ``env``; its stdout lines.

    A failure raises CommandError with the end of its stderr."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise CommandError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0
