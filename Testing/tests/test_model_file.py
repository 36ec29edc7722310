"""The bundled model file: published numbers exactly, provenance for all, reproducible gaps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

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
    combined = {t.variable: t.beta for t in model.alk_combined.terms}
    assert combined["rad_score"].value == math.log(2.88)
    for name in ("hla_i_hscore", "pdl1_hscore"):  # OR 0.99 is rounded: the centre of what the print allows
        beta = combined[name]
        assert beta.feasible_range == pytest.approx((-0.015114, -0.010063), abs=2e-6)
        assert beta.value == pytest.approx(sum(beta.feasible_range) / 2, abs=1e-12)
        assert beta.ci95 == (math.log(0.98), math.log(0.99))
        assert beta.provenance.kind == "assumed" and "OR 0.99 (95% CI 0.98-0.99); P < 0.001" in beta.provenance.details[
            "reason"]
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


def reproduces_printed_numbers(beta: float) -> bool:
    """Whether some standard error makes beta print as OR 0.99 (95% CI 0.98-0.99), P < 0.001."""
    se = np.linspace(1e-5, 0.02, 20001)
    low, high = np.exp(beta - 1.959964 * se), np.exp(beta + 1.959964 * se)
    p = 2 * stats.norm.sf(abs(beta) / se)
    return bool(np.any((np.round(low, 2) == 0.98) & (np.round(high, 2) == 0.99) & (p < 0.001))) and round(
        math.exp(beta), 2) == 0.99


def test_h_score_feasible_range_is_exactly_the_betas_the_printed_numbers_allow():
    low, high = load_bundled_model().alk_combined.terms[1].beta.feasible_range
    assert reproduces_printed_numbers(low + 1e-6) and reproduces_printed_numbers(high - 1e-6)
    assert not reproduces_printed_numbers(low - 1e-5) and not reproduces_printed_numbers(high + 1e-5)
    assert not reproduces_printed_numbers(math.log(0.99))  # ln 0.99 lies just outside


def test_combined_intercept_makes_the_mean_predicted_probability_one_half_in_a_simulated_1_to_1_cohort():
    """An independent check of the score-equation derivation: draw the modelled cohort (Table 1 log-normals,
    binormal Rad-score with AUC 0.763) and average the predicted probability."""
    model = load_bundled_model()
    rng = np.random.default_rng(5)
    n = 400_000
    separation = (math.sqrt(2) * stats.norm.ppf(0.763)) ** 2
    table_1 = {"hla_i_hscore": ((20, 64.5), (90, 167.75)), "pdl1_hscore": ((23, 75), (88, 114.25))}
    mean_probability = 0.0
    for group, sign in ((0, 1), (1, -1)):
        values = {"rad_score": rng.normal(sign * separation / 2, math.sqrt(separation), n)}
        for name, medians in table_1.items():
            median, iqr = medians[group]
            sigma = math.asinh(iqr / (2 * median)) / stats.norm.ppf(0.75)
            draws = np.minimum(stats.lognorm(sigma, scale=median).rvs(n, random_state=rng), 300)
            q1, q3 = np.percentile(draws, [25, 75])
            assert np.median(draws) == pytest.approx(median, rel=0.01) and q3 - q1 == pytest.approx(iqr, rel=0.01)
            values[name] = draws
        log_odds = model.alk_combined.linear_predictor(values)
        mean_probability += 0.5 * float(np.mean(1 / (1 + np.exp(-log_odds))))
    assert mean_probability == pytest.approx(0.5, abs=0.002)
    assert model.alk_combined.intercept.value == pytest.approx(2.21, abs=0.01)
    # The old midpoint intercept, 1.11 at ln 0.99, left a 1:1 cohort at a mean predicted probability of about 0.40.
    assert "0.40" in model.alk_combined.intercept.provenance.details["reason"]


def test_both_alk_models_record_the_prior_their_intercept_holds_at():
    model = load_bundled_model()
    assert model.alk_radiomic.intercept_prior == 0.5 and model.alk_combined.intercept_prior == 0.5


def test_intercepts_carry_a_stated_uncertainty():
    model = load_bundled_model()
    low, high = model.alk_radiomic.intercept.ci95
    assert low < 0 < high and (high - low) / (2 * 1.959964) == pytest.approx(0.196, abs=0.002)
    assert "standard error" in model.alk_radiomic.intercept.provenance.details["reason"]
    assert model.alk_combined.intercept_centres["hla_i_hscore"] > 0


def test_group_hazard_ratio_is_a_simulated_marginal_hazard_ratio_and_says_so():
    group = load_bundled_model().dfs_radiomic.group_hazard_ratio
    assert 2.0 < group.value < 6.0
    assert group.provenance.details["method"].startswith("simulated, not observed")


def test_model_file_round_trips_unchanged():
    text = bundled_model_path().read_text()
    assert model_to_json(load_bundled_model()) == text


def test_rebuilding_reference_reproduces_the_bundled_model_file_exactly(tmp_path, lidc_nodules):
    from ALKRadiomicsLib.cli import main

    bundled = load_bundled_model()
    date = bundled.standardization[SIGNATURE_FEATURES[0]].mean.provenance.details["date"]
    data = bundled.standardization[SIGNATURE_FEATURES[0]].mean.provenance.details["data"].split(":")[0]
    out = tmp_path / "rebuilt.json"
    assert main(["build-reference", "--data", str(lidc_nodules), "--out", str(out), "--date", date]) == 0
    rebuilt = json.loads(out.read_text())
    original = json.loads(bundled_model_path().read_text())
    # The data folder is written as given; everything else, every number included, is identical.
    text = out.read_text().replace(str(lidc_nodules), data)
    assert json.loads(text) | {"content_sha256": ""} == original | {"content_sha256": ""}
    assert rebuilt["reference_population"]["cases"] == original["reference_population"]["cases"]


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
    (lambda d: d.update(schema_version=1), "rebuild the bundled model with alk-radiomics build-reference"),
    (lambda d: d["alk_radiomic"].pop("intercept_prior"), "intercept_prior"),
    (lambda d: d["alk_combined"].update(intercept_prior=1.0), "intercept_prior"),
    (lambda d: d["reference_population"]["feature_values"]["wavelet-LLH_ngtdm_Busyness"].pop(), "one value per case"),
    (lambda d: d["alk_radiomic"]["terms"][0]["beta"].update(value="big"), "finite number"),
])
def test_model_failing_the_schema_is_refused_with_the_reason(edited_model, change, message):
    with pytest.raises(ModelFormatError, match=message):
        load_model(edited_model(change, reseal=True))


# -- hostile model files (issue 21, item 4): each finding that crashed or changed the method ------------------

RAW = "@@raw-json-token@@"


def _setting(name, value):
    return lambda d: d["extraction"]["setting"].update({name: value})


def _first_reference_value(value):
    return lambda d: d["reference_population"]["feature_values"]["wavelet-LLH_ngtdm_Busyness"].__setitem__(0, value)


def _first_beta(value):
    return lambda d: d["alk_radiomic"]["terms"][0]["beta"].update(value=value)


def _repeat_reference(document, times: int) -> None:
    reference = document["reference_population"]
    reference["cases"] = [f"{case}#{i}" for i in range(times) for case in reference["cases"]]
    reference["n"] = len(reference["cases"])
    for name, column in reference["feature_values"].items():
        reference["feature_values"][name] = column * times
    reference["volume_mm3"] = reference["volume_mm3"] * times


# name: (change to the bundled document, raw JSON token for RAW or None, words the one-line error must hold)
HOSTILE_MODELS = {
    "1e999 (legal JSON, Python reads inf)": (_first_beta(RAW), "1e999", ["1e999", "beyond the range of a float"]),
    "a 400-digit integer": (_first_beta(10 ** 399), None, ["400 digits", "1e+15"]),
    "5000-digit integer (int() itself refuses)": (_first_beta(RAW), "9" * 5000, ["5000 digits"]),
    "1e308 reference value (NaN in the export)": (_first_reference_value(1e308), None,
                                                  ["feature_values.wavelet-LLH_ngtdm_Busyness[0]", "1e+15"]),
    "binWidth as a list": (_setting("binWidth", [25]), None, ["published extraction settings", "binWidth"]),
    "binWidth as a dict": (_setting("binWidth", {"value": 25}), None, ["published extraction settings", "binWidth"]),
    "binWidth null": (_setting("binWidth", None), None, ["published extraction settings", "binWidth = null"]),
    "binWidth 5e-324": (_setting("binWidth", 5e-324), None, ["published extraction settings", "binWidth = 5e-324"]),
    "binWidth 0.01": (_setting("binWidth", 0.01), None, ["DESIGN section 3", "binWidth = 0.01 (published: 25)"]),
    "resampledPixelSpacing null": (_setting("resampledPixelSpacing", None), None, ["resampledPixelSpacing = null"]),
    "resampledPixelSpacing scalar": (_setting("resampledPixelSpacing", 1), None, ["resampledPixelSpacing = 1 "]),
    "resampledPixelSpacing nested": (_setting("resampledPixelSpacing", [[1], 1, 1]), None,
                                     ["resampledPixelSpacing[0] = [1]"]),
    "resampledPixelSpacing 1e-6": (_setting("resampledPixelSpacing", [1e-6] * 3), None,
                                   ["resampledPixelSpacing[0] = 1e-06"]),
    "resampledPixelSpacing 0.05": (_setting("resampledPixelSpacing", [0.05] * 3), None,
                                   ["published extraction settings", "resampledPixelSpacing[0] = 0.05"]),
    "label null": (_setting("label", None), None, ["published extraction settings", "label = null"]),
    "label true (True == 1 in Python)": (_setting("label", True), None, ["label = true (published: 1)"]),
    "another interpolator": (_setting("interpolator", "sitkLinear"), None, ['interpolator = "sitkLinear"']),
    "an extra setting": (_setting("normalize", True), None, ["setting.normalize = true is not a published setting"]),
    "provenance type as a list": (lambda d: d["dfs_radiomic"]["cutoff"]["provenance"].update(type=["derived"]),
                                  None, ["dfs_radiomic.cutoff.provenance", "provenance type"]),
    "provenance type as a dict": (lambda d: d["dfs_radiomic"]["cutoff"]["provenance"].update(type={}), None,
                                  ["provenance type"]),
    "beta true (True == 1)": (_first_beta(True), None, ["alk_radiomic.terms[0].beta.value", "got true"]),
    "intercept_prior true": (lambda d: d["alk_radiomic"].update(intercept_prior=True), None, ["intercept_prior"]),
    "a feature name as a list": (lambda d: d["alk_radiomic"]["terms"][0].update(variable=["x"]), None,
                                 ["alk_radiomic.terms[0].variable"]),
    "a label as a list": (lambda d: d["alk_radiomic"]["terms"][0].update(label=["x"]), None,
                          ["alk_radiomic.terms[0].label must be a string"]),
    "notes as a number": (lambda d: d.update(notes=0), None, ["model.notes must be a list"]),
    "a 1 MB name": (lambda d: d.update(name="x" * 2**20), None, ["model.name", "at most 20,000"]),
    "a beta whose exp() overflows": (lambda d: d["dfs_clinical"]["terms"][0]["beta"].update(value=1000.0, ci95=None),
                                     None, ["dfs_clinical.terms[0].beta.value", "at most 100"]),
    "20,400 reference cases": (lambda d: _repeat_reference(d, 170), None,
                               ["20400 cases x 6 features", "in time and memory"]),
    "51 terms": (lambda d: d["alk_radiomic"].update(terms=d["alk_radiomic"]["terms"][:1] * 51), None,
                 ["at most 50 terms"]),
    "a Cox regression with an intercept": (lambda d: d["dfs_radiomic"].update(intercept=d["alk_radiomic"]["intercept"]),
                                           None, ["dfs_radiomic", "a Cox regression has no intercept"]),
    "a reference value repeated in 119 of 120 cases": (
        lambda d: d["reference_population"]["feature_values"]["wavelet-LLH_ngtdm_Busyness"].__setitem__(
            slice(None), [1.0] * 119 + [2.0]), None, ["119 of 120 cases", "SD is 0"]),
}


def write_hostile(tmp_path, kind: str):
    """The bundled model with one hostile change, resealed (its checksum recomputed): the schema is what is tested."""
    from ALKRadiomicsLib.model.schema import CHECKSUM_KEY, content_checksum

    change, raw, _ = HOSTILE_MODELS[kind]
    document = json.loads(bundled_model_path().read_text())
    change(document)
    document[CHECKSUM_KEY] = content_checksum(document)
    text = json.dumps(document)
    if raw is not None:  # a number no Python value writes back: the parser must refuse it before the checksum
        text = text.replace(json.dumps(RAW), raw)
    path = tmp_path / "model.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("kind", HOSTILE_MODELS)
def test_hostile_model_file_is_one_model_format_error(kind, tmp_path):
    with pytest.raises(ModelFormatError) as refused:
        load_model(write_hostile(tmp_path, kind))
    message = str(refused.value)
    assert "\n" not in message and len(message) < 1000
    for words in HOSTILE_MODELS[kind][2]:
        assert words in message, (kind, message)


@pytest.fixture(scope="module")
def cropped_lung1(sample_data, tmp_path_factory):
    from conftest import write_cropped_lung1

    return write_cropped_lung1(sample_data, tmp_path_factory.mktemp("lung1"))


@pytest.mark.parametrize("kind", HOSTILE_MODELS)
def test_hostile_model_file_is_one_line_and_exit_2_through_the_cli(kind, tmp_path, cropped_lung1, capsys):
    from ALKRadiomicsLib.cli import main

    image, mask = cropped_lung1
    status = main(["score", "--image", str(image), "--mask", str(mask), "--model", str(write_hostile(tmp_path, kind)),
                   "--no-outline-uncertainty"])
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.startswith("alk-radiomics: error: Model file ") and len(captured.err.splitlines()) == 1
    assert HOSTILE_MODELS[kind][2][-1] in captured.err
    assert captured.out == ""


def test_extraction_settings_compare_by_value_not_by_spelling(edited_model):
    """25.0 is the published bin width written another way; the checksum is what changes, not the method."""
    model = load_model(edited_model(lambda d: d["extraction"]["setting"].update(binWidth=25.0,
                                                                                resampledPixelSpacing=[1.0, 1, 1]),
                                    reseal=True))
    assert model.extraction["setting"]["binWidth"] == 25


def test_validation_record_refuses_numbers_out_of_range_without_overflow():
    from ALKRadiomicsLib.model.validation import ValidationRecord

    record = {"cohort": "c", "date": "2026-12-04", "command": "validate", "alk_positive": 120, "alk_negative": 130,
              "auc": 0.75, "auc_ci95": [0.7, 0.8], "calibration_slope": 1.0, "calibration_slope_ci95": [0.8, 1.2],
              "dfs_events": 60, "c_index": 0.7, "group_hazard_ratio": 2.0, "logrank_p": 0.01}
    assert ValidationRecord.from_dict(record).passes
    for key, value in [("calibration_slope", 10 ** 400), ("alk_positive", 10 ** 400), ("auc", 1.5), ("auc", True),
                       ("c_index", float("nan")), ("auc_ci95", [0.8, 0.7]), ("dfs_events", 121), ("cohort", ["c"])]:
        with pytest.raises(ModelFormatError, match="model.validation"):
            ValidationRecord.from_dict({**record, key: value})


def test_no_command_writes_a_model_file_it_could_not_read_back():
    """A model built beyond the file's bounds (here a beta of 1000) is refused when written, not when next read."""
    from dataclasses import replace

    from ALKRadiomicsLib.model.schema import Parameter

    model = load_bundled_model()
    term = model.dfs_clinical.terms[0]
    wild = replace(term, beta=Parameter(1000.0, term.beta.provenance))
    broken = replace(model, dfs_clinical=replace(model.dfs_clinical, terms=(wild,)))
    with pytest.raises(ModelFormatError, match="would not be a readable model file.*at most 100"):
        model_to_json(broken)
    assert load_model(bundled_model_path()) == model  # and the bundled one round-trips
