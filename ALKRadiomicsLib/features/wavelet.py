"""Undecimated 3D wavelet sub-bands, as pyradiomics' ``Wavelet`` image type defines them.

One level of the stationary wavelet transform (PyWavelets, ``coif1`` by default) applied along
x, then y, then z; a sub-band is named by the filter per axis in that order, L for the low-pass
(approximation) and H for the high-pass (detail) filter: ``LLH`` is low-pass in x and y,
high-pass in z. The transform is periodic; an odd-length axis is first extended by one voxel
wrapped from its start, and the result trimmed back.
"""

from __future__ import annotations

import itertools

import numpy as np
import pywt

SUB_BANDS = tuple("".join(letters) for letters in itertools.product("LH", repeat=3))

# numpy axis of each letter position: x is the last array axis, z the first.
_AXIS_OF_POSITION = (2, 1, 0)


def wavelet_sub_bands(image: np.ndarray, names: set[str], wavelet: str = "coif1") -> dict[str, np.ndarray]:
    """The requested sub-bands (e.g. ``{"LLH", "LLL"}``) of a (z, y, x) volume, same shape."""
    unknown = set(names) - set(SUB_BANDS)
    if unknown:
        raise ValueError(f"Unknown wavelet sub-bands {sorted(unknown)}; choose from {SUB_BANDS}.")
    filters = pywt.Wavelet(wavelet)
    padding = [(0, n % 2) for n in image.shape]
    data = np.pad(np.asarray(image, dtype=float), padding, mode="wrap")

    # Filter prefix by prefix, so shared prefixes ("LL" for LLH and LLL) are computed once.
    computed: dict[str, np.ndarray] = {"": data}
    for position, axis in enumerate(_AXIS_OF_POSITION):
        wanted = {name[: position + 1] for name in names}
        for prefix in sorted({w[:-1] for w in wanted}):
            [(low, high)] = pywt.swt(computed[prefix], filters, level=1, start_level=0, axis=axis)
            for letter, band in (("L", low), ("H", high)):
                if prefix + letter in wanted:
                    computed[prefix + letter] = band
    trim = tuple(slice(0, n) for n in image.shape)
    return {name: computed[name][trim] for name in names}
