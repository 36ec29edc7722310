"""Reading and validating a CT and its nodule mask (DESIGN section 7).

Every check raises one :class:`~ALKRadiomicsLib.errors.InputError` whose message names the
problem and the fix. Nothing here modifies the files it reads.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .dicom_series import check_folder_entries, check_series_geometry, check_unreadable
from .errors import InputError, MissingDependencyError
from .headers import check_complete, check_regular_file, data_files
from .hounsfield import SLAB, check_ct, slabs
from .limits import check_memory, check_outline_volume, check_voxel_count

logger = logging.getLogger(__name__)

# Geometry must agree to this many mm (origin) or this fraction (spacing, direction); the
# same order as SimpleITK's own default coordinate tolerance, relative to the voxel size.
GEOMETRY_TOLERANCE = 1e-4
GRID_TOLERANCE_VOXELS = 0.01  # a mask this close to the CT's grid is moved onto it (mask_on_image_grid)
RESAMPLED_PAD = 5  # voxels of the 1 mm grid pyradiomics adds around the outline's box (padDistance)


def read_image(path: str | os.PathLike, *, series_uid: str | None = None) -> sitk.Image:
    """Read a CT volume from NRRD, NIfTI, MHA or a folder holding one DICOM series.

    ``series_uid`` picks one series from a DICOM folder that holds several.
    """
    path = _existing(path, "image")
    image = _read_dicom_folder(path, series_uid) if path.is_dir() else _read_file(path, "image")
    _check_volume(image, path, "image")
    return image


def read_mask(path: str | os.PathLike) -> sitk.Image:
    """Read a label file (NRRD, NIfTI, MHA, or a DICOM folder) as an integer image."""
    path = _existing(path, "mask")
    mask = _read_dicom_folder(path, None) if path.is_dir() else _read_file(path, "mask")
    _check_volume(mask, path, "mask")
    return mask


def _existing(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what.capitalize()} not found: {path} does not exist; check the path.")
    return path


def dicom_series_in(folder: str | os.PathLike) -> dict[str, list[str]]:
    """Map each SeriesInstanceUID found in ``folder`` to its sorted file names."""
    check_folder_entries(Path(folder))  # before GDCM opens a FIFO or device and waits for ever
    folder = str(folder)
    reader = sitk.ImageSeriesReader()
    return {uid: list(reader.GetGDCMSeriesFileNames(folder, uid)) for uid in reader.GetGDCMSeriesIDs(folder)}


def _read_dicom_folder(folder: Path, series_uid: str | None) -> sitk.Image:
    series = dicom_series_in(folder)
    series_uid = _chosen_series(folder, series, series_uid)
    # From the headers, before any voxel is read: a broken series is refused with the reason.
    check_unreadable(folder, series, series_uid)
    check_series_geometry(folder, series[series_uid])
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(series[series_uid])
    try:
        return reader.Execute()
    except RuntimeError as err:
        raise InputError(f"Cannot read DICOM series {series_uid} in {folder}: {_first_line(err)}") from None


def _chosen_series(folder: Path, series: dict[str, list[str]], series_uid: str | None) -> str:
    """The series to read: the only one, or ``series_uid``; refused with the choices otherwise."""
    if not series:
        raise InputError(
            f"No DICOM series found in folder {folder}; give a folder of DICOM slices or an "
            "image file (.nrrd, .nii.gz, .mha)."
        )
    if series_uid is None:
        if len(series) > 1:
            listing = "; ".join(f"{uid} ({len(files)} files)" for uid, files in sorted(series.items()))
            raise InputError(
                f"Folder {folder} holds {len(series)} DICOM series: {listing}. "
                "Choose one with --series UID, or give a folder with a single series."
            )
        return next(iter(series))
    if series_uid not in series:
        raise InputError(f"Series {series_uid} is not in {folder}; it holds {', '.join(sorted(series))}.")
    return series_uid


def _read_file(path: Path, what: str) -> sitk.Image:
    reader = _checked_header(path, what)
    try:
        return reader.Execute()
    except RuntimeError as err:
        raise _unreadable(path, what, err) from None


def _checked_header(path: Path, what: str) -> sitk.ImageFileReader:
    """The file's header read, once the file, every data file it names, the size it claims and the bytes that
    follow are checked: a header may point at /dev/zero, claim 1500^3 voxels or be cut short."""
    check_regular_file(path, what)
    data_files(path, what)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as err:
        raise _unreadable(path, what, err) from None
    check_voxel_count(reader.GetSize(), f"{what} {path}")
    voxels, stored = _stored(reader.GetSize(), reader.GetNumberOfComponents(), reader.GetPixelID())
    check_complete(path, what, voxels, stored)
    return reader


def _unreadable(path: Path, what: str, err: RuntimeError) -> InputError:
    return InputError(f"Cannot read {what} {path}: {_first_line(err)}. Use NRRD, NIfTI (.nii/.nii.gz), MHA or a "
                      "DICOM folder.")


def _stored(size, components: int, pixel_id: int) -> tuple[int, int]:
    """(voxels, bytes per voxel) of a volume of this size and SimpleITK pixel type."""
    voxels = int(np.prod([int(n) for n in size], dtype=np.int64))
    return voxels, components * sitk.Image([1, 1], pixel_id).GetSizeOfPixelComponent()


def stored_size(path: str | os.PathLike, what: str = "image") -> tuple[int, int]:
    """(voxels, bytes per voxel as read) of an image file or DICOM folder, from headers alone (for the memory
    budget): a folder counts each of its files as a slice of its first readable slice's size and type."""
    path = _existing(path, what)
    if not path.is_dir():
        reader = _checked_header(path, what)
        return _stored(reader.GetSize(), reader.GetNumberOfComponents(), reader.GetPixelID())
    check_folder_entries(path)
    files = [entry.path for entry in os.scandir(path) if entry.is_file()]
    reader = sitk.ImageFileReader()
    reader.SetImageIO("GDCMImageIO")
    for file in files[:50]:  # past a DICOMDIR or a stray file
        reader.SetFileName(file)
        try:
            reader.ReadImageInformation()
        except RuntimeError:
            continue
        voxels, stored = _stored(reader.GetSize(), reader.GetNumberOfComponents(), reader.GetPixelID())
        return voxels * len(files), stored
    return 0, 0  # nothing readable: reading the folder refuses it with the reason


