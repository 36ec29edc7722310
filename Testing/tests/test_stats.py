"""ALKRadiomicsLib.stats against R (pROC, survival) and against an independent DeLong (issue 7).

R is optional for a developer (those tests skip with a message); CI installs it (.ci/run).
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap

import numpy as np
import pytest

from ALKRadiomicsLib import stats

pytest.importorskip("lifelines", reason="the statistics need lifelines (the [train] extra; make test installs it)")
import pandas as pd  # noqa: E402  (installed with lifelines)


def simulated_cohort(seed: int = 7, n: int = 132) -> pd.DataFrame:
    """A 1:1 ALK cohort with two correlated scores, and DFS times driven by a risk score."""
    rng = np.random.default_rng(seed)
    alk = np.repeat([1, 0], n // 2)
    rad = rng.normal(0.9 * alk, 1.0)
    combined = rad + rng.normal(0.8 * alk, 0.8)
    risk = rng.normal(0, 1, n)
    n_stage = rng.binomial(1, 0.3, n)
    hazard = np.exp(0.8 * risk + 1.0 * n_stage)
    event_time = rng.exponential(60 / hazard)
    censor_time = rng.uniform(20, 90, n)
    return pd.DataFrame({
        "alk": alk, "rad": np.round(rad, 2), "combined": combined, "risk": risk, "n_stage": n_stage,
        "time": np.round(np.minimum(event_time, censor_time), 1),  # rounded: ties, as in real follow-up data
        "event": (event_time <= censor_time).astype(int),
    })


R_SCRIPT = textwrap.dedent("""
    suppressMessages({library(pROC); library(survival)})
    d <- read.csv(commandArgs(TRUE)[1])
    out <- function(name, value) cat(name, sprintf("%.15g", value), "\\n")
    a <- roc(d$alk, d$rad, direction = "<", levels = c(0, 1), quiet = TRUE)
    b <- roc(d$alk, d$combined, direction = "<", levels = c(0, 1), quiet = TRUE)
    ci <- ci.auc(a, method = "delong")
    out("auc_a", ci[2]); out("ci_low", ci[1]); out("ci_high", ci[3])
    t <- roc.test(a, b, method = "delong", paired = TRUE)
    out("auc_b", auc(b)); out("z", t$statistic); out("p", t$p.value)
    out("c", concordance(Surv(time, event) ~ risk, data = d, reverse = TRUE)$concordance)
    full <- coxph(Surv(time, event) ~ n_stage + risk, data = d)
    reduced <- coxph(Surv(time, event) ~ n_stage, data = d)
    lrt <- anova(reduced, full)
    out("lrt", lrt$Chisq[2]); out("lrt_p", lrt[["Pr(>|Chi|)"]][2])
    out("lrt_null", 2 * (full$loglik[2] - full$loglik[1]))
    d$high <- d$risk > median(d$risk)
    sd <- survdiff(Surv(time, event) ~ high, data = d)
    out("logrank", sd$chisq); out("logrank_p", pchisq(sd$chisq, 1, lower.tail = FALSE))
    fu <- survfit(Surv(time, 1 - event) ~ 1, data = d)
    out("followup", summary(fu)$table["median"])
