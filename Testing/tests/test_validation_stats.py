"""validate's numbers against R (issue 13): rms::val.prob (Brier, both intercepts, slope, Emax/E90/Eavg,
Spiegelhalter's z), Hosmer-Lemeshow (ResourceSelection::hoslem.test's grouping, written out in R), pROC's
DeLong CI and survival::concordance's C with its variance, all to 1e-6 on the same predictions.

R is optional for a developer (these tests skip with a message); CI installs it with rms (.ci/run).
"""

from __future__ import annotations

import math
import shutil
import subprocess
import textwrap

import numpy as np
import pandas as pd
import pytest

from ALKRadiomicsLib import stats
from ALKRadiomicsLib.stats import calibration

pytest.importorskip("lifelines", reason="the statistics need lifelines (the [train] extra; make test installs it)")


def _predictions(seed: int, n: int = 150) -> pd.DataFrame:
    """Miscalibrated log-odds (too extreme, shifted) of a binary outcome, ties in the predictions, and survival
    times with ties driven by a risk score."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(-0.3, 1.0, n)
    y = rng.binomial(1, 1 / (1 + np.exp(-truth)))
    log_odds = np.round(1.6 * truth + 0.4 + rng.normal(0, 0.5, n), 2)
    risk = np.round(rng.normal(size=n), 1)
    time = np.round(rng.exponential(40 * np.exp(-0.6 * risk)), 0) + 1
    event = rng.binomial(1, 0.55, n)
    return pd.DataFrame({"y": y, "lp": log_odds, "time": time, "event": event, "risk": risk})


R_SCRIPT = textwrap.dedent("""
    suppressMessages({library(rms); library(pROC); library(survival)})
    args <- commandArgs(TRUE)
    d <- read.csv(args[1])
    out <- function(key, values) cat(key, format(values, digits = 17), "\\n")
    v <- val.prob(plogis(d$lp), d$y, pl = FALSE)
    for (k in c("Brier", "Intercept", "Slope", "Emax", "E90", "Eavg", "S:z", "S:p")) out(gsub(":", "_", k), v[[k]])
    large <- glm(y ~ 1, offset = lp, family = binomial, data = d)
    out("in_the_large", coef(large)[[1]])
    out("in_the_large_ci", confint.default(large)[1, ])
    joint <- glm(y ~ lp, family = binomial, data = d)
    out("slope_ci", confint.default(joint)[2, ])
    # ResourceSelection::hoslem.test(y, yhat, g = 10), written out (the package is not in Debian).
    yhat <- plogis(d$lp)
    cuts <- cut(yhat, breaks = quantile(yhat, probs = seq(0, 1, 1 / 10)), include.lowest = TRUE)
    obs <- xtabs(cbind(1 - d$y, d$y) ~ cuts); expect <- xtabs(cbind(1 - yhat, yhat) ~ cuts)
    chisq <- sum((obs - expect)^2 / expect)
    out("hl", c(chisq, 1 - pchisq(chisq, 10 - 2)))
    out("hl_external", 1 - pchisq(chisq, 10))
    out("hl_observed", obs[, 2]); out("hl_expected", expect[, 2])
    out("auc", as.numeric(ci.auc(roc(d$y, d$lp, direction = "<", quiet = TRUE), method = "delong")))
    f <- concordance(Surv(time, event) ~ risk, data = d, reverse = TRUE)
    out("c", c(f$concordance, f$concordance - qnorm(0.975) * sqrt(f$var), f$concordance + qnorm(0.975) * sqrt(f$var)))
