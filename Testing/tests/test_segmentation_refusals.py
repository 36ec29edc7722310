"""Segmentation refuses what is not a nodule (issue 16, item 9): bone and chest wall.

Seeds placed in chest-wall soft tissue of the real lung1 and lung2 CTs (found by sampling fat at
about -125 HU next to lung and rib) used to return outlines of 35-142 cm3 holding rib, exit 0.
The calcified LIDC nodules with the most dense voxels must still be outlined.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.io import read_image, read_mask
from ALKRadiomicsLib.segmentation import MAX_DENSE_MM3, segment_nodule

CHEST_WALL_SEEDS = {
    # case: (seed LPS mm, HU at the seed, words of the refusal)
    "lung1": ((38.78, -212.08, -747.5), -125, ("bone", "above 300 HU", "chest wall")),
    "lung2": ((-115.33, -240.49, -305.0), -120, ("chest wall", "lung on only")),
}


@pytest.mark.parametrize("case", CHEST_WALL_SEEDS)
def test_a_chest_wall_seed_is_refused_not_outlined(case, sample_data, tmp_path, capsys):
    seed, hu, words = CHEST_WALL_SEEDS[case]
    image = sample_data / f"{case}_image.nrrd"
    ct = sitk.ReadImage(str(image))
    index = ct.TransformPhysicalPointToIndex(seed)
    assert abs(ct[index] - hu) <= 1  # soft tissue (fat), not air or bone
    out = tmp_path / "mask.nrrd"
    status = main(["segment", "--image", str(image), "--seed", *map(str, seed), "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(err) == 1, err
    for word in words:
        assert word in err[0], err[0]
    assert not out.exists()


def test_the_most_calcified_lidc_nodules_are_still_outlined(lidc_nodules):
    """The four LIDC nodules whose outlines held the most voxels above 300 HU (0.6-1.3 cm3)."""
    names = ["LIDC-IDRI-0951_R_1", "LIDC-IDRI-0791_R_1", "LIDC-IDRI-0697_R_1", "LIDC-IDRI-0619_R_2"]
    with open(lidc_nodules / "metadata.csv", newline="") as handle:
        assert set(names) <= {row["case"] for row in csv.DictReader(handle)}
    for name in names:
        image = read_image(lidc_nodules / "image" / f"{name}.nii.gz")
        mask = sitk.GetArrayFromImage(read_mask(lidc_nodules / "mask" / f"{name}.nii.gz")) > 0
        points = np.argwhere(mask)
        centre = points[np.argmin(((points - np.array(ndimage.center_of_mass(mask))) ** 2).sum(axis=1))]
        result = segment_nodule(image, image.TransformIndexToPhysicalPoint([int(v) for v in centre[::-1]]))
        outline = sitk.GetArrayViewFromImage(result.mask) > 0
        dense_mm3 = np.count_nonzero(sitk.GetArrayViewFromImage(image)[outline] >= 300) * np.prod(image.GetSpacing())
        assert 0 < dense_mm3 < MAX_DENSE_MM3, (name, dense_mm3)
        assert result.review.max_hu > 1000  # calcified, and still accepted
