"""The fast paths of feature selection equal the libraries they stand in for: univariate screening (every
column's logistic or Cox fit at once) equals statsmodels column by column, ties included; the batched subset
likelihood equals statsmodels' Breslow fit. They made one ``train`` of 132 x 851 about five times faster, which
is what lets the nested CV and the optimism bootstrap rerun selection hundreds of times."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ALKRadiomicsLib.training import selection
from ALKRadiomicsLib.training.common import standardize
from ALKRadiomicsLib.training.simulate import PAPER_EFFECTS, simulate_cohort

sm = pytest.importorskip("statsmodels.api")


@pytest.fixture(scope="module")
def cohort():
    """The ALK-positive patients of a paper-size simulated cohort: 40 features (the DFS drivers among them)."""
    data = simulate_cohort(7, **PAPER_EFFECTS)
    names = [f"f_{k:04d}" for k in range(280, 320)] + ["f_0700"]
    X, _ = standardize(data, names)
    positive = (data["alk"] == 1).to_numpy()
    return (X.to_numpy(), data["alk"].to_numpy(int), X[positive].to_numpy(),
            data.loc[positive, "dfs_months"].to_numpy(float), data.loc[positive, "event"].to_numpy(int))


@pytest.mark.parametrize("tied", [False, True], ids=["distinct times", "months rounded: tied times"])
def test_univariate_cox_equals_statsmodels_efron_column_by_column(cohort, tied):
    _, _, values, time, event = cohort
    time = np.ceil(time / 3) * 3 if tied else time  # quarters: many events share a time
    assert tied == (len(np.unique(time[event == 1])) < event.sum())
    beta, se = selection.univariate_cox(values, time, event)
    for j in range(values.shape[1]):
        fit = sm.PHReg(time, values[:, [j]], status=event, ties="efron").fit(disp=0)
        assert beta[j] == pytest.approx(fit.params[0], abs=1e-9)
        assert se[j] == pytest.approx(fit.bse[0], abs=1e-9)


def test_univariate_logistic_equals_statsmodels_and_refuses_a_separating_column(cohort):
    X, y, _, _, _ = cohort
    beta, se = selection.univariate_logistic(X, y)
    for j in range(X.shape[1]):
        fit = sm.Logit(y, sm.add_constant(X[:, [j]])).fit(disp=0)
        assert beta[j] == pytest.approx(fit.params[1], abs=1e-9)
        assert se[j] == pytest.approx(fit.bse[1], abs=1e-9)
    separating = np.column_stack([X[:, 0], np.where(y == 1, 1.0, -1.0) + 0.01 * X[:, 1]])
    beta, se = selection.univariate_logistic(separating, y)
    assert np.isfinite(beta[0]) and np.isnan(beta[1])  # no finite maximum: not a usable single predictor
    import pandas as pd

    assert selection.screen_logistic(pd.DataFrame(separating, columns=["ok", "separates"]), y, 1.0) == ["ok"]


@pytest.mark.parametrize("tied", [False, True], ids=["distinct times", "tied times"])
def test_subset_likelihoods_equal_statsmodels_breslow_fits(cohort, tied):
    _, _, values, time, event = cohort
    time = np.ceil(time / 3) * 3 if tied else time
    subsets = np.array([[0, 20], [20, 40], [5, 6], [1, 39], [40, 0]])
    ours = selection.subset_breslow_llf(values, time, event, subsets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for subset, llf in zip(subsets, ours, strict=True):
            fit = sm.PHReg(time, values[:, subset], status=event, ties="breslow").fit(disp=0)
            assert llf == pytest.approx(fit.llf, abs=1e-8)
    # Two identical columns have no unique fit: refused (-inf), not ranked.
    doubled = np.column_stack([values, values[:, 0]])
    assert selection.subset_breslow_llf(doubled, time, event, np.array([[0, values.shape[1]]]))[0] == -np.inf
