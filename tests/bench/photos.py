"""A few of the shared photos laid out like the shared folder (symlinked, nothing copied), for tiny runs."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

# Barack Obama is the first demo customer: the HTTP benchmark's kiosk uses his card and his portrait.
SPEED_PHOTOS = [
    ("people/barack_obama/obama_1.jpg", "barack_obama", "portrait"),
    ("people/joe_biden/biden_1.jpg", "joe_biden", "portrait"),
    ("people/kit_harington/kit_1.jpg", "kit_harington", "portrait"),
]


def write_manifest(folder: Path, rows: Iterable[tuple[str, str, str]]) -> None:
    with (folder / "MANIFEST.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "identity", "kind", "source"])
        for path, identity, kind in rows:
            writer.writerow([path, identity, kind, "test"])


def photo_subset(faces_dir: Path, folder: Path, rows: list[tuple[str, str, str]]) -> Path:
    """``folder`` holding ``rows`` of the shared photo folder and a MANIFEST.csv listing them."""
    for relative, _, _ in rows:
        link = folder / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(faces_dir / relative)
    write_manifest(folder, rows)
    return folder
