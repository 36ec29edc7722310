"""Scoring's extraction runs where pyradiomics cannot be installed (Slicer 5.10+, Python 3.12).

The child process hides ``radiomics`` from the import system, as if it were not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from ALKRadiomicsLib.features import SIGNATURE_FEATURES

HIDE_PYRADIOMICS = textwrap.dedent(
    """
    import sys, importlib.abc

    class HidePyradiomics(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "radiomics" or name.startswith("radiomics."):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
            return None

    sys.meta_path.insert(0, HidePyradiomics())
    """
)


def run_hidden(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", HIDE_PYRADIOMICS + textwrap.dedent(code)],
                          capture_output=True, text=True)


def test_signature_extraction_needs_no_pyradiomics(sample_data, tmp_path):
    out = tmp_path / "features.json"
    completed = run_hidden(f"""
        from ALKRadiomicsLib.cli import main
        status = main(["extract", "--image", {str(sample_data / "lung2_image.nrrd")!r},
                       "--mask", {str(sample_data / "lung2_label.nrrd")!r}, "--out", {str(out)!r}])
        assert not any(m == "radiomics" or m.startswith("radiomics.") for m in sys.modules)
        sys.exit(status)
    """)
    assert completed.returncode == 0, completed.stderr
    features = json.loads(out.read_text())["features"]
    assert list(features) == list(SIGNATURE_FEATURES)
    # The values themselves are checked against pyradiomics in test_signature_parity.
    assert abs(features["wavelet-LLL_firstorder_Skewness"]) > 0.1


def test_all_features_without_pyradiomics_says_what_to_install(sample_data, tmp_path):
    out = tmp_path / "all.csv"
    completed = run_hidden(f"""
        from ALKRadiomicsLib.cli import main
        sys.exit(main(["extract", "--all", "--image", {str(sample_data / "lung2_image.nrrd")!r},
                       "--mask", {str(sample_data / "lung2_label.nrrd")!r}, "--out", {str(out)!r}]))
    """)
    assert completed.returncode == 2
    assert "pip install 'alk-radiomics[full]'" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not out.exists()
