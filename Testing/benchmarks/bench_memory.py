"""Peak memory of whole commands against the budget's estimate (issue 21, item 6).

Run with ``.venv/bin/python Testing/benchmarks/bench_memory.py`` (``make benchmark-memory``). Each command
runs in its own process; its peak is the kernel's VmHWM. The CTs are the real lung1 (512 x 512 x 48) repeated
to the given number of slices at 1 mm, its nodule outlined in the first 48: a chest CT's size and value mix
without a second download. ``--largest`` adds the largest CT the default budget accepts (512 x 512 x 2048 int16,
the voxel limit), about 1 GB of voxels and two minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import SimpleITK as sitk

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY))

from ALKRadiomicsLib.io import stored_size  # noqa: E402
from ALKRadiomicsLib.limits import estimated_peak, memory_limit  # noqa: E402
from ALKRadiomicsLib.sample_data import sample_data_dir  # noqa: E402

PEAK = """
import json, sys, time
from ALKRadiomicsLib.cli import main
started = time.perf_counter()
status = main(sys.argv[1:])
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": status, "peak_mb": peak_kb / 1024, "seconds": time.perf_counter() - started}))
"""


def write_ct(folder: Path, slices: int, ct_type: str, mask_type: str) -> tuple[Path, Path]:
    data = sample_data_dir()
    image = sitk.GetArrayFromImage(sitk.ReadImage(str(data / "lung1_image.nrrd")))
    outline = sitk.GetArrayFromImage(sitk.ReadImage(str(data / "lung1_label.nrrd")))
    tall = np.tile(image, (-(-slices // image.shape[0]), 1, 1))[:slices].astype(ct_type)
    mask = np.zeros(tall.shape, mask_type)
    mask[: outline.shape[0]] = outline
    paths = folder / f"ct_{slices}_{ct_type}.nrrd", folder / f"mask_{slices}_{mask_type}.nrrd"
    for array, path in zip((tall, mask), paths, strict=True):
        volume = sitk.GetImageFromArray(array)
        volume.SetSpacing((0.5703125, 0.5703125, 1.0))
        sitk.WriteImage(volume, str(path), True)
    return paths


def measure(arguments: list[str]) -> dict:
    run = subprocess.run([sys.executable, "-c", PEAK, *arguments], capture_output=True, text=True, cwd=REPOSITORY)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--largest", action="store_true", help="also the 512 x 512 x 2048 int16 CT")
    args = parser.parse_args()
    cases = [(600, "int16", "uint8"), (600, "float32", "uint8"), (600, "float64", "int16"), (600, "int16", "int64")]
    if args.largest:
        cases.append((2048, "int16", "uint8"))
    print(f"budget {memory_limit() / 2**30:.1f} GB; score --json --report --html (with the outline's +-1 voxel "
          "interval), each in its own process")
    print(f"{'CT':>22} {'mask':>6} {'voxel MB':>9} {'estimate MB':>12} {'peak MB':>8} {'s':>6}")
    with tempfile.TemporaryDirectory(prefix="alk-bench-memory-") as temporary:
        folder = Path(temporary)
        for slices, ct_type, mask_type in cases:
            image, mask = write_ct(folder, slices, ct_type, mask_type)
            sizes = stored_size(image), stored_size(mask, "mask")
            estimate = estimated_peak(*sizes)
            outcome = measure(["score", "--image", str(image), "--mask", str(mask), "--overwrite",
                               "--json", str(folder / "r.json"), "--report", str(folder / "r.pdf"),
                               "--html", str(folder / "r.html")])
            status = "" if outcome["status"] == 0 else f"  exit {outcome['status']}"
            print(f"{f'512x512x{slices} {ct_type}':>22} {mask_type:>6} "
                  f"{sum(v * b for v, b in sizes) / 2**20:>9.0f} {estimate / 2**20:>12.0f} "
                  f"{outcome['peak_mb']:>8.0f} {outcome['seconds']:>6.1f}{status}")
            image.unlink()
            mask.unlink()


if __name__ == "__main__":
    main()
