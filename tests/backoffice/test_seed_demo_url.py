"""seed_demo prints the address the portal is really served at (make run passes HOST and PORT)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_the_served_url(settings, monkeypatch, tmp_path, capsys):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.ATM_FACES_DIR = tmp_path / "no-faces"

    call_command("seed_demo", "--base-url", "http://0.0.0.0:8123/")

    printed = capsys.readouterr().out
    assert "http://0.0.0.0:8123/admin/" in printed
    assert "http://0.0.0.0:8123/kiosk/provision/#" in printed
    assert "http://0.0.0.0:8123/branch/" in printed
    assert "127.0.0.1:8000" not in printed


def test_make_run_passes_its_host_and_port():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "seed_demo --base-url http://$(HOST):$(PORT)" in makefile


def test_seed_demo_creates_a_supervisor_who_may_approve(settings, tmp_path, capsys):
    """Issue 23: a newcomer proposes as "teller" and approves as "supervisor" right away."""
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.ATM_FACES_DIR = tmp_path / "no-faces"
    call_command("seed_demo")
    supervisor = get_user_model().objects.get(username="supervisor")
    assert supervisor.is_staff and not supervisor.is_superuser
    assert supervisor.has_perm("accounts.approve_changerequest")
    assert "supervisor" in capsys.readouterr().out
