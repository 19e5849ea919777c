"""The face engine on real photos: detection (live and enrol), encodings, quality, models per process.

Decoding and refusals: test_engine_decode.py.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from biometrics import engine
from biometrics.engine import Box, detect_faces, distances, encode_face
from tests.biometrics.engine_photos import decoded, encoding

PORTRAITS = [
    "people/barack_obama/obama_1.jpg",
    "people/barack_obama/obama_5_480p.jpg",
    "people/barack_obama/obama_6_small.jpg",
    "people/joe_biden/biden_2.jpg",
    "people/kit_harington/kit_2.jpg",
    "people/rose_leslie/rose_2.jpg",
    "people/alex_lacamoire/alex_1.png",
    "people/lin_manuel_miranda/lin_1.png",
]
CROPS = [
    "people/john_salley/000179_02159509.jpg",
    "people/john_savage/000289_01099139.jpg",
    "people/john_schneider/000326_00926128.jpg",
    "people/john_shimkus/000394_02340150.jpg",
    "people/john_simm/000310_00470421.jpg",
]


def _iou(box: Box, expected: tuple[float, float, float, float]) -> float:
    left, top, right, bottom = expected
    inter_w = max(0.0, min(box.right, right) - max(box.left, left))
    inter_h = max(0.0, min(box.bottom, bottom) - max(box.top, top))
    inter = inter_w * inter_h
    return inter / (box.width * box.height + (right - left) * (bottom - top) - inter)


def _letterbox(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float, int, int]:
    scale = min(width / image.shape[1], height / image.shape[0])
    new_w, new_h = round(image.shape[1] * scale), round(image.shape[0] * scale)
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    frame[y : y + new_h, x : x + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return frame, scale, x, y


def test_engine_import_loads_no_model_and_no_face_recognition():
    code = (
        "import sys; import biometrics.engine as e; "
        "assert e._models is None; assert 'face_recognition' not in sys.modules; print('ok')"
    )
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=repo
    )
    assert result.stdout.strip() == "ok", result.stderr


# ------------------------------------------------------------------------------------------------ detection


@pytest.mark.faces
@pytest.mark.parametrize("relative", PORTRAITS)
def test_finds_one_face_in_portraits(faces_dir, relative):
    image = decoded(faces_dir / relative)
    faces = detect_faces(image, purpose="enrol")
    assert len(faces) == 1
    face = faces[0]
    height, width = image.shape[:2]
    assert 0 <= face.box.left < face.box.right <= width and 0 <= face.box.top < face.box.bottom <= height
    assert face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    # The landmarks lie on the face: their centre is inside the box.
    centre_x, centre_y = face.landmarks.mean(axis=0)
    assert face.box.left <= centre_x <= face.box.right and face.box.top <= centre_y <= face.box.bottom
    assert face.quality.face_px == min(face.box.width, face.box.height)
    assert face.quality.sharpness > 0 and 0 < face.quality.brightness < 255


@pytest.mark.faces
@pytest.mark.parametrize(
    ("relative", "at_least"),
    [
        ("scenes/two_people.jpg", 2),
        ("scenes/kit_with_rose.jpg", 2),
        ("scenes/obama_and_biden.jpg", 2),
        ("scenes/group_2007_007763.jpg", 5),
        ("scenes/bald_guys.jpg", 10),
    ],
)
def test_finds_several_faces_in_scenes_largest_first(faces_dir, relative, at_least):
    faces = detect_faces(decoded(faces_dir / relative), purpose="enrol")
    assert len(faces) >= at_least
    areas = [face.box.width * face.box.height for face in faces]
    assert areas == sorted(areas, reverse=True)


@pytest.mark.faces
def test_live_path_sees_both_people(faces_dir):
    frame, _, _, _ = _letterbox(decoded(faces_dir / "scenes/two_people.jpg"), 640, 480)
    assert len(detect_faces(frame, purpose="live")) == 2


@pytest.mark.faces
@pytest.mark.parametrize("purpose", ["live", "enrol"])
def test_no_human_face_among_dogs(faces_dir, purpose):
    assert detect_faces(decoded(faces_dir / "scenes/dogs.jpg"), purpose=purpose) == []


@pytest.mark.faces
@pytest.mark.parametrize("relative", CROPS)
def test_aligned_crops_give_one_face(faces_dir, relative):
    image = decoded(faces_dir / relative)
    faces = detect_faces(image, purpose="enrol")
    assert len(faces) == 1
    assert faces[0].box.width >= 100  # the face fills most of the 150 px crop


@pytest.mark.faces
def test_tighter_crop_is_found_by_padding(faces_dir):
    chip = decoded(faces_dir / "people/john_salley/000183_02159543.jpg")
    tight = np.ascontiguousarray(chip[26:123, 26:123])  # forehead and chin cut off
    models = engine._get_models()
    assert engine._hog(models, tight, engine.ENROL_UPSAMPLE) == []  # the plain detector gives up here
    faces = detect_faces(tight, purpose="enrol")
    assert len(faces) == 1
    genuine = encoding(faces_dir / "people/john_salley/000179_02159509.jpg")
    assert distances(genuine[None, :], encode_face(tight, faces[0]))[0] < 0.6


@pytest.mark.faces
def test_small_square_without_face_is_not_a_face(faces_dir):
    dogs = decoded(faces_dir / "scenes/dogs.jpg")
    patch = np.ascontiguousarray(cv2.resize(dogs[300:600, 300:600], (150, 150), interpolation=cv2.INTER_AREA))
    assert detect_faces(patch, purpose="enrol") == []


@pytest.mark.faces
@pytest.mark.parametrize("relative", ["people/barack_obama/obama_1.jpg", "people/kit_harington/kit_2.jpg"])
@pytest.mark.parametrize(("width", "height"), [(640, 480), (1280, 960)])
def test_live_detection_on_letterboxed_frame_reports_original_coordinates(faces_dir, relative, width, height):
    photo = decoded(faces_dir / relative)
    expected_face = detect_faces(photo, purpose="enrol")[0].box
    frame, scale, x, y = _letterbox(photo, width, height)
    expected = (
        expected_face.left * scale + x,
        expected_face.top * scale + y,
        expected_face.right * scale + x,
        expected_face.bottom * scale + y,
    )
    faces = detect_faces(frame, purpose="live")
    assert len(faces) == 1
    assert _iou(faces[0].box, expected) > 0.6
    assert faces[0].landmarks[:, 0].max() <= width and faces[0].landmarks[:, 1].max() <= height


@pytest.mark.faces
@pytest.mark.parametrize("face_width", [80, 100])
def test_live_detection_at_kiosk_distance(faces_dir, face_width):
    """A face 80-100 px wide in a 640x480 frame (a customer at arm's length from the kiosk camera)."""
    photo = decoded(faces_dir / "people/barack_obama/obama_4.jpg")
    box = detect_faces(photo, purpose="enrol")[0].box
    scale = face_width / box.width
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    centre_x, centre_y = int((box.left + box.right) / 2 * scale), int((box.top + box.bottom) / 2 * scale)
    canvas = cv2.copyMakeBorder(small, 480, 480, 640, 640, cv2.BORDER_CONSTANT, value=(90, 90, 90))
    left, top = centre_x + 640 - 320, centre_y + 480 - 216
    frame = np.ascontiguousarray(canvas[top : top + 480, left : left + 640])

    faces = detect_faces(frame, purpose="live")
    assert len(faces) == 1
    assert abs(faces[0].box.width - face_width) < face_width * 0.35
    probe = encode_face(frame, faces[0])
    assert distances(encoding(faces_dir / "people/barack_obama/obama_1.jpg")[None, :], probe)[0] < 0.5


def test_detect_faces_refuses_wrong_input():
    with pytest.raises(ValueError):
        detect_faces(np.zeros((10, 10), dtype=np.uint8), purpose="live")
    with pytest.raises(ValueError):
        detect_faces(np.zeros((10, 10, 3), dtype=np.float32), purpose="live")
    with pytest.raises(ValueError):
        detect_faces(np.zeros((10, 10, 3), dtype=np.uint8), purpose="sideways")


def test_blank_frame_has_no_face():
    assert detect_faces(np.full((480, 640, 3), 128, dtype=np.uint8), purpose="live") == []


# ------------------------------------------------------------------------------------------------ quality


@pytest.mark.faces
def test_quality_tracks_blur_and_light(faces_dir):
    image = decoded(faces_dir / "people/barack_obama/obama_5_480p.jpg")
    sharp = detect_faces(image, purpose="enrol")[0].quality
    blurred_image = cv2.GaussianBlur(image, (0, 0), 3)
    blurred = detect_faces(blurred_image, purpose="enrol")[0].quality
    darker = detect_faces(np.ascontiguousarray(image // 2), purpose="enrol")[0].quality
    assert blurred.sharpness < sharp.sharpness / 4
    assert darker.brightness < sharp.brightness * 0.6


@pytest.mark.faces
def test_sharpness_does_not_depend_on_resolution(faces_dir):
    image = decoded(faces_dir / "people/joe_biden/biden_2.jpg")  # face ~450 px
    full = detect_faces(image, purpose="enrol")[0].quality
    half_image = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    half = detect_faces(half_image, purpose="enrol")[0].quality
    assert half.face_px < full.face_px * 0.6
    assert 0.5 < half.sharpness / full.sharpness < 2.0


# ------------------------------------------------------------------------------------------------ encodings


@pytest.mark.faces
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("people/barack_obama/obama_1.jpg", "people/barack_obama/obama_2.jpg"),
        ("people/joe_biden/biden_1.jpg", "people/joe_biden/biden_2.jpg"),
        ("people/john_simm/000288_00470387.jpg", "people/john_simm/000297_00470170.jpg"),
    ],
)
def test_same_person_is_close(faces_dir, first, second):
    assert distances(encoding(faces_dir / first)[None, :], encoding(faces_dir / second))[0] < 0.5


@pytest.mark.faces
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("people/barack_obama/obama_1.jpg", "people/joe_biden/biden_1.jpg"),
        ("people/kit_harington/kit_1.jpg", "people/rose_leslie/rose_1.jpg"),
        ("people/john_salley/000179_02159509.jpg", "people/john_savage/000264_01099001.jpg"),
    ],
)
def test_different_people_are_far(faces_dir, first, second):
    assert distances(encoding(faces_dir / first)[None, :], encoding(faces_dir / second))[0] > 0.6


