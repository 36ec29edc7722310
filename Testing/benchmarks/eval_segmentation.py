"""Evaluate one-click segmentation against expert outlines (issue 4; DESIGN section 6).

Run with ``make eval-segmentation`` (or ``.venv/bin/python Testing/benchmarks/eval_segmentation.py``).
For every case with an expert outline, click the outline's centre (the voxel of the outline
nearest its centre of mass) and a point displaced 2 mm from it inside the outline; report Dice,
volume difference and time per case:
- lung1 and lung2 (pyradiomics' data), one outline each;
- LIDC-IDRI-0314 (DICOM, ../shared/data/lidc_0314) against each of its four readers;
- the 496 nodules of ../shared/data/lidc_nodules, with the distribution by LIDC texture rating.
Stock pyradiomics extracting the six signature features of lung2 and LIDC-IDRI-0314 is timed in
the same run for comparison.
"""

from __future__ import annotations

import argparse
import csv
import logging
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY))

from ALKRadiomicsLib import io  # noqa: E402
from ALKRadiomicsLib.errors import SegmentationError  # noqa: E402
from ALKRadiomicsLib.sample_data import sample_data_dir  # noqa: E402
from ALKRadiomicsLib.segmentation import segment_nodule  # noqa: E402

SHARED = REPOSITORY.parent / "shared" / "data"
TEXTURE_GROUPS = {"Solid": "solid", "Solid/Mixed": "part-solid", "Part Solid/Mixed": "part-solid",
                  "Non-Solid/Mixed": "ground-glass", "Non-Solid/GGO": "ground-glass"}


def clicks(mask: np.ndarray, image: sitk.Image) -> dict[str, tuple[float, float, float]]:
    """The outline's centre and a point 2 mm from it inside the outline, in LPS mm."""
    spacing = np.array(image.GetSpacing()[::-1])
    centre = np.array(ndimage.center_of_mass(mask))
    points = np.argwhere(mask)
    nearest = points[np.argmin((((points - centre) * spacing) ** 2).sum(axis=1))]
    result = {"centre": nearest}
    directions = [(0, 0, 1), (0, 1, 0), (0, 0, -1), (0, -1, 0), (0, 1, 1), (0, 1, -1), (0, -1, 1), (0, -1, -1),
                  (1, 0, 0), (-1, 0, 0)]
    for direction in directions:
        step = np.array(direction, dtype=float)
        step = step / np.linalg.norm(step * spacing) * 2.0  # 2 mm in index units
        target = np.round(nearest + step).astype(int)
        if np.all(target >= 0) and np.all(target < mask.shape) and mask[tuple(target)]:
            result["displaced"] = target
            break
    return {name: image.TransformIndexToPhysicalPoint([int(v) for v in index[::-1]]) for name, index in result.items()}


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


def segment(image: sitk.Image, point) -> tuple[np.ndarray | None, float]:
    started = time.perf_counter()
    try:
        result = segment_nodule(image, point)
        mask = sitk.GetArrayFromImage(result.mask) > 0
    except SegmentationError:
        mask = None
    return mask, time.perf_counter() - started


