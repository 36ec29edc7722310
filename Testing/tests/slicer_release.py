"""Run the ALKRadiomics module's Python against one Slicer release's own pure-Python code.

``python slicer_release.py RELEASE`` (run by test_slicer_releases.py in its own process): puts
``../shared/slicer/RELEASE/slicer`` (Slicer's ScriptedLoadableModule.py, parameterNodeWrapper/,
i18n.py, unmodified) ahead on ``slicer.__path__`` of the slicer-core wheel (real MRML), imports
``ALKRadiomics.py`` the way Slicer does, then checks the parameter node and runs the self-test's
Logic path. Prints one JSON line with what it found.

What it does not prove: Qt itself cannot be loaded here, so ``qt``, ``ctk`` and Slicer's ``q*``
widget classes are stand-ins that accept any attribute (they let Slicer's GUI connector classes be
defined, never run): the Widget, the .ui and every dialog are not exercised.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import types
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
SLICER = REPOSITORY.parent / "shared" / "slicer"


class _StandIn(type):
    """A class whose every attribute is another stand-in class (qt.QWidget, qt.QSizePolicy.Preferred...)."""

    def __getattr__(cls, name):
        value = _StandIn(name, (), {})
        setattr(cls, name, value)
        return value


def _stand_in_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    def attribute(attr: str):
        value = _StandIn(attr, (), {})
        setattr(module, attr, value)
        return value

    module.__getattr__ = attribute
    return module


def import_module(release: str):
    import slicer

    sys.modules["qt"], sys.modules["ctk"] = _stand_in_module("qt"), _stand_in_module("ctk")
    code = SLICER / release / "slicer"
    slicer.__path__ = [str(code), *slicer.__path__]
    slicer.mrmlScene = slicer.vtkMRMLScene()
    for source in code.rglob("*.py"):  # the widget classes Slicer's GUI connectors name at definition time
        for name in set(re.findall(r"slicer\.(q[A-Z][A-Za-z]+)", source.read_text(encoding="utf-8"))):
            if not hasattr(slicer, name):
                setattr(slicer, name, _StandIn(name, (), {}))
    sys.path.insert(0, str(REPOSITORY / "ALKRadiomics"))
    module = importlib.import_module("ALKRadiomics")
    loaded = {name: Path(sys.modules[f"slicer.{name}"].__file__).resolve()
              for name in ("ScriptedLoadableModule", "parameterNodeWrapper")}
    assert all(str(path).startswith(str(code.resolve())) for path in loaded.values()), loaded
    return module


def check_parameter_node(module) -> dict:
    logic = module.ALKRadiomicsLogic()
    parameters = logic.getParameterNode()
    found = {"defaults": {"hlaHScore": parameters.hlaHScore, "pdl1HScore": parameters.pdl1HScore,
                          "nStage": parameters.nStage, "prevalencePercent": parameters.prevalencePercent,
                          "modelPath": parameters.modelPath},
             "rejected": []}
    for name, value in (("hlaHScore", 300.5), ("pdl1HScore", -2.0), ("prevalencePercent", -1.0),
                        ("prevalencePercent", 100.0), ("nStage", "N3")):
        try:
            setattr(parameters, name, value)
        except ValueError:
            found["rejected"].append([name, value])
    parameters.hlaHScore = 120.0
    found["stored"] = parameters.hlaHScore
    return found


def main(release: str) -> int:
    module = import_module(release)
    report = {"release": release, "parameter_node": check_parameter_node(module)}
    test = module.ALKRadiomicsTest()
    report["self_test"] = test.logicPath()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
