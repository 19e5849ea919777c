"""The face engine's decoding: images and clips accepted, converted to RGB, or refused with a reason."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from biometrics import engine
from biometrics.engine import ImageRejected, decode_image, detect_faces, distances, encode_face
from tests.biometrics.engine_photos import encoding, photo_bytes


def _png_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **params)
    return buffer.getvalue()


def _jpeg_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=92, **params)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ decoding


@pytest.mark.faces
def test_decodes_jpeg_to_contiguous_rgb(faces_dir):
    image = decode_image(photo_bytes(faces_dir / "people/barack_obama/obama_1.jpg"))
    assert image.dtype == np.uint8 and image.shape == (1137, 910, 3)
    assert image.flags.c_contiguous


@pytest.mark.faces
@pytest.mark.parametrize("relative", ["people/alex_lacamoire/alex_1.png", "scenes/obama_rgba_32bit.png"])
def test_decodes_rgba_png_to_three_channels(faces_dir, relative):
    source = Image.open(faces_dir / relative)
    assert source.mode == "RGBA"
    image = decode_image(photo_bytes(faces_dir / relative))
    assert image.shape == (source.height, source.width, 3) and image.flags.c_contiguous
    assert len(detect_faces(image, purpose="enrol")) == 1


def test_transparent_pixels_become_white():
    rgba = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    rgba.paste((200, 10, 10, 255), (0, 0, 20, 30))
    image = decode_image(_png_bytes(rgba))
    assert image.shape == (30, 40, 3)
    assert tuple(image[5, 5]) == (200, 10, 10) and tuple(image[5, 35]) == (255, 255, 255)


def test_palette_png_with_transparency_is_rgb():
    palette = Image.new("P", (16, 16), 0)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    palette.paste(1, (0, 0, 8, 16))
    image = decode_image(_png_bytes(palette, transparency=0))
    assert tuple(image[0, 0]) == (10, 200, 30) and tuple(image[0, 15]) == (255, 255, 255)


@pytest.mark.faces
def test_decodes_greyscale_to_three_equal_channels(faces_dir):
    grey = Image.open(faces_dir / "people/barack_obama/obama_6_small.jpg").convert("L")
    for data in (_png_bytes(grey), _jpeg_bytes(grey)):
        image = decode_image(data)
        assert image.shape == (240, 320, 3)
        assert np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])
    assert len(detect_faces(decode_image(_png_bytes(grey)), purpose="enrol")) == 1


def test_decodes_sixteen_bit_greyscale_without_clipping():
    wide = Image.fromarray(np.tile(np.arange(0, 65536, 256, dtype=np.uint16), (4, 1)))
    image = decode_image(_png_bytes(wide))
    assert image.shape == (4, 256, 3)
    assert image[0, 0, 0] == 0 and image[0, -1, 0] == 255 and 120 <= image[0, 128, 0] <= 135


@pytest.mark.faces
def test_applies_exif_orientation(faces_dir, tmp_path):
    upright = Image.open(faces_dir / "people/barack_obama/obama_6_small.jpg").convert("RGB")
    # Orientation 6: the stored pixels must be turned 90 degrees clockwise to be shown upright, so store
    # them turned counter-clockwise. A phone photo looks like this.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    stored.save(path, format="JPEG", quality=95, exif=exif.tobytes())

    image = decode_image(path.read_bytes())
    assert image.shape == (240, 320, 3)  # upright: wider than tall, like the original
    faces = detect_faces(image, purpose="enrol")
    assert len(faces) == 1
    assert (
        distances(
            encoding(faces_dir / "people/barack_obama/obama_6_small.jpg")[None, :],
            encode_face(image, faces[0]),
        )[0]
        < 0.15
    )


@pytest.mark.faces
def test_decodes_webp(faces_dir):
    buffer = io.BytesIO()
    Image.open(faces_dir / "people/barack_obama/obama_6_small.jpg").save(buffer, format="WEBP", quality=90)
    image = decode_image(buffer.getvalue())
    assert image.shape == (240, 320, 3)
    assert len(detect_faces(image, purpose="live")) == 1


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"hello, I am certainly not a picture" * 10, "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_an_image"),
    ],
)
def test_refuses_non_images(data, code):
    with pytest.raises(ImageRejected) as caught:
        decode_image(data)
    assert caught.value.code == code and caught.value.message
    assert isinstance(caught.value, ValueError)


def test_refuses_other_formats():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="GIF")
    with pytest.raises(ImageRejected) as caught:
        decode_image(buffer.getvalue())
    assert caught.value.code == "unsupported_format"


@pytest.mark.faces
def test_refuses_truncated_jpeg(faces_dir):
    data = photo_bytes(faces_dir / "people/barack_obama/obama_1.jpg")
    with pytest.raises(ImageRejected) as caught:
        decode_image(data[: len(data) // 2])
    assert caught.value.code == "corrupt"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height and whose pixel data is garbage: decoding it would fail
    as "corrupt", so a "too_large" answer proves the size was refused before any decoding."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"garbage") + chunk(b"IEND", b"")


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (6_000, 5_000)])
def test_refuses_decompression_bomb_from_header(width, height):
    with pytest.raises(ImageRejected) as caught:
        decode_image(_png_header_only(width, height))
    assert caught.value.code == "too_large"


def test_header_only_png_within_limit_is_corrupt_not_too_large():
    with pytest.raises(ImageRejected) as caught:
        decode_image(_png_header_only(100, 100))
    assert caught.value.code == "corrupt"


@pytest.mark.faces
def test_pixel_limit_is_configurable(faces_dir):
    data = photo_bytes(faces_dir / "people/barack_obama/obama_1.jpg")  # 910 x 1137
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, max_pixels=1_000_000)
    assert caught.value.code == "too_large"
    assert decode_image(data, max_pixels=1_100_000).shape == (1137, 910, 3)


@pytest.mark.faces
def test_truncated_jpeg_is_refused_even_if_someone_enabled_truncated_loading(faces_dir, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what `import face_recognition` does
    data = photo_bytes(faces_dir / "people/barack_obama/obama_1.jpg")
    with pytest.raises(ImageRejected) as caught:
        decode_image(data[: len(data) // 2])
    assert caught.value.code == "corrupt"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_video_clip_decodes_to_rgb_frames(faces_dir):
    data = (faces_dir / "video" / "short_hamilton_clip.mp4").read_bytes()
    frames = engine.decode_video_frames(data, max_frames=10, every=3)
    assert len(frames) == 10
    assert frames[0].shape == (360, 640, 3) and frames[0].dtype == np.uint8


@pytest.mark.parametrize("data", [b"", b"definitely not a video", b"\x1a\x45\xdf\xa3" + b"\0" * 100])
def test_non_video_bytes_are_refused(data):
    with pytest.raises(engine.ImageRejected):
        engine.decode_video_frames(data)
