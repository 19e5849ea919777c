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

from bench import accuracy, groups, groups_io, groups_report


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
        parser.add_argument(
            "--plot", type=Path, help="Write a ROC curve PNG here (per-group mode: a DET plot as SVG)."
        )
        parser.add_argument(
            "--method",
            choices=[*groups.METHODS, "all"],
            help="Per-group mode with this comparison (default when MANIFEST.csv has a group column: "
            "the product's: cohort_shift, or dlib with FACE_MODEL_ENABLED off). 'all': every method.",
        )
        parser.add_argument(
            "--target-fmr",
            type=float,
            default=getattr(settings, "FACE_TARGET_FMR", 1e-3),
            help="Same-group FMR a normalised method is tuned for on the calibration half "
            "(default: settings.FACE_TARGET_FMR).",
        )
        parser.add_argument("--cache", type=Path, help="Keep both encodings of every photo in this .npz.")
        parser.add_argument(
            "--all-people",
            action="store_true",
            help="Report on every person, not a held-out half (small sets, judged at the shipped point).",
        )
        parser.add_argument(
            "--flip",
            action="store_true",
            help="Embed with test-time flip (chip and mirror averaged; not the product's embedding).",
        )
        parser.add_argument(
            "--swap-halves",
            action="store_true",
            help="Tune on the usual reporting half and report on the calibration half at the point tuned "
            "there (a check that a method's point holds whichever people it was set on).",
        )
        parser.add_argument(
            "--group", default="all", help="Group of every photo when the folder has no group column."
        )
        parser.add_argument(
            "--threshold",
            type=float,
            default=getattr(settings, "FACE_DISTANCE_THRESHOLD", 0.50),
            help="Match when distance <= threshold (default: settings.FACE_DISTANCE_THRESHOLD).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        faces_dir: Path = options["faces"]
        if _per_group(faces_dir, options["method"]):
            self._groups(faces_dir, options)
            return
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

    def _groups(self, faces_dir: Path, options: dict[str, Any]) -> None:
        photos = groups_io.load_photos(faces_dir, default_group=options["group"])
        if not photos:
            raise CommandError(f"no labelled photo in {faces_dir} (MANIFEST.csv or <identity>/ folders)")
        data, failed = groups_io.encode_photos(photos, cache=options["cache"], flip=options["flip"])
        product = groups.PRODUCT_METHOD if settings.FACE_MODEL_ENABLED else "dlib"
        chosen = options["method"] or product
        methods = list(groups.METHODS) if chosen == "all" else [chosen]
        results = {
            method: groups.evaluate(
                data,
                method,
                target=options["target_fmr"],
                # Swapped halves judge each method at the point tuned on the other people, not the table's.
                shipped=None if options["swap_halves"] else _shipped(method, options["target_fmr"]),
                all_people=options["all_people"],
                swap_halves=options["swap_halves"],
            )
            for method in methods
        }
        head = {
            "identities": len({p.identity for p in photos}),
            "images": len(photos),
            "encoded": len(data.identities),
            "not_encoded": [str(path) for path, _ in failed],
            "product_method": product,
        }
        if options["plot"] is not None:
            options["plot"].write_text(_det(data, results, methods[0]))
        if options["json"]:
            body = results[methods[0]] if len(methods) == 1 else {"methods": results}
            self.stdout.write(json.dumps({**head, **body}))
            return
        self.stdout.write(
            f"{head['images']} photos of {head['identities']} identities, "
            f"{head['encoded']} encoded by both models"
        )
        for path, reason in failed:
            self.stdout.write(self.style.WARNING(f"  not encoded: {path} ({reason})"))
        for result in results.values():
            for line in groups_report.text_lines(result):
                self.stdout.write(line)


def _per_group(faces_dir: Path, method: str | None) -> bool:
    manifest = faces_dir / "MANIFEST.csv"
    if method is not None:
        return True
    if not manifest.is_file():
        return any(faces_dir.glob("*/*.jpg"))
    with manifest.open(encoding="utf-8") as handle:
        return "group" in handle.readline().split(",")


def _shipped(method: str, target: float) -> float | None:
    """The product's operating point for ``method`` (None: the tuned one is reported)."""
    from biometrics.comparison import normalised_threshold

    if method == "dlib":
        return float(settings.FACE_DISTANCE_THRESHOLD)
    if method == "cohort_template":
        return groups.template_scale_threshold(target)  # the first product score's own table
    if method == groups.PRODUCT_METHOD:
        return normalised_threshold(target)
    return None


def _det(data: groups.Labelled, results: dict[str, Any], method: str) -> str:
    report_half = groups.split_people(data.identities.tolist(), data.groups.tolist())
    calibration = ~report_half if (~report_half).any() else report_half
    matrix = groups.method_matrix(method, data, report_half, calibration)
    sets = groups.pair_sets(matrix, data.identities[report_half], data.groups[report_half])
    curves = {"pooled": (sets.genuine, sets.impostor)}
    for group in sorted(set(sets.genuine_groups.tolist())):
        curves[f"{group} (same-group impostors)"] = (
            sets.genuine[sets.genuine_groups == group],
            sets.impostor[sets.impostor_groups == group],
        )
    return groups_report.det_svg(curves, f"benchmark_accuracy --method {method}")