@pytest.mark.faces
def test_encoding_is_float32_128_and_deterministic(faces_dir):
    image = decoded(faces_dir / "people/barack_obama/obama_6_small.jpg")
    face = detect_faces(image, purpose="enrol")[0]
    first, second = encode_face(image, face), encode_face(image, face)
    assert first.dtype == np.float32 and first.shape == (128,) and np.all(np.isfinite(first))
    assert np.array_equal(first, second)
    jittered = encode_face(image, face, jitters=3)
    assert distances(first[None, :], jittered)[0] < 0.25  # jitter is random, but stays the same face


@pytest.mark.faces
def test_concurrent_threads_get_the_serial_answer(faces_dir):
    image = decoded(faces_dir / "people/barack_obama/obama_6_small.jpg")
    expected = encoding(faces_dir / "people/barack_obama/obama_6_small.jpg")
    results: list[np.ndarray] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                face = detect_faces(image, purpose="live")[0]
                results.append(encode_face(image, face))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 12
    assert all(distances(expected[None, :], result)[0] < 0.05 for result in results)


def _child_models_pid(queue: multiprocessing.Queue) -> None:
    engine._get_models()
    queue.put((engine._models_pid, multiprocessing.current_process().pid))


def test_forked_child_loads_its_own_models():
    engine.warm_up()
    parent_models = engine._models
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_models_pid, args=(queue,))
    child.start()
    models_pid, child_pid = queue.get(timeout=60)
    child.join(timeout=60)
    assert models_pid == child_pid
    assert engine._models is parent_models  # the parent keeps its own


def test_distances_match_brute_force():
    rng = np.random.default_rng(3)
    known = rng.standard_normal((200, 128)).astype(np.float32)
    probe = rng.standard_normal(128).astype(np.float32)
    result = distances(known, probe)
    assert result.dtype == np.float32 and result.shape == (200,)
    expected = [np.linalg.norm(row.astype(np.float64) - probe) for row in known]
    assert np.allclose(result, expected, rtol=1e-5)
    assert distances(np.empty((0, 128), dtype=np.float32), probe).shape == (0,)
    with pytest.raises(ValueError):
        distances(known, probe[:64])


def test_box_helpers():
    box = Box(top=10, right=50, bottom=70, left=20)
    assert (box.width, box.height) == (30, 60)
    assert box.as_dict() == {"top": 10, "right": 50, "bottom": 70, "left": 20}