def _check_volume(image: sitk.Image, path: Path, what: str) -> None:
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(
            f"The {what} {path} has {image.GetNumberOfComponentsPerPixel()} components per voxel; "
            "give a single-channel (scalar) volume."
        )
    size = image.GetSize()
    if image.GetDimension() != 3 or min(size) < 2:
        raise InputError(
            f"The {what} {path} is not a 3D volume (size {size}); radiomic texture needs a 3D CT "
            "with at least 2 slices."
        )
    direction = np.array(image.GetDirection()).reshape(3, 3)
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-3):
        raise InputError(f"The {what} {path} has a sheared (non-orthogonal) direction matrix; a CT's axes are at "
                         "right angles. Resample it to an orthogonal grid.")


def select_label(mask: sitk.Image, label: int | None) -> int:
    """Return the label to use: ``label`` if present, else the mask's only label."""
    return _chosen_label(label_counts(mask), label)


def _chosen_label(counts: dict[int | float, int], label: int | None) -> int:
    present = sorted(counts)
    if not present:
        raise InputError("The mask is empty (no voxel is labelled); segment the nodule first.")
    if any(not isinstance(v, int) for v in present):
        raise InputError(
            f"The mask holds non-integer values ({present[:5]}...); give a label map with integer labels."
        )
    if label is None:
        if len(present) > 1:
            raise InputError(f"The mask holds several labels {present}; choose one with --label N.")
        return present[0]
    if label not in present:
        raise InputError(f"Label {label} is not in the mask; it holds labels {present}. Choose one with --label N.")
    return label


def label_counts(mask: sitk.Image) -> dict[int | float, int]:
    """The voxels of each nonzero value of a mask (integers as int), counted a slab at a time so that no
    temporary grows with the CT (a whole-mask bincount cast a 157 M-voxel mask to 1.2 GB of int64)."""
    array = sitk.GetArrayViewFromImage(mask)
    counts: dict[int | float, int] = {}
    for slab in slabs(array):
        if np.issubdtype(slab.dtype, np.integer) and slab.min() >= 0 and slab.max() < 2**16:
            histogram = np.bincount(slab.ravel())  # much faster than sorting
            values = np.flatnonzero(histogram)
            found = histogram[values]
        else:
            values, found = np.unique(slab, return_counts=True)
        for value, count in zip(values.tolist(), found.tolist(), strict=True):
            key = int(value) if float(value).is_integer() else float(value)
            counts[key] = counts.get(key, 0) + count
    counts.pop(0, None)
    return counts