""")


@pytest.fixture(scope="module")
def r_results(tmp_path_factory):
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("R is not installed (apt-get install r-base-core r-cran-proc r-cran-survival; CI does)")
    folder = tmp_path_factory.mktemp("r")
    data = simulated_cohort()
    data.to_csv(folder / "cohort.csv", index=False)
    (folder / "compare.R").write_text(R_SCRIPT)
    completed = subprocess.run([rscript, str(folder / "compare.R"), str(folder / "cohort.csv")],
                               capture_output=True, text=True, check=True)
    values = dict(line.split() for line in completed.stdout.splitlines() if line.strip())
    return data, {k: float(v) for k, v in values.items()}


def test_delong_auc_ci_matches_proc(r_results):
    data, r = r_results
    auc, low, high = stats.auc_ci(data["alk"], data["rad"])
    assert (auc, low, high) == pytest.approx((r["auc_a"], r["ci_low"], r["ci_high"]), abs=1e-6)


def test_delong_test_matches_proc_roc_test(r_results):
    data, r = r_results
    auc_a, auc_b, z, p = stats.delong_test(data["alk"], data["rad"], data["combined"])
    assert (auc_a, auc_b, z, p) == pytest.approx((r["auc_a"], r["auc_b"], r["z"], r["p"]), abs=1e-6)


def test_harrell_c_matches_survival_concordance(r_results):
    data, r = r_results
    assert stats.harrell_c(data["time"], data["event"], data["risk"]) == pytest.approx(r["c"], abs=1e-6)


def test_cox_lrt_matches_coxph_anova(r_results):
    data, r = r_results
    statistic, dof, p = stats.cox_lrt(data, "time", "event", ["n_stage"], ["n_stage", "risk"])
    assert dof == 1 and (statistic, p) == pytest.approx((r["lrt"], r["lrt_p"]), abs=1e-6)
    null_statistic, null_dof, _ = stats.cox_lrt(data, "time", "event", [], ["n_stage", "risk"])
    assert null_dof == 2 and null_statistic == pytest.approx(r["lrt_null"], abs=1e-6)


def test_logrank_median_split_matches_survdiff(r_results):
    data, r = r_results
    cutoff, chi2, p = stats.logrank_median_split(data["time"], data["event"], data["risk"])
    assert cutoff == np.median(data["risk"])
    assert (chi2, p) == pytest.approx((r["logrank"], r["logrank_p"]), abs=1e-6)


def test_reverse_km_median_followup_matches_survfit(r_results):
    data, r = r_results
    assert stats.reverse_km_median_followup(data["time"], data["event"]) == pytest.approx(r["followup"], abs=1e-6)


def brute_force_delong(y, a, b):
    """DeLong from its definition: pairwise kernel placements, O(m n), no ranks (independent check)."""
    y = np.asarray(y, bool)

    def placements(score):
        positive, negative = score[y][:, None], score[~y][None, :]
        kernel = (positive > negative) + 0.5 * (positive == negative)
        return kernel.mean(), kernel.mean(axis=1), kernel.mean(axis=0)

    (auc_a, v10a, v01a), (auc_b, v10b, v01b) = placements(np.asarray(a)), placements(np.asarray(b))
    m, n = y.sum(), (~y).sum()
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    covariance = s10 / m + s01 / n
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    return auc_a, auc_b, (auc_a - auc_b) / np.sqrt(variance), covariance[0, 0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_delong_equals_its_definition_computed_pairwise(seed):
    data = simulated_cohort(seed=seed, n=60)
    auc_a, auc_b, z, _ = stats.delong_test(data["alk"], data["rad"], data["combined"])
    expected = brute_force_delong(data["alk"], data["rad"], data["combined"])
    assert (auc_a, auc_b, z) == pytest.approx(expected[:3], rel=1e-12)
    auc, low, high = stats.auc_ci(data["alk"], data["rad"])
    half = 1.959963984540054 * np.sqrt(expected[3])
    assert (low, high) == pytest.approx((max(auc - half, 0), min(auc + half, 1)), rel=1e-9)


def test_auc_of_sklearn_agrees():
    from sklearn.metrics import roc_auc_score

    data = simulated_cohort(seed=5)
    assert stats.auc_ci(data["alk"], data["rad"])[0] == pytest.approx(roc_auc_score(data["alk"], data["rad"]))


@pytest.mark.parametrize("call, message", [
    (lambda: stats.auc_ci([0, 1, 2, 1], [1, 2, 3, 4]), "0 .negative. and 1"),
    (lambda: stats.auc_ci([0, 0, 1, 1], [1, 2, 3]), "shape"),
    (lambda: stats.auc_ci([0, 1, 1, 1], [1, 2, 3, 4]), "at least two"),
    (lambda: stats.harrell_c([1, 2, 3], [0, 0, 0], [1, 2, 3]), "no event"),
    (lambda: stats.harrell_c([1, -2, 3], [1, 0, 1], [1, 2, 3]), "non-negative"),
    (lambda: stats.logrank_median_split([1, 2, 3, 4], [1, 1, 0, 1], [5, 5, 5, 5]), "two groups"),
])
def test_bad_input_raises_a_precise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
