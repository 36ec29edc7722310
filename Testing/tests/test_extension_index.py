"""The Extensions Index would accept the extension (issue 14): its catalog entry against the index's own
schema and category list, and the CMake fields the index and Slicer's packaging read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
INDEX = REPOSITORY.parent / "shared" / "slicer" / "extensions-index"


def index_file(name: str) -> Path:
    path = INDEX / name
    if not path.is_file():
        pytest.skip(f"needs the Extensions Index files in {INDEX} (../shared/slicer beside the checkout)")
    return path


def cmake_fields() -> dict[str, str]:
    text = (REPOSITORY / "CMakeLists.txt").read_text(encoding="utf-8")
    return dict(re.findall(r'set\((EXTENSION_\w+) "([^"]*)"\)', text))


def test_catalog_entry_passes_the_index_schema_and_category_list():
    jsonschema = pytest.importorskip("jsonschema", reason="needs jsonschema (the [test] extra)")
    entry = json.loads((REPOSITORY / "ALKRadiomics.json").read_text(encoding="utf-8"))
    schema = json.loads(index_file("slicer-extension-catalog-entry-schema-v1.0.2.json").read_text(encoding="utf-8"))
    jsonschema.validate(entry, schema)
    assert entry["$schema"] == schema["$id"]
    accepted = index_file("accepted-categories.txt").read_text(encoding="utf-8").splitlines()
    assert entry["category"] in accepted
    assert cmake_fields()["EXTENSION_CATEGORY"] == entry["category"]


def test_repository_name_starts_with_slicer_and_the_extension_name_does_not():
    entry = json.loads((REPOSITORY / "ALKRadiomics.json").read_text(encoding="utf-8"))
    repository = entry["scm_url"].rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
    assert repository.startswith("Slicer") and repository == "SlicerALKRadiomics"
    extension = re.search(r"project\((\w+)\)", (REPOSITORY / "CMakeLists.txt").read_text(encoding="utf-8")).group(1)
    assert extension == "ALKRadiomics" == Path("ALKRadiomics.json").stem and not extension.startswith("Slicer")
    assert not (REPOSITORY / "ALKRadiomics.s4ext").exists()  # the index holds JSON entries only


def test_cmake_fields_the_index_and_packaging_need():
    fields = cmake_fields()
    for name in ("EXTENSION_HOMEPAGE", "EXTENSION_CONTRIBUTORS", "EXTENSION_DESCRIPTION", "EXTENSION_ICONURL",
                 "EXTENSION_SCREENSHOTURLS"):
        assert fields.get(name), name
    for name, local in (("EXTENSION_ICONURL", "ALKRadiomics/Resources/Icons/ALKRadiomics.png"),
                        ("EXTENSION_SCREENSHOTURLS", "Screenshots/ALKRadiomics-report-lung2.png")):
        assert fields[name].endswith("/main/" + local) and (REPOSITORY / local).is_file(), name
    for name, local in (("EXTENSION_LICENSE_FILE", "LICENSE"), ("EXTENSION_README_FILE", "README.md")):
        assert fields[name] == "${CMAKE_CURRENT_SOURCE_DIR}/" + local and (REPOSITORY / local).is_file()
    assert "Apache License" in (REPOSITORY / "LICENSE").read_text(encoding="utf-8")
    minimum = re.search(r"cmake_minimum_required\(VERSION ([\d.]+)\.\.\.([\d.]+)", (REPOSITORY / "CMakeLists.txt")
                        .read_text(encoding="utf-8"))
    assert minimum.groups() == ("3.20.6", "3.28.0")  # Slicer 5.10's template minimum, 5.12's policy version
    assert "5.10" in fields["EXTENSION_DESCRIPTION"]
