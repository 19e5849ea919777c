"""The attack geometry of the liveness benchmark and the seed project's frame path."""

from __future__ import annotations

import numpy as np
import pytest

from bench import geometry
from bench.frames import letterboxed
from bench.seed import SeedReference
from biometrics import engine

SQUARE = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)


def test_a_shifted_photo_is_painted_where_the_homography_puts_it():
    canvas = np.zeros((40, 40, 3), np.uint8)
    photo = np.full((10, 10, 3), 200, np.uint8)
    homography = geometry.perspective_transform(SQUARE, SQUARE + 20.5)
    painted = geometry.warp_onto(canvas, photo, homography)
    assert painted[25, 25].tolist() == [200, 200, 200]  # inside the pasted photo (20.5 to 30.5)
    assert painted[5, 5].tolist() == [0, 0, 0] and canvas.max() == 0  # elsewhere untouched, canvas copied
    assert 0 < painted[20, 25, 0] < 200  # the edge is blended, not a hard seam


def test_a_photo_projected_behind_the_camera_is_refused():
    behind = np.diag([1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="behind the camera"):
        geometry.warp_onto(np.zeros((20, 20, 3), np.uint8), np.zeros((5, 5, 3), np.uint8), behind)


@pytest.mark.faces
def test_video_frames_are_numbered_timed_rgb_frames(faces_dir):
    frames = geometry.video_frames(faces_dir / "video" / "short_hamilton_clip.mp4")
    (first_index, first_s, first), (second_index, second_s, _) = next(frames), next(frames)
    assert (first_index, second_index) == (0, 1) and first_s == 0.0 < second_s < 0.1
    assert first.ndim == 3 and first.shape[2] == 3 and first.dtype == np.uint8


@pytest.mark.faces
def test_the_seed_path_matches_the_same_person_and_not_a_stranger(faces_dir):
    frame = letterboxed(faces_dir / "people" / "barack_obama" / "obama_1.jpg")
    stranger = engine.decode_image((faces_dir / "people" / "joe_biden" / "biden_1.jpg").read_bytes())
    obama = engine.decode_image((faces_dir / "people" / "barack_obama" / "obama_2.jpg").read_bytes())
    known_obama = engine.encode_face(obama, engine.detect_faces(obama, purpose="enrol")[0])
    known_stranger = engine.encode_face(stranger, engine.detect_faces(stranger, purpose="enrol")[0])
    seed = SeedReference()
    assert seed.frame_matches(frame, [known_stranger.astype(np.float64), known_obama.astype(np.float64)])
    assert not seed.frame_matches(frame, [known_stranger.astype(np.float64)])