""")


@pytest.fixture(scope="module")
def r_results(tmp_path_factory):
    rscript = shutil.which("Rscript")
    if rscript is None or subprocess.run([rscript, "-e", "library(rms); library(pROC); library(survival)"],
                                         capture_output=True).returncode:
        pytest.skip("R with rms, pROC and survival is not installed (apt-get install r-cran-rms r-cran-proc; CI does)")
    folder = tmp_path_factory.mktemp("valprob")
    data = _predictions(11)
    data.to_csv(folder / "d.csv", index=False)
    (folder / "compare.R").write_text(R_SCRIPT)
    completed = subprocess.run([rscript, str(folder / "compare.R"), str(folder / "d.csv")], capture_output=True,
                               text=True, check=True)
    r = {line.split()[0]: np.array(line.split()[1:], float) for line in completed.stdout.splitlines() if line.strip()}
    return data, r


def test_calibration_equals_rms_val_prob(r_results):
    data, r = r_results
    ours = calibration.validation_statistics(data["y"], data["lp"])
    assert ours["brier"] == pytest.approx(r["Brier"][0], abs=1e-9)
    assert ours["intercept_with_slope"] == pytest.approx(r["Intercept"][0], abs=1e-6)
    assert ours["slope"] == pytest.approx(r["Slope"][0], abs=1e-6)
    np.testing.assert_allclose(ours["slope_ci95"], r["slope_ci"], atol=1e-6)
    assert ours["calibration_in_the_large"] == pytest.approx(r["in_the_large"][0], abs=1e-6)
    np.testing.assert_allclose(ours["calibration_in_the_large_ci95"], r["in_the_large_ci"], atol=1e-6)
    for key in ("Emax", "E90", "Eavg"):
        assert ours[key.lower()] == pytest.approx(r[key][0], abs=1e-6), key
    assert ours["spiegelhalter_z"] == pytest.approx(r["S_z"][0], abs=1e-6)
    assert ours["spiegelhalter_p"] == pytest.approx(r["S_p"][0], abs=1e-6)
    # The simulated model is too extreme and shifted: the numbers must say so.
    assert ours["slope"] < 0.8 and ours["calibration_in_the_large"] < 0 and ours["observed"] < ours["mean_predicted"]


def test_hosmer_lemeshow_equals_hoslem_test(r_results):
    data, r = r_results
    ours = calibration.hosmer_lemeshow(data["y"], data["lp"])
    assert ours["dof"] == 8 and len(ours["groups"]) == 10
    assert ours["statistic"] == pytest.approx(r["hl"][0], abs=1e-6)
    assert ours["p"] == pytest.approx(r["hl"][1], abs=1e-6)
    np.testing.assert_allclose([g["observed"] for g in ours["groups"]], r["hl_observed"], atol=1e-9)
    np.testing.assert_allclose([g["expected"] for g in ours["groups"]], r["hl_expected"], atol=1e-6)
    assert sum(g["n"] for g in ours["groups"]) == len(data)
    # External validation (no parameter fitted on these patients): the same statistic on g degrees of freedom.
    external = calibration.validation_statistics(data["y"], data["lp"])["hosmer_lemeshow"]
    assert external["dof"] == 10 and external["statistic"] == ours["statistic"]
    assert external["p"] == pytest.approx(r["hl_external"][0], abs=1e-6)


def test_auc_and_c_index_with_ci_equal_proc_and_survival(r_results):
    data, r = r_results
    low, auc, high = r["auc"]
    assert stats.auc_ci(data["y"], data["lp"]) == pytest.approx((auc, low, high), abs=1e-6)
    assert stats.harrell_c_ci(data["time"], data["event"], data["risk"]) == pytest.approx(tuple(r["c"]), abs=1e-6)


def test_brier_and_spiegelhalter_by_hand():
    y, lp = np.array([1, 0, 1, 0]), np.array([0.0, 0.0, math.log(3), -math.log(3)])
    assert calibration.brier_score(y, lp) == pytest.approx((0.25 + 0.25 + 1 / 16 + 1 / 16) / 4)
    # Predictions of 0.5 carry no weight in Spiegelhalter's z; the other two are off by 1/4 each way.
    z, _ = calibration.spiegelhalter_z(y, lp)
    assert z == pytest.approx((0.25 * -0.5 + -0.25 * 0.5) / math.sqrt(2 * 0.25 * 0.75 * 0.25))


@pytest.mark.parametrize("call, message", [
    (lambda: calibration.brier_score([0, 1, 2], [0, 0, 0]), "0 .negative. and 1"),
    (lambda: calibration.brier_score([1, 1, 1], [0, 1, 2]), "both outcomes"),
    (lambda: calibration.hosmer_lemeshow([0, 1] * 5, [0.1] * 5 + [0.2] * 5), "too few distinct"),
    (lambda: stats.harrell_c_ci([1, 2], [1, 1], [0.1, 0.2], level=2), "level"),
])
def test_bad_input_raises_a_precise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_roc_band_holds_the_curve_and_narrows_with_more_patients():
    from sklearn.metrics import roc_curve

    from ALKRadiomicsLib.training.figures import roc_band

    widths = []
    for n in (40, 400):
        rng = np.random.default_rng(n)
        y = np.repeat([1, 0], n // 2)
        score = rng.normal(y * 1.0)
        grid, low, high = roc_band(y, score)
        fpr, tpr, _ = roc_curve(y, score)
        curve = np.interp(grid, fpr, tpr)
        assert np.mean((low <= curve + 1e-12) & (curve <= high + 1e-12)) >= 0.95
        widths.append(float(np.mean(high - low)))
    assert widths[1] < widths[0] / 2
