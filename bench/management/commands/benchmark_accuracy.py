"""`manage.py benchmark_accuracy --faces DIR`: FNMR/FMR/EER of the engine on a labelled photo folder.

Every photo goes through the enrolment path (decode -> detect purpose="enrol" -> encode), so the figures
are those of the deployed engine. See bench/accuracy.py for the two protocols.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import accuracy


class Command(BaseCommand):
    help = (
        "Measure FNMR, FMR and EER of the face engine on DIR/MANIFEST.csv (pairs and leave-one-out gallery)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--faces",
            type=Path,
            default=settings.ATM_FACES_DIR,
            help="Folder holding MANIFEST.csv (default: settings.ATM_FACES_DIR, from $ATM_FACES_DIR).",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object and nothing else.")
        parser.add_argument("--plot", type=Path, help="Write a ROC curve PNG here.")
        parser.add_argument(
            "--threshold",
            type=float,
            default=getattr(settings, "FACE_DISTANCE_THRESHOLD", 0.50),
            help="Match when distance <= threshold (default: settings.FACE_DISTANCE_THRESHOLD).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faces_dir: Path = options["faces"]
        if not (faces_dir / "MANIFEST.csv").is_file():
            raise CommandError(f"{faces_dir}/MANIFEST.csv not found (give --faces DIR or set ATM_FACES_DIR).")
        threshold: float = options["threshold"]
        if not 0.0 < threshold < 2.0:
            raise CommandError(
                "--threshold must be between 0 and 2 (euclidean distance of unit-scale encodings)."
            )

        rows = accuracy.load_manifest(faces_dir)
        if not rows:
            raise CommandError("MANIFEST.csv lists no portrait or aligned_crop_150px photo with an identity.")
        encoded = accuracy.encode_manifest(rows)
        result = accuracy.summary(rows, encoded, threshold=threshold)

        if options["plot"] is not None:
            curves = {
                "pairs": accuracy.pair_scores(encoded.encodings, encoded.identities),
                "gallery": accuracy.gallery_scores(encoded.encodings, encoded.identities),
            }
            options["plot"].write_bytes(accuracy.roc_png(curves, threshold=threshold))

        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self._report(result, encoded, options["plot"])

    def _report(self, result: dict[str, Any], encoded: accuracy.EncodedSet, plot: Path | None) -> None:
        pairs, gallery = result["pairs"], result["gallery"]
        write = self.stdout.write
        write(
            f"{result['images']} photos of {result['identities']} identities, {result['encoded']} encoded; "
            f"match when distance <= {result['threshold']:.2f}"
        )
        for path, reason in encoded.failed:
            write(self.style.WARNING(f"  not encoded: {path} ({reason})"))
        write(
            f"pairs:   {pairs['genuine']} genuine, {pairs['impostor']} impostor; "
            f"FNMR {pairs['fnmr']:.4f}  FMR {pairs['fmr']:.4f}  EER {pairs['eer']:.4f}"
        )
        write(
            f"gallery: {gallery['genuine']} genuine, {gallery['impostor']} impostor "
            "(leave-one-out, min per identity); "
            f"FNMR {gallery['fnmr']:.4f}  FMR {gallery['fmr']:.4f}"
        )
        identification = result["false_identification"]
        write(
            f"false identification (impostor matches someone): FMR {identification['fmr']:.6f}, "
            f"95 % upper bound {identification['fmr_upper_95']:.6f} "
            f"({identification['impostor_comparisons']} impostor comparisons)"
        )
        for label, key in (("face only, N =", "face_only"), ("phone + face, candidates =", "phone_narrowed")):
            for row in identification[key]:
                write(
                    f"  {label} {row['n']:>10,}: measured {row['measured']:.6f}  upper {row['upper']:.6f}  "
                    f"at FMR 1e-4 {row['at_fmr_1e-4']:.6f}"
                )
        if plot is not None:
            write(f"ROC written to {plot}")
