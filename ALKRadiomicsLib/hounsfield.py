"""Is this a full-range chest CT in Hounsfield units? Checked over the whole volume before anything is
computed (DESIGN section 7, issue 21).

A CT that was clipped to a display window, squeezed into 8 bits or read with the wrong byte order still
holds numbers, and the signature turns any numbers into a confident probability (an int8-clipped lung1
even lands inside the reference population). What passes:

- **Whole HU.** A scanner reconstructs integers (stored 12-16 bits, with an integer rescale). Values stored
  as floats must be whole numbers; they are then converted to 16-bit integers, so the same HU give the same
  result whatever the storage type (ITK keeps the input type through the B-spline resampling: float HU
  from a NIfTI's ``scl_inter`` scored P(ALK) 0.170 against 0.214 for the same HU as int16).
- **Air or lung present.** At least ``MIN_LUNG_FRACTION`` of the voxels between -1200 and -400 HU. A chest
  CT is mostly lung and air; on every real CT we have (lung1 61 %, lung2 46 %, LIDC-IDRI-0314 66 %, the 496
  LIDC nodule crops 15.5-100 %, median 79 %) it is far above that.
- **Values a scanner produces.** Besides the padding outside the field of view (the lowest value, when it
  lies below -1200), at most ``MAX_IMPLAUSIBLE_FRACTION`` of the voxels lie outside -1200 to 3100 HU (the
  real CTs: at most 0.7 %; a CT read with the wrong byte order: 96 %).
- **No clipping plateau.** A display window cuts every value beyond its edges to the edge. Real CTs pile up
  only at the scanner's own limits (-1024 / -1000 for air, 3071 or 3000 for metal), so at least
  ``PLATEAU_FRACTION`` (and ``PLATEAU_VOXELS``) of the voxels on the lowest value above -1000 HU, or on the
  highest below 2000 HU, is a clipped CT (the real CTs: at most 0.05 % there; a soft-tissue window -160..240
  puts 62 % on -160, int8 clipping 63 % on -128).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .errors import InputError
from .limits import check_hu_range

AIR_LUNG_HU = (-1200, -400)
MIN_LUNG_FRACTION = 0.05
SCANNER_HU = (-1200, 3100)
MAX_IMPLAUSIBLE_FRACTION = 0.05
# A pile-up on the lowest value above this, or on the highest below the next, is a window edge.
AIR_CLAMP_HU, METAL_CLAMP_HU = -1000, 2000
PLATEAU_FRACTION, PLATEAU_VOXELS = 0.005, 20
LOWEST_HU_EXPECTED_BELOW = -100.0  # a chest CT in HU always holds air or lung below this
SLAB = 32  # slices per pass: temporaries stay small whatever the CT's size


def slabs(array: np.ndarray):
    """The array a few slices at a time (a whole-volume temporary would double the memory)."""
    for start in range(0, array.shape[0], SLAB):
        yield array[start:start + SLAB]


def _whole_int16(image: sitk.Image) -> sitk.Image:
    """The image as 16-bit integers, refused unless every voxel is a finite whole number within the HU range."""
    array = sitk.GetArrayViewFromImage(image)
    if np.issubdtype(array.dtype, np.floating):
        bad = sum(int(np.count_nonzero(~np.isfinite(slab))) for slab in slabs(array))
        if bad:
            raise InputError(f"The image has {bad} NaN or infinite voxels; fix or replace them (e.g. with -1024 HU) "
                             "before scoring.")
    check_hu_range(float(array.min()), float(array.max()))
    if np.issubdtype(array.dtype, np.floating):
        for slab in slabs(array):
            fraction = np.modf(slab)[0]
            if fraction.any():
                example = float(slab.flat[int(np.flatnonzero(fraction)[0])])
                raise InputError(
                    f"The image holds values that are not whole Hounsfield units (e.g. {example:g}): it was "
                    "interpolated, smoothed or rescaled after reconstruction, or is not in HU. Texture features are "
                    "defined on the scanner's integer HU; give the CT as reconstructed.")
    if array.dtype == np.int16:
        return image
    return sitk.Cast(image, sitk.sitkInt16)


def check_ct(image: sitk.Image) -> sitk.Image:
    """The CT as 16-bit HU, or :class:`InputError` with the reason it is not a full-range chest CT in HU."""
    image = _whole_int16(image)
    array = sitk.GetArrayViewFromImage(image)
    lowest, highest = int(array.min()), int(array.max())
    if lowest > LOWEST_HU_EXPECTED_BELOW:
        raise InputError(
            f"The image does not look like CT in Hounsfield units: its lowest voxel is {lowest:g}, but a chest CT "
            "contains air and lung below -100 HU. Give the original CT (with its rescale slope/intercept applied), "
            "not an MR, PET or normalised image.")
    counts = np.zeros(4, dtype=np.int64)  # at lowest, at highest, air/lung, outside the scanner's range
    for slab in slabs(array):
        counts += (np.count_nonzero(slab == lowest), np.count_nonzero(slab == highest),
                   np.count_nonzero((slab >= AIR_LUNG_HU[0]) & (slab <= AIR_LUNG_HU[1])),
                   np.count_nonzero((slab < SCANNER_HU[0]) | (slab > SCANNER_HU[1])))
    at_lowest, at_highest, lung, implausible = (int(c) for c in counts)
    total = array.size
    if lowest < SCANNER_HU[0]:
        implausible -= at_lowest  # the padding outside the reconstruction's field of view
    for value, count, edge in ((lowest, at_lowest, lowest > AIR_CLAMP_HU), (highest, at_highest,
                                                                             highest < METAL_CLAMP_HU)):
        if edge and count >= PLATEAU_VOXELS and count >= PLATEAU_FRACTION * total:
            raise InputError(
                f"The CT looks clipped to a display window: {100 * count / total:.1f} % of its voxels hold exactly "
                f"{value} HU, its {'lowest' if value == lowest else 'highest'} value; a scanner piles values up only "
                "at its own limits. Export the CT without a window (full HU range).")
    if implausible > MAX_IMPLAUSIBLE_FRACTION * total:
        raise InputError(
            f"{100 * implausible / total:.0f} % of the CT's voxels lie outside the {SCANNER_HU[0]} to {SCANNER_HU[1]} "
            "HU a scanner produces: the file was read with the wrong byte order, or holds something other than HU. "
            "Re-export the CT.")
    if lung < MIN_LUNG_FRACTION * total:
        raise InputError(
            f"Only {100 * lung / total:.1f} % of the CT's voxels lie between {AIR_LUNG_HU[0]} and {AIR_LUNG_HU[1]} HU "
            f"(air and lung); a chest CT, or a crop around a lung nodule, holds far more (at least "
            f"{100 * MIN_LUNG_FRACTION:g} %). It is clipped, rescaled or not a chest CT; give the original CT.")
    return image
