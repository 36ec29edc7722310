"""The ``alk-radiomics`` command line.

Every user error ends with one line on stderr and exit status 2 (DESIGN section 7); outputs are
written atomically, after all computation has succeeded.
"""

from __future__ import annotations

import argparse
import csv
import io as text_io
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .atomic import check_writable, write_text_atomic
from .errors import ALKRadiomicsError, InputError
from .features import extract
from .io import load_case

EXIT_USER_ERROR = 2

logger = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except ALKRadiomicsError as err:
        print(f"alk-radiomics: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("alk-radiomics: interrupted; no output was written.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alk-radiomics",
        description="CT radiomics signature of ALK-rearranged lung adenocarcinoma (Han et al.). "
                    "Research use only.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and settings")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    extract_parser = commands.add_parser(
        "extract", help="extract radiomic features of one nodule",
        description="Extract the features the bundled models need (default, no pyradiomics needed) "
                    "or all 851 pyradiomics features (--all).",
    )
    _add_case_arguments(extract_parser)
    extract_parser.add_argument("--out", help="write the features to this .csv or .json file")
    extract_parser.add_argument("--all", action="store_true", dest="all_features",
                                help="all 851 features with pyradiomics (the [full] extra)")
    extract_parser.set_defaults(run=_run_extract)
    return parser


def _add_case_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", required=True, help="CT: .nrrd, .nii(.gz), .mha or a DICOM series folder")
    parser.add_argument("--mask", required=True, help="nodule label map on the CT's grid")
    parser.add_argument("--label", type=int, help="label value of the nodule in a multi-label mask")
    parser.add_argument("--series", dest="series_uid", help="SeriesInstanceUID, for a DICOM folder with several series")


def _run_extract(args: argparse.Namespace) -> int:
    out = _output_path(args.out, (".csv", ".json")) if args.out else None
    case = load_case(args.image, args.mask, label=args.label, series_uid=args.series_uid)
    features = extract(case, all_features=args.all_features)
    record = {"image": str(args.image), "mask": str(args.mask), "label": case.label}
    if out is None:
        width = max(map(len, features))
        for name, value in features.items():
            print(f"{name:<{width}}  {value:.10g}")
    elif out.suffix.lower() == ".json":
        write_text_atomic(out, json.dumps({**record, "features": features}, indent=2) + "\n")
    else:
        write_text_atomic(out, _csv_row({**record, **features}))
    if out is not None:
        print(f"{len(features)} features written to {out}")
    return 0


def _output_path(path: str, suffixes: tuple[str, ...]) -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise InputError(f"Output {out} must end in {' or '.join(suffixes)}.")
    return check_writable(out)


def _csv_row(row: dict) -> str:
    buffer = text_io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
