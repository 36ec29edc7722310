"""A model file is hostile input (issue 21, DESIGN section 7): 550 single mutations of the bundled model.

Each mutation replaces one value anywhere in the document (or deletes it) and reseals the file with
its checksum recomputed, so what is tested is the schema, not the checksum. Every mutant must either
load or be refused with one ModelFormatError; one that loads must score a real case without any
exception but the project's own, with finite, JSON-serialisable output.
"""

from __future__ import annotations

import collections
import json
import random
import traceback
from pathlib import Path
from typing import Any

import pytest
from conftest import write_cropped_lung1

from ALKRadiomicsLib.errors import ALKRadiomicsError, ModelFormatError
from ALKRadiomicsLib.model import bundled_model_path, load_model
from ALKRadiomicsLib.model.schema import CHECKSUM_KEY, content_checksum

SEED = 21
MUTATIONS = 550
# A draw count small enough for hundreds of scorings; the mutations cannot change it.
DRAWS = 200
# Python parses this legal JSON number to inf: it can only be written as raw text.
RAW_INFINITY = "1e999"
PLACEHOLDER = "@@raw-json-token@@"

# A validation record and a flag, so that the fuzz reaches the parts of the schema the bundled model lacks.
VALIDATION = {"cohort": "a fuzz cohort", "date": "2026-12-04", "command": "alk-radiomics validate --record",
              "alk_positive": 120, "alk_negative": 130, "auc": 0.75, "auc_ci95": [0.68, 0.82],
              "calibration_slope": 0.95, "calibration_slope_ci95": [0.8, 1.1], "dfs_events": 60,
              "c_index": 0.66, "group_hazard_ratio": 2.1, "logrank_p": 0.01}
FLAGS = ["a flag its maker wrote down"]

SECTIONS = ("extraction", "standardization", "reference values", "regressions", "provenance", "validation",
            "top level")
REGRESSIONS = ("alk_radiomic", "alk_combined", "dfs_radiomic", "dfs_clinical")
DELETE, SWAP = "a deleted key", "a type swap"
ALL_PARTS = set(json.loads(bundled_model_path().read_text())) | {"validation", "flags"}
REPLACEMENTS: dict[str, Any] = {
    "null": None, "true": True, "false": False, "0": 0, "-1": -1, "1e-6": 1e-6, "5e-324": 5e-324,
    "1e308": 1e308, "-1e308": -1e308, "a 400-digit integer": 10 ** 399, RAW_INFINITY: PLACEHOLDER,
    '""': "", '"x"': "x", "[]": [], "{}": {}, "[1]": [1], "a nested list": [[[1, 2]], [3]],
    "a 1 MB string": "x" * 1_000_000, DELETE: None, SWAP: None,
}


def base_document() -> dict[str, Any]:
    document = json.loads(bundled_model_path().read_text())
    document.update(validation=VALIDATION, flags=FLAGS)
    return document


def paths(node: Any, where: tuple = ()) -> list[tuple]:
    """Every key and list item below ``node``, as a path of keys and indices."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    found = []
    for key, child in items:
        if where + (key,) != (CHECKSUM_KEY,):
            found.append(where + (key,))
            found.extend(paths(child, where + (key,)))
    return found


def section(path: tuple) -> str:
    if path[0] == "extraction":
        return "extraction"
    if "provenance" in path:
        return "provenance"
    if path[0] == "standardization":
        return "standardization"
    if path[0] == "reference_population":
        return "reference values"
    if path[0] in REGRESSIONS:
        return "regressions"
    if path[0] == "validation":
        return "validation"
    return "top level"


def swapped(value: Any) -> Any:
    """The same content as another JSON type (1 -> true matters: True == 1 in Python)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return "null"


