"""Extraction speed and memory: ALKRadiomics' signature path against stock pyradiomics.

Run with ``make benchmark`` (or ``.venv/bin/python Testing/benchmarks/bench_scoring.py``).
Every method runs in its own child process on the same, already loaded case: a warm-up run,
then ``--repeats`` timed runs (median reported), and the peak resident memory of those runs
above the memory held before them (the loaded CT, imports), from Linux's VmHWM.
Methods:
  stock-851   stock pyradiomics, bundled parameter file, all 851 features
  stock-6     stock pyradiomics with only the six signature features enabled
  ours-6      ALKRadiomicsLib.features.extract (no pyradiomics)
  ours-score  ALKRadiomicsLib.scoring.score_case with the bundled model and its whole result: the
              domain verdict, the outline review and the 95 % Monte Carlo interval (4000 draws; the
              outline moved by +-1 mm on the 1 mm grid: three outlines, one resampling)
Cases: lung1 and lung2 (pyradiomics' data) and LIDC-IDRI-0314 with its consensus outline
(../shared/data, skipped with a message when absent).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY))

from ALKRadiomicsLib import io  # noqa: E402
from ALKRadiomicsLib.features import SIGNATURE_FEATURES, extract  # noqa: E402
from ALKRadiomicsLib.model import load_bundled_model  # noqa: E402
from ALKRadiomicsLib.resources import PARAMETER_FILE_NAME, resource_path  # noqa: E402
from ALKRadiomicsLib.sample_data import sample_data_dir  # noqa: E402
from ALKRadiomicsLib.scoring import score_case  # noqa: E402

LIDC_0314 = REPOSITORY.parent / "shared" / "data" / "lidc_0314"


def case_paths() -> dict[str, tuple[Path, Path]]:
    sample = sample_data_dir()
    cases = {name: (sample / f"{name}_image.nrrd", sample / f"{name}_label.nrrd") for name in ("lung1", "lung2")}
    if (LIDC_0314 / "dicom").is_dir():
        cases["lidc0314"] = (LIDC_0314 / "dicom", LIDC_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz")
    else:
        print(f"skipping LIDC-IDRI-0314: {LIDC_0314} not found (../shared/data beside the checkout)")
    return cases


def _stock_extractor(only_signature: bool):
    from radiomics import featureextractor

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(str(resource_path(PARAMETER_FILE_NAME)))
    if only_signature:
        extractor.disableAllFeatures()
        wanted: dict[str, list[str]] = {}
        for name in SIGNATURE_FEATURES:
            _, feature_class, feature = name.split("_")
            wanted.setdefault(feature_class, []).append(feature)
        extractor.enableFeaturesByName(**wanted)
    return extractor


def _measure(method: str, image_path: str, mask_path: str, repeats: int, queue) -> None:
    case = io.load_case(image_path, mask_path)
    if method == "ours-6":
        def run():
            return extract(case)
    elif method == "ours-score":
        model = load_bundled_model()

        def run():
            return score_case(case, model=model)
    else:
        extractor = _stock_extractor(only_signature=(method == "stock-6"))

        def run():
            return extractor.execute(case.image, case.mask, label=case.label)
    run()  # warm-up: imports, caches
    baseline_kib = _memory_kib("VmRSS")
    _reset_peak_memory()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    peak_kib = _memory_kib("VmHWM")
    queue.put((times, baseline_kib, peak_kib))


def _memory_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_memory() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def measure(method: str, paths: tuple[Path, Path], repeats: int) -> tuple[float, float]:
    """Median seconds and peak memory (MiB, above the loaded case) of one method."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(method, str(paths[0]), str(paths[1]), repeats, queue))
    child.start()
    times, baseline_kib, peak_kib = queue.get()
    child.join()
    return statistics.median(times), (peak_kib - baseline_kib) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per method (median reported)")
    parser.add_argument("--cases", nargs="*", help="subset of lung1 lung2 lidc0314")
    args = parser.parse_args()

    cases = case_paths()
    if args.cases:
        cases = {k: v for k, v in cases.items() if k in args.cases}
    methods = ("stock-851", "stock-6", "ours-6", "ours-score")
    print(f"median of {args.repeats} runs per method, image already in memory; "
          "memory = peak RSS growth while extracting")
    header = (f"{'case':<10}" + "".join(f"{m:>20}" for m in methods)
              + f"{'851/ours-6':>12}{'6/ours-6':>10}{'851/score':>11}{'6/score':>9}")
    print(header)
    for name, paths in cases.items():
        results = {m: measure(m, paths, args.repeats) for m in methods}
        row = f"{name:<10}" + "".join(f"{results[m][0]:>9.3f} s {results[m][1]:>6.0f} MiB" for m in methods)
        ours, score = results["ours-6"][0], results["ours-score"][0]
        row += (f"{results['stock-851'][0] / ours:>11.1f}x{results['stock-6'][0] / ours:>9.1f}x"
                f"{results['stock-851'][0] / score:>10.1f}x{results['stock-6'][0] / score:>8.1f}x")
        print(row, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
