"""Issue 13: what train concludes must survive a reviewer. The events-per-variable cap by best subset, not by
forced elimination; the ALK model written when no RAD-risk can be trained; combined models and their DeLong
tests out of fold (a combined model that adds nothing by construction is not declared better)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skglm", reason="train needs skglm (the [train] extra; make test installs it)")
pytest.importorskip("lifelines", reason="train needs lifelines (the [train] extra; make test installs it)")

from ALKRadiomicsLib.errors import InputError  # noqa: E402
from ALKRadiomicsLib.model import published  # noqa: E402
from ALKRadiomicsLib.training import alk as alk_module  # noqa: E402
from ALKRadiomicsLib.training import dfs as dfs_module  # noqa: E402
from ALKRadiomicsLib.training import selection  # noqa: E402
from ALKRadiomicsLib.training.common import SelectionSteps, TrainSettings, standardize  # noqa: E402
from ALKRadiomicsLib.training.simulate import PAPER_EFFECTS, simulate_cohort  # noqa: E402
from ALKRadiomicsLib.training.train import train  # noqa: E402


def _dfs_frame(seed: int, names: list[str]) -> pd.DataFrame:
    data = simulate_cohort(seed, **PAPER_EFFECTS)
    positive = data["alk"] == 1
    return standardize(data, names)[0][positive].assign(time=data.loc[positive, "dfs_months"],
                                                         event=data.loc[positive, "event"])


def test_breslow_likelihood_equals_statsmodels():
    import statsmodels.api as sm

    frame = _dfs_frame(2, ["f_0300", "f_0700", "f_0001"])
    X = frame[["f_0300", "f_0700", "f_0001"]].to_numpy()
    reference = sm.PHReg(frame["time"].to_numpy(), X, status=frame["event"].to_numpy(int), ties="breslow").fit(disp=0)
    ours = selection.subset_breslow_llf(X, frame["time"].to_numpy(), frame["event"].to_numpy(), np.array([[0, 1, 2]]))
    assert ours[0] == pytest.approx(reference.llf, abs=1e-8)


def test_the_cap_keeps_the_best_subset_by_likelihood_not_a_forced_elimination():
    """Eight candidates, both true drivers among them, room for two: backward stepwise alone stops above two;
    the chosen pair is the one of largest partial likelihood among all 28 pairs (checked by brute force)."""
    candidates = ["f_0300", "f_0700", "f_0301", "f_0702", "f_0001", "f_0150", "f_0420", "f_0610"]
    frame = _dfs_frame(3, candidates)
    unlimited = selection.backward_cox(frame, candidates, limit=len(candidates))
    chosen, how = selection.best_subset_cox(frame, candidates, limit=2)
    assert len(chosen) <= 2
    time, event = frame["time"].to_numpy(), frame["event"].to_numpy()
    best = max(itertools.combinations(candidates, 2),
               key=lambda pair: selection.subset_breslow_llf(frame[list(pair)].to_numpy(), time, event,
                                                             np.array([[0, 1]]))[0])
    if len(unlimited) > 2:
        assert "best subset of 2 of 8" in how and set(chosen) <= set(best)
    else:
        assert chosen == unlimited and "backward" in how
    assert set(best) == {"f_0300", "f_0700"}  # at the paper's effect sizes the likeliest pair is the true one


def test_no_rad_risk_still_writes_the_alk_model_and_says_why(monkeypatch):
    """Where DFS selection keeps nothing, train does not abort: the ALK model is trained, the report's DFS part
    says why it is absent, and the model file's DFS part is the published RAD-risk, labelled so."""
    data = simulate_cohort(4)
    bundled = published.dfs_radiomic()
    rng = np.random.default_rng(0)
    for term in bundled.terms:  # the published features, as batch --all would extract them
        data[term.variable] = rng.normal(size=len(data))
    features = list(dict.fromkeys([f"f_{k:04d}" for k in range(0, 851, 50)] + ["f_0010", "f_0200", "f_0500"]))
    features += [t.variable for t in bundled.terms]
    data = data[[c for c in data.columns if not c.startswith("f_")] + features[:-2]]  # as cohort_frame joins them
    empty = lambda frame, names, settings: SelectionSteps([], None, 2, [])  # noqa: E731
    monkeypatch.setattr(dfs_module, "select_dfs_features", empty)
    result = train(data, features, cohort="no-dfs", command="test", settings=TrainSettings(seed=4, bootstraps=20))
    assert result.model.alk_radiomic.terms and result.to_dict()["alk"]["auc"]["radiomic"]["nested"]["value"] > 0.5
    assert "no feature passed univariate Cox screening" in result.to_dict()["dfs"]["absent"]
    assert result.model.dfs_radiomic.variables == bundled.variables
    assert [t.beta.value for t in result.model.dfs_radiomic.terms] == [t.beta.value for t in bundled.terms]
    assert any("published RAD-risk" in note and "not trained here" in note for note in result.model.notes)
    # The N-stage model needs no selection: it is still fitted on the cohort.
    assert result.model.dfs_clinical.terms[0].beta.provenance.kind == "derived"
    assert not any("no N stage" in note for note in result.model.notes)
    assert "rad_risk" not in {key.split(" ~ ")[0] for key in result.to_dict()["spearman"]}
    # Without the published features to fall back on, one precise error instead of a half-written model.
    with pytest.raises(InputError, match="not in the features file"):
        train(data.drop(columns=[t.variable for t in bundled.terms]), features[:-2], cohort="no-dfs",
              command="test", settings=TrainSettings(seed=4, bootstraps=20))


