"""One per-case export for every front end: the CLI's ``score``, the Slicer panel and the web app.

A scored case becomes any of JSON, PDF, HTML, DICOM SR and DICOM SEG, rendered here from the one
:class:`~ALKRadiomicsLib.scoring.CaseResult`, and written as one unit: every file is computed
first, then all are moved into place together (or none are).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .guard import refuse_outputs_onto_inputs
from .io import Case
from .outputs import Manifest, existing_outputs, refuse_existing, write_together
from .phi import recorded_path
from .scoring import CaseResult

OUTPUT_NAMES = {"json": "Full result (JSON)", "report": "PDF report", "html": "HTML report",
                "dicom_sr": "DICOM SR", "dicom_seg": "DICOM SEG"}


def report_targets(pdf_path: str | Path, *, dicom: bool) -> dict[str, Path]:
    """The panel's export: the PDF, the JSON beside it, and DICOM SR and SEG when the CT came from DICOM."""
    pdf = Path(pdf_path).with_suffix(".pdf")
    targets = {"report": pdf, "json": pdf.with_suffix(".json")}
    if dicom:
        targets.update(dicom_sr=pdf.with_name(pdf.stem + "_SR.dcm"), dicom_seg=pdf.with_name(pdf.stem + "_SEG.dcm"))
    return targets


def case_document(result: CaseResult, case: Case, *, case_id: str | None = None, include_phi: bool = False) -> dict:
    """The JSON document of a scored case: the inputs (by file name or folder hash unless ``include_phi``,
    since folder names often carry a patient's name) and the result."""
    return {"case": {"case_id": case_id, "image": recorded_path(case.image_path, include_phi),
                     "mask": recorded_path(case.mask_path, include_phi), "label": case.label}, **result.to_dict()}


def render_outputs(result: CaseResult, case: Case, targets: Mapping[str, Path], *, case_id: str | None = None,
                   include_phi: bool = False, deidentify_dicom: bool = False) -> dict[Path, bytes | Manifest]:
    """Every requested output's bytes, by path (nothing is written). DICOM SR and SEG carry the patient's
    identifiers, as DICOM does, unless ``deidentify_dicom``. With other outputs beside it, the JSON is the
    set's :class:`~ALKRadiomicsLib.outputs.Manifest`: written last, with their checksums."""
    files: dict[Path, bytes | Manifest] = {}
    document = None
    if targets.get("json") is not None:
        document = case_document(result, case, case_id=case_id, include_phi=include_phi)
    if targets.get("report") is not None or targets.get("html") is not None:
        from .report import render_html, render_pdf, report_content

        content = report_content(result, case_id=case_id, patient=patient_details(case) if include_phi else None)
        if targets.get("report") is not None:
            files[Path(targets["report"])] = render_pdf(content, case.image, case.mask, case.label)
        if targets.get("html") is not None:
            files[Path(targets["html"])] = render_html(content, case.image, case.mask, case.label).encode("utf-8")
    if targets.get("dicom_sr") is not None or targets.get("dicom_seg") is not None:
        from .report.dicom import build_seg, build_sr, deidentify, require_dicom

        require_dicom(case.dicom, "DICOM SR / SEG output")
        datasets = {}
        if targets.get("dicom_seg") is not None:
            datasets[Path(targets["dicom_seg"])] = build_seg(case.dicom, case.mask, case.label)
        if targets.get("dicom_sr") is not None:
            datasets[Path(targets["dicom_sr"])] = build_sr(case.dicom, case.mask, case.label, result)
        for path, dataset in datasets.items():
            if deidentify_dicom:
                deidentify(dataset, case_id or "ANONYMOUS")
            files[path] = dataset_bytes(dataset)
    if document is not None:
        manifest = Manifest(document)
        files[Path(targets["json"])] = manifest if files else manifest.dumps(document).encode("utf-8")
    return files


def patient_details(case: Case) -> dict[str, str] | None:
    """Name, ID and birth date from the DICOM header (only ever shown with --include-phi)."""
    if case.dicom is None:
        return None
    header = case.dicom.datasets(pixels=False)[0]
    return {"Patient name": str(header.get("PatientName", "")), "Patient ID": str(header.get("PatientID", "")),
            "Birth date": str(header.get("PatientBirthDate", ""))}


def dataset_bytes(dataset) -> bytes:
    """A DICOM dataset as the bytes of its Part 10 file."""
    from io import BytesIO

    buffer = BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def check_targets(case: Case, targets: Mapping[str, Path | None], *, overwrite: bool) -> None:
    """Before any work: no target is one of the case's inputs (the CT, the mask, the DICOM files), and no
    existing file is replaced unless ``overwrite``."""
    named = {f"--{key.replace('_', '-')}": path for key, path in targets.items()}
    refuse_outputs_onto_inputs(named, (case.image_path, case.mask_path, *(case.dicom.files if case.dicom else ())))
    refuse_existing(named, overwrite)


def export_case(result: CaseResult, case: Case, targets: Mapping[str, Path], *, case_id: str | None = None,
                include_phi: bool = False, deidentify_dicom: bool = False, overwrite: bool = False) -> list[Path]:
    """Check, render and write a case's outputs as one unit (all of them or none); returns the paths written."""
    check_targets(case, targets, overwrite=overwrite)
    files = render_outputs(result, case, targets, case_id=case_id, include_phi=include_phi,
                           deidentify_dicom=deidentify_dicom)
    return write_together(files, overwrite=overwrite) if files else []


def existing_targets(targets: Mapping[str, Path]) -> list[Path]:
    """The target files that exist already (a front end asks before replacing them)."""
    return existing_outputs(targets.values())


def export_all_features(case: Case, csv_path: str | Path) -> Path:
    """All 851 pyradiomics features of the case (the [full] extra) as a feature,value CSV."""
    from .atomic import write_text_atomic
    from .csvsafe import spreadsheet_safe
    from .features import extract

    features = extract(case, all_features=True)
    return write_text_atomic(csv_path, "feature,value\n" + "".join(f"{spreadsheet_safe(k)},{v!r}\n"
                                                                   for k, v in features.items()))
