"""Figures of the report: the nodule in three planes with its outline, and the probability scale.

Drawn with matplotlib (the ``[report]`` extra), which is imported only here.
"""

from __future__ import annotations

import io

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from ..errors import MissingDependencyError
from ..features.preprocess import label_bounding_box

LUNG_WINDOW = (-1350.0, 150.0)  # width 1500, level -600 HU
OUTLINE_COLOUR = "#ffd400"
SCALE_BAR_MM = 10.0


def pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["pdf.fonttype"] = 42  # TrueType: text stays text for readers and pdftotext
        from matplotlib import pyplot as plt
    except ImportError:
        raise MissingDependencyError("Reports need matplotlib: pip install 'alk-radiomics[report]'.") from None
    return plt


def nodule_views(image: sitk.Image, mask: sitk.Image, label: int, *, field_mm: float | None = None):
    """Axial, coronal and sagittal slices through the outline's centre: (name, pixels, outline,
    (width_mm, height_mm)), each cropped to a square field around the nodule, top = anterior/superior."""
    ct = sitk.GetArrayViewFromImage(image)
    hits = sitk.GetArrayViewFromImage(mask) == label
    sz, sy, sx = image.GetSpacing()[::-1]
    lower, size = (v[::-1] for v in label_bounding_box(hits))  # (z, y, x)
    box = tuple(slice(int(a), int(a + n)) for a, n in zip(lower, size, strict=True))
    # On the outline's box: center_of_mass on the whole mask makes a CT-sized float64 temporary.
    centre = np.round(np.array(ndimage.center_of_mass(hits[box])) + lower).astype(int)
    extent = size * np.array([sz, sy, sx])
    field = field_mm or float(np.clip(3.0 * extent.max(), 40.0, 160.0))

    def window(axis_length: int, centre_index: int, spacing: float) -> slice:
        half = int(round(field / 2 / spacing))
        return slice(max(centre_index - half, 0), min(centre_index + half + 1, axis_length))

    z, y, x = centre
    rows_y, cols_x, rows_z = window(ct.shape[1], y, sy), window(ct.shape[2], x, sx), window(ct.shape[0], z, sz)
    views = [
        ("axial", ct[z, rows_y, cols_x], hits[z, rows_y, cols_x], (sx, sy)),
        # Coronal and sagittal: superior at the top (z grows superiorly in LPS), hence the flip.
        ("coronal", ct[rows_z, y, cols_x][::-1], hits[rows_z, y, cols_x][::-1], (sx, sz)),
        ("sagittal", ct[rows_z, rows_y, x][::-1], hits[rows_z, rows_y, x][::-1], (sy, sz)),
    ]
    return [(name, np.asarray(pixels, dtype=float), np.asarray(outline), spacing)
            for name, pixels, outline, spacing in views]


def draw_view(ax, name: str, pixels: np.ndarray, outline: np.ndarray, spacing_xy: tuple[float, float]) -> None:
    """One plane in the lung window, the outline drawn over it, and a 10 mm scale bar."""
    height, width = pixels.shape
    extent = (0, width * spacing_xy[0], height * spacing_xy[1], 0)  # millimetres, so aspect is true
    ax.imshow(pixels, cmap="gray", vmin=LUNG_WINDOW[0], vmax=LUNG_WINDOW[1], extent=extent, interpolation="nearest")
    if outline.any():
        ys = (np.arange(height) + 0.5) * spacing_xy[1]
        xs = (np.arange(width) + 0.5) * spacing_xy[0]
        ax.contour(xs, ys, outline.astype(float), levels=[0.5], colors=OUTLINE_COLOUR, linewidths=1.2)
    from matplotlib import patheffects

    # White with a black edge: readable on lung, soft tissue and bone alike.
    edge = [patheffects.withStroke(linewidth=4.5, foreground="black")]
    x0, y0 = 0.06 * extent[1], 0.92 * extent[2]
    ax.plot([x0, x0 + SCALE_BAR_MM], [y0, y0], color="white", linewidth=2.5, path_effects=edge,
            solid_capstyle="butt")
    ax.text(x0 + SCALE_BAR_MM / 2, y0 - 0.03 * extent[2], f"{SCALE_BAR_MM:g} mm", color="white", ha="center",
            va="bottom", fontsize=7, weight="bold", path_effects=[patheffects.withStroke(linewidth=2.5,
                                                                                         foreground="black")])
    ax.set_title(name, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_probability_scale(ax, probability: float, interval: tuple[float, float], label: str,
                           extrapolated: bool = False) -> None:
    """A 0-100 % bar with the interval shaded and the point marked; hatched grey when it is an extrapolation."""
    ax.barh([0], [100], color="#e8e8e8", height=0.5)
    ax.barh([0], [100 * (interval[1] - interval[0])], left=[100 * interval[0]], height=0.5,
            color="#d9d9d9" if extrapolated else "#9cc3e6", hatch="////" if extrapolated else None,
            edgecolor="#7f7f7f" if extrapolated else None)
    ax.plot([100 * probability], [0], marker="v", color="#7f7f7f" if extrapolated else "#08306b", markersize=9)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, 0.6)
    ax.set_yticks([])
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0 %", "25 %", "50 %", "75 %", "100 %"], fontsize=7)
    ax.set_title(label, fontsize=8, loc="left")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def views_png(image: sitk.Image, mask: sitk.Image, label: int) -> bytes:
    """The three planes side by side, as PNG bytes (for the HTML report and the panel)."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(9, 3.2), dpi=110)
    for ax, view in zip(axes, nodule_views(image, mask, label), strict=True):
        draw_view(ax, *view)
    figure.tight_layout()
    return _png(figure)


def probability_png(probability: float, interval: tuple[float, float], label: str,
                    extrapolated: bool = False) -> bytes:
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(6, 0.9), dpi=110)
    draw_probability_scale(ax, probability, interval, label, extrapolated)
    figure.tight_layout()
    return _png(figure)


def _png(figure) -> bytes:
    plt = pyplot()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