def mutate(document: dict[str, Any], path: tuple, replacement: str) -> None:
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if replacement == DELETE:
        del parent[path[-1]]
    elif replacement == SWAP:
        parent[path[-1]] = swapped(parent[path[-1]])
    else:
        parent[path[-1]] = REPLACEMENTS[replacement]


def mutant_text(document: dict[str, Any]) -> str:
    """The resealed file. 10 ** 399 is a legal JSON integer that json.dumps writes as its 400 digits; 1e999 has
    no Python value json.dumps would write, so it replaces a placeholder in the text (the checksum is then the
    placeholder's: the parser must refuse the number before any checksum is compared)."""
    document[CHECKSUM_KEY] = content_checksum(document)
    return json.dumps(document).replace(json.dumps(PLACEHOLDER), RAW_INFINITY)


def mutations(count: int = MUTATIONS, seed: int = SEED):
    """(description, file text) of ``count`` single mutations, each section equally likely."""
    rng = random.Random(seed)
    base = base_document()
    by_section = collections.defaultdict(list)
    for path in paths(base):
        by_section[section(path)].append(path)
    assert set(by_section) == set(SECTIONS)
    base_text = json.dumps(base)
    for _ in range(count):
        path = rng.choice(by_section[rng.choice(SECTIONS)])
        replacement = rng.choice(list(REPLACEMENTS))
        document = json.loads(base_text)
        mutate(document, path, replacement)
        where = ".".join(map(str, path))
        yield f"{where} <- {replacement}", mutant_text(document)


def reason(message: str) -> str:
    """A short category of a refusal, for the tally: the kind of problem, or the part of the file it lies in."""
    for marker, category in (("is not valid JSON", "not JSON"), ("cannot be read", "number out of range"),
                             ("checksum", "checksum"), ("published extraction", "extraction settings")):
        if marker in message:
            return category
    head = message.split("fails the schema: ", 1)[-1].split(" ", 1)[0].split("[", 1)[0].rstrip(":").split(".")
    part = head[1] if head[0] == "model" and len(head) > 1 else head[0]
    return part if part in ALL_PARTS else "a check across parts"


@pytest.fixture(scope="module")
def small_case(sample_data, tmp_path_factory):
    from ALKRadiomicsLib.io import load_case

    image, mask = write_cropped_lung1(sample_data, tmp_path_factory.mktemp("lung1"))
    return image, mask, load_case(image, mask)


def test_no_mutation_of_the_model_file_crashes_loading_or_scoring(small_case, tmp_path, capsys):
    from ALKRadiomicsLib.scoring import score_case

    _, _, case = small_case
    tally: collections.Counter[str] = collections.Counter()
    crashes = []
    path = tmp_path / "mutant.json"
    for description, text in mutations():
        path.write_text(text)
        try:
            model = load_model(path)
        except ModelFormatError as err:
            tally[f"refused ({reason(str(err))})"] += 1
            continue
        except Exception:  # the bug this test exists to find
            crashes.append(f"loading {description}: {traceback.format_exc(limit=-2)}")
            continue
        try:
            result = score_case(case, model=model, hla=120, pdl1=80, n_stage="N1-2", outline_uncertainty=False,
                                draws=DRAWS)
            json.dumps(result.to_dict(), allow_nan=False)
            tally["loaded and scored"] += 1
        except ALKRadiomicsError as err:
            tally[f"loaded, scoring refused ({type(err).__name__})"] += 1
        except Exception:
            crashes.append(f"scoring {description}: {traceback.format_exc(limit=-2)}")
    with capsys.disabled():
        print(f"\nmodel fuzz, {MUTATIONS} mutations (seed {SEED}): "
              + ", ".join(f"{k} {v}" for k, v in sorted(tally.items(), key=lambda kv: -kv[1]))
              + f", crashed {len(crashes)}")
    assert not crashes, "\n".join(crashes)
    assert sum(tally.values()) == MUTATIONS
    # The fuzz is worth something only if it reaches both outcomes.
    assert tally["loaded and scored"] >= 25 and sum(v for k, v in tally.items() if k.startswith("refused")) > 200


