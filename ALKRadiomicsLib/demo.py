"""The README's main job: score the real lung2 CT with the bundled model.

Run with ``make demo`` (or ``python -m ALKRadiomicsLib.demo [OUT_FOLDER]``). The first run
downloads the pyradiomics-bhklab source release (34 MB) into the cache for its sample CT;
later runs work offline. Writes ``lung2_score.json``, ``lung2_report.pdf`` and
``lung2_report.html`` to OUT_FOLDER (default ``out/``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from .cli import main as cli_main
from .sample_data import sample_case


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "out")
    out.mkdir(parents=True, exist_ok=True)
    image, mask = sample_case("lung2")
    print(f"lung2 CT: {image}\nlung2 nodule outline: {mask}\n")
    started = time.perf_counter()
    status = cli_main(["score", "--image", str(image), "--mask", str(mask), "--case-id", "lung2 (pyradiomics sample)",
                       "--json", str(out / "lung2_score.json"), "--report", str(out / "lung2_report.pdf"),
                       "--html", str(out / "lung2_report.html"), "--overwrite"])
    print(f"(scored in {time.perf_counter() - started:.2f} s including reading the CT; no pyradiomics used)")
    return status


if __name__ == "__main__":
    sys.exit(main())