def outline_box(mask: sitk.Image, label: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower index and size, both (z, y, x), of the box holding every voxel of ``label``, a slab at a time."""
    array = sitk.GetArrayViewFromImage(mask)
    planes, rows, columns = [], np.zeros(array.shape[1], bool), np.zeros(array.shape[2], bool)
    for start, slab in zip(range(0, array.shape[0], SLAB), slabs(array), strict=True):
        hits = slab == label
        in_plane = hits.any(axis=(1, 2))
        if in_plane.any():
            planes.extend(start + np.flatnonzero(in_plane))
            rows |= hits.any(axis=(0, 2))
            columns |= hits.any(axis=(0, 1))
    if not planes:
        raise InputError(f"Label {label} is not in the mask.")
    lower = np.array([planes[0], np.flatnonzero(rows)[0], np.flatnonzero(columns)[0]])
    upper = np.array([planes[-1], np.flatnonzero(rows)[-1], np.flatnonzero(columns)[-1]])
    return lower, upper - lower + 1


def check_same_grid(image: sitk.Image, mask: sitk.Image) -> None:
    """Raise unless the mask lies on exactly the image's voxel grid."""
    problems = []
    if image.GetSize() != mask.GetSize():
        problems.append(f"size {mask.GetSize()} vs the image's {image.GetSize()}")
    spacing_i, spacing_m = np.array(image.GetSpacing()), np.array(mask.GetSpacing())
    if not np.allclose(spacing_i, spacing_m, rtol=GEOMETRY_TOLERANCE, atol=0):
        problems.append(f"spacing {tuple(spacing_m)} vs {tuple(spacing_i)}")
    tolerance_mm = GEOMETRY_TOLERANCE * float(spacing_i.min())
    if not np.allclose(image.GetOrigin(), mask.GetOrigin(), rtol=0, atol=tolerance_mm):
        problems.append(f"origin {mask.GetOrigin()} vs {image.GetOrigin()}")
    if not np.allclose(image.GetDirection(), mask.GetDirection(), rtol=0, atol=GEOMETRY_TOLERANCE):
        problems.append("direction differs")
    if problems:
        raise InputError(
            "The mask is not on the image's voxel grid (" + "; ".join(problems) + "). Resample the "
            "mask onto the CT (in Slicer: export the segment with the CT as reference volume)."
        )


def mask_on_image_grid(image: sitk.Image, mask: sitk.Image) -> tuple[sitk.Image, str | None]:
    """The mask on the image's grid, and a note when it had to be moved there.

    Another tool storing the geometry as float32 leaves a mask's origin a thousandth of a millimetre off the
    CT's; within ``GRID_TOLERANCE_VOXELS`` at every corner of the volume the mask is resampled onto the CT's
    grid by nearest neighbour (every voxel keeps its index) and the note says so. Further off, it is refused.
    """
    try:
        check_same_grid(image, mask)
        return mask, None
    except InputError:
        offset = _grid_offset_voxels(image, mask)
        if offset is None or offset > GRID_TOLERANCE_VOXELS:
            raise
    moved = sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor, 0, mask.GetPixelID())
    same = np.array_equal(sitk.GetArrayViewFromImage(moved), sitk.GetArrayViewFromImage(mask))
    return moved, (f"The mask's grid differed from the CT's by up to {offset:.2g} voxel (its origin, spacing or "
                   "direction rounded by another tool); it was resampled onto the CT's grid by nearest neighbour"
                   + ("; no voxel changed." if same else ", which moved some voxels: check the outline."))


def _grid_offset_voxels(image: sitk.Image, mask: sitk.Image) -> float | None:
    """The largest distance, in the CT's voxels, between a corner voxel of the mask and the CT voxel of the same
    index (None when the sizes differ)."""
    if image.GetSize() != mask.GetSize():
        return None
    size = np.array(mask.GetSize()) - 1
    offsets = []
    for corner in np.ndindex(*(2,) * mask.GetDimension()):
        index = [int(n) for n in np.array(corner) * size]
        point = mask.TransformIndexToPhysicalPoint(index)
        offsets.append(float(np.abs(np.array(image.TransformPhysicalPointToContinuousIndex(point)) - index).max()))
    return max(offsets)


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[-1].strip() if text else type(err).__name__


@dataclass(frozen=True)
class DicomSource:
    """The DICOM series a CT was read from: its files in the order of the image's slices."""

    series_uid: str
    files: tuple[str, ...]

    def datasets(self, *, pixels: bool = True) -> list:
        """The series' pydicom datasets, in slice order (needs pydicom: the [report] extra)."""
        try:
            import pydicom
        except ImportError:
            raise MissingDependencyError("Reading DICOM headers needs pydicom: pip install 'alk-radiomics[report]'.") \
                from None
        return [pydicom.dcmread(f, stop_before_pixels=not pixels) for f in self.files]


