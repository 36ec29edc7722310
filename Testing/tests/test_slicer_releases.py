"""ALKRadiomics.py under each supported Slicer release's own module base and parameter-node code (issue 14).

Each release runs in its own process (slicer_release.py, which says what its Qt stand-ins do not
prove): the module imports as Slicer imports it, the parameter node has its types, defaults and
validators, and the self-test's Logic path (seed placed twice, segment, edit, score, record, export)
passes on real MRML from the slicer-core wheel.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SLICER = HERE.parents[2] / "shared" / "slicer"

pytest.importorskip("slicer", reason="needs the slicer-core wheel (make test installs it)")


@pytest.mark.parametrize("release", ["v5.10.0", "v5.12.3"])
def test_module_runs_on_the_releases_own_scripted_module_code(release):
    if not (SLICER / release / "slicer" / "ScriptedLoadableModule.py").is_file():
        pytest.skip(f"needs Slicer's own Python code in {SLICER / release} (../shared/slicer beside the checkout)")
    run = subprocess.run([sys.executable, str(HERE / "slicer_release.py"), release], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    node = found["parameter_node"]
    assert node["defaults"] == {"hlaHScore": -1.0, "pdl1HScore": -1.0, "nStage": "not given",
                                "prevalencePercent": 0.0, "modelPath": ""}
    assert len(node["rejected"]) == 5 and node["stored"] == 120.0  # every out-of-range value refused
    test = found["self_test"]
    assert test["dice"] > 0.75 and test["seed_points"] == 1 and test["review_followed_edit"]
    assert test["stages"][-1] == "done" and test["table_rows"] == 1 and test["research_use_only"] is True
    assert test["exported"] == ["lung2.json", "lung2.pdf"]
    assert test["second_export"] == {"listed": True, "refused": True, "replaced": True}
