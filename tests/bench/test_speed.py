"""benchmark_speed on a tiny input: four photos, small galleries, a few frames. The figures must be there;
their values are timings of a shared machine and are not checked."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from bench.http_path import WARM_UP_FRAMES
from tests.support import environment

pytestmark = pytest.mark.faces

TINY = {"photos": 1, "customers": [300], "repeat": 2, "json": True}
PERCENTILES = {"p50", "p95", "n"}


def _run(capsys: pytest.CaptureFixture[str], **options: object) -> tuple[dict, str]:
    call_command("benchmark_speed", **{**TINY, **options})
    out, err = capsys.readouterr()
    return json.loads(out), err


def test_in_process_rows(speed_faces_dir, capsys):
    report, log = _run(capsys, faces=speed_faces_dir, skip_tier=True, skip_http=True, pad=True)
    assert report["frames"] == 3 and report["machine"]["engine"]
    for floor in ("engine_floor_ms", "engine_floor_pad_ms"):
        assert set(report[floor]) == PERCENTILES and report[floor]["n"] == 2
    for row in ("gallery_search_ms", "product_path_ms", "seed_path_ms"):
        assert set(report[row]) == {"300"} and set(report[row]["300"]) == PERCENTILES
    assert report["gallery_memory_bytes"]["300"] > 300 * 128 * 4
    assert report["speedup_vs_seed"]["300"] > 0
    assert report["incremental_add_ms"]["gallery_size"] == 300
    assert report["enrol_encode_s"] > 0
    cardless = report["cardless_decision_ms"]
    assert {"card_1to1", "cardless_1", "cardless_3", "cardless_5", "cardless_unknown_number"} <= set(cardless)
    assert cardless["cardless_over_card_p50"] > 0
    assert not {"frame_verify_ms", "matcher_tier", "pad_on_extra_ms"} & set(report)
    assert "engine floor:" in log and "engine floor with PAD:" in log
    assert "N=300:" in log and "card-less decision:" in log


def test_http_path_through_a_real_gunicorn_with_pad_off_and_on(speed_faces_dir, capsys):
    report, log = _run(
        capsys,
        faces=speed_faces_dir,
        skip_local=True,
        skip_tier=True,
        http_frames=2,
        kiosk_clients=[1],
        pad=True,
    )
    for suffix in ("", "_pad"):
        verify = report[f"frame_verify{suffix}_ms"]
        assert set(verify) == PERCENTILES and verify["n"] == 2
        assert set(report[f"frames_per_s{suffix}"]) == {"1"} and report[f"frames_per_s{suffix}"]["1"] > 0
        assert f"overhead_ratio{suffix}" not in report  # no engine floor without the in-process rows
    # PAD scored every frame of the PAD-on server: the warm-up session's and the measured session's.
    assert report["pad_frames_scored"] == WARM_UP_FRAMES + 2
    assert isinstance(report["pad_on_extra_ms"], float)
    assert report["server_workers"] == 2 and "engine_floor_ms" not in report
    assert "frame verify over HTTP:" in log and "frame verify over HTTP (PAD on):" in log
    assert "1 kiosk(s):" in log and "PAD-scored frames:" in log


@pytest.mark.redis
# Test settings run tasks eagerly; the benchmark's queries go to the real workers through send_task.
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_matcher_tier_through_celery_workers(speed_faces_dir, capsys):
    broker = environment.redis_url()
    report, log = _run(
        capsys,
        faces=speed_faces_dir,
        skip_local=True,
        skip_http=True,
        tier_customers=[40],
        tier_shards=[1],
        tier_queries=3,
        tier_web_frames=1,
        broker=broker,
    )
    tier = report["matcher_tier"]
    assert tier["templates_per_customer"] == 1 and set(tier) == {"templates_per_customer", "40"}
    row = tier["40"]
    assert row["insert"]["templates"] == 43
    assert row["web_worker"]["frames_served"] == 2 and row["web_worker"]["gallery_modules_loaded"] == []
    assert row["web_worker"]["outcome"] == "match" and row["web_worker"]["start_to_first_frame_ms"] > 0
    assert row["shard_load"]["1"]["templates"] == 43
    query = row["query_ms"]["1"]
    assert query["n"] == 3 and query["incomplete"] == 0 and len(query["worker_rss_mb"]) == 1
    assert "tier N=40:" in log
