"""The synthetic gallery benchmark on a tiny gallery: the figures are there (their values are not checked)."""

from __future__ import annotations

import json

from django.core.management import call_command

from bench.gallery import gallery_benchmark


def test_benchmark_helper_reports_figures():
    figures = gallery_benchmark(size=3000, queries=5, add_batches=5)
    assert figures["size"] == 3000
    assert figures["search_p50_ms"] > 0 and figures["add10_max_ms"] > 0 and figures["nbytes_mb"] > 0


def test_command_prints_every_figure(capsys):
    call_command("benchmark_gallery", size=2000, queries=3, add_batches=3, json=True)
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {
        "size",
        "search_p50_ms",
        "search_p95_ms",
        "add10_p50_ms",
        "add10_max_ms",
        "remove10_p50_ms",
        "nbytes_mb",
        "dlib_nbytes_mb",
        "reid_nbytes_mb",
        "combined_search_p50_ms",
        "combined_search_p95_ms",
    }
    assert figures["size"] == 2000
    # The second-model rows (256 float32 + shift) double a dlib row's (128 float32) memory, at least.
    assert figures["reid_nbytes_mb"] >= 2 * figures["dlib_nbytes_mb"] * 0.9


def test_command_text_report(capsys):
    call_command("benchmark_gallery", size=1500, queries=2, add_batches=2)
    out = capsys.readouterr().out
    assert "size: 1,500.000" in out and "search_p95_ms:" in out and "remove10_p50_ms:" in out
