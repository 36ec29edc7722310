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


# -- the memory budget ----------------------------------------------------------------------------
# A command's peak memory is estimated from the headers before any voxel is read, and again from the
# outline's box before the features are computed; above the budget it is refused, not started (a
# 512 x 512 x 2048 CT within the voxel limit peaked at 5.8 GB: an 8 GB workstation dies). The default
# leaves an 8 GB workstation room for its system and a viewer.
DEFAULT_MEMORY_LIMIT = 4 * 2**30
MEMORY_LIMIT_VARIABLE = "ALK_RADIOMICS_MEMORY_LIMIT"
# Measured (Testing/benchmarks/bench_memory.py): the interpreter with numpy, scipy, SimpleITK, matplotlib and
# the report's fonts; the feature extraction per voxel of the outline's box on the 1 mm grid, and its floor.
BASE_BYTES = 400 * 2**20
EXTRACTION_BYTES, EXTRACTION_BYTES_PER_BOX_VOXEL = 64 * 2**20, 128
_memory_limit: int | None = None  # set by --memory-limit


def parse_memory(text: str, where: str = "--memory-limit") -> int:
    """Bytes from '4G', '4GB', '4096M', '4GiB' (powers of 1024); a bare number is in GB."""
    import re

    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(i?B)?\s*", text or "", re.IGNORECASE)
    value = float(match[1]) if match else 0.0
    if not match or not 0 < value < 1e6:
        raise InputError(f"{where} {text!r} is not a size; give e.g. 4G, 6GB or 8000M.")
    unit = (match[2] or "G").upper()
    return int(value * 1024 ** "BKMGT".index(unit))


def set_memory_limit(limit: int | None) -> None:
    global _memory_limit
    _memory_limit = limit


def memory_limit() -> int:
    """The budget: --memory-limit, else $ALK_RADIOMICS_MEMORY_LIMIT, else 4 GiB."""
    if _memory_limit is not None:
        return _memory_limit
    text = os.environ.get(MEMORY_LIMIT_VARIABLE, "")
    return parse_memory(text, MEMORY_LIMIT_VARIABLE) if text else DEFAULT_MEMORY_LIMIT


def estimated_peak(image: tuple[int, int] | None, mask: tuple[int, int] | None = None, *,
                   dicom_outputs: bool = False, box_voxels: int = 0) -> int:
    """The command's peak in bytes. Reading a volume may hold its file's type twice (ITK's NRRD reader
    does for 64-bit voxels); the CT is then kept as int16; masks cost their own type plus two bytes of
    temporaries per voxel; DICOM SEG and SR copy the series' pixels and the mask once more."""
    image_voxels, image_stored = image or (0, 0)
    mask_voxels, mask_stored = mask or (0, 0)
    ct = 2 * image_voxels
    phases = (image_voxels * max(2 * image_stored, image_stored + 2),  # reading, then the int16 copy
              ct + 2 * mask_voxels * mask_stored,  # reading the mask
              ct + mask_voxels * (mask_stored + 2))  # vetting, review and figures
    peak = BASE_BYTES + max(phases)
    if dicom_outputs:
        peak += ct + 2 * mask_voxels
    if box_voxels:
        peak += EXTRACTION_BYTES + EXTRACTION_BYTES_PER_BOX_VOXEL * box_voxels
    return peak


def check_memory(what: str, **sizes) -> None:
    """Refuse, before allocating, a command whose estimated peak exceeds the budget."""
    peak, limit = estimated_peak(**sizes), memory_limit()
    if peak > limit:
        raise InputError(
            f"{what} would need about {peak / 2**30:.1f} GB of memory, more than the budget of "
            f"{limit / 2**30:.1f} GB; nothing was read. Give --memory-limit (or set {MEMORY_LIMIT_VARIABLE}) if "
            "this machine has more, or a smaller CT or mask type (int16 CT, uint8 mask).")
