"""The panel's Logic on real MRML nodes from the slicer-core wheel (issue 14): what a radiologist does in
the first five minutes, without Slicer's GUI."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

slicer = pytest.importorskip("slicer", reason="the Logic tests need the slicer-core wheel (make test installs it)")

import vtk  # noqa: E402

from ALKRadiomicsLib import mrml  # noqa: E402
from ALKRadiomicsLib.errors import InputError  # noqa: E402
from ALKRadiomicsLib.logic import NoduleLogic  # noqa: E402


@pytest.fixture()
def scene():
    return slicer.vtkMRMLScene()


def load_volume(scene, path):
    """Read a volume the way Slicer does: MRML's archetype storage node (ITK IO)."""
    return NoduleLogic(scene).load_volume(path, "CT")


def label_centre_ras(path) -> tuple[float, float, float]:
    label = sitk.ReadImage(str(path))
    centre = ndimage.center_of_mass(sitk.GetArrayFromImage(label) > 0)
    lps = label.TransformContinuousIndexToPhysicalPoint([float(v) for v in centre[::-1]])
    return -lps[0], -lps[1], lps[2]


def test_a_second_seed_replaces_the_first_in_the_same_node(scene):
    logic = NoduleLogic(scene)
    seed = logic.seed_node()
    assert seed.GetMaximumNumberOfControlPoints() < 0  # a full node would make Slicer start a new one
    logic.keep_latest_seed(seed)
    seed.AddControlPoint(10.0, 20.0, 30.0)
    seed.AddControlPoint(-5.0, 2.0, 7.5)
    assert seed.GetNumberOfControlPoints() == 1
    assert logic.seed_ras(seed) == (-5.0, 2.0, 7.5)
    assert scene.GetNumberOfNodesByClass("vtkMRMLMarkupsFiducialNode") == 1
    seed.RemoveAllControlPoints()
    with pytest.raises(InputError, match="Place the nodule seed"):
        logic.seed_ras(seed)


def test_segment_editor_edits_reach_the_review_through_the_segmentation_events(scene, sample_data):
    volume = load_volume(scene, sample_data / "lung1_image.nrrd")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    label = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    segment_id = mrml.segment_from_mask(segmentation, label, "Nodule")
    logic = NoduleLogic(scene)
    before = logic.review(volume, segmentation, segment_id).volume_mm3
    calls, node_modified = [], []
    observations = logic.observe_edits(segmentation, lambda: calls.append(1))
    segmentation.AddObserver(vtk.vtkCommand.ModifiedEvent, lambda caller, event: node_modified.append(1))
    # What a Paint or Erase stroke does: replace the segment's labelmap.
    eroded = sitk.BinaryErode(label > 0, [2, 2, 1])
    oriented = mrml._oriented_image_from_mask(sitk.GetArrayFromImage(eroded).astype(bool), mrml._ijk_to_ras(eroded))
    slicer.vtkSlicerSegmentationsModuleLogic.SetBinaryLabelmapToSegment(
        oriented, segmentation, segment_id, slicer.vtkSlicerSegmentationsModuleLogic.MODE_REPLACE)
    assert calls, "the edit did not reach the observer"
    assert node_modified == []  # the node's own ModifiedEvent never comes: observing it was the old bug
    assert logic.review(volume, segmentation, segment_id).volume_mm3 < 0.8 * before
    logic.stop_observing(observations)
    calls.clear()
    slicer.vtkSlicerSegmentationsModuleLogic.SetBinaryLabelmapToSegment(
        oriented, segmentation, segment_id, slicer.vtkSlicerSegmentationsModuleLogic.MODE_REPLACE)
    assert calls == []


