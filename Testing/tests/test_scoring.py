"""Scoring real cases (issue 3): the JSON's numbers follow from its features and the model file."""

from __future__ import annotations

import json
import math

import pytest

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.features import extract
from ALKRadiomicsLib.model import bundled_model_path, load_bundled_model
from ALKRadiomicsLib.scoring import score_case

REQUIRED_KEYS = {
    "model": ["name", "version", "sha256", "calibrated"],
    "alk": ["rad_score", "probability", "probability_interval", "prior", "combined_probability"],
    "dfs": ["rad_risk_score", "risk_group", "cutoff"],
}


@pytest.fixture(scope="module")
def scored(sample_data, tmp_path_factory):
    """The CLI's JSON for lung1 and lung2, with and without H-scores."""
    folder = tmp_path_factory.mktemp("scores")

    def run(case: str, *extra: str) -> dict:
        out = folder / f"{case}{'-'.join(extra)}.json"
        status = main(["score", "--image", str(sample_data / f"{case}_image.nrrd"),
                       "--mask", str(sample_data / f"{case}_label.nrrd"), "--json", str(out), "--overwrite", *extra])
        assert status == 0
        return json.loads(out.read_text())

    return run


@pytest.mark.parametrize("case", ["lung1", "lung2"])
def test_json_has_every_documented_key(case, scored):
    document = scored(case)
    for section, keys in REQUIRED_KEYS.items():
        for key in keys:
            assert key in document[section], f"{section}.{key}"
    assert set(document["features"]) == set(load_bundled_model().feature_names)
    assert document["alk"]["combined_probability"] is None
    assert document["model"]["calibrated"] is False
    assert any("Research use only; not locally validated" in w for w in document["warnings"])
    assert document["dfs"]["risk_group"] in {"high", "low"}


@pytest.mark.parametrize("case", ["lung1", "lung2"])
def test_rad_score_and_probability_recomputed_by_hand_from_json_and_model_file(case, scored):
    document = scored(case)
    model = json.loads(bundled_model_path().read_text())
    z = {name: (value - model["standardization"][name]["mean"]["value"]) / model["standardization"][name]["sd"]["value"]
         for name, value in document["features"].items()}
    rad_score = model["alk_radiomic"]["intercept"]["value"] + sum(
        term["beta"]["value"] * z[term["variable"]] for term in model["alk_radiomic"]["terms"])
    assert document["alk"]["rad_score"] == pytest.approx(rad_score, rel=1e-9, abs=1e-12)
    assert document["alk"]["probability"] == pytest.approx(1 / (1 + math.exp(-rad_score)), rel=1e-9, abs=1e-12)
    low, high = document["alk"]["probability_interval"]
    assert low <= document["alk"]["probability"] <= high
    rad_risk = sum(term["beta"]["value"] * z[term["variable"]] for term in model["dfs_radiomic"]["terms"])
    assert document["dfs"]["rad_risk_score"] == pytest.approx(rad_risk, rel=1e-9, abs=1e-12)
    assert document["dfs"]["risk_group"] == ("high" if rad_risk > model["dfs_radiomic"]["cutoff"]["value"] else "low")
    low, high = document["dfs"]["rad_risk_interval"]
    assert low <= document["dfs"]["rad_risk_score"] <= high
    for name, contribution in document["contributions"]["rad_score"].items():
        beta = next(t["beta"]["value"] for t in model["alk_radiomic"]["terms"] if t["variable"] == name)
        assert contribution == pytest.approx(beta * z[name], rel=1e-12)


def test_prevalence_lowers_the_probability_by_bayes_rule_on_the_odds(scored):
    at_study, at_five = scored("lung1"), scored("lung1", "--prevalence", "0.05")
    p, q = at_study["alk"]["probability"], at_five["alk"]["probability"]
    assert at_five["alk"]["prior"] == 0.05 and at_study["alk"]["prior"] == 0.5
    assert at_five["alk"]["probability_at_study_prior"] == pytest.approx(p, rel=1e-12)
    # posterior odds = study odds x prior odds (the study's own prior odds are 1)
    assert q / (1 - q) == pytest.approx(p / (1 - p) * 0.05 / 0.95, rel=1e-9)
    assert q < p
    for a, b in zip(at_study["alk"]["probability_interval"], at_five["alk"]["probability_interval"], strict=True):
        assert b / (1 - b) == pytest.approx(a / (1 - a) * 0.05 / 0.95, rel=1e-9)


def test_combined_probability_from_h_scores(scored):
    document = scored("lung1", "--hla", "20", "--pdl1", "23")
    model = load_bundled_model()
    expected_logit = model.alk_combined.linear_predictor(
        {"rad_score": document["alk"]["rad_score"], "hla_i_hscore": 20, "pdl1_hscore": 23})
    assert document["alk"]["combined_probability"] == pytest.approx(1 / (1 + math.exp(-expected_logit)), rel=1e-9)
    low, high = document["alk"]["combined_probability_interval"]
    assert low <= document["alk"]["combined_probability"] <= high
    # Lower H-scores (as in ALK-positive tumours, Table 1) raise the probability.
    higher = scored("lung1", "--hla", "90", "--pdl1", "88")
    assert higher["alk"]["combined_probability"] < document["alk"]["combined_probability"]


def test_n_stage_model_and_unpublished_combined_dfs_model(scored):
    document = scored("lung1", "--n-stage", "N1-2")
    assert document["dfs"]["n_stage"] == "N1-2"
    assert document["dfs"]["n_stage_hazard_ratio"] == pytest.approx(5.31)
    assert document["dfs"]["n_stage_hazard_ratio_ci95"] == pytest.approx([2.34, 12.02])
    assert "not published" in document["dfs"]["combined_model"]
    assert scored("lung1", "--n-stage", "N0")["dfs"]["n_stage_hazard_ratio"] == 1.0


def test_uncertainty_reports_both_parts(scored):
    uncertainty = scored("lung2")["alk"]["probability_uncertainty"]
    for part in ("coefficients", "outline"):
        low, high = uncertainty[part]
        assert uncertainty["interval"][0] <= low <= high <= uncertainty["interval"][1]
    assert uncertainty["outline"][0] < uncertainty["outline"][1]  # the outline matters


def test_scoring_uses_the_same_feature_values_as_extraction(load_real_case):
    case = load_real_case("lung2")
    assert score_case(case).features == extract(case)


def test_out_of_reference_range_features_are_warned(scored):
    # lung2 is a large tumour on 5 mm slices, unlike the thin-slice LIDC reference nodules.
    warnings = scored("lung2")["warnings"]
    assert any("outside the reference population's range" in w and "Busyness" in w for w in warnings)
    assert any("5 mm slices" in w for w in warnings)


def test_summary_states_probability_risk_group_and_calibration(sample_data, capsys):
    assert main(["score", "--image", str(sample_data / "lung1_image.nrrd"),
                 "--mask", str(sample_data / "lung1_label.nrrd"), "--no-outline-uncertainty"]) == 0
    text = capsys.readouterr().out
    assert "RESEARCH USE ONLY; NOT LOCALLY VALIDATED" in text
    assert "ALK rearrangement probability:" in text and "95 % interval" in text
    assert "risk group" in text
