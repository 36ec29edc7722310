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
from .hounsfield import check_ct
from .limits import check_outline_volume, check_voxel_count

logger = logging.getLogger(__name__)

# Geometry must agree to this many mm (origin) or this fraction (spacing, direction); the
# same order as SimpleITK's own default coordinate tolerance, relative to the voxel size.
GEOMETRY_TOLERANCE = 1e-4


def read_image(path: str | os.PathLike, *, series_uid: str | None = None) -> sitk.Image:
    """Read a CT volume from NRRD, NIfTI, MHA or a folder holding one DICOM series.

    ``series_uid`` picks one series from a DICOM folder that holds several.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"Image not found: {path} does not exist; check the path.")
    image = _read_dicom_folder(path, series_uid) if path.is_dir() else _read_file(path, "image")
    _check_volume(image, path, "image")
    return image


def read_mask(path: str | os.PathLike) -> sitk.Image:
    """Read a label file (NRRD, NIfTI, MHA, or a DICOM folder) as an integer image."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"Mask not found: {path} does not exist; check the path.")
    mask = _read_dicom_folder(path, None) if path.is_dir() else _read_file(path, "mask")
    _check_volume(mask, path, "mask")
    return mask


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
    # The file, every data file its header names, and the size it claims are checked before
    # ITK reads a voxel: a header may point at /dev/zero or claim 1500^3 voxels.
    check_regular_file(path, what)
    data_files(path, what)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
        check_voxel_count(reader.GetSize(), f"{what} {path}")
        check_complete(path, what, int(np.prod(reader.GetSize(), dtype=np.int64)) * reader.GetNumberOfComponents(),
                       _component_bytes(reader.GetPixelID()))
        return reader.Execute()
    except RuntimeError as err:
        raise InputError(
            f"Cannot read {what} {path}: {_first_line(err)}. Use NRRD, NIfTI (.nii/.nii.gz), MHA "
            "or a DICOM folder."
        ) from None


def _component_bytes(pixel_id: int) -> int:
    """Bytes of one component of a voxel of this SimpleITK pixel type."""
    return sitk.Image([1, 1], pixel_id).GetSizeOfPixelComponent()


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
    present = [int(v) if float(v).is_integer() else float(v) for v in labels_in(mask)]
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


def labels_in(mask: sitk.Image) -> np.ndarray:
    """The distinct nonzero values of a mask, ascending."""
    array = sitk.GetArrayViewFromImage(mask)
    if np.issubdtype(array.dtype, np.integer) and array.min() >= 0 and array.max() < 2**16:
        values = np.flatnonzero(np.bincount(array.ravel()))  # much faster than sorting a CT-sized mask
    else:
        values = np.unique(array)
    return values[values != 0]


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


def binary_mask(mask: sitk.Image, label: int) -> sitk.Image:
    """The voxels equal to ``label`` as a 0/1 UInt8 image on the mask's grid."""
    return sitk.Cast(sitk.Equal(sitk.Cast(mask, sitk.sitkInt64), label), sitk.sitkUInt8)


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


def load_case(image_path: str | os.PathLike, mask_path: str | os.PathLike, *, label: int | None = None,
              series_uid: str | None = None) -> Case:
    """Read and validate a CT and its mask (DESIGN section 7); nothing is modified."""
    image = read_image(image_path, series_uid=series_uid)
    mask = read_mask(mask_path)
    return make_case(image, mask, label=label, image_path=str(image_path), mask_path=str(mask_path),
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
    image = check_ct(image)
    check_same_grid(image, mask)
    label = select_label(mask, label)
    check_outline_volume(int(np.count_nonzero(sitk.GetArrayViewFromImage(mask) == label)),
                         float(np.prod(mask.GetSpacing())))
    return Case(image=image, mask=mask, label=label, image_path=image_path, mask_path=mask_path, dicom=dicom)