def test_refused_mutants_are_one_line_and_exit_2_through_the_cli(small_case, tmp_path, capsys):
    """One mutant of each kind of refusal through the CLI's error path, and a few that load through its whole
    scoring path (summary printed, JSON written)."""
    from ALKRadiomicsLib.cli import main

    image, mask, _ = small_case
    path = tmp_path / "mutant.json"
    seen: set[str] = set()
    loaded = 0
    for description, text in mutations():
        path.write_text(text)
        try:
            load_model(path)
            category = "loads"
        except ModelFormatError as err:
            category = reason(str(err))
        done = loaded >= 3 if category == "loads" else category in seen
        if done:
            continue
        out = tmp_path / f"result{len(seen)}-{loaded}.json"
        capsys.readouterr()
        status = main(["score", "--image", str(image), "--mask", str(mask), "--model", str(path),
                       "--no-outline-uncertainty", "--json", str(out)])
        captured = capsys.readouterr()
        if category == "loads":
            loaded += 1
            assert status == 0 and captured.err == "", description
            json.loads(out.read_text(), parse_constant=_not_finite)
            continue
        seen.add(category)
        assert status == 2, description
        assert len(captured.err.splitlines()) == 1 and captured.err.startswith("alk-radiomics: error: "), description
        assert captured.out == "" and not out.exists(), description
    assert len(seen) >= 10 and loaded == 3


def _not_finite(name: str):
    raise AssertionError(f"{name} in a result")


def test_mutations_are_reproducible_and_reach_every_section():
    first = [d for d, _ in mutations(40)]
    assert first == [d for d, _ in mutations(40)]
    reached = {section(tuple(d.split(" <- ")[0].split("."))) for d, _ in mutations()}
    assert reached == set(SECTIONS)


def test_the_unmutated_fuzz_base_loads(tmp_path):
    path = Path(tmp_path / "base.json")
    path.write_text(mutant_text(base_document()))
    model = load_model(path)
    assert model.validation is not None and model.validation.passes and model.flags == tuple(FLAGS)


def _set(path: str, value: Any):
    """A change that sets the value at a dotted path (list items by index)."""
    def change(document: dict[str, Any]) -> None:
        *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = document
        for key in parents:
            node = node[key]
        node[last] = value
    return change


def _reference_column(name: str, values) -> Any:
    def change(document: dict[str, Any]) -> None:
        column = document["reference_population"]["feature_values"][name]
        column[:] = [values(i) for i in range(len(column))]
    return change


BUSYNESS = "wavelet-LLH_ngtdm_Busyness"
AT_THE_BOUNDS = {
    "reference value 1e15": _set(f"reference_population.feature_values.{BUSYNESS}.0", 1e15),
    "reference values +-1e15": _reference_column(BUSYNESS, lambda i: (-1) ** i * 1e15),
    "reference volume 5e-324": _set("reference_population.volume_mm3.0", 5e-324),
    "reference volume 1e15": _set("reference_population.volume_mm3.0", 1e15),
    "mean 1e15, sd 1e9": lambda d: d["standardization"][BUSYNESS].update(
        mean={**d["standardization"][BUSYNESS]["mean"], "value": 1e15},
        sd={**d["standardization"][BUSYNESS]["sd"], "value": 1e9}),
    "mean 0, sd 1e-9": lambda d: d["standardization"][BUSYNESS].update(
        mean={**d["standardization"][BUSYNESS]["mean"], "value": 0.0},
        sd={**d["standardization"][BUSYNESS]["sd"], "value": 1e-9}),
    "beta 100, ci95 +-100": lambda d: d["dfs_radiomic"]["terms"][0]["beta"].update(value=100.0, ci95=[-100.0, 100.0]),
    "beta -100": lambda d: d["alk_radiomic"]["terms"][0]["beta"].update(value=-100.0, ci95=[-100.0, 0.0]),
    "intercept 1e15, ci95 +-1e15": lambda d: d["alk_radiomic"]["intercept"].update(value=1e15, ci95=[-1e15, 1e15]),
    "intercept_prior 5e-324": _set("alk_radiomic.intercept_prior", 5e-324),
    "intercept_prior 1 - 1e-16": _set("alk_combined.intercept_prior", 1 - 1e-16),
    "intercept centre 1e15": _set("alk_combined.intercept_centres.hla_i_hscore", 1e15),
    "n_stage beta 100": lambda d: d["dfs_clinical"]["terms"][0]["beta"].update(value=100.0, ci95=[99.0, 100.0]),
    "cutoff -1e15": _set("dfs_radiomic.cutoff.value", -1e15),
    "group hazard ratio 1e15": lambda d: d["dfs_radiomic"]["group_hazard_ratio"].update(value=1e15, ci95=[1.0, 1e15]),
}


