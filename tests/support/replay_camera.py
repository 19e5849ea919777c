"""Fake-camera files of the shared clip's performer turning his head: the clip itself, and the same clip
replayed on a screen in front of the camera (a synthetic rendering).

Chromium's fake camera starts its file at the first frame when the page opens the camera, plays it in real
time and loops it. The kiosk samples it at a rate set by how fast the server answers, so a plain clip makes
the session depend on timing: where the sampled frames fall in the turn, and whether a loop replays frames
the session already saw (a replay failure). The camera here is built so that no timing matters:

- a hold on the turn's first frame (the session's liveness reference lands there),
- the turn itself in real time (frames 82-106 of the clip: the performer turns to his own right),
- a hold on the turned pose, then he looks back at the screen (the turn played backwards to frame 82),
- the mouth challenge: frame 82 with the mouth opened (rendered: lower lip and jaw dropped by 0.3 mouth
  widths, the gap darkened; ``rendered_turn.render_mouth``) for a second, as the kiosk asks. The clip's
  own open-mouth frames come while he is still turned (112-114, where the opening read against his
  starting pose is too small) or with the stage light leaving PAD at 0.5-0.7 (140-172),
- a long hold on the first frame, long enough that the session decides before the file loops.

Every delivered frame carries fresh sensor noise: the server refuses byte-identical frames as replays.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.support import camera

CLIP = "video/short_hamilton_clip.mp4"
# Frames of the clip (at its 30 fps) where the performer turns to his own right, from ~21 to ~-16 degrees
# of yaw (liveness.head_yaw): ~36 degrees where 25 are asked. The turn goes on to ~-26 at frame 112, but
# on the screen rendering of frames 108-112 dlib finds the face in only 4-13 of 16 noisy copies (16 of 16
# at 102-106), and the hold must show a face on every frame.
TURN_FIRST, TURN_LAST = 82, 106
FPS = camera.DEFAULT_FPS
HOLD_BEFORE_S = 2.0
TURN_HOLD_S = 1.5
LOOK_BACK_S = 0.6
MOUTH_OPENING = 0.3  # mouth widths: the rendered opening raises the mouth ratio from 0.21 to 0.40
MOUTH_OPEN_S = 1.2
HOLD_AFTER_S = 12.0
NOISE = 3  # sensor noise amplitude, in 8-bit levels


@dataclass(frozen=True)
class Timeline:
    """Which source frame (index into ``sources``) each delivered camera frame shows."""

    sources: list[np.ndarray]  # the distinct clip frames, letterboxed to 640x480 RGB
    order: list[int]
    turn_start: int  # the camera frame where the turn starts (each source frame once from there)


def clip_turn(clip_path: Path) -> Timeline:
    """The clip's right turn, held before and after, at the camera's rate (every other clip frame), then
    the look back and the mouth opened."""
    from bench.geometry import video_frames
    from tests.support.rendered_turn import render_mouth

    sources = [
        camera.letterbox(rgb, width=camera.DEFAULT_WIDTH, height=camera.DEFAULT_HEIGHT)
        for index, _seconds, rgb in video_frames(clip_path)
        if TURN_FIRST <= index <= TURN_LAST and (index - TURN_FIRST) % 2 == 0
    ]
    if not sources:
        raise ValueError(f"{clip_path} has no frames {TURN_FIRST}-{TURN_LAST}")
    turn = len(sources)
    sources.append(render_mouth(sources[0], [MOUTH_OPENING])[0])
    before = [0] * round(HOLD_BEFORE_S * FPS)
    turned = [turn - 1] * round(TURN_HOLD_S * FPS)
    look_back = [0] * round(LOOK_BACK_S * FPS)
    opened = [turn] * round(MOUTH_OPEN_S * FPS)
    after = [0] * round(HOLD_AFTER_S * FPS)
    back = list(range(turn - 1, -1, -1))  # the turn played backwards: he looks back at the screen
    order = [*before, *range(turn), *turned, *back, *look_back, *opened, *after]
    return Timeline(sources, order, turn_start=len(before))


def screen_replay(
    rgb: np.ndarray, *, pitch: float = 2.6, glare: tuple[float, float] = (0.7, 0.25)
) -> np.ndarray:
    """The frame shown on an LCD held up to the camera (synthetic): display gamma with raised black and
    duller colours, the panel's RGB stripe sub-pixels and dark gaps between its rows at a pitch that does
    not divide the camera's pixels (moire once the camera's optics blur them), and a fixed glare spot
    from a light behind the attacker."""
    import cv2

    img = rgb.astype(np.float32) / 255.0
    grey = img.mean(axis=2, keepdims=True)
    img = 0.08 + 0.85 * (grey + 0.7 * (img - grey)) ** 1.5
    height, width = img.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    stripe = np.floor(3 * x / pitch).astype(int) % 3
    mask = np.where(stripe[..., None] == np.arange(3), 1.0, 0.7).astype(np.float32)
    mask *= (1.0 - 0.2 * ((y % pitch) < 0.8))[..., None]
    img = cv2.GaussianBlur(img * mask / mask.mean(axis=(0, 1)), (0, 0), 0.6)
    spot_x, spot_y = glare[0] * width, glare[1] * height
    img += 0.3 * np.exp(-((x - spot_x) ** 2 + (y - spot_y) ** 2) / (2 * (0.12 * width) ** 2))[..., None]
    return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)


def y4m_write(timeline: Timeline, out_path: Path, *, replayed: bool, seed: int = 16) -> Path:
    """The camera file: each source frame (on a screen when ``replayed``) with fresh sensor noise on every
    delivered frame. The noise goes onto the YUV samples, so each source frame is converted once."""
    shown = [screen_replay(frame) if replayed else frame for frame in timeline.sources]
    planes = [np.frombuffer(camera.rgb_to_i420(frame), np.uint8).astype(np.int16) for frame in shown]
    rng = np.random.default_rng(seed)
    with Path(out_path).open("wb") as stream:
        stream.write(camera.y4m_header(width=camera.DEFAULT_WIDTH, height=camera.DEFAULT_HEIGHT, fps=FPS))
        for index in timeline.order:
            noise = rng.integers(-NOISE, NOISE + 1, planes[index].shape, dtype=np.int16)
            stream.write(b"FRAME\n")
            stream.write(np.clip(planes[index] + noise, 0, 255).astype(np.uint8).tobytes())
    return Path(out_path)


def y4m_read(path: Path, *, frames: set[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(index, RGB) of a .y4m written by ``camera.y4m_from_frames``, decoded the way Chromium reads it
    (limited-range BT.601 4:2:0): what the page's video element gets."""
    import cv2

    with Path(path).open("rb") as stream:
        header = stream.readline().decode("ascii").split()
        size = {tag[0]: tag[1:] for tag in header[1:]}
        width, height = int(size["W"]), int(size["H"])
        length = camera.frame_size(width=width, height=height)
        for index in itertools.count():
            marker = stream.readline()
            if not marker:
                return
            planes = stream.read(length)
            if frames is not None and index not in frames:
                continue
            yuv = np.frombuffer(planes, np.uint8).reshape(height * 3 // 2, width)
            yield index, cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)


def performer_encodings(genuine_y4m: Path, timeline: Timeline) -> list[np.ndarray]:
    """The performer's face encodings from the very frames the page will send: each distinct source frame
    of the turn as Chromium decodes the camera file, through a JPEG at the page's quality. On the clip's
    small stage face (~86 px) a turn of 15-20 degrees moves the encoding 0.45-0.6 from the first frame's
    (the match threshold is 0.50), so enrolling from every frame of the turn is what keeps every frame of
    the session a match."""
    from biometrics import engine

    # The first delivered frame of every source frame (the turn, and the opened mouth after it).
    wanted = {timeline.order.index(source) for source in range(len(timeline.sources))}
    encodings = []
    for index, rgb in y4m_read(genuine_y4m, frames=wanted):
        image = engine.decode_image(engine.jpeg_encode(rgb, quality=85))
        faces = engine.detect_faces(image, purpose="live")
        if len(faces) != 1:
            raise ValueError(f"frame {index} of {genuine_y4m} shows {len(faces)} faces")
        encodings.append(engine.encode_face(image, faces[0]))
    return encodings