def test_a_combined_model_that_adds_nothing_is_not_declared_better_out_of_fold():
    """ALK status independent of every feature, H-scores differing by ALK status: the combined model adds
    nothing to the clinical one by construction. Selecting the Rad-score on all patients and refitting only the
    combined coefficients per fold (the leak of issue 13) inflates the combined AUC; rebuilt inside each fold,
    the DeLong test of combined vs clinical finds no difference."""
    data = simulate_cohort(5, alk_drivers={})
    features = [f"f_{k:04d}" for k in range(0, 851, 12)]
    X, _ = standardize(data, features)
    y = data["alk"].to_numpy(int)
    clinical = data[["hla", "pdl1"]].astype(float)
    settings = TrainSettings(seed=5)
    nested, _, _ = alk_module.nested_predictions(X, clinical, y, settings)
    tests = alk_module.delong_comparisons(y, nested, "nested")
    assert tests["clinicopathological vs combined"].p > 0.05
    # The leak: the Rad-score chosen and fitted on all patients, then the combined model cross-validated.
    chosen = alk_module.select_alk_features(X, y, settings).selected
    if chosen:
        fit = selection.logistic_fit(X[chosen], y)
        leaked = clinical.assign(rad_score=alk_module.log_odds(fit, X, chosen))
        leaky = alk_module._paper_cv(leaked, y, ["rad_score", "hla", "pdl1"], settings)
        from sklearn.metrics import roc_auc_score

        assert roc_auc_score(y, leaky) > roc_auc_score(y, nested["combined"])


def test_optimism_bootstrap_refits_the_whole_pipeline_and_parallel_equals_serial():
    from dataclasses import replace

    from ALKRadiomicsLib.training import optimism

    data = simulate_cohort(6, **PAPER_EFFECTS).reset_index(drop=True)
    features = list(dict.fromkeys([f"f_{k:04d}" for k in range(0, 851, 60)]
                                  + ["f_0010", "f_0200", "f_0300", "f_0500", "f_0700"]))
    settings = TrainSettings(seed=6, optimism_bootstraps=2)
    # Resample b's patients depend on the seed and b only.
    first = optimism.resample_indices(6, 2, len(data))
    assert all((a == b).all() for a, b in zip(first, optimism.resample_indices(6, 2, len(data)), strict=True))
    assert not (first[0] == first[1]).all()
    serial = optimism.run_resamples(data, features, settings)
    parallel = optimism.run_resamples(data, features, replace(settings, workers=2))
    keys = ("alk_apparent", "alk_original", "dfs_apparent", "dfs_original")
    np.testing.assert_array_equal([[r[k] for k in keys] for r in serial], [[r[k] for k in keys] for r in parallel])
    chosen = [[(r["alk_chosen"], r["dfs_chosen"]) for r in run] for run in (serial, parallel)]
    assert chosen[0] == chosen[1]
    # Fitted on the resample, measured on it: optimistic against the original patients.
    gaps = [r["alk_apparent"] - r["alk_original"] for r in serial]
    assert np.nanmean(gaps) > 0


def test_optimism_corrected_estimates_are_typed_labelled_and_printed():
    """train with the optimism bootstrap: each corrected number is the apparent one less the mean optimism of
    the resamples, labelled optimism-corrected in the typed result, the JSON and the printed summary."""
    from ALKRadiomicsLib.training.estimates import OPTIMISM_CORRECTED
    from ALKRadiomicsLib.training.training_report import summary_lines

    data = simulate_cohort(6, **PAPER_EFFECTS)
    features = list(dict.fromkeys([f"f_{k:04d}" for k in range(0, 851, 60)]
                                  + ["f_0010", "f_0200", "f_0300", "f_0500", "f_0700"]))
    data = data[[c for c in data.columns if not c.startswith("f_")] + features]
    result = train(data, features, cohort="optimism", command="test",
                   settings=TrainSettings(seed=6, bootstraps=20, optimism_bootstraps=3))
    corrected = result.optimism.estimates["rad_score_auc"]
    assert corrected.estimate == OPTIMISM_CORRECTED
    assert corrected.apparent == result.alk.auc["radiomic"]["apparent"].value
    assert corrected.value == pytest.approx(corrected.apparent - corrected.optimism, abs=1e-12)
    assert 0 < corrected.resamples_used <= 3 and corrected.optimism > 0  # refitted on a resample: optimistic
    document = result.to_dict()["optimism"]
    assert document["estimates"]["rad_score_auc"]["estimate"] == OPTIMISM_CORRECTED
    assert document["resamples"] == 3 and set(document["seconds_per_resample"]) == {"alk", "dfs"}
    lines = summary_lines(result)
    assert any("Rad-score AUC [optimism-corrected, 3 resamples]" in line and "the correction itself is unstable" in line
               for line in lines)
    # Each resample's selection is kept: how often it chose the Rad-score's features again.
    frequency = result.optimism.frequencies["rad_score"]
    assert frequency.runs == 3 and list(frequency.chosen) == result.alk.chosen and frequency.rerun_limit >= 1
    assert all(0 <= count <= 3 for count in [*frequency.chosen.values(), *frequency.others.values()])
    assert sum(frequency.chosen.values()) > 0  # the drivers come back on some resample
    assert document["frequencies"]["rad_score"]["rerun"] == "each optimism bootstrap resample"
    assert any(line.startswith("  selection rerun on each optimism bootstrap resample (at most ") for line in lines)
