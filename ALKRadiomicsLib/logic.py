"""The panel's Logic on MRML: seed, outline, review, case, score, results, edit observation (DESIGN section 2).

Everything the Slicer panel (and the web app) does that is not Qt wiring lives here, needs only
MRML, and is tested with the slicer-core wheel. Slicer is imported lazily, through :mod:`.mrml`.

Two facts of Slicer's runtime shape it (both verified in Slicer's sources):
- Segment Editor edits reach a segmentation node as ``vtkSegmentation.SourceRepresentationModified``
  (and SegmentAdded / SegmentRemoved / SegmentModified) on its vtkSegmentation, never as the node's
  ``ModifiedEvent``: :meth:`NoduleLogic.observe_edits` listens to those.
- A markups node limited to one control point makes the markups displayable manager create a new
  node when the user places a second seed. The seed node here has no limit; :meth:`keep_latest_seed`
  removes the older points instead, so the seed always lives in the one node the panel holds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import mrml
from .errors import InputError

EDIT_EVENTS = ("SourceRepresentationModified", "SegmentAdded", "SegmentRemoved", "SegmentModified")
SEED_NAME = "Nodule seed"
N_STAGE_NOT_GIVEN = "not given"


class NoduleLogic:
    """One case in a scene: from a click to a scored, recorded result."""

    def __init__(self, scene) -> None:
        self.scene = scene

    # -- the seed ---------------------------------------------------------------------------------
    def seed_node(self):
        """A new markups point list for the seed, with no point limit (see the module docstring)."""
        node = self.scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", SEED_NAME)
        node.CreateDefaultDisplayNodes()
        return node

    @staticmethod
    def keep_latest_seed(seed_node) -> int:
        """Observe ``seed_node`` so that placing a point removes the earlier ones; returns the observer tag."""
        def on_defined(caller, event) -> None:
            while caller.GetNumberOfControlPoints() > 1:
                caller.RemoveNthControlPoint(0)

        return seed_node.AddObserver(seed_node.PointPositionDefinedEvent, on_defined)

    @staticmethod
    def seed_ras(seed_node) -> tuple[float, float, float]:
        """The newest placed seed point in RAS millimetres."""
        count = seed_node.GetNumberOfControlPoints() if seed_node is not None else 0
        for index in reversed(range(count)):
            if seed_node.GetNthControlPointPositionStatus(index) == seed_node.PositionDefined:
                ras = [0.0, 0.0, 0.0]
                seed_node.GetNthControlPointPositionWorld(index, ras)
                return tuple(ras)
        raise InputError("Place the nodule seed first: click inside the nodule in a slice view.")

    # -- the outline ------------------------------------------------------------------------------
    def segment_from_seed(self, volume_node, segmentation_node, seed_node) -> str:
        """One click: a new segment from the seed point; returns its ID (never overwrites a segment)."""
        from .io import check_ct
        from .segmentation import seed_to_lps, segment_nodule

        if volume_node is None:
            raise InputError("Select the CT volume.")
        image = check_ct(mrml.image_from_volume_node(volume_node))
        result = segment_nodule(image, seed_to_lps(self.seed_ras(seed_node), "ras"))
        segmentation_node.SetReferenceImageGeometryParameterFromVolumeNode(volume_node)
        return mrml.segment_from_mask(segmentation_node, result.mask, "Nodule")

    @staticmethod
    def observe_edits(segmentation_node, callback: Callable[[], None]) -> list[tuple[Any, int]]:
        """Call ``callback`` after every Segment Editor edit of ``segmentation_node``; returns (object, tag)
        pairs for :meth:`stop_observing`."""
        segmentation = segmentation_node.GetSegmentation()
        return [(segmentation, segmentation.AddObserver(getattr(segmentation, event), lambda caller, e: callback()))
                for event in EDIT_EVENTS]

    @staticmethod
    def stop_observing(observations: list[tuple[Any, int]]) -> None:
        for observed, tag in observations:
            observed.RemoveObserver(tag)

    @staticmethod
    def review(volume_node, segmentation_node, segment_id: str):
        """The outline's review numbers (volume, diameters, parts, pleura, leak warnings)."""
        from .segmentation import review_mask

        return review_mask(mrml.image_from_volume_node(volume_node),
                           mrml.mask_from_segment(segmentation_node, segment_id, volume_node))

    @classmethod
    def review_html(cls, volume_node, segmentation_node, segment_id: str) -> str:
        from html import escape

        review = cls.review(volume_node, segmentation_node, segment_id)
        lines = [f"Volume <b>{review.volume_mm3:.0f} mm3</b>; longest axial diameter "
                 f"<b>{review.longest_axial_diameter_mm:.1f} mm</b> x {review.perpendicular_diameter_mm:.1f} mm",
                 f"{review.connected_parts} part(s); HU mean {review.mean_hu:.0f} "
                 f"({review.min_hu:.0f} to {review.max_hu:.0f}); pleura: {'yes' if review.touches_pleura else 'no'}"]
        lines += [f"<span style='color:#b00020'>{escape(w)}</span>" for w in review.warnings]
        return "<br>".join(lines)

    # -- the case and its score -------------------------------------------------------------------
    @staticmethod
    def case_from_nodes(volume_node, segmentation_node, segment_id: str, dicom_files: list[str] | None = None):
        """A validated Case (CT, 0/1 mask on its grid, the DICOM series when the CT came from one)."""
        from . import io

        if volume_node is None:
            raise InputError("Select the CT volume.")
        if segmentation_node is None or not segment_id:
            raise InputError("Select or create the nodule segment first.")
        image = mrml.image_from_volume_node(volume_node)
        mask = mrml.mask_from_segment(segmentation_node, segment_id, volume_node)
        dicom = io.dicom_source_from_files(dicom_files) if dicom_files else None
        return io.make_case(image, mask, label=1, image_path=volume_node.GetName(), dicom=dicom)

    @staticmethod
    def score(case, *, hla: float | None = None, pdl1: float | None = None, n_stage: str | None = None,
              prevalence: float | None = None, model_path: str | Path | None = None,
              progress: Callable[[str, float], None] | None = None):
        """Score on the calling thread (Slicer's Python never runs a worker thread while Qt waits), reporting
        each stage to ``progress``, which may raise to cancel."""
        from .model_guard import load_model_file
        from .scoring import score_case

        model = load_model_file(model_path or None)
        return score_case(case, model=model, hla=hla, pdl1=pdl1,
                          n_stage=None if n_stage in (None, "", N_STAGE_NOT_GIVEN) else n_stage,
                          prevalence=prevalence, progress=progress)

    def record_result(self, result, table_node, case_name: str, *, chart: bool = True):
        """One row in the results table; the contributions chart (returned) when ``chart``."""
        mrml.result_to_table_node(result, table_node, case=case_name)
        return mrml.contributions_chart(self.scene, result) if chart else None

    @staticmethod
    def segment_name(segmentation_node, segment_id: str) -> str:
        segment = segmentation_node.GetSegmentation().GetSegment(segment_id) if segmentation_node else None
        return segment.GetName() if segment else ""

    def load_volume(self, path: str | Path, name: str | None = None):
        """A CT file as a scalar volume node, read by MRML's own storage node (ITK IO), as Slicer reads it."""
        node = self.scene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", name or Path(path).name.split(".")[0])
        storage = self.scene.AddNewNodeByClass("vtkMRMLVolumeArchetypeStorageNode")
        storage.SetFileName(str(path))
        if not storage.ReadData(node):
            raise InputError(f"Cannot read {path} as a volume.")
        node.SetAndObserveStorageNodeID(storage.GetID())
        node.CreateDefaultDisplayNodes()
        return node
