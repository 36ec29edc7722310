"""The Slicer panel's scoring path against score_case alone (issue 14), without Slicer's GUI.

Run with ``.venv/bin/python Testing/benchmarks/bench_panel.py`` (needs the slicer-core wheel, which
``make test`` installs). The panel path is what one click on Score does in the Logic: the CT volume
node and the reviewed segment converted to a library Case (``NoduleLogic.case_from_nodes``), then
scored with the interval (``NoduleLogic.score``, on the calling thread, reporting its stages).
``score_case`` alone starts from a Case already in memory. Median of ``--repeats`` runs after a
warm-up, same process, same case.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY))

import SimpleITK as sitk  # noqa: E402
import slicer  # noqa: E402

from ALKRadiomicsLib import io, mrml  # noqa: E402
from ALKRadiomicsLib.logic import NoduleLogic  # noqa: E402
from ALKRadiomicsLib.model import load_bundled_model  # noqa: E402
from ALKRadiomicsLib.sample_data import sample_case  # noqa: E402
from ALKRadiomicsLib.scoring import score_case  # noqa: E402


def median_seconds(run, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", nargs="*", default=["lung1", "lung2"])
    args = parser.parse_args()
    model = load_bundled_model()
    print(f"{'case':<8}{'score_case':>12}{'panel path':>12}{'of which nodes->case':>22}{'ratio':>8}")
    for name in args.cases:
        image_path, label_path = sample_case(name)
        scene = slicer.vtkMRMLScene()
        volume = scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name)
        storage = scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
        storage.SetFileName(str(image_path))
        storage.ReadData(volume)
        segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        segment_id = mrml.segment_from_mask(segmentation, sitk.ReadImage(str(label_path)), "Nodule")
        logic = NoduleLogic(scene)
        case = io.load_case(image_path, label_path)
        alone = median_seconds(lambda c=case: score_case(c, model=model), args.repeats)
        def nodes_to_case(logic=logic, volume=volume, segmentation=segmentation, segment_id=segment_id):
            return logic.case_from_nodes(volume, segmentation, segment_id)

        convert = median_seconds(nodes_to_case, args.repeats)
        panel = median_seconds(lambda logic=logic, convert=nodes_to_case: logic.score(
            convert(), progress=lambda stage, fraction: None), args.repeats)
        print(f"{name:<8}{alone:>10.3f} s{panel:>10.3f} s{convert:>20.3f} s{panel / alone:>7.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
