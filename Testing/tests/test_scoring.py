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
    "alk": ["rad_score", "probability", "probability_uncertainty", "prior", "intercept_prior", "combined_probability",
            "domain"],
    "dfs": ["rad_risk_score", "risk_group", "cutoff", "probability_high_group", "domain"],
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
    assert document["model"]["calibrated"] is False and document["research_use_only"] is True
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
    low, high = document["alk"]["probability_uncertainty"]["interval"]
    assert low <= document["alk"]["probability"] <= high
    rad_risk = sum(term["beta"]["value"] * z[term["variable"]] for term in model["dfs_radiomic"]["terms"])
    assert document["dfs"]["rad_risk_score"] == pytest.approx(rad_risk, rel=1e-9, abs=1e-12)
    assert document["dfs"]["risk_group"] == ("high" if rad_risk > model["dfs_radiomic"]["cutoff"]["value"] else "low")
    low, high = document["dfs"]["rad_risk_uncertainty"]["interval"]
    assert low <= document["dfs"]["rad_risk_score"] <= high
    for name, contribution in document["contributions"]["rad_score"].items():
        beta = next(t["beta"]["value"] for t in model["alk_radiomic"]["terms"] if t["variable"] == name)
        assert contribution == pytest.approx(beta * z[name], rel=1e-12)


def test_prevalence_lowers_the_probability_by_bayes_rule_on_the_odds(scored):
    at_study, at_five = scored("lung1"), scored("lung1", "--prevalence", "0.05")
    p, q = at_study["alk"]["probability"], at_five["alk"]["probability"]
    assert at_five["alk"]["prior"] == 0.05 and at_study["alk"]["prior"] == 0.5
    assert (at_study["alk"]["prior_source"], at_five["alk"]["prior_source"]) == ("model", "user")
    assert at_five["alk"]["probability_at_intercept_prior"] == pytest.approx(p, rel=1e-12)
    # posterior odds = study odds x prior odds (the study's own prior odds are 1)
    assert q / (1 - q) == pytest.approx(p / (1 - p) * 0.05 / 0.95, rel=1e-9)
    assert q < p
    for a, b in zip(at_study["alk"]["probability_uncertainty"]["interval"],
                    at_five["alk"]["probability_uncertainty"]["interval"], strict=True):
        assert b / (1 - b) == pytest.approx(a / (1 - a) * 0.05 / 0.95, rel=1e-9)


def test_combined_probability_from_h_scores(scored):
    document = scored("lung1", "--hla", "20", "--pdl1", "23")
    model = load_bundled_model()
    expected_logit = model.alk_combined.linear_predictor(
        {"rad_score": document["alk"]["rad_score"], "hla_i_hscore": 20, "pdl1_hscore": 23})
    assert document["alk"]["combined_probability"] == pytest.approx(1 / (1 + math.exp(-expected_logit)), rel=1e-9)
    low, high = document["alk"]["combined_probability_uncertainty"]["interval"]
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


def test_interval_reports_each_component_and_what_it_covers(scored):
    uncertainty = scored("lung2")["alk"]["probability_uncertainty"]
    components = uncertainty["components"]
    assert set(components) == {"coefficients", "intercept", "reference", "rounding", "outline"}
    assert sum(c["share"] for c in components.values()) == pytest.approx(1.0)
    assert components["rounding"]["share"] == 0.0  # no H-scores: nothing rounded enters the Rad-score
    assert components["outline"]["interval"][0] < components["outline"]["interval"][1]  # the outline matters
    assert "95 % Monte Carlo interval" in uncertainty["covers"] and "Not covered" in uncertainty["covers"]
    low, high = uncertainty["interval"]
    assert low < scored("lung2")["alk"]["probability"] < high


def test_scoring_uses_the_same_feature_values_as_extraction(load_real_case):
    case = load_real_case("lung2")
    assert score_case(case).features == extract(case)


def test_lung2_lies_outside_the_reference_population_and_says_so(scored):
    # lung2 is a 48 cm3 tumour on 5 mm slices, unlike the small LIDC reference nodules.
    document = scored("lung2")
    domain = document["dfs"]["domain"]
    assert domain["status"] == "outside" and document["dfs"]["extrapolated"] is True
    busyness = next(f for f in domain["features"] if f["name"] == "wavelet-LLH_ngtdm_Busyness")
    assert busyness["status"] == "outside" and busyness["z"] > 50 and busyness["percentile"] == 100
    assert domain["volume"]["percentile"] == 100 and domain["volume"]["value"] > 40_000
    assert document["dfs"]["risk_group_certain"] is False
    assert document["domain_headline"].startswith("Outside the bundled model's reference population")
    assert any("5 mm slices" in w for w in document["warnings"])


def test_no_number_in_the_json_a_reader_cannot_read(scored):
    """Nothing above 1e6 but counts and volumes (the old hazard ratio vs the cutoff was 1.8e33 on lung2)."""
    def numbers(node, where=""):
        if isinstance(node, dict):
            for key, child in node.items():
                yield from numbers(child, f"{where}.{key}")
        elif isinstance(node, list):
            for child in node:
                yield from numbers(child, where)
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield where, node

    for case in ("lung1", "lung2"):
        large = [(w, v) for w, v in numbers(scored(case)) if abs(v) > 1e6 and not w.endswith(("volume_mm3", "count"))
                 and not w.endswith(".volume.value")]
        assert large == []
        assert "hazard_ratio_vs_cutoff" not in scored(case)["dfs"]


def test_summary_states_probability_risk_group_and_calibration(sample_data, capsys):
    assert main(["score", "--image", str(sample_data / "lung1_image.nrrd"),
                 "--mask", str(sample_data / "lung1_label.nrrd"), "--no-outline-uncertainty"]) == 0
    text = capsys.readouterr().out
    assert "RESEARCH USE ONLY; NOT LOCALLY VALIDATED" in text
    assert "ALK rearrangement probability:" in text and "95 % interval" in text
    assert "risk group" in text


def test_panel_html_leads_with_the_verdict(load_real_case):
    from ALKRadiomicsLib.scoring.summary import summary_html

    text = summary_html(score_case(load_real_case("lung2")))
    first = text.split("<br>")[0]
    assert "Outside the bundled model&#x27;s reference population" in first
    assert text.index("RESEARCH USE ONLY") < text.index("ALK probability")
    assert "EXTRAPOLATION, not a result" in text and "Not covered" in text
