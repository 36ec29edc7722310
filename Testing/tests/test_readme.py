"""The README's JSON table says what a real result holds: every documented key exists, every key is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ALKRadiomicsLib.cli import main

REPOSITORY = Path(__file__).resolve().parents[2]


def documented_keys() -> list[str]:
    text = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    table = text[text.index("The JSON keys"):]
    table = table[:table.index("\n\n", table.index("| key |"))]
    keys = []
    for line in table.splitlines():
        if line.startswith("| `"):
            keys += re.findall(r"`([^`]+)`", line.split(" | ")[0])
    return keys


def test_readme_json_table_matches_a_real_result(sample_data, tmp_path):
    out = tmp_path / "lung1.json"
    assert main(["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                 str(sample_data / "lung1_label.nrrd"), "--hla", "40", "--pdl1", "60", "--n-stage", "N1",
                 "--case-id", "x", "--json", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    keys = documented_keys()
    assert len(keys) > 40
    for key in keys:
        if key == "*_uncertainty":
            for section in ("alk", "dfs"):
                for name, value in document[section].items():
                    if name.endswith("_uncertainty") and value is not None:
                        assert set(value) == {"interval", "covers", "components"}, name
            continue
        node = document
        for part in key.split("."):
            if part == "<feature>":
                node = next(iter(node.values()))
                continue
            assert isinstance(node, dict) and part in node, f"README documents {key}, the JSON has no {part}"
            node = node[part]
    # ... and nothing in the JSON goes undocumented, down to the second level.
    for name, value in document.items():
        assert name in keys or any(k.startswith(f"{name}.") for k in keys), f"{name} is not in the README's table"
        if isinstance(value, dict) and name not in ("features", "reference"):
            for child in value:
                path = f"{name}.{child}"
                assert path in keys or any(k.startswith(f"{path}.") for k in keys) or (
                    child.endswith("_uncertainty") and "*_uncertainty" in keys), f"{path} is not in the README's table"
