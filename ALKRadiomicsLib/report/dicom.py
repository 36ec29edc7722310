"""DICOM outputs for PACS, built with highdicom: the outline as a Segmentation (SEG) and the
results as a Comprehensive 3D SR with a TID 1500 Measurement Report.

- SEG: https://dicom.nema.org/medical/dicom/current/output/chtml/part03/sect_C.8.20.html
- TID 1500: https://dicom.nema.org/medical/dicom/current/output/chtml/part16/chapter_A.html#sect_TID_1500
Both reference the CT series they were derived from. Concepts without a standard code (the
Rad-score, the ALK probability, the RAD-risk score and group) use the private coding scheme
``99ALKRAD``, as DICOM PS3.16 section 8 allows.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .. import __version__
from ..atomic import replacing
from ..errors import ALKRadiomicsError, InputError, MissingDependencyError
from ..io import DicomSource
from ..scoring import CaseResult

SCHEME = "99ALKRAD"
MANUFACTURER = "ALKRadiomics"


def _highdicom():
    try:
        import highdicom
        from pydicom.sr.codedict import codes
    except ImportError:
        raise MissingDependencyError("DICOM SR and SEG need highdicom: pip install 'alk-radiomics[report]'.") \
            from None
    return highdicom, codes


def require_dicom(dicom: DicomSource | None, option: str) -> DicomSource:
    if dicom is None:
        raise InputError(f"{option} needs a CT read from a DICOM series folder (the output must reference its "
                         "series); this CT was read from an image file.")
    return dicom


def _codes():
    hd, codes = _highdicom()
    code = hd.sr.CodedConcept
    return {
        "rad_score": code("RADSCORE", SCHEME, "ALK Rad-score (Han et al. Table 2)"),
        "alk_probability": code("ALKPROB", SCHEME, "Probability of ALK rearrangement"),
        "combined_probability": code("ALKPROBC", SCHEME, "Probability of ALK rearrangement, combined model"),
        "rad_risk": code("RADRISK", SCHEME, "RAD-risk score (Han et al. Table 3)"),
        "risk_group": code("RISKGRP", SCHEME, "RAD-risk group for disease-free survival"),
        "high": code("HIGH", SCHEME, "High risk"),
        "low": code("LOW", SCHEME, "Low risk"),
        "volume": codes.SCT.Volume,
        "long_axis": code("103339001", "SCT", "Long Axis"),
        "short_axis": code("103340004", "SCT", "Short Axis"),
        "unitless": code("1", "UCUM", "no units"),
        "percent": code("%", "UCUM", "percent"),
        "mm": code("mm", "UCUM", "millimeter"),
        "mm3": code("mm3", "UCUM", "cubic millimeter"),
    }


def _refused_by_highdicom(kind: str):
    """Turn highdicom's complaints about an incomplete CT header into one line naming the output."""

    def wrap(build):
        @functools.wraps(build)
        def checked(*args, **kwargs):
            try:
                return build(*args, **kwargs)
            except ALKRadiomicsError:
                raise
            except (ValueError, AttributeError, TypeError, KeyError) as err:
                detail = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
                raise InputError(f"Cannot build the DICOM {kind} from this CT series: {detail}.") from None

        return checked

    return wrap


@_refused_by_highdicom("SEG")
def build_seg(dicom: DicomSource, mask: sitk.Image, label: int):
    """The outline as a binary DICOM Segmentation of the CT series (one frame per CT slice)."""
    hd, codes = _highdicom()
    sources = dicom.datasets()
    array = (sitk.GetArrayFromImage(mask) == label).astype(np.uint8)
    if array.shape[0] != len(sources):
        raise InputError(f"The mask has {array.shape[0]} slices but the DICOM series {len(sources)}; export the "
                         "outline on the CT's grid.")
    algorithm = hd.AlgorithmIdentificationSequence(name=MANUFACTURER, version=__version__,
                                                    family=codes.cid7162.ArtificialIntelligence)
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label="Lung nodule",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC,
        algorithm_identification=algorithm,
    )
    return hd.seg.Segmentation(
        source_images=sources, pixel_array=array, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description], series_instance_uid=hd.UID(), series_number=9901,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER, software_versions=__version__, device_serial_number="none",
        series_description="ALKRadiomics nodule outline", omit_empty_frames=True,
    )


