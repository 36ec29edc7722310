"""Ordering a DICOM series' files as the volume's slices (for SR/SEG references)."""

from __future__ import annotations

import pytest

pytest.importorskip("pydicom", reason="needs pydicom (the [report] extra; make test installs it)")


def test_dicom_files_ordered_along_the_slice_normal(lidc_0314):
    from ALKRadiomicsLib.io import dicom_series_in, dicom_source_from_files

    [(series_uid, ordered)] = dicom_series_in(lidc_0314 / "dicom").items()
    source = dicom_source_from_files(list(reversed(ordered)))
    assert source.series_uid == series_uid
    assert list(source.files) == list(ordered)