@dataclass(frozen=True)
class Case:
    """A validated CT and nodule mask on the same grid, and the label that marks the nodule."""

    image: sitk.Image
    mask: sitk.Image
    label: int
    image_path: str = ""
    mask_path: str = ""
    dicom: DicomSource | None = None  # set when the CT was read from a DICOM series
    notes: tuple[str, ...] = ()  # what was done to the inputs on the way (shown with the result's warnings)


def load_case(image_path: str | os.PathLike, mask_path: str | os.PathLike, *, label: int | None = None,
              series_uid: str | None = None, dicom_outputs: bool = False) -> Case:
    """Read and validate a CT and its mask (DESIGN section 7); nothing is modified. Refused before a voxel is
    read when the command would exceed the memory budget (``dicom_outputs``: SR and SEG will be built)."""
    check_memory(f"Scoring {Path(image_path).name}", image=stored_size(image_path),
                 mask=stored_size(mask_path, "mask"), dicom_outputs=dicom_outputs)
    image = check_ct(read_image(image_path, series_uid=series_uid))  # as int16 before the mask is read
    mask = read_mask(mask_path)
    return _vetted_case(image, mask, label=label, image_path=str(image_path), mask_path=str(mask_path),
                        dicom=dicom_source(image_path, series_uid))


def dicom_source(path: str | os.PathLike, series_uid: str | None = None) -> DicomSource | None:
    """The DICOM series behind ``read_image(path)``, or None when ``path`` is an image file."""
    path = Path(path)
    if not path.is_dir():
        return None
    series = dicom_series_in(path)
    return DicomSource(series_uid=(uid := _chosen_series(path, series, series_uid)), files=tuple(series[uid]))


def dicom_source_from_files(files: list[str]) -> DicomSource | None:
    """The DICOM series of ``files`` (e.g. a volume's instances in Slicer's database), in slice order.

    Slices are ordered by their position along the slice normal, as volumes are built from them.
    """
    if not files:
        return None
    try:
        import pydicom
    except ImportError:
        raise MissingDependencyError("Reading DICOM headers needs pydicom: pip install 'alk-radiomics[report]'.") \
            from None
    headers = [(f, pydicom.dcmread(f, stop_before_pixels=True)) for f in files]
    series = {h.SeriesInstanceUID for _, h in headers}
    if len(series) != 1:
        raise InputError(f"The volume's DICOM files belong to {len(series)} series; cannot reference one series.")
    row, column = (np.array(v, dtype=float) for v in np.reshape(headers[0][1].ImageOrientationPatient, (2, 3)))
    normal = np.cross(row, column)
    ordered = sorted(headers, key=lambda item: float(np.dot(normal, np.array(item[1].ImagePositionPatient, float))))
    return DicomSource(series_uid=series.pop(), files=tuple(f for f, _ in ordered))


def make_case(image: sitk.Image, mask: sitk.Image, *, label: int | None = None, image_path: str = "",
              mask_path: str = "", dicom: DicomSource | None = None) -> Case:
    """Validate an image and mask already in memory (e.g. from Slicer) as one case; the CT as 16-bit HU."""
    return _vetted_case(check_ct(image), mask, label=label, image_path=image_path, mask_path=mask_path, dicom=dicom)


def _vetted_case(image: sitk.Image, mask: sitk.Image, *, label: int | None, image_path: str, mask_path: str,
                 dicom: DicomSource | None) -> Case:
    """The case of a CT that passed :func:`check_ct` and its mask; refused when the features of the outline's
    box would exceed the memory budget (two specks at opposite corners make a box of the whole CT)."""
    mask, moved = mask_on_image_grid(image, mask)
    counts = label_counts(mask)
    label = _chosen_label(counts, label)
    check_outline_volume(counts[label], float(np.prod(mask.GetSpacing())))
    lower, size = outline_box(mask, label)
    box_mm = size * np.array(mask.GetSpacing())[::-1]
    check_memory("Computing the features of this outline", image=_stored(image.GetSize(), 1, image.GetPixelID()),
                 mask=_stored(mask.GetSize(), 1, mask.GetPixelID()),
                 box_voxels=int(np.prod(np.ceil(box_mm) + 2 * RESAMPLED_PAD + 1)))
    return Case(image=image, mask=mask, label=label, image_path=image_path, mask_path=mask_path, dicom=dicom,
                notes=(moved,) if moved else ())