@_refused_by_highdicom("SR")
def build_sr(dicom: DicomSource, mask: sitk.Image, label: int, result: CaseResult):
    """A TID 1500 Measurement Report with the outline's size and the model's scores."""
    hd, codes = _highdicom()
    concept = _codes()
    sources = dicom.datasets(pixels=False)
    array = sitk.GetArrayViewFromImage(mask) == label
    slices = [sources[k] for k in np.flatnonzero(array.any(axis=(1, 2)))]
    outline, alk, dfs = result.outline, result.alk, result.dfs
    measurements = [
        hd.sr.Measurement(name=concept["volume"], value=outline.volume_mm3, unit=concept["mm3"]),
        hd.sr.Measurement(name=concept["long_axis"], value=outline.longest_axial_diameter_mm, unit=concept["mm"]),
        hd.sr.Measurement(name=concept["short_axis"], value=outline.perpendicular_diameter_mm, unit=concept["mm"]),
        hd.sr.Measurement(name=concept["rad_score"], value=alk.rad_score, unit=concept["unitless"]),
        hd.sr.Measurement(name=concept["alk_probability"], value=100 * alk.probability, unit=concept["percent"]),
        hd.sr.Measurement(name=concept["rad_risk"], value=dfs.rad_risk_score, unit=concept["unitless"]),
    ]
    if alk.combined_probability is not None:
        measurements.append(hd.sr.Measurement(name=concept["combined_probability"],
                                              value=100 * alk.combined_probability, unit=concept["percent"]))
    algorithm = hd.sr.AlgorithmIdentification(name=f"{MANUFACTURER} model {result.model.name}",
                                              version=f"{__version__}/{result.model.version}")
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="Lung nodule 1"),
        finding_type=codes.SCT.Nodule,
        algorithm_id=algorithm,
        measurements=measurements,
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=concept["risk_group"],
                                                             value=concept[dfs.risk_group])],
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(s) for s in slices],
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name=MANUFACTURER, manufacturer_name=MANUFACTURER, model_name=result.model.name),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion, imaging_measurements=[group],
    )
    return hd.sr.Comprehensive3DSR(
        evidence=slices, content=report, series_instance_uid=hd.UID(), series_number=9902,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer=MANUFACTURER,
        series_description="ALKRadiomics report" + (" - RESEARCH USE ONLY" if result.research_use_only else ""),
    )


# Attributes naming the patient, the people and the place (DICOM PS3.15 Table E.1-1 lists them
# among many). Replaced or emptied by --deidentify-dicom; UIDs and dates stay, so the output still
# references the CT series it measures: this is not a full PS3.15 de-identification.
PATIENT_NAME_ATTRIBUTES = ("PatientName", "PatientID")
EMPTIED_ATTRIBUTES = ("PatientBirthDate", "PatientSex", "AccessionNumber", "ReferringPhysicianName", "StudyID")
REMOVED_ATTRIBUTES = ("PatientAge", "PatientBirthTime", "PatientAddress", "PatientTelephoneNumbers",
                      "PatientMotherBirthName", "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames",
                      "IssuerOfPatientID", "PatientWeight", "PatientSize", "EthnicGroup", "PatientComments",
                      "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "StationName",
                      "OperatorsName", "PerformingPhysicianName", "NameOfPhysiciansReadingStudy",
                      "PhysiciansOfRecord", "RequestingPhysician")


def deidentify(dataset, pseudonym: str) -> None:
    """Replace the patient's identity in an SR or SEG by ``pseudonym``; keep UIDs and dates.

    Nested items are cleaned too: highdicom copies e.g. the CT's InstitutionName into the SR's
    ContributingEquipmentSequence.
    """
    for keyword in PATIENT_NAME_ATTRIBUTES:
        setattr(dataset, keyword, pseudonym)
    _remove_identity(dataset)
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = "ALKRadiomics: identity removed; UIDs, dates kept"  # LO: 64 characters


def _remove_identity(dataset) -> None:
    for keyword in EMPTIED_ATTRIBUTES:
        if keyword in dataset:
            setattr(dataset, keyword, "")
    for keyword in REMOVED_ATTRIBUTES:
        if keyword in dataset:
            delattr(dataset, keyword)
    for element in dataset:
        if element.VR == "SQ":
            for item in element.value:
                _remove_identity(item)
                for keyword in PATIENT_NAME_ATTRIBUTES:
                    if keyword in item:
                        delattr(item, keyword)


def write_dicom(path: str | Path, dataset) -> Path:
    """Save a pydicom dataset atomically."""
    with replacing(path, ".dcm") as temporary:
        dataset.save_as(str(temporary))
    return Path(path)
