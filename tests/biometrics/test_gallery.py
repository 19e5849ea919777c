"""The in-memory 1:N gallery against a brute-force reference (synthetic encodings, no engine)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from biometrics.gallery import Gallery, Match


def _vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    return (rng.standard_normal((count, 128)) * 0.09).astype(np.float32)


def _brute_force(
    encodings: dict[int, np.ndarray], owners: dict[int, int], probe: np.ndarray, exclude: int | None
) -> tuple[int, float] | None:
    best: tuple[int, float] | None = None
    for template_id, vector in encodings.items():
        if owners[template_id] == exclude:
            continue
        distance = float(np.linalg.norm(vector.astype(np.float64) - probe.astype(np.float64)))
        if best is None or distance < best[1]:
            best = (template_id, distance)
    return best


def test_empty_gallery_finds_nothing():
    gallery = Gallery()
    assert len(gallery) == 0 and gallery.version == 0
    assert gallery.nearest(np.zeros(128, dtype=np.float32)) is None


def test_add_then_nearest_returns_the_closest_template_and_its_distance():
    rng = np.random.default_rng(1)
    vectors = _vectors(rng, 3)
    gallery = Gallery()
    gallery.add([10, 11, 12], [1, 1, 2], vectors)
    probe = vectors[2] + np.float32(0.01)
    match = gallery.nearest(probe)
    assert match == Match(
        template_id=12, customer_id=2, distance=pytest.approx(0.01 * np.sqrt(128), rel=1e-4)
    )
    assert len(gallery) == 3 and 11 in gallery


def test_exclude_customer_skips_their_templates():
    rng = np.random.default_rng(2)
    vectors = _vectors(rng, 3)
    gallery = Gallery()
    gallery.add([1, 2, 3], [100, 100, 200], vectors)
    match = gallery.nearest(vectors[0], exclude_customer_id=100)
    assert match is not None and match.template_id == 3 and match.customer_id == 200
    assert gallery.nearest(vectors[0], exclude_customer_id=999).template_id == 1


def test_excluding_the_only_customer_finds_nothing():
    gallery = Gallery()
    gallery.add([1, 2], [7, 7], _vectors(np.random.default_rng(3), 2))
    assert gallery.nearest(np.zeros(128, dtype=np.float32), exclude_customer_id=7) is None


def test_removed_templates_are_never_matched_and_the_moved_row_still_is():
    rng = np.random.default_rng(4)
    vectors = _vectors(rng, 5)
    gallery = Gallery()
    gallery.add([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], vectors)
    gallery.remove([2])  # the last row (id 5) moves into row 1
    assert len(gallery) == 4 and 2 not in gallery
    assert gallery.nearest(vectors[1]).template_id != 2
    moved = gallery.nearest(vectors[4])
    assert (
        moved.template_id == 5 and moved.customer_id == 5 and moved.distance == pytest.approx(0.0, abs=1e-6)
    )
    gallery.remove([2, 999])  # revoking twice or an unknown id is harmless
    assert len(gallery) == 4
    gallery.remove([1, 3, 4, 5])
    assert len(gallery) == 0 and gallery.nearest(vectors[0]) is None


def test_adding_an_existing_template_id_replaces_it():
    rng = np.random.default_rng(5)
    old, new = _vectors(rng, 2)
    gallery = Gallery()
    gallery.add([1], [10], old[None, :])
    gallery.add([1], [11], new[None, :])
    assert len(gallery) == 1
    match = gallery.nearest(new)
    assert match.customer_id == 11 and match.distance == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("ids", "owners", "count"),
    [([1, 2], [1], 2), ([1, 1], [1, 1], 2), ([1, 2], [1, 1], 3)],
)
def test_add_refuses_inconsistent_input(ids, owners, count):
    gallery = Gallery()
    with pytest.raises(ValueError):
        gallery.add(ids, owners, _vectors(np.random.default_rng(6), count))
    assert len(gallery) == 0


def test_add_refuses_nan_and_nearest_refuses_a_wrong_probe():
    gallery = Gallery()
    bad = np.zeros((1, 128), dtype=np.float32)
    bad[0, 5] = np.nan
    with pytest.raises(ValueError):
        gallery.add([1], [1], bad)
    with pytest.raises(ValueError):
        gallery.nearest(np.zeros(127, dtype=np.float32))


def test_grows_past_its_initial_capacity():
    rng = np.random.default_rng(7)
    gallery = Gallery()
    before = gallery.nbytes()
    vectors = _vectors(rng, 5000)
    for start in range(0, 5000, 10):
        ids = np.arange(start, start + 10)
        gallery.add(ids, ids // 10, vectors[start : start + 10])
    assert len(gallery) == 5000 and gallery.nbytes() > before
    for index in (0, 1023, 1024, 4999):
        assert gallery.nearest(vectors[index]).template_id == index


def test_matches_brute_force_through_random_adds_and_removes():
    rng = np.random.default_rng(8)
    gallery = Gallery()
    encodings: dict[int, np.ndarray] = {}
    owners: dict[int, int] = {}
    next_id = 0
    for _ in range(30):
        count = int(rng.integers(1, 120))
        ids = np.arange(next_id, next_id + count)
        customers = rng.integers(0, 60, size=count)
        vectors = _vectors(rng, count)
        gallery.add(ids, customers, vectors)
        for template_id, customer, vector in zip(ids, customers, vectors, strict=True):
            encodings[int(template_id)] = vector
            owners[int(template_id)] = int(customer)
        next_id += count
        revoked = rng.choice(
            list(encodings), size=min(len(encodings), int(rng.integers(0, 25))), replace=False
        )
        gallery.remove(revoked.tolist())
        for template_id in revoked.tolist():
            del encodings[template_id], owners[template_id]
        assert len(gallery) == len(encodings)

        for _ in range(5):
            if rng.random() < 0.5 and encodings:
                base = encodings[int(rng.choice(list(encodings)))]
                probe = base + _vectors(rng, 1)[0] * np.float32(0.3)
            else:
                probe = _vectors(rng, 1)[0]
            exclude = int(rng.integers(0, 60)) if rng.random() < 0.5 else None
            expected = _brute_force(encodings, owners, probe, exclude)
            match = gallery.nearest(probe, exclude_customer_id=exclude)
            if expected is None:
                assert match is None
                continue
            assert match is not None
            assert match.template_id == expected[0]
            assert match.customer_id == owners[expected[0]]
            assert match.distance == pytest.approx(expected[1], abs=1e-5)


def test_queries_during_concurrent_changes_stay_consistent():
    rng = np.random.default_rng(9)
    gallery = Gallery()
    stable = _vectors(rng, 1)
    gallery.add([0], [0], stable)
    churn = _vectors(rng, 2001)
    errors: list[BaseException] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for start in range(1, 2000, 50):
                ids = np.arange(start, start + 50)
                gallery.add(ids, ids, churn[start : start + 50])
                gallery.remove(ids[::2].tolist())
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        match = gallery.nearest(stable[0])
        assert match is not None and match.template_id == 0 and match.distance == pytest.approx(0.0, abs=1e-6)
    thread.join()
    assert not errors
    assert len(gallery) == 1 + 40 * 25  # the stable template and half of each of the 40 batches of 50


def test_preallocated_capacity_holds_the_rows_without_growing():
    gallery = Gallery(capacity=3000)
    allocated = gallery.nbytes()
    vectors = _vectors(np.random.default_rng(10), 3000)
    gallery.add(np.arange(3000), np.zeros(3000, dtype=np.int64), vectors)
    assert gallery.nbytes() == allocated and len(gallery) == 3000
    assert gallery.nearest(vectors[2999]).template_id == 2999
