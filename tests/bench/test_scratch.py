"""The benchmark's child-process steps run only in a benchmark's scratch folder, never on a real bank."""

from __future__ import annotations

import pytest

from bench import scratch


@pytest.mark.parametrize("argv", [["kiosks", "1"], ["templates", "5"], ["shard-load", "1"]])
def test_steps_refuse_to_run_outside_a_scratch_folder(argv, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    with pytest.raises(SystemExit, match="only inside a benchmark's scratch folder"):
        scratch.main(argv)


def test_an_unknown_step_is_refused():
    with pytest.raises(SystemExit, match="unknown step 'serve'"):
        scratch.main(["serve"])