def stock_six_seconds(case: io.Case, repeats: int = 3) -> float:
    from radiomics import featureextractor

    from ALKRadiomicsLib.features import SIGNATURE_FEATURES
    from ALKRadiomicsLib.resources import PARAMETER_FILE_NAME, resource_path

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(str(resource_path(PARAMETER_FILE_NAME)))
    extractor.disableAllFeatures()
    wanted: dict[str, list[str]] = defaultdict(list)
    for name in SIGNATURE_FEATURES:
        _, feature_class, feature = name.split("_")
        wanted[feature_class].append(feature)
    extractor.enableFeaturesByName(**wanted)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        extractor.execute(case.image, case.mask, label=case.label)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def evaluate_single(name: str, image: sitk.Image, references: dict[str, np.ndarray], click_on: np.ndarray) -> dict:
    rows = {}
    for click_name, point in clicks(click_on, image).items():
        mask, seconds = segment(image, point)
        scores = {reader: (dice(mask, ref) if mask is not None else 0.0) for reader, ref in references.items()}
        volumes = {reader: (np.count_nonzero(mask) / np.count_nonzero(ref) - 1 if mask is not None else -1.0)
                   for reader, ref in references.items()}
        rows[click_name] = (scores, volumes, seconds)
        mean = float(np.mean(list(scores.values())))
        detail = ", ".join(f"{r} {d:.3f}" for r, d in scores.items())
        print(f"{name:<10} {click_name:<9} Dice mean {mean:.3f} ({detail}); volume "
              f"{100 * float(np.mean(list(volumes.values()))):+.0f} %; {seconds:.3f} s", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodules", type=int, default=0, help="evaluate only every N-th LIDC nodule (0 = all)")
    args = parser.parse_args()
    checks = []

    sample = sample_data_dir()
    seconds_by_case = {}
    for name in ("lung1", "lung2"):
        case = io.load_case(sample / f"{name}_image.nrrd", sample / f"{name}_label.nrrd")
        reference = sitk.GetArrayFromImage(case.mask) == case.label
        rows = evaluate_single(name, case.image, {"outline": reference}, reference)
        checks.append((f"{name}: Dice >= 0.80 (centre click)", rows["centre"][0]["outline"] >= 0.80))
        seconds_by_case[name] = (case, rows["centre"][2])

    folder = SHARED / "lidc_0314"
    if (folder / "dicom").is_dir():
        image = io.read_image(folder / "dicom")
        readers = {f"reader{k}": sitk.GetArrayFromImage(
            sitk.ReadImage(str(folder / f"LIDC-IDRI-0314_reader{k}_mask.nii.gz"))) > 0 for k in range(1, 5)}
        consensus = sitk.ReadImage(str(folder / "LIDC-IDRI-0314_consensus50_mask.nii.gz"))
        pairwise = [dice(readers[a], readers[b]) for i, a in enumerate(readers) for b in list(readers)[i + 1:]]
        print(f"LIDC-IDRI-0314 readers' pairwise Dice: {min(pairwise):.3f}-{max(pairwise):.3f}, "
              f"mean {np.mean(pairwise):.3f}")
        rows = evaluate_single("LIDC-0314", image, readers, sitk.GetArrayFromImage(consensus) > 0)
        for click_name, (scores, _, _) in rows.items():
            checks.append((f"LIDC-IDRI-0314 {click_name} click: mean Dice vs readers >= readers' mean pairwise "
                           f"{np.mean(pairwise):.3f}", np.mean(list(scores.values())) >= np.mean(pairwise)))
        seconds_by_case["lidc0314"] = (io.make_case(image, consensus), rows["centre"][2])
    else:
        print(f"skipping LIDC-IDRI-0314: {folder} not found")

    try:
        for name, (case, seconds) in seconds_by_case.items():
            stock = stock_six_seconds(case)
            print(f"{name}: segmentation {seconds:.3f} s vs stock pyradiomics, 6 features, {stock:.3f} s "
                  f"({stock / seconds:.1f}x)")
            checks.append((f"{name}: segmentation faster than stock pyradiomics' 6 features", seconds < stock))
    except ImportError:
        print("pyradiomics not installed: stock timing skipped (make test installs it)")

    nodules = SHARED / "lidc_nodules"
    if (nodules / "metadata.csv").is_file():
        with open(nodules / "metadata.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        if args.nodules:
            rows = rows[::args.nodules]
        results = defaultdict(lambda: defaultdict(list))
        times = []
        for row in rows:
            image = sitk.ReadImage(str(nodules / "image" / f"{row['case']}.nii.gz"))
            reference = sitk.GetArrayFromImage(sitk.ReadImage(str(nodules / "mask" / f"{row['case']}.nii.gz"))) > 0
            for click_name, point in clicks(reference, image).items():
                mask, seconds = segment(image, point)
                times.append(seconds)
                score = dice(mask, reference) if mask is not None else 0.0
                results[click_name][TEXTURE_GROUPS.get(row["Texture"], row["Texture"])].append(score)
                results[click_name]["all"].append(score)
        for click_name, groups in results.items():
            print(f"LIDC nodules, {click_name} click:")
            for group, scores in groups.items():
                scores = np.array(scores)
                print(f"  {group:<13} n={len(scores):>3}  median Dice {np.median(scores):.3f}  "
                      f"quartiles {np.percentile(scores, 25):.3f}-{np.percentile(scores, 75):.3f}  "
                      f"below 0.5: {100 * np.mean(scores < 0.5):.1f} %")
        everything = np.array(results["centre"]["all"])
        checks.append(("LIDC nodules, centre click: median Dice >= 0.80", np.median(everything) >= 0.80))
        checks.append(("LIDC nodules, centre click: at most 5 % below 0.5", np.mean(everything < 0.5) <= 0.05))
        print(f"  time per segmentation: median {np.median(times):.3f} s, max {np.max(times):.3f} s")
    else:
        print(f"skipping the LIDC nodules: {nodules} not found")

    print("\nAcceptance:")
    for text, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
