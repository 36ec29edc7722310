"""Size and value limits, checked before anything large is allocated (DESIGN section 7, issue 16).

A 250-byte header may claim 1500^3 voxels; one voxel of 1e15 HU makes the grey-level binning
allocate terabytes; a mask covering the whole CT takes minutes. Each limit below is far beyond
any real chest CT or lung nodule, and each can be raised through an environment variable.
"""

from __future__ import annotations

import os

import numpy as np

from .errors import InputError

# 512 x 512 x 2048: more slices than any chest CT reconstruction (a 0.5 mm chest CT has ~700).
DEFAULT_MAX_VOXELS = 512 * 512 * 2048
MAX_VOXELS_VARIABLE = "ALK_RADIOMICS_MAX_VOXELS"

# CT stores HU in 16 bits: -1024 is air, scanners pad outside the field of view down to
# -32768, and extended-scale metal reaches about +31000. A value outside cannot come from a CT.
PHYSICAL_HU_RANGE = (-32768.0, 32767.0)

# 1500 cm3 is a ball 14.2 cm across, larger than any lung nodule or resectable lung tumour.
DEFAULT_MAX_OUTLINE_CM3 = 1500.0
MAX_OUTLINE_VARIABLE = "ALK_RADIOMICS_MAX_OUTLINE_CM3"


def _limit(variable: str, default: float) -> float:
    text = os.environ.get(variable, "")
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{variable}={text!r} is not a number; unset it or give a positive number.") from None
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{variable}={text!r} must be a positive number.")
    return value


def max_voxels() -> int:
    return int(_limit(MAX_VOXELS_VARIABLE, DEFAULT_MAX_VOXELS))


def max_outline_mm3() -> float:
    return 1000.0 * _limit(MAX_OUTLINE_VARIABLE, DEFAULT_MAX_OUTLINE_CM3)


def check_voxel_count(size: tuple[int, ...], where: str) -> None:
    """Refuse a volume whose header claims more voxels than any chest CT has, before reading it."""
    count = int(np.prod([int(n) for n in size], dtype=object))
    limit = max_voxels()
    if count > limit:
        raise InputError(
            f"The {where} claims {' x '.join(str(int(n)) for n in size)} = {count:,} voxels, more than the limit of "
            f"{limit:,} (no chest CT is that large); nothing was read. Set {MAX_VOXELS_VARIABLE} to raise it."
        )


def check_hu_range(lowest: float, highest: float) -> None:
    low, high = PHYSICAL_HU_RANGE
    if lowest < low or highest > high:
        raise InputError(
            f"The image holds values from {lowest:g} to {highest:g}, outside the {low:g} to {high:g} HU a CT can "
            "store; the file is damaged or not a CT in Hounsfield units."
        )


def check_outline_volume(voxels: int, voxel_mm3: float) -> None:
    volume = voxels * voxel_mm3
    limit = max_outline_mm3()
    if volume > limit:
        raise InputError(
            f"The outline is {volume / 1000:.0f} cm3, larger than any lung nodule or tumour (limit "
            f"{limit / 1000:.0f} cm3); check that the mask marks the nodule, not the lung or the whole CT. Set "
            f"{MAX_OUTLINE_VARIABLE} to raise the limit."
        )
