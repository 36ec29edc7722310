"""The only library module that knows MRML: converting Slicer nodes to and from library types.

Used by the Slicer module's Logic; tested without the Slicer application through the
``slicer-core`` wheel (real vtkMRMLScene, volume, segmentation and table nodes). Slicer and VTK
are imported lazily, so the rest of the library never needs them.

Coordinates: MRML stores geometry in RAS, ITK/SimpleITK and DICOM in LPS; the two differ by the
sign of the first two axes.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .errors import InputError

_RAS_FROM_LPS = np.diag([-1.0, -1.0, 1.0])


def _slicer():
    import slicer

    return slicer


def _numpy_support():
    from vtk.util import numpy_support

    return numpy_support


def _ijk_to_ras(image: sitk.Image) -> np.ndarray:
    """4x4 IJK-to-RAS matrix of a SimpleITK image's geometry."""
    direction = np.array(image.GetDirection()).reshape(3, 3)
    matrix = np.eye(4)
    matrix[:3, :3] = _RAS_FROM_LPS @ direction @ np.diag(image.GetSpacing())
    matrix[:3, 3] = _RAS_FROM_LPS @ np.array(image.GetOrigin())
    return matrix


def _set_geometry_from_ijk_to_ras(image: sitk.Image, ijk_to_ras: np.ndarray) -> sitk.Image:
    columns = ijk_to_ras[:3, :3]
    spacing = np.linalg.norm(columns, axis=0)
    image.SetSpacing([float(s) for s in spacing])
    image.SetDirection([float(v) for v in (_RAS_FROM_LPS @ (columns / spacing)).ravel()])
    image.SetOrigin([float(v) for v in _RAS_FROM_LPS @ ijk_to_ras[:3, 3]])
    return image


def _vtk_matrix(matrix: np.ndarray):
    import vtk

    result = vtk.vtkMatrix4x4()
    for i in range(4):
        for j in range(4):
            result.SetElement(i, j, float(matrix[i, j]))
    return result


def _numpy_matrix(vtk_matrix) -> np.ndarray:
    return np.array([[vtk_matrix.GetElement(i, j) for j in range(4)] for i in range(4)])


def _array_from_image_data(image_data) -> np.ndarray:
    dimensions = image_data.GetDimensions()
    scalars = image_data.GetPointData().GetScalars()
    return _numpy_support().vtk_to_numpy(scalars).reshape(dimensions[::-1]).copy()


def _check_untransformed(node) -> None:
    if node.GetParentTransformNode() is not None:
        raise InputError(f"{node.GetName()} is under a transform; harden or remove the transform before scoring.")


def image_from_volume_node(volume_node) -> sitk.Image:
    """A SimpleITK image (LPS geometry) with the voxels and geometry of a scalar volume node."""
    if volume_node is None or volume_node.GetImageData() is None:
        raise InputError("Select a CT volume that holds image data.")
    _check_untransformed(volume_node)
    image_data = volume_node.GetImageData()
    if image_data.GetNumberOfScalarComponents() != 1:
        raise InputError(f"{volume_node.GetName()} has several components per voxel; select a scalar CT volume.")
    image = sitk.GetImageFromArray(_array_from_image_data(image_data))
    matrix = _vtk_matrix(np.eye(4))
    volume_node.GetIJKToRASMatrix(matrix)
    return _set_geometry_from_ijk_to_ras(image, _numpy_matrix(matrix))


def volume_node_from_image(scene, image: sitk.Image, name: str, *, labelmap: bool = False):
    """A new scalar (or labelmap) volume node in ``scene`` holding ``image``."""
    import vtk

    node = scene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode" if labelmap else "vtkMRMLScalarVolumeNode", name)
    array = sitk.GetArrayFromImage(image)
    image_data = vtk.vtkImageData()
    image_data.SetDimensions(array.shape[::-1])
    image_data.GetPointData().SetScalars(_numpy_support().numpy_to_vtk(array.ravel(), deep=True))
    node.SetAndObserveImageData(image_data)
    node.SetIJKToRASMatrix(_vtk_matrix(_ijk_to_ras(image)))
    node.CreateDefaultDisplayNodes()
    return node


