"""ALKRadiomics: the 3D Slicer panel. Click a nodule, review the outline, Score, Export.

Five parts, as in Slicer's scripted-module template: the module (metadata), the parameter node
(every input, saved with the scene), the Widget (wiring only), the Logic (MRML nodes <-> the
ALKRadiomicsLib library, usable without the Widget) and the self-test. All computing is done by
ALKRadiomicsLib; nothing here computes features, scores, outlines or reports itself.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import qt
import slicer
import vtk
from slicer import vtkMRMLMarkupsFiducialNode, vtkMRMLScalarVolumeNode, vtkMRMLSegmentationNode, vtkMRMLTableNode
from slicer.i18n import tr as _
from slicer.parameterNodeWrapper import Choice, WithinRange, parameterNodeWrapper
from slicer.ScriptedLoadableModule import (
    ScriptedLoadableModule,
    ScriptedLoadableModuleLogic,
    ScriptedLoadableModuleTest,
    ScriptedLoadableModuleWidget,
)
from slicer.util import VTKObservationMixin

# In a source checkout ("Add module path" of <checkout>/ALKRadiomics) the library sits one folder up;
# in the installed extension it is installed beside this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "ALKRadiomicsLib").is_dir() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))

NOT_GIVEN = -1.0  # H-score spin boxes show "not given" at this value
N_STAGES = ("not given", "N0", "N1-2")
REQUIREMENTS = Path(__file__).resolve().parent / "Resources" / "requirements.txt"
CITATION = ("Han Y, Feng W, Li H, Wang H, Ye Z. Radiomic features and tumor immune microenvironment associated with "
            "anaplastic lymphoma kinase-rearranged lung adenocarcinoma and their prognostic value.")


class ALKRadiomics(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("ALK Radiomics")
        self.parent.categories = [_("Chest Imaging")]
        self.parent.dependencies = []
        self.parent.contributors = ["ALKRadiomics developers"]
        self.parent.helpText = _(
            "One-click lung nodule segmentation, then the published CT radiomics signature of ALK-rearranged lung "
            "adenocarcinoma: ALK probability (Rad-score, and the combined model with HLA-I/PD-L1 H-scores) and the "
            "RAD-risk disease-free-survival group, with uncertainty and a per-case report.<br><br>"
            "<b>Research use only; not locally validated</b> unless the model was recalibrated on local patients "
            "(<code>alk-radiomics recalibrate</code>).<br><br>Paper: " + CITATION)
        self.parent.acknowledgementText = _(
            "Feature definitions follow pyradiomics (van Griethuysen et al., Cancer Research 2017). The bundled "
            "model's standardization comes from LIDC-IDRI (Armato et al., Medical Physics 2011; CC BY 3.0).")


@parameterNodeWrapper
class ALKRadiomicsParameterNode:
    inputVolume: vtkMRMLScalarVolumeNode
    segmentation: vtkMRMLSegmentationNode
    segmentId: str = ""
    seed: vtkMRMLMarkupsFiducialNode
    hlaHScore: Annotated[float, WithinRange(NOT_GIVEN, 300)] = NOT_GIVEN
    pdl1HScore: Annotated[float, WithinRange(NOT_GIVEN, 300)] = NOT_GIVEN
    nStage: Annotated[str, Choice(list(N_STAGES))] = N_STAGES[0]
    prevalencePercent: Annotated[float, WithinRange(0.1, 99.9)] = 50.0
    modelPath: str = ""
    resultsTable: vtkMRMLTableNode


class ALKRadiomicsWidget(ScriptedLoadableModuleWidget, VTKObservationMixin):
    """Wiring only: widgets to the parameter node, buttons to Logic."""

    def __init__(self, parent=None) -> None:
        ScriptedLoadableModuleWidget.__init__(self, parent)
        VTKObservationMixin.__init__(self)
        self.logic = None
        self._parameterNode = None
        self._parameterNodeGuiTag = None
        self._scoring = None  # (future, case name) while a score runs
        self._lastScore = None  # (result, case) of the last finished score

    def setup(self) -> None:
        ScriptedLoadableModuleWidget.setup(self)
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
        self.removeObservers()

    def enter(self) -> None:
        self.initializeParameterNode()

    def exit(self) -> None:
        if self._parameterNode:
            self._parameterNode.disconnectGui(self._parameterNodeGuiTag)
            self._parameterNodeGuiTag = None

    def onSceneStartClose(self, caller, event) -> None:
        self.setParameterNode(None)

    def onSceneEndClose(self, caller, event) -> None:
        if self.parent.isEntered:
            self.initializeParameterNode()

    def initializeParameterNode(self) -> None:
        self.setParameterNode(self.logic.getParameterNode())
        if not self._parameterNode.inputVolume:
            self._parameterNode.inputVolume = slicer.mrmlScene.GetFirstNodeByClass("vtkMRMLScalarVolumeNode")
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

    def onSegmentationChanged(self, node) -> None:
        self.ui.segmentSelector.setCurrentNode(node)
        self.ui.segmentEditorWidget.setSegmentationNode(node)
        self.ui.segmentEditorWidget.setSourceVolumeNode(self._parameterNode.inputVolume if self._parameterNode
                                                        else None)
        self.removeObservers(self.onSegmentationEdited)
        if node:
            self.addObserver(node, vtk.vtkCommand.ModifiedEvent, self.onSegmentationEdited)
            if self._parameterNode and self._parameterNode.segmentId:
                self.ui.segmentSelector.setCurrentSegmentID(self._parameterNode.segmentId)

    def onSegmentChanged(self, segmentId) -> None:
        if self._parameterNode:
            self._parameterNode.segmentId = segmentId or ""
        self.updateReview()

    def onSegmentationEdited(self, caller, event) -> None:
        self._reviewTimer.start()  # the numbers follow Segment Editor corrections, once editing pauses

    def onSegment(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not segment the nodule."), waitCursor=True):
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
        try:
            self.ui.reviewLabel.text = self.logic.reviewHtml(p.inputVolume, p.segmentation, p.segmentId)
        except Exception as error:  # shown, never raised: this runs on every edit
            self.ui.reviewLabel.text = f"<i>{error}</i>"

    def onScore(self) -> None:
        if self._scoring:
            return
        with slicer.util.tryWithErrorDisplay(_("Could not score the nodule."), waitCursor=True):
            if not self.logic.ensureDependencies(askUser=True):
                return
            p = self._parameterNode
            case = self.logic.caseFromNodes(p.inputVolume, p.segmentation, p.segmentId)
            future = self.logic.startScoring(
                case, hla=p.hlaHScore, pdl1=p.pdl1HScore, nStage=p.nStage,
                prevalencePercent=p.prevalencePercent, modelPath=p.modelPath)
            self._scoring = (future, case, self.logic.segmentName(p.segmentation, p.segmentId))
            self.ui.scoreButton.enabled = False
            self.ui.cancelButton.enabled = True
            self.ui.scoreProgressBar.visible = True
            qt.QTimer.singleShot(100, self.pollScoring)

    def onCancel(self) -> None:
        # The computation cannot be interrupted mid-way; its result is discarded and the panel is free again.
        self._scoring = None
        self._resetScoreButtons()
        self.ui.resultLabel.text = _("Scoring cancelled.")

    def pollScoring(self) -> None:
        if not self._scoring:
            return
        future, case, name = self._scoring
        if not future.done():
            qt.QTimer.singleShot(100, self.pollScoring)
            return
        self._scoring = None
        self._resetScoreButtons()
        with slicer.util.tryWithErrorDisplay(_("Could not score the nodule.")):
            result = future.result()
            p = self._parameterNode
            if not p.resultsTable:
                p.resultsTable = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLTableNode", "ALK radiomics results")
            self.logic.recordResult(result, p.resultsTable, name)
            self.ui.resultLabel.text = self.logic.resultHtml(result)
            self._lastScore = (result, case)
            self.ui.exportButton.enabled = True

    def _resetScoreButtons(self) -> None:
        self.ui.scoreButton.enabled = True
        self.ui.cancelButton.enabled = False
        self.ui.scoreProgressBar.visible = False

    def onExport(self) -> None:
        with slicer.util.tryWithErrorDisplay(_("Could not export the report."), waitCursor=True):
            if not self._lastScore:
                raise ValueError(_("Score a nodule first."))
            path = qt.QFileDialog.getSaveFileName(None, _("Export report"), "", "PDF report (*.pdf)")
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
            p = self._parameterNode
            path = qt.QFileDialog.getSaveFileName(None, _("Export all 851 features"), "", "CSV (*.csv)")
            if path:
                self.logic.exportAllFeatures(self.logic.caseFromNodes(p.inputVolume, p.segmentation, p.segmentId),
                                             path)


class ALKRadiomicsLogic(ScriptedLoadableModuleLogic):
    """MRML nodes <-> ALKRadiomicsLib. Usable without the Widget; raises ValueError-style errors."""

    def __init__(self) -> None:
        ScriptedLoadableModuleLogic.__init__(self)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def getParameterNode(self):
        return ALKRadiomicsParameterNode(super().getParameterNode())

    def ensureDependencies(self, askUser: bool = True) -> bool:
        """Install the packages Slicer does not ship (Resources/requirements.txt), after asking."""
        requirements = [line.strip() for line in REQUIREMENTS.read_text().splitlines()
                        if line.strip() and not line.startswith("#")]
        missing = [r for r in requirements if importlib.util.find_spec(_module_of(r)) is None]
        if not missing:
            return True
        if askUser and not slicer.util.confirmOkCancelDisplay(
                _("ALK Radiomics needs these Python packages:") + "\n" + "\n".join(missing) + "\n"
                + _("Install them now (a few minutes, needs internet)?")):
            return False
        if hasattr(slicer, "packaging") and hasattr(slicer.packaging, "pip_ensure"):
            slicer.packaging.pip_ensure(missing)
        else:
            slicer.util.pip_install(missing)
        return True

    def segmentEditorNode(self):
        node = slicer.mrmlScene.GetSingletonNode("ALKRadiomics", "vtkMRMLSegmentEditorNode")
        if node is None:
            node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentEditorNode")
            node.SetSingletonTag("ALKRadiomics")
        return node

    def seedNode(self):
        node = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", "Nodule seed")
        node.SetMaximumNumberOfControlPoints(1)
        return node

    def caseFromNodes(self, volumeNode, segmentationNode, segmentId: str):
        """A validated library Case (CT, 0/1 mask, DICOM source when the CT came from the database)."""
        from ALKRadiomicsLib import io, mrml

        if not volumeNode:
            raise ValueError(_("Select the CT volume."))
        if not segmentationNode or not segmentId:
            raise ValueError(_("Select or create the nodule segment first."))
        image = mrml.image_from_volume_node(volumeNode)
        mask = mrml.mask_from_segment(segmentationNode, segmentId, volumeNode)
        return io.make_case(image, mask, label=1, image_path=volumeNode.GetName(),
                            dicom=self.dicomSource(volumeNode))

    def dicomSource(self, volumeNode):
        """The DICOM series the volume was loaded from, through Slicer's DICOM database, or None."""
        from ALKRadiomicsLib import io

        uids = (volumeNode.GetAttribute("DICOM.instanceUIDs") or "").split()
        if not uids or not getattr(slicer, "dicomDatabase", None):
            return None
        files = [slicer.dicomDatabase.fileForInstance(uid) for uid in uids]
        return io.dicom_source_from_files([f for f in files if f])

    def segmentFromSeed(self, volumeNode, segmentationNode, seedNode) -> str:
        """One click: a new segment from the seed point; returns its ID (never overwrites one)."""
        from ALKRadiomicsLib import mrml
        from ALKRadiomicsLib.io import check_ct
        from ALKRadiomicsLib.segmentation import seed_to_lps, segment_nodule

        if not volumeNode:
            raise ValueError(_("Select the CT volume."))
        if not seedNode or seedNode.GetNumberOfControlPoints() < 1:
            raise ValueError(_("Place the nodule seed first: click inside the nodule in a slice view."))
        ras = [0.0, 0.0, 0.0]
        seedNode.GetNthControlPointPositionWorld(0, ras)
        image = mrml.image_from_volume_node(volumeNode)
        check_ct(image)
        result = segment_nodule(image, seed_to_lps(ras, "ras"))
        segmentationNode.SetReferenceImageGeometryParameterFromVolumeNode(volumeNode)
        return mrml.segment_from_mask(segmentationNode, result.mask, "Nodule")

    def segmentName(self, segmentationNode, segmentId: str) -> str:
        segment = segmentationNode.GetSegmentation().GetSegment(segmentId) if segmentationNode else None
        return segment.GetName() if segment else ""

    def centreViewsOn(self, segmentationNode, segmentId: str) -> None:
        if not segmentationNode or not segmentId:
            raise ValueError(_("Select the nodule segment."))
        centre = segmentationNode.GetSegmentCenterRAS(segmentId)
        slicer.modules.markups.logic().JumpSlicesToLocation(*centre, True)

    def reviewHtml(self, volumeNode, segmentationNode, segmentId: str) -> str:
        from ALKRadiomicsLib import mrml
        from ALKRadiomicsLib.segmentation import review_mask

        image = mrml.image_from_volume_node(volumeNode)
        review = review_mask(image, mrml.mask_from_segment(segmentationNode, segmentId, volumeNode))
        lines = [f"Volume <b>{review.volume_mm3:.0f} mm3</b>; longest axial diameter "
                 f"<b>{review.longest_axial_diameter_mm:.1f} mm</b> x {review.perpendicular_diameter_mm:.1f} mm",
                 f"{review.connected_parts} part(s); HU mean {review.mean_hu:.0f} "
                 f"({review.min_hu:.0f} to {review.max_hu:.0f}); pleura: {'yes' if review.touches_pleura else 'no'}"]
        lines += [f"<span style='color:#b00020'>{w}</span>" for w in review.warnings]
        return "<br>".join(lines)

    def startScoring(self, case, *, hla: float, pdl1: float, nStage: str, prevalencePercent: float,
                     modelPath: str = ""):
        """Score in a worker thread (MRML is not touched there); returns a Future of the CaseResult."""
        from ALKRadiomicsLib.model_guard import load_model_file
        from ALKRadiomicsLib.scoring import score_case

        model = load_model_file(modelPath or None)
        given = (hla != NOT_GIVEN, pdl1 != NOT_GIVEN)
        if given[0] != given[1]:
            raise ValueError(_("Give both H-scores (HLA-I and PD-L1) or neither."))
        return self._executor.submit(
            score_case, case, model=model, hla=hla if all(given) else None, pdl1=pdl1 if all(given) else None,
            n_stage=None if nStage == N_STAGES[0] else nStage,
            prevalence=None if abs(prevalencePercent - 50.0) < 1e-9 else prevalencePercent / 100.0)

    def score(self, case, **kwargs):
        """Synchronous scoring (batch use, tests)."""
        return self.startScoring(case, **kwargs).result()

    def recordResult(self, result, tableNode, caseName: str) -> None:
        """One row in the results table, and the contributions as a bar chart in a plot view."""
        from ALKRadiomicsLib import mrml

        mrml.result_to_table_node(result, tableNode, case=caseName)
        chart = mrml.contributions_chart(slicer.mrmlScene, result)
        if slicer.app.layoutManager() is not None:
            layout = slicer.app.layoutManager()
            layout.setLayout(slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpPlotView)
            slicer.modules.plots.logic().ShowChartInLayout(chart)

    def resultHtml(self, result) -> str:
        from ALKRadiomicsLib.report.content import percent

        alk, dfs = result.alk, result.dfs
        interval = alk.probability_uncertainty.interval
        prior = "the study's 1:1 design" if alk.prior_is_study_design else f"prevalence {percent(alk.prior)}"
        lines = []
        if not result.model.calibrated:
            lines.append("<b style='color:#b00020'>RESEARCH USE ONLY; NOT LOCALLY VALIDATED</b>")
        lines += [f"ALK probability <b>{percent(alk.probability)}</b> ({percent(interval.low)} to "
                  f"{percent(interval.high)}), at {prior}; Rad-score {alk.rad_score:+.2f}"]
        if alk.combined_probability is not None:
            lines.append(f"Combined with H-scores: <b>{percent(alk.combined_probability)}</b>")
        lines.append(f"RAD-risk {dfs.rad_risk_score:+.2f}: <b>{dfs.risk_group.upper()}</b> DFS risk group"
                     + ("" if dfs.risk_group_certain else " (uncertain)"))
        drivers = result.largest_rad_score_contributions(3)
        lines.append("Top contributions: " + ", ".join(f"{f.label} {f.contribution_rad_score:+.2f}" for f in drivers))
        lines.append(f"Model {result.model.name} {result.model.version}")
        lines += [f"<span style='color:#b00020'>{w}</span>" for w in result.warnings]
        return "<br>".join(lines)

    @staticmethod
    def reportFiles(case, pdfPath: str) -> list[Path]:
        """The files one export writes: the PDF, the JSON beside it, and DICOM SR and SEG for a DICOM CT."""
        pdf = Path(pdfPath).with_suffix(".pdf")
        files = [pdf, pdf.with_suffix(".json")]
        if case.dicom is not None:
            files += [pdf.with_name(pdf.stem + "_SR.dcm"), pdf.with_name(pdf.stem + "_SEG.dcm")]
        return files

    def existingReportFiles(self, case, pdfPath: str) -> list[Path]:
        """The files an export to ``pdfPath`` would replace (the panel asks before replacing them)."""
        from ALKRadiomicsLib.outputs import existing_outputs

        return existing_outputs(self.reportFiles(case, pdfPath))

    def exportReport(self, result, case, pdfPath: str, *, overwrite: bool = False) -> list[Path]:
        """PDF and JSON beside it; DICOM SR and SEG too when the CT came from the DICOM database.

        Written as one unit (all or none); existing files are replaced only with ``overwrite``.
        """
        from ALKRadiomicsLib.guard import refuse_outputs_onto_inputs
        from ALKRadiomicsLib.outputs import refuse_existing, write_together
        from ALKRadiomicsLib.report import render_pdf, report_content
        from ALKRadiomicsLib.report.dicom import build_seg, build_sr

        paths = self.reportFiles(case, pdfPath)
        refuse_outputs_onto_inputs({str(p): p for p in paths},
                                   (case.image_path, case.mask_path, *(case.dicom.files if case.dicom else ())))
        refuse_existing({str(p): p for p in paths}, overwrite)
        pdf = paths[0]
        content = report_content(result, case_id=pdf.stem)
        files = {pdf: render_pdf(content, case.image, case.mask, case.label),
                 paths[1]: json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"}
        if case.dicom is not None:
            sr = build_sr(case.dicom, case.mask, case.label, result)
            seg = build_seg(case.dicom, case.mask, case.label)
            files[paths[2]] = lambda path: sr.save_as(str(path))
            files[paths[3]] = lambda path: seg.save_as(str(path))
        return write_together(files, overwrite=overwrite)

    def exportAllFeatures(self, case, csvPath: str) -> Path:
        from ALKRadiomicsLib.atomic import write_text_atomic
        from ALKRadiomicsLib.features import extract

        features = extract(case, all_features=True)
        text = "feature,value\n" + "".join(f"{k},{v!r}\n" for k, v in features.items())
        return write_text_atomic(csvPath, text)


def _module_of(requirement: str) -> str:
    """The import name of a requirement line such as 'PyWavelets>=1.4'."""
    name = requirement.split(">")[0].split("=")[0].split("<")[0].strip().lower()
    return {"pywavelets": "pywt", "simpleitk": "SimpleITK"}.get(name, name)


class ALKRadiomicsTest(ScriptedLoadableModuleTest):
    """Loads a real CT (pyradiomics' lung2, fetched with pip), clicks the nodule, scores, exports."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        self.setUp()
        self.test_click_score_export()

    def test_click_score_export(self):
        import SimpleITK as sitk
        from scipy import ndimage

        from ALKRadiomicsLib import mrml
        from ALKRadiomicsLib.sample_data import sample_case

        logic = ALKRadiomicsLogic()
        self.assertTrue(logic.ensureDependencies(askUser=False))
        imagePath, labelPath = sample_case("lung2")
        volume = slicer.util.loadVolume(str(imagePath))
        label = sitk.ReadImage(str(labelPath))
        centre = ndimage.center_of_mass(sitk.GetArrayFromImage(label) > 0)
        lps = label.TransformContinuousIndexToPhysicalPoint([float(v) for v in centre[::-1]])
        seed = logic.seedNode()
        seed.AddControlPoint(vtk.vtkVector3d(-lps[0], -lps[1], lps[2]))  # RAS

        segmentation = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLSegmentationNode")
        segmentId = logic.segmentFromSeed(volume, segmentation, seed)
        mask = mrml.mask_from_segment(segmentation, segmentId, volume)
        overlap = (sitk.GetArrayFromImage(mask) > 0) & (sitk.GetArrayFromImage(label) > 0)
        sizes = (sitk.GetArrayFromImage(mask) > 0).sum() + (sitk.GetArrayFromImage(label) > 0).sum()
        dice = 2 * overlap.sum() / sizes
        self.assertGreater(dice, 0.8)

        case = logic.caseFromNodes(volume, segmentation, segmentId)
        result = logic.score(case, hla=20.0, pdl1=23.0, nStage="N1-2", prevalencePercent=50.0)
        self.assertFalse(result.model.calibrated)
        self.assertIsNotNone(result.alk.combined_probability)
        table = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLTableNode")
        logic.recordResult(result, table, "lung2")
        self.assertEqual(table.GetNumberOfRows(), 1)

        folder = Path(tempfile.mkdtemp())
        written = logic.exportReport(result, case, str(folder / "lung2.pdf"))
        self.assertTrue(all(path.is_file() and path.stat().st_size > 0 for path in written))
        document = json.loads((folder / "lung2.json").read_text())
        self.assertAlmostEqual(document["alk"]["probability"], result.alk.probability)
        # A second export to the same name lists the files it would replace and replaces them only when asked.
        self.assertEqual(logic.existingReportFiles(case, str(folder / "lung2.pdf")), written)
        with self.assertRaises(ValueError):
            logic.exportReport(result, case, str(folder / "lung2.pdf"))
        self.assertEqual(logic.exportReport(result, case, str(folder / "lung2.pdf"), overwrite=True), written)
        logging.info("ALKRadiomics self-test passed: Dice %.3f, files %s", dice, [os.fspath(p) for p in written])
