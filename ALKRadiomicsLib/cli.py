"""The ``alk-radiomics`` command line.

Every user error ends with one line on stderr and exit status 2 (DESIGN section 7); outputs are
written atomically, after all computation has succeeded.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io as text_io
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import SimpleITK as sitk

from . import __version__
from .atomic import check_writable, write_text_atomic
from .batch import progress_bar, run_batch
from .cohort import read_cohort
from .csvsafe import spreadsheet_safe
from .errors import ALKRadiomicsError, InputError
from .export import OUTPUT_NAMES, render_outputs
from .features import extract
from .guard import refuse_outputs_onto_inputs
from .io import check_ct, dicom_source, load_case, read_image, stored_size
from .limits import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_VARIABLE, check_memory, parse_memory, set_memory_limit
from .model import bundled_model_path, model_to_json
from .model.reference import build_model, published_feature_names, reference_features
from .model_guard import load_model_file
from .outputs import Manifest, check_manifest, recover, refuse_existing, write_together
from .phi import recorded_path
from .report.dicom import require_dicom
from .scoring import score_case
from .scoring.score import check_h_score, check_n_stage, check_prevalence
from .scoring.summary import summary_text
from .segmentation import seed_to_lps, segment_nodule

EXIT_USER_ERROR = 2

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # ITK's own warnings (with its build paths) precede our one-line reason; shown only with --verbose.
    sitk.ProcessObject.SetGlobalWarningDisplay(args.verbose)
    try:
        if getattr(args, "memory_limit", None) is not None:
            set_memory_limit(parse_memory(args.memory_limit))
        return args.run(args)
    except ALKRadiomicsError as err:
        print(f"alk-radiomics: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("alk-radiomics: interrupted; no output was written.", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (DESIGN section 7), like every other error."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="alk-radiomics",
        description="CT radiomics signature of ALK-rearranged lung adenocarcinoma (Han et al.). "
                    "Research use only.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and settings")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND", parser_class=_Parser)

    extract_parser = commands.add_parser(
        "extract", help="extract radiomic features of one nodule",
        description="Extract the features the bundled models need (default, no pyradiomics needed) "
                    "or all 851 pyradiomics features (--all).",
    )
    _add_case_arguments(extract_parser)
    extract_parser.add_argument("--out", help="write the features to this .csv or .json file")
    extract_parser.add_argument("--all", action="store_true", dest="all_features",
                                help="all 851 features with pyradiomics (the [full] extra)")
    extract_parser.add_argument("--include-phi", action="store_true",
                                help="record the input paths in full (default: file names only, a hash for a folder: "
                                     "folder names often carry the patient's name)")
    _add_overwrite_argument(extract_parser)
    extract_parser.set_defaults(run=_run_extract)

    score_parser = commands.add_parser(
        "score", help="score one nodule: ALK probability, Rad-score, RAD-risk group",
        description="Apply the bundled (or a given) model to one nodule. Research use only.",
    )
    _add_case_arguments(score_parser)
    score_parser.add_argument("--hla", metavar="H", help="HLA-I H-score, 0-300 (with --pdl1: combined model)")
    score_parser.add_argument("--pdl1", metavar="P", help="PD-L1 H-score, 0-300 (with --hla: combined model)")
    score_parser.add_argument("--n-stage", metavar="N0|N1-2", help="pathological N stage, for the N-stage DFS model")
    score_parser.add_argument("--prevalence", metavar="P",
                              help="ALK prevalence for the displayed probability, e.g. 0.05 (default: the "
                                   "study's 1:1 design, 0.5)")
    score_parser.add_argument("--model", metavar="FILE", help="model .json file (default: the bundled model)")
    score_parser.add_argument("--json", metavar="OUT.json", help="write the full result as JSON")
    score_parser.add_argument("--report", metavar="OUT.pdf", help="write the per-case PDF report ([report] extra)")
    score_parser.add_argument("--html", metavar="OUT.html", help="write the report as one self-contained HTML file")
    score_parser.add_argument("--dicom-sr", metavar="OUT.dcm",
                              help="write a DICOM SR (TID 1500) referencing the CT series (DICOM input only); it "
                                   "carries the patient's identity from the CT unless --deidentify-dicom")
    score_parser.add_argument("--dicom-seg", metavar="OUT.dcm",
                              help="write the outline as a DICOM Segmentation of the CT series (DICOM input only); "
                                   "it carries the patient's identity from the CT unless --deidentify-dicom")
    score_parser.add_argument("--case-id", help="case identifier printed on the report (default: none)")
    score_parser.add_argument("--include-phi", action="store_true",
                              help="print the patient's name, ID and birth date from DICOM on the PDF/HTML report and "
                                   "record the input paths in full in the JSON (default: neither; the JSON names "
                                   "inputs by file name, a folder by a hash). DICOM SR and SEG always carry the CT's "
                                   "patient and study identity, as PACS needs, unless --deidentify-dicom")
    score_parser.add_argument("--deidentify-dicom", action="store_true",
                              help="DICOM SR and SEG without the patient's name, ID, birth date, sex, age, accession "
                                   "number, institution and physicians (replaced by --case-id or ANONYMOUS); UIDs and "
                                   "dates are kept, so they still reference the CT series")
    score_parser.add_argument("--no-outline-uncertainty", dest="outline_uncertainty", action="store_false",
                              help="skip re-scoring the outline eroded and dilated by one voxel")
    _add_overwrite_argument(score_parser)
    score_parser.set_defaults(run=_run_score)

    segment_parser = commands.add_parser(
        "segment", help="outline a nodule from one point inside it",
        description="One-click segmentation: a 3D outline of the nodule holding the seed, on the CT's grid, "
                    "with the numbers a reviewer needs. The CT is not changed.",
    )
    segment_parser.add_argument("--image", required=True, help="CT: .nrrd, .nii(.gz), .mha or a DICOM series folder")
    segment_parser.add_argument("--series", dest="series_uid", help="SeriesInstanceUID, for a DICOM folder with "
                                                                     "several series")
    segment_parser.add_argument("--seed", required=True, nargs=3, type=float, metavar=("X", "Y", "Z"),
                                help="a point inside the nodule, in mm")
    segment_parser.add_argument("--seed-space", choices=("lps", "ras"), default="lps",
                                help="coordinate system of --seed: lps (ITK, DICOM) or ras (3D Slicer); default lps")
    segment_parser.add_argument("--out", required=True, help="mask to write (.nrrd, .nii, .nii.gz, .mha)")
    segment_parser.add_argument("--json", metavar="QA.json", help="write the review numbers and warnings as JSON")
    segment_parser.add_argument("--include-phi", action="store_true",
                                help="record the input paths in full in the JSON (default: file names only, a hash "
                                     "for a folder)")
    _add_overwrite_argument(segment_parser)
    _add_memory_argument(segment_parser)
    segment_parser.set_defaults(run=_run_segment)

    batch_parser = commands.add_parser(
        "batch", help="extract features for a whole cohort, in parallel and resumable",
        description="Extract the features of every row of a cohort CSV (id, image, mask[, label]) into one CSV: "
                    "one row per case with an error column instead of stopping. Results are cached per case, so "
                    "a rerun after a crash does only what is missing. Runs on a local Dask cluster by default, "
                    "on an existing one with --scheduler, or in this process with --serial.",
    )
    batch_parser.add_argument("cohort", help="cohort CSV")
    batch_parser.add_argument("--out", required=True, help="features CSV to write")
    batch_parser.add_argument("--all", action="store_true", dest="all_features",
                              help="all 851 pyradiomics features ([full] extra)")
    batch_parser.add_argument("--workers", type=int, help="local Dask worker processes (default: all cores)")
    batch_parser.add_argument("--scheduler", metavar="ADDR", help="address of a running Dask scheduler")
    batch_parser.add_argument("--serial", action="store_true", help="no Dask: one case after another here")
    batch_parser.add_argument("--cache", metavar="DIR", help="per-case cache folder (default: OUT.cache)")
    batch_parser.set_defaults(run=_run_batch)

    verify_parser = commands.add_parser(
        "verify-outputs", help="check that a result's JSON and the files written with it are one set",
        description="A command's JSON output (score, segment, validate, train) is written last and lists the "
                    "files written with it and their sha256 (output_set). This checks each is present and "
                    "unchanged: what a PACS pickup or a script should do before it takes the files.",
    )
    verify_parser.add_argument("manifest", metavar="FILE.json", help="the JSON written with the other outputs")
    verify_parser.set_defaults(run=_run_verify_outputs)

    for name, help_text in (("validate", "external validation of a model file on a cohort"),
                            ("recalibrate", "refit standardization, intercepts and cutoff on a cohort")):
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        sub.add_argument("cohort", help="cohort CSV (id, image, mask, alk, dfs_months, event, hla, pdl1, n_stage)")
        sub.add_argument("--features", required=True, help="features CSV from alk-radiomics batch")
        sub.add_argument("--model", help="model .json file (default: the bundled model)")
        sub.add_argument("--report", metavar="R.pdf", help="write the validation report as PDF")
        sub.add_argument("--json", metavar="R.json", help="write every number as JSON")
        if name == "recalibrate":
            sub.add_argument("--out", required=True, help="recalibrated model .json to write")
            sub.add_argument("--force", action="store_true",
                             help="write the model even when the cohort cannot support it (too few patients or "
                                  "events, AUC or C-index below 0.5, negative calibration slope, high-risk group "
                                  "doing better); the problems are recorded as flags that every score repeats")
        else:
            sub.add_argument("--prevalence", type=float, metavar="P",
                             help="ALK prevalence of this cohort (0-1): the model's probabilities are moved from its "
                                  "intercept_prior to P before calibration is measured (default: as the model gives "
                                  "them)")
            sub.add_argument("--record", metavar="MODEL.json",
                             help="write a copy of the model carrying this validation as its record; the research-use "
                                  "banner goes only if the record passes the gates (see README) and none of these "
                                  "patients helped fit the model")
        sub.set_defaults(run=_run_validate if name == "validate" else _run_recalibrate)

    train_parser = commands.add_parser(
        "train", help="re-run the paper's pipeline on a cohort: a new model file and its validation report",
        description="Train the ALK and DFS models on a site's cohort with the paper's statistics (Methods 2.4-2.5): "
                    "screening, LASSO with 10-fold CV, stepwise regression, cross-validated and bootstrapped "
                    "AUC and C-index, DeLong and likelihood-ratio tests, Kaplan-Meier, Table 1. Writes a model "
                    "file with the bundled model's schema (calibrated: true) and the report as PDF and JSON.",
    )
    train_parser.add_argument("cohort", help="cohort CSV (id, image, mask, alk, dfs_months, event, hla, pdl1, n_stage, "
                                             "other clinical columns)")
    train_parser.add_argument("--features", required=True, help="features CSV from alk-radiomics batch (--all for 851)")
    train_parser.add_argument("--out", required=True, help="model .json file to write")
    train_parser.add_argument("--report", required=True, metavar="VALIDATION.pdf", help="training report to write")
    train_parser.add_argument("--json", metavar="REPORT.json", help="every number of the report as JSON "
                                                                    "(default: the report's name with .json)")
    train_parser.add_argument("--seed", type=int, default=0, help="seed of every fold split and resample (default 0)")
    train_parser.add_argument("--bootstraps", type=int, default=500, help="bootstrap resamples (default 500)")
    train_parser.add_argument("--alk-lambda", choices=("min", "1se"), default="min",
                              help="ALK LASSO penalty: lambda.min, as the paper (default), or lambda.1se")
    train_parser.add_argument("--dfs-lambda", choices=("min", "1se"), default="min",
                              help="DFS LASSO Cox penalty: lambda.min (default; lambda.1se kept nothing at the "
                                   "paper's effect sizes in issue 13's measurement), or lambda.1se")
    train_parser.add_argument("--events-per-variable", type=int, default=15, metavar="N",
                              help="the Rad-score keeps at most (smaller ALK class)/N variables (default 15, "
                                   "Harrell's m/15)")
    train_parser.add_argument("--dfs-events-per-variable", type=int, default=10, metavar="N",
                              help="the RAD-risk keeps at most events/N variables, the best subset of that size "
                                   "among LASSO's survivors by likelihood (default 10, Peduzzi)")
    train_parser.add_argument("--optimism-bootstraps", type=int, default=0, metavar="B",
                              help="Harrell's optimism-corrected bootstrap with the whole pipeline refitted on B "
                                   "resamples (default 0: not run; about 13 s per resample per core with 132 patients "
                                   "and 851 features)")
    train_parser.add_argument("--workers", type=int, default=1, metavar="N",
                              help="processes for the optimism bootstrap (same result as 1 for a seed)")
    train_parser.set_defaults(run=_run_train)

    reference_parser = commands.add_parser(
        "build-reference", help="rebuild the bundled model's standardization and cutoff from LIDC nodules",
        description="Extract the signature from the malignant-rated LIDC nodules (mask clear of the sub-volume's "
                    "end slices) and write a model file: the published betas plus the derived standardization, "
                    "RAD-risk cutoff and reference distributions.",
    )
    reference_parser.add_argument("--data", required=True, help="the lidc_nodules folder (metadata.csv, image/, mask/)")
    reference_parser.add_argument("--out", required=True, help="model .json file to write")
    reference_parser.add_argument("--date", help="date recorded in the provenance (YYYY-MM-DD; default today): give "
                                                 "the bundled model's to reproduce it byte for byte")
    reference_parser.set_defaults(run=_run_build_reference)

    web_parser = commands.add_parser(
        "web", help="serve the Segment -> Review -> Score -> Export workflow in a browser ([web] extra)",
        description="Serve the Slicer panel's workflow as a web page (trame-slicer: Slicer's own MRML, views and "
                    "segment editor). One server process holds one case: every tab sees the same scene.",
    )
    web_parser.add_argument("--host", default="127.0.0.1",
                            help="address to bind (default 127.0.0.1: this machine only)")
    web_parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    web_parser.add_argument("--data", metavar="DIR", help="offer the CT files and DICOM folders under DIR (nothing "
                                                          "outside it)")
    web_parser.set_defaults(run=_run_web)
    return parser


def _add_overwrite_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing output files (default: refuse, before any work); the outputs are "
                             "written together or not at all")


def _case_outputs(outputs: dict[str, str | None], overwrite: bool) -> None:
    """Before any work, refuse to replace existing outputs unless --overwrite."""
    refuse_existing(outputs, overwrite)


def _add_memory_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memory-limit", metavar="SIZE",
                        help="refuse, before reading, inputs whose estimated peak memory exceeds SIZE (e.g. 6G; "
                             f"default ${MEMORY_LIMIT_VARIABLE} or {DEFAULT_MEMORY_LIMIT // 2**30}G, which fits an "
                             "8 GB workstation)")


def _add_case_arguments(parser: argparse.ArgumentParser) -> None:
    _add_memory_argument(parser)
    parser.add_argument("--image", required=True, help="CT: .nrrd, .nii(.gz), .mha or a DICOM series folder")
    parser.add_argument("--mask", required=True, help="nodule label map on the CT's grid")
    parser.add_argument("--label", type=int, help="label value of the nodule in a multi-label mask")
    parser.add_argument("--series", dest="series_uid", help="SeriesInstanceUID, for a DICOM folder with several series")


def _run_extract(args: argparse.Namespace) -> int:
    refuse_outputs_onto_inputs({"--out": args.out}, (args.image, args.mask))
    out = _output_path(args.out, (".csv", ".json")) if args.out else None
    _case_outputs({"--out": args.out}, args.overwrite)
    case = load_case(args.image, args.mask, label=args.label, series_uid=args.series_uid)
    features = extract(case, all_features=args.all_features)
    record = {"image": recorded_path(args.image, args.include_phi), "mask": recorded_path(args.mask, args.include_phi),
              "label": case.label}
    if out is None:
        width = max(map(len, features))
        for name, value in features.items():
            print(f"{name:<{width}}  {value:.10g}")
    elif out.suffix.lower() == ".json":
        write_together({out: json.dumps({**record, "features": features}, indent=2) + "\n"}, overwrite=args.overwrite)
    else:
        write_together({out: _csv_row({**record, **features})}, overwrite=args.overwrite)
    if out is not None:
        print(f"{len(features)} features written to {out}")
    return 0


def _run_score(args: argparse.Namespace) -> int:
    # Everything the user typed is checked before the CT is read, and nothing is written until
    # every output has been computed.
    refuse_outputs_onto_inputs(
        {"--json": args.json, "--report": args.report, "--html": args.html, "--dicom-sr": args.dicom_sr,
         "--dicom-seg": args.dicom_seg},
        (args.image, args.mask, args.model or bundled_model_path()))
    hla = check_h_score(args.hla, "HLA-I")
    pdl1 = check_h_score(args.pdl1, "PD-L1")
    check_n_stage(args.n_stage)
    check_prevalence(args.prevalence)
    model = load_model_file(args.model)
    outputs = {
        "json": _output_path(args.json, (".json",)) if args.json else None,
        "report": _output_path(args.report, (".pdf",)) if args.report else None,
        "html": _output_path(args.html, (".html", ".htm")) if args.html else None,
        "dicom_sr": _output_path(args.dicom_sr, (".dcm",)) if args.dicom_sr else None,
        "dicom_seg": _output_path(args.dicom_seg, (".dcm",)) if args.dicom_seg else None,
    }
    _case_outputs({"--" + key.replace("_", "-"): path for key, path in outputs.items()}, args.overwrite)
    dicom = dicom_source(args.image, args.series_uid)
    for option in ("dicom_sr", "dicom_seg"):
        if outputs[option] is not None:
            require_dicom(dicom, "--" + option.replace("_", "-"))
    case = load_case(args.image, args.mask, label=args.label, series_uid=args.series_uid,
                     dicom_outputs=outputs["dicom_sr"] is not None or outputs["dicom_seg"] is not None)
    result = score_case(case, model=model, hla=hla, pdl1=pdl1, n_stage=args.n_stage, prevalence=args.prevalence,
                        outline_uncertainty=args.outline_uncertainty)

    # One unit, through the one per-case export: every output rendered, then all moved into place together.
    files = render_outputs(result, case, outputs, case_id=args.case_id, include_phi=args.include_phi,
                           deidentify_dicom=args.deidentify_dicom)
    if files:
        write_together(files, overwrite=args.overwrite)
    print(summary_text(result))
    for key, path in outputs.items():
        if path is not None:
            print(f"{OUTPUT_NAMES[key]} written to {path}")
    return 0


def _run_segment(args: argparse.Namespace) -> int:
    refuse_outputs_onto_inputs({"--out": args.out, "--json": args.json}, (args.image,))
    out = _output_path(args.out, MASK_SUFFIXES)
    qa = _output_path(args.json, (".json",)) if args.json else None
    _case_outputs({"--out": args.out, "--json": args.json}, args.overwrite)
    voxels, stored = stored_size(args.image)
    check_memory(f"Segmenting {Path(args.image).name}", image=(voxels, stored), mask=(voxels, 1))
    image = check_ct(read_image(args.image, series_uid=args.series_uid))
    result = segment_nodule(image, seed_to_lps(args.seed, args.seed_space))
    files: dict[Path, object] = {out: lambda path: sitk.WriteImage(result.mask, str(path), True)}
    if qa is not None:
        files[qa] = Manifest({"image": recorded_path(args.image, args.include_phi),
                              "mask": str(out) if args.include_phi else out.name, **result.to_dict()})
    write_together(files, overwrite=args.overwrite)
    review = result.review
    print(f"Outline written to {out}: {review.volume_mm3:.0f} mm3, longest axial diameter "
          f"{review.longest_axial_diameter_mm:.1f} mm x {review.perpendicular_diameter_mm:.1f} mm perpendicular, "
          f"{review.connected_parts} part(s), HU {review.mean_hu:.0f} mean "
          f"({review.min_hu:.0f} to {review.max_hu:.0f})")
    for warning in review.warnings:
        print(f"  warning: {warning}")
    return 0


def _run_batch(args: argparse.Namespace) -> int:
    rows = read_cohort(args.cohort)
    refuse_outputs_onto_inputs({"--out": args.out, "--cache": args.cache or args.out + ".cache"},
                               (args.cohort, *(path for row in rows for path in (row.image, row.mask))))
    out = _output_path(args.out, (".csv",))
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}.")
    summary = run_batch(rows, out, all_features=args.all_features, workers=args.workers, scheduler=args.scheduler,
                        serial=args.serial, cache_dir=args.cache, progress=progress_bar)
    again = f" ({summary.rejected} of them because their cache entry failed its check)" if summary.rejected else ""
    print(f"{summary.cases} cases -> {out}: {summary.computed} computed{again}, {summary.from_cache} from the cache, "
          f"{summary.errors} with errors (see the error column)")
    return 0


def _run_verify_outputs(args: argparse.Namespace) -> int:
    checked = check_manifest(args.manifest)
    print(f"{args.manifest} and the {len(checked)} file(s) written with it are one set: {', '.join(checked)}")
    return 0


def _validation_inputs(args: argparse.Namespace):
    from .training import cohort_frame

    refuse_outputs_onto_inputs({"--report": args.report, "--json": args.json, "--out": getattr(args, "out", None)},
                               (args.cohort, args.features, args.model or bundled_model_path()))
    report = _output_path(args.report, (".pdf",)) if args.report else None
    json_out = _output_path(args.json, (".json",)) if args.json else None
    model = load_model_file(args.model)
    data, notes = cohort_frame(args.cohort, args.features, model.feature_names)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return model, data, report, json_out


def _write_validation(results: dict, models: dict, data, report, json_out, title: str, cohort: str,
                      notes: dict[str, str] | None = None) -> None:
    from .training.evaluation import PART_NAMES
    from .training.figures import validation_pdf

    pdf = validation_pdf(title, results, models, data, notes) if report else None
    document = {"cohort": cohort, **{label: result.to_dict() for label, result in results.items()}}
    if notes:
        document["notes"] = notes
    files: dict = {report: pdf} if pdf is not None else {}
    if json_out is not None:
        files[json_out] = (Manifest(document, _report_json) if files else _report_json(document))
    if files:
        write_together(files, overwrite=True)  # the report and its numbers: both or neither
    for label, result in results.items():
        radiomic, cal = result.alk_radiomic, result.alk_radiomic.calibration
        line = (f"{label}: Rad-score AUC {radiomic.auc:.3f} ({radiomic.auc_ci95[0]:.3f}-{radiomic.auc_ci95[1]:.3f}), "
                f"calibration slope {cal.slope:.2f} ({cal.slope_ci95[0]:.2f}-{cal.slope_ci95[1]:.2f}), "
                f"calibration-in-the-large {cal.calibration_in_the_large:+.2f} "
                f"({cal.calibration_in_the_large_ci95[0]:+.2f} to {cal.calibration_in_the_large_ci95[1]:+.2f}), "
                f"Brier {cal.brier:.3f}")
        if result.alk_combined is not None:
            combined = result.alk_combined
            line += f"; combined AUC {combined.auc:.3f} ({combined.auc_ci95[0]:.3f}-{combined.auc_ci95[1]:.3f})"
        if result.dfs_radiomic is not None:
            dfs = result.dfs_radiomic
            line += f"; RAD-risk C-index {dfs.c_index:.3f} ({dfs.c_index_ci95[0]:.3f}-{dfs.c_index_ci95[1]:.3f})"
        line += "".join(f"; {PART_NAMES[part]} not validated: {why}"
                        for part, why in (result.not_validated or {}).items())
        print(line + " [intervals 95%: AUC DeLong, slope and in-the-large Wald, C-index infinitesimal jackknife]"
              + (" [apparent: calibration-in-the-large, Brier and every other number that depends on the intercepts "
                 "or cutoff refitted on these patients; AUC, C-index and slope are not (the report's note lists "
                 "them)]" if result.intercepts_fitted_here else ""))
    written = [str(path) for path in (report, json_out) if path is not None]
    if written:
        print(f"report written to {' and '.join(written)}")


def _run_validate(args: argparse.Namespace) -> int:
    from .training import evaluate
    from .training.validation_record import validated_model

    record_out = _output_path(args.record, (".json",)) if args.record else None
    model, data, report, json_out = _validation_inputs(args)
    result = evaluate(model, data, prevalence=args.prevalence, cohort=str(args.cohort))
    validated = None
    if record_out is not None:
        validated = validated_model(model, data, result, cohort=str(args.cohort),
                                    command=f"alk-radiomics validate {args.cohort} --features {args.features} --record")
    _write_validation({"model": result}, {"model": model}, data, report, json_out,
                      f"External validation on {Path(args.cohort).name}", str(args.cohort))
    if validated is not None:
        write_text_atomic(record_out, model_to_json(validated))
        failures = validated.validation.failures()
        print(f"model with its validation record written to {record_out}; "
              + ("it passes every gate: reports scored with it drop the research-use banner" if not failures
                 else f"research use only stays: {'; '.join(failures)}"))
    return 0


def _run_recalibrate(args: argparse.Namespace) -> int:
    from .model.schema import load_model as reload
    from .training import evaluate, recalibrate, recalibration_problems

    out = _output_path(args.out, (".json",))
    model, data, report, json_out = _validation_inputs(args)
    local = recalibrate(model, data, cohort=str(args.cohort),
                        command=f"alk-radiomics recalibrate {args.cohort} --features {args.features}")
    problems = recalibration_problems(local, data)
    if problems and not args.force:
        raise InputError(f"This cohort cannot support a recalibration: {'; '.join(problems)}. Nothing was written; "
                         "give --force to write the model anyway with these problems recorded as flags.")
    for problem in problems:
        print(f"warning: recalibrated model flagged: {problem}", file=sys.stderr)
    local = replace(local, flags=tuple(problems))
    write_text_atomic(out, model_to_json(local))
    local = reload(out)
    from .training.figures import RECALIBRATED_ON_THESE

    cohort = str(args.cohort)
    _write_validation({"before": evaluate(model, data, cohort=cohort),
                       "after": evaluate(local, data, intercepts_fitted_here=True, cohort=cohort)},
                      {"before": model, "after": local}, data, report, json_out,
                      f"Recalibration on {Path(args.cohort).name}", cohort, {"after": RECALIBRATED_ON_THESE})
    print(f"recalibrated model written to {out}")
    return 0


def _run_train(args: argparse.Namespace) -> int:
    from .training import cohort_frame
    from .training.train import TrainSettings, train
    from .training.training_report import summary_lines, training_pdf

    json_name = args.json or str(Path(args.report).with_suffix(".json"))
    json_option = "--json" if args.json else "the report's JSON (--report's name with .json; --json to choose)"
    refuse_outputs_onto_inputs({"--out": args.out, "--report": args.report, json_option: json_name},
                               (args.cohort, args.features))
    out = _output_path(args.out, (".json",))
    report = _output_path(args.report, (".pdf",))
    json_out = _output_path(json_name, (".json",))  # that it is not --out, refuse_outputs_onto_inputs saw to
    if args.bootstraps < 100:
        raise InputError(f"--bootstraps must be at least 100 for a stable mean and SD, got {args.bootstraps}.")
    for flag, value in (("--events-per-variable", args.events_per_variable),
                        ("--dfs-events-per-variable", args.dfs_events_per_variable), ("--workers", args.workers)):
        if value < 1:
            raise InputError(f"{flag} must be at least 1, got {value}.")
    if args.optimism_bootstraps < 0:
        raise InputError(f"--optimism-bootstraps must be 0 or more, got {args.optimism_bootstraps}.")
    names = feature_columns(args.features)
    data, notes = cohort_frame(args.cohort, args.features, names)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    settings = TrainSettings(seed=args.seed, bootstraps=args.bootstraps, alk_lambda=args.alk_lambda,
                             dfs_lambda=args.dfs_lambda, events_per_variable=args.events_per_variable,
                             dfs_events_per_variable=args.dfs_events_per_variable,
                             optimism_bootstraps=args.optimism_bootstraps, workers=args.workers)
    command = (f"alk-radiomics train {args.cohort} --features {args.features} --seed {args.seed} "
               f"--alk-lambda {args.alk_lambda} --dfs-lambda {args.dfs_lambda} "
               f"--events-per-variable {args.events_per_variable} "
               f"--dfs-events-per-variable {args.dfs_events_per_variable}")
    training = train(data, names, cohort=str(args.cohort), command=command, settings=settings)
    model_text = model_to_json(training.model)
    training = replace(training, model=replace(training.model,
                                               sha256=hashlib.sha256(model_text.encode("utf-8")).hexdigest()))
    pdf = training_pdf(training)
    # The model, its report and the report's numbers: all three or none.
    write_together({out: model_text, report: pdf, json_out: Manifest(training.to_dict(), _report_json)},
                   overwrite=True)
    print("\n".join(summary_lines(training)))
    print(f"model written to {out}; report to {report} and {json_out}")
    return 0


def _report_json(document: dict) -> str:
    return json.dumps(document, indent=2, default=float) + "\n"


def feature_columns(path: str) -> list[str]:
    """The feature names of a features CSV: every column but id and error."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except OSError as err:
        raise InputError(f"Cannot read features file {path}: {err.strerror}.") from None
    names = [n for n in header if n not in ("id", "error")]
    if "id" not in header or not names:
        raise InputError(f"Features file {path} needs an id column and feature columns; write it with "
                         "alk-radiomics batch.")
    return names


