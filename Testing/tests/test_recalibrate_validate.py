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
    assert (folder / "validation.pdf").read_bytes().startswith(b"%PDF")


def test_recalibrate_keeps_the_betas_and_fits_the_sites_intercept(site):
    folder, rad, alk = site
    out, report = folder / "local_model.json", folder / "recalibration.json"
    assert main(["recalibrate", str(folder / "cohort.csv"), "--features", str(folder / "features.csv"),
                 "--out", str(out), "--json", str(report)]) == 0
    local, bundled = load_model(out), load_bundled_model()
    assert local.calibrated and local.name.endswith("-recalibrated")
    assert [t.beta for t in local.alk_radiomic.terms] == [t.beta for t in bundled.alk_radiomic.terms]
    intercept = local.alk_radiomic.intercept
    assert intercept.provenance.kind == "derived" and "cohort.csv" in intercept.provenance.details["data"]
    assert intercept.ci95[0] <= TRUE_INTERCEPT <= intercept.ci95[1]
    # The offset logistic fit makes calibration-in-the-large exact on the cohort it was fitted on.
    results = json.loads(report.read_text())
    assert results["after"]["alk_radiomic"]["calibration"]["intercept"] == pytest.approx(0.0, abs=1e-6)
    assert abs(results["before"]["alk_radiomic"]["calibration"]["intercept"]) > 0.3
    # The Rad-score is the site-standardized linear predictor plus the fitted intercept.
    auc, _, _ = stats.auc_ci(alk, rad)
    assert results["after"]["alk_radiomic"]["auc"] == pytest.approx(auc, abs=1e-12)
    positive_risk = local.dfs_radiomic.cutoff
    assert positive_risk.provenance.kind == "derived" and local.dfs_radiomic.group_hazard_ratio.ci95 is not None
    assert math.isfinite(local.alk_combined.intercept.value)
