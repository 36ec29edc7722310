"""alk-radiomics train (issue 7): the paper's pipeline on a simulated cohort whose truth is known,
its LASSO fits against R's glmnet, and the model file and report it writes."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skglm", reason="train needs skglm (the [train] extra; make test installs it)")
pytest.importorskip("lifelines", reason="train needs lifelines (the [train] extra; make test installs it)")

from ALKRadiomicsLib import stats  # noqa: E402
from ALKRadiomicsLib.cli import main  # noqa: E402
from ALKRadiomicsLib.model import load_model  # noqa: E402
from ALKRadiomicsLib.training import evaluate, linear_predictors, selection  # noqa: E402
from ALKRadiomicsLib.training.simulate import ALK_DRIVERS, DFS_DRIVERS, simulate_cohort, write_cohort  # noqa: E402
from ALKRadiomicsLib.training.train import standardize  # noqa: E402


def _small_problem(seed: int = 3):
    """40 of the simulated cohort's features (every 20th, so the drivers f_0200, f_0300, f_0500,
    f_0700 are among them), standardized."""
    data = simulate_cohort(seed)
    names = [f"f_{k:04d}" for k in range(0, 800, 20)]
    X, _ = standardize(data, names)
    positive = (data["alk"] == 1).to_numpy()
    frame = X[positive].copy()
    frame["time"], frame["event"] = data["dfs_months"][positive], data["event"][positive]
    return data, X, frame, names


R_GLMNET = r"""
suppressMessages({library(glmnet); library(survival)})
args <- commandArgs(TRUE); folder <- args[1]
d <- read.csv(file.path(folder, "data.csv")); X <- as.matrix(d[, grep("^f_", names(d))])
p <- d$alk == 1
out <- function(key, values) cat(key, format(values, digits = 17), "\n")
for (kind in c("logistic", "cox")) {
  lambdas <- scan(file.path(folder, paste0(kind, "_lambdas.txt")), quiet = TRUE)
  folds <- scan(file.path(folder, paste0(kind, "_folds.txt")), quiet = TRUE) + 1
  if (kind == "logistic") { x <- X; y <- d$alk; family <- "binomial" } else {
    x <- X[p, ]; y <- Surv(d$time[p], d$event[p]); family <- "cox" }
  first <- glmnet(x, y, family = family, standardize = FALSE)$lambda[1]
  cv <- cv.glmnet(x, y, family = family, lambda = lambdas, foldid = folds, standardize = FALSE,
                  thresh = 1e-14, type.measure = "deviance")
  beta <- as.numeric(coef(cv, s = "lambda.min"))
  beta_1se <- as.numeric(coef(cv, s = "lambda.1se"))
  if (kind == "logistic") { beta <- beta[-1]; beta_1se <- beta_1se[-1] }
  out(paste0(kind, "_lambda_max"), first); out(paste0(kind, "_cvm"), cv$cvm)
  out(paste0(kind, "_cvsd"), cv$cvsd); out(paste0(kind, "_lambda_min"), cv$lambda.min)
  out(paste0(kind, "_lambda_1se"), cv$lambda.1se)
  out(paste0(kind, "_beta"), beta); out(paste0(kind, "_beta_1se"), beta_1se)
}
"""


@pytest.fixture(scope="module")
def glmnet(tmp_path_factory):
    rscript = shutil.which("Rscript")
    if rscript is None or subprocess.run([rscript, "-e", "library(glmnet)"], capture_output=True).returncode:
        pytest.skip("R with glmnet is not installed (apt-get install r-base-core r-cran-glmnet; CI does)")
    data, X, frame, names = _small_problem()
    ours = {"logistic": selection.lasso_logistic_path(X, data["alk"].to_numpy(int), seed=3),
            "cox": selection.lasso_cox_path(frame, names, seed=3, rule="1se")}
    folder = tmp_path_factory.mktemp("glmnet")
    X.assign(alk=data["alk"], time=data["dfs_months"], event=data["event"]).to_csv(folder / "data.csv", index=False)
    for kind, path in ours.items():
        (folder / f"{kind}_lambdas.txt").write_text("\n".join(map(repr, path["lambdas"])))
        (folder / f"{kind}_folds.txt").write_text("\n".join(map(str, path["folds"])))
    (folder / "glmnet.R").write_text(R_GLMNET)
    completed = subprocess.run([rscript, str(folder / "glmnet.R"), str(folder)], capture_output=True, text=True,
                               check=True)
    r = {line.split()[0]: np.array(line.split()[1:], float) for line in completed.stdout.splitlines() if line.strip()}
    return ours, r, names


@pytest.mark.parametrize("kind", ["logistic", "cox"])
def test_lasso_path_and_cross_validation_match_cv_glmnet(glmnet, kind):
    ours, r, names = glmnet
    path = ours[kind]
    # lambda_max, where every coefficient first becomes zero, is a closed form: equal to the digit.
    assert path["lambdas"][0] == pytest.approx(r[f"{kind}_lambda_max"][0], rel=1e-9)
    # cv.glmnet's mean CV deviance and its SE on the same folds and lambdas. glmnet's coordinate
    # descent stops about 1e-6 from the optimum (skglm's within 1e-8 logistic, 1e-6 Cox), which moves held-out
    # deviances by up to a few parts in a million.
    np.testing.assert_allclose(path["cv_deviance"], r[f"{kind}_cvm"], rtol=2e-5)
    np.testing.assert_allclose(path["cv_deviance_se"], r[f"{kind}_cvsd"], rtol=1e-3, atol=1e-5)
    assert path["lambda_min"] == pytest.approx(r[f"{kind}_lambda_min"][0], rel=1e-12)
    # The one-SE rule (glmnet's default for coef and predict): the same lambda, a sparser model.
    assert path["lambda_1se"] == pytest.approx(r[f"{kind}_lambda_1se"][0], rel=1e-12)
    assert path["lambda_1se"] >= path["lambda_min"]
    for rule, suffix in (("min", ""), ("1se", "_1se")):
        coefficients = path["coefficients_by_rule"][rule]
        beta = np.array([coefficients.get(name, 0.0) for name in names])
        np.testing.assert_allclose(beta, r[f"{kind}_beta{suffix}"], atol=1e-4)
        assert set(coefficients) == {n for n, b in zip(names, r[f"{kind}_beta{suffix}"], strict=True) if b != 0}
    # The rule asked for decides what the path selects (min for logistic, 1se for Cox here).
    assert path["lambda"] == path[f"lambda_{path['rule']}"]
    assert path["coefficients"] == path["coefficients_by_rule"][path["rule"]]
    assert path["selected"] == list(path["coefficients"])


def test_cox_partial_likelihood_with_ties_equals_statsmodels_breslow():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    time = rng.integers(1, 15, 80).astype(float)  # many ties
    event = rng.binomial(1, 0.6, 80).astype(float)
    X = rng.normal(size=(80, 3))
    beta = np.array([0.4, -0.2, 0.7])
    model = sm.PHReg(time, X, status=event, ties="breslow")
    assert selection._cox_log_likelihood(time, event, X @ beta) == pytest.approx(model.loglike(beta), rel=1e-12)


def test_stepwise_models_keep_fifteen_events_per_variable():
    data, X, frame, names = _small_problem()
    y = data["alk"].to_numpy(int)
    chosen = selection.forward_logistic(X, y, names, limit=2)
    assert len(chosen) == 2
    fit = selection.logistic_fit(X[chosen], y)
    assert (fit.pvalues[chosen] <= selection.REMOVAL_P).all()
    unlimited = selection.forward_logistic(X, y, names, limit=100)
    assert unlimited[:2] == chosen and len(unlimited) > 2
    backward = selection.backward_cox(frame, names, limit=2)
    assert len(backward) <= 2
    assert selection.max_variables(66) == 4 and selection.max_variables(7) == 1
    assert selection.max_variables(66, per_variable=10) == 6


def test_backward_cox_keeps_a_last_variable_that_predicts():
    """With room for one variable, the last one is tested against the model without covariates
    (R's coxph LRT, here lifelines'), not dropped: a strong driver must stay."""
    from lifelines import CoxPHFitter

    data = simulate_cohort(1)
    positive = data["alk"] == 1
    names = ["f_0300", "f_0700", "f_0001"]
    frame = standardize(data, names)[0][positive].assign(time=data.loc[positive, "dfs_months"],
                                                          event=data.loc[positive, "event"])
    assert selection.backward_cox(frame, names, limit=1) == ["f_0300"]
    reference = CoxPHFitter().fit(frame[["f_0300", "time", "event"]], "time", "event")
    ratio = reference.log_likelihood_ratio_test().test_statistic
    null = selection._cox_log_likelihood(frame["time"].to_numpy(), frame["event"].to_numpy(), np.zeros(len(frame)))
    assert null == pytest.approx(reference.log_likelihood_ - ratio / 2, abs=1e-6)  # what backward_cox tests against


def test_cox_fit_survives_where_newtons_method_overshoots():
    """statsmodels' Newton steps diverge to NaN on this 13-feature model (39 events, seed 10's
    LASSO candidates without f_0300); backward selection then dropped the strongest driver first.
    The fit must be the maximum of the same Efron partial likelihood: statsmodels' own likelihood
    at the returned coefficients, its gradient zero there, and lifelines' maximum."""
    import statsmodels.api as sm
    from lifelines import CoxPHFitter

    data = simulate_cohort(10)
    names = ["f_0700", "f_0827", "f_0850", "f_0697", "f_0547", "f_0229", "f_0401", "f_0643", "f_0472", "f_0375",
             "f_0270", "f_0228", "f_0268"]
    positive = data["alk"] == 1
    frame = standardize(data, names)[0][positive].assign(time=data.loc[positive, "dfs_months"],
                                                          event=data.loc[positive, "event"])
    reference = CoxPHFitter().fit(frame[[*names, "time", "event"]], "time", "event")
    fit = selection.cox_fit(frame, names)
    efron = sm.PHReg(frame["time"].to_numpy(), frame[names].to_numpy(), status=frame["event"].to_numpy(int),
                     ties="efron")
    assert np.isfinite(fit.llf) and fit.llf == pytest.approx(efron.loglike(fit.params), rel=1e-12)
    np.testing.assert_allclose(efron.score(fit.params), 0, atol=1e-4)
    assert fit.llf == pytest.approx(reference.log_likelihood_, abs=1e-6)
    np.testing.assert_allclose(fit.params, reference.params_[names].to_numpy(), atol=1e-4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """`alk-radiomics train` on a simulated cohort of 132 patients x 851 features (seed 1)."""
    folder = tmp_path_factory.mktemp("train")
    cohort, features = write_cohort(1, folder)
    code = main(["train", cohort, "--features", features, "--out", str(folder / "model.json"),
                 "--report", str(folder / "report.pdf"), "--seed", "1", "--bootstraps", "100"])
    assert code == 0
    report = json.loads((folder / "report.json").read_text())
    return folder, cohort, features, report


def test_train_finds_the_true_drivers_and_writes_an_honest_model(trained):
    folder, cohort, features, report = trained
    model = load_model(folder / "model.json")
    assert model.calibrated
    alk_features = {t.variable for t in model.alk_radiomic.terms}
    dfs_features = {t.variable for t in model.dfs_radiomic.terms}
    assert set(ALK_DRIVERS) <= alk_features
    assert set(DFS_DRIVERS) <= dfs_features
    assert len(alk_features) <= 4  # 66 in the smaller class, 15 per variable
    assert len(dfs_features) <= report["dfs"]["selection"]["variable_limit"]
    fitted = [*model.alk_radiomic.terms, *model.alk_combined.terms, *model.dfs_radiomic.terms,
              *model.dfs_clinical.terms]
    parameters = [t.beta for t in fitted] + [model.alk_radiomic.intercept, model.alk_combined.intercept,
                                              model.dfs_radiomic.cutoff, model.dfs_radiomic.group_hazard_ratio]
    parameters += [p for s in model.standardization.values() for p in (s.mean, s.sd)]
    for parameter in parameters:
        assert parameter.provenance.kind == "derived"
        assert "simulated_1.csv" in parameter.provenance.details["data"]
    # The signs of the true effects are recovered.
    betas = {t.variable: t.beta.value for t in model.alk_radiomic.terms}
    assert all(np.sign(betas[n]) == np.sign(b) for n, b in ALK_DRIVERS.items())


def test_the_model_file_reproduces_the_reports_numbers(trained):
    folder, cohort, features, report = trained
    from ALKRadiomicsLib.training import cohort_frame

    model = load_model(folder / "model.json")
    data, _ = cohort_frame(cohort, features, model.feature_names)
    scores = linear_predictors(model, data)
    auc, _, _ = stats.auc_ci(data["alk"], scores["rad_score"])
    assert auc == pytest.approx(report["alk"]["auc"]["radiomic"]["apparent"]["value"], abs=1e-9)
    positive = data["alk"] == 1
    cutoff, chi2, _ = stats.logrank_median_split(data.loc[positive, "dfs_months"], data.loc[positive, "event"],
                                                 scores.loc[positive, "rad_risk"])
    assert cutoff == pytest.approx(model.dfs_radiomic.cutoff.value, abs=1e-9)
    assert chi2 == pytest.approx(report["dfs"]["comparisons"]["logrank"]["apparent"]["statistic"], rel=1e-9)
    # validate on the training cohort sees what train saw.
    assert evaluate(model, data).alk_radiomic.auc == pytest.approx(auc, abs=1e-12)


def test_every_estimate_is_labelled_and_the_report_leads_with_nested_ones(trained):
    folder, cohort, features, report = trained
    alk, dfs = report["alk"], report["dfs"]
    assert set(alk["auc"]) == {"radiomic", "clinicopathological", "combined"}
    for name, row in alk["auc"].items():
        assert {k: v["estimate"] for k, v in row.items()} == {
            "apparent": "apparent", "cross_validated": "cross-validated", "nested": "nested"}, name
        # Selection on the same patients flatters: nested below apparent.
        assert row["nested"]["value"] < row["apparent"]["value"], name
    # The DeLong tests rest on nested out-of-fold predictions, and say so.
    assert "nested out-of-fold" in alk["delong"]["test"]
    assert {t["estimate"] for t in alk["delong"]["pairs"].values()} == {"nested"}
    assert len(alk["nested_selected_per_fold"]) == 5
    c = dfs["estimates"]["c_index"]
    assert c["nested"]["estimate"] == "nested" and c["apparent"]["estimate"] == "apparent"
    assert c["nested"]["ci95"][0] < c["nested"]["value"] < c["nested"]["ci95"][1]
    assert c["nested"]["value"] < c["apparent"]["value"]
    comparison = dfs["comparisons"]["combined_vs_n_stage"]
    assert comparison["nested"]["estimate"] == "nested" and "pre-validated" in comparison["nested"]["detail"]
    assert comparison["nested"]["statistic"] < comparison["apparent"]["statistic"]
    assert set(dfs["comparisons"]["logrank"]) == {"apparent", "nested"}
    # The paper's bootstrap is labelled apparent and gives no interval.
    for boot in [*alk["paper_bootstrap"].values(), dfs["paper_bootstrap"]]:
        assert boot["estimate"] == "apparent" and boot["resamples"] == 100 and "ci95" not in boot
    assert alk["clinical_selected"] == ["hla", "pdl1"]  # the simulated H-scores differ by ALK status
    sex = report["table1"]["sex"]
    data = pd.read_csv(cohort)
    assert sex["positive_n"] == int(((data["alk"] == 1) & (data["sex"] == 1)).sum())
    assert sex["test"].startswith("Pearson")
    # The PDF: three pages, the labels and the nested numbers on page 1, no JSON.
    import hashlib

    from pypdf import PdfReader

    pages = PdfReader(folder / "report.pdf").pages
    assert len(pages) == 3
    first = " ".join(pages[0].extract_text().split())
    nested = alk["auc"]["radiomic"]["nested"]
    assert f"{nested['value']:.3f} ({nested['ci95'][0]:.3f}-{nested['ci95'][1]:.3f})" in first
    assert first.index("nested [conclusions]") < first.index("apparent")
    assert "[apparent]" in first and "What the labels mean" in first and "{" not in first
    assert hashlib.sha256((folder / "model.json").read_bytes()).hexdigest()[:16] in first
    assert "calibrated: true" in first


def test_each_chosen_feature_says_how_often_the_nested_folds_chose_it_again(trained):
    """Selection rerun in each outer fold: every chosen feature carries the number of folds that chose it again,
    counted from the folds' own selections, and the features chosen most often instead; the true drivers, which
    the data identify at these effect sizes, are chosen again in most folds. Printed on the report's first page."""
    folder, cohort, features, report = trained
    for part in (report["alk"], report["dfs"]):
        frequency, folds = part["selection_frequency"], part["nested_selected_per_fold"]
        chosen = list(frequency["chosen"])
        assert frequency["runs"] == len(folds) == 5
        assert frequency["rerun"] == "the training patients of each outer fold of the nested CV"
        assert frequency["chosen"] == {name: sum(name in fold for fold in folds) for name in chosen}
        others = {name: sum(name in fold for fold in folds) for fold in folds for name in fold if name not in chosen}
        assert frequency["others"] == dict(sorted(others.items(), key=lambda item: (-item[1], item[0]))[:3])
        assert frequency["others_total"] == len(others)
        # Fewer patients in a fold allow fewer features: the report says so beside the counts.
        assert frequency["rerun_limit"] <= frequency["limit"] == part["selection" if "selection" in part
                                                                        else "rad_score_selection"]["variable_limit"]
    assert chosen == report["dfs"]["selection"]["selected"]
    assert all(report["alk"]["selection_frequency"]["chosen"][name] >= 4 for name in ALK_DRIVERS)
    assert all(report["dfs"]["selection_frequency"]["chosen"][name] >= 4 for name in DFS_DRIVERS)
    from pypdf import PdfReader

    first = " ".join(PdfReader(folder / "report.pdf").pages[0].extract_text().split())
    assert "selection rerun on the training patients of each outer fold of the nested CV (at most" in first
    assert "selection rerun: how often the selection, rerun without some patients" in first
    assert report["selection_frequency_meaning"].startswith("how often the selection, rerun without some patients")


@pytest.mark.parametrize("change, message", [
    (lambda c: c.assign(alk=[1] * 8 + [0] * (len(c) - 8)), "at least 10 ALK-positive"),
    (lambda c: c.drop(columns=["dfs_months", "event"]), "dfs_months and event"),
])
def test_train_refuses_a_cohort_it_cannot_train_on(tmp_path, capsys, change, message):
    cohort, features = write_cohort(2, tmp_path, patients=40)
    changed = change(pd.read_csv(cohort, dtype={"event": "Int64", "n_stage": "Int64", "sex": "Int64"}))
    changed.to_csv(cohort, index=False)
    out = tmp_path / "model.json"
    assert main(["train", cohort, "--features", features, "--out", str(out), "--report",
                 str(tmp_path / "r.pdf")]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "r.pdf").exists()


def test_train_refuses_a_features_file_without_ids(tmp_path, capsys):
    cohort, features = write_cohort(2, tmp_path, patients=40)
    pd.read_csv(features).drop(columns=["id"]).to_csv(features, index=False)
    assert main(["train", cohort, "--features", features, "--out", str(tmp_path / "m.json"), "--report",
                 str(tmp_path / "r.pdf")]) == 2
    assert "needs an id column" in capsys.readouterr().err
