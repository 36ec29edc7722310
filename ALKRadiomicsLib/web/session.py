"""One case in one MRML scene, as the web page drives it: load, seed, outline, edit, score, download.

Every step is the library's: :class:`~ALKRadiomicsLib.logic.NoduleLogic` segments, reviews, builds
the case and scores (as the Slicer panel does); :func:`~ALKRadiomicsLib.export.render_outputs`
renders the downloads; ``io.read_image`` and ``check_ct`` vet a CT before the scene is touched. What
is added here is only what the panel gets from Slicer's GUI: the trame-slicer application (scene,
views, segment editor effects, undo stack). It imports trame-slicer, the ``[web]`` extra.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .. import io, mrml
from ..errors import InputError
from ..logic import NoduleLogic

logger = logging.getLogger(__name__)

EFFECTS = ("none", "paint", "erase")
DOWNLOADS = {"json": ("application/json", ".json"), "report": ("application/pdf", ".pdf"),
             "dicom_sr": ("application/dicom", "_SR.dcm"), "dicom_seg": ("application/dicom", "_SEG.dcm"),
             "outline": ("application/octet-stream", "_outline.nrrd")}


class CaseSession:
    """The web app's one case: a CT volume, its seed, its outline and its last result, in one scene."""

    def __init__(self, slicer_app, on_edit: Callable[[], None] | None = None) -> None:
        from undo_stack import UndoStack

        self.app = slicer_app
        self.logic = NoduleLogic(slicer_app.scene)
        self.undo_stack = UndoStack(undo_limit=20)
        slicer_app.segmentation_editor.set_undo_stack(self.undo_stack)
        self.on_edit = on_edit or (lambda: None)
        self.on_outline: Callable[[str | None, Exception | None], None] = lambda segment_id, error: None
        self.volume = self.segmentation = self.seed = None
        self.segment_id: str | None = None
        self.name = ""
        self.dicom_files: list[str] | None = None
        self.case = self.result = None
        self._observations: list = []
        self._quiet = False
        self._kept = None  # what the open case needs on disk (an unpacked DICOM upload)

    # -- the CT -----------------------------------------------------------------------------------
    def load(self, path: str | Path, name: str) -> None:
        """Read and vet the CT (nothing in the scene changes if it is refused), then show it alone."""
        image = io.check_ct(io.read_image(path))
        # A DICOM folder: its files travel with the case, so that the SR and SEG can reference the series.
        files = list(io.dicom_series_in(path).popitem()[1]) if Path(path).is_dir() else None
        self._clear()
        self.name = name
        self.dicom_files = files
        self.volume = mrml.volume_node_from_image(self.app.scene, image, name)
        self.volume.CreateDefaultDisplayNodes()
        display = self.volume.GetDisplayNode()
        display.AutoWindowLevelOff()
        display.SetWindowLevel(1500, -600)  # lung window: what a radiologist looks at a nodule in
        # Slices only; no volume rendering: on a CPU-only server ray casting stalls every action.
        self.app.display_manager.show_volume_in_slice_background(self.volume)
        self.app.display_manager.reset_views()
        self.segmentation = self.app.scene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Outline")
        self.segmentation.CreateDefaultDisplayNodes()
        self.segmentation.SetReferenceImageGeometryParameterFromVolumeNode(self.volume)
        self.seed = self.logic.seed_node()
        self.logic.keep_latest_seed(self.seed)
        self.seed.AddObserver(self.seed.PointPositionDefinedEvent, lambda caller, event: self._segment())
        self._observations = self.logic.observe_edits(self.segmentation, self._edited)

    def keep_until_closed(self, folder) -> None:
        """Hold ``folder`` (a TemporaryDirectory) until the case is closed."""
        self._kept = folder

    def _clear(self) -> None:
        if self._kept is not None:
            self._kept.cleanup()
            self._kept = None
        self.logic.stop_observing(self._observations)
        self._observations = []
        self.app.segmentation_editor.deactivate_effect()
        self.app.markups_logic.disable_place_mode()
        # Cleared before loading, as trame-slicer's own upload does: effects then find their views.
        self.app.scene.Clear()
        self.undo_stack.clear()
        self.volume = self.segmentation = self.seed = None
        self.segment_id = None
        self.case = self.result = None

    # -- the outline ------------------------------------------------------------------------------
    def place_seed(self) -> None:
        """The next click in a slice view places the seed; placing it segments (see :meth:`_segment`)."""
        self._require_volume()
        self.set_effect("none")
        self.app.markups_logic.place_node(self.seed, persistent=False)

    def _segment(self) -> None:
        """The seed was placed: a new outline from it, replacing the previous one (one nodule per case)."""
        try:
            segment_id = self.logic.segment_from_seed(self.volume, self.segmentation, self.seed)
        except Exception as error:  # reported in the page by on_outline; the old outline stays
            self.on_outline(None, error)
            return
        if self.segment_id is not None:
            self.segmentation.GetSegmentation().RemoveSegment(self.segment_id)
        self.segment_id = segment_id
        self.app.segmentation_editor.set_active_segmentation(self.segmentation, self.volume)
        self.app.segmentation_editor.set_active_segment_id(segment_id)
        self.undo_stack.clear()
        self.result = None
        self.centre_on(self.logic.seed_ras(self.seed))
        self.on_outline(segment_id, None)

    def centre_on(self, ras) -> None:
        """Every slice view through ``ras`` (mm), with that point at the view's centre."""
        self._require_volume()
        scene = self.app.scene
        for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceNode")):
            scene.GetNthNodeByClass(index, "vtkMRMLSliceNode").JumpSliceByCentering(*[float(v) for v in ras])

    def _edited(self) -> None:
        if self._quiet:
            return
        self.result = None
        self.on_edit()

    def set_effect(self, effect: str) -> None:
        """Paint, Erase or none (the slice views then pan, zoom and place seeds again)."""
        from trame_slicer.segmentation import SegmentationEffectErase, SegmentationEffectNoTool, SegmentationEffectPaint

        if effect not in EFFECTS:
            raise InputError(f"Unknown tool {effect!r}; choose from {', '.join(EFFECTS)}.")
        editor = self.app.segmentation_editor
        if effect != "none" and self.segment_id is None:
            raise InputError("Outline the nodule first: place a seed inside it.")
        editor.set_active_effect_type({"none": SegmentationEffectNoTool, "paint": SegmentationEffectPaint,
                                       "erase": SegmentationEffectErase}[effect])

    def keep_largest_island(self) -> None:
        """Slicer's Islands effect, 'keep largest island': drops stray pieces (a leak, a stray stroke); undoable."""
        from trame_slicer.segmentation import SegmentationEffectIslands

        self._require_outline()
        effect = self.app.segmentation_editor.set_active_effect_type(SegmentationEffectIslands)
        try:
            effect.keep_largest_island()
        finally:
            self.set_effect("none")

    def show_3d(self, show: bool) -> None:
        """The outline as a surface in the 3D view (rebuilt after each edit while shown)."""
        # Building the surface fires the segmentation's modified events too; the outline itself is unchanged,
        # so the review and the score stand.
        self._quiet = True
        try:
            self.app.segmentation_editor.show_3d(show)
        finally:
            self._quiet = False
        if show:  # frame the 3D view on it; the slice views keep their position
            from trame_slicer.views import ThreeDView

            for view in self.app.view_manager.get_views():
                if isinstance(view, ThreeDView):
                    view.reset_view()

    def undo(self) -> None:
        if self.undo_stack.can_undo():
            self.undo_stack.undo()

    def redo(self) -> None:
        if self.undo_stack.can_redo():
            self.undo_stack.redo()

    def voxel_count(self) -> int:
        """Voxels of the outline on the CT's grid (0 without one)."""
        if self.segment_id is None:
            return 0
        # trame-slicer's accessor: the segment on the CT's grid, about 10 ms for lung2 (no VTK import here:
        # only mrml.py talks to VTK and Slicer directly).
        labelmap = self.app.segmentation_editor.get_segment_labelmap(self.segment_id, as_numpy_array=True)
        return int(np.count_nonzero(labelmap))

    def review_html(self) -> str:
        self._require_outline()
        return self.logic.review_html(self.volume, self.segmentation, self.segment_id)

    # -- the score and its outputs ----------------------------------------------------------------
    def case_for_scoring(self):
        """The Case of the outline as it stands (built on the thread that owns the scene)."""
        self._require_outline()
        return self.logic.case_from_nodes(self.volume, self.segmentation, self.segment_id,
                                          dicom_files=self.dicom_files)

    def download(self, kind: str) -> tuple[str, str, bytes]:
        """(file name, MIME type, bytes) of one output of the last result, rendered by the one export."""
        from ..export import render_outputs

        if kind not in DOWNLOADS:
            raise InputError(f"Unknown download {kind!r}.")
        mime, suffix = DOWNLOADS[kind]
        file_name = f"{self.name or 'case'}{suffix}"
        if kind == "outline":
            return file_name, mime, self._outline_bytes()
        if self.result is None or self.case is None:
            raise InputError("Score the outline first; the outline changed since the last score.")
        files = render_outputs(self.result, self.case, {kind: Path(file_name)}, case_id=self.name)
        return file_name, mime, files[Path(file_name)]

    def _outline_bytes(self) -> bytes:
        import tempfile

        self._require_outline()
        mask = mrml.mask_from_segment(self.segmentation, self.segment_id, self.volume)
        with tempfile.TemporaryDirectory(prefix="alk-web-") as folder:
            path = Path(folder) / "outline.nrrd"
            sitk.WriteImage(sitk.Cast(mask > 0, sitk.sitkUInt8), str(path), True)
            return path.read_bytes()

    def _require_volume(self) -> None:
        if self.volume is None:
            raise InputError("Open a CT first.")

    def _require_outline(self) -> None:
        self._require_volume()
        if self.segment_id is None:
            raise InputError("Outline the nodule first: click 'Place seed', then inside the nodule.")