@pytest.mark.parametrize("kind", AT_THE_BOUNDS)
def test_numbers_at_the_schema_bounds_score_to_finite_output(kind, small_case, tmp_path):
    """What the schema lets through at its very bounds must still compute: no overflow, no NaN in the output."""
    from ALKRadiomicsLib.scoring import score_case

    document = base_document()
    AT_THE_BOUNDS[kind](document)
    path = tmp_path / "model.json"
    path.write_text(mutant_text(document))
    model = load_model(path)  # each lies just inside the schema's bounds
    result = score_case(small_case[2], model=model, hla=120, pdl1=80, n_stage="N1-2", outline_uncertainty=False,
                        draws=DRAWS)
    json.dumps(result.to_dict(), allow_nan=False)


HOSTILE_VALUES = [None, True, False, 0, -1, 1e-6, 5e-324, 1e308, float("nan"), float("inf"), 10 ** 400, "", "x", [],
                  {}, [1], [[1], 1, 1], [1e-6] * 3, [0.05] * 3, [True, 1, 1]]


def test_extraction_settings_refuse_any_value_with_an_input_error():
    """The second line of defence behind the model's published-settings check: whatever a parameter dictionary
    holds, ExtractionSettings raises its InputError, never a TypeError, and starts no extraction that cannot end."""
    import copy

    from ALKRadiomicsLib.errors import InputError
    from ALKRadiomicsLib.features import ExtractionSettings
    from ALKRadiomicsLib.resources import load_parameters

    published = load_parameters()
    accepted = []
    for where in ("binWidth", "resampledPixelSpacing", "interpolator", "label", "padDistance", "imageType",
                  "featureClass", "setting", "Wavelet", "everything"):
        for value in HOSTILE_VALUES:
            parameters = copy.deepcopy(published)
            if where in ("imageType", "featureClass", "setting"):
                parameters[where] = value
            elif where == "Wavelet":
                parameters["imageType"]["Wavelet"] = value
            elif where == "everything":
                parameters = value
            else:
                parameters["setting"][where] = value
            try:
                ExtractionSettings.from_parameters(parameters)
                accepted.append((where, value))
            except InputError:
                pass
    # What is left are legal values: padDistance 0, an absent section (the defaults), the bundled file (None).
    assert accepted == [("padDistance", 0), ("setting", None), ("setting", {}), ("Wavelet", None), ("Wavelet", {}),
                        ("everything", None)]


def test_a_model_built_in_code_also_keeps_the_published_extraction():
    from dataclasses import replace

    from ALKRadiomicsLib.model import load_bundled_model
    from ALKRadiomicsLib.resources import load_parameters

    published = load_parameters()
    with pytest.raises(ModelFormatError, match=r"binWidth = 0.01 \(published: 25\)"):
        replace(load_bundled_model(), extraction={**published, "setting": {**published["setting"], "binWidth": 0.01}})
