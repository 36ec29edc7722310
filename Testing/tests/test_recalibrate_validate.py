"""validate and recalibrate on a cohort of real LIDC nodule features with simulated outcomes
whose truth is known: ALK status and DFS drawn from the published betas (issue 7)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

pytest.importorskip("statsmodels", reason="needs the [train] extra (make test installs it)")
pytest.importorskip("lifelines", reason="needs the [train] extra (make test installs it)")

from ALKRadiomicsLib import stats  # noqa: E402
from ALKRadiomicsLib.cli import main  # noqa: E402
from ALKRadiomicsLib.model import load_bundled_model, load_model  # noqa: E402

TRUE_INTERCEPT = -1.0  # the simulated site's log-odds offset from the bundled model's 0


@pytest.fixture(scope="module")
def site(lidc_nodules, tmp_path_factory):
    """150 LIDC nodules (3+ slices) with features from `batch`, and outcomes from the published betas."""
    folder = tmp_path_factory.mktemp("site")
    with open(lidc_nodules / "metadata.csv", newline="") as handle:
        cases = [row["case"] for row in csv.DictReader(handle)]
    rng = np.random.default_rng(2024)
    rows = [{"id": c, "image": str(lidc_nodules / "image" / f"{c}.nii.gz"),
             "mask": str(lidc_nodules / "mask" / f"{c}.nii.gz")} for c in cases[:190]]
    with open(folder / "images.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "image", "mask"])
        writer.writeheader()
        writer.writerows(rows)
    assert main(["batch", str(folder / "images.csv"), "--out", str(folder / "features.csv"), "--serial"]) == 0
    features = {r["id"]: r for r in csv.DictReader(open(folder / "features.csv")) if not r["error"]}
    rows = [r for r in rows if r["id"] in features][:150]
    model = load_bundled_model()
    values = np.array([[float(features[r["id"]][n]) for n in model.feature_names] for r in rows])
    z = (values - values.mean(axis=0)) / values.std(axis=0, ddof=1)  # the site's own standardization
    beta = {t.variable: t.beta.value for t in model.alk_radiomic.terms}
    cox = {t.variable: t.beta.value for t in model.dfs_radiomic.terms}
    names = list(model.feature_names)
    rad = sum(beta[n] * z[:, names.index(n)] for n in beta)
    risk = sum(cox[n] * z[:, names.index(n)] for n in cox)
    alk = rng.binomial(1, 1 / (1 + np.exp(-(TRUE_INTERCEPT + rad))))
    event_time = rng.exponential(40 * np.exp(-risk))
    censor = rng.uniform(12, 80, len(rows))
    with open(folder / "cohort.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "mask", "alk", "dfs_months", "event", "hla", "pdl1", "n_stage"])
        for k, r in enumerate(rows):
            writer.writerow([r["id"], r["image"], r["mask"], alk[k], round(min(event_time[k], censor[k]), 2),
                             int(event_time[k] <= censor[k]), rng.integers(0, 300), rng.integers(0, 300),
                             rng.binomial(1, 0.3)])
    return folder, rad, alk


def test_validate_reports_the_models_discrimination_and_miscalibration(site):
    folder, _, alk = site
    out = folder / "validation.json"
    assert main(["validate", str(folder / "cohort.csv"), "--features", str(folder / "features.csv"),
                 "--json", str(out), "--report", str(folder / "validation.pdf")]) == 0
    result = json.loads(out.read_text())["model"]
    radiomic = result["alk_radiomic"]
    assert radiomic["n"] == len(alk)
    assert radiomic["auc_ci95"][0] <= radiomic["auc"] <= radiomic["auc_ci95"][1] and radiomic["auc"] > 0.6
    assert "alk_combined" in result and "dfs_radiomic" in result
    from pypdf import PdfReader

    text = " ".join(PdfReader(folder / "validation.pdf").pages[0].extract_text().split())
    # A table a reader can read, survival included; no JSON dump.
    assert f"{radiomic['auc']:.3f} ({radiomic['auc_ci95'][0]:.3f}-{radiomic['auc_ci95'][1]:.3f})" in text
    for label in ("Brier score", "calibration-in-the-large", "Hosmer-Lemeshow", "Spiegelhalter z",
                  "C-index (95% CI)", "C-index infinitesimal jackknife", "log-rank at the cutoff", "median follow-up",
                  "hazard ratio, high vs low"):
        assert label in text, label
    assert "{" not in text and '"' not in text


def test_validate_reports_val_prob_numbers_and_moves_the_prior_with_prevalence(site, capsys):
    """The bundled model holds at a 50 % prior; this site's prevalence is lower. --prevalence moves every
    probability by logit(P) - logit(prior): discrimination and slope stay, calibration-in-the-large improves."""
    folder, _, alk = site
    cohort, features = str(folder / "cohort.csv"), str(folder / "features.csv")
    plain, moved = folder / "plain.json", folder / "moved.json"
    prevalence = float(np.mean(alk))
    assert main(["validate", cohort, "--features", features, "--json", str(plain)]) == 0
    assert main(["validate", cohort, "--features", features, "--json", str(moved), "--prevalence",
                 f"{prevalence:.6f}"]) == 0
    before, after = (json.loads(p.read_text())["model"] for p in (plain, moved))
    prior = load_bundled_model().alk_radiomic.intercept_prior
    shift = math.log(prevalence / (1 - prevalence)) - math.log(prior / (1 - prior))
    assert after["prior"]["log_odds_shift"]["rad_score"] == pytest.approx(shift, abs=1e-5)
    assert before["prior"]["log_odds_shift"]["rad_score"] == 0 and before["prior"]["prevalence"] is None
    b, a = before["alk_radiomic"], after["alk_radiomic"]
    assert a["auc"] == b["auc"]
    assert a["calibration"]["slope"] == pytest.approx(b["calibration"]["slope"], abs=1e-7)
    assert a["calibration"]["calibration_in_the_large"] == pytest.approx(
        b["calibration"]["calibration_in_the_large"] - shift, abs=1e-5)
    assert abs(a["calibration"]["calibration_in_the_large"]) < abs(b["calibration"]["calibration_in_the_large"])
    for key in ("brier", "intercept_with_slope", "emax", "eavg", "spiegelhalter_z"):
        assert math.isfinite(a["calibration"][key]), key
    # A model fitted elsewhere: no parameter was fitted on these patients, so 10 groups give 10 degrees of freedom.
    hosmer = a["calibration"]["hosmer_lemeshow"]
    assert hosmer["dof"] == 10 and hosmer["fitted_parameters"] == 0
    dfs = after["dfs_radiomic"]
    assert dfs["c_index_ci95"][0] < dfs["c_index"] < dfs["c_index_ci95"][1]
    capsys.readouterr()
    assert main(["validate", cohort, "--features", features, "--prevalence", "1.5"]) == 2
    error = capsys.readouterr().err
    assert "--prevalence must lie strictly between 0 and 1" in error and len(error.strip().splitlines()) == 1


def test_recalibrate_keeps_the_betas_and_fits_the_sites_intercept(site):
    folder, rad, alk = site
    out, report = folder / "local_model.json", folder / "recalibration.json"
    assert main(["recalibrate", str(folder / "cohort.csv"), "--features", str(folder / "features.csv"),
                 "--out", str(out), "--json", str(report), "--report", str(folder / "recalibration.pdf")]) == 0
    local, bundled = load_model(out), load_bundled_model()
    assert local.calibrated and local.name.endswith("-recalibrated")
    assert [t.beta for t in local.alk_radiomic.terms] == [t.beta for t in bundled.alk_radiomic.terms]
    intercept = local.alk_radiomic.intercept
    assert intercept.provenance.kind == "derived" and "cohort.csv" in intercept.provenance.details["data"]
    assert intercept.ci95[0] <= TRUE_INTERCEPT <= intercept.ci95[1]
    # The offset logistic fit makes calibration-in-the-large exact on the cohort it was fitted on.
    results = json.loads(report.read_text())
    assert results["after"]["alk_radiomic"]["calibration"]["calibration_in_the_large"] == pytest.approx(0.0, abs=1e-6)
    assert abs(results["before"]["alk_radiomic"]["calibration"]["calibration_in_the_large"]) > 0.3
    # ...which makes it an apparent number, and the report says so where the "after" numbers are.
    assert "APPARENT" in results["notes"]["after"] and "before" not in results["notes"]
    # The refitted intercept costs the Hosmer-Lemeshow test one degree of freedom; the cohort is named.
    hosmer = {k: results[k]["alk_radiomic"]["calibration"]["hosmer_lemeshow"] for k in ("before", "after")}
    assert (hosmer["before"]["dof"], hosmer["after"]["dof"]) == (10, 9)
    # Every number that depends on the refitted intercepts is named apparent in the JSON, and tagged on its row.
    assert {"brier", "hosmer_lemeshow", "cutoff"} <= set(results["after"]["apparent"]["fields"])
    assert "apparent" not in results["before"] and results["after"]["intervals_95"]["auc_ci95"].startswith("DeLong")
    assert results["cohort"] == str(folder / "cohort.csv") == results["after"]["cohort"]
    from pypdf import PdfReader

    pages = PdfReader(folder / "recalibration.pdf").pages
    before_page, after_page = (" ".join(page.extract_text().split()) for page in pages)
    assert "APPARENT" in after_page and "APPARENT" not in before_page
    import re

    brier = r"Brier score \d\.\d{3} \[apparent\]"
    assert re.search(brier, after_page) and not re.search(brier, before_page)
    # The Rad-score is the site-standardized linear predictor plus the fitted intercept.
    auc, _, _ = stats.auc_ci(alk, rad)
    assert results["after"]["alk_radiomic"]["auc"] == pytest.approx(auc, abs=1e-12)
    positive_risk = local.dfs_radiomic.cutoff
    assert positive_risk.provenance.kind == "derived" and local.dfs_radiomic.group_hazard_ratio.ci95 is not None
    assert math.isfinite(local.alk_combined.intercept.value)


def write_cohort(folder, name: str, rows: list[dict]) -> str:
    path = folder / f"{name}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def cohort_rows(folder) -> list[dict]:
    with open(folder / "cohort.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def score_json(sample_data, tmp_path, *extra: str) -> dict:
    out = tmp_path / f"score{len(list(tmp_path.iterdir()))}.json"
    assert main(["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                 str(sample_data / "lung1_label.nrrd"), "--no-outline-uncertainty", "--json", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_prior_travels_with_a_model_recalibrated_at_25_percent(site, sample_data, tmp_path):
    folder, _, _ = site
    rows = cohort_rows(folder)
    chosen = [r for r in rows if r["alk"] == "1"][:30] + [r for r in rows if r["alk"] == "0"][:90]
    assert len(chosen) == 120
    cohort = write_cohort(tmp_path, "cohort25", chosen)
    model_path = tmp_path / "local25.json"
    assert main(["recalibrate", cohort, "--features", str(folder / "features.csv"), "--out", str(model_path)]) == 0
    local = load_model(model_path)
    assert local.alk_radiomic.intercept_prior == 0.25 and local.alk_combined.intercept_prior == 0.25
    plain = score_json(sample_data, tmp_path, "--model", str(model_path))
    same = score_json(sample_data, tmp_path, "--model", str(model_path), "--prevalence", "0.25")
    half = score_json(sample_data, tmp_path, "--model", str(model_path), "--prevalence", "0.5")
    assert plain["alk"]["prior"] == 0.25 and plain["alk"]["prior_source"] == "model"
    assert same["alk"]["probability"] == pytest.approx(plain["alk"]["probability"], rel=1e-12)
    p, q = plain["alk"]["probability"], half["alk"]["probability"]
    assert (q / (1 - q)) / (p / (1 - p)) == pytest.approx((0.5 / 0.5) / (0.25 / 0.75), rel=1e-9)
    assert plain["research_use_only"] is True  # recalibrated is not validated


def test_recalibrate_refuses_twelve_patients_and_flags_them_when_forced(site, sample_data, tmp_path, capsys):
    folder, _, _ = site
    cohort = write_cohort(tmp_path, "twelve", cohort_rows(folder)[:12])
    out = tmp_path / "twelve.json"
    arguments = ["recalibrate", cohort, "--features", str(folder / "features.csv"), "--out", str(out)]
    assert main(arguments) == 2
    error = capsys.readouterr().err.strip()
    assert "cannot support a recalibration" in error and "\n" not in error and not out.exists()
    assert main(arguments + ["--force"]) == 0
    flagged = load_model(out)
    assert flagged.flags and flagged.research_use_only
    report = tmp_path / "flagged.pdf"
    document = score_json(sample_data, tmp_path, "--model", str(out), "--report", str(report))
    assert document["research_use_only"] is True
    assert any(w.startswith("The model file was flagged when it was made") for w in document["warnings"])
    pypdf = pytest.importorskip("pypdf")
    assert "RESEARCH USE ONLY; NOT LOCALLY VALIDATED" in pypdf.PdfReader(str(report)).pages[0].extract_text()


def test_recalibrate_on_random_labels_is_refused_or_flagged_and_never_validated(site, sample_data, tmp_path):
    folder, _, _ = site
    rows = cohort_rows(folder)[:39]
    labels = np.random.default_rng(11).permutation([r["alk"] for r in rows])
    shuffled = [r | {"alk": a} for r, a in zip(rows, labels, strict=True)]
    out = tmp_path / "random.json"
    arguments = ["recalibrate", write_cohort(tmp_path, "random", shuffled), "--features",
                 str(folder / "features.csv"), "--out", str(out)]
    if main(arguments) == 0:
        assert load_model(out).flags
    else:
        assert not out.exists() and main(arguments + ["--force"]) == 0
    assert score_json(sample_data, tmp_path, "--model", str(out))["research_use_only"] is True


def test_validation_record_lifts_the_banner_only_when_it_passes_the_gates(site, sample_data, tmp_path):
    from dataclasses import replace

    from ALKRadiomicsLib.model import model_to_json
    from ALKRadiomicsLib.model.validation import ValidationRecord

    folder, _, _ = site
    bundled_reference = set(load_bundled_model().reference.cases)
    unseen = [r for r in cohort_rows(folder) if r["id"] not in bundled_reference]
    cohort = write_cohort(tmp_path, "unseen", unseen)
    # The site shares LIDC nodules with the bundled model's reference: those cannot validate it.
    assert main(["validate", str(folder / "cohort.csv"), "--features", str(folder / "features.csv"),
                 "--record", str(tmp_path / "refused.json")]) == 2
    recorded = tmp_path / "validated.json"
    assert main(["validate", cohort, "--features", str(folder / "features.csv"), "--record", str(recorded)]) == 0
    model = load_model(recorded)
    assert model.validation.alk_positive + model.validation.alk_negative == len(unseen) >= 90
    assert model.research_use_only and any("ALK-negative patients" in f for f in model.validation.failures())
    assert score_json(sample_data, tmp_path, "--model", str(recorded))["research_use_only"] is True

    # A record that passes every gate (as a large external cohort would give) lifts it, said as the file's claim.
    passing = replace(model.validation, alk_positive=180, alk_negative=240, auc=0.78, auc_ci95=(0.74, 0.82),
                      calibration_slope=0.95, calibration_slope_ci95=(0.8, 1.1), dfs_events=70, c_index=0.7,
                      group_hazard_ratio=2.1, logrank_p=0.001)
    assert isinstance(passing, ValidationRecord) and passing.passes
    strong = tmp_path / "strong.json"
    strong.write_text(model_to_json(replace(model, validation=passing)))
    document = score_json(sample_data, tmp_path, "--model", str(strong))
    assert document["research_use_only"] is False
    assert document["validation_claim"].startswith("the model file claims a validation")

    # Patients that fitted a model cannot validate it.
    local = tmp_path / "local.json"
    assert main(["recalibrate", str(folder / "cohort.csv"), "--features", str(folder / "features.csv"),
                 "--out", str(local)]) == 0
    assert main(["validate", str(folder / "cohort.csv"), "--features", str(folder / "features.csv"), "--model",
                 str(local), "--record", str(tmp_path / "self.json")]) == 2
    assert not (tmp_path / "self.json").exists()


def test_a_cohort_without_dfs_is_validated_and_recalibrated_for_alk_and_says_the_rad_risk_was_not(site, tmp_path,
                                                                                               capsys):
    """No event column (DFS not collected): validate and recalibrate still do the ALK part, and the console and
    JSON say why the RAD-risk was not validated, instead of dropping it silently (validate) or crashing
    (recalibrate, before)."""
    folder, _, _ = site
    rows = [{k: v for k, v in row.items() if k != "event"} for row in cohort_rows(folder)]
    cohort = write_cohort(tmp_path, "no_dfs", rows)
    features = str(folder / "features.csv")
    validation, recalibration = tmp_path / "validation.json", tmp_path / "recalibration.json"
    capsys.readouterr()
    assert main(["validate", cohort, "--features", features, "--json", str(validation)]) == 0
    assert "RAD-risk (DFS) not validated: the cohort has no event column" in capsys.readouterr().out
    result = json.loads(validation.read_text())["model"]
    assert "dfs_radiomic" not in result and result["not_validated"] == {"rad_risk": "the cohort has no event column"}
    assert main(["recalibrate", cohort, "--features", features, "--out", str(tmp_path / "local.json"),
                 "--json", str(recalibration)]) == 0
    after = json.loads(recalibration.read_text())["after"]
    assert after["not_validated"]["rad_risk"] == "the cohort has no event column"
    assert after["alk_radiomic"]["calibration"]["calibration_in_the_large"] == pytest.approx(0.0, abs=1e-6)
    # Without H-scores the combined model is named as not validated, with the reason.
    rows = [{k: v for k, v in row.items() if k not in ("hla", "pdl1")} for row in cohort_rows(folder)]
    assert main(["validate", write_cohort(tmp_path, "no_hscores", rows), "--features", features,
                 "--json", str(validation)]) == 0
    result = json.loads(validation.read_text())["model"]
    assert result["not_validated"] == {"combined": "the cohort has no hla or pdl1 column"}
