"""The bundled model file: published numbers exactly, provenance for all, reproducible gaps."""

from __future__ import annotations

import json
import math

import pytest

from ALKRadiomicsLib.errors import ModelFormatError
from ALKRadiomicsLib.features import SIGNATURE_FEATURES
from ALKRadiomicsLib.model import bundled_model_path, load_bundled_model, load_model, model_to_json


def all_parameters(node, where="model"):
    """Every {value, provenance} object in a model document, with its JSON path."""
    if isinstance(node, dict):
        if "value" in node and "provenance" in node:
            yield where, node
        for key, child in node.items():
            yield from all_parameters(child, f"{where}.{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from all_parameters(child, f"{where}[{index}]")


def test_rad_score_matches_table2_betas():
    model = load_bundled_model()
    betas = {t.variable: t.beta for t in model.alk_radiomic.terms}
    assert {name: b.value for name, b in betas.items()} == {
        "original_glcm_Autocorrelation": -0.777,
        "wavelet-LLH_glszm_SmallAreaEmphasis": 0.648,
        "wavelet-HLL_glcm_Correlation": 0.742,
        "wavelet-LLL_firstorder_Skewness": -1.185,
    }
    assert all(b.provenance.kind == "published" and b.provenance.details["source"] == "Table 2" for b in betas.values())
    assert betas["original_glcm_Autocorrelation"].provenance.details["printed"].startswith("beta -0.777; OR 0.46")


def test_rad_risk_matches_table3_betas():
    model = load_bundled_model()
    assert {t.variable: t.beta.value for t in model.dfs_radiomic.terms} == {
        "wavelet-LLH_ngtdm_Busyness": 0.973, "wavelet-LLL_glcm_MaximumProbability": 0.566}
    assert all(t.beta.provenance.details["source"] == "Table 3" for t in model.dfs_radiomic.terms)


def test_combined_and_n_stage_models_are_the_logs_of_the_printed_ratios():
    model = load_bundled_model()
    combined = {t.variable: t.beta.value for t in model.alk_combined.terms}
    assert combined == {"rad_score": math.log(2.88), "hla_i_hscore": math.log(0.99), "pdl1_hscore": math.log(0.99)}
    [n_stage] = model.dfs_clinical.terms
    assert n_stage.beta.value == math.log(5.31)
    assert n_stage.beta.ci95 == (math.log(2.34), math.log(12.02))


def test_every_number_says_where_it_came_from():
    document = json.loads(bundled_model_path().read_text())
    parameters = list(all_parameters(document))
    assert len(parameters) >= 4 + 2 + 3 + 1 + 2 * 6 + 3  # betas, standardization, intercepts, cutoff, group HR
    for where, parameter in parameters:
        provenance = parameter["provenance"]
        assert provenance["type"] in {"published", "derived", "assumed"}, where
        required = {"published": ["source", "printed"], "derived": ["data", "method", "command", "date"],
                    "assumed": ["reason"]}[provenance["type"]]
        assert all(provenance.get(k) for k in required), where
    kinds = {where: p["provenance"]["type"] for where, p in parameters}
    assert kinds["model.alk_radiomic.intercept"] == "assumed"
    assert kinds["model.alk_combined.intercept"] == "assumed"
    assert kinds["model.dfs_radiomic.cutoff"] == "derived"
    assert all(kinds[f"model.standardization.{n}.{s}"] == "derived" for n in SIGNATURE_FEATURES for s in ("mean", "sd"))


def test_bundled_model_is_uncalibrated_and_states_its_reference_population():
    model = load_bundled_model()
    assert model.calibrated is False
    assert model.feature_names == SIGNATURE_FEATURES
    assert "LIDC" in model.reference.description and "malignant" in model.reference.description
    assert "not publish" in model.reference.differs_from_paper
    assert len(model.reference.cases) >= 100
    assert "not published" in model.dfs_combined_note


def test_combined_intercept_follows_its_written_derivation():
    model = load_bundled_model()
    # log-odds 0 at Rad-score 0 and H-scores at the midpoint of the Table 1 medians (55 and 55.5).
    assert model.alk_combined.linear_predictor({"rad_score": 0.0, "hla_i_hscore": 55.0,
                                                "pdl1_hscore": 55.5}) == pytest.approx(0.0, abs=1e-12)


def test_model_file_round_trips_unchanged():
    text = bundled_model_path().read_text()
    assert model_to_json(load_bundled_model()) == text


def test_rebuilding_reference_reproduces_bundled_standardization_and_cutoff(tmp_path, lidc_nodules):
    from ALKRadiomicsLib.cli import main

    out = tmp_path / "rebuilt.json"
    assert main(["build-reference", "--data", str(lidc_nodules), "--out", str(out)]) == 0
    rebuilt, bundled = load_model(out), load_bundled_model()
    assert rebuilt.reference.cases == bundled.reference.cases
    for name in SIGNATURE_FEATURES:
        for which in ("mean", "sd"):
            a = getattr(rebuilt.standardization[name], which).value
            b = getattr(bundled.standardization[name], which).value
            assert a == pytest.approx(b, rel=1e-9, abs=1e-12), (name, which)
    assert rebuilt.dfs_radiomic.cutoff.value == pytest.approx(bundled.dfs_radiomic.cutoff.value, rel=1e-9, abs=1e-12)


def test_edited_model_fails_its_checksum(edited_model):
    def edit(d):
        d["alk_radiomic"]["terms"][0]["beta"]["value"] = -0.5
    with pytest.raises(ModelFormatError, match="checksum"):
        load_model(edited_model(edit, reseal=False))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("alk_combined"), "alk_combined must be a JSON object"),
    (lambda d: d["standardization"]["wavelet-HLL_glcm_Correlation"]["sd"].update(value=0), "positive"),
    (lambda d: d["alk_radiomic"]["terms"][1]["beta"].pop("provenance"), "provenance"),
    (lambda d: d["dfs_radiomic"]["cutoff"]["provenance"].update(type="guessed"), "provenance type"),
    (lambda d: d.update(schema_version=99), "schema version"),
    (lambda d: d["alk_radiomic"]["terms"][0]["beta"].update(value="big"), "finite number"),
])
def test_model_failing_the_schema_is_refused_with_the_reason(edited_model, change, message):
    with pytest.raises(ModelFormatError, match=message):
        load_model(edited_model(change, reseal=True))
