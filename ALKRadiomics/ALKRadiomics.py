"""ALKRadiomics: the 3D Slicer panel. Click a nodule, review the outline, Score, Export.

Five parts, as in Slicer's scripted-module template: the module (metadata), the parameter node
(every input, saved with the scene), the Widget (wiring only), the Logic (a thin layer over
ALKRadiomicsLib.logic.NoduleLogic, which holds everything that is not Qt and is tested on the
slicer-core wheel) and the self-test. Nothing here computes, assembles outputs or parses
requirements: ALKRadiomicsLib does. Needs 3D Slicer 5.10 or later; an older Slicer shows that
sentence instead of the panel.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import qt
import slicer
from slicer.i18n import tr as _
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

MINIMUM_SLICER = (5, 10)
try:  # the Markups classes join the slicer namespace at module set-up only from 5.10 on
    from slicer import vtkMRMLMarkupsFiducialNode, vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
except ImportError:
    vtkMRMLMarkupsFiducialNode = vtkMRMLScalarVolumeNode = vtkMRMLSegmentationNode = vtkMRMLTableNode = None


def _slicerVersion() -> tuple[int, int]:
    app = getattr(slicer, "app", None)
    return (int(app.majorVersion), int(app.minorVersion)) if app is not None else MINIMUM_SLICER


SUPPORTED = _slicerVersion() >= MINIMUM_SLICER and vtkMRMLMarkupsFiducialNode is not None
UNSUPPORTED_MESSAGE = "ALK Radiomics needs 3D Slicer {minimum} or later; this is {version}. Please update Slicer."

# In a source checkout ("Add module path" of <checkout>/ALKRadiomics) the library sits one folder up;
# in the installed extension it is installed beside this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "ALKRadiomicsLib").is_dir() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))

NOT_GIVEN = -1.0  # H-score spin boxes show "not given" at this value
MODEL_PRIOR = 0.0  # the prevalence spin box shows "the model's prior" at this value
N_STAGES = ("not given", "N0", "N1-2")
CITATION = ("Han Y, Feng W, Li H, Wang H, Ye Z. Radiomic features and tumor immune microenvironment associated with "
            "anaplastic lymphoma kinase-rearranged lung adenocarcinoma and their prognostic value.")


class ALKRadiomics(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("ALK Radiomics")
        self.parent.categories = [_("Quantification")]
        self.parent.dependencies = ["Markups", "Segmentations", "Plots"]
        self.parent.contributors = ["ALKRadiomics developers"]
        self.parent.helpText = _(
            "One-click lung nodule segmentation, then the published CT radiomics signature of ALK-rearranged lung "
            "adenocarcinoma: ALK probability (Rad-score, and the combined model with HLA-I/PD-L1 H-scores) and the "
            "RAD-risk disease-free-survival group, with the model's domain, a Monte Carlo uncertainty interval and "
            "a per-case report.<br><br><b>Research use only; not locally validated</b> unless the model file "
            "carries a validation on independent patients that passes the stated gates.<br><br>Paper: ") + CITATION
        if not SUPPORTED:
            self.parent.helpText = UNSUPPORTED_MESSAGE.format(minimum="{}.{}".format(*MINIMUM_SLICER),
                                                              version="{}.{}".format(*_slicerVersion()))
        self.parent.acknowledgementText = _(
            "Feature definitions follow pyradiomics (van Griethuysen et al., Cancer Research 2017). The bundled "
            "model's standardization comes from LIDC-IDRI (Armato et al., Medical Physics 2011; CC BY 3.0).")


if SUPPORTED:  # the parameter node's node types exist only on a supported Slicer
    @parameterNodeWrapper
    class ALKRadiomicsParameterNode:
        inputVolume: vtkMRMLScalarVolumeNode
        segmentation: vtkMRMLSegmentationNode
        segmentId: str = ""
        seed: vtkMRMLMarkupsFiducialNode
        hlaHScore: Annotated[float, WithinRange(NOT_GIVEN, 300)] = NOT_GIVEN
        pdl1HScore: Annotated[float, WithinRange(NOT_GIVEN, 300)] = NOT_GIVEN
        nStage: Annotated[str, Choice(list(N_STAGES))] = N_STAGES[0]
        prevalencePercent: Annotated[float, WithinRange(MODEL_PRIOR, 99.9)] = MODEL_PRIOR
        modelPath: str = ""
        resultsTable: vtkMRMLTableNode


class ScoringCancelled(Exception):
    """Raised from the progress callback when the user clicks Cancel."""


class ALKRadiomicsWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """Wiring only: widgets to the parameter node, buttons to Logic."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._editObservations = []
        self._cancelRequested = False
        self._lastScore = None  # (result, case) of the last finished score

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
        if not SUPPORTED:
            self.layout.addWidget(qt.QLabel(self.parent.helpText))
            return
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/ALKRadiomics.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = ALKRadiomicsLogic()

        self.ui.seedPlaceWidget.buttonsVisible = False
        self.ui.seedPlaceWidget.placeButton().show()
        self.ui.segmentEditorWidget.setMRMLSegmentEditorNode(self.logic.segmentEditorNode())
        self.ui.exportAllFeaturesButton.enabled = importlib.util.find_spec("radiomics") is not None

        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.StartCloseEvent, self.onSceneStartClose)
        self.addObserver(slicer.mrmlScene, slicer.mrmlScene.EndCloseEvent, self.onSceneEndClose)
        self.ui.inputVolumeSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onInputVolumeChanged)
        self.ui.segmentationSelector.connect("currentNodeChanged(vtkMRMLNode*)", self.onSegmentationChanged)
        self.ui.segmentSelector.connect("currentSegmentChanged(QString)", self.onSegmentChanged)
        self.ui.segmentButton.connect("clicked(bool)", self.onSegment)
        self.ui.centreButton.connect("clicked(bool)", self.onCentre)
        self.ui.scoreButton.connect("clicked(bool)", self.onScore)
        self.ui.cancelButton.connect("clicked(bool)", self.onCancel)
        self.ui.exportButton.connect("clicked(bool)", self.onExport)
        self.ui.exportAllFeaturesButton.connect("clicked(bool)", self.onExportAllFeatures)
        self.ui.modelPathLineEdit.connect("currentPathChanged(QString)", self.onModelPathChanged)
        self._reviewTimer = qt.QTimer()
        self._reviewTimer.setSingleShot(True)
        self._reviewTimer.setInterval(500)
        self._reviewTimer.connect("timeout()", self.updateReview)
        self.initializeParameterNode()

    def cleanup(self) -> None:
        self._stopObservingEdits()
        self.removeObservers()

    def enter(self) -> None:
        if not SUPPORTED:
            return
        self.ui.segmentEditorWidget.installKeyboardShortcuts()
        self.initializeParameterNode()

    def exit(self) -> None:
        if not SUPPORTED:
            return
        # As Slicer's Segment Editor module does: no effect keeps grabbing clicks in other modules.
        self.ui.segmentEditorWidget.setActiveEffect(None)
        self.ui.segmentEditorWidget.uninstallKeyboardShortcuts()
        self.ui.segmentEditorWidget.removeViewObservations()
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None

    def onSceneStartClose(self, caller, event) -> None:
        self.ui.segmentEditorWidget.setActiveEffect(None)
        self.ui.segmentEditorWidget.removeViewObservations()
        self._stopObservingEdits()
        self._lastScore = None
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.inputVolume:
            self._parameterNode.inputVolume = self.logic.firstCtVolume()
        if not self._parameterNode.seed:
            self._parameterNode.seed = self.logic.seedNode()
        self.ui.seedPlaceWidget.setCurrentNode(self._parameterNode.seed)

    def setParameterNode(self, parameterNode) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
        self._parameterNode = parameterNode
        if self._parameterNode:
            self._parameterNodeGuiTag = self._parameterNode.connectGui(self.ui)
            self.ui.modelPathLineEdit.currentPath = self._parameterNode.modelPath
            self.onSegmentationChanged(self._parameterNode.segmentation)

    def onModelPathChanged(self, path) -> None:
        if self._parameterNode:
            self._parameterNode.modelPath = path or ""

    def onInputVolumeChanged(self, node) -> None:
        self.ui.segmentEditorWidget.setSourceVolumeNode(node)  # the editor paints on the CT being scored
        self.updateReview()

    def onSegmentationChanged(self, node) -> None:
        self.ui.segmentSelector.setCurrentNode(node)
        self.ui.segmentEditorWidget.setSegmentationNode(node)
        self.ui.segmentEditorWidget.setSourceVolumeNode(self._parameterNode.inputVolume if self._parameterNode
                                                        else None)
        self._stopObservingEdits()
        if node:
            self._editObservations = self.logic.nodules.observe_edits(node, self._reviewTimer.start)
            if self._parameterNode and self._parameterNode.segmentId:
                self.ui.segmentSelector.setCurrentSegmentID(self._parameterNode.segmentId)

    def _stopObservingEdits(self) -> None:
        if self.logic is not None:
            self.logic.nodules.stop_observing(self._editObservations)
        self._editObservations = []

    def onSegmentChanged(self, segmentId) -> None:
        if self._parameterNode:
            self._parameterNode.segmentId = segmentId or ""
        self.updateReview()

    def onSegment(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not segment the nodule."), waitCursor=True):
            if not self.logic.ensureDependencies():
                return
            p = self._parameterNode
            if not p.segmentation:
                p.segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode", "Nodules")
                p.segmentation.CreateDefaultDisplayNodes()
            segmentId = self.logic.segmentFromSeed(p.inputVolume, p.segmentation, p.seed)
            p.segmentId = segmentId
            self.ui.segmentSelector.setCurrentSegmentID(segmentId)
            self.logic.centreViewsOn(p.segmentation, segmentId)

    def onCentre(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not centre the views."), waitCursor=True):
            self.logic.centreViewsOn(self._parameterNode.segmentation, self._parameterNode.segmentId)

    def updateReview(self) -> None:
        p = self._parameterNode
        if not (p and p.inputVolume and p.segmentation and p.segmentId):
            self.ui.reviewLabel.text = _("No outline yet.")
            return
        if importlib.util.find_spec("pywt") is None:
            self.ui.reviewLabel.text = _("Click Segment or Score to install what the review needs.")
            return
        try:
            self.ui.reviewLabel.text = self.logic.reviewHtml(p.inputVolume, p.segmentation, p.segmentId)
        except Exception as error:  # shown, never raised: this runs on every edit
            self.ui.reviewLabel.text = f"<i>{error}</i>"

    def onScore(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not score the nodule."), waitCursor=True):
            if not self.logic.ensureDependencies():
                return
            p = self._parameterNode
            case = self.logic.caseFromNodes(p.inputVolume, p.segmentation, p.segmentId)
            self._cancelRequested = False
            self.ui.scoreButton.enabled = False
            self.ui.cancelButton.enabled = True
            self.ui.scoreProgressBar.visible = True
            try:
                result = self.logic.score(case, hla=p.hlaHScore, pdl1=p.pdl1HScore, nStage=p.nStage,
                                          prevalencePercent=p.prevalencePercent, modelPath=p.modelPath,
                                          progress=self._showProgress)
            except ScoringCancelled:
                self.ui.resultLabel.text = _("Scoring cancelled.")
                return
            finally:
                self.ui.scoreButton.enabled = True
                self.ui.cancelButton.enabled = False
                self.ui.scoreProgressBar.visible = False
            if not p.resultsTable:
                p.resultsTable = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLTableNode", _("ALK radiomics results"))
            self.logic.recordResult(result, p.resultsTable, self.logic.nodules.segment_name(p.segmentation,
                                                                                            p.segmentId))
            self.ui.resultLabel.text = self.logic.resultHtml(result)
            self._lastScore = (result, case)
            self.ui.exportButton.enabled = True

    def _showProgress(self, stage: str, fraction: float) -> None:
        """Between scoring stages (on the main thread): show the stage, let Qt breathe, honour Cancel."""
        self.ui.scoreProgressBar.value = int(round(100 * fraction))
        self.ui.scoreProgressBar.setFormat(stage)
        slicer.app.processEvents()
        if self._cancelRequested:
            raise ScoringCancelled()

    def onCancel(self) -> None:
        self._cancelRequested = True  # scoring stops at its next stage

    def onExport(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not export the report."), waitCursor=True):
            if not self._lastScore:
                raise ValueError(_("Score a nodule first."))
            path = qt.QFileDialog.getSaveFileName(None, _("Export report"), "", _("PDF report (*.pdf)"))
            if not path:
                return
            result, case = self._lastScore
            replaced = self.logic.existingReportFiles(case, path)
            if replaced and not slicer.util.confirmYesNoDisplay(
                    _("These files exist and will be replaced:") + "\n" + "\n".join(str(p) for p in replaced)
                    + "\n\n" + _("Replace them?")):
                return
            written = self.logic.exportReport(result, case, path, overwrite=bool(replaced))
            slicer.util.infoDisplay(_("Written:") + "\n" + "\n".join(str(p) for p in written))

    def onExportAllFeatures(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not export the features."), waitCursor=True):
            if not self.logic.ensureDependencies():
                return
            p = self._parameterNode
            path = qt.QFileDialog.getSaveFileName(None, _("Export all 851 features"), "", _("CSV (*.csv)"))
            if path:
                self.logic.exportAllFeatures(self.logic.caseFromNodes(p.inputVolume, p.segmentation, p.segmentId),
                                             path)


class ALKRadiomicsLogic(ScriptedLoadableModuleLogic):
    """Slicer's side of the Logic: the scene, the DICOM database, pip, the layout. The rest is
    ALKRadiomicsLib.logic.NoduleLogic. Usable without the Widget; raises ValueError-style errors."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        from ALKRadiomicsLib.logic import NoduleLogic

        self.nodules = NoduleLogic(slicer.mrmlScene)

    def getParameterNode(self):
        return ALKRadiomicsParameterNode(super().getParameterNode())

    def ensureDependencies(self, askUser: bool = True) -> bool:
        """Install what the library needs and Slicer lacks, after one question, never changing a package
        Slicer ships (ALKRadiomicsLib.dependencies pins every installed one); True once all is there."""
        from ALKRadiomicsLib.dependencies import ensure

        try:
            import slicer.packaging as packaging  # 5.12+: pip with constraints and a progress dialog
        except ImportError:
            packaging = None

        def install(requirements, constraints) -> None:
            if packaging is not None:
                packaging.pip_install(requirements, constraints=constraints, requester="ALK Radiomics")
            else:  # 5.10: slicer.util.pip_install passes a list through as pip's arguments
                slicer.util.pip_install([*requirements, "-c", str(constraints)])

        def ask(missing) -> bool:
            return not askUser or slicer.util.confirmOkCancelDisplay(
                _("ALK Radiomics needs these Python packages:") + "\n" + "\n".join(missing) + "\n"
                + _("Install them now (a few minutes, needs internet)? Nothing Slicer ships is changed."))

        return ensure(ask=ask, install=install)

    def firstCtVolume(self):
        """The first scalar volume that is not a label map, or None."""
        for index in range(slicer.mrmlScene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")):
            node = slicer.mrmlScene.GetNthNodeByClass(index, "vtkMRMLScalarVolumeNode")
            if not node.IsA("vtkMRMLLabelMapVolumeNode"):
                return node
        return None

    def segmentEditorNode(self):
        node = slicer.mrmlScene.GetSingletonNode("ALKRadiomics", "vtkMRMLSegmentEditorNode")
        if node is None:
            node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
            node.SetSingletonTag("ALKRadiomics")
        return node

    def seedNode(self):
        """The seed point list: one node, whose newest point replaces the earlier one."""
        node = self.nodules.seed_node()
        self.nodules.keep_latest_seed(node)
        return node

    def dicomFiles(self, volumeNode) -> list[str]:
        """The files of the DICOM series the volume was loaded from (Slicer's DICOM database), or []."""
        uids = (volumeNode.GetAttribute("DICOM.instanceUIDs") or "").split() if volumeNode else []
        database = getattr(slicer, "dicomDatabase", None)
        if not uids or not database:
            return []
        return [f for f in (database.fileForInstance(uid) for uid in uids) if f]

    def caseFromNodes(self, volumeNode, segmentationNode, segmentId: str):
        return self.nodules.case_from_nodes(volumeNode, segmentationNode, segmentId, self.dicomFiles(volumeNode))

    def segmentFromSeed(self, volumeNode, segmentationNode, seedNode) -> str:
        return self.nodules.segment_from_seed(volumeNode, segmentationNode, seedNode)

    def centreViewsOn(self, segmentationNode, segmentId: str) -> None:
        if not segmentationNode or not segmentId:
            raise ValueError(_("Select the nodule segment."))
        centre = segmentationNode.GetSegmentCenterRAS(segmentId)
        slicer.modules.markups.logic().JumpSlicesToLocation(*centre, True)

    def reviewHtml(self, volumeNode, segmentationNode, segmentId: str) -> str:
        return self.nodules.review_html(volumeNode, segmentationNode, segmentId)

    def score(self, case, *, hla: float = NOT_GIVEN, pdl1: float = NOT_GIVEN, nStage: str = N_STAGES[0],
              prevalencePercent: float = MODEL_PRIOR, modelPath: str = "", progress=None):
        """Score on this (the main) thread; ``progress(stage, fraction)`` is called between stages."""
        given = (hla != NOT_GIVEN, pdl1 != NOT_GIVEN)
        if given[0] != given[1]:
            raise ValueError(_("Give both H-scores (HLA-I and PD-L1) or neither."))
        return self.nodules.score(case, hla=hla if all(given) else None, pdl1=pdl1 if all(given) else None,
                                  n_stage=nStage, model_path=modelPath or None, progress=progress,
                                  prevalence=None if prevalencePercent == MODEL_PRIOR else prevalencePercent / 100)

    def recordResult(self, result, tableNode, caseName: str) -> None:
        """One row in the results table; the contributions chart, shown only where the layout has a plot view."""
        chart = self.nodules.record_result(result, tableNode, caseName)
        layout = slicer.app.layoutManager() if getattr(slicer, "app", None) else None
        if layout is not None and layout.plotViewCount > 0:
            layout.plotWidget(0).mrmlPlotViewNode().SetPlotChartNodeID(chart.GetID())

    def resultHtml(self, result) -> str:
        """The result as the panel shows it: the library's summary, verdict (domain, research use) first."""
        from ALKRadiomicsLib.scoring.summary import summary_html

        return summary_html(result)

    def existingReportFiles(self, case, pdfPath: str) -> list[Path]:
        """The files an export to ``pdfPath`` would replace (the panel asks before replacing them)."""
        from ALKRadiomicsLib.export import existing_targets, report_targets

        return existing_targets(report_targets(pdfPath, dicom=case.dicom is not None))

    def exportReport(self, result, case, pdfPath: str, *, overwrite: bool = False) -> list[Path]:
        """The PDF, the JSON beside it, and DICOM SR and SEG when the CT came from the DICOM database: one unit."""
        from ALKRadiomicsLib.export import export_case, report_targets

        targets = report_targets(pdfPath, dicom=case.dicom is not None)
        return export_case(result, case, targets, case_id=Path(pdfPath).stem, overwrite=overwrite)

    def exportAllFeatures(self, case, csvPath: str) -> Path:
        from ALKRadiomicsLib.export import export_all_features

        return export_all_features(case, csvPath)


class ALKRadiomicsTest(ScriptedLoadableModuleTest):
    """Loads a real CT (pyradiomics' lung2, fetched with pip), places a seed, segments, scores, exports.

    ``logicPath`` is everything but the GUI, so CI runs it against each supported release's own
    ScriptedLoadableModule and parameterNodeWrapper on the slicer-core wheel
    (Testing/tests/slicer_release.py); ``runTest`` runs it inside Slicer.
    """

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_click_score_export()

    def test_click_score_export(self):
        found = self.logicPath()
        self.assertGreater(found["dice"], 0.75)
        self.assertEqual(found["seed_points"], 1)
        self.assertTrue(found["review_followed_edit"])
        self.assertEqual(found["table_rows"], 1)
        self.assertTrue(found["exported"])
        logging.info("ALKRadiomics self-test passed: %s", found)

    def logicPath(self) -> dict:
        """Seed (placed twice), segment, edit, review, score, record and export through the Logic."""
        import SimpleITK as sitk
        from scipy import ndimage

        from ALKRadiomicsLib import mrml
        from ALKRadiomicsLib.sample_data import sample_case

        logic = ALKRadiomicsLogic()
        if not logic.ensureDependencies(askUser=False):
            raise RuntimeError("the self-test needs the packages in requirements.txt")
        imagePath, labelPath = sample_case("lung2")
        volume = logic.nodules.load_volume(imagePath)
        label = sitk.ReadImage(str(labelPath))
        centre = ndimage.center_of_mass(sitk.GetArrayFromImage(label) > 0)
        lps = label.TransformContinuousIndexToPhysicalPoint([float(v) for v in centre[::-1]])
        seed = logic.seedNode()
        seed.AddControlPoint(0.0, 0.0, 0.0)  # a first click elsewhere ...
        seed.AddControlPoint(-lps[0], -lps[1], lps[2])  # ... replaced by the click on the nodule (RAS)

        segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        segmentId = logic.segmentFromSeed(volume, segmentation, seed)
        mask = sitk.GetArrayFromImage(mrml.mask_from_segment(segmentation, segmentId, volume)) > 0
        truth = sitk.GetArrayFromImage(label) > 0
        dice = float(2 * (mask & truth).sum() / (mask.sum() + truth.sum()))

        edits = []
        observations = logic.nodules.observe_edits(segmentation, lambda: edits.append(1))
        eroded = sitk.BinaryErode(mrml.mask_from_segment(segmentation, segmentId, volume), [2, 2, 0])
        segmentation.GetSegmentation().RemoveSegment(segmentId)
        segmentId = mrml.segment_from_mask(segmentation, eroded, "Nodule")
        logic.nodules.stop_observing(observations)

        case = logic.caseFromNodes(volume, segmentation, segmentId)
        stages = []
        result = logic.score(case, hla=20.0, pdl1=23.0, nStage="N1-2",
                             progress=lambda stage, fraction: stages.append(stage))
        table = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLTableNode")
        logic.nodules.record_result(result, table, "lung2")
        folder = Path(tempfile.mkdtemp())
        written = logic.exportReport(result, case, str(folder / "lung2.pdf"))
        # A second export to the same name lists the files it would replace and replaces them only when asked.
        listed = sorted(logic.existingReportFiles(case, str(folder / "lung2.pdf"))) == sorted(written)
        try:
            logic.exportReport(result, case, str(folder / "lung2.pdf"))
            refused = False
        except ValueError:
            refused = True
        again = logic.exportReport(result, case, str(folder / "lung2.pdf"), overwrite=True)
        replaced = sorted(again) == sorted(written)
        return {"dice": dice, "second_export": {"listed": listed, "refused": refused, "replaced": replaced},
                "seed_points": seed.GetNumberOfControlPoints(), "review_followed_edit": bool(edits),
                "stages": stages, "research_use_only": result.research_use_only,
                "combined_probability": result.alk.combined_probability, "table_rows": table.GetNumberOfRows(),
                "exported": sorted(os.path.basename(p) for p in written)
                if all(Path(p).is_file() and Path(p).stat().st_size > 0 for p in written) else []}