def _oriented_image_from_mask(mask: np.ndarray, ijk_to_ras: np.ndarray):
    slicer = _slicer()
    oriented = slicer.vtkOrientedImageData()
    oriented.SetDimensions(mask.shape[::-1])
    oriented.GetPointData().SetScalars(_numpy_support().numpy_to_vtk(mask.astype(np.uint8).ravel(), deep=True))
    oriented.SetImageToWorldMatrix(_vtk_matrix(ijk_to_ras))
    return oriented


def _volume_geometry(volume_node) -> tuple[tuple[int, int, int], np.ndarray]:
    """The (z, y, x) shape and IJK-to-RAS matrix of a volume node, without copying its voxels."""
    if volume_node is None or volume_node.GetImageData() is None:
        raise InputError("Select a CT volume that holds image data.")
    _check_untransformed(volume_node)
    matrix = _vtk_matrix(np.eye(4))
    volume_node.GetIJKToRASMatrix(matrix)
    return tuple(volume_node.GetImageData().GetDimensions()[::-1]), _numpy_matrix(matrix)


def mask_from_segment(segmentation_node, segment_id: str, reference_volume_node) -> sitk.Image:
    """The segment as a 0/1 UInt8 mask on the reference volume's voxel grid."""
    slicer = _slicer()
    _check_untransformed(segmentation_node)
    segmentation = segmentation_node.GetSegmentation()
    if segmentation.GetSegment(segment_id) is None:
        raise InputError(f"Segment {segment_id!r} is not in {segmentation_node.GetName()}; choose a segment.")
    labelmap = slicer.vtkOrientedImageData()
    segmentation_node.GetBinaryLabelmapRepresentation(segment_id, labelmap)
    shape, ijk_to_ras = _volume_geometry(reference_volume_node)
    geometry = slicer.vtkOrientedImageData()
    geometry.SetDimensions(shape[::-1])
    geometry.SetImageToWorldMatrix(_vtk_matrix(ijk_to_ras))
    resampled = slicer.vtkOrientedImageData()
    if labelmap.GetPointData().GetScalars() is not None and labelmap.GetNumberOfPoints() > 0:
        slicer.vtkOrientedImageDataResample.ResampleOrientedImageToReferenceOrientedImage(
            labelmap, geometry, resampled, False, True)
        array = _array_from_image_data(resampled)
    else:
        array = np.zeros(shape, np.uint8)
    # A shared labelmap holds other segments' values too: keep only this segment's.
    value = segmentation.GetSegment(segment_id).GetLabelValue()
    mask = sitk.GetImageFromArray((array == value).astype(np.uint8))
    return _set_geometry_from_ijk_to_ras(mask, ijk_to_ras)


def segment_from_mask(segmentation_node, mask: sitk.Image, name: str, *, color=(0.95, 0.8, 0.1),
                      label: int = 1) -> str:
    """Add the voxels of ``mask`` equal to ``label`` as a new segment; return its ID. Never overwrites."""
    array = sitk.GetArrayViewFromImage(mask) == label
    if not array.any():
        raise InputError("The outline is empty; nothing to add as a segment.")
    oriented = _oriented_image_from_mask(array, _ijk_to_ras(mask))
    segmentation = segmentation_node.GetSegmentation()
    segment_name = name
    existing = {segmentation.GetNthSegment(i).GetName() for i in range(segmentation.GetNumberOfSegments())}
    suffix = 2
    while segment_name in existing:
        segment_name = f"{name} {suffix}"
        suffix += 1
    return segmentation_node.AddSegmentFromBinaryLabelmapRepresentation(oriented, segment_name, list(color))


TABLE_COLUMNS = (
    ("case", "string"), ("model", "string"), ("model_sha256", "string"), ("research_use", "string"),
    ("alk_domain", "string"), ("dfs_domain", "string"),
    ("alk_probability", "double"), ("alk_probability_low", "double"), ("alk_probability_high", "double"),
    ("prior", "double"), ("rad_score", "double"), ("combined_probability", "double"),
    ("rad_risk_score", "double"), ("risk_group", "string"), ("cutoff", "double"),
    ("volume_mm3", "double"), ("longest_axial_diameter_mm", "double"), ("warnings", "string"),
)


