"""MRML adapters with real MRML nodes from the slicer-core wheel (issue 5).

slicer-core has the MRML scene and nodes but not Slicer's GUI, so these tests cover exactly the
code the panel's Logic relies on: ALKRadiomicsLib/mrml.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk

slicer = pytest.importorskip("slicer", reason="the MRML adapter tests need the slicer-core wheel (make test "
                                                "installs it)")

from ALKRadiomicsLib import mrml  # noqa: E402
from ALKRadiomicsLib.io import make_case  # noqa: E402
from ALKRadiomicsLib.scoring import score_case  # noqa: E402


@pytest.fixture()
def scene():
    return slicer.vtkMRMLScene()


def load_with_mrml(scene, path):
    """Read a volume file the way Slicer does: MRML's own archetype storage node (ITK IO)."""
    from ALKRadiomicsLib.logic import NoduleLogic

    return NoduleLogic(scene).load_volume(path, "ct")


def test_volume_node_converts_to_the_image_simpleitk_reads(scene, sample_data):
    node = load_with_mrml(scene, sample_data / "lung2_image.nrrd")
    image = mrml.image_from_volume_node(node)
    reference = sitk.ReadImage(str(sample_data / "lung2_image.nrrd"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(reference))
    np.testing.assert_allclose(image.GetSpacing(), reference.GetSpacing(), rtol=1e-12)
    np.testing.assert_allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-9)
    np.testing.assert_allclose(image.GetDirection(), reference.GetDirection(), atol=1e-12)


def oblique(image: sitk.Image) -> sitk.Image:
    """The same voxels on a grid rotated 30 degrees about z and 10 about x."""
    a, b = math.radians(30), math.radians(10)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rotated = sitk.Image(image)
    rotated.SetDirection([float(v) for v in (rz @ rx).ravel()])
    return rotated


@pytest.mark.parametrize("geometry", ["as stored", "oblique"])
def test_label_imported_as_segment_and_converted_back_is_identical(scene, sample_data, geometry):
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    if geometry == "oblique":
        image, mask = oblique(image), oblique(mask)
    volume = mrml.volume_node_from_image(scene, image, "ct")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(mrml.image_from_volume_node(volume)),
                                  sitk.GetArrayFromImage(image))
    np.testing.assert_allclose(mrml.image_from_volume_node(volume).GetDirection(), image.GetDirection(), atol=1e-12)
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    segment_id = mrml.segment_from_mask(segmentation, mask, "nodule")
    back = mrml.mask_from_segment(segmentation, segment_id, volume)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(back), sitk.GetArrayFromImage(mask) > 0)
    np.testing.assert_allclose(back.GetOrigin(), image.GetOrigin(), atol=1e-9)


def test_new_segment_never_overwrites_an_existing_one(scene, sample_data):
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    segmentation = scene.AddNewNodeByClass("vtkMRMLSegmentationNode")
    first = mrml.segment_from_mask(segmentation, mask, "Nodule")
    second = mrml.segment_from_mask(segmentation, mask, "Nodule")
    names = [segmentation.GetSegmentation().GetSegment(s).GetName() for s in (first, second)]
    assert first != second and names == ["Nodule", "Nodule 2"]


def test_result_written_to_a_table_reads_back_equal_and_rows_accumulate(scene, sample_data):
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    result = score_case(make_case(image, mask), hla=20, pdl1=23, outline_uncertainty=False)
    table = scene.AddNewNodeByClass("vtkMRMLTableNode")
    first = mrml.result_to_table_node(result, table, case="lung1")
    second = mrml.result_to_table_node(result, table, case="lung1 again")
    assert (first, second) == (0, 1) and table.GetNumberOfRows() == 2
    row = mrml.table_row(table, first)
    assert row["case"] == "lung1"
    assert row["alk_probability"] == result.alk.probability
    assert row["combined_probability"] == result.alk.combined_probability
    assert row["rad_risk_score"] == result.dfs.rad_risk_score
    assert row["risk_group"] == result.dfs.risk_group + (" (extrapolated)" if result.dfs.extrapolated else "")
    assert (row["alk_domain"], row["dfs_domain"]) == (result.alk.domain.status, result.dfs.domain.status)
    assert row["research_use"] == "research use only; not locally validated"
    assert row["model_sha256"] == result.model.sha256
    assert row["warnings"].split(" | ") == list(result.warnings)


def test_transformed_volume_is_refused(scene, sample_data):
    node = load_with_mrml(scene, sample_data / "lung1_image.nrrd")
    transform = scene.AddNewNodeByClass("vtkMRMLLinearTransformNode")
    node.SetAndObserveTransformNodeID(transform.GetID())
    with pytest.raises(ValueError, match="transform"):
        mrml.image_from_volume_node(node)


def test_contributions_chart_holds_each_features_contribution(scene, sample_data):
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    result = score_case(make_case(image, mask), outline_uncertainty=False)
    chart = mrml.contributions_chart(scene, result)
    again = mrml.contributions_chart(scene, result)
    assert again is chart and chart.GetNumberOfPlotSeriesNodes() == 2
    table = scene.GetFirstNodeByName("ALK radiomics contributions table").GetTable()
    assert table.GetNumberOfRows() == len(result.feature_reports)
    for row, feature in enumerate(result.feature_reports):
        assert table.GetValueByName(row, "feature").ToString() == feature.label
        assert table.GetValueByName(row, "Rad-score").ToDouble() == (feature.contribution_rad_score or 0.0)

