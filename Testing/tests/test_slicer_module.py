"""Static checks of the Slicer module (issue 5): the .ui has every widget the code uses, with the
right class; the parameter node covers every bound widget; the module only wires the library."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
MODULE = REPOSITORY / "ALKRadiomics" / "ALKRadiomics.py"
UI = REPOSITORY / "ALKRadiomics" / "Resources" / "UI" / "ALKRadiomics.ui"

# The class each widget the module looks up must have, for the calls the module makes on it.
EXPECTED_CLASSES = {
    "inputVolumeSelector": "qMRMLNodeComboBox",
    "segmentationSelector": "qMRMLNodeComboBox",
    "segmentSelector": "qMRMLSegmentSelectorWidget",
    "seedPlaceWidget": "qSlicerMarkupsPlaceWidget",
    "segmentButton": "QPushButton",
    "reviewLabel": "QLabel",
    "centreButton": "QPushButton",
    "segmentEditorWidget": "qMRMLSegmentEditorWidget",
    "hlaSpinBox": "QDoubleSpinBox",  # the parameter node's float connector takes QDoubleSpinBox, not ctk's
    "pdl1SpinBox": "QDoubleSpinBox",
    "nStageComboBox": "QComboBox",
    "prevalenceSpinBox": "QDoubleSpinBox",
    "modelPathLineEdit": "ctkPathLineEdit",
    "scoreButton": "QPushButton",
    "scoreProgressBar": "QProgressBar",
    "cancelButton": "QPushButton",
    "resultLabel": "QLabel",
    "resultsTableSelector": "qMRMLNodeComboBox",
    "exportButton": "QPushButton",
    "exportAllFeaturesButton": "QPushButton",
}
COMPUTING_PACKAGES = {"numpy", "scipy", "SimpleITK", "pywt", "matplotlib", "radiomics", "highdicom", "pydicom"}


def ui_widgets() -> dict[str, str]:
    return {w.get("name"): w.get("class") for w in ElementTree.parse(UI).iter("widget") if w.get("name")}


def module_tree() -> ast.Module:
    return ast.parse(MODULE.read_text())


def test_every_widget_the_module_looks_up_exists_with_the_right_class():
    used = {node.attr for node in ast.walk(module_tree())
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "ui" and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"}
    widgets = ui_widgets()
    assert used, "the module looks up no widgets?"
    assert used <= set(EXPECTED_CLASSES), f"widgets used but not listed here: {used - set(EXPECTED_CLASSES)}"
    for name in used:
        assert widgets.get(name) == EXPECTED_CLASSES[name], (name, widgets.get(name))


def test_every_bound_widget_has_a_parameter_node_field():
    bound = {m.group(1) for m in re.finditer(r'name="SlicerParameterName">\s*<string>(\w+)</string>', UI.read_text())}
    [parameters] = [node for node in ast.walk(module_tree())
                    if isinstance(node, ast.ClassDef) and node.name == "ALKRadiomicsParameterNode"]
    fields = {statement.target.id for statement in parameters.body if isinstance(statement, ast.AnnAssign)}
    assert bound and bound <= fields, bound - fields


def test_custom_widget_classes_are_declared():
    tree = ElementTree.parse(UI)
    declared = {c.findtext("class") for c in tree.iter("customwidget")}
    used = {w.get("class") for w in tree.iter("widget")}
    assert {c for c in used if c.startswith(("q", "ctk"))} <= declared


def test_module_wires_the_library_and_computes_nothing_itself():
    tree = module_tree()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name != "ALKRadiomicsTest":
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    names = [inner.module] if isinstance(inner, ast.ImportFrom) else [a.name for a in inner.names]
                    assert not {n.split(".")[0] for n in names if n} & COMPUTING_PACKAGES, (node.name, names)
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    for node in top_level:
        names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
        assert not {n.split(".")[0] for n in names if n} & COMPUTING_PACKAGES, names
    assert "import *" not in MODULE.read_text()


def test_module_parts_follow_the_scripted_module_template():
    classes = {n.name: [b.id if isinstance(b, ast.Name) else b.attr for b in n.bases]
               for n in module_tree().body if isinstance(n, ast.ClassDef)}
    assert "ScriptedLoadableModule" in classes["ALKRadiomics"]
    assert "ScriptedLoadableModuleWidget" in classes["ALKRadiomicsWidget"]
    assert "ScriptedLoadableModuleLogic" in classes["ALKRadiomicsLogic"]
    assert "ScriptedLoadableModuleTest" in classes["ALKRadiomicsTest"]
    source = MODULE.read_text()
    assert 'self.parent.categories = [_("Quantification")]' in source
    assert 'self.parent.dependencies = ["Markups", "Segmentations", "Plots"]' in source
    assert "Research use only; not locally validated" in source
    assert 'slicer.util.loadUI(self.resourcePath("UI/ALKRadiomics.ui"))' in source


def test_cmake_lists_files_that_exist():
    cmake = (REPOSITORY / "ALKRadiomics" / "CMakeLists.txt").read_text().replace("${MODULE_NAME}", "ALKRadiomics")
    resources = re.findall(r"Resources/[\w/.]+", cmake)
    assert len(resources) == 2
    for resource in resources:
        assert (REPOSITORY / "ALKRadiomics" / resource).is_file(), resource
    assert "slicerMacroBuildScriptedModule" in cmake
    top = (REPOSITORY / "CMakeLists.txt").read_text()
    assert "add_subdirectory(ALKRadiomics)" in top and "add_subdirectory(ALKRadiomicsLib)" in top


def test_module_neither_computes_nor_assembles_outputs_nor_parses_requirements():
    """Issue 14: the Widget wires and the Logic delegates; the library does the rest, where CI tests it."""
    tree = module_tree()
    source_outside_test = "\n".join(ast.get_source_segment(MODULE.read_text(), node) for node in tree.body
                                     if not (isinstance(node, ast.ClassDef) and node.name == "ALKRadiomicsTest"))
    for forbidden in ("json.dumps", "render_pdf", "render_html", "build_sr", "build_seg", "write_bytes_atomic",
                      "write_text_atomic", "requirements.txt", "splitlines", "concurrent.futures", "threading",
                      "ThreadPoolExecutor", "setLayout(", "hasattr(slicer"):
        assert forbidden not in source_outside_test, forbidden
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
             and node.func.id == "_"]
    assert calls and all(isinstance(call.args[0], ast.Constant) for call in calls), "translate literal strings only"
