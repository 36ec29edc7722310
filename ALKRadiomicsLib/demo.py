"""The README's main job: the signature features of the real lung2 CT from pyradiomics' data.

Run with ``make demo`` (or ``python -m ALKRadiomicsLib.demo``). The first run downloads the
pyradiomics-bhklab source release (34 MB) into the cache; later runs work offline.
"""

from __future__ import annotations

import sys
import time

from .cli import main as cli_main
from .sample_data import sample_case


def main() -> int:
    image, mask = sample_case("lung2")
    print(f"lung2 CT: {image}\nlung2 nodule outline: {mask}\n")
    started = time.perf_counter()
    status = cli_main(["extract", "--image", str(image), "--mask", str(mask)])
    print(f"\n(extracted in {time.perf_counter() - started:.2f} s, including reading the CT; no pyradiomics used)")
    return status


if __name__ == "__main__":
    sys.exit(main())
