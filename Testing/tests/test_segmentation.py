"""One-click segmentation against expert outlines, review aids and bad seeds (issue 4)."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.errors import SegmentationError
from ALKRadiomicsLib.segmentation import review_mask, seed_to_lps, segment_nodule

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from eval_segmentation import clicks, dice  # noqa: E402


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lung1_centre_click_matches_the_expert_outline_and_leaves_the_ct_alone(sample_data, tmp_path):
    image_path = sample_data / "lung1_image.nrrd"
    before = sha256(image_path)
    image = sitk.ReadImage(str(image_path))
    reference = sitk.GetArrayFromImage(sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))) > 0
    x, y, z = clicks(reference, image)["centre"]
    out, qa = tmp_path / "nodule.nii.gz", tmp_path / "qa.json"
    assert main(["segment", "--image", str(image_path), "--seed", str(x), str(y), str(z),
                 "--out", str(out), "--json", str(qa)]) == 0
    mask = sitk.ReadImage(str(out))
    assert mask.GetSize() == image.GetSize()
    assert np.allclose(mask.GetOrigin(), image.GetOrigin(), atol=1e-4)
    assert dice(sitk.GetArrayFromImage(mask) > 0, reference) >= 0.80
    review = json.loads(qa.read_text())
    voxel_mm3 = float(np.prod(image.GetSpacing()))
    assert review["volume_mm3"] == pytest.approx(np.count_nonzero(sitk.GetArrayFromImage(mask)) * voxel_mm3)
    assert review["longest_axial_diameter_mm"] >= review["perpendicular_diameter_mm"] > 5
    assert review["connected_parts"] == 1
    assert sha256(image_path) == before


def test_ras_seed_gives_the_same_outline_as_lps(sample_data):
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    reference = sitk.GetArrayFromImage(sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))) > 0
    x, y, z = clicks(reference, image)["centre"]
    lps = segment_nodule(image, (x, y, z))
    ras = segment_nodule(image, seed_to_lps((-x, -y, z), "ras"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(lps.mask), sitk.GetArrayFromImage(ras.mask))


def test_lidc_0314_both_clicks_reach_the_readers_agreement(lidc_0314):
    from ALKRadiomicsLib.io import read_image

    image = read_image(lidc_0314 / "dicom")
    readers = [sitk.GetArrayFromImage(sitk.ReadImage(str(lidc_0314 / f"LIDC-IDRI-0314_reader{k}_mask.nii.gz"))) > 0
               for k in range(1, 5)]
    pairwise = np.mean([dice(a, b) for i, a in enumerate(readers) for b in readers[i + 1:]])
    consensus = sitk.GetArrayFromImage(sitk.ReadImage(str(lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"))) > 0
    for point in clicks(consensus, image).values():
        mask = sitk.GetArrayFromImage(segment_nodule(image, point).mask) > 0
        assert np.mean([dice(mask, reader) for reader in readers]) >= pairwise


def test_lidc_nodules_centre_click(lidc_nodules):
    with open(lidc_nodules / "metadata.csv", newline="") as handle:
        cases = [row["case"] for row in csv.DictReader(handle)]
    scores = []
    for case in cases:
        image = sitk.ReadImage(str(lidc_nodules / "image" / f"{case}.nii.gz"))
        reference = sitk.GetArrayFromImage(sitk.ReadImage(str(lidc_nodules / "mask" / f"{case}.nii.gz"))) > 0
        try:
            mask = sitk.GetArrayFromImage(segment_nodule(image, clicks(reference, image)["centre"]).mask) > 0
            scores.append(dice(mask, reference))
        except SegmentationError:
            scores.append(0.0)
    scores = np.array(scores)
    assert len(scores) == 496
    assert np.median(scores) >= 0.80
    assert np.mean(scores < 0.5) <= 0.05


def sphere_phantom(radius_mm=8.0, spacing=(0.7, 0.7, 1.25)):
    """A 40 HU ball in -850 HU lung inside a -1000 HU field, with known size."""
    shape = (60, 100, 100)
    z, y, x = np.indices(shape).astype(float)
    centre = np.array(shape) / 2
    distance = np.sqrt(((z - centre[0]) * spacing[2]) ** 2 + ((y - centre[1]) * spacing[1]) ** 2
                       + ((x - centre[2]) * spacing[0]) ** 2)
    array = np.where(distance <= radius_mm, 40.0, -850.0).astype(np.int16)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    return image, tuple(image.TransformIndexToPhysicalPoint([int(c) for c in centre[::-1]]))


def test_review_numbers_of_a_known_ball():
    image, centre = sphere_phantom(radius_mm=8.0)
    result = segment_nodule(image, centre)
    review = result.review
    assert review.volume_mm3 == pytest.approx(4 / 3 * np.pi * 8.0 ** 3, rel=0.08)
    assert review.longest_axial_diameter_mm == pytest.approx(16.0, abs=1.5)
    assert review.perpendicular_diameter_mm == pytest.approx(16.0, abs=1.5)
    assert review.connected_parts == 1
    assert not review.touches_pleura and not review.hit_search_edge
    assert review.mean_hu == pytest.approx(40.0, abs=1)


def test_tiny_nodule_warns_that_texture_is_unreliable():
    image, centre = sphere_phantom(radius_mm=2.0)
    review = segment_nodule(image, centre).review
    assert any("texture features unreliable" in w for w in review.warnings)


def test_review_of_an_edited_outline(sample_data):
    image = sitk.ReadImage(str(sample_data / "lung2_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung2_label.nrrd"))
    review = review_mask(image, mask)
    voxels = np.count_nonzero(sitk.GetArrayFromImage(mask))
    assert review.voxel_count == voxels
    assert review.volume_mm3 == pytest.approx(voxels * np.prod(image.GetSpacing()))
    assert review.touches_pleura  # lung2's tumour sits on the chest wall


@pytest.fixture(scope="module")
def lung1(sample_data):
    return sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))


def _point(image, index_zyx):
    return image.TransformIndexToPhysicalPoint([int(v) for v in index_zyx[::-1]])


def _run_segment(capsys, tmp_path, image_path, point):
    out = tmp_path / "mask.nrrd"
    status = main(["segment", "--image", str(image_path), "--seed", *map(str, point), "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return status, err, out


def test_seed_outside_the_image(sample_data, lung1, tmp_path, capsys):
    status, err, out = _run_segment(capsys, tmp_path, sample_data / "lung1_image.nrrd", (5000.0, 0.0, 0.0))
    assert status == 2 and len(err) == 1 and "outside the CT" in err[0] and "--seed-space ras" in err[0]
    assert not out.exists()


def test_seed_in_air_outside_the_body(sample_data, lung1, tmp_path, capsys):
    point = _point(lung1, (24, 3, 3))
    status, err, out = _run_segment(capsys, tmp_path, sample_data / "lung1_image.nrrd", point)
    assert status == 2 and len(err) == 1 and "air outside the body" in err[0]
    assert not out.exists()


def test_seed_in_bone(sample_data, lung1, tmp_path, capsys):
    array = sitk.GetArrayFromImage(lung1)
    labels, _ = ndimage.label(array > 500)
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    bone = np.argwhere(ndimage.binary_erosion(labels == largest, iterations=2))
    point = _point(lung1, bone[len(bone) // 2])
    status, err, out = _run_segment(capsys, tmp_path, sample_data / "lung1_image.nrrd", point)
    assert status == 2 and len(err) == 1 and "bone" in err[0]
    assert not out.exists()


def test_seed_in_lung_parenchyma(sample_data, lung1, tmp_path, capsys):
    array = sitk.GetArrayFromImage(lung1)
    parenchyma = ndimage.binary_erosion((array > -900) & (array < -750), iterations=6)
    point = _point(lung1, np.argwhere(parenchyma)[0])
    status, err, out = _run_segment(capsys, tmp_path, sample_data / "lung1_image.nrrd", point)
    assert status == 2 and len(err) == 1 and "no nodule at the seed" in err[0].lower()
    assert not out.exists()