def test_click_segment_score_and_record_on_lung2(scene, sample_data):
    logic = NoduleLogic(scene)
    volume = load_volume(scene, sample_data / "lung2_image.nrrd")
    seed = logic.seed_node()
    logic.keep_latest_seed(seed)
    seed.AddControlPoint(*label_centre_ras(sample_data / "lung2_label.nrrd"))
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    segment_id = logic.segment_from_seed(volume, segmentation, seed)
    mask = sitk.GetArrayFromImage(mrml.mask_from_segment(segmentation, segment_id, volume)) > 0
    truth = sitk.GetArrayFromImage(sitk.ReadImage(str(sample_data / "lung2_label.nrrd"))) > 0
    assert 2 * (mask & truth).sum() / (mask.sum() + truth.sum()) > 0.75
    assert logic.segment_name(segmentation, segment_id) == "Nodule"
    assert "Volume <b>" in logic.review_html(volume, segmentation, segment_id)

    stages = []
    case = logic.case_from_nodes(volume, segmentation, segment_id)
    result = logic.score(case, hla=20.0, pdl1=23.0, n_stage="N1-2", progress=lambda s, f: stages.append((s, f)))
    assert [f for _, f in stages] == sorted(f for _, f in stages) and stages[-1] == ("done", 1.0)
    assert result.alk.combined_probability is not None and result.dfs.n_stage == "N1-2"
    table = scene.AddNewNodeByClass("vtkMRMLTableNode")
    chart = logic.record_result(result, table, "lung2")
    row = mrml.table_row(table, 0)
    assert row["case"] == "lung2" and row["alk_probability"] == pytest.approx(result.alk.probability)
    assert chart.GetNumberOfPlotSeriesNodes() == 2


def test_progress_callback_can_cancel_scoring(scene, sample_data):
    logic = NoduleLogic(scene)
    volume = load_volume(scene, sample_data / "lung1_image.nrrd")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    segment_id = mrml.segment_from_mask(segmentation, sitk.ReadImage(str(sample_data / "lung1_label.nrrd")), "N")
    case = logic.case_from_nodes(volume, segmentation, segment_id)

    class Cancelled(Exception):
        pass

    def cancel_at_features(stage, fraction):
        if "features" in stage:
            raise Cancelled

    with pytest.raises(Cancelled):
        logic.score(case, progress=cancel_at_features)
    with pytest.raises(InputError, match="nodule segment"):
        logic.case_from_nodes(volume, segmentation, "")
    assert np.isfinite(logic.score(case).alk.rad_score)


def test_panel_export_writes_the_json_the_command_line_writes(scene, sample_data, tmp_path):
    """One per-case export: the panel's JSON for an outline equals `alk-radiomics score --json` for the same
    outline and CT (apart from the input names, which the panel takes from its nodes)."""
    import json

    from ALKRadiomicsLib.cli import main
    from ALKRadiomicsLib.export import report_targets

    logic = NoduleLogic(scene)
    volume = load_volume(scene, sample_data / "lung1_image.nrrd")
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    label = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    segment_id = mrml.segment_from_mask(segmentation, label, "Nodule")
    case = logic.case_from_nodes(volume, segmentation, segment_id)
    result = logic.score(case, hla=40.0, pdl1=60.0)
    from ALKRadiomicsLib.export import export_case

    written = export_case(result, case, report_targets(tmp_path / "panel.pdf", dicom=False), case_id="x")
    assert sorted(p.name for p in written) == ["panel.json", "panel.pdf"]
    mask_path = tmp_path / "outline.nrrd"
    sitk.WriteImage(mrml.mask_from_segment(segmentation, segment_id, volume), str(mask_path))
    assert main(["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask", str(mask_path), "--hla", "40",
                 "--pdl1", "60", "--case-id", "x", "--json", str(tmp_path / "cli.json")]) == 0
    panel, cli = (json.loads((tmp_path / name).read_text()) for name in ("panel.json", "cli.json"))
    assert [f["file"] for f in panel.pop("output_set")["files"]] == ["panel.pdf"]  # the set the panel wrote
    for document in (panel, cli):
        document["case"].pop("image"), document["case"].pop("mask")
        document["model"].pop("path")
    assert panel == cli