def _run_build_reference(args: argparse.Namespace) -> int:
    refuse_outputs_onto_inputs({"--out": args.out}, (args.data,))
    out = _output_path(args.out, (".json",))
    data = Path(args.data)
    if not data.is_dir():
        raise InputError(f"{data} is not a folder; give the lidc_nodules folder (metadata.csv, image/, mask/).")

    def progress(done: int, total: int) -> None:
        print(f"\rreference nodules: {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    features, volumes = reference_features(data, published_feature_names(), progress=progress)
    model = build_model(
        features,
        data_description=f"{args.data}: {len(features)} LIDC-IDRI nodules, see reference_population",
        command=f"alk-radiomics build-reference --data {args.data}", date=args.date, volumes=volumes,
    )
    write_text_atomic(out, model_to_json(model))
    print(f"model with {len(features)} reference nodules written to {out}")
    return 0


MASK_SUFFIXES = (".nrrd", ".nii", ".nii.gz", ".mha", ".mhd")


def _output_path(path: str, suffixes: tuple[str, ...]) -> Path:
    out = Path(path)
    if not any(out.name.lower().endswith(suffix) for suffix in suffixes):
        raise InputError(f"Output {out} must end in {' or '.join(suffixes)}.")
    check_writable(out)
    recover(out.parent)  # finish or remove what a killed run left there (staging folders, .partial files)
    return out


def _csv_row(row: dict) -> str:
    buffer = text_io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow({k: (repr(v) if isinstance(v, float) else spreadsheet_safe(v)) for k, v in row.items()})
    return buffer.getvalue()


def _run_web(args: argparse.Namespace) -> int:
    from .web import serve

    serve(host=args.host, port=args.port, data_dir=args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