def result_to_table_node(result, table_node, *, case: str = "") -> int:
    """Append one row for a scored case (keeping earlier rows); return the row index."""
    table = table_node.GetTable()
    if table.GetNumberOfColumns() == 0:
        for name, kind in TABLE_COLUMNS:
            column = table_node.AddColumn()
            column.SetName(name)
            if kind == "double":
                table_node.SetColumnType(name, 11)  # VTK_DOUBLE
    values = {
        "case": case, "model": f"{result.model.name} {result.model.version}", "model_sha256": result.model.sha256,
        "research_use": "research use only; not locally validated" if result.research_use_only
        else "validated (the model file's claim)",
        "alk_domain": result.alk.domain.status, "dfs_domain": result.dfs.domain.status,
        "alk_probability": result.alk.probability,
        "alk_probability_low": result.alk.probability_uncertainty.interval.low,
        "alk_probability_high": result.alk.probability_uncertainty.interval.high,
        "prior": result.alk.prior, "rad_score": result.alk.rad_score,
        "combined_probability": (result.alk.combined_probability if result.alk.combined_probability is not None
                                 else float("nan")),
        "rad_risk_score": result.dfs.rad_risk_score,
        "risk_group": result.dfs.risk_group + (" (extrapolated)" if result.dfs.extrapolated else ""),
        "cutoff": result.dfs.cutoff, "volume_mm3": result.outline.volume_mm3,
        "longest_axial_diameter_mm": result.outline.longest_axial_diameter_mm,
        "warnings": " | ".join(result.warnings),
    }
    row = table_node.AddEmptyRow()
    for column, (name, kind) in enumerate(TABLE_COLUMNS):
        if kind == "double":
            table.SetValue(row, column, float(values[name]))
        else:
            table_node.SetCellText(row, column, str(values[name]))
    table.Modified()
    return row


def table_row(table_node, row: int) -> dict:
    """One row of a results table as a dict (for tests and the panel)."""
    table = table_node.GetTable()
    result = {}
    for column, (name, kind) in enumerate(TABLE_COLUMNS):
        value = table.GetValue(row, column)
        result[name] = value.ToDouble() if kind == "double" else value.ToString()
    return result


def contributions_chart(scene, result, name: str = "ALK radiomics contributions"):
    """A bar chart of each feature's contribution to the Rad-score and the RAD-risk score.

    Reuses the chart, table and series nodes of that name, so re-scoring updates one chart.
    """
    import vtk

    table_node = scene.GetFirstNodeByName(f"{name} table") or scene.AddNewNodeByClass("vtkMRMLTableNode",
                                                                                      f"{name} table")
    table = vtk.vtkTable()
    columns = {"feature": vtk.vtkStringArray(), "Rad-score": vtk.vtkDoubleArray(), "RAD-risk": vtk.vtkDoubleArray()}
    for column_name, column in columns.items():
        column.SetName(column_name)
        table.AddColumn(column)
    for feature in result.feature_reports:
        columns["feature"].InsertNextValue(feature.label)
        columns["Rad-score"].InsertNextValue(feature.contribution_rad_score or 0.0)
        columns["RAD-risk"].InsertNextValue(feature.contribution_rad_risk or 0.0)
    table_node.SetAndObserveTable(table)
    chart = scene.GetFirstNodeByName(name) or scene.AddNewNodeByClass("vtkMRMLPlotChartNode", name)
    chart.SetTitle("Contributions (beta x standardized feature)")
    chart.SetXAxisTitle("feature")
    chart.SetYAxisTitle("contribution")
    for index, score in enumerate(("Rad-score", "RAD-risk")):
        series_name = f"{name}: {score}"
        series = scene.GetFirstNodeByName(series_name) or scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode",
                                                                                  series_name)
        series.SetAndObserveTableNodeID(table_node.GetID())
        series.SetXColumnName("feature")
        series.SetLabelColumnName("feature")
        series.SetYColumnName(score)
        series.SetPlotType(series.PlotTypeBar)
        series.SetColor(*((0.03, 0.19, 0.42) if index == 0 else (0.69, 0.0, 0.13)))
        if not chart.HasPlotSeriesNodeID(series.GetID()):
            chart.AddAndObservePlotSeriesNodeID(series.GetID())
    return chart
