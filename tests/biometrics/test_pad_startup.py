"""With PAD on, the portal refuses to start without intact models: a system check, gunicorn's post_fork."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from biometrics import model_files, pad_models


@pytest.fixture
def models_copy(tmp_path: Path, settings, models_dir: Path) -> Path:
    for key in model_files.MODEL_FILES:
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(models_dir / key, tmp_path / key)
    settings.ATM_MODELS_DIR = tmp_path
    model_files.clear_cache()
    return tmp_path / "minifasnet"


def test_with_pad_on_and_intact_models_the_checks_pass(settings, models_copy) -> None:
    settings.PAD_ENABLED = True
    settings.LIVENESS_ENABLED = True
    call_command("check")


def test_with_pad_on_a_missing_model_stops_start_up(settings, models_copy) -> None:
    settings.PAD_ENABLED = True
    (models_copy / "MiniFASNetV1SE.onnx").unlink()
    with pytest.raises(SystemCheckError, match=r"biometrics\.E001.*MiniFASNetV1SE.*missing"):
        call_command("check")


def test_with_pad_on_an_altered_model_stops_start_up(settings, models_copy) -> None:
    settings.PAD_ENABLED = True
    target = models_copy / "MiniFASNetV2.onnx"
    target.write_bytes(target.read_bytes()[:-1] + b"\x00")
    with pytest.raises(SystemCheckError, match=r"MiniFASNetV2 .* has sha256"):
        call_command("check")


def test_with_pad_on_an_unknown_model_name_stops_start_up(settings) -> None:
    settings.PAD_ENABLED = True
    settings.PAD_MODELS = ["MiniFASNetV2", "SomethingElse"]
    with pytest.raises(SystemCheckError, match="unknown PAD model 'SomethingElse'"):
        call_command("check")


def test_with_pad_off_missing_models_do_not_matter(settings, models_copy) -> None:
    settings.PAD_ENABLED = False
    for path in models_copy.iterdir():
        path.unlink()
    call_command("check")


def test_a_threshold_outside_0_1_stops_start_up(settings) -> None:
    settings.PAD_ENABLED = True
    settings.PAD_THRESHOLD = 1.5
    with pytest.raises(SystemCheckError, match=r"biometrics\.E002"):
        call_command("check")


@pytest.mark.django_db
def test_a_gunicorn_worker_with_an_altered_model_fails_to_boot(settings, models_copy, monkeypatch) -> None:
    from atmsite import gunicorn_conf
    from biometrics.engine import pad

    settings.PAD_ENABLED = True
    monkeypatch.setattr(pad, "_pad_nets", {})  # this process may have loaded the real ones already
    monkeypatch.setattr(pad, "_pad_nets_pid", None)
    target = models_copy / "MiniFASNetV1SE.onnx"
    target.write_bytes(b"not the model")
    with pytest.raises(pad_models.PadModelError, match="MiniFASNetV1SE"):
        gunicorn_conf.post_fork(None, None)
